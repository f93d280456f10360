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
        if let Some(first) = list.as_array().and_then(|l| {
            l.iter().find(|s| {
                s["topic"] == "phishing_scam"
                    && s["series"].as_str().unwrap_or("").starts_with("topic=")
            })
        }) {
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
    // The usual range over time, as the detector saw it minute by minute.
    assert!(
        page.contains("<polygon points=") && page.contains("class=\"band\""),
        "a band over time"
    );
    assert!(
        page.contains("<polyline points="),
        "the expected level over time"
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

#[tokio::test]
async fn quoted_indicators_are_counted_and_exported_as_csv_and_stix() {
    let app = spawn_app().await;
    let analyst = create_token(&app.store, "security_analyst").await;
    let mut items = phishing(6, 0).as_array().unwrap().clone();
    items.push(json!({"kind": "complaint", "text": "I got a text from +44 7700 900123 saying my account is locked, and to pay 0.1 BTC to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"}));
    // The customer's own number is personal data, not an indicator.
    items.push(json!({"kind": "complaint", "text": "Please call me back, my number is +44 7700 900456, I cannot log in"}));
    let (s, _) = json(
        app.post_json("/api/v1/feedback/batch", &app.admin_token, &json!(items))
            .await,
    )
    .await;
    assert_eq!(s, 200);

    let (s, list) = json(app.get("/api/v1/indicators", &analyst).await).await;
    assert_eq!(s, 200, "{list}");
    let list = list.as_array().unwrap();
    let link = list
        .iter()
        .find(|i| i["kind"] == "url")
        .expect("the scam link is an indicator");
    assert_eq!(link["reports"], 6);
    assert_eq!(link["topic"], "phishing_scam");
    assert!(
        link["defanged"].as_str().unwrap().starts_with("hxxp://"),
        "{link}"
    );
    assert!(list
        .iter()
        .any(|i| i["kind"] == "phone" && i["key"].as_str().unwrap().ends_with("7700900123")));
    assert!(
        !list
            .iter()
            .any(|i| i["key"].as_str().unwrap().ends_with("7700900456")),
        "the customer's own number is not an indicator: {list:?}"
    );
    let (s, only) = json(
        app.get("/api/v1/indicators?kind=url&min_reports=2", &analyst)
            .await,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(only.as_array().unwrap().len(), 1, "{only}");
    let (s, bad) = json(app.get("/api/v1/indicators?kind=pigeon", &analyst).await).await;
    assert_eq!(s, 400);
    assert_eq!(bad["code"], "invalid_query");

    let csv = app.get("/api/v1/indicators/export.csv", &analyst).await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let body = csv.text().await.unwrap();
    let mut lines = body.lines();
    assert_eq!(
        lines.next(),
        Some("kind,value,defanged,reports,first_seen,last_seen,topic")
    );
    assert!(
        body.lines().any(
            |l| l.starts_with("url,http://secure-login.example.net/verify,hxxp://")
                && l.contains(",6,")
        ),
        "{body}"
    );

    let stix = app.get("/api/v1/indicators/export.stix", &analyst).await;
    assert_eq!(stix.status(), 200);
    assert!(stix.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/stix+json"));
    let bundle: Value = stix.json().await.unwrap();
    assert_eq!(bundle["type"], "bundle");
    let objects = bundle["objects"].as_array().unwrap();
    let indicator = objects
        .iter()
        .find(|o| {
            o["type"] == "indicator"
                && o["pattern"] == "[url:value = 'http://secure-login.example.net/verify']"
        })
        .expect("the link as a STIX indicator");
    assert_eq!(indicator["spec_version"], "2.1");
    assert_eq!(indicator["pattern_type"], "stix");
    assert!(indicator["id"].as_str().unwrap().starts_with("indicator--"));
    let sighting = objects
        .iter()
        .find(|o| o["type"] == "sighting" && o["sighting_of_ref"] == indicator["id"])
        .expect("its sighting");
    assert_eq!(sighting["count"], 6);
    assert!(objects.iter().any(|o| o["type"] == "indicator"
        && o["pattern"]
            .as_str()
            .unwrap()
            .starts_with("[x-cryptocurrency-wallet:value")));

    // The analyst role (aggregates only) may not export.
    let analyst_only = create_token(&app.store, "analyst").await;
    assert_eq!(
        app.get("/api/v1/indicators/export.stix", &analyst_only)
            .await
            .status(),
        403
    );
    app.stop().await;
}

async fn wait_for_signal(
    app: &crate::helpers::TestApp,
    token: &str,
    series_prefix: &str,
    within: Duration,
) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let (_, list) = json(app.get("/api/v1/signals?status=open", token).await).await;
        if let Some(s) = list.as_array().and_then(|l| {
            l.iter().find(|s| {
                s["series"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with(series_prefix)
            })
        }) {
            return Some(s.clone());
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn parcel_scam(n: usize, person: Option<&str>) -> Value {
    let texts = [
        "Strange SMS pretending to be from you says my parcel 4411 is held at customs, with a link hxxp://parcel-fee[.]example/pay - is this a scam?",
        "strange sms pretending to be from you says my parcel 9031 is held at customs with a link hxxp://parcel-fee[.]example/pay, is this a scam??",
        "Strange SMS pretending to be from you says my parcel 7720 is held at customs, with a link hxxp://parcel-fee[.]example/pay. Is this a scam?",
    ];
    json!((0..n)
        .map(|i| {
            let mut item =
                json!({"kind": "complaint", "text": texts[i % texts.len()], "channel": "email"});
            if let Some(p) = person {
                item["contact"] = json!({"email": p});
                item["consent"] = json!({"given": true, "text": "You may contact me about this"});
            }
            item
        })
        .collect::<Vec<_>>())
}

#[tokio::test]
async fn a_scam_link_many_customers_quote_raises_a_signal_of_its_own() {
    let app = spawn_app().await;
    let analyst = create_token(&app.store, "security_analyst").await;
    // Four reports: not yet a wave.
    let (s, _) = json(
        app.post_json(
            "/api/v1/feedback/batch",
            &app.admin_token,
            &parcel_scam(4, None),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        wait_for_signal(&app, &analyst, "indicator=", Duration::from_secs(3))
            .await
            .is_none(),
        "four reports are not a wave"
    );
    let (s, _) = json(
        app.post_json(
            "/api/v1/feedback/batch",
            &app.admin_token,
            &parcel_scam(2, None),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    let signal = wait_for_signal(&app, &analyst, "indicator=url:", Duration::from_secs(10))
        .await
        .expect("the link's own signal");
    let title = signal["title"].as_str().unwrap();
    assert!(
        title.contains("parcel-fee[.]example") && !title.contains("http://"),
        "defanged in the title: {title}"
    );
    assert_eq!(signal["topic"], "phishing_scam");
    // The same message, forwarded by many: a cluster signal with its members.
    let cluster = wait_for_signal(&app, &analyst, "cluster=", Duration::from_secs(10))
        .await
        .expect("the message's own signal");
    assert!(cluster["title"]
        .as_str()
        .unwrap()
        .starts_with("The same message reported"));
    let (s, view) = json(
        app.get(
            &format!("/api/v1/signals/{}", cluster["id"].as_str().unwrap()),
            &analyst,
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    assert!(view["evidence"]["items"].as_i64().unwrap() >= 5, "{view}");
    assert!(
        view["evidence"]["clusters"][0]["reports"].as_i64().unwrap() >= 5,
        "{view}"
    );
    // More reports update the open signals rather than opening others.
    let (s, _) = json(
        app.post_json(
            "/api/v1/feedback/batch",
            &app.admin_token,
            &parcel_scam(3, None),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, list) = json(app.get("/api/v1/signals?status=open", &analyst).await).await;
    let links = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["series"].as_str().unwrap().starts_with("indicator=url:"))
        .collect::<Vec<_>>();
    assert_eq!(links.len(), 1, "{list}");
    assert!(links[0]["observed"].as_f64().unwrap() >= 9.0, "{list}");
    app.stop().await;
}

#[tokio::test]
async fn one_customer_reporting_again_and_again_counts_once() {
    let app = spawn_app().await;
    let analyst = create_token(&app.store, "security_analyst").await;
    let (s, _) = json(
        app.post_json(
            "/api/v1/feedback/batch",
            &app.admin_token,
            &parcel_scam(8, Some("worried@example.org")),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        wait_for_signal(&app, &analyst, "indicator=", Duration::from_secs(5))
            .await
            .is_none(),
        "eight reports from one person are one report"
    );
    assert!(
        wait_for_signal(&app, &analyst, "cluster=", Duration::from_secs(1))
            .await
            .is_none()
    );
    app.stop().await;
}

#[tokio::test]
async fn admins_teach_the_lexicon_a_new_term_and_analysis_follows() {
    let app = spawn_app().await;
    let text = "Got a message from ZorbPay asking me to confirm my details";
    let (s, before) = json(
        app.post_json(
            "/api/v1/lexicon/try",
            &app.admin_token,
            &json!({"text": text}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{before}");
    assert_ne!(before["topic"], "phishing_scam", "{before}");

    // A security analyst may not change the lexicon.
    let analyst = create_token(&app.store, "security_analyst").await;
    let term = json!({"lang": "en", "term": "zorbpay", "role": "phishing_scam", "weight": 6});
    let resp = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/lexicon/terms",
            &analyst,
            &term,
        )
        .await;
    assert_eq!(resp.status(), 403);
    // Bad terms are refused, naming the field.
    for (bad, field) in [
        (
            json!({"lang": "english", "term": "x", "role": "fraud", "weight": 1}),
            "lang",
        ),
        (
            json!({"lang": "en", "term": "a|b", "role": "fraud", "weight": 1}),
            "term",
        ),
        (
            json!({"lang": "en", "term": "x", "role": "gossip", "weight": 1}),
            "role",
        ),
        (
            json!({"lang": "en", "term": "x", "role": "fraud"}),
            "weight",
        ),
    ] {
        let (s, err) = json(
            app.send_json(
                reqwest::Method::PUT,
                "/api/v1/lexicon/terms",
                &app.admin_token,
                &bad,
            )
            .await,
        )
        .await;
        assert_eq!(s, 400, "{bad}: {err}");
        assert!(err["detail"].as_str().unwrap().contains(field), "{err}");
    }
    let (s, stored) = json(
        app.send_json(
            reqwest::Method::PUT,
            "/api/v1/lexicon/terms",
            &app.admin_token,
            &term,
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{stored}");
    assert_eq!(stored["term"], "zorbpay");

    // New feedback is analysed with it at once.
    let (s, created) = json(
        app.post_json(
            "/api/v1/feedback",
            &app.admin_token,
            &json!({"kind": "complaint", "text": text}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let (_, item) = json(
        app.get(&format!("/api/v1/feedback/{id}"), &app.admin_token)
            .await,
    )
    .await;
    assert_eq!(item["topic"], "phishing_scam", "{item}");
    let (_, listed) = json(app.get("/api/v1/lexicon?lang=en", &app.admin_token).await).await;
    assert_eq!(listed["custom"], 1);
    assert!(listed["terms"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["term"] == "zorbpay" && t["source"] == "custom"));

    // Forgetting it puts the built-in lexicon back.
    let resp = app
        .send_json(
            reqwest::Method::DELETE,
            "/api/v1/lexicon/terms/en/zorbpay",
            &app.admin_token,
            &json!(null),
        )
        .await;
    assert_eq!(resp.status(), 204);
    let (_, after) = json(
        app.post_json(
            "/api/v1/lexicon/try",
            &app.admin_token,
            &json!({"text": text}),
        )
        .await,
    )
    .await;
    assert_eq!(after["topic"], before["topic"]);
    // Both changes are in the audit trail.
    let (_, audit) = json(app.get("/api/v1/audit?limit=50", &app.admin_token).await).await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        actions.contains(&"lexicon.term") && actions.contains(&"lexicon.reset"),
        "{audit}"
    );
    app.stop().await;
}
