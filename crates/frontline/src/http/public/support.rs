//! The public side of tickets: a support form at `/support` and the
//! customer's secret tracking page at `/t/{token}` (status, public replies,
//! a reply form, and the CSAT question once solved). No JavaScript, no
//! cookies, no account. Internal notes are never read here: only public
//! events are loaded.

use std::collections::HashMap;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use minijinja::context;
use serde::Serialize;

use crate::domain::feedback::{Channel, Contact};
use crate::domain::ticket::TicketStatus;
use crate::domain::DataClass;
use crate::http::dashboard::render;
use crate::http::error::ApiError;
use crate::http::public::i18n::{self, t};
use crate::http::AppState;
use crate::intake::{FeedbackInput, Policy};
use crate::storage::feedback::feedback_audit;
use crate::storage::tickets::{Author, TicketRow};
use crate::storage::{now_ms, AuditRecord, StoreError};
use crate::tickets::TicketDraft;

type Fields = HashMap<String, String>;

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    resp
}

fn page(state: &AppState, name: &str, status: StatusCode, ctx: minijinja::Value) -> Response {
    let mut resp = render(state, name, ctx);
    *resp.status_mut() = status;
    no_store(resp)
}

fn message(
    state: &AppState,
    lang: &str,
    status: StatusCode,
    heading: &str,
    body: &str,
) -> Response {
    page(
        state,
        "public_message.html",
        status,
        context! { lang, dir => i18n::dir(lang), heading => t(lang, heading), body => t(lang, body) },
    )
}

fn accept_language(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
}

/// The page's language: `lang` of the link or form, else (tracking page)
/// the ticket's, else the browser's.
fn language(fields: &Fields, ticket: Option<&TicketRow>, headers: &HeaderMap) -> &'static str {
    i18n::choose(
        fields.get("lang").map(String::as_str),
        ticket.and_then(|t| t.language.as_deref()),
        accept_language(headers),
    )
}

/// Links to the page in every language.
fn languages(lang: &str) -> Vec<minijinja::Value> {
    i18n::LANGUAGES
        .iter()
        .map(|(code, name)| context! { code, name, current => *code == lang })
        .collect()
}

fn public_audit(action: &str, class: DataClass, record: Option<String>) -> AuditRecord {
    AuditRecord {
        actor: "public".into(),
        address: None,
        action: action.into(),
        class,
        record,
        detail: serde_json::json!({}),
    }
}

fn throttled(state: &AppState, peer: &std::net::SocketAddr, lang: &str) -> Option<Response> {
    if state.public_throttle.check_key(&peer.ip()).is_ok() {
        return None;
    }
    let mut resp = message(
        state,
        lang,
        StatusCode::TOO_MANY_REQUESTS,
        "tk_too_many_title",
        "tk_wait",
    );
    resp.headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
    Some(resp)
}

/// Bots fill every field; people never see this one.
fn is_bot(fields: &Fields) -> bool {
    fields.get("website").is_some_and(|v| !v.trim().is_empty())
}

pub async fn new_form(
    State(state): State<AppState>,
    Query(q): Query<Fields>,
    headers: HeaderMap,
) -> Response {
    let lang = language(&q, None, &headers);
    page(
        &state,
        "ticket_new.html",
        StatusCode::OK,
        context! { lang, dir => i18n::dir(lang), t => i18n::phrases(lang), languages => languages(lang) },
    )
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Response {
    let lang = language(&fields, None, &headers);
    if let Some(r) = throttled(&state, &peer, lang) {
        return r;
    }
    let field = |k: &str| {
        fields
            .get(k)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    if is_bot(&fields) {
        tracing::info!("honeypot ticket dropped");
        return message(&state, lang, StatusCode::OK, "thanks_title", "tk_received");
    }
    let again = |error: &str| {
        page(
            &state,
            "ticket_new.html",
            StatusCode::UNPROCESSABLE_ENTITY,
            context! {
                lang, dir => i18n::dir(lang), t => i18n::phrases(lang), languages => languages(lang),
                error => t(lang, error),
                subject => field("subject"), description => field("description"),
                name => field("contact_name"), email => field("contact_email"),
            },
        )
    };
    let email = field("contact_email");
    let contact = if email.is_empty() {
        None
    } else {
        let name = field("contact_name");
        match Contact::parse(Some(&name), Some(&email), None, "US") {
            Ok(c) => Some(c),
            Err(_) => return again("tk_bad_email"),
        }
    };
    let draft = TicketDraft {
        subject: field("subject"),
        description: field("description"),
        channel: Some("web".into()),
        contact,
        ..Default::default()
    };
    let new = match crate::tickets::prepare(&state.intake.preparer, draft, Channel::Web) {
        Ok(n) => n,
        Err(_) => return again("tk_missing"),
    };
    let window = i64::from(state.config.tickets.repeat_window_hours) * 3_600_000;
    match state
        .store
        .create_ticket(
            &state.intake.ring,
            &new,
            window,
            public_audit("ticket.create", DataClass::Tickets, None),
        )
        .await
    {
        Ok((ticket, token)) => {
            state.events.publish(
                "ticket.created",
                DataClass::Tickets,
                serde_json::json!({ "id": ticket.id, "priority": ticket.priority, "repeat_of": ticket.repeat_of }),
            );
            // Show the link once, on the page the customer is looking at.
            match state.store.ticket_by_token(&token).await {
                Ok(Some(row)) => {
                    track_page(
                        &state,
                        &row,
                        &token,
                        lang,
                        TrackExtras {
                            created_link: Some(crate::tickets::tracking_url(&state.config, &token)),
                            ..Default::default()
                        },
                    )
                    .await
                }
                Ok(None) => message(
                    &state,
                    lang,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "tk_error_title",
                    "",
                ),
                Err(e) => ApiError::from(e).into_response(),
            }
        }
        Err(e) => crate::http::api::tickets::refusal(e).into_response(),
    }
}

#[derive(Serialize)]
struct Line {
    kind: String,
    support: bool,
    body: String,
    when: String,
}

#[derive(Default)]
struct TrackExtras {
    created_link: Option<String>,
    notice: Option<&'static str>,
    error: Option<&'static str>,
    csat_value: Option<String>,
}

/// The phrase key of a state as the customer is told it.
fn status_key(s: TicketStatus) -> &'static str {
    match s {
        TicketStatus::New => "tk_s_new",
        TicketStatus::Open | TicketStatus::Reopened => "tk_s_open",
        TicketStatus::Pending => "tk_s_pending",
        TicketStatus::OnHold => "tk_s_on_hold",
        TicketStatus::Solved => "tk_s_solved",
        TicketStatus::Closed => "tk_s_closed",
    }
}

/// A status event (`open → solved`) in the customer's words.
fn status_change(lang: &str, body: &str) -> String {
    let word = |s: &str| match TicketStatus::parse(s.trim()) {
        Ok(s) => t(lang, status_key(s)).to_owned(),
        Err(_) => s.trim().to_owned(),
    };
    match body.split_once('→') {
        Some((from, to)) => format!("{} → {}", word(from), word(to)),
        None => word(body),
    }
}

async fn track_page(
    state: &AppState,
    ticket: &TicketRow,
    token: &str,
    lang: &'static str,
    x: TrackExtras,
) -> Response {
    let t = ticket;
    let events = match state.store.ticket_events(&t.id, true).await {
        Ok(e) => e,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let csat_given = match state.store.ticket_csat(&t.id).await {
        Ok(c) => c,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let thread: Vec<Line> = events
        .iter()
        // Only what the customer may see: never notes, labels or SLA events.
        .filter(|e| {
            e.public
                && matches!(
                    e.kind.as_str(),
                    "created" | "reply" | "customer_reply" | "status"
                )
        })
        .map(|e| Line {
            kind: e.kind.clone(),
            support: e.kind == "reply",
            body: if e.kind == "status" {
                status_change(lang, &e.body)
            } else {
                e.body.clone()
            },
            when: crate::storage::users::rfc3339(e.at.0)
                .replace('T', " ")
                .chars()
                .take(16)
                .collect(),
        })
        .collect();
    let ask_csat = offers_csat(t) && !csat_given;
    page(
        state,
        "ticket_track.html",
        StatusCode::OK,
        context! {
            lang, dir => i18n::dir(lang), t => i18n::phrases(lang), languages => languages(lang),
            token, subject => t.title, status_text => i18n::t(lang, status_key(t.status)),
            thread, ask_csat, csat_given, can_reply => t.status != TicketStatus::Closed,
            created_link => x.created_link, notice => x.notice.map(|k| i18n::t(lang, k)),
            error => x.error.map(|k| i18n::t(lang, k)), csat_value => x.csat_value,
        },
    )
}

/// CSAT is asked once a person solved the ticket; not after bulk or
/// automatic solves.
fn offers_csat(t: &TicketRow) -> bool {
    t.csat_offered && matches!(t.status, TicketStatus::Solved | TicketStatus::Closed)
}

async fn find(
    state: &AppState,
    token: &str,
    fields: &Fields,
    headers: &HeaderMap,
) -> Result<(TicketRow, &'static str), Response> {
    match state.store.ticket_by_token(token).await {
        Ok(Some(t)) => {
            let lang = language(fields, Some(&t), headers);
            Ok((t, lang))
        }
        Ok(None) => Err(message(
            state,
            language(fields, None, headers),
            StatusCode::NOT_FOUND,
            "tk_not_found_title",
            "tk_not_found",
        )),
        Err(e) => Err(ApiError::from(e).into_response()),
    }
}

/// The tracking page. A `?csat=N` in the link (as a survey email would
/// carry) only preselects the answer: a GET never records anything.
pub async fn track(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<Fields>,
    headers: HeaderMap,
) -> Response {
    let (t, lang) = match find(&state, &token, &q, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let extras = TrackExtras {
        csat_value: q
            .get("csat")
            .filter(|v| matches!(v.as_str(), "1" | "2" | "3" | "4" | "5"))
            .cloned(),
        notice: match q.get("done").map(String::as_str) {
            Some("reply") => Some("tk_sent"),
            Some("csat") => Some("tk_thanks_rating"),
            _ => None,
        },
        ..Default::default()
    };
    track_page(&state, &t, &token, lang, extras).await
}

/// Back to the tracking page after a post, in the same language.
fn back(token: &str, done: &str, lang: &str) -> Response {
    no_store(Redirect::to(&format!("/t/{token}?done={done}&lang={lang}")).into_response())
}

pub async fn reply(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Response {
    if let Some(r) = throttled(&state, &peer, language(&fields, None, &headers)) {
        return r;
    }
    let (t, lang) = match find(&state, &token, &fields, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    if is_bot(&fields) {
        return Redirect::to(&format!("/t/{token}?lang={lang}")).into_response();
    }
    let raw = fields.get("body").map(|s| s.trim()).unwrap_or("");
    let body = match crate::domain::ticket::parse_body(raw) {
        Ok(b) => state.intake.preparer.redactor().redact(&b).text,
        Err(_) => {
            let mut r = track_page(
                &state,
                &t,
                &token,
                lang,
                TrackExtras {
                    error: Some("tk_err_message"),
                    ..Default::default()
                },
            )
            .await;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return r;
        }
    };
    let audit = AuditRecord {
        actor: "customer".into(),
        ..public_audit(
            "ticket.customer_reply",
            DataClass::Tickets,
            Some(t.id.clone()),
        )
    };
    match state
        .store
        .ticket_message(&t.id, Author::Customer, &body, audit)
        .await
    {
        Ok((ticket, ev)) => {
            crate::http::api::tickets::publish_events(&state, &ticket, std::slice::from_ref(&ev));
            back(&token, "reply", lang)
        }
        Err(crate::storage::tickets::TicketRefusal::Closed) => message(
            &state,
            lang,
            StatusCode::CONFLICT,
            "tk_closed_title",
            "tk_closed_again",
        ),
        Err(e) => crate::http::api::tickets::refusal(e).into_response(),
    }
}

/// Records the CSAT answer: only on this explicit submit, once per ticket,
/// as a `csat` feedback item linked to the ticket, in one transaction.
pub async fn csat(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Response {
    if let Some(r) = throttled(&state, &peer, language(&fields, None, &headers)) {
        return r;
    }
    let (t, lang) = match find(&state, &token, &fields, &headers).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    if is_bot(&fields) {
        return Redirect::to(&format!("/t/{token}?lang={lang}")).into_response();
    }
    if !offers_csat(&t) {
        return message(
            &state,
            lang,
            StatusCode::CONFLICT,
            "tk_no_rating_title",
            "tk_no_rating",
        );
    }
    let score = fields
        .get("score")
        .and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|s| (1..=5).contains(s));
    let Some(score) = score else {
        let mut r = track_page(
            &state,
            &t,
            &token,
            lang,
            TrackExtras {
                error: Some("tk_err_rating"),
                ..Default::default()
            },
        )
        .await;
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return r;
    };
    let comment = fields
        .get("comment")
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .map(|c| c.chars().take(2000).collect::<String>());
    let input = FeedbackInput {
        kind: "csat".into(),
        score: Some(score),
        text: comment,
        language: t.language.clone(),
        channel: Some(t.channel.clone()),
        component: t.component.clone(),
        journey_stage: t.journey_stage.clone(),
        touchpoint: Some(t.touchpoint.clone().unwrap_or_else(|| "ticket".into())),
        idempotency_key: Some(format!("ticket-csat:{}", t.id)),
        ..Default::default()
    };
    let item = match state
        .intake
        .preparer
        .prepare(input, &Policy::default(), None)
    {
        Ok(i) => i,
        Err(_) => {
            return message(
                &state,
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                "tk_check",
                "",
            )
        }
    };
    match state
        .store
        .record_ticket_csat(&state.intake.ring, &t.id, item, score)
        .await
    {
        Ok(true) => {
            state.events.publish(
                "feedback.received",
                DataClass::Feedback,
                serde_json::json!({ "ticket_id": t.id, "kind": "csat" }),
            );
            back(&token, "csat", lang)
        }
        Ok(false) => message(
            &state,
            lang,
            StatusCode::CONFLICT,
            "tk_already_title",
            "tk_already",
        ),
        Err(e) => ApiError::from(e).into_response(),
    }
}

impl crate::storage::Store {
    /// Whether the customer rated this ticket already.
    pub(crate) async fn ticket_csat(&self, ticket: &str) -> Result<bool, StoreError> {
        Ok(self
            .fetch_optional(
                "SELECT ticket_id FROM ticket_csat WHERE ticket_id = $1",
                crate::args![ticket],
            )
            .await?
            .is_some())
    }

    /// Stores the CSAT item, its link to the ticket and the ticket's event
    /// together. False if the ticket was rated already.
    pub(crate) async fn record_ticket_csat(
        &self,
        ring: &crate::privacy::KeyRing,
        ticket: &str,
        item: crate::storage::feedback::PreparedFeedback,
        score: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let claimed = tx
            .execute(
                "INSERT INTO ticket_csat (ticket_id, feedback_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                crate::args![ticket, item.id.as_str(), now_ms()],
            )
            .await?;
        if claimed == 0 {
            return Ok(false);
        }
        let items = [item];
        let out = tx.insert_feedback(ring, &items).await?;
        tx.audit(feedback_audit(
            public_audit("feedback.store", DataClass::Feedback, None),
            &out,
            1,
        ))
        .await?;
        tx.ticket_event(
            ticket,
            "csat",
            false,
            &format!("CSAT {score}/5 ({})", out[0].id()),
            "customer",
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
