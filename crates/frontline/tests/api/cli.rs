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
