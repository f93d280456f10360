//! Macro F1 of topic classification on the labelled fixture set (shared by
//! the `topics` example and the accuracy test).

use std::collections::BTreeMap;

use frontline_detect::{detect_language, Analyzer, Topic};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Labelled {
    pub lang: String,
    pub topic: String,
    pub text: String,
}

pub struct LangReport {
    pub n: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub language_accuracy: f64,
    pub per_topic: Vec<(Topic, f64)>,
    pub errors: Vec<(String, Topic, Topic)>,
}

pub const FIXTURE: &str = include_str!("../../fixtures/topics.jsonl");

pub fn load() -> Result<Vec<Labelled>, String> {
    FIXTURE
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect()
}

pub fn evaluate(
    analyzer: &Analyzer,
    set: &[Labelled],
) -> Result<BTreeMap<String, LangReport>, String> {
    let mut by_lang: BTreeMap<String, Vec<(Topic, Topic, &str, bool)>> = BTreeMap::new();
    for item in set {
        let gold =
            Topic::parse(&item.topic).ok_or_else(|| format!("unknown topic {}", item.topic))?;
        let got = analyzer.classify(&item.text).topic;
        let lang_ok = detect_language(&item.text).code == item.lang;
        by_lang
            .entry(item.lang.clone())
            .or_default()
            .push((gold, got, &item.text, lang_ok));
    }
    let mut out = BTreeMap::new();
    for (lang, rows) in by_lang {
        let mut per_topic = Vec::new();
        let mut f1_sum = 0.0;
        for t in Topic::ALL {
            let tp = rows.iter().filter(|r| r.0 == t && r.1 == t).count() as f64;
            let fp = rows.iter().filter(|r| r.0 != t && r.1 == t).count() as f64;
            let fn_ = rows.iter().filter(|r| r.0 == t && r.1 != t).count() as f64;
            let f1 = if tp == 0.0 {
                0.0
            } else {
                2.0 * tp / (2.0 * tp + fp + fn_)
            };
            f1_sum += f1;
            per_topic.push((t, f1));
        }
        let n = rows.len();
        let correct = rows.iter().filter(|r| r.0 == r.1).count();
        let lang_correct = rows.iter().filter(|r| r.3).count();
        out.insert(
            lang,
            LangReport {
                n,
                accuracy: correct as f64 / n as f64,
                macro_f1: f1_sum / Topic::ALL.len() as f64,
                language_accuracy: lang_correct as f64 / n as f64,
                per_topic,
                errors: rows
                    .iter()
                    .filter(|r| r.0 != r.1)
                    .map(|r| (r.2.to_owned(), r.0, r.1))
                    .collect(),
            },
        );
    }
    Ok(out)
}
