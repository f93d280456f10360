use serde_json::{json, Value};

use crate::helpers::{create_token, create_user, json, spawn_app, user_id, TestApp};

async fn declare(app: &TestApp, token: &str, body: Value) -> Value {
    let (s, inc) = json(app.post_json("/api/v1/incidents", token, &body).await).await;
    assert_eq!(s, 201, "{inc}");
    inc
}

async fn patch(app: &TestApp, path: &str, token: &str, body: Value) -> (u16, Value) {
    let (s, v) = json(
        app.send_json(reqwest::Method::PATCH, path, token, &body)
            .await,
    )
    .await;
    (s.as_u16(), v)
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    let (_, page) = json(app.get("/api/v1/audit?limit=200", &app.admin_token).await).await;
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_incident_is_declared_changed_noted_and_every_change_is_audited() {
    let app = spawn_app().await;
    create_user(
        &app.store,
        "lin@example.com",
        "Lin Lead",
        "security_analyst",
    )
    .await;
    create_user(&app.store, "lea@example.com", "Lea Legal", "legal").await;
    let lead = user_id(&app, "lin@example.com").await;
    let legal = user_id(&app, "lea@example.com").await;
    let soc = create_token(&app.store, "security_analyst").await;

    let inc = declare(
        &app,
        &soc,
        json!({"title": " Login failures in EU ", "severity": "sev2", "impact": "major",
               "segments": ["eu", "enterprise", "eu"],
               "team": {"incident_lead": [lead], "legal": [legal]}}),
    )
    .await;
    let id = inc["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("inc_"));
    assert_eq!(inc["title"], "Login failures in EU");
    assert_eq!(inc["severity"], "SEV2");
    assert_eq!(inc["impact"], "major");
    assert_eq!(inc["status"], "investigating");
    assert_eq!(inc["segments"], json!(["eu", "enterprise"]));
    assert_eq!(inc["resolved_at"], Value::Null);
    let team = inc["team"].as_array().unwrap();
    assert_eq!(team.len(), 2);
    assert!(team.iter().any(|m| m["role"] == "incident_lead"
        && m["user_id"] == lead.as_str()
        && m["name"] == "Lin Lead"));

    let path = format!("/api/v1/incidents/{id}");
    let (s, changed) = patch(
        &app,
        &path,
        &soc,
        json!({"status": "identified", "severity": "SEV1", "team": {"incident_lead": [lead]}}),
    )
    .await;
    assert_eq!(s, 200, "{changed}");
    assert_eq!(changed["status"], "identified");
    assert_eq!(changed["severity"], "SEV1");
    assert_eq!(changed["team"].as_array().unwrap().len(), 1);
    assert_eq!(
        changed["title"], "Login failures in EU",
        "untouched fields stay"
    );

    let (s, note) = json(
        app.post_json(
            &format!("{path}/notes"),
            &soc,
            &json!({"body": "Rolled back the auth deploy.\nWatching error rates."}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{note}");
    assert_eq!(note["kind"], "note");

    let (s, _) = patch(&app, &path, &soc, json!({"status": "resolved"})).await;
    assert_eq!(s, 200);
    let (_, got) = json(app.get(&path, &soc).await).await;
    assert!(got["resolved_at"].is_string(), "{got}");

    let (_, timeline) = json(app.get(&format!("{path}/timeline"), &soc).await).await;
    let kinds: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["declared", "team", "severity", "status", "note", "status"],
        "{timeline}"
    );
    assert!(timeline[3]["body"]
        .as_str()
        .unwrap()
        .contains("investigating → identified"));

    let actions = audit_actions(&app).await;
    for a in ["incident.create", "incident.update", "incident.note"] {
        assert!(actions.iter().any(|x| x == a), "{a} audited: {actions:?}");
    }
    assert_eq!(
        actions.iter().filter(|a| *a == "incident.update").count(),
        2
    );

    let (_, all) = json(app.get("/api/v1/incidents", &soc).await).await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    let (_, open) = json(app.get("/api/v1/incidents?open=true", &soc).await).await;
    assert_eq!(open.as_array().unwrap().len(), 0, "resolved is not open");
    app.stop().await;
}

#[tokio::test]
async fn bad_incident_input_is_a_4xx_naming_the_field_and_stores_nothing() {
    let app = spawn_app().await;
    let t = &app.admin_token;
    for (body, field, status) in [
        (json!({"title": "", "severity": "SEV1"}), "title", 400),
        (json!({"title": "x", "severity": "SEV9"}), "severity", 400),
        (
            json!({"title": "x", "severity": "SEV3", "impact": "huge"}),
            "impact",
            400,
        ),
        (
            json!({"title": "x", "severity": "SEV3", "status": "fixed"}),
            "status",
            400,
        ),
        (
            json!({"title": "x", "severity": "SEV3", "components": ["nope"]}),
            "components",
            400,
        ),
        (
            json!({"title": "x", "severity": "SEV3", "team": {"boss": []}}),
            "team",
            400,
        ),
        (
            json!({"title": "x", "severity": "SEV3", "team": {"legal": ["bob"]}}),
            "team",
            400,
        ),
        (
            json!({"title": "x", "severity": "SEV3", "segments": ["<script>"]}),
            "segments",
            400,
        ),
        (json!({"title": "x"}), "severity", 400),
        (
            json!({"title": "x", "severity": "SEV3", "colour": "red"}),
            "colour",
            400,
        ),
        (
            json!({"title": "x", "severity": "SEV3", "components": ["cmp_01J00000000000000000000000"]}),
            "components",
            422,
        ),
        (
            json!({"title": "x", "severity": "SEV3", "team": {"legal": ["usr_01J00000000000000000000000"]}}),
            "team",
            422,
        ),
    ] {
        let (s, err) = json(app.post_json("/api/v1/incidents", t, &body).await).await;
        assert_eq!(s.as_u16(), status, "{body} -> {err}");
        assert!(err["code"].is_string());
        assert!(
            err["detail"].as_str().unwrap().contains(field),
            "{body} -> {err} names {field}"
        );
    }
    let (_, all) = json(app.get("/api/v1/incidents", t).await).await;
    assert_eq!(all, json!([]), "nothing half-stored");

    let inc = declare(&app, t, json!({"title": "x", "severity": "SEV4"})).await;
    let path = format!("/api/v1/incidents/{}", inc["id"].as_str().unwrap());
    let (s, err) = patch(&app, &path, t, json!({})).await;
    assert_eq!(s, 400, "{err}");
    let (s, _) = patch(
        &app,
        "/api/v1/incidents/inc_01J00000000000000000000000",
        t,
        json!({"status": "resolved"}),
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = json(
        app.post_json(&format!("{path}/notes"), t, &json!({"body": "  "}))
            .await,
    )
    .await;
    assert_eq!(s, 400);
    // Viewers read incidents but cannot declare them.
    let viewer = create_token(&app.store, "viewer").await;
    assert_eq!(app.get(&path, &viewer).await.status(), 200);
    let resp = app
        .post_json(
            "/api/v1/incidents",
            &viewer,
            &json!({"title": "x", "severity": "SEV4"}),
        )
        .await;
    assert_eq!(resp.status(), 403);
    app.stop().await;
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> (u16, Value) {
    let (s, v) = json(app.post_json(path, token, &body).await).await;
    (s.as_u16(), v)
}

#[tokio::test]
async fn sev1_and_sev2_updates_need_communications_and_legal_approval_by_two_people() {
    let app = spawn_app().await;
    let comms = create_token(&app.store, "communications").await;
    let legal = create_token(&app.store, "legal").await;
    let soc = create_token(&app.store, "security_analyst").await;
    let admin = app.admin_token.clone();
    let inc = declare(
        &app,
        &soc,
        json!({"title": "Card data exposure", "severity": "SEV2"}),
    )
    .await;
    let id = inc["id"].as_str().unwrap().to_owned();
    let updates = format!("/api/v1/incidents/{id}/updates");

    // The SOC may not write customer notices at all.
    let (s, _) = post(
        &app,
        &updates,
        &soc,
        json!({"status": "investigating", "body": "x"}),
    )
    .await;
    assert_eq!(s, 403);

    let (s, draft) = post(
        &app,
        &updates,
        &comms,
        json!({"status": "identified", "body": "We are investigating reports of <unexpected> charges."}),
    )
    .await;
    assert_eq!(s, 201, "{draft}");
    assert_eq!(draft["state"], "draft");
    assert_eq!(draft["published_at"], Value::Null);
    assert_eq!(
        draft["approvals_missing"],
        json!(["communications", "legal"])
    );
    let uid = draft["id"].as_str().unwrap().to_owned();
    assert!(uid.starts_with("ntc_"));
    let approve = format!("{updates}/{uid}/approve");
    let publish = format!("{updates}/{uid}/publish");

    let (s, err) = post(&app, &publish, &comms, json!({})).await;
    assert_eq!(s, 409, "{err}");
    assert!(
        err["detail"]
            .as_str()
            .unwrap()
            .contains("communications and legal"),
        "{err}"
    );

    // Neither an admin nor a role without the grant approves.
    let (s, err) = post(&app, &approve, &admin, json!({})).await;
    assert_eq!(s, 403, "{err}");
    assert!(err["detail"]
        .as_str()
        .unwrap()
        .contains("communications or legal"));
    let (s, _) = post(&app, &approve, &soc, json!({})).await;
    assert_eq!(s, 403);

    // The drafter approves for communications, but cannot finish alone.
    let (s, one) = post(&app, &approve, &comms, json!({})).await;
    assert_eq!(s, 200, "{one}");
    assert_eq!(one["approvals"][0]["role"], "communications");
    assert!(one["approvals"][0]["approved_by"]
        .as_str()
        .unwrap()
        .starts_with("tok_"));
    assert!(one["approvals"][0]["approved_at"].is_string());
    assert_eq!(one["approvals_missing"], json!(["legal"]));
    let (s, err) = post(&app, &approve, &comms, json!({})).await;
    assert_eq!(s, 409, "{err}");
    let second_comms = create_token(&app.store, "communications").await;
    let (s, _) = post(&app, &approve, &second_comms, json!({})).await;
    assert_eq!(s, 409, "communications has approved already");
    let (s, err) = post(&app, &publish, &comms, json!({})).await;
    assert_eq!(s, 409);
    assert!(err["detail"].as_str().unwrap().contains("legal"), "{err}");

    // The same person cannot give the second approval in another role.
    let incident = app.store.incident(&id).await.unwrap().unwrap();
    let drafter = one["approvals"][0]["approved_by"]
        .as_str()
        .unwrap()
        .to_owned();
    let same = app
        .store
        .approve_incident_update(
            &incident,
            &uid,
            "legal",
            frontline::storage::AuditRecord {
                actor: drafter,
                ..crate::helpers::cli_audit()
            },
        )
        .await;
    assert!(same.is_err(), "one person cannot approve twice");

    let (s, two) = post(&app, &approve, &legal, json!({})).await;
    assert_eq!(s, 200, "{two}");
    assert_eq!(two["approvals_missing"], json!([]));
    assert_eq!(two["state"], "draft", "approval does not publish by itself");

    let (s, published) = post(&app, &publish, &legal, json!({})).await;
    assert_eq!(s, 200, "{published}");
    assert_eq!(published["state"], "published");
    assert!(published["published_at"].is_string());
    let (_, got) = json(app.get(&format!("/api/v1/incidents/{id}"), &soc).await).await;
    assert_eq!(got["status"], "identified", "publishing moves the incident");

    // A published update is never edited: not approved again, not published twice.
    let (s, _) = post(&app, &publish, &legal, json!({})).await;
    assert_eq!(s, 409);
    let (s, _) = post(&app, &approve, &second_comms, json!({})).await;
    assert_eq!(s, 409);
    let changed = app
        .store
        .execute(
            "UPDATE incident_updates SET body = 'rewritten' WHERE id = $1",
            vec![uid.as_str().into()],
        )
        .await;
    assert!(
        changed.is_err(),
        "the database refuses to edit a published update"
    );

    let (_, list) = json(app.get(&updates, &soc).await).await;
    assert_eq!(
        list[0]["body"],
        "We are investigating reports of <unexpected> charges."
    );

    let (_, page) = json(app.get("/api/v1/audit?limit=200", &admin).await).await;
    let actions: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "incident.update.approve")
            .count(),
        2
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "incident.update.publish")
            .count(),
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn sev3_updates_publish_at_once_and_corrections_are_new_updates() {
    let app = spawn_app().await;
    let comms = create_token(&app.store, "communications").await;
    let inc = declare(
        &app,
        &app.admin_token,
        json!({"title": "Slow search", "severity": "SEV3"}),
    )
    .await;
    let updates = format!("/api/v1/incidents/{}/updates", inc["id"].as_str().unwrap());
    let (s, first) = post(
        &app,
        &updates,
        &comms,
        json!({"status": "investigating", "body": "Search is slow."}),
    )
    .await;
    assert_eq!(s, 201, "{first}");
    assert_eq!(first["state"], "published");
    let (s, draft) = post(
        &app,
        &updates,
        &comms,
        json!({"status": "monitoring", "body": "Correction: only EU search was slow.", "draft": true}),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(draft["state"], "draft");
    assert_eq!(draft["approvals_missing"], json!([]));
    let (s, p) = post(
        &app,
        &format!("{updates}/{}/publish", draft["id"].as_str().unwrap()),
        &comms,
        json!({}),
    )
    .await;
    assert_eq!(s, 200, "{p}");
    let (_, list) = json(app.get(&updates, &comms).await).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(
        list[0]["body"], "Search is slow.",
        "the first stays as it was"
    );

    for (body, field) in [
        (json!({"status": "fixed", "body": "x"}), "status"),
        (json!({"status": "resolved", "body": ""}), "body"),
        (
            json!({"status": "resolved", "body": "x", "components": {"nope": "operational"}}),
            "components",
        ),
        (
            json!({"status": "resolved", "body": "x", "components": {"cmp_01J00000000000000000000000": "melted"}}),
            "status",
        ),
    ] {
        let (s, err) = post(&app, &updates, &comms, body.clone()).await;
        assert_eq!(s, 400, "{body} -> {err}");
        assert!(err["detail"].as_str().unwrap().contains(field), "{err}");
    }
    let (s, _) = post(
        &app,
        &updates,
        &comms,
        json!({"status": "resolved", "body": "x", "components": {"cmp_01J00000000000000000000000": "operational"}}),
    )
    .await;
    assert_eq!(s, 422);
    let (s, _) = post(
        &app,
        "/api/v1/incidents/inc_01J00000000000000000000000/updates",
        &comms,
        json!({"status": "resolved", "body": "x"}),
    )
    .await;
    assert_eq!(s, 404);
    let (_, list) = json(app.get(&updates, &comms).await).await;
    assert_eq!(list.as_array().unwrap().len(), 2, "nothing half-stored");
    app.stop().await;
}

#[tokio::test]
async fn raising_the_severity_after_drafting_makes_publishing_wait_for_approval() {
    let app = spawn_app().await;
    let comms = create_token(&app.store, "communications").await;
    let legal = create_token(&app.store, "legal").await;
    let inc = declare(
        &app,
        &app.admin_token,
        json!({"title": "Odd logins", "severity": "SEV3"}),
    )
    .await;
    let path = format!("/api/v1/incidents/{}", inc["id"].as_str().unwrap());
    let (s, draft) = post(
        &app,
        &format!("{path}/updates"),
        &comms,
        json!({"status": "investigating", "body": "Looking into it.", "draft": true}),
    )
    .await;
    assert_eq!(s, 201);
    let uid = draft["id"].as_str().unwrap();
    let (s, _) = patch(&app, &path, &app.admin_token, json!({"severity": "SEV1"})).await;
    assert_eq!(s, 200);
    let publish = format!("{path}/updates/{uid}/publish");
    let (s, err) = post(&app, &publish, &comms, json!({})).await;
    assert_eq!(s, 409, "{err}");
    for t in [&comms, &legal] {
        let (s, _) = post(&app, &format!("{path}/updates/{uid}/approve"), t, json!({})).await;
        assert_eq!(s, 200);
    }
    let (s, done) = post(&app, &publish, &comms, json!({})).await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["state"], "published");
    app.stop().await;
}
