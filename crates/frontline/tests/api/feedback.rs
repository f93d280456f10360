use serde_json::{json, Value};

use crate::helpers::{create_token, json, spawn_app};

#[tokio::test]
async fn personal_data_is_redacted_before_it_is_stored() {
    let app = spawn_app().await;
    let text = "I can't log in. Call me on +44 7911 123456 or mail jo.bloggs@example.co.uk, card 4111 1111 1111 1111";
    let (s, stored) = json(
        app.post_json(
            "/api/v1/feedback",
            &app.admin_token,
            &json!({"kind": "complaint", "text": text, "component": "login"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{stored}");
    assert_eq!(stored["status"], "created");
    let id = stored["id"].as_str().unwrap();
    assert!(id.starts_with("fb_"));

    let (_, item) = json(
        app.get(&format!("/api/v1/feedback/{id}"), &app.admin_token)
            .await,
    )
    .await;
    let shown = item["text"].as_str().unwrap();
    assert!(
        shown.contains("[PHONE]") && shown.contains("[EMAIL]") && shown.contains("[CARD]"),
        "{shown}"
    );
    assert!(!shown.contains("7911") && !shown.contains("jo.bloggs") && !shown.contains("4111"));
    assert_eq!(item["language"], "en");
    assert_eq!(item["redacted"], json!(["card", "email", "phone"]));
    // Nothing in the database holds the original.
    let row = app
        .store
        .fetch_optional(
            "SELECT text, search_text FROM feedback WHERE id = $1",
            frontline::args![id],
        )
        .await
        .unwrap()
        .unwrap();
    for col in ["text", "search_text"] {
        let v: String = row.get(col).unwrap();
        assert!(
            !v.contains("jo.bloggs") && !v.contains("7911"),
            "{col}: {v}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn contacts_need_consent_are_sealed_and_shown_only_to_contact_view() {
    let app = spawn_app().await;
    let base = json!({"kind": "csat", "score": 2, "text": "Slow refund", "contact": {"name": "Jo", "email": "Jo@Example.com", "phone": "+98 912 345 6789"}});
    let (s, body) = json(
        app.post_json("/api/v1/feedback", &app.admin_token, &base)
            .await,
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        body["detail"].as_str().unwrap().starts_with("consent"),
        "{body}"
    );

    let mut with = base.clone();
    with["consent"] = json!({"given": true, "text": "You may contact me about this feedback."});
    let (s, stored) = json(
        app.post_json("/api/v1/feedback", &app.admin_token, &with)
            .await,
    )
    .await;
    assert_eq!(s, 201, "{stored}");
    let id = stored["id"].as_str().unwrap().to_owned();

    // Sealed at rest: the address is nowhere in the row.
    let row = app
        .store
        .fetch_optional(
            "SELECT contact_sealed, subject_id FROM feedback WHERE id = $1",
            frontline::args![&id],
        )
        .await
        .unwrap()
        .unwrap();
    let sealed: Vec<u8> = row.get("contact_sealed").unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains("example.com"));
    assert!(row.get::<Option<String>>("subject_id").unwrap().is_some());

    // A CX agent (contact:view) sees it, and the look is audited.
    let agent = create_token(&app.store, "cx_agent").await;
    let analyst = create_token(&app.store, "security_analyst").await;
    let (s, item) = json(app.get(&format!("/api/v1/feedback/{id}"), &agent).await).await;
    assert_eq!(s, 200);
    assert_eq!(item["contact"]["email"], "jo@example.com");
    assert_eq!(item["contact"]["phone"], "+989123456789");
    assert_eq!(item["contact"]["full"], true);
    let last = &app.store.audit_page(None, 1).await.unwrap().entries[0];
    assert_eq!(
        (last.action.as_str(), last.record.as_deref()),
        ("contact.view", Some(id.as_str()))
    );

    // A security analyst (no contact:view) sees it masked; nothing audited.
    let (s, item) = json(app.get(&format!("/api/v1/feedback/{id}"), &analyst).await).await;
    assert_eq!(s, 200);
    assert_eq!(item["contact"]["email"], "j***@example.com");
    assert_eq!(item["contact"]["full"], false);
    assert!(!item.to_string().contains("912345"), "{item}");
    assert_eq!(
        app.store.audit_page(None, 1).await.unwrap().entries[0].seq,
        last.seq
    );
    // Lists never carry contacts.
    let (_, page) = json(app.get("/api/v1/feedback", &agent).await).await;
    assert_eq!(page["items"][0]["has_contact"], true);
    assert!(!page.to_string().contains("jo@example.com"));
    app.stop().await;
}

#[tokio::test]
async fn bad_items_are_refused_naming_the_field() {
    let app = spawn_app().await;
    for (body, field) in [
        (json!({"kind": "nps", "score": 11}), "score"),
        (json!({"kind": "nps"}), "score"),
        (json!({"kind": "complaint"}), "text"),
        (json!({"kind": "praise", "text": "hi"}), "kind"),
        (
            json!({"kind": "comment", "text": "hi", "channel": "pigeon"}),
            "channel",
        ),
        (
            json!({"kind": "comment", "text": "hi", "occurred_at": "yesterday"}),
            "occurred_at",
        ),
        (
            json!({"kind": "comment", "text": "hi", "component": "<b>x</b>"}),
            "component",
        ),
        (
            json!({"kind": "comment", "text": "hi", "mood": "sad"}),
            "mood",
        ),
    ] {
        let (s, err) = json(
            app.post_json("/api/v1/feedback", &app.admin_token, &body)
                .await,
        )
        .await;
        assert_eq!(s, 400, "{body} -> {err}");
        assert!(
            err["detail"].as_str().unwrap().contains(field),
            "{body} -> {err}"
        );
    }
    let (_, page) = json(app.get("/api/v1/feedback", &app.admin_token).await).await;
    assert_eq!(page["items"], json!([]), "nothing half-written");
    app.stop().await;
}

#[tokio::test]
async fn resending_with_the_same_idempotency_key_stores_once() {
    let app = spawn_app().await;
    let send = || async {
        app.client
            .post(app.url("/api/v1/feedback"))
            .bearer_auth(&app.admin_token)
            .header("idempotency-key", "zendesk-4711")
            .json(&json!({"kind": "nps", "score": 9}))
            .send()
            .await
            .unwrap()
    };
    let (s1, a) = json(send().await).await;
    let (s2, b) = json(send().await).await;
    assert_eq!((s1.as_u16(), s2.as_u16()), (201, 200));
    assert_eq!(a["id"], b["id"]);
    assert_eq!(b["status"], "duplicate");
    app.stop().await;
}

#[tokio::test]
async fn a_batch_reports_each_item_and_keeps_the_good_ones() {
    let app = spawn_app().await;
    let items = json!([
        {"kind": "nps", "score": 10, "idempotency_key": "a"},
        {"kind": "nps", "score": 42},
        {"kind": "complaint", "text": "我收到一条奇怪的短信,说我的账户被冻结了"},
        {"kind": "nps", "score": 10, "idempotency_key": "a"}
    ]);
    let (s, r) = json(
        app.post_json("/api/v1/feedback/batch", &app.admin_token, &items)
            .await,
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (
            r["created"].as_u64(),
            r["duplicates"].as_u64(),
            r["rejected"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(r["results"][1]["status"], "rejected");
    assert!(r["results"][1]["detail"]
        .as_str()
        .unwrap()
        .contains("score"));
    assert_eq!(r["results"][3]["id"], r["results"][0]["id"]);

    // NDJSON, with a broken line reported by position.
    let ndjson = "{\"kind\":\"ces\",\"score\":6}\nnot json\n{\"kind\":\"csat\",\"score\":5,\"text\":\"ઝડપી સેવા, આભાર\"}\n";
    let resp = app
        .client
        .post(app.url("/api/v1/feedback/batch"))
        .bearer_auth(&app.admin_token)
        .header("content-type", "application/x-ndjson")
        .body(ndjson)
        .send()
        .await
        .unwrap();
    let (s, r) = json(resp).await;
    assert_eq!(s, 200);
    assert_eq!(r["created"], 2);
    assert_eq!(r["results"][1]["status"], "rejected");

    // Too many items: refused whole.
    let many: Vec<Value> = (0..10_001)
        .map(|_| json!({"kind": "nps", "score": 5}))
        .collect();
    let (s, r) = json(
        app.post_json("/api/v1/feedback/batch", &app.admin_token, &json!(many))
            .await,
    )
    .await;
    assert_eq!(s, 400, "{r}");
    assert!(r["detail"].as_str().unwrap().contains("10000"));

    let (_, page) = json(
        app.get("/api/v1/feedback?limit=200", &app.admin_token)
            .await,
    )
    .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 4);
    let langs: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["language"].as_str())
        .collect();
    assert!(langs.contains(&"zh") && langs.contains(&"gu"), "{langs:?}");
    app.stop().await;
}

#[tokio::test]
async fn search_finds_feedback_in_every_language_and_pages_by_cursor() {
    let app = spawn_app().await;
    let texts = [
        "I never asked for a password reset but got the email",
        "我无法登录我的账户,验证码一直错误",
        "پیامک مشكوك از طرف بانک دریافت کردم",
        "મને વિચિત્ર એસએમએસ મળ્યો છે",
        "The app is slow today",
    ];
    for t in texts {
        let (s, _) = json(
            app.post_json(
                "/api/v1/feedback",
                &app.admin_token,
                &json!({"kind": "complaint", "text": t}),
            )
            .await,
        )
        .await;
        assert_eq!(s, 201);
    }
    let search = |q: &'static str| {
        let app = &app;
        async move {
            let url = format!("/api/v1/feedback?q={}", url_escape(q));
            let (s, page) = json(app.get(&url, &app.admin_token).await).await;
            assert_eq!(s, 200, "{page}");
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["text"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search("PASSWORD RESET").await.len(), 1);
    assert_eq!(
        search("登录").await,
        vec![texts[1].to_owned()],
        "two Chinese characters"
    );
    assert_eq!(search("验证码").await.len(), 1);
    // Arabic kaf typed in the query, Persian keheh stored (and vice versa).
    assert_eq!(search("مشکوک").await.len(), 1);
    assert_eq!(search("بانك").await.len(), 1);
    assert_eq!(search("એસએમએસ").await.len(), 1);
    assert!(search("nothing like this").await.is_empty());

    let (_, first) = json(app.get("/api/v1/feedback?limit=2", &app.admin_token).await).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(first["items"][0]["text"], texts[4]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = json(
        app.get(
            &format!("/api/v1/feedback?limit=2&cursor={cursor}"),
            &app.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(second["items"][0]["text"], texts[2]);
    let (_, last) = json(
        app.get(
            &format!(
                "/api/v1/feedback?limit=2&cursor={}",
                second["next_cursor"].as_str().unwrap()
            ),
            &app.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(last["items"].as_array().unwrap().len(), 1);
    assert!(last["next_cursor"].is_null());
    app.stop().await;
}

fn url_escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn every_item_is_analysed_and_scam_indicators_are_kept_apart_from_personal_data() {
    let app = spawn_app().await;
    let report = "Strange SMS pretending to be from you, sent from +44 7700 900123, asking me to confirm my card details at http://secure-login.example.net/verify. Is this a scam? My number is +44 7911 123456, please call me back.";
    let (s, stored) = json(
        app.post_json(
            "/api/v1/feedback",
            &app.admin_token,
            &json!({"kind": "complaint", "text": report}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);
    let id = stored["id"].as_str().unwrap();
    let (_, item) = json(
        app.get(&format!("/api/v1/feedback/{id}"), &app.admin_token)
            .await,
    )
    .await;
    assert_eq!(item["topic"], "phishing_scam", "{item}");
    assert!(item["sentiment"].as_f64().unwrap() <= 0.0);
    let values: Vec<String> = item["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["value"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        values
            .iter()
            .any(|v| v.contains("secure-login") && v.contains("[.]")),
        "defanged link: {values:?}"
    );
    assert!(
        values
            .iter()
            .any(|v| v.contains("7700900123") || v.contains("7700 900123")),
        "the scammer's number: {values:?}"
    );
    assert!(
        !values.iter().any(|v| v.contains("7911")),
        "the customer's own number is not an indicator: {values:?}"
    );
    // Both numbers are redacted from the stored text all the same.
    let text = item["text"].as_str().unwrap();
    assert!(!text.contains("7911") && !text.contains("7700"), "{text}");

    let (s, _) = json(
        app.post_json(
            "/api/v1/feedback",
            &app.admin_token,
            &json!({"kind": "complaint", "text": "应用今天特别慢,页面一直加载不出来"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);
    let (_, page) = json(
        app.get("/api/v1/feedback?topic=phishing_scam", &app.admin_token)
            .await,
    )
    .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["id"], id);
    app.stop().await;
}
