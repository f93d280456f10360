//! `/api/v1/tickets`: open, read, change, answer tickets; tickets from a
//! feedback item or for an incident's affected customers; SLA policies and
//! calendars; the scorecard and the journey map.

use axum::extract::{Path, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::feedback::{mask_phone, ContactView};
use crate::auth::Principal;
use crate::domain::calendar::{Calendar, Period, PeriodSpec};
use crate::domain::feedback::{parse_label, Channel, Contact};
use crate::domain::id::Kind;
use crate::domain::ticket::{parse_body, Priority, TicketStatus};
use crate::domain::user::mask_email;
use crate::domain::{Action, DataClass, DomainError, Grant, Id};
use crate::http::error::{ApiError, ApiJson, ApiQuery};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::scorecard::{self, Grain, Scorecard};
use crate::storage::incidents::Time;
use crate::storage::sla::{CalendarView, NewCalendar, SlaPolicy};
use crate::storage::tickets::{
    Author, Ticket, TicketChange, TicketEvent, TicketFilter, TicketRefusal,
};
use crate::storage::StoreError;
use crate::tickets::{prepare, tracking_url, TicketDraft};

const fn need(class: DataClass, action: Action) -> Need {
    Need::Grant(Grant::new(class, action))
}
const T: DataClass = DataClass::Tickets;
const S: DataClass = DataClass::Settings;
const R: DataClass = DataClass::Reports;

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/api/v1/tickets", need(T, Action::View), list)
            .doc("tickets", "The ticket queue, newest first (filters: status, active, priority, assignee_id, group, incident_id, breaching_within_mins)")
            .response_list::<Ticket>(),
        Route::new(Method::POST, "/api/v1/tickets", need(T, Action::Store), create)
            .doc("tickets", "Open a ticket; the answer carries the customer's secret tracking link (shown once)")
            .request::<NewTicketBody>()
            .response::<TicketCreated>(),
        Route::new(Method::GET, "/api/v1/tickets/{id}", need(T, Action::View), get_one)
            .doc("tickets", "One ticket; its contact in full for contact:view (audited), masked otherwise")
            .response::<TicketView>(),
        Route::new(Method::PATCH, "/api/v1/tickets/{id}", need(T, Action::Modify), change)
            .doc("tickets", "Change status (transitions enforced), priority, assignee, group, labels")
            .request::<ChangeTicketBody>()
            .response::<Ticket>(),
        Route::new(Method::GET, "/api/v1/tickets/{id}/events", need(T, Action::View), events)
            .doc("tickets", "The ticket's history: changes, replies, internal notes, SLA alerts")
            .response_list::<TicketEvent>(),
        Route::new(Method::POST, "/api/v1/tickets/{id}/replies", need(T, Action::Modify), reply)
            .doc("tickets", "A public reply to the customer (optionally with a new status)")
            .request::<ReplyBody>()
            .response::<TicketEvent>(),
        Route::new(Method::POST, "/api/v1/tickets/{id}/notes", need(T, Action::Modify), note)
            .doc("tickets", "An internal note, never shown to the customer")
            .request::<NoteBody>()
            .response::<TicketEvent>(),
        Route::new(Method::POST, "/api/v1/feedback/{id}/ticket", need(T, Action::Store), from_feedback)
            .doc("tickets", "Open a ticket from a feedback item (its text, labels and sealed contact)")
            .request::<FromFeedbackBody>()
            .response::<TicketCreated>(),
        Route::new(Method::GET, "/api/v1/incidents/{id}/tickets", need(T, Action::View), incident_tickets)
            .doc("tickets", "The tickets linked to an incident")
            .response_list::<Ticket>(),
        Route::new(Method::POST, "/api/v1/incidents/{id}/tickets", need(T, Action::Store), for_incident)
            .doc("tickets", "One ticket per affected customer of an incident")
            .request::<ForIncidentBody>()
            .response_list::<TicketCreated>(),
        Route::new(Method::POST, "/api/v1/incidents/{id}/tickets/update", need(T, Action::Modify), update_incident_tickets)
            .doc("tickets", "A public reply and/or status for every open ticket of an incident")
            .request::<IncidentTicketsBody>()
            .response::<BulkResult>(),
        Route::new(Method::GET, "/api/v1/sla/calendars", need(S, Action::View), list_calendars)
            .doc("tickets", "Business-hour calendars")
            .response_list::<CalendarView>(),
        Route::new(Method::POST, "/api/v1/sla/calendars", need(S, Action::Store), create_calendar)
            .doc("tickets", "Add a business-hour calendar: time zone, periods, holidays")
            .request::<CalendarBody>()
            .response::<CalendarView>(),
        Route::new(Method::GET, "/api/v1/sla/policies", need(S, Action::View), list_policies)
            .doc("tickets", "SLA policies")
            .response_list::<SlaPolicy>(),
        Route::new(Method::POST, "/api/v1/sla/policies", need(S, Action::Store), create_policy)
            .doc("tickets", "Add an SLA policy for a priority and/or segment")
            .request::<PolicyBody>()
            .response::<SlaPolicy>(),
        Route::new(Method::GET, "/api/v1/scorecard", need(R, Action::View), get_scorecard)
            .doc("reports", "The CX scorecard (from, to, by=day|week|month, dimension)")
            .response::<Scorecard>(),
        Route::new(Method::GET, "/api/v1/scorecard.csv", need(R, Action::View), scorecard_csv)
            .doc("reports", "The scorecard's periods as CSV"),
        Route::new(Method::GET, "/api/v1/journey", need(R, Action::View), journey)
            .doc("reports", "The journey map: each stage's score, volume, top complaint topics, worst pain points")
            .response::<crate::journey::JourneyView>(),
        Route::new(Method::POST, "/api/v1/journey/stages", need(S, Action::Store), put_stage)
            .doc("reports", "Define a journey stage (and its touchpoints); an existing key is replaced")
            .request::<StageBody>()
            .response::<crate::journey::Stage>(),
    ]
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Region for a phone number without a country code (default US).
    pub region: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicketBody {
    /// One line, 1-200 characters.
    pub subject: String,
    /// The customer's message; personal data in it is redacted.
    pub description: String,
    /// low, normal (default), high, urgent.
    pub priority: Option<String>,
    /// web, email, chat, phone, social, app, api (default), import.
    pub channel: Option<String>,
    pub segment: Option<String>,
    pub component: Option<String>,
    pub language: Option<String>,
    pub journey_stage: Option<String>,
    pub touchpoint: Option<String>,
    /// Found from the description when absent.
    pub topic: Option<String>,
    pub group: Option<String>,
    pub assignee_id: Option<String>,
    pub incident_id: Option<String>,
    /// The customer: stored sealed.
    pub contact: Option<ContactBody>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TicketCreated {
    #[serde(flatten)]
    pub ticket: Ticket,
    /// The customer's secret link (status, public replies, reply). Shown once.
    pub tracking_url: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TicketView {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub contact: Option<ContactView>,
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ChangeTicketBody {
    pub status: Option<String>,
    pub priority: Option<String>,
    /// A user id, or null to unassign.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub assignee_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub group: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub segment: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub topic: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub journey_stage: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub touchpoint: Option<Option<String>>,
}

/// Absent: `None`; null: `Some(None)`; a value: `Some(Some(v))`.
fn double_option<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    pub body: String,
    /// Set the status with the reply, e.g. pending or solved.
    pub status: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    pub body: String,
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct FromFeedbackBody {
    pub subject: Option<String>,
    pub priority: Option<String>,
    pub segment: Option<String>,
    pub group: Option<String>,
    pub assignee_id: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForIncidentBody {
    pub subject: String,
    /// What each ticket opens with (the incident's notice to the customer).
    pub description: String,
    pub priority: Option<String>,
    pub segment: Option<String>,
    pub group: Option<String>,
    /// The affected customers, 1-1000.
    pub customers: Vec<ContactBody>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentTicketsBody {
    /// A public reply to every ticket.
    pub reply: Option<String>,
    /// A status for every ticket where the move is allowed (e.g. solved).
    pub status: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkResult {
    pub updated: usize,
    pub ticket_ids: Vec<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarBody {
    pub name: String,
    /// IANA zone, e.g. Europe/Berlin.
    pub timezone: String,
    pub periods: Vec<PeriodSpec>,
    /// Local dates, YYYY-MM-DD.
    #[serde(default)]
    pub holidays: Vec<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    pub name: String,
    pub priority: Option<String>,
    pub segment: Option<String>,
    pub first_response_mins: Option<i64>,
    pub next_response_mins: Option<i64>,
    pub resolution_mins: Option<i64>,
    pub calendar_id: Option<String>,
    /// Default 30.
    pub warn_before_mins: Option<i64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageBody {
    /// A label, e.g. `onboarding`; feedback and tickets carry it as journey_stage.
    pub key: String,
    pub name: String,
    pub position: Option<i64>,
    /// Touchpoint keys within the stage (feedback and tickets carry them as touchpoint).
    #[serde(default)]
    pub touchpoints: Vec<String>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    pub status: Option<String>,
    #[serde(default)]
    pub active: bool,
    pub priority: Option<String>,
    pub assignee_id: Option<String>,
    pub group: Option<String>,
    pub incident_id: Option<String>,
    pub breaching_within_mins: Option<i64>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Deserialize)]
pub struct ScorecardQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub by: Option<String>,
    pub dimension: Option<String>,
}

pub(crate) fn refusal(e: TicketRefusal) -> ApiError {
    match e {
        TicketRefusal::Transition { .. } | TicketRefusal::Closed => {
            ApiError::Conflict(e.to_string())
        }
        TicketRefusal::UnknownUser | TicketRefusal::UnknownIncident => ApiError::Unprocessable {
            code: "unknown_reference",
            detail: e.to_string(),
        },
        TicketRefusal::Store(StoreError::NotFound) => ApiError::NotFound("ticket"),
        TicketRefusal::Store(e) => e.into(),
    }
}

pub(crate) fn parse_contact(c: &ContactBody) -> Result<Contact, DomainError> {
    Contact::parse(
        c.name.as_deref(),
        c.email.as_deref(),
        c.phone.as_deref(),
        c.region.as_deref().unwrap_or("US"),
    )
}

fn repeat_window(state: &AppState) -> i64 {
    i64::from(state.config.tickets.repeat_window_hours) * 3_600_000
}

/// Stores a ticket and says so on the event bus (ids only).
pub(crate) async fn open_ticket(
    state: &AppState,
    draft: TicketDraft,
    default_channel: Channel,
    audit: crate::storage::AuditRecord,
) -> Result<TicketCreated, ApiError> {
    let new = prepare(&state.intake.preparer, draft, default_channel)?;
    let (ticket, token) = state
        .store
        .create_ticket(&state.intake.ring, &new, repeat_window(state), audit)
        .await
        .map_err(refusal)?;
    state.events.publish(
        "ticket.created",
        DataClass::Tickets,
        serde_json::json!({ "id": ticket.id, "priority": ticket.priority, "repeat_of": ticket.repeat_of }),
    );
    Ok(TicketCreated {
        ticket,
        tracking_url: tracking_url(&state.config, &token),
    })
}

async fn create(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<NewTicketBody>,
) -> Result<(StatusCode, Json<TicketCreated>), ApiError> {
    let contact = b.contact.as_ref().map(parse_contact).transpose()?;
    let draft = TicketDraft {
        subject: b.subject,
        description: b.description,
        priority: b.priority,
        channel: b.channel,
        segment: b.segment,
        component: b.component,
        language: b.language,
        journey_stage: b.journey_stage,
        touchpoint: b.touchpoint,
        topic: b.topic,
        group: b.group,
        assignee_id: b.assignee_id,
        incident_id: b.incident_id,
        feedback_id: None,
        contact,
    };
    let audit = p.audit("ticket.create", DataClass::Tickets, None);
    let created = open_ticket(&state, draft, Channel::Api, audit).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<Ticket>>, ApiError> {
    Ok(Json(state.store.list_tickets(&parse_filter(&q)?).await?))
}

pub(crate) fn parse_filter(q: &ListQuery) -> Result<TicketFilter, DomainError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(DomainError::invalid("limit", "must be 1 to 500"));
    }
    let some = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Ok(TicketFilter {
        status: some(&q.status)
            .as_deref()
            .map(TicketStatus::parse)
            .transpose()?,
        active: q.active,
        priority: some(&q.priority)
            .as_deref()
            .map(Priority::parse)
            .transpose()?,
        assignee_id: some(&q.assignee_id),
        group: some(&q.group),
        incident_id: some(&q.incident_id),
        breaching_within_ms: match q.breaching_within_mins {
            Some(m) if !(0..=525_600).contains(&m) => {
                return Err(DomainError::invalid(
                    "breaching_within_mins",
                    "must be 0 to 525600",
                ))
            }
            m => m.map(|m| m * 60_000),
        },
        before: some(&q.cursor),
        limit,
    })
}

/// A ticket as this principal may see it: the contact in full for
/// `contact:view` (audited), masked otherwise.
pub(crate) async fn view(
    state: &AppState,
    p: &Principal,
    id: &str,
) -> Result<TicketView, ApiError> {
    view_contact(state, p, id, true).await
}

/// A ticket with its contact masked, or, when `open` is asked for and the
/// principal holds `contact:view`, in full; only a look in full is audited.
pub(crate) async fn view_contact(
    state: &AppState,
    p: &Principal,
    id: &str,
    open: bool,
) -> Result<TicketView, ApiError> {
    let row = state
        .store
        .ticket_row(id)
        .await?
        .ok_or(ApiError::NotFound("ticket"))?;
    let contact = state.store.ticket_contact(&state.intake.ring, &row).await?;
    let full = open && p.can(DataClass::Contact, Action::View);
    if full && contact.is_some() {
        state
            .store
            .audit(p.audit("contact.view", DataClass::Contact, Some(row.id.clone())))
            .await?;
    }
    let contact = contact.map(|c| ContactView {
        name: if full {
            c.name
        } else {
            c.name.map(|_| "***".into())
        },
        email: c.email.map(|e| if full { e } else { mask_email(&e) }),
        phone: c.phone.map(|ph| if full { ph } else { mask_phone(&ph) }),
        full,
    });
    Ok(TicketView {
        ticket: row.view(),
        contact,
    })
}

async fn get_one(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    Ok(Json(view(&state, &p, &id).await?))
}

pub(crate) fn parse_change(b: &ChangeTicketBody) -> Result<TicketChange, DomainError> {
    let label = |field: &'static str,
                 v: &Option<Option<String>>|
     -> Result<Option<Option<String>>, DomainError> {
        match v {
            None => Ok(None),
            Some(None) => Ok(Some(None)),
            Some(Some(s)) if s.trim().is_empty() => Ok(Some(None)),
            Some(Some(s)) => parse_label(field, s).map(|l| Some(Some(l))),
        }
    };
    Ok(TicketChange {
        status: b.status.as_deref().map(TicketStatus::parse).transpose()?,
        priority: b.priority.as_deref().map(Priority::parse).transpose()?,
        assignee_id: match &b.assignee_id {
            None => None,
            Some(None) => Some(None),
            Some(Some(s)) if s.trim().is_empty() => Some(None),
            Some(Some(s)) => Some(Some(
                Id::parse(Kind::User, s.trim())
                    .ok_or_else(|| DomainError::invalid("assignee_id", "looks like usr_..."))?
                    .to_string(),
            )),
        },
        group: label("group", &b.group)?,
        segment: label("segment", &b.segment)?,
        topic: label("topic", &b.topic)?,
        journey_stage: label("journey_stage", &b.journey_stage)?,
        touchpoint: label("touchpoint", &b.touchpoint)?,
        offer_csat: true,
    })
}

pub(crate) fn publish_events(state: &AppState, ticket: &Ticket, events: &[TicketEvent]) {
    for e in events {
        state.events.publish(
            &format!("ticket.{}", e.kind),
            DataClass::Tickets,
            serde_json::json!({ "id": ticket.id, "status": ticket.status, "event": e.id }),
        );
    }
}

async fn change(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ChangeTicketBody>,
) -> Result<Json<Ticket>, ApiError> {
    let change = parse_change(&b)?;
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
    Ok(Json(ticket))
}

async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<TicketEvent>>, ApiError> {
    if state.store.ticket_row(&id).await?.is_none() {
        return Err(ApiError::NotFound("ticket"));
    }
    Ok(Json(state.store.ticket_events(&id, false).await?))
}

pub(crate) async fn post_message(
    state: &AppState,
    p: &Principal,
    id: &str,
    author: Author,
    body: &str,
    status: Option<&str>,
) -> Result<TicketEvent, ApiError> {
    let body = parse_body(body)?;
    let status = status
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(TicketStatus::parse)
        .transpose()?;
    let audit = p.audit("ticket.reply", DataClass::Tickets, Some(id.to_owned()));
    // The message and the new status commit together, or neither does.
    let mut tx = state.store.begin().await?;
    let (ticket, ev) = tx
        .add_message(id, author, &body, &audit)
        .await
        .map_err(refusal)?;
    let mut events = vec![ev.clone()];
    let mut ticket = ticket.view();
    if let Some(to) = status.filter(|to| *to != ticket.status) {
        let change = TicketChange {
            status: Some(to),
            offer_csat: true,
            ..Default::default()
        };
        let (t, more) = tx
            .change_ticket(id, &change, &audit)
            .await
            .map_err(refusal)?;
        ticket = t.view();
        events.extend(more);
    }
    tx.commit().await?;
    publish_events(state, &ticket, &events);
    Ok(ev)
}

async fn reply(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ReplyBody>,
) -> Result<(StatusCode, Json<TicketEvent>), ApiError> {
    let ev = post_message(&state, &p, &id, Author::Agent, &b.body, b.status.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(ev)))
}

async fn note(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<NoteBody>,
) -> Result<(StatusCode, Json<TicketEvent>), ApiError> {
    let ev = post_message(&state, &p, &id, Author::Note, &b.body, None).await?;
    Ok((StatusCode::CREATED, Json(ev)))
}

async fn from_feedback(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<FromFeedbackBody>,
) -> Result<(StatusCode, Json<TicketCreated>), ApiError> {
    let row = state
        .store
        .feedback(&id)
        .await?
        .ok_or(ApiError::NotFound("feedback item"))?;
    let (contact, _) = state.store.open_sealed(&state.intake.ring, &row).await?;
    let text = row.text.clone().unwrap_or_else(|| match row.score {
        Some(s) => format!("{} answer: {s}", row.kind),
        None => row.kind.clone(),
    });
    let subject = b.subject.unwrap_or_else(|| {
        let first: String = text.lines().next().unwrap_or("").chars().take(80).collect();
        if first.trim().is_empty() {
            "Feedback follow-up".into()
        } else {
            first
        }
    });
    let draft = TicketDraft {
        subject,
        description: text,
        priority: b.priority,
        channel: Some(row.channel.clone()),
        segment: b.segment,
        component: row.component.clone(),
        language: row.language.clone(),
        journey_stage: row.journey_stage.clone(),
        touchpoint: row.touchpoint.clone(),
        topic: row.topic.clone(),
        group: b.group,
        assignee_id: b.assignee_id,
        incident_id: None,
        feedback_id: Some(row.id.clone()),
        contact,
    };
    let audit = p.audit("ticket.create", DataClass::Tickets, None);
    let created = open_ticket(&state, draft, Channel::Api, audit).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn incident_tickets(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<Ticket>>, ApiError> {
    super::incidents::find(&state, &id).await?;
    let filter = TicketFilter {
        incident_id: Some(id),
        limit: 500,
        ..Default::default()
    };
    Ok(Json(state.store.list_tickets(&filter).await?))
}

async fn for_incident(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ForIncidentBody>,
) -> Result<(StatusCode, Json<Vec<TicketCreated>>), ApiError> {
    let incident = super::incidents::find(&state, &id).await?;
    if b.customers.is_empty() || b.customers.len() > 1000 {
        return Err(DomainError::invalid("customers", "list 1 to 1000 customers").into());
    }
    let contacts = b
        .customers
        .iter()
        .map(parse_contact)
        .collect::<Result<Vec<_>, _>>()?;
    let mut news = Vec::with_capacity(contacts.len());
    for contact in contacts {
        let draft = TicketDraft {
            subject: b.subject.clone(),
            description: b.description.clone(),
            priority: b.priority.clone(),
            channel: Some("email".into()),
            segment: b.segment.clone(),
            component: incident.components.first().cloned(),
            topic: Some("outage".into()),
            group: b.group.clone(),
            incident_id: Some(incident.id.clone()),
            contact: Some(contact),
            ..Default::default()
        };
        news.push(prepare(&state.intake.preparer, draft, Channel::Email)?);
    }
    // All or none: one transaction for the whole list.
    let audit = p.audit("ticket.create", DataClass::Tickets, None);
    let mut tx = state.store.begin().await?;
    let mut out = Vec::with_capacity(news.len());
    for new in &news {
        let (row, token) = tx
            .insert_ticket(&state.intake.ring, new, repeat_window(&state), &audit)
            .await
            .map_err(refusal)?;
        out.push(TicketCreated {
            ticket: row.view(),
            tracking_url: tracking_url(&state.config, &token),
        });
    }
    tx.commit().await?;
    state.events.publish(
        "ticket.created",
        DataClass::Tickets,
        serde_json::json!({ "incident_id": incident.id, "count": out.len() }),
    );
    Ok((StatusCode::CREATED, Json(out)))
}

async fn update_incident_tickets(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<IncidentTicketsBody>,
) -> Result<Json<BulkResult>, ApiError> {
    let reply = b.reply.as_deref().map(parse_body).transpose()?;
    let status = b.status.as_deref().map(TicketStatus::parse).transpose()?;
    if reply.is_none() && status.is_none() {
        return Err(DomainError::invalid("reply", "send a reply, a status, or both").into());
    }
    let ids = state
        .store
        .update_incident_tickets(
            &id,
            reply.as_deref(),
            status,
            p.audit(
                "incident.tickets.update",
                DataClass::Tickets,
                Some(id.clone()),
            ),
        )
        .await
        .map_err(|e| match e {
            TicketRefusal::Store(StoreError::NotFound) => ApiError::NotFound("incident"),
            e => refusal(e),
        })?;
    state.events.publish(
        "ticket.bulk_update",
        DataClass::Tickets,
        serde_json::json!({ "incident_id": id, "count": ids.len() }),
    );
    Ok(Json(BulkResult {
        updated: ids.len(),
        ticket_ids: ids,
    }))
}

async fn list_calendars(
    State(state): State<AppState>,
) -> Result<Json<Vec<CalendarView>>, ApiError> {
    Ok(Json(state.store.calendars().await?))
}

async fn create_calendar(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<CalendarBody>,
) -> Result<(StatusCode, Json<CalendarView>), ApiError> {
    let name = parse_label("name", &b.name)?;
    let periods = b
        .periods
        .iter()
        .map(Period::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let holidays = Calendar::parse_holidays(&b.holidays)?;
    let calendar = Calendar::new(&b.timezone, &periods, &holidays)?;
    let new = NewCalendar {
        name,
        calendar,
        periods,
        holidays,
    };
    let view = state
        .store
        .create_calendar(
            &new,
            p.audit("sla.calendar.create", DataClass::Settings, None),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                ApiError::Conflict("a calendar with this name exists".into())
            }
            e => e.into(),
        })?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn list_policies(State(state): State<AppState>) -> Result<Json<Vec<SlaPolicy>>, ApiError> {
    Ok(Json(state.store.policies().await?))
}

async fn create_policy(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<PolicyBody>,
) -> Result<(StatusCode, Json<SlaPolicy>), ApiError> {
    let mins = |field: &'static str, v: Option<i64>| match v {
        Some(m) if !(1..=525_600).contains(&m) => {
            Err(DomainError::invalid(field, "must be 1 to 525600 minutes"))
        }
        m => Ok(m),
    };
    let policy = SlaPolicy {
        id: Id::new(Kind::SlaPolicy).to_string(),
        name: parse_label("name", &b.name)?,
        priority: b.priority.as_deref().map(Priority::parse).transpose()?,
        segment: b
            .segment
            .as_deref()
            .map(|s| parse_label("segment", s))
            .transpose()?,
        first_response_mins: mins("first_response_mins", b.first_response_mins)?,
        next_response_mins: mins("next_response_mins", b.next_response_mins)?,
        resolution_mins: mins("resolution_mins", b.resolution_mins)?,
        calendar_id: b
            .calendar_id
            .as_deref()
            .map(|c| {
                Id::parse(Kind::Calendar, c.trim())
                    .map(|i| i.to_string())
                    .ok_or_else(|| DomainError::invalid("calendar_id", "looks like cal_..."))
            })
            .transpose()?,
        warn_before_mins: match b.warn_before_mins {
            Some(m) if !(0..=10_080).contains(&m) => {
                return Err(DomainError::invalid("warn_before_mins", "must be 0 to 10080").into())
            }
            m => m.unwrap_or(30),
        },
        created_at: Time(crate::storage::now_ms()),
    };
    if policy.first_response_mins.is_none()
        && policy.next_response_mins.is_none()
        && policy.resolution_mins.is_none()
    {
        return Err(DomainError::invalid("first_response_mins", "set at least one target").into());
    }
    let stored = state
        .store
        .create_policy(
            &policy,
            p.audit("sla.policy.create", DataClass::Settings, None),
        )
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::Unprocessable {
                code: "unknown_reference",
                detail: "calendar_id: no such calendar".into(),
            },
            StoreError::Conflict(_) => ApiError::Conflict("a policy with this name exists".into()),
            e => e.into(),
        })?;
    Ok((StatusCode::CREATED, Json(stored)))
}

pub(crate) fn parse_range(
    q: &ScorecardQuery,
) -> Result<(chrono::NaiveDate, chrono::NaiveDate, Grain, &'static str), DomainError> {
    let date = |field: &'static str, s: &str| {
        chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map_err(|_| DomainError::invalid(field, "dates are YYYY-MM-DD"))
    };
    let today = chrono::Utc::now().date_naive();
    let to =
        q.to.as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| date("to", s))
            .transpose()?
            .unwrap_or(today);
    let from = q
        .from
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| date("from", s))
        .transpose()?
        .unwrap_or(to - chrono::Duration::days(29));
    if from > to {
        return Err(DomainError::invalid("from", "must not be after `to`"));
    }
    if (to - from).num_days() > 3 * 366 {
        return Err(DomainError::invalid(
            "from",
            "ranges are three years at most",
        ));
    }
    let grain = Grain::parse(q.by.as_deref().filter(|s| !s.is_empty()).unwrap_or("day"))?;
    let dim = scorecard::parse_dimension(
        q.dimension
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or("all"),
    )?;
    Ok((from, to, grain, dim))
}

async fn get_scorecard(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ScorecardQuery>,
) -> Result<Json<Scorecard>, ApiError> {
    let (from, to, grain, dim) = parse_range(&q)?;
    Ok(Json(
        scorecard::build(&state.store, from, to, grain, dim).await?,
    ))
}

async fn scorecard_csv(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ScorecardQuery>,
) -> Result<Response, ApiError> {
    let (from, to, grain, dim) = parse_range(&q)?;
    let card = scorecard::build(&state.store, from, to, grain, dim).await?;
    let body = scorecard::to_csv(&card).map_err(|e| ApiError::Internal(e.into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"scorecard-{from}-{to}-{dim}.csv\""),
            ),
        ],
        body,
    )
        .into_response())
}

async fn journey(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ScorecardQuery>,
) -> Result<Json<crate::journey::JourneyView>, ApiError> {
    let (from, to, _, _) = parse_range(&q)?;
    Ok(Json(crate::journey::build(&state.store, from, to).await?))
}

async fn put_stage(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<StageBody>,
) -> Result<(StatusCode, Json<crate::journey::Stage>), ApiError> {
    let key = parse_label("key", &b.key)?;
    let name = parse_label("name", &b.name)?;
    if b.touchpoints.len() > 50 {
        return Err(DomainError::invalid("touchpoints", "50 at most").into());
    }
    let touchpoints = b
        .touchpoints
        .iter()
        .map(|t| parse_label("touchpoints", t))
        .collect::<Result<Vec<_>, _>>()?;
    let stage = crate::journey::Stage {
        key,
        name,
        position: b.position.unwrap_or(0),
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
    .await
    .map_err(|e| match e {
        StoreError::Conflict(_) => {
            ApiError::Conflict("a touchpoint with this key belongs to another stage".into())
        }
        e => e.into(),
    })?;
    Ok((StatusCode::CREATED, Json(stage)))
}
