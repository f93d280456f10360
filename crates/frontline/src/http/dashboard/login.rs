//! Signing in and out of the dashboard.

use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::{Cookie, SameSite};
use axum_extra::extract::CookieJar;
use minijinja::context;
use serde::Deserialize;

use super::i18n::{self, phrase};
use super::render;
use crate::auth::verify_password;
use crate::domain::user::Email;
use crate::domain::DataClass;
use crate::http::error::ApiError;
use crate::http::guard::{authenticate, client_ip, Auth, SESSION_COOKIE};
use crate::http::AppState;
use crate::storage::AuditRecord;

/// Double-submit cookie protecting the login form itself.
const LOGIN_CSRF_COOKIE: &str = "frontline_login";

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only local paths: never an open redirect.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

fn cookie<'a>(state: &AppState, name: &'a str, value: String, path: &'a str) -> Cookie<'a> {
    Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookies())
        .path(path)
        .build()
}

/// The sign-in page speaks the browser's language (nobody is known yet).
fn browser_language(parts: &Parts) -> &'static str {
    let accept = parts
        .headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    i18n::choose(None, accept)
}

fn login_page(
    state: &AppState,
    jar: CookieJar,
    lang: &'static str,
    next: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let login_csrf = crate::storage::tokens::new_secret("");
    let jar = jar.add(cookie(
        state,
        LOGIN_CSRF_COOKIE,
        login_csrf.clone(),
        "/login",
    ));
    let mut resp = render(
        state,
        "login.html",
        context! { login_csrf, next, error, lang },
    );
    *resp.status_mut() = status;
    (jar, resp).into_response()
}

pub async fn form(
    State(state): State<AppState>,
    parts: Parts,
    jar: CookieJar,
    Query(q): Query<NextQuery>,
) -> Response {
    if let Ok(Some(_)) = authenticate(&state, &parts).await {
        return Redirect::to(&safe_next(q.next.as_deref())).into_response();
    }
    login_page(
        &state,
        jar,
        browser_language(&parts),
        &safe_next(q.next.as_deref()),
        None,
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    csrf: String,
    #[serde(default)]
    next: Option<String>,
}

pub async fn submit(
    State(state): State<AppState>,
    parts: Parts,
    jar: CookieJar,
    Form(f): Form<LoginForm>,
) -> Response {
    use subtle::ConstantTimeEq;
    let next = safe_next(f.next.as_deref());
    let lang = browser_language(&parts);
    let csrf_ok = jar
        .get(LOGIN_CSRF_COOKIE)
        .is_some_and(|c| bool::from(c.value().as_bytes().ct_eq(f.csrf.as_bytes())));
    if !csrf_ok {
        return login_page(
            &state,
            jar,
            lang,
            &next,
            Some(i18n::t(lang, phrase("The sign-in form expired. Please try again.")).to_owned()),
            StatusCode::FORBIDDEN,
        );
    }
    let address = client_ip(&parts);
    if let Err(wait) = state.throttle.check(&f.email, address) {
        tracing::warn!(ip = ?address, "login throttled");
        let mut resp = login_page(
            &state,
            jar,
            lang,
            &next,
            Some(i18n::tf(
                lang,
                phrase("Too many sign-in attempts. Try again in {wait} seconds."),
                &[("wait", &wait)],
            )),
            StatusCode::TOO_MANY_REQUESTS,
        );
        if let Ok(v) = wait.to_string().parse() {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        return resp;
    }
    let user = match Email::parse(&f.email) {
        Ok(email) => match state.store.user_by_email(&email).await {
            Ok(u) => u,
            Err(e) => return super::error_page(&state, e.into()),
        },
        Err(_) => None,
    };
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let password = f.password;
    let verified = tokio::task::spawn_blocking(move || verify_password(&password, hash.as_deref()))
        .await
        .unwrap_or(false);
    let user = match user {
        Some(u) if verified && !u.disabled => u,
        _ => {
            tracing::info!(ip = ?address, "login refused");
            return login_page(
                &state,
                jar,
                lang,
                &next,
                Some(i18n::t(lang, &ApiError::BadCredentials.to_string()).to_owned()),
                StatusCode::UNAUTHORIZED,
            );
        }
    };
    let ttl = i64::from(state.config.auth.session_ttl_hours) * 3_600_000;
    let secret = match state.store.create_session(&user, ttl).await {
        Ok(s) => s,
        Err(e) => return super::error_page(&state, e.into()),
    };
    let audit = AuditRecord {
        actor: user.id.to_string(),
        address: address.map(|a| a.to_string()),
        action: "session.login".into(),
        class: DataClass::Settings,
        record: Some(user.id.to_string()),
        detail: serde_json::json!({}),
    };
    if let Err(e) = state.store.audit(audit).await {
        return super::error_page(&state, e.into());
    }
    state.events.publish(
        "session.login",
        DataClass::Settings,
        serde_json::json!({ "user": user.id.as_str() }),
    );
    let jar = jar
        .remove(Cookie::build(LOGIN_CSRF_COOKIE).path("/login"))
        .add(cookie(&state, SESSION_COOKIE, secret, "/"));
    (jar, Redirect::to(&next)).into_response()
}

pub async fn logout(State(state): State<AppState>, Auth(_p): Auth, jar: CookieJar) -> Response {
    if let Some(c) = jar.get(SESSION_COOKIE) {
        if let Err(e) = state.store.delete_session(c.value()).await {
            return super::error_page(&state, e.into());
        }
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    (jar, Redirect::to("/login")).into_response()
}
