use std::collections::BTreeMap;
use std::sync::Once;

use frontline::auth::hash_password;
use frontline::domain::user::Email;
use frontline::storage::{AuditRecord, NewToken, NewUser, Store};
use frontline::{Config, Running};
use serde_json::Value;

pub const PASSWORD: &str = "correct horse battery staple";

static LOG: Once = Once::new();

/// A server started for one test, with its own database.
pub struct TestApp {
    pub addr: String,
    pub store: Store,
    pub client: reqwest::Client,
    /// An admin API token.
    pub admin_token: String,
    pub admin_email: String,
    /// FRONTLINE_* variables that point the CLI at this test's database.
    pub env: BTreeMap<String, String>,
    running: Option<Running>,
    db: TestDb,
}

/// The database of one test: a temporary directory with an SQLite file, or
/// a fresh schema in the PostgreSQL database named by the environment.
pub struct TestDb {
    dir: tempfile::TempDir,
    pg: Option<PgSchema>,
}

struct PgSchema {
    base: String,
    schema: String,
}

impl TestDb {
    async fn create() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let pg = match std::env::var("FRONTLINE_TEST_DATABASE_URL") {
            Ok(base) if !base.is_empty() => {
                let schema = format!("t_{}", ulid::Ulid::new().to_string().to_lowercase());
                let pool = sqlx::PgPool::connect(&base)
                    .await
                    .expect("connect to the test PostgreSQL");
                // Extensions are database-wide: create it once, before the
                // tests' migrations race to.
                static EXTENSIONS: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
                EXTENSIONS
                    .get_or_init(|| async {
                        sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
                            .execute(&pool)
                            .await
                            .expect("create pg_trgm");
                    })
                    .await;
                sqlx::query(&format!("CREATE SCHEMA {schema}"))
                    .execute(&pool)
                    .await
                    .expect("create schema");
                pool.close().await;
                Some(PgSchema { base, schema })
            }
            _ => None,
        };
        Self { dir, pg }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// The URL for FRONTLINE_DATABASE_URL (empty for embedded SQLite).
    fn url(&self) -> String {
        match &self.pg {
            Some(PgSchema { base, schema }) => {
                let sep = if base.contains('?') { '&' } else { '?' };
                format!("{base}{sep}options=-c%20search_path%3D{schema}")
            }
            None => String::new(),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(PgSchema { base, schema }) = self.pg.take() else {
            return;
        };
        // Drop may run outside a runtime: use a thread and a runtime of our own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let pool = sqlx::PgPool::connect(&base).await.ok()?;
                sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .execute(&pool)
                    .await
                    .ok()?;
                pool.close().await;
                Some(())
            })
        })
        .join();
    }
}

pub fn test_config(db: &TestDb) -> (Config, BTreeMap<String, String>) {
    let mut env = BTreeMap::new();
    env.insert(
        "FRONTLINE_DATA_DIR".into(),
        db.dir.path().display().to_string(),
    );
    env.insert("FRONTLINE_DATABASE_URL".into(), db.url());
    env.insert("FRONTLINE_HTTP_ADDR".into(), "127.0.0.1:0".into());
    env.insert("FRONTLINE_DATABASE_MAX_CONNECTIONS".into(), "4".into());
    let config = Config::load_from(None, &env).expect("test config");
    (config, env)
}

/// A fresh database and the FRONTLINE_* variables that select it, for
/// tests that run the binary themselves.
pub async fn test_config_env() -> (TestDb, BTreeMap<String, String>) {
    let db = TestDb::create().await;
    let (_, env) = test_config(&db);
    (db, env)
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    LOG.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt().with_env_filter("info").try_init();
        }
    });
    let db = TestDb::create().await;
    let (mut config, env) = test_config(&db);
    adjust(&mut config);
    let running = frontline::start(config, false)
        .await
        .expect("server starts");
    let store = running.state.store.clone();
    let admin_email = "ada@example.com".to_owned();
    create_user(&store, &admin_email, "Ada Admin", "admin").await;
    let admin_token = create_token(&store, "admin").await;
    TestApp {
        addr: format!("http://{}", running.addr),
        store,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        admin_token,
        admin_email,
        env,
        running: Some(running),
        db,
    }
}

pub fn cli_audit() -> AuditRecord {
    AuditRecord {
        actor: "test".into(),
        address: None,
        action: "test.setup".into(),
        class: frontline::domain::DataClass::Settings,
        record: None,
        detail: serde_json::json!({}),
    }
}

pub async fn create_user(store: &Store, email: &str, name: &str, role: &str) {
    store
        .create_user(
            NewUser {
                email: Email::parse(email).expect("email"),
                name: name.into(),
                role: role.into(),
                password_hash: hash_password(PASSWORD).expect("hash"),
            },
            cli_audit(),
        )
        .await
        .expect("create user");
}

pub async fn create_token(store: &Store, role: &str) -> String {
    store
        .create_token(
            NewToken {
                name: format!("{role} token"),
                role: role.into(),
                expires_at: frontline::storage::now_ms() + 3_600_000,
                created_by: None,
            },
            cli_audit(),
        )
        .await
        .expect("create token")
        .1
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.addr, path)
    }

    pub fn is_postgres(&self) -> bool {
        self.db.is_postgres()
    }

    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.client
            .request(method, self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// A page as `client` (a browser session) gets it: status and text.
    pub async fn page(&self, client: &reqwest::Client, path: &str) -> (u16, String) {
        let r = client.get(self.url(path)).send().await.expect("request");
        (r.status().as_u16(), r.text().await.expect("body"))
    }

    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.send_json(reqwest::Method::POST, path, token, body)
            .await
    }

    /// A cookie-keeping client, signed in through the login form.
    pub async fn browser_session(
        &self,
        email: &str,
        password: &str,
    ) -> (reqwest::Client, reqwest::StatusCode) {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let status = login(&client, &self.url(""), email, password).await;
        (client, status)
    }

    /// The running server's state: its event bus, configuration, store.
    pub fn state(&self) -> &frontline::AppState {
        &self.running.as_ref().expect("the server is running").state
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("clean stop");
        }
    }
}

/// Loads the login form, then submits it; returns the submit's status.
pub async fn login(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> reqwest::StatusCode {
    let form = client
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("login form")
        .text()
        .await
        .expect("body");
    let csrf = hidden_field(&form, "csrf").expect("csrf field on the login form");
    client
        .post(format!("{base}/login"))
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf", &csrf),
            ("next", "/"),
        ])
        .send()
        .await
        .expect("login")
        .status()
}

/// The value of `<input type="hidden" name="NAME" value="...">` in a page.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

pub async fn json(resp: reqwest::Response) -> (reqwest::StatusCode, Value) {
    let status = resp.status();
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

/// The id of the staff user with this email, from the users list.
pub async fn user_id(app: &TestApp, email: &str) -> String {
    let (_, users) = json(app.get("/api/v1/users", &app.admin_token).await).await;
    users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .expect("user listed")
}
