use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::domain::{Action, DataClass, DomainError, Grant};
use crate::http::error::{ApiError, ApiJson};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::storage::{ApiToken, AuditRecord, NewToken, Store, StoreError};

const fn settings(action: Action) -> Need {
    Need::Grant(Grant::new(DataClass::Settings, action))
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/api/v1/tokens", settings(Action::View), list)
            .doc("access", "List API tokens (never their secrets)")
            .response_list::<ApiToken>(),
        Route::new(
            Method::POST,
            "/api/v1/tokens",
            settings(Action::Store),
            create,
        )
        .doc(
            "access",
            "Create an API token; the secret is in this response only",
        )
        .request::<CreateToken>()
        .response::<CreatedToken>(),
        Route::new(
            Method::DELETE,
            "/api/v1/tokens/{id}",
            settings(Action::Delete),
            revoke,
        )
        .doc("access", "Revoke an API token"),
    ]
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub name: String,
    pub role: String,
    /// Days until it expires: 1 to 730 (default 90).
    #[serde(default)]
    pub expires_in_days: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    pub token: ApiToken,
    /// Send as `Authorization: Bearer <secret>`. Shown once.
    pub secret: String,
}

/// Validates and creates a token. Shared by the API, the dashboard and the CLI.
pub(crate) async fn create_token(
    store: &Store,
    name: &str,
    role: &str,
    expires_in_days: Option<i64>,
    created_by: Option<String>,
    by: AuditRecord,
) -> Result<(ApiToken, String), ApiError> {
    let name = crate::domain::user::parse_name(name)?;
    let days = expires_in_days.unwrap_or(90);
    if !(1..=730).contains(&days) {
        return Err(DomainError::invalid("expires_in_days", "must be 1 to 730").into());
    }
    if store.role(role).await?.is_none() {
        return Err(DomainError::UnknownRole(role.to_owned()).into());
    }
    Ok(store
        .create_token(
            NewToken {
                name,
                role: role.to_owned(),
                expires_at: crate::storage::now_ms() + days * 86_400_000,
                created_by,
            },
            by,
        )
        .await?)
}

async fn list(State(state): State<AppState>) -> Result<Json<Vec<ApiToken>>, ApiError> {
    Ok(Json(state.store.list_tokens().await?))
}

async fn create(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<CreateToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let (token, secret) = create_token(
        &state.store,
        &body.name,
        &body.role,
        body.expires_in_days,
        Some(p.actor.clone()),
        p.audit("token.create", DataClass::Settings, None),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, secret })))
}

async fn revoke(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .revoke_token(
            &id,
            p.audit("token.revoke", DataClass::Settings, Some(id.clone())),
        )
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::NotFound("live token"),
            e => e.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}
