//! Signals and the detector's saved state.

use serde::Serialize;

use super::users::rfc3339;
use super::{now_ms, AuditRecord, Result, Row, Store, StoreError, Value};
use crate::args;
use crate::domain::{id::Kind, DataClass, Id};

/// The parts of a series key: `topic=phishing_scam|component=sms|...`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
pub struct SeriesKey {
    pub topic: Option<String>,
    pub component: Option<String>,
    pub region: Option<String>,
    pub channel: Option<String>,
    /// An indicator many customers quote (`url:https://...`): the series
    /// is its reports, whatever their topic.
    pub indicator: Option<String>,
    /// A near-duplicate cluster, named by its first report's id.
    pub cluster: Option<String>,
}

impl SeriesKey {
    pub fn key(&self) -> String {
        // An indicator may hold any character: it is the whole key.
        if let Some(i) = &self.indicator {
            return format!("indicator={i}");
        }
        if let Some(c) = &self.cluster {
            return format!("cluster={c}");
        }
        let parts: Vec<String> = [
            ("topic", &self.topic),
            ("component", &self.component),
            ("region", &self.region),
            ("channel", &self.channel),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
        if parts.is_empty() {
            "total".into()
        } else {
            parts.join("|")
        }
    }

    pub fn parse(key: &str) -> Self {
        let mut s = Self::default();
        if let Some(i) = key.strip_prefix("indicator=") {
            s.indicator = Some(i.to_owned());
            return s;
        }
        if let Some(c) = key.strip_prefix("cluster=") {
            s.cluster = Some(c.to_owned());
            return s;
        }
        for part in key.split('|') {
            match part.split_once('=') {
                Some(("topic", v)) => s.topic = Some(v.to_owned()),
                Some(("component", v)) => s.component = Some(v.to_owned()),
                Some(("region", v)) => s.region = Some(v.to_owned()),
                Some(("channel", v)) => s.channel = Some(v.to_owned()),
                _ => {}
            }
        }
        s
    }

    /// People's words for the series: "phishing scam in sms, eu-west".
    pub fn describe(&self) -> String {
        if self.indicator.is_some() {
            return "one indicator quoted in many reports".into();
        }
        if self.cluster.is_some() {
            return "one message reported by many customers".into();
        }
        let what = self
            .topic
            .as_deref()
            .map(|t| t.replace('_', " "))
            .unwrap_or_else(|| "all complaints".into());
        let place: Vec<&str> = [&self.component, &self.region, &self.channel]
            .iter()
            .filter_map(|v| v.as_deref())
            .collect();
        if place.is_empty() {
            what
        } else {
            format!("{what} in {}", place.join(", "))
        }
    }
}

/// What the detector saw when it fired.
#[derive(Debug, Clone)]
pub struct Firing {
    pub series: SeriesKey,
    pub observed: f64,
    pub expected: f64,
    pub upper: f64,
    pub observed_total: f64,
    pub expected_total: f64,
    pub p_value: f64,
    /// ms since the epoch.
    pub started_at: i64,
    /// A title that says more than the series can (the indicator, the
    /// message); `None`: made from the series.
    pub title: Option<String>,
    /// Reports to remember as the signal's members: (feedback id, ms).
    pub members: Vec<(String, i64)>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Signal {
    pub id: String,
    pub title: String,
    pub series: String,
    pub topic: Option<String>,
    pub component: Option<String>,
    pub region: Option<String>,
    pub channel: Option<String>,
    /// open, acknowledged, promoted or dismissed.
    pub status: String,
    /// Items in the minute that fired, and what was expected then.
    pub observed: f64,
    pub expected: f64,
    pub upper_bound: f64,
    /// Items since the rise began, and what was expected over that time.
    pub observed_total: f64,
    pub expected_total: f64,
    /// How unlikely this is by chance (a bound).
    pub p_value: f64,
    pub started_at: String,
    pub fired_at: String,
    pub updated_at: String,
    /// The reason given on dismissal, or a note.
    pub status_note: Option<String>,
    pub incident_id: Option<String>,
}

const COLUMNS: &str = "id, series, title, topic, component, region, channel, status, observed, expected, \
    upper_bound, observed_total, expected_total, p_value, started_at, fired_at, updated_at, status_note, incident_id";

impl Signal {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(Self {
            id: r.get("id")?,
            series: r.get("series")?,
            title: r.get("title")?,
            topic: r.get("topic")?,
            component: r.get("component")?,
            region: r.get("region")?,
            channel: r.get("channel")?,
            status: r.get("status")?,
            observed: r.get("observed")?,
            expected: r.get("expected")?,
            upper_bound: r.get("upper_bound")?,
            observed_total: r.get("observed_total")?,
            expected_total: r.get("expected_total")?,
            p_value: r.get("p_value")?,
            started_at: rfc3339(r.get("started_at")?),
            fired_at: rfc3339(r.get("fired_at")?),
            updated_at: rfc3339(r.get("updated_at")?),
            status_note: r.get("status_note")?,
            incident_id: r.get("incident_id")?,
        })
    }
}

/// The evidence behind a signal: what customers said since the rise began.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Evidence {
    pub items: i64,
    /// The latest texts, redacted.
    pub quotes: Vec<Quote>,
    /// Indicators most often quoted: (defanged, times).
    pub indicators: Vec<(String, i64)>,
    /// Near-duplicate messages among the reports, largest first.
    pub clusters: Vec<ClusterSummary>,
}

/// Many customers sending in the same message.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClusterSummary {
    /// Reports of this message among the signal's.
    pub reports: usize,
    /// The first of them, redacted.
    pub quote: Quote,
}

/// Groups reports into near-duplicates: the clusters of two or more.
fn clusters_of(quotes: Vec<Quote>) -> Vec<ClusterSummary> {
    let mut index = frontline_detect::ClusterIndex::new(Default::default());
    let mut found: std::collections::HashMap<u32, ClusterSummary> = Default::default();
    for q in quotes {
        let a = index.assign(&q.text);
        found
            .entry(a.cluster)
            .or_insert(ClusterSummary {
                reports: 0,
                quote: q,
            })
            .reports += 1;
    }
    let mut v: Vec<ClusterSummary> = found.into_values().filter(|c| c.reports >= 2).collect();
    v.sort_by(|a, b| b.reports.cmp(&a.reports).then(a.quote.at.cmp(&b.quote.at)));
    v.truncate(5);
    v
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Quote {
    pub id: String,
    pub text: String,
    pub language: Option<String>,
    pub at: String,
}

fn title(f: &Firing) -> String {
    if let Some(t) = &f.title {
        return t.clone();
    }
    format!(
        "{}: {:.0} reports since the rise began, {:.1} expected",
        capitalise(&f.series.describe()),
        f.observed_total,
        f.expected_total
    )
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Feedback rows of a series since `since` (ms): the SQL and its arguments.
fn series_filter(key: &SeriesKey, since: i64) -> (String, Vec<Value>) {
    let mut sql = String::from("f.occurred_at >= $1 AND f.text IS NOT NULL");
    let mut args: Vec<Value> = vec![since.into()];
    if let Some(i) = &key.indicator {
        args.push(i.clone().into());
        sql.push_str(" AND f.id IN (SELECT feedback_id FROM feedback_indicators WHERE key = $2)");
        return (sql, args);
    }
    if key.cluster.is_some() {
        args.push(key.key().into());
        sql.push_str(" AND f.id IN (SELECT feedback_id FROM signal_members WHERE series = $2)");
        return (sql, args);
    }
    for (col, v) in [
        ("topic", &key.topic),
        ("component", &key.component),
        ("region", &key.region),
        ("channel", &key.channel),
    ] {
        if let Some(v) = v {
            args.push(v.clone().into());
            sql.push_str(&format!(" AND f.{col} = ${}", args.len()));
        }
    }
    (sql, args)
}

impl Store {
    /// Opens a signal for the series, or updates the one already open:
    /// new evidence never opens a duplicate. Returns it and whether it is new.
    pub async fn record_firing(&self, f: &Firing) -> Result<(Signal, bool)> {
        let key = f.series.key();
        let now = now_ms();
        let mut tx = self.begin().await?;
        let open = tx
            .fetch_optional(
                "SELECT id, started_at FROM signals WHERE series = $1 AND status IN ('open', 'acknowledged')
                 ORDER BY fired_at DESC LIMIT 1",
                args![&key],
            )
            .await?;
        for (feedback_id, at) in &f.members {
            // A member erased meanwhile is simply not there to remember.
            tx.execute(
                "INSERT INTO signal_members (series, feedback_id, occurred_at)
                 SELECT $1, id, $3 FROM feedback WHERE id = $2
                 ON CONFLICT (series, feedback_id) DO NOTHING",
                args![&key, feedback_id, *at],
            )
            .await?;
        }
        let (id, new) = match open {
            Some(r) => {
                let id: String = r.get("id")?;
                let started: i64 = r.get("started_at")?;
                tx.execute(
                    "UPDATE signals SET title = $1, observed = $2, expected = $3, upper_bound = $4,
                       observed_total = $5, expected_total = $6, p_value = $7, started_at = $8, updated_at = $9
                     WHERE id = $10",
                    args![title(f), f.observed, f.expected, f.upper, f.observed_total, f.expected_total,
                          f.p_value, started.min(f.started_at), now, &id],
                )
                .await?;
                (id, false)
            }
            None => {
                let id = Id::new(Kind::Signal).to_string();
                tx.execute(
                    &format!("INSERT INTO signals ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, $10, $11, $12, $13, $14, $15, $15, NULL, NULL)"),
                    args![&id, &key, title(f), f.series.topic.clone(), f.series.component.clone(),
                          f.series.region.clone(), f.series.channel.clone(), f.observed, f.expected, f.upper,
                          f.observed_total, f.expected_total, f.p_value, f.started_at, now],
                )
                .await?;
                tx.audit(AuditRecord {
                    actor: "detector".into(),
                    address: None,
                    action: "signal.open".into(),
                    class: DataClass::Feedback,
                    record: Some(id.clone()),
                    detail: serde_json::json!({ "series": key, "p_value": f.p_value }),
                })
                .await?;
                // The warning goes out with the signal or not at all, placed
                // on a component as correlation places it.
                let place = if f.series.topic.is_some()
                    && f.series.indicator.is_none()
                    && f.series.cluster.is_none()
                {
                    self.place_firing(f).await?
                } else {
                    None
                };
                let (component, region) = match &place {
                    Some((c, r)) => (Some(c.as_str()), r.as_deref()),
                    None => (f.series.component.as_deref(), f.series.region.as_deref()),
                };
                tx.route_signal_opened(
                    &id,
                    &title(f),
                    &key,
                    f.series.topic.as_deref(),
                    component,
                    region,
                    f.observed_total,
                    f.expected_total,
                )
                .await?;
                (id, true)
            }
        };
        tx.commit().await?;
        let signal = self.signal(&id).await?.ok_or(StoreError::NotFound)?;
        Ok((signal, new))
    }

    pub async fn signal(&self, id: &str) -> Result<Option<Signal>> {
        self.fetch_optional(
            &format!("SELECT {COLUMNS} FROM signals WHERE id = $1"),
            args![id],
        )
        .await?
        .as_ref()
        .map(Signal::from_row)
        .transpose()
    }

    pub async fn list_signals(&self, status: Option<&str>, limit: i64) -> Result<Vec<Signal>> {
        let rows = match status {
            Some(s) => {
                self.fetch_all(
                    &format!("SELECT {COLUMNS} FROM signals WHERE status = $1 ORDER BY fired_at DESC LIMIT $2"),
                    args![s, limit],
                )
                .await?
            }
            None => {
                self.fetch_all(
                    &format!("SELECT {COLUMNS} FROM signals ORDER BY fired_at DESC LIMIT $1"),
                    args![limit],
                )
                .await?
            }
        };
        rows.iter().map(Signal::from_row).collect()
    }

    /// Moves a signal along: open -> acknowledged -> promoted | dismissed.
    pub async fn set_signal_status(
        &self,
        id: &str,
        status: &str,
        note: Option<&str>,
        by: AuditRecord,
    ) -> Result<Signal> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE signals SET status = $1, status_note = COALESCE($2, status_note), updated_at = $3
                 WHERE id = $4 AND status IN ('open', 'acknowledged')",
                args![status, note, now_ms(), id],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        let action = if status == "acknowledged" {
            crate::notify::routes::PageAction::Acknowledge
        } else {
            crate::notify::routes::PageAction::Resolve
        };
        tx.route_follow_up(id, &format!("signal.{status}"), action)
            .await?;
        tx.audit(AuditRecord {
            action: format!("signal.{status}"),
            class: DataClass::Feedback,
            record: Some(id.to_owned()),
            detail: serde_json::json!({}),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.signal(id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn signal_evidence(&self, s: &Signal) -> Result<Evidence> {
        let since = chrono::DateTime::parse_from_rfc3339(&s.started_at)
            .map(|t| t.timestamp_millis())
            .unwrap_or(0);
        let key = SeriesKey::parse(&s.series);
        let (filter, args) = series_filter(&key, since);
        let items: i64 = self
            .fetch_optional(
                &format!("SELECT COUNT(*) AS n FROM feedback f WHERE {filter}"),
                args.clone(),
            )
            .await?
            .map(|r| r.get("n"))
            .transpose()?
            .unwrap_or(0);
        let quotes = self
            .quotes(&filter, args.clone(), "f.occurred_at DESC LIMIT 8")
            .await?;
        // The oldest first, so each cluster is quoted by its first report.
        let texts = self
            .quotes(&filter, args.clone(), "f.occurred_at LIMIT 2000")
            .await?;
        let clusters = clusters_of(texts);
        let indicators = self
            .fetch_all(
                &format!(
                    "SELECT i.defanged, COUNT(*) AS n FROM feedback_indicators i JOIN feedback f ON f.id = i.feedback_id
                     WHERE {filter} GROUP BY i.defanged ORDER BY n DESC, i.defanged LIMIT 10"
                ),
                args,
            )
            .await?
            .iter()
            .map(|r| Ok((r.get("defanged")?, r.get("n")?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Evidence {
            items,
            quotes,
            indicators,
            clusters,
        })
    }

    async fn quotes(&self, filter: &str, args: Vec<Value>, order: &str) -> Result<Vec<Quote>> {
        self.fetch_all(
            &format!("SELECT f.id, f.text, f.language, f.occurred_at FROM feedback f WHERE {filter} ORDER BY {order}"),
            args,
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Quote {
                id: r.get("id")?,
                text: r.get::<Option<String>>("text")?.unwrap_or_default(),
                language: r.get("language")?,
                at: rfc3339(r.get("occurred_at")?),
            })
        })
        .collect()
    }

    /// Reports per minute in a series between two times (ms): (minute, n).
    pub async fn series_minutes(
        &self,
        key: &SeriesKey,
        since: i64,
        until: i64,
    ) -> Result<Vec<(i64, i64)>> {
        let (filter, mut args) = series_filter(key, since);
        args.push(until.into());
        let n = args.len();
        self.fetch_all(
            &format!(
                "SELECT f.occurred_at / 60000 AS minute, COUNT(*) AS n FROM feedback f
                 WHERE {filter} AND f.occurred_at < ${n} GROUP BY f.occurred_at / 60000 ORDER BY minute"
            ),
            args,
        )
        .await?
        .iter()
        .map(|r| Ok((r.get("minute")?, r.get("n")?)))
        .collect()
    }

    pub async fn save_detector_state(&self, name: &str, state: &str, minute: i64) -> Result<()> {
        self.execute(
            "INSERT INTO detector_state (name, state, minute, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO UPDATE SET state = EXCLUDED.state, minute = EXCLUDED.minute,
                 updated_at = EXCLUDED.updated_at",
            args![name, state, minute, now_ms()],
        )
        .await?;
        Ok(())
    }

    pub async fn load_detector_state(&self, name: &str) -> Result<Option<(String, i64)>> {
        self.fetch_optional(
            "SELECT state, minute FROM detector_state WHERE name = $1",
            args![name],
        )
        .await?
        .map(|r| Ok((r.get("state")?, r.get("minute")?)))
        .transpose()
    }

    /// Text items per minute and series parts, for warming the detector up.
    pub async fn minute_counts(
        &self,
        since: i64,
        until: i64,
    ) -> Result<Vec<(i64, SeriesKey, i64)>> {
        self.fetch_all(
            "SELECT occurred_at / 60000 AS minute, topic, component, region, channel, COUNT(*) AS n
             FROM feedback WHERE occurred_at >= $1 AND occurred_at < $2 AND topic IS NOT NULL
             GROUP BY occurred_at / 60000, topic, component, region, channel
             ORDER BY minute",
            args![since, until],
        )
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.get("minute")?,
                SeriesKey {
                    topic: r.get("topic")?,
                    component: r.get("component")?,
                    region: r.get("region")?,
                    channel: r.get("channel")?,
                    ..Default::default()
                },
                r.get("n")?,
            ))
        })
        .collect()
    }
}

/// A stored report, as the watcher replays it at start.
#[derive(Debug, Clone)]
pub struct RecentReport {
    pub id: String,
    pub occurred_at: i64,
    pub topic: String,
    pub component: Option<String>,
    pub region: Option<String>,
    pub channel: String,
    /// Redacted; only for reports since `texts_since`.
    pub text: Option<String>,
    /// (counting key, defanged).
    pub indicators: Vec<(String, String)>,
}

impl Store {
    /// Reports to replay, oldest first: those that quoted an indicator since
    /// `since`, and every text report since `texts_since` (at most `limit`).
    pub async fn recent_reports(
        &self,
        since: i64,
        texts_since: i64,
        until: i64,
        limit: i64,
    ) -> Result<Vec<RecentReport>> {
        let mut by_id: std::collections::BTreeMap<(i64, String), RecentReport> = Default::default();
        let report = |r: &Row, text: Option<String>| -> Result<RecentReport> {
            Ok(RecentReport {
                id: r.get("id")?,
                occurred_at: r.get("occurred_at")?,
                topic: r.get("topic")?,
                component: r.get("component")?,
                region: r.get("region")?,
                channel: r.get("channel")?,
                text,
                indicators: Vec::new(),
            })
        };
        for r in self
            .fetch_all(
                "SELECT id, occurred_at, topic, component, region, channel, text FROM feedback
                 WHERE occurred_at >= $1 AND occurred_at < $2 AND topic IS NOT NULL AND text IS NOT NULL
                 ORDER BY occurred_at DESC LIMIT $3",
                args![texts_since, until, limit],
            )
            .await?
        {
            let rep = report(&r, r.get("text")?)?;
            by_id.insert((rep.occurred_at, rep.id.clone()), rep);
        }
        for r in self
            .fetch_all(
                "SELECT f.id, f.occurred_at, f.topic, f.component, f.region, f.channel, i.key, i.defanged
                 FROM feedback_indicators i JOIN feedback f ON f.id = i.feedback_id
                 WHERE i.occurred_at >= $1 AND i.occurred_at < $2 AND f.topic IS NOT NULL
                 ORDER BY i.occurred_at DESC LIMIT $3",
                args![since, until, limit],
            )
            .await?
        {
            let at: i64 = r.get("occurred_at")?;
            let id: String = r.get("id")?;
            let entry = match by_id.entry((at, id)) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => e.insert(report(&r, None)?),
            };
            entry.indicators.push((r.get("key")?, r.get("defanged")?));
        }
        Ok(by_id.into_values().collect())
    }
}

/// The detector's view of one minute of a series: expected and upper bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandPoint {
    pub minute: i64,
    pub expected: f64,
    pub upper: f64,
}

impl Store {
    /// Keeps band points (series, point); a minute seen again is replaced.
    pub async fn save_band(&self, points: &[(String, BandPoint)]) -> Result<()> {
        if points.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for chunk in points.chunks(200) {
            let mut sql =
                String::from("INSERT INTO signal_band (series, minute, expected, upper) VALUES ");
            let mut args: Vec<Value> = Vec::with_capacity(chunk.len() * 4);
            for (i, (series, p)) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                let b = i * 4;
                sql.push_str(&format!("(${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4));
                args.extend([
                    Value::from(series.as_str()),
                    p.minute.into(),
                    p.expected.into(),
                    p.upper.into(),
                ]);
            }
            sql.push_str(
                " ON CONFLICT (series, minute) DO UPDATE SET expected = EXCLUDED.expected, upper = EXCLUDED.upper",
            );
            tx.execute(&sql, args).await?;
        }
        // Bands are for charts of recent signals: a month is plenty.
        tx.execute(
            "DELETE FROM signal_band WHERE minute < $1",
            args![now_ms().div_euclid(60_000) - 31 * 1440],
        )
        .await?;
        tx.commit().await
    }

    /// Band points of a series between two minutes (inclusive, exclusive).
    pub async fn band(&self, series: &str, from: i64, until: i64) -> Result<Vec<BandPoint>> {
        self.fetch_all(
            "SELECT minute, expected, upper FROM signal_band
             WHERE series = $1 AND minute >= $2 AND minute < $3 ORDER BY minute",
            args![series, from, until],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(BandPoint {
                minute: r.get("minute")?,
                expected: r.get("expected")?,
                upper: r.get("upper")?,
            })
        })
        .collect()
    }
}
