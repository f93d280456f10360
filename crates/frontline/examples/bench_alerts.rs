//! Security alerts in, end to end: a real Frontline server on an embedded
//! SQLite file (or the PostgreSQL database in FRONTLINE_DATABASE_URL: give it
//! a database of its own, it migrates and fills it), fed
//! over HTTP at its hooks, as Wazuh (one alert per request) and as
//! Alertmanager (groups of alerts per request) send them.
//!
//!   cargo run --release -p frontline --example bench_alerts -- [requests] [clients] [group] [latency]
//!
//! Defaults: 20000 single-alert requests and 20000/group grouped requests,
//! 64 clients, groups of 50, then the correlation latency (latency=0 skips
//! it). A hook answers after the alerts are parsed, normalised (component
//! mapping, redaction) and committed, so accepted/s is normalised/s; the
//! stored count is checked against it.
//!
//! Correlation latency: one Wazuh alert on each of six components, then a
//! wave of complaints about each (a different topic per component) over
//! two minutes; the clock starts when the second minute's complaints are
//! sent (the detector does not fire on one minute alone, so they tip each
//! series) and stops when that component's suggestion exists.

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

fn wazuh(i: usize, agent: &str) -> Value {
    json!({
        "timestamp": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string(),
        "rule": {"level": 3 + (i % 13), "description": "sshd: authentication failed for admin from 203.0.113.9",
                 "id": format!("{}", 5700 + i % 5000), "groups": ["sshd", "authentication_failed"], "firedtimes": 1},
        "agent": {"id": format!("{:03}", i % 1000), "name": agent},
        "manager": {"name": "wazuh-manager"},
        "id": format!("1732960000.{i}"),
        "full_log": "sshd[1234]: Failed password for invalid user admin from 203.0.113.9 port 52211 ssh2",
        "data": {"srcip": "203.0.113.9"},
        "location": "/var/log/auth.log"
    })
}

fn alertmanager(r: usize, group: usize) -> Value {
    let now = chrono::Utc::now().to_rfc3339();
    let alerts: Vec<Value> = (0..group)
        .map(|i| json!({
            "status": if (r + i).is_multiple_of(4) { "resolved" } else { "firing" },
            "labels": {"alertname": "LoginFailuresHigh", "service": format!("auth-{}", (r * group + i) % 7), "severity": "high",
                       "instance": format!("auth-{}:9100", (r * group + i) % 97)},
            "annotations": {"summary": "Login failures above 30%", "description": "Failed logins spiked for ops@example.com"},
            "startsAt": now, "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": format!("{:016x}", r * group + i)
        }))
        .collect();
    json!({"version": "4", "groupKey": "{}:{alertname=\"LoginFailuresHigh\"}", "status": "firing", "receiver": "frontline", "alerts": alerts})
}

async fn hammer(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    bodies: Vec<String>,
    clients: usize,
) -> anyhow::Result<(u64, f64)> {
    let per_client: Vec<Vec<String>> = (0..clients)
        .map(|c| bodies.iter().skip(c).step_by(clients).cloned().collect())
        .collect();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for bodies in per_client {
        let (client, url, secret) = (client.clone(), url.to_owned(), secret.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut accepted = 0u64;
            for body in bodies {
                let resp = client
                    .post(&url)
                    .bearer_auth(&secret)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await?;
                anyhow::ensure!(resp.status().is_success(), "status {}", resp.status());
                let r: Value = resp.json().await?;
                accepted += r["received"].as_u64().unwrap_or(0);
            }
            Ok::<_, anyhow::Error>(accepted)
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += t.await??;
    }
    Ok((accepted, start.elapsed().as_secs_f64()))
}

async fn source(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    body: Value,
) -> anyhow::Result<String> {
    let resp = client
        .post(format!("{base}/api/v1/alert-sources"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    anyhow::ensure!(resp.status() == 201, "source: {}", resp.status());
    let v: Value = resp.json().await?;
    Ok(v["secret"].as_str().unwrap_or_default().to_owned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let requests = args.first().copied().unwrap_or(20_000);
    let clients = args.get(1).copied().unwrap_or(64);
    let group = args.get(2).copied().unwrap_or(50).max(1);
    let latency = args.get(3).copied().unwrap_or(1) != 0;

    let dir = tempfile::tempdir()?;
    let mut env = std::collections::BTreeMap::new();
    env.insert(
        "FRONTLINE_DATA_DIR".to_owned(),
        dir.path().display().to_string(),
    );
    env.insert("FRONTLINE_HTTP_ADDR".to_owned(), "127.0.0.1:0".to_owned());
    env.insert("FRONTLINE_LOG_LEVEL".to_owned(), "warn".to_owned());
    if let Ok(url) = std::env::var("FRONTLINE_DATABASE_URL") {
        env.insert("FRONTLINE_DATABASE_URL".to_owned(), url);
    }
    let config = frontline::Config::load_from(None, &env)?;
    let running = frontline::start(config, false).await?;
    let store = running.state.store.clone();
    let backend = store.backend();
    let audit = AuditRecord {
        actor: "bench".into(),
        address: None,
        action: "bench".into(),
        class: frontline::domain::DataClass::Settings,
        record: None,
        detail: json!({}),
    };
    let (_, token) = store
        .create_token(
            NewToken {
                name: "bench".into(),
                role: "admin".into(),
                expires_at: frontline::storage::now_ms() + 3_600_000,
                created_by: None,
            },
            audit,
        )
        .await?;
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let rules: Vec<Value> = (0..7)
        .map(|k| json!({"label": "service", "equals": format!("auth-{k}"), "component": "login", "region": format!("r{k}")}))
        .collect();
    let wazuh_secret = source(&client, &base, &token, json!({"name": "Wazuh", "kind": "wazuh",
        "components": [{"label": "agent_name", "equals": "auth-eu", "component": "login", "region": "eu"}]})).await?;
    let am_secret = source(
        &client,
        &base,
        &token,
        json!({"name": "Alertmanager", "kind": "alertmanager", "components": rules}),
    )
    .await?;

    // Bodies are made before the clock starts: we measure the server.
    let bodies: Vec<String> = (0..requests)
        .map(|i| {
            wazuh(
                i,
                if i.is_multiple_of(2) {
                    "auth-eu"
                } else {
                    "web-1"
                },
            )
            .to_string()
        })
        .collect();
    let (accepted, secs) = hammer(
        &client,
        &format!("{base}/hooks/wazuh"),
        &wazuh_secret,
        bodies,
        clients,
    )
    .await?;
    println!(
        "wazuh, 1 alert per request: {accepted} alerts accepted and normalised in {secs:.2} s = {:.0} alerts/s ({clients} clients, {backend})",
        accepted as f64 / secs
    );
    let grouped = requests.div_ceil(group);
    let bodies: Vec<String> = (0..grouped)
        .map(|r| alertmanager(r, group).to_string())
        .collect();
    let (accepted_am, secs) = hammer(
        &client,
        &format!("{base}/hooks/alertmanager"),
        &am_secret,
        bodies,
        clients,
    )
    .await?;
    println!(
        "alertmanager, {group} alerts per request: {accepted_am} alerts accepted and normalised in {secs:.2} s = {:.0} alerts/s ({:.0} requests/s)",
        accepted_am as f64 / secs,
        grouped as f64 / secs
    );
    println!(
        "stored: {} distinct alerts (wazuh repeats of one rule on one agent are one alert; every alertmanager fingerprint is one)",
        store.count_security_alerts().await?
    );

    if latency {
        let mut components = Vec::new();
        for (k, (topic, _)) in TOPICS.iter().enumerate() {
            let component = format!("svc{k}");
            let secret = source(&client, &base, &token, json!({"name": format!("Wazuh {k}"), "kind": "wazuh",
                "components": [{"label": "agent_name", "equals": format!("host-{k}"), "component": component, "region": "eu"}]})).await?;
            let resp = client
                .post(format!("{base}/hooks/wazuh"))
                .bearer_auth(&secret)
                .json(&wazuh(90_000 + k, &format!("host-{k}")))
                .send()
                .await?;
            anyhow::ensure!(resp.status().is_success(), "alert {}", resp.status());
            components.push((component, *topic));
        }
        let wave = |n: usize| -> Value {
            json!((0..n * TOPICS.len())
                .map(|i| {
                    let k = i % TOPICS.len();
                    json!({"kind": "complaint", "text": TOPICS[k].1, "component": format!("svc{k}"), "region": "eu", "channel": "app"})
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
        let mut found: std::collections::BTreeMap<String, f64> = Default::default();
        while tipped.elapsed() < Duration::from_secs(30) && found.len() < components.len() {
            let list: Value = client
                .get(format!("{base}/api/v1/suggestions"))
                .bearer_auth(&token)
                .send()
                .await?
                .json()
                .await?;
            for s in list.as_array().into_iter().flatten() {
                if let Some(c) = s["component"].as_str() {
                    found
                        .entry(c.to_owned())
                        .or_insert_with(|| tipped.elapsed().as_secs_f64());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut times: Vec<f64> = found.values().copied().collect();
        times.sort_by(f64::total_cmp);
        let p50 = times.get(times.len() / 2).copied().unwrap_or(f64::NAN);
        println!(
            "tipping complaints -> suggestion: {} of {} components, p50 {:.2} s, max {:.2} s ({:?})",
            times.len(),
            components.len(),
            p50,
            times.last().copied().unwrap_or(f64::NAN),
            found
        );
    }
    running.stop().await?;
    Ok(())
}
