//! Dashboard pages over a large database: a real Frontline server on the
//! database `bench_scorecard` loaded and kept (10 million feedback items and
//! 1 million tickets by default), a live morning on top of it through the
//! API (complaints that open signals, an incident with a published update),
//! then every dashboard page requested by a signed-in admin over loopback.
//!
//!   FRONTLINE_BENCH_KEEP=/tmp/big cargo run --release -p frontline --example bench_scorecard
//!   FRONTLINE_BENCH_KEEP=/tmp/big cargo run --release -p frontline --example bench_dashboard -- [runs]
//!
//! On PostgreSQL, give both the same FRONTLINE_BENCH_DATABASE_URL, and
//! this one the schema `bench_scorecard` kept (the name it was given as
//! FRONTLINE_BENCH_KEEP) as FRONTLINE_BENCH_SCHEMA. FRONTLINE_BENCH_KEEP
//! must still be set here, but on PostgreSQL its value is not used:
//!
//!   FRONTLINE_BENCH_DATABASE_URL=postgres://... FRONTLINE_BENCH_KEEP=big cargo run --release -p frontline --example bench_scorecard
//!   FRONTLINE_BENCH_DATABASE_URL=postgres://... FRONTLINE_BENCH_KEEP=big FRONTLINE_BENCH_SCHEMA=big cargo run --release -p frontline --example bench_dashboard -- [runs]
//!
//! Prints p50/p95 of the time to the whole response per page (server time
//! plus a loopback round trip), 30 runs per page by default.

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::{json, Value};

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn hidden(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let rest = &html[at..];
    let v = rest.find("value=\"")? + 7;
    Some(rest[v..v + rest[v..].find('"')?].to_owned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(30)
        .max(1);
    let keep = std::env::var("FRONTLINE_BENCH_KEEP").map_err(|_| {
        anyhow::anyhow!(
            "set FRONTLINE_BENCH_KEEP to what bench_scorecard kept (SQLite: its directory; \
             PostgreSQL: any value, and FRONTLINE_BENCH_SCHEMA to its schema): \
             FRONTLINE_BENCH_KEEP=/tmp/big cargo run --release -p frontline --example bench_scorecard"
        )
    })?;
    let pg_base = std::env::var("FRONTLINE_BENCH_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let scratch = tempfile::tempdir()?;
    let mut env = BTreeMap::new();
    let dir = if pg_base.is_some() {
        scratch.path().display().to_string()
    } else {
        keep.clone()
    };
    env.insert("FRONTLINE_DATA_DIR".to_owned(), dir);
    env.insert("FRONTLINE_HTTP_ADDR".to_owned(), "127.0.0.1:0".to_owned());
    env.insert("FRONTLINE_LOG_LEVEL".to_owned(), "warn".to_owned());
    // The loaded tickets were solved long ago: closing them all is not
    // what is measured.
    env.insert(
        "FRONTLINE_TICKETS_CLOSE_SOLVED_AFTER_HOURS".to_owned(),
        "0".to_owned(),
    );
    if let Ok(base) = std::env::var("FRONTLINE_BENCH_DATABASE_URL") {
        let schema = std::env::var("FRONTLINE_BENCH_SCHEMA").map_err(|_| {
            anyhow::anyhow!("set FRONTLINE_BENCH_SCHEMA to the schema bench_scorecard kept")
        })?;
        let sep = if base.contains('?') { '&' } else { '?' };
        env.insert(
            "FRONTLINE_DATABASE_URL".to_owned(),
            format!("{base}{sep}options=-c%20search_path%3D{schema}"),
        );
    }
    let config = frontline::Config::load_from(None, &env)?;
    let running = frontline::start(config, false).await?;
    let store = running.state.store.clone();
    let base = format!("http://{}", running.addr);
    let items = store
        .fetch_optional("SELECT COUNT(*) AS n FROM feedback", vec![])
        .await?
        .map(|r| r.get::<i64>("n"))
        .transpose()?
        .unwrap_or(0);
    println!("backend: {}, {items} feedback items", store.backend());

    let email = format!(
        "bench-{}@example.com",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    let password = "bench-password-0123456789";
    store
        .create_user(
            frontline::storage::NewUser {
                email: frontline::domain::user::Email::parse(&email)?,
                name: "Bench Admin".into(),
                role: "admin".into(),
                password_hash: frontline::auth::hash_password(password)?,
            },
            frontline::auth::cli_actor("user.create", frontline::domain::DataClass::Settings, None),
        )
        .await?;
    let (_, token) = store
        .create_token(
            frontline::storage::NewToken {
                name: "bench".into(),
                role: "admin".into(),
                expires_at: frontline::storage::now_ms() + 3_600_000,
                created_by: None,
            },
            frontline::auth::cli_actor(
                "token.create",
                frontline::domain::DataClass::Settings,
                None,
            ),
        )
        .await?;

    // A live morning: complaints that open signals, an incident with an
    // update on the status page.
    let api = reqwest::Client::new();
    let texts = [
        "Got an SMS asking me to verify my account at https://examp1e-bank-verify.top/login, is this a scam?",
        "I can't log in to my account, it says my password is wrong",
        "The app is down, nothing loads",
    ];
    for round in 0..3 {
        let batch: Vec<Value> = (0..30)
            .map(|i| json!({"kind": "complaint", "text": texts[(i + round) % texts.len()], "component": "login", "region": "eu-west", "channel": "app"}))
            .collect();
        api.post(format!("{base}/api/v1/feedback/batch"))
            .bearer_auth(&token)
            .json(&batch)
            .send()
            .await?
            .error_for_status()?;
    }
    let inc: Value = api
        .post(format!("{base}/api/v1/incidents"))
        .bearer_auth(&token)
        .json(&json!({"title": "Phishing SMS campaign", "severity": "SEV3"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let incident = inc["id"].as_str().unwrap_or_default().to_owned();
    api.post(format!("{base}/api/v1/incidents/{incident}/updates"))
        .bearer_auth(&token)
        .json(&json!({"status": "investigating", "body": "We never ask for passwords by SMS."}))
        .send()
        .await?
        .error_for_status()?;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let first = |v: Value| -> String {
        v.as_array()
            .or_else(|| v["items"].as_array())
            .and_then(|l| l.first())
            .and_then(|x| x["id"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let get = |path: &str| api.get(format!("{base}{path}")).bearer_auth(&token).send();
    let feedback = first(get("/api/v1/feedback?limit=1").await?.json().await?);
    let ticket = first(get("/api/v1/tickets?limit=1").await?.json().await?);
    let signal = first(get("/api/v1/signals").await?.json().await?);

    let browser = reqwest::Client::builder().cookie_store(true).build()?;
    let form = browser
        .get(format!("{base}/login"))
        .send()
        .await?
        .text()
        .await?;
    let csrf = hidden(&form, "csrf").ok_or_else(|| anyhow::anyhow!("no csrf on /login"))?;
    let r = browser
        .post(format!("{base}/login"))
        .form(&[
            ("email", email.as_str()),
            ("password", password),
            ("csrf", &csrf),
            ("next", "/"),
        ])
        .send()
        .await?;
    anyhow::ensure!(r.status().is_success(), "sign-in failed: {}", r.status());

    let mut pages = vec![
        "/".to_owned(),
        "/overview/body".to_owned(),
        "/feedback".to_owned(),
        "/feedback?kind=nps&channel=web".to_owned(),
        "/feedback?topic=phishing_scam".to_owned(),
        "/signals".to_owned(),
        "/security".to_owned(),
        "/tickets".to_owned(),
        "/incidents".to_owned(),
        format!("/incidents/{incident}"),
        "/scorecard".to_owned(),
        "/journey".to_owned(),
        "/status".to_owned(),
    ];
    if !feedback.is_empty() {
        pages.push(format!("/feedback/{feedback}"));
    }
    if !ticket.is_empty() {
        pages.push(format!("/tickets/{ticket}"));
    }
    if !signal.is_empty() {
        pages.push(format!("/signals/{signal}"));
    }
    println!(
        "{:<34} {:>8} {:>8} {:>8} {:>9}",
        "page", "p50 ms", "p95 ms", "max ms", "bytes"
    );
    let mut all: Vec<f64> = Vec::new();
    for page in &pages {
        let mut times = Vec::with_capacity(runs);
        let mut bytes = 0;
        for i in 0..runs + 2 {
            let t = Instant::now();
            let r = browser.get(format!("{base}{page}")).send().await?;
            let status = r.status();
            let body = r.bytes().await?;
            let ms = t.elapsed().as_secs_f64() * 1e3;
            anyhow::ensure!(status.is_success(), "{page}: {status}");
            bytes = body.len();
            if i >= 2 {
                times.push(ms);
            }
        }
        times.sort_by(|a, b| a.total_cmp(b));
        all.extend(&times);
        println!(
            "{:<34} {:>8.1} {:>8.1} {:>8.1} {:>9}",
            page.chars().take(34).collect::<String>(),
            quantile(&times, 0.5),
            quantile(&times, 0.95),
            times[times.len() - 1],
            bytes
        );
    }
    all.sort_by(|a, b| a.total_cmp(b));
    println!(
        "all pages: p50 {:.1} ms, p95 {:.1} ms",
        quantile(&all, 0.5),
        quantile(&all, 0.95)
    );
    running.stop().await?;
    Ok(())
}
