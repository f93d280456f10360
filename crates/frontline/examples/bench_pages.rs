//! From the complaint that tips a series to the page: a real Frontline
//! server on an embedded SQLite file (or the PostgreSQL database in
//! FRONTLINE_DATABASE_URL: give it a database of its own), a PagerDuty
//! route whose Events API URL is a receiver on loopback, and waves of
//! complaints posted over HTTP.
//!
//!   cargo run --release -p frontline --example bench_pages -- [runs] [components]
//!
//! Defaults: 3 runs of 6 components. In each run, every component gets
//! complaints about its own topic over two minutes (the detector does not
//! fire on one minute alone); the clock starts when the second minute's
//! complaints are sent (they tip each topic's series) and stops when the
//! receiver has the PagerDuty `trigger` of that topic's signal, placed on
//! the component. Each run has a server and database of its own, so
//! every series starts without a signal.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use frontline::storage::{AuditRecord, NewToken};
use serde_json::{json, Value};

const TOPICS: &[(&str, &str)] = &[
    ("account_access", "I can't log in to my account, it says my password is wrong"),
    ("phishing_scam", "Strange SMS pretending to be from you asking me to confirm my card at http://secure-login.example.net/verify, is this a scam?"),
    ("fraud", "There is a charge on my card that I did not make, someone took money from my account"),
    ("outage", "The app is down, nothing loads and I only get errors"),
    ("performance", "The app is very slow today, pages take forever to load"),
    ("billing", "I was billed twice this month, please refund the double charge"),
];

/// First trigger per component: when it arrived.
type Arrivals = Arc<Mutex<BTreeMap<String, Instant>>>;

async fn receiver() -> anyhow::Result<(String, Arrivals)> {
    let arrivals: Arrivals = Arc::default();
    let a = arrivals.clone();
    let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
        let a = a.clone();
        async move {
            let at = Instant::now();
            if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                // Topic series' signals, placed on the component most
                // complaints name (the repeated texts also open "same
                // message" and indicator signals on the first wave).
                let topic = v["payload"]["custom_details"]["details"]["series"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("topic=") && !s.contains('|'));
                if v["event_action"] == "trigger" && topic {
                    if let Some(c) = v["payload"]["component"].as_str() {
                        if let Ok(mut m) = a.lock() {
                            m.entry(c.to_owned()).or_insert(at);
                        }
                    }
                }
            }
            axum::http::StatusCode::ACCEPTED
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((format!("http://{addr}/v2/enqueue"), arrivals))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let runs = args.first().copied().unwrap_or(3).max(1);
    let per_run = args.get(1).copied().unwrap_or(6).clamp(1, TOPICS.len());

    let mut times = Vec::new();
    let mut backend = "";
    for run in 0..runs {
        // A server of its own per run: every series starts without a signal.
        let dir = tempfile::tempdir()?;
        let mut env = BTreeMap::new();
        env.insert(
            "FRONTLINE_DATA_DIR".to_owned(),
            dir.path().display().to_string(),
        );
        env.insert("FRONTLINE_HTTP_ADDR".to_owned(), "127.0.0.1:0".to_owned());
        env.insert("FRONTLINE_LOG_LEVEL".to_owned(), "warn".to_owned());
        env.insert(
            "FRONTLINE_NOTIFY_ALLOW_PRIVATE_TARGETS".to_owned(),
            "true".to_owned(),
        );
        if let Ok(url) = std::env::var("FRONTLINE_DATABASE_URL") {
            env.insert("FRONTLINE_DATABASE_URL".to_owned(), url);
        }
        let config = frontline::Config::load_from(None, &env)?;
        let running = frontline::start(config, false).await?;
        let store = running.state.store.clone();
        backend = store.backend();
        let (_, token) = store
            .create_token(
                NewToken {
                    name: "bench".into(),
                    role: "admin".into(),
                    expires_at: frontline::storage::now_ms() + 3_600_000,
                    created_by: None,
                },
                AuditRecord {
                    actor: "bench".into(),
                    address: None,
                    action: "bench".into(),
                    class: frontline::domain::DataClass::Settings,
                    record: None,
                    detail: json!({}),
                },
            )
            .await?;
        let base = format!("http://{}", running.addr);
        let client = reqwest::Client::new();
        let (pd_url, arrivals) = receiver().await?;
        // The on-call route: new signals on a component (topic series that
        // name none are not paged), medium and worse.
        let resp = client
            .post(format!("{base}/api/v1/routes"))
            .bearer_auth(&token)
            .json(&json!({"name": "On call", "kind": "pagerduty", "url": pd_url,
                          "routing_key": "BENCHROUTINGKEY0000000000000000", "events": ["signal.opened"]}))
            .send()
            .await?;
        anyhow::ensure!(resp.status() == 201, "route: {}", resp.status());
        let component = |k: usize| format!("r{run}svc{k}");
        let wave = |n: usize| -> Value {
            json!((0..n * per_run)
                .map(|i| {
                    let k = i % per_run;
                    json!({"kind": "complaint", "text": TOPICS[k].1, "component": component(k), "region": "eu", "channel": "app"})
                })
                .collect::<Vec<_>>())
        };
        let post = |body: Value| {
            client
                .post(format!("{base}/api/v1/feedback/batch"))
                .bearer_auth(&token)
                .json(&body)
                .send()
        };
        anyhow::ensure!(post(wave(15)).await?.status().is_success());
        let into_next_minute = 61 - chrono::Timelike::second(&chrono::Utc::now()) as u64;
        tokio::time::sleep(Duration::from_secs(into_next_minute)).await;
        let tipped = Instant::now();
        anyhow::ensure!(post(wave(20)).await?.status().is_success());
        let wanted: Vec<String> = (0..per_run).map(component).collect();
        while tipped.elapsed() < Duration::from_secs(30) {
            let done = {
                let m = arrivals.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;

                wanted.iter().all(|c| m.contains_key(c))
            };
            if done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut this: Vec<f64> = {
            let m = arrivals.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            wanted
                .iter()
                .filter_map(|c| m.get(c))
                .map(|at| at.saturating_duration_since(tipped).as_secs_f64())
                .collect()
        };
        this.sort_by(f64::total_cmp);
        println!(
            "run {}: {} of {} components paged, {:?}",
            run + 1,
            this.len(),
            per_run,
            this.iter().map(|t| format!("{t:.2}")).collect::<Vec<_>>()
        );
        times.extend(this);
        running.stop().await?;
    }
    times.sort_by(f64::total_cmp);
    println!(
        "tipping complaint -> PagerDuty trigger at the receiver ({backend}): {} pages, p50 {:.2} s, p95 {:.2} s, max {:.2} s",
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        times.last().copied().unwrap_or(f64::NAN)
    );
    Ok(())
}
