//! Feedback, subjects and their sealed data.

use std::collections::HashMap;

use serde::Serialize;

use super::{AuditRecord, Result, Row, Store, StoreError, Tx, Value};
use crate::args;
use crate::domain::{id::Kind, Id};
use crate::privacy::{KeyRing, SubjectKey};

/// One item ready to store: parsed, redacted, not yet sealed.
#[derive(Debug, Clone)]
pub struct PreparedFeedback {
    pub id: Id,
    pub kind: String,
    pub score: Option<i64>,
    /// Redacted.
    pub text: Option<String>,
    pub search_text: Option<String>,
    pub language: Option<String>,
    pub channel: String,
    pub component: Option<String>,
    pub region: Option<String>,
    pub segment: Option<String>,
    pub journey_stage: Option<String>,
    pub touchpoint: Option<String>,
    pub survey_id: Option<String>,
    pub question_id: Option<String>,
    pub submission_id: Option<String>,
    pub contact: Option<crate::domain::feedback::Contact>,
    pub consent_text: Option<String>,
    pub consent_at: Option<i64>,
    /// The unredacted original, only where a policy keeps it.
    pub raw_text: Option<String>,
    /// Entity kinds redacted from the text, comma-separated.
    pub pii: String,
    /// The main topic found by analysis (`account_access`, `phishing_scam`, ...).
    pub topic: Option<String>,
    /// Sentiment in [-1, 1].
    pub sentiment: Option<f64>,
    /// Indicators quoted in the text: (kind, counting key, defanged form).
    pub indicators: Vec<(String, String, String)>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    pub idempotency_key: Option<String>,
    pub occurred_at: i64,
    pub received_at: i64,
}

/// What became of one submitted item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Stored {
    Created {
        id: String,
    },
    /// The idempotency key was seen before: this is the earlier item.
    Duplicate {
        id: String,
    },
}

impl Stored {
    pub fn id(&self) -> &str {
        match self {
            Stored::Created { id } | Stored::Duplicate { id } => id,
        }
    }
}

/// A stored item as read back (contact and raw text still sealed).
#[derive(Debug, Clone)]
pub struct FeedbackRow {
    pub id: String,
    pub kind: String,
    pub score: Option<i64>,
    pub text: Option<String>,
    pub language: Option<String>,
    pub channel: String,
    pub component: Option<String>,
    pub region: Option<String>,
    pub journey_stage: Option<String>,
    pub touchpoint: Option<String>,
    pub survey_id: Option<String>,
    pub question_id: Option<String>,
    pub submission_id: Option<String>,
    pub subject_id: Option<String>,
    pub contact_sealed: Option<Vec<u8>>,
    pub raw_text_sealed: Option<Vec<u8>>,
    pub consent_text: Option<String>,
    pub consent_at: Option<i64>,
    pub pii: String,
    pub topic: Option<String>,
    pub sentiment: Option<f64>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    pub occurred_at: i64,
    pub received_at: i64,
    pub segment: Option<String>,
}

pub(crate) const COLUMNS: &str = "id, kind, score, text, language, channel, component, region, \
     journey_stage, touchpoint, survey_id, question_id, submission_id, subject_id, contact_sealed, \
     raw_text_sealed, consent_text, consent_at, pii, client_ip, user_agent, occurred_at, received_at, \
     topic, sentiment, segment";

impl FeedbackRow {
    pub(crate) fn from_row(r: &Row) -> Result<Self> {
        Ok(Self {
            id: r.get("id")?,
            kind: r.get("kind")?,
            score: r.get("score")?,
            text: r.get("text")?,
            language: r.get("language")?,
            channel: r.get("channel")?,
            component: r.get("component")?,
            region: r.get("region")?,
            journey_stage: r.get("journey_stage")?,
            touchpoint: r.get("touchpoint")?,
            survey_id: r.get("survey_id")?,
            question_id: r.get("question_id")?,
            submission_id: r.get("submission_id")?,
            subject_id: r.get("subject_id")?,
            contact_sealed: r.get("contact_sealed")?,
            raw_text_sealed: r.get("raw_text_sealed")?,
            consent_text: r.get("consent_text")?,
            consent_at: r.get("consent_at")?,
            pii: r.get("pii")?,
            topic: r.get("topic")?,
            sentiment: r.get("sentiment")?,
            client_ip: r.get("client_ip")?,
            user_agent: r.get("user_agent")?,
            occurred_at: r.get("occurred_at")?,
            received_at: r.get("received_at")?,
            segment: r.get("segment")?,
        })
    }
}

/// Filters for listing feedback. All optional; combined with AND.
#[derive(Debug, Default, Clone)]
pub struct FeedbackFilter {
    pub kind: Option<String>,
    pub channel: Option<String>,
    pub component: Option<String>,
    pub region: Option<String>,
    pub segment: Option<String>,
    pub language: Option<String>,
    pub journey_stage: Option<String>,
    pub topic: Option<String>,
    pub survey_id: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Already normalised with `search::normalise`.
    pub query: Option<String>,
    /// Items older than this id (the cursor).
    pub before: Option<String>,
    pub limit: i64,
}

/// Data keys met in one transaction, so each subject is unwrapped once.
#[derive(Default)]
pub(crate) struct KeyCache {
    by_blind: HashMap<String, String>,
    keys: HashMap<String, SubjectKey>,
}

/// A single-use survey link to spend with a submission.
#[derive(Debug, Clone)]
pub struct LinkClaim {
    pub survey_id: String,
    pub token: String,
}

impl Tx {
    /// Inserts rows of equal width with as few statements as the
    /// databases' parameter limits allow.
    pub(crate) async fn insert_rows(
        &mut self,
        head: &str,
        tail: &str,
        rows: Vec<Vec<Value>>,
    ) -> Result<()> {
        let Some(width) = rows.first().map(Vec::len) else {
            return Ok(());
        };
        let per_statement = (2000 / width.max(1)).clamp(1, 100);
        let postgres = self.is_postgres();
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<Vec<Value>> = rows.by_ref().take(per_statement).collect();
            let mut sql = String::with_capacity(head.len() + chunk.len() * width * 5);
            sql.push_str(head);
            let mut n = 0;
            for (i, row) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(',');
                }
                sql.push('(');
                for j in 0..row.len() {
                    n += 1;
                    if j > 0 {
                        sql.push(',');
                    }
                    // SQLite looks named parameters up one by one (a linear
                    // scan each): thousands of `$N` cost more than the
                    // insert. Anonymous `?` bind by position.
                    if postgres {
                        sql.push('$');
                        sql.push_str(&n.to_string());
                    } else {
                        sql.push('?');
                    }
                }
                sql.push(')');
            }
            sql.push_str(tail);
            self.execute(&sql, chunk.into_iter().flatten().collect())
                .await?;
        }
        Ok(())
    }

    /// Spends a single-use link, or fails if it was spent already.
    pub async fn claim_link(&mut self, c: &LinkClaim) -> Result<()> {
        let n = self
            .execute(
                "UPDATE survey_links SET used_at = $1 WHERE token_hash = $2 AND survey_id = $3 AND used_at IS NULL",
                args![super::now_ms(), super::tokens::hash_secret(&c.token), &c.survey_id],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Conflict(
                "an answer through this single-use link",
            ));
        }
        Ok(())
    }

    /// The subject with any of these blind indexes, or a new one; the
    /// indexes not yet recorded are added.
    pub(crate) async fn subject_for(
        &mut self,
        ring: &KeyRing,
        blinds: &[String],
        cache: &mut KeyCache,
    ) -> Result<String> {
        let mut found = blinds.iter().find_map(|b| cache.by_blind.get(b).cloned());
        if found.is_none() {
            for b in blinds {
                if let Some(r) = self
                    .fetch_optional(
                        "SELECT subject_id FROM subject_index WHERE blind = $1",
                        args![b],
                    )
                    .await?
                {
                    found = Some(r.get("subject_id")?);
                    break;
                }
            }
        }
        let subject = match found {
            Some(s) => s,
            None => self.new_subject(ring, cache).await?,
        };
        for b in blinds {
            if cache.by_blind.get(b) != Some(&subject) {
                self.execute(
                    "INSERT INTO subject_index (blind, subject_id) VALUES ($1, $2) ON CONFLICT (blind) DO NOTHING",
                    args![b, &subject],
                )
                .await?;
                cache.by_blind.insert(b.clone(), subject.clone());
            }
        }
        Ok(subject)
    }

    async fn new_subject(&mut self, ring: &KeyRing, cache: &mut KeyCache) -> Result<String> {
        let id = Id::new(Kind::Subject).to_string();
        let (key, wrapped, version) = ring.new_subject_key(&id);
        self.execute(
            "INSERT INTO subjects (id, key_version, wrapped_key, created_at) VALUES ($1, $2, $3, $4)",
            args![&id, i64::from(version), wrapped, super::now_ms()],
        )
        .await?;
        cache.keys.insert(id.clone(), key);
        Ok(id)
    }

    pub(crate) async fn subject_key<'c>(
        &mut self,
        ring: &KeyRing,
        subject: &str,
        cache: &'c mut KeyCache,
    ) -> Result<&'c SubjectKey> {
        if !cache.keys.contains_key(subject) {
            let r = self
                .fetch_optional(
                    "SELECT key_version, wrapped_key FROM subjects WHERE id = $1",
                    args![subject],
                )
                .await?
                .ok_or(StoreError::NotFound)?;
            let version: i64 = r.get("key_version")?;
            let wrapped: Vec<u8> = r.get("wrapped_key")?;
            let key = ring
                .unwrap_subject_key(subject, &wrapped, version as u32)
                .map_err(|e| StoreError::Corrupt(format!("subject key: {e}")))?;
            cache.keys.insert(subject.to_owned(), key);
        }
        cache.keys.get(subject).ok_or(StoreError::NotFound)
    }

    /// Stores items in this transaction: subjects found or created, contact
    /// and raw text sealed under the subject's key, idempotency honoured.
    pub async fn insert_feedback(
        &mut self,
        ring: &KeyRing,
        items: &[PreparedFeedback],
    ) -> Result<Vec<Stored>> {
        let mut cache = KeyCache::default();
        let mut out = Vec::with_capacity(items.len());
        let mut seen_keys: HashMap<String, String> = HashMap::new();
        let mut rows: Vec<Vec<Value>> = Vec::with_capacity(items.len());
        let mut indicator_rows: Vec<Vec<Value>> = Vec::new();
        for item in items {
            if let Some(key) = &item.idempotency_key {
                if let Some(id) = seen_keys.get(key) {
                    out.push(Stored::Duplicate { id: id.clone() });
                    continue;
                }
                if let Some(r) = self
                    .fetch_optional(
                        "SELECT id FROM feedback WHERE idempotency_key = $1",
                        args![key],
                    )
                    .await?
                {
                    let id: String = r.get("id")?;
                    seen_keys.insert(key.clone(), id.clone());
                    out.push(Stored::Duplicate { id });
                    continue;
                }
                seen_keys.insert(key.clone(), item.id.to_string());
            }
            let id = item.id.to_string();
            let mut subject = None;
            let mut contact_sealed = None;
            let mut raw_sealed = None;
            if let Some(contact) = &item.contact {
                let mut blinds = Vec::new();
                if let Some(e) = &contact.email {
                    blinds.push(ring.blind_index("email", e));
                }
                if let Some(p) = &contact.phone {
                    blinds.push(ring.blind_index("phone", p));
                }
                let s = self.subject_for(ring, &blinds, &mut cache).await?;
                let key = self.subject_key(ring, &s, &mut cache).await?;
                let json =
                    serde_json::to_vec(contact).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                contact_sealed = Some(key.seal(&json, &id, "contact"));
                subject = Some(s);
            }
            if let Some(raw) = &item.raw_text {
                let s = match &subject {
                    Some(s) => s.clone(),
                    None => self.new_subject(ring, &mut cache).await?,
                };
                let key = self.subject_key(ring, &s, &mut cache).await?;
                raw_sealed = Some(key.seal(raw.as_bytes(), &id, "raw_text"));
                subject = Some(s);
            }
            let bytes = |b: Option<Vec<u8>>| b.map_or(Value::NullBytes, Value::Bytes);
            rows.push(vec![
                Value::from(&id),
                item.kind.clone().into(),
                item.score.into(),
                item.text.clone().into(),
                item.language.clone().into(),
                item.channel.clone().into(),
                item.component.clone().into(),
                item.region.clone().into(),
                item.journey_stage.clone().into(),
                item.touchpoint.clone().into(),
                item.survey_id.clone().into(),
                item.question_id.clone().into(),
                item.submission_id.clone().into(),
                subject.into(),
                bytes(contact_sealed),
                bytes(raw_sealed),
                item.consent_text.clone().into(),
                item.consent_at.into(),
                item.pii.clone().into(),
                item.client_ip.clone().into(),
                item.user_agent.clone().into(),
                item.occurred_at.into(),
                item.received_at.into(),
                item.topic.clone().into(),
                item.sentiment.map_or(Value::NullF64, Value::F64),
                item.segment.clone().into(),
                item.search_text.clone().into(),
                item.idempotency_key.clone().into(),
            ]);
            for (kind, key, defanged) in &item.indicators {
                indicator_rows.push(args![&id, kind, key, defanged, item.occurred_at]);
            }
            out.push(Stored::Created { id });
        }
        // Many rows per statement: one round trip per hundred items, not one
        // per item.
        self.insert_rows(
            &format!("INSERT INTO feedback ({COLUMNS}, search_text, idempotency_key) VALUES "),
            "",
            rows,
        )
        .await?;
        self.insert_rows(
            "INSERT INTO feedback_indicators (feedback_id, kind, key, defanged, occurred_at) VALUES ",
            " ON CONFLICT (feedback_id, key) DO NOTHING",
            indicator_rows,
        )
        .await?;
        // The scorecard's daily rollups, in the same transaction.
        self.roll_up_feedback(items, &out).await?;
        Ok(out)
    }
}

impl Store {
    pub async fn feedback(&self, id: &str) -> Result<Option<FeedbackRow>> {
        self.fetch_optional(
            &format!("SELECT {COLUMNS} FROM feedback WHERE id = $1"),
            args![id],
        )
        .await?
        .as_ref()
        .map(FeedbackRow::from_row)
        .transpose()
    }

    /// Newest first. Substring search over normalised text in any script.
    pub async fn list_feedback(&self, f: &FeedbackFilter) -> Result<Vec<FeedbackRow>> {
        let mut sql = format!("SELECT {COLUMNS} FROM feedback WHERE 1=1");
        let mut args: Vec<Value> = Vec::new();
        let eq = |col: &str, v: &Option<String>, sql: &mut String, args: &mut Vec<Value>| {
            if let Some(v) = v {
                args.push(v.clone().into());
                sql.push_str(&format!(" AND {col} = ${}", args.len()));
            }
        };
        eq("kind", &f.kind, &mut sql, &mut args);
        eq("channel", &f.channel, &mut sql, &mut args);
        eq("component", &f.component, &mut sql, &mut args);
        eq("region", &f.region, &mut sql, &mut args);
        eq("segment", &f.segment, &mut sql, &mut args);
        eq("language", &f.language, &mut sql, &mut args);
        eq("journey_stage", &f.journey_stage, &mut sql, &mut args);
        eq("topic", &f.topic, &mut sql, &mut args);
        eq("survey_id", &f.survey_id, &mut sql, &mut args);
        if let Some(since) = f.since {
            args.push(since.into());
            sql.push_str(&format!(" AND occurred_at >= ${}", args.len()));
        }
        if let Some(until) = f.until {
            args.push(until.into());
            sql.push_str(&format!(" AND occurred_at < ${}", args.len()));
        }
        if let Some(before) = &f.before {
            args.push(before.clone().into());
            sql.push_str(&format!(" AND id < ${}", args.len()));
        }
        if let Some(q) = f.query.as_deref().filter(|q| !q.is_empty()) {
            let like = format!(
                "%{}%",
                q.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            match self {
                // Three characters or more: the trigram index answers.
                Store::Sqlite { .. } if q.chars().count() >= 3 => {
                    args.push(format!("\"{}\"", q.replace('"', "\"\"")).into());
                    sql.push_str(&format!(
                        " AND rowid IN (SELECT rowid FROM feedback_fts WHERE feedback_fts MATCH ${})",
                        args.len()
                    ));
                }
                _ => {
                    args.push(like.into());
                    sql.push_str(&format!(
                        " AND search_text LIKE ${} ESCAPE '\\'",
                        args.len()
                    ));
                }
            }
        }
        args.push(f.limit.clamp(1, 500).into());
        sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", args.len()));
        self.fetch_all(&sql, args)
            .await?
            .iter()
            .map(FeedbackRow::from_row)
            .collect()
    }

    /// The indicators quoted in one item: (kind, defanged).
    pub async fn feedback_indicators(&self, id: &str) -> Result<Vec<(String, String)>> {
        self.fetch_all(
            "SELECT kind, defanged FROM feedback_indicators WHERE feedback_id = $1 ORDER BY kind, key",
            args![id],
        )
        .await?
        .iter()
        .map(|r| Ok((r.get("kind")?, r.get("defanged")?)))
        .collect()
    }

    /// Opens an item's sealed contact and raw text (if any).
    pub async fn open_sealed(
        &self,
        ring: &KeyRing,
        row: &FeedbackRow,
    ) -> Result<(Option<crate::domain::feedback::Contact>, Option<String>)> {
        let Some(subject) = &row.subject_id else {
            return Ok((None, None));
        };
        let Some(r) = self
            .fetch_optional(
                "SELECT key_version, wrapped_key FROM subjects WHERE id = $1",
                args![subject],
            )
            .await?
        else {
            return Ok((None, None));
        };
        let version: i64 = r.get("key_version")?;
        let wrapped: Vec<u8> = r.get("wrapped_key")?;
        let key = ring
            .unwrap_subject_key(subject, &wrapped, version as u32)
            .map_err(|e| StoreError::Corrupt(format!("subject key: {e}")))?;
        let contact = row
            .contact_sealed
            .as_deref()
            .map(|s| key.open(s, &row.id, "contact"))
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?
            .and_then(|b| serde_json::from_slice(&b).ok());
        let raw = row
            .raw_text_sealed
            .as_deref()
            .map(|s| key.open(s, &row.id, "raw_text"))
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        Ok((contact, raw))
    }

    /// Stores items in one transaction with one audit entry; with a claim,
    /// only if the single-use link is still unused (and uses it).
    pub async fn store_feedback(
        &self,
        ring: &KeyRing,
        items: &[PreparedFeedback],
        audit: AuditRecord,
        claim: Option<&LinkClaim>,
    ) -> Result<Vec<Stored>> {
        let mut tx = self.begin().await?;
        if let Some(c) = claim {
            tx.claim_link(c).await?;
        }
        let n = items.len();
        let out = tx.insert_feedback(ring, items).await?;
        tx.audit(feedback_audit(audit, &out, n)).await?;
        tx.commit().await?;
        Ok(out)
    }
}

/// The audit entry for a stored batch: counts and the id range, no content.
pub(crate) fn feedback_audit(mut audit: AuditRecord, out: &[Stored], n: usize) -> AuditRecord {
    let created: Vec<&str> = out
        .iter()
        .filter_map(|s| match s {
            Stored::Created { id } => Some(id.as_str()),
            Stored::Duplicate { .. } => None,
        })
        .collect();
    audit.detail = serde_json::json!({
        "submitted": n,
        "created": created.len(),
        "first": created.first(),
        "last": created.last(),
    });
    if created.len() == 1 {
        audit.record = created.first().map(|s| s.to_string());
    }
    audit
}
