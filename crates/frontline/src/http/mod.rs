//! The HTTP surface: `/api/v1` JSON, the dashboard, operations endpoints.

pub mod api;
pub mod dashboard;
pub mod error;
pub mod guard;
pub mod hooks;
pub mod openapi;
mod ops;
pub mod public;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::auth::LoginThrottle;
use crate::config::Config;
use crate::events::EventBus;
use crate::metrics::Metrics;
use crate::storage::Store;
use error::ApiError;
use guard::Audience;

/// What every handler can reach. One `Arc`: the router and every layer
/// clone the state per request, and one reference count is far cheaper
/// to touch from both cores than one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct Shared {
    pub store: Store,
    pub config: Arc<Config>,
    pub events: EventBus,
    pub throttle: LoginThrottle,
    pub metrics: Arc<Metrics>,
    pub templates: Arc<minijinja::Environment<'static>>,
    /// Flips to true when the server begins to shut down, so that
    /// long-lived responses (the live channel) end and shutdown completes.
    pub closing: Arc<tokio::sync::watch::Sender<bool>>,
    pub intake: crate::intake::Intake,
    /// Security alerts in: the sources (cached) and the group-commit writer.
    pub alert_sources: crate::alerts::Sources,
    pub alerts: crate::alerts::AlertWriter,
    /// Limits what one client address may submit to public forms.
    pub public_throttle: Arc<governor::DefaultKeyedRateLimiter<std::net::IpAddr>>,
    /// Limits sign-ups per email address (keyed by its blind index).
    pub signup_throttle: Arc<governor::DefaultKeyedRateLimiter<String>>,
    /// Background tasks that must finish (and save) before the database
    /// closes at shutdown.
    pub background: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    /// Rendered public status pages and JSON, kept until something they
    /// show changes.
    pub public_cache: Arc<public::PublicCache>,
    /// The local mail catcher the demo sends through, shown in the
    /// dashboard; unset when mail goes to a real SMTP server.
    pub mailbox: std::sync::OnceLock<Arc<crate::notify::catcher::MailCatcher>>,
}

impl AppState {
    /// Waits (up to `grace`) for the background tasks to finish.
    pub async fn finish_background(&self, grace: std::time::Duration) {
        let tasks: Vec<_> = match self.background.lock() {
            Ok(mut t) => t.drain(..).collect(),
            Err(_) => return,
        };
        for t in tasks {
            if tokio::time::timeout(grace, t).await.is_err() {
                tracing::warn!("a background task did not finish in time");
            }
        }
    }

    pub fn new(store: Store, config: Config) -> anyhow::Result<Self> {
        let ring = config.key_ring()?;
        let events = EventBus::new(1024);
        let closing = Arc::new(tokio::sync::watch::channel(false).0);
        let (correlator, correlator_task) = crate::alerts::Correlator::start(
            store.clone(),
            events.clone(),
            config.alerts.correlation_window_minutes,
            closing.subscribe(),
        );
        let (watcher, watcher_task) = crate::signals::Watcher::start(
            store.clone(),
            events.clone(),
            Some(correlator.clone()),
            closing.subscribe(),
        );
        let ring = Arc::new(ring);
        let intake = crate::intake::Intake::start(
            store.clone(),
            ring.clone(),
            config.intake.max_batch,
            Some(watcher),
            crate::lexicon::Lexicons::default(),
        );
        let alert_sources = crate::alerts::Sources::new(store.clone(), ring);
        let alerts = crate::alerts::AlertWriter::start(
            store.clone(),
            events.clone(),
            correlator,
            config.alerts.max_batch,
        );
        let per_minute = std::num::NonZeroU32::new(config.intake.public_per_minute_per_address)
            .unwrap_or(std::num::NonZeroU32::MIN);
        let public_throttle = Arc::new(governor::RateLimiter::keyed(governor::Quota::per_minute(
            per_minute,
        )));
        let per_hour = std::num::NonZeroU32::new(config.notify.signups_per_hour_per_recipient)
            .unwrap_or(std::num::NonZeroU32::MIN);
        let signup_throttle = Arc::new(governor::RateLimiter::keyed(governor::Quota::per_hour(
            per_hour,
        )));
        let throttle = LoginThrottle::new(
            config.auth.login_attempts_per_minute_per_account,
            config.auth.login_attempts_per_minute_per_address,
        );
        Ok(Self(Arc::new(Shared {
            intake,
            alert_sources,
            alerts,
            public_throttle,
            signup_throttle,
            store,
            config: Arc::new(config),
            events,
            throttle,
            metrics: Arc::new(Metrics::default()),
            templates: Arc::new(dashboard::templates()?),
            closing,
            background: Arc::new(std::sync::Mutex::new(vec![watcher_task, correlator_task])),
            public_cache: Arc::default(),
            mailbox: std::sync::OnceLock::new(),
        })))
    }
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'";

/// The whole application.
pub fn router(state: AppState) -> Router {
    let mut app = Router::new();
    let mut api_routes = api::routes();
    let openapi = Arc::new(openapi::document(&api_routes));
    for route in api_routes.drain(..) {
        let path = route.path;
        app = app.route(path, route.guarded(&state, Audience::Api));
    }
    for route in dashboard::routes() {
        let path = route.path;
        app = app.route(path, route.guarded(&state, Audience::Page));
    }
    let timeout = Duration::from_secs(state.config.http.request_timeout_secs);
    let limit = state.config.http.body_limit_bytes;
    app.merge(dashboard::public_routes())
        .merge(public::routes())
        .merge(hooks::routes())
        .merge(ops::routes())
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(DefaultBodyLimit::max(limit))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        .layer(header_layer(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header_layer(header::REFERRER_POLICY, "no-referrer"))
        .layer(header_layer(
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        ))
        .layer(header_layer(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
        .with_state(state)
}

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

async fn not_found(State(state): State<AppState>, req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        ApiError::NotFound("route").into_response()
    } else {
        dashboard::error_page(&state, ApiError::NotFound("page"))
    }
}

/// Counts and times each request, and logs it by route pattern: concrete
/// paths and queries may carry identifiers or search terms.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    let status = resp.status();
    let secs = start.elapsed().as_secs_f64();
    state
        .metrics
        .observe(&method, &route, status.as_u16(), secs);
    if status.is_server_error() {
        tracing::warn!(%method, %route, status = status.as_u16(), ms = secs * 1e3, "request");
    } else {
        tracing::debug!(%method, %route, status = status.as_u16(), ms = secs * 1e3, "request");
    }
    resp
}

/// Serves until `shutdown` completes, then finishes in-flight requests.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
