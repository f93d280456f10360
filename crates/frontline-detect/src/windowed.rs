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
    /// Steps left in the silence after a detection.
    silent: u32,
    /// Steps since the last detection.
    since: u32,
    n: u64,
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
        raw = ((x - med).abs() / spread).min(RAW_CAP);
        if let Some(p) = w.prev {
            if w.diffs.len() >= MIN_HISTORY {
                let (dm, ds) = w.diffs.centre_spread();
                let ds = spread_floor(dm, ds).max(spread * 1e-3);
                raw = raw.max(((x - p - dm).abs() / ds).min(RAW_CAP) * c.diff_weight);
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
    let stat = if w.means.len() >= MIN_HISTORY {
        let n = w.means.len() as f64;
        let mean = w.means_sum / n;
        let var = (w.means_sq / n - mean * mean).max(0.0);
        ((avg - mean) / var.sqrt().max(SD_FLOOR)).max(0.0)
    } else {
        0.0
    };
    let h = c.threshold.max(1e-9);
    let score = stat / (stat + h);
    let warmed = w.n >= u64::from(c.warmup);

    let mut alarm = None;
    if w.silent > 0 {
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
    }
    w.since = w.since.saturating_add(1);

    // Learn.
    if let Some(p) = w.prev {
        w.diffs.push(x - p, long);
    }
    w.values.push(x, long);
    w.prev = Some(x);
    w.means.push_back(avg);
    w.means_sum += avg;
    w.means_sq += avg * avg;
    while w.means.len() > long {
        if let Some(o) = w.means.pop_front() {
            w.means_sum -= o;
            w.means_sq -= o * o;
        }
    }
    w.n += 1;
    Step {
        expected: med,
        upper: med + 3.0 * spread,
        score,
        onset_score: if alarm.is_some() { score } else { 0.0 },
        in_alarm: w.silent > 0,
        alarm,
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
    }
}
