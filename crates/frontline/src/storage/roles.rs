//! Roles: named sets of grants. Built-in roles are kept as the code says.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{now_ms, AuditRecord, Result, Row, Store, StoreError};
use crate::args;
use crate::domain::access::BUILTIN_ROLES;
use crate::domain::{DataClass, Grant, RoleName};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Role {
    pub name: String,
    pub description: String,
    #[schema(value_type = Vec<String>, example = json!(["feedback:view", "reports:view"]))]
    pub grants: BTreeSet<Grant>,
    pub builtin: bool,
}

impl Role {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(Self {
            name: r.get("name")?,
            description: r.get("description")?,
            grants: parse_grants(&r.get::<String>("grants")?)?,
            builtin: r.get("builtin")?,
        })
    }

    pub fn allows(&self, grant: Grant) -> bool {
        self.grants.contains(&grant)
    }
}

pub(crate) fn parse_grants(s: &str) -> Result<BTreeSet<Grant>> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse()
                .map_err(|e| StoreError::Corrupt(format!("role grant {p:?}: {e}")))
        })
        .collect()
}

fn join_grants(grants: &BTreeSet<Grant>) -> String {
    grants
        .iter()
        .map(Grant::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    pub(super) async fn sync_builtin_roles(&self) -> Result<()> {
        let mut tx = self.begin().await?;
        for role in BUILTIN_ROLES {
            let grants = join_grants(&role.grants());
            tx.execute(
                "INSERT INTO roles (name, description, grants, builtin, created_at)
                 VALUES ($1, $2, $3, TRUE, $4)
                 ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description,
                     grants = EXCLUDED.grants, builtin = TRUE",
                args![role.name, role.description, grants, now_ms()],
            )
            .await?;
        }
        tx.commit().await
    }

    pub async fn list_roles(&self) -> Result<Vec<Role>> {
        self.fetch_all(
            "SELECT name, description, grants, builtin FROM roles ORDER BY builtin DESC, name",
            vec![],
        )
        .await?
        .iter()
        .map(Role::from_row)
        .collect()
    }

    pub async fn role(&self, name: &str) -> Result<Option<Role>> {
        self.fetch_optional(
            "SELECT name, description, grants, builtin FROM roles WHERE name = $1",
            args![name],
        )
        .await?
        .as_ref()
        .map(Role::from_row)
        .transpose()
    }

    pub async fn create_role(
        &self,
        name: &RoleName,
        description: &str,
        grants: &BTreeSet<Grant>,
        by: AuditRecord,
    ) -> Result<Role> {
        let mut tx = self.begin().await?;
        tx.execute(
            "INSERT INTO roles (name, description, grants, builtin, created_at) VALUES ($1, $2, $3, FALSE, $4)",
            args![name.as_str(), description, join_grants(grants), now_ms()],
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict("a role with this name"),
            e => e,
        })?;
        tx.audit(AuditRecord {
            action: "role.create".into(),
            class: DataClass::Settings,
            record: Some(name.to_string()),
            detail: serde_json::json!({ "grants": join_grants(grants) }),
            ..by
        })
        .await?;
        tx.commit().await?;
        Ok(Role {
            name: name.to_string(),
            description: description.to_owned(),
            grants: grants.clone(),
            builtin: false,
        })
    }

    /// Replaces a custom role's grants. Built-in roles cannot be changed.
    pub async fn update_role(
        &self,
        name: &str,
        description: Option<&str>,
        grants: &BTreeSet<Grant>,
        by: AuditRecord,
    ) -> Result<Role> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE roles SET grants = $1, description = COALESCE($2, description)
                 WHERE name = $3 AND builtin = FALSE",
                args![join_grants(grants), description, name],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.audit(AuditRecord {
            action: "role.update".into(),
            class: DataClass::Settings,
            record: Some(name.to_owned()),
            detail: serde_json::json!({ "grants": join_grants(grants) }),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.role(name).await?.ok_or(StoreError::NotFound)
    }

    pub async fn delete_role(&self, name: &str, by: AuditRecord) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "DELETE FROM roles WHERE name = $1 AND builtin = FALSE",
                args![name],
            )
            .await
            .map_err(|e| match e {
                StoreError::InUse(_) => StoreError::InUse("this role"),
                e => e,
            })?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.audit(AuditRecord {
            action: "role.delete".into(),
            class: DataClass::Settings,
            record: Some(name.to_owned()),
            detail: serde_json::json!({}),
            ..by
        })
        .await?;
        tx.commit().await
    }
}
