//! Early-warning signals: list, look, acknowledge, dismiss.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::domain::{Action, DataClass, DomainError, Grant};
use crate::http::error::{ApiError, ApiJson, ApiQuery};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::storage::signals::{Evidence, Signal};
use crate::storage::StoreError;

const VIEW: Need = Need::Grant(Grant::new(DataClass::Feedback, Action::View));
const MODIFY: Need = Need::Grant(Grant::new(DataClass::Feedback, Action::Modify));

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/api/v1/signals", VIEW, list)
            .doc(
                "signals",
                "Early-warning signals, newest first; ?status=open",
            )
            .response_list::<Signal>(),
        Route::new(Method::GET, "/api/v1/signals/{id}", VIEW, get_one)
            .doc(
                "signals",
                "A signal with its evidence: quotes (redacted) and indicators",
            )
            .response::<SignalView>(),
        Route::new(
            Method::POST,
            "/api/v1/signals/{id}/acknowledge",
            MODIFY,
            acknowledge,
        )
        .doc("signals", "Someone is looking at it")
        .response::<Signal>(),
        Route::new(
            Method::POST,
            "/api/v1/signals/{id}/dismiss",
            MODIFY,
            dismiss,
        )
        .doc("signals", "Not a real problem, with the reason")
        .request::<Dismissal>()
        .response::<Signal>(),
    ]
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SignalView {
    #[serde(flatten)]
    pub signal: Signal,
    pub evidence: Evidence,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dismissal {
    /// Why it is not a problem (1-500 characters).
    pub reason: String,
}

const STATUSES: &[&str] = &["open", "acknowledged", "promoted", "dismissed"];

async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<Signal>>, ApiError> {
    if let Some(s) = q.status.as_deref() {
        if !STATUSES.contains(&s) {
            return Err(DomainError::invalid(
                "status",
                "open, acknowledged, promoted or dismissed",
            )
            .into());
        }
    }
    Ok(Json(
        state
            .store
            .list_signals(q.status.as_deref(), q.limit.unwrap_or(50).clamp(1, 200))
            .await?,
    ))
}

async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SignalView>, ApiError> {
    let signal = state
        .store
        .signal(&id)
        .await?
        .ok_or(ApiError::NotFound("signal"))?;
    let evidence = state.store.signal_evidence(&signal).await?;
    Ok(Json(SignalView { signal, evidence }))
}

async fn change(
    state: &AppState,
    p: &crate::auth::Principal,
    id: &str,
    status: &str,
    note: Option<&str>,
) -> Result<Signal, ApiError> {
    let signal = state
        .store
        .set_signal_status(
            id,
            status,
            note,
            p.audit("signal", DataClass::Feedback, Some(id.to_owned())),
        )
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::NotFound("open signal"),
            e => e.into(),
        })?;
    state.events.publish(
        &format!("signal.{status}"),
        DataClass::Feedback,
        serde_json::json!({ "id": signal.id, "status": signal.status }),
    );
    Ok(signal)
}

async fn acknowledge(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<Signal>, ApiError> {
    Ok(Json(change(&state, &p, &id, "acknowledged", None).await?))
}

async fn dismiss(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Dismissal>,
) -> Result<Json<Signal>, ApiError> {
    let reason = body.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(DomainError::invalid("reason", "say why, in 1-500 characters").into());
    }
    Ok(Json(
        change(&state, &p, &id, "dismissed", Some(reason)).await?,
    ))
}
