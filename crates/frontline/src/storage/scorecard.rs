//! The scorecard's daily rollups, kept in the transaction of each write
//! they count, and the reads that fold them into periods. A scorecard over
//! any range reads rollup rows (days x dimension values), never the
//! feedback or ticket tables themselves.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::feedback::{PreparedFeedback, Stored};
use super::{Result, Store, Tx, Value};
use crate::args;

pub const DAY_MS: i64 = 86_400_000;

/// The first day (days since 1970-01-01) of the month holding `day`: the
/// key of the monthly rollups.
pub fn month_of(day: i64) -> i64 {
    use chrono::Datelike;
    let epoch = chrono::DateTime::UNIX_EPOCH.date_naive();
    let d = epoch + chrono::Duration::days(day);
    (d.with_day(1).unwrap_or(d) - epoch).num_days()
}

/// The rollups by period: daily, and monthly (keyed by the month's first
/// day) for long ranges. Every write counts into both.
const FEEDBACK_TABLES: [(&str, bool); 2] = [("feedback_daily", false), ("feedback_monthly", true)];
const TICKET_TABLES: [(&str, bool); 2] = [("ticket_daily", false), ("ticket_monthly", true)];
const HIST_TABLES: [(&str, bool); 2] = [("ticket_hist", false), ("ticket_hist_monthly", true)];

fn period(day: i64, monthly: bool) -> i64 {
    if monthly {
        month_of(day)
    } else {
        day
    }
}

/// The labels of a ticket the rollups count it under.
#[derive(Debug, Clone)]
pub struct TicketFact {
    pub channel: String,
    pub segment: Option<String>,
    pub component: Option<String>,
    pub language: Option<String>,
    pub journey_stage: Option<String>,
}

impl TicketFact {
    fn dims(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        vec![
            ("all", "all".into()),
            ("channel", self.channel.clone()),
            ("segment", v(&self.segment)),
            ("component", v(&self.component)),
            ("language", v(&self.language)),
            ("journey_stage", v(&self.journey_stage)),
        ]
    }
}

/// What one ticket event adds to a day.
#[derive(Debug, Default, Clone, Copy)]
pub struct TicketDelta {
    pub created: i64,
    pub solved: i64,
    pub fcr: i64,
    pub reopened: i64,
    pub frt_met: i64,
    pub frt_missed: i64,
    pub res_met: i64,
    pub res_missed: i64,
    pub backlog_delta: i64,
}

/// A histogram as stored: `bucket:count,...` in bucket order.
pub fn format_hist(h: &BTreeMap<i64, i64>) -> String {
    let mut s = String::with_capacity(h.len() * 7);
    for (b, n) in h {
        if !s.is_empty() {
            s.push(',');
        }
        s.push_str(&format!("{b}:{n}"));
    }
    s
}

/// Reads a stored histogram; malformed parts are skipped.
pub fn parse_hist(s: &str) -> BTreeMap<i64, i64> {
    let mut h = BTreeMap::new();
    merge_hist(&mut h, s);
    h
}

/// Adds a stored histogram into `h`.
pub fn merge_hist(h: &mut BTreeMap<i64, i64>, s: &str) {
    for part in s.split(',') {
        if let Some((b, n)) = part.split_once(':') {
            if let (Ok(b), Ok(n)) = (b.parse::<i64>(), n.parse::<i64>()) {
                *h.entry(b).or_default() += n;
            }
        }
    }
}

/// Log buckets 10% wide over seconds: bucket b holds [1.1^b, 1.1^(b+1)).
pub fn bucket_of(ms: i64) -> i64 {
    let secs = (ms as f64 / 1000.0).max(1.0);
    (secs.ln() / 1.1f64.ln()).floor() as i64
}

/// The middle of a bucket, in seconds (geometric mean of its bounds).
pub fn bucket_secs(b: i64) -> f64 {
    1.1f64.powf(b as f64 + 0.5)
}

/// The feedback dimensions. `stage_topic` and `stage_touchpoint` join a
/// journey stage to a topic or touchpoint with `|` (labels cannot hold it).
pub const FEEDBACK_DIMS: &[&str] = &[
    "all",
    "channel",
    "component",
    "language",
    "journey_stage",
    "region",
    "segment",
];
pub const TICKET_DIMS: &[&str] = &[
    "all",
    "channel",
    "segment",
    "component",
    "language",
    "journey_stage",
];

#[derive(Default, Clone, Copy, Debug)]
struct FeedbackAgg {
    n: i64,
    score_n: i64,
    score_sum: i64,
    top: i64,
    bottom: i64,
    negative: i64,
    sentiment_n: i64,
    sentiment_sum: f64,
}

/// Which answers are "top" and "bottom" per kind: NPS promoters 9-10 and
/// detractors 0-6; CSAT 4-5 and 1-2; CES 5-7 and 1-3; scale 4-5 and 1-2.
fn top_bottom(kind: &str, score: i64) -> (bool, bool) {
    match kind {
        "nps" => (score >= 9, score <= 6),
        "ces" => (score >= 5, score <= 3),
        _ => (score >= 4, score <= 2),
    }
}

/// Sentiment below this counts as negative.
const NEGATIVE: f64 = -0.25;

impl Tx {
    /// Counts stored items (not duplicates) into `feedback_daily`, one
    /// upsert per distinct (dimension, value, kind, day) of the batch.
    pub(crate) async fn roll_up_feedback(
        &mut self,
        items: &[PreparedFeedback],
        out: &[Stored],
    ) -> Result<()> {
        let mut agg: HashMap<(&'static str, String, String, i64), FeedbackAgg> = HashMap::new();
        for (item, stored) in items.iter().zip(out) {
            if !matches!(stored, Stored::Created { .. }) {
                continue;
            }
            let day = item.occurred_at.div_euclid(DAY_MS);
            let v = |o: &Option<String>| o.clone().unwrap_or_default();
            let mut dims: Vec<(&'static str, String)> = vec![
                ("all", "all".into()),
                ("channel", item.channel.clone()),
                ("component", v(&item.component)),
                ("language", v(&item.language)),
                ("journey_stage", v(&item.journey_stage)),
                ("region", v(&item.region)),
                ("segment", v(&item.segment)),
            ];
            if let Some(stage) = &item.journey_stage {
                if let Some(topic) = &item.topic {
                    dims.push(("stage_topic", format!("{stage}|{topic}")));
                }
                if let Some(tp) = &item.touchpoint {
                    dims.push(("stage_touchpoint", format!("{stage}|{tp}")));
                }
            }
            for (dim, value) in dims {
                let a = agg.entry((dim, value, item.kind.clone(), day)).or_default();
                a.n += 1;
                if let Some(s) = item.score {
                    a.score_n += 1;
                    a.score_sum += s;
                    let (t, b) = top_bottom(&item.kind, s);
                    a.top += i64::from(t);
                    a.bottom += i64::from(b);
                }
                if let Some(s) = item.sentiment {
                    a.sentiment_n += 1;
                    a.sentiment_sum += s;
                    a.negative += i64::from(s < NEGATIVE);
                }
            }
        }
        let mut monthly: HashMap<(&'static str, String, String, i64), FeedbackAgg> = HashMap::new();
        for ((dim, value, kind, day), a) in &agg {
            let m = monthly
                .entry((dim, value.clone(), kind.clone(), month_of(*day)))
                .or_default();
            m.n += a.n;
            m.score_n += a.score_n;
            m.score_sum += a.score_sum;
            m.top += a.top;
            m.bottom += a.bottom;
            m.negative += a.negative;
            m.sentiment_n += a.sentiment_n;
            m.sentiment_sum += a.sentiment_sum;
        }
        for (table, rows) in [("feedback_daily", agg), ("feedback_monthly", monthly)] {
            self.upsert_feedback_rollups(table, rows).await?;
        }
        Ok(())
    }

    async fn upsert_feedback_rollups(
        &mut self,
        table: &str,
        rows: HashMap<(&'static str, String, String, i64), FeedbackAgg>,
    ) -> Result<()> {
        for ((dim, value, kind, day), a) in rows {
            self.execute(
                &format!("INSERT INTO {table} (dim, value, kind, day, n, score_n, score_sum, top, bottom, negative, sentiment_n, sentiment_sum)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (dim, value, kind, day) DO UPDATE SET
                   n = {table}.n + excluded.n,
                   score_n = {table}.score_n + excluded.score_n,
                   score_sum = {table}.score_sum + excluded.score_sum,
                   top = {table}.top + excluded.top,
                   bottom = {table}.bottom + excluded.bottom,
                   negative = {table}.negative + excluded.negative,
                   sentiment_n = {table}.sentiment_n + excluded.sentiment_n,
                   sentiment_sum = {table}.sentiment_sum + excluded.sentiment_sum"),
                vec![
                    Value::from(dim),
                    value.into(),
                    kind.into(),
                    day.into(),
                    a.n.into(),
                    a.score_n.into(),
                    a.score_sum.into(),
                    a.top.into(),
                    a.bottom.into(),
                    a.negative.into(),
                    a.sentiment_n.into(),
                    a.sentiment_sum.into(),
                ],
            )
            .await?;
        }
        Ok(())
    }

    pub(crate) async fn roll_up_ticket(
        &mut self,
        fact: &TicketFact,
        day: i64,
        set: impl FnOnce(&mut TicketDelta),
    ) -> Result<()> {
        let mut d = TicketDelta::default();
        set(&mut d);
        let keys: Vec<(&str, bool, &str, String)> = TICKET_TABLES
            .iter()
            .flat_map(|(t, m)| fact.dims().into_iter().map(move |(d, v)| (*t, *m, d, v)))
            .collect();
        for (table, monthly, dim, value) in keys {
            self.execute(
                &format!("INSERT INTO {table} (dim, value, day, created, solved, fcr, reopened, frt_met, frt_missed, res_met, res_missed, backlog_delta)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (dim, value, day) DO UPDATE SET
                   created = {table}.created + excluded.created,
                   solved = {table}.solved + excluded.solved,
                   fcr = {table}.fcr + excluded.fcr,
                   reopened = {table}.reopened + excluded.reopened,
                   frt_met = {table}.frt_met + excluded.frt_met,
                   frt_missed = {table}.frt_missed + excluded.frt_missed,
                   res_met = {table}.res_met + excluded.res_met,
                   res_missed = {table}.res_missed + excluded.res_missed,
                   backlog_delta = {table}.backlog_delta + excluded.backlog_delta"),
                args![
                    dim,
                    value,
                    period(day, monthly),
                    d.created,
                    d.solved,
                    d.fcr,
                    d.reopened,
                    d.frt_met,
                    d.frt_missed,
                    d.res_met,
                    d.res_missed,
                    d.backlog_delta
                ],
            )
            .await?;
        }
        Ok(())
    }

    /// Counts one first-response or resolution time into its histogram:
    /// read, add, write back, with the row locked on PostgreSQL (SQLite has
    /// one writer).
    pub(crate) async fn roll_up_time(
        &mut self,
        fact: &TicketFact,
        day: i64,
        metric: &str,
        ms: i64,
    ) -> Result<()> {
        let bucket = bucket_of(ms);
        let lock = if self.is_postgres() {
            " FOR UPDATE"
        } else {
            ""
        };
        let keys: Vec<(&str, bool, &str, String)> = HIST_TABLES
            .iter()
            .flat_map(|(t, m)| fact.dims().into_iter().map(move |(d, v)| (*t, *m, d, v)))
            .collect();
        for (table, monthly, dim, value) in keys {
            let day = period(day, monthly);
            self.execute(
                &format!("INSERT INTO {table} (dim, value, day, metric, counts) VALUES ($1, $2, $3, $4, '')
                 ON CONFLICT (dim, metric, value, day) DO NOTHING"),
                args![dim, &value, day, metric],
            )
            .await?;
            let row = self
                .fetch_optional(
                    &format!("SELECT counts FROM {table} WHERE dim = $1 AND metric = $2 AND value = $3 AND day = $4{lock}"),
                    args![dim, metric, &value, day],
                )
                .await?;
            let mut h = match row {
                Some(r) => parse_hist(&r.get::<String>("counts")?),
                None => BTreeMap::new(),
            };
            *h.entry(bucket).or_default() += 1;
            self.execute(
                &format!("UPDATE {table} SET counts = $5 WHERE dim = $1 AND metric = $2 AND value = $3 AND day = $4"),
                args![dim, metric, &value, day, format_hist(&h)],
            )
            .await?;
        }
        Ok(())
    }
}

/// Rollup rows of one dimension over a range of days, as read.
#[derive(Debug, Default)]
pub struct Rollups {
    /// (value, kind, day) -> n, score_n, score_sum, top, bottom
    pub feedback: Vec<(String, String, i64, [i64; 5])>,
    /// (value, day) -> created, solved, fcr, reopened, frt_met, frt_missed, res_met, res_missed
    pub tickets: Vec<(String, i64, [i64; 8])>,
    /// (value, day, metric, counts as stored)
    pub hist: Vec<(String, i64, String, String)>,
    /// value -> (day, backlog delta), all history up to the end of the range
    pub backlog: BTreeMap<String, Vec<(i64, i64)>>,
}

/// One touchpoint or topic within a journey stage.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StagePart {
    pub stage: String,
    pub key: String,
    pub n: i64,
    pub negative: i64,
    pub score_n: i64,
    pub score_sum: i64,
}

impl Store {
    /// Reads the rollups of one dimension between two days (inclusive).
    /// `by_month`: whole months inside the range come from the monthly
    /// rollups (their rows carry the month's first day), the days before
    /// and after from the daily ones.
    pub async fn rollups(
        &self,
        dim: &str,
        from_day: i64,
        to_day: i64,
        by_month: bool,
    ) -> Result<Rollups> {
        let mut r = Rollups::default();
        let next_month = |day: i64| month_of(month_of(day) + 31);
        let first_full = if month_of(from_day) == from_day {
            from_day
        } else {
            next_month(from_day)
        };
        let last_full_end = if next_month(to_day) - 1 == to_day {
            to_day
        } else {
            month_of(to_day) - 1
        };
        if by_month && first_full < last_full_end {
            if from_day < first_full {
                self.read_rollups(&mut r, dim, false, from_day, first_full - 1)
                    .await?;
            }
            self.read_rollups(&mut r, dim, true, first_full, month_of(last_full_end))
                .await?;
            if last_full_end < to_day {
                self.read_rollups(&mut r, dim, false, last_full_end + 1, to_day)
                    .await?;
            }
        } else {
            self.read_rollups(&mut r, dim, false, from_day, to_day)
                .await?;
        }
        for row in self
            .fetch_all(
                "SELECT value, day, backlog_delta FROM ticket_daily WHERE dim = $1 AND day <= $2 AND backlog_delta <> 0 ORDER BY day",
                args![dim, to_day],
            )
            .await?
        {
            r.backlog
                .entry(row.get("value")?)
                .or_default()
                .push((row.get("day")?, row.get("backlog_delta")?));
        }
        Ok(r)
    }

    async fn read_rollups(
        &self,
        r: &mut Rollups,
        dim: &str,
        monthly: bool,
        from_day: i64,
        to_day: i64,
    ) -> Result<()> {
        let pick = |tables: [(&'static str, bool); 2]| tables[usize::from(monthly)].0;
        let (fb, td, th) = (
            pick(FEEDBACK_TABLES),
            pick(TICKET_TABLES),
            pick(HIST_TABLES),
        );
        // The three reads at once: on SQLite each runs on its own reader
        // connection (and thread), so their row decoding overlaps.
        let (q0, q1, q2) = (format!(
                    "SELECT value, kind, day, n, score_n, score_sum, top, bottom FROM {fb}
                 WHERE dim = $1 AND day >= $2 AND day <= $3 AND kind IN ('nps', 'csat', 'ces')"
                ),
            format!("SELECT value, day, created, solved, fcr, reopened, frt_met, frt_missed, res_met, res_missed
                 FROM {td} WHERE dim = $1 AND day >= $2 AND day <= $3"),
            format!("SELECT value, day, metric, counts FROM {th} WHERE dim = $1 AND day >= $2 AND day <= $3"),
        );
        let (rows0, rows1, rows2) = futures_util::future::try_join3(
            self.fetch_all(&q0, args![dim, from_day, to_day]),
            self.fetch_all(&q1, args![dim, from_day, to_day]),
            self.fetch_all(&q2, args![dim, from_day, to_day]),
        )
        .await?;
        for row in rows0 {
            r.feedback.push((
                row.get("value")?,
                row.get("kind")?,
                row.get("day")?,
                [
                    row.get("n")?,
                    row.get("score_n")?,
                    row.get("score_sum")?,
                    row.get("top")?,
                    row.get("bottom")?,
                ],
            ));
        }
        for row in rows1 {
            r.tickets.push((
                row.get("value")?,
                row.get("day")?,
                [
                    row.get("created")?,
                    row.get("solved")?,
                    row.get("fcr")?,
                    row.get("reopened")?,
                    row.get("frt_met")?,
                    row.get("frt_missed")?,
                    row.get("res_met")?,
                    row.get("res_missed")?,
                ],
            ));
        }
        for row in rows2 {
            r.hist.push((
                row.get("value")?,
                row.get("day")?,
                row.get("metric")?,
                row.get("counts")?,
            ));
        }
        Ok(())
    }

    /// Topics (`stage_topic`) or touchpoints (`stage_touchpoint`) within
    /// journey stages over a range of days, complaints and comments only
    /// for topics.
    pub async fn stage_parts(
        &self,
        dim: &str,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<StagePart>> {
        let kinds = if dim == "stage_topic" {
            "kind IN ('complaint', 'comment')"
        } else {
            "1=1"
        };
        self.fetch_all(
            &format!(
                "SELECT value, CAST(SUM(n) AS BIGINT) AS n, CAST(SUM(negative) AS BIGINT) AS negative, CAST(SUM(score_n) AS BIGINT) AS score_n, CAST(SUM(score_sum) AS BIGINT) AS score_sum
                 FROM feedback_daily WHERE dim = $1 AND day >= $2 AND day <= $3 AND {kinds}
                 GROUP BY value"
            ),
            args![dim, from_day, to_day],
        )
        .await?
        .iter()
        .map(|row| {
            let value: String = row.get("value")?;
            let (stage, key) = value.split_once('|').unwrap_or((&value, ""));
            Ok(StagePart {
                stage: stage.to_owned(),
                key: key.to_owned(),
                n: row.get("n")?,
                negative: row.get("negative")?,
                score_n: row.get("score_n")?,
                score_sum: row.get("score_sum")?,
            })
        })
        .collect()
    }

    /// Tickets opened per value of a dimension over a range of days.
    pub async fn tickets_created(
        &self,
        dim: &str,
        from_day: i64,
        to_day: i64,
    ) -> Result<BTreeMap<String, i64>> {
        self.fetch_all(
            "SELECT value, CAST(SUM(created) AS BIGINT) AS n FROM ticket_daily
             WHERE dim = $1 AND day >= $2 AND day <= $3 GROUP BY value",
            args![dim, from_day, to_day],
        )
        .await?
        .iter()
        .map(|row| Ok((row.get("value")?, row.get("n")?)))
        .collect()
    }

    /// Per journey stage: (kind, n, score_n, score_sum, top, bottom) over a range.
    pub async fn stage_scores(
        &self,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<(String, String, [i64; 5])>> {
        self.fetch_all(
            "SELECT value, kind, CAST(SUM(n) AS BIGINT) AS n, CAST(SUM(score_n) AS BIGINT) AS score_n, CAST(SUM(score_sum) AS BIGINT) AS score_sum, CAST(SUM(top) AS BIGINT) AS top, CAST(SUM(bottom) AS BIGINT) AS bottom
             FROM feedback_daily WHERE dim = 'journey_stage' AND day >= $1 AND day <= $2 GROUP BY value, kind",
            args![from_day, to_day],
        )
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.get("value")?,
                row.get("kind")?,
                [
                    row.get("n")?,
                    row.get("score_n")?,
                    row.get("score_sum")?,
                    row.get("top")?,
                    row.get("bottom")?,
                ],
            ))
        })
        .collect()
    }

    /// Incidents declared in a range: (id, declared, first notice, published update times).
    pub async fn incident_notices(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(String, i64, Vec<i64>)>> {
        let rows = self
            .fetch_all(
                "SELECT i.id AS id, i.created_at AS created_at, u.published_at AS published_at
                 FROM incidents i LEFT JOIN incident_updates u ON u.incident_id = i.id AND u.published_at IS NOT NULL
                 WHERE i.created_at >= $1 AND i.created_at < $2 ORDER BY i.id, u.published_at",
                args![from_ms, to_ms],
            )
            .await?;
        let mut out: Vec<(String, i64, Vec<i64>)> = Vec::new();
        for row in rows {
            let id: String = row.get("id")?;
            let created: i64 = row.get("created_at")?;
            let published: Option<i64> = row.get("published_at")?;
            if out.last().map(|l| l.0 != id).unwrap_or(true) {
                out.push((id, created, Vec::new()));
            }
            if let (Some(p), Some(last)) = (published, out.last_mut()) {
                last.2.push(p);
            }
        }
        Ok(out)
    }

    /// Update deadlines of the incidents declared in a range, per incident:
    /// (id, due, kept). A deadline counts as due once it closed with an
    /// update or without one (`kept` true or false), or is open and past
    /// `now`; closed by the resolution with none due, it does not count.
    pub async fn incident_cadence(
        &self,
        from_ms: i64,
        to_ms: i64,
        now: i64,
    ) -> Result<HashMap<String, (i64, i64)>> {
        let rows = self
            .fetch_all(
                "SELECT d.incident_id AS id,
                   CAST(SUM(CASE WHEN d.kept IS NOT NULL OR (d.closed_at IS NULL AND d.due_at < $3) THEN 1 ELSE 0 END) AS BIGINT) AS due,
                   CAST(SUM(CASE WHEN d.kept = TRUE THEN 1 ELSE 0 END) AS BIGINT) AS kept
                 FROM incident_deadlines d JOIN incidents i ON i.id = d.incident_id
                 WHERE i.created_at >= $1 AND i.created_at < $2
                 GROUP BY d.incident_id",
                args![from_ms, to_ms, now],
            )
            .await?;
        let mut out = HashMap::new();
        for r in rows {
            out.insert(r.get("id")?, (r.get("due")?, r.get("kept")?));
        }
        Ok(out)
    }

    /// Active tickets at the end of a day: its and every earlier day's
    /// backlog change (what the scorecard's `backlog` of a range ending
    /// that day says).
    pub async fn backlog_at(&self, day: i64) -> Result<i64> {
        let r = self
            .fetch_optional(
                "SELECT CAST(COALESCE(SUM(backlog_delta), 0) AS BIGINT) AS n FROM ticket_daily WHERE dim = 'all' AND day <= $1",
                args![day],
            )
            .await?;
        Ok(match r {
            Some(r) => r.get("n")?,
            None => 0,
        })
    }

    /// Active tickets now: the sum of every day's backlog change (a count
    /// over the tickets table would read a million rows).
    pub async fn backlog_now(&self) -> Result<i64> {
        let r = self
            .fetch_optional(
                "SELECT CAST(COALESCE(SUM(backlog_delta), 0) AS BIGINT) AS n FROM ticket_daily WHERE dim = 'all'",
                vec![],
            )
            .await?;
        Ok(match r {
            Some(r) => r.get("n")?,
            None => 0,
        })
    }
}

impl Tx {
    /// Recounts the monthly rollups from the daily ones.
    pub(crate) async fn rebuild_monthly(&mut self) -> Result<()> {
        for t in ["feedback_monthly", "ticket_monthly", "ticket_hist_monthly"] {
            self.execute(&format!("DELETE FROM {t}"), vec![]).await?;
        }
        // (dim, value, kind, month) -> the counts and the sentiment sum.
        type Counts = ([i64; 7], f64);
        let mut fb: HashMap<(String, String, String, i64), Counts> = HashMap::new();
        for r in self
            .fetch_all(
                "SELECT dim, value, kind, day, n, score_n, score_sum, top, bottom, negative, sentiment_n, sentiment_sum FROM feedback_daily",
                vec![],
            )
            .await?
        {
            let day: i64 = r.get("day")?;
            let e = fb
                .entry((r.get("dim")?, r.get("value")?, r.get("kind")?, month_of(day)))
                .or_default();
            for (i, c) in ["n", "score_n", "score_sum", "top", "bottom", "negative", "sentiment_n"]
                .iter()
                .enumerate()
            {
                e.0[i] += r.get::<i64>(c)?;
            }
            e.1 += r.get::<f64>("sentiment_sum")?;
        }
        let rows: Vec<Vec<Value>> = fb
            .into_iter()
            .map(|((dim, value, kind, day), (c, sum))| {
                args![dim, value, kind, day, c[0], c[1], c[2], c[3], c[4], c[5], c[6], sum]
            })
            .collect();
        self.insert_rows(
            "INSERT INTO feedback_monthly (dim, value, kind, day, n, score_n, score_sum, top, bottom, negative, sentiment_n, sentiment_sum) VALUES ",
            "",
            rows,
        )
        .await?;
        const TICKET_COLS: [&str; 9] = [
            "created",
            "solved",
            "fcr",
            "reopened",
            "frt_met",
            "frt_missed",
            "res_met",
            "res_missed",
            "backlog_delta",
        ];
        let mut td: HashMap<(String, String, i64), [i64; 9]> = HashMap::new();
        for r in self
            .fetch_all(
                &format!(
                    "SELECT dim, value, day, {} FROM ticket_daily",
                    TICKET_COLS.join(", ")
                ),
                vec![],
            )
            .await?
        {
            let day: i64 = r.get("day")?;
            let e = td
                .entry((r.get("dim")?, r.get("value")?, month_of(day)))
                .or_default();
            for (i, c) in TICKET_COLS.iter().enumerate() {
                e[i] += r.get::<i64>(c)?;
            }
        }
        let rows: Vec<Vec<Value>> = td
            .into_iter()
            .map(|((dim, value, day), c)| {
                args![dim, value, day, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]]
            })
            .collect();
        self.insert_rows(
            &format!(
                "INSERT INTO ticket_monthly (dim, value, day, {}) VALUES ",
                TICKET_COLS.join(", ")
            ),
            "",
            rows,
        )
        .await?;
        let mut th: HashMap<(String, String, i64, String), BTreeMap<i64, i64>> = HashMap::new();
        for r in self
            .fetch_all(
                "SELECT dim, value, day, metric, counts FROM ticket_hist",
                vec![],
            )
            .await?
        {
            let day: i64 = r.get("day")?;
            let h = th
                .entry((
                    r.get("dim")?,
                    r.get("value")?,
                    month_of(day),
                    r.get("metric")?,
                ))
                .or_default();
            merge_hist(h, &r.get::<String>("counts")?);
        }
        let rows: Vec<Vec<Value>> = th
            .into_iter()
            .map(|((dim, value, day, metric), h)| args![dim, value, day, metric, format_hist(&h)])
            .collect();
        self.insert_rows(
            "INSERT INTO ticket_hist_monthly (dim, value, day, metric, counts) VALUES ",
            "",
            rows,
        )
        .await
    }
}

/// `top`/`bottom` as SQL, matching [`top_bottom`].
const TOP_SQL: &str = "CASE WHEN score IS NULL THEN 0 WHEN kind = 'nps' THEN (CASE WHEN score >= 9 THEN 1 ELSE 0 END) \
WHEN kind = 'ces' THEN (CASE WHEN score >= 5 THEN 1 ELSE 0 END) ELSE (CASE WHEN score >= 4 THEN 1 ELSE 0 END) END";
const BOTTOM_SQL: &str = "CASE WHEN score IS NULL THEN 0 WHEN kind = 'nps' THEN (CASE WHEN score <= 6 THEN 1 ELSE 0 END) \
WHEN kind = 'ces' THEN (CASE WHEN score <= 3 THEN 1 ELSE 0 END) ELSE (CASE WHEN score <= 2 THEN 1 ELSE 0 END) END";

impl Store {
    /// Recomputes every rollup from the feedback and ticket tables: for
    /// data stored before the rollups existed (run once automatically after
    /// the upgrade) or loaded around the API. Feedback is grouped in SQL;
    /// tickets are read once and counted as their current state says
    /// (history before a reopening is not replayed).
    pub async fn rebuild_rollups(&self) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.execute("DELETE FROM feedback_daily", vec![]).await?;
        tx.execute("DELETE FROM ticket_daily", vec![]).await?;
        tx.execute("DELETE FROM ticket_hist", vec![]).await?;
        let dims: [(&str, &str, &str); 9] = [
            ("all", "'all'", "1=1"),
            ("channel", "channel", "1=1"),
            ("component", "COALESCE(component, '')", "1=1"),
            ("language", "COALESCE(language, '')", "1=1"),
            ("journey_stage", "COALESCE(journey_stage, '')", "1=1"),
            ("region", "COALESCE(region, '')", "1=1"),
            ("segment", "COALESCE(segment, '')", "1=1"),
            (
                "stage_topic",
                "journey_stage || '|' || topic",
                "journey_stage IS NOT NULL AND topic IS NOT NULL",
            ),
            (
                "stage_touchpoint",
                "journey_stage || '|' || touchpoint",
                "journey_stage IS NOT NULL AND touchpoint IS NOT NULL",
            ),
        ];
        for (dim, value, filter) in dims {
            let group = if dim == "all" {
                format!("kind, occurred_at / {DAY_MS}")
            } else {
                format!("{value}, kind, occurred_at / {DAY_MS}")
            };
            tx.execute(
                &format!(
                    "INSERT INTO feedback_daily (dim, value, kind, day, n, score_n, score_sum, top, bottom, negative, sentiment_n, sentiment_sum)
                     SELECT '{dim}', {value}, kind, occurred_at / {DAY_MS}, COUNT(*), COUNT(score), COALESCE(SUM(score), 0),
                            SUM({TOP_SQL}), SUM({BOTTOM_SQL}),
                            SUM(CASE WHEN sentiment < {NEGATIVE} THEN 1 ELSE 0 END), COUNT(sentiment), COALESCE(SUM(sentiment), 0)
                     FROM feedback WHERE {filter} GROUP BY {group}"
                ),
                vec![],
            )
            .await?;
        }
        // Tickets: counted in memory, then one upsert per key.
        let rows = tx
            .fetch_all(
                "SELECT t.channel, t.segment, t.component, t.language, t.journey_stage, t.status, t.created_at,
                        t.solved_at, t.solve_ms, t.solve_bms, t.first_response_ms, t.first_response_bms, t.first_response_at,
                        t.agent_replies, t.reopen_count, p.first_response_mins, p.resolution_mins
                 FROM tickets t LEFT JOIN sla_policies p ON p.id = t.sla_policy_id",
                vec![],
            )
            .await?;
        let mut daily: HashMap<(&'static str, String, i64), TicketDelta> = HashMap::new();
        let mut hist: HashMap<(&'static str, String, i64, &'static str), BTreeMap<i64, i64>> =
            HashMap::new();
        for r in &rows {
            let fact = TicketFact {
                channel: r.get("channel")?,
                segment: r.get("segment")?,
                component: r.get("component")?,
                language: r.get("language")?,
                journey_stage: r.get("journey_stage")?,
            };
            let created: i64 = r.get("created_at")?;
            let status: String = r.get("status")?;
            let solved_at: Option<i64> = r.get("solved_at")?;
            let frt_at: Option<i64> = r.get("first_response_at")?;
            let reopens: i64 = r.get("reopen_count")?;
            let replies: i64 = r.get("agent_replies")?;
            let frt_target: Option<i64> = r.get("first_response_mins")?;
            let res_target: Option<i64> = r.get("resolution_mins")?;
            let done = matches!(status.as_str(), "solved" | "closed");
            for (dim, value) in fact.dims() {
                let c = daily
                    .entry((dim, value.clone(), created.div_euclid(DAY_MS)))
                    .or_default();
                c.created += 1;
                c.backlog_delta += 1;
                if let (Some(at), Some(ms), Some(bms)) = (
                    frt_at,
                    r.get::<Option<i64>>("first_response_ms")?,
                    r.get::<Option<i64>>("first_response_bms")?,
                ) {
                    let day = at.div_euclid(DAY_MS);
                    let c = daily.entry((dim, value.clone(), day)).or_default();
                    match frt_target {
                        Some(g) if bms <= g * 60_000 => c.frt_met += 1,
                        Some(_) => c.frt_missed += 1,
                        None => {}
                    }
                    *hist
                        .entry((dim, value.clone(), day, "frt_cal"))
                        .or_default()
                        .entry(bucket_of(ms))
                        .or_default() += 1;
                    *hist
                        .entry((dim, value.clone(), day, "frt_bus"))
                        .or_default()
                        .entry(bucket_of(bms))
                        .or_default() += 1;
                }
                if let (true, Some(at), Some(ms), Some(bms)) = (
                    done,
                    solved_at,
                    r.get::<Option<i64>>("solve_ms")?,
                    r.get::<Option<i64>>("solve_bms")?,
                ) {
                    let day = at.div_euclid(DAY_MS);
                    let c = daily.entry((dim, value.clone(), day)).or_default();
                    c.solved += 1;
                    c.backlog_delta -= 1;
                    c.reopened += reopens;
                    c.fcr += i64::from(replies <= 1 && reopens == 0);
                    match res_target {
                        Some(g) if bms <= g * 60_000 => c.res_met += 1,
                        Some(_) => c.res_missed += 1,
                        None => {}
                    }
                    *hist
                        .entry((dim, value.clone(), day, "res_cal"))
                        .or_default()
                        .entry(bucket_of(ms))
                        .or_default() += 1;
                    *hist
                        .entry((dim, value.clone(), day, "res_bus"))
                        .or_default()
                        .entry(bucket_of(bms))
                        .or_default() += 1;
                }
            }
        }
        let daily_rows: Vec<Vec<Value>> = daily
            .into_iter()
            .map(|((dim, value, day), d)| {
                args![
                    dim,
                    value,
                    day,
                    d.created,
                    d.solved,
                    d.fcr,
                    d.reopened,
                    d.frt_met,
                    d.frt_missed,
                    d.res_met,
                    d.res_missed,
                    d.backlog_delta
                ]
            })
            .collect();
        tx.insert_rows(
            "INSERT INTO ticket_daily (dim, value, day, created, solved, fcr, reopened, frt_met, frt_missed, res_met, res_missed, backlog_delta) VALUES ",
            "",
            daily_rows,
        )
        .await?;
        let hist_rows: Vec<Vec<Value>> = hist
            .into_iter()
            .map(|((dim, value, day, metric), h)| args![dim, value, day, metric, format_hist(&h)])
            .collect();
        tx.insert_rows(
            "INSERT INTO ticket_hist (dim, value, day, metric, counts) VALUES ",
            "",
            hist_rows,
        )
        .await?;
        tx.rebuild_monthly().await?;
        tx.commit().await
    }

    /// After the upgrade that added the rollups, existing feedback is
    /// counted once; after the one that added the monthly rollups, they
    /// are counted from the daily ones.
    pub async fn backfill_rollups_if_needed(&self) -> Result<()> {
        let has_rollups = self
            .fetch_optional("SELECT dim FROM feedback_daily LIMIT 1", vec![])
            .await?
            .is_some();
        let has_feedback = self
            .fetch_optional("SELECT id FROM feedback LIMIT 1", vec![])
            .await?
            .is_some();
        if !has_rollups && has_feedback {
            tracing::info!("counting existing feedback into the scorecard rollups");
            self.rebuild_rollups().await?;
            return Ok(());
        }
        let has_monthly = self
            .fetch_optional(
                "SELECT dim FROM feedback_monthly UNION ALL SELECT dim FROM ticket_monthly LIMIT 1",
                vec![],
            )
            .await?
            .is_some();
        let has_daily = self
            .fetch_optional(
                "SELECT dim FROM feedback_daily UNION ALL SELECT dim FROM ticket_daily LIMIT 1",
                vec![],
            )
            .await?
            .is_some();
        if has_daily && !has_monthly {
            tracing::info!("counting the scorecard's monthly rollups");
            let mut tx = self.begin().await?;
            tx.rebuild_monthly().await?;
            tx.commit().await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_ten_percent_wide_and_ordered() {
        let mut last = i64::MIN;
        for secs in [1i64, 2, 10, 59, 60, 61, 3600, 86_400, 30 * 86_400] {
            let b = bucket_of(secs * 1000);
            assert!(b >= last);
            last = b;
            let mid = bucket_secs(b);
            assert!((mid / secs as f64 - 1.0).abs() < 0.1, "{secs}: {mid}");
        }
        assert_eq!(bucket_of(0), 0);
        assert_eq!(top_bottom("nps", 9), (true, false));
        assert_eq!(top_bottom("nps", 7), (false, false));
        assert_eq!(top_bottom("nps", 6), (false, true));
        assert_eq!(top_bottom("ces", 5), (true, false));
        assert_eq!(top_bottom("csat", 3), (false, false));
    }
}
