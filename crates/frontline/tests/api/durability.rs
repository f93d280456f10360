//! An acknowledged write is never lost, even if the process is killed.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::test_config_env;

#[tokio::test]
async fn every_acknowledged_item_survives_kill_dash_9() {
    let (db, mut env) = test_config_env().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    env.insert("FRONTLINE_HTTP_ADDR".into(), format!("127.0.0.1:{port}"));
    let bin = env!("CARGO_BIN_EXE_frontline");
    // A token, made through the same database the server will use.
    let out = Command::new(bin)
        .args(["token", "create", "--name", "loader", "--role", "cx_agent"])
        .envs(&env)
        .output()
        .unwrap();
    assert!(out.status.success());
    let token = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("secret (shown once): ").map(str::to_owned))
        .unwrap();

    let mut server = Command::new(bin)
        .arg("serve")
        .envs(&env)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.get(format!("{base}/readyz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Eight writers, single items and small batches, as fast as they can.
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut writers = Vec::new();
    for w in 0..8 {
        let (client, base, token, acked) =
            (client.clone(), base.clone(), token.clone(), acked.clone());
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let resp = if w % 2 == 0 {
                    client
                        .post(format!("{base}/api/v1/feedback"))
                        .bearer_auth(&token)
                        .json(&json!({"kind": "complaint", "text": format!("writer {w} item {i}: cannot log in")}))
                        .send()
                        .await
                } else {
                    let batch: Vec<_> = (0..20).map(|j| json!({"kind": "nps", "score": (i + j) % 11})).collect();
                    client
                        .post(format!("{base}/api/v1/feedback/batch"))
                        .bearer_auth(&token)
                        .json(&batch)
                        .send()
                        .await
                };
                let Ok(resp) = resp else { break };
                if !resp.status().is_success() {
                    break;
                }
                let Ok(body) = resp.json::<serde_json::Value>().await else { break };
                let mut ids = Vec::new();
                if let Some(id) = body["id"].as_str() {
                    ids.push(id.to_owned());
                }
                for r in body["results"].as_array().into_iter().flatten() {
                    ids.extend(r["id"].as_str().map(str::to_owned));
                }
                acked.lock().unwrap().extend(ids);
            }
        }));
    }
    // Let the load build up, then pull the plug.
    while acked.lock().unwrap().len() < 2000 {
        assert!(
            Instant::now() < deadline + Duration::from_secs(30),
            "no load got through"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = server.id().to_string();
    assert!(Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .unwrap()
        .success());
    let _ = server.wait();
    for w in writers {
        let _ = w.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 2000);

    // Open the database again, as a restarted server would, and look for
    // every acknowledged id.
    let config = frontline::Config::load_from(None, &env).unwrap();
    let store = frontline::Store::connect(&config).await.unwrap();
    store.migrate().await.unwrap();
    let mut missing = Vec::new();
    for chunk in acked.chunks(500) {
        let list = chunk
            .iter()
            .map(|id| format!("'{id}'"))
            .collect::<Vec<_>>()
            .join(",");
        let rows = store
            .fetch_all(
                &format!("SELECT id FROM feedback WHERE id IN ({list})"),
                vec![],
            )
            .await
            .unwrap();
        let found: std::collections::HashSet<String> = rows
            .iter()
            .map(|r| r.get::<String>("id").unwrap())
            .collect();
        missing.extend(chunk.iter().filter(|id| !found.contains(*id)).cloned());
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged items lost, e.g. {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(5)]
    );
    // And the audit chain is intact after the crash.
    assert!(matches!(
        store.audit_verify().await.unwrap(),
        frontline::storage::Verification::Intact { .. }
    ));
    store.close().await;
    drop(db);
}
