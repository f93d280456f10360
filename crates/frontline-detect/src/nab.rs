//! The Numenta Anomaly Benchmark (NAB v1.1) scorer, as described in the
//! corpus README: probationary period, label windows, scaled sigmoid, cost
//! profiles, one threshold per profile for the whole corpus, normalisation
//! against the null and perfect detectors. Pure: callers read the files.

use serde::{Deserialize, Serialize};

/// A scoring profile (`config/profiles.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Profile name (`standard`, `reward_low_FP_rate`, `reward_low_FN_rate`).
    pub name: String,
    /// Weight of a true positive.
    pub tp_weight: f64,
    /// Weight of a false positive.
    pub fp_weight: f64,
    /// Weight of a missed window.
    pub fn_weight: f64,
}

impl Profile {
    /// The three standard profiles.
    pub fn standard_set() -> Vec<Profile> {
        let p = |name: &str, fp: f64, fnw: f64| Profile {
            name: name.to_owned(),
            tp_weight: 1.0,
            fp_weight: fp,
            fn_weight: fnw,
        };
        vec![
            p("standard", 0.11, 1.0),
            p("reward_low_FP_rate", 0.22, 1.0),
            p("reward_low_FN_rate", 0.11, 2.0),
        ]
    }
}

/// One data file, as the scorer sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledFile {
    /// `category/file.csv`.
    pub name: String,
    /// Number of rows.
    pub len: usize,
    /// Label windows as inclusive row ranges, in order.
    pub windows: Vec<(usize, usize)>,
}

impl LabelledFile {
    /// Rows ignored at the start: 15% of the file, at most 750.
    pub fn probation(&self) -> usize {
        probationary_period(self.len)
    }
}

/// NAB's probationary period: `min(floor(0.15 * len), 750)`.
pub fn probationary_period(len: usize) -> usize {
    ((0.15 * len as f64).floor() as usize).min(750)
}

/// `S(x) = 2 / (1 + e^(5x)) - 1`.
pub fn scaled_sigmoid(x: f64) -> f64 {
    if x > 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * x).exp()) - 1.0
    }
}

/// Converts timestamped windows into inclusive row ranges; windows that
/// contain no row are dropped.
pub fn windows_to_rows(timestamps: &[i64], windows: &[(i64, i64)]) -> Vec<(usize, usize)> {
    windows
        .iter()
        .filter_map(|&(a, b)| {
            let first = timestamps.iter().position(|&t| t >= a)?;
            let last = timestamps.iter().rposition(|&t| t <= b)?;
            (first <= last).then_some((first, last))
        })
        .collect()
}

/// What a row is worth if it detects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Worth {
    /// In window `w`, worth `v` (the window takes the best of its detections).
    Window(usize, f64),
    /// Outside every window: adds `v` (negative).
    FalsePositive(f64),
}

/// What a detection at row `i` of `file` is worth under profile `p`: its
/// window's share of the true-positive weight, or the false-positive cost.
pub fn row_worth(file: &LabelledFile, i: usize, p: &Profile) -> Worth {
    let mut prev: Option<(usize, usize)> = None;
    for (w, &(l, r)) in file.windows.iter().enumerate() {
        if i >= l && i <= r {
            let width = (r - l + 1) as f64;
            let x = -((r as f64 - i as f64 + 1.0) / width);
            return Worth::Window(w, p.tp_weight * scaled_sigmoid(x) / scaled_sigmoid(-1.0));
        }
        if r < i {
            prev = Some((l, r));
        }
    }
    match prev {
        None => Worth::FalsePositive(-p.fp_weight),
        Some((l, r)) => {
            let width = (r - l + 1) as f64;
            let y = (i - r) as f64 / (width - 1.0).max(1.0);
            Worth::FalsePositive(p.fp_weight * scaled_sigmoid(y))
        }
    }
}

/// Score of one file at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct FileScore {
    /// Raw NAB score.
    pub raw: f64,
    /// Windows with a detection.
    pub tp: usize,
    /// Windows without one.
    pub fn_: usize,
    /// Detections outside windows.
    pub fp: usize,
}

/// Scores one file's anomaly scores at `threshold` (a row detects when its
/// score is at least the threshold).
pub fn score_file(file: &LabelledFile, scores: &[f64], threshold: f64, p: &Profile) -> FileScore {
    let mut best: Vec<Option<f64>> = vec![None; file.windows.len()];
    let mut out = FileScore::default();
    for (i, &s) in scores.iter().enumerate().skip(file.probation()) {
        if s < threshold {
            continue;
        }
        match row_worth(file, i, p) {
            Worth::Window(w, v) => {
                best[w] = Some(best[w].map_or(v, |b: f64| b.max(v)));
            }
            Worth::FalsePositive(v) => {
                out.raw += v;
                out.fp += 1;
            }
        }
    }
    for b in best {
        match b {
            Some(v) => {
                out.raw += v;
                out.tp += 1;
            }
            None => {
                out.raw -= p.fn_weight;
                out.fn_ += 1;
            }
        }
    }
    out
}

/// The threshold that maximises the summed raw score over all files, found
/// by sweeping every distinct score (as NAB's sweeper does). Returns
/// `(threshold, summed raw score)`; `f64::INFINITY` means "never detect".
pub fn optimise_threshold(files: &[(LabelledFile, Vec<f64>)], p: &Profile) -> (f64, f64) {
    let mut points: Vec<(f64, usize, Worth)> = Vec::new();
    let mut window_base = Vec::with_capacity(files.len());
    let mut total_windows = 0;
    for (f, (file, scores)) in files.iter().enumerate() {
        window_base.push(total_windows);
        total_windows += file.windows.len();
        for (i, &s) in scores.iter().enumerate().skip(file.probation()) {
            if s > 0.0 && s.is_finite() {
                points.push((s, f, row_worth(file, i, p)));
            }
        }
    }
    points.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut best: Vec<Option<f64>> = vec![None; total_windows];
    let mut total = -p.fn_weight * total_windows as f64;
    let mut best_total = total;
    let mut best_threshold = f64::INFINITY;
    let mut i = 0;
    while i < points.len() {
        let s = points[i].0;
        while i < points.len() && points[i].0 == s {
            let (_, f, worth) = points[i];
            match worth {
                Worth::Window(w, v) => {
                    let slot = &mut best[window_base[f] + w];
                    match *slot {
                        None => {
                            total += p.fn_weight + v;
                            *slot = Some(v);
                        }
                        Some(b) if v > b => {
                            total += v - b;
                            *slot = Some(v);
                        }
                        Some(_) => {}
                    }
                }
                Worth::FalsePositive(v) => total += v,
            }
            i += 1;
        }
        if total > best_total + 1e-12 {
            best_total = total;
            best_threshold = s;
        }
    }
    (best_threshold, best_total)
}

/// `100 * (raw - null) / (perfect - null)` for a set holding `windows`
/// windows: null is `-fn_weight` and perfect `+tp_weight` per window.
pub fn normalise(raw: f64, windows: usize, p: &Profile) -> f64 {
    let null = -p.fn_weight * windows as f64;
    let perfect = p.tp_weight * windows as f64;
    if perfect == null {
        0.0
    } else {
        100.0 * (raw - null) / (perfect - null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> LabelledFile {
        LabelledFile {
            name: "t.csv".into(),
            len: 1000,
            windows: vec![(400, 499), (800, 849)],
        }
    }

    #[test]
    fn sigmoid_values() {
        assert!((scaled_sigmoid(0.0)).abs() < 1e-12);
        assert!((scaled_sigmoid(-1.0) - 0.986_614_298_151_430_3).abs() < 1e-12);
        assert_eq!(scaled_sigmoid(3.5), -1.0);
        assert_eq!(probationary_period(1000), 150);
        assert_eq!(probationary_period(100_000), 750);
    }

    #[test]
    fn null_and_perfect_detectors() {
        let p = &Profile::standard_set()[0];
        let f = file();
        let null = score_file(&f, &vec![0.0; 1000], 0.5, p);
        assert_eq!(null.raw, -2.0);
        assert_eq!(normalise(null.raw, 2, p), 0.0);
        let mut perfect = vec![0.0; 1000];
        perfect[400] = 1.0;
        perfect[800] = 1.0;
        let s = score_file(&f, &perfect, 0.5, p);
        assert!((s.raw - 2.0).abs() < 1e-12);
        assert!((normalise(s.raw, 2, p) - 100.0).abs() < 1e-9);
    }

    #[test]
    fn late_detections_and_false_positives_cost() {
        let p = &Profile::standard_set()[0];
        let f = file();
        let mut s = vec![0.0; 1000];
        s[499] = 1.0; // last row of window 0: worth about 0.
        s[200] = 1.0; // before any window: -fp_weight.
        s[520] = 1.0; // just after window 0: small cost.
        s[100] = 1.0; // probationary: ignored.
        let r = score_file(&f, &s, 0.5, p);
        assert_eq!((r.tp, r.fp, r.fn_), (1, 2, 1));
        let tp = scaled_sigmoid(-0.01) / scaled_sigmoid(-1.0);
        let fp_after = 0.11 * scaled_sigmoid(21.0 / 99.0);
        assert!(
            (r.raw - (tp - 0.11 + fp_after - 1.0)).abs() < 1e-9,
            "{}",
            r.raw
        );
    }

    #[test]
    fn sweep_matches_direct_scoring() {
        let p = &Profile::standard_set()[0];
        let f = file();
        let mut s = vec![0.0; 1000];
        s[300] = 0.9;
        s[450] = 0.6;
        s[420] = 0.3;
        s[810] = 0.8;
        s[900] = 0.2;
        let files = vec![(f.clone(), s.clone())];
        let (t, total) = optimise_threshold(&files, p);
        let direct = score_file(&f, &s, t, p).raw;
        assert!((total - direct).abs() < 1e-9);
        for cand in [0.1, 0.25, 0.5, 0.7, 0.85, 0.95] {
            assert!(score_file(&f, &s, cand, p).raw <= total + 1e-12);
        }
    }
}
