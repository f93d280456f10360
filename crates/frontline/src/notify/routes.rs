//! Routes: early warnings out to the security team. New signals,
//! correlated suggestions and overdue incident updates go to Slack,
//! Microsoft Teams, PagerDuty (Events API v2), email and Standard Webhooks,
//! each route with its rules (events, a minimum severity, topics,
//! components).
//!
//! A route's messages are queued in the outbox in the transaction of the
//! event that causes them (a signal opening, a suggestion opening, an
//! incident marked overdue), with a stable id (`<ref>.<event>.<route>`), so
//! a crash neither drops nor doubles one. Acknowledging or resolving what
//! was paged queues the follow-up (PagerDuty `acknowledge` / `resolve` with
//! the trigger's `dedup_key`; `signal.acknowledged`, ... for webhooks) to
//! the routes that got the trigger. Every delivery attempt is recorded in
//! `route_attempts` (status code, error category, duration).

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::subscribers::{mask, open_contact, SealedContact};
use super::Channel;
use crate::args;
use crate::domain::incident::Severity;
use crate::domain::user::{mask_email, Email};
use crate::domain::{id::Kind, DataClass, DomainError, Id};
use crate::privacy::KeyRing;
use crate::storage::feedback::KeyCache;
use crate::storage::incidents::Time;
use crate::storage::users::rfc3339;
use crate::storage::{now_ms, AuditRecord, Result, Row, Store, StoreError, Tx};

/// PagerDuty's Events API v2 endpoint, used unless a route names another.
pub const PAGERDUTY_URL: &str = "https://events.pagerduty.com/v2/enqueue";

/// The events a route can take (the follow-ups go where the trigger went).
pub const TRIGGER_EVENTS: [&str; 3] = ["signal.opened", "suggestion.opened", "incident.overdue"];

/// Where a route sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RouteKind {
    Slack,
    Teams,
    PagerDuty,
    Email,
    Webhook,
}

impl RouteKind {
    pub const ALL: [RouteKind; 5] = [
        RouteKind::Slack,
        RouteKind::Teams,
        RouteKind::PagerDuty,
        RouteKind::Email,
        RouteKind::Webhook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RouteKind::Slack => "slack",
            RouteKind::Teams => "teams",
            RouteKind::PagerDuty => "pagerduty",
            RouteKind::Email => "email",
            RouteKind::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid("kind", "must be slack, teams, pagerduty, email or webhook")
            })
    }

    /// The outbox channel its messages travel on.
    pub fn channel(self) -> Channel {
        match self {
            RouteKind::Slack => Channel::Slack,
            RouteKind::Teams => Channel::Teams,
            RouteKind::PagerDuty => Channel::PagerDuty,
            RouteKind::Email => Channel::Email,
            RouteKind::Webhook => Channel::Webhook,
        }
    }

    /// Kinds that are told when a paged item is acknowledged or resolved.
    pub fn follows_up(self) -> bool {
        matches!(self, RouteKind::PagerDuty | RouteKind::Webhook)
    }
}

/// How bad a warning is, on one scale for signals, suggestions and
/// incidents.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum RouteSeverity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl RouteSeverity {
    pub const ALL: [RouteSeverity; 5] = [
        RouteSeverity::Info,
        RouteSeverity::Low,
        RouteSeverity::Medium,
        RouteSeverity::High,
        RouteSeverity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RouteSeverity::Info => "info",
            RouteSeverity::Low => "low",
            RouteSeverity::Medium => "medium",
            RouteSeverity::High => "high",
            RouteSeverity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid(
                    "min_severity",
                    "must be info, low, medium, high or critical",
                )
            })
    }

    /// SEV1 critical, SEV2 high, SEV3 medium, SEV4 low.
    pub fn of_incident(s: Severity) -> Self {
        match s {
            Severity::Sev1 => RouteSeverity::Critical,
            Severity::Sev2 => RouteSeverity::High,
            Severity::Sev3 => RouteSeverity::Medium,
            Severity::Sev4 => RouteSeverity::Low,
        }
    }

    /// A signal's, from its strength since the rise began: at least 20
    /// reports and ten times what was expected is high, three times
    /// medium, anything weaker low (customers alone never make it critical).
    pub fn of_signal(observed: f64, expected: f64) -> Self {
        let ratio = observed / expected.max(0.5);
        if observed >= 20.0 && ratio >= 10.0 {
            RouteSeverity::High
        } else if ratio >= 3.0 {
            RouteSeverity::Medium
        } else {
            RouteSeverity::Low
        }
    }

    /// PagerDuty's four: critical, error, warning, info.
    pub fn pagerduty(self) -> &'static str {
        match self {
            RouteSeverity::Critical => "critical",
            RouteSeverity::High => "error",
            RouteSeverity::Medium => "warning",
            RouteSeverity::Low | RouteSeverity::Info => "info",
        }
    }
}

/// What PagerDuty is asked to do with the alert of a dedup key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PageAction {
    Trigger,
    Acknowledge,
    Resolve,
}

/// One warning as the outbox keeps it (the message's payload): no personal
/// data, only identifiers, redacted titles and counts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RouteMessage {
    /// signal.opened, signal.acknowledged, signal.dismissed,
    /// signal.promoted, suggestion.opened, suggestion.accepted,
    /// suggestion.dismissed, incident.overdue, incident.updated,
    /// incident.resolved, route.test.
    pub event: String,
    pub action: PageAction,
    /// What it is about: a signal, suggestion, or overdue deadline.
    pub ref_id: String,
    /// Stable for the signal, suggestion or incident: trigger, acknowledge
    /// and resolve carry the same.
    pub dedup_key: String,
    pub title: String,
    pub severity: RouteSeverity,
    pub topic: Option<String>,
    /// Lowercased names (and ids) of the components it touches.
    pub components: Vec<String>,
    pub region: Option<String>,
    /// The dashboard page, as a path.
    pub link: String,
    /// RFC 3339.
    pub at: String,
    pub details: serde_json::Value,
}

impl RouteMessage {
    fn describe(&self) -> &'static str {
        match self.event.as_str() {
            "signal.opened" => "New signal",
            "signal.acknowledged" => "Signal acknowledged",
            "signal.dismissed" => "Signal dismissed",
            "signal.promoted" => "Signal promoted to an incident",
            "suggestion.opened" => "Suggested incident",
            "suggestion.accepted" => "Suggestion accepted",
            "suggestion.dismissed" => "Suggestion dismissed",
            "incident.overdue" => "Public update overdue",
            "incident.updated" => "Public update published",
            "incident.resolved" => "Incident resolved",
            "route.test" => "Test message",
            _ => "Warning",
        }
    }
}

/// A route's rules.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rules {
    /// Of signal.opened, suggestion.opened, incident.overdue.
    pub events: Vec<String>,
    pub min_severity: RouteSeverity,
    /// Empty: any topic.
    pub topics: Vec<String>,
    /// Empty: any component.
    pub components: Vec<String>,
}

impl Rules {
    pub fn matches(&self, m: &RouteMessage) -> bool {
        self.events.contains(&m.event)
            && m.severity >= self.min_severity
            && (self.topics.is_empty() || m.topic.as_ref().is_some_and(|t| self.topics.contains(t)))
            && (self.components.is_empty()
                || m.components
                    .iter()
                    .any(|c| self.components.contains(&c.to_lowercase())))
    }

    /// Checks and normalises rules given by staff.
    pub fn parse(
        events: Option<Vec<String>>,
        min_severity: Option<&str>,
        topics: Option<Vec<String>>,
        components: Option<Vec<String>>,
    ) -> Result<Self, DomainError> {
        let events = match events {
            None => TRIGGER_EVENTS.iter().map(|s| (*s).to_owned()).collect(),
            Some(list) => {
                let mut out: Vec<String> = Vec::new();
                for e in list {
                    let e = e.trim().to_ascii_lowercase();
                    if !TRIGGER_EVENTS.contains(&e.as_str()) {
                        return Err(DomainError::invalid(
                            "events",
                            "each must be signal.opened, suggestion.opened or incident.overdue",
                        ));
                    }
                    if !out.contains(&e) {
                        out.push(e);
                    }
                }
                if out.is_empty() {
                    return Err(DomainError::invalid("events", "name at least one event"));
                }
                out
            }
        };
        Ok(Self {
            events,
            min_severity: min_severity
                .map(RouteSeverity::parse)
                .transpose()?
                .unwrap_or(RouteSeverity::Info),
            topics: names("topics", topics)?,
            components: names("components", components)?,
        })
    }
}

fn names(field: &'static str, list: Option<Vec<String>>) -> Result<Vec<String>, DomainError> {
    let list = list.unwrap_or_default();
    if list.len() > 100 {
        return Err(DomainError::invalid(field, "100 at most"));
    }
    let mut out: Vec<String> = Vec::new();
    for s in list {
        let s = s.trim().to_lowercase();
        if s.is_empty() || s.chars().count() > 100 || s.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                field,
                "each must be 1-100 characters on one line",
            ));
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

/// Where a route sends, checked. Secret: `Debug` hides it.
#[derive(Clone)]
pub struct Target {
    /// The URL (Slack, Teams, webhook, PagerDuty) or email address.
    pub address: String,
    /// PagerDuty's routing key.
    pub routing_key: Option<String>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Target(***)")
    }
}

impl Target {
    /// `url` for Slack, Teams and webhooks (and PagerDuty, default its
    /// Events API); `routing_key` for PagerDuty; `address` for email.
    pub fn parse(
        kind: RouteKind,
        url: Option<&str>,
        routing_key: Option<&str>,
        address: Option<&str>,
    ) -> Result<Self, DomainError> {
        let url = url.map(str::trim).filter(|s| !s.is_empty());
        let key = routing_key.map(str::trim).filter(|s| !s.is_empty());
        let address = address.map(str::trim).filter(|s| !s.is_empty());
        match kind {
            RouteKind::Email => {
                if url.is_some() || key.is_some() {
                    return Err(DomainError::invalid(
                        "url",
                        "an email route takes an address only",
                    ));
                }
                let a = address
                    .ok_or_else(|| DomainError::invalid("address", "an email route needs one"))?;
                let e = Email::parse(a)
                    .map_err(|_| DomainError::invalid("address", "not an email address"))?;
                Ok(Self {
                    address: e.as_str().to_owned(),
                    routing_key: None,
                })
            }
            RouteKind::PagerDuty => {
                let key = key.ok_or_else(|| {
                    DomainError::invalid("routing_key", "a PagerDuty route needs one")
                })?;
                if key.len() > 64 || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(DomainError::invalid(
                        "routing_key",
                        "must be 1-64 letters and digits (the integration key)",
                    ));
                }
                Ok(Self {
                    address: parse_url(url.unwrap_or(PAGERDUTY_URL))?,
                    routing_key: Some(key.to_owned()),
                })
            }
            _ => {
                if address.is_some() || key.is_some() {
                    return Err(DomainError::invalid(
                        "address",
                        "this kind of route takes a url only",
                    ));
                }
                let u = url.ok_or_else(|| DomainError::invalid("url", "this route needs one"))?;
                Ok(Self {
                    address: parse_url(u)?,
                    routing_key: None,
                })
            }
        }
    }
}

fn parse_url(raw: &str) -> Result<String, DomainError> {
    if raw.len() > 2000 {
        return Err(DomainError::invalid("url", "2000 characters at most"));
    }
    let u = url::Url::parse(raw).map_err(|_| DomainError::invalid("url", "not a URL"))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(DomainError::invalid(
            "url",
            "must be an http:// or https:// URL",
        ));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(DomainError::invalid(
            "url",
            "must not carry a user name or password",
        ));
    }
    Ok(u.to_string())
}

/// A route as staff see it: the target masked, never its secrets (a
/// webhook's signing secret is in the answer that creates it, once).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WarningRoute {
    pub id: String,
    pub name: String,
    pub kind: RouteKind,
    /// `https://hooks.slack.com/***`, `a***@example.com`.
    pub target: String,
    #[serde(flatten)]
    pub rules: Rules,
    pub enabled: bool,
    /// Why it was disabled (`410 gone`, `by staff`).
    pub disabled_reason: Option<String>,
    pub created_by: String,
    #[schema(value_type = String)]
    pub created_at: Time,
    #[schema(value_type = String)]
    pub updated_at: Time,
    /// A webhook route's signing secret (`whsec_...`), shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

pub struct NewRoute {
    pub name: String,
    pub kind: RouteKind,
    pub target: Target,
    pub rules: Rules,
}

#[derive(Default)]
pub struct RouteChange {
    pub name: Option<String>,
    pub target: Option<Target>,
    pub rules: Option<Rules>,
    pub enabled: Option<bool>,
}

const COLUMNS: &str = "r.id, r.name, r.kind, r.subject_id, r.target_sealed AS contact_sealed, \
r.events, r.min_severity, r.topics, r.components, r.enabled, r.disabled_reason, r.created_by, \
r.created_at, r.updated_at, k.key_version, k.wrapped_key";

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("route {what}"))
}

fn list_of(r: &Row, col: &str) -> Result<Vec<String>> {
    serde_json::from_str(&r.get::<String>(col)?).map_err(|_| corrupt(col))
}

fn rules_of(r: &Row) -> Result<Rules> {
    Ok(Rules {
        events: list_of(r, "events")?,
        min_severity: RouteSeverity::parse(&r.get::<String>("min_severity")?)
            .map_err(|_| corrupt("severity"))?,
        topics: list_of(r, "topics")?,
        components: list_of(r, "components")?,
    })
}

fn kind_of(r: &Row) -> Result<RouteKind> {
    RouteKind::parse(&r.get::<String>("kind")?).map_err(|_| corrupt("kind"))
}

fn route_from_row(ring: &KeyRing, r: &Row) -> Result<WarningRoute> {
    let id: String = r.get("id")?;
    let kind = kind_of(r)?;
    let contact = open_contact(ring, r, &id)?;
    Ok(WarningRoute {
        target: masked(kind, &contact.address),
        name: r.get("name")?,
        kind,
        rules: rules_of(r)?,
        enabled: r.get("enabled")?,
        disabled_reason: r.get("disabled_reason")?,
        created_by: r.get("created_by")?,
        created_at: Time(r.get("created_at")?),
        updated_at: Time(r.get("updated_at")?),
        secret: None,
        id,
    })
}

fn masked(kind: RouteKind, address: &str) -> String {
    match kind {
        RouteKind::Email => mask_email(address),
        _ => mask(Channel::Webhook, address),
    }
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl Tx {
    /// Queues `m` for every enabled route whose rules take it, and
    /// remembers where it went for the follow-ups. Runs in the transaction
    /// of the event; the message id makes it once-only.
    pub async fn route_trigger(&mut self, m: &RouteMessage) -> Result<u64> {
        let rows = self
            .fetch_all(
                "SELECT id, kind, events, min_severity, topics, components FROM routes WHERE enabled = TRUE",
                vec![],
            )
            .await?;
        let payload = to_json(m)?;
        let now = now_ms();
        let mut queued = 0;
        for r in &rows {
            if !rules_of(r)?.matches(m) {
                continue;
            }
            let route: String = r.get("id")?;
            let kind = kind_of(r)?;
            queued += self
                .queue_route_message(
                    &format!("{}.{}.{route}", m.ref_id, m.event),
                    &route,
                    kind,
                    &payload,
                    now,
                )
                .await?;
            self.execute(
                "INSERT INTO route_pages (ref_id, route_id, payload, opened_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (ref_id, route_id) DO NOTHING",
                args![&m.ref_id, &route, &payload, now],
            )
            .await?;
        }
        Ok(queued)
    }

    /// Tells the routes that got the trigger for `ref_id` (PagerDuty and
    /// webhooks) that it was acknowledged or resolved: same dedup key.
    pub async fn route_follow_up(
        &mut self,
        ref_id: &str,
        event: &str,
        action: PageAction,
    ) -> Result<u64> {
        let rows = self
            .fetch_all(
                "SELECT p.route_id, p.payload, r.kind FROM route_pages p JOIN routes r ON r.id = p.route_id
                 WHERE p.ref_id = $1",
                args![ref_id],
            )
            .await?;
        let now = now_ms();
        let mut queued = 0;
        for r in &rows {
            let kind = kind_of(r)?;
            if !kind.follows_up() {
                continue;
            }
            let route: String = r.get("route_id")?;
            let mut m: RouteMessage =
                serde_json::from_str(&r.get::<String>("payload")?).map_err(|_| corrupt("page"))?;
            // Not before the trigger: one still waiting for a retry (or in
            // flight) goes first.
            let due = match self
                .fetch_optional(
                    "SELECT state, next_attempt_at FROM outbox WHERE id = $1 AND state IN ('queued', 'sending')",
                    args![format!("{ref_id}.{}.{route}", m.event)],
                )
                .await?
            {
                Some(t) if t.get::<String>("state")? == "sending" => now + 1000,
                Some(t) => now.max(t.get::<i64>("next_attempt_at")? + 1),
                None => now,
            };
            m.event = event.to_owned();
            m.action = action;
            m.at = rfc3339(now);
            queued += self
                .queue_route_message(
                    &format!("{ref_id}.{event}.{route}"),
                    &route,
                    kind,
                    &to_json(&m)?,
                    due,
                )
                .await?;
        }
        Ok(queued)
    }

    async fn queue_route_message(
        &mut self,
        id: &str,
        route: &str,
        kind: RouteKind,
        payload: &str,
        due: i64,
    ) -> Result<u64> {
        let now = now_ms();
        let n = self
            .execute(
                "INSERT INTO outbox (id, purpose, incident_id, update_id, recipient_kind, recipient_id, channel, language, payload, state, attempts, next_attempt_at, created_at, updated_at)
                 VALUES ($1, 'route', NULL, NULL, 'route', $2, $3, 'en', $4, 'queued', 0, $5, $6, $6)
                 ON CONFLICT (id) DO NOTHING",
                args![id, route, kind.channel().as_str(), payload, due, now],
            )
            .await?;
        if n > 0 {
            // Early, but harmless: the worker finds nothing until commit
            // and looks again at its next round.
            super::worker::wake();
        }
        Ok(n)
    }

    /// The warning for a signal that just opened.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn route_signal_opened(
        &mut self,
        id: &str,
        title: &str,
        series: &str,
        topic: Option<&str>,
        component: Option<&str>,
        region: Option<&str>,
        observed_total: f64,
        expected_total: f64,
    ) -> Result<u64> {
        let now = now_ms();
        self.route_trigger(&RouteMessage {
            event: "signal.opened".into(),
            action: PageAction::Trigger,
            ref_id: id.to_owned(),
            dedup_key: format!("frontline/{id}"),
            title: title.to_owned(),
            severity: RouteSeverity::of_signal(observed_total, expected_total),
            topic: topic.map(str::to_owned),
            components: component
                .map(|c| vec![c.to_lowercase()])
                .unwrap_or_default(),
            region: region.map(str::to_lowercase),
            link: format!("/signals/{id}"),
            at: rfc3339(now),
            details: json!({
                "series": series,
                "reports": observed_total.round(),
                "expected": (expected_total * 10.0).round() / 10.0,
            }),
        })
        .await
    }

    /// The warning for an incident whose public update is overdue: the
    /// deadline is what is paged (a later overdue update pages again), the
    /// dedup key is the incident's.
    pub(crate) async fn route_incident_overdue(
        &mut self,
        deadline: &str,
        incident: &str,
        due_at: i64,
    ) -> Result<u64> {
        let Some(r) = self
            .fetch_optional(
                "SELECT title, severity, components FROM incidents WHERE id = $1",
                args![incident],
            )
            .await?
        else {
            return Ok(0);
        };
        let title: String = r.get("title")?;
        let severity = Severity::from_db(&r.get::<String>("severity")?).unwrap_or(Severity::Sev4);
        let ids: Vec<String> = serde_json::from_str(&r.get::<String>("components")?)
            .map_err(|_| corrupt("incident components"))?;
        let mut components = Vec::new();
        for c in &ids {
            components.push(c.to_lowercase());
            if let Some(n) = self
                .fetch_optional("SELECT name FROM components WHERE id = $1", args![c])
                .await?
            {
                components.push(n.get::<String>("name")?.to_lowercase());
            }
        }
        self.route_trigger(&RouteMessage {
            event: "incident.overdue".into(),
            action: PageAction::Trigger,
            ref_id: deadline.to_owned(),
            dedup_key: format!("frontline/{incident}/overdue"),
            title: format!("Update overdue: {title}"),
            severity: RouteSeverity::of_incident(severity),
            topic: None,
            components,
            region: None,
            link: format!("/incidents/{incident}"),
            at: rfc3339(now_ms()),
            details: json!({ "incident": incident, "severity": severity.as_str(), "due_at": rfc3339(due_at) }),
        })
        .await
    }

    /// Resolves the overdue page of an incident whose open deadline closes.
    pub(crate) async fn route_deadline_closed(
        &mut self,
        incident: &str,
        published: bool,
    ) -> Result<()> {
        let rows = self
            .fetch_all(
                "SELECT id FROM incident_deadlines WHERE incident_id = $1 AND closed_at IS NULL AND overdue_at IS NOT NULL",
                args![incident],
            )
            .await?;
        let event = if published {
            "incident.updated"
        } else {
            "incident.resolved"
        };
        for r in &rows {
            let id: String = r.get("id")?;
            self.route_follow_up(&id, event, PageAction::Resolve)
                .await?;
        }
        Ok(())
    }
}

/// One delivery attempt of a route's message.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RouteAttempt {
    pub message_id: String,
    pub attempt: i64,
    #[serde(skip)]
    pub route_id: String,
    pub event: String,
    #[schema(value_type = String)]
    pub at: Time,
    /// sent, retry, failed, cancelled.
    pub outcome: String,
    /// The receiver's answer, when there was one.
    pub status_code: Option<i64>,
    /// A category (`http 503`, `timeout`, `connection failed`, `refused:
    /// internal address`, `410 gone`), never a value.
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// A route's message and where it stands.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RouteMessageState {
    pub id: String,
    pub event: String,
    pub ref_id: String,
    /// queued, sending, sent, failed, cancelled.
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    #[schema(value_type = String)]
    pub created_at: Time,
    #[schema(value_type = Option<String>)]
    pub sent_at: Option<Time>,
}

/// A route's recent messages and attempts, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RouteDeliveries {
    pub messages: Vec<RouteMessageState>,
    pub attempts: Vec<RouteAttempt>,
}

/// Why a route change was refused.
#[derive(Debug, thiserror::Error)]
pub enum RouteRefusal {
    #[error("a route with this name already exists")]
    Duplicate,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    pub async fn create_route(
        &self,
        ring: &KeyRing,
        new: &NewRoute,
        by: AuditRecord,
    ) -> Result<WarningRoute, RouteRefusal> {
        let secret = (new.kind == RouteKind::Webhook).then(super::subscribers::new_webhook_secret);
        let contact = SealedContact {
            address: new.target.address.clone(),
            secret: secret.clone().or_else(|| new.target.routing_key.clone()),
            name: None,
        };
        let id = Id::new(Kind::Route).to_string();
        let now = now_ms();
        let mut tx = self.begin().await?;
        if tx
            .fetch_optional("SELECT id FROM routes WHERE name = $1", args![&new.name])
            .await?
            .is_some()
        {
            return Err(RouteRefusal::Duplicate);
        }
        let mut cache = KeyCache::default();
        let subject = tx.subject_for(ring, &[], &mut cache).await?;
        let sealed = {
            let key = tx.subject_key(ring, &subject, &mut cache).await?;
            key.seal(
                &serde_json::to_vec(&contact).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                &id,
                "contact",
            )
        };
        tx.execute(
            "INSERT INTO routes (id, name, kind, subject_id, target_sealed, events, min_severity, topics, components, enabled, disabled_reason, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, TRUE, NULL, $10, $11, $11)",
            args![
                &id,
                &new.name,
                new.kind.as_str(),
                &subject,
                sealed,
                to_json(&new.rules.events)?,
                new.rules.min_severity.as_str(),
                to_json(&new.rules.topics)?,
                to_json(&new.rules.components)?,
                &by.actor,
                now
            ],
        )
        .await?;
        tx.audit(AuditRecord {
            action: "route.create".into(),
            class: DataClass::SecurityAlerts,
            record: Some(id.clone()),
            detail: json!({ "kind": new.kind.as_str(), "rules": new.rules }),
            ..by
        })
        .await?;
        tx.commit().await?;
        let mut r = self
            .route(ring, &id)
            .await?
            .ok_or(RouteRefusal::Store(StoreError::NotFound))?;
        r.secret = secret;
        Ok(r)
    }

    pub async fn route(&self, ring: &KeyRing, id: &str) -> Result<Option<WarningRoute>> {
        self.fetch_optional(
            &format!("SELECT {COLUMNS} FROM routes r JOIN subjects k ON k.id = r.subject_id WHERE r.id = $1"),
            args![id],
        )
        .await?
        .map(|r| route_from_row(ring, &r))
        .transpose()
    }

    pub async fn list_routes(&self, ring: &KeyRing) -> Result<Vec<WarningRoute>> {
        self.fetch_all(
            &format!("SELECT {COLUMNS} FROM routes r JOIN subjects k ON k.id = r.subject_id ORDER BY r.name"),
            vec![],
        )
        .await?
        .iter()
        .map(|r| route_from_row(ring, r))
        .collect()
    }

    /// Opens a route's target for delivery.
    pub(crate) async fn route_targets(
        &self,
        ring: &KeyRing,
        ids: &[&str],
    ) -> Result<Vec<(String, SealedContact, bool)>> {
        let mut out = Vec::new();
        for id in ids {
            if let Some(r) = self
                .fetch_optional(
                    &format!("SELECT {COLUMNS} FROM routes r JOIN subjects k ON k.id = r.subject_id WHERE r.id = $1"),
                    args![*id],
                )
                .await?
            {
                let contact = open_contact(ring, &r, id)?;
                out.push(((*id).to_owned(), contact, r.get("enabled")?));
            }
        }
        Ok(out)
    }

    pub async fn change_route(
        &self,
        ring: &KeyRing,
        id: &str,
        change: &RouteChange,
        by: AuditRecord,
    ) -> Result<WarningRoute, RouteRefusal> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let row = tx
            .fetch_optional(
                &format!("SELECT {COLUMNS} FROM routes r JOIN subjects k ON k.id = r.subject_id WHERE r.id = $1"),
                args![id],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        if let Some(name) = &change.name {
            if tx
                .fetch_optional(
                    "SELECT id FROM routes WHERE name = $1 AND id <> $2",
                    args![name, id],
                )
                .await?
                .is_some()
            {
                return Err(RouteRefusal::Duplicate);
            }
            tx.execute("UPDATE routes SET name = $1 WHERE id = $2", args![name, id])
                .await?;
        }
        if let Some(rules) = &change.rules {
            tx.execute(
                "UPDATE routes SET events = $1, min_severity = $2, topics = $3, components = $4 WHERE id = $5",
                args![to_json(&rules.events)?, rules.min_severity.as_str(), to_json(&rules.topics)?, to_json(&rules.components)?, id],
            )
            .await?;
        }
        if let Some(t) = &change.target {
            let old = open_contact(ring, &row, id)?;
            let kind = kind_of(&row)?;
            let contact = SealedContact {
                address: t.address.clone(),
                secret: if kind == RouteKind::Webhook {
                    old.secret
                } else {
                    t.routing_key.clone()
                },
                name: None,
            };
            let subject: String = row.get("subject_id")?;
            let mut cache = KeyCache::default();
            let key = tx.subject_key(ring, &subject, &mut cache).await?;
            let sealed = key.seal(
                &serde_json::to_vec(&contact).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                id,
                "contact",
            );
            tx.execute(
                "UPDATE routes SET target_sealed = $1 WHERE id = $2",
                args![sealed, id],
            )
            .await?;
        }
        if let Some(on) = change.enabled {
            tx.execute(
                "UPDATE routes SET enabled = $1, disabled_reason = $2 WHERE id = $3",
                args![on, (!on).then_some("by staff"), id],
            )
            .await?;
        }
        tx.execute(
            "UPDATE routes SET updated_at = $1 WHERE id = $2",
            args![now, id],
        )
        .await?;
        tx.audit(AuditRecord {
            action: "route.update".into(),
            class: DataClass::SecurityAlerts,
            record: Some(id.to_owned()),
            detail: json!({
                "name": change.name.is_some(), "target": change.target.is_some(),
                "rules": change.rules, "enabled": change.enabled,
            }),
            ..by
        })
        .await?;
        tx.commit().await?;
        Ok(self.route(ring, id).await?.ok_or(StoreError::NotFound)?)
    }

    /// Deletes a route (its sealed target with its subject); its queued
    /// messages are cancelled.
    pub async fn delete_route(&self, id: &str, by: AuditRecord) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let subject = tx
            .fetch_optional("SELECT subject_id FROM routes WHERE id = $1", args![id])
            .await?
            .ok_or(StoreError::NotFound)?
            .get::<String>("subject_id")?;
        tx.execute(
            "UPDATE outbox SET state = 'cancelled', last_error = 'route deleted', updated_at = $1, lease_until = NULL
             WHERE recipient_kind = 'route' AND recipient_id = $2 AND state IN ('queued', 'sending')",
            args![now, id],
        )
        .await?;
        tx.execute("DELETE FROM routes WHERE id = $1", args![id])
            .await?;
        tx.execute("DELETE FROM subjects WHERE id = $1", args![&subject])
            .await?;
        tx.audit(AuditRecord {
            action: "route.delete".into(),
            class: DataClass::SecurityAlerts,
            record: Some(id.to_owned()),
            detail: json!({}),
            ..by
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Queues a test message to one route, through the same outbox and
    /// worker as every other; returns its id.
    pub async fn queue_route_test(&self, id: &str, by: AuditRecord) -> Result<String> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let row = tx
            .fetch_optional("SELECT kind, name FROM routes WHERE id = $1", args![id])
            .await?
            .ok_or(StoreError::NotFound)?;
        let kind = kind_of(&row)?;
        let name: String = row.get("name")?;
        let test = format!("test_{}", ulid::Ulid::new());
        let m = RouteMessage {
            event: "route.test".into(),
            action: PageAction::Trigger,
            dedup_key: format!("frontline/{test}"),
            title: format!("Test message for route \"{name}\""),
            severity: RouteSeverity::Info,
            topic: None,
            components: vec![],
            region: None,
            link: "/security/routes".into(),
            at: rfc3339(now),
            details: json!({ "route": id, "test": true }),
            ref_id: test.clone(),
        };
        let message = format!("{test}.route.test.{id}");
        tx.queue_route_message(&message, id, kind, &to_json(&m)?, now)
            .await?;
        tx.audit(AuditRecord {
            action: "route.test".into(),
            class: DataClass::SecurityAlerts,
            record: Some(id.to_owned()),
            detail: json!({ "message": message }),
            ..by
        })
        .await?;
        tx.commit().await?;
        Ok(message)
    }

    pub async fn route_deliveries(&self, id: &str, limit: i64) -> Result<RouteDeliveries> {
        let rows = self
            .fetch_all(
                "SELECT id, payload, state, attempts, last_error, created_at, sent_at FROM outbox
                 WHERE recipient_id = $1 AND recipient_kind = 'route' ORDER BY created_at DESC, id DESC LIMIT $2",
                args![id, limit],
            )
            .await?;
        let mut messages = Vec::with_capacity(rows.len());
        for r in &rows {
            let m: Option<RouteMessage> = serde_json::from_str(&r.get::<String>("payload")?).ok();
            messages.push(RouteMessageState {
                id: r.get("id")?,
                event: m.as_ref().map(|m| m.event.clone()).unwrap_or_default(),
                ref_id: m.map(|m| m.ref_id).unwrap_or_default(),
                state: r.get("state")?,
                attempts: r.get("attempts")?,
                last_error: r.get("last_error")?,
                created_at: Time(r.get("created_at")?),
                sent_at: r.get::<Option<i64>>("sent_at")?.map(Time),
            });
        }
        let rows = self
            .fetch_all(
                "SELECT message_id, attempt, route_id, event, at, outcome, status_code, error, duration_ms FROM route_attempts
                 WHERE route_id = $1 ORDER BY at DESC, attempt DESC LIMIT $2",
                args![id, limit],
            )
            .await?;
        let attempts = rows
            .iter()
            .map(|r| {
                Ok(RouteAttempt {
                    message_id: r.get("message_id")?,
                    attempt: r.get("attempt")?,
                    route_id: r.get("route_id")?,
                    event: r.get("event")?,
                    at: Time(r.get("at")?),
                    outcome: r.get("outcome")?,
                    status_code: r.get("status_code")?,
                    error: r.get("error")?,
                    duration_ms: r.get("duration_ms")?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(RouteDeliveries { messages, attempts })
    }
}

impl Tx {
    /// Records attempts (in the transaction that records their outcomes).
    pub(crate) async fn record_route_attempts(&mut self, attempts: &[RouteAttempt]) -> Result<()> {
        for a in attempts {
            self.execute(
                "INSERT INTO route_attempts (message_id, attempt, route_id, event, at, outcome, status_code, error, duration_ms)
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE EXISTS (SELECT 1 FROM routes WHERE id = $3)
                 ON CONFLICT (message_id, attempt) DO NOTHING",
                args![&a.message_id, a.attempt, &a.route_id, &a.event, a.at.0, &a.outcome, a.status_code, a.error.clone(), a.duration_ms],
            )
            .await?;
        }
        Ok(())
    }

    /// A 410 answer: the route is disabled, audited.
    pub(crate) async fn disable_route(&mut self, id: &str, why: &str) -> Result<()> {
        let n = self
            .execute(
                "UPDATE routes SET enabled = FALSE, disabled_reason = $1, updated_at = $2 WHERE id = $3 AND enabled = TRUE",
                args![why, now_ms(), id],
            )
            .await?;
        if n > 0 {
            self.audit(AuditRecord {
                actor: "delivery".into(),
                address: None,
                action: "route.disable".into(),
                class: DataClass::SecurityAlerts,
                record: Some(id.to_owned()),
                detail: json!({ "reason": why }),
            })
            .await?;
        }
        Ok(())
    }
}

/// The body (and extra headers) of a route's message for its kind. Email
/// is rendered by [`email_text`].
pub fn http_body(
    kind: RouteKind,
    m: &RouteMessage,
    base: &str,
    target: &SealedContact,
) -> Result<Vec<u8>, String> {
    let link = format!("{base}{}", m.link);
    let what = m.describe();
    let severity = m.severity.as_str();
    let place = if m.components.is_empty() {
        String::new()
    } else {
        format!(" · {}", m.components.join(", "))
    };
    let body = match kind {
        RouteKind::Slack => {
            let esc = |s: &str| {
                s.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
            };
            json!({
                "text": format!("{what} [{severity}]: {}", m.title),
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn",
                        "text": format!("*{what}* [{severity}]{}\n{}\n<{link}|Open in Frontline>", esc(&place), esc(&m.title))}},
                    {"type": "context", "elements": [
                        {"type": "mrkdwn", "text": format!("{} · {}", m.event, m.ref_id)}
                    ]}
                ]
            })
        }
        RouteKind::Teams => {
            let mut facts = vec![
                json!({"title": "Severity", "value": severity}),
                json!({"title": "Event", "value": m.event}),
            ];
            if !m.components.is_empty() {
                facts.push(json!({"title": "Components", "value": m.components.join(", ")}));
            }
            if let Some(t) = &m.topic {
                facts.push(json!({"title": "Topic", "value": t}));
            }
            json!({
                "type": "message",
                "attachments": [{
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": null,
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "body": [
                            {"type": "TextBlock", "text": what, "weight": "Bolder", "size": "Medium", "wrap": true},
                            {"type": "TextBlock", "text": m.title, "wrap": true},
                            {"type": "FactSet", "facts": facts}
                        ],
                        "actions": [{"type": "Action.OpenUrl", "title": "Open in Frontline", "url": link}]
                    }
                }]
            })
        }
        RouteKind::PagerDuty => {
            let key = target
                .secret
                .as_deref()
                .ok_or("the route has no routing key")?;
            match m.action {
                PageAction::Trigger => json!({
                    "routing_key": key,
                    "event_action": "trigger",
                    "dedup_key": m.dedup_key,
                    "payload": {
                        "summary": format!("{what}: {}", m.title).chars().take(1024).collect::<String>(),
                        "source": "frontline",
                        "severity": m.severity.pagerduty(),
                        "timestamp": m.at,
                        "component": m.components.first(),
                        "group": m.region,
                        "class": m.event,
                        "custom_details": {
                            "event": m.event, "id": m.ref_id, "severity": severity,
                            "topic": m.topic, "components": m.components, "details": m.details,
                        }
                    },
                    "client": "Frontline",
                    "client_url": base,
                    "links": [{"href": link, "text": "Open in Frontline"}]
                }),
                action => json!({
                    "routing_key": key,
                    "event_action": action,
                    "dedup_key": m.dedup_key,
                }),
            }
        }
        RouteKind::Webhook | RouteKind::Email => json!({
            "type": m.event,
            "timestamp": m.at,
            "data": {
                "id": m.ref_id,
                "action": m.action,
                "dedup_key": m.dedup_key,
                "title": m.title,
                "severity": severity,
                "topic": m.topic,
                "components": m.components,
                "region": m.region,
                "link": link,
                "details": m.details,
            }
        }),
    };
    serde_json::to_vec(&body).map_err(|_| "cannot encode the payload".to_owned())
}

/// An email route's subject and text.
pub fn email_text(m: &RouteMessage, base: &str) -> (String, String) {
    let what = m.describe();
    let subject = format!("[{}] {what}: {}", m.severity.as_str(), m.title);
    let mut text = format!(
        "{what}\n\n{}\n\nSeverity: {}\n",
        m.title,
        m.severity.as_str()
    );
    if !m.components.is_empty() {
        text.push_str(&format!("Components: {}\n", m.components.join(", ")));
    }
    if let Some(t) = &m.topic {
        text.push_str(&format!("Topic: {t}\n"));
    }
    text.push_str(&format!("\n{base}{}\n", m.link));
    (subject.chars().take(250).collect(), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(
        severity: RouteSeverity,
        topic: Option<&str>,
        component: Option<&str>,
    ) -> RouteMessage {
        RouteMessage {
            event: "signal.opened".into(),
            action: PageAction::Trigger,
            ref_id: "sig_1".into(),
            dedup_key: "frontline/sig_1".into(),
            title: "t".into(),
            severity,
            topic: topic.map(str::to_owned),
            components: component.map(|c| vec![c.to_owned()]).unwrap_or_default(),
            region: None,
            link: "/signals/sig_1".into(),
            at: "2026-01-01T00:00:00Z".into(),
            details: json!({}),
        }
    }

    #[test]
    fn rules_filter_by_event_severity_topic_and_component() {
        let any = Rules::parse(None, None, None, None).unwrap();
        assert!(any.matches(&message(RouteSeverity::Info, None, None)));
        let high = Rules::parse(None, Some("high"), None, None).unwrap();
        assert!(high.matches(&message(RouteSeverity::Critical, None, None)));
        assert!(!high.matches(&message(RouteSeverity::Medium, None, None)));
        let login = Rules::parse(
            None,
            None,
            Some(vec!["account_access".into()]),
            Some(vec!["Login".into()]),
        )
        .unwrap();
        assert!(login.matches(&message(
            RouteSeverity::Low,
            Some("account_access"),
            Some("login")
        )));
        assert!(!login.matches(&message(RouteSeverity::Low, Some("account_access"), None)));
        assert!(!login.matches(&message(RouteSeverity::Low, Some("fraud"), Some("login"))));
        let suggestions =
            Rules::parse(Some(vec!["suggestion.opened".into()]), None, None, None).unwrap();
        assert!(!suggestions.matches(&message(RouteSeverity::High, None, None)));
        assert!(Rules::parse(Some(vec!["nope".into()]), None, None, None).is_err());
        assert!(Rules::parse(None, Some("urgent"), None, None).is_err());
    }

    #[test]
    fn pagerduty_follow_ups_carry_only_the_key_and_the_action() {
        let target = SealedContact {
            address: PAGERDUTY_URL.into(),
            secret: Some("R0UT1NGKEY".into()),
            name: None,
        };
        let mut m = message(RouteSeverity::High, Some("fraud"), Some("login"));
        let t: serde_json::Value = serde_json::from_slice(
            &http_body(RouteKind::PagerDuty, &m, "https://f.example", &target).unwrap(),
        )
        .unwrap();
        assert_eq!(t["event_action"], "trigger");
        assert_eq!(t["payload"]["severity"], "error");
        assert_eq!(t["payload"]["component"], "login");
        m.action = PageAction::Resolve;
        let r: serde_json::Value = serde_json::from_slice(
            &http_body(RouteKind::PagerDuty, &m, "https://f.example", &target).unwrap(),
        )
        .unwrap();
        assert_eq!(
            r,
            json!({"routing_key": "R0UT1NGKEY", "event_action": "resolve", "dedup_key": "frontline/sig_1"})
        );
    }
}
