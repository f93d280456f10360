//! Ticket pages (the queue, one ticket with its history and forms to reply,
//! note, change state and assignment; its contact masked until a deliberate,
//! audited click), the scorecard with server-rendered
//! SVG charts, and the journey view.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::i18n::phrase;
use super::{error_page, page};
use crate::domain::ticket::{Priority, TicketStatus};
use crate::domain::{Action, DataClass, Grant};
use crate::http::api::tickets::{
    parse_change, parse_filter, parse_range, post_message, publish_events, refusal, view_contact,
    ChangeTicketBody, ListQuery, ScorecardQuery,
};
use crate::http::error::{ApiError, ApiQuery};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::scorecard::Row;
use crate::storage::tickets::Author;

const fn need(class: DataClass, action: Action) -> Need {
    Need::Grant(Grant::new(class, action))
}

pub fn routes() -> Vec<Route> {
    let t = DataClass::Tickets;
    vec![
        Route::new(Method::GET, "/tickets", need(t, Action::View), queue),
        Route::new(Method::GET, "/tickets/{id}", need(t, Action::View), show),
        // The handler also asks for contact:view: the ticket is the page's
        // data class, the contact the one opened.
        Route::new(
            Method::POST,
            "/tickets/{id}/reveal",
            need(t, Action::View),
            reveal,
        ),
        Route::new(
            Method::POST,
            "/tickets/{id}/reply",
            need(t, Action::Modify),
            reply,
        ),
        Route::new(
            Method::POST,
            "/tickets/{id}/note",
            need(t, Action::Modify),
            note,
        ),
        Route::new(
            Method::POST,
            "/tickets/{id}/update",
            need(t, Action::Modify),
            update,
        ),
        Route::new(
            Method::GET,
            "/scorecard",
            need(DataClass::Reports, Action::View),
            scorecard,
        ),
        Route::new(
            Method::POST,
            "/scorecard/weekly-report",
            need(DataClass::Reports, Action::View),
            weekly_subscription,
        ),
        Route::new(
            Method::POST,
            "/scorecard/stakeholders",
            need(DataClass::Settings, Action::Modify),
            weekly_stakeholder,
        ),
        Route::new(
            Method::GET,
            "/journey",
            need(DataClass::Reports, Action::View),
            journey,
        ),
        Route::new(
            Method::POST,
            "/journey/stages",
            need(DataClass::Settings, Action::Store),
            define_stage,
        ),
    ]
}

fn words<T: Copy>(all: &[T], f: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| f(*v)).collect()
}

#[derive(Deserialize, Default)]
struct QueueForm {
    status: Option<String>,
    priority: Option<String>,
    assignee_id: Option<String>,
    /// "1": due within the hour or overdue.
    breaching: Option<String>,
}

async fn staff(state: &AppState) -> Result<BTreeMap<String, String>, ApiError> {
    Ok(state
        .store
        .list_users()
        .await?
        .into_iter()
        .map(|u| (u.id.to_string(), u.name))
        .collect())
}

async fn queue(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<QueueForm>,
) -> Response {
    let result = async {
        let breaching = q.breaching.as_deref() == Some("1");
        let lq = ListQuery {
            status: q.status.clone(),
            active: q.status.as_deref().is_none_or(str::is_empty),
            priority: q.priority.clone(),
            assignee_id: q.assignee_id.clone(),
            group: None,
            incident_id: None,
            breaching_within_mins: breaching.then_some(60),
            cursor: None,
            limit: Some(200),
        };
        let tickets = state.store.list_tickets(&parse_filter(&lq)?).await?;
        let names = staff(&state).await?;
        let tickets: Vec<_> = tickets
            .into_iter()
            .map(|t| {
                let assignee = t.assignee_id.as_ref().and_then(|a| names.get(a)).cloned();
                context! { t, assignee }
            })
            .collect();
        let users: Vec<_> = names
            .iter()
            .map(|(id, name)| context! { id, name })
            .collect();
        Ok::<_, ApiError>(page(
            &state,
            &p,
            "/tickets",
            "tickets.html",
            context! {
                tickets, users, breaching,
                status => q.status, priority => q.priority, assignee_id => q.assignee_id,
                statuses => words(TicketStatus::ALL, TicketStatus::as_str),
                priorities => words(Priority::ALL, Priority::as_str),
            },
        ))
    }
    .await;
    result.unwrap_or_else(|e| error_page(&state, e))
}

#[derive(Deserialize, Default)]
struct Notice {
    notice: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiQuery(n): ApiQuery<Notice>,
) -> Response {
    ticket_page(&state, &p, &id, n.notice, false).await
}

/// The same page with the contact opened in full, for `contact:view` only;
/// the look is audited (`contact.view`, as on the feedback item page).
async fn reveal(State(state): State<AppState>, Auth(p): Auth, Path(id): Path<String>) -> Response {
    if !p.can(DataClass::Contact, Action::View) {
        return error_page(
            &state,
            ApiError::Forbidden(Grant::new(DataClass::Contact, Action::View)),
        );
    }
    ticket_page(&state, &p, &id, None, true).await
}

/// Without a deliberate click the contact is shown masked, and nothing is
/// audited.
async fn ticket_page(
    state: &AppState,
    p: &crate::auth::Principal,
    id: &str,
    notice: Option<String>,
    reveal: bool,
) -> Response {
    let result = async {
        let v = view_contact(state, p, id, reveal).await?;
        let events = state.store.ticket_events(id, false).await?;
        let names = staff(state).await?;
        let who = |a: &str| match a {
            "public" | "customer" => super::i18n::t(p.language, phrase("Customer")).to_owned(),
            "system" => "Frontline".to_owned(),
            other => names
                .get(other)
                .cloned()
                .unwrap_or_else(|| other.to_owned()),
        };
        let events: Vec<_> = events
            .into_iter()
            .map(|e| {
                let by = who(&e.actor);
                context! { e, by }
            })
            .collect();
        let users: Vec<_> = names
            .iter()
            .map(|(id, name)| context! { id, name })
            .collect();
        let next = words(&v.ticket.status.next(), TicketStatus::as_str);
        Ok::<_, ApiError>(page(
            state,
            p,
            "/tickets",
            "ticket.html",
            context! {
                t => v.ticket, contact => v.contact, events, users, next, notice,
                priorities => words(Priority::ALL, Priority::as_str),
                can_modify => p.can(DataClass::Tickets, Action::Modify),
                can_reveal => p.can(DataClass::Contact, Action::View),
            },
        ))
    }
    .await;
    result.unwrap_or_else(|e| error_page(state, e))
}

fn back(id: &str, notice: &str) -> Response {
    let notice: String = url::form_urlencoded::byte_serialize(notice.as_bytes()).collect();
    Redirect::to(&format!("/tickets/{id}?notice={notice}")).into_response()
}

#[derive(Deserialize)]
struct ReplyForm {
    body: String,
    #[serde(default)]
    status: String,
}

async fn reply(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Form(f): Form<ReplyForm>,
) -> Response {
    match post_message(&state, &p, &id, Author::Agent, &f.body, Some(&f.status)).await {
        Ok(_) => back(&id, phrase("Reply sent.")),
        Err(e) => error_page(&state, e),
    }
}

#[derive(Deserialize)]
struct NoteForm {
    body: String,
}

async fn note(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Form(f): Form<NoteForm>,
) -> Response {
    match post_message(&state, &p, &id, Author::Note, &f.body, None).await {
        Ok(_) => back(&id, phrase("Internal note added.")),
        Err(e) => error_page(&state, e),
    }
}

#[derive(Deserialize)]
struct UpdateForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    assignee_id: String,
    #[serde(default)]
    group: String,
}

async fn update(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Form(f): Form<UpdateForm>,
) -> Response {
    let result = async {
        let some = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        let body = ChangeTicketBody {
            status: some(&f.status),
            priority: some(&f.priority),
            assignee_id: Some(some(&f.assignee_id)),
            group: Some(some(&f.group)),
            ..Default::default()
        };
        let change = parse_change(&body)?;
        let (ticket, events) = state
            .store
            .update_ticket(
                &id,
                &change,
                p.audit("ticket.update", DataClass::Tickets, Some(id.clone())),
            )
            .await
            .map_err(refusal)?;
        publish_events(&state, &ticket, &events);
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => back(&id, phrase("Ticket updated.")),
        Err(e) => error_page(&state, e),
    }
}

/// One bar of a chart, in SVG user units (the chart is 600 x 160).
#[derive(Serialize)]
struct Bar {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    label: String,
    value: String,
}

#[derive(Serialize)]
struct Chart {
    title: &'static str,
    unit: &'static str,
    bars: Vec<Bar>,
    max: String,
    min: String,
    /// The zero line's y, for series that go negative (NPS).
    zero: f64,
}

const W: f64 = 600.0;
const H: f64 = 160.0;

fn chart(
    title: &'static str,
    unit: &'static str,
    points: &[(String, Option<f64>)],
    lo: Option<f64>,
) -> Chart {
    let values: Vec<f64> = points.iter().filter_map(|p| p.1).collect();
    let max = values
        .iter()
        .copied()
        .fold(lo.unwrap_or(0.0).max(1e-9), f64::max);
    let min = values
        .iter()
        .copied()
        .fold(lo.unwrap_or(0.0).min(0.0), f64::min);
    let span = (max - min).max(1e-9);
    let slot = W / points.len().max(1) as f64;
    let y_of = |v: f64| H - (v - min) / span * H;
    let zero = y_of(0.0);
    let bars = points
        .iter()
        .enumerate()
        .filter_map(|(i, (label, v))| {
            let v = (*v)?;
            let (top, bottom) = if v >= 0.0 {
                (y_of(v), zero)
            } else {
                (zero, y_of(v))
            };
            Some(Bar {
                x: i as f64 * slot + slot * 0.1,
                y: top,
                w: slot * 0.8,
                h: (bottom - top).max(0.5),
                label: label.clone(),
                value: format!("{v}"),
            })
        })
        .collect();
    Chart {
        title,
        unit,
        bars,
        max: format!("{}", (max * 10.0).round() / 10.0),
        min: format!("{}", (min * 10.0).round() / 10.0),
        zero,
    }
}

fn charts(rows: &[&Row]) -> Vec<Chart> {
    let series = |f: &dyn Fn(&Row) -> Option<f64>| -> Vec<(String, Option<f64>)> {
        rows.iter().map(|r| (r.period.clone(), f(r))).collect()
    };
    vec![
        chart(phrase("NPS"), "", &series(&|r| r.nps), None),
        chart(
            phrase("CSAT (share of 4 and 5)"),
            "%",
            &series(&|r| r.csat),
            Some(100.0),
        ),
        chart(
            phrase("CES mean (1-7)"),
            "",
            &series(&|r| r.ces_mean),
            Some(7.0),
        ),
        chart(
            phrase("Tickets created"),
            "",
            &series(&|r| Some(r.tickets_created as f64)),
            None,
        ),
        chart(
            phrase("First response, median"),
            "h",
            &series(&|r| r.first_response.median_hours),
            None,
        ),
        chart(
            phrase("Resolution, median"),
            "h",
            &series(&|r| r.resolution.median_hours),
            None,
        ),
        chart(
            phrase("SLA first response attained"),
            "%",
            &series(&|r| r.sla_first_response),
            Some(100.0),
        ),
        chart(
            phrase("Backlog at period end"),
            "",
            &series(&|r| Some(r.backlog as f64)),
            None,
        ),
    ]
}

async fn scorecard(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<ScorecardQuery>,
) -> Response {
    let result = async {
        let (from, to, grain, dim) = parse_range(&q)?;
        let card = crate::scorecard::build(&state.store, from, to, grain, dim).await?;
        // Charts follow the whole ("all") or, by dimension, its first value.
        let first = card.totals.first().map(|r| r.value.clone()).unwrap_or_default();
        let rows: Vec<&Row> = card.periods.iter().filter(|r| r.value == first).collect();
        let charts = charts(&rows);
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("from", &card.from)
            .append_pair("to", &card.to)
            .append_pair("by", match grain {
                crate::scorecard::Grain::Day => "day",
                crate::scorecard::Grain::Week => "week",
                crate::scorecard::Grain::Month => "month",
            })
            .append_pair("dimension", dim)
            .finish();
        let weekly = weekly_context(&state, &p).await?;
        Ok::<_, ApiError>(page(
            &state,
            &p,
            "/scorecard",
            "scorecard.html",
            context! { card, charts, query, chart_value => first, dimensions => crate::scorecard::DIMENSIONS, weekly },
        ))
    }
    .await;
    result.unwrap_or_else(|e| error_page(&state, e))
}

async fn journey(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<ScorecardQuery>,
) -> Response {
    let result = async {
        let (from, to, _, _) = parse_range(&q)?;
        let j = crate::journey::build(&state.store, from, to).await?;
        Ok::<_, ApiError>(page(
            &state,
            &p,
            "/journey",
            "journey.html",
            context! { j, can_define => p.can(DataClass::Settings, Action::Store) },
        ))
    }
    .await;
    result.unwrap_or_else(|e| error_page(&state, e))
}

#[derive(Deserialize)]
struct StageForm {
    key: String,
    name: String,
    #[serde(default)]
    position: String,
    /// Comma-separated.
    #[serde(default)]
    touchpoints: String,
}

async fn define_stage(
    State(state): State<AppState>,
    Auth(p): Auth,
    Form(f): Form<StageForm>,
) -> Response {
    let result = async {
        let label = |field: &'static str, v: &str| crate::domain::feedback::parse_label(field, v);
        let touchpoints = f
            .touchpoints
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| label("touchpoints", t))
            .collect::<Result<Vec<_>, _>>()?;
        let position = match f.position.trim() {
            "" => 0,
            v => v
                .parse::<i64>()
                .map_err(|_| crate::domain::DomainError::invalid("position", "a whole number"))?,
        };
        let stage = crate::journey::Stage {
            key: label("key", &f.key)?,
            name: label("name", &f.name)?,
            position,
            touchpoints,
        };
        crate::journey::put_stage(
            &state.store,
            &stage,
            p.audit(
                "journey.stage.put",
                DataClass::Settings,
                Some(stage.key.clone()),
            ),
        )
        .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/journey").into_response(),
        Err(e) => error_page(&state, e),
    }
}

#[derive(Serialize)]
struct Person {
    id: String,
    name: String,
}

/// The weekly report box: whether the viewer gets it, and for admins who
/// does and who may be added.
async fn weekly_context(
    state: &AppState,
    p: &crate::auth::Principal,
) -> Result<minijinja::Value, ApiError> {
    let r = &state.config.reports;
    let me = if p.actor.starts_with("usr_") {
        state.store.user(&p.actor).await?.map(|u| u.weekly_report)
    } else {
        None
    };
    let manage = p.can(DataClass::Settings, Action::Modify);
    let (mut stakeholders, mut others) = (Vec::new(), Vec::new());
    if manage {
        let on: std::collections::HashSet<String> = crate::reports::stakeholders(&state.store)
            .await?
            .into_iter()
            .map(|u| u.id.to_string())
            .collect();
        for u in state.store.list_users().await? {
            let person = Person {
                id: u.id.to_string(),
                name: u.name.clone(),
            };
            if on.contains(u.id.as_str()) {
                stakeholders.push(person);
            } else if !u.disabled {
                others.push(person);
            }
        }
    }
    Ok(context! {
        hour => r.weekly_hour, timezone => r.weekly_timezone, me, manage, stakeholders, others,
    })
}

#[derive(Deserialize)]
struct SubscriptionForm {
    subscribed: String,
}

async fn weekly_subscription(
    State(state): State<AppState>,
    Auth(p): Auth,
    Form(f): Form<SubscriptionForm>,
) -> Response {
    let result = async {
        if !p.actor.starts_with("usr_") {
            return Err(ApiError::Unprocessable {
                code: "not_a_person",
                detail: "subscribed: only a staff user can get the weekly report".into(),
            });
        }
        state
            .store
            .update_user(
                &p.actor,
                None,
                None,
                Some(f.subscribed == "1"),
                p.audit("user.update", DataClass::Settings, Some(p.actor.clone())),
            )
            .await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/scorecard").into_response(),
        Err(e) => error_page(&state, e),
    }
}

#[derive(Deserialize)]
struct StakeholderForm {
    user_id: String,
    subscribed: String,
}

async fn weekly_stakeholder(
    State(state): State<AppState>,
    Auth(p): Auth,
    Form(f): Form<StakeholderForm>,
) -> Response {
    let result = state
        .store
        .update_user(
            &f.user_id,
            None,
            None,
            Some(f.subscribed == "1"),
            p.audit("user.update", DataClass::Settings, Some(f.user_id.clone())),
        )
        .await
        .map_err(|e| match e {
            crate::storage::StoreError::NotFound => ApiError::NotFound("user"),
            e => e.into(),
        });
    match result {
        Ok(_) => Redirect::to("/scorecard").into_response(),
        Err(e) => error_page(&state, e),
    }
}
