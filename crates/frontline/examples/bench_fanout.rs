//! Fan-out: one update published to N confirmed email subscribers, each
//! message built (multipart, their language, List-Unsubscribe), its
//! address opened from its sealed contact, sent over SMTP to the local
//! mail catcher on loopback, and its outcome recorded in the outbox.
//!
//!   cargo run --release -p frontline --example bench_fanout -- [subscribers] [concurrency] [batch]
//!
//! Prints the time from publishing until the last message is recorded as
//! sent, and messages/s. Defaults: 100000 subscribers, 256, 2000. Set
//! FRONTLINE_DATABASE_URL=postgres://... to run it on PostgreSQL.

use std::time::{Duration, Instant};

use frontline::notify::catcher::MailCatcher;
use frontline::notify::subscribers::Address;
use frontline::notify::Channel;
use frontline::storage::{AuditRecord, NewToken};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let total = args.first().copied().unwrap_or(100_000);
    let concurrency = args.get(1).copied().unwrap_or(256);
    let batch = args.get(2).copied().unwrap_or(2000);

    let mail = MailCatcher::start("127.0.0.1:0", false).await?;
    let dir = tempfile::tempdir()?;
    let mut env = std::collections::BTreeMap::new();
    env.insert(
        "FRONTLINE_DATA_DIR".to_owned(),
        dir.path().display().to_string(),
    );
    env.insert("FRONTLINE_HTTP_ADDR".to_owned(), "127.0.0.1:0".to_owned());
    env.insert("FRONTLINE_NOTIFY_SMTP_URL".to_owned(), mail.url());
    env.insert(
        "FRONTLINE_NOTIFY_CONCURRENCY".to_owned(),
        concurrency.to_string(),
    );
    env.insert("FRONTLINE_NOTIFY_BATCH".to_owned(), batch.to_string());
    if let Ok(url) = std::env::var("FRONTLINE_DATABASE_URL") {
        env.insert("FRONTLINE_DATABASE_URL".to_owned(), url);
    }
    let config = frontline::Config::load_from(None, &env)?;
    let running = frontline::start(config, false).await?;
    let store = running.state.store.clone();
    let ring = running.state.intake.ring.clone();
    let audit = AuditRecord {
        actor: "bench".into(),
        address: None,
        action: "bench".into(),
        class: frontline::domain::DataClass::Settings,
        record: None,
        detail: serde_json::json!({}),
    };

    let setup = Instant::now();
    let addresses: Vec<Address> = (0..total)
        .map(|i| Address::parse(Channel::Email, &format!("customer{i}@example.com"), None))
        .collect::<Result<_, _>>()?;
    let languages = ["en", "zh", "fa", "gu"];
    for (i, chunk) in addresses
        .chunks(addresses.len().div_ceil(4).max(1))
        .enumerate()
    {
        store
            .import_confirmed_subscribers(&ring, chunk, languages[i % 4], audit.clone())
            .await?;
    }
    eprintln!(
        "{total} confirmed subscribers written in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    let (_, token) = store
        .create_token(
            NewToken {
                name: "bench".into(),
                role: "admin".into(),
                expires_at: frontline::storage::now_ms() + 3_600_000,
                created_by: None,
            },
            audit.clone(),
        )
        .await?;
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::new();
    let incident: serde_json::Value = client
        .post(format!("{base}/api/v1/incidents"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"title": "Sign-in failures", "severity": "SEV3"}))
        .send()
        .await?
        .json()
        .await?;
    let incident = incident["id"].as_str().unwrap_or_default().to_owned();

    let start = Instant::now();
    let resp = client
        .post(format!("{base}/api/v1/incidents/{incident}/updates"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"status": "investigating", "body": "Some customers cannot sign in. We are working on it and will update within 30 minutes."}))
        .send()
        .await?;
    anyhow::ensure!(
        resp.status().is_success(),
        "publishing failed: {}",
        resp.status()
    );
    let published = start.elapsed();
    loop {
        let sent: i64 = store
            .fetch_optional(
                "SELECT COUNT(*) AS n FROM outbox WHERE state = 'sent'",
                vec![],
            )
            .await?
            .map(|r| r.get("n"))
            .transpose()?
            .unwrap_or(0);
        if sent as u64 >= total {
            break;
        }
        if start.elapsed() > Duration::from_secs(600) {
            anyhow::bail!("gave up after 600 s with {sent} of {total} sent");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    let unique = mail.by_message_id().len();
    println!(
        "fan-out of one update to {total} email subscribers ({}): published (queued) in {:.2} s, all sent in {secs:.1} s, {:.0} messages/s; the SMTP server received {} messages, {unique} distinct Message-IDs",
        store.backend(),
        published.as_secs_f64(),
        total as f64 / secs,
        mail.total(),
    );
    running.stop().await?;
    Ok(())
}
