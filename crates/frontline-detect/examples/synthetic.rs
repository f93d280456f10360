//! Synthetic complaint benchmark: many low-count series with daily and weekly
//! cycles and overdispersed (gamma-Poisson) noise; rises of 1.5x to 20x
//! lasting 5 minutes to 6 hours are injected. Reports recall by size of rise,
//! median detection delay and false alarms per series-week.
//!
//! `cargo run --release -p frontline-detect --example synthetic [-- series weeks seed [threshold [max_step_share]]] [--set=field=json] [--diag]`

use frontline_detect::{Detector, DetectorConfig};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Gamma, Poisson};

struct Rise {
    series: usize,
    start: i64,
    minutes: i64,
    factor: f64,
    detected_at: Option<i64>,
}

const SIZES: [f64; 7] = [1.5, 2.0, 3.0, 5.0, 8.0, 12.0, 20.0];
const DURATIONS: [i64; 5] = [5, 15, 60, 180, 360];

/// Applies `field=json_value` to the configuration (for exploring settings).
fn override_config(c: &DetectorConfig, kv: &str) -> Result<DetectorConfig, String> {
    let (k, v) = kv.split_once('=').ok_or("expected --set=field=value")?;
    let mut json = serde_json::to_value(c).map_err(|e| e.to_string())?;
    let v: serde_json::Value = serde_json::from_str(v).map_err(|e| format!("{k}: {e}"))?;
    match json.get_mut(k) {
        Some(slot) => *slot = v,
        None => return Err(format!("no field {k}")),
    }
    serde_json::from_value(json).map_err(|e| e.to_string())
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n_series = args.first().copied().unwrap_or(200) as usize;
    let weeks = args.get(1).copied().unwrap_or(5) as i64;
    let seed = args.get(2).copied().unwrap_or(42);
    let mut rng = StdRng::seed_from_u64(seed);
    let minutes = weeks * 7 * 1440;
    let learn = 7 * 1440; // first week: learning only, no rises, not scored
    let mut config = DetectorConfig::default();
    if let Some(h) = std::env::args().nth(4).and_then(|a| a.parse::<f64>().ok()) {
        config.threshold = h;
    }
    if let Some(m) = std::env::args().nth(5).and_then(|a| a.parse::<f64>().ok()) {
        config.max_step_share = m;
    }
    for kv in std::env::args().filter_map(|a| a.strip_prefix("--set=").map(str::to_owned)) {
        config = match override_config(&config, &kv) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
            }
        };
    }
    let mut det = Detector::new(config.clone());
    let diag = std::env::args().any(|a| a == "--diag");

    // Per series: mean rate per minute (log-uniform 0.3..10), cycle strength
    // and phase, weekend factor, dispersion shape.
    struct Profile {
        mean: f64,
        daily: f64,
        phase: f64,
        weekend: f64,
        shape: f64,
    }
    let profiles: Vec<Profile> = (0..n_series)
        .map(|_| Profile {
            mean: (rng.gen_range(0.3f64.ln()..10f64.ln())).exp(),
            daily: rng.gen_range(0.4..0.9),
            phase: rng.gen_range(0.0..24.0),
            weekend: rng.gen_range(0.5..1.0),
            shape: rng.gen_range(3.0..20.0),
        })
        .collect();
    // Rises: one every ~2 days per series after the learning week, not overlapping.
    let mut rises: Vec<Rise> = Vec::new();
    for s in 0..n_series {
        let mut t = learn + rng.gen_range(0..2 * 1440);
        while t < minutes - 7 * 60 {
            let minutes_long = DURATIONS[rng.gen_range(0..DURATIONS.len())];
            let factor = SIZES[rng.gen_range(0..SIZES.len())];
            rises.push(Rise {
                series: s,
                start: t,
                minutes: minutes_long,
                factor,
                detected_at: None,
            });
            t += minutes_long + rng.gen_range(36 * 60..60 * 60);
        }
    }
    let mut by_series: Vec<Vec<usize>> = vec![Vec::new(); n_series];
    for (i, r) in rises.iter().enumerate() {
        by_series[r.series].push(i);
    }
    let ids: Vec<_> = (0..n_series)
        .map(|s| det.series_id(&format!("series-{s}")))
        .collect();
    let gammas: Vec<Gamma<f64>> = profiles
        .iter()
        .map(|p| Gamma::new(p.shape, 1.0 / p.shape).unwrap_or_else(|_| panic!("valid gamma")))
        .collect();
    let mut false_alarms = 0u64;
    let mut cursor = vec![0usize; n_series];
    let t0 = 1_700_000_000 / 60; // a Tuesday-ish epoch minute
    let started = std::time::Instant::now();
    let mut observations = 0u64;
    for t in 0..minutes {
        let ts = t0 + t;
        let hour = (ts.rem_euclid(1440)) as f64 / 60.0;
        let dow = (ts.div_euclid(1440) + 3).rem_euclid(7); // 0 = Monday (1970-01-01 was a Thursday)
        for s in 0..n_series {
            let p = &profiles[s];
            let cycle = 1.0 + p.daily * (std::f64::consts::TAU * (hour - p.phase) / 24.0).sin();
            let week = if dow >= 5 { p.weekend } else { 1.0 };
            let mut mu = p.mean * cycle * week * gammas[s].sample(&mut rng);
            // Active rise?
            let list = &by_series[s];
            while cursor[s] < list.len()
                && rises[list[cursor[s]]].start + rises[list[cursor[s]]].minutes + 60 <= t
            {
                cursor[s] += 1;
            }
            let mut active: Option<usize> = None;
            if let Some(&ri) = list.get(cursor[s]) {
                let r = &rises[ri];
                if t >= r.start && t < r.start + r.minutes {
                    mu *= r.factor;
                }
                if t >= r.start && t < r.start + r.minutes + 60 {
                    active = Some(ri);
                }
            }
            let count = if mu > 0.0 {
                Poisson::new(mu)
                    .map(|d| d.sample(&mut rng) as u64)
                    .unwrap_or(0)
            } else {
                0
            };
            let step = det.observe_id(ids[s], ts, count as f64);
            observations += 1;
            if let Some(a) = step.alarm {
                if t < learn {
                    continue;
                }
                match active {
                    Some(ri)
                        if rises[ri].detected_at.is_none()
                            && t < rises[ri].start + rises[ri].minutes =>
                    {
                        rises[ri].detected_at = Some(t);
                    }
                    Some(_) => {}
                    None => {
                        false_alarms += 1;
                        if diag {
                            let true_mu = p.mean * cycle * week;
                            let since_rise = list[..cursor[s]]
                                .last()
                                .map(|&ri| t - rises[ri].start - rises[ri].minutes)
                                .unwrap_or(-1);
                            println!(
                                "FA s{s:<3} mean {:5.2} daily {:.2} wkend {:.2} shape {:4.1} | dow {dow} h {hour:5.2} | x {} exp {:.2} true {:.2} | run {} min obs {} exp {:.1} stat {:.1} | since rise end {since_rise}",
                                p.mean, p.daily, p.weekend, p.shape, a.observed, a.expected, true_mu,
                                a.at - a.started_at, a.observed_total, a.expected_total, a.stat
                            );
                        }
                    }
                }
            }
        }
    }
    let elapsed = started.elapsed();
    if diag {
        for r in rises
            .iter()
            .filter(|r| r.factor >= 3.0 && r.minutes >= 15 && r.detected_at.is_none())
        {
            let p = &profiles[r.series];
            // Expected count over the rise without it.
            let base: f64 = (r.start..r.start + r.minutes)
                .map(|t| {
                    let ts = t0 + t;
                    let hour = (ts.rem_euclid(1440)) as f64 / 60.0;
                    let dow = (ts.div_euclid(1440) + 3).rem_euclid(7);
                    let cycle =
                        1.0 + p.daily * (std::f64::consts::TAU * (hour - p.phase) / 24.0).sin();
                    p.mean * cycle * if dow >= 5 { p.weekend } else { 1.0 }
                })
                .sum();
            println!(
                "MISS s{:<3} {}x {} min, mean {:5.2} shape {:4.1}: {base:.1} expected in the window without the rise",
                r.series, r.factor, r.minutes, p.mean, p.shape
            );
        }
    }
    let scored_weeks = (minutes - learn) as f64 / (7.0 * 1440.0) * n_series as f64;
    println!(
        "{n_series} series x {weeks} weeks (first week learning), seed {seed}; {observations} observations in {elapsed:.2?} ({:.1} M/s incl. data generation)",
        observations as f64 / elapsed.as_secs_f64() / 1e6
    );
    println!(
        "config: threshold {} alternatives {:?} max_step_share {}",
        config.threshold, config.alternatives, config.max_step_share
    );
    println!("size   recall(all)  recall(>=15min)  median delay (min, >=15min)");
    for size in SIZES {
        let all: Vec<&Rise> = rises.iter().filter(|r| r.factor == size).collect();
        let long: Vec<&Rise> = all.iter().copied().filter(|r| r.minutes >= 15).collect();
        let hit = |v: &[&Rise]| {
            v.iter().filter(|r| r.detected_at.is_some()).count() as f64 / v.len().max(1) as f64
        };
        let mut delays: Vec<i64> = long
            .iter()
            .filter_map(|r| r.detected_at.map(|d| d - r.start))
            .collect();
        delays.sort_unstable();
        let med = delays.get(delays.len() / 2).copied().unwrap_or(-1);
        println!(
            "{size:>5}x  {:>10.3}  {:>15.3}  {med:>6}   (n={}, n>=15min={})",
            hit(&all),
            hit(&long),
            all.len(),
            long.len()
        );
    }
    let mut delays: Vec<i64> = rises
        .iter()
        .filter_map(|r| r.detected_at.map(|d| d - r.start))
        .collect();
    delays.sort_unstable();
    let mut delays3: Vec<i64> = rises
        .iter()
        .filter(|r| r.factor >= 3.0 && r.minutes >= 15)
        .filter_map(|r| r.detected_at.map(|d| d - r.start))
        .collect();
    delays3.sort_unstable();
    let r3: Vec<&Rise> = rises
        .iter()
        .filter(|r| r.factor >= 3.0 && r.minutes >= 15)
        .collect();
    println!(
        "rises >=3x lasting >=15 min: recall {:.3} (n={}), median delay {} min",
        r3.iter().filter(|r| r.detected_at.is_some()).count() as f64 / r3.len().max(1) as f64,
        r3.len(),
        delays3.get(delays3.len() / 2).copied().unwrap_or(-1)
    );
    println!(
        "all detected rises: median delay {} min; false alarms {} over {:.0} series-weeks = {:.4} per series-week (1 per {:.0} series-weeks)",
        delays.get(delays.len() / 2).copied().unwrap_or(-1),
        false_alarms,
        scored_weeks,
        false_alarms as f64 / scored_weeks,
        scored_weeks / (false_alarms.max(1) as f64)
    );
}
