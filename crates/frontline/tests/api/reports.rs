//! The weekly scorecard email: stakeholders opt in (themselves on the
//! Scorecard page, or an admin for them), the due week goes out once per
//! week through the outbox and SMTP even with a second node, and the
//! figures in it are the scorecard's.

use std::time::Duration;

use frontline::config::Secret;
use frontline::notify::catcher::{Caught, MailCatcher};
use frontline::reports::Week;
use mail_parser::MimeHeaders;
use serde_json::{json, Value};

use crate::helpers::{create_token, create_user, hidden_field, json, spawn_app_with, user_id};
use crate::helpers::{TestApp, PASSWORD};

fn parse(m: &Caught) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(&m.raw)
        .expect("a parsable message")
}

async fn patch_user(app: &TestApp, id: &str, body: Value) -> (u16, Value) {
    let (s, v) = json(
        app.send_json(
            reqwest::Method::PATCH,
            &format!("/api/v1/users/{id}"),
            &app.admin_token,
            &body,
        )
        .await,
    )
    .await;
    (s.as_u16(), v)
}

/// The lines the report must carry for a week, from the scorecard API.
async fn expected_lines(app: &TestApp, week: Week) -> Vec<String> {
    let card = |w: Week| async move {
        let (s, c) = json(
            app.get(
                &format!(
                    "/api/v1/scorecard?from={}&to={}&by=week",
                    w.monday(),
                    w.sunday()
                ),
                &app.admin_token,
            )
            .await,
        )
        .await;
        assert_eq!(s, 200);
        let all = c["totals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["value"] == "all")
            .cloned()
            .unwrap_or(json!({}));
        (all, c)
    };
    let ((a, ca), (b, cb)) = (card(week).await, card(week.previous()).await);
    let num = |v: &Value, path: &[&str]| {
        let mut v = v;
        for p in path {
            v = &v[*p];
        }
        v.as_f64()
    };
    let line = |name: &str, x: Option<f64>, y: Option<f64>, d: usize| {
        let show = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{v:.d$}"));
        let change = match (x, y) {
            (Some(x), Some(y)) => format!("{:+.d$}", x - y),
            _ => "n/a".into(),
        };
        format!(
            "{name}: {} (week before {}, change {change})",
            show(x),
            show(y)
        )
    };
    let both = |name: &str, path: &[&str], d: usize| line(name, num(&a, path), num(&b, path), d);
    // Counts are 0 in a week without any (the scorecard has no row then).
    let count = |name: &str, field: &str| {
        let n = |v: &Value| Some(v[field].as_f64().unwrap_or(0.0));
        line(name, n(&a), n(&b), 0)
    };
    let backlog = |v: &Value| Some(v["backlog"].as_f64().unwrap_or(0.0));
    vec![
        both("NPS", &["nps"], 1),
        count("NPS answers", "nps_responses"),
        both("CSAT (% 4-5)", &["csat"], 1),
        both("CES mean (1-7)", &["ces_mean"], 2),
        both("CES easy (% 5-7)", &["ces_easy_share"], 1),
        count("Tickets opened", "tickets_created"),
        count("Tickets solved", "tickets_solved"),
        both(
            "First response median (h)",
            &["first_response", "median_hours"],
            2,
        ),
        both("Resolution median (h)", &["resolution", "median_hours"], 2),
        both("SLA first response met (%)", &["sla_first_response"], 1),
        line("Backlog at week end", backlog(&a), backlog(&b), 0),
        line(
            "Incidents declared",
            num(&ca, &["incidents", "incidents"]),
            num(&cb, &["incidents", "incidents"]),
            0,
        ),
    ]
}

/// Checks one report email against the scorecard: the figures in the text
/// and the HTML, and the attachment equal to the week's CSV export.
async fn check_report(app: &TestApp, m: &Caught, week: Week) {
    let msg = parse(m);
    assert_eq!(
        msg.subject().unwrap(),
        format!("Weekly CX report {}", week.label())
    );
    let text = msg.body_text(0).unwrap().into_owned();
    let html = msg.body_html(0).unwrap().into_owned();
    for line in expected_lines(app, week).await {
        assert!(text.contains(&line), "{line:?} missing in:\n{text}");
        let value = line.split(": ").nth(1).unwrap().split(' ').next().unwrap();
        // HTML-escaped as the template escapes ("n/a": "n&#x2f;a").
        let value = value.replace('/', "&#x2f;");
        assert!(
            html.contains(&format!(">{value}</td>")),
            "{value} in:\n{html}"
        );
    }
    let attachment = msg.attachment(0).expect("the scorecard is attached");
    assert_eq!(
        attachment.attachment_name(),
        Some(format!("scorecard-{}.csv", week.label()).as_str())
    );
    let csv = app
        .get(
            &format!(
                "/api/v1/scorecard.csv?from={}&to={}&by=day&dimension=all",
                week.monday(),
                week.sunday()
            ),
            &app.admin_token,
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(attachment.contents()).replace("\r\n", "\n"),
        csv,
        "the attachment is the week's CSV"
    );
}

async fn wait_quiet(mail: &MailCatcher, n: u64) {
    assert_eq!(mail.wait_for(n, Duration::from_secs(30)).await, n);
    // Several more checks pass (every second): nothing more comes.
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert_eq!(mail.total(), n, "no more mail than expected");
}

#[tokio::test]
async fn the_weekly_report_goes_once_to_each_stakeholder_with_the_scorecards_figures() {
    let mail = MailCatcher::start("127.0.0.1:0", true).await.unwrap();
    let smtp = mail.url();
    // This node looks once, at start (nobody has opted in yet); the nodes
    // started below look every second.
    let app = spawn_app_with(|c| {
        c.notify.smtp_url = Secret::new(smtp.clone());
        c.reports.weekly_check_secs = 7 * 86_400;
    })
    .await;
    // The week the schedule is due to send now, and feedback in it and the
    // week before.
    let week = Week::due(chrono::Utc::now(), chrono_tz::UTC, 7);
    let at = |d: chrono::NaiveDate| format!("{d}T10:00:00Z");
    let mut items = Vec::new();
    for (kind, score) in [
        ("nps", 10),
        ("nps", 9),
        ("nps", 3),
        ("csat", 5),
        ("csat", 2),
    ] {
        items.push(json!({"kind": kind, "score": score, "occurred_at": at(week.monday())}));
    }
    items.push(json!({"kind": "ces", "score": 6, "occurred_at": at(week.sunday())}));
    for (kind, score) in [("nps", 10), ("nps", 6), ("csat", 4)] {
        items.push(
            json!({"kind": kind, "score": score, "occurred_at": at(week.previous().monday())}),
        );
    }
    let (s, _) = json(
        app.post_json(
            "/api/v1/feedback/batch",
            &app.admin_token,
            &Value::Array(items),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);

    // Vic opts in on the Scorecard page; an admin adds Sam; Tom's role may
    // not view reports and Dee is disabled: neither gets it.
    create_user(&app.store, "vic@example.com", "Vic Viewer", "viewer").await;
    create_user(
        &app.store,
        "sam@example.com",
        "Sam Analyst",
        "security_analyst",
    )
    .await;
    create_user(&app.store, "dee@example.com", "Dee Gone", "analyst").await;
    let (s, _) = json(
        app.post_json(
            "/api/v1/roles",
            &app.admin_token,
            &json!({"name": "ticket_reader", "grants": ["tickets:view"]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);
    create_user(
        &app.store,
        "tom@example.com",
        "Tom Tickets",
        "ticket_reader",
    )
    .await;
    let (browser, s) = app.browser_session("vic@example.com", PASSWORD).await;
    assert!(s.is_redirection());
    let page = browser
        .get(app.url("/scorecard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("You do not get the weekly report."), "{page}");
    assert!(
        !page.contains("Add stakeholder"),
        "only admins manage others"
    );
    let csrf = hidden_field(&page, "csrf").unwrap();
    let r = browser
        .post(app.url("/scorecard/weekly-report"))
        .form(&[("csrf", csrf.as_str()), ("subscribed", "1")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let page = browser
        .get(app.url("/scorecard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("You get the weekly report."));
    for (who, email) in [
        ("sam", "sam@example.com"),
        ("tom", "tom@example.com"),
        ("dee", "dee@example.com"),
    ] {
        let id = user_id(&app, email).await;
        let (s, u) = patch_user(&app, &id, json!({"weekly_report": true})).await;
        assert_eq!(s, 200, "{who}: {u}");
        assert_eq!(u["weekly_report"], true);
    }
    let dee = user_id(&app, "dee@example.com").await;
    assert_eq!(
        patch_user(&app, &dee, json!({"disabled": true})).await.0,
        200
    );
    let (s, e) = patch_user(&app, &dee, json!({"weekly_report": "yes"})).await;
    assert_eq!(s, 400);
    assert!(!e["detail"].as_str().unwrap().contains("yes"), "{e}");

    let (_, list) = json(
        app.get("/api/v1/reports/weekly/stakeholders", &app.admin_token)
            .await,
    )
    .await;
    let mut names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["Sam Analyst", "Vic Viewer"]);

    // Two more nodes on the same database look every second: the due week
    // goes out once, one email each.
    let mut config = frontline::Config::load_from(None, &app.env).unwrap();
    config.notify.smtp_url = Secret::new(smtp.clone());
    config.reports.weekly_check_secs = 1;
    let b = frontline::start(config.clone(), false).await.unwrap();
    let c = frontline::start(config.clone(), false).await.unwrap();
    wait_quiet(&mail, 2).await;
    let got = mail.messages();
    let mut to: Vec<String> = got.iter().map(|m| m.to[0].clone()).collect();
    to.sort();
    assert_eq!(to, ["sam@example.com", "vic@example.com"]);
    for m in &got {
        check_report(&app, m, week).await;
    }
    let text = parse(&got[0]).body_text(0).unwrap().into_owned();
    // NPS: 2 promoters, 1 detractor of 3 = 33.3; the week before 0.0.
    assert!(
        text.contains("NPS: 33.3 (week before 0.0, change +33.3)"),
        "{text}"
    );
    let (_, overview) = json(app.get("/api/v1/reports/weekly", &app.admin_token).await).await;
    assert_eq!(overview["sent"][0]["week"], week.label().as_str());
    assert_eq!(overview["sent"][0]["recipients"], 2);
    assert_eq!(overview["timezone"], "UTC");

    // After a restart the week is not sent again.
    b.stop().await.unwrap();
    c.stop().await.unwrap();
    let again = frontline::start(config, false).await.unwrap();
    wait_quiet(&mail, 2).await;
    again.stop().await.unwrap();

    // Vic stops it for herself.
    let page = browser
        .get(app.url("/scorecard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden_field(&page, "csrf").unwrap();
    browser
        .post(app.url("/scorecard/weekly-report"))
        .form(&[("csrf", csrf.as_str()), ("subscribed", "0")])
        .send()
        .await
        .unwrap();
    let (_, list) = json(
        app.get("/api/v1/reports/weekly/stakeholders", &app.admin_token)
            .await,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_weeks_report_is_sent_on_request_with_ticket_figures() {
    let mail = MailCatcher::start("127.0.0.1:0", true).await.unwrap();
    let smtp = mail.url();
    let app = spawn_app_with(|c| {
        c.notify.smtp_url = Secret::new(smtp.clone());
        // Not within this test: a week from now at the soonest.
        c.reports.weekly_check_secs = 7 * 86_400;
    })
    .await;
    let agent = create_token(&app.store, "cx_agent").await;
    let viewer = create_token(&app.store, "viewer").await;
    // Tickets this week: one answered and solved, one left open.
    for subject in ["Card declined", "Login loop"] {
        let (s, t) = json(
            app.post_json(
                "/api/v1/tickets",
                &agent,
                &json!({"subject": subject, "description": "Please help"}),
            )
            .await,
        )
        .await;
        assert_eq!(s, 201, "{t}");
        if subject == "Card declined" {
            let id = t["id"].as_str().unwrap();
            let (s, _) = json(
                app.post_json(
                    &format!("/api/v1/tickets/{id}/replies"),
                    &agent,
                    &json!({"body": "Fixed, sorry.", "status": "solved"}),
                )
                .await,
            )
            .await;
            assert_eq!(s, 201);
        }
    }
    // A token cannot opt in; a person can, over the API as well.
    let (s, e) = json(
        app.send_json(
            reqwest::Method::PUT,
            "/api/v1/reports/weekly/subscription",
            &viewer,
            &json!({"subscribed": true}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(e["code"], "not_a_person");
    let me = user_id(&app, &app.admin_email).await;
    let (s, u) = patch_user(&app, &me, json!({"weekly_report": true})).await;
    assert_eq!(s, 200, "{u}");

    let week = Week::containing(chrono::Utc::now().date_naive());
    let send = |body: Value, token: String| {
        let app = &app;
        async move {
            json(
                app.post_json("/api/v1/reports/weekly/send", &token, &body)
                    .await,
            )
            .await
        }
    };
    let (s, e) = send(json!({"week": "2026-48"}), app.admin_token.clone()).await;
    assert_eq!(s, 400);
    assert!(e["detail"].as_str().unwrap().contains("week"), "{e}");
    let (s, _) = send(
        json!({"week": Week::containing(chrono::Utc::now().date_naive() + chrono::Duration::days(14)).label()}),
        app.admin_token.clone(),
    )
    .await;
    assert_eq!(s, 400, "a week that has not begun");
    let (s, _) = send(json!({"week": week.label()}), viewer.clone()).await;
    assert_eq!(s, 403);
    let (s, q) = send(json!({"week": week.label()}), app.admin_token.clone()).await;
    assert_eq!(s, 202, "{q}");
    assert_eq!(q["recipients"], 1);

    assert_eq!(mail.wait_for(1, Duration::from_secs(30)).await, 1);
    let m = &mail.messages()[0];
    assert_eq!(m.to, vec![app.admin_email.clone()]);
    check_report(&app, m, week).await;
    let text = parse(m).body_text(0).unwrap().into_owned();
    assert!(text.contains("Tickets opened: 2 ("), "{text}");
    assert!(text.contains("Tickets solved: 1 ("), "{text}");
    // Sent on request, not on schedule: the schedule still owns the week.
    let (_, overview) = json(app.get("/api/v1/reports/weekly", &app.admin_token).await).await;
    assert_eq!(overview["sent"], json!([]));
    // The send is in the audit trail.
    let (_, audit) = json(app.get("/api/v1/audit?limit=50", &app.admin_token).await).await;
    assert!(
        audit.to_string().contains("report.weekly.send"),
        "audited: {audit}"
    );
    app.stop().await;
}
