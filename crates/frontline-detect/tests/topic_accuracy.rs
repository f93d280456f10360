//! Topic macro F1 per language on the labelled fixture set must not regress.

#[path = "../examples/topics_eval/mod.rs"]
#[allow(dead_code)]
mod topics_eval;

use frontline_detect::Analyzer;

#[test]
fn fixture_set_is_large_and_balanced() {
    let set = topics_eval::load().expect("fixture parses");
    assert!(set.len() >= 400, "{}", set.len());
    for lang in ["en", "zh", "fa", "gu"] {
        let n = set.iter().filter(|s| s.lang == lang).count();
        assert!(n >= 50, "{lang}: {n}");
    }
}

#[test]
fn macro_f1_per_language_stays_above_floor() {
    let set = topics_eval::load().expect("fixture parses");
    let report = topics_eval::evaluate(&Analyzer::builtin(), &set).expect("evaluates");
    for (lang, floor) in [("en", 0.85), ("zh", 0.85), ("fa", 0.85), ("gu", 0.78)] {
        let r = &report[lang];
        println!(
            "{lang}: macro F1 {:.3}, accuracy {:.3}",
            r.macro_f1, r.accuracy
        );
        assert!(
            r.macro_f1 >= floor,
            "{lang}: macro F1 {:.3} < {floor}",
            r.macro_f1
        );
        assert!(
            r.language_accuracy >= 0.95,
            "{lang}: language id {:.3}",
            r.language_accuracy
        );
    }
}
