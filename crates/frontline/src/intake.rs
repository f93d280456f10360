//! The front door for feedback: parse into domain values, take personal
//! data out of the free text, then store through one writer that commits
//! many submissions in one transaction (group commit). A submission is
//! acknowledged only after its transaction has committed.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use tokio::sync::{mpsc, oneshot};

use crate::domain::feedback::{
    parse_label, parse_language, parse_text, Channel, Contact, FeedbackKind, Score,
};
use crate::domain::{id::Kind, DomainError, Id};
use crate::privacy::KeyRing;
use crate::storage::feedback::{feedback_audit, LinkClaim, PreparedFeedback, Stored};
use crate::storage::{AuditRecord, Store, StoreError};

/// One feedback item as a client sends it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackInput {
    /// nps, csat, ces, scale (survey answers) or comment, complaint (free text).
    pub kind: String,
    /// NPS 0-10, CSAT 1-5, CES 1-7, scale 1-5.
    #[serde(default)]
    pub score: Option<i64>,
    /// Free text. Personal data in it is redacted before it is stored.
    #[serde(default)]
    pub text: Option<String>,
    /// Detected from the text when absent.
    #[serde(default)]
    pub language: Option<String>,
    /// web, email, chat, phone, social, app, api (default) or import.
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub component: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    /// The customer segment (e.g. enterprise, consumer), for the
    /// scorecard by segment.
    #[serde(default)]
    pub segment: Option<String>,
    #[serde(default)]
    pub journey_stage: Option<String>,
    #[serde(default)]
    pub touchpoint: Option<String>,
    /// Who sent it: stored sealed, and only with consent.
    #[serde(default)]
    pub contact: Option<ContactInput>,
    #[serde(default)]
    pub consent: Option<ConsentInput>,
    /// When the customer gave it (RFC 3339); default now.
    #[serde(default)]
    pub occurred_at: Option<String>,
    /// Resending an item with the same key stores it once.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    /// Must be true to store a contact.
    pub given: bool,
    /// What the customer agreed to, as they saw it.
    pub text: String,
}

/// What a channel or survey decides about an item beyond its content.
#[derive(Debug, Clone)]
pub struct Policy {
    pub default_channel: Channel,
    /// Keep the unredacted original, sealed (a survey may opt in).
    pub keep_raw_text: bool,
    /// Region for phone numbers written without a country code.
    pub phone_region: String,
    pub survey_id: Option<String>,
    pub submission_id: Option<String>,
    /// Truncated client address and user agent, where a survey opts in.
    pub client: Option<(Option<String>, Option<String>)>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            default_channel: Channel::Api,
            keep_raw_text: false,
            phone_region: "US".into(),
            survey_id: None,
            submission_id: None,
            client: None,
        }
    }
}

/// The privacy pass and parsing, shared by every way feedback comes in.
pub struct Preparer {
    redactor: frontline_pii::Redactor,
    lexicons: crate::lexicon::Lexicons,
}

impl Default for Preparer {
    /// The built-in lexicon alone.
    fn default() -> Self {
        Self::with_lexicons(crate::lexicon::Lexicons::default())
    }
}

impl Preparer {
    /// Analysis follows `lexicons` as admins change them.
    pub fn with_lexicons(lexicons: crate::lexicon::Lexicons) -> Self {
        // Compiling the redactor's rules takes a while; one per process suffices.
        static REDACTOR: std::sync::OnceLock<frontline_pii::Redactor> = std::sync::OnceLock::new();
        Self {
            redactor: REDACTOR.get_or_init(frontline_pii::Redactor::new).clone(),
            lexicons,
        }
    }

    pub fn lexicons(&self) -> &crate::lexicon::Lexicons {
        &self.lexicons
    }

    pub fn redactor(&self) -> &frontline_pii::Redactor {
        &self.redactor
    }

    /// The topic analysis finds in a text (on the original, before redaction).
    pub fn topic_of(&self, text: &str) -> String {
        self.lexicons
            .analyzer()
            .analyze(text)
            .topic
            .as_str()
            .to_owned()
    }

    /// Turns input into an item ready to store, or says which field is wrong.
    pub fn prepare(
        &self,
        input: FeedbackInput,
        policy: &Policy,
        question_id: Option<String>,
    ) -> Result<PreparedFeedback, DomainError> {
        let kind = FeedbackKind::parse(input.kind.trim())?;
        let score = match (kind.range(), input.score) {
            (Some(_), Some(v)) => Some(i64::from(Score::parse(kind, v)?.get())),
            (Some((min, max)), None) => {
                return Err(DomainError::invalid(
                    "score",
                    format!("a {kind} needs a score from {min} to {max}"),
                ))
            }
            (None, Some(v)) => {
                Score::parse(kind, v)?;
                None
            }
            (None, None) => None,
        };
        let text = input.text.as_deref().map(parse_text).transpose()?;
        if kind.range().is_none() && text.is_none() {
            return Err(DomainError::invalid("text", format!("a {kind} needs text")));
        }
        let channel = input
            .channel
            .as_deref()
            .map(Channel::parse)
            .transpose()?
            .unwrap_or(policy.default_channel);
        let label = |field: &'static str, v: &Option<String>| {
            v.as_deref().map(|s| parse_label(field, s)).transpose()
        };
        let component = label("component", &input.component)?;
        let region = label("region", &input.region)?;
        let segment = label("segment", &input.segment)?;
        let journey_stage = label("journey_stage", &input.journey_stage)?;
        let touchpoint = label("touchpoint", &input.touchpoint)?;
        let now = Utc::now();
        let occurred_at = match input.occurred_at.as_deref() {
            Some(s) => {
                let t = DateTime::parse_from_rfc3339(s.trim()).map_err(|_| {
                    DomainError::invalid(
                        "occurred_at",
                        "must be an RFC 3339 time, e.g. 2026-11-22T10:00:00Z",
                    )
                })?;
                if t.with_timezone(&Utc) > now + chrono::Duration::minutes(5) {
                    return Err(DomainError::invalid("occurred_at", "is in the future"));
                }
                t.timestamp_millis()
            }
            None => now.timestamp_millis(),
        };
        let idempotency_key = input
            .idempotency_key
            .map(|k| {
                let k = k.trim().to_owned();
                if k.is_empty() || k.len() > 200 || k.chars().any(char::is_control) {
                    Err(DomainError::invalid(
                        "idempotency_key",
                        "must be 1-200 printable characters",
                    ))
                } else {
                    Ok(k)
                }
            })
            .transpose()?;
        let (contact, consent_text, consent_at) = match (input.contact, input.consent) {
            (None, _) => (None, None, None),
            (Some(_), None) => {
                return Err(DomainError::invalid(
                    "consent",
                    "a contact is stored only with the customer's consent: send consent.given = true and its text",
                ))
            }
            (Some(_), Some(c)) if !c.given => {
                return Err(DomainError::invalid("consent", "consent.given is false: leave the contact out"))
            }
            (Some(c), Some(consent)) => {
                let text = consent.text.trim();
                if text.is_empty() || text.chars().count() > 1000 {
                    return Err(DomainError::invalid("consent.text", "must be 1-1000 characters"));
                }
                let contact = Contact::parse(
                    c.name.as_deref(),
                    c.email.as_deref(),
                    c.phone.as_deref(),
                    &policy.phone_region,
                )?;
                (Some(contact), Some(text.to_owned()), Some(now.timestamp_millis()))
            }
        };
        // Analysis reads the original: a scammer's number or link quoted in
        // a phishing report is an indicator, while the redactor takes it
        // out of the stored text like any other number.
        let analyzer = self.lexicons.analyzer();
        let analysis = text.as_deref().map(|t| analyzer.analyze(t));
        let indicators = analysis
            .as_ref()
            .map(|a| {
                a.indicators
                    .found
                    .iter()
                    .map(|i| {
                        let kind = i.key.split(':').next().unwrap_or("other").to_owned();
                        (kind, i.key.clone(), i.defanged.clone())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let (redacted, pii, raw_text) = match &text {
            Some(t) => {
                let r = self.redactor.redact(t);
                let mut kinds: Vec<&str> = r.findings.iter().map(|f| f.kind.as_str()).collect();
                kinds.sort_unstable();
                kinds.dedup();
                let raw = (policy.keep_raw_text && !r.findings.is_empty()).then(|| t.clone());
                (Some(r.text), kinds.join(","), raw)
            }
            None => (None, String::new(), None),
        };
        let language = match input.language.as_deref() {
            Some(l) => Some(parse_language(l)?),
            None => redacted.as_deref().and_then(|t| {
                let l = frontline_detect::detect_language(t);
                (l.code != "und").then_some(l.code)
            }),
        };
        let search_text = redacted.as_deref().map(crate::search::normalise);
        let (client_ip, user_agent) = policy.client.clone().unwrap_or((None, None));
        Ok(PreparedFeedback {
            id: Id::new(Kind::Feedback),
            kind: kind.as_str().to_owned(),
            score,
            text: redacted,
            search_text,
            language,
            channel: channel.as_str().to_owned(),
            component,
            region,
            segment,
            journey_stage,
            touchpoint,
            survey_id: policy.survey_id.clone(),
            question_id,
            submission_id: policy.submission_id.clone(),
            contact,
            consent_text,
            consent_at,
            raw_text,
            pii,
            topic: analysis.as_ref().map(|a| a.topic.as_str().to_owned()),
            sentiment: analysis.as_ref().map(|a| f64::from(a.sentiment)),
            indicators,
            client_ip,
            user_agent,
            idempotency_key,
            occurred_at,
            received_at: now.timestamp_millis(),
        })
    }
}

struct Job {
    items: Vec<PreparedFeedback>,
    audit: AuditRecord,
    claim: Option<LinkClaim>,
    reply: oneshot::Sender<Result<Vec<Stored>, StoreError>>,
}

/// The handle to the group-commit writer.
#[derive(Clone)]
pub struct Intake {
    tx: mpsc::Sender<Job>,
    /// Clones of this handle share the writer.
    pub preparer: Arc<Preparer>,
    pub ring: Arc<KeyRing>,
}

impl Intake {
    /// Starts the writer task.
    /// Starts the writer task; what it commits is counted by `watcher`.
    pub fn start(
        store: Store,
        ring: Arc<KeyRing>,
        max_batch: usize,
        watcher: Option<crate::signals::Watcher>,
        lexicons: crate::lexicon::Lexicons,
    ) -> Self {
        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(writer(store, ring.clone(), rx, max_batch, watcher));
        Self {
            tx,
            preparer: Arc::new(Preparer::with_lexicons(lexicons)),
            ring,
        }
    }

    /// Stores items; returns once they are committed.
    pub async fn submit(
        &self,
        items: Vec<PreparedFeedback>,
        audit: AuditRecord,
    ) -> Result<Vec<Stored>, StoreError> {
        self.submit_claiming(items, audit, None).await
    }

    /// Stores items only if the single-use link is unspent, spending it in
    /// the same transaction.
    pub async fn submit_claiming(
        &self,
        items: Vec<PreparedFeedback>,
        audit: AuditRecord,
        claim: Option<LinkClaim>,
    ) -> Result<Vec<Stored>, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job {
                items,
                audit,
                claim,
                reply,
            })
            .await
            .map_err(|_| StoreError::Corrupt("the intake writer has stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Corrupt("the intake writer has stopped".into()))?
    }
}

/// Tells the watcher about items that were committed and have a topic.
fn report(
    watcher: Option<&crate::signals::Watcher>,
    items: &[PreparedFeedback],
    stored: &[Stored],
) {
    let Some(w) = watcher else { return };
    for (item, s) in items.iter().zip(stored) {
        if let (Stored::Created { .. }, Some(topic)) = (s, &item.topic) {
            w.observe(crate::signals::Observation {
                feedback_id: item.id.to_string(),
                occurred_at: item.occurred_at,
                topic: topic.clone(),
                component: item.component.clone(),
                region: item.region.clone(),
                channel: item.channel.clone(),
                reporter: item.contact.as_ref().and_then(crate::signals::reporter_of),
                text: item.text.clone(),
                indicators: item
                    .indicators
                    .iter()
                    .map(|(_, key, defanged)| (key.clone(), defanged.clone()))
                    .collect(),
            });
        }
    }
}

fn answer(watcher: Option<&crate::signals::Watcher>, job: Job, r: Result<Vec<Stored>, StoreError>) {
    if let Ok(stored) = &r {
        report(watcher, &job.items, stored);
    }
    let _ = job.reply.send(r);
}

async fn writer(
    store: Store,
    ring: Arc<KeyRing>,
    mut rx: mpsc::Receiver<Job>,
    max_batch: usize,
    watcher: Option<crate::signals::Watcher>,
) {
    let watcher = watcher.as_ref();
    while let Some(first) = rx.recv().await {
        let mut n = first.items.len();
        let mut jobs = vec![first];
        while n < max_batch {
            match rx.try_recv() {
                Ok(job) => {
                    n += job.items.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        if jobs.len() == 1 {
            let job = jobs.remove(0);
            let r = store
                .store_feedback(&ring, &job.items, job.audit.clone(), job.claim.as_ref())
                .await;
            answer(watcher, job, r);
            continue;
        }
        match write_together(&store, &ring, &jobs).await {
            Ok(results) => {
                for (job, r) in jobs.into_iter().zip(results) {
                    answer(watcher, job, Ok(r));
                }
            }
            Err(e) => {
                // One job's failure must not fail the others: retry alone.
                tracing::warn!(error = %e, jobs = jobs.len(), "group commit failed; retrying one by one");
                for job in jobs {
                    let r = store
                        .store_feedback(&ring, &job.items, job.audit.clone(), job.claim.as_ref())
                        .await;
                    answer(watcher, job, r);
                }
            }
        }
    }
}

async fn write_together(
    store: &Store,
    ring: &KeyRing,
    jobs: &[Job],
) -> Result<Vec<Vec<Stored>>, StoreError> {
    let mut tx = store.begin().await?;
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        if let Some(c) = &job.claim {
            tx.claim_link(c).await?;
        }
        let out = tx.insert_feedback(ring, &job.items).await?;
        tx.audit(feedback_audit(job.audit.clone(), &out, job.items.len()))
            .await?;
        results.push(out);
    }
    tx.commit().await?;
    Ok(results)
}
