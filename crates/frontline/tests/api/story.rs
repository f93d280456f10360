//! The demo's story, end to end in headless Chromium: each chapter played
//! through the API as `frontline demo` plays it, then its page opened in
//! the browser and kept as a screenshot under `target/demo-story/`. Every
//! page the story and the product show is checked for assets from other
//! origins and, with axe-core (WCAG 2.1 A and AA rules), for accessibility.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use fantoccini::{Client, Locator};
use frontline::config::Secret;
use frontline::demo::story::{Cast, Story, CHAPTERS};
use frontline::notify::catcher::MailCatcher;
use serde_json::json;

use crate::browser::{headless, sign_in};
use crate::helpers::{create_token, create_user, json, spawn_app_with, TestApp};

fn story_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/demo-story");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// axe-core's script, which scripts/test fetches from npm into target/.
fn axe_source() -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/axe/node_modules/axe-core/axe.min.js");
    match std::fs::read_to_string(&path) {
        Ok(s) => Some(s),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must have axe-core in target/axe (scripts/test fetches it)"
            );
            eprintln!("accessibility check passed over: run scripts/test once to fetch axe-core");
            None
        }
    }
}

/// Every page is checked the same way: nothing from another origin, and
/// no WCAG 2.1 A/AA violation axe-core can find. Problems are collected,
/// so one run lists them all.
struct Checker {
    origin: String,
    axe: Option<String>,
    problems: Vec<String>,
    pages: usize,
    /// Every script any page loads.
    scripts: std::collections::BTreeSet<String>,
}

impl Checker {
    async fn check(&mut self, client: &Client, label: &str) {
        self.pages += 1;
        let resources = client
            .execute(
                "return [location.href].concat(performance.getEntriesByType('resource').map(e => e.name), \
                 Array.from(document.querySelectorAll('[src],link[href]')).map(e => e.src || e.href));",
                vec![],
            )
            .await
            .expect("list resources");
        let scripts = client
            .execute(
                "return Array.from(document.scripts).map(s => s.src || ('inline:' + s.text.length));",
                vec![],
            )
            .await
            .expect("list scripts");
        for s in scripts.as_array().into_iter().flatten() {
            self.scripts
                .insert(s.as_str().unwrap_or_default().to_owned());
        }
        for r in resources.as_array().into_iter().flatten() {
            let url = r.as_str().unwrap_or_default();
            if !(url.starts_with(&self.origin) || url.starts_with("data:") || url.is_empty()) {
                self.problems
                    .push(format!("{label}: loads {url} from another origin"));
            }
        }
        let Some(axe) = &self.axe else { return };
        client
            .execute(&format!("{axe}\nreturn true;"), vec![])
            .await
            .expect("inject axe-core");
        let found = client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
                   .then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' +
                       v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))
                   .catch(e => done(['axe failed: ' + e]));",
                vec![],
            )
            .await
            .expect("run axe-core");
        for v in found.as_array().into_iter().flatten() {
            self.problems
                .push(format!("{label}: {}", v.as_str().unwrap_or_default()));
        }
    }
}

async fn open(client: &Client, app: &TestApp, path: &str) {
    client.goto(&app.url(path)).await.unwrap();
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("h1"))
        .await
        .unwrap_or_else(|e| panic!("{path}: no heading: {e}"));
}

async fn text(client: &Client) -> String {
    client
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn first_id(app: &TestApp, path: &str) -> String {
    let (s, v) = json(app.get(path, &app.admin_token).await).await;
    assert_eq!(s, 200, "{path}: {v}");
    v.as_array()
        .or_else(|| v["items"].as_array())
        .and_then(|l| l.first())
        .and_then(|x| x["id"].as_str())
        .unwrap_or_else(|| panic!("{path} is empty: {v}"))
        .to_owned()
}

#[tokio::test]
async fn the_demo_story_plays_in_a_browser_with_no_third_party_assets_and_no_accessibility_violations(
) {
    let Some((_driver, client)) = headless(1280, 900).await else {
        return;
    };
    let mailbox = Arc::new(MailCatcher::start("127.0.0.1:0", true).await.unwrap());
    let url = mailbox.url();
    let app = spawn_app_with(|c| {
        c.notify.smtp_url = Secret::new(url);
        c.notify.allow_private_targets = true;
        c.notify.retry_base_secs = 1;
    })
    .await;
    let _ = app.state().mailbox.set(mailbox.clone());
    for (email, role) in [
        ("sol@example.com", "security_analyst"),
        ("cora@example.com", "communications"),
        ("lee@example.com", "legal"),
        ("cai@example.com", "cx_agent"),
    ] {
        create_user(&app.store, email, role, role).await;
    }
    let cast = Cast {
        admin: app.admin_token.clone(),
        analyst: create_token(&app.store, "security_analyst").await,
        communications: create_token(&app.store, "communications").await,
        legal: create_token(&app.store, "legal").await,
        cx: create_token(&app.store, "cx_agent").await,
    };
    let mut checker = Checker {
        origin: app.url(""),
        axe: axe_source(),
        problems: Vec::new(),
        pages: 0,
        scripts: Default::default(),
    };
    let dir = story_dir();
    sign_in(&client, &app.url(""), &app.admin_email).await;

    let mut story = Story::new(&app.url(""), cast, mailbox.clone(), 50.0);
    story.prepare().await.expect("the story's cast and stage");
    let mut n = 0;
    while let Some(chapter) = story.play_next().await.expect("a chapter") {
        n += 1;
        open(&client, &app, &chapter.page).await;
        let shown = text(&client).await;
        // What each chapter's page must show a newcomer.
        let expect: &[&str] = match n {
            1 => &["Feedback by topic"],
            2 => &["examp1e-bank-verify[.]top", "Acknowledge"],
            3 => &["Customers report phishing in login", "Credential stuffing"],
            4 | 5 => &[
                "Phishing SMS campaign against our customers",
                "Assemble the response team",
            ],
            6 => &["Phishing SMS campaign against our customers"],
            7 => &["monitoring", "No new reports of the SMS"],
            8 => &["survey", "notice", "confirmation"],
            _ => &["NPS", "CSAT"],
        };
        for e in expect {
            assert!(
                shown.contains(e),
                "chapter {n} ({}) at {}: {e:?} is not on the page:\n{shown}",
                chapter.title,
                chapter.page
            );
        }
        std::fs::write(
            dir.join(format!(
                "{n:02}-{}.png",
                chapter
                    .title
                    .to_lowercase()
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
            )),
            client.screenshot().await.unwrap(),
        )
        .unwrap();
        checker
            .check(&client, &format!("chapter {n} {}", chapter.page))
            .await;
    }
    assert_eq!(n, CHAPTERS.len());

    // The mail as a reader sees it: the Persian notice right to left.
    let messages = mailbox.messages();
    let fa = messages
        .iter()
        .position(|m| {
            m.to.iter().any(|t| t.starts_with("dariush"))
                && frontline::notify::catcher::header(&m.raw, "List-Unsubscribe").is_some()
        })
        .expect("a notice to the Persian subscriber");
    open(&client, &app, &format!("/mail/{fa}")).await;
    let dir_attr = client
        .find(Locator::Css("pre.mail"))
        .await
        .unwrap()
        .attr("dir")
        .await
        .unwrap();
    assert_eq!(dir_attr.as_deref(), Some("rtl"));
    assert!(text(&client)
        .await
        .contains("dariush.subscriber@example.com"));
    checker.check(&client, "/mail/{n}").await;
    let audit = app.store.audit_page(None, 500).await.unwrap();
    assert!(
        audit
            .entries
            .iter()
            .any(|e| e.action == "mail.view" && e.record.as_deref() == Some(&format!("mail/{fa}"))),
        "opening a message is audited"
    );

    // The status page in each language, and the survey in Persian.
    for lang in ["en", "zh", "fa", "gu"] {
        open(&client, &app, &format!("/status?lang={lang}")).await;
        assert!(text(&client)
            .await
            .contains("Phishing SMS campaign against our customers"));
        checker
            .check(&client, &format!("/status?lang={lang}"))
            .await;
    }
    let (_, inc) = json(app.get("/api/v1/incidents", &app.admin_token).await).await;
    let incident = inc[0]["id"].as_str().unwrap().to_owned();
    let slug = format!(
        "incident-{}",
        incident.trim_start_matches("inc_").to_lowercase()
    );

    // A ticket, for its pages.
    let (s, ticket) = json(
        app.post_json(
            "/api/v1/tickets",
            &app.admin_token,
            &json!({"subject": "I typed my password into the fake page", "description": "What should I do now?", "language": "en"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{ticket}");
    let tracking = ticket["tracking_url"].as_str().unwrap();
    let tracking = &tracking[tracking.find("/t/").unwrap()..];

    let signal = first_id(&app, "/api/v1/signals").await;
    let alert = first_id(&app, "/api/v1/alerts").await;
    let feedback = first_id(&app, "/api/v1/feedback?limit=1").await;
    let survey = first_id(&app, "/api/v1/surveys").await;
    let mut pages: Vec<String> = [
        "/",
        "/feedback",
        "/signals",
        "/security",
        "/security/sources",
        "/security/routes",
        "/surveys",
        "/surveys/new",
        "/tickets",
        "/incidents",
        "/postmortems",
        "/components",
        "/scorecard",
        "/journey",
        "/mail",
        "/deliveries",
        "/deliveries?state=sent",
        "/subscribers",
        "/templates",
        "/templates/breach",
        "/templates/new",
        "/playbooks",
        "/playbooks/customer-data-breach",
        "/playbooks/new",
        "/admin/users",
        "/admin/roles",
        "/admin/tokens",
        "/admin/audit",
    ]
    .iter()
    .map(|p| (*p).to_owned())
    .collect();
    pages.extend([
        format!("/signals/{signal}"),
        format!("/security/alerts/{alert}"),
        format!("/feedback/{feedback}"),
        format!("/surveys/{survey}"),
        format!("/tickets/{}", ticket["id"].as_str().unwrap()),
        format!("/incidents/{incident}"),
    ]);
    for p in &pages {
        open(&client, &app, p).await;
        checker.check(&client, p).await;
    }
    // The dashboard in Chinese, checked the same way.
    app.store
        .execute(
            "UPDATE users SET language = 'zh' WHERE email = $1",
            vec![app.admin_email.clone().into()],
        )
        .await
        .unwrap();
    for p in [
        "/",
        "/signals",
        "/mail",
        "/scorecard",
        &format!("/incidents/{incident}"),
    ] {
        open(&client, &app, p).await;
        let lang = client
            .find(Locator::Css("html"))
            .await
            .unwrap()
            .attr("lang")
            .await
            .unwrap();
        assert_eq!(lang.as_deref(), Some("zh"), "{p}");
        checker.check(&client, &format!("{p} (zh)")).await;
    }
    assert!(
        text(&client).await.contains("已发送邮件"),
        "the navigation is in Chinese"
    );
    // The incident's page (the last one open) stays current: a note
    // written elsewhere appears in its timeline without a reload.
    let (s, _) = json(
        app.post_json(
            &format!("/api/v1/incidents/{incident}/notes"),
            &app.admin_token,
            &serde_json::json!({"body": "Written while the page was open"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201);
    let timeline = client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::XPath(
            "//ol[@id='incident-timeline']/li[contains(., 'Written while the page was open')]",
        ))
        .await;
    assert!(
        timeline.is_ok(),
        "the note appears in the open page's timeline"
    );

    // The public side, signed out.
    client.delete_all_cookies().await.unwrap();
    for p in [
        "/login".to_owned(),
        "/privacy".to_owned(),
        "/support".to_owned(),
        "/support?lang=gu".to_owned(),
        tracking.to_owned(),
        format!("/f/{slug}?lang=fa"),
    ] {
        open(&client, &app, &p).await;
        checker.check(&client, &p).await;
    }
    // The JavaScript budget: everything any page loads, under 100 KB.
    let mut js = 0;
    for s in &checker.scripts {
        assert!(
            !s.starts_with("inline:"),
            "an inline script: the CSP forbids them"
        );
        js += app
            .client
            .get(s)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .len();
    }
    assert!(
        !checker.scripts.is_empty(),
        "the dashboard's script was seen"
    );
    assert!(
        js < 100 * 1024,
        "{js} bytes of JavaScript in {:?}",
        checker.scripts
    );
    eprintln!("JavaScript shipped: {js} bytes in {:?}", checker.scripts);
    assert!(
        checker.problems.is_empty(),
        "{} problems on {} pages:\n{}",
        checker.problems.len(),
        checker.pages,
        checker.problems.join("\n")
    );
    client.close().await.unwrap();
    app.stop().await;
}
