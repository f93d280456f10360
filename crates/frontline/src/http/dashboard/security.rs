//! The Security view: alerts and signals on one timeline, newest first,
//! correlated pairs highlighted, open suggestions with their "Open
//! incident" button; an alert's page; the alert sources; the routes that
//! send warnings out, with their attempts and a "Send test" button.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::i18n::{self, phrase};
use super::{error_page, page};
use crate::alerts::ComponentRule;
use crate::domain::{Action, DataClass, Grant};
use crate::http::api::alerts::{
    accept_suggestion, add_source, dismiss_suggestion, rotate, AcceptBody, NewSourceBody,
};
use crate::http::error::ApiError;
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;

const VIEW: Need = Need::Grant(Grant::new(DataClass::SecurityAlerts, Action::View));
const STORE: Need = Need::Grant(Grant::new(DataClass::SecurityAlerts, Action::Store));
const MODIFY: Need = Need::Grant(Grant::new(DataClass::SecurityAlerts, Action::Modify));

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/security", VIEW, timeline),
        Route::new(Method::GET, "/security/alerts/{id}", VIEW, alert),
        Route::new(Method::GET, "/security/sources", VIEW, sources),
        Route::new(Method::POST, "/security/sources", STORE, create_source),
        Route::new(
            Method::POST,
            "/security/sources/{id}/rotate",
            MODIFY,
            rotate_source,
        ),
        Route::new(Method::GET, "/security/routes", VIEW, routes_page),
        Route::new(Method::POST, "/security/routes", STORE, create_route),
        Route::new(
            Method::POST,
            "/security/routes/{id}/test",
            MODIFY,
            test_route,
        ),
        Route::new(
            Method::POST,
            "/security/routes/{id}/enabled",
            MODIFY,
            enable_route,
        ),
        Route::new(
            Method::POST,
            "/security/suggestions/{id}/accept",
            MODIFY,
            accept,
        ),
        Route::new(
            Method::POST,
            "/security/suggestions/{id}/dismiss",
            MODIFY,
            dismiss,
        ),
    ]
}

/// One line of the timeline: an alert or a signal.
#[derive(Serialize)]
struct Entry {
    at: String,
    kind: &'static str,
    id: String,
    title: String,
    detail: String,
    status: String,
    /// Suggestions it is linked to: highlighted as correlated.
    suggestions: Vec<String>,
}

async fn timeline(State(state): State<AppState>, Auth(p): Auth) -> Response {
    let lang = p.language;
    let result = async {
        let links = state.store.suggestion_links().await?;
        let mut entries: Vec<Entry> = state
            .store
            .list_security_alerts(None, None, None, 100)
            .await?
            .into_iter()
            .map(|a| Entry {
                at: a.started_at.clone(),
                kind: "alert",
                detail: format!(
                    "{} · {} · {}{}",
                    a.source_name,
                    i18n::t(lang, a.severity.as_str()),
                    a.component
                        .as_deref()
                        .unwrap_or(i18n::t(lang, phrase("no component"))),
                    a.region
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                ),
                status: a.status.to_string(),
                suggestions: links.get(&a.id).cloned().unwrap_or_default(),
                title: a.title,
                id: a.id,
            })
            .collect();
        // Signals are feedback: only for those who may see it.
        if p.can(DataClass::Feedback, Action::View) {
            for s in state.store.list_signals(None, 50).await? {
                entries.push(Entry {
                    at: s.started_at.clone(),
                    kind: "signal",
                    detail: format!(
                        "{} · {}",
                        i18n::t(lang, phrase("customers")),
                        i18n::tf(
                            lang,
                            phrase("{observed} reports, {expected} expected"),
                            &[
                                ("observed", &format!("{:.0}", s.observed_total)),
                                ("expected", &format!("{:.1}", s.expected_total)),
                            ],
                        )
                    ),
                    status: s.status.clone(),
                    suggestions: links.get(&s.id).cloned().unwrap_or_default(),
                    title: s.title,
                    id: s.id,
                });
            }
        }
        entries.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| b.id.cmp(&a.id)));
        let suggestions = state.store.list_suggestions(Some("open"), 20).await?;
        Ok::<_, ApiError>((entries, suggestions))
    }
    .await;
    match result {
        Ok((entries, suggestions)) => page(
            &state,
            &p,
            "/security",
            "security.html",
            context! {
                entries, suggestions,
                can_modify => p.can(DataClass::SecurityAlerts, Action::Modify),
                can_open => p.can(DataClass::SecurityAlerts, Action::Modify) && p.can(DataClass::Incidents, Action::Store),
            },
        ),
        Err(e) => error_page(&state, e),
    }
}

async fn alert(State(state): State<AppState>, Auth(p): Auth, Path(id): Path<String>) -> Response {
    let result = async {
        let alert = state
            .store
            .security_alert(&id)
            .await?
            .ok_or(ApiError::NotFound("alert"))?;
        let links = state.store.suggestion_links().await?;
        let mut suggestions = Vec::new();
        for sid in links.get(&id).cloned().unwrap_or_default() {
            if let Some(s) = state.store.suggestion(&sid).await? {
                suggestions.push(s);
            }
        }
        Ok::<_, ApiError>((alert, suggestions))
    }
    .await;
    match result {
        Ok((alert, suggestions)) => page(
            &state,
            &p,
            "/security",
            "alert.html",
            context! { alert, suggestions },
        ),
        Err(e) => error_page(&state, e),
    }
}

async fn sources(State(state): State<AppState>, Auth(p): Auth) -> Response {
    match state.store.list_alert_sources().await {
        Ok(sources) => page(
            &state,
            &p,
            "/security",
            "alert_sources.html",
            context! {
                sources,
                public_url => state.config.http.public_url.trim_end_matches('/'),
                can_store => p.can(DataClass::SecurityAlerts, Action::Store),
                can_modify => p.can(DataClass::SecurityAlerts, Action::Modify),
            },
        ),
        Err(e) => error_page(&state, e.into()),
    }
}

#[derive(Deserialize)]
struct SourceForm {
    name: String,
    kind: String,
    auth: String,
    #[serde(default)]
    signature_header: String,
    #[serde(default)]
    timestamp_header: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    equals: String,
    #[serde(default)]
    component: String,
    #[serde(default)]
    region: String,
}

fn show_secret(
    state: &AppState,
    p: &crate::auth::Principal,
    s: crate::http::api::alerts::SourceSecret,
) -> Response {
    page(
        state,
        p,
        "/security",
        "alert_source_secret.html",
        context! {
            source => s.source, secret => s.secret,
            public_url => state.config.http.public_url.trim_end_matches('/'),
        },
    )
}

async fn create_source(
    State(state): State<AppState>,
    Auth(p): Auth,
    Form(f): Form<SourceForm>,
) -> Response {
    let components = if f.label.trim().is_empty() {
        vec![]
    } else {
        vec![ComponentRule {
            label: f.label,
            equals: f.equals,
            component: f.component,
            region: Some(f.region).filter(|r| !r.trim().is_empty()),
        }]
    };
    let body = NewSourceBody {
        name: f.name,
        kind: f.kind,
        auth: Some(f.auth),
        signature_header: Some(f.signature_header).filter(|h| !h.trim().is_empty()),
        timestamp_header: Some(f.timestamp_header).filter(|h| !h.trim().is_empty()),
        components,
        field_map: None,
    };
    match add_source(&state, &p, &body).await {
        Ok(s) => show_secret(&state, &p, s),
        Err(e) => error_page(&state, e),
    }
}

async fn rotate_source(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Response {
    match rotate(&state, &p, &id).await {
        Ok(s) => show_secret(&state, &p, s),
        Err(e) => error_page(&state, e),
    }
}

async fn accept(State(state): State<AppState>, Auth(p): Auth, Path(id): Path<String>) -> Response {
    match accept_suggestion(&state, &p, &id, &AcceptBody::default()).await {
        Ok(a) => Redirect::to(&format!("/incidents/{}", a.incident_id)).into_response(),
        Err(e) => error_page(&state, e),
    }
}

#[derive(Deserialize)]
struct DismissForm {
    reason: String,
}

async fn dismiss(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Form(f): Form<DismissForm>,
) -> Response {
    match dismiss_suggestion(&state, &p, &id, &f.reason).await {
        Ok(_) => Redirect::to("/security").into_response(),
        Err(e) => error_page(&state, e),
    }
}

/// A route with its recent messages and attempts.
#[derive(Serialize)]
struct RouteRow {
    route: crate::notify::routes::WarningRoute,
    deliveries: crate::notify::routes::RouteDeliveries,
}

async fn render_routes(
    state: &AppState,
    p: &crate::auth::Principal,
    created: Option<crate::notify::routes::WarningRoute>,
) -> Response {
    let result = async {
        let mut rows = Vec::new();
        for route in state.store.list_routes(&state.intake.ring).await? {
            let deliveries = state.store.route_deliveries(&route.id, 10).await?;
            rows.push(RouteRow { route, deliveries });
        }
        Ok::<_, ApiError>(rows)
    }
    .await;
    match result {
        Ok(routes) => page(
            state,
            p,
            "/security",
            "routes.html",
            context! {
                routes, created,
                can_store => p.can(DataClass::SecurityAlerts, Action::Store),
                can_modify => p.can(DataClass::SecurityAlerts, Action::Modify),
            },
        ),
        Err(e) => error_page(state, e),
    }
}

async fn routes_page(State(state): State<AppState>, Auth(p): Auth) -> Response {
    render_routes(&state, &p, None).await
}

#[derive(Deserialize)]
struct RouteForm {
    name: String,
    kind: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    routing_key: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    min_severity: String,
    #[serde(default)]
    topics: String,
    #[serde(default)]
    components: String,
    #[serde(default)]
    signal_opened: Option<String>,
    #[serde(default)]
    suggestion_opened: Option<String>,
    #[serde(default)]
    incident_overdue: Option<String>,
}

fn words(s: &str) -> Option<Vec<String>> {
    let list: Vec<String> = s
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    Some(list)
}

async fn create_route(
    State(state): State<AppState>,
    Auth(p): Auth,
    Form(f): Form<RouteForm>,
) -> Response {
    let some = |s: String| Some(s).filter(|s| !s.trim().is_empty());
    let events: Vec<String> = [
        ("signal.opened", f.signal_opened.is_some()),
        ("suggestion.opened", f.suggestion_opened.is_some()),
        ("incident.overdue", f.incident_overdue.is_some()),
    ]
    .into_iter()
    .filter(|(_, on)| *on)
    .map(|(e, _)| e.to_owned())
    .collect();
    let body = crate::http::api::routes::NewRouteBody {
        name: f.name,
        kind: f.kind,
        url: some(f.url),
        routing_key: some(f.routing_key),
        address: some(f.address),
        events: Some(events),
        min_severity: some(f.min_severity),
        topics: words(&f.topics),
        components: words(&f.components),
    };
    match crate::http::api::routes::add_route(&state, &p, &body).await {
        Ok(r) => render_routes(&state, &p, Some(r)).await,
        Err(e) => error_page(&state, e),
    }
}

async fn test_route(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Response {
    match crate::http::api::routes::queue_test(&state, &p, &id).await {
        Ok(_) => Redirect::to(&format!("/security/routes#{id}")).into_response(),
        Err(e) => error_page(&state, e),
    }
}

#[derive(Deserialize)]
struct EnableForm {
    enabled: String,
}

async fn enable_route(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Form(f): Form<EnableForm>,
) -> Response {
    match crate::http::api::routes::set_enabled(&state, &p, &id, f.enabled == "true").await {
        Ok(_) => Redirect::to(&format!("/security/routes#{id}")).into_response(),
        Err(e) => error_page(&state, e),
    }
}
