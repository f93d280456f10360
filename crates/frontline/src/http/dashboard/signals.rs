//! Signals in the dashboard: the list, and a signal with its chart,
//! evidence and actions.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::i18n::{self, phrase};
use super::{error_page, page};
use crate::domain::{Action, DataClass, Grant};
use crate::http::error::{ApiError, ApiQuery};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::storage::signals::SeriesKey;

const VIEW: Need = Need::Grant(Grant::new(DataClass::Feedback, Action::View));
const MODIFY: Need = Need::Grant(Grant::new(DataClass::Feedback, Action::Modify));

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/signals", VIEW, list),
        Route::new(Method::GET, "/signals/{id}", VIEW, show),
        Route::new(
            Method::POST,
            "/signals/{id}/acknowledge",
            MODIFY,
            acknowledge,
        ),
        Route::new(Method::POST, "/signals/{id}/dismiss", MODIFY, dismiss),
    ]
}

#[derive(Deserialize, Default)]
struct StatusQuery {
    status: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<StatusQuery>,
) -> Response {
    let status = q
        .status
        .filter(|s| ["open", "acknowledged", "promoted", "dismissed"].contains(&s.as_str()));
    match state.store.list_signals(status.as_deref(), 100).await {
        Ok(signals) => page(
            &state,
            &p,
            "/signals",
            "signals.html",
            context! { signals, status },
        ),
        Err(e) => error_page(&state, e.into()),
    }
}

#[derive(Serialize)]
struct Bar {
    x: f64,
    y: f64,
    h: f64,
    label: String,
}

const MINUTES: i64 = 180;
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 160.0;

async fn show(State(state): State<AppState>, Auth(p): Auth, Path(id): Path<String>) -> Response {
    let result = async {
        let signal = state
            .store
            .signal(&id)
            .await?
            .ok_or(ApiError::NotFound("signal"))?;
        let evidence = state.store.signal_evidence(&signal).await?;
        let (playbooks, open_incidents) = if p.can(DataClass::Incidents, Action::Store) {
            (
                state.store.list_playbooks().await?,
                state.store.list_incidents(true, 50).await?,
            )
        } else {
            (vec![], vec![])
        };
        let fired = chrono::DateTime::parse_from_rfc3339(&signal.fired_at)
            .map(|t| t.timestamp_millis())
            .unwrap_or(0);
        let end_minute = (chrono::Utc::now().timestamp_millis().div_euclid(60_000))
            .max(fired.div_euclid(60_000) + 10);
        let start_minute = end_minute - MINUTES;
        let counts = state
            .store
            .series_minutes(
                &SeriesKey::parse(&signal.series),
                start_minute * 60_000,
                end_minute * 60_000,
            )
            .await?;
        let band = state
            .store
            .band(&signal.series, start_minute, end_minute)
            .await?;
        Ok::<_, ApiError>((
            signal,
            evidence,
            counts,
            band,
            fired,
            start_minute,
            playbooks,
            open_incidents,
        ))
    }
    .await;
    let (signal, evidence, counts, band, fired, start_minute, playbooks, open_incidents) =
        match result {
            Ok(r) => r,
            Err(e) => return error_page(&state, e),
        };
    let max = counts
        .iter()
        .map(|(_, n)| *n as f64)
        .fold(signal.upper_bound.max(signal.observed).max(1.0), f64::max);
    let max = band.iter().map(|b| b.upper).fold(max, f64::max);
    let scale = (HEIGHT - 10.0) / max;
    let bar = WIDTH / MINUTES as f64;
    let bars: Vec<Bar> = counts
        .iter()
        .map(|(m, n)| {
            let h = *n as f64 * scale;
            let at = chrono::DateTime::from_timestamp(m * 60, 0)
                .map(|t| t.format("%H:%M").to_string())
                .unwrap_or_default();
            Bar {
                x: (m - start_minute) as f64 * bar,
                y: HEIGHT - h,
                h,
                label: format!("{at}: {n}"),
            }
        })
        .collect();
    let fired_minute = fired.div_euclid(60_000);
    // The usual range over time: expected +- 3 sd (the detector's upper
    // bound), counts never below 0.
    let x_of = |m: i64| (m - start_minute) as f64 * bar + bar / 2.0;
    let y_of = |v: f64| HEIGHT - v.max(0.0) * scale;
    let expected_line: Vec<String> = band
        .iter()
        .map(|b| format!("{:.1},{:.1}", x_of(b.minute), y_of(b.expected)))
        .collect();
    let band_area: Vec<String> = band
        .iter()
        .map(|b| format!("{:.1},{:.1}", x_of(b.minute), y_of(b.upper)))
        .chain(band.iter().rev().map(|b| {
            format!(
                "{:.1},{:.1}",
                x_of(b.minute),
                y_of(2.0 * b.expected - b.upper)
            )
        }))
        .collect();
    let chart = context! {
        expected_line => expected_line.join(" "),
        band_area => band_area.join(" "),
        minutes => MINUTES, width => WIDTH, height => HEIGHT, bar => (bar - 0.5).max(0.5), bars,
        expected_y => HEIGHT - signal.expected * scale,
        upper_y => HEIGHT - signal.upper_bound * scale,
        fired_x => (fired_minute >= start_minute).then(|| (fired_minute - start_minute) as f64 * bar),
        label => i18n::tf(
            p.language,
            phrase("{observed} reports since the rise began against {expected} expected"),
            &[("observed", &signal.observed_total), ("expected", &format!("{:.1}", signal.expected_total))],
        ),
    };
    page(
        &state,
        &p,
        "/signals",
        "signal.html",
        context! {
            signal, evidence, chart, playbooks, open_incidents,
            can_modify => p.can(DataClass::Feedback, Action::Modify),
            can_declare => p.can(DataClass::Incidents, Action::Store),
            severities => ["SEV1", "SEV2", "SEV3", "SEV4"],
        },
    )
}

async fn set(
    state: &AppState,
    p: &crate::auth::Principal,
    id: &str,
    status: &str,
    note: Option<&str>,
) -> Response {
    match state
        .store
        .set_signal_status(
            id,
            status,
            note,
            p.audit("signal", DataClass::Feedback, Some(id.to_owned())),
        )
        .await
    {
        Ok(s) => {
            state.events.publish(
                &format!("signal.{status}"),
                DataClass::Feedback,
                serde_json::json!({ "id": s.id, "status": s.status }),
            );
            Redirect::to(&format!("/signals/{id}")).into_response()
        }
        Err(crate::storage::StoreError::NotFound) => {
            error_page(state, ApiError::NotFound("open signal"))
        }
        Err(e) => error_page(state, e.into()),
    }
}

async fn acknowledge(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Response {
    set(&state, &p, &id, "acknowledged", None).await
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
    let reason = f.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return error_page(
            &state,
            crate::domain::DomainError::invalid("reason", "say why, in 1-500 characters").into(),
        );
    }
    set(&state, &p, &id, "dismissed", Some(reason)).await
}
