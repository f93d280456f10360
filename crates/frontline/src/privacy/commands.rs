//! The privacy commands: `redact`, `purge`, `subject export|erase`,
//! `keys rotate|status`.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{bail, Context};

use super::subjects::{self, Identifier};
use super::{retention, KeyRing};
use crate::auth::cli_actor;
use crate::config::Config;
use crate::domain::DataClass;
use crate::storage::Store;

/// Who a data request is about: `--email` or `--phone`.
#[derive(clap::Args)]
pub struct Who {
    /// The person's email address.
    #[arg(long, required_unless_present = "phone", conflicts_with = "phone")]
    email: Option<String>,
    /// The person's phone number.
    #[arg(long)]
    phone: Option<String>,
    /// Country for a phone number written without `+`.
    #[arg(long, default_value = "US")]
    region: String,
}

#[derive(clap::Subcommand)]
pub enum SubjectCommand {
    /// Print everything held about one person as JSON (decrypted; audited).
    Export(Who),
    /// Erase one person: their data key, contact, raw text and consent.
    Erase {
        #[command(flatten)]
        who: Who,
        /// Delete their feedback rows too, instead of keeping them anonymous.
        #[arg(long)]
        delete_feedback: bool,
    },
}

#[derive(clap::Subcommand)]
pub enum KeysCommand {
    /// Add a key version to the key file and re-wrap every subject's data key under it.
    Rotate,
    /// Show the key versions and how many subjects each one wraps.
    Status,
}

/// `frontline redact`: standard input to standard output, redacted.
pub fn redact(json: bool) -> anyhow::Result<ExitCode> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("cannot read standard input (is it UTF-8 text?)")?;
    let preparer = crate::intake::Preparer::default();
    let r = preparer.redactor().redact(&text);
    if json {
        let findings: Vec<_> = r
            .findings
            .iter()
            .map(|f| {
                serde_json::json!({
                    "kind": f.kind.as_str(),
                    "start": f.start,
                    "end": f.end,
                    "confidence": f.confidence,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({ "text": r.text, "findings": findings })
        );
    } else {
        print!("{}", r.text);
    }
    Ok(ExitCode::SUCCESS)
}

/// `frontline purge [--dry-run]`.
pub async fn purge(config: &Config, store: &Store, dry_run: bool) -> anyhow::Result<ExitCode> {
    let r = retention::purge_as(store, &config.retention, dry_run, "cli").await?;
    let rt = &config.retention;
    println!(
        "{}",
        if dry_run {
            "would purge (dry run, nothing changed):"
        } else {
            "purged:"
        }
    );
    println!(
        "  raw_text  {:>8} items  (raw text older than {} days)",
        r.raw_text, rt.raw_text_days
    );
    println!(
        "  contact   {:>8} items  (contact and consent older than {} days)",
        r.contact, rt.contact_days
    );
    println!(
        "  feedback  {:>8} items  (feedback older than {} days)",
        r.feedback, rt.feedback_days
    );
    println!(
        "  subjects  {:>8}        (people with no sealed data left, with their keys)",
        r.subjects
    );
    Ok(ExitCode::SUCCESS)
}

/// `frontline subject export|erase`.
pub async fn subject(
    config: &Config,
    store: &Store,
    cmd: SubjectCommand,
) -> anyhow::Result<ExitCode> {
    let ring = config.key_ring().context("cannot load the sealing keys")?;
    let parse = |w: &Who| {
        Identifier::parse(w.email.as_deref(), w.phone.as_deref(), Some(&w.region))
            .map_err(|e| anyhow::anyhow!("{e}"))
    };
    match cmd {
        SubjectCommand::Export(who) => {
            let who = parse(&who)?;
            let audit = cli_actor("subject.export", DataClass::Contact, None);
            let Some(out) = subjects::export(store, &ring, &who, audit).await? else {
                eprintln!("no one with that email or phone is on record");
                return Ok(ExitCode::FAILURE);
            };
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        SubjectCommand::Erase {
            who,
            delete_feedback,
        } => {
            let who = parse(&who)?;
            let audit = cli_actor("subject.erase", DataClass::Contact, None);
            let Some(r) = subjects::erase(store, &ring, &who, delete_feedback, audit).await? else {
                eprintln!("no one with that email or phone is on record");
                return Ok(ExitCode::FAILURE);
            };
            println!("erased {} ({} subjects)", r.subject_id, r.subjects_erased);
            if delete_feedback {
                println!("  feedback deleted:      {}", r.feedback_deleted);
            } else {
                println!(
                    "  feedback anonymised:   {} (contact, raw text and consent removed; redacted text and scores kept)",
                    r.feedback_anonymised
                );
            }
            println!("  identifiers removed:   {}", r.identifiers_removed);
            println!(
                "  data key deleted:      {}",
                if r.key_deleted { "yes" } else { "no" }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `frontline keys rotate|status`.
pub async fn keys(config: &Config, store: &Store, cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCommand::Status => {
            let ring = config.key_ring().context("cannot load the sealing keys")?;
            let counts = subjects::key_versions(store).await?;
            println!(
                "current key version: {} ({})",
                ring.current_version(),
                if config.privacy.keys.is_empty() {
                    format!("key file {}", config.key_file().display())
                } else {
                    "privacy.keys".to_owned()
                }
            );
            for v in ring.versions() {
                let n = counts
                    .iter()
                    .find(|(cv, _)| *cv == v)
                    .map_or(0, |(_, n)| *n);
                println!("  version {v:>3}: {n} subjects");
            }
            for (v, n) in counts.iter().filter(|(v, _)| !ring.versions().contains(v)) {
                println!("  version {v:>3}: {n} subjects  (MISSING from the key ring: their data cannot be opened)");
            }
        }
        KeysCommand::Rotate => {
            if !config.privacy.keys.is_empty() {
                bail!(
                    "the keys come from privacy.keys (FRONTLINE_PRIVACY_KEYS), which this command \
                     cannot change: add a version to that value instead (append ;N=<base64 of 32 \
                     random bytes> with N one above the highest) and restart the servers; they \
                     re-wrap every subject's data key in the background"
                );
            }
            let path = config.key_file();
            if !path.exists() {
                bail!(
                    "there is no key file at {} yet: nothing to rotate (it is created on first start)",
                    path.display()
                );
            }
            let mut ring = KeyRing::load_or_create(&path)?;
            let version = ring.rotate();
            ring.save(&path)?;
            println!("added key version {version} to {}", path.display());
            rewrap_all(store, &ring).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn rewrap_all(store: &Store, ring: &KeyRing) -> anyhow::Result<()> {
    let current = ring.current_version();
    let total: i64 = subjects::key_versions(store)
        .await?
        .iter()
        .filter(|(v, _)| *v < current)
        .map(|(_, n)| n)
        .sum();
    let bar = indicatif::ProgressBar::new(u64::try_from(total).unwrap_or(0));
    bar.set_style(
        indicatif::ProgressStyle::with_template("re-wrapping {bar:40} {pos}/{len} subjects")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut done = 0;
    loop {
        let n = subjects::rewrap_batch(store, ring, 500, "cli")
            .await
            .context(
                "re-wrapping stopped; run `frontline keys rotate` again, or let a server finish it",
            )?;
        if n == 0 {
            break;
        }
        done += n;
        bar.inc(n);
    }
    bar.finish_and_clear();
    println!("re-wrapped {done} subjects' data keys under version {current}");
    Ok(())
}
