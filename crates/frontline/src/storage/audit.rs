//! The audit trail: append-only, each entry carrying the hash of the one
//! before, so that altering or removing a row breaks the chain.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Result, Row, Store, Tx};
use crate::args;
use crate::domain::{id::Kind, DataClass, Id};

/// Who did something, and from where. Never personal data about customers.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub actor: String,
    pub address: Option<String>,
    pub action: String,
    pub class: DataClass,
    pub record: Option<String>,
    pub detail: serde_json::Value,
}

/// A stored audit entry.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub seq: i64,
    pub id: String,
    /// RFC 3339, UTC.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub class: String,
    pub record: Option<String>,
    pub address: Option<String>,
    pub detail: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` to get the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// The result of walking the chain.
#[derive(Debug, PartialEq, Eq)]
pub enum Verification {
    Intact { entries: i64 },
    Broken { seq: i64, reason: String },
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Serialises appends across processes sharing one PostgreSQL database.
const PG_AUDIT_LOCK: i64 = 0x4652_4f4e_5441_5544;

struct Raw {
    seq: i64,
    id: String,
    at: i64,
    actor: String,
    action: String,
    class: String,
    record: Option<String>,
    address: Option<String>,
    detail: String,
    prev_hash: String,
    hash: String,
}

impl Raw {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(Self {
            seq: r.get("seq")?,
            id: r.get("id")?,
            at: r.get("at")?,
            actor: r.get("actor")?,
            action: r.get("action")?,
            class: r.get("class")?,
            record: r.get("record")?,
            address: r.get("address")?,
            detail: r.get("detail")?,
            prev_hash: r.get("prev_hash")?,
            hash: r.get("hash")?,
        })
    }

    fn compute_hash(&self) -> String {
        #[derive(Serialize)]
        struct Canonical<'a> {
            seq: i64,
            id: &'a str,
            at: i64,
            actor: &'a str,
            action: &'a str,
            class: &'a str,
            record: Option<&'a str>,
            address: Option<&'a str>,
            detail: &'a str,
            prev_hash: &'a str,
        }
        let canonical = Canonical {
            seq: self.seq,
            id: &self.id,
            at: self.at,
            actor: &self.actor,
            action: &self.action,
            class: &self.class,
            record: self.record.as_deref(),
            address: self.address.as_deref(),
            detail: &self.detail,
            prev_hash: &self.prev_hash,
        };
        let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
        hex::encode(Sha256::digest(bytes))
    }

    fn into_entry(self) -> AuditEntry {
        AuditEntry {
            seq: self.seq,
            id: self.id,
            at: super::users::rfc3339(self.at),
            actor: self.actor,
            action: self.action,
            class: self.class,
            record: self.record,
            address: self.address,
            detail: serde_json::from_str(&self.detail).unwrap_or(serde_json::Value::Null),
            prev_hash: self.prev_hash,
            hash: self.hash,
        }
    }
}

const COLUMNS: &str = "seq, id, at, actor, action, class, record, address, detail, prev_hash, hash";

impl Tx {
    /// Appends an entry in this transaction: it commits with the change it
    /// records, or not at all.
    pub async fn audit(&mut self, rec: AuditRecord) -> Result<()> {
        if self.is_postgres() {
            // Per schema, like the chain it guards.
            self.execute(
                "SELECT pg_advisory_xact_lock($1::bigint # hashtext(current_schema())::bigint)",
                args![PG_AUDIT_LOCK],
            )
            .await?;
        }
        let last = self
            .fetch_optional(
                "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                vec![],
            )
            .await?;
        let (seq, prev_hash) = match last {
            Some(r) => (r.get::<i64>("seq")? + 1, r.get::<String>("hash")?),
            None => (1, GENESIS.to_owned()),
        };
        let mut raw = Raw {
            seq,
            id: Id::new(Kind::Audit).to_string(),
            at: super::now_ms(),
            actor: rec.actor,
            action: rec.action,
            class: rec.class.as_str().to_owned(),
            record: rec.record,
            address: rec.address,
            detail: rec.detail.to_string(),
            prev_hash,
            hash: String::new(),
        };
        raw.hash = raw.compute_hash();
        self.execute(
            &format!(
                "INSERT INTO audit_log ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            ),
            args![
                raw.seq,
                raw.id,
                raw.at,
                raw.actor,
                raw.action,
                raw.class,
                raw.record,
                raw.address,
                raw.detail,
                raw.prev_hash,
                raw.hash
            ],
        )
        .await?;
        Ok(())
    }
}

impl Store {
    /// Appends one entry on its own (for views, which change nothing else).
    pub async fn audit(&self, rec: AuditRecord) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.audit(rec).await?;
        tx.commit().await
    }

    /// Newest first; `before` is the `seq` to continue below.
    pub async fn audit_page(&self, before: Option<i64>, limit: i64) -> Result<AuditPage> {
        let limit = limit.clamp(1, 500);
        let rows = self
            .fetch_all(
                &format!(
                    "SELECT {COLUMNS} FROM audit_log WHERE seq < $1 ORDER BY seq DESC LIMIT $2"
                ),
                args![before.unwrap_or(i64::MAX), limit + 1],
            )
            .await?;
        let mut entries = rows
            .iter()
            .map(|r| Raw::from_row(r).map(Raw::into_entry))
            .collect::<Result<Vec<_>>>()?;
        let next_before = if entries.len() as i64 > limit {
            entries.truncate(limit as usize);
            entries.last().map(|e| e.seq)
        } else {
            None
        };
        Ok(AuditPage {
            entries,
            next_before,
        })
    }

    /// Walks the whole chain from the first entry and names the first
    /// entry whose content, link or position is wrong.
    pub async fn audit_verify(&self) -> Result<Verification> {
        let mut expected_seq = 1;
        let mut prev = GENESIS.to_owned();
        loop {
            let rows = self
                .fetch_all(
                    &format!(
                        "SELECT {COLUMNS} FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT 1000"
                    ),
                    args![expected_seq],
                )
                .await?;
            if rows.is_empty() {
                return Ok(Verification::Intact {
                    entries: expected_seq - 1,
                });
            }
            for row in &rows {
                let raw = Raw::from_row(row)?;
                if raw.seq != expected_seq {
                    return Ok(Verification::Broken {
                        seq: expected_seq,
                        reason: format!(
                            "entry {expected_seq} is missing (the next entry is {})",
                            raw.seq
                        ),
                    });
                }
                if raw.prev_hash != prev {
                    return Ok(Verification::Broken {
                        seq: raw.seq,
                        reason: format!(
                            "entry {} does not link to entry {} (an entry was replaced or removed)",
                            raw.seq,
                            raw.seq - 1
                        ),
                    });
                }
                if raw.compute_hash() != raw.hash {
                    return Ok(Verification::Broken {
                        seq: raw.seq,
                        reason: format!(
                            "entry {} ({}) was altered: its content does not match its hash",
                            raw.seq, raw.id
                        ),
                    });
                }
                prev = raw.hash;
                expected_seq += 1;
            }
        }
    }
}
