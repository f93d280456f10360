//! Streaming spike detection over per-minute series.
//!
//! # Model
//!
//! For every series the detector keeps a seasonal baseline:
//!
//! - a daily profile (24 hourly slots, exponentially weighted means, linearly
//!   interpolated between slot centres and shrunk towards the series'
//!   overall mean while a slot has little data): the shape within the hour;
//! - a weekly profile (168 hourly slots, not interpolated, so a switch
//!   between weekdays and weekend at an hour boundary is a step rather than
//!   a two-hour ramp), shrunk towards the daily profile times a
//!   day-of-week factor (counts), which is learnt from whole days and so is
//!   well estimated long before every weekly slot is;
//! - a recent level (ratio of recent observed to baseline, for counts; an
//!   offset, for continuous values; half-life 3 hours by default) that
//!   scales the baseline, so a gradual change of volume is followed while a
//!   sudden one is not.
//!
//! Counts ([`ValueModel::Counts`]) are negative binomial: variance
//! `mu * (1 + phi * mu)`, with the overdispersion `phi` estimated by
//! moments. Continuous values ([`ValueModel::Continuous`]) use a Gaussian
//! residual with an exponentially weighted variance.
//!
//! # Test
//!
//! Several CUSUMs run on the exact negative binomial log-likelihood ratio of
//! "rate multiplied by `r`" against "rate as expected" (for counts; "mean
//! moved by `d` standard deviations" for continuous values). The statistic
//! is the largest CUSUM. By the likelihood-ratio bound a threshold `h` gives
//! a false alarm rate per series of at most about `k * e^-h` per step; to
//! keep the family-wise rate across `n` series at the same level,
//! [`DetectorConfig::for_series`] raises `h` by `ln n`.
//!
//! One step may add at most `max_step_share * h` (half by default for
//! counts): a single extreme minute, which the heavy tail of real counts
//! produces now and then, cannot raise an alarm alone; a rise needs an
//! excess over at least two minutes.
//!
//! An alarm is raised once when the statistic crosses `h`; the series then
//! stays "in alarm" (baseline frozen, no new alarm) until it has been calm
//! for `calm_steps` or `max_alarm_steps` have passed. The evidence gathered
//! during an alarm is spent when it ends: a new alarm needs new evidence.
//!
//! # Scores
//!
//! Each step also gives `score = stat / (stat + h)` in [0, 1) (0.5 at the
//! alarm threshold) and `onset_score`, equal to `score` when it is a new
//! maximum of the current episode of evidence and 0 otherwise, so that for
//! any threshold a rise fires once, at its onset. NAB uses `onset_score`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// How observed values are modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueModel {
    /// Non-negative counts: Poisson-gamma with multiplicative rises.
    Counts,
    /// Real values: Gaussian residuals with shifts in standard deviations.
    Continuous,
    /// Real values of unknown distribution: robust surprise of the value and
    /// its first difference over a sliding window, scored as an anomaly
    /// likelihood (see the module docs of `windowed`).
    Windowed,
}

/// Detector settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectorConfig {
    /// Value model.
    pub model: ValueModel,
    /// Also alarm on falls (continuous model; counts only alarm on rises).
    pub two_sided: bool,
    /// CUSUM threshold `h` on the log-likelihood ratio.
    pub threshold: f64,
    /// Alternatives tested: rate ratios (counts, > 1) or shifts in standard
    /// deviations (continuous, > 0).
    pub alternatives: Vec<f64>,
    /// Observations a series needs before it may alarm.
    pub warmup: u32,
    /// Weight (in observations) that a seasonal slot's own mean needs to
    /// count as much as its prior.
    pub shrink: f64,
    /// Cap on a slot's weight: its memory in observations.
    pub slot_memory: f64,
    /// Half-life of the recent level, in observations.
    pub level_half_life: f64,
    /// Half-life of the overall mean and dispersion, in observations.
    pub long_half_life: f64,
    /// Minutes per step of the series (1 for minute buckets); used only to
    /// place observations in seasonal slots.
    pub use_weekly: bool,
    /// Calm steps that end an alarm.
    pub calm_steps: u32,
    /// Longest alarm, in steps, before the baseline learns again.
    pub max_alarm_steps: u32,
    /// Lowest expected count per step (counts model).
    pub min_expected: f64,
    /// Report rising sub-threshold records as onsets (else only alarms).
    pub record_onsets: bool,
    /// Cap on the evidence one step may add, as a share of `threshold`
    /// (1 = no cap). With 0.5 no single step can raise an alarm alone: an
    /// alarm needs an excess over at least two steps.
    #[serde(default = "one")]
    pub max_step_share: f64,
    /// Windowed model: history length, in steps.
    #[serde(default)]
    pub long_window: u32,
    /// Windowed model: steps averaged into the current surprise.
    #[serde(default)]
    pub short_window: u32,
    /// Windowed model: weight of the first difference's surprise.
    #[serde(default)]
    pub diff_weight: f64,
    /// Windowed model: a level shift of this many robust standard
    /// deviations, still there when the silence after a detection ends,
    /// replaces the history.
    #[serde(default)]
    pub rebaseline_sd: f64,
    /// Windowed model: more surprise windows scored beside `short_window`,
    /// as `(steps, weight)`: each has its own long-run distribution, its
    /// z-score is multiplied by `weight`, and the statistic is the largest
    /// of them (a spike shows in a short window, a slow change in a long
    /// one). Empty: `short_window` alone.
    #[serde(default)]
    pub extra_windows: Vec<(u32, f64)>,
    /// Windowed model: during the silence after a detection, a statistic
    /// this many times the largest one since the detection is reported
    /// again as an onset (an escalation; no new alarm), so onset scores
    /// rank how strong an anomaly became. 0: onsets only at detections.
    #[serde(default)]
    pub escalate_ratio: f64,
    /// Windowed model: measure a value's surprise by its rank in the window
    /// (`-ln` of its two-sided tail share) instead of its robust z-score.
    #[serde(default)]
    pub rank_surprise: bool,
    /// Windowed model: onset scores rank detections by a strength, the
    /// statistic plus this weight times the step's own raw surprise...
    #[serde(default)]
    pub onset_value_weight: f64,
    /// ...plus this weight times how extreme the mean surprise is among
    /// those of the long window (`-ln` of the share at least as large).
    #[serde(default)]
    pub onset_rank_weight: f64,
    /// ...plus this weight times the log ratio (within +-2) of the mean
    /// surprise to the largest one so far (decaying over the long window).
    /// All three 0: the onset score is the statistic's.
    #[serde(default)]
    pub onset_record_weight: f64,
    /// Windowed model: weight of the seasonal surprise (0: off). When the
    /// history shows a daily or weekly period (autocorrelation at the
    /// period at least `season_min_acf`, and at least that much above the
    /// autocorrelation at half the period), a value is also compared with
    /// the values one to three periods before it.
    #[serde(default)]
    pub season_weight: f64,
    /// Windowed model: the autocorrelation a period needs (see
    /// `season_weight`).
    #[serde(default)]
    pub season_min_acf: f64,
    /// Windowed model: a value beyond the range of every value so far by
    /// this share of the range is an onset of its own (0: off).
    #[serde(default)]
    pub spatial_tolerance: f64,
    /// Windowed model: the onset score of such a value.
    #[serde(default)]
    pub spatial_score: f64,
}

fn one() -> f64 {
    1.0
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            model: ValueModel::Counts,
            two_sided: false,
            threshold: 11.0,
            alternatives: vec![1.5, 3.0, 8.0],
            warmup: 24 * 60,
            shrink: 20.0,
            slot_memory: 240.0,
            level_half_life: 180.0,
            long_half_life: 24.0 * 60.0,
            use_weekly: true,
            calm_steps: 30,
            max_alarm_steps: 6 * 60,
            min_expected: 0.02,
            record_onsets: true,
            max_step_share: 0.5,
            long_window: 0,
            short_window: 0,
            diff_weight: 0.0,
            rebaseline_sd: 0.0,
            extra_windows: Vec::new(),
            escalate_ratio: 0.0,
            rank_surprise: false,
            onset_value_weight: 0.0,
            onset_rank_weight: 0.0,
            onset_record_weight: 0.0,
            season_weight: 0.0,
            season_min_acf: 0.0,
            spatial_tolerance: 0.0,
            spatial_score: 0.0,
        }
    }
}

impl DetectorConfig {
    /// Default counts configuration for a system watching `n` series: the
    /// threshold grows by `ln n` so the expected number of false alarms
    /// across all series stays that of one series.
    pub fn for_series(n: usize) -> Self {
        let mut c = Self::default();
        c.threshold += (n.max(1) as f64).ln();
        c
    }

    /// The windowed robust model for real values of unknown distribution,
    /// as used for NAB: 4000-step history, 30-step surprise, detection at 2
    /// standard deviations of the mean surprise, 150 silent steps after a
    /// detection, re-baselining after a shift of 3 robust standard
    /// deviations. Same detector, another model.
    pub fn windowed() -> Self {
        Self {
            model: ValueModel::Windowed,
            two_sided: true,
            threshold: 2.0,
            alternatives: Vec::new(),
            warmup: 0,
            calm_steps: 150,
            max_alarm_steps: 150,
            record_onsets: false,
            max_step_share: 1.0,
            long_window: 4000,
            short_window: 30,
            diff_weight: 0.0,
            rebaseline_sd: 3.0,
            extra_windows: Vec::new(),
            escalate_ratio: 0.0,
            rank_surprise: false,
            onset_value_weight: 0.0,
            onset_rank_weight: 0.0,
            onset_record_weight: 0.0,
            season_weight: 0.0,
            season_min_acf: 0.0,
            spatial_tolerance: 0.0,
            spatial_score: 0.0,
            ..Self::continuous()
        }
    }

    /// The Gaussian CUSUM configuration for continuous values (5-minute steps,
    /// both directions, shorter warm-up): the same detector, another model.
    pub fn continuous() -> Self {
        Self {
            model: ValueModel::Continuous,
            two_sided: true,
            threshold: 20.0,
            alternatives: vec![1.0, 3.0, 6.0],
            warmup: 300,
            shrink: 20.0,
            slot_memory: 60.0,
            level_half_life: 30.0,
            long_half_life: 1000.0,
            use_weekly: false,
            calm_steps: 300,
            max_alarm_steps: 300,
            min_expected: 0.0,
            record_onsets: false,
            max_step_share: 1.0,
            long_window: 0,
            short_window: 0,
            diff_weight: 0.0,
            rebaseline_sd: 0.0,
            extra_windows: Vec::new(),
            escalate_ratio: 0.0,
            rank_surprise: false,
            onset_value_weight: 0.0,
            onset_rank_weight: 0.0,
            onset_record_weight: 0.0,
            season_weight: 0.0,
            season_min_acf: 0.0,
            spatial_tolerance: 0.0,
            spatial_score: 0.0,
        }
    }
}

/// An alarm: a series rose (or, two-sided, fell) significantly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    /// The series.
    pub series: String,
    /// Timestamp (minutes) of the step that raised the alarm.
    pub at: i64,
    /// Timestamp (minutes) where the evidence began to accumulate.
    pub started_at: i64,
    /// Observed value at `at`.
    pub observed: f64,
    /// Expected value at `at`.
    pub expected: f64,
    /// Lower bound of the usual range at `at` (about 3 standard deviations).
    pub lower: f64,
    /// Upper bound of the usual range at `at`.
    pub upper: f64,
    /// Sum observed since `started_at`.
    pub observed_total: f64,
    /// Sum expected since `started_at`.
    pub expected_total: f64,
    /// Likelihood-ratio bound on the false alarm probability, `e^-stat`.
    pub p_value: f64,
    /// The CUSUM statistic.
    pub stat: f64,
    /// True for a fall (two-sided continuous model only).
    pub falling: bool,
}

/// What one step of a series gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Expected value.
    pub expected: f64,
    /// Upper bound of the usual range (about 3 standard deviations above
    /// the expected value), for charts.
    pub upper: f64,
    /// Anomaly score in [0, 1): 0.5 at the alarm threshold.
    pub score: f64,
    /// `score` when it is a new maximum of the current episode, else 0.
    pub onset_score: f64,
    /// True while the series is in an alarm.
    pub in_alarm: bool,
    /// Set on the step that raised an alarm.
    pub alarm: Option<Alarm>,
}

/// Opaque handle to a series, for hot loops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SeriesId(usize);

const WEEK_SLOTS: usize = 168;
/// Smallest rise of the onset score that is reported again within an episode.
const ONSET_STEP: f64 = 0.05;
const DAY_SLOTS: usize = 24;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cusum {
    stat: f64,
    started_at: i64,
    observed: f64,
    expected: f64,
}

impl Cusum {
    fn new() -> Self {
        Self {
            stat: 0.0,
            started_at: 0,
            observed: 0.0,
            expected: 0.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SeriesState {
    key: String,
    n: u64,
    week_mean: Vec<f32>,
    week_w: Vec<f32>,
    day_mean: Vec<f32>,
    day_w: Vec<f32>,
    total_mean: f64,
    total_w: f64,
    /// Day-of-week factor (counts): EW sums of observed and of the daily
    /// profile, per day of the week.
    #[serde(default = "zero7")]
    dow_num: Vec<f64>,
    #[serde(default = "zero7")]
    dow_den: Vec<f64>,
    /// Counts: EW sums of observed and baseline; continuous: EW residual mean.
    level_num: f64,
    level_den: f64,
    /// Counts: EW sums for overdispersion; continuous: EW squared residual.
    disp_num: f64,
    disp_den: f64,
    up: Vec<Cusum>,
    down: Vec<Cusum>,
    alarm_since: Option<i64>,
    alarm_steps: u32,
    calm: u32,
    episode_max: f64,
    quiet: u32,
    /// State of the windowed model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    win: Option<Box<crate::windowed::WindowState>>,
}

impl SeriesState {
    fn new(key: String, n_alt: usize) -> Self {
        Self {
            key,
            n: 0,
            week_mean: vec![0.0; WEEK_SLOTS],
            week_w: vec![0.0; WEEK_SLOTS],
            day_mean: vec![0.0; DAY_SLOTS],
            day_w: vec![0.0; DAY_SLOTS],
            total_mean: 0.0,
            total_w: 0.0,
            dow_num: zero7(),
            dow_den: zero7(),
            level_num: 0.0,
            level_den: 0.0,
            disp_num: 0.0,
            disp_den: 0.0,
            up: vec![Cusum::new(); n_alt],
            down: vec![Cusum::new(); n_alt],
            alarm_since: None,
            alarm_steps: 0,
            calm: 0,
            episode_max: 0.0,
            quiet: 0,
            win: None,
        }
    }
}

/// Log-likelihood ratio of `x` under a negative binomial with mean `r * mu`
/// against mean `mu`, both with overdispersion `phi` (variance
/// `m * (1 + phi * m)`); `ln_r = ln r`, `r1 = r - 1`. Poisson when `phi` is 0.
fn nb_llr(x: f64, mu: f64, phi: f64, ln_r: f64, r1: f64) -> f64 {
    if phi < 1e-9 {
        return x * ln_r - r1 * mu;
    }
    let q = r1 * mu * phi / (1.0 + phi * mu);
    x * ln_r - (x + 1.0 / phi) * q.ln_1p()
}

fn zero7() -> Vec<f64> {
    vec![0.0; 7]
}

/// Memory of the day-of-week factor, in observations (about four weeks of
/// minutes of that day).
const DOW_MEMORY: f64 = 4.0 * 1440.0;
/// Prior of the day-of-week factor: this many expected counts at ratio 1.
const DOW_PRIOR: f64 = 20.0;

/// Position of a timestamp between two slot centres: (slot a, slot b, weight of b).
fn slot_pos(minute_of_period: i64, slots: usize) -> (usize, usize, f64) {
    let x = minute_of_period as f64 / 60.0 - 0.5;
    let lo = x.floor();
    let f = x - lo;
    let a = (lo as i64).rem_euclid(slots as i64) as usize;
    let b = (a + 1) % slots;
    (a, b, f)
}

fn interp(mean: &[f32], w: &[f32], a: usize, b: usize, f: f64) -> (f64, f64) {
    let m = mean[a] as f64 * (1.0 - f) + mean[b] as f64 * f;
    let wt = w[a] as f64 * (1.0 - f) + w[b] as f64 * f;
    (m, wt)
}

fn ew_factor(half_life: f64) -> f64 {
    if half_life <= 0.0 {
        0.0
    } else {
        0.5f64.powf(1.0 / half_life)
    }
}

/// The streaming detector for many series. Serialisable: persist it and
/// resume after a restart.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Detector {
    config: DetectorConfig,
    series: Vec<SeriesState>,
    #[serde(skip)]
    index: HashMap<String, usize>,
    #[serde(skip)]
    derived: Option<Derived>,
}

#[derive(Debug, Clone)]
struct Derived {
    level_keep: f64,
    long_keep: f64,
    /// Per alternative: (ln r, r - 1) for counts, (d, d^2 / 2) for continuous.
    alt: Vec<(f64, f64)>,
}

impl Derived {
    fn new(c: &DetectorConfig) -> Self {
        let alt = c
            .alternatives
            .iter()
            .map(|&a| match c.model {
                ValueModel::Counts => (a.max(1.0001).ln(), a.max(1.0001) - 1.0),
                ValueModel::Continuous | ValueModel::Windowed => (a, a * a / 2.0),
            })
            .collect();
        Self {
            level_keep: ew_factor(c.level_half_life),
            long_keep: ew_factor(c.long_half_life),
            alt,
        }
    }
}

impl Detector {
    /// A detector with the given configuration.
    pub fn new(config: DetectorConfig) -> Self {
        let derived = Some(Derived::new(&config));
        Self {
            config,
            series: Vec::new(),
            index: HashMap::new(),
            derived,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Number of series seen.
    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    fn ensure_derived(&mut self) {
        if self.derived.is_none() {
            self.derived = Some(Derived::new(&self.config));
        }
        if self.index.len() != self.series.len() {
            self.index = self
                .series
                .iter()
                .enumerate()
                .map(|(i, s)| (s.key.clone(), i))
                .collect();
        }
    }

    /// The handle of a series, creating it on first use.
    pub fn series_id(&mut self, key: &str) -> SeriesId {
        self.ensure_derived();
        if let Some(&i) = self.index.get(key) {
            return SeriesId(i);
        }
        let i = self.series.len();
        self.series.push(SeriesState::new(
            key.to_owned(),
            self.config.alternatives.len(),
        ));
        self.index.insert(key.to_owned(), i);
        SeriesId(i)
    }

    /// Observes `count` for `series` in the minute `minute_ts` (minutes since
    /// the Unix epoch, UTC). Returns an alarm when one is raised.
    pub fn observe(&mut self, series: &str, minute_ts: i64, count: u64) -> Option<Alarm> {
        let id = self.series_id(series);
        self.observe_id(id, minute_ts, count as f64).alarm
    }

    /// Observes a value through a series handle and returns the whole step.
    pub fn observe_id(&mut self, id: SeriesId, minute_ts: i64, value: f64) -> Step {
        self.ensure_derived();
        let Some(d) = self.derived.as_ref() else {
            return Step::empty();
        };
        let Some(s) = self.series.get_mut(id.0) else {
            return Step::empty();
        };
        if !value.is_finite() {
            return Step::empty();
        }
        if self.config.model == ValueModel::Windowed {
            let w = s.win.get_or_insert_with(Default::default);
            return crate::windowed::step(&self.config, w, &s.key, minute_ts, value);
        }
        step(&self.config, d, s, minute_ts, value)
    }

    /// Observes a value by series key and returns the whole step.
    pub fn observe_value(&mut self, series: &str, minute_ts: i64, value: f64) -> Step {
        let id = self.series_id(series);
        self.observe_id(id, minute_ts, value)
    }
}

impl Step {
    fn empty() -> Self {
        Step {
            expected: 0.0,
            upper: 0.0,
            score: 0.0,
            onset_score: 0.0,
            in_alarm: false,
            alarm: None,
        }
    }
}

fn step(c: &DetectorConfig, d: &Derived, s: &mut SeriesState, ts: i64, x: f64) -> Step {
    let counts = c.model == ValueModel::Counts;
    let x = if counts { x.max(0.0) } else { x };
    // Baseline: a smooth daily profile (hourly slots, interpolated between
    // slot centres, shrunk towards the overall mean) gives the shape within
    // the hour; the weekly slot of this hour gives its level, shrunk towards
    // the daily profile times a day-of-week factor. The weekly slots are not
    // interpolated, so a switch between weekdays and weekend at an hour
    // boundary is a step, not a ramp.
    let minute_of_week = ts.rem_euclid(7 * 1440);
    let week_slot = (minute_of_week / 60) as usize % WEEK_SLOTS;
    let hour = week_slot % DAY_SLOTS;
    let dow = week_slot / DAY_SLOTS;
    let (da, db, df) = slot_pos(ts.rem_euclid(1440), DAY_SLOTS);
    let prior = s.total_mean;
    let (dm, dw) = interp(&s.day_mean, &s.day_w, da, db, df);
    let b_day = (dw * dm + c.shrink * prior) / (dw + c.shrink);
    let base = if c.use_weekly {
        let hw = f64::from(s.day_w[hour]);
        let b_hour = (hw * f64::from(s.day_mean[hour]) + c.shrink * prior) / (hw + c.shrink);
        let ww = f64::from(s.week_w[week_slot]);
        let wm = f64::from(s.week_mean[week_slot]);
        if counts {
            let dow_f = match (s.dow_num.get(dow), s.dow_den.get(dow)) {
                (Some(n), Some(d)) => (n + DOW_PRIOR) / (d + DOW_PRIOR),
                _ => 1.0,
            };
            let prior_w = b_hour * dow_f;
            let level = (ww * wm + c.shrink * prior_w) / (ww + c.shrink);
            if b_hour > 0.0 {
                level * (b_day / b_hour).clamp(0.2, 5.0)
            } else {
                level
            }
        } else {
            let level = (ww * wm + c.shrink * b_hour) / (ww + c.shrink);
            level + (b_day - b_hour)
        }
    } else {
        b_day
    };
    let (expected, sd, phi) = if counts {
        // Recent level as a ratio, with a prior of 5 expected counts at 1.
        let level = ((s.level_num + 5.0) / (s.level_den + 5.0)).clamp(0.25, 4.0);
        let mu = (base * level).max(c.min_expected);
        let phi = if s.disp_den > 0.0 {
            (s.disp_num / s.disp_den).clamp(0.0, 2.0)
        } else {
            0.0
        };
        let var = mu * (1.0 + phi * mu);
        (mu, var.sqrt(), phi)
    } else {
        let offset = if s.level_den > 0.0 {
            s.level_num / s.level_den
        } else {
            0.0
        };
        let mu = base + offset;
        let var = if s.disp_den > 0.0 {
            s.disp_num / s.disp_den
        } else {
            0.0
        };
        let floor = 1e-3 * prior.abs().max(1e-6);
        (mu, var.sqrt().max(floor), 0.0)
    };

    let warmed = s.n >= u64::from(c.warmup);
    let step_cap = if c.max_step_share > 0.0 && c.max_step_share < 1.0 {
        c.threshold * c.max_step_share
    } else {
        f64::INFINITY
    };
    // CUSUMs.
    let mut stat = 0.0f64;
    let mut best: Option<(bool, usize)> = None;
    if warmed {
        let z = if counts { 0.0 } else { (x - expected) / sd };
        for (i, &(a1, a2)) in d.alt.iter().enumerate() {
            let inc_up = if counts {
                nb_llr(x, expected, phi, a1, a2).min(step_cap)
            } else {
                a1 * z - a2
            };
            let cu = &mut s.up[i];
            if cu.stat <= 0.0 {
                cu.started_at = ts;
                cu.observed = 0.0;
                cu.expected = 0.0;
            }
            cu.stat = (cu.stat + inc_up).max(0.0);
            cu.observed += x;
            cu.expected += expected;
            if cu.stat > stat {
                stat = cu.stat;
                best = Some((false, i));
            }
            if c.two_sided && !counts {
                let cd = &mut s.down[i];
                if cd.stat <= 0.0 {
                    cd.started_at = ts;
                    cd.observed = 0.0;
                    cd.expected = 0.0;
                }
                cd.stat = (cd.stat - a1 * z - a2).max(0.0);
                cd.observed += x;
                cd.expected += expected;
                if cd.stat > stat {
                    stat = cd.stat;
                    best = Some((true, i));
                }
            }
        }
    }
    let h = c.threshold.max(1e-9);
    let score = stat / (stat + h);

    // Alarm state machine.
    let mut alarm = None;
    let lower = if counts {
        (expected - 3.0 * sd).max(0.0)
    } else {
        expected - 3.0 * sd
    };
    let upper = expected + 3.0 * sd;
    let was_in_alarm = s.alarm_since.is_some();
    if was_in_alarm {
        s.alarm_steps += 1;
        let calm_now = x <= expected + 2.0 * sd && (!c.two_sided || x >= expected - 2.0 * sd);
        s.calm = if calm_now { s.calm + 1 } else { 0 };
        if s.calm >= c.calm_steps || s.alarm_steps >= c.max_alarm_steps {
            // The evidence gathered during the alarm belongs to it: a new
            // alarm needs new evidence.
            s.alarm_since = None;
            for cu in s.up.iter_mut().chain(s.down.iter_mut()) {
                cu.stat = 0.0;
            }
        }
    } else if warmed && stat >= h {
        if let Some((falling, i)) = best {
            let cu = if falling { &s.down[i] } else { &s.up[i] };
            alarm = Some(Alarm {
                series: s.key.clone(),
                at: ts,
                started_at: cu.started_at,
                observed: x,
                expected,
                lower,
                upper,
                observed_total: cu.observed,
                expected_total: cu.expected,
                p_value: (-stat).exp(),
                stat,
                falling,
            });
        }
        s.alarm_since = Some(ts);
        s.alarm_steps = 0;
        s.calm = 0;
        for cu in s.up.iter_mut().chain(s.down.iter_mut()) {
            cu.stat = 0.0;
        }
    }
    let in_alarm = s.alarm_since.is_some();

    // Onset score: records of the current episode, spaced by ONSET_STEP, and
    // silence from the alarm until the episode ends, so a rise fires once
    // at (almost) any threshold.
    let onset_score = if alarm.is_some() {
        s.episode_max = 1.0;
        score
    } else if c.record_onsets && !was_in_alarm && score > s.episode_max + ONSET_STEP {
        s.episode_max = score;
        score
    } else {
        0.0
    };
    if stat <= 0.0 && !in_alarm {
        s.quiet += 1;
        if s.quiet >= c.calm_steps.max(1) {
            s.episode_max = 0.0;
        }
    } else {
        s.quiet = 0;
    }

    // Learning, with the observation winsorised; frozen during alarms.
    if !in_alarm || s.n < u64::from(c.warmup) {
        let xu = if s.n < 10 {
            x
        } else if counts {
            x.min(expected + 4.0 * sd + 2.0)
        } else {
            x.clamp(expected - 4.0 * sd, expected + 4.0 * sd)
        };
        update_baseline(
            c,
            d,
            s,
            ts,
            xu,
            base,
            expected,
            counts,
            (week_slot, b_day),
            (da, db, df),
        );
    }
    s.n += 1;
    Step {
        expected,
        upper,
        score,
        onset_score,
        in_alarm,
        alarm,
    }
}

#[allow(clippy::too_many_arguments)]
fn update_baseline(
    c: &DetectorConfig,
    d: &Derived,
    s: &mut SeriesState,
    _ts: i64,
    x: f64,
    base: f64,
    expected: f64,
    counts: bool,
    week: (usize, f64),
    day: (usize, usize, f64),
) {
    let cap = c.slot_memory as f32;
    let upd = |mean: &mut [f32], w: &mut [f32], i: usize, share: f64| {
        let share = share as f32;
        if share <= 0.0 {
            return;
        }
        w[i] = (w[i] + share).min(cap);
        mean[i] += share * (x as f32 - mean[i]) / w[i];
    };
    // Seasonal slots learn the deseasonalised level too, but relative to the
    // level it would be circular; they learn raw values.
    if c.use_weekly {
        let (slot, b_day) = week;
        upd(&mut s.week_mean, &mut s.week_w, slot, 1.0);
        if counts {
            let dow = slot / DAY_SLOTS;
            let keep = 1.0 - 1.0 / DOW_MEMORY;
            if let (Some(n), Some(d)) = (s.dow_num.get_mut(dow), s.dow_den.get_mut(dow)) {
                *n = *n * keep + x;
                *d = *d * keep + b_day.max(c.min_expected);
            }
        }
    }
    // The daily profile learns days 7 times faster, so cap it 7 times lower in
    // time: the same cap in observations.
    upd(&mut s.day_mean, &mut s.day_w, day.0, 1.0 - day.2);
    upd(&mut s.day_mean, &mut s.day_w, day.1, day.2);
    let lk = d.long_keep;
    s.total_w = s.total_w * lk + 1.0;
    s.total_mean += (x - s.total_mean) / s.total_w;
    let k = d.level_keep;
    if counts {
        s.level_num = s.level_num * k + x;
        s.level_den = s.level_den * k + base.max(c.min_expected);
        let r = (x - expected).powi(2) - expected;
        s.disp_num = s.disp_num * lk + r;
        s.disp_den = s.disp_den * lk + expected * expected;
    } else {
        let resid = x - base;
        s.level_num = s.level_num * k + resid;
        s.level_den = s.level_den * k + 1.0;
        let r = (x - expected).powi(2);
        s.disp_num = s.disp_num * lk + r;
        s.disp_den = s.disp_den * lk + 1.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-Poisson counts without a dependency.
    struct Lcg(u64);
    impl Lcg {
        fn uniform(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
        fn poisson(&mut self, mu: f64) -> u64 {
            let l = (-mu).exp();
            let mut k = 0;
            let mut p = 1.0;
            loop {
                p *= self.uniform();
                if p <= l {
                    return k;
                }
                k += 1;
            }
        }
    }

    fn rate(minute: i64) -> f64 {
        let hour = (minute % 1440) as f64 / 60.0;
        2.0 + 1.5 * (std::f64::consts::TAU * (hour - 8.0) / 24.0).sin()
    }

    #[test]
    fn quiet_series_do_not_alarm_and_rises_do() {
        let mut det = Detector::new(DetectorConfig::default());
        let mut rng = Lcg(7);
        let mut false_alarms = 0;
        let start = 10_000_000i64;
        for t in 0..14 * 1440 {
            let ts = start + t;
            if det.observe("s", ts, rng.poisson(rate(ts))).is_some() && t > 1440 {
                false_alarms += 1;
            }
        }
        assert!(
            false_alarms <= 1,
            "{false_alarms} false alarms in two weeks"
        );
        // A 5x rise for 20 minutes is found within a few minutes.
        let rise_at = start + 14 * 1440;
        let mut found = None;
        for t in 0..20 {
            let ts = rise_at + t;
            if let Some(a) = det.observe("s", ts, rng.poisson(5.0 * rate(ts))) {
                found = Some(a);
                break;
            }
        }
        let a = found.expect("the rise raises an alarm");
        assert!(a.at - rise_at <= 5, "delay {}", a.at - rise_at);
        assert!(
            a.started_at >= rise_at - 3,
            "started {}",
            a.started_at - rise_at
        );
        assert!(a.observed_total > a.expected_total * 2.0);
        assert!(a.p_value < 1e-3);
        assert!(a.lower <= a.expected && a.expected <= a.upper);
    }

    #[test]
    fn a_long_rise_alarms_once_and_not_again_after_it_ends() {
        let mut det = Detector::new(DetectorConfig::default());
        let mut rng = Lcg(21);
        let start = 20_000_000i64;
        let rise = (start + 8 * 1440, start + 8 * 1440 + 180);
        let mut during = 0;
        let mut after = 0;
        for t in 0..9 * 1440 {
            let ts = start + t;
            let factor = if (rise.0..rise.1).contains(&ts) {
                5.0
            } else {
                1.0
            };
            if det
                .observe("s", ts, rng.poisson(factor * rate(ts)))
                .is_some()
            {
                if (rise.0..rise.1).contains(&ts) {
                    during += 1;
                } else if ts >= rise.1 {
                    after += 1;
                }
            }
        }
        assert_eq!(during, 1);
        // The evidence of the rise is spent by its alarm.
        assert_eq!(after, 0);
    }

    #[test]
    fn weekend_switches_do_not_alarm() {
        // Four times as many complaints on weekdays as at the weekend, with a
        // daily cycle; the switch is abrupt at midnight.
        let mut det = Detector::new(DetectorConfig::default());
        let mut rng = Lcg(5);
        let mut false_alarms = 0;
        for t in 0..5 * 7 * 1440i64 {
            let weekend = (t.div_euclid(1440) + 3).rem_euclid(7) >= 5;
            let mu = rate(t) * if weekend { 0.25 } else { 1.0 };
            if det.observe("s", t, rng.poisson(mu)).is_some() && t >= 7 * 1440 {
                false_alarms += 1;
            }
        }
        assert!(false_alarms <= 1, "{false_alarms} false alarms in 4 weeks");
    }

    #[test]
    fn one_extreme_minute_is_not_enough_but_two_are() {
        let mut det = Detector::new(DetectorConfig::default());
        let mut rng = Lcg(13);
        for t in 0..2 * 1440 {
            det.observe("s", t, rng.poisson(2.0));
        }
        let t = 2 * 1440;
        assert!(det.observe("s", t, 40).is_none());
        for k in 1..30 {
            det.observe("s", t + k, rng.poisson(2.0));
        }
        assert!(det.observe("s", t + 30, 40).is_none());
        assert!(det.observe("s", t + 31, 40).is_some());
    }

    #[test]
    fn state_from_before_the_day_of_week_factor_still_loads() {
        let mut det = Detector::new(DetectorConfig::default());
        det.observe("a", 0, 1);
        let mut json = serde_json::to_value(&det).expect("serialises");
        for s in json["series"].as_array_mut().expect("series") {
            let obj = s.as_object_mut().expect("object");
            obj.remove("dow_num");
            obj.remove("dow_den");
        }
        json["config"]
            .as_object_mut()
            .expect("config")
            .remove("max_step_share");
        let mut back: Detector = serde_json::from_value(json).expect("old state loads");
        assert_eq!(back.config().max_step_share, 1.0);
        assert!(back.observe_value("a", 1, 1.0).expected > 0.0);
    }

    #[test]
    fn state_survives_serialisation() {
        let mut det = Detector::new(DetectorConfig::default());
        let mut rng = Lcg(3);
        for t in 0..3000 {
            det.observe("a", t, rng.poisson(2.0));
        }
        let json = serde_json::to_string(&det).expect("serialises");
        let mut back: Detector = serde_json::from_str(&json).expect("deserialises");
        let mut r1 = Lcg(9);
        let mut r2 = Lcg(9);
        for t in 3000..3100 {
            let v1 = r1.poisson(if t > 3050 { 12.0 } else { 2.0 }) as f64;
            let v2 = r2.poisson(if t > 3050 { 12.0 } else { 2.0 }) as f64;
            let a = det.observe_value("a", t, v1);
            let b = back.observe_value("a", t, v2);
            // JSON keeps floats to about 16 significant digits.
            assert!((a.expected - b.expected).abs() <= 1e-9 * a.expected.abs().max(1.0));
            assert!((a.score - b.score).abs() <= 1e-9);
            assert_eq!(a.in_alarm, b.in_alarm);
            assert_eq!(a.alarm.is_some(), b.alarm.is_some());
        }
        assert_eq!(back.series_count(), 1);
    }

    #[test]
    fn onset_score_fires_once_per_episode() {
        let mut det = Detector::new(DetectorConfig {
            warmup: 100,
            ..DetectorConfig::default()
        });
        for t in 0..500 {
            det.observe_value("a", t, 3.0);
        }
        let mut onsets = 0;
        let mut last_score = 0.0;
        for t in 500..520 {
            let s = det.observe_value("a", t, 30.0);
            if s.onset_score >= 0.5 {
                onsets += 1;
            }
            last_score = s.score;
            assert!((0.0..1.0).contains(&s.score));
        }
        assert_eq!(onsets, 1);
        assert!(last_score >= 0.0);
    }

    #[test]
    fn continuous_model_detects_shifts_both_ways() {
        let mut det = Detector::new(DetectorConfig::continuous());
        let mut rng = Lcg(11);
        let mut alarms = Vec::new();
        for t in 0..2000i64 {
            let level = if (1500..1600).contains(&t) {
                40.0
            } else {
                50.0
            };
            let v = level + 2.0 * (rng.uniform() - 0.5);
            if let Some(a) = det.observe_value("c", t * 5, v).alarm {
                alarms.push(a);
            }
        }
        assert!(
            alarms
                .iter()
                .any(|a| a.falling && a.at >= 1500 * 5 && a.at < 1510 * 5),
            "{alarms:?}"
        );
    }

    #[test]
    fn windowed_model_finds_a_spike_once_and_follows_a_level_shift() {
        let mut det = Detector::new(DetectorConfig::windowed());
        let mut rng = Lcg(17);
        let mut alarms = Vec::new();
        for t in 0..6000i64 {
            let level = if t >= 4000 { 80.0 } else { 50.0 };
            let spike = if (3000..3003).contains(&t) { 40.0 } else { 0.0 };
            let v = level + spike + 4.0 * (rng.uniform() - 0.5);
            let step = det.observe_value("w", t, v);
            assert!((0.0..1.0).contains(&step.score));
            if let Some(a) = step.alarm {
                alarms.push(a.at);
            }
        }
        let near = |a: i64, from: i64| alarms.iter().filter(|&&t| t >= from && t < a).count();
        assert_eq!(near(3030, 2990), 1, "{alarms:?}");
        assert_eq!(near(4030, 4000), 1, "{alarms:?}");
        // After the shift the new level becomes the baseline.
        assert_eq!(near(6000, 4030), 0, "{alarms:?}");
        let json = serde_json::to_string(&det).expect("serialises");
        let back: Detector = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back.config().model, ValueModel::Windowed);
    }

    #[test]
    fn family_threshold_grows_with_series() {
        assert!(
            DetectorConfig::for_series(1000).threshold
                > DetectorConfig::for_series(1).threshold + 6.0
        );
    }
}
