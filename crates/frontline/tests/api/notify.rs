//! Delivery to customers: double opt-in email subscribers, component
//! filters, the languages of the mail, one-click unsubscribe, webhooks,
//! Slack, Teams and SMS, the SSRF guard, affected customers, and the
//! per-recipient state, all through a real SMTP server and real HTTP
//! receivers on loopback.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use frontline::config::Secret;
use frontline::notify::catcher::{header, Caught, MailCatcher};
use serde_json::{json, Value};

use crate::helpers::{json, spawn_app_with, TestApp};

async fn app_with_mail(catcher: &MailCatcher) -> TestApp {
    let url = catcher.url();
    spawn_app_with(|c| {
        c.notify.smtp_url = Secret::new(url);
        c.notify.allow_private_targets = true;
        c.notify.retry_base_secs = 1;
    })
    .await
}

async fn component(app: &TestApp, name: &str) -> String {
    let r = app
        .post_json(
            "/api/v1/components",
            &app.admin_token,
            &json!({ "name": name }),
        )
        .await;
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Declares a SEV3 incident on `components` and publishes an update;
/// returns (incident id, update id).
async fn publish(app: &TestApp, components: &[&str], body: &str) -> (String, String) {
    let r = app
        .post_json(
            "/api/v1/incidents",
            &app.admin_token,
            &json!({ "title": "Sign-in failures", "severity": "SEV3", "components": components }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let incident = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let update = publish_update(app, &incident, body).await;
    (incident, update)
}

async fn publish_update(app: &TestApp, incident: &str, body: &str) -> String {
    let r = app
        .post_json(
            &format!("/api/v1/incidents/{incident}/updates"),
            &app.admin_token,
            &json!({ "status": "investigating", "body": body }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let u = r.json::<Value>().await.unwrap();
    assert_eq!(u["state"], "published");
    u["id"].as_str().unwrap().to_owned()
}

fn parse(m: &Caught) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(&m.raw)
        .expect("a parsable message")
}

fn text_of(m: &Caught) -> String {
    parse(m).body_text(0).unwrap_or_default().into_owned()
}

fn html_of(m: &Caught) -> String {
    parse(m).body_html(0).unwrap_or_default().into_owned()
}

/// The first link in the text part that starts with `prefix` after the host.
fn link(m: &Caught, path: &str) -> String {
    let text = text_of(m);
    text.split_whitespace()
        .find(|w| w.contains(path))
        .unwrap_or_else(|| panic!("no {path} link in {text}"))
        .to_owned()
}

/// The link re-pointed at the test server (links use http.public_url).
fn local(app: &TestApp, url: &str) -> String {
    let path = url.split_once("://").unwrap().1;
    let path = &path[path.find('/').unwrap()..];
    app.url(path)
}

fn to_of(m: &Caught) -> String {
    m.to.first().cloned().unwrap_or_default()
}

async fn sign_up(app: &TestApp, email: &str, language: &str, components: Option<Vec<&str>>) {
    let mut body = json!({ "email": email, "language": language });
    if let Some(c) = components {
        body["components"] = json!(c);
    }
    let r = app
        .client
        .post(app.url("/status/subscriptions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "{email}");
}

/// Opens the confirmation page of `m` and presses Confirm.
async fn confirm(app: &TestApp, m: &Caught) {
    let url = local(app, &link(m, "/status/confirm"));
    let page = app.client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("action=\"/status/confirm\""));
    let token = url.split("t=").nth(1).unwrap().to_owned();
    let r = app
        .client
        .post(app.url("/status/confirm"))
        .form(&[("t", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn wait_until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn confirmed_subscribers_get_the_notice_by_component_in_their_language() {
    let mail = MailCatcher::start("127.0.0.1:0", true).await.unwrap();
    let app = app_with_mail(&mail).await;
    let login = component(&app, "Login").await;
    let billing = component(&app, "Billing").await;

    sign_up(&app, "en@example.com", "en", None).await;
    sign_up(&app, "fa@example.com", "fa", Some(vec![&login])).await;
    sign_up(&app, "zh@example.com", "zh", Some(vec![&billing])).await;
    sign_up(&app, "gu@example.com", "gu", None).await;
    sign_up(&app, "never@example.com", "en", None).await;
    // An unknown component is refused, with nothing stored.
    let r = app
        .client
        .post(app.url("/status/subscriptions"))
        .json(
            &json!({ "email": "x@example.com", "components": ["cmp_01J00000000000000000000000"] }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "invalid_field");

    // Only confirmations go out before confirming.
    assert_eq!(mail.wait_for(5, Duration::from_secs(20)).await, 5);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let confirmations = mail.messages();
    assert_eq!(confirmations.len(), 5);
    for m in &confirmations {
        assert!(header(&m.raw, "List-Unsubscribe").is_none());
        assert!(text_of(m).contains("/status/confirm?t="));
    }
    let by_to: BTreeMap<String, Caught> = confirmations
        .iter()
        .map(|m| (to_of(m), m.clone()))
        .collect();
    assert!(parse(&by_to["fa@example.com"])
        .subject()
        .unwrap()
        .contains("تأیید"));
    // Opening the link alone confirms nothing (mail scanners open links).
    let url = local(&app, &link(&by_to["never@example.com"], "/status/confirm"));
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 200);
    for who in ["en", "fa", "zh", "gu"] {
        confirm(&app, &by_to[&format!("{who}@example.com")]).await;
    }
    // A forged token is refused.
    let r = app
        .client
        .post(app.url("/status/confirm"))
        .form(&[("t", "c.sub_x.0.0123456789abcdef0123456789abcdef")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let (incident, update) = publish(&app, &[&login], "Some customers cannot sign in.").await;
    // en and gu (everything) and fa (Login); not zh (Billing only), not the
    // unconfirmed one.
    assert_eq!(mail.wait_for(8, Duration::from_secs(20)).await, 8);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let notices: Vec<Caught> = mail.messages().into_iter().skip(5).collect();
    let to: HashSet<String> = notices.iter().map(to_of).collect();
    assert_eq!(
        to,
        HashSet::from([
            "en@example.com".to_owned(),
            "fa@example.com".to_owned(),
            "gu@example.com".to_owned()
        ])
    );
    let subs: Value = app
        .get("/api/v1/subscribers?channel=email", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    let id_of = |masked: &str| {
        subs.as_array()
            .unwrap()
            .iter()
            .find(|s| s["address"] == masked)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(subs
        .as_array()
        .unwrap()
        .iter()
        .all(|s| !s.to_string().contains("en@example.com")));
    for m in &notices {
        let p = parse(m);
        let who = to_of(m);
        let lang = who.split('@').next().unwrap().to_owned();
        let sub = id_of(&format!("{}***@example.com", &lang[..1]));
        // A stable id: the update and the subscriber.
        assert_eq!(
            m.message_id.as_deref(),
            Some(format!("{update}.{sub}@127.0.0.1").as_str())
        );
        let lu = header(&m.raw, "List-Unsubscribe").unwrap();
        assert!(
            lu.starts_with("<http://127.0.0.1:8080/status/unsubscribe?t="),
            "{lu}"
        );
        assert!(
            lu.contains(", <mailto:status@localhost?subject=unsubscribe"),
            "{lu}"
        );
        assert_eq!(
            header(&m.raw, "List-Unsubscribe-Post").as_deref(),
            Some("List-Unsubscribe=One-Click")
        );
        assert_eq!(
            header(&m.raw, "Content-Language").as_deref(),
            Some(lang.as_str())
        );
        let text = text_of(m);
        let html = html_of(m);
        assert!(text.contains("Some customers cannot sign in."));
        assert!(html.contains("Some customers cannot sign in."));
        assert!(html.contains(&format!("lang=\"{lang}\"")));
        let (status, dir) = match lang.as_str() {
            "en" => ("Investigating", "ltr"),
            "fa" => ("در حال بررسی", "rtl"),
            _ => ("તપાસ ચાલુ છે", "ltr"),
        };
        assert!(p.subject().unwrap().starts_with(&format!("[{status}]")));
        assert!(html.contains(&format!("dir=\"{dir}\"")));
        assert!(text.contains("/status/subscription?t="));
    }

    // Per-recipient state, through the API and on the incident's page.
    let mut d = Value::Null;
    wait_until("all sent", async || {
        d = app
            .get(
                &format!("/api/v1/incidents/{incident}/deliveries"),
                &app.admin_token,
            )
            .await
            .json()
            .await
            .unwrap();
        d["counts"]["sent"] == 3
    })
    .await;
    assert_eq!(d["updates"][0]["update_id"], update.as_str());
    assert_eq!(d["messages"].as_array().unwrap().len(), 3);
    assert!(d["messages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["recipient"].as_str().unwrap().contains("***@example.com")));

    // One-click unsubscribe, as a mail client does it (RFC 8058).
    let fa = notices
        .iter()
        .find(|m| to_of(m) == "fa@example.com")
        .unwrap();
    let lu = header(&fa.raw, "List-Unsubscribe").unwrap();
    let https = lu.trim_start_matches('<').split('>').next().unwrap();
    let r = app
        .client
        .post(local(&app, https))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The gu subscriber narrows to Billing through the manage link.
    let gu = notices
        .iter()
        .find(|m| to_of(m) == "gu@example.com")
        .unwrap();
    let manage = local(&app, &link(gu, "/status/subscription"));
    let page = app.client.get(&manage).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let token = manage.split("t=").nth(1).unwrap().to_owned();
    let r = app
        .client
        .post(app.url("/status/subscription"))
        .form(&[
            ("t", token.as_str()),
            ("language", "gu"),
            ("component", billing.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    publish_update(&app, &incident, "Fixed for most customers.").await;
    assert_eq!(mail.wait_for(9, Duration::from_secs(20)).await, 9);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let last: Vec<String> = mail.messages().iter().skip(8).map(to_of).collect();
    assert_eq!(last, vec!["en@example.com".to_owned()]);
}

#[tokio::test]
async fn sign_up_is_rate_limited_per_address() {
    let mail = MailCatcher::start("127.0.0.1:0", true).await.unwrap();
    let app = app_with_mail(&mail).await;
    for _ in 0..3 {
        sign_up(&app, "again@example.com", "en", None).await;
    }
    let r = app
        .client
        .post(app.url("/status/subscriptions"))
        .json(&json!({ "email": "again@example.com" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "rate_limited");
    // Another address is not held back; the form answers the same way.
    let r = app
        .client
        .post(app.url("/status/subscribe"))
        .form(&[("email", "other@example.com"), ("lang", "fa")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("dir=\"rtl\""));
    let r = app
        .client
        .post(app.url("/status/subscriptions"))
        .json(&json!({ "email": "not an address" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

/// What a receiver got: path, headers, body.
type Received = Arc<Mutex<Vec<(String, HeaderMap, Vec<u8>)>>>;

async fn receiver() -> (String, Received) {
    let got: Received = Arc::default();
    let g = got.clone();
    let app = axum::Router::new().fallback(
        move |uri: axum::http::Uri, headers: HeaderMap, body: axum::body::Bytes| {
            let g = g.clone();
            async move {
                let path = uri.path().to_owned();
                g.lock()
                    .unwrap()
                    .push((path.clone(), headers, body.to_vec()));
                if path == "/gone" {
                    StatusCode::GONE
                } else {
                    StatusCode::OK
                }
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), got)
}

#[tokio::test]
async fn webhooks_are_signed_and_slack_teams_and_sms_get_their_shapes() {
    let (base, got) = receiver().await;
    let sms_url = format!("{base}/sms");
    let app = spawn_app_with(|c| {
        c.notify.allow_private_targets = true;
        c.notify.sms_url = sms_url;
        c.notify.sms_auth_header = Secret::new("Authorization: Bearer sms-key");
    })
    .await;
    let add = async |channel: &str, address: &str| {
        let r = app
            .post_json(
                "/api/v1/subscribers",
                &app.admin_token,
                &json!({ "channel": channel, "address": address }),
            )
            .await;
        assert_eq!(r.status(), 201, "{channel}");
        r.json::<Value>().await.unwrap()
    };
    let hook = add("webhook", &format!("{base}/hook")).await;
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    add("slack", &format!("{base}/slack")).await;
    add("teams", &format!("{base}/teams")).await;
    let gone = add("webhook", &format!("{base}/gone")).await;
    add("sms", "+1 415 555 0100").await;
    // The secret is shown once.
    let again: Value = app
        .get(
            &format!("/api/v1/subscribers/{}", hook["id"].as_str().unwrap()),
            &app.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(again.get("secret").is_none());
    // Masked: scheme and host only.
    assert_eq!(again["address"], "http://127.0.0.1/***");

    let (_, update) = publish(&app, &[], "Payments are delayed.").await;
    wait_until("five deliveries", async || got.lock().unwrap().len() >= 5).await;
    let got = got.lock().unwrap().clone();
    let by_path: BTreeMap<String, (HeaderMap, Vec<u8>)> =
        got.into_iter().map(|(p, h, b)| (p, (h, b))).collect();

    // Standard Webhooks: verify the signature as a receiver would.
    let (h, body) = &by_path["/hook"];
    let id = h["webhook-id"].to_str().unwrap();
    assert_eq!(id, format!("{update}.{}", hook["id"].as_str().unwrap()));
    let ts = h["webhook-timestamp"].to_str().unwrap();
    let now = frontline::storage::now_ms() / 1000;
    assert!((now - ts.parse::<i64>().unwrap()).abs() < 60);
    use base64::Engine;
    use hmac::Mac;
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    assert_eq!(h["webhook-signature"].to_str().unwrap(), expected);
    let payload: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(payload["type"], "incident.update");
    assert_eq!(payload["data"]["update"]["id"], update.as_str());
    assert_eq!(payload["data"]["update"]["body"], "Payments are delayed.");

    let slack: Value = serde_json::from_slice(&by_path["/slack"].1).unwrap();
    assert!(slack["text"]
        .as_str()
        .unwrap()
        .contains("Payments are delayed."));
    assert_eq!(slack["blocks"][0]["type"], "section");
    assert_eq!(slack["blocks"][0]["text"]["type"], "mrkdwn");
    let teams: Value = serde_json::from_slice(&by_path["/teams"].1).unwrap();
    assert_eq!(teams["type"], "message");
    assert_eq!(
        teams["attachments"][0]["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(teams["attachments"][0]["content"]["type"], "AdaptiveCard");
    let (sh, sb) = &by_path["/sms"];
    assert_eq!(sh["authorization"], "Bearer sms-key");
    let sms: Value = serde_json::from_slice(sb).unwrap();
    assert_eq!(sms["to"], "+14155550100");
    assert!(sms["text"]
        .as_str()
        .unwrap()
        .contains("Payments are delayed."));

    // A 410 disables that subscriber.
    let gone_id = gone["id"].as_str().unwrap().to_owned();
    wait_until("the 410 subscriber disabled", async || {
        let s: Value = app
            .get(&format!("/api/v1/subscribers/{gone_id}"), &app.admin_token)
            .await
            .json()
            .await
            .unwrap();
        s["state"] == "disabled"
    })
    .await;
}

#[tokio::test]
async fn deliveries_to_internal_addresses_are_refused_by_default() {
    let (base, got) = receiver().await;
    let app = spawn_app_with(|_| {}).await;
    let r = app
        .post_json(
            "/api/v1/subscribers",
            &app.admin_token,
            &json!({ "channel": "webhook", "address": format!("{base}/hook") }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = app
        .post_json(
            "/api/v1/subscribers",
            &app.admin_token,
            &json!({ "channel": "slack", "address": "http://localhost:9/x" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let (incident, _) = publish(&app, &[], "Checking.").await;
    let mut d = Value::Null;
    wait_until("both failed", async || {
        d = app
            .get(
                &format!("/api/v1/incidents/{incident}/deliveries"),
                &app.admin_token,
            )
            .await
            .json()
            .await
            .unwrap();
        d["counts"]["failed"] == 2
    })
    .await;
    for m in d["messages"].as_array().unwrap() {
        assert_eq!(m["last_error"], "refused: internal address");
    }
    assert!(got.lock().unwrap().is_empty());
    // Bad input is a 4xx with nothing stored.
    for (channel, address) in [
        ("webhook", "ftp://example.com/x"),
        ("sms", "12"),
        ("pager", "x"),
    ] {
        let r = app
            .post_json(
                "/api/v1/subscribers",
                &app.admin_token,
                &json!({ "channel": channel, "address": address }),
            )
            .await;
        assert_eq!(r.status(), 400, "{channel}");
    }
    let all: Value = app
        .get("/api/v1/subscribers", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn affected_customers_are_told_directly_each_in_their_language() {
    let mail = MailCatcher::start("127.0.0.1:0", true).await.unwrap();
    let app = app_with_mail(&mail).await;
    let (incident, update) =
        publish(&app, &[], "We found unauthorised access to some accounts.").await;
    let csv = "email,phone,language,name\nali@example.com,,fa,Ali\nmei@example.com,,zh,Mei\nbounce@example.com,,en,\n,not-a-phone,en,\nali@example.com,,fa,Ali again\n";
    let r = app
        .client
        .post(app.url(&format!("/api/v1/incidents/{incident}/affected")))
        .bearer_auth(&app.admin_token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["read"], 5);
    assert_eq!(report["added"], 3);
    assert_eq!(report["duplicates"], 1);
    assert_eq!(report["rejected"][0]["row"], 5);
    assert!(!report.to_string().contains("not-a-phone"));
    // JSON works too; the address already listed is skipped.
    let r = app
        .post_json(
            &format!("/api/v1/incidents/{incident}/affected"),
            &app.admin_token,
            &json!([{ "email": "MEI@example.com", "language": "zh" }, { "email": "gita@example.com", "language": "gu" }]),
        )
        .await;
    let report: Value = r.json().await.unwrap();
    assert_eq!(
        (report["added"].as_u64(), report["duplicates"].as_u64()),
        (Some(1), Some(1))
    );
    let list: Value = app
        .get(
            &format!("/api/v1/incidents/{incident}/affected"),
            &app.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 4);
    assert!(!list.to_string().contains("ali@example.com"));

    // Nothing is sent until someone sends it.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(mail.total(), 0);
    let r = app
        .post_json(
            &format!("/api/v1/incidents/{incident}/affected/notify"),
            &app.admin_token,
            &json!({ "update": update }),
        )
        .await;
    assert_eq!(r.status(), 202);
    assert_eq!(r.json::<Value>().await.unwrap()["queued"], 4);
    // Sending again queues nothing new.
    let r = app
        .post_json(
            &format!("/api/v1/incidents/{incident}/affected/notify"),
            &app.admin_token,
            &json!({ "update": update }),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["queued"], 0);

    assert_eq!(mail.wait_for(3, Duration::from_secs(20)).await, 3);
    let mut d = Value::Null;
    wait_until("sent and bounced", async || {
        d = app
            .get(
                &format!("/api/v1/incidents/{incident}/deliveries"),
                &app.admin_token,
            )
            .await
            .json()
            .await
            .unwrap();
        d["counts"]["sent"] == 3 && d["counts"]["bounced"] == 1
    })
    .await;
    for m in mail.messages() {
        // A notice to affected customers is not a list: no unsubscribe.
        assert!(header(&m.raw, "List-Unsubscribe").is_none());
        let html = html_of(&m);
        let p = parse(&m);
        match to_of(&m).as_str() {
            "ali@example.com" => {
                assert!(html.contains("dir=\"rtl\""));
                assert!(p.subject().unwrap().starts_with("[در حال بررسی]"));
            }
            "mei@example.com" => assert!(p.subject().unwrap().starts_with("[调查中]")),
            "gita@example.com" => assert!(p.subject().unwrap().starts_with("[તપાસ ચાલુ છે]")),
            other => panic!("unexpected recipient {other}"),
        }
        assert!(text_of(&m).contains("We found unauthorised access to some accounts."));
    }
    let bounced = d["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["state"] == "bounced")
        .unwrap();
    assert_eq!(bounced["recipient"], "b***@example.com");
    assert_eq!(bounced["last_error"], "smtp 550");

    // The incident page shows the counts and masked recipients.
    let (client, _) = app
        .browser_session(&app.admin_email, crate::helpers::PASSWORD)
        .await;
    let page = client
        .get(app.url(&format!("/incidents/{incident}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("b***@example.com"), "{page}");
    assert!(!page.contains("bounce@example.com"));
}

/// The guarantee under a crash: every message arrives, and a message is
/// repeated only if it was in flight (claimed, handed to the SMTP server,
/// outcome not yet recorded) when the process died, with the same
/// Message-ID, so the receiver sees each message once by its id. At most
/// one claimed batch (`notify.batch`) is in flight at a time.
#[tokio::test]
async fn killing_the_server_mid_fan_out_drops_nothing_and_repeats_at_most_one_message_per_slot() {
    use std::process::{Command, Stdio};
    const SUBSCRIBERS: usize = 2000;
    // Batches larger than the sending slots: were outcomes recorded per
    // batch, a kill would repeat up to a batch; per message, one per slot.
    const BATCH: u64 = 200;
    const SLOTS: u64 = 4;
    let (_db, mut env) = crate::helpers::test_config_env().await;
    // A slow mail server, so that the kill lands mid-fan-out.
    let mail = MailCatcher::start_with_delay("127.0.0.1:0", false, Duration::from_millis(3))
        .await
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    env.insert("FRONTLINE_HTTP_ADDR".into(), format!("127.0.0.1:{port}"));
    env.insert("FRONTLINE_NOTIFY_SMTP_URL".into(), mail.url());
    env.insert("FRONTLINE_NOTIFY_BATCH".into(), BATCH.to_string());
    env.insert("FRONTLINE_NOTIFY_CONCURRENCY".into(), SLOTS.to_string());
    env.insert("FRONTLINE_NOTIFY_LEASE_SECS".into(), "2".into());

    // Confirmed subscribers, written through the same database and keys
    // the server will use.
    let config = frontline::Config::load_from(None, &env).unwrap();
    let store = frontline::Store::connect(&config).await.unwrap();
    store.migrate().await.unwrap();
    let ring = config.key_ring().unwrap();
    let addresses: Vec<_> = (0..SUBSCRIBERS)
        .map(|i| {
            frontline::notify::subscribers::Address::parse(
                frontline::notify::Channel::Email,
                &format!("customer{i}@example.com"),
                None,
            )
            .unwrap()
        })
        .collect();
    let added = store
        .import_confirmed_subscribers(&ring, &addresses, "en", crate::helpers::cli_audit())
        .await
        .unwrap();
    assert_eq!(added as usize, SUBSCRIBERS);
    let subscribers: Vec<String> = store
        .fetch_all("SELECT id FROM subscribers", vec![])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String>("id").unwrap())
        .collect();
    store.close().await;

    let bin = env!("CARGO_BIN_EXE_frontline");
    let out = Command::new(bin)
        .args(["token", "create", "--name", "comms", "--role", "admin"])
        .envs(&env)
        .output()
        .unwrap();
    assert!(out.status.success());
    let token = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("secret (shown once): ").map(str::to_owned))
        .unwrap();
    let serve = || {
        Command::new(bin)
            .arg("serve")
            .envs(&env)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let ready = async || {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while client.get(format!("{base}/readyz")).send().await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "server did not come up"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let mut server = serve();
    ready().await;
    let incident: Value = client
        .post(format!("{base}/api/v1/incidents"))
        .bearer_auth(&token)
        .json(&json!({ "title": "Outage", "severity": "SEV3" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let incident = incident["id"].as_str().unwrap().to_owned();
    let update: Value = client
        .post(format!("{base}/api/v1/incidents/{incident}/updates"))
        .bearer_auth(&token)
        .json(&json!({ "status": "investigating", "body": "We are on it." }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(update["state"], "published");
    let update = update["id"].as_str().unwrap().to_owned();

    // Pull the plug in the middle of the fan-out, and of a batch.
    let before = mail.wait_for(425, Duration::from_secs(30)).await;
    assert!(before >= 425);
    assert!(Command::new("kill")
        .args(["-KILL", &server.id().to_string()])
        .status()
        .unwrap()
        .success());
    let _ = server.wait();
    let at_kill = mail.total();
    assert!(
        (at_kill as usize) < SUBSCRIBERS,
        "the fan-out finished before the kill; nothing was tested"
    );

    let mut server = serve();
    ready().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while mail.by_message_id().len() < SUBSCRIBERS {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {SUBSCRIBERS} arrived",
            mail.by_message_id().len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let anything still due arrive, then compare.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = mail.by_message_id();
    let expected: HashSet<String> = subscribers
        .iter()
        .map(|s| format!("{update}.{s}@127.0.0.1"))
        .collect();
    let ids: HashSet<String> = got.keys().cloned().collect();
    assert_eq!(ids, expected, "every message, and only those");
    let repeats: u64 = got.values().map(|n| n - 1).sum();
    assert!(
        repeats <= SLOTS,
        "{repeats} repeats; at most one message per sending slot ({SLOTS}) may repeat, \
         not the claimed batch ({BATCH})"
    );
    // The outbox agrees: every message sent.
    let d: Value = client
        .get(format!(
            "{base}/api/v1/incidents/{incident}/deliveries?limit=1"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["counts"]["sent"], SUBSCRIBERS as u64);
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    eprintln!("kill at {at_kill} delivered; {repeats} repeated after restart");
}

#[tokio::test]
async fn retention_keeps_live_subscriptions_and_erasure_removes_them() {
    let mail = MailCatcher::start("127.0.0.1:0", true).await.unwrap();
    let app = app_with_mail(&mail).await;
    sign_up(&app, "keep@example.com", "en", None).await;
    let r = app
        .post_json(
            "/api/v1/subscribers",
            &app.admin_token,
            &json!({ "channel": "slack", "address": "https://hooks.slack.com/services/T0/B0/x" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let retention = frontline::config::RetentionConfig {
        raw_text_days: 30,
        contact_days: 180,
        feedback_days: 730,
        purge_every_minutes: 60,
    };
    frontline::privacy::retention::purge(&app.store, &retention, false)
        .await
        .unwrap();
    let all: Value = app
        .get("/api/v1/subscribers", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");

    // Erasing the person ends their subscription (their key is gone).
    let r = app
        .post_json(
            "/api/v1/subjects/erase",
            &app.admin_token,
            &json!({ "email": "keep@example.com" }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let all: Value = app
        .get("/api/v1/subscribers", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(all[0]["channel"], "slack");
}

/// Requests a receiver got: path, when, webhook-id.
type Hits = Arc<Mutex<Vec<(String, std::time::Instant, Option<String>)>>>;

#[tokio::test]
async fn failures_are_retried_honouring_retry_after_then_given_up() {
    // /flaky: 503 with Retry-After: 1 once, then 200. /down: always 500.
    let hits: Hits = Arc::default();
    let h = hits.clone();
    let router = axum::Router::new().fallback(move |uri: axum::http::Uri, headers: HeaderMap| {
        let h = h.clone();
        async move {
            let path = uri.path().to_owned();
            let id = headers
                .get("webhook-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let mut h = h.lock().unwrap();
            let before = h.iter().filter(|(p, _, _)| *p == path).count();
            h.push((path.clone(), std::time::Instant::now(), id));
            match (path.as_str(), before) {
                ("/flaky", 0) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(axum::http::header::RETRY_AFTER, "1")],
                )
                    .into_response(),
                ("/flaky", _) => StatusCode::OK.into_response(),
                _ => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
    });
    use axum::response::IntoResponse;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let app = spawn_app_with(|c| {
        c.notify.allow_private_targets = true;
        c.notify.max_attempts = 2;
        // Long enough that only Retry-After brings the second attempt soon.
        c.notify.retry_base_secs = 3600;
    })
    .await;
    for path in ["flaky", "down"] {
        let r = app
            .post_json(
                "/api/v1/subscribers",
                &app.admin_token,
                &json!({ "channel": "webhook", "address": format!("{base}/{path}") }),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    let (incident, _) = publish(&app, &[], "Retrying.").await;
    let mut d = Value::Null;
    wait_until("flaky sent after a retry", async || {
        d = app
            .get(
                &format!("/api/v1/incidents/{incident}/deliveries"),
                &app.admin_token,
            )
            .await
            .json()
            .await
            .unwrap();
        d["counts"]["sent"] == 1
    })
    .await;
    let hits_now = hits.lock().unwrap().clone();
    let flaky: Vec<_> = hits_now.iter().filter(|(p, _, _)| p == "/flaky").collect();
    assert_eq!(flaky.len(), 2);
    // The same message both times, the second after Retry-After.
    assert_eq!(flaky[0].2, flaky[1].2);
    assert!(flaky[1].1 - flaky[0].1 >= Duration::from_millis(900));
    let sent = d["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["state"] == "sent")
        .unwrap();
    assert_eq!(sent["attempts"], 2);
    // /down waits for its back-off (an hour): queued, one attempt, with why.
    let down = d["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["state"] != "sent")
        .unwrap();
    assert_eq!(down["state"], "queued");
    assert_eq!(down["attempts"], 1);
    assert_eq!(down["last_error"], "http 500");
    // Make it due now: the second attempt is the last (max_attempts 2).
    app.store
        .execute(
            "UPDATE outbox SET next_attempt_at = 0 WHERE state = 'queued'",
            vec![],
        )
        .await
        .unwrap();
    wait_until("down given up", async || {
        d = app
            .get(
                &format!("/api/v1/incidents/{incident}/deliveries"),
                &app.admin_token,
            )
            .await
            .json()
            .await
            .unwrap();
        d["counts"]["failed"] == 1
    })
    .await;
    let failed = d["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["state"] == "failed")
        .unwrap();
    assert_eq!(failed["last_error"], "gave up after 2 attempts: http 500");
    assert_eq!(
        hits.lock()
            .unwrap()
            .iter()
            .filter(|(p, _, _)| p == "/down")
            .count(),
        2
    );
}

#[tokio::test]
async fn an_update_written_from_a_template_reaches_each_subscriber_in_their_language() {
    let mail = MailCatcher::start("127.0.0.1:0", true).await.unwrap();
    let app = app_with_mail(&mail).await;
    for who in ["en", "fa", "zh"] {
        sign_up(&app, &format!("{who}@example.com"), who, None).await;
    }
    assert_eq!(mail.wait_for(3, Duration::from_secs(20)).await, 3);
    for m in mail.messages() {
        confirm(&app, &m).await;
    }
    let r = app
        .post_json(
            "/api/v1/incidents",
            &app.admin_token,
            &json!({ "title": "Outage of sign-in", "severity": "SEV3" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let incident = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let fields = json!({
        "what_happened": {
            "en": "Since 09:10 UTC many customers cannot sign in to the app.",
            "fa": "از ساعت ۰۹:۱۰ بسیاری از مشتریان نمی‌توانند وارد برنامه شوند.",
            "zh": "自世界标准时间09:10起，许多客户无法登录应用。"
        },
        "impact": {"en": "You may not be able to sign in.", "fa": "ممکن است نتوانید وارد شوید.", "zh": "您可能无法登录。"},
        "actions": {"en": "Our engineers are restoring the sign-in service.", "fa": "مهندسان ما در حال بازگرداندن سرویس ورود هستند.", "zh": "我们的工程师正在恢复登录服务。"},
        "contact": "support@example.com"
    });
    let r = app
        .post_json(
            &format!("/api/v1/incidents/{incident}/updates/from-template"),
            &app.admin_token,
            &json!({ "template": "outage", "fields": fields }),
        )
        .await;
    let status = r.status();
    let u = r.json::<Value>().await.unwrap();
    assert_eq!(status, 201, "{u}");
    assert_eq!(u["state"], "published", "{u}");
    assert_eq!(mail.wait_for(6, Duration::from_secs(20)).await, 6);
    // The notices, not the confirmations: they carry List-Unsubscribe.
    let by_to: BTreeMap<String, Caught> = mail
        .messages()
        .iter()
        .filter(|m| header(&m.raw, "List-Unsubscribe").is_some())
        .map(|m| (to_of(m), m.clone()))
        .collect();
    assert_eq!(by_to.len(), 3);
    assert!(
        text_of(&by_to["fa@example.com"]).contains("نمی‌توانند وارد برنامه"),
        "{}",
        text_of(&by_to["fa@example.com"])
    );
    assert!(text_of(&by_to["zh@example.com"]).contains("无法登录应用"));
    let en = text_of(&by_to["en@example.com"]);
    assert!(
        en.contains("cannot sign in to the app") && !en.contains("无法"),
        "{en}"
    );
    app.stop().await;
}

#[tokio::test]
async fn after_it_resolves_the_survey_reaches_those_who_were_told_in_their_language() {
    let mail = MailCatcher::start("127.0.0.1:0", true).await.unwrap();
    let app = app_with_mail(&mail).await;
    let login = component(&app, "Login").await;
    let billing = component(&app, "Billing").await;
    // Two confirmed subscribers: one follows Login, one only Billing.
    sign_up(&app, "sara@example.com", "fa", Some(vec![&login])).await;
    sign_up(&app, "bill@example.com", "en", Some(vec![&billing])).await;
    assert_eq!(mail.wait_for(2, Duration::from_secs(20)).await, 2);
    for m in mail.messages() {
        confirm(&app, &m).await;
    }
    let (incident, _) = publish(&app, &[&login], "Some customers cannot sign in.").await;
    // Sara is told; Bill, who follows only Billing, is not.
    assert_eq!(mail.wait_for(3, Duration::from_secs(20)).await, 3);
    let r = app
        .post_json(
            &format!("/api/v1/incidents/{incident}/affected"),
            &app.admin_token,
            &json!([{ "email": "mei@example.com", "language": "zh" }, { "email": "gita@example.com", "language": "gu" }]),
        )
        .await;
    assert_eq!(r.status(), 200);

    let send = async |body: Value| {
        let r = app
            .post_json(
                &format!("/api/v1/incidents/{incident}/survey/send"),
                &app.admin_token,
                &body,
            )
            .await;
        let s = r.status();
        (s, r.json::<Value>().await.unwrap())
    };
    let (s, v) = send(json!({})).await;
    assert_eq!(s, 409, "not while it is still open: {v}");
    let r = app
        .post_json(
            &format!("/api/v1/incidents/{incident}/updates"),
            &app.admin_token,
            &json!({ "status": "resolved", "body": "Sign-in works again." }),
        )
        .await;
    assert_eq!(r.status(), 201);
    // The resolution notice reaches Sara.
    assert_eq!(mail.wait_for(4, Duration::from_secs(20)).await, 4);
    let (s, v) = send(json!({})).await;
    assert_eq!(s, 409, "not before the survey exists: {v}");
    let (s, v) = send(json!({"to": ["everyone"]})).await;
    assert_eq!(s, 400);
    assert!(v["detail"].as_str().unwrap().contains("to"), "{v}");
    let r = app
        .post_json(
            &format!("/api/v1/incidents/{incident}/survey"),
            &app.admin_token,
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let survey: Value = r.json().await.unwrap();

    let (s, v) = send(json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["affected"].as_u64(), v["subscribers"].as_u64()),
        (Some(2), Some(1))
    );
    let (_, again) = send(json!({})).await;
    assert_eq!(
        (again["affected"].as_u64(), again["subscribers"].as_u64()),
        (Some(0), Some(0)),
        "each is invited once"
    );

    assert_eq!(mail.wait_for(7, Duration::from_secs(20)).await, 7);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let invites: Vec<Caught> = mail
        .messages()
        .into_iter()
        .filter(|m| text_of(m).contains("/f/incident-"))
        .collect();
    let mut to: Vec<String> = invites.iter().map(to_of).collect();
    to.sort();
    assert_eq!(
        to,
        ["gita@example.com", "mei@example.com", "sara@example.com"]
    );
    let slug = survey["slug"].as_str().unwrap();
    for m in &invites {
        let (lang, unsubscribe) = match to_of(m).as_str() {
            "sara@example.com" => ("fa", true),
            "mei@example.com" => ("zh", false),
            _ => ("gu", false),
        };
        let url = link(m, "/f/incident-");
        assert!(url.ends_with(&format!("/f/{slug}?lang={lang}")), "{url}");
        assert_eq!(
            header(&m.raw, "List-Unsubscribe").is_some(),
            unsubscribe,
            "only subscribers get unsubscribe headers"
        );
        if lang == "fa" {
            assert!(html_of(m).contains("dir=\"rtl\""));
        }
        assert!(text_of(m).contains("Sign-in failures"));
    }

    // Sara follows her link and answers; the answer is feedback.
    let sara = invites
        .iter()
        .find(|m| to_of(m) == "sara@example.com")
        .unwrap();
    let form = app
        .client
        .get(local(&app, &link(sara, "/f/incident-")))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    assert!(form.text().await.unwrap().contains("dir=\"rtl\""));
    let sent = app
        .client
        .post(app.url(&format!("/f/{slug}")))
        .form(&[("lang", "fa"), ("informed", "4"), ("comment", "خوب بود")])
        .send()
        .await
        .unwrap();
    assert!(sent.status().is_success());
    let fb: Value = app
        .get(
            &format!(
                "/api/v1/feedback?survey={}",
                survey["survey_id"].as_str().unwrap()
            ),
            &app.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    let touch = format!("incident:{}", incident.to_lowercase());
    assert!(
        fb.to_string().contains(&touch),
        "the answer landed in feedback: {fb}"
    );
}

/// The incident page's "Affected customers" part: the communications lead
/// pastes the list, sees it masked, and sends a published update to it.
#[tokio::test]
async fn the_incident_page_imports_affected_customers_and_sends_them_an_update() {
    let mail = MailCatcher::start("127.0.0.1:0", true).await.unwrap();
    let app = app_with_mail(&mail).await;
    let (incident, update) = publish(
        &app,
        &[],
        "Some accounts were accessed; reset your password.",
    )
    .await;
    crate::helpers::create_user(
        &app.store,
        "cora@example.com",
        "Cora Comms",
        "communications",
    )
    .await;
    crate::helpers::create_user(
        &app.store,
        "sam@example.com",
        "Sam Analyst",
        "security_analyst",
    )
    .await;
    let (browser, s) = app
        .browser_session("cora@example.com", crate::helpers::PASSWORD)
        .await;
    assert_eq!(s, 303);
    let incident_page = format!("/incidents/{incident}");
    let page = app.page(&browser, &incident_page).await.1;
    assert!(
        page.contains("Affected customers") && page.contains("0 on this incident"),
        "{page}"
    );
    let csrf = crate::helpers::hidden_field(&page, "csrf").unwrap();

    // An empty paste is refused, saying what to paste.
    let r = browser
        .post(app.url(&format!("/incidents/{incident}/affected")))
        .form(&[("csrf", csrf.as_str()), ("csv", " ")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("header line"));

    let csv = "email,phone,language\nali@example.com,,fa\nmei@example.com,,zh\n,not-a-phone,en\nALI@example.com,,fa\n";
    let r = browser
        .post(app.url(&format!("/incidents/{incident}/affected")))
        .form(&[("csrf", csrf.as_str()), ("csv", csv)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        !to.contains("example.com") && !to.contains("not-a-phone"),
        "no personal data in the URL: {to}"
    );
    let page = app.page(&browser, &to).await.1;
    assert!(
        page.contains("2 added, 1 already on the list, 1 refused") && page.contains("Line 4"),
        "{page}"
    );
    assert!(page.contains("2 on this incident"), "{page}");
    assert!(page.contains("a***@example.com") && page.contains("m***@example.com"));
    assert!(!page.contains("ali@example.com") && !page.contains("not-a-phone"));

    // Send them the published update: each once, in their language.
    let r = browser
        .post(app.url(&format!("/incidents/{incident}/affected/notify")))
        .form(&[("csrf", csrf.as_str()), ("update", update.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let page = app.page(&browser, &to).await.1;
    assert!(
        page.contains("on its way to 2 affected customers"),
        "{page}"
    );
    assert_eq!(mail.wait_for(2, Duration::from_secs(20)).await, 2);
    let mut to: Vec<String> = mail.messages().iter().map(to_of).collect();
    to.sort();
    assert_eq!(to, ["ali@example.com", "mei@example.com"]);
    let r = browser
        .post(app.url(&format!("/incidents/{incident}/affected/notify")))
        .form(&[("csrf", csrf.as_str()), ("update", update.as_str())])
        .send()
        .await
        .unwrap();
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let page = app.page(&browser, &to).await.1;
    assert!(
        page.contains("on its way to 0 affected customers"),
        "sent once: {page}"
    );

    // A security analyst (no subscribers grant) neither sees the list nor
    // may add to it.
    let (analyst, _) = app
        .browser_session("sam@example.com", crate::helpers::PASSWORD)
        .await;
    let page = app.page(&analyst, &incident_page).await.1;
    assert!(
        !page.contains("id=\"affected-h\"") && !page.contains("id=\"affected\""),
        "no list without subscribers:view"
    );
    let csrf = crate::helpers::hidden_field(&page, "csrf").unwrap();
    let r = analyst
        .post(app.url(&format!("/incidents/{incident}/affected")))
        .form(&[("csrf", csrf.as_str()), ("csv", "email\nx@example.com\n")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    app.stop().await;
}

/// The Subscribers page: the communications team adds, filters, disables
/// and (with the grant) deletes subscribers, with the API's rules.
#[tokio::test]
async fn the_subscribers_page_adds_filters_disables_and_deletes_with_the_apis_rules() {
    let mail = MailCatcher::start("127.0.0.1:0", true).await.unwrap();
    let app = app_with_mail(&mail).await;
    let (hook, _rx) = receiver().await;
    crate::helpers::create_user(
        &app.store,
        "cora@example.com",
        "Cora Comms",
        "communications",
    )
    .await;
    let (comms, s) = app
        .browser_session("cora@example.com", crate::helpers::PASSWORD)
        .await;
    assert_eq!(s, 303);
    let page = app.page(&comms, "/subscribers").await.1;
    assert!(
        page.contains("No subscribers.") && page.contains("aria-current=\"page\">Subscribers</a>"),
        "{page}"
    );
    let csrf = crate::helpers::hidden_field(&page, "csrf").unwrap();
    let post = |b: &reqwest::Client, path: &str, form: Vec<(&str, String)>| {
        let req = b.post(app.url(path)).form(&form);
        async move { req.send().await.unwrap() }
    };
    let form = |channel: &str, address: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("channel", channel.to_owned()),
            ("address", address.to_owned()),
            ("language", "fa".to_owned()),
            ("region", "GB".to_owned()),
        ]
    };

    // A bad address is refused, saying what is wrong, and nothing is added.
    let r = post(&comms, "/subscribers", form("email", "not an address")).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("address"));

    // Email: pending until its owner confirms the link mailed to them.
    let r = post(&comms, "/subscribers", form("email", "parisa@example.com")).await;
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(!to.contains("parisa"), "no address in the URL: {to}");
    let page = app.page(&comms, &to).await.1;
    assert!(page.contains("confirmation link"), "{page}");
    assert!(page.contains("p***@example.com") && !page.contains("parisa@example.com"));
    assert_eq!(mail.wait_for(1, Duration::from_secs(20)).await, 1);
    assert_eq!(to_of(&mail.messages()[0]), "parisa@example.com");

    // A webhook: its signing secret is shown once, on the answer.
    let r = post(&comms, "/subscribers", form("webhook", &hook)).await;
    assert_eq!(r.status(), 200);
    let shown = r.text().await.unwrap();
    assert!(shown.contains("id=\"secret\">whsec_"), "{shown}");
    // An SMS number, with its region.
    let r = post(&comms, "/subscribers", form("sms", "07911 123456")).await;
    assert_eq!(r.status(), 303);

    let (_, list) = json(app.get("/api/v1/subscribers", &app.admin_token).await).await;
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 3);
    let by = |channel: &str| {
        list.iter()
            .find(|s| s["channel"] == channel)
            .unwrap()
            .clone()
    };
    assert_eq!(by("email")["state"], "pending");
    assert_eq!(by("sms")["language"], "fa");
    let page = app.page(&comms, "/subscribers").await.1;
    assert!(!page.contains("whsec_"), "the secret is not shown again");
    // The filter.
    let only = app.page(&comms, "/subscribers?channel=sms").await.1;
    assert!(
        only.contains("+44") && !only.contains("p***@example.com"),
        "{only}"
    );

    // Disable the SMS subscriber; then enable it again.
    let sms = by("sms")["id"].as_str().unwrap().to_owned();
    let path = format!("/subscribers/{sms}/state");
    let r = post(
        &comms,
        &path,
        vec![("csrf", csrf.clone()), ("state", "disabled".into())],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, one) = json(
        app.get(&format!("/api/v1/subscribers/{sms}"), &app.admin_token)
            .await,
    )
    .await;
    assert_eq!(one["state"], "disabled");
    // An unconfirmed email cannot be made active by staff.
    let email = by("email")["id"].as_str().unwrap().to_owned();
    let r = post(
        &comms,
        &format!("/subscribers/{email}/state"),
        vec![("csrf", csrf.clone()), ("state", "active".into())],
    )
    .await;
    assert_eq!(r.status(), 409);

    // Communications may not delete (no subscribers:delete); an admin may.
    let r = post(
        &comms,
        &format!("/subscribers/{sms}/delete"),
        vec![("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(r.status(), 403);
    let (admin, _) = app
        .browser_session(&app.admin_email, crate::helpers::PASSWORD)
        .await;
    let page = app.page(&admin, "/subscribers").await.1;
    let admin_csrf = crate::helpers::hidden_field(&page, "csrf").unwrap();
    let r = post(
        &admin,
        &format!("/subscribers/{sms}/delete"),
        vec![("csrf", admin_csrf)],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (s, _) = json(
        app.get(&format!("/api/v1/subscribers/{sms}"), &app.admin_token)
            .await,
    )
    .await;
    assert_eq!(s, 404);
    app.stop().await;
}
