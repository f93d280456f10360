//! Per-kind precision and recall over a labelled JSONL fixture, and speed.
//!
//! ```text
//! cargo run --release -p frontline-pii --example evaluate -- crates/frontline-pii/fixtures/labelled.jsonl [--rounds N] [--mistakes N]
//! ```

mod score;

use frontline_pii::Redactor;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut rounds = 20;
    let mut show_mistakes = 0;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rounds" => rounds = args.next().and_then(|v| v.parse().ok()).unwrap_or(rounds),
            "--mistakes" => show_mistakes = args.next().and_then(|v| v.parse().ok()).unwrap_or(20),
            _ => path = Some(a),
        }
    }
    let path =
        path.unwrap_or_else(|| format!("{}/fixtures/labelled.jsonl", env!("CARGO_MANIFEST_DIR")));
    let jsonl = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            std::process::exit(2);
        }
    };
    let examples = score::parse(&jsonl);
    let redactor = Redactor::new();
    let report = score::score(&redactor, &examples, rounds);

    println!(
        "{:<10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "kind", "labelled", "predicted", "precision", "recall", "exact", "f1"
    );
    let mut total = score::Counts::default();
    for (kind, c) in &report.by_kind {
        let (p, r) = (c.precision(), c.recall());
        let f1 = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        println!(
            "{:<10} {:>9} {:>9} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
            kind.as_str(),
            c.labelled,
            c.predicted,
            p,
            r,
            if c.found == 0 {
                0.0
            } else {
                c.exact as f64 / c.found as f64
            },
            f1
        );
        total.labelled += c.labelled;
        total.predicted += c.predicted;
        total.correct += c.correct;
        total.found += c.found;
        total.exact += c.exact;
    }
    println!(
        "{:<10} {:>9} {:>9} {:>9.3} {:>9.3}",
        "all",
        total.labelled,
        total.predicted,
        total.precision(),
        total.recall()
    );
    println!(
        "\n{} messages, {:.2} MB x {} rounds in {:.3} s: {:.1} MB/s (one core)",
        examples.len(),
        report.bytes as f64 / rounds.max(1) as f64 / 1e6,
        rounds,
        report.elapsed.as_secs_f64(),
        report.mb_per_s()
    );
    for m in report.mistakes.iter().take(show_mistakes) {
        println!("{m}");
    }
}
