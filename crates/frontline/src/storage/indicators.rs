//! Indicators customers quoted (scam links, senders' numbers, wallets),
//! counted across reports, for the security team and its tools.

use serde::Serialize;

use super::users::rfc3339;
use super::{Result, Store, Value};

/// One indicator with how often, and when, customers quoted it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IndicatorCount {
    /// url, domain, ip, email, phone, btc or eth.
    pub kind: String,
    /// The normalised value, as tools match it (`url:https://...`).
    pub key: String,
    /// Safe to display: `hxxps://example[.]com`.
    pub defanged: String,
    /// Reports that quoted it.
    pub reports: i64,
    pub first_seen: String,
    pub last_seen: String,
    /// The topic most of those reports were about.
    pub topic: Option<String>,
}

/// Which indicators to count.
#[derive(Debug, Clone, Default)]
pub struct IndicatorFilter {
    /// ms since the epoch, inclusive.
    pub since: Option<i64>,
    /// ms since the epoch, exclusive.
    pub until: Option<i64>,
    pub kind: Option<String>,
    /// Only indicators quoted at least this often.
    pub min_reports: i64,
    pub limit: i64,
}

impl Store {
    /// Indicators by the number of reports quoting them, most first.
    pub async fn indicator_counts(&self, f: &IndicatorFilter) -> Result<Vec<IndicatorCount>> {
        let mut cond = vec!["1 = 1".to_owned()];
        let mut args: Vec<Value> = Vec::new();
        if let Some(s) = f.since {
            args.push(s.into());
            cond.push(format!("i.occurred_at >= ${}", args.len()));
        }
        if let Some(u) = f.until {
            args.push(u.into());
            cond.push(format!("i.occurred_at < ${}", args.len()));
        }
        if let Some(k) = &f.kind {
            args.push(k.clone().into());
            cond.push(format!("i.kind = ${}", args.len()));
        }
        args.push(f.min_reports.max(1).into());
        let min = args.len();
        args.push(f.limit.into());
        let limit = args.len();
        let where_ = cond.join(" AND ");
        let sql = format!(
            "SELECT i.kind, i.key, MIN(i.defanged) AS defanged, COUNT(*) AS reports,
                    MIN(i.occurred_at) AS first_seen, MAX(i.occurred_at) AS last_seen
             FROM feedback_indicators i JOIN feedback f ON f.id = i.feedback_id
             WHERE {where_}
             GROUP BY i.kind, i.key
             HAVING COUNT(*) >= ${min}
             ORDER BY reports DESC, i.key
             LIMIT ${limit}"
        );
        let topics_sql = format!(
            "SELECT i.key, f.topic, COUNT(*) AS n
             FROM feedback_indicators i JOIN feedback f ON f.id = i.feedback_id
             WHERE {where_} AND f.topic IS NOT NULL
             GROUP BY i.key, f.topic"
        );
        let topic_args = args[..min - 1].to_vec();
        let mut found = self
            .fetch_all(&sql, args)
            .await?
            .iter()
            .map(|r| {
                Ok(IndicatorCount {
                    kind: r.get("kind")?,
                    key: r.get("key")?,
                    defanged: r.get("defanged")?,
                    reports: r.get("reports")?,
                    first_seen: rfc3339(r.get("first_seen")?),
                    last_seen: rfc3339(r.get("last_seen")?),
                    topic: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if found.is_empty() {
            return Ok(found);
        }
        // The topic most of an indicator's reports were about.
        let mut best: std::collections::HashMap<String, (i64, String)> = Default::default();
        for r in self.fetch_all(&topics_sql, topic_args).await? {
            let key: String = r.get("key")?;
            let topic: String = r.get("topic")?;
            let n: i64 = r.get("n")?;
            let e = best.entry(key).or_insert((0, String::new()));
            if n > e.0 || (n == e.0 && topic < e.1) {
                *e = (n, topic);
            }
        }
        for i in &mut found {
            i.topic = best.remove(&i.key).map(|(_, t)| t);
        }
        Ok(found)
    }
}
