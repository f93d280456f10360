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
