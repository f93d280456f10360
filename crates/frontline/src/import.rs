//! `frontline import`: feedback from CSV, JSON (an array) or NDJSON
//! exports. Columns are mapped by name (case-insensitive); every row goes
//! through the same parsing and redaction as the API; bad rows are reported
//! with their line (or array index) and the good ones kept. Rows are stored
//! in batches of 1000, one transaction and one audit entry each.
//! Re-importing a file stores nothing twice: each row carries an
//! idempotency key from its source id, or else from a hash of the row.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

use crate::auth::cli_actor;
use crate::config::Config;
use crate::domain::feedback::Channel;
use crate::domain::DataClass;
use crate::intake::{ConsentInput, ContactInput, FeedbackInput, Policy, Preparer};
use crate::privacy::KeyRing;
use crate::storage::feedback::{PreparedFeedback, Stored};
use crate::storage::Store;

/// Rows stored per transaction.
const BATCH: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Json,
    Ndjson,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mapping {
    /// Columns named like the API's fields (see the README).
    Generic,
    /// A Zendesk satisfaction-ratings export.
    Zendesk,
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The export to read.
    pub file: PathBuf,
    /// Default: from the file's extension (.csv, .json, .ndjson/.jsonl).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    #[arg(long, value_enum, default_value = "generic")]
    pub mapping: Mapping,
    /// Channel for rows without a `channel` column.
    #[arg(long, default_value = "import")]
    pub channel: String,
    /// What customers agreed to, for rows with a true `consent` column but
    /// no `consent_text` column. Without either, contacts are left out.
    #[arg(long)]
    pub consent_text: Option<String>,
    /// Country for phone numbers written without `+`.
    #[arg(long, default_value = "US")]
    pub phone_region: String,
    /// Check and count everything; store nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// One row of the file: where it is, and its fields by lowercased name.
struct Record {
    /// "line 7" or "item 3".
    place: String,
    fields: Vec<(String, String)>,
}

impl Record {
    fn get(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| {
            self.fields
                .iter()
                .find(|(k, v)| k == n && !v.trim().is_empty())
                .map(|(_, v)| v.trim())
        })
    }

    /// A key for rows without an id: the same row gives the same key.
    fn hash(&self, mapping: Mapping) -> String {
        let mut fields = self.fields.clone();
        fields.sort();
        let mut h = Sha256::new();
        h.update(format!("{mapping:?}").as_bytes());
        for (k, v) in &fields {
            h.update(k.as_bytes());
            h.update([0]);
            h.update(v.trim().as_bytes());
            h.update([0]);
        }
        hex::encode(&h.finalize()[..16])
    }
}

/// What one row turns into.
enum Mapped {
    Item(Box<FeedbackInput>, ContactFate),
    /// Not feedback (a Zendesk rating that was never given): why.
    Skip(String),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ContactFate {
    None,
    Kept,
    /// Contact columns present, but no consent (or no consent text).
    LeftOut,
}

const TRUE_ISH: &[&str] = &["true", "yes", "y", "1", "on", "x", "opt-in", "opted in"];

fn map_generic(r: &Record, consent_default: Option<&str>) -> Result<Mapped, String> {
    let score = r.get(&["score", "rating"]).map(parse_score).transpose()?;
    let kind = r
        .get(&["kind", "type"])
        .unwrap_or(if score.is_some() { "" } else { "comment" })
        .to_ascii_lowercase();
    if kind.is_empty() {
        return Err("kind: missing (nps, csat, ces or scale for a row with a score)".into());
    }
    let occurred_at = r
        .get(&["occurred_at", "created_at", "submitted_at", "date"])
        .map(parse_time)
        .transpose()?;
    let name = r.get(&["name", "customer_name"]);
    let email = r.get(&["email", "e-mail", "email_address"]);
    let phone = r.get(&["phone", "phone_number", "mobile"]);
    let consent = r
        .get(&["consent", "consent_given"])
        .is_some_and(|c| TRUE_ISH.contains(&c.to_ascii_lowercase().as_str()));
    let consent_text = r.get(&["consent_text"]).or(consent_default);
    let (contact, consent, fate) = match (email.is_some() || phone.is_some(), consent, consent_text)
    {
        (false, _, _) => (None, None, ContactFate::None),
        (true, true, Some(text)) => (
            Some(ContactInput {
                name: name.map(str::to_owned),
                email: email.map(str::to_owned),
                phone: phone.map(str::to_owned),
            }),
            Some(ConsentInput {
                given: true,
                text: text.to_owned(),
            }),
            ContactFate::Kept,
        ),
        (true, _, _) => (None, None, ContactFate::LeftOut),
    };
    let idempotency_key = match (r.get(&["idempotency_key"]), r.get(&["id"])) {
        (Some(k), _) => k.to_owned(),
        (None, Some(id)) => format!("import:{id}"),
        (None, None) => format!("import:sha256:{}", r.hash(Mapping::Generic)),
    };
    let text = |names: &[&str]| r.get(names).map(str::to_owned);
    Ok(Mapped::Item(
        Box::new(FeedbackInput {
            kind,
            score,
            text: text(&["text", "comment", "message", "feedback"]),
            language: text(&["language", "lang"]),
            channel: text(&["channel"]).map(|c| c.to_ascii_lowercase()),
            component: text(&["component"]),
            region: text(&["region"]),
            segment: text(&["segment"]),
            journey_stage: text(&["journey_stage", "journey", "stage"]),
            touchpoint: text(&["touchpoint"]),
            contact,
            consent,
            occurred_at,
            idempotency_key: Some(idempotency_key),
        }),
        fate,
    ))
}

fn map_zendesk(r: &Record) -> Result<Mapped, String> {
    let score = match r.get(&["score"]).map(str::to_ascii_lowercase).as_deref() {
        Some("good") => 5,
        Some("bad") => 1,
        Some(s @ ("offered" | "unoffered")) => {
            return Ok(Mapped::Skip(format!(
                "score {s}: the customer gave no rating"
            )))
        }
        Some(_) => return Err("score: expected good, bad, offered or unoffered".into()),
        None => return Err("score: missing".into()),
    };
    let occurred_at = r.get(&["created_at"]).map(parse_time).transpose()?;
    let idempotency_key = match r.get(&["id"]) {
        Some(id) => format!("zendesk:{id}"),
        None => format!("zendesk:sha256:{}", r.hash(Mapping::Zendesk)),
    };
    Ok(Mapped::Item(
        Box::new(FeedbackInput {
            kind: "csat".into(),
            score: Some(score),
            text: r.get(&["comment"]).map(str::to_owned),
            touchpoint: r.get(&["ticket_id"]).map(|t| format!("ticket:{t}")),
            occurred_at,
            idempotency_key: Some(idempotency_key),
            // The requester's details are not imported: no consent.
            ..Default::default()
        }),
        ContactFate::None,
    ))
}

fn parse_score(s: &str) -> Result<i64, String> {
    let bad = || "score: not a whole number".to_owned();
    match s.parse::<i64>() {
        Ok(v) => Ok(v),
        Err(_) => {
            let f: f64 = s.parse().map_err(|_| bad())?;
            if f.fract() == 0.0 && f.abs() < 1e9 {
                Ok(f as i64)
            } else {
                Err(bad())
            }
        }
    }
}

/// RFC 3339, or `YYYY-MM-DD HH:MM:SS` (also with `T`) taken as UTC.
fn parse_time(s: &str) -> Result<String, String> {
    if chrono::DateTime::parse_from_rfc3339(s).is_ok() {
        return Ok(s.to_owned());
    }
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return Ok(t.and_utc().to_rfc3339());
        }
    }
    Err("occurred_at: must be an RFC 3339 time or YYYY-MM-DD HH:MM:SS (UTC)".into())
}

/// Reads the rows of the file: each a record, or why it could not be read.
fn read_records(
    bytes: &[u8],
    format: Format,
) -> anyhow::Result<Vec<Result<Record, (String, String)>>> {
    let lower = |k: &str| k.trim().trim_start_matches('\u{feff}').to_lowercase();
    match format {
        Format::Csv => {
            let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
            let headers: Vec<String> = rdr
                .headers()
                .context("cannot read the CSV header line")?
                .iter()
                .map(lower)
                .collect();
            let mut out = Vec::new();
            for rec in rdr.records() {
                match rec {
                    Ok(rec) => {
                        let line = rec.position().map_or(0, |p| p.line());
                        out.push(Ok(Record {
                            place: format!("line {line}"),
                            fields: headers
                                .iter()
                                .cloned()
                                .zip(rec.iter().map(str::to_owned))
                                .collect(),
                        }));
                    }
                    Err(e) => {
                        let line = e.position().map_or(0, |p| p.line());
                        let why = match e.kind() {
                            csv::ErrorKind::UnequalLengths { .. } => {
                                "the row has a different number of fields than the header"
                            }
                            csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8",
                            _ => "the row cannot be read as CSV",
                        };
                        out.push(Err((format!("line {line}"), why.to_owned())));
                    }
                }
            }
            Ok(out)
        }
        Format::Json => {
            let v: serde_json::Value = serde_json::from_slice(bytes)
                .map_err(|e| anyhow::anyhow!("the file is not valid JSON (line {}, column {}); for one object per line use --format ndjson", e.line(), e.column()))?;
            let serde_json::Value::Array(items) = v else {
                bail!(
                    "expected a JSON array of objects; for one object per line use --format ndjson"
                );
            };
            Ok(items
                .into_iter()
                .enumerate()
                .map(|(i, v)| object_record(format!("item {i}"), v, lower))
                .collect())
        }
        Format::Ndjson => Ok(bytes
            .split(|b| *b == b'\n')
            .enumerate()
            .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
            .map(|(i, l)| {
                let place = format!("line {}", i + 1);
                match serde_json::from_slice::<serde_json::Value>(l) {
                    Ok(v) => object_record(place, v, lower),
                    Err(_) => Err((place, "not a JSON object".into())),
                }
            })
            .collect()),
    }
}

fn object_record(
    place: String,
    v: serde_json::Value,
    lower: impl Fn(&str) -> String,
) -> Result<Record, (String, String)> {
    let serde_json::Value::Object(map) = v else {
        return Err((place, "not a JSON object".into()));
    };
    let mut fields = Vec::with_capacity(map.len());
    for (k, v) in map {
        let v = match v {
            serde_json::Value::Null => continue,
            serde_json::Value::String(s) => s,
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => {
                return Err((
                    place,
                    format!("{}: expected text, a number or true/false", lower(&k)),
                ))
            }
        };
        fields.push((lower(&k), v));
    }
    Ok(Record { place, fields })
}

#[derive(Default)]
struct Summary {
    read: usize,
    imported: usize,
    duplicates: usize,
    rejected: usize,
    skipped: usize,
    contacts_kept: usize,
    contacts_left_out: usize,
}

/// `frontline import`.
pub async fn run(config: &Config, store: &Store, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let format = match args.format {
        Some(f) => f,
        None => match args
            .file
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Format::Csv,
            Some("json") => Format::Json,
            Some("ndjson" | "jsonl") => Format::Ndjson,
            _ => bail!(
                "cannot tell the format of {} from its name: add --format csv, json or ndjson",
                args.file.display()
            ),
        },
    };
    let default_channel =
        Channel::parse(&args.channel).map_err(|e| anyhow::anyhow!("--channel: {e}"))?;
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let records = read_records(&bytes, format)?;
    drop(bytes);
    let ring = config.key_ring().context("cannot load the sealing keys")?;
    let policy = Policy {
        default_channel,
        phone_region: args.phone_region.to_ascii_uppercase(),
        ..Policy::default()
    };
    let preparer = Preparer::default();
    preparer
        .lexicons()
        .refresh(store)
        .await
        .context("cannot load the lexicon")?;
    let bar = indicatif::ProgressBar::new(records.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("importing {bar:40} {pos}/{len} rows {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let report = |place: &str, what: &str, why: &str| {
        bar.suspend(|| eprintln!("{place}: {what}: {why}"));
    };
    let mut sum = Summary::default();
    let mut batch: Vec<(PreparedFeedback, ContactFate)> = Vec::with_capacity(BATCH);
    for rec in records {
        sum.read += 1;
        bar.inc(1);
        let rec = match rec {
            Ok(r) => r,
            Err((place, why)) => {
                sum.rejected += 1;
                report(&place, "rejected", &why);
                continue;
            }
        };
        let mapped = match args.mapping {
            Mapping::Generic => map_generic(&rec, args.consent_text.as_deref()),
            Mapping::Zendesk => map_zendesk(&rec),
        };
        match mapped {
            Err(why) => {
                sum.rejected += 1;
                report(&rec.place, "rejected", &why);
            }
            Ok(Mapped::Skip(why)) => {
                sum.skipped += 1;
                report(&rec.place, "skipped", &why);
            }
            Ok(Mapped::Item(input, fate)) => match preparer.prepare(*input, &policy, None) {
                Ok(item) => {
                    batch.push((item, fate));
                    if batch.len() >= BATCH {
                        store_batch(store, &ring, &mut batch, args.dry_run, &mut sum, &args)
                            .await?;
                    }
                }
                Err(e) => {
                    sum.rejected += 1;
                    report(&rec.place, "rejected", &e.to_string());
                }
            },
        }
    }
    store_batch(store, &ring, &mut batch, args.dry_run, &mut sum, &args).await?;
    bar.finish_and_clear();
    println!(
        "{}{}",
        args.file.display(),
        if args.dry_run {
            " (dry run: nothing stored)"
        } else {
            ""
        }
    );
    println!("read:       {}", sum.read);
    println!("imported:   {}", sum.imported);
    println!("duplicates: {}", sum.duplicates);
    println!("rejected:   {}", sum.rejected);
    if sum.skipped > 0 {
        println!("skipped:    {} (not feedback)", sum.skipped);
    }
    if sum.contacts_kept + sum.contacts_left_out > 0 {
        println!(
            "contacts:   {} kept (sealed), {} left out (no consent, or no consent text: see --consent-text)",
            sum.contacts_kept, sum.contacts_left_out
        );
    }
    Ok(if sum.read > 0 && sum.rejected == sum.read {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn store_batch(
    store: &Store,
    ring: &KeyRing,
    batch: &mut Vec<(PreparedFeedback, ContactFate)>,
    dry_run: bool,
    sum: &mut Summary,
    args: &ImportArgs,
) -> anyhow::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let (items, fates): (Vec<_>, Vec<_>) = std::mem::take(batch).into_iter().unzip();
    let stored = if dry_run {
        // The same work in a transaction that is rolled back.
        let mut tx = store.begin().await?;
        tx.insert_feedback(ring, &items).await?
    } else {
        let mut audit = cli_actor("feedback.import", DataClass::Feedback, None);
        audit.detail =
            serde_json::json!({ "mapping": format!("{:?}", args.mapping).to_lowercase() });
        store
            .store_feedback(ring, &items, audit, None)
            .await
            .with_context(|| {
                format!(
                    "storing stopped after {} rows; run the same import again to finish (rows already stored count as duplicates)",
                    sum.imported + sum.duplicates
                )
            })?
    };
    for (s, fate) in stored.iter().zip(fates) {
        match s {
            Stored::Created { .. } => {
                sum.imported += 1;
                match fate {
                    ContactFate::Kept => sum.contacts_kept += 1,
                    ContactFate::LeftOut => sum.contacts_left_out += 1,
                    ContactFate::None => {}
                }
            }
            Stored::Duplicate { .. } => sum.duplicates += 1,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_either_form() {
        assert_eq!(
            parse_time("2026-01-02 03:04:05").unwrap(),
            "2026-01-02T03:04:05+00:00"
        );
        assert!(parse_time("2026-01-02T03:04:05Z").is_ok());
        assert!(parse_time("02/01/2026").is_err());
    }

    #[test]
    fn csv_rows_carry_their_line() {
        let recs = read_records(b"Kind,Score\nnps,9\n\"csat\",\"4\"\nnps\n", Format::Csv).unwrap();
        assert_eq!(recs.len(), 3);
        let r = recs[1].as_ref().ok().unwrap();
        assert_eq!(r.place, "line 3");
        assert_eq!(r.get(&["kind"]), Some("csat"));
        assert_eq!(recs[2].as_ref().err().unwrap().0, "line 4");
    }
}
