//! Reports topic macro F1 and language accuracy per language on
//! `fixtures/topics.jsonl`.
//!
//! `cargo run --release -p frontline-detect --example topics [-- --errors]`

#[path = "topics_eval/mod.rs"]
mod topics_eval;

use frontline_detect::Analyzer;

fn main() {
    let show_errors = std::env::args().any(|a| a == "--errors");
    let set = match topics_eval::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fixture: {e}");
            std::process::exit(1);
        }
    };
    let analyzer = Analyzer::builtin();
    let report = match topics_eval::evaluate(&analyzer, &set) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    println!("lang     n  accuracy  macro-F1  language-id");
    for (lang, r) in &report {
        println!(
            "{lang:>4} {:>5}  {:>8.3}  {:>8.3}  {:>11.3}",
            r.n, r.accuracy, r.macro_f1, r.language_accuracy
        );
    }
    for (lang, r) in &report {
        let per: Vec<String> = r
            .per_topic
            .iter()
            .map(|(t, f)| format!("{t}={f:.2}"))
            .collect();
        println!("{lang}: {}", per.join(" "));
        if show_errors {
            for (text, gold, got) in &r.errors {
                println!("    gold {gold:<15} got {got:<15} {text}");
            }
        }
    }
}
