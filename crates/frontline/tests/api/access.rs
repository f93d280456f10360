use serde_json::json;

use crate::helpers::{json, spawn_app};

#[tokio::test]
async fn admins_manage_users_and_tokens_over_the_api() {
    let app = spawn_app().await;
    let (s, me) = json(app.get("/api/v1/me", &app.admin_token).await).await;
    assert_eq!(s, 200);
    assert_eq!(me["role"], "admin");
    assert!(me["grants"]
        .as_array()
        .unwrap()
        .contains(&json!("audit:view")));

    let (s, user) = json(
        app.post_json(
            "/api/v1/users",
            &app.admin_token,
            &json!({"email": "Ivy@Example.com", "name": "Ivy", "role": "communications", "password": "long enough password"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(user["email"], "ivy@example.com");
    assert!(user["id"].as_str().unwrap().starts_with("usr_"));
    assert!(user.get("password_hash").is_none() && !user.to_string().contains("argon2"));

    // She can sign in, and her role's grants apply.
    let (client, status) = app
        .browser_session("ivy@example.com", "long enough password")
        .await;
    assert_eq!(status, 303);
    assert_eq!(
        client
            .get(app.url("/admin/users"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    // Short passwords and bad addresses are refused with the field named.
    let (s, body) = json(
        app.post_json(
            "/api/v1/users",
            &app.admin_token,
            &json!({"email": "j@example.com", "name": "J", "role": "viewer", "password": "short"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        body["detail"].as_str().unwrap().starts_with("password"),
        "{body}"
    );
    let (s, body) = json(
        app.post_json("/api/v1/users", &app.admin_token, &json!({"email": "not-an-address", "name": "J", "role": "viewer", "password": "long enough password"}))
            .await,
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        body["detail"].as_str().unwrap().starts_with("email"),
        "{body}"
    );
    assert!(
        !body.to_string().contains("not-an-address"),
        "errors do not echo personal data"
    );

    // Tokens: the secret is shown once, never listed, stored only as a hash.
    let (s, created) = json(
        app.post_json(
            "/api/v1/tokens",
            &app.admin_token,
            &json!({"name": "grafana", "role": "analyst", "expires_in_days": 30}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("fl_"));
    let (_, list) = json(app.get("/api/v1/tokens", &app.admin_token).await).await;
    assert!(!list.to_string().contains(&secret));
    let rows = app
        .store
        .fetch_all("SELECT token_hash FROM api_tokens", vec![])
        .await
        .unwrap();
    for r in rows {
        assert_ne!(r.get::<String>("token_hash").unwrap(), secret);
    }
    let (s, me) = json(app.get("/api/v1/me", &secret).await).await;
    assert_eq!(s, 200);
    assert_eq!(me["role"], "analyst");
    let (s, _) = json(
        app.post_json(
            "/api/v1/tokens",
            &app.admin_token,
            &json!({"name": "forever", "role": "analyst", "expires_in_days": 10000}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 400);
    app.stop().await;
}

#[tokio::test]
async fn the_dashboard_admin_pages_render_for_admins() {
    let app = spawn_app().await;
    let (client, _) = app
        .browser_session(&app.admin_email, crate::helpers::PASSWORD)
        .await;
    for (path, needle) in [
        ("/admin/users", "Add a user"),
        ("/admin/roles", "security_analyst"),
        ("/admin/tokens", "Create a token"),
        ("/admin/audit", "Chain intact"),
    ] {
        let resp = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let html = resp.text().await.unwrap();
        assert!(html.contains(needle), "{path} lacks {needle:?}");
        assert!(!html.contains("<script>"), "{path} has inline script");
    }
    // A token made in the dashboard is shown once, in the page, not a URL.
    let page = client
        .get(app.url("/admin/tokens"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::helpers::hidden_field(&page, "csrf").unwrap();
    let resp = client
        .post(app.url("/admin/tokens"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "wazuh"),
            ("role", "security_analyst"),
            ("expires_in_days", "7"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    let start = html.find("id=\"new-secret\">").unwrap() + "id=\"new-secret\">".len();
    let secret = &html[start..start + html[start..].find('<').unwrap()];
    assert_eq!(app.get("/api/v1/me", secret).await.status(), 200);
    // User-supplied text is escaped, never markup.
    let resp = client
        .post(app.url("/admin/roles"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "quoted_role"),
            ("description", "<img src=x onerror=alert(1)>"),
            ("grant", "reports:view"),
            ("grant", "incidents:view"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let role = app.store.role("quoted_role").await.unwrap().unwrap();
    assert_eq!(role.grants.len(), 2);
    let html = client
        .get(app.url("/admin/roles"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!html.contains("<img src=x"));
    app.stop().await;
}

#[tokio::test]
async fn the_live_channel_streams_events_the_viewer_may_see() {
    let app = spawn_app().await;
    let (client, _) = app
        .browser_session(&app.admin_email, crate::helpers::PASSWORD)
        .await;
    let mut stream = client.get(app.url("/events")).send().await.unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    // Give the subscription a moment to register before the change happens.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let (s, _) = json(
        app.post_json(
            "/api/v1/roles",
            &app.admin_token,
            &json!({"name": "night_shift", "grants": ["reports:view"]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while !seen.contains("role.created") {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .expect("event in time")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("night_shift"), "{seen}");
    app.stop().await;
}
