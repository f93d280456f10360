//! The outbox table: queueing in the caller's transaction, claiming with a
//! lease, recording outcomes, and the per-recipient view.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::render::Notice;
use super::subscribers::{mask, open_contact, SealedContact};
use super::Channel;
use crate::args;
use crate::privacy::KeyRing;
use crate::storage::incidents::Time;
use crate::storage::users::rfc3339;
use crate::storage::{now_ms, Result, Store, StoreError, Tx, Value};

/// Every state a message can be in.
pub const STATES: [&str; 6] = [
    "queued",
    "sending",
    "sent",
    "failed",
    "bounced",
    "cancelled",
];

/// An email to a member of staff (an overdue update for the incident lead,
/// an SLA warning for a ticket's assignee): subject and text.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StaffEmail {
    pub subject: String,
    pub text: String,
    /// An HTML alternative to the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// A file attached to a staff email (aggregates only: no personal data).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub content: String,
}

impl Tx {
    /// Queues an email to a staff user in the caller's transaction; `id`
    /// makes it once-only (a second call with the same id adds nothing).
    pub async fn enqueue_staff_email(
        &mut self,
        id: &str,
        user_id: &str,
        email: &StaffEmail,
    ) -> Result<u64> {
        let now = now_ms();
        let payload = serde_json::to_string(email)
            .map_err(|e| StoreError::Corrupt(format!("staff email: {e}")))?;
        self.execute(
            "INSERT INTO outbox (id, purpose, incident_id, update_id, recipient_kind, recipient_id, channel, language, payload, state, attempts, next_attempt_at, created_at, updated_at)
             VALUES ($1, 'staff', NULL, NULL, 'user', $2, 'email', 'en', $3, 'queued', 0, $4, $4, $4)
             ON CONFLICT (id) DO NOTHING",
            args![id, user_id, payload, now],
        )
        .await
    }

    /// Queues a just-published update for every active subscriber it
    /// concerns: those of every component, and those of a public component
    /// the incident or update touches. An incident touching only private
    /// components tells no one. Runs in the publishing transaction.
    pub async fn enqueue_update(
        &mut self,
        incident: &str,
        update: &str,
        components: &[String],
    ) -> Result<u64> {
        let mut public = Vec::new();
        for c in components {
            let r = self
                .fetch_optional(
                    "SELECT id FROM components WHERE id = $1 AND private = FALSE",
                    args![c],
                )
                .await?;
            if r.is_some() {
                public.push(c.clone());
            }
        }
        if !components.is_empty() && public.is_empty() {
            return Ok(0);
        }
        let now = now_ms();
        let mut args: Vec<Value> = args![update, incident, now];
        let filter = if public.is_empty() {
            String::new()
        } else {
            let marks: Vec<String> = (0..public.len()).map(|i| format!("${}", i + 4)).collect();
            args.extend(public.iter().map(Value::from));
            format!(
                " AND (s.all_components OR EXISTS (SELECT 1 FROM subscriber_components sc WHERE sc.subscriber_id = s.id AND sc.component_id IN ({})))",
                marks.join(", ")
            )
        };
        self.execute(
            &format!(
                "INSERT INTO outbox (id, purpose, incident_id, update_id, recipient_kind, recipient_id, channel, language, payload, state, attempts, next_attempt_at, created_at, updated_at)
                 SELECT $1 || '.' || s.id, 'notice', $2, $1, 'subscriber', s.id, s.channel, s.language, '{{}}', 'queued', 0, $3, $3, $3
                 FROM subscribers s WHERE s.state = 'active'{filter}
                 ON CONFLICT (id) DO NOTHING"
            ),
            args,
        )
        .await
    }
}

/// A message claimed for delivery.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: String,
    pub purpose: String,
    pub update_id: Option<String>,
    pub recipient_kind: String,
    pub recipient_id: String,
    pub channel: Channel,
    pub language: String,
    /// What to say, for messages that are not notices (`staff`: subject and text).
    pub payload: String,
    /// Including this one.
    pub attempts: i64,
}

/// Where a message goes, opened for delivery only.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub contact: SealedContact,
    /// The subscriber's state (affected customers are always "active").
    pub state: String,
}

/// What became of one delivery attempt.
#[derive(Debug, Clone)]
pub enum Outcome {
    Sent,
    /// Try again at this time (ms), with a reason free of personal data.
    Retry(i64, String),
    Failed(String),
    /// The recipient's server refused it for good (SMTP 5xx).
    Bounced(String),
    /// Not sent: the recipient is no longer subscribed (or was erased).
    Cancelled(String),
}

const CLAIM_COLUMNS: &str =
    "id, purpose, update_id, recipient_kind, recipient_id, channel, language, payload, attempts";

impl Store {
    /// Claims up to `limit` due messages on the given channels: queued and
    /// due, or claimed by a worker whose lease ran out.
    pub async fn claim_messages(
        &self,
        channels: &[Channel],
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<Claimed>> {
        if channels.is_empty() {
            return Ok(vec![]);
        }
        let now = now_ms();
        let marks: Vec<String> = (0..channels.len()).map(|i| format!("${}", i + 4)).collect();
        let lock = if matches!(self, Store::Postgres(_)) {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE outbox SET state = 'sending', lease_until = $1, attempts = attempts + 1, updated_at = $2
             WHERE id IN (SELECT id FROM outbox
                WHERE ((state = 'queued' AND next_attempt_at <= $2) OR (state = 'sending' AND lease_until < $2))
                AND channel IN ({})
                ORDER BY next_attempt_at LIMIT $3{lock})
             RETURNING {CLAIM_COLUMNS}",
            marks.join(", ")
        );
        let mut args: Vec<Value> = args![now + lease_ms, now, limit];
        args.extend(channels.iter().map(|c| Value::from(c.as_str())));
        // Look first on the read side: an idle worker takes no write lock
        // (on SQLite, other writers such as the CLI never wait for it).
        let probe_marks: Vec<String> = (0..channels.len()).map(|i| format!("${}", i + 2)).collect();
        let mut probe: Vec<Value> = args![now];
        probe.extend(channels.iter().map(|c| Value::from(c.as_str())));
        let due = self
            .fetch_optional(
                &format!(
                    "SELECT id FROM outbox
                     WHERE ((state = 'queued' AND next_attempt_at <= $1) OR (state = 'sending' AND lease_until < $1))
                     AND channel IN ({}) LIMIT 1",
                    probe_marks.join(", ")
                ),
                probe,
            )
            .await?;
        if due.is_none() {
            return Ok(vec![]);
        }
        let mut tx = self.begin().await?;
        let rows = tx.fetch_all(&sql, args).await?;
        tx.commit().await?;
        rows.iter()
            .map(|r| {
                Ok(Claimed {
                    id: r.get("id")?,
                    purpose: r.get("purpose")?,
                    update_id: r.get("update_id")?,
                    recipient_kind: r.get("recipient_kind")?,
                    recipient_id: r.get("recipient_id")?,
                    channel: Channel::from_db(&r.get::<String>("channel")?)
                        .ok_or_else(|| StoreError::Corrupt("outbox channel".into()))?,
                    language: r.get("language")?,
                    payload: r.get("payload")?,
                    attempts: r.get("attempts")?,
                })
            })
            .collect()
    }

    /// Opens the recipients of claimed messages; a missing one (deleted,
    /// erased) is absent from the map.
    pub async fn message_recipients(
        &self,
        ring: &KeyRing,
        claimed: &[Claimed],
    ) -> Result<HashMap<String, Recipient>> {
        let mut out = HashMap::new();
        for (kind, table, state) in [
            ("subscriber", "subscribers", "r.state"),
            ("affected", "affected_customers", "'active'"),
        ] {
            let ids: Vec<&str> = claimed
                .iter()
                .filter(|c| c.recipient_kind == kind)
                .map(|c| c.recipient_id.as_str())
                .collect();
            for chunk in ids.chunks(500) {
                let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
                let rows = self
                    .fetch_all(
                        &format!(
                            "SELECT r.id, r.subject_id, r.contact_sealed, {state} AS state, k.key_version, k.wrapped_key
                             FROM {table} r JOIN subjects k ON k.id = r.subject_id WHERE r.id IN ({})",
                            marks.join(", ")
                        ),
                        chunk.iter().map(|s| Value::from(*s)).collect(),
                    )
                    .await?;
                for r in &rows {
                    let id: String = r.get("id")?;
                    let contact = open_contact(ring, r, &id)?;
                    out.insert(
                        id,
                        Recipient {
                            contact,
                            state: r.get("state")?,
                        },
                    );
                }
            }
        }
        // Routes: their sealed target; a disabled route gets nothing.
        let routes: Vec<&str> = claimed
            .iter()
            .filter(|c| c.recipient_kind == "route")
            .map(|c| c.recipient_id.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        for (id, contact, enabled) in self.route_targets(ring, &routes).await? {
            out.insert(
                id,
                Recipient {
                    contact,
                    state: if enabled { "active" } else { "disabled" }.into(),
                },
            );
        }
        // Customers about their tickets: the address is opened at sending
        // (with the tracking token), so only the ticket's existence here.
        let tickets: Vec<&str> = claimed
            .iter()
            .filter(|c| c.recipient_kind == "ticket")
            .map(|c| c.recipient_id.as_str())
            .collect();
        for id in tickets {
            if self.ticket_row(id).await?.is_some() {
                out.insert(
                    id.to_owned(),
                    Recipient {
                        contact: SealedContact {
                            address: String::new(),
                            secret: None,
                            name: None,
                        },
                        state: "active".into(),
                    },
                );
            }
        }
        // Staff: their sign-in address; a disabled account gets nothing.
        let users: Vec<&str> = claimed
            .iter()
            .filter(|c| c.recipient_kind == "user")
            .map(|c| c.recipient_id.as_str())
            .collect();
        for id in users {
            if let Some(r) = self
                .fetch_optional("SELECT email, disabled FROM users WHERE id = $1", args![id])
                .await?
            {
                let disabled: bool = r.get("disabled")?;
                out.insert(
                    id.to_owned(),
                    Recipient {
                        contact: SealedContact {
                            address: r.get("email")?,
                            secret: None,
                            name: None,
                        },
                        state: if disabled { "disabled" } else { "active" }.into(),
                    },
                );
            }
        }
        Ok(out)
    }

    /// A published update as notices tell it.
    pub async fn notice(&self, update: &str, base_url: &str) -> Result<Option<Notice>> {
        let Some(r) = self
            .fetch_optional(
                "SELECT u.id, u.incident_id, u.status, u.body, u.published_at, i.title, i.impact, i.components
                 FROM incident_updates u JOIN incidents i ON i.id = u.incident_id
                 WHERE u.id = $1 AND u.published_at IS NOT NULL",
                args![update],
            )
            .await?
        else {
            return Ok(None);
        };
        let ids: Vec<String> = serde_json::from_str(&r.get::<String>("components")?)
            .map_err(|e| StoreError::Corrupt(format!("components: {e}")))?;
        let mut components = Vec::new();
        for id in &ids {
            if let Some(c) = self
                .fetch_optional(
                    "SELECT name FROM components WHERE id = $1 AND private = FALSE",
                    args![id],
                )
                .await?
            {
                components.push(c.get("name")?);
            }
        }
        Ok(Some(Notice {
            incident_id: r.get("incident_id")?,
            incident_title: r.get("title")?,
            impact: r.get("impact")?,
            update_id: r.get("id")?,
            status: r.get("status")?,
            body: r.get("body")?,
            // Written from a template in several languages, each recipient
            // is told in theirs.
            variants: self
                .update_variants(update)
                .await?
                .into_iter()
                .map(|v| (v.language, v.body))
                .collect(),
            components,
            published_at: rfc3339(r.get("published_at")?),
            base_url: base_url.trim_end_matches('/').to_owned(),
        }))
    }

    /// Records outcomes in one transaction. Only messages still claimed
    /// (state sending) change, so a late worker whose lease was taken over
    /// does not overwrite a newer outcome. A 410 or a hard bounce disables
    /// the subscriber (a 410, the route); route attempts are recorded with them.
    pub async fn record_outcomes(
        &self,
        outcomes: &[(Claimed, Outcome)],
        attempts: &[super::routes::RouteAttempt],
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.record_route_attempts(attempts).await?;
        let now = now_ms();
        let sent: Vec<&str> = outcomes
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Sent))
            .map(|(c, _)| c.id.as_str())
            .collect();
        for chunk in sent.chunks(500) {
            let marks: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
            let mut args: Vec<Value> = args![now];
            args.extend(chunk.iter().map(|s| Value::from(*s)));
            tx.execute(
                &format!(
                    "UPDATE outbox SET state = 'sent', sent_at = $1, updated_at = $1, lease_until = NULL, last_error = NULL
                     WHERE state = 'sending' AND id IN ({})",
                    marks.join(", ")
                ),
                args,
            )
            .await?;
        }
        for (c, o) in outcomes {
            let (state, next, error) = match o {
                Outcome::Sent => continue,
                Outcome::Retry(at, e) => ("queued", *at, e),
                Outcome::Failed(e) => ("failed", now, e),
                Outcome::Bounced(e) => ("bounced", now, e),
                Outcome::Cancelled(e) => ("cancelled", now, e),
            };
            tx.execute(
                "UPDATE outbox SET state = $1, next_attempt_at = $2, last_error = $3, updated_at = $4, lease_until = NULL
                 WHERE id = $5 AND state = 'sending'",
                args![state, next, error.as_str(), now, &c.id],
            )
            .await?;
            let disable = matches!(o, Outcome::Bounced(_))
                || matches!(o, Outcome::Failed(e) if e.starts_with("410"));
            if disable && c.recipient_kind == "route" {
                tx.disable_route(&c.recipient_id, "410 gone").await?;
            }
            if disable && c.recipient_kind == "subscriber" {
                tx.execute(
                    "UPDATE subscribers SET state = 'disabled', updated_at = $1 WHERE id = $2",
                    args![now, &c.recipient_id],
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Counts per state.
pub type Counts = BTreeMap<String, i64>;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UpdateDeliveries {
    pub update_id: String,
    #[schema(value_type = BTreeMap<String, i64>)]
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: String,
    pub update_id: Option<String>,
    pub channel: Channel,
    /// subscriber or affected.
    pub recipient_kind: String,
    pub recipient_id: String,
    /// Masked; empty when the recipient no longer exists.
    pub recipient: String,
    pub language: String,
    /// queued, sending, sent, failed, bounced, cancelled.
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    #[schema(value_type = Option<String>)]
    pub sent_at: Option<Time>,
    #[schema(value_type = String)]
    pub next_attempt_at: Time,
}

/// Per-recipient state of an incident's notices.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IncidentDeliveries {
    /// All the incident's messages, per state.
    #[schema(value_type = BTreeMap<String, i64>)]
    pub counts: Counts,
    pub updates: Vec<UpdateDeliveries>,
    pub messages: Vec<Delivery>,
}

impl Store {
    pub async fn incident_deliveries(
        &self,
        ring: &KeyRing,
        incident: &str,
        state: Option<&str>,
        limit: i64,
    ) -> Result<IncidentDeliveries> {
        let rows = self
            .fetch_all(
                "SELECT update_id, state, COUNT(*) AS n FROM outbox WHERE incident_id = $1 GROUP BY update_id, state",
                args![incident],
            )
            .await?;
        let mut counts: Counts = STATES.iter().map(|s| ((*s).to_owned(), 0)).collect();
        let mut per: BTreeMap<String, Counts> = BTreeMap::new();
        for r in &rows {
            let u: Option<String> = r.get("update_id")?;
            let s: String = r.get("state")?;
            let n: i64 = r.get("n")?;
            *counts.entry(s.clone()).or_default() += n;
            if let Some(u) = u {
                *per.entry(u)
                    .or_insert_with(|| STATES.iter().map(|s| ((*s).to_owned(), 0)).collect())
                    .entry(s)
                    .or_default() += n;
            }
        }
        let rows = self
            .fetch_all(
                "SELECT id, update_id, channel, recipient_kind, recipient_id, language, state, attempts, last_error, sent_at, next_attempt_at
                 FROM outbox WHERE incident_id = $1 AND ($2 = '' OR state = $2) ORDER BY id LIMIT $3",
                args![incident, state.unwrap_or(""), limit],
            )
            .await?;
        let mut messages = Vec::with_capacity(rows.len());
        for r in &rows {
            messages.push(Delivery {
                id: r.get("id")?,
                update_id: r.get("update_id")?,
                channel: channel_of(r)?,
                recipient_kind: r.get("recipient_kind")?,
                recipient_id: r.get("recipient_id")?,
                recipient: String::new(),
                language: r.get("language")?,
                state: r.get("state")?,
                attempts: r.get("attempts")?,
                last_error: r.get("last_error")?,
                sent_at: r.get::<Option<i64>>("sent_at")?.map(Time),
                next_attempt_at: Time(r.get("next_attempt_at")?),
            });
        }
        let masked = self
            .masked_recipients(
                ring,
                messages.iter().map(|m| {
                    (
                        m.recipient_kind.as_str(),
                        m.recipient_id.as_str(),
                        m.channel,
                    )
                }),
            )
            .await?;
        for m in &mut messages {
            if let Some(r) = masked.get(&m.recipient_id) {
                m.recipient = r.clone();
            }
        }
        Ok(IncidentDeliveries {
            counts,
            updates: per
                .into_iter()
                .map(|(update_id, counts)| UpdateDeliveries { update_id, counts })
                .collect(),
            messages,
        })
    }
}

/// How many messages a filter matches, and the newest of them.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxPage {
    pub total: i64,
    pub messages: Vec<OutboxMessage>,
}

/// A message of any purpose as staff see it in a list: the recipient
/// masked, the reason of a failure (free of personal data), no payload.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxMessage {
    pub id: String,
    /// notice, confirm, survey, staff or route.
    pub purpose: String,
    pub incident_id: Option<String>,
    pub channel: Channel,
    /// Masked; empty when the recipient no longer exists.
    pub recipient: String,
    pub language: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<Time>,
    /// When it last changed state (what the overview's counts go by).
    pub updated_at: Time,
}

fn channel_of(r: &crate::storage::Row) -> Result<Channel> {
    Channel::from_db(&r.get::<String>("channel")?)
        .ok_or_else(|| StoreError::Corrupt("outbox channel".into()))
}

impl Store {
    /// Messages in any of `states` that changed state at or after `since`
    /// (ms; 0 for any time), newest first, at most `limit`, with how many
    /// match in all.
    pub async fn list_outbox(
        &self,
        ring: &KeyRing,
        states: &[&str],
        since: i64,
        limit: i64,
    ) -> Result<OutboxPage> {
        let marks: Vec<String> = (2..states.len() + 2).map(|i| format!("${i}")).collect();
        let filter = format!("updated_at >= $1 AND state IN ({})", marks.join(", "));
        let mut args: Vec<Value> = args![since];
        args.extend(states.iter().map(|s| Value::from(*s)));
        let total: i64 = self
            .fetch_optional(
                &format!("SELECT COUNT(*) AS n FROM outbox WHERE {filter}"),
                args.clone(),
            )
            .await?
            .map(|r| r.get("n"))
            .transpose()?
            .unwrap_or(0);
        args.push(limit.into());
        let rows = self
            .fetch_all(
                &format!(
                    "SELECT id, purpose, incident_id, recipient_kind, recipient_id, channel, language, state, attempts, last_error, sent_at, updated_at
                     FROM outbox WHERE {filter} ORDER BY updated_at DESC, id DESC LIMIT ${}",
                    args.len()
                ),
                args,
            )
            .await?;
        let mut kinds = Vec::with_capacity(rows.len());
        let mut messages = Vec::with_capacity(rows.len());
        for r in &rows {
            let channel = channel_of(r)?;
            kinds.push((
                r.get::<String>("recipient_kind")?,
                r.get::<String>("recipient_id")?,
                channel,
            ));
            messages.push(OutboxMessage {
                id: r.get("id")?,
                purpose: r.get("purpose")?,
                incident_id: r.get("incident_id")?,
                channel,
                recipient: String::new(),
                language: r.get("language")?,
                state: r.get("state")?,
                attempts: r.get("attempts")?,
                last_error: r.get("last_error")?,
                sent_at: r.get::<Option<i64>>("sent_at")?.map(Time),
                updated_at: Time(r.get("updated_at")?),
            });
        }
        let masked = self
            .masked_recipients(
                ring,
                kinds.iter().map(|(k, id, c)| (k.as_str(), id.as_str(), *c)),
            )
            .await?;
        for (m, (_, id, _)) in messages.iter_mut().zip(&kinds) {
            if let Some(r) = masked.get(id) {
                m.recipient = r.clone();
            }
        }
        Ok(OutboxPage { total, messages })
    }

    /// Recipients (kind, id, channel) by id, masked as staff may see them;
    /// one no longer there is absent.
    async fn masked_recipients<'a>(
        &self,
        ring: &KeyRing,
        recipients: impl Iterator<Item = (&'a str, &'a str, Channel)>,
    ) -> Result<HashMap<String, String>> {
        let mut channels = HashMap::new();
        let claimed: Vec<Claimed> = recipients
            .map(|(kind, id, channel)| {
                channels.insert(id.to_owned(), channel);
                Claimed {
                    id: String::new(),
                    purpose: String::new(),
                    update_id: None,
                    recipient_kind: kind.to_owned(),
                    recipient_id: id.to_owned(),
                    channel,
                    language: String::new(),
                    payload: String::new(),
                    attempts: 0,
                }
            })
            .collect();
        Ok(self
            .message_recipients(ring, &claimed)
            .await?
            .into_iter()
            .filter_map(|(id, r)| {
                let channel = *channels.get(&id)?;
                // A ticket's customer: their address is opened only to
                // send, so the ticket stands for them.
                let shown = if r.contact.address.is_empty() {
                    id.clone()
                } else {
                    mask(channel, &r.contact.address)
                };
                Some((id, shown))
            })
            .collect())
    }
}
