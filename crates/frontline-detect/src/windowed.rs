//! The windowed robust model ([`crate::ValueModel::Windowed`]) for
//! continuous values without a known distribution (NAB's series).
//!
//! Each step is given a raw surprise: the larger of the robust z-scores of
//! the value and of its first difference against the last `long_window`
//! values (median and interquartile range, so past anomalies barely move
//! them). As in Numenta's "anomaly likelihood", the mean surprise over the
//! last `short_window` steps is then compared with the distribution of that
//! mean over the long window; the statistic is its z-score, and a detection
//! is an onset where it reaches `threshold`. After a detection the series is
//! silent for `calm_steps` steps (one detection per anomaly); when the
//! silence ends, if the values since the detection sit at another level
//! (a level shift), the history is cut to them so the new level is the
//! baseline at once.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::detector::{Alarm, DetectorConfig, Step};

/// Fewest values before any surprise is computed.
const MIN_HISTORY: usize = 16;
/// Cap on one step's raw surprise, so one wild value cannot dominate the
/// long-run distribution.
const RAW_CAP: f64 = 30.0;
/// Floor on the spread of the mean surprise.
const SD_FLOOR: f64 = 0.05;

/// A window of values kept both in arrival order and sorted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct SortedWindow {
    order: VecDeque<f64>,
    sorted: Vec<f64>,
}

impl SortedWindow {
    fn push(&mut self, x: f64, cap: usize) {
        self.order.push_back(x);
        let i = self.sorted.partition_point(|v| v.total_cmp(&x).is_lt());
        self.sorted.insert(i, x);
        while self.order.len() > cap.max(1) {
            if let Some(old) = self.order.pop_front() {
                let j = self.sorted.partition_point(|v| v.total_cmp(&old).is_lt());
                if j < self.sorted.len() {
                    self.sorted.remove(j);
                }
            }
        }
    }

    fn len(&self) -> usize {
        self.order.len()
    }

    fn quantile(&self, q: f64) -> f64 {
        if self.sorted.is_empty() {
            return 0.0;
        }
        let pos = q * (self.sorted.len() - 1) as f64;
        let lo = pos.floor() as usize;
        let hi = (lo + 1).min(self.sorted.len() - 1);
        let f = pos - lo as f64;
        self.sorted[lo] * (1.0 - f) + self.sorted[hi] * f
    }

    /// Median and a robust standard deviation (IQR / 1.349).
    fn centre_spread(&self) -> (f64, f64) {
        let med = self.quantile(0.5);
        let iqr = self.quantile(0.75) - self.quantile(0.25);
        (med, iqr / 1.349)
    }

    /// Surprise of `x` by its rank: `-ln p`, with `p` the two-sided share
    /// of the window at least as extreme (ties count half), so it needs no
    /// assumption on the distribution's shape. At most `ln(n + 1)`.
    fn rank_surprise(&self, x: f64) -> f64 {
        let n = self.sorted.len();
        let below = self.sorted.partition_point(|v| v.total_cmp(&x).is_lt());
        let not_above = self.sorted.partition_point(|v| v.total_cmp(&x).is_le());
        let ties = (not_above - below) as f64;
        let lower = below as f64 + 0.5 * ties + 0.5;
        let upper = (n - not_above) as f64 + 0.5 * ties + 0.5;
        let p = (2.0 * lower.min(upper) / (n as f64 + 1.0)).min(1.0);
        -p.ln()
    }

    /// Keeps only the last `n` values.
    fn keep_last(&mut self, n: usize) {
        while self.order.len() > n {
            if let Some(old) = self.order.pop_front() {
                let j = self.sorted.partition_point(|v| v.total_cmp(&old).is_lt());
                if j < self.sorted.len() {
                    self.sorted.remove(j);
                }
            }
        }
    }
}

/// Per-series state of the windowed model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct WindowState {
    values: SortedWindow,
    diffs: SortedWindow,
    prev: Option<f64>,
    /// Recent raw surprises (short window) and their sum.
    short: VecDeque<f64>,
    short_sum: f64,
    /// Mean surprises over the long window, with sum and sum of squares.
    means: VecDeque<f64>,
    means_sum: f64,
    means_sq: f64,
    /// The extra surprise windows (`DetectorConfig::extra_windows`).
    #[serde(default)]
    extra: Vec<MeanTrack>,
    /// Largest mean surprise so far, decaying by `1 / long_window` a step.
    #[serde(default)]
    record: f64,
    /// Largest statistic since the last detection (for escalations).
    #[serde(default)]
    episode_max: f64,
    /// The seasonal comparison (`DetectorConfig::season_weight`).
    #[serde(default)]
    season: Season,
    /// The lowest and highest values so far.
    #[serde(default)]
    range: Option<(f64, f64)>,
    /// Steps left in the silence after a detection.
    silent: u32,
    /// Steps since the last detection.
    since: u32,
    n: u64,
}

/// One extra surprise window: the mean raw surprise over its last `len`
/// steps, and the distribution of that mean over the long window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct MeanTrack {
    short: VecDeque<f64>,
    short_sum: f64,
    means: VecDeque<f64>,
    means_sum: f64,
    means_sq: f64,
    /// The current mean, learnt at the end of the step.
    last: f64,
}

impl MeanTrack {
    /// Adds a raw surprise; returns the z-score of the window's mean
    /// against the long-run distribution of that mean (0 until known).
    fn push(&mut self, raw: f64, len: usize) -> f64 {
        self.short.push_back(raw);
        self.short_sum += raw;
        while self.short.len() > len.max(1) {
            if let Some(o) = self.short.pop_front() {
                self.short_sum -= o;
            }
        }
        let avg = self.short_sum / self.short.len().max(1) as f64;
        self.last = avg;
        z_of(avg, self.means.len(), self.means_sum, self.means_sq)
    }

    fn learn(&mut self, long: usize) {
        let avg = self.last;
        self.means.push_back(avg);
        self.means_sum += avg;
        self.means_sq += avg * avg;
        while self.means.len() > long {
            if let Some(o) = self.means.pop_front() {
                self.means_sum -= o;
                self.means_sq -= o * o;
            }
        }
    }

    fn clear_short(&mut self) {
        self.short.clear();
        self.short_sum = 0.0;
    }
}

/// Steps between checks of the period.
const SEASON_CHECK: u32 = 96;
/// Periods compared: the values one to this many periods back.
const SEASON_LAGS: usize = 3;

/// The seasonal comparison: the raw history, the period found in it (in
/// steps, 0 while none), and the residuals against earlier periods.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Season {
    hist: VecDeque<f64>,
    resid: SortedWindow,
    period: usize,
    /// Minutes per step, from the first two timestamps.
    minutes: i64,
    last_ts: Option<i64>,
    since_check: u32,
}

impl Season {
    /// The value expected from earlier periods: the median of the values
    /// one to three periods back (those the history holds).
    fn expected(&self, back: usize) -> Option<f64> {
        let n = self.hist.len();
        let p = self.period;
        if p == 0 {
            return None;
        }
        let mut v: Vec<f64> = (1..=SEASON_LAGS)
            .filter_map(|k| {
                let lag = k * p + back;
                (lag <= n).then(|| self.hist[n - lag])
            })
            .collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        Some(if v.len() == 2 {
            0.5 * (v[0] + v[1])
        } else {
            v[v.len() / 2]
        })
    }

    /// Autocorrelation of the history at `lag`.
    fn acf(&self, lag: usize) -> f64 {
        let n = self.hist.len();
        if lag == 0 || n < 2 * lag + 2 {
            return 0.0;
        }
        let mean = self.hist.iter().sum::<f64>() / n as f64;
        let var: f64 = self.hist.iter().map(|x| (x - mean) * (x - mean)).sum();
        if var <= 0.0 {
            return 0.0;
        }
        let cov: f64 = (lag..n)
            .map(|i| (self.hist[i] - mean) * (self.hist[i - lag] - mean))
            .sum();
        cov / var
    }

    /// Looks for a daily or weekly period; on a change, rebuilds the
    /// residuals from the history.
    fn check(&mut self, min_acf: f64, long: usize) {
        if self.minutes <= 0 {
            return;
        }
        let mut best = (0usize, 0.0f64);
        for minutes in [1440i64, 10080] {
            if minutes % self.minutes != 0 {
                continue;
            }
            let lag = (minutes / self.minutes) as usize;
            let a = self.acf(lag);
            let half = self.acf(lag / 2);
            if a >= min_acf && a - half >= min_acf && a > best.1 {
                best = (lag, a);
            }
        }
        if best.0 != self.period {
            self.period = best.0;
            self.resid = SortedWindow::default();
            if self.period > 0 {
                let n = self.hist.len();
                let start = n.saturating_sub(long);
                for back in (0..n - start).rev() {
                    if let Some(e) = self.expected(back + 1) {
                        let x = self.hist[n - 1 - back];
                        self.resid.push(x - e, long);
                    }
                }
            }
        }
    }
}

/// Upper z-score of `avg` against `n` values with this sum and sum of squares.
fn z_of(avg: f64, n: usize, sum: f64, sq: f64) -> f64 {
    if n < MIN_HISTORY {
        return 0.0;
    }
    let nf = n as f64;
    let mean = sum / nf;
    let var = (sq / nf - mean * mean).max(0.0);
    ((avg - mean) / var.sqrt().max(SD_FLOOR)).max(0.0)
}

fn spread_floor(centre: f64, spread: f64) -> f64 {
    spread.max(1e-3 * centre.abs()).max(1e-9)
}

pub(crate) fn step(c: &DetectorConfig, w: &mut WindowState, key: &str, ts: i64, x: f64) -> Step {
    let long = c.long_window.max(MIN_HISTORY as u32) as usize;
    let short = c.short_window.max(1) as usize;
    let (med, spread) = w.values.centre_spread();
    let spread = spread_floor(med, spread);
    let mut raw = 0.0;
    if w.values.len() >= MIN_HISTORY {
        raw = if c.rank_surprise {
            w.values.rank_surprise(x)
        } else {
            ((x - med).abs() / spread).min(RAW_CAP)
        };
        if let Some(p) = w.prev {
            if w.diffs.len() >= MIN_HISTORY {
                let d = if c.rank_surprise {
                    w.diffs.rank_surprise(x - p)
                } else {
                    let (dm, ds) = w.diffs.centre_spread();
                    let ds = spread_floor(dm, ds).max(spread * 1e-3);
                    ((x - p - dm).abs() / ds).min(RAW_CAP)
                };
                raw = raw.max(d * c.diff_weight);
            }
        }
    }
    let mut season_resid = None;
    if c.season_weight > 0.0 {
        let s = &mut w.season;
        if let Some(last) = s.last_ts {
            if s.minutes == 0 && ts > last {
                s.minutes = ts - last;
            }
        }
        s.last_ts = Some(ts);
        if let Some(e) = s.expected(0) {
            let r = x - e;
            season_resid = Some(r);
            if s.resid.len() >= MIN_HISTORY {
                let (rm, rs) = s.resid.centre_spread();
                let rs = spread_floor(rm, rs).max(spread * 1e-3);
                let z = ((r - rm).abs() / rs).min(RAW_CAP) * c.season_weight;
                raw = raw.max(z);
            }
        }
    }
    w.short.push_back(raw);
    w.short_sum += raw;
    while w.short.len() > short {
        if let Some(o) = w.short.pop_front() {
            w.short_sum -= o;
        }
    }
    let avg = w.short_sum / w.short.len().max(1) as f64;
    let mut stat = z_of(avg, w.means.len(), w.means_sum, w.means_sq);
    w.extra.resize_with(c.extra_windows.len(), Default::default);
    for (t, &(len, weight)) in w.extra.iter_mut().zip(&c.extra_windows) {
        stat = stat.max(t.push(raw, len as usize) * weight);
    }
    let h = c.threshold.max(1e-9);
    let score = stat / (stat + h);
    let warmed = w.n >= u64::from(c.warmup);

    let mut alarm = None;
    let mut escalated = false;
    if w.silent > 0 {
        if c.escalate_ratio > 0.0 && stat >= c.escalate_ratio * w.episode_max.max(h) {
            escalated = true;
            w.episode_max = stat;
        }
        w.silent -= 1;
        if w.silent == 0 {
            rebaseline(c, w);
        }
    } else if warmed && stat >= h {
        alarm = Some(Alarm {
            series: key.to_owned(),
            at: ts,
            started_at: ts - (short as i64 - 1),
            observed: x,
            expected: med,
            lower: med - 3.0 * spread,
            upper: med + 3.0 * spread,
            observed_total: x,
            expected_total: med,
            p_value: (-0.5 * stat * stat).exp(),
            stat,
            falling: x < med,
        });
        w.silent = c.calm_steps;
        w.since = 0;
        w.episode_max = stat;
    }
    w.since = w.since.saturating_add(1);
    let onset_score = if alarm.is_some() || escalated {
        let record = if w.record > 0.0 {
            (avg / w.record).ln().clamp(-2.0, 2.0)
        } else {
            0.0
        };
        let strength = stat
            + c.onset_value_weight * raw
            + c.onset_rank_weight * w.rank_of_mean(avg)
            + c.onset_record_weight * record;
        strength / (strength + h)
    } else {
        0.0
    };
    let mut onset_score = onset_score;
    if c.spatial_tolerance > 0.0 {
        if let Some((lo, hi)) = w.range {
            let tol = (hi - lo) * c.spatial_tolerance;
            if hi > lo && w.n >= MIN_HISTORY as u64 && (x > hi + tol || x < lo - tol) {
                onset_score = onset_score.max(c.spatial_score);
            }
        }
        w.range = Some(match w.range {
            Some((lo, hi)) => (lo.min(x), hi.max(x)),
            None => (x, x),
        });
    }

    // Learn.
    if let Some(p) = w.prev {
        w.diffs.push(x - p, long);
    }
    w.values.push(x, long);
    w.prev = Some(x);
    if c.season_weight > 0.0 {
        let s = &mut w.season;
        if let Some(r) = season_resid {
            s.resid.push(r, long);
        }
        s.hist.push_back(x);
        let cap = (long * 2)
            .max(3 * 10080 / s.minutes.max(1) as usize + 1)
            .min(long * 4);
        while s.hist.len() > cap {
            s.hist.pop_front();
        }
        s.since_check += 1;
        if s.since_check >= SEASON_CHECK {
            s.since_check = 0;
            s.check(c.season_min_acf, long);
        }
    }
    w.record = (w.record * (1.0 - 1.0 / long as f64)).max(avg);
    w.means.push_back(avg);
    w.means_sum += avg;
    w.means_sq += avg * avg;
    while w.means.len() > long {
        if let Some(o) = w.means.pop_front() {
            w.means_sum -= o;
            w.means_sq -= o * o;
        }
    }
    for t in &mut w.extra {
        t.learn(long);
    }
    w.n += 1;
    Step {
        expected: med,
        upper: med + 3.0 * spread,
        score,
        onset_score,
        in_alarm: w.silent > 0,
        alarm,
    }
}

impl WindowState {
    /// How extreme the current mean surprise is among those of the long
    /// window: `-ln` of the share at least as large (0 until known).
    /// Linear in the window; computed only at onsets.
    fn rank_of_mean(&self, avg: f64) -> f64 {
        if self.means.len() < MIN_HISTORY {
            return 0.0;
        }
        let above = self.means.iter().filter(|&&m| m >= avg).count();
        let share = (above as f64 + 0.5) / (self.means.len() as f64 + 1.0);
        -share.min(1.0).ln()
    }
}

/// At the end of the silence after a detection: if the values since the
/// detection sit at another level than those before, forget those before.
fn rebaseline(c: &DetectorConfig, w: &mut WindowState) {
    let recent = (w.since as usize).min(w.values.len());
    if recent < MIN_HISTORY || recent >= w.values.len() {
        return;
    }
    let mut before: Vec<f64> = w.values.order.iter().copied().collect();
    let after = before.split_off(before.len() - recent);
    let med = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let m = v[v.len() / 2];
        let q1 = v[v.len() / 4];
        let q3 = v[(3 * v.len()) / 4];
        (m, (q3 - q1) / 1.349)
    };
    let mut after = after;
    let (mb, sb) = med(&mut before);
    let (ma, _) = med(&mut after);
    if (ma - mb).abs() > c.rebaseline_sd * spread_floor(mb, sb) {
        w.values.keep_last(recent);
        w.diffs.keep_last(recent.saturating_sub(1));
        // The recent surprises were measured against the old level.
        w.short.clear();
        w.short_sum = 0.0;
        for t in &mut w.extra {
            t.clear_short();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic noise in [-0.5, 0.5).
    fn noise(state: &mut u64) -> f64 {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    }

    #[test]
    fn rank_surprise_grows_with_extremity_on_both_sides() {
        let mut w = SortedWindow::default();
        for i in 0..100 {
            w.push(f64::from(i), 1000);
        }
        let mid = w.rank_surprise(49.5);
        let high = w.rank_surprise(95.0);
        let beyond = w.rank_surprise(1e6);
        assert!(mid < 0.05, "{mid}");
        assert!(high > mid && beyond > high, "{mid} {high} {beyond}");
        // Nothing is more extreme than a value beyond the window.
        assert!((beyond - 101.0f64.ln()).abs() < 1e-9, "{beyond}");
        assert!((w.rank_surprise(-1e6) - beyond).abs() < 1e-9);
        // A value far out is not more surprising than one just beyond the
        // maximum: the rank cannot tell them apart.
        assert_eq!(w.rank_surprise(100.5), beyond);
    }

    fn run(c: &DetectorConfig, values: &[f64]) -> Vec<Step> {
        let mut w = WindowState::default();
        values
            .iter()
            .enumerate()
            .map(|(t, &x)| step(c, &mut w, "s", t as i64, x))
            .collect()
    }

    fn series_with_spike(spike_at: usize, height: f64) -> Vec<f64> {
        let mut rng = 5;
        (0..3000)
            .map(|t| {
                let s = if t == spike_at { height } else { 0.0 };
                10.0 + noise(&mut rng) + s
            })
            .collect()
    }

    #[test]
    fn a_short_extra_window_sees_a_one_step_spike_more_strongly() {
        let values = series_with_spike(2000, 8.0);
        let base = DetectorConfig::windowed();
        let extra = DetectorConfig {
            extra_windows: vec![(1, 1.0)],
            ..DetectorConfig::windowed()
        };
        let a = run(&base, &values);
        let b = run(&extra, &values);
        assert!(
            b[2000].score > a[2000].score,
            "{} {}",
            a[2000].score,
            b[2000].score
        );
        assert!(b[2000].alarm.is_some());
        // Same steps before the spike: the extra window only adds.
        assert!(a[..2000]
            .iter()
            .zip(&b[..2000])
            .all(|(x, y)| y.score >= x.score - 1e-12));
    }

    #[test]
    fn escalations_rank_an_anomaly_that_keeps_growing_without_new_alarms() {
        let mut rng = 9;
        let values: Vec<f64> = (0..3000)
            .map(|t| {
                // A rise that starts small and becomes large.
                let rise = if (2000..2040).contains(&t) {
                    0.05 * (t - 2000) as f64 * (t - 2000) as f64 / 10.0
                } else {
                    0.0
                };
                10.0 + noise(&mut rng) + rise
            })
            .collect();
        let plain = run(&DetectorConfig::windowed(), &values);
        let c = DetectorConfig {
            escalate_ratio: 1.5,
            ..DetectorConfig::windowed()
        };
        let esc = run(&c, &values);
        let alarms = |s: &[Step]| s.iter().filter(|s| s.alarm.is_some()).count();
        assert_eq!(alarms(&plain), alarms(&esc));
        let onsets = |s: &[Step]| -> Vec<f64> {
            s[1990..2100]
                .iter()
                .map(|s| s.onset_score)
                .filter(|&o| o > 0.0)
                .collect()
        };
        let (p, e) = (onsets(&plain), onsets(&esc));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(e.len() >= 2, "{e:?}");
        assert!(e.windows(2).all(|w| w[1] > w[0]), "{e:?}");
    }

    #[test]
    fn onset_strength_ranks_a_large_spike_above_a_small_one() {
        let c = DetectorConfig {
            onset_value_weight: 0.2,
            onset_rank_weight: 1.0,
            ..DetectorConfig::windowed()
        };
        let onset = |height: f64| -> f64 {
            let steps = run(&c, &series_with_spike(2000, height));
            steps[2000].onset_score
        };
        let (small, large) = (onset(3.0), onset(30.0));
        assert!(small > 0.0, "the small spike is detected too");
        assert!(large > small, "{small} {large}");
        // Without the weights both onsets carry the statistic's score alone.
        let plain = run(&DetectorConfig::windowed(), &series_with_spike(2000, 30.0));
        assert!(plain[2000].onset_score < large);
        assert!((plain[2000].onset_score - plain[2000].score).abs() < 1e-12);
    }

    #[test]
    fn a_spike_above_an_earlier_one_scores_higher_with_the_record_term() {
        // Two spikes of the same height: the second is no record, so with
        // the record term it scores below the first; without, they tie.
        let mut rng = 3;
        let values: Vec<f64> = (0..3000)
            .map(|t| {
                let s = if t == 1200 || t == 2400 { 6.0 } else { 0.0 };
                10.0 + noise(&mut rng) + s
            })
            .collect();
        let onsets = |c: &DetectorConfig| {
            let steps = run(c, &values);
            (steps[1200].onset_score, steps[2400].onset_score)
        };
        let plain = onsets(&DetectorConfig::windowed());
        let rec = onsets(&DetectorConfig {
            onset_record_weight: 2.0,
            ..DetectorConfig::windowed()
        });
        assert!(plain.0 > 0.0 && plain.1 > 0.0, "{plain:?}");
        assert!(
            rec.0 > plain.0,
            "a new record adds strength: {plain:?} {rec:?}"
        );
        assert!(rec.1 - plain.1 < rec.0 - plain.0, "{plain:?} {rec:?}");
    }

    #[test]
    fn a_state_saved_before_the_extra_fields_still_loads() {
        let mut w = WindowState::default();
        let c = DetectorConfig::windowed();
        for t in 0..50 {
            step(&c, &mut w, "s", t, f64::from(t as i32 % 7));
        }
        let mut json = serde_json::to_value(&w).expect("serialises");
        let obj = json.as_object_mut().expect("object");
        obj.remove("extra");
        obj.remove("episode_max");
        obj.remove("record");
        let back: WindowState = serde_json::from_value(json).expect("old state loads");
        assert_eq!(back.n, 50);
        let mut cj = serde_json::to_value(&c).expect("serialises");
        let cobj = cj.as_object_mut().expect("object");
        for k in [
            "extra_windows",
            "escalate_ratio",
            "rank_surprise",
            "onset_value_weight",
            "onset_rank_weight",
            "onset_record_weight",
        ] {
            cobj.remove(k);
        }
        let back: DetectorConfig = serde_json::from_value(cj).expect("old config loads");
        assert_eq!(back, c);
    }

    /// Ten days of a daily square wave in 5-minute steps (low 20 at night,
    /// high 80 by day, noise +-2); on day 8 the day's rise does not come.
    fn square_days(skip_day: Option<usize>) -> Vec<f64> {
        let mut rng = 23;
        (0..288 * 10)
            .map(|t| {
                let (day, slot) = (t / 288, t % 288);
                let high = (108..216).contains(&slot) && Some(day) != skip_day;
                (if high { 80.0 } else { 20.0 }) + 4.0 * noise(&mut rng)
            })
            .collect()
    }

    fn alarms_in(c: &DetectorConfig, values: &[f64], from: usize, to: usize) -> usize {
        let mut w = WindowState::default();
        values
            .iter()
            .enumerate()
            .filter(|&(t, &x)| {
                step(c, &mut w, "s", 5 * t as i64, x).alarm.is_some() && (from..to).contains(&t)
            })
            .count()
    }

    fn seasonal(weight: f64) -> DetectorConfig {
        DetectorConfig {
            threshold: 2.5,
            season_weight: weight,
            season_min_acf: 0.8,
            ..DetectorConfig::windowed()
        }
    }

    #[test]
    fn a_missing_daily_rise_is_found_only_by_the_seasonal_comparison() {
        let missing = square_days(Some(8));
        // The missed rise: day 8, from its usual start to its end.
        let (from, to) = (8 * 288 + 108, 8 * 288 + 216);
        assert_eq!(
            alarms_in(&seasonal(0.0), &missing, from, to),
            0,
            "the value alone looks normal"
        );
        assert_eq!(
            alarms_in(&seasonal(3.0), &missing, from, to),
            1,
            "one detection of the change"
        );
        // The same wave without the change raises nothing after its first days.
        let normal = square_days(None);
        assert_eq!(alarms_in(&seasonal(3.0), &normal, 3 * 288, 10 * 288), 0);
    }

    #[test]
    fn the_period_is_found_in_a_cycle_and_not_in_a_level_shift() {
        let period = |values: &[f64]| {
            let mut s = Season {
                minutes: 5,
                ..Season::default()
            };
            s.hist.extend(values.iter().copied());
            s.check(0.8, 3000);
            s.period
        };
        assert_eq!(
            period(&square_days(None)),
            288,
            "a daily cycle in 5-minute steps"
        );
        // A step from 20 to 80 halfway: every lag is correlated, the half
        // period as much as the period, so no cycle is claimed.
        let mut rng = 29;
        let shift: Vec<f64> = (0..2880)
            .map(|t| if t < 1440 { 20.0 } else { 80.0 } + 4.0 * noise(&mut rng))
            .collect();
        assert_eq!(period(&shift), 0);
        // Noise alone has none either.
        let flat: Vec<f64> = (0..2880).map(|_| 50.0 + 4.0 * noise(&mut rng)).collect();
        assert_eq!(period(&flat), 0);
    }

    #[test]
    fn a_value_beyond_the_range_so_far_is_an_onset_of_its_own() {
        let c = DetectorConfig {
            spatial_tolerance: 0.03,
            spatial_score: 0.8,
            ..DetectorConfig::windowed()
        };
        let mut rng = 31;
        // Values in [0, 1), then one at 1.02 (within the tolerance of 3% of
        // the range), then 1.2 (beyond it), then 1.21 (beyond the old range
        // but not beyond the new one).
        let mut values: Vec<f64> = (0..1000).map(|_| 0.5 + noise(&mut rng)).collect();
        values.extend([1.02, 0.5, 1.2, 0.5, 1.21]);
        let steps = run(&c, &values);
        let last: Vec<f64> = steps[1000..].iter().map(|s| s.onset_score).collect();
        assert_eq!(last[0], 0.0, "within the tolerance");
        assert_eq!(last[2], 0.8, "beyond the range");
        assert_eq!(last[4], 0.0, "the range grew with it");
        assert!(steps[..1000].iter().skip(100).all(|s| s.onset_score == 0.0));
        // Off by default: the same values raise no onset at 1.2.
        let plain = run(&DetectorConfig::windowed(), &values);
        assert_eq!(plain[1002].onset_score, 0.0);
    }
}
