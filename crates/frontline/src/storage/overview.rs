//! What the overview page reads: recent volume per topic and the health of
//! delivery. Each is one indexed query, so the page stays fast however much
//! feedback is stored.

use std::collections::BTreeMap;

use super::{Result, Store};
use crate::args;

/// Messages per state changed since a time, and the oldest still waiting.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DeliveryHealth {
    pub sent: i64,
    pub queued: i64,
    pub sending: i64,
    pub failed: i64,
    pub bounced: i64,
    pub cancelled: i64,
    /// When the oldest queued message was queued (ms), if any.
    pub oldest_queued_ms: Option<i64>,
}

impl Store {
    /// Text items per topic and minute from `since` until before `until`
    /// (ms): topic -> minute -> n. Both bounds, so that SQLite reads the
    /// time index for the range (with the lower one alone it walked the
    /// whole topic index: 10 million entries for an hour's chart).
    pub async fn topic_minutes(
        &self,
        since: i64,
        until: i64,
    ) -> Result<BTreeMap<String, BTreeMap<i64, i64>>> {
        let rows = self
            .fetch_all(
                "SELECT topic, occurred_at / 60000 AS minute, COUNT(*) AS n FROM feedback
                 WHERE topic IS NOT NULL AND occurred_at >= $1 AND occurred_at < $2
                 GROUP BY topic, occurred_at / 60000",
                args![since, until],
            )
            .await?;
        let mut out: BTreeMap<String, BTreeMap<i64, i64>> = BTreeMap::new();
        for r in &rows {
            out.entry(r.get("topic")?)
                .or_default()
                .insert(r.get("minute")?, r.get("n")?);
        }
        Ok(out)
    }

    /// Outbox messages by state, changed since `since` (ms); queued and
    /// sending whenever they were queued.
    pub async fn delivery_health(&self, since: i64) -> Result<DeliveryHealth> {
        let mut h = DeliveryHealth::default();
        for state in ["sent", "failed", "bounced", "cancelled"] {
            let n: i64 = self
                .fetch_optional(
                    "SELECT COUNT(*) AS n FROM outbox WHERE state = $1 AND updated_at >= $2",
                    args![state, since],
                )
                .await?
                .map(|r| r.get("n"))
                .transpose()?
                .unwrap_or(0);
            match state {
                "sent" => h.sent = n,
                "failed" => h.failed = n,
                "bounced" => h.bounced = n,
                _ => h.cancelled = n,
            }
        }
        for state in ["queued", "sending"] {
            let n: i64 = self
                .fetch_optional(
                    "SELECT COUNT(*) AS n FROM outbox WHERE state = $1",
                    args![state],
                )
                .await?
                .map(|r| r.get("n"))
                .transpose()?
                .unwrap_or(0);
            if state == "queued" {
                h.queued = n;
            } else {
                h.sending = n;
            }
        }
        h.oldest_queued_ms = self
            .fetch_optional(
                "SELECT MIN(created_at) AS t FROM outbox WHERE state = 'queued'",
                vec![],
            )
            .await?
            .map(|r| r.get::<Option<i64>>("t"))
            .transpose()?
            .flatten();
        Ok(h)
    }
}
