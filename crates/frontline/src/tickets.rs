//! Tickets beyond storage: turning what a customer or agent sends into a
//! `NewTicket` (redacted, labelled), and the SLA watcher that warns before
//! a target is missed and records the breach when it is.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use tokio::sync::watch;

use crate::args;
use crate::config::Config;
use crate::domain::feedback::{parse_label, parse_language, Channel, Contact};
use crate::domain::ticket::TicketStatus;
use crate::domain::ticket::{parse_title, Priority};
use crate::domain::{DataClass, DomainError};
use crate::events::EventBus;
use crate::intake::Preparer;
use crate::storage::sla::Target;
use crate::storage::tickets::{NewTicket, TicketChange, TicketRefusal};
use crate::storage::{now_ms, AuditRecord, Store, StoreError};

/// What a ticket is made from, before checking.
#[derive(Debug, Clone, Default)]
pub struct TicketDraft {
    pub subject: String,
    pub description: String,
    pub priority: Option<String>,
    pub channel: Option<String>,
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

/// Checks a draft; the customer's text is redacted and its topic found
/// (on the original, as feedback's is) unless one is given.
pub fn prepare(
    preparer: &Preparer,
    d: TicketDraft,
    default_channel: Channel,
) -> Result<NewTicket, DomainError> {
    let label = |field: &'static str, v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| parse_label(field, s))
            .transpose()
    };
    let description = crate::domain::ticket::parse_body(&d.description)
        .map_err(|_| DomainError::invalid("description", "must be 1-10,000 characters"))?;
    let topic = match label("topic", &d.topic)? {
        Some(t) => Some(t),
        None => Some(preparer.topic_of(&description)),
    };
    let redacted = preparer.redactor().redact(&description).text;
    let subject = preparer.redactor().redact(&parse_title(&d.subject)?).text;
    let language = match d.language.as_deref().filter(|l| !l.trim().is_empty()) {
        Some(l) => Some(parse_language(l)?),
        None => {
            let l = frontline_detect::detect_language(&redacted);
            (l.code != "und").then_some(l.code)
        }
    };
    let id_of = |field: &'static str, kind: crate::domain::id::Kind, v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                crate::domain::Id::parse(kind, s)
                    .map(|i| i.to_string())
                    .ok_or_else(|| {
                        DomainError::invalid(field, format!("looks like {}_...", kind.prefix()))
                    })
            })
            .transpose()
    };
    Ok(NewTicket {
        subject,
        description: redacted,
        priority: d
            .priority
            .as_deref()
            .map(Priority::parse)
            .transpose()?
            .unwrap_or(Priority::Normal),
        channel: d
            .channel
            .as_deref()
            .map(Channel::parse)
            .transpose()?
            .unwrap_or(default_channel)
            .as_str()
            .to_owned(),
        segment: label("segment", &d.segment)?,
        component: label("component", &d.component)?,
        language,
        journey_stage: label("journey_stage", &d.journey_stage)?,
        touchpoint: label("touchpoint", &d.touchpoint)?,
        topic,
        group: label("group", &d.group)?,
        assignee_id: id_of("assignee_id", crate::domain::id::Kind::User, &d.assignee_id)?,
        incident_id: id_of(
            "incident_id",
            crate::domain::id::Kind::Incident,
            &d.incident_id,
        )?,
        feedback_id: d.feedback_id,
        contact: d.contact,
    })
}

/// The tracking link for a token.
pub fn tracking_url(config: &Config, token: &str) -> String {
    format!("{}/t/{token}", config.http.public_url.trim_end_matches('/'))
}

/// An email the ticket code sends; [`email_hook`] queues it in the
/// notification outbox.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EmailIntent {
    /// To the assignee (a staff user): a target is about to be missed, or was.
    SlaAlert {
        user_id: String,
        ticket_id: String,
        alert: &'static str,
        target: &'static str,
        due_at: i64,
    },
}

/// The one place email leaves the ticket code: it is queued in the
/// notification outbox (true: queued), once per alert.
pub async fn email_hook(store: &Store, intent: &EmailIntent) -> bool {
    let EmailIntent::SlaAlert {
        user_id,
        ticket_id,
        alert,
        target,
        due_at,
    } = intent;
    let due = crate::storage::users::rfc3339(*due_at);
    let what = target.replace('_', " ");
    let mail = crate::notify::outbox::StaffEmail {
        subject: match *alert {
            "breach" => format!("SLA missed: {what} of ticket {ticket_id}"),
            _ => format!("SLA at risk: {what} of ticket {ticket_id} due {due}"),
        },
        text: format!(
            "Ticket {ticket_id}: the {what} target {} {due}.\n",
            if *alert == "breach" {
                "was missed at"
            } else {
                "is due at"
            }
        ),
        html: None,
        attachments: Vec::new(),
    };
    let queued = async {
        let mut tx = store.begin().await?;
        tx.enqueue_staff_email(
            &format!("sla.{ticket_id}.{alert}.{target}.{due_at}"),
            user_id,
            &mail,
        )
        .await?;
        tx.commit().await
    }
    .await;
    match queued {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "cannot queue the SLA email");
            false
        }
    }
}

/// The signature header value for a webhook body: `t=<unix secs>,v1=<hex
/// HMAC-SHA256 of "<t>.<body>">`.
pub fn sign(secret: &[u8], t: i64, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        // Any key length is accepted by HMAC; this is unreachable.
        Err(_) => return String::new(),
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[derive(Debug, Clone, Serialize)]
struct AlertPayload<'a> {
    event: &'a str,
    ticket_id: &'a str,
    target: &'a str,
    due_at: String,
    priority: &'a str,
    assignee_id: Option<&'a str>,
    url: String,
}

/// Starts the SLA watcher: every `tickets.sla_check_every_secs` it records
/// warnings (within the policy's lead time) and breaches (past due) once
/// each per ticket, target and due instant, then delivers them. Safe on
/// several nodes: the alert row's key lets one insert win.
pub fn spawn_sla_watcher(
    store: Store,
    config: Arc<Config>,
    events: EventBus,
    mut closing: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = Duration::from_millis(config.tickets.sla_check_every_ms.max(50));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .ok();
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = closing.wait_for(|c| *c) => break,
            }
            match close_solved(&store, &events, config.tickets.close_solved_after_hours).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(tickets = n, "solved tickets closed"),
                Err(e) => tracing::warn!(error = %e, "closing solved tickets failed; will retry"),
            }
            match check_slas(&store, &events).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(alerts = n, "SLA alerts recorded"),
                Err(e) => tracing::warn!(error = %e, "SLA check failed; will retry"),
            }
            if let Err(e) = deliver(&store, &config, client.as_ref()).await {
                tracing::warn!(error = %e, "SLA alert delivery failed; will retry");
            }
        }
    })
}

/// Closes tickets solved more than `after_hours` ago (0: never), as a
/// help desk does after a few quiet days. An automatic close is not a
/// solve: no CSAT is asked (an offer made when a person solved it stays).
/// Returns how many were closed.
pub async fn close_solved(
    store: &Store,
    events: &EventBus,
    after_hours: u32,
) -> Result<usize, StoreError> {
    if after_hours == 0 {
        return Ok(0);
    }
    let before = now_ms() - i64::from(after_hours) * 3_600_000;
    let rows = store
        .fetch_all(
            "SELECT id FROM tickets WHERE status = 'solved' AND solved_at <= $1 ORDER BY solved_at LIMIT 200",
            args![before],
        )
        .await?;
    let mut closed = 0;
    for r in rows {
        let id: String = r.get("id")?;
        let change = TicketChange {
            status: Some(TicketStatus::Closed),
            offer_csat: false,
            ..TicketChange::default()
        };
        let by = AuditRecord {
            actor: "system".into(),
            address: None,
            action: "ticket.auto_close".into(),
            class: DataClass::Tickets,
            record: Some(id.clone()),
            detail: serde_json::json!({ "after_hours": after_hours }),
        };
        match store.update_ticket(&id, &change, by).await {
            Ok(_) => {
                closed += 1;
                events.publish(
                    "ticket.updated",
                    DataClass::Tickets,
                    serde_json::json!({ "id": id, "status": "closed", "automatic": true }),
                );
            }
            // Reopened or closed by someone meanwhile: nothing to do.
            Err(TicketRefusal::Transition { .. } | TicketRefusal::Closed) => {}
            Err(TicketRefusal::Store(e)) => return Err(e),
            Err(e) => tracing::warn!(ticket = %id, error = %e, "could not close a solved ticket"),
        }
    }
    Ok(closed)
}

/// Records due warnings and breaches. Returns how many were new.
pub async fn check_slas(store: &Store, events: &EventBus) -> Result<usize, StoreError> {
    let now = now_ms();
    let mut recorded = 0;
    for target in Target::ALL {
        let due_col = target.due_column();
        let rows = store
            .fetch_all(
                &format!(
                    "SELECT t.id AS id, t.{due_col} AS due_at, p.warn_before_mins AS warn, t.assignee_id AS assignee_id
                     FROM tickets t JOIN sla_policies p ON p.id = t.sla_policy_id
                     WHERE t.{due_col} IS NOT NULL AND t.{due_col} <= $1 + p.warn_before_mins * 60000
                       AND t.status NOT IN ('solved', 'closed', 'pending')
                     ORDER BY t.{due_col} LIMIT 500"
                ),
                args![now],
            )
            .await?;
        for r in rows {
            let id: String = r.get("id")?;
            let due: i64 = r.get("due_at")?;
            let kind: &'static str = if due <= now { "breach" } else { "warning" };
            if record_alert(store, &id, target, kind, due, now).await? {
                recorded += 1;
                // Email once, when recorded (webhooks are retried; email is not).
                if let Some(user) = r.get::<Option<String>>("assignee_id")? {
                    email_hook(
                        store,
                        &EmailIntent::SlaAlert {
                            user_id: user,
                            ticket_id: id.clone(),
                            alert: kind,
                            target: target.as_str(),
                            due_at: due,
                        },
                    )
                    .await;
                }
                events.publish(
                    &format!("ticket.sla_{kind}"),
                    DataClass::Tickets,
                    serde_json::json!({ "ticket_id": id, "target": target.as_str(), "due_at": due }),
                );
            }
        }
    }
    Ok(recorded)
}

/// One alert, with its ticket event, audit entry and (for a breach) the
/// ticket's breached flag, in one transaction. False if already recorded.
async fn record_alert(
    store: &Store,
    ticket: &str,
    target: Target,
    kind: &str,
    due: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let mut tx = store.begin().await?;
    let n = tx
        .execute(
            "INSERT INTO ticket_sla_alerts (ticket_id, target, kind, due_at, at, delivered) VALUES ($1, $2, $3, $4, $5, FALSE)
             ON CONFLICT DO NOTHING",
            args![ticket, target.as_str(), kind, due, now],
        )
        .await?;
    if n == 0 {
        return Ok(false);
    }
    let due_text = crate::storage::users::rfc3339(due);
    let body = match kind {
        "breach" => format!("SLA breached: {} was due {due_text}", target.as_str()),
        _ => format!("SLA warning: {} due {due_text}", target.as_str()),
    };
    tx.ticket_event(ticket, &format!("sla_{kind}"), false, &body, "system")
        .await?;
    if kind == "breach" {
        tx.execute(
            &format!(
                "UPDATE tickets SET {} = TRUE WHERE id = $1",
                target.breached_column()
            ),
            args![ticket],
        )
        .await?;
    }
    tx.audit(AuditRecord {
        actor: "system".into(),
        address: None,
        action: format!("ticket.sla_{kind}"),
        class: DataClass::Tickets,
        record: Some(ticket.to_owned()),
        detail: serde_json::json!({ "target": target.as_str(), "due_at": due }),
    })
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Sends undelivered alerts of the last day to the webhook (signed); marks
/// them delivered on a 2xx.
async fn deliver(
    store: &Store,
    config: &Config,
    client: Option<&reqwest::Client>,
) -> Result<(), StoreError> {
    let url = config.tickets.sla_webhook_url.trim();
    let rows = store
        .fetch_all(
            "SELECT a.ticket_id AS ticket_id, a.target AS target, a.kind AS kind, a.due_at AS due_at,
                    t.priority AS priority, t.assignee_id AS assignee_id
             FROM ticket_sla_alerts a JOIN tickets t ON t.id = a.ticket_id
             WHERE a.delivered = FALSE AND a.at >= $1 ORDER BY a.at LIMIT 100",
            args![now_ms() - 86_400_000],
        )
        .await?;
    for r in rows {
        let ticket: String = r.get("ticket_id")?;
        let target: String = r.get("target")?;
        let kind: String = r.get("kind")?;
        let due: i64 = r.get("due_at")?;
        let priority: String = r.get("priority")?;
        let assignee: Option<String> = r.get("assignee_id")?;
        let Some(target) = Target::from_db(&target) else {
            continue;
        };
        let alert: &'static str = if kind == "breach" {
            "breach"
        } else {
            "warning"
        };
        let delivered = if url.is_empty() {
            true
        } else if let Some(client) = client {
            let event = format!("ticket.sla_{alert}");
            let payload = AlertPayload {
                event: &event,
                ticket_id: &ticket,
                target: target.as_str(),
                due_at: crate::storage::users::rfc3339(due),
                priority: &priority,
                assignee_id: assignee.as_deref(),
                url: format!(
                    "{}/tickets/{ticket}",
                    config.http.public_url.trim_end_matches('/')
                ),
            };
            let body =
                serde_json::to_vec(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let t = now_ms() / 1000;
            let sig = sign(
                config.tickets.sla_webhook_secret.expose().as_bytes(),
                t,
                &body,
            );
            match client
                .post(url)
                .header("content-type", "application/json")
                .header("x-frontline-event", &event)
                .header("x-frontline-signature", sig)
                .body(body)
                .send()
                .await
            {
                Ok(resp) if resp.status().is_success() => true,
                Ok(resp) => {
                    tracing::warn!(
                        status = resp.status().as_u16(),
                        "SLA webhook refused; will retry"
                    );
                    false
                }
                Err(e) => {
                    tracing::warn!(error = %e.without_url(), "SLA webhook unreachable; will retry");
                    false
                }
            }
        } else {
            false
        };
        if delivered {
            store
                .execute(
                    "UPDATE ticket_sla_alerts SET delivered = TRUE WHERE ticket_id = $1 AND target = $2 AND kind = $3 AND due_at = $4",
                    args![&ticket, target.as_str(), alert, due],
                )
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_time_and_body() {
        let a = sign(b"k", 100, b"{}");
        assert!(a.starts_with("t=100,v1="));
        assert_eq!(a.len(), "t=100,v1=".len() + 64);
        assert_ne!(a, sign(b"k", 101, b"{}"));
        assert_ne!(a, sign(b"k", 100, b"{ }"));
        assert_ne!(a, sign(b"j", 100, b"{}"));
    }
}
