use axum::extract::State;
use axum::http::Method;
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::domain::{Action, DataClass, Grant};
use crate::http::error::{ApiError, ApiQuery};
use crate::http::guard::{Need, Route};
use crate::http::AppState;
use crate::storage::{AuditPage, Verification};

const VIEW: Need = Need::Grant(Grant::new(DataClass::Audit, Action::View));

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/api/v1/audit", VIEW, page)
            .doc("audit", "Page through the audit trail, newest first")
            .response::<AuditPage>(),
        Route::new(Method::GET, "/api/v1/audit/verify", VIEW, verify)
            .doc(
                "audit",
                "Check the hash chain; names the first broken entry",
            )
            .response::<VerifyResult>(),
    ]
}

#[derive(Deserialize)]
struct PageQuery {
    before: Option<i64>,
    limit: Option<i64>,
}

async fn page(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    Ok(Json(
        state
            .store
            .audit_page(q.before, q.limit.unwrap_or(100))
            .await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VerifyResult {
    pub intact: bool,
    pub entries: Option<i64>,
    /// The first entry that is wrong.
    pub broken_at: Option<i64>,
    pub reason: Option<String>,
}

async fn verify(State(state): State<AppState>) -> Result<Json<VerifyResult>, ApiError> {
    Ok(Json(match state.store.audit_verify().await? {
        Verification::Intact { entries } => VerifyResult {
            intact: true,
            entries: Some(entries),
            broken_at: None,
            reason: None,
        },
        Verification::Broken { seq, reason } => VerifyResult {
            intact: false,
            entries: None,
            broken_at: Some(seq),
            reason: Some(reason),
        },
    }))
}
