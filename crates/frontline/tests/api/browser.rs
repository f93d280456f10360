//! A real browser: Debian's headless Chromium driven through chromedriver.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::{spawn_app, PASSWORD};

pub struct Driver {
    child: Child,
    url: String,
    profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts chromedriver, or says why not. CI installs it; on a developer's
/// machine without it the test says so and passes over.
async fn chromedriver() -> Option<Driver> {
    let found = Command::new("chromedriver")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have chromium and chromium-driver installed (.ci/run does this)"
        );
        eprintln!(
            "browser test passed over: install Debian's chromium and chromium-driver to run it"
        );
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let driver = Driver {
        child,
        url,
        profile: tempfile::tempdir().ok()?,
    };
    for _ in 0..100 {
        if reqwest::get(format!("{}/status", driver.url)).await.is_ok() {
            return Some(driver);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

/// A headless Chromium session of the given window size, or None where
/// chromedriver is missing (outside CI). Keep the `Driver` alive while the
/// client is used.
pub async fn headless(width: u32, height: u32) -> Option<(Driver, fantoccini::Client)> {
    let driver = chromedriver().await?;
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", format!("--window-size={width},{height}"),
                format!("--user-data-dir={}", driver.profile.path().display()),
            ]
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("browser session");
    Some((driver, client))
}

/// Signs in through the login form as `email` (password `PASSWORD`) and
/// waits for the page it lands on.
pub async fn sign_in(client: &fantoccini::Client, base: &str, email: &str) {
    client.goto(&format!("{base}/login")).await.unwrap();
    submit_login(client, email).await;
}

/// Fills in and sends the login form on the page the browser is on, and
/// waits for the page it lands on.
pub async fn submit_login(client: &fantoccini::Client, email: &str) {
    client
        .find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys(email)
        .await
        .unwrap();
    client
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    client
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The sign-in page has a heading too: wait until the browser has left
    // it, or a heading found at once could belong to the page going away.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let url = client.current_url().await.unwrap();
        if url.path() != "/login" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still on the sign-in page"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    client
        .wait()
        .for_element(Locator::Css("main h1"))
        .await
        .unwrap();
}

pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

#[tokio::test]
async fn a_browser_signs_in_and_reaches_the_live_dashboard() {
    let Some((_driver, client)) = headless(1280, 900).await else {
        return;
    };
    let app = spawn_app().await;

    // A deep link sends us to sign in, then on to where we were going.
    client.goto(&app.url("/admin/roles")).await.unwrap();
    let url = client.current_url().await.unwrap();
    assert_eq!(url.path(), "/login");
    submit_login(&client, &app.admin_email).await;
    let h1 = client.find(Locator::Css("main h1")).await.unwrap();
    assert_eq!(h1.text().await.unwrap(), "Roles");
    std::fs::write(
        screenshot_dir().join("roles.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();

    // The overview's live channel connects: the script ran under the CSP.
    client.goto(&app.url("/")).await.unwrap();
    let state = client.find(Locator::Id("live-state")).await.unwrap();
    let mut live = false;
    for _ in 0..50 {
        if state.text().await.unwrap() == "Live" {
            live = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(live, "the live channel did not connect");
    // An event arrives without a reload.
    let resp = app
        .post_json(
            "/api/v1/roles",
            &app.admin_token,
            &json!({"name": "from_browser_test", "grants": []}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let mut arrived = false;
    for _ in 0..50 {
        let text = client
            .find(Locator::Id("live"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains("role.created") {
            arrived = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(arrived, "the live event did not reach the page");
    // New feedback shows up in the overview's topics without a reload.
    let before = client
        .find(Locator::Id("overview-body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!before.contains("outage"), "{before}");
    let resp = app
        .post_json(
            "/api/v1/feedback",
            &app.admin_token,
            &json!({"kind": "complaint", "text": "The app is down, nothing loads, error 503 everywhere"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let mut refreshed = String::new();
    for _ in 0..80 {
        refreshed = client
            .find(Locator::Id("overview-body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if refreshed.contains("outage") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        refreshed.contains("outage 1"),
        "the overview did not refresh: {refreshed}"
    );
    std::fs::write(
        screenshot_dir().join("overview.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();
    client.close().await.unwrap();
    app.stop().await;
}

/// What the browser runs `script` to, as a string.
async fn eval(client: &fantoccini::Client, script: &str) -> String {
    let v = client.execute(script, vec![]).await.unwrap();
    match v {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// Presses a key (a WebDriver key code such as TAB) where the focus is.
async fn press(client: &fantoccini::Client, key: &str) {
    client
        .active_element()
        .await
        .unwrap()
        .send_keys(key)
        .await
        .unwrap();
}

const TAB: &str = "\u{e004}";
const ENTER: &str = "\u{e007}";

/// Presses Tab until the element with this id has the focus.
async fn tab_to(client: &fantoccini::Client, id: &str) {
    for _ in 0..30 {
        if eval(
            client,
            "return document.activeElement ? document.activeElement.id : ''",
        )
        .await
            == id
        {
            return;
        }
        press(client, TAB).await;
    }
    panic!("Tab never reached #{id}");
}

#[tokio::test]
async fn the_dashboard_works_by_keyboard_alone_and_fits_a_phone() {
    let Some((_driver, client)) = headless(390, 844).await else {
        return;
    };
    let app = spawn_app().await;
    for (path, body) in [
        (
            "/api/v1/feedback",
            json!({"kind": "complaint", "text": "I got a strange SMS asking for my password, link hxxp://acme-login.example"}),
        ),
        (
            "/api/v1/incidents",
            json!({"title": "Login failures for some customers", "severity": "sev2", "impact": "major"}),
        ),
        (
            "/api/v1/tickets",
            json!({"subject": "Cannot sign in", "description": "The code never arrives", "priority": "high"}),
        ),
    ] {
        let resp = app.post_json(path, &app.admin_token, &body).await;
        assert_eq!(resp.status(), 201, "{path}");
    }

    // Signing in with the keyboard only: Tab to each field, type, Enter.
    client.goto(&app.url("/login")).await.unwrap();
    tab_to(&client, "email").await;
    press(&client, &app.admin_email).await;
    tab_to(&client, "password").await;
    press(&client, PASSWORD).await;
    press(&client, ENTER).await;
    client
        .wait()
        .for_element(Locator::Css("#overview-body"))
        .await
        .unwrap();
    // The first Tab reaches a visible "skip to content" link; Enter on it
    // puts the focus in the page's main part, past the navigation.
    press(&client, TAB).await;
    let focused = eval(&client, "return document.activeElement.textContent.trim()").await;
    assert_eq!(focused, "Skip to content");
    let outline = eval(
        &client,
        "return getComputedStyle(document.activeElement).outlineStyle",
    )
    .await;
    assert_ne!(outline, "none", "the focus is visible");
    let on_screen = eval(
        &client,
        "const r = document.activeElement.getBoundingClientRect(); return String(r.left >= 0 && r.top >= 0 && r.width > 1)",
    )
    .await;
    assert_eq!(on_screen, "true", "the skip link shows when focused");
    press(&client, ENTER).await;
    let inside = eval(
        &client,
        "return String(document.getElementById('main').contains(document.activeElement))",
    )
    .await;
    assert_eq!(inside, "true");
    press(&client, TAB).await;
    let next = eval(
        &client,
        "return String(document.getElementById('main').contains(document.activeElement) && document.activeElement !== document.getElementById('main'))",
    )
    .await;
    assert_eq!(
        next, "true",
        "the next Tab stays in the page, not the navigation"
    );

    // At phone width (390 px) no page scrolls sideways: wide tables scroll
    // inside their own box.
    let ticket = app
        .store
        .fetch_optional("SELECT id FROM tickets", vec![])
        .await
        .unwrap()
        .unwrap()
        .get::<String>("id")
        .unwrap();
    let incident = app
        .store
        .fetch_optional("SELECT id FROM incidents", vec![])
        .await
        .unwrap()
        .unwrap()
        .get::<String>("id")
        .unwrap();
    for path in [
        "/".to_owned(),
        "/feedback".into(),
        "/signals".into(),
        "/security".into(),
        "/security/sources".into(),
        "/surveys".into(),
        "/tickets".into(),
        format!("/tickets/{ticket}"),
        "/incidents".into(),
        format!("/incidents/{incident}"),
        "/components".into(),
        "/deliveries".into(),
        "/subscribers".into(),
        "/templates".into(),
        "/templates/breach".into(),
        "/playbooks".into(),
        "/playbooks/customer-data-breach".into(),
        "/scorecard".into(),
        "/journey".into(),
        "/admin/users".into(),
        "/admin/roles".into(),
        "/admin/tokens".into(),
        "/admin/audit".into(),
    ] {
        client.goto(&app.url(&path)).await.unwrap();
        client
            .wait()
            .for_element(Locator::Css("main h1"))
            .await
            .unwrap();
        let wider = eval(
            &client,
            "const w = document.documentElement.clientWidth; \
             const out = [...document.querySelectorAll('body *')].filter(e => { \
               const r = e.getBoundingClientRect(); \
               if (r.right <= w + 1) return false; \
               for (let p = e.parentElement; p; p = p.parentElement) { \
                 const o = getComputedStyle(p).overflowX; \
                 if (o === 'auto' || o === 'scroll' || o === 'hidden') return false; } \
               return true; }); \
             return document.documentElement.scrollWidth > w + 1 \
               ? out.slice(0, 5).map(e => e.tagName + '.' + e.className).join(' ') || 'page' : ''",
        )
        .await;
        assert!(wider.is_empty(), "{path} is wider than a phone: {wider}");
    }
    client.close().await.unwrap();
    app.stop().await;
}
