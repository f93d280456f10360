//! Security alerts: real payloads of each tool at the hooks, signed and
//! not; dedup on resolve; correlation with a customers' signal into a
//! suggestion, and accepting it opens an incident.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};

use crate::helpers::{create_token, json, spawn_app, TestApp};

async fn add_source(app: &TestApp, body: Value) -> (String, String) {
    let (s, v) = json(
        app.post_json("/api/v1/alert-sources", &app.admin_token, &body)
            .await,
    )
    .await;
    assert_eq!(s, 201, "{v}");
    (
        v["source"]["id"].as_str().unwrap().to_owned(),
        v["secret"].as_str().unwrap().to_owned(),
    )
}

async fn post_hook(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, String)],
    body: &[u8],
) -> (reqwest::StatusCode, Value) {
    let mut req = app
        .client
        .post(app.url(path))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    json(req.send().await.unwrap()).await
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

async fn alerts(app: &TestApp) -> Vec<Value> {
    let (s, v) = json(app.get("/api/v1/alerts", &app.admin_token).await).await;
    assert_eq!(s, 200, "{v}");
    v.as_array().unwrap().clone()
}

/// Alertmanager's webhook payload, version 4, as it sends it.
fn alertmanager(status: &str, fingerprint: &str, starts: &str, ends: &str) -> Value {
    json!({
        "version": "4",
        "groupKey": "{}/{severity=\"critical\"}:{alertname=\"LoginFailuresHigh\"}",
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "frontline",
        "groupLabels": {"alertname": "LoginFailuresHigh"},
        "commonLabels": {"alertname": "LoginFailuresHigh", "severity": "critical"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.org:9093",
        "alerts": [{
            "status": status,
            "labels": {"alertname": "LoginFailuresHigh", "service": "auth-eu", "severity": "critical", "instance": "auth-eu-1:9100"},
            "annotations": {
                "summary": "Login failures above 30% on auth-eu",
                "description": "Failed logins spiked; first seen for admin.ops@example.com"
            },
            "startsAt": starts,
            "endsAt": ends,
            "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=x",
            "fingerprint": fingerprint
        }]
    })
}

fn wazuh(level: u64, rule: &str, agent: &str) -> Value {
    json!({
        "timestamp": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string(),
        "rule": {
            "level": level,
            "description": "sshd: brute force trying to get access to the system. Authentication failed.",
            "id": rule,
            "mitre": {"id": ["T1110"], "tactic": ["Credential Access"], "technique": ["Brute Force"]},
            "frequency": 8,
            "firedtimes": 1,
            "mail": false,
            "groups": ["syslog", "sshd", "authentication_failures"],
            "pci_dss": ["10.2.4", "10.2.5", "11.4"]
        },
        "agent": {"id": "003", "name": agent, "ip": "10.0.3.7"},
        "manager": {"name": "wazuh-manager"},
        "id": "1732960000.123456",
        "full_log": "Dec  1 10:00:00 auth-eu-1 sshd[1234]: Failed password for invalid user admin from 203.0.113.9 port 52211 ssh2",
        "predecoder": {"program_name": "sshd", "timestamp": "Dec  1 10:00:00", "hostname": "auth-eu-1"},
        "decoder": {"parent": "sshd", "name": "sshd"},
        "data": {"srcip": "203.0.113.9", "srcport": "52211", "dstuser": "admin"},
        "location": "/var/log/auth.log"
    })
}

#[tokio::test]
async fn alertmanager_alerts_need_their_token_and_a_resolve_updates_the_same_alert() {
    let app = spawn_app().await;
    let (id, secret) = add_source(
        &app,
        json!({"name": "Prometheus EU", "kind": "alertmanager",
               "components": [{"label": "service", "equals": "auth-eu", "component": "login", "region": "eu"}]}),
    )
    .await;
    // The secret is shown once: never in a listing.
    let (_, list) = json(app.get("/api/v1/alert-sources", &app.admin_token).await).await;
    assert!(!list.to_string().contains(&secret));
    assert_eq!(list[0]["hook_path"], "/hooks/alertmanager");

    let now = chrono::Utc::now();
    let starts = (now - chrono::Duration::minutes(3)).to_rfc3339();
    let firing = alertmanager(
        "firing",
        "a1b2c3d4e5f60718",
        &starts,
        "0001-01-01T00:00:00Z",
    );
    let body = serde_json::to_vec(&firing).unwrap();

    // No token, a made-up token, a real token of the wrong shape: 401, nothing stored.
    let (s, v) = post_hook(&app, "/hooks/alertmanager", None, &[], &body).await;
    assert_eq!(s, 401, "{v}");
    assert_eq!(v["code"], "unauthenticated");
    let forged = format!("fla_{id}_{}", "0".repeat(48));
    let (s, _) = post_hook(&app, "/hooks/alertmanager", Some(&forged), &[], &body).await;
    assert_eq!(s, 401);
    let (s, _) = post_hook(
        &app,
        "/hooks/alertmanager",
        Some(&app.admin_token),
        &[],
        &body,
    )
    .await;
    assert_eq!(s, 401);
    assert!(alerts(&app).await.is_empty());

    // The right token: stored, normalised.
    let (s, v) = post_hook(&app, "/hooks/alertmanager", Some(&secret), &[], &body).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["new"], 1);
    let list = alerts(&app).await;
    assert_eq!(list.len(), 1);
    let a = &list[0];
    assert_eq!(a["source_id"], id.as_str());
    assert_eq!(a["severity"], "critical");
    assert_eq!(a["status"], "firing");
    assert_eq!(a["title"], "Login failures above 30% on auth-eu");
    assert_eq!(a["component"], "login");
    assert_eq!(a["region"], "eu");
    assert_eq!(a["labels"]["instance"], "auth-eu-1:9100");
    assert_eq!(a["fingerprint"], "a1b2c3d4e5f60718");
    assert!(a["ended_at"].is_null());
    let desc = a["description"].as_str().unwrap();
    assert!(!desc.contains("admin.ops@example.com"), "redacted: {desc}");

    // A repeat firing does not duplicate; the resolve updates the same alert.
    let (s, v) = post_hook(&app, "/hooks/alertmanager", Some(&secret), &[], &body).await;
    assert_eq!(s, 200);
    assert_eq!(v["new"], 0);
    let ends = now.to_rfc3339();
    let resolved = alertmanager("resolved", "a1b2c3d4e5f60718", &starts, &ends);
    let (s, v) = post_hook(
        &app,
        "/hooks/alertmanager",
        Some(&secret),
        &[],
        &serde_json::to_vec(&resolved).unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["updated"], 1);
    let list = alerts(&app).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["status"], "resolved");
    assert_eq!(list[0]["notifications"], 3);
    let ended =
        chrono::DateTime::parse_from_rfc3339(list[0]["ended_at"].as_str().unwrap()).unwrap();
    assert_eq!(ended.timestamp(), now.timestamp());

    // Firing and resolved for one fingerprint in one payload: still one alert.
    let mut both = alertmanager(
        "firing",
        "0123456789abcdef",
        &starts,
        "0001-01-01T00:00:00Z",
    );
    let mut done = both["alerts"][0].clone();
    done["status"] = json!("resolved");
    done["endsAt"] = json!(ends);
    both["alerts"].as_array_mut().unwrap().push(done);
    let (s, v) = post_hook(
        &app,
        "/hooks/alertmanager",
        Some(&secret),
        &[],
        &serde_json::to_vec(&both).unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["new"].as_u64(), v["updated"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(v["alerts"][0]["id"], v["alerts"][1]["id"]);
    let list = alerts(&app).await;
    assert_eq!(list.len(), 2);
    let one = list
        .iter()
        .find(|a| a["fingerprint"] == "0123456789abcdef")
        .unwrap();
    assert_eq!(
        (one["status"].as_str(), one["notifications"].as_i64()),
        (Some("resolved"), Some(2))
    );
    let before_bad = list.len();

    // A bad payload names the field and stores nothing, not even its good alerts.
    let mut bad = alertmanager(
        "firing",
        "ffff000011112222",
        &starts,
        "0001-01-01T00:00:00Z",
    );
    let mut second = bad["alerts"][0].clone();
    second["startsAt"] = json!("yesterday");
    second["fingerprint"] = json!("ffff000011113333");
    bad["alerts"].as_array_mut().unwrap().push(second);
    let (s, v) = post_hook(
        &app,
        "/hooks/alertmanager",
        Some(&secret),
        &[],
        &serde_json::to_vec(&bad).unwrap(),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["code"], "invalid_field");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .starts_with("alerts[1].startsAt"),
        "{v}"
    );
    let (s, v) = post_hook(
        &app,
        "/hooks/alertmanager",
        Some(&secret),
        &[],
        b"{\"alerts\": [",
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(v["code"], "invalid_body");
    let mut v3 = firing.clone();
    v3["version"] = json!("3");
    let (s, v) = post_hook(
        &app,
        "/hooks/alertmanager",
        Some(&secret),
        &[],
        &serde_json::to_vec(&v3).unwrap(),
    )
    .await;
    assert_eq!(s, 400);
    assert!(v["detail"].as_str().unwrap().starts_with("version"), "{v}");
    assert_eq!(alerts(&app).await.len(), before_bad);

    // The token is for Alertmanager alerts only; a disabled source is refused.
    let (s, v) = post_hook(
        &app,
        "/hooks/wazuh",
        Some(&secret),
        &[],
        &serde_json::to_vec(&wazuh(10, "5763", "x")).unwrap(),
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(v["code"], "wrong_hook");
    let (s, _) = json(
        app.send_json(
            reqwest::Method::PATCH,
            &format!("/api/v1/alert-sources/{id}"),
            &app.admin_token,
            &json!({"enabled": false}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    let (s, v) = post_hook(&app, "/hooks/alertmanager", Some(&secret), &[], &body).await;
    assert_eq!(s, 403);
    assert_eq!(v["code"], "source_disabled");

    // Receipts are audited, by source.
    let audit = app.store.audit_page(None, 100).await.unwrap();
    assert!(audit
        .entries
        .iter()
        .any(|e| e.action == "alert.receive" && e.actor == id));
    app.stop().await;
}

#[tokio::test]
async fn grafana_alerts_signed_with_hmac_are_taken_and_unsigned_ones_refused() {
    let app = spawn_app().await;
    let (id, secret) = add_source(
        &app,
        json!({"name": "Grafana", "kind": "grafana", "auth": "hmac", "signature_header": "X-Grafana-Alerting-Signature"}),
    )
    .await;
    // Grafana's unified alerting webhook payload.
    let payload = json!({
        "receiver": "frontline",
        "status": "firing",
        "orgId": 1,
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": "High 5xx rate", "component": "Checkout", "region": "us", "severity": "warning", "grafana_folder": "SRE"},
            "annotations": {"summary": "5xx above 5% on checkout", "description": "Errors at the payment step"},
            "startsAt": chrono::Utc::now().to_rfc3339(),
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://grafana.example.org/alerting/grafana/abc/view",
            "fingerprint": "57c6d9296de2ad39",
            "silenceURL": "https://grafana.example.org/alerting/silence/new",
            "dashboardURL": "",
            "panelURL": "",
            "values": {"B": 7.2, "C": 1},
            "valueString": "[ var='B' labels={} value=7.2 ]"
        }],
        "groupLabels": {"alertname": "High 5xx rate"},
        "commonLabels": {"alertname": "High 5xx rate"},
        "commonAnnotations": {},
        "externalURL": "https://grafana.example.org/",
        "version": "1",
        "groupKey": "{}:{alertname=\"High 5xx rate\"}",
        "truncatedAlerts": 0,
        "title": "[FIRING:1] High 5xx rate",
        "state": "alerting",
        "message": "**Firing**"
    });
    let body = serde_json::to_vec(&payload).unwrap();
    let header = "X-Grafana-Alerting-Signature";

    let (s, v) = post_hook(&app, "/hooks/grafana", None, &[], &body).await;
    assert_eq!(s, 401, "unsigned: {v}");
    let (s, v) = post_hook(
        &app,
        "/hooks/grafana",
        None,
        &[(header, sign("not the secret", &body))],
        &body,
    )
    .await;
    assert_eq!(s, 401);
    assert!(
        v["detail"].as_str().unwrap().contains("does not match"),
        "{v}"
    );
    // Signed, but the body was changed on the way.
    let mut tampered = payload.clone();
    tampered["alerts"][0]["labels"]["severity"] = json!("info");
    let (s, _) = post_hook(
        &app,
        "/hooks/grafana",
        None,
        &[(header, sign(&secret, &body))],
        &serde_json::to_vec(&tampered).unwrap(),
    )
    .await;
    assert_eq!(s, 401);
    // As a bearer token the HMAC secret is refused: this source signs.
    let (s, _) = post_hook(&app, "/hooks/grafana", Some(&secret), &[], &body).await;
    assert_eq!(s, 401);
    assert!(alerts(&app).await.is_empty());

    let (s, v) = post_hook(
        &app,
        "/hooks/grafana",
        None,
        &[(header, sign(&secret, &body))],
        &body,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    // With the source named, and the GitHub-style sha256= prefix.
    let (s, v) = post_hook(
        &app,
        &format!("/hooks/grafana?source={id}"),
        None,
        &[(header, format!("sha256={}", sign(&secret, &body)))],
        &body,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["new"], 0);
    let list = alerts(&app).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["severity"], "medium");
    assert_eq!(list[0]["component"], "checkout");
    assert_eq!(list[0]["region"], "us");
    assert_eq!(list[0]["title"], "5xx above 5% on checkout");
    app.stop().await;
}

fn sign_at(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}:").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn grafana_signatures_with_a_timestamp_header_are_checked_for_time_and_replay() {
    let app = spawn_app().await;
    // A timestamp header only makes sense for a source that signs, and
    // must not be the signature's own header.
    for (bad, why) in [
        (
            json!({"name": "G0", "kind": "grafana", "timestamp_header": "X-Ts"}),
            "bearer",
        ),
        (
            json!({"name": "G0", "kind": "grafana", "auth": "hmac", "signature_header": "X-Sig", "timestamp_header": "x-sig"}),
            "another header",
        ),
        (
            json!({"name": "G0", "kind": "grafana", "auth": "hmac", "timestamp_header": "bad header"}),
            "header name",
        ),
    ] {
        let (s, v) = json(
            app.post_json("/api/v1/alert-sources", &app.admin_token, &bad)
                .await,
        )
        .await;
        assert_eq!(s, 400, "{v}");
        let detail = v["detail"].as_str().unwrap();
        assert!(
            detail.contains("timestamp_header") && detail.contains(why),
            "{v}"
        );
    }
    let (s, v) = json(app.get("/api/v1/alert-sources", &app.admin_token).await).await;
    assert_eq!(
        (s.as_u16(), v.as_array().unwrap().len()),
        (200, 0),
        "nothing half-written"
    );

    // Grafana's webhook contact point with "HMAC signature" and its
    // "Timestamp header" set: it signs "<unix seconds>:<body>".
    let (id, secret) = add_source(
        &app,
        json!({"name": "Grafana", "kind": "grafana", "auth": "hmac",
               "signature_header": "X-Grafana-Alerting-Signature",
               "timestamp_header": "X-Grafana-Alerting-Timestamp"}),
    )
    .await;
    let (_, v) = json(
        app.get(&format!("/api/v1/alert-sources/{id}"), &app.admin_token)
            .await,
    )
    .await;
    assert_eq!(v["timestamp_header"], "x-grafana-alerting-timestamp");
    let payload = json!({
        "receiver": "frontline", "status": "firing", "orgId": 1,
        "alerts": [{"status": "firing",
            "labels": {"alertname": "Login errors", "component": "Login", "severity": "critical"},
            "annotations": {"summary": "Login 5xx above 10%"},
            "startsAt": chrono::Utc::now().to_rfc3339(), "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": "a1b2c3d4e5f60718"}],
        "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
        "externalURL": "https://grafana.example.org/", "version": "1", "groupKey": "{}",
        "truncatedAlerts": 0, "title": "[FIRING:1] Login errors", "state": "alerting", "message": ""
    });
    let body = serde_json::to_vec(&payload).unwrap();
    let sig = "X-Grafana-Alerting-Signature";
    let ts = "X-Grafana-Alerting-Timestamp";
    let now = chrono::Utc::now().timestamp();

    let old = now - 600;
    for (headers, why, case) in [
        (
            vec![(sig, sign(&secret, &body))],
            "timestamp header",
            "the body alone signed, without the time",
        ),
        (
            vec![(sig, sign(&secret, &body)), (ts, now.to_string())],
            "does not match",
            "the time sent but not signed",
        ),
        (
            vec![(sig, sign_at(&secret, old, &body)), (ts, old.to_string())],
            "five minutes",
            "a signature made ten minutes ago, replayed",
        ),
        (
            vec![(sig, sign_at(&secret, old, &body)), (ts, now.to_string())],
            "does not match",
            "the time changed after signing",
        ),
    ] {
        let (s, v) = post_hook(&app, "/hooks/grafana", None, &headers, &body).await;
        assert_eq!(s, 401, "{case}: {v}");
        assert!(v["detail"].as_str().unwrap().contains(why), "{case}: {v}");
    }
    assert!(alerts(&app).await.is_empty());

    // As Grafana sends it: taken.
    let (s, v) = post_hook(
        &app,
        "/hooks/grafana",
        None,
        &[(sig, sign_at(&secret, now, &body)), (ts, now.to_string())],
        &body,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["new"], 1);

    // Removing the timestamp header: the body alone is signed again.
    let (s, v) = json(
        app.send_json(
            reqwest::Method::PATCH,
            &format!("/api/v1/alert-sources/{id}"),
            &app.admin_token,
            &json!({"timestamp_header": ""}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["timestamp_header"], "");
    let (s, v) = post_hook(
        &app,
        "/hooks/grafana",
        None,
        &[(sig, sign(&secret, &body))],
        &body,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["new"], 0, "the same alert again");
    app.stop().await;
}

#[tokio::test]
async fn wazuh_levels_map_to_severity_and_generic_sources_read_their_field_map() {
    let app = spawn_app().await;
    let (_, secret) = add_source(
        &app,
        json!({"name": "Wazuh", "kind": "wazuh",
               "components": [{"label": "agent_name", "equals": "auth-eu-1", "component": "login", "region": "eu"}]}),
    )
    .await;
    for (level, rule) in [(10, "5763"), (3, "5501"), (13, "100200"), (10, "5763")] {
        let (s, v) = post_hook(
            &app,
            "/hooks/wazuh",
            Some(&secret),
            &[],
            &serde_json::to_vec(&wazuh(level, rule, "auth-eu-1")).unwrap(),
        )
        .await;
        assert_eq!(s, 200, "{v}");
    }
    let list = alerts(&app).await;
    assert_eq!(
        list.len(),
        3,
        "the repeat of rule 5763 on agent 003 is one alert"
    );
    let by_rule = |r: &str| {
        list.iter()
            .find(|a| a["labels"]["rule_id"] == r)
            .unwrap()
            .clone()
    };
    assert_eq!(by_rule("5763")["severity"], "high");
    assert_eq!(by_rule("5763")["notifications"], 2);
    assert_eq!(by_rule("5501")["severity"], "info");
    assert_eq!(by_rule("100200")["severity"], "critical");
    let a = by_rule("5763");
    assert_eq!(a["component"], "login");
    assert_eq!(a["region"], "eu");
    assert_eq!(a["origin"], "auth-eu-1");
    assert_eq!(a["labels"]["srcip"], "203.0.113.9");
    assert_eq!(a["labels"]["mitre"], "T1110");
    let (s, v) = post_hook(
        &app,
        "/hooks/wazuh",
        Some(&secret),
        &[],
        br#"{"rule": {"level": 40, "description": "x", "id": "1"}}"#,
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        v["detail"].as_str().unwrap().starts_with("rule.level"),
        "{v}"
    );

    // A generic source with its own field names.
    let (s, v) = json(
        app.post_json(
            "/api/v1/alert-sources",
            &app.admin_token,
            &json!({"name": "Odd tool", "kind": "generic", "field_map": {"title": "name"}}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 400, "not a JSON pointer: {v}");
    assert!(v["detail"].as_str().unwrap().contains("field_map.title"));
    let (_, generic) = add_source(
        &app,
        json!({"name": "Odd tool", "kind": "generic",
               "field_map": {"alerts": "/events", "title": "/name", "severity": "/prio", "status": "/state",
                             "fingerprint": "/key", "started_at": "/at", "labels": "/tags",
                             "severity_values": {"1": "critical", "2": "high"}}}),
    )
    .await;
    let at = chrono::Utc::now().timestamp();
    let body = json!({"events": [
        {"name": "WAF: credential stuffing", "prio": 1, "state": "open", "key": "waf-17", "at": at, "tags": {"component": "login"}},
        {"name": "Disk almost full", "prio": 2, "state": "OK", "key": "disk-3", "at": at}
    ]});
    let (s, v) = post_hook(
        &app,
        "/hooks/generic",
        Some(&generic),
        &[],
        &serde_json::to_vec(&body).unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["new"], 2);
    let (_, list) = json(
        app.get(
            "/api/v1/alerts?component=login&status=firing",
            &app.admin_token,
        )
        .await,
    )
    .await;
    let waf = list
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["fingerprint"] == "waf-17")
        .unwrap();
    assert_eq!(waf["severity"], "critical");
    let (_, list) = json(
        app.get("/api/v1/alerts?status=resolved", &app.admin_token)
            .await,
    )
    .await;
    assert_eq!(list[0]["fingerprint"], "disk-3");
    // A missing title and an unknown severity are named; nothing is stored.
    let before = alerts(&app).await.len();
    for (body, field) in [
        (
            json!({"events": [{"name": "ok", "prio": 1}, {"prio": 1}]}),
            "/events/1/name",
        ),
        (
            json!({"events": [{"name": "ok", "prio": 9}]}),
            "/events/0/prio",
        ),
        (json!({"nothing": []}), "/events"),
    ] {
        let (s, v) = post_hook(
            &app,
            "/hooks/generic",
            Some(&generic),
            &[],
            &serde_json::to_vec(&body).unwrap(),
        )
        .await;
        assert_eq!(s, 400, "{v}");
        assert!(
            v["detail"].as_str().unwrap().starts_with(field),
            "{field}: {v}"
        );
    }
    assert_eq!(alerts(&app).await.len(), before);
    app.stop().await;
}

#[tokio::test]
async fn rotating_a_secret_retires_the_old_one_and_sources_need_their_grants() {
    let app = spawn_app().await;
    let (id, old) = add_source(&app, json!({"name": "Wazuh", "kind": "wazuh"})).await;
    let body = serde_json::to_vec(&wazuh(7, "5710", "web-1")).unwrap();
    assert_eq!(
        post_hook(&app, "/hooks/wazuh", Some(&old), &[], &body)
            .await
            .0,
        200
    );
    let cx = create_token(&app.store, "cx_agent").await;
    let resp = app
        .client
        .post(app.url(&format!("/api/v1/alert-sources/{id}/rotate")))
        .bearer_auth(&cx)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let analyst = create_token(&app.store, "security_analyst").await;
    let (s, v) = json(
        app.client
            .post(app.url(&format!("/api/v1/alert-sources/{id}/rotate")))
            .bearer_auth(&analyst)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let new = v["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(
        post_hook(&app, "/hooks/wazuh", Some(&old), &[], &body)
            .await
            .0,
        401
    );
    assert_eq!(
        post_hook(&app, "/hooks/wazuh", Some(&new), &[], &body)
            .await
            .0,
        200
    );
    // Names are unique; bad kinds and rules are named.
    let (s, _) = json(
        app.post_json(
            "/api/v1/alert-sources",
            &app.admin_token,
            &json!({"name": "Wazuh", "kind": "wazuh"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 409);
    let (s, v) = json(
        app.post_json(
            "/api/v1/alert-sources",
            &app.admin_token,
            &json!({"name": "X", "kind": "splunk"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 400);
    assert!(v["detail"].as_str().unwrap().starts_with("kind"));
    let (s, v) = json(
        app.post_json("/api/v1/alert-sources", &app.admin_token, &json!({"name": "Y", "kind": "wazuh", "components": [{"label": "a", "equals": "b", "component": "no<html>"}]}))
            .await,
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .starts_with("components[0].component"),
        "{v}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_burst_of_alerts_is_stored_without_loss() {
    let app = spawn_app().await;
    let (_, secret) = add_source(&app, json!({"name": "Prometheus", "kind": "alertmanager"})).await;
    let starts = chrono::Utc::now().to_rfc3339();
    let calls = 400;
    let per_call = 5;
    let mut tasks = Vec::new();
    for c in 0..calls {
        let client = app.client.clone();
        let url = app.url("/hooks/alertmanager");
        let secret = secret.clone();
        let starts = starts.clone();
        tasks.push(tokio::spawn(async move {
            let alerts: Vec<Value> = (0..per_call)
                .map(|i| json!({"status": "firing", "labels": {"alertname": format!("Burst{c}-{i}"), "severity": "low"},
                                "annotations": {}, "startsAt": starts, "endsAt": "0001-01-01T00:00:00Z"}))
                .collect();
            let resp = client
                .post(url)
                .bearer_auth(secret)
                .json(&json!({"version": "4", "status": "firing", "alerts": alerts}))
                .send()
                .await
                .unwrap();
            let status = resp.status();
            let v: Value = resp.json().await.unwrap();
            (status, v["new"].as_u64().unwrap_or(0))
        }));
    }
    let mut acknowledged = 0;
    for t in tasks {
        let (s, new) = t.await.unwrap();
        assert_eq!(s, 200);
        acknowledged += new;
    }
    assert_eq!(acknowledged, (calls * per_call) as u64);
    assert_eq!(
        app.store.count_security_alerts().await.unwrap(),
        (calls * per_call) as i64
    );
    app.stop().await;
}

fn login_complaints(n: usize, offset: usize) -> Value {
    let texts = [
        "I can't log in to my account, it keeps saying my password is wrong",
        "Cannot login since this morning, password reset I did not ask for arrived",
        "我无法登录我的账户,一直提示密码错误",
        "نمی‌توانم وارد حساب کاربری‌ام شوم، رمز عبور را قبول نمی‌کند",
    ];
    json!((0..n)
        .map(|i| json!({"kind": "complaint", "text": texts[(i + offset) % texts.len()], "component": "login", "region": "eu", "channel": "app"}))
        .collect::<Vec<_>>())
}

async fn wait_for<F: Fn(&Value) -> bool>(
    app: &TestApp,
    path: &str,
    token: &str,
    ok: F,
    within: Duration,
) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        let (_, v) = json(app.get(path, token).await).await;
        if let Some(found) = v.as_array().and_then(|l| l.iter().find(|x| ok(x))) {
            return Some(found.clone());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    None
}

#[tokio::test]
async fn a_signal_and_alerts_on_one_component_become_a_suggestion_that_opens_an_incident() {
    let app = spawn_app().await;
    let analyst = create_token(&app.store, "security_analyst").await;
    let (_, wazuh_secret) = add_source(
        &app,
        json!({"name": "Wazuh", "kind": "wazuh",
               "components": [{"label": "agent_name", "equals": "auth-eu", "component": "login", "region": "eu"}]}),
    )
    .await;
    let (_, am_secret) = add_source(
        &app,
        json!({"name": "Prometheus", "kind": "alertmanager",
               "components": [{"label": "service", "equals": "auth-eu", "component": "login", "region": "eu"},
                              {"label": "service", "equals": "auth-us", "component": "login", "region": "us"}]}),
    )
    .await;
    // The security side first: Wazuh sees brute force on auth-eu.
    let (s, v) = post_hook(
        &app,
        "/hooks/wazuh",
        Some(&wazuh_secret),
        &[],
        &serde_json::to_vec(&wazuh(10, "5763", "auth-eu")).unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let wazuh_alert = v["alerts"][0]["id"].as_str().unwrap().to_owned();
    // The same component in another region does not belong with it.
    let now = chrono::Utc::now().to_rfc3339();
    let mut us = alertmanager("firing", "us000000000001", &now, "0001-01-01T00:00:00Z");
    us["alerts"][0]["labels"]["service"] = json!("auth-us");
    let (s, v) = post_hook(
        &app,
        "/hooks/alertmanager",
        Some(&am_secret),
        &[],
        &serde_json::to_vec(&us).unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    let us_alert = v["alerts"][0]["id"].as_str().unwrap().to_owned();

    // Then customers: a wave of login complaints in the EU, over two minutes.
    let (s, _) = json(
        app.post_json(
            "/api/v1/feedback/batch",
            &app.admin_token,
            &login_complaints(15, 0),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    let into_next_minute = 61 - chrono::Timelike::second(&chrono::Utc::now()) as u64;
    tokio::time::sleep(Duration::from_secs(into_next_minute)).await;
    let (s, _) = json(
        app.post_json(
            "/api/v1/feedback/batch",
            &app.admin_token,
            &login_complaints(20, 1),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);

    // The signal looks back, finds the Wazuh alert: a suggestion opens.
    let Some(suggestion) = wait_for(
        &app,
        "/api/v1/suggestions?status=open",
        &analyst,
        |_| true,
        Duration::from_secs(15),
    )
    .await
    else {
        let (_, signals) = json(app.get("/api/v1/signals", &app.admin_token).await).await;
        panic!("no suggestion opened; signals: {signals}");
    };
    let title = suggestion["title"].as_str().unwrap();
    assert!(
        title.starts_with("Customers report account access trouble in login (EU) while Wazuh reports \"sshd: brute force"),
        "{title}"
    );
    assert!(title.ends_with("on auth-eu"), "{title}");
    assert_eq!(suggestion["component"], "login");
    assert_eq!(suggestion["region"], "eu");
    assert_eq!(suggestion["alerts"], json!([wazuh_alert]));
    assert!(!suggestion["signals"].as_array().unwrap().is_empty());
    // High alert and a strong signal (35 reports against nearly none): SEV1.
    assert_eq!(suggestion["severity"], "SEV1", "{}", suggestion["reason"]);
    let sid = suggestion["id"].as_str().unwrap().to_owned();

    // An alert arriving later looks back for the signal and joins the same suggestion.
    let later = alertmanager(
        "firing",
        "eu000000000001",
        &chrono::Utc::now().to_rfc3339(),
        "0001-01-01T00:00:00Z",
    );
    let (s, v) = post_hook(
        &app,
        "/hooks/alertmanager",
        Some(&am_secret),
        &[],
        &serde_json::to_vec(&later).unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    let am_alert = v["alerts"][0]["id"].as_str().unwrap().to_owned();
    let joined = wait_for(
        &app,
        "/api/v1/suggestions?status=open",
        &analyst,
        |x| x["alerts"].as_array().is_some_and(|a| a.len() == 2),
        Duration::from_secs(10),
    )
    .await
    .expect("the later alert joins");
    assert_eq!(joined["id"], sid.as_str());
    assert!(!joined["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == us_alert.as_str()));
    let (_, all) = json(app.get("/api/v1/suggestions", &analyst).await).await;
    assert_eq!(
        all.as_array().unwrap().len(),
        1,
        "one suggestion, not one per pair: {all}"
    );

    // The Security view: both sides on one timeline, the pair highlighted,
    // the suggestion with its button; the US alert is there, not highlighted.
    let (browser, _) = app
        .browser_session(&app.admin_email, crate::helpers::PASSWORD)
        .await;
    let html = browser
        .get(app.url("/security"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("action=\"/security/suggestions/{sid}/accept\""))
            && html.contains("Open incident"),
        "{html}"
    );
    assert!(
        html.contains("entry alert correlated") && html.contains("entry signal correlated"),
        "{html}"
    );
    let us_href = format!("/security/alerts/{us_alert}");
    let at = html
        .find(&us_href)
        .expect("the US alert is on the timeline");
    let line_start = html[..at].rfind("<li").unwrap();
    assert!(
        !html[line_start..at].contains("correlated"),
        "{}",
        &html[line_start..at]
    );
    let alert_page = browser
        .get(app.url(&format!("/security/alerts/{wazuh_alert}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        alert_page.contains("T1110") && alert_page.contains("Correlated"),
        "{alert_page}"
    );

    // Someone without incidents:store cannot accept; the analyst can.
    let cx = create_token(&app.store, "cx_agent").await;
    let (s, _) = json(
        app.post_json(
            &format!("/api/v1/suggestions/{sid}/accept"),
            &cx,
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 403);
    // A playbook that does not exist is refused, and nothing is decided.
    let (s, err) = json(
        app.post_json(
            &format!("/api/v1/suggestions/{sid}/accept"),
            &analyst,
            &json!({"playbook": "no-such-playbook"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 422, "{err}");
    assert_eq!(err["code"], "unknown_reference");
    let (s, accepted) = json(
        app.post_json(
            &format!("/api/v1/suggestions/{sid}/accept"),
            &analyst,
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{accepted}");
    assert_eq!(accepted["suggestion"]["status"], "accepted");
    let incident = accepted["incident_id"].as_str().unwrap().to_owned();
    let (s, inc) = json(
        app.get(&format!("/api/v1/incidents/{incident}"), &analyst)
            .await,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(inc["severity"], "SEV1");
    assert_eq!(inc["impact"], "critical");
    // Customers report account trouble, not an outage: the breach playbook.
    let (_, checklist) = json(
        app.get(&format!("/api/v1/incidents/{incident}/checklist"), &analyst)
            .await,
    )
    .await;
    let steps = checklist.as_array().unwrap();
    assert_eq!(steps.len(), 9, "{checklist}");
    assert!(steps[0]["title"]
        .as_str()
        .unwrap()
        .starts_with("Assemble the response team"));
    assert_eq!(
        inc["title"].as_str().unwrap(),
        &title.chars().take(200).collect::<String>()
    );
    let (_, timeline) = json(
        app.get(&format!("/api/v1/incidents/{incident}/timeline"), &analyst)
            .await,
    )
    .await;
    let kinds: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"declared") && kinds.contains(&"suggestion"),
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "alert").count(),
        2,
        "{kinds:?}"
    );
    assert!(kinds.contains(&"signal"));
    for sig in accepted["suggestion"]["signals"].as_array().unwrap() {
        let (_, s) = json(
            app.get(
                &format!("/api/v1/signals/{}", sig.as_str().unwrap()),
                &app.admin_token,
            )
            .await,
        )
        .await;
        assert_eq!(s["status"], "promoted");
        assert_eq!(s["incident_id"], incident.as_str());
    }
    for a in [&wazuh_alert, &am_alert] {
        let (_, alert) = json(app.get(&format!("/api/v1/alerts/{a}"), &analyst).await).await;
        assert_eq!(alert["incident_id"], incident.as_str());
    }
    let (_, us) = json(
        app.get(&format!("/api/v1/alerts/{us_alert}"), &analyst)
            .await,
    )
    .await;
    assert!(us["incident_id"].is_null());
    // Decided once: a second accept or a dismissal is a conflict.
    let (s, _) = json(
        app.post_json(
            &format!("/api/v1/suggestions/{sid}/accept"),
            &analyst,
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 409);
    let (s, _) = json(
        app.post_json(
            &format!("/api/v1/suggestions/{sid}/dismiss"),
            &analyst,
            &json!({"reason": "x"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 409);
    let audit = app.store.audit_page(None, 200).await.unwrap();
    let actions: Vec<&str> = audit.entries.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"suggestion.open")
            && actions.contains(&"suggestion.accept")
            && actions.contains(&"incident.create")
    );
    app.stop().await;
}

#[tokio::test]
async fn the_sources_page_adds_a_source_shows_its_secret_once_and_rotates_it() {
    let app = spawn_app().await;
    let (browser, _) = app
        .browser_session(&app.admin_email, crate::helpers::PASSWORD)
        .await;
    let page = browser
        .get(app.url("/security/sources"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::helpers::hidden_field(&page, "csrf").unwrap();
    let resp = browser
        .post(app.url("/security/sources"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Wazuh EU"),
            ("kind", "wazuh"),
            ("auth", "bearer"),
            ("signature_header", ""),
            ("label", "agent_name"),
            ("equals", "auth-eu"),
            ("component", "login"),
            ("region", "eu"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let shown = resp.text().await.unwrap();
    let secret_of = |html: &str| {
        let marker = "<code class=\"secret\" id=\"secret\">";
        let start = html.find(marker).unwrap() + marker.len();
        html[start..start + html[start..].find('<').unwrap()].to_owned()
    };
    let secret = secret_of(&shown);
    assert!(secret.starts_with("fla_asrc_"), "{secret}");
    let body = serde_json::to_vec(&wazuh(12, "5712", "auth-eu")).unwrap();
    let (s, v) = post_hook(&app, "/hooks/wazuh", Some(&secret), &[], &body).await;
    assert_eq!(s, 200, "{v}");
    let list = alerts(&app).await;
    assert_eq!(list[0]["component"], "login");
    let page = browser
        .get(app.url("/security/sources"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Wazuh EU") && !page.contains(&secret));
    let id = list[0]["source_id"].as_str().unwrap();
    let resp = browser
        .post(app.url(&format!("/security/sources/{id}/rotate")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let rotated = secret_of(&resp.text().await.unwrap());
    assert_ne!(rotated, secret);
    assert_eq!(
        post_hook(&app, "/hooks/wazuh", Some(&secret), &[], &body)
            .await
            .0,
        401
    );
    assert_eq!(
        post_hook(&app, "/hooks/wazuh", Some(&rotated), &[], &body)
            .await
            .0,
        200
    );
    // A Grafana source signing with a timestamp, from the same form: the
    // secret page says how it is signed, the list shows both headers.
    let resp = browser
        .post(app.url("/security/sources"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Grafana"),
            ("kind", "grafana"),
            ("auth", "hmac"),
            ("signature_header", "X-Grafana-Alert-Signature"),
            ("timestamp_header", "X-Grafana-Alert-Timestamp"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let shown = resp.text().await.unwrap();
    assert!(
        shown.contains("x-grafana-alert-timestamp") && shown.contains("Unix seconds"),
        "{shown}"
    );
    let grafana_secret = secret_of(&shown);
    let now = chrono::Utc::now().timestamp();
    let body = serde_json::to_vec(&json!({"status": "firing", "alerts": [{
        "status": "firing", "labels": {"alertname": "Disk full", "component": "Storage"},
        "annotations": {}, "startsAt": chrono::Utc::now().to_rfc3339(),
        "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "0f0e0d0c0b0a0908"}]}))
    .unwrap();
    let (s, v) = post_hook(
        &app,
        "/hooks/grafana",
        None,
        &[
            (
                "X-Grafana-Alert-Signature",
                sign_at(&grafana_secret, now, &body),
            ),
            ("X-Grafana-Alert-Timestamp", now.to_string()),
        ],
        &body,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let page = browser
        .get(app.url("/security/sources"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<code>x-grafana-alert-timestamp</code>"),
        "{page}"
    );
    let timeline = browser
        .get(app.url("/security"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        timeline.contains("sshd: brute force") && timeline.contains("entry alert"),
        "{timeline}"
    );

    // Without security_alerts:view: no Security in the menu, and 403.
    crate::helpers::create_user(&app.store, "cx@example.com", "Casey", "cx_agent").await;
    let (cx, _) = app
        .browser_session("cx@example.com", crate::helpers::PASSWORD)
        .await;
    let home = cx
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!home.contains("href=\"/security\""));
    assert_eq!(
        cx.get(app.url("/security")).send().await.unwrap().status(),
        403
    );
    app.stop().await;
}

#[tokio::test]
async fn a_dismissed_suggestion_keeps_its_reason_and_is_not_raised_again() {
    use frontline::domain::incident::Severity;
    use frontline::storage::alerts::Pairing;
    let app = spawn_app().await;
    let (_, secret) = add_source(&app, json!({"name": "Wazuh", "kind": "wazuh",
        "components": [{"label": "agent_name", "equals": "auth-eu", "component": "login", "region": "eu"},
                       {"label": "agent_name", "equals": "pay-eu", "component": "payments", "region": "eu"}]})).await;
    let mut ids = Vec::new();
    for (rule, agent) in [("5763", "auth-eu"), ("5764", "pay-eu")] {
        let (s, v) = post_hook(
            &app,
            "/hooks/wazuh",
            Some(&secret),
            &[],
            &serde_json::to_vec(&wazuh(10, rule, agent)).unwrap(),
        )
        .await;
        assert_eq!(s, 200);
        ids.push(v["alerts"][0]["id"].as_str().unwrap().to_owned());
    }
    // Setup without a two-minute complaint wave: the pairs the correlator
    // would make (the signal ids stand for signals).
    let pairing = |alert: &str, component: &str, signal: &str| Pairing {
        signal_id: signal.into(),
        alert_id: alert.into(),
        component: component.into(),
        region: "eu".into(),
        title: format!("Customers report trouble in {component} while Wazuh reports brute force"),
        severity: Severity::Sev2,
        reason: "high alert gives SEV2".into(),
    };
    let (login, new, _) = app
        .store
        .link_pair(&pairing(&ids[0], "login", "sig_01J00000000000000000000001"))
        .await
        .unwrap()
        .unwrap();
    assert!(new);
    let (payments, _, _) = app
        .store
        .link_pair(&pairing(
            &ids[1],
            "payments",
            "sig_01J00000000000000000000002",
        ))
        .await
        .unwrap()
        .unwrap();

    let (browser, _) = app
        .browser_session(&app.admin_email, crate::helpers::PASSWORD)
        .await;
    let page = browser
        .get(app.url("/security"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::helpers::hidden_field(&page, "csrf").unwrap();
    // Dismiss needs a reason.
    let resp = browser
        .post(app.url(&format!("/security/suggestions/{login}/dismiss")))
        .form(&[("csrf", csrf.as_str()), ("reason", " ")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = browser
        .post(app.url(&format!("/security/suggestions/{login}/dismiss")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("reason", "the red team's scheduled exercise"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let (_, s) = json(
        app.get(&format!("/api/v1/suggestions/{login}"), &app.admin_token)
            .await,
    )
    .await;
    assert_eq!(s["status"], "dismissed");
    assert_eq!(s["status_note"], "the red team's scheduled exercise");
    assert!(s["decided_by"].as_str().unwrap().starts_with("usr_"));
    // The same alert is not suggested again; a second decision is a conflict.
    assert!(app
        .store
        .link_pair(&pairing(&ids[0], "login", "sig_01J00000000000000000000003"))
        .await
        .unwrap()
        .is_none());
    let (s, _) = json(
        app.post_json(
            &format!("/api/v1/suggestions/{login}/dismiss"),
            &app.admin_token,
            &json!({"reason": "again"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 409);

    // "Open incident" on the page lands on the new incident.
    let resp = browser
        .post(app.url(&format!("/security/suggestions/{payments}/accept")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let to = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.starts_with("/incidents/inc_"), "{to}");
    let (s, inc) = json(app.get(&format!("/api/v1{to}"), &app.admin_token).await).await;
    assert_eq!(s, 200);
    assert_eq!(inc["severity"], "SEV2");
    let (_, alert) = json(
        app.get(&format!("/api/v1/alerts/{}", ids[1]), &app.admin_token)
            .await,
    )
    .await;
    assert_eq!(alert["incident_id"], to.trim_start_matches("/incidents/"));
    app.stop().await;
}
