use frontline::domain::access::{builtin_role, BUILTIN_ROLES};
use frontline::domain::{Action, DataClass, Grant};
use frontline::http::guard::Need;
use serde_json::json;

use crate::helpers::{create_token, create_user, json, spawn_app};

fn concrete(path: &str) -> String {
    path.replace("{id}", "usr_01J00000000000000000000000")
        .replace("{name}", "no_such_role")
}

/// For every built-in role and every API route: 403 exactly when the
/// role lacks the route's grant, never 401 for a valid token.
#[tokio::test]
async fn every_role_gets_exactly_what_its_grants_say_on_every_route() {
    let app = spawn_app().await;
    let routes = frontline::http::api::routes();
    assert!(routes.len() >= 15, "the matrix should cover the whole API");
    let mut checked = 0;
    for role in BUILTIN_ROLES {
        let token = create_token(&app.store, role.name).await;
        let grants = role.grants();
        for route in &routes {
            let allowed = match route.need {
                Need::SignedIn => true,
                Need::Grant(g) => grants.contains(&g),
            };
            let mut req = app
                .client
                .request(route.method.clone(), app.url(&concrete(route.path)))
                .bearer_auth(&token);
            if route.method != reqwest::Method::GET && route.method != reqwest::Method::DELETE {
                req = req.json(&json!({}));
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            if allowed {
                assert!(
                    status != 403 && status != 401,
                    "{} should reach {} {} but got {status}",
                    role.name,
                    route.method,
                    route.path
                );
            } else {
                assert_eq!(
                    status, 403,
                    "{} must not reach {} {}",
                    role.name, route.method, route.path
                );
                let body: serde_json::Value = resp.json().await.unwrap();
                assert_eq!(body["code"], "forbidden");
                assert!(
                    body["detail"].as_str().unwrap().contains(':'),
                    "names the grant: {body}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, routes.len() * BUILTIN_ROLES.len());
    app.stop().await;
}

#[tokio::test]
async fn contact_fields_are_masked_without_contact_view_and_looks_are_audited() {
    let app = spawn_app().await;
    create_user(&app.store, "grace.hopper@example.com", "Grace", "cx_agent").await;
    // A custom role that may see settings but not contacts.
    let (s, _) = json(
        app.post_json(
            "/api/v1/roles",
            &app.admin_token,
            &json!({"name": "access_reviewer", "grants": ["settings:view"]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);
    let reviewer = create_token(&app.store, "access_reviewer").await;
    let before = app.store.audit_page(None, 500).await.unwrap().entries.len();

    let (s, users) = json(app.get("/api/v1/users", &reviewer).await).await;
    assert_eq!(s, 200);
    let grace = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "Grace")
        .unwrap();
    assert_eq!(grace["email"], "g***@example.com");
    let text = users.to_string();
    assert!(!text.contains("grace.hopper"), "{text}");
    // A masked list is not a look at personal data: nothing audited.
    assert_eq!(
        app.store.audit_page(None, 500).await.unwrap().entries.len(),
        before
    );

    // The admin holds contact:view: sees the address, and the look is recorded.
    let (_, users) = json(app.get("/api/v1/users", &app.admin_token).await).await;
    assert!(users.to_string().contains("grace.hopper@example.com"));
    let page = app.store.audit_page(None, 1).await.unwrap();
    let entry = &page.entries[0];
    assert_eq!(entry.action, "contact.view");
    assert_eq!(entry.class, "contact");
    assert!(entry.actor.starts_with("tok_"));
    assert_eq!(entry.address.as_deref(), Some("127.0.0.1"));

    // Legal may see contacts but not settings: 403 on the user list.
    let legal = create_token(&app.store, "legal").await;
    assert_eq!(app.get("/api/v1/users", &legal).await.status(), 403);
    assert!(builtin_role("legal")
        .unwrap()
        .grants()
        .contains(&Grant::new(DataClass::Contact, Action::View)));
    app.stop().await;
}

#[tokio::test]
async fn custom_roles_grant_exactly_what_they_list() {
    let app = spawn_app().await;
    // Unknown classes and actions are 422, and nothing is stored.
    for grants in [json!(["payroll:view"]), json!(["feedback:peek"])] {
        let (s, body) = json(
            app.post_json(
                "/api/v1/roles",
                &app.admin_token,
                &json!({"name": "odd", "grants": grants}),
            )
            .await,
        )
        .await;
        assert_eq!(s, 422, "{body}");
        assert_eq!(body["code"], "unknown_reference");
    }
    assert!(app.store.role("odd").await.unwrap().is_none());
    let (s, _) = json(
        app.post_json(
            "/api/v1/roles",
            &app.admin_token,
            &json!({"name": "Bad Name", "grants": []}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 400);

    let (s, role) = json(
        app.post_json(
            "/api/v1/roles",
            &app.admin_token,
            &json!({"name": "token_keeper", "description": "manages tokens", "grants": ["settings:view", "settings:delete"]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(role["grants"], json!(["settings:view", "settings:delete"]));
    let keeper = create_token(&app.store, "token_keeper").await;
    assert_eq!(app.get("/api/v1/tokens", &keeper).await.status(), 200);
    let (s, _) = json(
        app.post_json(
            "/api/v1/tokens",
            &keeper,
            &json!({"name": "x", "role": "admin"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 403, "no settings:store, so no minting tokens");

    // A role someone holds cannot be deleted; a built-in role cannot be changed.
    let resp = app
        .client
        .delete(app.url("/api/v1/roles/token_keeper"))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
    let (s, _) = json(
        app.send_json(
            reqwest::Method::PUT,
            "/api/v1/roles/analyst",
            &app.admin_token,
            &json!({"grants": ["contact:view"]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 409);
    // Changing a custom role changes what its holders may do at once.
    let (s, _) = json(
        app.send_json(
            reqwest::Method::PUT,
            "/api/v1/roles/token_keeper",
            &app.admin_token,
            &json!({"grants": ["reports:view"]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(app.get("/api/v1/tokens", &keeper).await.status(), 403);

    // Unknown role for a user: 422; duplicate email: 409; nothing half-written.
    let users_before = app.store.list_users().await.unwrap().len();
    let audit_before = app.store.audit_page(None, 500).await.unwrap().entries.len();
    let (s, _) = json(
        app.post_json("/api/v1/users", &app.admin_token, &json!({"email": "h@example.com", "name": "H", "role": "wizard", "password": "long enough password"}))
            .await,
    )
    .await;
    assert_eq!(s, 422);
    let (s, _) = json(
        app.post_json("/api/v1/users", &app.admin_token, &json!({"email": "ADA@example.com", "name": "Ada 2", "role": "viewer", "password": "long enough password"}))
            .await,
    )
    .await;
    assert_eq!(s, 409);
    assert_eq!(app.store.list_users().await.unwrap().len(), users_before);
    assert_eq!(
        app.store.audit_page(None, 500).await.unwrap().entries.len(),
        audit_before
    );
    app.stop().await;
}
