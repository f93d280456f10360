//! Audience pages: a status page for one customer segment at a secret
//! link, showing only the components chosen for it (private ones too).

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::incidents::Time;
use super::{now_ms, AuditRecord, Result, Row, Store, StoreError, Tx};
use crate::args;
use crate::domain::{id::Kind, DataClass, Id};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AudiencePage {
    pub id: String,
    pub name: String,
    /// The customer segment it is for (a label, as on incidents and tickets).
    pub segment: Option<String>,
    /// The components it shows, in no particular order.
    pub components: Vec<String>,
    #[schema(value_type = String)]
    pub created_at: Time,
    #[schema(value_type = String)]
    pub updated_at: Time,
}

/// What an audience page is made of, checked.
#[derive(Debug, Clone)]
pub struct AudienceSpec {
    pub name: String,
    pub segment: Option<String>,
    pub components: Vec<String>,
}

/// The hash under which a page's key is stored.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

const COLUMNS: &str = "id, name, segment, created_at, updated_at";

impl Tx {
    async fn set_audience_components(&mut self, id: &str, components: &[String]) -> Result<()> {
        self.execute(
            "DELETE FROM audience_page_components WHERE page_id = $1",
            args![id],
        )
        .await?;
        for c in components {
            let found = self
                .fetch_optional(
                    "SELECT id FROM components WHERE id = $1 AND is_group = FALSE",
                    args![c],
                )
                .await?;
            if found.is_none() {
                return Err(StoreError::NotFound);
            }
            self.execute(
                "INSERT INTO audience_page_components (page_id, component_id) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
                args![id, c],
            )
            .await?;
        }
        Ok(())
    }
}

impl Store {
    async fn audience_from(&self, r: &Row) -> Result<AudiencePage> {
        let id: String = r.get("id")?;
        let components = self
            .fetch_all(
                "SELECT component_id FROM audience_page_components WHERE page_id = $1 ORDER BY component_id",
                args![&id],
            )
            .await?
            .iter()
            .map(|r| r.get::<String>("component_id"))
            .collect::<Result<_>>()?;
        Ok(AudiencePage {
            id,
            name: r.get("name")?,
            segment: r.get("segment")?,
            components,
            created_at: Time(r.get("created_at")?),
            updated_at: Time(r.get("updated_at")?),
        })
    }

    /// Creates a page whose link carries `key` (only its hash is stored).
    /// An unknown component is `NotFound`, and nothing is written.
    pub async fn create_audience_page(
        &self,
        spec: &AudienceSpec,
        key: &str,
        by: AuditRecord,
    ) -> Result<AudiencePage> {
        let id = Id::new(Kind::AudiencePage).to_string();
        let now = now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            "INSERT INTO audience_pages (id, name, segment, key_hash, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5)",
            args![&id, &spec.name, spec.segment.clone(), key_hash(key), now],
        )
        .await?;
        tx.set_audience_components(&id, &spec.components).await?;
        tx.audit(AuditRecord {
            action: "audience_page.create".into(),
            class: DataClass::Notices,
            record: Some(id.clone()),
            detail: serde_json::json!({ "components": spec.components.len() }),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.audience_page(&id).await?.ok_or(StoreError::NotFound)
    }

    /// Replaces a page's name, segment and components.
    pub async fn update_audience_page(
        &self,
        id: &str,
        spec: &AudienceSpec,
        by: AuditRecord,
    ) -> Result<AudiencePage> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE audience_pages SET name = $2, segment = $3, updated_at = $4 WHERE id = $1",
                args![id, &spec.name, spec.segment.clone(), now_ms()],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.set_audience_components(id, &spec.components).await?;
        tx.audit(AuditRecord {
            action: "audience_page.update".into(),
            class: DataClass::Notices,
            record: Some(id.to_owned()),
            detail: serde_json::json!({ "components": spec.components.len() }),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.audience_page(id).await?.ok_or(StoreError::NotFound)
    }

    /// A new key for the page's link; the old link stops working.
    pub async fn rotate_audience_key(&self, id: &str, key: &str, by: AuditRecord) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE audience_pages SET key_hash = $2, updated_at = $3 WHERE id = $1",
                args![id, key_hash(key), now_ms()],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.audit(AuditRecord {
            action: "audience_page.rotate".into(),
            class: DataClass::Notices,
            record: Some(id.to_owned()),
            detail: serde_json::json!({}),
            ..by
        })
        .await?;
        tx.commit().await
    }

    pub async fn delete_audience_page(&self, id: &str, by: AuditRecord) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.execute(
            "DELETE FROM audience_page_components WHERE page_id = $1",
            args![id],
        )
        .await?;
        let n = tx
            .execute("DELETE FROM audience_pages WHERE id = $1", args![id])
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.audit(AuditRecord {
            action: "audience_page.delete".into(),
            class: DataClass::Notices,
            record: Some(id.to_owned()),
            detail: serde_json::json!({}),
            ..by
        })
        .await?;
        tx.commit().await
    }

    async fn one_audience_page(&self, column: &str, value: String) -> Result<Option<AudiencePage>> {
        let sql = format!("SELECT {COLUMNS} FROM audience_pages WHERE {column} = $1");
        match self.fetch_optional(&sql, args![value]).await? {
            Some(r) => Ok(Some(self.audience_from(&r).await?)),
            None => Ok(None),
        }
    }

    pub async fn audience_page(&self, id: &str) -> Result<Option<AudiencePage>> {
        self.one_audience_page("id", id.to_owned()).await
    }

    /// The page whose link carries `key`.
    pub async fn audience_page_by_key(&self, key: &str) -> Result<Option<AudiencePage>> {
        self.one_audience_page("key_hash", key_hash(key)).await
    }

    pub async fn list_audience_pages(&self) -> Result<Vec<AudiencePage>> {
        let rows = self
            .fetch_all(
                &format!("SELECT {COLUMNS} FROM audience_pages ORDER BY name, id"),
                vec![],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(self.audience_from(r).await?);
        }
        Ok(out)
    }
}
