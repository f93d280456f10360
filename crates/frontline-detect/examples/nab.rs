//! Runs the streaming detector over the NAB corpus and scores it.
//!
//! `cargo run --release -p frontline-detect --example nab -- [path] [--check]
//! [--files] [--set=field=json] [--dump=file] [--onsets]`
//!
//! `--dump=name` prints every row of the first file whose name contains
//! `name` (row, value, statistic score, onset score, inside a window);
//! `--onsets` prints every scored onset after the probationary period with
//! what it is worth (window or false positive) under the standard profile.
//!
//! Every file is read as one stream, in order, with no look-ahead; each row's
//! anomaly score is the detector's `onset_score` for that row. One threshold
//! per profile is chosen for the whole corpus by sweeping, as NAB does.

#[path = "nab_data/mod.rs"]
mod nab_data;

use std::path::PathBuf;

use frontline_detect::nab::{normalise, optimise_threshold, score_file, LabelledFile, Profile};
use frontline_detect::{Detector, DetectorConfig, ValueModel};
use nab_data::{nab_config, run_file};

/// Prints every row of one file: index, value, statistic, onset score and
/// whether the row is inside a label window (for looking into a file).
fn dump(corpus: &[nab_data::NabSeries], config: &DetectorConfig, name: &str) {
    let Some(series) = corpus.iter().find(|s| s.file.name.contains(name)) else {
        eprintln!("no file matches {name}");
        std::process::exit(2);
    };
    let mut det = Detector::new(config.clone());
    let id = det.series_id(&series.file.name);
    for (i, (&ts, &v)) in series.timestamps.iter().zip(&series.values).enumerate() {
        let step = det.observe_id(id, ts.div_euclid(60), v);
        let inside = series.file.windows.iter().any(|w| i >= w.0 && i <= w.1);
        println!(
            "{i}\t{v:.3}\t{:.3}\t{:.3}\t{}",
            step.score,
            step.onset_score,
            u8::from(inside)
        );
    }
}

fn check_published(root: &std::path::Path) -> Result<(), String> {
    let corpus = nab_data::load_corpus(root)?;
    let windows: usize = corpus.iter().map(|s| s.file.windows.len()).sum();
    let tweets: usize = corpus
        .iter()
        .filter(|s| s.file.name.starts_with("realTweets/"))
        .map(|s| s.file.windows.len())
        .sum();
    println!("corpus windows: {windows}, realTweets windows: {tweets}");
    let finals = nab_data::load_final_results(root)?;
    for (det, profiles) in &finals {
        for profile in Profile::standard_set() {
            let Ok(rows) = nab_data::load_published(root, det, &profile.name) else {
                continue;
            };
            let raw: f64 = rows.iter().map(|r| r.1).sum();
            let tw: f64 = rows
                .iter()
                .filter(|r| r.0.starts_with("realTweets/"))
                .map(|r| r.1)
                .sum();
            let ours = normalise(raw, windows, &profile);
            let published = profiles.get(&profile.name).copied().unwrap_or(f64::NAN);
            println!(
                "{det:>20} {:>19}: ours {ours:7.2} published {published:7.2} realTweets {:6.1}",
                profile.name,
                normalise(tw, tweets, &profile)
            );
        }
    }
    Ok(())
}

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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(nab_data::default_path);
    if args.iter().any(|a| a == "--check") {
        if let Err(e) = check_published(&root) {
            eprintln!("{e}");
            std::process::exit(1);
        }
        return;
    }
    let corpus = match nab_data::load_corpus(&root) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot read NAB corpus at {}: {e}", root.display());
            std::process::exit(1);
        }
    };
    let mut config = nab_config();
    for a in args.iter().filter_map(|a| a.strip_prefix("--set=")) {
        config = match override_config(&config, a) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
            }
        };
    }
    if let Some(name) = args.iter().find_map(|a| a.strip_prefix("--dump=")) {
        dump(&corpus, &config, name);
        return;
    }
    let started = std::time::Instant::now();
    let scored: Vec<(LabelledFile, Vec<f64>)> = corpus
        .iter()
        .map(|s| (s.file.clone(), run_file(s, &config)))
        .collect();
    let rows: usize = corpus.iter().map(|s| s.values.len()).sum();
    println!(
        "{} files, {rows} rows scored in {:.2?}; config: model={:?} two_sided={} threshold={} calm_steps={} short_window={} long_window={} diff_weight={} rebaseline_sd={} escalate_ratio={} onset_value_weight={} onset_rank_weight={} onset_record_weight={} season_weight={} season_min_acf={} spatial_tolerance={} spatial_score={} extra_windows={:?} rank_surprise={}",
        scored.len(),
        started.elapsed(),
        config.model,
        config.two_sided,
        config.threshold,
        config.calm_steps,
        config.short_window,
        config.long_window,
        config.diff_weight,
        config.rebaseline_sd,
        config.escalate_ratio,
        config.onset_value_weight,
        config.onset_rank_weight,
        config.onset_record_weight,
        config.season_weight,
        config.season_min_acf,
        config.spatial_tolerance,
        config.spatial_score,
        config.extra_windows,
        config.rank_surprise
    );
    if args.iter().any(|a| a == "--onsets") {
        for (f, scores) in &scored {
            for (i, &s) in scores.iter().enumerate().skip(f.probation()) {
                if s > 0.0 {
                    let (kind, w, v) =
                        match frontline_detect::nab::row_worth(f, i, &Profile::standard_set()[0]) {
                            frontline_detect::nab::Worth::Window(w, v) => ("W", w as i64, v),
                            frontline_detect::nab::Worth::FalsePositive(v) => ("F", -1, v),
                        };
                    println!("O\t{}\t{i}\t{s:.4}\t{kind}\t{w}\t{v:.4}", f.name);
                }
            }
        }
        return;
    }
    let verbose = args.iter().any(|a| a == "--files");
    let windows = |pred: &dyn Fn(&LabelledFile) -> bool| -> usize {
        scored
            .iter()
            .filter(|(f, _)| pred(f))
            .map(|(f, _)| f.windows.len())
            .sum()
    };
    let all = |_: &LabelledFile| true;
    let tweets = |f: &LabelledFile| f.name.starts_with("realTweets/");
    for profile in Profile::standard_set() {
        let (t, total) = optimise_threshold(&scored, &profile);
        let tw_raw: f64 = scored
            .iter()
            .filter(|(f, _)| tweets(f))
            .map(|(f, s)| score_file(f, s, t, &profile).raw)
            .sum();
        let tw_only: Vec<(LabelledFile, Vec<f64>)> =
            scored.iter().filter(|(f, _)| tweets(f)).cloned().collect();
        let (_, tw_opt) = optimise_threshold(&tw_only, &profile);
        println!(
            "{:>19}: corpus {:6.1}  realTweets {:6.1} (at corpus threshold {t:.4}; {:6.1} with its own threshold)",
            profile.name,
            normalise(total, windows(&all), &profile),
            normalise(tw_raw, windows(&tweets), &profile),
            normalise(tw_opt, windows(&tweets), &profile),
        );
        if verbose && profile.name == "standard" {
            for (f, s) in &scored {
                let r = score_file(f, s, t, &profile);
                println!(
                    "    {:<60} raw {:7.3} tp {} fn {} fp {}",
                    f.name, r.raw, r.tp, r.fn_, r.fp
                );
            }
        }
    }
    let _ = ValueModel::Counts;
}
