//! API tokens: shown once, stored as a hash, bound to a role, expiring,
//! revocable.

use serde::Serialize;

use super::{now_ms, AuditRecord, Result, Row, Store, StoreError};
use crate::args;
use crate::domain::{id::Kind, DataClass, Id};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub role: String,
    pub created_by: Option<String>,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

pub struct NewToken {
    pub name: String,
    pub role: String,
    pub expires_at: i64,
    pub created_by: Option<String>,
}

fn from_row(r: &Row) -> Result<ApiToken> {
    use super::users::rfc3339;
    Ok(ApiToken {
        id: r.get("id")?,
        name: r.get("name")?,
        role: r.get("role")?,
        created_by: r.get("created_by")?,
        created_at: rfc3339(r.get("created_at")?),
        expires_at: rfc3339(r.get("expires_at")?),
        revoked_at: r.get::<Option<i64>>("revoked_at")?.map(rfc3339),
        last_used_at: r.get::<Option<i64>>("last_used_at")?.map(rfc3339),
    })
}

const COLUMNS: &str =
    "id, name, role, created_by, created_at, expires_at, revoked_at, last_used_at";

/// The stored form of a secret: tokens are long and random, so a plain
/// SHA-256 suffices (no salt or stretching needed).
pub(crate) fn hash_secret(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub(crate) fn new_secret(prefix: &str) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

impl Store {
    /// Creates a token; the secret in the result is shown once and never again.
    pub async fn create_token(&self, new: NewToken, by: AuditRecord) -> Result<(ApiToken, String)> {
        let id = Id::new(Kind::Token);
        let secret = new_secret("fl_");
        let mut tx = self.begin().await?;
        if tx
            .fetch_optional("SELECT name FROM roles WHERE name = $1", args![&new.role])
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound);
        }
        tx.execute(
            "INSERT INTO api_tokens (id, name, role, token_hash, created_by, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            args![&id, &new.name, &new.role, hash_secret(&secret), new.created_by.clone(), now_ms(), new.expires_at],
        )
        .await?;
        tx.audit(AuditRecord {
            action: "token.create".into(),
            class: DataClass::Settings,
            record: Some(id.to_string()),
            detail: serde_json::json!({ "role": new.role }),
            ..by
        })
        .await?;
        let row = tx
            .fetch_optional(
                &format!("SELECT {COLUMNS} FROM api_tokens WHERE id = $1"),
                args![&id],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let token = from_row(&row)?;
        tx.commit().await?;
        Ok((token, secret))
    }

    pub async fn list_tokens(&self) -> Result<Vec<ApiToken>> {
        self.fetch_all(
            &format!("SELECT {COLUMNS} FROM api_tokens ORDER BY id DESC"),
            vec![],
        )
        .await?
        .iter()
        .map(from_row)
        .collect()
    }

    pub async fn revoke_token(&self, id: &str, by: AuditRecord) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                args![now_ms(), id],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.audit(AuditRecord {
            action: "token.revoke".into(),
            class: DataClass::Settings,
            record: Some(id.to_owned()),
            detail: serde_json::json!({}),
            ..by
        })
        .await?;
        tx.commit().await
    }

    /// The live token with this secret: (token id, token name, role name).
    pub async fn find_token(&self, secret: &str) -> Result<Option<(String, String, String)>> {
        let row = self
            .fetch_optional(
                "SELECT id, name, role FROM api_tokens
                 WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
                args![hash_secret(secret), now_ms()],
            )
            .await?;
        row.map(|r| Ok((r.get("id")?, r.get("name")?, r.get("role")?)))
            .transpose()
    }
}
