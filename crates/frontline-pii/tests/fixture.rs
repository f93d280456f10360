//! Precision and recall over the labelled fixture must not regress.
//! Regenerate the fixture with `scripts/gen_corpus.py`; see the README.

#[path = "../examples/evaluate/score.rs"]
mod score;

use frontline_pii::{EntityKind, Redactor};

#[test]
fn precision_and_recall_floors_per_kind() {
    let jsonl = include_str!("../fixtures/labelled.jsonl");
    let examples = score::parse(jsonl);
    assert!(
        examples.len() >= 3000,
        "fixture has {} messages",
        examples.len()
    );
    let report = score::score(&Redactor::new(), &examples, 1);

    let mut failures = Vec::new();
    for kind in EntityKind::ALL {
        let c = report.by_kind.get(&kind).copied().unwrap_or_default();
        assert!(
            c.labelled >= 50,
            "{kind}: only {} labelled examples",
            c.labelled
        );
        // Checksum-validated kinds are held to a higher floor.
        let checksummed = matches!(
            kind,
            EntityKind::Card
                | EntityKind::Iban
                | EntityKind::CnId
                | EntityKind::IrId
                | EntityKind::Aadhaar
        );
        let (min_p, min_r) = if checksummed {
            (0.97, 0.97)
        } else {
            (0.95, 0.95)
        };
        if c.precision() < min_p || c.recall() < min_r {
            failures.push(format!(
                "{kind}: precision {:.3} (min {min_p}), recall {:.3} (min {min_r})",
                c.precision(),
                c.recall()
            ));
        }
    }
    let examples_of_mistakes: Vec<_> = report.mistakes.iter().take(10).collect();
    assert!(
        failures.is_empty(),
        "{failures:#?}\nfirst mistakes: {examples_of_mistakes:#?}"
    );
}
