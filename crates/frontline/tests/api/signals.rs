//! Early warning: a wave of complaints becomes a signal, with evidence.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{create_token, json, spawn_app};

fn phishing(n: usize, lang: usize) -> Value {
    let texts = [
        "Strange SMS pretending to be from you, asking me to confirm my card at http://secure-login.example.net/verify, is this a scam?",
        "我收到一条冒充你们的诈骗短信,让我点击 http://secure-login.example.net/verify 验证账户",
        "پیامک مشکوکی به اسم شما آمد که لینک http://secure-login.example.net/verify داشت، کلاهبرداری است؟",
    ];
    json!((0..n).map(|i| json!({"kind": "complaint", "text": texts[(i + lang) % texts.len()], "component": "sms", "channel": "app"})).collect::<Vec<_>>())
}

async fn wait_for_open_signal(
    app: &crate::helpers::TestApp,
    token: &str,
    within: Duration,
) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        let (_, list) = json(app.get("/api/v1/signals?status=open", token).await).await;
        if let Some(first) = list
            .as_array()
            .and_then(|l| l.iter().find(|s| s["topic"] == "phishing_scam"))
        {
            return Some(first.clone());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    None
}

#[tokio::test]
async fn a_phishing_wave_becomes_a_signal_within_seconds_with_its_evidence() {
    let app = spawn_app().await;
    let analyst = create_token(&app.store, "security_analyst").await;
    // The wave begins: a burst now...
    let (s, _) = json(
        app.post_json("/api/v1/feedback/batch", &app.admin_token, &phishing(15, 0))
            .await,
    )
    .await;
    assert_eq!(s, 200);
    // ...and goes on into the next minute (the detector wants more than one
    // minute of evidence, so one burst of noise does not page anyone).
    let now = chrono::Utc::now();
    let into_next_minute = 61 - chrono::Timelike::second(&now) as u64;
    tokio::time::sleep(Duration::from_secs(into_next_minute)).await;
    assert!(
        wait_for_open_signal(&app, &analyst, Duration::from_secs(1))
            .await
            .is_none(),
        "not from one minute alone"
    );
    let tipped = tokio::time::Instant::now();
    let (s, _) = json(
        app.post_json("/api/v1/feedback/batch", &app.admin_token, &phishing(15, 1))
            .await,
    )
    .await;
    assert_eq!(s, 200);
    let signal = wait_for_open_signal(&app, &analyst, Duration::from_secs(10))
        .await
        .expect("a signal opens");
    let delay = tipped.elapsed();
    assert!(
        delay < Duration::from_secs(10),
        "opened {delay:?} after the tipping item"
    );
    assert!(
        signal["title"]
            .as_str()
            .unwrap()
            .starts_with("Phishing scam"),
        "{signal}"
    );
    assert!(
        signal["observed_total"].as_f64().unwrap()
            > signal["expected_total"].as_f64().unwrap() * 10.0
    );

    // More of the same updates the open signal instead of opening another.
    let (s, _) = json(
        app.post_json("/api/v1/feedback/batch", &app.admin_token, &phishing(10, 2))
            .await,
    )
    .await;
    assert_eq!(s, 200);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, all) = json(app.get("/api/v1/signals", &analyst).await).await;
    let phishing_series: Vec<&Value> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["series"] == signal["series"])
        .collect();
    assert_eq!(phishing_series.len(), 1, "{all}");

    // The evidence: redacted quotes in several languages and the scam link, defanged.
    let id = signal["id"].as_str().unwrap();
    let (s, view) = json(app.get(&format!("/api/v1/signals/{id}"), &analyst).await).await;
    assert_eq!(s, 200);
    assert!(view["evidence"]["items"].as_i64().unwrap() >= 30);
    let langs: Vec<&str> = view["evidence"]["quotes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|q| q["language"].as_str())
        .collect();
    assert!(langs.len() >= 3);
    let top = &view["evidence"]["indicators"][0];
    assert!(
        top[0]
            .as_str()
            .unwrap()
            .contains("secure-login[.]example[.]net"),
        "{view}"
    );

    // The dashboard shows it: the list, then the signal with its chart,
    // quotes, indicators and actions.
    let (browser, _) = app
        .browser_session(&app.admin_email, crate::helpers::PASSWORD)
        .await;
    let list = browser
        .get(app.url("/signals?status=open"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains(&format!("/signals/{id}")), "{list}");
    let page = browser
        .get(app.url(&format!("/signals/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<svg") && page.contains("class=\"bar\"") && page.contains("class=\"fired\"")
    );
    assert!(page.contains("secure-login[.]example[.]net"));
    assert!(page.contains("冒充") && page.contains("Acknowledge"));

    // Acknowledge, then dismiss with a reason; a viewer may do neither.
    let viewer = create_token(&app.store, "analyst").await;
    let resp = app
        .client
        .post(app.url(&format!("/api/v1/signals/{id}/acknowledge")))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = app
        .client
        .post(app.url(&format!("/api/v1/signals/{id}/acknowledge")))
        .bearer_auth(&analyst)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (s, _) = json(
        app.post_json(
            &format!("/api/v1/signals/{id}/dismiss"),
            &analyst,
            &json!({"reason": ""}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 400);
    let (s, dismissed) = json(
        app.post_json(
            &format!("/api/v1/signals/{id}/dismiss"),
            &analyst,
            &json!({"reason": "known test campaign by our own red team"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(dismissed["status"], "dismissed");
    assert_eq!(
        dismissed["status_note"],
        "known test campaign by our own red team"
    );
    app.stop().await;
}
