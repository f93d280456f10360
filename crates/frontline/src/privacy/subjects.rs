//! Data requests: find a person by email address or phone number (through
//! the blind index, never by decrypting), export everything held about
//! them, or erase it. Also the re-wrapping of subjects' data keys after a
//! key rotation.

use serde::Serialize;

use crate::args;
use crate::domain::feedback::{normalise_phone, Contact};
use crate::domain::user::Email;
use crate::domain::{DataClass, DomainError};
use crate::privacy::KeyRing;
use crate::storage::feedback::{FeedbackRow, COLUMNS};
use crate::storage::users::rfc3339;
use crate::storage::{AuditRecord, Result, Store, StoreError, Tx};

/// How a person is identified in a data request, normalised as intake
/// normalises it. Personal data: `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub enum Identifier {
    Email(String),
    Phone(String),
}

impl std::fmt::Debug for Identifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Identifier::Email(_) => f.write_str("Email(***)"),
            Identifier::Phone(_) => f.write_str("Phone(***)"),
        }
    }
}

impl Identifier {
    /// Exactly one of an email address or a phone number (the latter read
    /// with `region` when written without a country code, default US).
    pub fn parse(
        email: Option<&str>,
        phone: Option<&str>,
        region: Option<&str>,
    ) -> Result<Self, DomainError> {
        let email = email.map(str::trim).filter(|s| !s.is_empty());
        let phone = phone.map(str::trim).filter(|s| !s.is_empty());
        match (email, phone) {
            (Some(e), None) => Ok(Identifier::Email(
                Email::parse(e)
                    .map_err(|_| DomainError::invalid("email", "not an email address"))?
                    .as_str()
                    .to_owned(),
            )),
            (None, Some(p)) => {
                let region = region.map(str::trim).filter(|r| !r.is_empty());
                let region = region.unwrap_or("US").to_ascii_uppercase();
                if region.len() != 2 || !region.chars().all(|c| c.is_ascii_alphabetic()) {
                    return Err(DomainError::invalid(
                        "region",
                        "must be a two-letter country code such as US or IR",
                    ));
                }
                let p = normalise_phone(p, &region)
                    .map_err(|_| DomainError::invalid("phone", "not a valid phone number"))?;
                Ok(Identifier::Phone(p))
            }
            (None, None) => Err(DomainError::invalid(
                "email",
                "send the person's email or phone",
            )),
            (Some(_), Some(_)) => Err(DomainError::invalid(
                "phone",
                "send either email or phone, not both",
            )),
        }
    }

    fn blind(&self, ring: &KeyRing) -> String {
        match self {
            Identifier::Email(e) => ring.blind_index("email", e),
            Identifier::Phone(p) => ring.blind_index("phone", p),
        }
    }
}

/// A contact as the person gave it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExportedContact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// One feedback item as the person would recognise it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExportedItem {
    pub id: String,
    pub kind: String,
    pub score: Option<i64>,
    /// The text as stored: personal data replaced by [EMAIL], [PHONE], ...
    pub text: Option<String>,
    /// The original text, where it was kept (sealed) and has not expired.
    pub raw_text: Option<String>,
    pub language: Option<String>,
    pub channel: String,
    pub component: Option<String>,
    pub region: Option<String>,
    pub journey_stage: Option<String>,
    pub touchpoint: Option<String>,
    pub survey_id: Option<String>,
    pub question_id: Option<String>,
    pub contact: Option<ExportedContact>,
    pub consent_text: Option<String>,
    /// RFC 3339, UTC.
    pub consent_at: Option<String>,
    pub occurred_at: String,
    pub received_at: String,
}

/// Everything held about one person.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubjectExport {
    /// The subject the email or phone leads to.
    pub subject_id: String,
    /// Every subject found for the person: the first, and those reached
    /// through other identifiers in their contacts (an email given once
    /// alone and a phone given once alone make two subjects).
    pub subject_ids: Vec<String>,
    /// RFC 3339, UTC.
    pub exported_at: String,
    pub items: Vec<ExportedItem>,
}

/// What an erasure removed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct EraseReport {
    /// The subject the email or phone leads to.
    pub subject_id: String,
    /// Subjects erased (see `SubjectExport::subject_ids`).
    pub subjects_erased: u64,
    /// Feedback rows kept without contact, raw text or consent.
    pub feedback_anonymised: u64,
    /// Feedback rows deleted (with `delete_feedback`).
    pub feedback_deleted: u64,
    /// Blind-index entries (email, phone) removed.
    pub identifiers_removed: u64,
    /// The person's data keys were deleted: anything sealed under them is unreadable.
    pub key_deleted: bool,
}

/// The most subjects one request follows, against pathological data.
const MAX_SUBJECTS: usize = 100;

/// One subject's feedback rows, with contact and raw text opened.
struct Opened {
    row: FeedbackRow,
    contact: Option<Contact>,
    raw_text: Option<String>,
}

impl Tx {
    async fn subject_with(&mut self, blind: &str) -> Result<Option<String>> {
        self.fetch_optional(
            "SELECT subject_id FROM subject_index WHERE blind = $1",
            args![blind],
        )
        .await?
        .map(|r| r.get("subject_id"))
        .transpose()
    }

    /// A subject's feedback, opened with their data key.
    async fn open_subject(&mut self, ring: &KeyRing, subject: &str) -> Result<Vec<Opened>> {
        let key_row = self
            .fetch_optional(
                "SELECT key_version, wrapped_key FROM subjects WHERE id = $1",
                args![subject],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let version: i64 = key_row.get("key_version")?;
        let wrapped: Vec<u8> = key_row.get("wrapped_key")?;
        let version = u32::try_from(version)
            .map_err(|_| StoreError::Corrupt(format!("subject {subject}: bad key version")))?;
        let key = ring
            .unwrap_subject_key(subject, &wrapped, version)
            .map_err(|e| StoreError::Corrupt(format!("subject key: {e}")))?;
        let rows = self
            .fetch_all(
                &format!("SELECT {COLUMNS} FROM feedback WHERE subject_id = $1 ORDER BY id"),
                args![subject],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let row = FeedbackRow::from_row(r)?;
            let contact = row
                .contact_sealed
                .as_deref()
                .map(|s| key.open(s, &row.id, "contact"))
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("{}: {e}", row.id)))?
                .map(|b| serde_json::from_slice::<Contact>(&b))
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("{}: contact: {e}", row.id)))?;
            let raw_text = row
                .raw_text_sealed
                .as_deref()
                .map(|s| key.open(s, &row.id, "raw_text"))
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("{}: {e}", row.id)))?
                .map(|b| String::from_utf8_lossy(&b).into_owned());
            out.push(Opened {
                row,
                contact,
                raw_text,
            });
        }
        Ok(out)
    }

    /// The person's subjects: the one the identifier leads to, then those
    /// the other identifiers in their contacts lead to, and so on. Empty if
    /// we hold nothing about them.
    async fn subjects_of(
        &mut self,
        ring: &KeyRing,
        who: &Identifier,
    ) -> Result<Vec<(String, Vec<Opened>)>> {
        let mut found: Vec<(String, Vec<Opened>)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut queue = vec![who.blind(ring)];
        while let Some(blind) = queue.pop() {
            if !seen.insert(blind.clone()) || found.len() >= MAX_SUBJECTS {
                continue;
            }
            let Some(subject) = self.subject_with(&blind).await? else {
                continue;
            };
            if found.iter().any(|(s, _)| *s == subject) {
                continue;
            }
            let opened = self.open_subject(ring, &subject).await?;
            for c in opened.iter().filter_map(|o| o.contact.as_ref()) {
                if let Some(e) = &c.email {
                    queue.push(ring.blind_index("email", e));
                }
                if let Some(p) = &c.phone {
                    queue.push(ring.blind_index("phone", p));
                }
            }
            found.push((subject, opened));
        }
        Ok(found)
    }
}

/// Everything held about the person, decrypted; `None` if we hold nothing
/// about them. The look is audited (by subject id, never the identifier).
pub async fn export(
    store: &Store,
    ring: &KeyRing,
    who: &Identifier,
    mut audit: AuditRecord,
) -> Result<Option<SubjectExport>> {
    let mut tx = store.begin().await?;
    let subjects = tx.subjects_of(ring, who).await?;
    let Some(first) = subjects.first().map(|(s, _)| s.clone()) else {
        return Ok(None);
    };
    let subject_ids: Vec<String> = subjects.iter().map(|(s, _)| s.clone()).collect();
    let mut items = Vec::new();
    for (_, opened) in subjects {
        for Opened {
            row,
            contact,
            raw_text,
        } in opened
        {
            items.push(ExportedItem {
                id: row.id,
                kind: row.kind,
                score: row.score,
                text: row.text,
                raw_text,
                language: row.language,
                channel: row.channel,
                component: row.component,
                region: row.region,
                journey_stage: row.journey_stage,
                touchpoint: row.touchpoint,
                survey_id: row.survey_id,
                question_id: row.question_id,
                contact: contact.map(|c| ExportedContact {
                    name: c.name,
                    email: c.email,
                    phone: c.phone,
                }),
                consent_text: row.consent_text,
                consent_at: row.consent_at.map(rfc3339),
                occurred_at: rfc3339(row.occurred_at),
                received_at: rfc3339(row.received_at),
            });
        }
    }
    items.sort_by(|a, b| a.id.cmp(&b.id));
    audit.action = "subject.export".into();
    audit.class = DataClass::Contact;
    audit.record = Some(first.clone());
    audit.detail = serde_json::json!({ "items": items.len(), "subjects": subject_ids });
    tx.audit(audit).await?;
    tx.commit().await?;
    Ok(Some(SubjectExport {
        subject_id: first,
        subject_ids,
        exported_at: rfc3339(crate::storage::now_ms()),
        items,
    }))
}

/// Erases the person: their data keys, their index entries, and on their
/// feedback the contact, raw text and consent (or, with `delete_feedback`,
/// the rows themselves). One transaction, audited. `None` if we hold
/// nothing about them.
pub async fn erase(
    store: &Store,
    ring: &KeyRing,
    who: &Identifier,
    delete_feedback: bool,
    mut audit: AuditRecord,
) -> Result<Option<EraseReport>> {
    let mut tx = store.begin().await?;
    let subjects: Vec<String> = tx
        .subjects_of(ring, who)
        .await?
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    let Some(first) = subjects.first().cloned() else {
        return Ok(None);
    };
    let mut report = EraseReport {
        subject_id: first.clone(),
        subjects_erased: 0,
        feedback_anonymised: 0,
        feedback_deleted: 0,
        identifiers_removed: 0,
        key_deleted: false,
    };
    for subject in &subjects {
        if delete_feedback {
            report.feedback_deleted += tx
                .execute("DELETE FROM feedback WHERE subject_id = $1", args![subject])
                .await?;
        } else {
            report.feedback_anonymised += tx
                .execute(
                    "UPDATE feedback SET contact_sealed = NULL, raw_text_sealed = NULL, \
                     consent_text = NULL, consent_at = NULL, subject_id = NULL WHERE subject_id = $1",
                    args![subject],
                )
                .await?;
        }
        // Tickets keep their history; who asked is forgotten.
        tx.execute(
            "UPDATE tickets SET contact_sealed = NULL, contact_blind = NULL, subject_id = NULL WHERE subject_id = $1",
            args![subject],
        )
        .await?;
        report.identifiers_removed += tx
            .execute(
                "DELETE FROM subject_index WHERE subject_id = $1",
                args![subject],
            )
            .await?;
        report.subjects_erased += tx
            .execute("DELETE FROM subjects WHERE id = $1", args![subject])
            .await?;
    }
    report.key_deleted = report.subjects_erased == subjects.len() as u64;
    audit.action = "subject.erase".into();
    audit.class = DataClass::Contact;
    audit.record = Some(first);
    audit.detail = serde_json::json!({
        "subjects": subjects,
        "feedback_anonymised": report.feedback_anonymised,
        "feedback_deleted": report.feedback_deleted,
        "identifiers_removed": report.identifiers_removed,
        "delete_feedback": delete_feedback,
    });
    tx.audit(audit).await?;
    tx.commit().await?;
    Ok(Some(report))
}

/// How many subjects' data keys each key version wraps.
pub async fn key_versions(store: &Store) -> Result<Vec<(u32, i64)>> {
    store
        .fetch_all(
            "SELECT key_version, COUNT(*) AS n FROM subjects GROUP BY key_version ORDER BY key_version",
            vec![],
        )
        .await?
        .iter()
        .map(|r| {
            let v: i64 = r.get("key_version")?;
            let n: i64 = r.get("n")?;
            Ok((u32::try_from(v).unwrap_or(0), n))
        })
        .collect()
}

/// Re-wraps up to `limit` subjects whose data key is wrapped under an
/// older version than the ring's current one; one transaction. Returns how
/// many were re-wrapped (0: nothing left to do). A batch that changed
/// something is audited as `keys.rewrap` by `actor`.
pub async fn rewrap_batch(store: &Store, ring: &KeyRing, limit: i64, actor: &str) -> Result<u64> {
    let current = i64::from(ring.current_version());
    // Usually there is nothing to do: find that out without the writer.
    let stale = store
        .fetch_optional(
            "SELECT id FROM subjects WHERE key_version < $1 LIMIT 1",
            args![current],
        )
        .await?;
    if stale.is_none() {
        return Ok(0);
    }
    let mut tx = store.begin().await?;
    let rows = tx
        .fetch_all(
            "SELECT id, key_version, wrapped_key FROM subjects WHERE key_version < $1 ORDER BY id LIMIT $2",
            args![current, limit],
        )
        .await?;
    let mut done = 0;
    for r in &rows {
        let id: String = r.get("id")?;
        let version: i64 = r.get("key_version")?;
        let wrapped: Vec<u8> = r.get("wrapped_key")?;
        let v = u32::try_from(version)
            .map_err(|_| StoreError::Corrupt(format!("subject {id}: bad key version")))?;
        let (rewrapped, new_version) = ring
            .rewrap(&id, &wrapped, v)
            .map_err(|e| StoreError::Corrupt(format!("subject {id}: {e}")))?;
        // Conditional: another node may have re-wrapped it meanwhile.
        done += tx
            .execute(
                "UPDATE subjects SET key_version = $1, wrapped_key = $2 WHERE id = $3 AND key_version = $4",
                args![i64::from(new_version), rewrapped, &id, version],
            )
            .await?;
    }
    if done > 0 {
        tx.audit(AuditRecord {
            actor: actor.to_owned(),
            address: None,
            action: "keys.rewrap".into(),
            class: DataClass::Settings,
            record: None,
            detail: serde_json::json!({ "subjects": done, "key_version": current }),
        })
        .await?;
    }
    tx.commit().await?;
    Ok(done)
}
