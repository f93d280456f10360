use serde_json::{json, Value};

use crate::helpers::{create_token, json, spawn_app, spawn_app_with, TestApp};

fn definition(policy: Value) -> Value {
    json!({
        "languages": ["en", "zh", "fa", "gu"],
        "title": {"en": "How did we do?", "zh": "我们做得怎么样?", "fa": "چطور بودیم؟", "gu": "અમે કેવું કર્યું?"},
        "questions": [
            {"id": "likely", "kind": "nps", "required": true, "prompt": {
                "en": "How likely are you to recommend us?", "zh": "您向朋友推荐我们的可能性有多大?",
                "fa": "چقدر احتمال دارد ما را به دیگران توصیه کنید؟", "gu": "તમે અમારી ભલામણ કરો તેવી કેટલી શક્યતા છે?"}},
            {"id": "why", "kind": "comment", "prompt": {
                "en": "Why?", "zh": "为什么?", "fa": "چرا؟", "gu": "શા માટે?"}}
        ],
        "policy": policy
    })
}

async fn make_survey(app: &TestApp, slug: &str, policy: Value) -> Value {
    let (s, survey) = json(
        app.post_json(
            "/api/v1/surveys",
            &app.admin_token,
            &json!({"slug": slug, "definition": definition(policy)}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{survey}");
    survey
}

async fn count_feedback(app: &TestApp) -> usize {
    let (_, page) = json(
        app.get("/api/v1/feedback?limit=200", &app.admin_token)
            .await,
    )
    .await;
    page["items"].as_array().unwrap().len()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_form_works_without_javascript_or_cookies_and_only_a_submit_counts() {
    let app = spawn_app().await;
    make_survey(&app, "after-support", json!({})).await;
    // A mail scanner following the link, even with a preselected score.
    let resp = client()
        .get(app.url("/f/after-support?likely=9"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers().get("set-cookie").is_none(),
        "public forms set no cookies"
    );
    let html = resp.text().await.unwrap();
    assert!(!html.contains("<script"), "no JavaScript");
    assert!(
        html.contains("value=\"9\" checked"),
        "the score is preselected"
    );
    assert_eq!(
        count_feedback(&app).await,
        0,
        "loading the form stores nothing"
    );

    let resp = client()
        .post(app.url("/f/after-support"))
        .form(&[
            ("lang", "en"),
            ("likely", "9"),
            ("why", "Fast answer, mail me at a.person@example.org"),
            ("website", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("Thank you"));
    let (_, page) = json(app.get("/api/v1/feedback", &app.admin_token).await).await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["submission_id"], items[1]["submission_id"]);
    assert!(items
        .iter()
        .all(|i| i["channel"] == "web" && i["survey_id"].as_str().unwrap().starts_with("srv_")));
    let comment = items.iter().find(|i| i["kind"] == "comment").unwrap();
    assert_eq!(comment["text"], "Fast answer, mail me at [EMAIL]");
    app.stop().await;
}

#[tokio::test]
async fn the_form_speaks_each_language_and_persian_reads_right_to_left() {
    let app = spawn_app().await;
    make_survey(&app, "nps", json!({"ask_contact": true})).await;
    for (lang, dir, needle) in [
        ("en", "ltr", "Extremely likely"),
        ("zh", "ltr", "极有可能"),
        ("fa", "rtl", "بسیار محتمل است"),
        ("gu", "ltr", "ખૂબ જ શક્યતા છે"),
    ] {
        let html = client()
            .get(app.url(&format!("/f/nps?lang={lang}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(&format!("<html lang=\"{lang}\" dir=\"{dir}\">")),
            "{lang}"
        );
        assert!(html.contains(needle), "{lang} lacks {needle}");
    }
    // Unknown language: the survey's default.
    let html = client()
        .get(app.url("/f/nps?lang=xx"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<html lang=\"en\""));

    // An answer in Gujarati is stored with its language.
    let resp = client()
        .post(app.url("/f/nps"))
        .form(&[("lang", "gu"), ("likely", "3")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (_, page) = json(app.get("/api/v1/feedback", &app.admin_token).await).await;
    assert_eq!(page["items"][0]["language"], "gu");
    app.stop().await;
}

#[tokio::test]
async fn mistakes_are_shown_in_the_form_and_nothing_is_stored() {
    let app = spawn_app().await;
    make_survey(&app, "checkup", json!({"ask_contact": true})).await;
    // Required question missing.
    let resp = client()
        .post(app.url("/f/checkup"))
        .form(&[("lang", "fa"), ("why", "بد بود")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("لطفاً به این پرسش پاسخ دهید."),
        "the error is in Persian"
    );
    assert!(html.contains("بد بود"), "what was typed is kept");
    // Out of range.
    let resp = client()
        .post(app.url("/f/checkup"))
        .form(&[("likely", "12")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    // Contact details without the consent box ticked.
    let resp = client()
        .post(app.url("/f/checkup"))
        .form(&[("likely", "5"), ("contact_email", "me@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.unwrap().contains("Tick the box"));
    assert_eq!(count_feedback(&app).await, 0);

    // With consent: stored, sealed, consent text recorded.
    let resp = client()
        .post(app.url("/f/checkup"))
        .form(&[
            ("likely", "5"),
            ("contact_email", "me@example.com"),
            ("consent", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (_, page) = json(app.get("/api/v1/feedback", &app.admin_token).await).await;
    let id = page["items"][0]["id"].as_str().unwrap();
    let (_, item) = json(
        app.get(&format!("/api/v1/feedback/{id}"), &app.admin_token)
            .await,
    )
    .await;
    assert_eq!(item["contact"]["email"], "me@example.com");
    assert_eq!(
        item["consent_text"],
        "Yes, you may contact me about this feedback."
    );
    app.stop().await;
}

#[tokio::test]
async fn bots_and_floods_are_turned_away() {
    let app = spawn_app_with(|c| c.intake.public_per_minute_per_address = 3).await;
    make_survey(&app, "pulse", json!({})).await;
    // The honeypot: thanked, not stored.
    let resp = client()
        .post(app.url("/f/pulse"))
        .form(&[("likely", "10"), ("website", "http://spam.example")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(count_feedback(&app).await, 0);
    for _ in 0..2 {
        let resp = client()
            .post(app.url("/f/pulse"))
            .form(&[("likely", "8")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    let resp = client()
        .post(app.url("/f/pulse"))
        .form(&[("likely", "8")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(count_feedback(&app).await, 2);
    // Garbage never causes a 500.
    for body in ["%%%", "likely=%FF%FE", "=&=&likely", &"a=b&".repeat(5000)] {
        let resp = client()
            .post(app.url("/f/pulse"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_client_error() || resp.status() == 200,
            "{body:.20}: {}",
            resp.status()
        );
    }
    assert_eq!(
        client()
            .get(app.url("/f/no-such-survey"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    app.stop().await;
}

#[tokio::test]
async fn single_use_links_answer_once() {
    let app = spawn_app().await;
    let survey = make_survey(&app, "invite-only", json!({"single_use": true})).await;
    let id = survey["id"].as_str().unwrap();
    let (s, links) = json(
        app.post_json(
            &format!("/api/v1/surveys/{id}/links"),
            &app.admin_token,
            &json!({"count": 2}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);
    let link = links["links"][0].as_str().unwrap();
    let token = link.split("t=").nth(1).unwrap();
    assert_eq!(
        client()
            .get(app.url("/f/invite-only"))
            .send()
            .await
            .unwrap()
            .status(),
        403,
        "no link, no form"
    );
    assert_eq!(
        client()
            .get(app.url(&format!("/f/invite-only?t={token}")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let answer = || {
        client()
            .post(app.url("/f/invite-only"))
            .form(&[("likely", "7"), ("t", token)])
            .send()
    };
    assert_eq!(answer().await.unwrap().status(), 200);
    assert_eq!(
        answer().await.unwrap().status(),
        409,
        "a second answer through the same link"
    );
    assert_eq!(count_feedback(&app).await, 1);
    let forged = client()
        .post(app.url("/f/invite-only"))
        .form(&[("likely", "7"), ("t", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 409);
    app.stop().await;
}

#[tokio::test]
async fn results_give_nps_per_question_and_answers_by_language() {
    let app = spawn_app().await;
    let survey = make_survey(&app, "q4", json!({})).await;
    let id = survey["id"].as_str().unwrap();
    for (lang, score) in [("en", "10"), ("en", "9"), ("zh", "7"), ("fa", "3")] {
        let resp = client()
            .post(app.url("/f/q4"))
            .form(&[("lang", lang), ("likely", score)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    let analyst = create_token(&app.store, "analyst").await;
    let (s, r) = json(
        app.get(&format!("/api/v1/surveys/{id}/results"), &analyst)
            .await,
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["submissions"], 4);
    let q = &r["questions"][0];
    assert_eq!(q["responses"], 4);
    assert_eq!(q["nps"], 25.0, "2 promoters, 1 detractor of 4");
    assert_eq!(q["distribution"][10], 1);
    let en = r["languages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l[0] == "en")
        .unwrap();
    assert_eq!(en[1], 2);
    // A closed survey says so.
    let (s, _) = json(
        app.send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/surveys/{id}"),
            &app.admin_token,
            &json!({"definition": definition(json!({})), "active": false}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        client()
            .get(app.url("/f/q4"))
            .send()
            .await
            .unwrap()
            .status(),
        410
    );
    app.stop().await;
}

#[tokio::test]
async fn the_privacy_notice_follows_the_configuration() {
    let app = spawn_app_with(|c| c.retention.contact_days = 90).await;
    make_survey(
        &app,
        "keeps-raw",
        json!({"keep_raw_text": true, "collect_client_info": true}),
    )
    .await;
    let html = client()
        .get(app.url("/privacy"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<td>Contact details</td><td>90 days</td>"),
        "{html}"
    );
    assert!(html.contains("How did we do?"));
    assert!(html.contains("yes, encrypted, 30 days"));
    assert!(
        html.contains("cx_agent"),
        "roles that see contacts are listed"
    );
    app.stop().await;
}
