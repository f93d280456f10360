//! The dashboard: server-rendered pages with auto-escaping templates and a
//! live channel (server-sent events). No front-end build step.

mod admin;
mod deliveries;
mod feedback;
pub mod i18n;
mod incidents;
mod login;
mod mail;
mod overview;
mod playbooks;
mod response;
mod security;
mod signals;
mod subscribers;
mod templates;
mod tickets;

use std::convert::Infallible;

use axum::extract::State;
use axum::http::{header, Method, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use minijinja::{context, Environment, Value};
use serde::Serialize;

use super::error::ApiError;
use super::guard::{Auth, Need, Route};
use super::AppState;
use crate::auth::Principal;
use crate::domain::{Action, DataClass, Grant};
use i18n::phrase;

/// All templates, compiled. A template that does not compile stops the
/// start (and fails the tests) rather than a page at run time.
pub fn templates() -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    i18n::register(&mut env);
    for (name, source) in [
        (
            "layout.html",
            include_str!("../../../templates/layout.html"),
        ),
        ("login.html", include_str!("../../../templates/login.html")),
        (
            "overview.html",
            include_str!("../../../templates/overview.html"),
        ),
        (
            "overview_body.html",
            include_str!("../../../templates/overview_body.html"),
        ),
        ("users.html", include_str!("../../../templates/users.html")),
        ("roles.html", include_str!("../../../templates/roles.html")),
        (
            "tokens.html",
            include_str!("../../../templates/tokens.html"),
        ),
        ("audit.html", include_str!("../../../templates/audit.html")),
        ("error.html", include_str!("../../../templates/error.html")),
        (
            "public_layout.html",
            include_str!("../../../templates/public_layout.html"),
        ),
        (
            "subscription.html",
            include_str!("../../../templates/subscription.html"),
        ),
        (
            "public_message.html",
            include_str!("../../../templates/public_message.html"),
        ),
        ("form.html", include_str!("../../../templates/form.html")),
        (
            "ticket_new.html",
            include_str!("../../../templates/ticket_new.html"),
        ),
        (
            "ticket_track.html",
            include_str!("../../../templates/ticket_track.html"),
        ),
        (
            "tickets.html",
            include_str!("../../../templates/tickets.html"),
        ),
        (
            "ticket.html",
            include_str!("../../../templates/ticket.html"),
        ),
        (
            "scorecard.html",
            include_str!("../../../templates/scorecard.html"),
        ),
        (
            "journey.html",
            include_str!("../../../templates/journey.html"),
        ),
        (
            "signals.html",
            include_str!("../../../templates/signals.html"),
        ),
        (
            "signal.html",
            include_str!("../../../templates/signal.html"),
        ),
        (
            "feedback_list.html",
            include_str!("../../../templates/feedback_list.html"),
        ),
        (
            "feedback_item.html",
            include_str!("../../../templates/feedback_item.html"),
        ),
        (
            "surveys.html",
            include_str!("../../../templates/surveys.html"),
        ),
        (
            "survey_new.html",
            include_str!("../../../templates/survey_new.html"),
        ),
        (
            "survey.html",
            include_str!("../../../templates/survey.html"),
        ),
        (
            "privacy.html",
            include_str!("../../../templates/privacy.html"),
        ),
        (
            "status.html",
            include_str!("../../../templates/status.html"),
        ),
        (
            "incidents.html",
            include_str!("../../../templates/incidents.html"),
        ),
        (
            "postmortems.html",
            include_str!("../../../templates/postmortems.html"),
        ),
        (
            "incident.html",
            include_str!("../../../templates/incident.html"),
        ),
        (
            "components.html",
            include_str!("../../../templates/components.html"),
        ),
        (
            "security.html",
            include_str!("../../../templates/security.html"),
        ),
        ("alert.html", include_str!("../../../templates/alert.html")),
        (
            "alert_sources.html",
            include_str!("../../../templates/alert_sources.html"),
        ),
        (
            "alert_source_secret.html",
            include_str!("../../../templates/alert_source_secret.html"),
        ),
        (
            "routes.html",
            include_str!("../../../templates/routes.html"),
        ),
        ("mail.html", include_str!("../../../templates/mail.html")),
        (
            "deliveries.html",
            include_str!("../../../templates/deliveries.html"),
        ),
        (
            "playbooks.html",
            include_str!("../../../templates/playbooks.html"),
        ),
        (
            "playbook.html",
            include_str!("../../../templates/playbook.html"),
        ),
        (
            "templates.html",
            include_str!("../../../templates/templates.html"),
        ),
        (
            "template.html",
            include_str!("../../../templates/template.html"),
        ),
        (
            "subscribers.html",
            include_str!("../../../templates/subscribers.html"),
        ),
        (
            "subscriber_secret.html",
            include_str!("../../../templates/subscriber_secret.html"),
        ),
        (
            "mail_message.html",
            include_str!("../../../templates/mail_message.html"),
        ),
    ] {
        env.add_template(name, source)
            .map_err(|e| anyhow::anyhow!("template {name} does not compile: {e:#}"))?;
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_compiles_and_is_registered() {
        let env = match super::templates() {
            Ok(env) => env,
            Err(e) => panic!("{e}"),
        };
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                env.get_template(&name).is_ok(),
                "{name} is not registered in templates()"
            );
        }
    }
}

/// Pages for signed-in staff, each with what it needs.
pub fn routes() -> Vec<Route> {
    let mut routes = vec![
        Route::new(Method::GET, "/", Need::SignedIn, overview::overview),
        Route::new(
            Method::GET,
            "/overview/body",
            Need::SignedIn,
            overview::overview_body,
        ),
        Route::new(Method::GET, "/events", Need::SignedIn, events),
        Route::new(Method::POST, "/logout", Need::SignedIn, login::logout),
        Route::new(Method::POST, "/language", Need::SignedIn, language),
    ];
    routes.extend(feedback::routes());
    routes.extend(signals::routes());
    routes.extend(security::routes());
    routes.extend(incidents::routes());
    routes.extend(response::routes());
    routes.extend(tickets::routes());
    routes.extend(admin::routes());
    routes.extend(mail::routes());
    routes.extend(deliveries::routes());
    routes.extend(subscribers::routes());
    routes.extend(templates::routes());
    routes.extend(playbooks::routes());
    routes
}

/// Pages anyone may load.
pub fn public_routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login::form).post(login::submit))
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("../../../static/app.css"),
    )
}

async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("../../../static/app.js"),
    )
}

#[derive(Serialize)]
struct NavItem {
    href: &'static str,
    label: &'static str,
    current: bool,
}

/// The navigation: only what this principal may open.
fn nav(p: &Principal, current: &str, mailbox: bool) -> Vec<NavItem> {
    let settings = Grant::new(DataClass::Settings, Action::View);
    let audit = Grant::new(DataClass::Audit, Action::View);
    let feedback = Grant::new(DataClass::Feedback, Action::View);
    let incidents = Grant::new(DataClass::Incidents, Action::View);
    let notices = Grant::new(DataClass::Notices, Action::View);
    let alerts = Grant::new(DataClass::SecurityAlerts, Action::View);
    let tickets = Grant::new(DataClass::Tickets, Action::View);
    let reports = Grant::new(DataClass::Reports, Action::View);
    let subscribers = Grant::new(DataClass::Subscribers, Action::View);
    [
        ("/", phrase("Overview"), None),
        ("/feedback", phrase("Feedback"), Some(feedback)),
        ("/signals", phrase("Signals"), Some(feedback)),
        ("/security", phrase("Security"), Some(alerts)),
        ("/surveys", phrase("Surveys"), Some(feedback)),
        ("/tickets", phrase("Tickets"), Some(tickets)),
        ("/incidents", phrase("Incidents"), Some(incidents)),
        ("/components", phrase("Status page"), Some(notices)),
        ("/deliveries", phrase("Deliveries"), Some(notices)),
        ("/subscribers", phrase("Subscribers"), Some(subscribers)),
        ("/scorecard", phrase("Scorecard"), Some(reports)),
        ("/journey", phrase("Journey"), Some(reports)),
        ("/mail", phrase("Mail sent"), Some(subscribers)),
        ("/admin/users", phrase("Users"), Some(settings)),
        ("/admin/roles", phrase("Roles"), Some(settings)),
        ("/admin/tokens", phrase("API tokens"), Some(settings)),
        ("/admin/audit", phrase("Audit trail"), Some(audit)),
    ]
    .into_iter()
    .filter(|(href, _, need)| {
        need.is_none_or(|g| p.grants.contains(&g)) && (mailbox || *href != "/mail")
    })
    .map(|(href, label, _)| NavItem {
        href,
        label: i18n::t(p.language, label),
        current: href == current,
    })
    .collect()
}

/// Sends the browser to `path` (which has no query yet) with a notice to
/// show there; the notice is a phrase or a translated sentence, never
/// personal data.
pub(crate) fn redirect_with_notice(path: &str, notice: &str) -> Response {
    let notice: String = url::form_urlencoded::byte_serialize(notice.as_bytes()).collect();
    axum::response::Redirect::to(&format!("{path}?notice={notice}")).into_response()
}

/// Renders a page, as [`page`], with another status (a form shown again
/// with what is wrong is a 400).
pub(crate) fn page_with_status(
    state: &AppState,
    p: &Principal,
    status: StatusCode,
    current: &str,
    name: &str,
    ctx: Value,
) -> Response {
    let mut r = page(state, p, current, name, ctx);
    *r.status_mut() = status;
    r
}

/// Renders a page for a signed-in principal.
pub(crate) fn page(
    state: &AppState,
    p: &Principal,
    current: &str,
    name: &str,
    ctx: Value,
) -> Response {
    let base = context! {
        me => context! {
            name => p.display_name,
            role => p.role,
            language => p.preferred_language,
            signed_in => p.csrf.is_some(),
        },
        nav => nav(p, current, state.mailbox.get().is_some()),
        csrf => p.csrf.clone().unwrap_or_default(),
        lang => p.language,
        languages => i18n::LANGUAGES.iter().map(|(code, name)| context! { code, name }).collect::<Vec<_>>(),
    };
    render(state, name, context! { ..ctx, ..base })
}

/// Renders a template; a page that does not name its language gets the
/// request's (see [`i18n::current`]).
pub(crate) fn render(state: &AppState, name: &str, ctx: Value) -> Response {
    let ctx = context! { ..ctx, ..context! { lang => i18n::current() } };
    match state
        .templates
        .get_template(name)
        .and_then(|t| t.render(ctx))
    {
        Ok(html) => Html(html).into_response(),
        Err(e) => ApiError::Internal(anyhow::anyhow!("template {name}: {e}")).into_response(),
    }
}

/// An error as a page, with the status it stands for.
pub fn error_page(state: &AppState, e: ApiError) -> Response {
    let status = e.status();
    if let ApiError::Internal(inner) = &e {
        tracing::error!(error = format!("{inner:#}"), "page failed");
    }
    let heading = match status.as_u16() {
        403 => phrase("Not allowed"),
        404 => phrase("Not found"),
        429 => phrase("Too many attempts"),
        400..=499 => phrase("That did not work"),
        _ => phrase("Something went wrong"),
    };
    let mut resp = render(
        state,
        "error.html",
        context! { status => status.as_u16(), heading, detail => e.to_string() },
    );
    *resp.status_mut() = status;
    resp
}

#[derive(serde::Deserialize)]
struct LanguageForm {
    /// `en`, `zh`, or empty: follow the browser.
    #[serde(default)]
    language: String,
}

/// Stores the language the user reads the dashboard in, then goes back to
/// the page the form was on.
async fn language(
    State(state): State<AppState>,
    Auth(p): Auth,
    headers: axum::http::HeaderMap,
    axum::Form(form): axum::Form<LanguageForm>,
) -> Response {
    let chosen = i18n::supported(&form.language);
    if chosen.is_none() && !form.language.trim().is_empty() {
        return error_page(&state, ApiError::bad_request("unknown language"));
    }
    let by = p.audit("user.language", DataClass::Settings, Some(p.actor.clone()));
    if let Err(e) = state.store.set_user_language(&p.actor, chosen, by).await {
        return error_page(&state, e.into());
    }
    // Back to the same page (only its path: never another site).
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .map(|u| match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        })
        .filter(|path| path.starts_with('/') && !path.starts_with("//"))
        .unwrap_or_else(|| "/".to_owned());
    axum::response::Redirect::to(&back).into_response()
}

/// The live channel: every event the principal may see, as JSON.
async fn events(
    State(state): State<AppState>,
    Auth(p): Auth,
) -> Sse<impl futures_util::Stream<Item = Result<SseEvent, Infallible>>> {
    use futures_util::StreamExt;
    let mut closing = state.closing.subscribe();
    let stream = tokio_stream::wrappers::BroadcastStream::new(state.events.subscribe())
        .filter_map(move |ev| {
            futures_util::future::ready(match ev {
                Ok(ev) if p.can(ev.class, Action::View) => SseEvent::default().json_data(&ev).ok(),
                _ => None,
            })
        })
        .map(Ok)
        .take_until(async move {
            let _ = closing.wait_for(|c| *c).await;
        });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
