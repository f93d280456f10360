//! Subscribers and affected customers: their addresses sealed under a data
//! key of their own subject (so erasing the person ends the subscription),
//! found through a keyed hash, shown only masked.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::Channel;
use crate::args;
use crate::domain::feedback::normalise_phone;
use crate::domain::user::{mask_email, Email};
use crate::domain::{id::Kind, DataClass, DomainError, Id};
use crate::privacy::KeyRing;
use crate::storage::feedback::KeyCache;
use crate::storage::incidents::Time;
use crate::storage::{now_ms, AuditRecord, Result, Row, Store, StoreError, Tx};

/// What is sealed for a recipient. Personal data: `Debug` hides it.
#[derive(Clone, Serialize, Deserialize, Default)]
pub struct SealedContact {
    /// Email address, phone number (E.164) or URL, by channel.
    pub address: String,
    /// A webhook's signing secret (`whsec_...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl std::fmt::Debug for SealedContact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedContact(***)")
    }
}

/// An address checked and normalised for its channel.
#[derive(Clone)]
pub struct Address {
    pub channel: Channel,
    pub value: String,
}

impl std::fmt::Debug for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Address({}, ***)", self.channel.as_str())
    }
}

impl Address {
    pub fn parse(channel: Channel, raw: &str, region: Option<&str>) -> Result<Self, DomainError> {
        let raw = raw.trim();
        let value = match channel {
            Channel::Email => Email::parse(raw)
                .map_err(|_| DomainError::invalid("address", "not an email address"))?
                .as_str()
                .to_owned(),
            Channel::Sms => normalise_phone(raw, region.unwrap_or("US"))
                .map_err(|_| DomainError::invalid("address", "not a valid phone number"))?,
            Channel::Webhook | Channel::Slack | Channel::Teams | Channel::PagerDuty => {
                if raw.len() > 2000 {
                    return Err(DomainError::invalid("address", "2000 characters at most"));
                }
                let u = url::Url::parse(raw)
                    .map_err(|_| DomainError::invalid("address", "not a URL"))?;
                if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
                    return Err(DomainError::invalid(
                        "address",
                        "must be an http:// or https:// URL",
                    ));
                }
                if !u.username().is_empty() || u.password().is_some() {
                    return Err(DomainError::invalid(
                        "address",
                        "must not carry a user name or password",
                    ));
                }
                u.to_string()
            }
        };
        Ok(Self { channel, value })
    }

    /// The keyed hash that finds this address again.
    pub fn blind(&self, ring: &KeyRing) -> String {
        match self.channel {
            Channel::Email => ring.blind_index("email", &self.value),
            Channel::Sms => ring.blind_index("phone", &self.value),
            _ => ring.blind_index("url", &self.value),
        }
    }

    /// Hashes that tie it to the person's subject (email and phone only).
    fn subject_blinds(&self, ring: &KeyRing) -> Vec<String> {
        match self.channel {
            Channel::Email | Channel::Sms => vec![self.blind(ring)],
            _ => vec![],
        }
    }
}

/// An address as staff may see it.
pub fn mask(channel: Channel, address: &str) -> String {
    match channel {
        Channel::Email => mask_email(address),
        Channel::Sms => {
            let chars: Vec<char> = address.chars().collect();
            let keep = chars.len().min(3);
            format!(
                "{}***{}",
                chars[..keep].iter().collect::<String>(),
                chars[chars.len().saturating_sub(2)..]
                    .iter()
                    .collect::<String>()
            )
        }
        _ => match url::Url::parse(address) {
            Ok(u) => format!("{}://{}/***", u.scheme(), u.host_str().unwrap_or("")),
            Err(_) => "***".into(),
        },
    }
}

/// pending (awaiting confirmation), active, unsubscribed, disabled.
pub const STATES: [&str; 4] = ["pending", "active", "unsubscribed", "disabled"];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Subscriber {
    pub id: String,
    pub channel: Channel,
    /// The address, masked.
    pub address: String,
    pub language: String,
    /// Empty when `all_components`.
    pub components: Vec<String>,
    pub all_components: bool,
    /// pending, active, unsubscribed, disabled.
    pub state: String,
    /// public (sign-up form) or staff.
    pub source: String,
    #[schema(value_type = String)]
    pub created_at: Time,
    #[schema(value_type = Option<String>)]
    pub confirmed_at: Option<Time>,
    /// A new webhook's signing secret, shown once when it is created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

pub struct NewSubscriber {
    pub address: Address,
    pub language: String,
    /// None: every component.
    pub components: Option<Vec<String>>,
    /// public or staff.
    pub source: &'static str,
}

/// What a sign-up did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignUp {
    /// A new subscriber, pending its confirmation (email) or active.
    Created,
    /// Already pending or ended: confirmation sent again.
    ConfirmationResent,
    /// Already active: nothing sent, nothing changed.
    AlreadyActive,
}

const COLUMNS: &str = "s.id, s.channel, s.subject_id, s.contact_sealed, s.language, \
s.all_components, s.state, s.source, s.created_at, s.confirmed_at, k.key_version, k.wrapped_key";

/// Opens a sealed contact with its subject's key.
pub fn open_contact(ring: &KeyRing, r: &Row, record: &str) -> Result<SealedContact> {
    let subject: String = r.get("subject_id")?;
    let version: i64 = r.get("key_version")?;
    let wrapped: Vec<u8> = r.get("wrapped_key")?;
    let key = ring
        .unwrap_subject_key(&subject, &wrapped, version as u32)
        .map_err(|e| StoreError::Corrupt(format!("subject key: {e}")))?;
    let sealed: Vec<u8> = r.get("contact_sealed")?;
    let plain = key
        .open(&sealed, record, "contact")
        .map_err(|e| StoreError::Corrupt(format!("{record}: {e}")))?;
    serde_json::from_slice(&plain).map_err(|e| StoreError::Corrupt(format!("{record}: {e}")))
}

impl Tx {
    async fn set_subscriber_components(&mut self, id: &str, components: &[String]) -> Result<()> {
        self.execute(
            "DELETE FROM subscriber_components WHERE subscriber_id = $1",
            args![id],
        )
        .await?;
        for c in components {
            let found = self
                .fetch_optional(
                    "SELECT id FROM components WHERE id = $1 AND is_group = FALSE AND private = FALSE",
                    args![c],
                )
                .await?;
            if found.is_none() {
                return Err(StoreError::NotFound);
            }
            self.execute(
                "INSERT INTO subscriber_components (subscriber_id, component_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                args![id, c],
            )
            .await?;
        }
        Ok(())
    }

    /// Queues the confirmation email of a pending subscriber.
    pub async fn enqueue_confirmation(&mut self, subscriber: &str, language: &str) -> Result<()> {
        let now = now_ms();
        let id = format!("cfm_{}.{subscriber}", ulid::Ulid::new());
        self.execute(
            "INSERT INTO outbox (id, purpose, incident_id, update_id, recipient_kind, recipient_id, channel, language, payload, state, attempts, next_attempt_at, created_at, updated_at)
             VALUES ($1, 'confirm', NULL, NULL, 'subscriber', $2, 'email', $3, '{}', 'queued', 0, $4, $4, $4)",
            args![&id, subscriber, language, now],
        )
        .await?;
        Ok(())
    }

    /// Inserts a subscriber row with its sealed contact; returns its id.
    pub(crate) async fn insert_subscriber(
        &mut self,
        ring: &KeyRing,
        cache: &mut KeyCache,
        new: &NewSubscriber,
        contact: &SealedContact,
        state: &str,
    ) -> Result<String> {
        let id = Id::new(Kind::Subscriber).to_string();
        let subject = self
            .subject_for(ring, &new.address.subject_blinds(ring), cache)
            .await?;
        let key = self.subject_key(ring, &subject, cache).await?;
        let plain = serde_json::to_vec(contact).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sealed = key.seal(&plain, &id, "contact");
        let now = now_ms();
        self.execute(
            "INSERT INTO subscribers (id, channel, subject_id, blind, contact_sealed, language, all_components, state, source, created_at, confirmed_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10)",
            args![
                &id,
                new.address.channel.as_str(),
                &subject,
                new.address.blind(ring),
                sealed,
                &new.language,
                new.components.is_none(),
                state,
                new.source,
                now,
                (state == "active").then_some(now),
            ],
        )
        .await?;
        if let Some(c) = &new.components {
            self.set_subscriber_components(&id, c).await?;
        }
        Ok(id)
    }
}

/// Why a subscriber change was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubscriberRefusal {
    #[error("components: no such public component")]
    UnknownComponent,
    #[error("this address is already subscribed on this channel")]
    Duplicate,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn refusal(e: StoreError) -> SubscriberRefusal {
    match e {
        StoreError::NotFound => SubscriberRefusal::UnknownComponent,
        StoreError::Conflict(_) => SubscriberRefusal::Duplicate,
        e => e.into(),
    }
}

impl Store {
    /// A sign-up from the public form (email, double opt-in): new subscribers
    /// start pending with a confirmation queued; a pending or ended one gets
    /// the confirmation again (with the new choices); an active one is left
    /// as it is. The caller answers the same in every case, so the form
    /// does not tell who is subscribed.
    pub async fn sign_up(
        &self,
        ring: &KeyRing,
        new: &NewSubscriber,
        by: AuditRecord,
    ) -> Result<(String, SignUp), SubscriberRefusal> {
        let blind = new.address.blind(ring);
        let mut tx = self.begin().await?;
        let existing = tx
            .fetch_optional(
                "SELECT id, state FROM subscribers WHERE channel = $1 AND blind = $2",
                args![new.address.channel.as_str(), &blind],
            )
            .await?;
        let (id, outcome) = match existing {
            Some(r) => {
                let id: String = r.get("id")?;
                let state: String = r.get("state")?;
                if state == "active" {
                    return Ok((id, SignUp::AlreadyActive));
                }
                tx.execute(
                    "UPDATE subscribers SET state = 'pending', language = $1, all_components = $2, updated_at = $3 WHERE id = $4",
                    args![&new.language, new.components.is_none(), now_ms(), &id],
                )
                .await?;
                tx.set_subscriber_components(&id, new.components.as_deref().unwrap_or(&[]))
                    .await
                    .map_err(refusal)?;
                (id, SignUp::ConfirmationResent)
            }
            None => {
                let contact = SealedContact {
                    address: new.address.value.clone(),
                    ..Default::default()
                };
                let mut cache = KeyCache::default();
                let id = tx
                    .insert_subscriber(ring, &mut cache, new, &contact, "pending")
                    .await
                    .map_err(refusal)?;
                (id, SignUp::Created)
            }
        };
        tx.enqueue_confirmation(&id, &new.language).await?;
        tx.audit(AuditRecord {
            action: "subscriber.sign_up".into(),
            class: DataClass::Subscribers,
            record: Some(id.clone()),
            detail: serde_json::json!({ "channel": new.address.channel.as_str() }),
            ..by
        })
        .await?;
        tx.commit().await?;
        Ok((id, outcome))
    }

    /// A subscriber added by staff: email ones still confirm (pending, a
    /// confirmation queued); webhooks, Slack, Teams and SMS are active at
    /// once. A webhook gets a signing secret, returned once.
    pub async fn add_subscriber(
        &self,
        ring: &KeyRing,
        new: &NewSubscriber,
        by: AuditRecord,
    ) -> Result<Subscriber, SubscriberRefusal> {
        let secret = (new.address.channel == Channel::Webhook).then(new_webhook_secret);
        let contact = SealedContact {
            address: new.address.value.clone(),
            secret: secret.clone(),
            name: None,
        };
        let state = if new.address.channel == Channel::Email {
            "pending"
        } else {
            "active"
        };
        let mut tx = self.begin().await?;
        let mut cache = KeyCache::default();
        let id = tx
            .insert_subscriber(ring, &mut cache, new, &contact, state)
            .await
            .map_err(refusal)?;
        if state == "pending" {
            tx.enqueue_confirmation(&id, &new.language).await?;
        }
        tx.audit(AuditRecord {
            action: "subscriber.create".into(),
            class: DataClass::Subscribers,
            record: Some(id.clone()),
            detail: serde_json::json!({ "channel": new.address.channel.as_str() }),
            ..by
        })
        .await?;
        tx.commit().await?;
        let mut s = self
            .subscriber(ring, &id)
            .await?
            .ok_or(SubscriberRefusal::Store(StoreError::NotFound))?;
        s.secret = secret;
        Ok(s)
    }

    pub async fn subscriber(&self, ring: &KeyRing, id: &str) -> Result<Option<Subscriber>> {
        let Some(r) = self
            .fetch_optional(
                &format!(
                    "SELECT {COLUMNS} FROM subscribers s JOIN subjects k ON k.id = s.subject_id WHERE s.id = $1"
                ),
                args![id],
            )
            .await?
        else {
            return Ok(None);
        };
        let mut s = subscriber_from_row(ring, &r)?;
        s.components = self.subscriber_components(id).await?;
        Ok(Some(s))
    }

    async fn subscriber_components(&self, id: &str) -> Result<Vec<String>> {
        self.fetch_all(
            "SELECT component_id FROM subscriber_components WHERE subscriber_id = $1 ORDER BY component_id",
            args![id],
        )
        .await?
        .iter()
        .map(|r| r.get("component_id"))
        .collect()
    }

    /// Subscribers, newest first, optionally of one channel or state,
    /// older than the `before` id.
    pub async fn list_subscribers(
        &self,
        ring: &KeyRing,
        channel: Option<Channel>,
        state: Option<&str>,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Subscriber>> {
        let rows = self
            .fetch_all(
                &format!(
                    "SELECT {COLUMNS} FROM subscribers s JOIN subjects k ON k.id = s.subject_id
                     WHERE ($1 = '' OR s.channel = $1) AND ($2 = '' OR s.state = $2) AND ($3 = '' OR s.id < $3)
                     ORDER BY s.id DESC LIMIT $4"
                ),
                args![
                    channel.map(Channel::as_str).unwrap_or(""),
                    state.unwrap_or(""),
                    before.unwrap_or(""),
                    limit
                ],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut s = subscriber_from_row(ring, r)?;
            if !s.all_components {
                s.components = self.subscriber_components(&s.id).await?;
            }
            out.push(s);
        }
        Ok(out)
    }

    /// Changes language, components or state (`active`, `pending`,
    /// `unsubscribed`, `disabled`) of a subscriber, with its audit entry.
    pub async fn change_subscriber(
        &self,
        id: &str,
        language: Option<&str>,
        components: Option<Option<&[String]>>,
        state: Option<&str>,
        by: AuditRecord,
    ) -> Result<(), SubscriberRefusal> {
        let mut tx = self.begin().await?;
        let now = now_ms();
        let n = tx
            .execute(
                "UPDATE subscribers SET updated_at = $1 WHERE id = $2",
                args![now, id],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound.into());
        }
        if let Some(l) = language {
            tx.execute(
                "UPDATE subscribers SET language = $1 WHERE id = $2",
                args![l, id],
            )
            .await?;
        }
        if let Some(c) = components {
            tx.execute(
                "UPDATE subscribers SET all_components = $1 WHERE id = $2",
                args![c.is_none(), id],
            )
            .await?;
            tx.set_subscriber_components(id, c.unwrap_or(&[]))
                .await
                .map_err(refusal)?;
        }
        if let Some(s) = state {
            tx.execute(
                "UPDATE subscribers SET state = $1, confirmed_at = CASE WHEN $1 = 'active' AND confirmed_at IS NULL THEN $2 ELSE confirmed_at END WHERE id = $3",
                args![s, now, id],
            )
            .await?;
        }
        tx.audit(AuditRecord {
            record: Some(id.to_owned()),
            class: DataClass::Subscribers,
            detail: serde_json::json!({
                "language": language,
                "components": components.map(|c| c.map(<[String]>::to_vec)),
                "state": state,
            }),
            ..by
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Confirms a pending subscriber (from the signed link). True if it
    /// was pending.
    pub async fn confirm_subscriber(&self, id: &str, by: AuditRecord) -> Result<bool> {
        let mut tx = self.begin().await?;
        let now = now_ms();
        let n = tx
            .execute(
                "UPDATE subscribers SET state = 'active', confirmed_at = $1, updated_at = $1 WHERE id = $2 AND state = 'pending'",
                args![now, id],
            )
            .await?;
        if n > 0 {
            tx.audit(AuditRecord {
                action: "subscriber.confirm".into(),
                class: DataClass::Subscribers,
                record: Some(id.to_owned()),
                detail: serde_json::json!({}),
                ..by
            })
            .await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    pub async fn delete_subscriber(&self, id: &str, by: AuditRecord) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute("DELETE FROM subscribers WHERE id = $1", args![id])
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.execute(
            "UPDATE outbox SET state = 'cancelled', updated_at = $1, last_error = 'recipient deleted' WHERE recipient_id = $2 AND state = 'queued'",
            args![now_ms(), id],
        )
        .await?;
        tx.audit(AuditRecord {
            action: "subscriber.delete".into(),
            class: DataClass::Subscribers,
            record: Some(id.to_owned()),
            detail: serde_json::json!({}),
            ..by
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn subscriber_from_row(ring: &KeyRing, r: &Row) -> Result<Subscriber> {
    let id: String = r.get("id")?;
    let channel = Channel::from_db(&r.get::<String>("channel")?)
        .ok_or_else(|| StoreError::Corrupt("subscriber channel".into()))?;
    let contact = open_contact(ring, r, &id)?;
    Ok(Subscriber {
        address: mask(channel, &contact.address),
        id,
        channel,
        language: r.get("language")?,
        components: vec![],
        all_components: r.get("all_components")?,
        state: r.get("state")?,
        source: r.get("source")?,
        created_at: Time(r.get("created_at")?),
        confirmed_at: r.get::<Option<i64>>("confirmed_at")?.map(Time),
        secret: None,
    })
}

impl Store {
    /// Adds email subscribers who confirmed elsewhere (a list moved from
    /// another status page), active at once, 1000 per transaction. Addresses
    /// already subscribed are skipped. Returns how many were added.
    pub async fn import_confirmed_subscribers(
        &self,
        ring: &KeyRing,
        addresses: &[Address],
        language: &str,
        by: AuditRecord,
    ) -> Result<u64> {
        let mut added = 0u64;
        for chunk in addresses.chunks(1000) {
            let mut tx = self.begin().await?;
            let mut cache = KeyCache::default();
            let mut n = 0u64;
            for a in chunk {
                let exists = tx
                    .fetch_optional(
                        "SELECT id FROM subscribers WHERE channel = $1 AND blind = $2",
                        args![a.channel.as_str(), a.blind(ring)],
                    )
                    .await?;
                if exists.is_some() {
                    continue;
                }
                let new = NewSubscriber {
                    address: a.clone(),
                    language: language.to_owned(),
                    components: None,
                    source: "import",
                };
                let contact = SealedContact {
                    address: a.value.clone(),
                    ..Default::default()
                };
                tx.insert_subscriber(ring, &mut cache, &new, &contact, "active")
                    .await?;
                n += 1;
            }
            tx.audit(AuditRecord {
                action: "subscriber.import".into(),
                class: DataClass::Subscribers,
                record: None,
                detail: serde_json::json!({ "added": n }),
                ..by.clone()
            })
            .await?;
            tx.commit().await?;
            added += n;
        }
        Ok(added)
    }
}

/// A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64.
pub fn new_webhook_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut k = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut k);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(k)
    )
}

// ---------------------------------------------------------------------
// Affected customers.

/// One affected customer as imported: an email and/or a phone number.
#[derive(Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AffectedInput {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// en, zh, fa, gu (default en).
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// For phone numbers written without a country code (default US).
    #[serde(default)]
    pub region: Option<String>,
}

impl std::fmt::Debug for AffectedInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AffectedInput(***)")
    }
}

/// An affected customer checked: told by email when there is one, else SMS.
pub struct AffectedCustomer {
    pub address: Address,
    pub other: Option<Address>,
    pub language: String,
    pub name: Option<String>,
}

impl AffectedCustomer {
    pub fn parse(input: &AffectedInput) -> Result<Self, DomainError> {
        let email = input
            .email
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|e| Address::parse(Channel::Email, e, None))
            .transpose()?;
        let phone = input
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|p| Address::parse(Channel::Sms, p, input.region.as_deref()))
            .transpose()?;
        let language = super::parse_language(input.language.as_deref())?;
        let name = input
            .name
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|n| {
                if n.chars().count() > 200 || n.chars().any(char::is_control) {
                    Err(DomainError::invalid(
                        "name",
                        "200 printable characters at most",
                    ))
                } else {
                    Ok(n.to_owned())
                }
            })
            .transpose()?;
        let (address, other) = match (email, phone) {
            (Some(e), p) => (e, p),
            (None, Some(p)) => (p, None),
            (None, None) => return Err(DomainError::invalid("email", "send an email or a phone")),
        };
        Ok(Self {
            address,
            other,
            language,
            name,
        })
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AffectedView {
    pub id: String,
    pub channel: Channel,
    /// Masked.
    pub address: String,
    pub language: String,
    #[schema(value_type = String)]
    pub created_at: Time,
}

impl Store {
    /// Adds affected customers to an incident, sealed; an address already
    /// on the incident's list is skipped. Returns (added, duplicates).
    pub async fn import_affected(
        &self,
        ring: &KeyRing,
        incident: &str,
        customers: &[AffectedCustomer],
        by: AuditRecord,
    ) -> Result<(u64, u64)> {
        let mut tx = self.begin().await?;
        let mut cache = KeyCache::default();
        let mut seen = BTreeSet::new();
        let (mut added, mut dup) = (0u64, 0u64);
        let now = now_ms();
        for c in customers {
            let blind = c.address.blind(ring);
            if !seen.insert(blind.clone()) {
                dup += 1;
                continue;
            }
            let exists = tx
                .fetch_optional(
                    "SELECT id FROM affected_customers WHERE incident_id = $1 AND blind = $2",
                    args![incident, &blind],
                )
                .await?;
            if exists.is_some() {
                dup += 1;
                continue;
            }
            let mut blinds = c.address.subject_blinds(ring);
            if let Some(o) = &c.other {
                blinds.extend(o.subject_blinds(ring));
            }
            let subject = tx.subject_for(ring, &blinds, &mut cache).await?;
            let key = tx.subject_key(ring, &subject, &mut cache).await?;
            let id = format!("afc_{}", ulid::Ulid::new());
            let contact = SealedContact {
                address: c.address.value.clone(),
                secret: None,
                name: c.name.clone(),
            };
            let plain =
                serde_json::to_vec(&contact).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let sealed = key.seal(&plain, &id, "contact");
            tx.execute(
                "INSERT INTO affected_customers (id, incident_id, subject_id, blind, contact_sealed, channel, language, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                args![&id, incident, &subject, &blind, sealed, c.address.channel.as_str(), &c.language, now],
            )
            .await?;
            added += 1;
        }
        tx.audit(AuditRecord {
            action: "incident.affected.import".into(),
            class: DataClass::Subscribers,
            record: Some(incident.to_owned()),
            detail: serde_json::json!({ "added": added, "duplicates": dup }),
            ..by
        })
        .await?;
        tx.commit().await?;
        Ok((added, dup))
    }

    pub async fn list_affected(
        &self,
        ring: &KeyRing,
        incident: &str,
        limit: i64,
    ) -> Result<(i64, Vec<AffectedView>)> {
        let total: i64 = self
            .fetch_optional(
                "SELECT COUNT(*) AS n FROM affected_customers WHERE incident_id = $1",
                args![incident],
            )
            .await?
            .map(|r| r.get("n"))
            .transpose()?
            .unwrap_or(0);
        let rows = self
            .fetch_all(
                "SELECT a.id, a.subject_id, a.contact_sealed, a.channel, a.language, a.created_at, k.key_version, k.wrapped_key
                 FROM affected_customers a JOIN subjects k ON k.id = a.subject_id
                 WHERE a.incident_id = $1 ORDER BY a.id LIMIT $2",
                args![incident, limit],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: String = r.get("id")?;
            let channel = Channel::from_db(&r.get::<String>("channel")?)
                .ok_or_else(|| StoreError::Corrupt("affected channel".into()))?;
            let contact = open_contact(ring, r, &id)?;
            out.push(AffectedView {
                address: mask(channel, &contact.address),
                id,
                channel,
                language: r.get("language")?,
                created_at: Time(r.get("created_at")?),
            });
        }
        Ok((total, out))
    }

    /// Queues a published update for every affected customer of its
    /// incident (each once). Returns how many were queued now.
    pub async fn notify_affected(
        &self,
        incident: &str,
        update: &str,
        by: AuditRecord,
    ) -> Result<u64> {
        let mut tx = self.begin().await?;
        let now = now_ms();
        let n = tx
            .execute(
                "INSERT INTO outbox (id, purpose, incident_id, update_id, recipient_kind, recipient_id, channel, language, payload, state, attempts, next_attempt_at, created_at, updated_at)
                 SELECT $1 || '.' || a.id, 'notice', $2, $1, 'affected', a.id, a.channel, a.language, '{}', 'queued', 0, $3, $3, $3
                 FROM affected_customers a WHERE a.incident_id = $2
                 ON CONFLICT (id) DO NOTHING",
                args![update, incident, now],
            )
            .await?;
        tx.audit(AuditRecord {
            action: "incident.affected.notify".into(),
            class: DataClass::Subscribers,
            record: Some(incident.to_owned()),
            detail: serde_json::json!({ "update": update, "queued": n }),
            ..by
        })
        .await?;
        tx.commit().await?;
        Ok(n)
    }
}
