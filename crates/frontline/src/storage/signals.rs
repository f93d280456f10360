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
}

impl SeriesKey {
    pub fn key(&self) -> String {
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
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Quote {
    pub id: String,
    pub text: String,
    pub language: Option<String>,
    pub at: String,
}

fn title(f: &Firing) -> String {
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
            .fetch_all(
                &format!("SELECT f.id, f.text, f.language, f.occurred_at FROM feedback f WHERE {filter} ORDER BY f.occurred_at DESC LIMIT 8"),
                args.clone(),
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
            .collect::<Result<Vec<_>>>()?;
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
        })
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
                },
                r.get("n")?,
            ))
        })
        .collect()
    }
}
