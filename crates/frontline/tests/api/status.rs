use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::helpers::{create_token, create_user, hidden_field, json, spawn_app, TestApp, PASSWORD};

const PAGE: &[&str] = &["id", "name", "url", "time_zone", "updated_at"];
const COMPONENT: &[&str] = &[
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "position",
    "description",
    "showcase",
    "start_date",
    "group_id",
    "page_id",
    "group",
    "only_show_if_degraded",
];
const INCIDENT: &[&str] = &[
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "monitoring_at",
    "resolved_at",
    "impact",
    "shortlink",
    "started_at",
    "page_id",
    "incident_updates",
    "components",
];
const UPDATE: &[&str] = &[
    "id",
    "status",
    "body",
    "incident_id",
    "created_at",
    "updated_at",
    "display_at",
    "affected_components",
    "deliver_notifications",
    "custom_tweet",
    "tweet_id",
];
const AFFECTED: &[&str] = &["code", "name", "old_status", "new_status"];
const STATUS: &[&str] = &["indicator", "description"];

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

fn set(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn check_component(c: &Value) {
    let mut want = set(COMPONENT);
    if c["group"] == true {
        want.insert("components".into());
        assert!(c["components"].is_array());
    }
    assert_eq!(keys(c), want, "{c}");
    assert!(c["position"].is_i64() && c["showcase"].is_boolean() && c["group"].is_boolean());
}

fn check_incident(i: &Value, maintenance: bool) {
    let mut want = set(INCIDENT);
    if maintenance {
        want.insert("scheduled_for".into());
        want.insert("scheduled_until".into());
    }
    assert_eq!(keys(i), want, "{i}");
    for u in i["incident_updates"].as_array().unwrap() {
        assert_eq!(keys(u), set(UPDATE), "{u}");
        if let Some(list) = u["affected_components"].as_array() {
            for a in list {
                assert_eq!(keys(a), set(AFFECTED), "{a}");
            }
        }
    }
    for c in i["components"].as_array().unwrap() {
        check_component(c);
    }
}

async fn public(app: &TestApp, path: &str) -> Value {
    let resp = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    assert_eq!(
        resp.headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap()),
        Some("*"),
        "{path} is readable from other sites"
    );
    let v: Value = resp.json().await.unwrap();
    assert_eq!(keys(&v["page"]), set(PAGE), "{path}");
    v
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let (s, v) = json(app.post_json(path, token, &body).await).await;
    assert!(s.is_success(), "{path} {body} -> {s} {v}");
    v
}

async fn patch(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let (s, v) = json(
        app.send_json(reqwest::Method::PATCH, path, token, &body)
            .await,
    )
    .await;
    assert!(s.is_success(), "{path} {body} -> {s} {v}");
    v
}

struct Fixture {
    comms: String,
    login: String,
    web: String,
    secret: String,
    public_incident: String,
    hidden_incident: String,
    maintenance: String,
}

/// Components (one private), a public incident with a published update,
/// an incident touching only the private component, an incident with no
/// published update, and a scheduled maintenance.
async fn fixture(app: &TestApp) -> Fixture {
    let comms = create_token(&app.store, "communications").await;
    let c = |name: &str, group: Option<&str>, private: bool| json!({"name": name, "group": group, "private": private, "description": format!("The {name}")});
    let api = post(
        app,
        "/api/v1/components",
        &comms,
        c("API", Some("Core"), false),
    )
    .await;
    let login = post(
        app,
        "/api/v1/components",
        &comms,
        c("Login", Some("Core"), false),
    )
    .await;
    let web = post(app, "/api/v1/components", &comms, c("Website", None, false)).await;
    let secret = post(
        app,
        "/api/v1/components",
        &comms,
        c("Fraud engine", None, true),
    )
    .await;
    assert_eq!(api["group"], "Core");
    assert_eq!(
        login["position"].as_i64().unwrap(),
        api["position"].as_i64().unwrap() + 1
    );
    let login = login["id"].as_str().unwrap().to_owned();
    let web = web["id"].as_str().unwrap().to_owned();
    let secret = secret["id"].as_str().unwrap().to_owned();

    let inc = post(
        app,
        "/api/v1/incidents",
        &app.admin_token,
        json!({"title": "Sign-in failures", "severity": "SEV3", "impact": "major", "components": [login]}),
    )
    .await;
    let public_incident = inc["id"].as_str().unwrap().to_owned();
    post(
        app,
        &format!("/api/v1/incidents/{public_incident}/updates"),
        &comms,
        json!({"status": "identified", "body": "Some customers cannot sign in. Use <b>the app</b> & retry.",
               "components": {login.as_str(): "major_outage"}}),
    )
    .await;
    let hidden = post(
        app,
        "/api/v1/incidents",
        &app.admin_token,
        json!({"title": "Fraud model drift", "severity": "SEV3", "components": [secret]}),
    )
    .await;
    let hidden_incident = hidden["id"].as_str().unwrap().to_owned();
    post(
        app,
        &format!("/api/v1/incidents/{hidden_incident}/updates"),
        &comms,
        json!({"status": "investigating", "body": "Internal only."}),
    )
    .await;
    post(
        app,
        "/api/v1/incidents",
        &app.admin_token,
        json!({"title": "Declared but not announced", "severity": "SEV4"}),
    )
    .await;
    let start = chrono::Utc::now() + chrono::Duration::days(2);
    let m = post(
        app,
        "/api/v1/maintenances",
        &comms,
        json!({"title": "Database upgrade", "body": "The website may be slow.", "components": [web],
               "scheduled_for": start.to_rfc3339(), "scheduled_until": (start + chrono::Duration::hours(2)).to_rfc3339()}),
    )
    .await;
    Fixture {
        comms,
        login,
        web,
        secret,
        public_incident,
        hidden_incident,
        maintenance: m["id"].as_str().unwrap().to_owned(),
    }
}

#[tokio::test]
async fn the_v2_api_has_statuspage_shapes_and_shows_only_what_is_public() {
    let app = spawn_app().await;
    let f = fixture(&app).await;

    let summary = public(&app, "/api/v2/summary.json").await;
    assert_eq!(
        keys(&summary),
        set(&[
            "page",
            "components",
            "incidents",
            "scheduled_maintenances",
            "status"
        ])
    );
    assert_eq!(keys(&summary["status"]), set(STATUS));
    let components = summary["components"].as_array().unwrap();
    components.iter().for_each(check_component);
    let names: Vec<&str> = components
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Core", "API", "Login", "Website"],
        "page order, no private component"
    );
    let core = &components[0];
    assert_eq!(core["group"], true);
    assert_eq!(
        core["status"], "major_outage",
        "a group shows its worst member"
    );
    assert_eq!(components[2]["group_id"], core["id"]);
    assert_eq!(core["components"].as_array().unwrap().len(), 2);
    assert_eq!(summary["status"]["indicator"], "critical");
    assert_eq!(summary["status"]["description"], "Major System Outage");

    let incidents = summary["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    let inc = &incidents[0];
    check_incident(inc, false);
    assert_eq!(inc["id"], f.public_incident.as_str());
    assert_eq!(inc["name"], "Sign-in failures");
    assert_eq!(inc["status"], "identified");
    assert_eq!(inc["impact"], "major");
    assert_eq!(inc["resolved_at"], Value::Null);
    assert_eq!(inc["page_id"], summary["page"]["id"]);
    let update = &inc["incident_updates"][0];
    assert_eq!(update["incident_id"], inc["id"]);
    assert_eq!(
        update["affected_components"],
        json!([{"code": f.login, "name": "Login", "old_status": "operational", "new_status": "major_outage"}])
    );
    assert_eq!(inc["components"][0]["id"], f.login.as_str());
    let maint = summary["scheduled_maintenances"].as_array().unwrap();
    assert_eq!(maint.len(), 1);
    check_incident(&maint[0], true);

    let status = public(&app, "/api/v2/status.json").await;
    assert_eq!(keys(&status), set(&["page", "status"]));
    assert_eq!(status["status"], summary["status"]);
    let comps = public(&app, "/api/v2/components.json").await;
    assert_eq!(keys(&comps), set(&["page", "components"]));
    assert_eq!(comps["components"], summary["components"]);
    let all = public(&app, "/api/v2/incidents.json").await;
    assert_eq!(keys(&all), set(&["page", "incidents"]));
    let text = all.to_string();
    assert!(
        !text.contains(&f.hidden_incident),
        "private-only incident hidden"
    );
    assert!(
        !text.contains("Declared but not announced"),
        "unannounced incident hidden"
    );
    assert!(!text.contains(&f.secret));

    // Resolve: unresolved empties, the history keeps it.
    post(
        &app,
        &format!("/api/v1/incidents/{}/updates", f.public_incident),
        &f.comms,
        json!({"status": "resolved", "body": "Fixed.", "components": {f.login.as_str(): "operational"}}),
    )
    .await;
    let unresolved = public(&app, "/api/v2/incidents/unresolved.json").await;
    assert_eq!(unresolved["incidents"], json!([]));
    let html = app
        .client
        .get(app.url("/status"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Past incidents") && html.contains(&format!("id=\"{}\"", f.public_incident)),
        "a resolved incident stays on the page, where its shortlink points"
    );
    let all = public(&app, "/api/v2/incidents.json").await;
    let inc = &all["incidents"][0];
    check_incident(inc, false);
    assert_eq!(inc["status"], "resolved");
    assert!(inc["resolved_at"].is_string());
    assert_eq!(
        inc["incident_updates"][0]["status"], "resolved",
        "newest first"
    );

    // Maintenance: upcoming, then active, then done.
    let upcoming = public(&app, "/api/v2/scheduled-maintenances/upcoming.json").await;
    assert_eq!(keys(&upcoming), set(&["page", "scheduled_maintenances"]));
    assert_eq!(
        upcoming["scheduled_maintenances"][0]["id"],
        f.maintenance.as_str()
    );
    assert_eq!(upcoming["scheduled_maintenances"][0]["status"], "scheduled");
    let active = public(&app, "/api/v2/scheduled-maintenances/active.json").await;
    assert_eq!(active["scheduled_maintenances"], json!([]));
    patch(
        &app,
        &format!("/api/v1/maintenances/{}", f.maintenance),
        &f.comms,
        json!({"status": "in_progress", "body": "Started."}),
    )
    .await;
    let active = public(&app, "/api/v2/scheduled-maintenances/active.json").await;
    let m = &active["scheduled_maintenances"][0];
    check_incident(m, true);
    assert_eq!(m["status"], "in_progress");
    assert_eq!(m["components"][0]["status"], "under_maintenance");
    assert_eq!(m["incident_updates"].as_array().unwrap().len(), 2);
    let status = public(&app, "/api/v2/status.json").await;
    assert_eq!(status["status"]["description"], "Service Under Maintenance");
    patch(
        &app,
        &format!("/api/v1/maintenances/{}", f.maintenance),
        &f.comms,
        json!({"status": "completed"}),
    )
    .await;
    let all = public(&app, "/api/v2/scheduled-maintenances.json").await;
    assert_eq!(all["scheduled_maintenances"][0]["status"], "completed");
    assert!(all["scheduled_maintenances"][0]["resolved_at"].is_string());
    let status = public(&app, "/api/v2/status.json").await;
    assert_eq!(
        status["status"],
        json!({"indicator": "none", "description": "All Systems Operational"})
    );
    let (_, web) = json(
        app.get(&format!("/api/v1/components/{}", f.web), &f.comms)
            .await,
    )
    .await;
    assert_eq!(web["status"], "operational");
    app.stop().await;
}

#[tokio::test]
async fn components_are_managed_with_notice_grants_and_bad_input_names_the_field() {
    let app = spawn_app().await;
    let comms = create_token(&app.store, "communications").await;
    let viewer = create_token(&app.store, "viewer").await;
    let resp = app
        .post_json("/api/v1/components", &viewer, &json!({"name": "API"}))
        .await;
    assert_eq!(resp.status(), 403);
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "API", "status": "on fire"}), "status"),
        (json!({"name": "API", "position": -1}), "position"),
        (json!({"name": "API", "colour": "red"}), "colour"),
    ] {
        let (s, err) = json(app.post_json("/api/v1/components", &comms, &body).await).await;
        assert_eq!(s, 400, "{body} -> {err}");
        assert!(err["detail"].as_str().unwrap().contains(field), "{err}");
    }
    let c = post(
        &app,
        "/api/v1/components",
        &comms,
        json!({"name": "API", "group": "Core"}),
    )
    .await;
    let path = format!("/api/v1/components/{}", c["id"].as_str().unwrap());
    let changed = patch(
        &app,
        &path,
        &comms,
        json!({"status": "degraded_performance", "group": null, "private": true}),
    )
    .await;
    assert_eq!(changed["status"], "degraded_performance");
    assert_eq!(changed["group"], Value::Null);
    assert_eq!(changed["private"], true);
    let (s, _) = json(
        app.send_json(
            reqwest::Method::PATCH,
            "/api/v1/components/cmp_01J00000000000000000000000",
            &comms,
            &json!({"status": "operational"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 404);
    let start = chrono::Utc::now();
    let (s, err) = json(
        app.post_json(
            "/api/v1/maintenances",
            &comms,
            &json!({"title": "x", "body": "y", "scheduled_for": start.to_rfc3339(), "scheduled_until": start.to_rfc3339()}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 400);
    assert!(err["detail"].as_str().unwrap().contains("scheduled_until"));
    let (s, err) = json(
        app.post_json(
            "/api/v1/maintenances",
            &comms,
            &json!({"title": "x", "body": "y", "scheduled_for": "tomorrow", "scheduled_until": start.to_rfc3339()}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 400);
    assert!(err["detail"].as_str().unwrap().contains("scheduled_for"));
    let (_, page) = json(app.get("/api/v1/audit?limit=50", &app.admin_token).await).await;
    let actions: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"component.create") && actions.contains(&"component.update"));
    app.stop().await;
}

/// Reads an RSS 2.0 document with a strict XML parser (well-formed, end
/// tags matching) and checks what RSS 2.0 requires: `<rss version="2.0">`
/// around one `<channel>` with `title`, `link` and `description`, and
/// items with a `title` or `description`; a `pubDate` must be an RFC 822
/// date and a `guid` unique. Returns the channel's and each item's
/// elements, text unescaped.
fn read_rss(doc: &str) -> (BTreeMap<String, String>, Vec<BTreeMap<String, String>>) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(doc);
    let (mut path, mut text) = (Vec::<String>::new(), String::new());
    let (mut channel, mut items) = (BTreeMap::new(), Vec::new());
    let mut item: Option<BTreeMap<String, String>> = None;
    let mut channels = 0;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                match (path.as_slice(), name.as_str()) {
                    ([], "rss") => {
                        let version = e.try_get_attribute("version").unwrap().unwrap();
                        assert_eq!(&*version.value, b"2.0");
                    }
                    ([], other) => panic!("the root is <{other}>, not <rss>"),
                    ([r], "channel") if r == "rss" => channels += 1,
                    ([r, c], "item") if r == "rss" && c == "channel" => {
                        item = Some(BTreeMap::new());
                    }
                    _ => {}
                }
                path.push(name);
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.decode().unwrap()),
            Event::GeneralRef(r) => text.push_str(
                &quick_xml::escape::unescape(&format!("&{};", r.decode().unwrap())).unwrap(),
            ),
            Event::End(_) => {
                let name = path.pop().unwrap();
                match (path.as_slice(), name.as_str()) {
                    ([r, c], "item") if r == "rss" && c == "channel" => {
                        items.push(item.take().unwrap());
                    }
                    ([r, c], _) if r == "rss" && c == "channel" => {
                        channel.insert(name, std::mem::take(&mut text));
                    }
                    ([.., i], _) if i == "item" => {
                        item.as_mut()
                            .unwrap()
                            .insert(name, std::mem::take(&mut text));
                    }
                    _ => {}
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(path.is_empty(), "unclosed elements: {path:?}");
    assert_eq!(channels, 1, "one <channel>");
    for required in ["title", "link", "description"] {
        assert!(
            channel.get(required).is_some_and(|v| !v.is_empty()),
            "the channel's <{required}>: {channel:?}"
        );
    }
    let mut guids = BTreeSet::new();
    for i in &items {
        assert!(i.contains_key("title") || i.contains_key("description"));
        if let Some(d) = i.get("pubDate") {
            assert!(chrono::DateTime::parse_from_rfc2822(d).is_ok(), "{d}");
        }
        if let Some(g) = i.get("guid") {
            assert!(guids.insert(g.clone()), "guid {g} twice");
        }
    }
    (channel, items)
}

async fn page(app: &TestApp, path: &str) -> String {
    let resp = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    assert!(resp.headers().get("set-cookie").is_none());
    resp.text().await.unwrap()
}

#[tokio::test]
async fn the_status_page_is_plain_html_localised_with_90_days_per_component() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let html = page(&app, "/status").await;
    assert!(!html.contains("<script"), "no JavaScript");
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "no third-party assets"
    );
    assert!(html.contains("<html lang=\"en\" dir=\"ltr\">"));
    assert!(
        html.contains("rel=\"alternate\" type=\"application/atom+xml\""),
        "feeds are discoverable"
    );
    assert!(html.contains("Major system outage"), "overall status");
    assert!(html.contains("Sign-in failures") && html.contains("Identified"));
    assert!(
        html.contains("Use &lt;b&gt;the app&lt;") && html.contains("&amp; retry."),
        "escaped"
    );
    assert!(html.contains("Database upgrade"), "upcoming maintenance");
    assert!(html.contains("Core") && html.contains("Website"));
    assert!(!html.contains("Fraud engine") && !html.contains("Fraud model drift"));
    assert!(!html.contains("Declared but not announced"));
    // API, Login, Website: 90 cells each, each with a text alternative.
    // Runs of days with one status, adding up to 90 per component.
    let runs: Vec<usize> = html
        .split("<li class=\"day ")
        .skip(1)
        .map(|cell| {
            let classes = &cell[..cell.find('"').unwrap()];
            classes
                .split(' ')
                .find_map(|c| c.strip_prefix('n').and_then(|n| n.parse().ok()))
                .unwrap_or(1)
        })
        .collect();
    assert_eq!(runs.iter().sum::<usize>(), 3 * 90, "{runs:?}");
    assert!(runs.len() < 3 * 90, "days alike are one run: {runs:?}");
    assert_eq!(html.matches("<span class=\"vh\">").count(), runs.len());
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert!(
        html.contains(&format!("{today}: Major outage")),
        "today is the worst it was"
    );
    assert!(
        html.contains("d-no_data"),
        "days before a component existed"
    );

    let fa = page(&app, "/status?lang=fa").await;
    assert!(fa.contains("<html lang=\"fa\" dir=\"rtl\">"));
    assert!(fa.contains("وضعیت سامانه"));
    let zh = page(&app, "/status?lang=zh").await;
    assert!(zh.contains("系统状态") && zh.contains("严重中断"));
    let gu = page(&app, "/status?lang=gu").await;
    assert!(gu.contains("સિસ્ટમ સ્થિતિ"));
    let other = page(&app, "/status?lang=xx").await;
    assert!(other.contains("<html lang=\"en\""));

    // Feeds.
    let resp = app
        .client
        .get(app.url("/status/feed.atom"))
        .send()
        .await
        .unwrap();
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/atom+xml"));
    let atom = resp.text().await.unwrap();
    assert!(atom.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\""));
    assert!(atom.contains("Sign-in failures: Identified"));
    assert!(atom.contains("Use &lt;b&gt;the app&lt;/b&gt; &amp; retry."));
    assert!(atom.contains("Database upgrade: Scheduled"));
    assert!(!atom.contains("Internal only") && !atom.contains("Fraud"));
    let resp = app
        .client
        .get(app.url("/status/feed.rss"))
        .send()
        .await
        .unwrap();
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/rss+xml"));
    let rss = resp.text().await.unwrap();
    assert!(rss.contains("<rss version=\"2.0\">") && rss.contains("<item>"));
    assert!(rss.contains("Sign-in failures: Identified"));
    let (_, all) = read_rss(&rss);
    assert!(all
        .iter()
        .any(|i| i["title"].starts_with("Database upgrade: ")));
    let login = page(&app, &format!("/status/components/{}/feed.atom", f.login)).await;
    assert!(login.contains("Sign-in failures") && !login.contains("Database upgrade"));
    let web = page(&app, &format!("/status/components/{}/feed.atom", f.web)).await;
    assert!(web.contains("Database upgrade") && !web.contains("Sign-in failures"));

    // Each component's feed as RSS 2.0 too, linked under it on the page.
    let login_rss = format!("/status/components/{}/feed.rss", f.login);
    assert!(html.contains(&format!(
        "href=\"{login_rss}\" type=\"application/rss+xml\""
    )));
    let resp = app.client.get(app.url(&login_rss)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/rss+xml"));
    let (channel, items) = read_rss(&resp.text().await.unwrap());
    assert!(channel["title"].ends_with(" status: Login"), "{channel:?}");
    assert!(channel["link"].ends_with("/status"), "{channel:?}");
    let titles: Vec<&str> = items.iter().map(|i| i["title"].as_str()).collect();
    assert!(
        titles.contains(&"Sign-in failures: Identified"),
        "{titles:?}"
    );
    assert!(
        titles.iter().all(|t| t.starts_with("Sign-in failures: ")),
        "only the component's incidents: {titles:?}"
    );
    let identified = items
        .iter()
        .find(|i| i["title"] == "Sign-in failures: Identified")
        .unwrap();
    assert_eq!(
        identified["description"],
        "Some customers cannot sign in. Use <b>the app</b> & retry."
    );
    let web_rss = page(&app, &format!("/status/components/{}/feed.rss", f.web)).await;
    let (_, items) = read_rss(&web_rss);
    assert!(items
        .iter()
        .any(|i| i["title"].starts_with("Database upgrade: ")));
    assert!(!items
        .iter()
        .any(|i| i["title"].starts_with("Sign-in failures")));
    for id in [f.secret.as_str(), "cmp_01J00000000000000000000000"] {
        for feed in ["feed.atom", "feed.rss"] {
            let resp = app
                .client
                .get(app.url(&format!("/status/components/{id}/{feed}")))
                .send()
                .await
                .unwrap();
            assert_eq!(
                resp.status(),
                404,
                "no {feed} for a private or missing component"
            );
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn the_dashboard_shows_incidents_and_approve_and_publish_buttons_by_role() {
    let app = spawn_app().await;
    create_user(
        &app.store,
        "cora@example.com",
        "Cora Comms",
        "communications",
    )
    .await;
    create_user(&app.store, "lars@example.com", "Lars Legal", "legal").await;
    create_user(&app.store, "ana@example.com", "Ana Analyst", "analyst").await;
    let soc = create_token(&app.store, "security_analyst").await;
    let comms_token = create_token(&app.store, "communications").await;
    let inc = post(
        &app,
        "/api/v1/incidents",
        &soc,
        json!({"title": "Phishing SMS wave", "severity": "SEV1"}),
    )
    .await;
    let id = inc["id"].as_str().unwrap().to_owned();
    post(
        &app,
        "/api/v1/components",
        &comms_token,
        json!({"name": "Payments"}),
    )
    .await;
    let draft = post(
        &app,
        &format!("/api/v1/incidents/{id}/updates"),
        &comms_token,
        json!({"status": "investigating", "body": "We never ask for your PIN by SMS."}),
    )
    .await;
    let uid = draft["id"].as_str().unwrap().to_owned();

    let (cora, s) = app.browser_session("cora@example.com", PASSWORD).await;
    assert_eq!(s, 303);
    let list = cora
        .get(app.url("/incidents"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains(">Incidents</a>") && list.contains(">Status page</a>"),
        "nav items"
    );
    assert!(list.contains("Phishing SMS wave"));
    let html = cora
        .get(app.url(&format!("/incidents/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Approve as communications"), "{html}");
    assert!(!html.contains("Publish to the status page"));
    let csrf = hidden_field(&html, "csrf").unwrap();
    let resp = cora
        .post(app.url(&format!("/incidents/{id}/updates/{uid}/approve")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let html = cora
        .get(app.url(&format!("/incidents/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("Approve as communications"), "approved once");
    assert!(html.contains("Waiting for: legal"));
    assert!(
        html.contains("Approved for communications by Cora Comms"),
        "names, not ids"
    );

    let (lars, _) = app.browser_session("lars@example.com", PASSWORD).await;
    let html = lars
        .get(app.url(&format!("/incidents/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Approve as legal"));
    let csrf = hidden_field(&html, "csrf").unwrap();
    let resp = lars
        .post(app.url(&format!("/incidents/{id}/updates/{uid}/approve")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let html = lars
        .get(app.url(&format!("/incidents/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Publish to the status page"));
    let resp = lars
        .post(app.url(&format!("/incidents/{id}/updates/{uid}/publish")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let status = page(&app, "/status").await;
    assert!(status.contains("We never ask for your PIN by SMS."));

    // A note from the form lands on the timeline.
    let resp = lars
        .post(app.url(&format!("/incidents/{id}/notes")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("body", "Legal reviewed the wording."),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let html = cora
        .get(app.url(&format!("/incidents/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Legal reviewed the wording."));
    let comps = cora
        .get(app.url("/components"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(comps.contains("Payments"));

    // An analyst has neither page.
    let (ana, _) = app.browser_session("ana@example.com", PASSWORD).await;
    let home = ana
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!home.contains(">Incidents</a>"));
    assert_eq!(
        ana.get(app.url("/incidents"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        ana.get(app.url("/components"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    app.stop().await;
}

#[tokio::test]
async fn on_a_phone_the_status_page_fits_loads_nothing_foreign_and_reads_right_to_left_in_persian()
{
    let Some((_driver, client)) = crate::browser::headless(390, 844).await else {
        return;
    };
    let app = spawn_app().await;
    fixture(&app).await;
    let shots =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    for (lang, dir) in [("en", "ltr"), ("fa", "rtl")] {
        client
            .goto(&app.url(&format!("/status?lang={lang}")))
            .await
            .unwrap();
        let facts = client
            .execute(
                "const cells = [...document.querySelectorAll('.day')];
                 const n = c => Number(getComputedStyle(c).getPropertyValue('--n')) || 1;
                 return {
                   overflow: document.documentElement.scrollWidth - window.innerWidth,
                   cells: cells.reduce((sum, c) => sum + n(c), 0),
                   narrowest: Math.min(...cells.map(c => c.getBoundingClientRect().width / n(c))),
                   direction: getComputedStyle(document.body).direction,
                   foreign: performance.getEntriesByType('resource')
                     .filter(r => !r.name.startsWith(location.origin)).length,
                   styled: getComputedStyle(document.querySelector('.overall')).color,
                 };",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            facts["overflow"].as_f64().unwrap() <= 0.0,
            "{lang}: fits the phone: {facts}"
        );
        assert_eq!(facts["cells"], 3 * 90, "{facts}");
        assert!(
            facts["narrowest"].as_f64().unwrap() > 0.5,
            "{lang}: every day visible: {facts}"
        );
        assert_eq!(facts["direction"], dir, "{facts}");
        assert_eq!(facts["foreign"], 0, "nothing from other sites: {facts}");
        assert_eq!(
            facts["styled"], "rgb(255, 255, 255)",
            "the stylesheet applied: {facts}"
        );
        std::fs::write(
            shots.join(format!("status-{lang}.png")),
            client.screenshot().await.unwrap(),
        )
        .unwrap();
    }
    client.close().await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn a_segment_sees_its_own_page_with_its_private_components_at_a_secret_link() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let viewer = create_token(&app.store, "viewer").await;

    // Bad input names the field and stores nothing.
    for (body, field) in [
        (json!({"name": "Acme", "components": []}), "components"),
        (
            json!({"name": "Acme", "components": ["cmp_01JAAAAAAAAAAAAAAAAAAAAAAA"]}),
            "components",
        ),
        (json!({"name": "", "components": [f.secret]}), "name"),
    ] {
        let (s, v) = json(
            app.post_json("/api/v1/audience-pages", &f.comms, &body)
                .await,
        )
        .await;
        assert_eq!(s, 400, "{body} -> {v}");
        assert!(v["detail"].as_str().unwrap().contains(field), "{v}");
    }
    let (s, _) = json(
        app.post_json(
            "/api/v1/audience-pages",
            &viewer,
            &json!({"name": "Acme", "components": [f.secret]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 403, "viewers may not add pages");
    let (_, list) = json(app.get("/api/v1/audience-pages", &f.comms).await).await;
    assert_eq!(list.as_array().unwrap().len(), 0, "nothing half-written");

    // The enterprise segment's page: the private fraud engine and login.
    let aud = post(
        &app,
        "/api/v1/audience-pages",
        &f.comms,
        json!({"name": "Enterprise", "segment": "enterprise", "components": [f.secret, f.login]}),
    )
    .await;
    let url = aud["url"].as_str().unwrap().to_owned();
    let path = url[url.find("/status/a/").unwrap()..].to_owned();
    assert!(path.starts_with("/status/a/"), "{url}");
    let (_, listed) = json(app.get("/api/v1/audience-pages", &f.comms).await).await;
    assert!(
        !listed
            .to_string()
            .contains(path.trim_start_matches("/status/a/")),
        "the key is shown once"
    );

    let html = page(&app, &path).await;
    assert!(html.contains("Enterprise"), "named for its audience");
    assert!(html.contains("Fraud engine"), "its private component");
    assert!(
        html.contains("Fraud model drift"),
        "and that component's incident"
    );
    assert!(html.contains("Login"));
    assert!(
        !html.contains("Website"),
        "not another segment's components"
    );
    assert!(!html.contains("Database upgrade"), "nor their maintenance");
    assert!(html.contains(&format!("{path}/feed.atom")), "its own feed");

    let summary = public(&app, &format!("{path}/api/v2/summary.json")).await;
    let names: BTreeSet<String> = summary["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, set(&["Core", "Fraud engine", "Login"]));
    let incidents: BTreeSet<&str> = summary["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        incidents,
        [f.public_incident.as_str(), f.hidden_incident.as_str()]
            .into_iter()
            .collect()
    );
    for i in summary["incidents"].as_array().unwrap() {
        check_incident(i, false);
    }
    let feed = page(&app, &format!("{path}/components/{}/feed.atom", f.secret)).await;
    assert!(feed.contains("Internal only."), "{feed}");
    let (_, items) =
        read_rss(&page(&app, &format!("{path}/components/{}/feed.rss", f.secret)).await);
    assert!(
        items.iter().any(|i| i["description"] == "Internal only."),
        "{items:?}"
    );

    // The public page still hides the private component and its incident.
    let public_html = page(&app, "/status").await;
    assert!(!public_html.contains("Fraud engine"));
    assert!(!public_html.contains("Fraud model drift"));

    // An incident declared for the segment shows on its page only.
    let seg = post(
        &app,
        "/api/v1/incidents",
        &app.admin_token,
        json!({"title": "Enterprise SSO delays", "severity": "SEV3", "components": [f.web], "segments": ["enterprise"]}),
    )
    .await;
    post(
        &app,
        &format!("/api/v1/incidents/{}/updates", seg["id"].as_str().unwrap()),
        &f.comms,
        json!({"status": "investigating", "body": "SSO sign-in is slow for enterprise accounts."}),
    )
    .await;
    let html = page(&app, &path).await;
    assert!(
        html.contains("Enterprise SSO delays"),
        "a fresh page after the write"
    );

    // Rotating the key retires the old link.
    let (s, rotated) = json(
        app.post_json(
            &format!(
                "/api/v1/audience-pages/{}/rotate",
                aud["id"].as_str().unwrap()
            ),
            &f.comms,
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{rotated}");
    let old = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(old.status(), 404);
    let new_url = rotated["url"].as_str().unwrap();
    let new_path = new_url[new_url.find("/status/a/").unwrap()..].to_owned();
    assert!(page(&app, &new_path).await.contains("Fraud engine"));
    let guess = app
        .client
        .get(app.url("/status/a/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/api/v2/summary.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(guess.status(), 404);
}

#[tokio::test]
async fn the_public_page_is_served_from_memory_yet_shows_a_change_at_once() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let first = app
        .client
        .get(app.url("/api/v2/summary.json"))
        .send()
        .await
        .unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let before: Value = first.json().await.unwrap();
    // A client that has this version is told so without the body.
    let again = app
        .client
        .get(app.url("/api/v2/summary.json"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(
        again.headers()["access-control-allow-origin"],
        "*",
        "widgets on other sites still read it"
    );

    // A change is on the page in the very next request.
    patch(
        &app,
        &format!("/api/v1/components/{}", f.web),
        &f.comms,
        json!({"status": "major_outage"}),
    )
    .await;
    let after = app
        .client
        .get(app.url("/api/v2/summary.json"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 200, "the old version is no longer current");
    let after: Value = after.json().await.unwrap();
    let status_of = |v: &Value| {
        v["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == f.web.as_str())
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status_of(&before), "operational");
    assert_eq!(status_of(&after), "major_outage");
    let html = page(&app, "/status?lang=fa").await;
    assert!(html.contains("dir=\"rtl\""));
    assert!(html.contains("cs-major_outage"), "the page too");
}

/// The text of the element `css` once it contains `want` (or what it had
/// when the wait ran out).
async fn wait_for_text(client: &fantoccini::Client, css: &str, want: &str) -> String {
    let mut last = String::new();
    for _ in 0..50 {
        if let Ok(e) = client.find(fantoccini::Locator::Css(css)).await {
            last = e.text().await.unwrap_or_default();
            if last.contains(want) {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    last
}

#[tokio::test]
async fn in_a_browser_staff_publish_an_update_and_customers_see_it_on_the_status_page() {
    use fantoccini::Locator;
    let Some((_driver, client)) = crate::browser::headless(1280, 1000).await else {
        return;
    };
    let app = spawn_app().await;
    let comms = create_token(&app.store, "communications").await;
    let cmp = post(
        &app,
        "/api/v1/components",
        &comms,
        json!({"name": "Payments"}),
    )
    .await;
    let inc = post(
        &app,
        "/api/v1/incidents",
        &app.admin_token,
        json!({"title": "Card payments failing", "severity": "SEV3", "impact": "major", "components": [cmp["id"]]}),
    )
    .await;
    let id = inc["id"].as_str().unwrap();
    // Nothing is public before the first update.
    assert!(!page(&app, "/status")
        .await
        .contains("Card payments failing"));

    crate::browser::sign_in(&client, &app.addr, &app.admin_email).await;
    client
        .goto(&app.url(&format!("/incidents/{id}")))
        .await
        .unwrap();
    let form = client
        .find(Locator::Css(&format!(
            "form[action='/incidents/{id}/updates']"
        )))
        .await
        .unwrap();
    form.find(Locator::Css("textarea[name=body]"))
        .await
        .unwrap()
        .send_keys("Card payments fail for some customers. We have found the cause.")
        .await
        .unwrap();
    form.find(Locator::XPath(
        ".//select[@name='status']/option[@value='identified']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    form.find(Locator::Css(&format!(
        "select[name=component] option[value='{}']",
        cmp["id"].as_str().unwrap()
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    form.find(Locator::XPath(
        ".//select[@name='component_status']/option[@value='major_outage']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    form.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let body = wait_for_text(&client, "main", "Update published").await;
    assert!(body.contains("Update published"), "{body}");

    // A customer opens the status page: the update is there, the component
    // shows its new status, and the overall banner says so.
    client.goto(&app.url("/status")).await.unwrap();
    let incidents = wait_for_text(&client, "#h-incidents + article", "Card payments").await;
    assert!(incidents.contains("Card payments failing"), "{incidents}");
    assert!(
        incidents.contains("Card payments fail for some customers"),
        "{incidents}"
    );
    let payments = client
        .find(Locator::Css(&format!(
            "#{} .cs",
            cmp["id"].as_str().unwrap()
        )))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(payments, "Major outage", "the component's status as set");
    let overall = client
        .find(Locator::Css(".overall"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_ne!(overall, "All Systems Operational");
    std::fs::write(
        crate::browser::screenshot_dir().join("status-published.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();
    client.close().await.unwrap();
    app.stop().await;
}
