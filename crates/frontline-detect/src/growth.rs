//! Fast-growing keys: a scam link, a sender's number or a near-duplicate
//! message that many customers report at once.
//!
//! These keys are born all the time and most are quoted once or twice, so
//! a per-key seasonal model (as [`crate::Detector`] keeps for series) would
//! be mostly empty. Instead each key keeps the times of its recent reports
//! and a slow average of its rate. A key *grows* when, within `window`
//! minutes, it has at least `min_reports` reports, and that is at least
//! `factor` times what its own long-run rate predicts for the window. A
//! link first quoted today fires after `min_reports`; a domain customers
//! quote every day (the company's own) fires only on a real rise.
//!
//! A key that fired stays *hot* (every new report is news for the open
//! signal) until a whole window passes without reaching `min_reports`.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

/// Settings for [`GrowthWatch`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrowthConfig {
    /// The window reports are counted in, minutes.
    pub window_minutes: i64,
    /// Reports within the window needed to fire.
    pub min_reports: usize,
    /// How many times the key's usual rate the window must hold.
    pub factor: f64,
    /// Half-life of the long-run rate, minutes.
    pub half_life_minutes: f64,
    /// Keys not reported for this long are forgotten, minutes.
    pub forget_after_minutes: i64,
    /// At most this many keys are remembered; the stalest go first.
    pub max_keys: usize,
}

impl Default for GrowthConfig {
    fn default() -> Self {
        Self {
            window_minutes: 30,
            min_reports: 5,
            factor: 4.0,
            half_life_minutes: 3.0 * 24.0 * 60.0,
            forget_after_minutes: 14 * 24 * 60,
            max_keys: 200_000,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct KeyState {
    /// Minutes of the reports inside the window (oldest first).
    recent: VecDeque<i64>,
    /// Exponentially weighted reports per minute, as of `rate_at`.
    rate: f64,
    rate_at: i64,
    first_seen: i64,
    last_seen: i64,
    total: u64,
    /// Minute the key last fired, while it is hot.
    hot_since: Option<i64>,
}

/// What a growing key looks like when it fires or grows further.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Growth {
    /// The key, as given.
    pub key: String,
    /// Reports within the window, this one included.
    pub in_window: usize,
    /// What the key's long-run rate predicted for the window.
    pub expected: f64,
    /// Minute of the first report in the window (when the rise began).
    pub started_at: i64,
    /// Minute the key was first seen at all.
    pub first_seen: i64,
    /// Every report ever counted for the key.
    pub total: u64,
    /// True the first time it fires; false for later reports while hot.
    pub new: bool,
}

/// Watches many keys for fast growth. Serialisable, to persist and resume.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GrowthWatch {
    config: GrowthConfig,
    keys: HashMap<String, KeyState>,
    last_prune: i64,
}

impl GrowthWatch {
    /// An empty watch.
    pub fn new(config: GrowthConfig) -> Self {
        Self {
            config,
            keys: HashMap::new(),
            last_prune: i64::MIN,
        }
    }

    /// Its settings.
    pub fn config(&self) -> &GrowthConfig {
        &self.config
    }

    /// Keys remembered.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Counts one report of `key` at `minute` (minutes since the epoch).
    /// Reports should come roughly in time order; a late one still counts.
    /// Returns `Some` when the key fires, and for every later report while
    /// it stays hot.
    pub fn observe(&mut self, key: &str, minute: i64) -> Option<Growth> {
        self.prune(minute);
        let c = self.config.clone();
        let decay = |rate: f64, from: i64, to: i64| {
            let dt = (to - from).max(0) as f64;
            rate * (0.5f64).powf(dt / c.half_life_minutes)
        };
        let s = self.keys.entry(key.to_owned()).or_insert_with(|| KeyState {
            first_seen: minute,
            rate_at: minute,
            ..Default::default()
        });
        // The usual rate is what was known before this report.
        let usual = decay(s.rate, s.rate_at, minute);
        // Each report adds its mass spread over the half-life's mean life.
        let tau = c.half_life_minutes / std::f64::consts::LN_2;
        s.rate = usual + 1.0 / tau;
        s.rate_at = minute.max(s.rate_at);
        s.total += 1;
        s.last_seen = s.last_seen.max(minute);
        s.first_seen = s.first_seen.min(minute);
        s.recent.push_back(minute);
        s.recent.make_contiguous().sort_unstable();
        while s
            .recent
            .front()
            .is_some_and(|&m| m <= s.last_seen - c.window_minutes)
        {
            s.recent.pop_front();
        }
        let in_window = s.recent.len();
        let started_at = s.recent.front().copied().unwrap_or(minute);
        // What the key's history predicts for a window: the slow average
        // (recent habits) or its lifetime rate before this window, whichever
        // is higher. The window's own reports are left out, so a burst does
        // not hide itself.
        let before = s.total.saturating_sub(in_window as u64) as f64;
        let age = (started_at - s.first_seen) as f64;
        let lifetime = if age >= c.window_minutes as f64 {
            before / age
        } else {
            0.0
        };
        let slow = (usual - (in_window.saturating_sub(1)) as f64 / tau).max(0.0);
        let expected = slow.max(lifetime) * c.window_minutes as f64;
        let n = in_window as f64;
        let growing = in_window >= c.min_reports && n >= c.factor * expected;
        // Hysteresis: once hot, the wave goes on while it holds half the rise.
        let holding = in_window >= c.min_reports && n >= c.factor * 0.5 * expected;
        match (growing, s.hot_since) {
            (true, None) => {
                s.hot_since = Some(minute);
                Some(self.growth(key, in_window, expected, started_at, true))
            }
            (_, Some(_)) if holding => {
                Some(self.growth(key, in_window, expected, started_at, false))
            }
            (_, Some(_)) => {
                // The rise is over.
                if let Some(s) = self.keys.get_mut(key) {
                    s.hot_since = None;
                }
                None
            }
            (false, None) => None,
        }
    }

    fn growth(
        &self,
        key: &str,
        in_window: usize,
        expected: f64,
        started_at: i64,
        new: bool,
    ) -> Growth {
        let s = &self.keys[key];
        Growth {
            key: key.to_owned(),
            in_window,
            expected,
            started_at,
            first_seen: s.first_seen,
            total: s.total,
            new,
        }
    }

    fn prune(&mut self, minute: i64) {
        let c = &self.config;
        let due = self.last_prune == i64::MIN
            || minute - self.last_prune >= 60
            || self.keys.len() > c.max_keys;
        if !due {
            return;
        }
        self.last_prune = minute;
        let forget = c.forget_after_minutes;
        self.keys.retain(|_, s| minute - s.last_seen < forget);
        if self.keys.len() > c.max_keys {
            let mut by_age: Vec<(i64, String)> = self
                .keys
                .iter()
                .map(|(k, s)| (s.last_seen, k.clone()))
                .collect();
            by_age.sort_unstable();
            let extra = self.keys.len() - c.max_keys * 9 / 10;
            for (_, k) in by_age.into_iter().take(extra) {
                self.keys.remove(&k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_scam_link_fires_at_the_fifth_report_in_half_an_hour() {
        let mut g = GrowthWatch::new(GrowthConfig::default());
        for m in 0..4 {
            assert_eq!(g.observe("url:http://x.example", 1000 + m * 3), None);
        }
        let fired = g.observe("url:http://x.example", 1012).expect("fires");
        assert!(fired.new);
        assert_eq!(fired.in_window, 5);
        assert_eq!(fired.started_at, 1000);
        // Later reports while hot update the same wave.
        let more = g.observe("url:http://x.example", 1013).expect("still hot");
        assert!(!more.new);
        assert_eq!(more.in_window, 6);
    }

    #[test]
    fn reports_spread_thinly_never_fire() {
        let mut g = GrowthWatch::new(GrowthConfig::default());
        for m in 0..200 {
            assert_eq!(g.observe("domain:x.example", m * 40), None, "at {m}");
        }
    }

    #[test]
    fn a_key_quoted_every_day_fires_only_on_a_real_rise() {
        let mut g = GrowthWatch::new(GrowthConfig::default());
        // The company's own domain: about 10 reports an hour for two weeks.
        // Its first half hour is news (nothing was known of it); after
        // that, its usual rate is not.
        let mut minute = 0;
        let mut fired_later = 0;
        while minute < 14 * 24 * 60 {
            let fired = g.observe("domain:bank.example", minute);
            if minute > 24 * 60 && fired.is_some_and(|f| f.new) {
                fired_later += 1;
            }
            minute += 6;
        }
        assert_eq!(fired_later, 0, "its usual rate is not news");
        // Forty reports in half an hour are.
        let mut wave = None;
        for i in 0..40 {
            if let Some(x) = g.observe("domain:bank.example", minute + i * 3 / 4) {
                wave.get_or_insert(x);
            }
        }
        let wave = wave.expect("a real rise fires");
        assert!(
            wave.new && wave.in_window > 5 && wave.expected > 1.0,
            "{wave:?}"
        );
    }

    #[test]
    fn the_wave_ends_when_a_window_passes_quietly_and_can_fire_again() {
        let mut g = GrowthWatch::new(GrowthConfig::default());
        for m in 0..5 {
            g.observe("phone:+15550100", m);
        }
        assert!(g.observe("phone:+15550100", 100).is_none(), "quiet again");
        let again = (0..5).filter_map(|m| g.observe("phone:+15550100", 5000 + m));
        assert!(again.last().is_some_and(|x| x.new));
    }

    #[test]
    fn state_survives_a_round_trip() {
        let mut g = GrowthWatch::new(GrowthConfig::default());
        for m in 0..4 {
            g.observe("k", m);
        }
        let json = serde_json::to_string(&g).unwrap();
        let mut back: GrowthWatch = serde_json::from_str(&json).unwrap();
        assert!(back.observe("k", 5).is_some_and(|x| x.new));
    }

    #[test]
    fn memory_is_bounded() {
        let mut g = GrowthWatch::new(GrowthConfig {
            max_keys: 1000,
            ..Default::default()
        });
        for i in 0..5000 {
            g.observe(&format!("k{i}"), i);
        }
        assert!(g.len() <= 1000, "{}", g.len());
    }
}
