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

/// GET `path` as a signed-in staff member.
async fn page_as(client: &reqwest::Client, app: &crate::helpers::TestApp, path: &str) -> String {
    let resp = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    resp.text().await.unwrap()
}

#[tokio::test]
async fn the_overview_shows_each_role_what_it_may_see_and_lets_them_act_from_it() {
    use crate::helpers::create_token;
    let app = spawn_app().await;
    for (email, name, role) in [
        ("ana@example.com", "Ana Analyst", "analyst"),
        ("cai@example.com", "Cai Agent", "cx_agent"),
        ("cora@example.com", "Cora Comms", "communications"),
    ] {
        create_user(&app.store, email, name, role).await;
    }
    // A scam link quoted by six customers: a signal of its own, in seconds.
    let wave: Vec<_> = (0..6)
        .map(|i| json!({"kind": "complaint", "channel": "app",
            "text": format!("Strange SMS pretending to be from you says my parcel {} is held at customs, with a link hxxp://parcel-fee[.]example/pay - is this a scam?", 4411 + i * 7)}))
        .collect();
    let (s, r) = json(
        app.post_json("/api/v1/feedback/batch", &app.admin_token, &json!(wave))
            .await,
    )
    .await;
    assert_eq!((s.as_u16(), r["created"].as_u64()), (200, Some(6)), "{r}");
    let mut signal = serde_json::Value::Null;
    for _ in 0..80 {
        let (_, list) = json(
            app.get("/api/v1/signals?status=open", &app.admin_token)
                .await,
        )
        .await;
        if let Some(first) = list.as_array().and_then(|l| l.first()) {
            signal = first.clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    // As the page shows it: escaped the way the templates escape.
    let title = signal["title"]
        .as_str()
        .expect("a signal opened")
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;");

    // A SEV2 incident with an update approved by communications and legal.
    let soc = create_token(&app.store, "security_analyst").await;
    let comms = create_token(&app.store, "communications").await;
    let legal = create_token(&app.store, "legal").await;
    let (_, inc) = json(
        app.post_json(
            "/api/v1/incidents",
            &soc,
            &json!({"title": "Parcel-fee phishing SMS", "severity": "SEV2"}),
        )
        .await,
    )
    .await;
    let id = inc["id"].as_str().unwrap().to_owned();
    let (_, draft) = json(
        app.post_json(
            &format!("/api/v1/incidents/{id}/updates"),
            &comms,
            &json!({"status": "investigating", "body": "We never ask for fees by SMS."}),
        )
        .await,
    )
    .await;
    let uid = draft["id"].as_str().unwrap().to_owned();
    for t in [&comms, &legal] {
        let (s, v) = json(
            app.post_json(
                &format!("/api/v1/incidents/{id}/updates/{uid}/approve"),
                t,
                &json!({}),
            )
            .await,
        )
        .await;
        assert_eq!(s, 200, "{v}");
    }

    // The analyst sees figures only.
    let (ana, _) = app.browser_session("ana@example.com", PASSWORD).await;
    let html = page_as(&ana, &app, "/").await;
    assert!(html.contains("The last 7 days"));
    assert!(
        !html.contains("kind=nps&amp;since="),
        "no feedback for the analyst: the scores lead to the scorecard"
    );
    assert!(!html.contains(&title), "no signals for the analyst");
    assert!(!html.contains("Parcel-fee phishing SMS"));
    assert!(!html.contains("id=\"security-h\""));

    // The CX agent sees the wave by topic and the signal, and can
    // acknowledge it; the incident, but not its Publish button.
    let (cai, _) = app.browser_session("cai@example.com", PASSWORD).await;
    let html = page_as(&cai, &app, "/").await;
    assert!(html.contains("Feedback by topic"));
    // The scores lead to the answers behind them, this week's.
    let at = html
        .find("kind=nps&amp;since=")
        .unwrap_or_else(|| panic!("NPS links to its answers: {html}"));
    let start = html[..at].rfind("href=\"").unwrap() + 6;
    let href = html[start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#x2f;", "/")
        .replace("&amp;", "&");
    let answers = page_as(&cai, &app, &href).await;
    assert!(answers.contains("<table class=\"feedback\""), "{href}");

    assert!(
        html.contains("phishing scam</a> <strong>6</strong>"),
        "{html}"
    );
    assert!(html.contains(&title));
    assert!(html.contains(&format!(
        "action=\"/signals/{}/acknowledge\"",
        signal["id"].as_str().unwrap()
    )));
    assert!(html.contains("Parcel-fee phishing SMS"));
    assert!(
        !html.contains("#declare-h"),
        "a CX agent does not declare incidents"
    );
    assert!(!html.contains("/publish\""));
    assert!(!html.contains("id=\"security-h\""));

    // Communications sees the approved update and publishes it from here.
    let (cora, _) = app.browser_session("cora@example.com", PASSWORD).await;
    let html = page_as(&cora, &app, "/").await;
    let action = format!("/incidents/{id}/updates/{uid}/publish");
    assert!(html.contains(&action), "{html}");
    assert!(html.contains("Delivery, last 24 hours"));
    assert!(html.contains(&title), "communications reads feedback");
    assert!(
        !html.contains("/acknowledge\""),
        "but does not work signals"
    );
    assert!(!html.contains("id=\"security-h\""));
    let csrf = crate::helpers::hidden_field(&html, "csrf").expect("a csrf field");
    let r = cora
        .post(app.url(&action))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success() || r.status().is_redirection());
    let (_, status) = json(
        app.client
            .get(app.url("/api/v2/incidents/unresolved.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status["incidents"][0]["name"], "Parcel-fee phishing SMS");

    // The admin sees security too; the live refresh reads the body alone.
    let (ada, _) = app.browser_session(&app.admin_email, PASSWORD).await;
    let body = page_as(&ada, &app, "/overview/body").await;
    assert!(body.contains("id=\"security-h\""));
    assert!(body.contains(&title));
    assert!(
        body.contains(&format!(
            "href=\"/signals/{}#declare-h\"",
            signal["id"].as_str().unwrap()
        )),
        "the admin can declare an incident from the signal"
    );
    assert!(
        !body.contains("<nav"),
        "the body, without the page around it"
    );
}

/// A page as a signed-in client, with an optional `Accept-Language`.
async fn page_in(
    client: &reqwest::Client,
    app: &crate::helpers::TestApp,
    path: &str,
    accept_language: Option<&str>,
) -> String {
    let mut req = client.get(app.url(path));
    if let Some(al) = accept_language {
        req = req.header("Accept-Language", al);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    resp.text().await.unwrap()
}

#[tokio::test]
async fn the_dashboard_speaks_the_users_language_then_the_browsers_then_english() {
    let app = spawn_app().await;
    let (admin, _) = app.browser_session(&app.admin_email, PASSWORD).await;

    // English by default.
    let html = page_in(&admin, &app, "/", None).await;
    assert!(html.contains("<html lang=\"en\""), "{html}");
    assert!(html.contains("<h1>Overview</h1>") && html.contains(">Sign out<"));
    assert!(html.contains(">Incidents</a>") && html.contains(">Scorecard</a>"));

    // Without a choice, the browser's language counts.
    let html = page_in(&admin, &app, "/", Some("zh-CN,zh;q=0.9,en;q=0.8")).await;
    assert!(html.contains("<html lang=\"zh\""), "{html}");
    assert!(html.contains("<h1>概览</h1>") && html.contains(">退出登录<"));
    let html = page_in(&admin, &app, "/signals", Some("de-DE, fr;q=0.5")).await;
    assert!(html.contains("<html lang=\"en\"") && html.contains("Early-warning signals"));
    let login = reqwest::Client::new()
        .get(app.url("/login"))
        .header("Accept-Language", "zh-TW")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login.contains("<html lang=\"zh\"") && login.contains("登录 Frontline"));

    // The header's control stores a choice and goes back to the page.
    let html = page_in(&admin, &app, "/incidents", None).await;
    assert!(html.contains("action=\"/language\""), "{html}");
    let csrf = hidden_field(&html, "csrf").unwrap();
    let resp = admin
        .post(app.url("/language"))
        .header("Referer", app.url("/incidents?x=1"))
        .form(&[("csrf", csrf.as_str()), ("language", "zh")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/incidents?x=1");
    let entry = &app.store.audit_page(None, 1).await.unwrap().entries[0];
    assert_eq!(entry.action, "user.language");

    // Every page now speaks Chinese, whatever the browser says.
    for (path, heading) in [
        ("/", "<h1>概览</h1>"),
        ("/signals", "<h1>预警信号</h1>"),
        ("/incidents", "<h1>事件</h1>"),
        ("/tickets", "<h1>工单</h1>"),
        ("/scorecard", "<h1>计分卡</h1>"),
    ] {
        let html = page_in(&admin, &app, path, Some("en-GB")).await;
        assert!(html.contains("<html lang=\"zh\""), "{path}");
        assert!(html.contains(heading), "{path}: {html}");
        assert!(
            html.contains(">信号</a>") && html.contains(">事件</a>") && html.contains(">退出登录<"),
            "{path}: the navigation"
        );
        assert!(
            html.contains("data-t-live=\"实时\""),
            "{path}: words for app.js"
        );
        assert!(html.contains("<option value=\"zh\" lang=\"zh\" selected>"));
    }

    // Forms and their confirmation messages too.
    let resp = admin
        .post(app.url("/incidents"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Login outage"),
            ("severity", "SEV3"),
            ("impact", "minor"),
            ("playbook", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let html = page_in(&admin, &app, &location, None).await;
    assert!(
        html.contains("事件已宣布。") && html.contains("Login outage"),
        "{html}"
    );
    assert!(html.contains("<dd>调查中</dd>"), "the status, translated");
    let resp = admin
        .get(app.url("/incidents/inc_missing"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert!(resp.text().await.unwrap().contains("<h1>未找到</h1>"));

    // An unknown language is refused; an empty one clears the choice.
    let resp = admin
        .post(app.url("/language"))
        .form(&[("csrf", csrf.as_str()), ("language", "xx")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = admin
        .post(app.url("/language"))
        .form(&[("csrf", csrf.as_str()), ("language", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            resp.status().as_u16(),
            resp.headers()["location"].to_str().unwrap()
        ),
        (303, "/")
    );
    let html = page_in(&admin, &app, "/tickets", None).await;
    assert!(html.contains("<html lang=\"en\"") && html.contains("<h1>Tickets</h1>"));

    // A form without the CSRF token changes nothing.
    let resp = admin
        .post(app.url("/language"))
        .form(&[("language", "zh")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let html = page_in(&admin, &app, "/", None).await;
    assert!(html.contains("<html lang=\"en\""));
}

#[tokio::test]
async fn the_overviews_delivery_numbers_link_to_the_messages_they_count() {
    use frontline::config::Secret;
    use frontline::notify::catcher::MailCatcher;
    // A mail server that refuses `bounce...` for good; no SMS provider, so
    // a text message waits in the outbox.
    let mail = MailCatcher::start("127.0.0.1:0", true).await.unwrap();
    let url = mail.url();
    let app = crate::helpers::spawn_app_with(|c| {
        c.notify.smtp_url = Secret::new(url);
        c.notify.retry_base_secs = 1;
    })
    .await;
    create_user(
        &app.store,
        "cora@example.com",
        "Cora Comms",
        "communications",
    )
    .await;
    create_user(&app.store, "ana@example.com", "Ana Analyst", "analyst").await;
    let (_, inc) = json(
        app.post_json(
            "/api/v1/incidents",
            &app.admin_token,
            &json!({"title": "Card payments failing", "severity": "SEV3"}),
        )
        .await,
    )
    .await;
    let incident = inc["id"].as_str().unwrap().to_owned();
    let (s, u) = json(
        app.post_json(
            &format!("/api/v1/incidents/{incident}/updates"),
            &app.admin_token,
            &json!({"status": "investigating", "body": "Card payments fail for some customers."}),
        )
        .await,
    )
    .await;
    assert_eq!((s.as_u16(), u["state"].as_str()), (201, Some("published")));
    let update = u["id"].as_str().unwrap().to_owned();
    let r = app
        .client
        .post(app.url(&format!("/api/v1/incidents/{incident}/affected")))
        .bearer_auth(&app.admin_token)
        .header("content-type", "text/csv")
        .body("email,phone,language\nsam.ok@example.com,,en\nbounce.bo@example.com,,en\n,+14155550123,en\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (s, _) = json(
        app.post_json(
            &format!("/api/v1/incidents/{incident}/affected/notify"),
            &app.admin_token,
            &json!({"update": update}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 202);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, d) = json(
            app.get(
                &format!("/api/v1/incidents/{incident}/deliveries"),
                &app.admin_token,
            )
            .await,
        )
        .await;
        let c = &d["counts"];
        if (
            c["sent"].as_i64(),
            c["bounced"].as_i64(),
            c["queued"].as_i64(),
        ) == (Some(1), Some(1), Some(1))
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "deliveries: {d}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // Communications (notices:view) sees each number as a link.
    let (cora, _) = app.browser_session("cora@example.com", PASSWORD).await;
    let overview = page_as(&cora, &app, "/").await;
    for (href, n) in [
        ("/deliveries?state=sent&amp;hours=24", 1),
        ("/deliveries?state=waiting", 1),
        ("/deliveries?state=failed&amp;hours=24", 0),
        ("/deliveries?state=bounced&amp;hours=24", 1),
    ] {
        assert!(
            overview.contains(&format!("<a href=\"{href}\">{n}</a>")),
            "{href} -> {n} in {overview}"
        );
    }

    // Following them: each lists its messages, recipients masked.
    let bounced = page_as(&cora, &app, "/deliveries?state=bounced&hours=24").await;
    assert!(bounced.contains("<h1>Deliveries</h1>") && bounced.contains("1 message."));
    assert!(bounced.contains("b***@example.com") && bounced.contains("smtp 550"));
    assert!(bounced.contains(&format!("href=\"/incidents/{incident}\"")));
    assert!(!bounced.contains("bounce.bo@example.com"), "masked");
    assert!(
        !bounced.contains("s***@example.com"),
        "not the sent message"
    );
    let sent = page_as(&cora, &app, "/deliveries?state=sent&hours=24").await;
    assert!(sent.contains("s***@example.com") && !sent.contains("b***@example.com"));
    assert!(!sent.contains("sam.ok@example.com"));
    let waiting = page_as(&cora, &app, "/deliveries?state=waiting").await;
    assert!(waiting.contains("+14***23") && !waiting.contains("+14155550123"));
    assert!(waiting.contains(">queued<") && !waiting.contains("@example.com"));
    let failed = page_as(&cora, &app, "/deliveries?state=failed&hours=24").await;
    assert!(failed.contains("0 messages.") && failed.contains("No messages."));
    let all = page_as(&cora, &app, "/deliveries").await;
    assert!(all.contains("3 messages."), "{all}");
    assert!(
        all.find("+14***23") > all.find("b***@example.com"),
        "the latest change first"
    );
    let r = cora
        .get(app.url("/deliveries?state=lost"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("state"));

    // The analyst (no notices:view) has neither the numbers nor the list.
    let (ana, _) = app.browser_session("ana@example.com", PASSWORD).await;
    let overview = page_as(&ana, &app, "/").await;
    assert!(!overview.contains("/deliveries"));
    assert_eq!(
        ana.get(app.url("/deliveries"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    app.stop().await;
}
