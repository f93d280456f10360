//! Dashboard sessions: a random cookie value, stored hashed, with a CSRF
//! token bound to it.

use super::tokens::{hash_secret, new_secret};
use super::{now_ms, Result, Store, User};
use crate::args;

/// Who a session belongs to.
#[derive(Debug, Clone)]
pub struct SessionPrincipal {
    pub user: User,
    pub csrf: String,
}

impl Store {
    /// Starts a session; returns the cookie value.
    pub async fn create_session(&self, user: &User, ttl_ms: i64) -> Result<String> {
        let secret = new_secret("");
        let csrf = new_secret("");
        let now = now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            args![hash_secret(&secret), &user.id, csrf, now, now + ttl_ms],
        )
        .await?;
        tx.execute(
            "UPDATE users SET last_login_at = $1 WHERE id = $2",
            args![now, &user.id],
        )
        .await?;
        tx.execute("DELETE FROM sessions WHERE expires_at < $1", args![now])
            .await?;
        tx.commit().await?;
        Ok(secret)
    }

    pub async fn find_session(&self, secret: &str) -> Result<Option<SessionPrincipal>> {
        let Some(row) = self
            .fetch_optional(
                "SELECT user_id, csrf FROM sessions WHERE token_hash = $1 AND expires_at > $2",
                args![hash_secret(secret), now_ms()],
            )
            .await?
        else {
            return Ok(None);
        };
        let user_id: String = row.get("user_id")?;
        let csrf: String = row.get("csrf")?;
        Ok(self
            .user(&user_id)
            .await?
            .filter(|u| !u.disabled)
            .map(|user| SessionPrincipal { user, csrf }))
    }

    pub async fn delete_session(&self, secret: &str) -> Result<()> {
        self.execute(
            "DELETE FROM sessions WHERE token_hash = $1",
            args![hash_secret(secret)],
        )
        .await?;
        Ok(())
    }
}
