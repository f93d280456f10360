use serde_json::json;

use crate::helpers::{hidden_field, json, login, spawn_app, spawn_app_with, PASSWORD};

#[tokio::test]
async fn staff_sign_in_and_reach_the_dashboard() {
    let app = spawn_app().await;
    // Not signed in: the dashboard sends you to the login page.
    let resp = app
        .client
        .get(app.url("/admin/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/login?next=%2Fadmin%2Fusers");

    let (client, status) = app.browser_session(&app.admin_email, PASSWORD).await;
    assert_eq!(status, 303);
    let page = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Overview") && html.contains("Ada Admin"),
        "{html}"
    );

    // Logging out ends the session on the server, not just in the browser.
    let csrf = hidden_field(&html, "csrf").unwrap();
    let resp = client
        .post(app.url("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let resp = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    app.stop().await;
}

#[tokio::test]
async fn session_cookie_is_locked_down() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let form = client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden_field(&form, "csrf").unwrap();
    let resp = client
        .post(app.url("/login"))
        .form(&[
            ("email", app.admin_email.as_str()),
            ("password", PASSWORD),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("frontline_session="))
        .expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http has no Secure flag: {cookie}"
    );
    app.stop().await;

    // Behind TLS the cookie is Secure.
    let app = spawn_app_with(|c| c.http.public_url = "https://frontline.example.com".into()).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = client.get(app.url("/login")).send().await.unwrap();
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("Secure"), "{cookie}");
    app.stop().await;
}

#[tokio::test]
async fn wrong_credentials_do_not_say_which_part_was_wrong() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let base = app.url("");
    let wrong_password = {
        let form = client
            .get(format!("{base}/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = hidden_field(&form, "csrf").unwrap();
        client
            .post(format!("{base}/login"))
            .form(&[
                ("email", app.admin_email.as_str()),
                ("password", "not the password"),
                ("csrf", &csrf),
            ])
            .send()
            .await
            .unwrap()
    };
    assert_eq!(wrong_password.status(), 401);
    let a = wrong_password.text().await.unwrap();
    let form = client
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden_field(&form, "csrf").unwrap();
    let unknown_user = client
        .post(format!("{base}/login"))
        .form(&[
            ("email", "nobody@example.com"),
            ("password", "not the password"),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_user.status(), 401);
    let b = unknown_user.text().await.unwrap();
    let msg = "email or password is wrong";
    assert!(a.contains(msg) && b.contains(msg));
    // The two pages differ only in their fresh CSRF token.
    let strip = |s: &str| s.replace(&hidden_field(s, "csrf").unwrap(), "");
    assert_eq!(strip(&a), strip(&b));

    // A login form posted without its CSRF cookie is refused.
    let fresh = reqwest::Client::new();
    let resp = fresh
        .post(format!("{base}/login"))
        .form(&[
            ("email", app.admin_email.as_str()),
            ("password", PASSWORD),
            ("csrf", "forged"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_account_and_per_address() {
    let app = spawn_app_with(|c| {
        c.auth.login_attempts_per_minute_per_account = 3;
        c.auth.login_attempts_per_minute_per_address = 6;
    })
    .await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let base = app.url("");
    for _ in 0..3 {
        assert_eq!(
            login(&client, &base, &app.admin_email, "guess guess guess").await,
            401
        );
    }
    // The account's budget is spent: even the right password waits.
    assert_eq!(login(&client, &base, &app.admin_email, PASSWORD).await, 429);
    // Another account from the same address still gets through...
    crate::helpers::create_user(&app.store, "bo@example.com", "Bo", "viewer").await;
    assert_eq!(
        login(&client, &base, "bo@example.com", "guess guess guess").await,
        401
    );
    assert_eq!(
        login(&client, &base, "cy@example.com", "guess guess guess").await,
        401
    );
    // ...until the address's budget (6 a minute) is spent too.
    assert_eq!(
        login(&client, &base, "dee@example.com", "guess guess guess").await,
        429
    );
    let form = client
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden_field(&form, "csrf").unwrap();
    let resp = client
        .post(format!("{base}/login"))
        .form(&[
            ("email", "bo@example.com"),
            ("password", PASSWORD),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    app.stop().await;
}

#[tokio::test]
async fn dashboard_forms_need_the_session_csrf_token() {
    let app = spawn_app().await;
    let (client, _) = app.browser_session(&app.admin_email, PASSWORD).await;
    let form = [
        ("name", "Eve"),
        ("email", "eve@example.com"),
        ("role", "viewer"),
        ("password", "a long enough password"),
    ];
    let resp = client
        .post(app.url("/admin/users"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(app
        .store
        .list_users()
        .await
        .unwrap()
        .iter()
        .all(|u| u.email != "eve@example.com"));

    let page = client
        .get(app.url("/admin/users"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden_field(&page, "csrf").unwrap();
    let mut with = form.to_vec();
    with.push(("csrf", &csrf));
    let resp = client
        .post(app.url("/admin/users"))
        .form(&with)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert!(app
        .store
        .list_users()
        .await
        .unwrap()
        .iter()
        .any(|u| u.email == "eve@example.com"));

    // Scripts using the session must send the token as a header.
    let resp = client
        .post(app.url("/api/v1/roles"))
        .json(&json!({"name": "scribe", "grants": ["incidents:view"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = client
        .post(app.url("/api/v1/roles"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "scribe", "grants": ["incidents:view"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    app.stop().await;
}

#[tokio::test]
async fn disabled_users_and_revoked_or_expired_tokens_are_shut_out() {
    let app = spawn_app().await;
    crate::helpers::create_user(&app.store, "fay@example.com", "Fay", "cx_agent").await;
    let (fay, status) = app.browser_session("fay@example.com", PASSWORD).await;
    assert_eq!(status, 303);
    assert_eq!(fay.get(app.url("/")).send().await.unwrap().status(), 200);

    let users = json(app.get("/api/v1/users", &app.admin_token).await)
        .await
        .1;
    let id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "Fay")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, _) = json(
        app.send_json(
            reqwest::Method::PATCH,
            &format!("/api/v1/users/{id}"),
            &app.admin_token,
            &json!({"disabled": true}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    // Her open session ends and she cannot sign in again.
    assert_eq!(fay.get(app.url("/")).send().await.unwrap().status(), 303);
    assert_eq!(
        app.browser_session("fay@example.com", PASSWORD).await.1,
        401
    );

    // Tokens: revoked and expired ones get 401.
    let (s, created) = json(
        app.post_json(
            "/api/v1/tokens",
            &app.admin_token,
            &json!({"name": "ci", "role": "viewer"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);
    let secret = created["secret"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/me", secret).await.status(), 200);
    let id = created["token"]["id"].as_str().unwrap();
    let resp = app
        .client
        .delete(app.url(&format!("/api/v1/tokens/{id}")))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(app.get("/api/v1/me", secret).await.status(), 401);

    let (_, expired) = app
        .store
        .create_token(
            frontline::storage::NewToken {
                name: "old".into(),
                role: "admin".into(),
                expires_at: frontline::storage::now_ms() - 1,
                created_by: None,
            },
            crate::helpers::cli_audit(),
        )
        .await
        .unwrap();
    assert_eq!(app.get("/api/v1/me", &expired).await.status(), 401);
    assert_eq!(app.get("/api/v1/me", "fl_made_up").await.status(), 401);
    app.stop().await;
}
