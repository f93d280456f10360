//! Intake throughput, end to end: a real Frontline server on an embedded
//! SQLite file, fed over HTTP by batch requests of realistic multilingual
//! feedback (some with personal data to redact, some with sealed contacts).
//!
//!   cargo run --release -p frontline --example bench_intake -- [items] [batch] [clients]
//!
//! Prints items/s. Defaults: 200000 items, batches of 1000, 4 clients.

use std::time::Instant;

use frontline::storage::{AuditRecord, NewToken};

const TEXTS: &[&str] = &[
    "I can't log in since this morning, it says my password is wrong.",
    "There is a charge on my card 4111 1111 1111 1111 that I did not make, call me +44 7911 123456",
    "我无法登录我的账户,一直提示密码错误。请联系 zhang.wei@example.cn",
    "收不到短信验证码,试了好几次了。",
    "یک برداشت از کارت من شده که من انجام نداده‌ام. شماره من ۰۹۱۲۳۴۵۶۷۸۹ است",
    "برنامه امروز خیلی کند است و صفحه‌ها باز نمی‌شوند.",
    "મને એસએમએસ દ્વારા ઓટીપી મળતો નથી.",
    "આ મહિને મારી પાસેથી બે વાર પૈસા કાપવામાં આવ્યા.",
    "Got a strange SMS from 'your bank' with a link http://secure-login.example.net/verify?token=abc123",
    "The app is very slow today, pages take forever to load.",
];

fn item(i: usize) -> serde_json::Value {
    match i % 10 {
        0..=3 => {
            serde_json::json!({"kind": "complaint", "text": TEXTS[i % TEXTS.len()], "component": "login", "region": "eu-west", "channel": "app"})
        }
        4..=6 => serde_json::json!({"kind": "nps", "score": (i % 11) as i64, "language": "en"}),
        7 | 8 => {
            serde_json::json!({"kind": "csat", "score": (i % 5 + 1) as i64, "text": TEXTS[(i / 7) % TEXTS.len()]})
        }
        _ => serde_json::json!({"kind": "complaint", "text": TEXTS[i % TEXTS.len()],
            "contact": {"email": format!("customer{}@example.com", i % 5000)},
            "consent": {"given": true, "text": "You may contact me"}}),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let total = args.first().copied().unwrap_or(200_000);
    let batch = args.get(1).copied().unwrap_or(1000);
    let clients = args.get(2).copied().unwrap_or(4);

    let dir = tempfile::tempdir()?;
    let mut env = std::collections::BTreeMap::new();
    env.insert(
        "FRONTLINE_DATA_DIR".to_owned(),
        dir.path().display().to_string(),
    );
    env.insert("FRONTLINE_HTTP_ADDR".to_owned(), "127.0.0.1:0".to_owned());
    let config = frontline::Config::load_from(None, &env)?;
    let running = frontline::start(config, false).await?;
    let store = running.state.store.clone();
    let audit = AuditRecord {
        actor: "bench".into(),
        address: None,
        action: "bench".into(),
        class: frontline::domain::DataClass::Settings,
        record: None,
        detail: serde_json::json!({}),
    };
    let (_, token) = store
        .create_token(
            NewToken {
                name: "bench".into(),
                role: "cx_agent".into(),
                expires_at: frontline::storage::now_ms() + 3_600_000,
                created_by: None,
            },
            audit,
        )
        .await?;
    let url = format!("http://{}/api/v1/feedback/batch", running.addr);
    // Bodies are made before the clock starts: we measure the server.
    let bodies: Vec<String> = (0..total.div_ceil(batch))
        .map(|b| {
            let items: Vec<_> = (b * batch..((b + 1) * batch).min(total))
                .map(item)
                .collect();
            serde_json::to_string(&items).unwrap_or_default()
        })
        .collect();
    let per_client: Vec<Vec<String>> = (0..clients)
        .map(|c| bodies.iter().skip(c).step_by(clients).cloned().collect())
        .collect();
    let client = reqwest::Client::new();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for bodies in per_client {
        let (client, url, token) = (client.clone(), url.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut created = 0u64;
            for body in bodies {
                let resp = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await?;
                anyhow::ensure!(resp.status().is_success(), "status {}", resp.status());
                let r: serde_json::Value = resp.json().await?;
                created += r["created"].as_u64().unwrap_or(0);
            }
            Ok::<_, anyhow::Error>(created)
        }));
    }
    let mut created = 0;
    for t in tasks {
        created += t.await??;
    }
    let secs = start.elapsed().as_secs_f64();
    let stored = store
        .fetch_optional("SELECT COUNT(*) AS n FROM feedback", vec![])
        .await?;
    let stored: i64 = stored.map(|r| r.get("n")).transpose()?.unwrap_or(0);
    println!(
        "intake: {created} items in {secs:.2} s = {:.0} items/s (batch {batch}, {clients} clients, SQLite, redaction on; {stored} rows stored)",
        created as f64 / secs
    );
    running.stop().await?;
    Ok(())
}
