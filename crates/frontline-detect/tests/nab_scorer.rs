//! Checks the NAB scorer against the published corpus results.

#[path = "../examples/nab_data/mod.rs"]
#[allow(dead_code)]
mod nab_data;

use frontline_detect::nab::{normalise, optimise_threshold, score_file, Profile};

#[test]
fn published_scores_normalise_to_final_results() {
    let root = nab_data::default_path();
    let corpus = nab_data::load_corpus(&root).expect("NAB corpus (shared/data/nab) is readable");
    assert_eq!(corpus.len(), 58);
    let windows: usize = corpus.iter().map(|s| s.file.windows.len()).sum();
    assert_eq!(windows, 116);
    let finals = nab_data::load_final_results(&root).expect("final_results.json");
    let mut checked = 0;
    for det in [
        "ARTime",
        "numenta",
        "contextOSE",
        "knncad",
        "windowedGaussian",
        "null",
    ] {
        for profile in Profile::standard_set() {
            let rows = nab_data::load_published(&root, det, &profile.name).expect("published");
            let raw: f64 = rows.iter().map(|r| r.1).sum();
            let expected = finals[det][&profile.name];
            let ours = normalise(raw, windows, &profile);
            assert!(
                (ours - expected).abs() < 1e-6,
                "{det} {}: {ours} vs {expected}",
                profile.name
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 18);
    // The README's realTweets figure for ARTime.
    let p = &Profile::standard_set()[0];
    let rows = nab_data::load_published(&root, "ARTime", "standard").expect("published");
    let tw: f64 = rows
        .iter()
        .filter(|r| r.0.starts_with("realTweets/"))
        .map(|r| r.1)
        .sum();
    assert!((normalise(tw, 33, p) - 81.8).abs() < 0.05);
}

#[test]
fn null_detector_scores_zero_and_an_oracle_scores_high() {
    let root = nab_data::default_path();
    let corpus = nab_data::load_corpus(&root).expect("NAB corpus is readable");
    let windows: usize = corpus.iter().map(|s| s.file.windows.len()).sum();
    for profile in Profile::standard_set() {
        let null: f64 = corpus
            .iter()
            .map(|s| score_file(&s.file, &vec![0.0; s.file.len], 0.5, &profile).raw)
            .sum();
        assert!(normalise(null, windows, &profile).abs() < 1e-9);
        // Fires at the first row of every window: the perfect detector.
        let scored: Vec<_> = corpus
            .iter()
            .map(|s| {
                let mut v = vec![0.0; s.file.len];
                for &(l, _) in &s.file.windows {
                    v[l] = 1.0;
                }
                (s.file.clone(), v)
            })
            .collect();
        let (_, total) = optimise_threshold(&scored, &profile);
        assert!((normalise(total, windows, &profile) - 100.0).abs() < 1e-6);
    }
}

/// The detector, run as the `nab` example runs it (every file one stream,
/// in order, no look-ahead; one threshold per profile for the corpus),
/// stays above the targets: Numenta HTM's 70.5 on the corpus and
/// ARTime's 81.8 on realTweets, both in the standard profile.
#[test]
fn the_detector_beats_the_published_targets_on_the_standard_profile() {
    let root = nab_data::default_path();
    let corpus = nab_data::load_corpus(&root).expect("NAB corpus is readable");
    let config = nab_data::nab_config();
    let scored: Vec<_> = corpus
        .iter()
        .map(|s| (s.file.clone(), nab_data::run_file(s, &config)))
        .collect();
    let p = &Profile::standard_set()[0];
    let (threshold, raw) = optimise_threshold(&scored, p);
    let corpus_score = normalise(raw, 116, p);
    let tweets: f64 = scored
        .iter()
        .filter(|(f, _)| f.name.starts_with("realTweets/"))
        .map(|(f, s)| score_file(f, s, threshold, p).raw)
        .sum();
    let tweets_score = normalise(tweets, 33, p);
    assert!(corpus_score > 70.5, "corpus {corpus_score:.1}");
    assert!(tweets_score > 81.8, "realTweets {tweets_score:.1}");
}
