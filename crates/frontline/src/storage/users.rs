//! Staff accounts.

use serde::Serialize;

use super::{now_ms, AuditRecord, Result, Row, Store, StoreError};
use crate::args;
use crate::domain::{id::Kind, user::Email, DataClass, Id};

#[derive(Debug, Clone)]
pub struct User {
    pub id: Id,
    /// Personal data: shown only to roles with `contact:view`.
    pub email: String,
    pub name: String,
    pub role: String,
    pub disabled: bool,
    pub created_at: i64,
    pub last_login_at: Option<i64>,
    /// Receives the weekly scorecard email.
    pub weekly_report: bool,
    /// The dashboard language the user chose; None: the browser's.
    pub language: Option<String>,
    pub(crate) password_hash: String,
}

pub struct NewUser {
    pub email: Email,
    pub name: String,
    pub role: String,
    pub password_hash: String,
}

pub(crate) fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// How a user is shown over the API.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: String,
    /// Masked (`a***@example.com`) for roles without `contact:view`.
    pub email: String,
    pub name: String,
    pub role: String,
    pub disabled: bool,
    pub created_at: String,
    pub last_login_at: Option<String>,
    /// Receives the weekly scorecard email (with `reports:view`).
    pub weekly_report: bool,
}

impl User {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(Self {
            id: Id::from_db(r.get("id")?),
            email: r.get("email")?,
            name: r.get("name")?,
            role: r.get("role")?,
            disabled: r.get("disabled")?,
            created_at: r.get("created_at")?,
            last_login_at: r.get("last_login_at")?,
            weekly_report: r.get("weekly_report")?,
            language: r.get("language")?,
            password_hash: r.get("password_hash")?,
        })
    }

    pub fn view(&self, show_contact: bool) -> UserView {
        UserView {
            id: self.id.to_string(),
            email: if show_contact {
                self.email.clone()
            } else {
                crate::domain::user::mask_email(&self.email)
            },
            name: self.name.clone(),
            role: self.role.clone(),
            disabled: self.disabled,
            created_at: rfc3339(self.created_at),
            last_login_at: self.last_login_at.map(rfc3339),
            weekly_report: self.weekly_report,
        }
    }
}

const COLUMNS: &str = "id, email, name, role, password_hash, disabled, created_at, last_login_at";
const SELECT: &str =
    "id, email, name, role, password_hash, disabled, created_at, last_login_at, weekly_report, language";

impl Store {
    pub async fn create_user(&self, new: NewUser, by: AuditRecord) -> Result<User> {
        let id = Id::new(Kind::User);
        let now = now_ms();
        let mut tx = self.begin().await?;
        if tx
            .fetch_optional("SELECT name FROM roles WHERE name = $1", args![&new.role])
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound);
        }
        tx.execute(
            &format!("INSERT INTO users ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, FALSE, $6, NULL)"),
            args![
                &id,
                new.email.as_str(),
                &new.name,
                &new.role,
                &new.password_hash,
                now
            ],
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict("a user with this email"),
            e => e,
        })?;
        tx.audit(AuditRecord {
            action: "user.create".into(),
            class: DataClass::Settings,
            record: Some(id.to_string()),
            detail: serde_json::json!({ "role": new.role }),
            ..by
        })
        .await?;
        tx.commit().await?;
        Ok(User {
            id,
            email: new.email.as_str().to_owned(),
            name: new.name,
            role: new.role,
            disabled: false,
            created_at: now,
            last_login_at: None,
            weekly_report: false,
            language: None,
            password_hash: new.password_hash,
        })
    }

    pub async fn list_users(&self) -> Result<Vec<User>> {
        self.fetch_all(&format!("SELECT {SELECT} FROM users ORDER BY id"), vec![])
            .await?
            .iter()
            .map(User::from_row)
            .collect()
    }

    pub async fn user(&self, id: &str) -> Result<Option<User>> {
        self.fetch_optional(
            &format!("SELECT {SELECT} FROM users WHERE id = $1"),
            args![id],
        )
        .await?
        .as_ref()
        .map(User::from_row)
        .transpose()
    }

    pub async fn user_by_email(&self, email: &Email) -> Result<Option<User>> {
        self.fetch_optional(
            &format!("SELECT {SELECT} FROM users WHERE email = $1"),
            args![email.as_str()],
        )
        .await?
        .as_ref()
        .map(User::from_row)
        .transpose()
    }

    /// Changes what may be changed about a user: role, disabled state and
    /// the weekly report. Disabling also ends the user's sessions.
    pub async fn update_user(
        &self,
        id: &str,
        role: Option<&str>,
        disabled: Option<bool>,
        weekly_report: Option<bool>,
        by: AuditRecord,
    ) -> Result<User> {
        let mut tx = self.begin().await?;
        if let Some(role) = role {
            if tx
                .fetch_optional("SELECT name FROM roles WHERE name = $1", args![role])
                .await?
                .is_none()
            {
                return Err(StoreError::InUse("unknown role"));
            }
        }
        let n = tx
            .execute(
                "UPDATE users SET role = COALESCE($1, role), disabled = COALESCE($2, disabled), weekly_report = COALESCE($4, weekly_report) WHERE id = $3",
                args![role, disabled, id, weekly_report],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        if disabled == Some(true) {
            tx.execute("DELETE FROM sessions WHERE user_id = $1", args![id])
                .await?;
        }
        tx.audit(AuditRecord {
            action: "user.update".into(),
            class: DataClass::Settings,
            record: Some(id.to_owned()),
            detail: serde_json::json!({ "role": role, "disabled": disabled, "weekly_report": weekly_report }),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.user(id).await?.ok_or(StoreError::NotFound)
    }

    /// Sets (or, with None, clears) the language a user reads the
    /// dashboard in.
    pub async fn set_user_language(
        &self,
        id: &str,
        language: Option<&str>,
        by: AuditRecord,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE users SET language = $1 WHERE id = $2",
                args![language, id],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.audit(AuditRecord {
            action: "user.language".into(),
            class: DataClass::Settings,
            record: Some(id.to_owned()),
            detail: serde_json::json!({ "language": language }),
            ..by
        })
        .await?;
        tx.commit().await
    }
}
