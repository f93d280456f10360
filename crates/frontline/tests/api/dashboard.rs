//! The dashboard pages for feedback and surveys, used as staff use them.

use serde_json::json;

use crate::helpers::{create_user, hidden_field, json, spawn_app, PASSWORD};

#[tokio::test]
async fn the_explorer_filters_searches_and_opens_contacts_only_on_a_deliberate_click() {
    let app = spawn_app().await;
    let items = json!([
        {"kind": "complaint", "text": "验证码短信一直收不到", "component": "login"},
        {"kind": "complaint", "text": "Strange SMS asking for my PIN", "component": "sms",
         "contact": {"email": "sam@example.com"}, "consent": {"given": true, "text": "Contact me"}},
        {"kind": "nps", "score": 10}
    ]);
    let (s, r) = json(
        app.post_json("/api/v1/feedback/batch", &app.admin_token, &items)
            .await,
    )
    .await;
    assert_eq!((s.as_u16(), r["created"].as_u64()), (200, Some(3)));
    let sms_id = r["results"][1]["id"].as_str().unwrap().to_owned();

    let (admin, _) = app.browser_session(&app.admin_email, PASSWORD).await;
    let html = admin
        .get(app.url("/feedback?q=%E9%AA%8C%E8%AF%81%E7%A0%81&kind="))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("验证码短信一直收不到") && !html.contains("Strange SMS"),
        "search by Chinese"
    );
    let html = admin
        .get(app.url("/feedback?component=sms"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Strange SMS") && html.contains(">contact<"));
    assert!(
        !html.contains("sam@example.com"),
        "lists never show contacts"
    );

    // The item page shows no contact until the button is pressed.
    let before = app.store.audit_page(None, 1).await.unwrap().entries[0].seq;
    let page = admin
        .get(app.url(&format!("/feedback/{sms_id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Show contact details") && !page.contains("sam@example.com"));
    assert_eq!(
        app.store.audit_page(None, 1).await.unwrap().entries[0].seq,
        before,
        "looking at the item is not a look at personal data"
    );
    let csrf = hidden_field(&page, "csrf").unwrap();
    let revealed = admin
        .post(app.url(&format!("/feedback/{sms_id}/reveal")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(revealed.contains("sam@example.com"));
    let entry = &app.store.audit_page(None, 1).await.unwrap().entries[0];
    assert_eq!(
        (entry.action.as_str(), entry.record.as_deref()),
        ("contact.view", Some(sms_id.as_str()))
    );

    // A security analyst pressing the same button sees it masked.
    create_user(&app.store, "sec@example.com", "Sec", "security_analyst").await;
    let (sec, _) = app.browser_session("sec@example.com", PASSWORD).await;
    let page = sec
        .get(app.url(&format!("/feedback/{sms_id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden_field(&page, "csrf").unwrap();
    let masked = sec
        .post(app.url(&format!("/feedback/{sms_id}/reveal")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(masked.contains("s***@example.com") && !masked.contains("sam@example.com"));
    // An analyst (aggregates only) cannot open the explorer at all.
    create_user(&app.store, "ana@example.com", "Ana", "analyst").await;
    let (ana, _) = app.browser_session("ana@example.com", PASSWORD).await;
    assert_eq!(
        ana.get(app.url("/feedback")).send().await.unwrap().status(),
        403
    );
    app.stop().await;
}

#[tokio::test]
async fn a_cx_lead_builds_a_survey_and_reads_its_results() {
    let app = spawn_app().await;
    let (admin, _) = app.browser_session(&app.admin_email, PASSWORD).await;
    let page = admin
        .get(app.url("/surveys/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden_field(&page, "csrf").unwrap();
    let form = [
        ("csrf", csrf.as_str()),
        ("slug", "after-chat"),
        ("languages", "en"),
        ("languages", "fa"),
        ("title_en", "How was the chat?"),
        ("title_fa", "گفتگو چطور بود؟"),
        ("q1_kind", "csat"),
        ("q1_required", "yes"),
        ("q1_en", "How satisfied are you?"),
        ("q1_fa", "چقدر راضی هستید؟"),
        ("q2_kind", "comment"),
        ("q2_en", "Anything else?"),
        ("q2_fa", "نکته دیگری؟"),
        ("ask_contact", "yes"),
    ];
    let resp = admin
        .post(app.url("/surveys"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    // Customers answer.
    let public = reqwest::Client::new();
    for score in ["5", "4", "2"] {
        let r = public
            .post(app.url("/f/after-chat"))
            .form(&[("lang", "fa"), ("q1", score)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let html = admin
        .get(app.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("How satisfied are you?"));
    assert!(
        html.contains("CSAT <strong>67%</strong>"),
        "2 of 3 answered 4 or 5"
    );
    assert!(html.contains("fa: 3"));
    // A builder mistake is explained, not stored.
    let resp = admin
        .post(app.url("/surveys"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("slug", "broken"),
            ("languages", "en"),
            ("title_en", "x"),
            ("q1_kind", "nps"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("missing the en text"));
    let (_, list) = json(app.get("/api/v1/surveys", &app.admin_token).await).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    app.stop().await;
}
