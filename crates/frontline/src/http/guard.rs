//! Every route declares, in one place, the grant it needs. The guard
//! authenticates the caller, checks the grant, checks CSRF for session
//! mutations, and hands the handler a `Principal`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::handler::Handler;
use axum::http::{header, request::Parts, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodFilter, MethodRouter};
use axum_extra::extract::CookieJar;

use super::dashboard::i18n;
use super::{error::ApiError, AppState};
use crate::auth::Principal;
use crate::domain::Grant;

pub const SESSION_COOKIE: &str = "frontline_session";

/// How a route answers someone who is not signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// JSON API: 401/403 with `{code, detail}`.
    Api,
    /// Dashboard page: redirect to the login page; 403 page.
    Page,
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Any signed-in user or token.
    SignedIn,
    Grant(Grant),
}

/// One route: method, path, what it needs, and its handler.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub need: Need,
    pub summary: &'static str,
    pub tag: &'static str,
    pub request: Option<super::openapi::SchemaOf>,
    pub response: Option<super::openapi::SchemaOf>,
    pub(super) handler: MethodRouter<AppState>,
}

impl Route {
    pub fn new<H, T>(method: Method, path: &'static str, need: Need, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).unwrap_or(MethodFilter::GET);
        Self {
            method,
            path,
            need,
            summary: "",
            tag: "",
            request: None,
            response: None,
            handler: axum::routing::on(filter, handler),
        }
    }

    /// A larger body limit for this route (bulk endpoints).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.handler = self
            .handler
            .layer(axum::extract::DefaultBodyLimit::max(bytes));
        self
    }

    pub fn doc(mut self, tag: &'static str, summary: &'static str) -> Self {
        self.tag = tag;
        self.summary = summary;
        self
    }

    pub fn request<T: utoipa::ToSchema>(mut self) -> Self {
        self.request = Some(super::openapi::SchemaOf::one::<T>());
        self
    }

    pub fn response<T: utoipa::ToSchema>(mut self) -> Self {
        self.response = Some(super::openapi::SchemaOf::one::<T>());
        self
    }

    pub fn response_list<T: utoipa::ToSchema>(mut self) -> Self {
        self.response = Some(super::openapi::SchemaOf::list::<T>());
        self
    }

    /// Wraps the handler in the guard for this route's need.
    pub(super) fn guarded(self, state: &AppState, audience: Audience) -> MethodRouter<AppState> {
        let need = self.need;
        self.handler
            .route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                move |State(state): State<AppState>, req: Request, next: Next| {
                    guard(state, need, audience, req, next)
                },
            ))
    }
}

async fn guard(
    state: AppState,
    need: Need,
    audience: Audience,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let principal = match authenticate(&state, &parts).await {
        Ok(Some(p)) => p,
        Ok(None) => return unauthenticated(audience, &parts),
        Err(e) => return e.into_response(),
    };
    let lang = principal.language;
    if let Need::Grant(grant) = need {
        if !principal.grants.contains(&grant) {
            return i18n::sync_scope(lang, || {
                forbidden(&state, audience, ApiError::Forbidden(grant))
            });
        }
    }
    let safe_method = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    let mut req = Request::from_parts(parts, body);
    if let Some(expected) = principal.csrf.as_deref() {
        if !safe_method {
            match check_csrf(req, expected, state.config.http.body_limit_bytes).await {
                Ok(r) => req = r,
                Err(e) => return i18n::sync_scope(lang, || forbidden(&state, audience, e)),
            }
        }
    }
    req.extensions_mut().insert(principal);
    i18n::scope(lang, next.run(req)).await
}

fn unauthenticated(audience: Audience, parts: &Parts) -> Response {
    match audience {
        Audience::Api => ApiError::Unauthenticated.into_response(),
        Audience::Page => {
            // Only the path: queries may carry search terms.
            let next = parts.uri.path();
            let target = format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            Redirect::to(&target).into_response()
        }
    }
}

fn forbidden(state: &AppState, audience: Audience, e: ApiError) -> Response {
    match audience {
        Audience::Api => e.into_response(),
        Audience::Page => super::dashboard::error_page(state, e),
    }
}

/// A session mutation must echo the session's CSRF token, in the
/// `X-CSRF-Token` header (scripts) or a `csrf` form field (forms).
async fn check_csrf(req: Request, expected: &str, limit: usize) -> Result<Request, ApiError> {
    use subtle::ConstantTimeEq;
    let same = |given: &str| bool::from(given.as_bytes().ct_eq(expected.as_bytes()));
    if let Some(h) = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        return if same(h) {
            Ok(req)
        } else {
            Err(ApiError::ForbiddenBecause(
                "the CSRF token does not match; reload the page",
            ))
        };
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(ApiError::ForbiddenBecause(
            "a signed-in browser request must carry the CSRF token",
        ));
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::PayloadTooLarge)?;
    let ok = url::form_urlencoded::parse(&bytes).any(|(k, v)| k == "csrf" && same(&v));
    if !ok {
        return Err(ApiError::ForbiddenBecause(
            "the form's CSRF token does not match; reload the page",
        ));
    }
    Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
}

/// The caller, from a bearer token or a session cookie.
pub async fn authenticate(state: &AppState, parts: &Parts) -> Result<Option<Principal>, ApiError> {
    let address = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let accept_language = parts
        .headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
        let Some(secret) = auth.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) else {
            return Err(ApiError::Unauthenticated);
        };
        let Some((id, name, role)) = state.store.find_token(secret.trim()).await? else {
            return Err(ApiError::Unauthenticated);
        };
        let grants = state
            .store
            .role(&role)
            .await?
            .map(|r| r.grants)
            .unwrap_or_default();
        return Ok(Some(Principal {
            actor: id,
            display_name: format!("token {name}"),
            role,
            grants,
            csrf: None,
            address,
            preferred_language: None,
            language: i18n::choose(None, accept_language),
        }));
    }
    let jar = CookieJar::from_headers(&parts.headers);
    let Some(cookie) = jar.get(SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some(session) = state.store.find_session(cookie.value()).await? else {
        return Ok(None);
    };
    let grants = state
        .store
        .role(&session.user.role)
        .await?
        .map(|r| r.grants)
        .unwrap_or_default();
    let preferred_language = session.user.language.as_deref().and_then(i18n::supported);
    Ok(Some(Principal {
        actor: session.user.id.to_string(),
        display_name: session.user.name.clone(),
        role: session.user.role.clone(),
        grants,
        csrf: Some(session.csrf),
        address,
        preferred_language,
        language: i18n::choose(preferred_language, accept_language),
    }))
}

/// The principal the guard let through.
pub struct Auth(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Auth)
            .ok_or(ApiError::Unauthenticated)
    }
}

/// The client's address, when known.
pub fn client_ip(parts: &Parts) -> Option<std::net::IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}
