//! The real binary: `frontline serve` as an operator runs it.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{login, test_config_env, PASSWORD};

#[tokio::test]
async fn serve_logs_no_personal_data_and_stops_cleanly_on_sigterm() {
    let (db, mut env) = test_config_env().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    env.insert("FRONTLINE_HTTP_ADDR".into(), format!("127.0.0.1:{port}"));
    env.insert("FRONTLINE_LOG_LEVEL".into(), "debug".into());
    env.insert("FRONTLINE_LOG_FORMAT".into(), "json".into());
    let bin = env!("CARGO_BIN_EXE_frontline");
    let added = Command::new(bin)
        .args([
            "user",
            "add",
            "secret.person@example.com",
            "--name",
            "Pat",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .envs(&env)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(format!("{PASSWORD}\n").as_bytes())?;
            c.wait()
        })
        .unwrap();
    assert!(added.success());

    let mut server = Command::new(bin)
        .arg("serve")
        .envs(&env)
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.get(format!("{base}/readyz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Personal data in every place a request can carry it.
    assert_eq!(
        login(
            &client,
            &base,
            "secret.person@example.com",
            "wrong wrong wrong"
        )
        .await,
        401
    );
    assert_eq!(
        login(
            &client,
            &base,
            "someone.else@example.com",
            "wrong wrong wrong"
        )
        .await,
        401
    );
    assert_eq!(
        login(&client, &base, "secret.person@example.com", PASSWORD).await,
        303
    );
    let _ = client
        .get(format!("{base}/admin/users?q=secret.person@example.com"))
        .send()
        .await
        .unwrap();
    let resp = client
        .post(format!("{base}/api/v1/users"))
        .bearer_auth("fl_not_a_token")
        .json(&json!({"email": "another.person@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    let pid = server.id().to_string();
    let started = Instant::now();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = loop {
        if let Some(s) = server.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no clean stop after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status}");
    let mut logs = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(
        logs.contains("frontline listening") && logs.contains("shutting down"),
        "{logs}"
    );
    assert!(
        logs.contains("login refused"),
        "failed logins are logged: {logs}"
    );
    for needle in [
        "secret.person",
        "someone.else",
        "another.person",
        "@example.com",
        PASSWORD,
    ] {
        assert!(
            !logs.contains(needle),
            "{needle:?} leaked into the logs:\n{logs}"
        );
    }
    drop(db);
}
