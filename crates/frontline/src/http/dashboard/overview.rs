//! The overview: one screen for the frontline. Key figures, the last hour
//! of feedback per topic against what the detector expected, open signals,
//! firing security alerts and suggestions, open incidents with their next
//! update, and delivery health; each part only for those whose grants let
//! them see it, each number a link to its items, and the actions that can
//! be taken from here (acknowledge, open an incident, publish an approved
//! update). The body is re-read when an event says something changed.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::Response;
use minijinja::{context, Value};
use serde::Serialize;

use super::i18n::{self, phrase};
use super::{error_page, page, render};
use crate::alerts::AlertStatus;
use crate::auth::Principal;
use crate::domain::{Action, DataClass};
use crate::http::error::ApiError;
use crate::http::guard::Auth;
use crate::http::AppState;
use crate::scorecard::{self, Grain};
use crate::storage::now_ms;

/// Minutes of feedback volume charted per topic.
const CHART_MINUTES: i64 = 60;
const CHART_W: f64 = 240.0;
const CHART_H: f64 = 48.0;

#[derive(Serialize)]
struct Kpi {
    label: &'static str,
    value: String,
    /// The week before, for comparison.
    before: String,
    /// up, down or flat.
    trend: &'static str,
    /// Whether the move is for the better.
    better: bool,
    href: String,
}

#[derive(Serialize)]
struct TopicChart {
    topic: String,
    total: i64,
    expected: f64,
    /// Over the usual range in some minute of the hour.
    above: bool,
    href: String,
    /// SVG: the usual range as a polygon, expected and observed as lines.
    band: String,
    expected_line: String,
    observed_line: String,
    label: String,
}

#[derive(Serialize)]
struct ReadyUpdate {
    incident_id: String,
    update_id: String,
    body: String,
}

fn fmt(v: Option<f64>, unit: &str) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}{unit}"))
}

fn kpi(
    label: &'static str,
    now: Option<f64>,
    before: Option<f64>,
    unit: &str,
    higher_is_better: bool,
    href: String,
) -> Kpi {
    let (trend, better) = match (now, before) {
        (Some(a), Some(b)) if (a - b).abs() >= 0.05 => {
            let up = a > b;
            (if up { "up" } else { "down" }, up == higher_is_better)
        }
        _ => ("flat", true),
    };
    Kpi {
        label,
        value: fmt(now, unit),
        before: fmt(before, unit),
        trend,
        better,
        href,
    }
}

/// A key figure: its label, how to read it from a scorecard row, its unit,
/// whether higher is better, and where its items are.
type Figure = (
    &'static str,
    fn(&scorecard::Row) -> Option<f64>,
    &'static str,
    bool,
    &'static str,
);

/// The last seven days against the seven before.
async fn kpis(state: &AppState, answers: bool) -> Result<Vec<Kpi>, ApiError> {
    let today = chrono::Utc::now().date_naive();
    let week = chrono::Days::new(6);
    let this_from = today.checked_sub_days(week).unwrap_or(today);
    let last_to = this_from.pred_opt().unwrap_or(this_from);
    let last_from = last_to.checked_sub_days(week).unwrap_or(last_to);
    let now = scorecard::build(&state.store, this_from, today, Grain::Week, "all").await?;
    let before = scorecard::build(&state.store, last_from, last_to, Grain::Week, "all").await?;
    let (a, b) = (now.totals.first(), before.totals.first());
    let both = |f: fn(&scorecard::Row) -> Option<f64>| (a.and_then(f), b.and_then(f));
    let figures: [Figure; 6] = [
        (phrase("NPS"), |r| r.nps, "", true, "/feedback?kind=nps"),
        (phrase("CSAT"), |r| r.csat, "%", true, "/feedback?kind=csat"),
        (
            phrase("CES (mean)"),
            |r| r.ces_mean,
            "",
            true,
            "/feedback?kind=ces",
        ),
        (
            phrase("First response (median)"),
            |r| r.first_response.median_hours,
            " h",
            false,
            "/scorecard",
        ),
        (
            phrase("SLA first response"),
            |r| r.sla_first_response,
            "%",
            true,
            "/scorecard",
        ),
        (
            phrase("Backlog"),
            |r| Some(r.backlog as f64),
            "",
            false,
            "/tickets",
        ),
    ];
    Ok(figures
        .into_iter()
        .map(|(label, f, unit, higher, href)| {
            let (now, before) = both(f);
            // The survey answers behind a score: that kind, this week.
            // (Those who may not read feedback get the scorecard.)
            let href = if !href.starts_with("/feedback") {
                href.to_owned()
            } else if answers {
                format!("{href}&since={this_from}T00:00:00Z")
            } else {
                "/scorecard".to_owned()
            };
            kpi(label, now, before, unit, higher, href)
        })
        .collect())
}

fn points(values: &[f64], top: f64) -> String {
    let step = CHART_W / (values.len().max(2) - 1) as f64;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let y = CHART_H - (v / top * (CHART_H - 2.0)).clamp(0.0, CHART_H);
            format!("{:.1},{:.1}", i as f64 * step, y)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Each topic's last hour, minute by minute, with the detector's band.
async fn topics(state: &AppState, lang: &str) -> Result<Vec<TopicChart>, ApiError> {
    let now_min = now_ms().div_euclid(60_000);
    let from = now_min - CHART_MINUTES + 1;
    let counts = state
        .store
        .topic_minutes(from * 60_000, (now_min + 1) * 60_000)
        .await?;
    let mut out = Vec::new();
    for (topic, per_minute) in counts {
        let band = state
            .store
            .band(&format!("topic={topic}"), from, now_min + 1)
            .await?;
        let band: BTreeMap<i64, (f64, f64)> = band
            .into_iter()
            .map(|p| (p.minute, (p.expected, p.upper)))
            .collect();
        let minutes: Vec<i64> = (from..=now_min).collect();
        let observed: Vec<f64> = minutes
            .iter()
            .map(|m| per_minute.get(m).copied().unwrap_or(0) as f64)
            .collect();
        let expected: Vec<f64> = minutes
            .iter()
            .map(|m| band.get(m).map_or(0.0, |b| b.0))
            .collect();
        let upper: Vec<f64> = minutes
            .iter()
            .map(|m| band.get(m).map_or(0.0, |b| b.1))
            .collect();
        let top = observed
            .iter()
            .chain(upper.iter())
            .copied()
            .fold(1.0_f64, f64::max);
        let above = minutes
            .iter()
            .zip(&observed)
            .any(|(m, o)| band.get(m).is_some_and(|b| *o > b.1));
        let total: i64 = per_minute.values().sum();
        let expected_total: f64 = expected.iter().sum();
        let mut polygon = points(&upper, top);
        let lower: Vec<String> = points(&expected, top)
            .split(' ')
            .rev()
            .map(str::to_owned)
            .collect();
        polygon.push(' ');
        polygon.push_str(&lower.join(" "));
        out.push(TopicChart {
            label: i18n::tf(
                lang,
                if above {
                    phrase("{topic}: {total} in the last hour, about {expected} expected, above the usual range")
                } else {
                    phrase("{topic}: {total} in the last hour, about {expected} expected")
                },
                &[
                    ("topic", &i18n::t(lang, &topic).replace('_', " ")),
                    ("total", &total),
                    ("expected", &format!("{expected_total:.0}")),
                ],
            ),
            href: format!(
                "/feedback?topic={topic}&since={}",
                crate::storage::users::rfc3339(from * 60_000)
            ),
            topic,
            total,
            expected: expected_total,
            above,
            band: if band.is_empty() {
                String::new()
            } else {
                polygon
            },
            expected_line: if band.is_empty() {
                String::new()
            } else {
                points(&expected, top)
            },
            observed_line: points(&observed, top),
        });
    }
    // Busiest first, those above their range before all others.
    out.sort_by(|a, b| b.above.cmp(&a.above).then(b.total.cmp(&a.total)));
    Ok(out)
}

/// Everything the overview shows this principal.
async fn body(state: &AppState, p: &Principal) -> Result<Value, ApiError> {
    let kpis = if p.can(DataClass::Reports, Action::View) {
        Some(kpis(state, p.can(DataClass::Feedback, Action::View)).await?)
    } else {
        None
    };
    let see_feedback = p.can(DataClass::Feedback, Action::View);
    let (topics, signals) = if see_feedback {
        let mut signals = state.store.list_signals(Some("open"), 20).await?;
        signals.extend(state.store.list_signals(Some("acknowledged"), 20).await?);
        (Some(topics(state, p.language).await?), Some(signals))
    } else {
        (None, None)
    };
    let (alerts, suggestions) = if p.can(DataClass::SecurityAlerts, Action::View) {
        (
            Some(
                state
                    .store
                    .list_security_alerts(Some(AlertStatus::Firing), None, None, 10)
                    .await?,
            ),
            Some(state.store.list_suggestions(Some("open"), 10).await?),
        )
    } else {
        (None, None)
    };
    let (incidents, ready) = if p.can(DataClass::Incidents, Action::View) {
        let open = state.store.list_incidents(true, 50).await?;
        let mut ready = Vec::new();
        if p.can(DataClass::Notices, Action::Modify) {
            for i in &open {
                for u in state.store.incident_updates(i).await? {
                    if u.state == "draft" && u.approvals_missing.is_empty() {
                        ready.push(ReadyUpdate {
                            incident_id: i.id.clone(),
                            update_id: u.id,
                            body: u.body.chars().take(140).collect(),
                        });
                    }
                }
            }
        }
        (Some(open), Some(ready))
    } else {
        (None, None)
    };
    let delivery = if p.can(DataClass::Notices, Action::View) {
        Some(
            state
                .store
                .delivery_health(now_ms() - 24 * 3_600_000)
                .await?,
        )
    } else {
        None
    };
    let overdue = incidents
        .as_ref()
        .map_or(0, |l| l.iter().filter(|i| i.overdue).count());
    let due: BTreeMap<String, i64> = incidents
        .iter()
        .flatten()
        .filter_map(|i| i.next_update_due.map(|t| (i.id.clone(), t.0)))
        .collect();
    Ok(context! {
        kpis, topics, signals, alerts, suggestions, incidents, ready, delivery, overdue, due,
        now => now_ms(),
        chart_w => CHART_W, chart_h => CHART_H,
        can_ack => p.can(DataClass::Feedback, Action::Modify),
        can_declare => p.can(DataClass::Incidents, Action::Store),
        can_accept => p.can(DataClass::SecurityAlerts, Action::Modify) && p.can(DataClass::Incidents, Action::Store),
        csrf => p.csrf.clone().unwrap_or_default(),
    })
}

pub(super) async fn overview(State(state): State<AppState>, Auth(p): Auth) -> Response {
    match body(&state, &p).await {
        Ok(ctx) => page(&state, &p, "/", "overview.html", ctx),
        Err(e) => error_page(&state, e),
    }
}

/// The body alone, for the live refresh.
pub(super) async fn overview_body(State(state): State<AppState>, Auth(p): Auth) -> Response {
    match body(&state, &p).await {
        Ok(ctx) => render(&state, "overview_body.html", ctx),
        Err(e) => error_page(&state, e),
    }
}
