use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::Json;
use serde::Deserialize;

use crate::auth::{hash_password, Principal};
use crate::domain::user::{parse_name, Email, Password};
use crate::domain::{Action, DataClass, Grant};
use crate::http::error::{ApiError, ApiJson};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::storage::UserView;
use crate::storage::{NewUser, User};

const VIEW: Need = Need::Grant(Grant::new(DataClass::Settings, Action::View));
const STORE: Need = Need::Grant(Grant::new(DataClass::Settings, Action::Store));
const MODIFY: Need = Need::Grant(Grant::new(DataClass::Settings, Action::Modify));

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/api/v1/users", VIEW, list)
            .doc(
                "access",
                "List staff users (emails masked without contact:view)",
            )
            .response_list::<UserView>(),
        Route::new(Method::POST, "/api/v1/users", STORE, create)
            .doc("access", "Add a staff user")
            .request::<CreateUser>()
            .response::<UserView>(),
        Route::new(Method::GET, "/api/v1/users/{id}", VIEW, get_one)
            .doc("access", "One staff user")
            .response::<UserView>(),
        Route::new(Method::PATCH, "/api/v1/users/{id}", MODIFY, update)
            .doc("access", "Change a user's role, disable or enable them, or choose whether they get the weekly report")
            .request::<UpdateUser>()
            .response::<UserView>(),
    ]
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: String,
    pub name: String,
    pub role: String,
    /// At least 12 characters.
    pub password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub role: Option<String>,
    pub disabled: Option<bool>,
    /// Send this user the weekly scorecard email (they need reports:view).
    pub weekly_report: Option<bool>,
}

/// Shows users as the principal may see them; records the look at
/// personal data when emails are shown in full.
pub(crate) async fn present(
    state: &AppState,
    p: &Principal,
    users: &[User],
) -> Result<Vec<UserView>, ApiError> {
    let show = p.can(DataClass::Contact, Action::View);
    if show && !users.is_empty() {
        let mut rec = p.audit("contact.view", DataClass::Contact, None);
        rec.detail = serde_json::json!({
            "users": users.iter().map(|u| u.id.as_str()).collect::<Vec<_>>()
        });
        if users.len() == 1 {
            rec.record = Some(users[0].id.to_string());
        }
        state.store.audit(rec).await?;
    }
    Ok(users.iter().map(|u| u.view(show)).collect())
}

async fn list(
    State(state): State<AppState>,
    Auth(p): Auth,
) -> Result<Json<Vec<UserView>>, ApiError> {
    let users = state.store.list_users().await?;
    Ok(Json(present(&state, &p, &users).await?))
}

async fn get_one(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let user = state
        .store
        .user(&id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    let mut shown = present(&state, &p, std::slice::from_ref(&user)).await?;
    Ok(Json(shown.remove(0)))
}

/// Validates and stores a new user. Shared by the API, the dashboard and the CLI.
pub(crate) async fn add_user(
    state: &crate::storage::Store,
    email: &str,
    name: &str,
    role: &str,
    password: &str,
    by: crate::storage::AuditRecord,
) -> Result<User, ApiError> {
    let email = Email::parse(email)?;
    let name = parse_name(name)?;
    let password = Password::parse(password)?;
    if state.role(role).await?.is_none() {
        return Err(crate::domain::DomainError::UnknownRole(role.to_owned()).into());
    }
    let password_hash = {
        let pw = password.expose().to_owned();
        tokio::task::spawn_blocking(move || hash_password(&pw))
            .await
            .map_err(anyhow::Error::from)??
    };
    Ok(state
        .create_user(
            NewUser {
                email,
                name,
                role: role.to_owned(),
                password_hash,
            },
            by,
        )
        .await?)
}

async fn create(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<CreateUser>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let user = add_user(
        &state.store,
        &body.email,
        &body.name,
        &body.role,
        &body.password,
        p.audit("user.create", DataClass::Settings, None),
    )
    .await?;
    state.events.publish(
        "user.created",
        DataClass::Settings,
        serde_json::json!({ "id": user.id.as_str(), "role": user.role }),
    );
    Ok((
        StatusCode::CREATED,
        Json(user.view(p.can(DataClass::Contact, Action::View))),
    ))
}

async fn update(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateUser>,
) -> Result<Json<UserView>, ApiError> {
    if let Some(role) = &body.role {
        if state.store.role(role).await?.is_none() {
            return Err(crate::domain::DomainError::UnknownRole(role.clone()).into());
        }
    }
    if id == p.actor && body.disabled == Some(true) {
        return Err(ApiError::Unprocessable {
            code: "self_disable",
            detail: "you cannot disable your own account".into(),
        });
    }
    let user = state
        .store
        .update_user(
            &id,
            body.role.as_deref(),
            body.disabled,
            body.weekly_report,
            p.audit("user.update", DataClass::Settings, Some(id.clone())),
        )
        .await
        .map_err(|e| match e {
            crate::storage::StoreError::NotFound => ApiError::NotFound("user"),
            e => e.into(),
        })?;
    state.events.publish(
        "user.updated",
        DataClass::Settings,
        serde_json::json!({ "id": user.id.as_str() }),
    );
    Ok(Json(user.view(p.can(DataClass::Contact, Action::View))))
}
