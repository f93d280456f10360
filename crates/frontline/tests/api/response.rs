//! Incident response: playbooks and checklists, declaring from a signal,
//! notices from templates in four languages with their channel previews,
//! the update cadence and its overdue check, postmortem, remedies, the
//! post-incident survey and the metrics.

use std::time::Duration;

use frontline::storage::signals::{Firing, SeriesKey};
use serde_json::{json, Value};

use crate::helpers::{
    create_token, create_user, json, spawn_app, spawn_app_with, user_id, TestApp,
};

async fn declare(app: &TestApp, token: &str, body: Value) -> Value {
    let (s, inc) = json(app.post_json("/api/v1/incidents", token, &body).await).await;
    assert_eq!(s, 201, "{inc}");
    inc
}

async fn patch(app: &TestApp, path: &str, token: &str, body: Value) -> (u16, Value) {
    let (s, v) = json(
        app.send_json(reqwest::Method::PATCH, path, token, &body)
            .await,
    )
    .await;
    (s.as_u16(), v)
}

async fn timeline(app: &TestApp, id: &str) -> Vec<Value> {
    let (_, t) = json(
        app.get(
            &format!("/api/v1/incidents/{id}/timeline"),
            &app.admin_token,
        )
        .await,
    )
    .await;
    t.as_array().unwrap().clone()
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    let (_, page) = json(app.get("/api/v1/audit?limit=500", &app.admin_token).await).await;
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

async fn open_signal(app: &TestApp, topic: &str, started_ago_ms: i64) -> String {
    let now = frontline::storage::now_ms();
    let (signal, new) = app
        .store
        .record_firing(&Firing {
            series: SeriesKey {
                topic: Some(topic.into()),
                ..Default::default()
            },
            observed: 40.0,
            expected: 2.0,
            upper: 6.0,
            observed_total: 90.0,
            expected_total: 6.0,
            p_value: 1e-9,
            started_at: now - started_ago_ms,
            title: None,
            members: Vec::new(),
        })
        .await
        .expect("signal");
    assert!(new);
    signal.id
}

#[tokio::test]
async fn playbooks_are_built_in_and_only_admins_edit_them() {
    let app = spawn_app().await;
    let comms = create_token(&app.store, "communications").await;
    let (s, list) = json(app.get("/api/v1/playbooks", &comms).await).await;
    assert_eq!(s, 200);
    let breach = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["slug"] == "customer-data-breach")
        .expect("breach playbook built in")
        .clone();
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["slug"] == "service-outage"));
    let steps: Vec<&str> = breach["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    for needle in [
        "technical",
        "how it happened",
        "what data",
        "customer data is involved",
        "authorities",
        "emergency notice",
        "progress updates",
        "account monitoring",
        "root cause",
    ] {
        assert!(
            steps.iter().any(|s| s.contains(needle)),
            "no step mentions {needle:?}: {steps:?}"
        );
    }
    assert!(breach["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["seat"] == "legal"));

    let edit = json!({"name": "Data breach (ours)", "description": "", "items": [
        {"title": "Call the DPO", "seat": "legal"}, {"title": "Freeze exports"}]});
    let (s, body) = json(
        app.send_json(
            reqwest::Method::PUT,
            "/api/v1/playbooks/customer-data-breach",
            &comms,
            &edit,
        )
        .await,
    )
    .await;
    assert_eq!(s, 403, "{body}");
    let (s, edited) = json(
        app.send_json(
            reqwest::Method::PUT,
            "/api/v1/playbooks/customer-data-breach",
            &app.admin_token,
            &edit,
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{edited}");
    assert_eq!(edited["items"].as_array().unwrap().len(), 2);
    assert_eq!(edited["builtin"], true);

    let (s, bad) = json(
        app.post_json(
            "/api/v1/playbooks",
            &app.admin_token,
            &json!({"slug": "mine", "name": "Mine", "items": [{"title": "x", "seat": "boss"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 400, "{bad}");
    assert!(bad["detail"].as_str().unwrap().contains("seat"), "{bad}");
    let (s, _) = json(
        app.post_json(
            "/api/v1/playbooks",
            &app.admin_token,
            &json!({"slug": "mine", "name": "Mine", "items": [{"title": "Do it"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);
    let del = |slug: &'static str| {
        app.client
            .delete(app.url(&format!("/api/v1/playbooks/{slug}")))
            .bearer_auth(&app.admin_token)
            .send()
    };
    assert_eq!(del("service-outage").await.unwrap().status(), 409);
    assert_eq!(del("mine").await.unwrap().status(), 204);
    let actions = audit_actions(&app).await;
    assert!(actions.contains(&"playbook.update".to_owned()));
    assert!(actions.contains(&"playbook.delete".to_owned()));
}

#[tokio::test]
async fn a_checklist_is_copied_from_the_playbook_and_every_change_is_on_the_timeline() {
    let app = spawn_app().await;
    create_user(&app.store, "cy@example.com", "Cy Agent", "cx_agent").await;
    let cy = user_id(&app, "cy@example.com").await;
    let soc = create_token(&app.store, "security_analyst").await;
    let inc = declare(
        &app,
        &soc,
        json!({"title": "Customer records exposed", "severity": "SEV2", "playbook": "customer-data-breach"}),
    )
    .await;
    let id = inc["id"].as_str().unwrap();
    assert!(inc["playbook_id"].as_str().unwrap().starts_with("pbk_"));
    let (_, list) = json(
        app.get(&format!("/api/v1/incidents/{id}/checklist"), &soc)
            .await,
    )
    .await;
    let items = list.as_array().unwrap();
    assert_eq!(items.len(), 9);
    assert!(items.iter().all(|i| i["done"] == false));
    let legal = items.iter().find(|i| i["seat"] == "legal").unwrap();
    let item = legal["id"].as_str().unwrap();
    let path = format!("/api/v1/incidents/{id}/checklist/{item}");

    let (s, done) = patch(&app, &path, &soc, json!({"done": true})).await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["done"], true);
    assert!(done["done_by"].as_str().unwrap().starts_with("tok_"));
    assert!(done["done_at"].is_string());
    let (s, assigned) = patch(&app, &path, &soc, json!({"assignee": cy, "seat": "cx"})).await;
    assert_eq!(s, 200, "{assigned}");
    assert_eq!(assigned["assignee"], cy.as_str());
    assert_eq!(assigned["seat"], "cx");
    assert_eq!(assigned["done"], true, "assigning keeps it done");
    let (s, undone) = patch(&app, &path, &soc, json!({"done": false, "assignee": null})).await;
    assert_eq!(s, 200);
    assert_eq!(undone["done"], false);
    assert_eq!(undone["done_at"], Value::Null);
    assert_eq!(undone["assignee"], Value::Null);

    let (s, e) = patch(
        &app,
        &path,
        &soc,
        json!({"assignee": "usr_01J00000000000000000000000"}),
    )
    .await;
    assert_eq!(s, 422, "{e}");
    let (s, _) = patch(&app, &path, &soc, json!({"seat": "boss"})).await;
    assert_eq!(s, 400);
    let viewer = create_token(&app.store, "viewer").await;
    let (s, _) = patch(&app, &path, &viewer, json!({"done": true})).await;
    assert_eq!(s, 403);

    let bodies: Vec<String> = timeline(&app, id)
        .await
        .iter()
        .filter(|e| e["kind"] == "checklist")
        .map(|e| e["body"].as_str().unwrap().to_owned())
        .collect();
    assert!(bodies[0].contains("9 steps"), "{bodies:?}");
    assert!(bodies
        .iter()
        .any(|b| b.starts_with("Checked: Legal assessment")));
    assert!(bodies.iter().any(|b| b.starts_with("Assigned to Cy Agent")));
    assert!(bodies
        .iter()
        .any(|b| b.starts_with("Assigned to the cx seat")));
    assert!(bodies
        .iter()
        .any(|b| b.starts_with("Unchecked: Legal assessment")));
    assert!(bodies.iter().any(|b| b.starts_with("Assignee cleared")));
    let changes = audit_actions(&app)
        .await
        .iter()
        .filter(|a| *a == "incident.checklist.change")
        .count();
    assert_eq!(changes, 3, "one audit entry per accepted change");

    let (s, e) = json(
        app.post_json(
            "/api/v1/incidents",
            &soc,
            &json!({"title": "x", "severity": "SEV3", "playbook": "no-such"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 422, "{e}");
}

#[tokio::test]
async fn promoting_a_signal_declares_and_links_in_one_step() {
    let app = spawn_app().await;
    let soc = create_token(&app.store, "security_analyst").await;
    let sig = open_signal(&app, "data_exposure", 12 * 60_000).await;

    // A refused declaration leaves the signal open and declares nothing.
    let (s, e) = json(
        app.post_json(
            &format!("/api/v1/signals/{sig}/promote"),
            &soc,
            &json!({"severity": "SEV2", "playbook": "no-such"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 422, "{e}");
    let (_, signal) = json(app.get(&format!("/api/v1/signals/{sig}"), &soc).await).await;
    assert_eq!(signal["status"], "open");
    let (_, incidents) = json(app.get("/api/v1/incidents", &soc).await).await;
    assert_eq!(incidents.as_array().unwrap().len(), 0);

    let (s, inc) = json(
        app.post_json(
            &format!("/api/v1/signals/{sig}/promote"),
            &soc,
            &json!({"severity": "SEV2", "playbook": "customer-data-breach"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{inc}");
    let id = inc["id"].as_str().unwrap();
    assert!(inc["title"].as_str().unwrap().starts_with("Data exposure"));
    let (_, signal) = json(app.get(&format!("/api/v1/signals/{sig}"), &soc).await).await;
    assert_eq!(signal["status"], "promoted");
    assert_eq!(signal["incident_id"], id);
    let (_, links) = json(
        app.get(&format!("/api/v1/incidents/{id}/links"), &soc)
            .await,
    )
    .await;
    let links = links.as_array().unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0]["kind"], "signal");
    assert_eq!(links[0]["ref_id"], sig.as_str());
    assert!(links[0]["began_at"].is_string());
    let t = timeline(&app, id).await;
    assert!(t
        .iter()
        .any(|e| e["kind"] == "linked" && e["body"].as_str().unwrap().contains(&sig)));
    let actions = audit_actions(&app).await;
    assert!(actions.contains(&"signal.promoted".to_owned()));
    assert!(actions.contains(&"incident.create".to_owned()));

    // Once promoted, it cannot be promoted again.
    let (s, _) = json(
        app.post_json(&format!("/api/v1/signals/{sig}/promote"), &soc, &json!({}))
            .await,
    )
    .await;
    assert_eq!(s, 409);

    // Another signal links into the open incident; and signal_id on a
    // declaration does the same as promote.
    let second = open_signal(&app, "account_access", 60_000).await;
    let (s, linked) = json(
        app.post_json(
            &format!("/api/v1/signals/{second}/promote"),
            &soc,
            &json!({"incident_id": id}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{linked}");
    let (_, links) = json(
        app.get(&format!("/api/v1/incidents/{id}/links"), &soc)
            .await,
    )
    .await;
    assert_eq!(links.as_array().unwrap().len(), 2);
    let third = open_signal(&app, "fraud", 60_000).await;
    let inc2 = declare(
        &app,
        &soc,
        json!({"title": "Card fraud wave", "severity": "SEV3", "signal_id": third}),
    )
    .await;
    let (_, signal) = json(app.get(&format!("/api/v1/signals/{third}"), &soc).await).await;
    assert_eq!(signal["incident_id"], inc2["id"]);

    // Time from the first signal to declaration: about 12 minutes.
    let (s, m) = json(
        app.get(&format!("/api/v1/incidents/{id}/metrics"), &soc)
            .await,
    )
    .await;
    assert_eq!(s, 200, "{m}");
    let secs = m["signal_to_declared_secs"].as_i64().unwrap();
    assert!((12 * 60..13 * 60).contains(&secs), "{m}");
}

fn breach_fields() -> Value {
    json!({
        "what_happened": {
            "en": "On 30 November someone used a stolen staff password to copy part of our customer list.",
            "zh": "11月30日，有人使用窃取的员工密码复制了我们的部分客户名单。",
            "fa": "روز ۳۰ نوامبر کسی با رمز عبور دزدیده‌شدهٔ یکی از کارکنان، بخشی از فهرست مشتریان ما را کپی کرد.",
            "gu": "30 નવેમ્બરે કોઈએ કર્મચારીનો ચોરાયેલો પાસવર્ડ વાપરીને અમારી ગ્રાહક યાદીનો થોડો ભાગ નકલ કર્યો."
        },
        "impact": {
            "en": "Your name and email address may be known to others. Your card details were not in that list.",
            "zh": "您的姓名和电子邮件地址可能已被他人获知。您的银行卡信息不在该名单中。",
            "fa": "ممکن است نام و نشانی ایمیل شما به دست دیگران افتاده باشد. اطلاعات کارت شما در آن فهرست نبود.",
            "gu": "તમારું નામ અને ઇમેઇલ સરનામું બીજાને ખબર પડી ગયું હોઈ શકે. તમારી કાર્ડની વિગતો એ યાદીમાં નહોતી."
        },
        "actions": {
            "en": "We locked the account, reset every staff password and reported it to the regulator.",
            "zh": "我们已锁定该账户，重置了所有员工密码，并已向监管机构报告。",
            "fa": "آن حساب را مسدود کردیم، رمز عبور همهٔ کارکنان را عوض کردیم و موضوع را به نهاد ناظر گزارش دادیم.",
            "gu": "અમે તે એકાઉન્ટ બંધ કર્યું, બધા કર્મચારીઓના પાસવર્ડ બદલ્યા અને નિયમનકારને જાણ કરી."
        },
        "remedy": {
            "en": "12 months of free account monitoring.",
            "zh": "12个月的免费账户监控服务。",
            "fa": "۱۲ ماه پایش رایگان حساب.",
            "gu": "12 મહિના માટે મફત એકાઉન્ટ મોનિટરિંગ."
        },
        "contact": "support@example.com, +1 555 0100"
    })
}

#[tokio::test]
async fn a_notice_from_a_template_is_written_in_four_languages_and_shown_per_language() {
    let app = spawn_app().await;
    let comms = create_token(&app.store, "communications").await;
    let inc = declare(
        &app,
        &app.admin_token,
        json!({"title": "Customer list copied", "severity": "SEV3"}),
    )
    .await;
    let id = inc["id"].as_str().unwrap();

    let draft = json!({"template": "breach", "fields": breach_fields(), "draft": true});
    let preview_body = draft.clone();
    let (s, previews) = json(
        app.post_json(
            &format!("/api/v1/incidents/{id}/updates/preview"),
            &comms,
            &preview_body,
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{previews}");
    assert_eq!(previews.as_array().unwrap().len(), 4);
    let (_, none) = json(
        app.get(&format!("/api/v1/incidents/{id}/updates"), &comms)
            .await,
    )
    .await;
    assert_eq!(
        none.as_array().unwrap().len(),
        0,
        "a preview stores nothing"
    );

    let (s, u) = json(
        app.post_json(
            &format!("/api/v1/incidents/{id}/updates/from-template"),
            &comms,
            &draft,
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{u}");
    assert_eq!(u["state"], "draft");
    assert_eq!(u["status"], "identified");
    let uid = u["id"].as_str().unwrap();
    let variants = u["variants"].as_array().unwrap();
    let langs: Vec<&str> = variants
        .iter()
        .map(|v| v["language"].as_str().unwrap())
        .collect();
    assert_eq!(langs, ["en", "zh", "fa", "gu"]);
    assert_eq!(
        u["body"], variants[0]["body"],
        "the English variant is the body"
    );
    let en = variants[0]["body"].as_str().unwrap();
    for s in [
        "What happened",
        "What this means for you",
        "What we are doing",
        "What we are offering you",
        "12 months of free account monitoring",
        "Change your",
        "two-factor sign-in",
        "claim to be from us",
        "How to reach us",
        "support@example.com",
        "When we will update you next",
    ] {
        assert!(en.contains(s), "{s:?} missing:\n{en}");
    }
    let fa = variants[2]["body"].as_str().unwrap();
    assert!(
        fa.contains("چه اتفاقی افتاد") && fa.contains("ورود دومرحله‌ای") && fa.contains("رمز عبور"),
        "{fa}"
    );
    assert!(variants[1]["body"].as_str().unwrap().contains("两步验证"));
    assert!(variants[3]["body"].as_str().unwrap().contains("ટુ-ફેક્ટર"));

    let (_, previews) = json(
        app.get(
            &format!("/api/v1/incidents/{id}/updates/{uid}/preview"),
            &comms,
        )
        .await,
    )
    .await;
    let previews = previews.as_array().unwrap();
    let p_fa = previews.iter().find(|p| p["language"] == "fa").unwrap();
    assert_eq!(p_fa["dir"], "rtl");
    assert!(p_fa["status_page_html"]
        .as_str()
        .unwrap()
        .contains("dir=\"rtl\""));
    assert_eq!(p_fa["sms"]["encoding"], "ucs2");
    let p_en = previews.iter().find(|p| p["language"] == "en").unwrap();
    assert_eq!(p_en["sms"]["encoding"], "gsm7");
    assert_eq!(p_en["sms"]["segments"], 1, "{p_en}");
    assert!(p_en["sms"]["length"].as_u64().unwrap() <= 160);
    assert!(p_en["email"]["subject"]
        .as_str()
        .unwrap()
        .starts_with("Security incident at"));
    assert!(p_en["email"]["text"]
        .as_str()
        .unwrap()
        .contains("What you should do"));
    // Slack, Teams and webhook subscribers: the bodies delivery sends,
    // each in the variant's language.
    let slack = p_fa["slack"]["blocks"][0]["text"]["text"].as_str().unwrap();
    assert!(
        slack.contains("/status"),
        "a link to the status page: {slack}"
    );
    let teams = &p_fa["teams"]["attachments"][0]["content"];
    assert_eq!(teams["type"], "AdaptiveCard");
    assert_eq!(teams["rtl"], true, "Persian reads right to left in Teams");
    assert_eq!(p_en["webhook"]["data"]["update"]["id"], uid);
    assert_eq!(p_en["webhook"]["data"]["update"]["language"], "en");
    assert_eq!(p_fa["webhook"]["data"]["update"]["language"], "fa");
    assert_ne!(
        p_en["webhook"]["data"]["update"]["body"],
        p_fa["webhook"]["data"]["update"]["body"]
    );

    // Not on the status page until published; then each language shows its own.
    let page = app
        .client
        .get(app.url("/status?lang=fa"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("چه اتفاقی افتاد"));
    let (s, published) = json(
        app.post_json(
            &format!("/api/v1/incidents/{id}/updates/{uid}/publish"),
            &comms,
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{published}");
    let page = app
        .client
        .get(app.url("/status?lang=fa"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("dir=\"rtl\""));
    assert!(page.contains("چه اتفاقی افتاد"), "Persian variant shown");
    let page = app
        .client
        .get(app.url("/status?lang=gu"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("શું થયું"), "Gujarati variant shown");
    let page = app
        .client
        .get(app.url("/status"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("What happened"));

    // A published update's variants are never edited, added to or removed.
    let tries = [
        format!("UPDATE incident_update_variants SET body = 'changed' WHERE update_id = '{uid}'"),
        format!("DELETE FROM incident_update_variants WHERE update_id = '{uid}'"),
        format!("INSERT INTO incident_update_variants (update_id, language, subject, body, sms) VALUES ('{uid}', 'de', 's', 'b', 'm')"),
    ];
    for sql in &tries {
        assert!(
            app.store.execute(sql, vec![]).await.is_err(),
            "refused: {sql}"
        );
    }
    let (_, v) = json(
        app.get(
            &format!("/api/v1/incidents/{id}/updates/{uid}/variants"),
            &comms,
        )
        .await,
    )
    .await;
    assert_eq!(v.as_array().unwrap().len(), 4);
    assert_eq!(app.store.update_variants(uid).await.unwrap().len(), 4);

    // Missing fields for a language asked for: 422, nothing stored.
    let (s, e) = json(
        app.post_json(
            &format!("/api/v1/incidents/{id}/updates/from-template"),
            &comms,
            &json!({"template": "outage", "languages": ["fa"], "fields": {
                "what_happened": {"en": "down"}, "impact": "x", "actions": "x", "contact": "x"}}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 400, "{e}");
    assert!(
        e["detail"].as_str().unwrap().contains("what_happened"),
        "{e}"
    );
    let (_, all) = json(
        app.get(&format!("/api/v1/incidents/{id}/updates"), &comms)
            .await,
    )
    .await;
    assert_eq!(all.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn templates_are_edited_over_the_api_and_checked_before_they_are_saved() {
    let app = spawn_app().await;
    let comms = create_token(&app.store, "communications").await;
    let (_, list) = json(app.get("/api/v1/notice-templates", &comms).await).await;
    let slugs: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    for s in ["breach", "outage", "resolved"] {
        assert!(slugs.contains(&s), "{slugs:?}");
    }
    for t in list.as_array().unwrap() {
        let texts = t["texts"].as_object().unwrap();
        assert_eq!(texts.len(), 4, "{} has en, zh, fa, gu", t["slug"]);
    }
    let put = |body: Value| {
        let app = &app;
        let comms = comms.clone();
        async move {
            app.send_json(
                reqwest::Method::PUT,
                "/api/v1/notice-templates/short",
                &comms,
                &body,
            )
            .await
        }
    };
    let text = |body: &str| {
        json!({"name": "Short", "status": "investigating", "texts": {"en": {
        "subject": "{{ company }}", "body": body, "sms": "{{ headline }} {{ status_url }}"}}})
    };
    let (s, e) = json(put(text("{{ password }}")).await).await;
    assert_eq!(s, 400, "{e}");
    assert!(
        e["detail"].as_str().unwrap().contains("unknown name"),
        "{e}"
    );
    let (s, _) = json(put(text("{% include 'layout.html' %}")).await).await;
    assert_eq!(s, 400);
    let (s, _) = json(put(text("{% if %}")).await).await;
    assert_eq!(s, 400);
    let (s, t) = json(
        put(text(
            "{{ what_happened }} / {{ impact }} / {{ actions }} / {{ contact }}",
        ))
        .await,
    )
    .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["builtin"], false);
    let viewer = create_token(&app.store, "viewer").await;
    let (s, _) = json(
        app.send_json(
            reqwest::Method::PUT,
            "/api/v1/notice-templates/short",
            &viewer,
            &text("x"),
        )
        .await,
    )
    .await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn an_overdue_update_is_marked_once_alerts_the_lead_and_counts_as_missed() {
    let mail = frontline::notify::catcher::MailCatcher::start("127.0.0.1:0", true)
        .await
        .unwrap();
    let smtp = mail.url();
    let app = spawn_app_with(|c| {
        c.incidents.overdue_check_secs = 1;
        c.notify.smtp_url = frontline::config::Secret::new(smtp);
    })
    .await;
    create_user(&app.store, "li@example.com", "Li Lead", "security_analyst").await;
    let lead = user_id(&app, "li@example.com").await;
    let soc = create_token(&app.store, "security_analyst").await;
    let mut events = app.state().events.subscribe();
    let inc = declare(
        &app,
        &soc,
        json!({"title": "Checkout down", "severity": "SEV1", "team": {"incident_lead": [lead]}}),
    )
    .await;
    let id = inc["id"].as_str().unwrap().to_owned();
    let created =
        chrono::DateTime::parse_from_rfc3339(inc["created_at"].as_str().unwrap()).unwrap();
    let due =
        chrono::DateTime::parse_from_rfc3339(inc["next_update_due"].as_str().unwrap()).unwrap();
    assert_eq!((due - created).num_minutes(), 30, "SEV1: every 30 minutes");
    assert_eq!(inc["overdue"], false);

    // A long investigation: a week between updates.
    let (s, changed) = patch(
        &app,
        &format!("/api/v1/incidents/{id}"),
        &soc,
        json!({"update_every_minutes": 10080}),
    )
    .await;
    assert_eq!(s, 200, "{changed}");
    let due =
        chrono::DateTime::parse_from_rfc3339(changed["next_update_due"].as_str().unwrap()).unwrap();
    assert_eq!((due - created).num_days(), 7);
    let (s, _) = patch(
        &app,
        &format!("/api/v1/incidents/{id}"),
        &soc,
        json!({"update_every_minutes": -5}),
    )
    .await;
    assert_eq!(s, 400);
    let (_, back) = patch(
        &app,
        &format!("/api/v1/incidents/{id}"),
        &soc,
        json!({"update_every_minutes": 0}),
    )
    .await;
    assert_eq!(back["update_every_minutes"], Value::Null);

    // The update falls due (as if 30 minutes passed).
    app.store
        .execute(
            "UPDATE incident_deadlines SET due_at = due_at - 3600000 WHERE incident_id = $1",
            vec![id.as_str().into()],
        )
        .await
        .unwrap();
    let mut overdue = Value::Null;
    for _ in 0..40 {
        let (_, i) = json(app.get(&format!("/api/v1/incidents/{id}"), &soc).await).await;
        if i["overdue"] == true {
            overdue = i;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(overdue["overdue"], true, "marked overdue");
    let event = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(e) = events.recv().await {
                if e.kind == "incident.overdue" {
                    return e;
                }
            }
        }
    })
    .await
    .expect("an incident.overdue event");
    assert_eq!(event.data["id"], id.as_str());
    // Several more checks pass: still marked once.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let marks = timeline(&app, &id)
        .await
        .iter()
        .filter(|e| e["kind"] == "overdue")
        .count();
    assert_eq!(marks, 1);
    let (_, alerts) = json(
        app.get(&format!("/api/v1/incidents/{id}/alerts"), &soc)
            .await,
    )
    .await;
    let alerts = alerts.as_array().unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["user_id"], lead.as_str());
    assert_eq!(alerts[0]["kind"], "update_overdue");
    // The lead is told by email, once.
    assert_eq!(mail.wait_for(1, Duration::from_secs(20)).await, 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got = mail.messages();
    assert_eq!(got.len(), 1, "one email for one overdue mark");
    assert_eq!(got[0].to, vec!["li@example.com".to_owned()]);
    let raw = String::from_utf8_lossy(&got[0].raw);
    assert!(raw.contains("Update overdue: Checkout down"), "{raw}");

    // The list and the page make it stand out.
    let (client, _) = app
        .browser_session(&app.admin_email, crate::helpers::PASSWORD)
        .await;
    let list = client
        .get(app.url("/incidents"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("class=\"overdue\""), "overdue row marked");
    assert!(list.contains("overdue by"));

    // A late update closes it as missed and starts the next deadline.
    let comms = create_token(&app.store, "communications").await;
    let legal = create_token(&app.store, "legal").await;
    let (s, _) = json(
        app.post_json(
            &format!("/api/v1/incidents/{id}/updates"),
            &comms,
            &json!({"status": "identified", "body": "We found the cause."}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);
    let (_, ups) = json(
        app.get(&format!("/api/v1/incidents/{id}/updates"), &soc)
            .await,
    )
    .await;
    let uid = ups[0]["id"].as_str().unwrap().to_owned();
    for t in [&comms, &legal] {
        let (s, b) = json(
            app.post_json(
                &format!("/api/v1/incidents/{id}/updates/{uid}/approve"),
                t,
                &json!({}),
            )
            .await,
        )
        .await;
        assert_eq!(s, 200, "{b}");
    }
    let (s, b) = json(
        app.post_json(
            &format!("/api/v1/incidents/{id}/updates/{uid}/publish"),
            &comms,
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (_, i) = json(app.get(&format!("/api/v1/incidents/{id}"), &soc).await).await;
    assert_eq!(i["overdue"], false);
    let due = chrono::DateTime::parse_from_rfc3339(i["next_update_due"].as_str().unwrap()).unwrap();
    assert!(due > chrono::Utc::now() + chrono::Duration::minutes(29));
    let (_, m) = json(
        app.get(&format!("/api/v1/incidents/{id}/metrics"), &soc)
            .await,
    )
    .await;
    assert_eq!(m["updates_due"], 1, "{m}");
    assert_eq!(m["updates_kept"], 0);
    assert_eq!(m["updates_missed"], 1);
    assert!(m["declared_to_first_notice_secs"].is_i64());

    // Resolving closes the cadence: nothing is due any more.
    let (_, r) = patch(
        &app,
        &format!("/api/v1/incidents/{id}"),
        &soc,
        json!({"status": "resolved"}),
    )
    .await;
    assert_eq!(r["next_update_due"], Value::Null);
    let (s, sum) = json(app.get("/api/v1/incidents/metrics", &soc).await).await;
    assert_eq!(s, 200, "{sum}");
    assert_eq!(sum["incidents"], 1);
    assert_eq!(sum["updates_missed"], 1);
    assert_eq!(sum["cadence_kept"], 0.0);
    // The scorecard counts the same: one update due, none in time.
    let (s, card) = json(app.get("/api/v1/scorecard", &app.admin_token).await).await;
    assert_eq!(s, 200, "{card}");
    let inc = &card["incidents"];
    assert_eq!(inc["updates_due"], 1, "{inc}");
    assert_eq!(inc["updates_kept"], 0);
    assert_eq!(inc["cadence_kept_pct"], 0.0);
    let row = inc["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["incident_id"] == id.as_str())
        .expect("the incident is listed");
    assert_eq!(
        (row["updates_due"].as_i64(), row["updates_kept"].as_i64()),
        (Some(1), Some(0))
    );
}

#[tokio::test]
async fn afterwards_a_postmortem_remedies_and_a_survey_that_lands_in_feedback() {
    let app = spawn_app().await;
    create_user(&app.store, "cy@example.com", "Cy Agent", "cx_agent").await;
    let cy = user_id(&app, "cy@example.com").await;
    let soc = create_token(&app.store, "security_analyst").await;
    let inc = declare(
        &app,
        &soc,
        json!({"title": "Exports leaked", "severity": "SEV3", "playbook": "service-outage"}),
    )
    .await;
    let id = inc["id"].as_str().unwrap();
    let (_, list) = json(
        app.get(&format!("/api/v1/incidents/{id}/checklist"), &soc)
            .await,
    )
    .await;
    let first = list[0]["id"].as_str().unwrap();
    let last = list.as_array().unwrap().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    patch(
        &app,
        &format!("/api/v1/incidents/{id}/checklist/{first}"),
        &soc,
        json!({"done": true}),
    )
    .await;
    patch(
        &app,
        &format!("/api/v1/incidents/{id}/checklist/{last}"),
        &soc,
        json!({"assignee": cy}),
    )
    .await;
    let (s, _) = json(
        app.post_json(
            &format!("/api/v1/incidents/{id}/updates"),
            &app.admin_token,
            &json!({"status": "resolved", "body": "Fixed."}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);

    // Remedies: offered and taken up.
    let (s, r) = json(
        app.post_json(
            &format!("/api/v1/incidents/{id}/remedies"),
            &soc,
            &json!({"kind": "account_monitoring", "description": "12 months of free account monitoring", "offered": 1200, "taken": 300}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["take_up"], 0.25);
    let rid = r["id"].as_str().unwrap();
    let (s, _) = patch(
        &app,
        &format!("/api/v1/incidents/{id}/remedies/{rid}"),
        &soc,
        json!({"offered": 10, "taken": 11}),
    )
    .await;
    assert_eq!(s, 400);
    let (s, r) = patch(
        &app,
        &format!("/api/v1/incidents/{id}/remedies/{rid}"),
        &soc,
        json!({"offered": 1200, "taken": 600}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(r["taken"], 600);

    // The postmortem starts from the timeline, checklist and numbers.
    let (s, pm) = json(
        app.post_json(
            &format!("/api/v1/incidents/{id}/postmortem"),
            &soc,
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{pm}");
    assert_eq!(pm["status"], "draft");
    let summary = pm["summary"].as_str().unwrap();
    assert!(summary.contains("declared: Declared SEV3"), "{summary}");
    assert!(summary.contains("update published"), "{summary}");
    assert!(pm["went_well"]
        .as_str()
        .unwrap()
        .contains("First public notice"));
    let items = pm["action_items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        list.as_array().unwrap().len() - 1,
        "every open step"
    );
    assert!(items.iter().any(|a| a["owner"] == cy.as_str()));
    let (s, _) = json(
        app.post_json(
            &format!("/api/v1/incidents/{id}/postmortem"),
            &soc,
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 409);
    let path = format!("/api/v1/incidents/{id}/postmortem");
    let (s, e) = patch(
        &app,
        &path,
        &soc,
        json!({"action_items": [{"title": "Rotate keys", "due": "2026-02-30"}]}),
    )
    .await;
    assert_eq!(s, 400, "{e}");
    let (s, pm) = patch(&app, &path, &soc, json!({"root_cause": "An expired certificate.",
        "action_items": [{"title": "Alert on certificate expiry", "owner": cy, "due": "2026-12-15"}]})).await;
    assert_eq!(s, 200, "{pm}");
    assert_eq!(pm["root_cause"], "An expired certificate.");
    assert_eq!(pm["action_items"][0]["due"], "2026-12-15");
    let (s, pm) = patch(&app, &path, &soc, json!({"publish": true})).await;
    assert_eq!(s, 200);
    assert_eq!(pm["status"], "published");
    let (s, _) = patch(&app, &path, &soc, json!({"root_cause": "rewritten"})).await;
    assert_eq!(s, 409, "a published postmortem is never edited");
    assert!(app
        .store
        .execute("UPDATE postmortems SET root_cause = 'x'", vec![])
        .await
        .is_err());

    // The survey: a hosted form linked to the incident; answers are feedback.
    let (s, _) = json(
        app.post_json(&format!("/api/v1/incidents/{id}/survey"), &soc, &json!({}))
            .await,
    )
    .await;
    assert_eq!(s, 403, "creating a survey needs feedback:store");
    let cx = create_token(&app.store, "cx_agent").await;
    let (s, sv) = json(
        app.post_json(&format!("/api/v1/incidents/{id}/survey"), &cx, &json!({}))
            .await,
    )
    .await;
    assert_eq!(s, 201, "{sv}");
    let url = sv["url"].as_str().unwrap();
    assert!(url.contains("/f/incident-"), "{url}");
    let (s, _) = json(
        app.post_json(&format!("/api/v1/incidents/{id}/survey"), &cx, &json!({}))
            .await,
    )
    .await;
    assert_eq!(s, 409);
    let slug = sv["slug"].as_str().unwrap();
    let form = app
        .client
        .get(app.url(&format!("/f/{slug}?lang=fa")))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    assert!(form.text().await.unwrap().contains("اطلاع‌رسانی"));
    let sent = app
        .client
        .post(app.url(&format!("/f/{slug}")))
        .form(&[
            ("lang", "en"),
            ("informed", "2"),
            ("comment", "Tell us sooner next time"),
        ])
        .send()
        .await
        .unwrap();
    assert!(sent.status().is_success(), "{}", sent.status());
    let (_, fb) = json(
        app.get(
            &format!(
                "/api/v1/feedback?survey={}",
                sv["survey_id"].as_str().unwrap()
            ),
            &app.admin_token,
        )
        .await,
    )
    .await;
    let items = fb["items"]
        .as_array()
        .or(fb.as_array())
        .cloned()
        .unwrap_or_default();
    assert!(!items.is_empty(), "answers landed in feedback: {fb}");
    let touch = format!("incident:{}", id.to_lowercase());
    assert!(
        items.iter().all(|i| i["touchpoint"] == touch.as_str()),
        "{fb}"
    );
    let (_, links) = json(
        app.get(&format!("/api/v1/incidents/{id}/links"), &soc)
            .await,
    )
    .await;
    assert!(links
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["kind"] == "survey"));

    // The dashboard shows all of it.
    let (client, _) = app
        .browser_session(&app.admin_email, crate::helpers::PASSWORD)
        .await;
    let resp = client
        .get(app.url(&format!("/incidents/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.unwrap();
    for s in [
        "An expired certificate.",
        "Alert on certificate expiry",
        "1200",
        "600",
        "incident-",
        "Response in numbers",
    ] {
        assert!(page.contains(s), "{s:?} not on the incident page");
    }
    let resp = client.get(app.url("/postmortems")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.unwrap();
    assert!(page.contains("Exports leaked") && page.contains("published"));
}

#[tokio::test]
async fn the_incident_page_shows_the_checklist_controls_and_the_signal_page_declares() {
    let app = spawn_app().await;
    let sig = open_signal(&app, "phishing_scam", 5 * 60_000).await;
    let (client, _) = app
        .browser_session(&app.admin_email, crate::helpers::PASSWORD)
        .await;
    let page = client
        .get(app.url(&format!("/signals/{sig}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("action=\"/signals/{sig}/promote\"")));
    let csrf = crate::helpers::hidden_field(&page, "csrf").expect("csrf");
    let resp = client
        .post(app.url(&format!("/signals/{sig}/promote")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Phishing SMS wave"),
            ("severity", "SEV2"),
            ("playbook", "customer-data-breach"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        303,
        "{}",
        resp.text().await.unwrap_or_default()
    );
    let to = resp.headers()["location"].to_str().unwrap().to_owned();
    let page = client
        .get(app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Phishing SMS wave"));
    assert!(page.contains("Checklist"));
    assert!(page.contains("value=\"check\""), "a Done button per step");
    assert!(
        page.contains(&format!("href=\"/signals/{sig}\"")),
        "the signal is linked"
    );
    assert!(page.contains("Next public update"));
    assert!(page.contains("from-template"));
    assert!(page.contains("Start the postmortem"));
    let id = to
        .trim_start_matches("/incidents/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let (_, list) = json(
        app.get(
            &format!("/api/v1/incidents/{id}/checklist"),
            &app.admin_token,
        )
        .await,
    )
    .await;
    let item = list[0]["id"].as_str().unwrap();
    let resp = client
        .post(app.url(&format!("/incidents/{id}/checklist/{item}")))
        .form(&[("csrf", csrf.as_str()), ("action", "check")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let (_, list) = json(
        app.get(
            &format!("/api/v1/incidents/{id}/checklist"),
            &app.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(list[0]["done"], true);

    // A draft from the template form, in English and Persian only; its
    // previews are on the page.
    let resp = client
        .post(app.url(&format!("/incidents/{id}/updates/from-template")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("template", "breach"),
            ("what_happened_en", "A fake SMS uses our name."),
            ("impact_en", "Nothing was taken from us."),
            ("actions_en", "We asked the carrier to block the sender."),
            ("contact_en", "support@example.com"),
            ("what_happened_fa", "پیامکی جعلی از نام ما استفاده می‌کند."),
            ("impact_fa", "چیزی از ما برداشته نشده است."),
            ("actions_fa", "از اپراتور خواستیم فرستنده را مسدود کند."),
            ("contact_fa", "support@example.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        303,
        "{}",
        resp.text().await.unwrap_or_default()
    );
    let (_, ups) = json(
        app.get(&format!("/api/v1/incidents/{id}/updates"), &app.admin_token)
            .await,
    )
    .await;
    let uid = ups[0]["id"].as_str().unwrap();
    assert_eq!(ups[0]["state"], "draft", "SEV2 needs approval");
    let langs: Vec<String> = app
        .store
        .update_variants(uid)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.language)
        .collect();
    assert_eq!(langs, ["en", "fa"]);
    let page = client
        .get(app.url(&format!("/incidents/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("lang=\"fa\" dir=\"rtl\""),
        "Persian preview right to left"
    );
    assert!(page.contains("SMS:"));
}

/// Notice templates in the dashboard: the communications lead reads the
/// built-in ones, writes one of their own in two languages, sees a mistake
/// shown with what they typed kept, and an incident update is written from
/// it.
#[tokio::test]
async fn notice_templates_are_written_in_the_dashboard_and_a_mistake_keeps_the_text() {
    let app = spawn_app().await;
    create_user(
        &app.store,
        "cora@example.com",
        "Cora Comms",
        "communications",
    )
    .await;
    create_user(
        &app.store,
        "sam@example.com",
        "Sam Analyst",
        "security_analyst",
    )
    .await;
    let (cora, s) = app
        .browser_session("cora@example.com", crate::helpers::PASSWORD)
        .await;
    assert_eq!(s, 303);
    let (s, list) = app.page(&cora, "/templates").await;
    assert_eq!(s, 200);
    for builtin in [
        "/templates/breach",
        "/templates/outage",
        "/templates/resolved",
    ] {
        assert!(list.contains(builtin), "{list}");
    }
    let (_, breach) = app.page(&cora, "/templates/breach").await;
    assert!(breach.contains("lang=\"fa\" dir=\"rtl\"") && breach.contains("ગુજરાતી"));
    assert!(breach.contains("name=\"gu_body\""));
    let csrf = crate::helpers::hidden_field(&breach, "csrf").unwrap();

    let mut form = vec![
        ("csrf", csrf.clone()),
        ("slug", "phishing-warning".to_owned()),
        ("name", "Phishing warning".to_owned()),
        ("status", "monitoring".to_owned()),
        (
            "en_subject",
            "Beware of messages pretending to be {{ company }}".to_owned(),
        ),
        (
            "en_body",
            "{{ what_happened }}\n\n{{ impact }}\n\n{{ actions }}\n\nQuestions: {{ contact }}"
                .to_owned(),
        ),
        ("en_sms", "{{ headline }} {{ status_url }}".to_owned()),
        ("fa_subject", "هشدار فیشینگ از طرف {{ company }}".to_owned()),
        (
            "fa_body",
            "{{ what_happened }}\n{{ impact }}\n{{ actions }}\n{{ contact }}".to_owned(),
        ),
        ("fa_sms", "{{ headline }}".to_owned()),
        ("zh_subject", String::new()),
        ("zh_body", String::new()),
        ("zh_sms", String::new()),
    ];
    // A misspelt name: refused with the language and part named, and the
    // form comes back with everything typed.
    form[5].1 = "{{ what_hapened }}\n\nQuestions: {{ contact }}".to_owned();
    let r = cora
        .post(app.url("/templates/new"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Not saved:") && page.contains("what_hapened"),
        "{page}"
    );
    assert!(page.contains("en") && page.contains("body"), "{page}");
    assert!(
        page.contains("هشدار فیشینگ"),
        "the other languages are kept"
    );
    let (s, _) = json(
        app.get(
            "/api/v1/notice-templates/phishing-warning",
            &app.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(s, 404, "nothing half-written");

    form[5].1 = "{{ what_happened }}\n\n{{ impact }}\n\n{{ actions }}\n\nQuestions: {{ contact }}"
        .to_owned();
    let r = cora
        .post(app.url("/templates/new"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/templates/phishing-warning?notice="));
    let (_, t) = json(
        app.get(
            "/api/v1/notice-templates/phishing-warning",
            &app.admin_token,
        )
        .await,
    )
    .await;
    let langs: Vec<&String> = t["texts"].as_object().unwrap().keys().collect();
    assert_eq!(langs, ["en", "fa"], "an empty language is left out");
    assert_eq!(t["status"], "monitoring");

    // An update is written from it.
    let comms = create_token(&app.store, "communications").await;
    let inc = declare(
        &app,
        &app.admin_token,
        json!({"title": "Phishing SMS campaign", "severity": "SEV3", "impact": "minor"}),
    )
    .await;
    let (s, u) = json(
        app.post_json(
            &format!("/api/v1/incidents/{}/updates/from-template", inc["id"].as_str().unwrap()),
            &comms,
            &json!({"template": "phishing-warning", "draft": true, "fields": {
                "what_happened": {"en": "Texts pretending to be us ask for your card.", "fa": "پیامک‌هایی به نام ما کارت شما را می‌خواهند."},
                "impact": "None of our systems were breached.",
                "actions": "We are having the sender blocked.",
                "contact": "security@example.com"}}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{u}");
    let langs: Vec<&str> = u["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["language"].as_str().unwrap())
        .collect();
    assert_eq!(langs, ["en", "fa"]);

    // Without notices:modify the page is read only and saving is refused.
    let (sam, _) = app
        .browser_session("sam@example.com", crate::helpers::PASSWORD)
        .await;
    let (s, page) = app.page(&sam, "/templates/phishing-warning").await;
    assert_eq!(s, 200);
    assert!(page.contains("readonly") && !page.contains("Save template"));
    let r = sam
        .post(app.url("/templates/phishing-warning"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    app.stop().await;
}

/// Playbooks in the dashboard: an admin reads the built-in ones, writes
/// one of their own with seats, and an incident declared with it gets
/// those steps; a mistake keeps the text; built-in ones stay.
#[tokio::test]
async fn playbooks_are_written_in_the_dashboard_and_become_checklists() {
    let app = spawn_app().await;
    create_user(
        &app.store,
        "cora@example.com",
        "Cora Comms",
        "communications",
    )
    .await;
    let (admin, _) = app
        .browser_session(&app.admin_email, crate::helpers::PASSWORD)
        .await;
    let (s, list) = app.page(&admin, "/playbooks").await;
    assert_eq!(s, 200);
    assert!(list.contains("/playbooks/customer-data-breach"), "{list}");
    let (_, breach) = app.page(&admin, "/playbooks/customer-data-breach").await;
    assert!(
        breach.contains("legal: "),
        "steps with their seats in the form"
    );
    assert!(
        !breach.contains("/delete\""),
        "a built-in playbook has no delete"
    );
    let csrf = crate::helpers::hidden_field(&breach, "csrf").unwrap();

    let steps = "incident_lead: Assemble the team\nsecurity: Find the sender and the landing page\ncommunications: Warn customers on the status page\nAsk the carrier to block the sender\n";
    let form = |slug: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("slug", slug.to_owned()),
            ("name", "Phishing campaign".to_owned()),
            (
                "description",
                "Texts or mails pretending to be us".to_owned(),
            ),
            ("steps", steps.to_owned()),
        ]
    };
    let r = admin
        .post(app.url("/playbooks/new"))
        .form(&form("Not A Slug"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Not saved:") && page.contains("slug"),
        "{page}"
    );
    assert!(
        page.contains("Find the sender and the landing page"),
        "the steps are kept"
    );

    let r = admin
        .post(app.url("/playbooks/new"))
        .form(&form("phishing-campaign"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, pb) = json(
        app.get("/api/v1/playbooks/phishing-campaign", &app.admin_token)
            .await,
    )
    .await;
    let items: Vec<(String, Value)> = pb["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["title"].as_str().unwrap().to_owned(), i["seat"].clone()))
        .collect();
    assert_eq!(items.len(), 4);
    assert_eq!(
        items[1],
        (
            "Find the sender and the landing page".into(),
            json!("security")
        )
    );
    assert_eq!(items[3].1, Value::Null, "no seat named, none given");
    // The same slug again is refused, not overwritten.
    let r = admin
        .post(app.url("/playbooks/new"))
        .form(&form("phishing-campaign"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);

    let inc = declare(
        &app,
        &app.admin_token,
        json!({"title": "Phishing SMS", "severity": "SEV3", "impact": "minor", "playbook": "phishing-campaign"}),
    )
    .await;
    let (_, checklist) = json(
        app.get(
            &format!(
                "/api/v1/incidents/{}/checklist",
                inc["id"].as_str().unwrap()
            ),
            &app.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(checklist.as_array().unwrap().len(), 4, "{checklist}");

    // Without settings:modify: read only, and saving is refused.
    let (cora, _) = app
        .browser_session("cora@example.com", crate::helpers::PASSWORD)
        .await;
    let (s, page) = app.page(&cora, "/playbooks/phishing-campaign").await;
    assert_eq!(s, 200);
    assert!(page.contains("Find the sender") && !page.contains("Save playbook"));
    let r = cora
        .post(app.url("/playbooks/phishing-campaign"))
        .form(&form("phishing-campaign"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Built-in ones stay; one's own goes.
    let r = admin
        .post(app.url("/playbooks/customer-data-breach/delete"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let r = admin
        .post(app.url("/playbooks/phishing-campaign/delete"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (s, _) = json(
        app.get("/api/v1/playbooks/phishing-campaign", &app.admin_token)
            .await,
    )
    .await;
    assert_eq!(s, 404);
    app.stop().await;
}
