//! Admin pages: users, roles (a matrix of classes by actions), tokens, audit.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use minijinja::context;
use serde::Deserialize;

use super::i18n::phrase;
use super::{error_page, page};
use crate::domain::{Action, DataClass, Grant, RoleName};
use crate::http::api;
use crate::http::error::{ApiError, ApiQuery};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::storage::Verification;

const fn settings(action: Action) -> Need {
    Need::Grant(Grant::new(DataClass::Settings, action))
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/admin/users", settings(Action::View), users),
        Route::new(
            Method::POST,
            "/admin/users",
            settings(Action::Store),
            add_user,
        ),
        Route::new(
            Method::POST,
            "/admin/users/{id}/disable",
            settings(Action::Modify),
            disable_user,
        ),
        Route::new(
            Method::POST,
            "/admin/users/{id}/enable",
            settings(Action::Modify),
            enable_user,
        ),
        Route::new(Method::GET, "/admin/roles", settings(Action::View), roles),
        Route::new(
            Method::POST,
            "/admin/roles",
            settings(Action::Store),
            add_role,
        ),
        Route::new(Method::GET, "/admin/tokens", settings(Action::View), tokens),
        Route::new(
            Method::POST,
            "/admin/tokens",
            settings(Action::Store),
            add_token,
        ),
        Route::new(
            Method::POST,
            "/admin/tokens/{id}/revoke",
            settings(Action::Delete),
            revoke_token,
        ),
        Route::new(
            Method::GET,
            "/admin/audit",
            Need::Grant(Grant::new(DataClass::Audit, Action::View)),
            audit,
        ),
    ]
}

#[derive(Deserialize, Default)]
struct Notice {
    notice: Option<String>,
}

/// Post/redirect/get with a short, fixed message (never user input).
fn done(path: &str, notice: &str) -> Response {
    let q: String = url::form_urlencoded::byte_serialize(notice.as_bytes()).collect();
    Redirect::to(&format!("{path}?notice={q}")).into_response()
}

async fn users(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(n): ApiQuery<Notice>,
) -> Response {
    let result = async {
        let users = state.store.list_users().await?;
        let views = api::users_present(&state, &p, &users).await?;
        let roles = state.store.list_roles().await?;
        Ok::<_, ApiError>((views, roles))
    }
    .await;
    match result {
        Ok((users, roles)) => page(
            &state,
            &p,
            "/admin/users",
            "users.html",
            context! {
                users, roles, notice => n.notice,
                can_store => p.can(DataClass::Settings, Action::Store),
                can_modify => p.can(DataClass::Settings, Action::Modify),
            },
        ),
        Err(e) => error_page(&state, e),
    }
}

#[derive(Deserialize)]
struct NewUserForm {
    name: String,
    email: String,
    role: String,
    password: String,
}

async fn add_user(
    State(state): State<AppState>,
    Auth(p): Auth,
    Form(f): Form<NewUserForm>,
) -> Response {
    match api::add_user(
        &state.store,
        &f.email,
        &f.name,
        &f.role,
        &f.password,
        p.audit("user.create", DataClass::Settings, None),
    )
    .await
    {
        Ok(_) => done("/admin/users", phrase("User added.")),
        Err(e) => error_page(&state, e),
    }
}

async fn set_disabled(
    state: AppState,
    p: crate::auth::Principal,
    id: String,
    disabled: bool,
) -> Response {
    if id == p.actor && disabled {
        return error_page(
            &state,
            ApiError::Unprocessable {
                code: "self_disable",
                detail: "you cannot disable your own account".into(),
            },
        );
    }
    let audit = p.audit("user.update", DataClass::Settings, Some(id.clone()));
    match state
        .store
        .update_user(&id, None, Some(disabled), None, audit)
        .await
    {
        Ok(_) => done(
            "/admin/users",
            if disabled {
                phrase("User disabled.")
            } else {
                phrase("User enabled.")
            },
        ),
        Err(e) => error_page(&state, e.into()),
    }
}

async fn disable_user(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Response {
    set_disabled(state, p, id, true).await
}

async fn enable_user(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Response {
    set_disabled(state, p, id, false).await
}

async fn roles(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(n): ApiQuery<Notice>,
) -> Response {
    let roles = match state.store.list_roles().await {
        Ok(r) => r,
        Err(e) => return error_page(&state, e.into()),
    };
    let classes: Vec<_> = DataClass::ALL
        .iter()
        .map(|c| context! { name => c.as_str(), description => c.describe() })
        .collect();
    let actions: Vec<_> = Action::ALL
        .iter()
        .map(|a| context! { name => a.as_str() })
        .collect();
    let roles: Vec<_> = roles
        .iter()
        .map(|r| {
            context! {
                name => r.name, description => r.description, builtin => r.builtin,
                grants => r.grants.iter().map(ToString::to_string).collect::<Vec<_>>(),
            }
        })
        .collect();
    page(
        &state,
        &p,
        "/admin/roles",
        "roles.html",
        context! {
            roles, classes, actions, notice => n.notice,
            legend => phrase("V view, M modify, S store, D delete."),
            can_store => p.can(DataClass::Settings, Action::Store),
        },
    )
}

#[derive(Deserialize)]
struct NewRoleForm {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    grant: Vec<String>,
}

async fn add_role(
    State(state): State<AppState>,
    Auth(p): Auth,
    Form(f): Form<NewRoleForm>,
) -> Response {
    let result = async {
        let name = RoleName::parse(&f.name)?;
        let grants = api::parse_grants(&f.grant)?;
        state
            .store
            .create_role(
                &name,
                &f.description,
                &grants,
                p.audit("role.create", DataClass::Settings, None),
            )
            .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => done("/admin/roles", phrase("Role created.")),
        Err(e) => error_page(&state, e),
    }
}

async fn token_page(
    state: &AppState,
    p: &crate::auth::Principal,
    secret: Option<String>,
    notice: Option<String>,
) -> Response {
    let result = async {
        Ok::<_, ApiError>((
            state.store.list_tokens().await?,
            state.store.list_roles().await?,
        ))
    }
    .await;
    match result {
        Ok((tokens, roles)) => page(
            state,
            p,
            "/admin/tokens",
            "tokens.html",
            context! {
                tokens, roles, secret, notice,
                can_store => p.can(DataClass::Settings, Action::Store),
                can_delete => p.can(DataClass::Settings, Action::Delete),
            },
        ),
        Err(e) => error_page(state, e),
    }
}

async fn tokens(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(n): ApiQuery<Notice>,
) -> Response {
    token_page(&state, &p, None, n.notice).await
}

#[derive(Deserialize)]
struct NewTokenForm {
    name: String,
    role: String,
    expires_in_days: Option<i64>,
}

async fn add_token(
    State(state): State<AppState>,
    Auth(p): Auth,
    Form(f): Form<NewTokenForm>,
) -> Response {
    match api::create_token(
        &state.store,
        &f.name,
        &f.role,
        f.expires_in_days,
        Some(p.actor.clone()),
        p.audit("token.create", DataClass::Settings, None),
    )
    .await
    {
        // Rendered, not redirected: the secret must not travel in a URL.
        Ok((_, secret)) => token_page(&state, &p, Some(secret), None).await,
        Err(e) => error_page(&state, e),
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Response {
    match state
        .store
        .revoke_token(
            &id,
            p.audit("token.revoke", DataClass::Settings, Some(id.clone())),
        )
        .await
    {
        Ok(()) => done("/admin/tokens", phrase("Token revoked.")),
        Err(e) => error_page(&state, e.into()),
    }
}

#[derive(Deserialize)]
struct AuditQuery {
    before: Option<i64>,
}

async fn audit(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Response {
    let result = async {
        Ok::<_, ApiError>((
            state.store.audit_page(q.before, 100).await?,
            state.store.audit_verify().await?,
        ))
    }
    .await;
    match result {
        Ok((page_, v)) => {
            let verification = match v {
                Verification::Intact { entries } => context! { intact => true, entries },
                Verification::Broken { seq, reason } => context! { intact => false, seq, reason },
            };
            page(
                &state,
                &p,
                "/admin/audit",
                "audit.html",
                context! { page => page_, verification },
            )
        }
        Err(e) => error_page(&state, e),
    }
}
