//! Data requests over the API: export or erase everything held about one
//! person. POST with the email or phone in the body, so personal data never
//! lands in a URL or an access log.

use axum::extract::State;
use axum::http::Method;
use axum::Json;
use serde::Deserialize;

use crate::auth::Principal;
use crate::domain::{Action, DataClass, Grant};
use crate::http::error::{ApiError, ApiJson};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::privacy::subjects::{self, EraseReport, Identifier, SubjectExport};

const VIEW: Need = Need::Grant(Grant::new(DataClass::Contact, Action::View));
const DELETE: Need = Need::Grant(Grant::new(DataClass::Contact, Action::Delete));

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::POST, "/api/v1/subjects/export", VIEW, export)
            .doc(
                "subjects",
                "Everything held about one person (found by email or phone), decrypted; audited",
            )
            .request::<ExportRequest>()
            .response::<SubjectExport>(),
        Route::new(Method::POST, "/api/v1/subjects/erase", DELETE, erase)
            .doc(
                "subjects",
                "Erase one person: data key, contact, raw text and consent (or their feedback); audited",
            )
            .request::<EraseRequest>()
            .response::<EraseReport>(),
    ]
}

/// Who: exactly one of `email` or `phone`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// Country for a phone number written without `+` (default US).
    #[serde(default)]
    pub region: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// Country for a phone number written without `+` (default US).
    #[serde(default)]
    pub region: Option<String>,
    /// Delete the person's feedback rows too, instead of keeping them
    /// anonymous (redacted text and scores only).
    #[serde(default)]
    pub delete_feedback: bool,
}

fn not_found() -> ApiError {
    ApiError::NotFound("person with that email or phone")
}

async fn export(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(req): ApiJson<ExportRequest>,
) -> Result<Json<SubjectExport>, ApiError> {
    let who = Identifier::parse(
        req.email.as_deref(),
        req.phone.as_deref(),
        req.region.as_deref(),
    )?;
    let out = subjects::export(&state.store, &state.intake.ring, &who, audit(&p)).await?;
    out.map(Json).ok_or_else(not_found)
}

async fn erase(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(req): ApiJson<EraseRequest>,
) -> Result<Json<EraseReport>, ApiError> {
    let who = Identifier::parse(
        req.email.as_deref(),
        req.phone.as_deref(),
        req.region.as_deref(),
    )?;
    let out = subjects::erase(
        &state.store,
        &state.intake.ring,
        &who,
        req.delete_feedback,
        audit(&p),
    )
    .await?;
    out.map(Json).ok_or_else(not_found)
}

fn audit(p: &Principal) -> crate::storage::AuditRecord {
    p.audit("subject", DataClass::Contact, None)
}
