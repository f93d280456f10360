//! Throughput of `Redactor::redact` on multilingual customer feedback.
//!
//! `cargo bench -p frontline-pii --bench redact`
//!
//! Two corpora, both built from the labelled fixture (English, Chinese,
//! Persian, Gujarati):
//! - `feedback`: as real feedback is, mostly clean: every message without
//!   personal data, and one in ten of those with some;
//! - `pii_dense`: the whole fixture, where most messages carry some.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use frontline_pii::Redactor;

const FIXTURE: &str = include_str!("../fixtures/labelled.jsonl");

fn messages() -> Vec<(String, bool)> {
    FIXTURE
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            let text = v.get("text")?.as_str()?.to_owned();
            let has_pii = v.get("spans")?.as_array().is_some_and(|s| !s.is_empty());
            Some((text, has_pii))
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let all = messages();
    let mut seen_pii = 0;
    let feedback: Vec<&str> = all
        .iter()
        .filter(|(_, pii)| {
            seen_pii += usize::from(*pii);
            !*pii || seen_pii % 10 == 0
        })
        .map(|(t, _)| t.as_str())
        .collect();
    let dense: Vec<&str> = all.iter().map(|(t, _)| t.as_str()).collect();
    let redactor = Redactor::new();

    let mut group = c.benchmark_group("redact");
    for (name, corpus) in [("feedback", &feedback), ("pii_dense", &dense)] {
        let bytes: usize = corpus.iter().map(|t| t.len()).sum();
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), corpus, |b, corpus| {
            b.iter(|| {
                let mut n = 0;
                for t in corpus.iter() {
                    n += redactor.redact(t).findings.len();
                }
                n
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
