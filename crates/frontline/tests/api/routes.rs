//! Warnings out: routes to Slack, Teams, PagerDuty, email and Standard
//! Webhooks, with their rules, retries and attempts, all against real
//! receivers on loopback (an HTTP server per test, the SMTP catcher).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use base64::Engine;
use frontline::config::Secret;
use frontline::notify::catcher::MailCatcher;
use frontline::storage::signals::{Firing, SeriesKey};
use hmac::Mac;
use serde_json::{json, Value};

use crate::helpers::{create_token, hidden_field, json, spawn_app_with, TestApp, PASSWORD};

/// What the receiver got: path, headers, body.
type Got = Arc<Mutex<Vec<(String, HeaderMap, Vec<u8>)>>>;

/// A receiver for every format on loopback. `/flaky...` answers 503 with
/// `Retry-After: 1` the first time, `/gone...` 410, `/pd...` 202 (as
/// PagerDuty does), everything else 200.
async fn receiver() -> (String, Got) {
    let got: Got = Arc::default();
    let g = got.clone();
    let app = axum::Router::new().fallback(
        move |uri: axum::http::Uri, headers: HeaderMap, body: axum::body::Bytes| {
            let g = g.clone();
            async move {
                let path = uri.path().to_owned();
                let mut g = g.lock().unwrap();
                let before = g.iter().filter(|(p, _, _)| *p == path).count();
                g.push((path.clone(), headers, body.to_vec()));
                if path.starts_with("/flaky") && before == 0 {
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        [(axum::http::header::RETRY_AFTER, "1")],
                    )
                        .into_response()
                } else if path.starts_with("/gone") {
                    StatusCode::GONE.into_response()
                } else if path.starts_with("/pd") || path.starts_with("/flaky") {
                    StatusCode::ACCEPTED.into_response()
                } else {
                    StatusCode::OK.into_response()
                }
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), got)
}

/// Bodies that reached `path`, as JSON, in order.
fn bodies(got: &Got, path: &str) -> Vec<Value> {
    got.lock()
        .unwrap()
        .iter()
        .filter(|(p, _, _)| p == path)
        .map(|(_, _, b)| serde_json::from_slice(b).expect("a JSON body"))
        .collect()
}

async fn wait_until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_for_bodies(got: &Got, path: &str, n: usize) -> Vec<Value> {
    wait_until(&format!("{n} at {path}"), async || {
        bodies(got, path).len() >= n
    })
    .await;
    bodies(got, path)
}

async fn app() -> TestApp {
    spawn_app_with(|c| {
        c.notify.allow_private_targets = true;
        c.notify.retry_base_secs = 3600;
    })
    .await
}

async fn add_route(app: &TestApp, body: Value) -> Value {
    let (s, v) = json(
        app.post_json("/api/v1/routes", &app.admin_token, &body)
            .await,
    )
    .await;
    assert_eq!(s, 201, "{v}");
    v
}

/// Opens a signal as the detector does: `strong` is 90 reports against
/// 6 expected (high), otherwise 5 against 3 (low).
async fn open_signal(app: &TestApp, topic: &str, component: Option<&str>, strong: bool) -> String {
    let (total, expected) = if strong { (90.0, 6.0) } else { (5.0, 3.0) };
    let (signal, new) = app
        .store
        .record_firing(&Firing {
            series: SeriesKey {
                topic: Some(topic.into()),
                component: component.map(str::to_owned),
                ..Default::default()
            },
            observed: total / 2.0,
            expected: expected / 2.0,
            upper: expected,
            observed_total: total,
            expected_total: expected,
            p_value: 1e-9,
            started_at: frontline::storage::now_ms() - 120_000,
            title: None,
            members: Vec::new(),
        })
        .await
        .expect("signal");
    assert!(new);
    signal.id
}

async fn deliveries(app: &TestApp, route: &str) -> Value {
    let (s, v) = json(
        app.get(
            &format!("/api/v1/routes/{route}/deliveries"),
            &app.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    v
}

/// The refs of a route's messages (queued with the event, so a message
/// that should not exist would be there as soon as the event commits).
async fn refs(app: &TestApp, route: &str) -> Vec<String> {
    deliveries(app, route).await["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}:{}",
                m["event"].as_str().unwrap(),
                m["ref_id"].as_str().unwrap()
            )
        })
        .collect()
}

fn header(h: &HeaderMap, name: &str) -> String {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_new_signal_reaches_slack_teams_pagerduty_and_a_signed_webhook_and_pages_follow_it() {
    let (base, got) = receiver().await;
    let app = app().await;
    let slack_url = format!("{base}/slack/T000/B000/XXXXSECRETTOKEN");
    let slack = add_route(
        &app,
        json!({"name": "SOC Slack", "kind": "slack", "url": slack_url}),
    )
    .await;
    assert_eq!(slack["target"], "http://127.0.0.1/***");
    let teams = add_route(
        &app,
        json!({"name": "SOC Teams", "kind": "teams", "url": format!("{base}/teams")}),
    )
    .await;
    let pd = add_route(
        &app,
        json!({"name": "On call", "kind": "pagerduty", "url": format!("{base}/pd"),
               "routing_key": "R0UT1NGKEY0123456789abcdefABCDEF", "min_severity": "medium"}),
    )
    .await;
    let hook = add_route(
        &app,
        json!({"name": "SIEM", "kind": "webhook", "url": format!("{base}/hook")}),
    )
    .await;
    let secret = hook["secret"]
        .as_str()
        .expect("the secret, once")
        .to_owned();
    assert!(secret.starts_with("whsec_"));
    // Listed masked, never with the URL's token, the routing key or the secret.
    let (_, list) = json(app.get("/api/v1/routes", &app.admin_token).await).await;
    let listed = list.to_string();
    assert_eq!(list.as_array().unwrap().len(), 4);
    for hidden in ["XXXXSECRETTOKEN", "R0UT1NGKEY", &secret[6..]] {
        assert!(!listed.contains(hidden), "{hidden} in {listed}");
    }
    let (_, one) = json(
        app.get(
            &format!("/api/v1/routes/{}", hook["id"].as_str().unwrap()),
            &app.admin_token,
        )
        .await,
    )
    .await;
    assert!(one.get("secret").is_none());

    let signal = open_signal(&app, "account_access", Some("login"), true).await;

    let s = &wait_for_bodies(&got, "/slack/T000/B000/XXXXSECRETTOKEN", 1).await[0];
    assert!(
        s["text"].as_str().unwrap().starts_with("New signal [high]"),
        "{s}"
    );
    assert_eq!(s["blocks"][0]["type"], "section");
    assert!(s["blocks"][0]["text"]["text"]
        .as_str()
        .unwrap()
        .contains(&format!("/signals/{signal}")));

    let t = &wait_for_bodies(&got, "/teams", 1).await[0];
    assert_eq!(t["type"], "message");
    assert_eq!(
        t["attachments"][0]["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let card = &t["attachments"][0]["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["body"][0]["text"], "New signal");
    assert!(card["actions"][0]["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/signals/{signal}")));

    let p = &wait_for_bodies(&got, "/pd", 1).await[0];
    assert_eq!(p["routing_key"], "R0UT1NGKEY0123456789abcdefABCDEF");
    assert_eq!(p["event_action"], "trigger");
    let dedup = p["dedup_key"].as_str().unwrap().to_owned();
    assert!(dedup.contains(&signal));
    assert_eq!(p["payload"]["source"], "frontline");
    assert_eq!(
        p["payload"]["severity"], "error",
        "high is PagerDuty's error"
    );
    assert_eq!(p["payload"]["component"], "login");
    assert!(p["payload"]["summary"]
        .as_str()
        .unwrap()
        .starts_with("New signal: "));
    assert_eq!(p["payload"]["custom_details"]["topic"], "account_access");
    assert_eq!(p["payload"]["custom_details"]["id"], signal.as_str());

    // The webhook: verified here with our own HMAC, as a receiver would.
    wait_for_bodies(&got, "/hook", 1).await;
    let (headers, raw) = {
        let g = got.lock().unwrap();
        let (_, h, b) = g.iter().find(|(p, _, _)| p == "/hook").unwrap();
        (h.clone(), b.clone())
    };
    let id = header(&headers, "webhook-id");
    let ts = header(&headers, "webhook-timestamp");
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(&raw);
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    assert_eq!(header(&headers, "webhook-signature"), expected);
    assert!(
        id.starts_with(&signal),
        "the message id names what it is about: {id}"
    );
    let now = chrono::Utc::now().timestamp();
    assert!((now - ts.parse::<i64>().unwrap()).abs() < 300);
    let w: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(w["type"], "signal.opened");
    assert_eq!(w["data"]["id"], signal.as_str());
    assert_eq!(w["data"]["severity"], "high");
    assert_eq!(w["data"]["components"], json!(["login"]));

    // Acknowledged, then dismissed: PagerDuty's alert follows, same key.
    let r = app
        .post_json(
            &format!("/api/v1/signals/{signal}/acknowledge"),
            &app.admin_token,
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let p = wait_for_bodies(&got, "/pd", 2).await;
    assert_eq!(p[1]["event_action"], "acknowledge");
    assert_eq!(p[1]["dedup_key"], dedup.as_str());
    let r = app
        .post_json(
            &format!("/api/v1/signals/{signal}/dismiss"),
            &app.admin_token,
            &json!({"reason": "a test campaign"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let p = wait_for_bodies(&got, "/pd", 3).await;
    assert_eq!(p[2]["event_action"], "resolve");
    assert_eq!(p[2]["dedup_key"], dedup.as_str());
    assert_eq!(p[2]["routing_key"], "R0UT1NGKEY0123456789abcdefABCDEF");
    let w = wait_for_bodies(&got, "/hook", 3).await;
    assert_eq!(w[1]["type"], "signal.acknowledged");
    assert_eq!(w[2]["type"], "signal.dismissed");
    assert_eq!(w[2]["data"]["action"], "resolve");

    // Slack and Teams are told of the new signal only.
    assert_eq!(
        refs(&app, slack["id"].as_str().unwrap()).await,
        vec![format!("signal.opened:{signal}")]
    );
    assert_eq!(refs(&app, teams["id"].as_str().unwrap()).await.len(), 1);
    // Every attempt is recorded: when, the answer, how long.
    let d = deliveries(&app, pd["id"].as_str().unwrap()).await;
    let attempts = d["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3, "{d}");
    for a in attempts {
        assert_eq!(a["outcome"], "sent");
        assert_eq!(a["status_code"], 202);
        assert!(a["duration_ms"].as_i64().unwrap() >= 0);
        assert!(a["error"].is_null());
    }
    let events: Vec<&str> = attempts
        .iter()
        .map(|a| a["event"].as_str().unwrap())
        .collect();
    assert!(events.contains(&"signal.acknowledged"), "{events:?}");
    assert!(!d.to_string().contains("R0UT1NGKEY"));
    app.stop().await;
}

#[tokio::test]
async fn routing_rules_filter_by_severity_topic_and_component() {
    let (base, got) = receiver().await;
    let app = app().await;
    let high = add_route(
        &app,
        json!({"name": "High only", "kind": "slack", "url": format!("{base}/high"), "min_severity": "high"}),
    )
    .await;
    let billing = add_route(
        &app,
        json!({"name": "Billing", "kind": "slack", "url": format!("{base}/billing"), "components": ["Billing"]}),
    )
    .await;
    let phishing = add_route(
        &app,
        json!({"name": "Phishing", "kind": "slack", "url": format!("{base}/phishing"),
               "topics": ["phishing_scam"], "events": ["signal.opened"]}),
    )
    .await;
    let strong_login = open_signal(&app, "account_access", Some("login"), true).await;
    let weak_billing = open_signal(&app, "billing", Some("billing"), false).await;
    let weak_phishing = open_signal(&app, "phishing_scam", None, false).await;
    // Queued with each signal: what each route took, and nothing else.
    assert_eq!(
        refs(&app, high["id"].as_str().unwrap()).await,
        vec![format!("signal.opened:{strong_login}")]
    );
    assert_eq!(
        refs(&app, billing["id"].as_str().unwrap()).await,
        vec![format!("signal.opened:{weak_billing}")]
    );
    assert_eq!(
        refs(&app, phishing["id"].as_str().unwrap()).await,
        vec![format!("signal.opened:{weak_phishing}")]
    );
    // And what was taken arrives.
    assert!(wait_for_bodies(&got, "/high", 1).await[0]["text"]
        .as_str()
        .unwrap()
        .contains("[high]"));
    assert!(wait_for_bodies(&got, "/billing", 1).await[0]["text"]
        .as_str()
        .unwrap()
        .contains("[low]"));
    wait_for_bodies(&got, "/phishing", 1).await;

    // A suggestion: SEV1 is critical for the high route; the phishing
    // route takes signals only.
    let pairing = |severity, component: &str| frontline::storage::alerts::Pairing {
        signal_id: strong_login.clone(),
        alert_id: format!("alr_{component}"),
        component: component.into(),
        region: "eu".into(),
        title: format!("Customers report trouble in {component}"),
        severity,
        reason: "test".into(),
    };
    let (sug, new, _) = app
        .store
        .link_pair(&pairing(
            frontline::domain::incident::Severity::Sev1,
            "login",
        ))
        .await
        .unwrap()
        .unwrap();
    assert!(new);
    let (mild, _, _) = app
        .store
        .link_pair(&pairing(
            frontline::domain::incident::Severity::Sev4,
            "billing",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        refs(&app, high["id"].as_str().unwrap()).await,
        vec![
            format!("suggestion.opened:{sug}"),
            format!("signal.opened:{strong_login}")
        ]
    );
    assert_eq!(
        refs(&app, billing["id"].as_str().unwrap()).await,
        vec![
            format!("suggestion.opened:{mild}"),
            format!("signal.opened:{weak_billing}")
        ]
    );
    assert_eq!(refs(&app, phishing["id"].as_str().unwrap()).await.len(), 1);
    let h = wait_for_bodies(&got, "/high", 2).await;
    assert!(
        h[1]["text"]
            .as_str()
            .unwrap()
            .starts_with("Suggested incident [critical]"),
        "{}",
        h[1]
    );

    // Bad rules are refused, naming the field, never echoing the value.
    for (body, field) in [
        (
            json!({"name": "x", "kind": "slack", "url": format!("{base}/x"), "min_severity": "urgent-ish"}),
            "min_severity",
        ),
        (
            json!({"name": "x", "kind": "slack", "url": format!("{base}/x"), "events": ["ticket.opened-zz"]}),
            "events",
        ),
        (json!({"name": "x", "kind": "carrier-pigeon-zz"}), "kind"),
        (
            json!({"name": "x", "kind": "slack", "url": "not a url zz"}),
            "url",
        ),
        (
            json!({"name": "x", "kind": "pagerduty", "routing_key": "bad key zz!"}),
            "routing_key",
        ),
        (
            json!({"name": "x", "kind": "email", "address": "nobody-zz"}),
            "address",
        ),
    ] {
        let (s, v) = json(
            app.post_json("/api/v1/routes", &app.admin_token, &body)
                .await,
        )
        .await;
        assert_eq!(s, 400, "{body}: {v}");
        let detail = v["detail"].as_str().unwrap();
        assert!(detail.starts_with(field), "{detail}");
        assert!(!detail.contains("zz"), "echoes the value: {detail}");
    }
    // Grants: analysts view and add; viewers do neither.
    let viewer = create_token(&app.store, "viewer").await;
    assert_eq!(app.get("/api/v1/routes", &viewer).await.status(), 403);
    let analyst = create_token(&app.store, "security_analyst").await;
    assert_eq!(app.get("/api/v1/routes", &analyst).await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn a_503_is_retried_when_retry_after_says_and_a_410_disables_the_route() {
    let (base, got) = receiver().await;
    let app = app().await;
    let flaky = add_route(
        &app,
        json!({"name": "Flaky PD", "kind": "pagerduty", "url": format!("{base}/flaky"), "routing_key": "K1"}),
    )
    .await;
    let gone = add_route(
        &app,
        json!({"name": "Gone", "kind": "teams", "url": format!("{base}/gone")}),
    )
    .await;
    let (flaky_id, gone_id) = (flaky["id"].as_str().unwrap(), gone["id"].as_str().unwrap());
    // The Send test button's call: through the outbox like any message.
    let (s, queued) = json(
        app.post_json(
            &format!("/api/v1/routes/{flaky_id}/test"),
            &app.admin_token,
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 202);
    let message = queued["message_id"].as_str().unwrap().to_owned();
    let (s, _) = json(
        app.post_json(
            &format!("/api/v1/routes/{gone_id}/test"),
            &app.admin_token,
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 202);

    // The retry base is an hour: only Retry-After brings the second attempt.
    let mut d = Value::Null;
    wait_until("the flaky route's test sent", async || {
        d = deliveries(&app, flaky_id).await;
        d["messages"][0]["state"] == "sent"
    })
    .await;
    let attempts = d["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{d}");
    // Newest first: the retry that went through, then the 503.
    assert_eq!(attempts[1]["outcome"], "retry");
    assert_eq!(attempts[1]["status_code"], 503);
    assert_eq!(attempts[1]["error"], "http 503");
    assert_eq!(attempts[0]["outcome"], "sent");
    assert_eq!(attempts[0]["status_code"], 202);
    for a in attempts {
        assert_eq!(a["message_id"], message.as_str());
        assert_eq!(a["event"], "route.test");
    }
    let tries = bodies(&got, "/flaky");
    assert_eq!(tries.len(), 2);
    assert_eq!(tries[0], tries[1], "the same message again");
    assert_eq!(tries[0]["payload"]["severity"], "info");

    wait_until("the gone route disabled", async || {
        let (_, r) = json(
            app.get(&format!("/api/v1/routes/{gone_id}"), &app.admin_token)
                .await,
        )
        .await;
        r["enabled"] == false
    })
    .await;
    let (_, r) = json(
        app.get(&format!("/api/v1/routes/{gone_id}"), &app.admin_token)
            .await,
    )
    .await;
    assert_eq!(r["disabled_reason"], "410 gone");
    let d = deliveries(&app, gone_id).await;
    assert_eq!(d["attempts"][0]["status_code"], 410);
    assert_eq!(d["attempts"][0]["outcome"], "failed");
    // A disabled route takes nothing new.
    let signal = open_signal(&app, "outage", None, true).await;
    assert!(!refs(&app, gone_id)
        .await
        .iter()
        .any(|r| r.contains(&signal)));
    assert!(refs(&app, flaky_id)
        .await
        .iter()
        .any(|r| r.contains(&signal)));
    // Re-enabled by staff, it takes messages again.
    let r = app
        .send_json(
            reqwest::Method::PATCH,
            &format!("/api/v1/routes/{gone_id}"),
            &app.admin_token,
            &json!({"enabled": true}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let (_, audit) = json(app.get("/api/v1/audit?limit=500", &app.admin_token).await).await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "route.create",
        "route.test",
        "route.disable",
        "route.update",
    ] {
        assert!(actions.contains(&a), "{a} audited: {actions:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn an_overdue_update_is_emailed_and_paged_and_the_update_resolves_the_page() {
    let mail = MailCatcher::start("127.0.0.1:0", true).await.unwrap();
    let (base, got) = receiver().await;
    let smtp = mail.url();
    let app = spawn_app_with(|c| {
        c.notify.allow_private_targets = true;
        c.notify.smtp_url = Secret::new(smtp);
        c.incidents.overdue_check_secs = 1;
    })
    .await;
    add_route(
        &app,
        json!({"name": "SOC mail", "kind": "email", "address": "soc-lead@example.com", "events": ["incident.overdue"]}),
    )
    .await;
    add_route(
        &app,
        json!({"name": "Pager", "kind": "pagerduty", "url": format!("{base}/pd"), "routing_key": "K2",
               "events": ["incident.overdue"], "min_severity": "medium"}),
    )
    .await;
    let declare = async |severity: &str, title: &str| -> String {
        let (s, v) = json(
            app.post_json(
                "/api/v1/incidents",
                &app.admin_token,
                &json!({"title": title, "severity": severity}),
            )
            .await,
        )
        .await;
        assert_eq!(s, 201, "{v}");
        v["id"].as_str().unwrap().to_owned()
    };
    // SEV3 and SEV4: their updates are published when written.
    let sev3 = declare("SEV3", "Checkout down").await;
    let sev4 = declare("SEV4", "Slow search").await;
    app.store
        .execute(
            "UPDATE incident_deadlines SET due_at = due_at - 86400000",
            vec![],
        )
        .await
        .unwrap();
    let mut caught = Vec::new();
    wait_until("two overdue emails", async || {
        caught = mail
            .messages()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == "soc-lead@example.com"))
            .collect();
        caught.len() >= 2
    })
    .await;
    let texts: Vec<String> = caught
        .iter()
        .map(|m| String::from_utf8_lossy(&m.raw).into_owned())
        .collect();
    assert!(texts
        .iter()
        .any(|t| t.contains("Update overdue: Checkout down")
            && t.contains(&format!("/incidents/{sev3}"))));
    assert!(texts
        .iter()
        .any(|t| t.contains("Update overdue: Slow search")));
    // Only the SEV3 (medium) is paged; the SEV4 (low) is below the rule.
    let p = wait_for_bodies(&got, "/pd", 1).await;
    assert_eq!(p[0]["event_action"], "trigger");
    assert_eq!(p[0]["payload"]["severity"], "warning");
    assert_eq!(
        p[0]["payload"]["custom_details"]["details"]["incident"],
        sev3.as_str()
    );
    let dedup = p[0]["dedup_key"].as_str().unwrap().to_owned();
    assert!(dedup.contains(&sev3));
    let (_, routes) = json(app.get("/api/v1/routes", &app.admin_token).await).await;
    let pager = routes
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Pager")
        .unwrap();
    let paged = refs(&app, pager["id"].as_str().unwrap()).await;
    assert_eq!(paged.len(), 1, "{paged:?}");
    // Publishing the update resolves the page.
    let r = app
        .post_json(
            &format!("/api/v1/incidents/{sev3}/updates"),
            &app.admin_token,
            &json!({"status": "identified", "body": "We found the cause."}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let p = wait_for_bodies(&got, "/pd", 2).await;
    assert_eq!(p[1]["event_action"], "resolve");
    assert_eq!(p[1]["dedup_key"], dedup.as_str());
    let _ = sev4;
    app.stop().await;
}

#[tokio::test]
async fn the_routes_page_adds_a_route_and_sends_a_test_through_the_same_path() {
    let (base, got) = receiver().await;
    let app = app().await;
    let (client, status) = app.browser_session(&app.admin_email, PASSWORD).await;
    assert!(status.is_redirection() || status.is_success(), "{status}");
    let page = client
        .get(app.url("/security/routes"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("No routes yet"));
    let csrf = hidden_field(&html, "csrf").expect("csrf");
    let r = client
        .post(app.url("/security/routes"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Page SIEM"),
            ("kind", "webhook"),
            ("url", &format!("{base}/siem")),
            ("signal_opened", "on"),
            ("min_severity", "medium"),
            ("components", "login, payments"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Route Page SIEM added"));
    assert!(html.contains("whsec_"), "the secret, once");
    let (_, list) = json(app.get("/api/v1/routes", &app.admin_token).await).await;
    let route = &list[0];
    assert_eq!(route["events"], json!(["signal.opened"]));
    assert_eq!(route["components"], json!(["login", "payments"]));
    assert_eq!(route["min_severity"], "medium");
    let id = route["id"].as_str().unwrap();
    // Send test, then the page lists its attempt.
    let r = client
        .post(app.url(&format!("/security/routes/{id}/test")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let w = wait_for_bodies(&got, "/siem", 1).await;
    assert_eq!(w[0]["type"], "route.test");
    let mut html = String::new();
    wait_until("the attempt on the page", async || {
        html = client
            .get(app.url("/security/routes"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        html.contains("<td>route.test</td>") && html.contains("<td>200</td>")
    })
    .await;
    assert!(!html.contains("whsec_"), "the secret is not shown again");
    assert!(html.contains("Send test"));
    // A viewer of alerts without modify sees no buttons; others not the page.
    let cx = create_token(&app.store, "cx_agent").await;
    let r = app
        .client
        .get(app.url("/security/routes"))
        .bearer_auth(&cx)
        .send()
        .await
        .unwrap();
    assert!(
        r.status() == 403 || r.status().is_redirection(),
        "{}",
        r.status()
    );
    app.stop().await;
}
