use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::domain::{Action, DataClass, Grant, RoleName};
use crate::http::error::{ApiError, ApiJson};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::storage::{Role, StoreError};

const fn settings(action: Action) -> Need {
    Need::Grant(Grant::new(DataClass::Settings, action))
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/api/v1/data-classes", Need::SignedIn, classes)
            .doc(
                "access",
                "The data classes and actions that grants are made of",
            )
            .response::<ClassesAndActions>(),
        Route::new(Method::GET, "/api/v1/roles", settings(Action::View), list)
            .doc("access", "List roles with their grants")
            .response_list::<Role>(),
        Route::new(
            Method::POST,
            "/api/v1/roles",
            settings(Action::Store),
            create,
        )
        .doc("access", "Define a custom role")
        .request::<RoleBody>()
        .response::<Role>(),
        Route::new(
            Method::PUT,
            "/api/v1/roles/{name}",
            settings(Action::Modify),
            update,
        )
        .doc("access", "Replace a custom role's grants")
        .request::<RoleBody>()
        .response::<Role>(),
        Route::new(
            Method::DELETE,
            "/api/v1/roles/{name}",
            settings(Action::Delete),
            delete,
        )
        .doc("access", "Delete a custom role no one holds"),
    ]
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ClassInfo {
    pub name: &'static str,
    pub description: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ClassesAndActions {
    pub classes: Vec<ClassInfo>,
    pub actions: Vec<ClassInfo>,
}

async fn classes() -> Json<ClassesAndActions> {
    Json(ClassesAndActions {
        classes: DataClass::ALL
            .iter()
            .map(|c| ClassInfo {
                name: c.as_str(),
                description: c.describe(),
            })
            .collect(),
        actions: Action::ALL
            .iter()
            .map(|a| ClassInfo {
                name: a.as_str(),
                description: a.describe(),
            })
            .collect(),
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    /// Ignored on PUT (the path names the role).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// `class:action` pairs, e.g. `feedback:view`.
    pub grants: Vec<String>,
}

/// Unknown classes or actions are 422: the body is well-formed JSON but
/// names something that does not exist.
pub(crate) fn parse_grants(raw: &[String]) -> Result<BTreeSet<Grant>, ApiError> {
    raw.iter()
        .map(|g| g.parse::<Grant>().map_err(ApiError::from))
        .collect()
}

async fn list(State(state): State<AppState>) -> Result<Json<Vec<Role>>, ApiError> {
    Ok(Json(state.store.list_roles().await?))
}

async fn create(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<RoleBody>,
) -> Result<(StatusCode, Json<Role>), ApiError> {
    let name = RoleName::parse(body.name.as_deref().unwrap_or_default())?;
    let grants = parse_grants(&body.grants)?;
    let role = state
        .store
        .create_role(
            &name,
            body.description.as_deref().unwrap_or(""),
            &grants,
            p.audit("role.create", DataClass::Settings, None),
        )
        .await?;
    state.events.publish(
        "role.created",
        DataClass::Settings,
        serde_json::json!({ "name": role.name }),
    );
    Ok((StatusCode::CREATED, Json(role)))
}

async fn update(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<RoleBody>,
) -> Result<Json<Role>, ApiError> {
    let grants = parse_grants(&body.grants)?;
    match state.store.role(&name).await? {
        None => return Err(ApiError::NotFound("role")),
        Some(r) if r.builtin => {
            return Err(ApiError::Conflict(format!(
                "`{name}` is a built-in role; define a custom role instead"
            )))
        }
        Some(_) => {}
    }
    let role = state
        .store
        .update_role(
            &name,
            body.description.as_deref(),
            &grants,
            p.audit("role.update", DataClass::Settings, None),
        )
        .await?;
    Ok(Json(role))
}

async fn delete(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    match state.store.role(&name).await? {
        None => return Err(ApiError::NotFound("role")),
        Some(r) if r.builtin => {
            return Err(ApiError::Conflict(format!("`{name}` is a built-in role")))
        }
        Some(_) => {}
    }
    state
        .store
        .delete_role(&name, p.audit("role.delete", DataClass::Settings, None))
        .await
        .map_err(|e| match e {
            StoreError::InUse(_) => {
                ApiError::Conflict(format!("role `{name}` is still held by users or tokens"))
            }
            e => e.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}
