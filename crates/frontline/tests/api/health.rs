use serde_json::json;

use crate::helpers::{json, spawn_app};

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = spawn_app().await;
    let (s, body) = json(app.client.get(app.url("/healthz")).send().await.unwrap()).await;
    assert_eq!(s, 200);
    assert_eq!(body["status"], "ok");
    let (s, body) = json(app.client.get(app.url("/readyz")).send().await.unwrap()).await;
    assert_eq!(s, 200);
    let backend = if app.is_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(body["database"], backend);

    app.get("/api/v1/users", &app.admin_token).await;
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            r#"frontline_http_requests_total{method="GET",route="/api/v1/users",status="200"} 1"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains("frontline_http_request_duration_seconds_bucket"));
    assert!(metrics.contains(r#"frontline_db_pool_connections{state="idle"}"#));
    app.stop().await;
}

#[tokio::test]
async fn every_response_carries_security_headers() {
    let app = spawn_app().await;
    for path in ["/login", "/api/v1/me", "/healthz", "/nope"] {
        let resp = app.client.get(app.url(path)).send().await.unwrap();
        let h = resp.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn bad_requests_get_clear_errors() {
    let app = spawn_app().await;
    // Unknown API route: JSON 404.
    let (s, body) = json(app.get("/api/v1/nothing-here", &app.admin_token).await).await;
    assert_eq!(
        (s.as_u16(), body["code"].as_str()),
        (404, Some("not_found"))
    );

    // Malformed JSON, a missing field, a wrong type: 400 naming the field.
    let resp = app
        .client
        .post(app.url("/api/v1/users"))
        .bearer_auth(&app.admin_token)
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    let (s, body) = json(resp).await;
    assert_eq!(s, 400);
    assert_eq!(body["code"], "invalid_body");
    let (s, body) = json(
        app.post_json(
            "/api/v1/users",
            &app.admin_token,
            &json!({"email": "x@example.com", "name": "X", "role": "viewer"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        body["detail"].as_str().unwrap().contains("password"),
        "{body}"
    );
    let (s, body) = json(
        app.post_json(
            "/api/v1/tokens",
            &app.admin_token,
            &json!({"name": "t", "role": "viewer", "expires_in_days": "ten"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        body["detail"].as_str().unwrap().contains("expires_in_days"),
        "{body}"
    );

    // Not JSON at all: 415.
    let resp = app
        .client
        .post(app.url("/api/v1/roles"))
        .bearer_auth(&app.admin_token)
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);

    // Larger than the body limit: 413, nothing stored.
    let huge = "x".repeat(3 * 1024 * 1024);
    let resp = app
        .client
        .post(app.url("/api/v1/roles"))
        .bearer_auth(&app.admin_token)
        .header("content-type", "application/json")
        .body(format!(
            "{{\"name\": \"big\", \"description\": \"{huge}\", \"grants\": []}}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let roles = app.store.list_roles().await.unwrap();
    assert!(roles.iter().all(|r| r.name != "big"));

    // A bad query parameter: 400 with {code, detail}.
    let (s, body) = json(
        app.get("/api/v1/audit?before=yesterday", &app.admin_token)
            .await,
    )
    .await;
    assert_eq!(
        (s.as_u16(), body["code"].as_str()),
        (400, Some("invalid_query"))
    );
    app.stop().await;
}

#[tokio::test]
async fn openapi_describes_every_route_with_its_permission() {
    let app = spawn_app().await;
    let (s, doc) = json(
        app.client
            .get(app.url("/api/openapi.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    for route in frontline::http::api::routes() {
        let op = &doc["paths"][route.path][route.method.as_str().to_lowercase()];
        assert!(
            op.is_object(),
            "{} {} missing from the OpenAPI document",
            route.method,
            route.path
        );
        if let frontline::http::guard::Need::Grant(g) = route.need {
            assert!(op["description"].as_str().unwrap().contains(&g.to_string()));
        }
    }
    assert!(doc["components"]["schemas"]["UserView"].is_object());
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    app.stop().await;
}
