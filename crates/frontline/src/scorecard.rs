//! The CX scorecard: NPS, CSAT, CES, response and resolution times,
//! first-contact resolution, reopen rate, SLA attainment, backlog and
//! incident communication times, per day, week or month and per value of
//! one dimension. Read from the daily rollups (see `storage::scorecard`);
//! the definitions are in the README.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;

use crate::domain::DomainError;
use crate::storage::scorecard::{bucket_secs, Rollups, DAY_MS, FEEDBACK_DIMS, TICKET_DIMS};
use crate::storage::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Grain {
    Day,
    Week,
    Month,
}

impl Grain {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "day" => Ok(Grain::Day),
            "week" => Ok(Grain::Week),
            "month" => Ok(Grain::Month),
            _ => Err(DomainError::invalid("by", "must be day, week or month")),
        }
    }
}

/// The dimensions one may break the scorecard down by.
pub const DIMENSIONS: &[&str] = &[
    "all",
    "channel",
    "segment",
    "component",
    "language",
    "journey_stage",
];

pub fn parse_dimension(s: &str) -> Result<&'static str, DomainError> {
    DIMENSIONS.iter().copied().find(|d| *d == s).ok_or_else(|| {
        DomainError::invalid(
            "dimension",
            format!("must be one of {}", DIMENSIONS.join(", ")),
        )
    })
}

fn epoch() -> NaiveDate {
    chrono::DateTime::UNIX_EPOCH.date_naive()
}

pub fn day_to_date(day: i64) -> NaiveDate {
    epoch() + Duration::days(day)
}

pub fn date_to_day(d: NaiveDate) -> i64 {
    (d - epoch()).num_days()
}

/// The first day of the period holding `day`, and its last.
fn period_of(grain: Grain, day: i64) -> (i64, i64) {
    match grain {
        Grain::Day => (day, day),
        Grain::Week => {
            // 1970-01-01 was a Thursday; weeks start on Monday.
            let start = day - (day + 3).rem_euclid(7);
            (start, start + 6)
        }
        Grain::Month => {
            let d = day_to_date(day);
            let first = d.with_day(1).unwrap_or(d);
            let next = if first.month() == 12 {
                NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
            }
            .unwrap_or(first);
            (date_to_day(first), date_to_day(next) - 1)
        }
    }
}

/// Median and p90 of a time, in hours, calendar and business.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Times {
    /// Tickets measured.
    pub n: i64,
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
    pub business_median_hours: Option<f64>,
    pub business_p90_hours: Option<f64>,
}

/// One period (or the whole range) for one value of the dimension.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Row {
    /// The period's first day (YYYY-MM-DD), or `total`.
    pub period: String,
    /// The dimension's value (`all` for the whole; empty: not labelled).
    pub value: String,
    pub nps: Option<f64>,
    pub nps_responses: i64,
    pub promoters: i64,
    pub detractors: i64,
    /// Share of CSAT answers that are 4 or 5, in percent.
    pub csat: Option<f64>,
    pub csat_responses: i64,
    /// Mean CES answer (1-7, higher is easier).
    pub ces_mean: Option<f64>,
    /// Share of CES answers 5-7, in percent.
    pub ces_easy_share: Option<f64>,
    pub ces_responses: i64,
    pub tickets_created: i64,
    pub tickets_solved: i64,
    pub first_response: Times,
    pub resolution: Times,
    /// First solves with at most one agent reply and no reopening, in percent.
    pub first_contact_resolution: Option<f64>,
    /// Reopenings per solve, in percent.
    pub reopen_rate: Option<f64>,
    /// First responses within target, in percent of those with a target.
    pub sla_first_response: Option<f64>,
    /// First solves within the resolution target, in percent.
    pub sla_resolution: Option<f64>,
    /// Active tickets at the end of the period.
    pub backlog: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IncidentComms {
    pub incident_id: String,
    pub declared_at: String,
    /// Minutes from declaration to the first published update.
    pub first_notice_mins: Option<f64>,
    pub updates: usize,
    /// Mean and longest minutes between published updates.
    pub mean_update_interval_mins: Option<f64>,
    pub max_update_interval_mins: Option<f64>,
    /// Public updates that fell due (by the incident's cadence), and how
    /// many of them came in time.
    pub updates_due: i64,
    pub updates_kept: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IncidentSummary {
    pub incidents: usize,
    pub with_notice: usize,
    pub median_first_notice_mins: Option<f64>,
    pub p90_first_notice_mins: Option<f64>,
    pub mean_update_interval_mins: Option<f64>,
    /// Updates due over the range's incidents, kept in time, and the
    /// share kept (%; none when nothing fell due).
    pub updates_due: i64,
    pub updates_kept: i64,
    pub cadence_kept_pct: Option<f64>,
    /// The most recent incidents of the range, at most 100.
    pub list: Vec<IncidentComms>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Scorecard {
    pub from: String,
    pub to: String,
    pub by: Grain,
    pub dimension: String,
    /// Per period and value, oldest first.
    pub periods: Vec<Row>,
    /// The whole range per value.
    pub totals: Vec<Row>,
    pub incidents: IncidentSummary,
    /// Active tickets now.
    pub backlog_now: i64,
}

/// The time histograms, in the order of [`METRICS`].
const METRICS: [&str; 4] = ["frt_cal", "frt_bus", "res_cal", "res_bus"];
/// Buckets kept apart: 1.1^300 s is far beyond any time a ticket takes;
/// higher ones count in the last.
const BUCKETS: usize = 300;

/// A histogram over the log buckets, dense up to the highest bucket seen:
/// adding a stored one is a parse and an index per bucket.
#[derive(Default, Clone)]
struct Hist(Vec<i64>);

/// A stored histogram (`bucket:count,...`) read once into (bucket, count)
/// pairs; malformed parts are skipped. By hand rather than with `split`
/// and `parse`: a year by day reads thousands of these per query.
fn parse_stored(s: &str, out: &mut Vec<(usize, i64)>) {
    out.clear();
    let mut bytes = s.as_bytes().iter().peekable();
    loop {
        // One part: [-]digits ':' digits, up to the next ',' or the end.
        let mut neg = false;
        let (mut b, mut n, mut seen_colon) = (0i64, 0i64, false);
        let (mut b_digits, mut n_digits, mut ok) = (0, 0, true);
        if bytes.peek() == Some(&&b'-') {
            neg = true;
            bytes.next();
        }
        let mut end = true;
        for &c in bytes.by_ref() {
            match c {
                b',' => {
                    end = false;
                    break;
                }
                b':' if !seen_colon => seen_colon = true,
                b'0'..=b'9' if ok => {
                    let d = i64::from(c - b'0');
                    if seen_colon {
                        n = n.saturating_mul(10).saturating_add(d);
                        n_digits += 1;
                    } else {
                        b = b.saturating_mul(10).saturating_add(d);
                        b_digits += 1;
                    }
                }
                _ => ok = false,
            }
        }
        if ok && seen_colon && b_digits > 0 && n_digits > 0 {
            let b = if neg { 0 } else { b };
            out.push((usize::try_from(b).unwrap_or(0).min(BUCKETS - 1), n));
        }
        if end {
            break;
        }
    }
}

impl Hist {
    fn add(&mut self, parts: &[(usize, i64)]) {
        let top = parts.iter().map(|(b, _)| b + 1).max().unwrap_or(0);
        if top > self.0.len() {
            self.0.resize(top, 0);
        }
        for &(b, n) in parts {
            self.0[b] += n;
        }
    }
    fn count(&self) -> i64 {
        self.0.iter().sum()
    }
}

/// The feedback kinds the scorecard reads, in the order of `Acc::fb`.
const KINDS: [&str; 3] = ["nps", "csat", "ces"];

#[derive(Default, Clone)]
struct Acc {
    /// Per kind of [`KINDS`]: n, score_n, score_sum, top, bottom.
    fb: [[i64; 5]; 3],
    t: [i64; 8],
    hist: [Hist; 4],
}

impl Acc {
    fn add_fb(&mut self, kind: &str, v: &[i64; 5]) {
        if let Some(i) = KINDS.iter().position(|k| *k == kind) {
            for (a, b) in self.fb[i].iter_mut().zip(v) {
                *a += b;
            }
        }
    }
    fn add_t(&mut self, v: &[i64; 8]) {
        for (a, b) in self.t.iter_mut().zip(v) {
            *a += b;
        }
    }
    #[cfg(test)]
    fn add_h(&mut self, metric: &str, counts: &str) {
        let mut parts = Vec::new();
        parse_stored(counts, &mut parts);
        if let Some(i) = METRICS.iter().position(|m| *m == metric) {
            self.hist[i].add(&parts);
        }
    }
    fn hist(&self, metric: &str) -> &Hist {
        let i = METRICS.iter().position(|m| *m == metric).unwrap_or(0);
        &self.hist[i]
    }
}

fn pct(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| round1(100.0 * num as f64 / den as f64))
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Nearest-rank quantile from a histogram, in hours (the bucket's middle).
fn quantile_hours(h: &Hist, q: f64) -> Option<f64> {
    let n = h.count();
    if n == 0 {
        return None;
    }
    let rank = ((q * n as f64).ceil() as i64).max(1);
    let mut seen = 0;
    for (b, c) in h.0.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return Some(round2(bucket_secs(b as i64) / 3600.0));
        }
    }
    None
}

fn times(acc: &Acc, cal: &str, bus: &str) -> Times {
    let (cal, bus) = (acc.hist(cal), acc.hist(bus));
    Times {
        n: cal.count(),
        median_hours: quantile_hours(cal, 0.5),
        p90_hours: quantile_hours(cal, 0.9),
        business_median_hours: quantile_hours(bus, 0.5),
        business_p90_hours: quantile_hours(bus, 0.9),
    }
}

fn row(period: String, value: String, acc: &Acc, backlog: i64) -> Row {
    let [_, nps_n, _, promoters, detractors] = acc.fb[0];
    let [_, csat_n, _, csat_top, _] = acc.fb[1];
    let [_, ces_n, ces_sum, ces_top, _] = acc.fb[2];
    let [created, solved, fcr, reopened, frt_met, frt_missed, res_met, res_missed] = acc.t;
    let first_solves = res_met + res_missed;
    Row {
        period,
        value,
        nps: (nps_n > 0).then(|| round1(100.0 * (promoters - detractors) as f64 / nps_n as f64)),
        nps_responses: nps_n,
        promoters,
        detractors,
        csat: pct(csat_top, csat_n),
        csat_responses: csat_n,
        ces_mean: (ces_n > 0).then(|| round2(ces_sum as f64 / ces_n as f64)),
        ces_easy_share: pct(ces_top, ces_n),
        ces_responses: ces_n,
        tickets_created: created,
        tickets_solved: solved,
        first_response: times(acc, "frt_cal", "frt_bus"),
        resolution: times(acc, "res_cal", "res_bus"),
        first_contact_resolution: pct(fcr, acc.hist("res_cal").count()),
        reopen_rate: pct(reopened, solved),
        sla_first_response: pct(frt_met, frt_met + frt_missed),
        sla_resolution: pct(res_met, first_solves),
        backlog,
    }
}

/// Backlog of `value` at the end of `day`: the sum of its deltas so far.
fn backlog_at(r: &Rollups, value: &str, day: i64) -> i64 {
    r.backlog
        .get(value)
        .map(|v| {
            v.iter()
                .take_while(|(d, _)| *d <= day)
                .map(|(_, n)| n)
                .sum()
        })
        .unwrap_or(0)
}

fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(round1(sorted[rank - 1]))
}

pub async fn build(
    store: &Store,
    from: NaiveDate,
    to: NaiveDate,
    grain: Grain,
    dim: &'static str,
) -> Result<Scorecard, StoreError> {
    let (from_day, to_day) = (date_to_day(from), date_to_day(to));
    // Whole months are read from the monthly rollups when the periods
    // are months (a year by month is 12 rows per value, not 365).
    let r = store
        .rollups(dim, from_day, to_day, grain == Grain::Month)
        .await?;
    // Keyed by borrowed values: no string is copied per rollup row.
    let mut per: BTreeMap<(i64, &str), Acc> = BTreeMap::new();
    let mut tot: BTreeMap<&str, Acc> = BTreeMap::new();
    let feedback_dim = FEEDBACK_DIMS.contains(&dim);
    if feedback_dim {
        for (value, kind, day, v) in &r.feedback {
            let p = period_of(grain, *day).0;
            per.entry((p, value)).or_default().add_fb(kind, v);
            tot.entry(value).or_default().add_fb(kind, v);
        }
    }
    if TICKET_DIMS.contains(&dim) {
        for (value, day, v) in &r.tickets {
            let p = period_of(grain, *day).0;
            per.entry((p, value)).or_default().add_t(v);
            tot.entry(value).or_default().add_t(v);
        }
        let mut parts = Vec::with_capacity(BUCKETS);
        for (value, day, metric, counts) in &r.hist {
            let Some(i) = METRICS.iter().position(|m| m == metric) else {
                continue;
            };
            parse_stored(counts, &mut parts);
            let p = period_of(grain, *day).0;
            per.entry((p, value)).or_default().hist[i].add(&parts);
            tot.entry(value).or_default().hist[i].add(&parts);
        }
    }
    let periods = per
        .iter()
        .map(|((p, value), acc)| {
            let end = period_of(grain, *p).1.min(to_day);
            row(
                day_to_date(*p).to_string(),
                (*value).to_owned(),
                acc,
                backlog_at(&r, value, end),
            )
        })
        .collect();
    let totals = tot
        .iter()
        .map(|(value, acc)| {
            row(
                "total".into(),
                (*value).to_owned(),
                acc,
                backlog_at(&r, value, to_day),
            )
        })
        .collect();
    let incidents = incident_summary(store, from_day * DAY_MS, (to_day + 1) * DAY_MS).await?;
    Ok(Scorecard {
        from: from.to_string(),
        to: to.to_string(),
        by: grain,
        dimension: dim.to_owned(),
        periods,
        totals,
        incidents,
        backlog_now: store.backlog_now().await?,
    })
}

async fn incident_summary(
    store: &Store,
    from_ms: i64,
    to_ms: i64,
) -> Result<IncidentSummary, StoreError> {
    let rows = store.incident_notices(from_ms, to_ms).await?;
    let cadence = store
        .incident_cadence(from_ms, to_ms, crate::storage::now_ms())
        .await?;
    let (mut due_all, mut kept_all) = (0, 0);
    let mut notices: Vec<f64> = Vec::new();
    let mut gaps: Vec<f64> = Vec::new();
    let mut list = Vec::new();
    for (id, declared, published) in &rows {
        let first = published
            .first()
            .map(|p| (p - declared).max(0) as f64 / 60_000.0);
        if let Some(f) = first {
            notices.push(f);
        }
        let g: Vec<f64> = published
            .windows(2)
            .map(|w| (w[1] - w[0]) as f64 / 60_000.0)
            .collect();
        gaps.extend(&g);
        let (due, kept) = cadence.get(id).copied().unwrap_or((0, 0));
        due_all += due;
        kept_all += kept;
        list.push(IncidentComms {
            incident_id: id.clone(),
            declared_at: crate::storage::users::rfc3339(*declared),
            first_notice_mins: first.map(round1),
            updates: published.len(),
            mean_update_interval_mins: (!g.is_empty())
                .then(|| round1(g.iter().sum::<f64>() / g.len() as f64)),
            max_update_interval_mins: g.iter().copied().reduce(f64::max).map(round1),
            updates_due: due,
            updates_kept: kept,
        });
    }
    notices.sort_by(|a, b| a.total_cmp(b));
    list.reverse();
    list.truncate(100);
    Ok(IncidentSummary {
        incidents: rows.len(),
        with_notice: notices.len(),
        median_first_notice_mins: quantile(&notices, 0.5),
        p90_first_notice_mins: quantile(&notices, 0.9),
        mean_update_interval_mins: (!gaps.is_empty())
            .then(|| round1(gaps.iter().sum::<f64>() / gaps.len() as f64)),
        updates_due: due_all,
        updates_kept: kept_all,
        cadence_kept_pct: (due_all > 0).then(|| round1(100.0 * kept_all as f64 / due_all as f64)),
        list,
    })
}

/// The periods as CSV, one line per period and value.
pub fn to_csv(s: &Scorecard) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "period",
        "dimension",
        "value",
        "nps",
        "nps_responses",
        "csat_pct",
        "csat_responses",
        "ces_mean",
        "ces_easy_pct",
        "ces_responses",
        "tickets_created",
        "tickets_solved",
        "first_response_median_h",
        "first_response_p90_h",
        "first_response_business_median_h",
        "first_response_business_p90_h",
        "resolution_median_h",
        "resolution_p90_h",
        "resolution_business_median_h",
        "resolution_business_p90_h",
        "first_contact_resolution_pct",
        "reopen_rate_pct",
        "sla_first_response_pct",
        "sla_resolution_pct",
        "backlog",
    ])?;
    let f = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for r in s.periods.iter().chain(&s.totals) {
        w.write_record([
            r.period.clone(),
            s.dimension.clone(),
            r.value.clone(),
            f(r.nps),
            r.nps_responses.to_string(),
            f(r.csat),
            r.csat_responses.to_string(),
            f(r.ces_mean),
            f(r.ces_easy_share),
            r.ces_responses.to_string(),
            r.tickets_created.to_string(),
            r.tickets_solved.to_string(),
            f(r.first_response.median_hours),
            f(r.first_response.p90_hours),
            f(r.first_response.business_median_hours),
            f(r.first_response.business_p90_hours),
            f(r.resolution.median_hours),
            f(r.resolution.p90_hours),
            f(r.resolution.business_median_hours),
            f(r.resolution.business_p90_hours),
            f(r.first_contact_resolution),
            f(r.reopen_rate),
            f(r.sla_first_response),
            f(r.sla_resolution),
            r.backlog.to_string(),
        ])?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_start_on_mondays_and_first_of_month() {
        let d = |s: &str| date_to_day(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap());
        // 2026-12-03 is a Thursday; its week starts Monday 2026-11-30.
        assert_eq!(
            period_of(Grain::Week, d("2026-12-03")),
            (d("2026-11-30"), d("2026-12-06"))
        );
        assert_eq!(period_of(Grain::Week, d("2026-11-30")).0, d("2026-11-30"));
        assert_eq!(
            period_of(Grain::Month, d("2026-12-31")),
            (d("2026-12-01"), d("2026-12-31"))
        );
        assert_eq!(
            period_of(Grain::Month, d("2028-02-10")),
            (d("2028-02-01"), d("2028-02-29"))
        );
        assert_eq!(period_of(Grain::Day, 5), (5, 5));
    }

    #[test]
    fn stored_histograms_parse_and_skip_malformed_parts() {
        let mut parts = Vec::new();
        parse_stored("3:2,10:1", &mut parts);
        assert_eq!(parts, vec![(3, 2), (10, 1)]);
        parse_stored("bad,4:,:5,7:x,-2:3,9999:1,6:4", &mut parts);
        assert_eq!(parts, vec![(0, 3), (BUCKETS - 1, 1), (6, 4)]);
        parse_stored("", &mut parts);
        assert!(parts.is_empty());
    }

    #[test]
    fn rates_follow_their_definitions() {
        let mut acc = Acc::default();
        // NPS: 3 promoters, 1 detractor out of 5 -> (3 - 1) / 5 = 40.
        acc.add_fb("nps", &[5, 5, 40, 3, 1]);
        // CSAT: 3 of 4 answers were 4 or 5 -> 75 %.
        acc.add_fb("csat", &[4, 4, 15, 3, 1]);
        // CES: answers summing to 22 over 4 -> mean 5.5; 3 of 4 easy.
        acc.add_fb("ces", &[4, 4, 22, 3, 0]);
        // created, solved, fcr, reopened, frt met/missed, res met/missed
        acc.add_t(&[10, 4, 2, 1, 3, 1, 2, 2]);
        acc.add_h("res_cal", "10:1,20:1");
        acc.add_h("res_cal", "30:1,40:1,bad");
        let r = row("total".into(), "all".into(), &acc, 6);
        assert_eq!(r.nps, Some(40.0));
        assert_eq!(r.csat, Some(75.0));
        assert_eq!(r.ces_mean, Some(5.5));
        assert_eq!(r.ces_easy_share, Some(75.0));
        assert_eq!(r.first_contact_resolution, Some(50.0));
        assert_eq!(r.reopen_rate, Some(25.0));
        assert_eq!(r.sla_first_response, Some(75.0));
        assert_eq!(r.sla_resolution, Some(50.0));
        assert_eq!(
            r.resolution.median_hours,
            Some(round2(bucket_secs(20) / 3600.0))
        );
        assert_eq!(
            r.resolution.p90_hours,
            Some(round2(bucket_secs(40) / 3600.0))
        );
        assert_eq!(r.backlog, 6);
    }
}
