use std::time::Duration;

use chrono::Datelike;

use frontline::config::Secret;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{
    create_token, create_user, json, spawn_app, spawn_app_with, user_id, TestApp,
};

async fn open(app: &TestApp, token: &str, body: Value) -> Value {
    let (s, t) = json(app.post_json("/api/v1/tickets", token, &body).await).await;
    assert_eq!(s, 201, "{t}");
    t
}

async fn patch(app: &TestApp, id: &str, token: &str, body: Value) -> (u16, Value) {
    let (s, v) = json(
        app.send_json(
            reqwest::Method::PATCH,
            &format!("/api/v1/tickets/{id}"),
            token,
            &body,
        )
        .await,
    )
    .await;
    (s.as_u16(), v)
}

/// The tracking page as the customer sees it (no cookies, no token header).
async fn page(url: &str) -> (u16, String) {
    let resp = reqwest::Client::new().get(url).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// A tracking link points at the configured public address; the test
/// server listens elsewhere.
async fn track(app: &TestApp, link: &str) -> (u16, String) {
    let resp = reqwest::Client::new()
        .get(app.url(&path_of(link)))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

fn path_of(url: &str) -> String {
    let i = url.find("/t/").expect("a tracking link");
    url[i..].to_owned()
}

#[tokio::test]
async fn a_ticket_is_worked_through_its_states_and_the_customer_sees_only_public_replies() {
    let app = spawn_app().await;
    create_user(&app.store, "ana@example.com", "Ana Agent", "cx_agent").await;
    let ana = user_id(&app, "ana@example.com").await;
    let agent = create_token(&app.store, "cx_agent").await;

    let t = open(
        &app,
        &agent,
        json!({"subject": "Cannot log in", "description": "Since this morning I cannot log in. Call me on +1 415 555 0100.",
               "priority": "high", "channel": "email", "segment": "enterprise",
               "contact": {"name": "Chloé", "email": "Chloe@Example.org"}}),
    )
    .await;
    let id = t["id"].as_str().unwrap();
    assert_eq!(t["status"], "new");
    assert_eq!(t["priority"], "high");
    assert_eq!(t["has_contact"], true);
    assert_eq!(t["topic"], "account_access");
    let link = t["tracking_url"].as_str().unwrap();
    let token = link.rsplit('/').next().unwrap();
    assert!(token.len() >= 40, "an unguessable token");
    // Stored only as a hash.
    let raw: i64 = app
        .store
        .fetch_optional(
            "SELECT COUNT(*) AS n FROM tickets WHERE tracking_hash = $1",
            vec![token.into()],
        )
        .await
        .unwrap()
        .unwrap()
        .get("n")
        .unwrap();
    assert_eq!(raw, 0);

    // The agent sees the contact (contact:view), an analyst role would not.
    let (_, full) = json(app.get(&format!("/api/v1/tickets/{id}"), &agent).await).await;
    assert_eq!(full["contact"]["email"], "chloe@example.org");
    let (_, hist) = json(
        app.get(&format!("/api/v1/tickets/{id}/events"), &agent)
            .await,
    )
    .await;
    assert!(
        hist[0]["body"].as_str().unwrap().contains("[PHONE]"),
        "redacted: {hist}"
    );

    // Assign, note internally, reply publicly, ask the customer (pending).
    let (s, v) = patch(
        &app,
        id,
        &agent,
        json!({"assignee_id": ana, "group": "tier 2"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "open");
    let (s, _) = json(
        app.post_json(
            &format!("/api/v1/tickets/{id}/notes"),
            &agent,
            &json!({"body": "SECRET-NOTE: looks like the SSO outage"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = json(
        app.post_json(
            &format!("/api/v1/tickets/{id}/replies"),
            &agent,
            &json!({"body": "Thanks, we are looking into it. Which browser do you use?", "status": "pending"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);
    let (_, t2) = json(app.get(&format!("/api/v1/tickets/{id}"), &agent).await).await;
    assert_eq!(t2["status"], "pending");
    assert_eq!(t2["agent_replies"], 1);
    assert!(t2["first_response_secs"].is_i64());
    assert!(t2["first_response_business_secs"].is_i64());

    // The customer's page: status, the public reply, never the note.
    let (s, html) = track(&app, link).await;
    assert_eq!(s, 200);
    assert!(html.contains("Which browser do you use?"));
    assert!(html.contains("Waiting for your reply"));
    assert!(!html.contains("SECRET-NOTE"));
    assert!(!html.contains("tier 2"));
    assert!(!html.contains("<script"));

    // The customer answers without an account: back to open.
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url(&format!("{}/reply", path_of(link))))
        .form(&[(
            "body",
            "Firefox, and my card 4111 1111 1111 1111 was charged",
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let (_, t3) = json(app.get(&format!("/api/v1/tickets/{id}"), &agent).await).await;
    assert_eq!(t3["status"], "open");
    let (_, html) = track(&app, link).await;
    assert!(html.contains("Firefox"));
    assert!(!html.contains("4111 1111"), "customer text is redacted");

    // A reply with a move that is not allowed is refused whole.
    let (s, _) = json(
        app.post_json(
            &format!("/api/v1/tickets/{id}/replies"),
            &agent,
            &json!({"body": "ROLLED-BACK reply", "status": "reopened"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 409);
    let (_, hist) = json(
        app.get(&format!("/api/v1/tickets/{id}/events"), &agent)
            .await,
    )
    .await;
    assert!(!hist.to_string().contains("ROLLED-BACK"));

    // Transitions are enforced.
    let (s, v) = patch(&app, id, &agent, json!({"status": "reopened"})).await;
    assert_eq!(s, 409, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("allowed"));
    let (s, _) = patch(&app, id, &agent, json!({"status": "solved"})).await;
    assert_eq!(s, 200);
    let (s, _) = patch(&app, id, &agent, json!({"status": "open"})).await;
    assert_eq!(s, 409);
    let (s, v) = patch(&app, id, &agent, json!({"status": "closed"})).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("closed")));
    let (s, _) = patch(&app, id, &agent, json!({"status": "reopened"})).await;
    assert_eq!(s, 409, "closed is final");
    let (s, v) = patch(&app, id, &agent, json!({"status": "maybe"})).await;
    assert_eq!((s, v["code"].as_str()), (400, Some("invalid_field")));
    let (_, html) = track(&app, link).await;
    assert!(html.contains("This request is closed"));

    // History and audit cover every change.
    let (_, hist) = json(
        app.get(&format!("/api/v1/tickets/{id}/events"), &agent)
            .await,
    )
    .await;
    let kinds: Vec<&str> = hist
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for k in [
        "created",
        "assignee",
        "labels",
        "note",
        "reply",
        "status",
        "customer_reply",
    ] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    let (_, audit) = json(app.get("/api/v1/audit?limit=200", &app.admin_token).await).await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "ticket.create",
        "ticket.update",
        "ticket.note",
        "ticket.reply",
        "ticket.customer_reply",
        "contact.view",
    ] {
        assert!(actions.contains(&a), "{a} audited: {actions:?}");
    }
    // A wrong link shows nothing.
    let (s, _) = page(&app.url("/t/not-a-real-token")).await;
    assert_eq!(s, 404);
    app.stop().await;
}

#[tokio::test]
async fn the_public_form_makes_a_ticket_without_javascript_drops_bots_and_is_rate_limited() {
    let app = spawn_app_with(|c| c.intake.public_per_minute_per_address = 4).await;
    let client = reqwest::Client::new();
    let (s, html) = page(&app.url("/support")).await;
    assert_eq!(s, 200);
    assert!(html.contains("name=\"website\"") && !html.contains("<script"));

    // A bot fills the honeypot: thanked, nothing stored.
    let resp = client
        .post(app.url("/support"))
        .form(&[
            ("subject", "Buy now"),
            ("description", "spam spam"),
            ("website", "http://spam.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (_, list) = json(app.get("/api/v1/tickets", &app.admin_token).await).await;
    assert_eq!(list.as_array().unwrap().len(), 0);

    // A bad email is shown again with the text kept.
    let resp = client
        .post(app.url("/support"))
        .form(&[
            ("subject", "Refund"),
            ("description", "Charged twice"),
            ("contact_email", "not-an-email"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.unwrap().contains("Charged twice"));

    let resp = client
        .post(app.url("/support"))
        .form(&[
            ("subject", "Refund"),
            ("description", "I was charged twice for my order"),
            ("contact_email", "pat@example.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Keep this link"));
    // The reply form on the same page posts to the ticket's tracking path.
    let start = html.find("action=\"/t/").unwrap() + "action=\"".len();
    let token: String = html[start + 3..]
        .chars()
        .take_while(|c| *c != '/')
        .collect();
    let link = format!("/t/{token}");
    let (s, tracked) = page(&app.url(&link)).await;
    assert_eq!(s, 200);
    assert!(tracked.contains("I was charged twice"));
    let (_, list) = json(app.get("/api/v1/tickets", &app.admin_token).await).await;
    assert_eq!(list[0]["channel"], "web");
    assert_eq!(list[0]["has_contact"], true);

    // The fifth submission within the minute from this address: 429.
    let fourth = client
        .post(app.url("/support"))
        .form(&[("subject", "Again"), ("description", "and again")])
        .send()
        .await
        .unwrap();
    assert_eq!(fourth.status(), 200);
    let resp = client
        .post(app.url("/support"))
        .form(&[("subject", "Again"), ("description", "and again")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "60");
    app.stop().await;
}

#[tokio::test]
async fn tickets_come_from_feedback_and_incidents_and_an_incident_updates_all_of_its_tickets() {
    let app = spawn_app().await;
    let agent = create_token(&app.store, "cx_agent").await;
    let (s, fb) = json(
        app.post_json(
            "/api/v1/feedback",
            &app.admin_token,
            &json!({"kind": "complaint", "text": "Your app charged me twice this month", "channel": "app",
                    "component": "billing", "journey_stage": "pay",
                    "contact": {"email": "sam@example.com"}, "consent": {"given": true, "text": "Contact me"}}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{fb}");
    let fid = fb["id"].as_str().unwrap();
    let (s, t) = json(
        app.post_json(
            &format!("/api/v1/feedback/{fid}/ticket"),
            &agent,
            &json!({"priority": "high"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{t}");
    assert_eq!(t["feedback_id"], fid);
    assert_eq!(t["channel"], "app");
    assert_eq!(t["journey_stage"], "pay");
    assert_eq!(t["has_contact"], true);
    assert_eq!(t["repeat_of"], Value::Null);

    // The same customer, same topic, within the window: flagged as a repeat.
    let again = open(
        &app,
        &agent,
        json!({"subject": "Charged twice again", "description": "I was charged twice again",
               "topic": t["topic"], "contact": {"email": "SAM@example.com"}}),
    )
    .await;
    assert_eq!(again["repeat_of"], t["id"]);
    let other = open(
        &app,
        &agent,
        json!({"subject": "Charged twice", "description": "I was charged twice", "topic": t["topic"],
               "contact": {"email": "someone.else@example.com"}}),
    )
    .await;
    assert_eq!(other["repeat_of"], Value::Null);
    // Erasing the customer forgets who asked, on their tickets too.
    let (s, _) = json(
        app.post_json(
            "/api/v1/subjects/erase",
            &app.admin_token,
            &json!({"email": "sam@example.com"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    let (_, erased) = json(
        app.get(
            &format!("/api/v1/tickets/{}", again["id"].as_str().unwrap()),
            &agent,
        )
        .await,
    )
    .await;
    assert_eq!(erased["has_contact"], false);
    assert_eq!(erased["contact"], Value::Null);

    // An incident's affected customers get one ticket each, all or none.
    let (_, inc) = json(
        app.post_json(
            "/api/v1/incidents",
            &app.admin_token,
            &json!({"title": "Payments failing", "severity": "SEV3"}),
        )
        .await,
    )
    .await;
    let iid = inc["id"].as_str().unwrap();
    let (s, v) = json(
        app.post_json(
            &format!("/api/v1/incidents/{iid}/tickets"),
            &agent,
            &json!({"subject": "Payments failing", "description": "We know payments fail and are fixing it.",
                    "customers": [{"email": "a@example.com"}, {"email": "not-an-email"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 400, "{v}");
    let (s, made) = json(
        app.post_json(
            &format!("/api/v1/incidents/{iid}/tickets"),
            &agent,
            &json!({"subject": "Payments failing", "description": "We know payments fail and are fixing it.",
                    "customers": [{"email": "a@example.com"}, {"email": "b@example.com"}, {"phone": "+44 20 7946 0958"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{made}");
    let made = made.as_array().unwrap();
    assert_eq!(made.len(), 3);
    assert!(made
        .iter()
        .all(|t| t["incident_id"] == iid && t["tracking_url"].is_string()));
    let (_, linked) = json(
        app.get(&format!("/api/v1/incidents/{iid}/tickets"), &agent)
            .await,
    )
    .await;
    assert_eq!(linked.as_array().unwrap().len(), 3);

    // Resolved: one reply and a status to all of them.
    let (s, r) = json(
        app.post_json(
            &format!("/api/v1/incidents/{iid}/tickets/update"),
            &agent,
            &json!({"reply": "Payments work again. Sorry for the trouble.", "status": "solved"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["updated"], 3);
    for t in made {
        let (_, now) = json(
            app.get(
                &format!("/api/v1/tickets/{}", t["id"].as_str().unwrap()),
                &agent,
            )
            .await,
        )
        .await;
        assert_eq!(now["status"], "solved");
        assert_eq!(now["csat_offered"], false, "bulk solves ask no CSAT");
        let (_, html) = track(&app, t["tracking_url"].as_str().unwrap()).await;
        assert!(html.contains("Payments work again"));
        assert!(!html.contains("How satisfied"));
    }
    // The incident's timeline tells of its tickets: each opened, and the
    // bulk update, without the customers' words.
    let (_, timeline) = json(
        app.get(&format!("/api/v1/incidents/{iid}/timeline"), &agent)
            .await,
    )
    .await;
    let lines: Vec<&str> = timeline
        .as_array()
        .expect("a list")
        .iter()
        .filter(|e| e["kind"] == "ticket")
        .map(|e| e["body"].as_str().unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    for t in made {
        let tid = t["id"].as_str().unwrap();
        assert!(lines.iter().any(|l| l.contains(tid)), "{tid} in {lines:?}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("3 tickets updated: status solved, a public reply")),
        "{lines:?}"
    );
    let (s, _) = json(
        app.post_json(
            "/api/v1/incidents/inc_01J00000000000000000000000/tickets/update",
            &agent,
            &json!({"status": "solved"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 404);
    app.stop().await;
}

#[tokio::test]
async fn csat_is_asked_after_a_solve_and_counted_only_on_an_explicit_submit() {
    let app = spawn_app().await;
    let agent = create_token(&app.store, "cx_agent").await;
    let t = open(&app, &agent, json!({"subject": "Where is my parcel", "description": "It has not arrived", "journey_stage": "delivery"})).await;
    let id = t["id"].as_str().unwrap();
    let link = t["tracking_url"].as_str().unwrap().to_owned();
    let (_, html) = track(&app, &link).await;
    assert!(!html.contains("How satisfied"), "not before it is solved");
    json(
        app.post_json(
            &format!("/api/v1/tickets/{id}/replies"),
            &agent,
            &json!({"body": "It arrives tomorrow", "status": "solved"}),
        )
        .await,
    )
    .await;

    // A mail scanner following a link with a preselected answer records nothing.
    let (s, html) = track(&app, &format!("{link}?csat=5")).await;
    assert_eq!(s, 200);
    assert!(html.contains("How satisfied"));
    assert!(html.contains("value=\"5\" checked"));
    let (_, items) = json(
        app.get("/api/v1/feedback?kind=csat", &app.admin_token)
            .await,
    )
    .await;
    assert_eq!(items["items"].as_array().unwrap().len(), 0);

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let csat_url = app.url(&format!("{}/csat", path_of(&link)));
    let resp = client
        .post(&csat_url)
        .form(&[("score", "9")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let resp = client
        .post(&csat_url)
        .form(&[("score", "4"), ("comment", "Quick answer, thanks")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let resp = client
        .post(&csat_url)
        .form(&[("score", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409, "once per ticket");
    let (_, items) = json(
        app.get("/api/v1/feedback?kind=csat", &app.admin_token)
            .await,
    )
    .await;
    let items = items["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["score"], 4);
    assert_eq!(items[0]["journey_stage"], "delivery");
    let (_, hist) = json(
        app.get(&format!("/api/v1/tickets/{id}/events"), &agent)
            .await,
    )
    .await;
    let csat = hist
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "csat")
        .expect("csat on the ticket");
    assert!(csat["body"]
        .as_str()
        .unwrap()
        .contains(items[0]["id"].as_str().unwrap()));
    let (_, html) = track(&app, &link).await;
    assert!(!html.contains("How satisfied") && html.contains("Thank you for rating"));
    app.stop().await;
}

type Received = tokio::sync::mpsc::UnboundedSender<(axum::http::HeaderMap, axum::body::Bytes)>;

/// A webhook receiver on 127.0.0.1:0 that hands over what it gets.
async fn receiver() -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<(axum::http::HeaderMap, axum::body::Bytes)>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |axum::extract::State(tx): axum::extract::State<Received>,
                 headers: axum::http::HeaderMap,
                 body: axum::body::Bytes| async move {
                    let _ = tx.send((headers, body));
                    "ok"
                },
            ),
        )
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), rx)
}

fn verify(secret: &str, headers: &axum::http::HeaderMap, body: &[u8]) -> bool {
    let sig = headers["x-frontline-signature"].to_str().unwrap();
    let (t, v1) = sig.split_once(",v1=").unwrap();
    let t = t.strip_prefix("t=").unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    mac.verify_slice(&hex::decode(v1).unwrap()).is_ok()
}

#[tokio::test]
async fn sla_targets_are_set_paused_by_pending_warned_and_breached_over_a_signed_webhook() {
    const SECRET: &str = "a-webhook-secret-of-some-length";
    let (hook, mut rx) = receiver().await;
    let mail = frontline::notify::catcher::MailCatcher::start("127.0.0.1:0", true)
        .await
        .unwrap();
    let smtp = mail.url();
    let app = spawn_app_with(|c| {
        c.tickets.sla_webhook_url = hook.clone();
        c.tickets.sla_webhook_secret = Secret::new(SECRET);
        c.tickets.sla_check_every_ms = 100;
        c.notify.smtp_url = Secret::new(smtp);
    })
    .await;
    let agent = create_token(&app.store, "cx_agent").await;
    // Calendars and policies are settings: agents may not add them.
    let (s, _) = json(
        app.post_json(
            "/api/v1/sla/policies",
            &agent,
            &json!({"name": "x", "first_response_mins": 5}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 403);
    let (s, v) = json(
        app.post_json(
            "/api/v1/sla/calendars",
            &app.admin_token,
            &json!({"name": "bad", "timezone": "Mars/Base", "periods": [{"day": "mon", "start": "09:00", "end": "17:00"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (400, Some("invalid_field"))
    );
    let periods: Vec<Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| json!({"day": d, "start": "00:00", "end": "24:00"}))
        .collect();
    let (s, cal) = json(
        app.post_json(
            "/api/v1/sla/calendars",
            &app.admin_token,
            &json!({"name": "always", "timezone": "Europe/Berlin", "periods": periods, "holidays": []}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{cal}");
    // Urgent enterprise tickets: 60 min first response, warned 90 min before
    // (so at once), resolution in 8 hours.
    let (s, pol) = json(
        app.post_json(
            "/api/v1/sla/policies",
            &app.admin_token,
            &json!({"name": "enterprise urgent", "priority": "urgent", "segment": "enterprise", "calendar_id": cal["id"],
                    "first_response_mins": 60, "next_response_mins": 30, "resolution_mins": 480, "warn_before_mins": 90}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{pol}");
    let (s, _) = json(
        app.post_json(
            "/api/v1/sla/policies",
            &app.admin_token,
            &json!({"name": "default", "resolution_mins": 2880, "warn_before_mins": 0}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);
    create_user(&app.store, "ana@example.com", "Ana Agent", "cx_agent").await;
    let ana = user_id(&app, "ana@example.com").await;
    let t = open(
        &app,
        &agent,
        json!({"subject": "Site down", "description": "Nothing loads", "priority": "urgent", "segment": "enterprise", "assignee_id": ana}),
    )
    .await;
    let id = t["id"].as_str().unwrap().to_owned();
    assert_eq!(t["sla_policy_id"], pol["id"], "the most specific policy");
    let created = chrono::DateTime::parse_from_rfc3339(t["created_at"].as_str().unwrap()).unwrap();
    let frt =
        chrono::DateTime::parse_from_rfc3339(t["first_response_due_at"].as_str().unwrap()).unwrap();
    assert_eq!((frt - created).num_minutes(), 60);
    let normal = open(
        &app,
        &agent,
        json!({"subject": "Question", "description": "How do I export?"}),
    )
    .await;
    assert_ne!(normal["sla_policy_id"], pol["id"]);
    assert_eq!(normal["first_response_due_at"], Value::Null);

    // The warning arrives on the webhook, signed.
    let (headers, body) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a warning")
        .unwrap();
    assert!(verify(SECRET, &headers, &body), "signature checks");
    assert!(!verify("another-secret-entirely", &headers, &body));
    let warning: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(warning["event"], "ticket.sla_warning");
    assert_eq!(warning["ticket_id"], id.as_str());
    assert_eq!(warning["target"], "first_response");
    assert_eq!(warning["assignee_id"], ana.as_str());
    // The assignee is told by email too, through the outbox.
    assert!(mail.wait_for(1, Duration::from_secs(20)).await >= 1);
    let first = &mail.messages()[0];
    assert_eq!(first.to, vec!["ana@example.com".to_owned()]);
    assert!(String::from_utf8_lossy(&first.raw).contains("SLA at risk: first response"));

    // Pending pauses the clock: no due instants while it waits.
    let (s, p) = patch(&app, &id, &agent, json!({"status": "pending"})).await;
    assert_eq!(s, 200);
    assert_eq!(p["first_response_due_at"], Value::Null);
    assert_eq!(p["resolution_due_at"], Value::Null);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, p) = patch(&app, &id, &agent, json!({"status": "open"})).await;
    let due =
        chrono::DateTime::parse_from_rfc3339(p["first_response_due_at"].as_str().unwrap()).unwrap();
    assert!(due > frt, "the paused time is added: {due} > {frt}");

    // Time passes (an hour, simulated): the target is breached.
    app.store
        .execute(
            "UPDATE tickets SET frt_due_at = $1 WHERE id = $2",
            vec![
                (frontline::storage::now_ms() - 1000).into(),
                id.as_str().into(),
            ],
        )
        .await
        .unwrap();
    let (headers, body) = loop {
        let (h, b) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("a breach")
            .unwrap();
        let v: Value = serde_json::from_slice(&b).unwrap();
        if v["event"] == "ticket.sla_breach" {
            break (h, b);
        }
    };
    assert!(verify(SECRET, &headers, &body));
    let (_, t) = json(app.get(&format!("/api/v1/tickets/{id}"), &agent).await).await;
    assert_eq!(t["breached"], json!(["first_response"]));
    let (_, hist) = json(
        app.get(&format!("/api/v1/tickets/{id}/events"), &agent)
            .await,
    )
    .await;
    let kinds: Vec<&str> = hist
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"sla_warning") && kinds.contains(&"sla_breach"),
        "{kinds:?}"
    );
    // ...once: the watcher keeps running but records no second breach.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (_, hist) = json(
        app.get(&format!("/api/v1/tickets/{id}/events"), &agent)
            .await,
    )
    .await;
    assert_eq!(
        hist.as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "sla_breach")
            .count(),
        1
    );
    // The queue filter finds tickets about to breach.
    let (_, soon) = json(
        app.get("/api/v1/tickets?breaching_within_mins=10", &agent)
            .await,
    )
    .await;
    let soon: Vec<&str> = soon
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert!(soon.contains(&id.as_str()) && !soon.contains(&normal["id"].as_str().unwrap()));
    app.stop().await;
}

#[tokio::test]
async fn the_scorecard_counts_by_its_definitions_by_dimension_and_as_csv() {
    let app = spawn_app().await;
    let agent = create_token(&app.store, "cx_agent").await;
    let analyst = create_token(&app.store, "analyst").await;
    let items: Vec<Value> = [
        ("nps", 10, "web"),
        ("nps", 9, "web"),
        ("nps", 8, "app"),
        ("nps", 3, "app"),
        ("nps", 0, "app"),
        ("csat", 5, "web"),
        ("csat", 4, "web"),
        ("csat", 2, "app"),
        ("ces", 7, "web"),
        ("ces", 5, "app"),
        ("ces", 2, "app"),
    ]
    .iter()
    .map(|(k, s, c)| {
        let segment = if *c == "web" {
            "enterprise"
        } else {
            "consumer"
        };
        json!({"kind": k, "score": s, "channel": c, "segment": segment})
    })
    .collect();
    let (s, _) = json(
        app.post_json(
            "/api/v1/feedback/batch",
            &app.admin_token,
            &Value::Array(items),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    // Two tickets: one solved on the first reply, one reopened and solved again.
    let a = open(
        &app,
        &agent,
        json!({"subject": "A", "description": "first", "channel": "email"}),
    )
    .await;
    let b = open(
        &app,
        &agent,
        json!({"subject": "B", "description": "second", "channel": "chat"}),
    )
    .await;
    let _c = open(
        &app,
        &agent,
        json!({"subject": "C", "description": "still open", "channel": "chat"}),
    )
    .await;
    for t in [&a, &b] {
        let id = t["id"].as_str().unwrap();
        json(
            app.post_json(
                &format!("/api/v1/tickets/{id}/replies"),
                &agent,
                &json!({"body": "Done", "status": "solved"}),
            )
            .await,
        )
        .await;
    }
    let bid = b["id"].as_str().unwrap();
    patch(&app, bid, &agent, json!({"status": "reopened"})).await;
    json(
        app.post_json(
            &format!("/api/v1/tickets/{bid}/replies"),
            &agent,
            &json!({"body": "Really done", "status": "solved"}),
        )
        .await,
    )
    .await;

    let (s, card) = json(app.get("/api/v1/scorecard", &analyst).await).await;
    assert_eq!(s, 200, "{card}");
    let total = &card["totals"][0];
    assert_eq!(total["value"], "all");
    // NPS: promoters 2, detractors 2 (3 and 0 and ... 8 is passive) of 5.
    assert_eq!(total["nps_responses"], 5);
    assert_eq!(total["promoters"], 2);
    assert_eq!(total["detractors"], 2);
    assert_eq!(total["nps"], 0.0);
    assert_eq!(total["csat"], 66.7);
    assert_eq!(total["ces_mean"], 4.67);
    assert_eq!(total["ces_easy_share"], 66.7);
    assert_eq!(total["tickets_created"], 3);
    assert_eq!(total["tickets_solved"], 3);
    assert_eq!(total["reopen_rate"], 33.3);
    assert_eq!(total["first_contact_resolution"], 50.0, "B came back");
    assert_eq!(total["first_response"]["n"], 2);
    assert!(total["first_response"]["median_hours"].is_f64());
    assert_eq!(total["backlog"], 1);
    assert_eq!(card["backlog_now"], 1);

    let (_, by_channel) = json(
        app.get("/api/v1/scorecard?dimension=channel&by=week", &analyst)
            .await,
    )
    .await;
    let web = by_channel["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["value"] == "web")
        .unwrap();
    assert_eq!(web["nps"], 100.0);
    assert_eq!(web["csat"], 100.0);
    let chat = by_channel["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["value"] == "chat")
        .unwrap();
    assert_eq!(chat["tickets_created"], 2);
    assert_eq!(chat["backlog"], 1);

    // Feedback carries its segment: NPS, CSAT and CES by segment.
    let (_, by_segment) = json(
        app.get("/api/v1/scorecard?dimension=segment", &analyst)
            .await,
    )
    .await;
    let seg = |v: &str| {
        by_segment["totals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["value"] == v)
            .unwrap_or_else(|| panic!("{v} in {by_segment}"))
            .clone()
    };
    assert_eq!(seg("enterprise")["nps"], 100.0);
    assert_eq!(seg("enterprise")["nps_responses"], 2);
    assert_eq!(seg("consumer")["nps_responses"], 3);
    assert_eq!(seg("consumer")["nps"], -66.7);
    assert_eq!(seg("consumer")["csat"], 0.0);
    let (_, listed) = json(
        app.get(
            "/api/v1/feedback?segment=enterprise&limit=100",
            &app.admin_token,
        )
        .await,
    )
    .await;
    let listed = listed["items"]
        .as_array()
        .unwrap_or_else(|| listed.as_array().unwrap());
    assert_eq!(listed.len(), 5, "the explorer filters by segment");
    assert!(listed.iter().all(|i| i["segment"] == "enterprise"));

    let resp = app.get("/api/v1/scorecard.csv?by=month", &analyst).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = resp.text().await.unwrap();
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("period,dimension,value,nps,"));
    assert!(lines.any(|l| l.starts_with("total,all,all,0,5,")), "{csv}");

    // Recounting from the tables (after an upgrade or a bulk load) agrees
    // with what was counted at write time.
    app.store.rebuild_rollups().await.unwrap();
    let (_, again) = json(app.get("/api/v1/scorecard", &analyst).await).await;
    for k in [
        "nps",
        "nps_responses",
        "csat",
        "ces_mean",
        "ces_easy_share",
        "tickets_created",
        "backlog",
        "first_contact_resolution",
    ] {
        assert_eq!(again["totals"][0][k], total[k], "{k}");
    }
    assert_eq!(
        again["totals"][0]["first_response"]["median_hours"],
        total["first_response"]["median_hours"]
    );

    let (s, v) = json(app.get("/api/v1/scorecard?by=year", &analyst).await).await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (400, Some("invalid_field"))
    );
    let (s, _) = json(
        app.get("/api/v1/scorecard?from=2026-12-10&to=2026-12-01", &analyst)
            .await,
    )
    .await;
    assert_eq!(s, 400);
    app.stop().await;
}

#[tokio::test]
async fn the_journey_view_shows_each_stage_with_score_volume_topics_and_pain_points() {
    let app = spawn_app().await;
    let (s, _) = json(
        app.post_json("/api/v1/journey/stages", &app.admin_token, &json!({"key": "onboarding", "name": "Onboarding", "position": 1, "touchpoints": ["signup", "verify email"]}))
            .await,
    )
    .await;
    assert_eq!(s, 201);
    json(
        app.post_json(
            "/api/v1/journey/stages",
            &app.admin_token,
            &json!({"key": "billing", "name": "Billing", "position": 2}),
        )
        .await,
    )
    .await;
    let items = json!([
        {"kind": "complaint", "text": "I cannot log in after signing up, the code never comes", "journey_stage": "onboarding", "touchpoint": "verify email"},
        {"kind": "complaint", "text": "Password reset link is broken, I am locked out of my account", "journey_stage": "onboarding", "touchpoint": "verify email"},
        {"kind": "comment", "text": "Signing up was lovely and quick, great", "journey_stage": "onboarding", "touchpoint": "signup"},
        {"kind": "nps", "score": 9, "journey_stage": "onboarding"},
        {"kind": "nps", "score": 2, "journey_stage": "onboarding"},
        {"kind": "nps", "score": 10, "journey_stage": "onboarding"},
    ]);
    let (s, _) = json(
        app.post_json("/api/v1/feedback/batch", &app.admin_token, &items)
            .await,
    )
    .await;
    assert_eq!(s, 200);
    let (s, j) = json(
        app.get(
            "/api/v1/journey",
            &create_token(&app.store, "analyst").await,
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{j}");
    let stages = j["stages"].as_array().unwrap();
    assert_eq!(stages[0]["key"], "onboarding");
    assert_eq!(stages[1]["key"], "billing");
    let on = &stages[0];
    assert_eq!(on["feedback"], 6);
    assert_eq!(on["nps_responses"], 3);
    assert_eq!(on["nps"], 33.3);
    assert_eq!(on["top_topics"][0]["topic"], "account_access");
    assert_eq!(on["pain_points"][0]["touchpoint"], "verify email");
    assert_eq!(stages[1]["feedback"], 0);
    app.stop().await;
}

#[tokio::test]
async fn agents_work_the_queue_and_ticket_page_and_read_the_scorecard_in_the_dashboard() {
    let app = spawn_app().await;
    create_user(&app.store, "ana@example.com", "Ana Agent", "cx_agent").await;
    create_user(&app.store, "vic@example.com", "Vic Viewer", "viewer").await;
    let ana = user_id(&app, "ana@example.com").await;
    let agent = create_token(&app.store, "cx_agent").await;
    let t = open(
        &app,
        &agent,
        json!({"subject": "Refund please", "description": "Charged twice", "priority": "urgent",
               "contact": {"name": "Rita", "email": "rita.refund@example.com"}}),
    )
    .await;
    let id = t["id"].as_str().unwrap();
    let (browser, s) = app
        .browser_session("ana@example.com", crate::helpers::PASSWORD)
        .await;
    assert!(s.is_redirection());

    let get = |path: String| {
        let b = browser.clone();
        let url = app.url(&path);
        async move {
            let r = b.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (s, queue) = get("/tickets?priority=urgent".into()).await;
    assert_eq!(s, 200);
    assert!(queue.contains("Refund please") && queue.contains(">Tickets</a>"));
    let (_, none) = get("/tickets?priority=low".into()).await;
    assert!(!none.contains("Refund please"));

    // The page shows the customer masked; opening the contact is a
    // deliberate click, and only that click is audited.
    let last_audit = || async { app.store.audit_page(None, 1).await.unwrap().entries[0].seq };
    let before = last_audit().await;
    let (s, page) = get(format!("/tickets/{id}")).await;
    assert_eq!(s, 200);
    assert!(
        !page.contains("rita.refund@example.com") && !page.contains("Rita"),
        "no contact on page load"
    );
    assert!(page.contains("r***@example.com") && page.contains("Show contact details"));
    assert_eq!(
        last_audit().await,
        before,
        "looking at the ticket is not a look at personal data"
    );
    let csrf = crate::helpers::hidden_field(&page, "csrf").unwrap();
    let revealed = browser
        .post(app.url(&format!("/tickets/{id}/reveal")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revealed.status(), 200);
    let revealed = revealed.text().await.unwrap();
    assert!(revealed.contains("rita.refund@example.com") && revealed.contains("Rita"));
    assert!(!revealed.contains("Show contact details"));
    let entry = &app.store.audit_page(None, 1).await.unwrap().entries[0];
    assert_eq!(
        (entry.action.as_str(), entry.record.as_deref()),
        ("contact.view", Some(id))
    );
    // Without the CSRF token the click does nothing.
    let forged = browser
        .post(app.url(&format!("/tickets/{id}/reveal")))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(!forged
        .text()
        .await
        .unwrap()
        .contains("rita.refund@example.com"));

    // A security analyst reads tickets but not contacts: masked, no
    // button, and the reveal is refused and not audited.
    create_user(&app.store, "sec@example.com", "Sec", "security_analyst").await;
    let (sec, _) = app
        .browser_session("sec@example.com", crate::helpers::PASSWORD)
        .await;
    let sec_page = sec
        .get(app.url(&format!("/tickets/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(sec_page.contains("r***@example.com") && sec_page.contains("Refund please"));
    assert!(
        !sec_page.contains("Show contact details") && !sec_page.contains("/reveal"),
        "no button without contact:view"
    );
    let before = last_audit().await;
    let sec_csrf = crate::helpers::hidden_field(&sec_page, "csrf").unwrap();
    let refused = sec
        .post(app.url(&format!("/tickets/{id}/reveal")))
        .form(&[("csrf", sec_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(!refused
        .text()
        .await
        .unwrap()
        .contains("rita.refund@example.com"));
    assert_eq!(last_audit().await, before);

    let post = |path: String, form: Vec<(&'static str, String)>| {
        let b = browser.clone();
        let url = app.url(&path);
        async move {
            b.post(url)
                .form(&form)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        post(
            format!("/tickets/{id}/update"),
            vec![
                ("csrf", csrf.clone()),
                ("assignee_id", ana.clone()),
                ("priority", "high".into()),
                ("group", "billing".into())
            ]
        )
        .await,
        303
    );
    assert_eq!(
        post(
            format!("/tickets/{id}/note"),
            vec![("csrf", csrf.clone()), ("body", "Check the ledger".into())]
        )
        .await,
        303
    );
    assert_eq!(
        post(
            format!("/tickets/{id}/reply"),
            vec![
                ("csrf", csrf.clone()),
                ("body", "Refunded.".into()),
                ("status", "solved".into())
            ]
        )
        .await,
        303
    );
    // Without the CSRF token nothing changes.
    assert_eq!(
        post(
            format!("/tickets/{id}/note"),
            vec![("body", "forged".into())]
        )
        .await,
        403
    );
    let (_, page) = get(format!("/tickets/{id}")).await;
    assert!(
        page.contains("Check the ledger")
            && page.contains("internal")
            && page.contains("Refunded.")
    );
    assert!(!page.contains("forged"));
    let (_, v) = json(app.get(&format!("/api/v1/tickets/{id}"), &agent).await).await;
    assert_eq!(
        (
            v["status"].as_str(),
            v["priority"].as_str(),
            v["group"].as_str()
        ),
        (Some("solved"), Some("high"), Some("billing"))
    );
    assert_eq!(v["assignee_id"], ana.as_str());

    let (s, card) = get("/scorecard?by=day".into()).await;
    assert_eq!(s, 200);
    assert!(
        card.contains("<svg") && card.contains("<rect"),
        "charts are drawn on the server"
    );
    assert!(!card.contains("<script>"));
    let (s, journey) = get("/journey".into()).await;
    assert_eq!(s, 200);
    assert!(journey.contains("Customer journey"));
    assert!(
        !journey.contains("Define a stage"),
        "agents do not define stages"
    );
    // An admin defines a stage on the page.
    let (admin, _) = app
        .browser_session(&app.admin_email, crate::helpers::PASSWORD)
        .await;
    let page = admin
        .get(app.url("/journey"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::helpers::hidden_field(&page, "csrf").unwrap();
    let r = admin
        .post(app.url("/journey/stages"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("key", "checkout"),
            ("name", "Checkout"),
            ("position", "3"),
            ("touchpoints", "cart, payment page"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, j) = json(app.get("/api/v1/journey", &app.admin_token).await).await;
    assert_eq!(j["stages"][0]["key"], "checkout");
    assert_eq!(
        j["stages"][0]["touchpoints"],
        json!(["cart", "payment page"])
    );

    // A viewer has reports but not tickets: no queue, no ticket link in the nav.
    let (viewer, _) = app
        .browser_session("vic@example.com", crate::helpers::PASSWORD)
        .await;
    let r = viewer.get(app.url("/tickets")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let home = viewer
        .get(app.url("/scorecard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains(">Scorecard</a>") && !home.contains(">Tickets</a>"));
    app.stop().await;
}

#[tokio::test]
async fn on_a_phone_a_customer_asks_for_help_follows_the_link_and_replies_without_an_account() {
    use fantoccini::Locator;
    let Some((_driver, client)) = crate::browser::headless(390, 844).await else {
        return;
    };
    let app = spawn_app().await;
    client.goto(&app.url("/support")).await.unwrap();
    let type_in = |css: &'static str, text: &'static str| {
        let c = client.clone();
        async move {
            c.find(Locator::Css(css))
                .await
                .unwrap()
                .send_keys(text)
                .await
                .unwrap()
        }
    };
    type_in("#s-subject", "Card blocked").await;
    type_in("#s-description", "My card stopped working at the till").await;
    type_in("#c-email", "kim@example.com").await;
    client
        .find(Locator::Css("form[action='/support'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The form's own page has a heading too: wait for the page that
    // answers the submit (it carries the tracking link) before reading one.
    client
        .wait()
        .for_element(Locator::Css(".link"))
        .await
        .unwrap();
    let h1 = client
        .wait()
        .for_element(Locator::Css("main h1"))
        .await
        .unwrap();
    assert_eq!(h1.text().await.unwrap(), "Card blocked");
    let facts = client
        .execute(
            "return {
               overflow: document.documentElement.scrollWidth - window.innerWidth,
               foreign: performance.getEntriesByType('resource').filter(r => !r.name.startsWith(location.origin)).length,
               scripts: document.scripts.length,
               link: document.querySelector('.link').textContent,
             };",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        facts["overflow"].as_f64().unwrap() <= 0.0,
        "fits the phone: {facts}"
    );
    assert_eq!(facts["foreign"], 0, "{facts}");
    assert_eq!(facts["scripts"], 0, "{facts}");
    let link = facts["link"].as_str().unwrap().to_owned();
    std::fs::write(
        crate::browser::screenshot_dir().join("ticket-created.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();

    // Later, from the link alone: write back.
    client.goto(&app.url(&path_of(&link))).await.unwrap();
    type_in("#r-body", "It works again, thanks").await;
    client
        .find(Locator::Css("form[action$='/reply'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css("p[role=status]"))
        .await
        .unwrap();
    let page = client.source().await.unwrap();
    assert!(page.contains("It works again, thanks"));
    let (_, list) = json(app.get("/api/v1/tickets", &app.admin_token).await).await;
    assert_eq!(list[0]["subject"], "Card blocked");
    client.close().await.unwrap();
    app.stop().await;
}

/// `<html lang=".." dir="..">` of a page.
fn lang_dir(html: &str) -> (String, String) {
    let head = &html[html.find("<html").expect("an html element")..];
    let attr = |name: &str| {
        let start = head.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        head[start..].chars().take_while(|c| *c != '"').collect()
    };
    (attr("lang"), attr("dir"))
}

async fn get_with(url: &str, accept_language: &str) -> (u16, String) {
    let resp = reqwest::Client::new()
        .get(url)
        .header("accept-language", accept_language)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn the_support_form_and_tracking_page_speak_english_chinese_persian_right_to_left_and_gujarati(
) {
    let app = spawn_app().await;
    let agent = create_token(&app.store, "cx_agent").await;
    let client = app.client.clone(); // follows no redirects
                                     // The support form by `?lang=`, each with its words and direction.
    for (lang, dir, title, subject_label) in [
        ("en", "ltr", "Contact support", "Subject"),
        ("zh", "ltr", "联系客服", "主题"),
        ("fa", "rtl", "تماس با پشتیبانی", "موضوع"),
        ("gu", "ltr", "સપોર્ટનો સંપર્ક કરો", "વિષય"),
    ] {
        let (s, html) = page(&app.url(&format!("/support?lang={lang}"))).await;
        assert_eq!(s, 200);
        assert_eq!(lang_dir(&html), (lang.to_owned(), dir.to_owned()));
        assert!(
            html.contains(&format!("<h1>{title}</h1>")),
            "{lang}: {html}"
        );
        assert!(html.contains(subject_label), "{lang}");
        assert!(html.contains(&format!("name=\"lang\" value=\"{lang}\"")));
        if lang != "en" {
            assert!(!html.contains("What happened?"), "{lang}: no English left");
        }
    }
    // Without `?lang=`, the browser's Accept-Language decides; English
    // for a language the pages do not speak.
    let (_, html) = get_with(&app.url("/support"), "de-DE, fa-IR;q=0.9, en;q=0.5").await;
    assert_eq!(lang_dir(&html), ("fa".to_owned(), "rtl".to_owned()));
    let (_, html) = get_with(&app.url("/support"), "de-DE").await;
    assert_eq!(lang_dir(&html).0, "en");

    // A mistake is told in the form's language, the text kept.
    let resp = client
        .post(app.url("/support"))
        .form(&[
            ("lang", "zh"),
            ("subject", ""),
            ("description", "我的订单没有到"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("请填写主题"), "{html}");
    assert!(html.contains("我的订单没有到"));
    // Sent in Gujarati: the page with the link says so in Gujarati.
    let resp = client
        .post(app.url("/support"))
        .form(&[
            ("lang", "gu"),
            ("subject", "Refund"),
            ("description", "I was charged twice for my order"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert_eq!(lang_dir(&html).0, "gu");
    assert!(html.contains("આ લિંક સાચવી રાખો"), "{html}");

    // A ticket in Persian: its tracking page is Persian, right to left,
    // whatever the browser says; `?lang=` still wins.
    let (s, t) = json(
        app.post_json(
            "/api/v1/tickets",
            &agent,
            &json!({"subject": "پرداخت", "description": "پول دو بار از حساب من کم شد", "language": "fa"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{t}");
    let link = path_of(t["tracking_url"].as_str().unwrap());
    let id = t["id"].as_str().unwrap();
    let (s, html) = get_with(&app.url(&link), "en-US").await;
    assert_eq!(s, 200);
    assert_eq!(lang_dir(&html), ("fa".to_owned(), "rtl".to_owned()));
    assert!(
        html.contains("وضعیت: <span class=\"tag\">دریافت شد</span>"),
        "{html}"
    );
    assert!(html.contains("برای ما بنویسید"));
    let (_, html) = page(&app.url(&format!("{link}?lang=zh"))).await;
    assert_eq!(lang_dir(&html), ("zh".to_owned(), "ltr".to_owned()));
    assert!(
        html.contains("状态: <span class=\"tag\">已收到</span>"),
        "{html}"
    );

    // The agent answers and waits: the change is told in Persian.
    let (s, _) = json(
        app.post_json(
            &format!("/api/v1/tickets/{id}/replies"),
            &agent,
            &json!({"body": "لطفاً شماره سفارش را بفرستید.", "status": "pending"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);
    let (_, html) = page(&app.url(&link)).await;
    assert!(html.contains("در انتظار پاسخ شما"), "{html}");
    assert!(html.contains("<strong>پشتیبانی</strong>"));
    // The customer replies in Gujarati: thanked in Gujarati after the redirect.
    let resp = client
        .post(app.url(&format!("{link}/reply")))
        .form(&[("lang", "gu"), ("body", "ઓર્ડર નંબર 1234 છે")])
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_redirection());
    let back = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.contains("lang=gu"), "{back}");
    let (_, html) = page(&app.url(&back)).await;
    assert_eq!(lang_dir(&html).0, "gu");
    assert!(html.contains("આભાર: તમારો સંદેશ મોકલાઈ ગયો છે."), "{html}");
    assert!(
        html.contains("અમે તેના પર કામ કરી રહ્યા છીએ"),
        "open again, in Gujarati"
    );
    // An empty reply is refused in the page's language.
    let resp = client
        .post(app.url(&format!("{link}/reply")))
        .form(&[("lang", "fa"), ("body", " ")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.unwrap().contains("لطفاً پیامی بنویسید"));

    // A wrong link is told in the browser's language.
    let (s, html) = get_with(&app.url("/t/not-a-real-token"), "gu-IN").await;
    assert_eq!(s, 404);
    assert!(html.contains("લિંક મળી નથી"), "{html}");
    app.stop().await;
}

#[tokio::test]
async fn a_scorecard_by_month_from_the_monthly_rollups_agrees_with_its_days_and_survives_a_rebuild()
{
    let app = spawn_app().await;
    let agent = create_token(&app.store, "cx_agent").await;
    // Feedback over four months, tickets today.
    let mut items = Vec::new();
    for (i, day) in [
        "2026-08-20",
        "2026-09-01",
        "2026-09-15",
        "2026-09-30",
        "2026-10-03",
        "2026-10-31",
        "2026-11-02",
        "2026-11-28",
    ]
    .iter()
    .enumerate()
    {
        for (kind, score) in [
            ("nps", (i * 3) % 11),
            ("csat", i % 5 + 1),
            ("ces", i % 7 + 1),
        ] {
            items.push(json!({"kind": kind, "score": score, "channel": if i % 2 == 0 { "web" } else { "app" },
                              "occurred_at": format!("{day}T12:00:00Z")}));
        }
    }
    let (s, _) = json(
        app.post_json(
            "/api/v1/feedback/batch",
            &app.admin_token,
            &Value::Array(items),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    for subject in ["One", "Two", "Three"] {
        let t = open(
            &app,
            &agent,
            json!({"subject": subject, "description": "help", "channel": "chat"}),
        )
        .await;
        if subject != "Three" {
            let (s, _) = json(
                app.post_json(
                    &format!("/api/v1/tickets/{}/replies", t["id"].as_str().unwrap()),
                    &agent,
                    &json!({"body": "Done.", "status": "solved"}),
                )
                .await,
            )
            .await;
            assert_eq!(s, 201);
        }
    }
    // To the end of this month: whole months come from the monthly rollups.
    let today = chrono::Utc::now().date_naive();
    let end = chrono::NaiveDate::from_ymd_opt(
        today.year() + i32::from(today.month() == 12),
        today.month() % 12 + 1,
        1,
    )
    .unwrap()
        - chrono::Duration::days(1);
    let card = |by: &'static str, dim: &'static str| {
        let app = &app;
        async move {
            let (s, c) = json(
                app.get(
                    &format!("/api/v1/scorecard?from=2026-08-15&to={end}&by={by}&dimension={dim}"),
                    &app.admin_token,
                )
                .await,
            )
            .await;
            assert_eq!(s, 200, "{c}");
            c
        }
    };
    let check = || async {
        for dim in ["all", "channel"] {
            let (months, days) = (card("month", dim).await, card("day", dim).await);
            assert_eq!(months["totals"], days["totals"], "{dim}: the same totals");
            let sum = |c: &Value, period: &str, field: &str| -> i64 {
                c["periods"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|r| r["period"].as_str().unwrap().starts_with(period))
                    .map(|r| r[field].as_i64().unwrap())
                    .sum()
            };
            for month in ["2026-08", "2026-09", "2026-10", "2026-11"] {
                for field in [
                    "nps_responses",
                    "promoters",
                    "csat_responses",
                    "ces_responses",
                ] {
                    assert_eq!(
                        sum(&months, month, field),
                        sum(&days, month, field),
                        "{dim} {month} {field}"
                    );
                }
            }
        }
        let months = card("month", "all").await;
        let all = &months["totals"][0];
        assert_eq!(all["nps_responses"], 8);
        assert_eq!(all["tickets_created"], 3);
        assert_eq!(all["tickets_solved"], 2);
        assert_eq!(all["backlog"], 1);
        assert!(all["resolution"]["median_hours"].is_number());
    };
    check().await;
    // scorecard-rebuild counts both again from the tables.
    app.store.rebuild_rollups().await.unwrap();
    check().await;
    app.stop().await;
}

#[tokio::test]
async fn solved_tickets_close_by_themselves_after_the_quiet_period_without_asking_for_csat() {
    let app = spawn_app_with(|c| c.tickets.close_solved_after_hours = 96).await;
    let agent = create_token(&app.store, "cx_agent").await;
    let mut ids = Vec::new();
    for subject in ["Card blocked", "Statement missing", "Still waiting"] {
        let t = open(
            &app,
            &agent,
            json!({"subject": subject, "description": "Please help"}),
        )
        .await;
        ids.push(t["id"].as_str().unwrap().to_owned());
    }
    // The first is solved by a person (CSAT offered), the second without
    // an offer (as a bulk solve does), the third stays open.
    let (s, _) = patch(&app, &ids[0], &agent, json!({"status": "solved"})).await;
    assert_eq!(s, 200);
    app.store
        .execute(
            "UPDATE tickets SET status = 'solved', solved_at = $1, csat_offered = $2 WHERE id = $3",
            vec![
                (frontline::storage::now_ms() - 97 * 3_600_000).into(),
                false.into(),
                ids[1].clone().into(),
            ],
        )
        .await
        .unwrap();
    // Solved just now: not yet.
    let closed = frontline::tickets::close_solved(&app.store, &app.state().events, 96)
        .await
        .unwrap();
    assert_eq!(closed, 1, "only the one solved four days ago");
    let get = async |id: &str| {
        json(app.get(&format!("/api/v1/tickets/{id}"), &agent).await)
            .await
            .1
    };
    let quiet = get(&ids[1]).await;
    assert_eq!(quiet["status"], "closed");
    assert_eq!(quiet["csat_offered"], false, "closing asks no CSAT");
    assert_eq!(get(&ids[0]).await["status"], "solved");
    assert_eq!(get(&ids[2]).await["status"], "new");
    let audit = app.store.audit_page(None, 100).await.unwrap();
    assert!(audit.entries.iter().any(|e| e.action == "ticket.update"
        && e.actor == "system"
        && e.record.as_deref() == Some(ids[1].as_str())));
    // No CSAT answer came from it, and 0 hours means never.
    let (_, items) = json(
        app.get("/api/v1/feedback?kind=csat", &app.admin_token)
            .await,
    )
    .await;
    assert_eq!(items["items"].as_array().unwrap().len(), 0);
    app.store
        .execute(
            "UPDATE tickets SET solved_at = $1 WHERE id = $2",
            vec![
                (frontline::storage::now_ms() - 1_000 * 3_600_000).into(),
                ids[0].clone().into(),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        frontline::tickets::close_solved(&app.store, &app.state().events, 0)
            .await
            .unwrap(),
        0
    );
    let closed = frontline::tickets::close_solved(&app.store, &app.state().events, 96)
        .await
        .unwrap();
    assert_eq!(closed, 1);
    let solved_by_a_person = get(&ids[0]).await;
    assert_eq!(solved_by_a_person["status"], "closed");
    assert_eq!(
        solved_by_a_person["csat_offered"], true,
        "the offer made at the solve stays"
    );
    app.stop().await;
}

fn mail_text(m: &frontline::notify::catcher::Caught) -> (String, String) {
    let parsed = mail_parser::MessageParser::default()
        .parse(&m.raw)
        .expect("a message");
    (
        parsed.subject().unwrap_or_default().to_owned(),
        parsed.body_text(0).unwrap_or_default().into_owned(),
    )
}

#[tokio::test]
async fn the_customer_is_mailed_the_link_each_public_reply_and_the_solve_in_their_language() {
    let mail = frontline::notify::catcher::MailCatcher::start("127.0.0.1:0", true)
        .await
        .unwrap();
    let smtp = mail.url();
    let app = spawn_app_with(|c| c.notify.smtp_url = Secret::new(smtp)).await;
    let agent = create_token(&app.store, "cx_agent").await;
    let t = open(
        &app,
        &agent,
        json!({"subject": "无法登录", "description": "我的账户登录不了", "language": "zh",
               "contact": {"email": "Li@Example.org"}}),
    )
    .await;
    let id = t["id"].as_str().unwrap().to_owned();
    let link = t["tracking_url"].as_str().unwrap().to_owned();
    // A ticket without a contact gets no mail at all.
    open(
        &app,
        &agent,
        json!({"subject": "Anonymous", "description": "No address given"}),
    )
    .await;

    assert_eq!(mail.wait_for(1, Duration::from_secs(20)).await, 1);
    let first = mail.messages().remove(0);
    assert_eq!(first.to, vec!["li@example.org".to_owned()]);
    let (subject, text) = mail_text(&first);
    assert!(
        subject.contains("我们已收到您的请求") && subject.contains(&id),
        "{subject}"
    );
    assert!(
        text.contains(&link),
        "the tracking link is in the mail: {text}"
    );
    // The link in the mail opens the ticket for the customer.
    let (s, page_html) = track(&app, &link).await;
    assert_eq!(s, 200);
    assert!(page_html.contains("无法登录"));

    // An internal note is not mailed; a public reply is, quoted.
    let (s, _) = json(
        app.post_json(
            &format!("/api/v1/tickets/{id}/notes"),
            &agent,
            &json!({"body": "Internal: check the auth logs"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = json(
        app.post_json(
            &format!("/api/v1/tickets/{id}/replies"),
            &agent,
            &json!({"body": "请重新设置密码后再试。"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(mail.wait_for(2, Duration::from_secs(20)).await, 2);
    let (subject, text) = mail_text(&mail.messages()[1]);
    assert!(subject.contains("您的请求有新的回复"), "{subject}");
    assert!(text.contains("> 请重新设置密码后再试。"), "{text}");
    assert!(!text.contains("auth logs"));
    assert!(text.contains(&link));

    // Solved by an agent: the customer hears, and is asked to rate.
    let (s, v) = patch(&app, &id, &agent, json!({"status": "solved"})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(mail.wait_for(3, Duration::from_secs(20)).await, 3);
    let (subject, text) = mail_text(&mail.messages()[2]);
    assert!(subject.contains("您的请求已解决"), "{subject}");
    assert!(text.contains("评分"), "the rating invitation: {text}");
    assert!(text.contains(&link));

    // Each mail once, each under its own Message-ID.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(mail.total(), 3);
    assert_eq!(mail.by_message_id().len(), 3);
}

/// Moves a ticket's opening (and its SLA clock's start) back in time, as if
/// it had been opened `minutes` ago.
async fn opened_minutes_ago(app: &TestApp, id: &str, minutes: i64) {
    let at = frontline::storage::now_ms() - minutes * 60_000;
    app.store
        .execute(
            "UPDATE tickets SET created_at = $1, clock_since = $1 WHERE id = $2",
            vec![at.into(), id.into()],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn business_hours_decide_the_sla_and_the_next_response_is_due_after_each_customer_reply() {
    const SECRET: &str = "a-webhook-secret-of-some-length";
    let (hook, mut rx) = receiver().await;
    let app = spawn_app_with(|c| {
        c.tickets.sla_webhook_url = hook.clone();
        c.tickets.sla_webhook_secret = Secret::new(SECRET);
        c.tickets.sla_check_every_ms = 100;
    })
    .await;
    let agent = create_token(&app.store, "cx_agent").await;
    let analyst = create_token(&app.store, "analyst").await;
    let every_day = |start: &str, end: &str| -> Vec<Value> {
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .iter()
            .map(|d| json!({"day": d, "start": start, "end": end}))
            .collect()
    };
    // A desk closed from yesterday to tomorrow (UTC holidays), and one
    // that never closes.
    let today = chrono::Utc::now().date_naive();
    let holidays: Vec<String> = [
        today - chrono::Days::new(1),
        today,
        today + chrono::Days::new(1),
    ]
    .iter()
    .map(|d| d.to_string())
    .collect();
    let (s, closed) = json(
        app.post_json(
            "/api/v1/sla/calendars",
            &app.admin_token,
            &json!({"name": "closed for the holidays", "timezone": "UTC",
                    "periods": every_day("00:00", "24:00"), "holidays": holidays}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{closed}");
    let (_, always) = json(
        app.post_json(
            "/api/v1/sla/calendars",
            &app.admin_token,
            &json!({"name": "always", "timezone": "UTC", "periods": every_day("00:00", "24:00")}),
        )
        .await,
    )
    .await;
    for (priority, cal) in [("high", &closed), ("urgent", &always)] {
        let (s, v) = json(
            app.post_json(
                "/api/v1/sla/policies",
                &app.admin_token,
                &json!({"name": format!("{priority} desk"), "priority": priority, "calendar_id": cal["id"],
                        "first_response_mins": 60, "next_response_mins": 30, "warn_before_mins": 0}),
            )
            .await,
        )
        .await;
        assert_eq!(s, 201, "{v}");
    }

    // Opened in the holidays: the first response is due an hour into the
    // first working day after them, and two hours of waiting count nothing.
    let held = open(
        &app,
        &agent,
        json!({"subject": "Refund", "description": "Where is my refund?", "priority": "high"}),
    )
    .await;
    let held_id = held["id"].as_str().unwrap().to_owned();
    let reopen_day = today + chrono::Days::new(2);
    assert_eq!(
        held["first_response_due_at"],
        format!("{reopen_day}T01:00:00.000Z"),
        "{held}"
    );
    opened_minutes_ago(&app, &held_id, 120).await;
    // The same two hours on the desk that never closes: a breach.
    let late = open(
        &app,
        &agent,
        json!({"subject": "Down", "description": "The app does not load",
               "priority": "urgent", "contact": {"email": "dana@example.org"}}),
    )
    .await;
    let late_id = late["id"].as_str().unwrap().to_owned();
    // The customer's tracking link is given once, when the ticket opens.
    let link = late["tracking_url"].as_str().unwrap().to_owned();
    opened_minutes_ago(&app, &late_id, 120).await;
    for id in [&held_id, &late_id] {
        let (s, v) = json(
            app.post_json(
                &format!("/api/v1/tickets/{id}/replies"),
                &agent,
                &json!({"body": "We are on it."}),
            )
            .await,
        )
        .await;
        assert_eq!(s, 201, "{v}");
    }
    let (_, held) = json(app.get(&format!("/api/v1/tickets/{held_id}"), &agent).await).await;
    assert!(
        held["first_response_secs"].as_i64().unwrap() >= 7200,
        "{held}"
    );
    assert_eq!(held["first_response_business_secs"], 0, "{held}");
    assert_eq!(
        held["breached"],
        json!([]),
        "within the target in business time"
    );
    let (_, late) = json(app.get(&format!("/api/v1/tickets/{late_id}"), &agent).await).await;
    assert!(late["first_response_business_secs"].as_i64().unwrap() >= 7200);
    assert_eq!(late["breached"], json!(["first_response"]));

    // The scorecard judges each by its own calendar.
    let (_, card) = json(app.get("/api/v1/scorecard", &analyst).await).await;
    let total = &card["totals"][0];
    assert_eq!(total["first_response"]["n"], 2, "{total}");
    assert_eq!(total["sla_first_response"], 50.0, "{total}");
    let median = total["first_response"]["median_hours"].as_f64().unwrap();
    let business = total["first_response"]["business_median_hours"]
        .as_f64()
        .unwrap_or(0.0);
    assert!((1.8..2.3).contains(&median), "calendar median {median}");
    assert!(business < median, "business {business} < calendar {median}");

    // The next response: none is due until the customer writes back; then
    // 30 minutes from the reply; the agent's answer clears it.
    assert_eq!(late["next_response_due_at"], Value::Null);
    let customer_reply = |text: &'static str| {
        let url = app.url(&format!("{}/reply", path_of(&link)));
        async move {
            let resp = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .post(url)
                .form(&[("body", text)])
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 303);
        }
    };
    let before = chrono::Utc::now();
    customer_reply("Still down for me").await;
    let (_, t) = json(app.get(&format!("/api/v1/tickets/{late_id}"), &agent).await).await;
    let due =
        chrono::DateTime::parse_from_rfc3339(t["next_response_due_at"].as_str().unwrap()).unwrap();
    let minutes = (due.with_timezone(&chrono::Utc) - before).num_seconds() as f64 / 60.0;
    assert!((29.9..30.2).contains(&minutes), "due in {minutes} min");
    let (s, _) = json(
        app.post_json(
            &format!("/api/v1/tickets/{late_id}/replies"),
            &agent,
            &json!({"body": "A fix is rolling out."}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);
    let (_, t) = json(app.get(&format!("/api/v1/tickets/{late_id}"), &agent).await).await;
    assert_eq!(t["next_response_due_at"], Value::Null, "answered");

    // Unanswered past its due time: a breach of the next-response target,
    // over the signed webhook.
    customer_reply("Now it is slow").await;
    app.store
        .execute(
            "UPDATE tickets SET nrt_due_at = $1 WHERE id = $2",
            vec![
                (frontline::storage::now_ms() - 1000).into(),
                late_id.as_str().into(),
            ],
        )
        .await
        .unwrap();
    let breach = loop {
        let (h, b) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("a breach")
            .unwrap();
        let v: Value = serde_json::from_slice(&b).unwrap();
        if v["event"] == "ticket.sla_breach" && v["target"] == "next_response" {
            assert!(verify(SECRET, &h, &b));
            break v;
        }
    };
    assert_eq!(breach["ticket_id"], late_id.as_str());
    let (_, t) = json(app.get(&format!("/api/v1/tickets/{late_id}"), &agent).await).await;
    assert_eq!(t["breached"], json!(["first_response", "next_response"]));
    app.stop().await;
}
