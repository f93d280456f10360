//! Support tickets: the record, its history (changes, public replies,
//! internal notes, SLA warnings and breaches), the SLA clock, and the
//! customer's secret tracking link. Every change is one transaction with
//! its audit entry and the scorecard's rollups.

use serde::Serialize;

use super::feedback::KeyCache;
use super::incidents::Time;
use super::scorecard::TicketFact;
use super::sla::{Sla, Target};
use super::{now_ms, AuditRecord, Result, Row, Store, StoreError, Tx, Value};
use crate::args;
use crate::domain::calendar::{add_business, business_ms};
use crate::domain::feedback::Contact;
use crate::domain::ticket::{Priority, TicketStatus};
use crate::domain::{id::Kind, DataClass, Id};
use crate::privacy::KeyRing;

/// A ticket as staff see it. The customer's contact is not here: it is
/// sealed, and opened only for `contact:view` (audited).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ticket {
    pub id: String,
    pub subject: String,
    pub status: TicketStatus,
    pub priority: Priority,
    pub channel: String,
    pub segment: Option<String>,
    pub component: Option<String>,
    pub language: Option<String>,
    pub journey_stage: Option<String>,
    pub touchpoint: Option<String>,
    pub topic: Option<String>,
    pub group: Option<String>,
    pub assignee_id: Option<String>,
    pub incident_id: Option<String>,
    pub feedback_id: Option<String>,
    /// An earlier ticket from the same customer on the same topic within
    /// the repeat window.
    pub repeat_of: Option<String>,
    pub has_contact: bool,
    pub sla_policy_id: Option<String>,
    #[schema(value_type = Option<String>)]
    pub first_response_due_at: Option<Time>,
    #[schema(value_type = Option<String>)]
    pub next_response_due_at: Option<Time>,
    #[schema(value_type = Option<String>)]
    pub resolution_due_at: Option<Time>,
    /// Targets missed: first_response, next_response, resolution.
    pub breached: Vec<Target>,
    /// Business seconds the SLA clock has counted (pending excluded).
    pub sla_clock_secs: i64,
    #[schema(value_type = Option<String>)]
    pub first_response_at: Option<Time>,
    pub first_response_secs: Option<i64>,
    pub first_response_business_secs: Option<i64>,
    #[schema(value_type = Option<String>)]
    pub solved_at: Option<Time>,
    pub solve_secs: Option<i64>,
    pub solve_business_secs: Option<i64>,
    #[schema(value_type = Option<String>)]
    pub closed_at: Option<Time>,
    pub agent_replies: i64,
    pub reopen_count: i64,
    /// Whether the customer is asked for a CSAT rating on the tracking page.
    pub csat_offered: bool,
    pub created_by: String,
    #[schema(value_type = String)]
    pub created_at: Time,
    #[schema(value_type = String)]
    pub updated_at: Time,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TicketEvent {
    pub id: String,
    /// created, reply (agent, public), customer_reply, note (internal),
    /// status, priority, assignee, group, labels, sla_warning, sla_breach, csat.
    pub kind: String,
    /// Shown to the customer on the tracking page.
    pub public: bool,
    pub body: String,
    pub actor: String,
    #[schema(value_type = String)]
    pub at: Time,
}

/// A ticket to open: checked values. Text from the customer is already
/// redacted.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub subject: String,
    pub description: String,
    pub priority: Priority,
    pub channel: String,
    pub segment: Option<String>,
    pub component: Option<String>,
    pub language: Option<String>,
    pub journey_stage: Option<String>,
    pub touchpoint: Option<String>,
    pub topic: Option<String>,
    pub group: Option<String>,
    pub assignee_id: Option<String>,
    pub incident_id: Option<String>,
    pub feedback_id: Option<String>,
    pub contact: Option<Contact>,
}

/// Fields to change; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct TicketChange {
    pub status: Option<TicketStatus>,
    pub priority: Option<Priority>,
    pub assignee_id: Option<Option<String>>,
    pub group: Option<Option<String>>,
    pub segment: Option<Option<String>>,
    pub topic: Option<Option<String>>,
    pub journey_stage: Option<Option<String>>,
    pub touchpoint: Option<Option<String>>,
    /// A person solving it: the customer is offered CSAT. False for
    /// automatic and bulk solves.
    pub offer_csat: bool,
}

/// Who writes a message on a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    /// Staff, public: counts as a response.
    Agent,
    /// Staff, internal: never shown to the customer.
    Note,
    /// The customer, through the tracking link.
    Customer,
}

#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub status: Option<TicketStatus>,
    pub active: bool,
    pub priority: Option<Priority>,
    pub assignee_id: Option<String>,
    pub group: Option<String>,
    pub incident_id: Option<String>,
    /// Some SLA target due within this many ms (or already overdue).
    pub breaching_within_ms: Option<i64>,
    pub before: Option<String>,
    pub limit: i64,
}

/// Why a ticket change is refused.
#[derive(Debug, thiserror::Error)]
pub enum TicketRefusal {
    #[error("a {from} ticket cannot become {to}; allowed: {allowed}")]
    Transition {
        from: TicketStatus,
        to: TicketStatus,
        allowed: String,
    },
    #[error("assignee_id: no such active staff user")]
    UnknownUser,
    #[error("incident_id: no such incident")]
    UnknownIncident,
    #[error("this ticket is closed; a new message opens a new ticket")]
    Closed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub(super) const COLUMNS: &str =
    "id, title, status, priority, channel, segment, component, language, \
journey_stage, touchpoint, topic, group_name, assignee_id, incident_id, feedback_id, subject_id, \
contact_sealed, contact_blind, tracking_hash, repeat_of, sla_policy_id, clock_bms, clock_since, \
frt_due_at, nrt_due_at, res_due_at, frt_breached, nrt_breached, res_breached, first_response_at, \
first_response_ms, first_response_bms, solved_at, solve_ms, solve_bms, closed_at, agent_replies, \
reopen_count, csat_offered, created_by, created_at, updated_at";

/// Everything stored for a ticket, as the clock and the rollups need it.
#[derive(Debug, Clone)]
pub(crate) struct TicketRow {
    pub id: String,
    pub title: String,
    pub status: TicketStatus,
    pub priority: Priority,
    pub channel: String,
    pub segment: Option<String>,
    pub component: Option<String>,
    pub language: Option<String>,
    pub journey_stage: Option<String>,
    pub touchpoint: Option<String>,
    pub topic: Option<String>,
    pub group: Option<String>,
    pub assignee_id: Option<String>,
    pub incident_id: Option<String>,
    pub feedback_id: Option<String>,
    pub subject_id: Option<String>,
    pub contact_sealed: Option<Vec<u8>>,
    pub repeat_of: Option<String>,
    pub sla_policy_id: Option<String>,
    pub clock_bms: i64,
    pub clock_since: Option<i64>,
    pub frt_due_at: Option<i64>,
    pub nrt_due_at: Option<i64>,
    pub res_due_at: Option<i64>,
    pub frt_breached: bool,
    pub nrt_breached: bool,
    pub res_breached: bool,
    pub first_response_at: Option<i64>,
    pub first_response_ms: Option<i64>,
    pub first_response_bms: Option<i64>,
    pub solved_at: Option<i64>,
    pub solve_ms: Option<i64>,
    pub solve_bms: Option<i64>,
    pub closed_at: Option<i64>,
    pub agent_replies: i64,
    pub reopen_count: i64,
    pub csat_offered: bool,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TicketRow {
    pub(crate) fn from_row(r: &Row) -> Result<Self> {
        let corrupt = |w: &str| StoreError::Corrupt(format!("ticket {w}"));
        Ok(Self {
            id: r.get("id")?,
            title: r.get("title")?,
            status: TicketStatus::from_db(&r.get::<String>("status")?)
                .ok_or_else(|| corrupt("status"))?,
            priority: Priority::from_db(&r.get::<String>("priority")?)
                .ok_or_else(|| corrupt("priority"))?,
            channel: r.get("channel")?,
            segment: r.get("segment")?,
            component: r.get("component")?,
            language: r.get("language")?,
            journey_stage: r.get("journey_stage")?,
            touchpoint: r.get("touchpoint")?,
            topic: r.get("topic")?,
            group: r.get("group_name")?,
            assignee_id: r.get("assignee_id")?,
            incident_id: r.get("incident_id")?,
            feedback_id: r.get("feedback_id")?,
            subject_id: r.get("subject_id")?,
            contact_sealed: r.get("contact_sealed")?,
            repeat_of: r.get("repeat_of")?,
            sla_policy_id: r.get("sla_policy_id")?,
            clock_bms: r.get("clock_bms")?,
            clock_since: r.get("clock_since")?,
            frt_due_at: r.get("frt_due_at")?,
            nrt_due_at: r.get("nrt_due_at")?,
            res_due_at: r.get("res_due_at")?,
            frt_breached: r.get("frt_breached")?,
            nrt_breached: r.get("nrt_breached")?,
            res_breached: r.get("res_breached")?,
            first_response_at: r.get("first_response_at")?,
            first_response_ms: r.get("first_response_ms")?,
            first_response_bms: r.get("first_response_bms")?,
            solved_at: r.get("solved_at")?,
            solve_ms: r.get("solve_ms")?,
            solve_bms: r.get("solve_bms")?,
            closed_at: r.get("closed_at")?,
            agent_replies: r.get("agent_replies")?,
            reopen_count: r.get("reopen_count")?,
            csat_offered: r.get("csat_offered")?,
            created_by: r.get("created_by")?,
            created_at: r.get("created_at")?,
            updated_at: r.get("updated_at")?,
        })
    }

    pub(crate) fn view(&self) -> Ticket {
        let secs = |v: Option<i64>| v.map(|ms| ms / 1000);
        let breached = [
            (self.frt_breached, Target::FirstResponse),
            (self.nrt_breached, Target::NextResponse),
            (self.res_breached, Target::Resolution),
        ]
        .into_iter()
        .filter_map(|(b, t)| b.then_some(t))
        .collect();
        Ticket {
            id: self.id.clone(),
            subject: self.title.clone(),
            status: self.status,
            priority: self.priority,
            channel: self.channel.clone(),
            segment: self.segment.clone(),
            component: self.component.clone(),
            language: self.language.clone(),
            journey_stage: self.journey_stage.clone(),
            touchpoint: self.touchpoint.clone(),
            topic: self.topic.clone(),
            group: self.group.clone(),
            assignee_id: self.assignee_id.clone(),
            incident_id: self.incident_id.clone(),
            feedback_id: self.feedback_id.clone(),
            repeat_of: self.repeat_of.clone(),
            has_contact: self.contact_sealed.is_some(),
            sla_policy_id: self.sla_policy_id.clone(),
            first_response_due_at: self.frt_due_at.map(Time),
            next_response_due_at: self.nrt_due_at.map(Time),
            resolution_due_at: self.res_due_at.map(Time),
            breached,
            sla_clock_secs: self.clock_bms / 1000,
            first_response_at: self.first_response_at.map(Time),
            first_response_secs: secs(self.first_response_ms),
            first_response_business_secs: secs(self.first_response_bms),
            solved_at: self.solved_at.map(Time),
            solve_secs: secs(self.solve_ms),
            solve_business_secs: secs(self.solve_bms),
            closed_at: self.closed_at.map(Time),
            agent_replies: self.agent_replies,
            reopen_count: self.reopen_count,
            csat_offered: self.csat_offered,
            created_by: self.created_by.clone(),
            created_at: Time(self.created_at),
            updated_at: Time(self.updated_at),
        }
    }

    fn fact(&self) -> TicketFact {
        TicketFact {
            channel: self.channel.clone(),
            segment: self.segment.clone(),
            component: self.component.clone(),
            language: self.language.clone(),
            journey_stage: self.journey_stage.clone(),
        }
    }

    /// Business ms on the clock at `now`.
    fn clock_at(&self, sla: Option<&Sla>, now: i64) -> i64 {
        match self.clock_since {
            Some(since) => {
                self.clock_bms + business_ms(sla.and_then(|s| s.calendar.as_ref()), since, now)
            }
            None => self.clock_bms,
        }
    }

    /// Stops or starts the clock for the ticket's (new) status.
    fn settle_clock(&mut self, sla: Option<&Sla>, now: i64) {
        let runs = self.status.clock_runs();
        match (self.clock_since, runs) {
            (Some(_), false) => {
                self.clock_bms = self.clock_at(sla, now);
                self.clock_since = None;
            }
            (None, true) => self.clock_since = Some(now),
            _ => {}
        }
    }

    /// Due instants of the targets still open, while the clock runs.
    fn set_dues(&mut self, sla: Option<&Sla>) {
        let Some(sla) = sla else {
            self.frt_due_at = None;
            self.nrt_due_at = None;
            self.res_due_at = None;
            return;
        };
        let cal = sla.calendar.as_ref();
        let due = |target: Option<i64>, row: &Self| {
            let since = row.clock_since?;
            let left = (target? - row.clock_bms).max(0);
            add_business(cal, since, left)
        };
        self.frt_due_at = if self.first_response_at.is_none() {
            due(sla.target_ms(Target::FirstResponse), self)
        } else {
            None
        };
        if self.clock_since.is_none() {
            self.nrt_due_at = None;
        }
        self.res_due_at = if self.solved_at.is_none() {
            due(sla.target_ms(Target::Resolution), self)
        } else {
            None
        };
    }
}

fn day_of(ms: i64) -> i64 {
    ms.div_euclid(86_400_000)
}

impl Tx {
    pub(crate) async fn ticket_row(&mut self, id: &str) -> Result<Option<TicketRow>> {
        self.fetch_optional(
            &format!("SELECT {COLUMNS} FROM tickets WHERE id = $1"),
            args![id],
        )
        .await?
        .as_ref()
        .map(TicketRow::from_row)
        .transpose()
    }

    /// Queues mail to the customer about their ticket (only tickets with a
    /// sealed contact and tracking token; one per event and `key`).
    async fn queue_customer_mail(
        &mut self,
        t: &TicketRow,
        event: &str,
        key: Option<&str>,
    ) -> Result<()> {
        if t.contact_sealed.is_none() {
            return Ok(());
        }
        let mail = crate::notify::ticket_mail::TicketMail {
            event: event.to_owned(),
            event_id: (event == "reply").then(|| key.unwrap_or_default().to_owned()),
        };
        let payload =
            serde_json::to_string(&mail).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let id = match key {
            Some(k) => format!("ticket.{}.{event}.{k}", t.id),
            None => format!("ticket.{}.{event}", t.id),
        };
        let now = now_ms();
        self.execute(
            "INSERT INTO outbox (id, purpose, incident_id, update_id, recipient_kind, recipient_id, channel, language, payload, state, attempts, next_attempt_at, created_at, updated_at)
             VALUES ($1, 'ticket', NULL, NULL, 'ticket', $2, 'email', $3, $4, 'queued', 0, $5, $5, $5)
             ON CONFLICT (id) DO NOTHING",
            args![
                id,
                &t.id,
                crate::notify::ticket_mail::language_of(t.language.as_deref()),
                payload,
                now
            ],
        )
        .await?;
        crate::notify::worker::wake();
        Ok(())
    }

    pub(crate) async fn ticket_event(
        &mut self,
        ticket: &str,
        kind: &str,
        public: bool,
        body: &str,
        actor: &str,
    ) -> Result<TicketEvent> {
        // Strictly increasing per ticket, so the order within one ms is kept.
        let last = self
            .fetch_optional(
                "SELECT MAX(at) AS last FROM ticket_events WHERE ticket_id = $1",
                args![ticket],
            )
            .await?
            .map(|r| r.get::<Option<i64>>("last"))
            .transpose()?
            .flatten();
        let at = last.map_or(now_ms(), |l| now_ms().max(l + 1));
        let ev = TicketEvent {
            id: Id::new(Kind::TicketEvent).to_string(),
            kind: kind.to_owned(),
            public,
            body: body.to_owned(),
            actor: actor.to_owned(),
            at: Time(at),
        };
        self.execute(
            "INSERT INTO ticket_events (id, ticket_id, kind, public, body, actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            args![&ev.id, ticket, kind, public, body, actor, at],
        )
        .await?;
        Ok(ev)
    }

    async fn save_ticket(&mut self, t: &TicketRow) -> Result<()> {
        self.execute(
            "UPDATE tickets SET status = $2, priority = $3, segment = $4, topic = $5, group_name = $6,
               assignee_id = $7, journey_stage = $8, touchpoint = $9, sla_policy_id = $10,
               clock_bms = $11, clock_since = $12, frt_due_at = $13, nrt_due_at = $14, res_due_at = $15,
               frt_breached = $16, nrt_breached = $17, res_breached = $18, first_response_at = $19,
               first_response_ms = $20, first_response_bms = $21, solved_at = $22, solve_ms = $23,
               solve_bms = $24, closed_at = $25, agent_replies = $26, reopen_count = $27,
               csat_offered = $28, updated_at = $29
             WHERE id = $1",
            args![
                &t.id,
                t.status.as_str(),
                t.priority.as_str(),
                t.segment.clone(),
                t.topic.clone(),
                t.group.clone(),
                t.assignee_id.clone(),
                t.journey_stage.clone(),
                t.touchpoint.clone(),
                t.sla_policy_id.clone(),
                t.clock_bms,
                t.clock_since,
                t.frt_due_at,
                t.nrt_due_at,
                t.res_due_at,
                t.frt_breached,
                t.nrt_breached,
                t.res_breached,
                t.first_response_at,
                t.first_response_ms,
                t.first_response_bms,
                t.solved_at,
                t.solve_ms,
                t.solve_bms,
                t.closed_at,
                t.agent_replies,
                t.reopen_count,
                t.csat_offered,
                t.updated_at
            ],
        )
        .await?;
        Ok(())
    }

    async fn check_user(&mut self, id: &str) -> Result<bool> {
        Ok(self
            .fetch_optional(
                "SELECT id FROM users WHERE id = $1 AND disabled = FALSE",
                args![id],
            )
            .await?
            .is_some())
    }

    async fn sla_of(&mut self, t: &TicketRow) -> Result<Option<Sla>> {
        match &t.sla_policy_id {
            Some(id) => self.sla_by_id(id).await,
            None => Ok(None),
        }
    }

    /// Opens a ticket. Returns it with the tracking token (shown once).
    pub(crate) async fn insert_ticket(
        &mut self,
        ring: &KeyRing,
        new: &NewTicket,
        repeat_window_ms: i64,
        by: &AuditRecord,
    ) -> Result<(TicketRow, String), TicketRefusal> {
        if let Some(a) = &new.assignee_id {
            if !self.check_user(a).await? {
                return Err(TicketRefusal::UnknownUser);
            }
        }
        if let Some(i) = &new.incident_id {
            if self
                .fetch_optional("SELECT id FROM incidents WHERE id = $1", args![i])
                .await?
                .is_none()
            {
                return Err(TicketRefusal::UnknownIncident);
            }
        }
        let id = Id::new(Kind::Ticket).to_string();
        let now = now_ms();
        let token = super::tokens::new_secret("");
        let (mut subject, mut sealed, mut blind) = (None, None, None);
        let mut tracking_sealed = None;
        if let Some(c) = &new.contact {
            let mut blinds = Vec::new();
            if let Some(e) = &c.email {
                blinds.push(ring.blind_index("email", e));
            }
            if let Some(p) = &c.phone {
                blinds.push(ring.blind_index("phone", p));
            }
            let mut cache = KeyCache::default();
            let s = self.subject_for(ring, &blinds, &mut cache).await?;
            let key = self.subject_key(ring, &s, &mut cache).await?;
            let json = serde_json::to_vec(c).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sealed = Some(key.seal(&json, &id, "contact"));
            tracking_sealed = Some(key.seal(token.as_bytes(), &id, "tracking"));
            subject = Some(s);
            blind = blinds.first().cloned();
        }
        // The same customer on the same topic within the window: flagged.
        let repeat_of = match (&blind, &new.topic) {
            (Some(b), Some(topic)) => self
                .fetch_optional(
                    "SELECT id FROM tickets WHERE contact_blind = $1 AND topic = $2 AND created_at >= $3
                     ORDER BY created_at DESC LIMIT 1",
                    args![b, topic, now - repeat_window_ms],
                )
                .await?
                .map(|r| r.get::<String>("id"))
                .transpose()?,
            _ => None,
        };
        let sla = self.sla_for(new.priority, new.segment.as_deref()).await?;
        let status = if new.assignee_id.is_some() {
            TicketStatus::Open
        } else {
            TicketStatus::New
        };
        let mut row = TicketRow {
            id: id.clone(),
            title: new.subject.clone(),
            status,
            priority: new.priority,
            channel: new.channel.clone(),
            segment: new.segment.clone(),
            component: new.component.clone(),
            language: new.language.clone(),
            journey_stage: new.journey_stage.clone(),
            touchpoint: new.touchpoint.clone(),
            topic: new.topic.clone(),
            group: new.group.clone(),
            assignee_id: new.assignee_id.clone(),
            incident_id: new.incident_id.clone(),
            feedback_id: new.feedback_id.clone(),
            subject_id: subject.clone(),
            contact_sealed: sealed.clone(),
            repeat_of: repeat_of.clone(),
            sla_policy_id: sla.as_ref().map(|s| s.policy.id.clone()),
            clock_bms: 0,
            clock_since: Some(now),
            frt_due_at: None,
            nrt_due_at: None,
            res_due_at: None,
            frt_breached: false,
            nrt_breached: false,
            res_breached: false,
            first_response_at: None,
            first_response_ms: None,
            first_response_bms: None,
            solved_at: None,
            solve_ms: None,
            solve_bms: None,
            closed_at: None,
            agent_replies: 0,
            reopen_count: 0,
            csat_offered: false,
            created_by: by.actor.clone(),
            created_at: now,
            updated_at: now,
        };
        row.set_dues(sla.as_ref());
        let bytes = |b: Option<Vec<u8>>| b.map_or(Value::NullBytes, Value::Bytes);
        self.execute(
            &format!(
                "INSERT INTO tickets ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                 $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, FALSE, FALSE, FALSE, NULL, NULL, NULL, NULL, NULL,
                 NULL, NULL, 0, 0, FALSE, $27, $28, $28)"
            ),
            vec![
                Value::from(&id),
                row.title.clone().into(),
                row.status.as_str().into(),
                row.priority.as_str().into(),
                row.channel.clone().into(),
                row.segment.clone().into(),
                row.component.clone().into(),
                row.language.clone().into(),
                row.journey_stage.clone().into(),
                row.touchpoint.clone().into(),
                row.topic.clone().into(),
                row.group.clone().into(),
                row.assignee_id.clone().into(),
                row.incident_id.clone().into(),
                row.feedback_id.clone().into(),
                subject.into(),
                bytes(sealed),
                blind.into(),
                super::tokens::hash_secret(&token).into(),
                repeat_of.clone().into(),
                row.sla_policy_id.clone().into(),
                0i64.into(),
                Some(now).into(),
                row.frt_due_at.into(),
                row.nrt_due_at.into(),
                row.res_due_at.into(),
                by.actor.clone().into(),
                now.into(),
            ],
        )
        .await?;
        self.ticket_event(&id, "created", true, &new.description, &by.actor)
            .await?;
        if let Some(t) = tracking_sealed {
            self.execute(
                "UPDATE tickets SET tracking_sealed = $1 WHERE id = $2",
                vec![Value::Bytes(t), Value::from(&id)],
            )
            .await?;
            self.queue_customer_mail(&row, "created", None).await?;
        }
        if let Some(r) = &repeat_of {
            self.ticket_event(&id, "repeat", false, &format!("Repeat of {r}"), "system")
                .await?;
        }
        self.roll_up_ticket(&row.fact(), day_of(now), |d| {
            d.created = 1;
            d.backlog_delta = 1;
        })
        .await?;
        if let Some(incident) = &row.incident_id {
            // Named by id, channel and priority only: the subject may be
            // the customer's own words.
            self.timeline(
                incident,
                "ticket",
                &format!(
                    "Ticket {id} opened ({}, {})",
                    row.channel,
                    row.priority.as_str()
                ),
                &by.actor,
            )
            .await?;
        }
        self.audit(AuditRecord {
            action: "ticket.create".into(),
            class: DataClass::Tickets,
            record: Some(id.clone()),
            detail: serde_json::json!({
                "priority": row.priority.as_str(),
                "channel": row.channel,
                "incident_id": row.incident_id,
                "feedback_id": row.feedback_id,
                "repeat_of": repeat_of,
            }),
            ..by.clone()
        })
        .await?;
        Ok((row, token))
    }

    /// Applies a change to a ticket: transitions checked, clock and dues
    /// settled, history, audit and rollups written. Returns the events added.
    pub(crate) async fn change_ticket(
        &mut self,
        id: &str,
        change: &TicketChange,
        by: &AuditRecord,
    ) -> Result<(TicketRow, Vec<TicketEvent>), TicketRefusal> {
        let mut t = self.ticket_row(id).await?.ok_or(StoreError::NotFound)?;
        let now = now_ms();
        let mut sla = self.sla_of(&t).await?;
        let mut events = Vec::new();
        let mut changed: Vec<&str> = Vec::new();
        if let Some(Some(a)) = &change.assignee_id {
            if !self.check_user(a).await? {
                return Err(TicketRefusal::UnknownUser);
            }
        }
        if let Some(to) = change.status {
            if to != t.status {
                if !t.status.can_become(to) {
                    return Err(TicketRefusal::Transition {
                        from: t.status,
                        to,
                        allowed: t
                            .status
                            .next()
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                }
                let from = t.status;
                self.move_status(&mut t, sla.as_ref(), to, change.offer_csat, now)
                    .await?;
                events.push(
                    self.ticket_event(id, "status", true, &format!("{from} → {to}"), &by.actor)
                        .await?,
                );
                changed.push("status");
            }
        }
        if let Some(p) = change.priority {
            if p != t.priority {
                events.push(
                    self.ticket_event(
                        id,
                        "priority",
                        false,
                        &format!("{} → {p}", t.priority),
                        &by.actor,
                    )
                    .await?,
                );
                t.priority = p;
                changed.push("priority");
            }
        }
        if let Some(a) = &change.assignee_id {
            if *a != t.assignee_id {
                let body = a.clone().unwrap_or_else(|| "unassigned".into());
                events.push(
                    self.ticket_event(id, "assignee", false, &body, &by.actor)
                        .await?,
                );
                t.assignee_id = a.clone();
                changed.push("assignee");
                if t.status == TicketStatus::New && a.is_some() {
                    t.status = TicketStatus::Open;
                }
            }
        }
        let mut label =
            |name: &'static str, field: &mut Option<String>, v: &Option<Option<String>>| {
                if let Some(v) = v {
                    if v != field {
                        *field = v.clone();
                        changed.push(name);
                        return true;
                    }
                }
                false
            };
        let mut relabeled = Vec::new();
        if label("group", &mut t.group, &change.group) {
            relabeled.push(format!("group: {}", t.group.as_deref().unwrap_or("-")));
        }
        let segment_changed = label("segment", &mut t.segment, &change.segment);
        if segment_changed {
            relabeled.push(format!("segment: {}", t.segment.as_deref().unwrap_or("-")));
        }
        if label("topic", &mut t.topic, &change.topic) {
            relabeled.push(format!("topic: {}", t.topic.as_deref().unwrap_or("-")));
        }
        if label("journey_stage", &mut t.journey_stage, &change.journey_stage) {
            relabeled.push(format!(
                "journey stage: {}",
                t.journey_stage.as_deref().unwrap_or("-")
            ));
        }
        if label("touchpoint", &mut t.touchpoint, &change.touchpoint) {
            relabeled.push(format!(
                "touchpoint: {}",
                t.touchpoint.as_deref().unwrap_or("-")
            ));
        }
        if !relabeled.is_empty() {
            events.push(
                self.ticket_event(id, "labels", false, &relabeled.join(", "), &by.actor)
                    .await?,
            );
        }
        // A new priority or segment may select another policy; the time
        // already counted carries over.
        if changed.iter().any(|c| *c == "priority" || *c == "segment") {
            sla = self.sla_for(t.priority, t.segment.as_deref()).await?;
            t.sla_policy_id = sla.as_ref().map(|s| s.policy.id.clone());
        }
        if changed.is_empty() {
            return Ok((t, events));
        }
        t.set_dues(sla.as_ref());
        t.updated_at = now;
        self.save_ticket(&t).await?;
        self.audit(AuditRecord {
            action: "ticket.update".into(),
            class: DataClass::Tickets,
            record: Some(id.to_owned()),
            detail: serde_json::json!({ "changed": changed, "status": t.status.as_str() }),
            ..by.clone()
        })
        .await?;
        Ok((t, events))
    }

    /// Moves the status, with what each move means for the clock, the
    /// stored times and the rollups.
    async fn move_status(
        &mut self,
        t: &mut TicketRow,
        sla: Option<&Sla>,
        to: TicketStatus,
        offer_csat: bool,
        now: i64,
    ) -> Result<()> {
        let from = t.status;
        t.status = to;
        t.settle_clock(sla, now);
        let day = day_of(now);
        let fact = t.fact();
        match to {
            TicketStatus::Solved => {
                // Only a ticket that was never reopened is solved for the first time.
                let first = t.reopen_count == 0;
                let nth = t.reopen_count.to_string();
                self.queue_customer_mail(t, "solved", Some(&nth)).await?;
                t.solved_at = Some(now);
                t.solve_ms = Some(now - t.created_at);
                t.solve_bms = Some(t.clock_bms);
                t.csat_offered = offer_csat;
                let target = sla.and_then(|s| s.target_ms(Target::Resolution));
                let fcr = first && t.agent_replies <= 1 && t.reopen_count == 0;
                let met = target.map(|g| t.clock_bms <= g);
                if met == Some(false) && !t.res_breached {
                    t.res_breached = true;
                }
                self.roll_up_ticket(&fact, day, |d| {
                    d.solved = 1;
                    d.backlog_delta = -1;
                    if first {
                        d.fcr = i64::from(fcr);
                        match met {
                            Some(true) => d.res_met = 1,
                            Some(false) => d.res_missed = 1,
                            None => {}
                        }
                    }
                })
                .await?;
                if first {
                    self.roll_up_time(&fact, day, "res_cal", now - t.created_at)
                        .await?;
                    self.roll_up_time(&fact, day, "res_bus", t.clock_bms)
                        .await?;
                }
                t.nrt_due_at = None;
            }
            TicketStatus::Reopened => {
                // A first solve counted as first-contact resolution is not
                // one once the customer comes back: take it back on the day
                // it was counted.
                if t.reopen_count == 0 && t.agent_replies <= 1 {
                    if let Some(solved) = t.solved_at {
                        self.roll_up_ticket(&fact, day_of(solved), |d| d.fcr = -1)
                            .await?;
                    }
                }
                t.reopen_count += 1;
                t.csat_offered = false;
                self.roll_up_ticket(&fact, day, |d| {
                    d.reopened = 1;
                    d.backlog_delta = 1;
                })
                .await?;
            }
            TicketStatus::Closed => {
                t.closed_at = Some(now);
            }
            _ => {}
        }
        // Reopened: the resolution target counts again from where it stood.
        if from == TicketStatus::Solved && to == TicketStatus::Reopened {
            t.solved_at = None;
        }
        Ok(())
    }

    /// A public reply, an internal note, or the customer writing back.
    pub(crate) async fn add_message(
        &mut self,
        id: &str,
        author: Author,
        body: &str,
        by: &AuditRecord,
    ) -> Result<(TicketRow, TicketEvent), TicketRefusal> {
        let mut t = self.ticket_row(id).await?.ok_or(StoreError::NotFound)?;
        if t.status == TicketStatus::Closed && author != Author::Note {
            return Err(TicketRefusal::Closed);
        }
        let now = now_ms();
        let sla = self.sla_of(&t).await?;
        let (kind, public) = match author {
            Author::Agent => ("reply", true),
            Author::Note => ("note", false),
            Author::Customer => ("customer_reply", true),
        };
        let ev = self.ticket_event(id, kind, public, body, &by.actor).await?;
        if author == Author::Agent {
            self.queue_customer_mail(&t, "reply", Some(&ev.id)).await?;
        }
        match author {
            Author::Agent => {
                t.agent_replies += 1;
                if t.first_response_at.is_none() {
                    let clock = t.clock_at(sla.as_ref(), now);
                    t.first_response_at = Some(now);
                    t.first_response_ms = Some(now - t.created_at);
                    t.first_response_bms = Some(clock);
                    let met = sla
                        .as_ref()
                        .and_then(|s| s.target_ms(Target::FirstResponse))
                        .map(|g| clock <= g);
                    if met == Some(false) {
                        t.frt_breached = true;
                    }
                    let fact = t.fact();
                    self.roll_up_ticket(&fact, day_of(now), |d| match met {
                        Some(true) => d.frt_met = 1,
                        Some(false) => d.frt_missed = 1,
                        None => {}
                    })
                    .await?;
                    self.roll_up_time(&fact, day_of(now), "frt_cal", now - t.created_at)
                        .await?;
                    self.roll_up_time(&fact, day_of(now), "frt_bus", clock)
                        .await?;
                }
                t.nrt_due_at = None;
                if t.status == TicketStatus::New {
                    t.status = TicketStatus::Open;
                }
            }
            Author::Customer => {
                let to = match t.status {
                    TicketStatus::Pending => Some(TicketStatus::Open),
                    TicketStatus::Solved => Some(TicketStatus::Reopened),
                    _ => None,
                };
                if let Some(to) = to {
                    let from = t.status;
                    self.move_status(&mut t, sla.as_ref(), to, false, now)
                        .await?;
                    self.ticket_event(id, "status", true, &format!("{from} → {to}"), "customer")
                        .await?;
                }
                // The next response is due from now, once the agent has
                // answered at least once.
                if t.first_response_at.is_some() && t.clock_since.is_some() {
                    let target = sla.as_ref().and_then(|s| s.target_ms(Target::NextResponse));
                    let cal = sla.as_ref().and_then(|s| s.calendar.as_ref());
                    t.nrt_due_at = target.and_then(|g| add_business(cal, now, g));
                }
            }
            Author::Note => {}
        }
        t.set_dues_keep_nrt(sla.as_ref());
        t.updated_at = now;
        self.save_ticket(&t).await?;
        self.audit(AuditRecord {
            action: format!("ticket.{kind}"),
            class: DataClass::Tickets,
            record: Some(id.to_owned()),
            detail: serde_json::json!({ "event": ev.id }),
            ..by.clone()
        })
        .await?;
        Ok((t, ev))
    }
}

impl TicketRow {
    fn set_dues_keep_nrt(&mut self, sla: Option<&Sla>) {
        let nrt = self.nrt_due_at;
        self.set_dues(sla);
        if self.clock_since.is_some() {
            self.nrt_due_at = nrt;
        }
    }
}

impl Store {
    pub(crate) async fn ticket_row(&self, id: &str) -> Result<Option<TicketRow>> {
        self.fetch_optional(
            &format!("SELECT {COLUMNS} FROM tickets WHERE id = $1"),
            args![id],
        )
        .await?
        .as_ref()
        .map(TicketRow::from_row)
        .transpose()
    }

    pub async fn ticket(&self, id: &str) -> Result<Option<Ticket>> {
        Ok(self.ticket_row(id).await?.map(|t| t.view()))
    }

    /// The ticket a tracking token opens.
    pub(crate) async fn ticket_by_token(&self, token: &str) -> Result<Option<TicketRow>> {
        if token.len() > 100 {
            return Ok(None);
        }
        self.fetch_optional(
            &format!("SELECT {COLUMNS} FROM tickets WHERE tracking_hash = $1"),
            args![super::tokens::hash_secret(token)],
        )
        .await?
        .as_ref()
        .map(TicketRow::from_row)
        .transpose()
    }

    pub async fn create_ticket(
        &self,
        ring: &KeyRing,
        new: &NewTicket,
        repeat_window_ms: i64,
        by: AuditRecord,
    ) -> Result<(Ticket, String), TicketRefusal> {
        let mut tx = self.begin().await?;
        let (row, token) = tx.insert_ticket(ring, new, repeat_window_ms, &by).await?;
        tx.commit().await?;
        Ok((row.view(), token))
    }

    pub async fn update_ticket(
        &self,
        id: &str,
        change: &TicketChange,
        by: AuditRecord,
    ) -> Result<(Ticket, Vec<TicketEvent>), TicketRefusal> {
        let mut tx = self.begin().await?;
        let (row, events) = tx.change_ticket(id, change, &by).await?;
        tx.commit().await?;
        Ok((row.view(), events))
    }

    pub async fn ticket_message(
        &self,
        id: &str,
        author: Author,
        body: &str,
        by: AuditRecord,
    ) -> Result<(Ticket, TicketEvent), TicketRefusal> {
        let mut tx = self.begin().await?;
        let (row, ev) = tx.add_message(id, author, body, &by).await?;
        tx.commit().await?;
        Ok((row.view(), ev))
    }

    /// A reply and/or status for every ticket of an incident, in one
    /// transaction. Tickets already closed (or already at the status) are
    /// left as they are. Returns how many tickets were changed.
    pub async fn update_incident_tickets(
        &self,
        incident: &str,
        reply: Option<&str>,
        status: Option<TicketStatus>,
        by: AuditRecord,
    ) -> Result<Vec<String>, TicketRefusal> {
        let mut tx = self.begin().await?;
        if tx
            .fetch_optional("SELECT id FROM incidents WHERE id = $1", args![incident])
            .await?
            .is_none()
        {
            return Err(TicketRefusal::Store(StoreError::NotFound));
        }
        let rows = tx
            .fetch_all(
                "SELECT id, status FROM tickets WHERE incident_id = $1 AND status <> 'closed' ORDER BY id",
                args![incident],
            )
            .await?;
        let mut changed = Vec::new();
        for r in rows {
            let id: String = r.get("id")?;
            let current = TicketStatus::from_db(&r.get::<String>("status")?);
            if let Some(body) = reply {
                tx.add_message(&id, Author::Agent, body, &by).await?;
            }
            if let Some(to) = status {
                let now_status = tx.ticket_row(&id).await?.map(|t| t.status).or(current);
                if now_status.is_some_and(|s| s != to && s.can_become(to)) {
                    let change = TicketChange {
                        status: Some(to),
                        offer_csat: false,
                        ..Default::default()
                    };
                    tx.change_ticket(&id, &change, &by).await?;
                }
            }
            changed.push(id);
        }
        if !changed.is_empty() {
            let mut what = Vec::new();
            if let Some(to) = status {
                what.push(format!("status {to}"));
            }
            if reply.is_some() {
                what.push("a public reply".to_owned());
            }
            tx.timeline(
                incident,
                "ticket",
                &format!("{} tickets updated: {}", changed.len(), what.join(", ")),
                &by.actor,
            )
            .await?;
        }
        tx.audit(AuditRecord {
            action: "incident.tickets.update".into(),
            class: DataClass::Tickets,
            record: Some(incident.to_owned()),
            detail: serde_json::json!({ "tickets": changed.len(), "status": status.map(|s| s.as_str()), "reply": reply.is_some() }),
            ..by
        })
        .await?;
        tx.commit().await?;
        Ok(changed)
    }

    pub async fn ticket_events(&self, id: &str, public_only: bool) -> Result<Vec<TicketEvent>> {
        let sql = if public_only {
            "SELECT id, kind, public, body, actor, at FROM ticket_events WHERE ticket_id = $1 AND public = TRUE ORDER BY at, id"
        } else {
            "SELECT id, kind, public, body, actor, at FROM ticket_events WHERE ticket_id = $1 ORDER BY at, id"
        };
        self.fetch_all(sql, args![id])
            .await?
            .iter()
            .map(|r| {
                Ok(TicketEvent {
                    id: r.get("id")?,
                    kind: r.get("kind")?,
                    public: r.get("public")?,
                    body: r.get("body")?,
                    actor: r.get("actor")?,
                    at: Time(r.get("at")?),
                })
            })
            .collect()
    }

    pub async fn list_tickets(&self, f: &TicketFilter) -> Result<Vec<Ticket>> {
        let mut sql = format!("SELECT {COLUMNS} FROM tickets WHERE 1=1");
        let mut args: Vec<Value> = Vec::new();
        let mut eq = |col: &str, v: Option<String>, sql: &mut String| {
            if let Some(v) = v {
                args.push(v.into());
                sql.push_str(&format!(" AND {col} = ${}", args.len()));
            }
        };
        eq("status", f.status.map(|s| s.as_str().to_owned()), &mut sql);
        eq(
            "priority",
            f.priority.map(|s| s.as_str().to_owned()),
            &mut sql,
        );
        eq("assignee_id", f.assignee_id.clone(), &mut sql);
        eq("group_name", f.group.clone(), &mut sql);
        eq("incident_id", f.incident_id.clone(), &mut sql);
        if f.active {
            sql.push_str(" AND status NOT IN ('solved', 'closed')");
        }
        if let Some(within) = f.breaching_within_ms {
            let limit = now_ms() + within;
            args.push(limit.into());
            let n = args.len();
            sql.push_str(&format!(
                " AND (frt_due_at <= ${n} OR nrt_due_at <= ${n} OR res_due_at <= ${n})"
            ));
        }
        if let Some(b) = &f.before {
            args.push(b.clone().into());
            sql.push_str(&format!(" AND id < ${}", args.len()));
        }
        args.push(f.limit.clamp(1, 500).into());
        sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", args.len()));
        self.fetch_all(&sql, args)
            .await?
            .iter()
            .map(|r| TicketRow::from_row(r).map(|t| t.view()))
            .collect()
    }

    /// Opens `sealed` (the `field` of `record`) under the subject's data
    /// key; `None` when the subject, and so its key, is gone.
    async fn open_subject_field(
        &self,
        ring: &KeyRing,
        subject: &str,
        sealed: &[u8],
        record: &str,
        field: &str,
    ) -> Result<Option<Vec<u8>>> {
        let Some(r) = self
            .fetch_optional(
                "SELECT key_version, wrapped_key FROM subjects WHERE id = $1",
                args![subject],
            )
            .await?
        else {
            return Ok(None);
        };
        let version: i64 = r.get("key_version")?;
        let wrapped: Vec<u8> = r.get("wrapped_key")?;
        let key = ring
            .unwrap_subject_key(subject, &wrapped, version as u32)
            .map_err(|e| StoreError::Corrupt(format!("subject key: {e}")))?;
        key.open(sealed, record, field)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    /// Opens a ticket's sealed contact.
    pub(crate) async fn ticket_contact(
        &self,
        ring: &KeyRing,
        t: &TicketRow,
    ) -> Result<Option<Contact>> {
        let (Some(subject), Some(sealed)) = (&t.subject_id, &t.contact_sealed) else {
            return Ok(None);
        };
        Ok(self
            .open_subject_field(ring, subject, sealed, &t.id, "contact")
            .await?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok()))
    }

    /// What the mail about a ticket needs, opened: the customer's email
    /// address, the tracking token, and the reply's text for `event_id`.
    /// `None` when the ticket, its customer's key or the address is gone.
    pub(crate) async fn ticket_mail_parts(
        &self,
        ring: &KeyRing,
        ticket: &str,
        event_id: Option<&str>,
    ) -> Result<Option<TicketMailParts>> {
        let Some(t) = self.ticket_row(ticket).await? else {
            return Ok(None);
        };
        let Some(email) = self.ticket_contact(ring, &t).await?.and_then(|c| c.email) else {
            return Ok(None);
        };
        let (Some(subject), Some(r)) = (
            &t.subject_id,
            self.fetch_optional(
                "SELECT tracking_sealed FROM tickets WHERE id = $1",
                args![ticket],
            )
            .await?,
        ) else {
            return Ok(None);
        };
        let Some(sealed) = r.get::<Option<Vec<u8>>>("tracking_sealed")? else {
            return Ok(None);
        };
        let Some(token) = self
            .open_subject_field(ring, subject, &sealed, &t.id, "tracking")
            .await?
        else {
            return Ok(None);
        };
        let token = String::from_utf8(token).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let reply = match event_id {
            Some(ev) => self
                .fetch_optional(
                    "SELECT body FROM ticket_events WHERE id = $1 AND ticket_id = $2 AND public = TRUE",
                    args![ev, ticket],
                )
                .await?
                .map(|r| r.get::<String>("body"))
                .transpose()?,
            None => None,
        };
        Ok(Some(TicketMailParts {
            email,
            token,
            title: t.title.clone(),
            reply,
            csat: t.csat_offered,
        }))
    }
}

/// See [`Store::ticket_mail_parts`].
pub(crate) struct TicketMailParts {
    pub email: String,
    pub token: String,
    pub title: String,
    pub reply: Option<String>,
    pub csat: bool,
}
