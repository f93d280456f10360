//! Precision and recall over the labelled fixture. Shared by the `evaluate`
//! example and the regression test (`tests/fixture.rs`).

// Each of the two users reads only part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use frontline_pii::{EntityKind, Finding, Redactor};
use serde::Deserialize;

/// One line of `fixtures/labelled.jsonl`. Offsets are UTF-8 byte offsets.
#[derive(Debug, Deserialize)]
pub struct Example {
    pub lang: String,
    pub text: String,
    pub spans: Vec<Span>,
}

#[derive(Debug, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub kind: EntityKind,
}

/// Counts for one kind. A prediction is correct if it overlaps a labelled
/// span of the same kind; a labelled span is found if a prediction of the
/// same kind overlaps it.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub predicted: usize,
    pub correct: usize,
    pub labelled: usize,
    pub found: usize,
    /// Found with exactly the labelled span.
    pub exact: usize,
}

impl Counts {
    pub fn precision(&self) -> f64 {
        if self.predicted == 0 {
            1.0
        } else {
            self.correct as f64 / self.predicted as f64
        }
    }

    pub fn recall(&self) -> f64 {
        if self.labelled == 0 {
            1.0
        } else {
            self.found as f64 / self.labelled as f64
        }
    }
}

pub struct Report {
    pub by_kind: BTreeMap<EntityKind, Counts>,
    pub bytes: usize,
    pub elapsed: Duration,
    /// (text, what went wrong) for the first mistakes, to look at.
    pub mistakes: Vec<String>,
}

impl Report {
    pub fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / self.elapsed.as_secs_f64().max(1e-9) / 1e6
    }
}

pub fn parse(jsonl: &str) -> Vec<Example> {
    jsonl
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("fixture line is valid JSON"))
        .collect()
}

fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// Run `redactor` over `examples` `rounds` times (timing all rounds) and
/// score the findings of the first.
pub fn score(redactor: &Redactor, examples: &[Example], rounds: usize) -> Report {
    let start = Instant::now();
    let mut all: Vec<Vec<Finding>> = examples.iter().map(|e| redactor.find(&e.text)).collect();
    for _ in 1..rounds {
        for (e, out) in examples.iter().zip(all.iter_mut()) {
            *out = redactor.find(&e.text);
        }
    }
    let elapsed = start.elapsed();
    let bytes = examples.iter().map(|e| e.text.len()).sum::<usize>() * rounds.max(1);

    let mut by_kind: BTreeMap<EntityKind, Counts> = BTreeMap::new();
    let mut mistakes = Vec::new();
    for (e, found) in examples.iter().zip(&all) {
        for s in &e.spans {
            let c = by_kind.entry(s.kind).or_default();
            c.labelled += 1;
            let hit = found
                .iter()
                .find(|f| f.kind == s.kind && overlaps((f.start, f.end), (s.start, s.end)));
            match hit {
                Some(f) => {
                    c.found += 1;
                    if (f.start, f.end) == (s.start, s.end) {
                        c.exact += 1;
                    }
                }
                None => mistakes.push(format!(
                    "missed {} {:?} in {:?}",
                    s.kind,
                    &e.text[s.start..s.end],
                    e.text
                )),
            }
        }
        for f in found {
            let c = by_kind.entry(f.kind).or_default();
            c.predicted += 1;
            if e.spans
                .iter()
                .any(|s| s.kind == f.kind && overlaps((f.start, f.end), (s.start, s.end)))
            {
                c.correct += 1;
            } else {
                mistakes.push(format!(
                    "wrong {} {:?} in {:?}",
                    f.kind,
                    &e.text[f.start..f.end],
                    e.text
                ));
            }
        }
    }
    Report {
        by_kind,
        bytes,
        elapsed,
        mistakes,
    }
}
