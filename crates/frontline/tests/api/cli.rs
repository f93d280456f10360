use std::process::{Command, Stdio};

use crate::helpers::spawn_app;

fn frontline(
    envs: &std::collections::BTreeMap<String, String>,
    args: &[&str],
) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_frontline"))
        .args(args)
        .env_remove("FRONTLINE_DATABASE_URL")
        .envs(envs)
        .stdin(Stdio::null())
        .output()
        .expect("run frontline");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn config_prints_the_effective_values_with_secrets_masked() {
    let mut env = std::collections::BTreeMap::new();
    env.insert(
        "FRONTLINE_DATABASE_URL".to_owned(),
        "postgres://app:s3cret-pw@db.internal/frontline".to_owned(),
    );
    env.insert("FRONTLINE_HTTP_ADDR".to_owned(), "0.0.0.0:9090".to_owned());
    let (ok, out, err) = frontline(&env, &["config"]);
    assert!(ok, "{err}");
    assert!(out.contains("addr = \"0.0.0.0:9090\""), "{out}");
    assert!(
        out.contains("postgres://app:***@db.internal/frontline"),
        "{out}"
    );
    assert!(!out.contains("s3cret-pw"));
}

#[test]
fn an_invalid_value_stops_the_start_naming_the_key() {
    let mut env = std::collections::BTreeMap::new();
    env.insert(
        "FRONTLINE_HTTP_REQUEST_TIMEOUT_SECS".to_owned(),
        "soon".to_owned(),
    );
    let (ok, _, err) = frontline(&env, &["serve"]);
    assert!(!ok);
    assert!(
        err.contains("http.request_timeout_secs")
            && err.contains("FRONTLINE_HTTP_REQUEST_TIMEOUT_SECS"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("frontline.toml");
    std::fs::write(&file, "[log]\nformat = \"xml\"\n").unwrap();
    let (ok, _, err) = frontline(
        &Default::default(),
        &["--config", file.to_str().unwrap(), "serve"],
    );
    assert!(!ok);
    assert!(err.contains("log.format"), "{err}");
}

#[tokio::test]
async fn users_and_tokens_from_the_command_line() {
    let app = spawn_app().await;
    let (ok, out, err) = frontline(
        &app.env,
        &[
            "user",
            "add",
            "kim@example.com",
            "--name",
            "Kim",
            "--role",
            "security_analyst",
        ],
    );
    assert!(ok, "{err}");
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("generated password")
        .to_owned();
    assert_eq!(
        app.browser_session("kim@example.com", &password).await.1,
        303
    );

    let (ok, _, err) = frontline(
        &app.env,
        &[
            "user",
            "add",
            "lee@example.com",
            "--name",
            "Lee",
            "--role",
            "wizard",
        ],
    );
    assert!(!ok);
    assert!(err.contains("unknown role"), "{err}");

    let (ok, out, _) = frontline(&app.env, &["user", "list"]);
    assert!(ok && out.contains("kim@example.com") && out.contains("security_analyst"));

    let (ok, _, _) = frontline(&app.env, &["user", "disable", "kim@example.com"]);
    assert!(ok);
    assert_eq!(
        app.browser_session("kim@example.com", &password).await.1,
        401
    );

    let (ok, out, err) = frontline(
        &app.env,
        &[
            "token",
            "create",
            "--name",
            "alertmanager",
            "--role",
            "security_analyst",
        ],
    );
    assert!(ok, "{err}");
    let secret = out
        .lines()
        .find_map(|l| l.strip_prefix("secret (shown once): "))
        .unwrap()
        .to_owned();
    let id = out.split_whitespace().nth(1).unwrap().to_owned();
    assert_eq!(app.get("/api/v1/me", &secret).await.status(), 200);
    let (ok, _, _) = frontline(&app.env, &["token", "revoke", &id]);
    assert!(ok);
    assert_eq!(app.get("/api/v1/me", &secret).await.status(), 401);
    let (ok, _, err) = frontline(&app.env, &["token", "revoke", &id]);
    assert!(!ok && err.contains("no live token"), "{err}");

    let (ok, out, _) = frontline(&app.env, &["migrate"]);
    assert!(ok && out.contains("up to date"));
    app.stop().await;
}

/// `frontline demo` as a new user runs it (the README's first command): a
/// fresh embedded database, the accounts it prints, the story played to its
/// end, and a dashboard that shows what the story did.
#[tokio::test]
async fn the_demo_command_serves_its_accounts_and_plays_the_story_to_the_end() {
    use std::io::{BufRead, BufReader};

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_frontline"))
        .args(["demo", "--addr", &addr, "--data-dir"])
        .arg(&data)
        .args(["--speed", "100"])
        .env_remove("FRONTLINE_DATABASE_URL")
        .env_remove("FRONTLINE_NOTIFY_SMTP_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run frontline demo");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut out = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while !out.contains("The story is over") {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                out.push_str(&line);
                out.push('\n');
            }
            Err(_) => {
                let _ = child.kill();
                let err = child
                    .stderr
                    .take()
                    .map(|mut e| {
                        let mut s = String::new();
                        let _ = std::io::Read::read_to_string(&mut e, &mut s);
                        s
                    })
                    .unwrap_or_default();
                panic!("the story did not end\nstdout:\n{out}\nstderr:\n{err}");
            }
        }
    }
    assert!(out.contains(&format!("Open:      http://{addr}/")), "{out}");
    assert!(out.contains("3000 feedback items"), "{out}");
    assert!(!out.contains("The story stopped"), "{out}");
    let password = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Password:"))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the password is printed")
        .to_owned();
    assert!(out.contains("admin@frontline.demo"), "{out}");
    // The data lives where it said.
    assert!(
        data.join("frontline.db").exists(),
        "the embedded database is in --data-dir"
    );

    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("http://{addr}");
    let status = crate::helpers::login(&client, &base, "admin@frontline.demo", &password).await;
    assert_eq!(status, 303, "the printed account signs in");
    let incidents = client
        .get(format!("{base}/incidents"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        incidents.contains("Phishing SMS campaign against our customers"),
        "the story's incident is on the dashboard"
    );
    let status_page = reqwest::get(format!("{base}/status")).await.unwrap();
    assert_eq!(status_page.status(), 200);

    // A data directory that is not empty is refused, saying what to fix.
    let (ok, _, err) = frontline(
        &Default::default(),
        &["demo", "--data-dir", data.to_str().unwrap(), "--no-story"],
    );
    assert!(!ok);
    assert!(err.contains("not empty"), "{err}");

    // Ctrl-C (SIGTERM here) stops it.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let code = child.wait().unwrap();
    assert!(code.success(), "a clean stop: {code:?}");
}
