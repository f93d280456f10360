use serde_json::json;

use crate::helpers::{json, spawn_app};

async fn some_changes(app: &crate::helpers::TestApp) {
    for name in ["alpha_team", "beta_team", "gamma_team"] {
        let (s, _) = json(
            app.post_json(
                "/api/v1/roles",
                &app.admin_token,
                &json!({"name": name, "grants": ["reports:view"]}),
            )
            .await,
        )
        .await;
        assert_eq!(s, 201);
    }
}

/// Runs the real binary against the test's database.
fn verify_cli(app: &crate::helpers::TestApp) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_frontline"))
        .args(["audit", "verify"])
        .envs(&app.env)
        .output()
        .expect("run frontline");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test]
async fn every_change_is_recorded_with_who_what_and_where() {
    let app = spawn_app().await;
    some_changes(&app).await;
    let (s, page) = json(app.get("/api/v1/audit?limit=2", &app.admin_token).await).await;
    assert_eq!(s, 200);
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["action"], "role.create");
    assert_eq!(entries[0]["record"], "gamma_team");
    assert_eq!(entries[0]["address"], "127.0.0.1");
    assert!(entries[0]["actor"].as_str().unwrap().starts_with("tok_"));
    assert_eq!(entries[0]["prev_hash"], entries[1]["hash"]);
    // Paging continues below the last entry seen.
    let before = page["next_before"].as_i64().unwrap();
    let (_, older) = json(
        app.get(
            &format!("/api/v1/audit?limit=2&before={before}"),
            &app.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(older["entries"][0]["record"], "alpha_team");

    // The trail is append-only in the database itself.
    let err = app
        .store
        .execute(
            "UPDATE audit_log SET actor = 'someone else' WHERE seq = 1",
            vec![],
        )
        .await;
    assert!(err.is_err(), "updates to the audit log must be refused");
    let err = app
        .store
        .execute("DELETE FROM audit_log WHERE seq = 1", vec![])
        .await;
    assert!(err.is_err(), "deletes from the audit log must be refused");

    let (ok, out) = verify_cli(&app);
    assert!(ok, "{out}");
    assert!(out.contains("intact"), "{out}");
    app.stop().await;
}

async fn drop_guards(app: &crate::helpers::TestApp) {
    if app.is_postgres() {
        app.store
            .execute("DROP TRIGGER audit_log_no_update ON audit_log", vec![])
            .await
            .unwrap();
    } else {
        app.store
            .execute("DROP TRIGGER audit_log_no_update", vec![])
            .await
            .unwrap();
        app.store
            .execute("DROP TRIGGER audit_log_no_delete", vec![])
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn verify_names_an_altered_entry() {
    let app = spawn_app().await;
    some_changes(&app).await;
    // Someone with database access removes the guard and rewrites history.
    drop_guards(&app).await;
    let target: i64 = app
        .store
        .fetch_optional(
            "SELECT seq FROM audit_log WHERE record = 'beta_team'",
            vec![],
        )
        .await
        .unwrap()
        .unwrap()
        .get("seq")
        .unwrap();
    app.store
        .execute(
            "UPDATE audit_log SET detail = '{\"grants\":\"settings:view\"}' WHERE seq = $1",
            frontline::args![target],
        )
        .await
        .unwrap();
    let (ok, out) = verify_cli(&app);
    assert!(!ok, "verify must fail: {out}");
    assert!(
        out.contains(&format!("entry {target}")) && out.contains("altered"),
        "{out}"
    );

    let (s, v) = json(app.get("/api/v1/audit/verify", &app.admin_token).await).await;
    assert_eq!(s, 200);
    assert_eq!(v["intact"], false);
    assert_eq!(v["broken_at"], target);
    app.stop().await;
}

#[tokio::test]
async fn verify_names_a_removed_entry() {
    let app = spawn_app().await;
    some_changes(&app).await;
    drop_guards(&app).await;
    app.store
        .execute("DELETE FROM audit_log WHERE seq = 3", vec![])
        .await
        .unwrap();
    let (ok, out) = verify_cli(&app);
    assert!(!ok);
    assert!(out.contains("entry 3 is missing"), "{out}");
    app.stop().await;
}
