//! Retention: each data class is kept for its configured number of days
//! (counted from when Frontline received the item), then purged.
//!
//! - raw text (sealed originals) past `retention.raw_text_days`: nulled;
//! - contact and consent past `retention.contact_days`: nulled; ended
//!   subscriptions (unsubscribed, disabled) and affected-customer lists
//!   older than that: deleted;
//! - feedback rows past `retention.feedback_days`: deleted;
//! - then subjects with no sealed data left (no contact or raw text, no
//!   subscription, not on an affected-customer list): deleted with their
//!   data key and blind-index entries.
//!
//! One transaction; one audit entry per class that lost something.

use serde::Serialize;

use crate::args;
use crate::config::RetentionConfig;
use crate::domain::DataClass;
use crate::storage::users::rfc3339;
use crate::storage::{AuditRecord, Result, Store};

const DAY_MS: i64 = 86_400_000;

/// What a purge removed (or, in a dry run, would remove).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    /// Feedback rows whose sealed raw text was removed.
    pub raw_text: u64,
    /// Feedback rows whose contact and consent were removed.
    pub contact: u64,
    /// Feedback rows deleted.
    pub feedback: u64,
    /// Subjects (people) deleted with their data key.
    pub subjects: u64,
}

impl PurgeReport {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Purges what is past its retention, as the background job (`retention`
/// in the audit trail).
pub async fn purge(store: &Store, config: &RetentionConfig, dry_run: bool) -> Result<PurgeReport> {
    purge_as(store, config, dry_run, "retention").await
}

/// Purges what is past its retention; audit entries name `actor`. A dry
/// run does the same work in a transaction it then rolls back, so the
/// counts are exactly what a real run would remove.
pub async fn purge_as(
    store: &Store,
    config: &RetentionConfig,
    dry_run: bool,
    actor: &str,
) -> Result<PurgeReport> {
    let now = crate::storage::now_ms();
    let cutoff = |days: u32| now - i64::from(days) * DAY_MS;
    let (raw_cut, contact_cut, feedback_cut) = (
        cutoff(config.raw_text_days),
        cutoff(config.contact_days),
        cutoff(config.feedback_days),
    );
    let mut tx = store.begin().await?;
    let raw_text = tx
        .execute(
            "UPDATE feedback SET raw_text_sealed = NULL \
             WHERE raw_text_sealed IS NOT NULL AND received_at < $1",
            args![raw_cut],
        )
        .await?;
    let contact = tx
        .execute(
            "UPDATE feedback SET contact_sealed = NULL, consent_text = NULL, consent_at = NULL \
             WHERE (contact_sealed IS NOT NULL OR consent_text IS NOT NULL OR consent_at IS NOT NULL) \
             AND received_at < $1",
            args![contact_cut],
        )
        .await?;
    // Ended subscriptions and affected-customer lists are contact details
    // too; live subscriptions are kept while they last.
    let contact = contact
        + tx.execute(
            "DELETE FROM subscribers WHERE state IN ('unsubscribed', 'disabled') AND updated_at < $1",
            args![contact_cut],
        )
        .await?
        + tx.execute(
            "DELETE FROM affected_customers WHERE created_at < $1",
            args![contact_cut],
        )
        .await?;
    let feedback = tx
        .execute(
            "DELETE FROM feedback WHERE received_at < $1",
            args![feedback_cut],
        )
        .await?;
    // Their index rows go by cascade; their feedback keeps its redacted
    // text with subject_id set to NULL.
    let subjects = tx
        .execute(
            "DELETE FROM subjects WHERE NOT EXISTS (SELECT 1 FROM feedback f \
             WHERE f.subject_id = subjects.id \
             AND (f.contact_sealed IS NOT NULL OR f.raw_text_sealed IS NOT NULL)) \
             AND NOT EXISTS (SELECT 1 FROM subscribers s WHERE s.subject_id = subjects.id) \
             AND NOT EXISTS (SELECT 1 FROM affected_customers a WHERE a.subject_id = subjects.id) \
             AND NOT EXISTS (SELECT 1 FROM routes r WHERE r.subject_id = subjects.id)",
            vec![],
        )
        .await?;
    let report = PurgeReport {
        raw_text,
        contact,
        feedback,
        subjects,
    };
    if dry_run {
        // Dropping the transaction rolls it back.
        return Ok(report);
    }
    let entries = [
        (DataClass::RawText, raw_text, config.raw_text_days, raw_cut),
        (
            DataClass::Contact,
            contact,
            config.contact_days,
            contact_cut,
        ),
        (
            DataClass::Feedback,
            feedback,
            config.feedback_days,
            feedback_cut,
        ),
    ];
    for (class, n, days, cut) in entries {
        if n == 0 {
            continue;
        }
        tx.audit(AuditRecord {
            actor: actor.to_owned(),
            address: None,
            action: "retention.purge".into(),
            class,
            record: None,
            detail: serde_json::json!({
                "rows": n,
                "retention_days": days,
                "received_before": rfc3339(cut),
            }),
        })
        .await?;
    }
    if subjects > 0 {
        tx.audit(AuditRecord {
            actor: actor.to_owned(),
            address: None,
            action: "retention.purge".into(),
            class: DataClass::Contact,
            record: None,
            detail: serde_json::json!({ "subjects": subjects }),
        })
        .await?;
    }
    tx.commit().await?;
    Ok(report)
}
