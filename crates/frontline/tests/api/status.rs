use serde_json::{json, Value};

use crate::helpers::{create_token, json, spawn_app, TestApp};

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let (s, v) = json(app.post_json(path, token, &body).await).await;
    assert!(s.is_success(), "{path} {body} -> {s} {v}");
    v
}

async fn patch(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let (s, v) = json(
        app.send_json(reqwest::Method::PATCH, path, token, &body)
            .await,
    )
    .await;
    assert!(s.is_success(), "{path} {body} -> {s} {v}");
    v
}

#[tokio::test]
async fn components_are_managed_with_notice_grants_and_bad_input_names_the_field() {
    let app = spawn_app().await;
    let comms = create_token(&app.store, "communications").await;
    let viewer = create_token(&app.store, "viewer").await;
    let resp = app
        .post_json("/api/v1/components", &viewer, &json!({"name": "API"}))
        .await;
    assert_eq!(resp.status(), 403);
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "API", "status": "on fire"}), "status"),
        (json!({"name": "API", "position": -1}), "position"),
        (json!({"name": "API", "colour": "red"}), "colour"),
    ] {
        let (s, err) = json(app.post_json("/api/v1/components", &comms, &body).await).await;
        assert_eq!(s, 400, "{body} -> {err}");
        assert!(err["detail"].as_str().unwrap().contains(field), "{err}");
    }
    let c = post(
        &app,
        "/api/v1/components",
        &comms,
        json!({"name": "API", "group": "Core"}),
    )
    .await;
    let path = format!("/api/v1/components/{}", c["id"].as_str().unwrap());
    let changed = patch(
        &app,
        &path,
        &comms,
        json!({"status": "degraded_performance", "group": null, "private": true}),
    )
    .await;
    assert_eq!(changed["status"], "degraded_performance");
    assert_eq!(changed["group"], Value::Null);
    assert_eq!(changed["private"], true);
    let (s, _) = json(
        app.send_json(
            reqwest::Method::PATCH,
            "/api/v1/components/cmp_01J00000000000000000000000",
            &comms,
            &json!({"status": "operational"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 404);
    let start = chrono::Utc::now();
    let (s, err) = json(
        app.post_json(
            "/api/v1/maintenances",
            &comms,
            &json!({"title": "x", "body": "y", "scheduled_for": start.to_rfc3339(), "scheduled_until": start.to_rfc3339()}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 400);
    assert!(err["detail"].as_str().unwrap().contains("scheduled_until"));
    let (s, err) = json(
        app.post_json(
            "/api/v1/maintenances",
            &comms,
            &json!({"title": "x", "body": "y", "scheduled_for": "tomorrow", "scheduled_until": start.to_rfc3339()}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 400);
    assert!(err["detail"].as_str().unwrap().contains("scheduled_for"));
    let (_, page) = json(app.get("/api/v1/audit?limit=50", &app.admin_token).await).await;
    let actions: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"component.create") && actions.contains(&"component.update"));
    app.stop().await;
}
