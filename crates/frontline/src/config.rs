//! Layered configuration: compiled-in defaults, then an optional TOML file,
//! then `FRONTLINE_*` environment variables. Validated once, at start.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

const DEFAULTS: &str = include_str!("defaults.toml");
const ENV_PREFIX: &str = "FRONTLINE_";

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    pub http: HttpConfig,
    pub auth: AuthConfig,
    pub log: LogConfig,
    pub privacy: PrivacyConfig,
    pub retention: RetentionConfig,
    pub intake: IntakeConfig,
    pub incidents: IncidentsConfig,
    pub notify: NotifyConfig,
    pub alerts: AlertsConfig,
    pub tickets: TicketsConfig,
    pub reports: ReportsConfig,
}

/// The weekly scorecard email to stakeholders.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReportsConfig {
    /// Sent on Monday from this hour (0-23) in `weekly_timezone`.
    pub weekly_hour: u32,
    /// An IANA time zone, e.g. `Europe/Berlin`.
    pub weekly_timezone: String,
    /// How often the server looks whether a week is due.
    pub weekly_check_secs: u64,
}

/// Delivery of notices: the outbox worker, email, webhooks, SMS.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// `smtp://user:pass@host:25`, `smtp://host:587?tls=required`,
    /// `smtps://host:465`; empty: email waits in the outbox.
    pub smtp_url: Secret,
    /// The From header, e.g. `Example Status <status@example.com>`.
    pub from: String,
    /// Where the List-Unsubscribe mailto goes; empty: the From address.
    pub unsubscribe_mailto: String,
    /// Delivery attempts before a message is marked failed.
    pub max_attempts: u32,
    /// The first retry waits about this long; each next one twice as long.
    pub retry_base_secs: u64,
    /// Messages claimed per round, and sent at the same time at most.
    pub batch: u32,
    pub concurrency: u32,
    /// How long a claimed message stays claimed before another worker
    /// (or this one after a restart) may take it over.
    pub lease_secs: u64,
    /// Allow delivery to loopback, private and link-local addresses.
    pub allow_private_targets: bool,
    /// Sign-ups allowed per hour for one email address.
    pub signups_per_hour_per_recipient: u32,
    /// The SMS provider: a URL to POST to, a header carrying its
    /// credentials (`Name: value`), and a JSON body template (minijinja,
    /// with `to` and `text`).
    pub sms_url: String,
    pub sms_auth_header: Secret,
    pub sms_body_template: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentsConfig {
    pub update_due_minutes_sev1: u32,
    pub update_due_minutes_sev2: u32,
    pub update_due_minutes_sev3: u32,
    pub update_due_minutes_sev4: u32,
    pub overdue_check_secs: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyConfig {
    pub key_file: PathBuf,
    pub keys: Secret,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    pub raw_text_days: u32,
    pub contact_days: u32,
    pub feedback_days: u32,
    pub purge_every_minutes: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeConfig {
    pub public_per_minute_per_address: u32,
    pub max_batch: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    /// A signal and an alert this close in time (minutes) are correlated.
    pub correlation_window_minutes: u32,
    /// Alerts written in one transaction at most (group commit).
    pub max_batch: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TicketsConfig {
    pub sla_webhook_url: String,
    pub sla_webhook_secret: Secret,
    pub sla_check_every_ms: u64,
    pub repeat_window_hours: u32,
    /// Solved tickets close by themselves after this many hours (0: never).
    pub close_solved_after_hours: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: Secret,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    pub addr: SocketAddr,
    pub public_url: String,
    pub request_timeout_secs: u64,
    pub body_limit_bytes: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub session_ttl_hours: u32,
    pub login_attempts_per_minute_per_account: u32,
    pub login_attempts_per_minute_per_address: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub level: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// A value that must never be printed: `Debug` and `Display` mask it.
#[derive(Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

/// A configuration problem, always naming the key and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("invalid value for `{key}`{origin}: {message}")]
    Invalid {
        key: String,
        origin: String,
        message: String,
    },
}

impl Config {
    /// Loads defaults, then `file` if given, then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX))
            .collect();
        Self::load_from(file, &env)
    }

    pub fn load_from(
        file: Option<&Path>,
        env: &BTreeMap<String, String>,
    ) -> Result<Self, ConfigError> {
        let mut merged: toml::Table =
            DEFAULTS
                .parse()
                .map_err(|e: toml::de::Error| ConfigError::Syntax {
                    path: "<defaults>".into(),
                    message: e.to_string(),
                })?;
        let mut origins: BTreeMap<String, String> = BTreeMap::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            let overlay: toml::Table =
                text.parse()
                    .map_err(|e: toml::de::Error| ConfigError::Syntax {
                        path: path.to_owned(),
                        message: e.message().to_owned(),
                    })?;
            merge(
                &mut merged,
                overlay,
                "",
                &mut origins,
                &path.display().to_string(),
            )?;
        }
        apply_env(&mut merged, "", env, &mut origins)?;
        let config: Config =
            serde_path_to_error::deserialize(toml::Value::Table(merged)).map_err(|e| {
                let key = e.path().to_string();
                let origin = origin_of(&origins, &key);
                ConfigError::Invalid {
                    key,
                    origin,
                    message: e.inner().to_string(),
                }
            })?;
        config.validate(&origins)?;
        Ok(config)
    }

    fn validate(&self, origins: &BTreeMap<String, String>) -> Result<(), ConfigError> {
        let bad = |key: &str, message: String| ConfigError::Invalid {
            key: key.to_owned(),
            origin: origin_of(origins, key),
            message,
        };
        let url = self.database.url.expose();
        if !url.is_empty()
            && !url.starts_with("postgres://")
            && !url.starts_with("postgresql://")
            && !url.starts_with("sqlite:")
        {
            return Err(bad(
                "database.url",
                "expected empty (embedded SQLite), sqlite:PATH or postgres://...".into(),
            ));
        }
        if self.database.max_connections == 0 {
            return Err(bad("database.max_connections", "must be at least 1".into()));
        }
        let public = url::Url::parse(&self.http.public_url)
            .map_err(|e| bad("http.public_url", format!("not a URL ({e})")))?;
        if !matches!(public.scheme(), "http" | "https") {
            return Err(bad(
                "http.public_url",
                "must start with http:// or https://".into(),
            ));
        }
        if self.http.request_timeout_secs == 0 {
            return Err(bad(
                "http.request_timeout_secs",
                "must be at least 1".into(),
            ));
        }
        if self.http.body_limit_bytes < 1024 {
            return Err(bad("http.body_limit_bytes", "must be at least 1024".into()));
        }
        if self.auth.session_ttl_hours == 0 {
            return Err(bad("auth.session_ttl_hours", "must be at least 1".into()));
        }
        for (key, days) in [
            ("retention.raw_text_days", self.retention.raw_text_days),
            ("retention.contact_days", self.retention.contact_days),
            ("retention.feedback_days", self.retention.feedback_days),
            (
                "retention.purge_every_minutes",
                self.retention.purge_every_minutes,
            ),
            (
                "incidents.update_due_minutes_sev1",
                self.incidents.update_due_minutes_sev1,
            ),
            (
                "incidents.update_due_minutes_sev2",
                self.incidents.update_due_minutes_sev2,
            ),
            (
                "incidents.update_due_minutes_sev3",
                self.incidents.update_due_minutes_sev3,
            ),
            (
                "incidents.update_due_minutes_sev4",
                self.incidents.update_due_minutes_sev4,
            ),
            (
                "incidents.overdue_check_secs",
                self.incidents.overdue_check_secs,
            ),
            (
                "auth.login_attempts_per_minute_per_account",
                self.auth.login_attempts_per_minute_per_account,
            ),
            (
                "auth.login_attempts_per_minute_per_address",
                self.auth.login_attempts_per_minute_per_address,
            ),
        ] {
            if days == 0 {
                return Err(bad(key, "must be at least 1".into()));
            }
        }
        if self.intake.public_per_minute_per_address == 0 {
            return Err(bad(
                "intake.public_per_minute_per_address",
                "must be at least 1".into(),
            ));
        }
        if !(1..=50_000).contains(&self.intake.max_batch) {
            return Err(bad("intake.max_batch", "must be 1 to 50000".into()));
        }
        if !(1..=10_080).contains(&self.alerts.correlation_window_minutes) {
            return Err(bad(
                "alerts.correlation_window_minutes",
                "must be 1 to 10080 (a week)".into(),
            ));
        }
        if !(1..=50_000).contains(&self.alerts.max_batch) {
            return Err(bad("alerts.max_batch", "must be 1 to 50000".into()));
        }
        let hook = self.tickets.sla_webhook_url.trim();
        if !hook.is_empty() {
            let u = url::Url::parse(hook)
                .map_err(|e| bad("tickets.sla_webhook_url", format!("not a URL ({e})")))?;
            if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
                return Err(bad(
                    "tickets.sla_webhook_url",
                    "must be an http:// or https:// URL".into(),
                ));
            }
            if self.tickets.sla_webhook_secret.expose().len() < 16 {
                return Err(bad(
                    "tickets.sla_webhook_secret",
                    "needs at least 16 characters when a webhook URL is set".into(),
                ));
            }
        }
        if self.tickets.sla_check_every_ms < 100 {
            return Err(bad(
                "tickets.sla_check_every_ms",
                "must be at least 100".into(),
            ));
        }
        if self.reports.weekly_hour > 23 {
            return Err(bad("reports.weekly_hour", "must be 0 to 23".into()));
        }
        if self
            .reports
            .weekly_timezone
            .parse::<chrono_tz::Tz>()
            .is_err()
        {
            return Err(bad(
                "reports.weekly_timezone",
                "must be an IANA time zone such as Europe/Berlin".into(),
            ));
        }
        if self.reports.weekly_check_secs == 0 {
            return Err(bad(
                "reports.weekly_check_secs",
                "must be at least 1".into(),
            ));
        }
        if self.tickets.repeat_window_hours == 0 {
            return Err(bad(
                "tickets.repeat_window_hours",
                "must be at least 1".into(),
            ));
        }
        if !self.privacy.keys.is_empty() {
            crate::privacy::KeyRing::parse_compact(self.privacy.keys.expose())
                .map_err(|e| bad("privacy.keys", e.to_string()))?;
        }
        self.validate_notify(&bad)?;
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map_err(|e| bad("log.level", e.to_string()))?;
        Ok(())
    }

    fn validate_notify(
        &self,
        bad: &dyn Fn(&str, String) -> ConfigError,
    ) -> Result<(), ConfigError> {
        let n = &self.notify;
        let smtp = n.smtp_url.expose();
        if !smtp.is_empty() && !smtp.starts_with("smtp://") && !smtp.starts_with("smtps://") {
            return Err(bad(
                "notify.smtp_url",
                "expected empty, smtp://host:port or smtps://host:port".into(),
            ));
        }
        if n.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(bad(
                "notify.from",
                "expected an address such as `Status <status@example.com>`".into(),
            ));
        }
        if !n.unsubscribe_mailto.is_empty()
            && n.unsubscribe_mailto.parse::<lettre::Address>().is_err()
        {
            return Err(bad(
                "notify.unsubscribe_mailto",
                "expected an email address".into(),
            ));
        }
        for (key, v) in [
            ("notify.max_attempts", u64::from(n.max_attempts)),
            ("notify.retry_base_secs", n.retry_base_secs),
            ("notify.batch", u64::from(n.batch)),
            ("notify.concurrency", u64::from(n.concurrency)),
            ("notify.lease_secs", n.lease_secs),
            (
                "notify.signups_per_hour_per_recipient",
                u64::from(n.signups_per_hour_per_recipient),
            ),
        ] {
            if v == 0 {
                return Err(bad(key, "must be at least 1".into()));
            }
        }
        if n.batch > 10_000 {
            return Err(bad("notify.batch", "must be 1 to 10000".into()));
        }
        if !n.sms_url.is_empty() {
            let u = url::Url::parse(&n.sms_url)
                .map_err(|e| bad("notify.sms_url", format!("not a URL ({e})")))?;
            if !matches!(u.scheme(), "http" | "https") {
                return Err(bad("notify.sms_url", "must be http:// or https://".into()));
            }
        }
        if !n.sms_auth_header.is_empty() {
            let ok = n
                .sms_auth_header
                .expose()
                .split_once(':')
                .is_some_and(|(name, _)| {
                    axum::http::HeaderName::from_bytes(name.trim().as_bytes()).is_ok()
                });
            if !ok {
                return Err(bad(
                    "notify.sms_auth_header",
                    "expected `Header-Name: value`".into(),
                ));
            }
        }
        if let Err(e) = crate::notify::sms_template_check(&n.sms_body_template) {
            return Err(bad("notify.sms_body_template", e));
        }
        Ok(())
    }

    /// Loads the sealing key ring: `privacy.keys` if set, else the key file
    /// (created on first use).
    pub fn key_ring(&self) -> Result<crate::privacy::KeyRing, crate::privacy::SealError> {
        if !self.privacy.keys.is_empty() {
            return crate::privacy::KeyRing::parse_compact(self.privacy.keys.expose());
        }
        crate::privacy::KeyRing::load_or_create(&self.key_file())
    }

    pub fn key_file(&self) -> PathBuf {
        if self.privacy.key_file.as_os_str().is_empty() {
            self.data_dir.join("keys.toml")
        } else {
            self.privacy.key_file.clone()
        }
    }

    /// Whether cookies get the `Secure` flag: when customers reach us over TLS.
    pub fn secure_cookies(&self) -> bool {
        self.http.public_url.starts_with("https://")
    }

    /// The effective configuration as TOML, secrets masked.
    pub fn to_masked_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database.url = Secret::new(mask_url(self.database.url.expose()));
        if !shown.privacy.keys.is_empty() {
            shown.privacy.keys = Secret::new("***");
        }
        shown.notify.smtp_url = Secret::new(mask_url(self.notify.smtp_url.expose()));
        if !shown.notify.sms_auth_header.is_empty() {
            shown.notify.sms_auth_header = Secret::new("***");
        }
        if !shown.tickets.sla_webhook_secret.is_empty() {
            shown.tickets.sla_webhook_secret = Secret::new("***");
        }
        toml::to_string_pretty(&shown).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }
}

/// Hides the password of a database URL, keeping the rest readable.
pub fn mask_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => raw.to_owned(),
    }
}

fn origin_of(origins: &BTreeMap<String, String>, key: &str) -> String {
    origins
        .get(key)
        .map(|o| format!(" (from {o})"))
        .unwrap_or_default()
}

fn merge(
    base: &mut toml::Table,
    overlay: toml::Table,
    prefix: &str,
    origins: &mut BTreeMap<String, String>,
    origin: &str,
) -> Result<(), ConfigError> {
    for (k, v) in overlay {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => {
                merge(b, o, &key, origins, origin)?
            }
            (Some(toml::Value::Table(_)), _) => {
                return Err(ConfigError::Invalid {
                    key,
                    origin: format!(" (from {origin})"),
                    message: "expected a table".into(),
                })
            }
            (Some(slot), v) => {
                *slot = v;
                origins.insert(key, origin.to_owned());
            }
            (None, _) => {
                return Err(ConfigError::Invalid {
                    key,
                    origin: format!(" (from {origin})"),
                    message: "unknown key".into(),
                })
            }
        }
    }
    Ok(())
}

fn apply_env(
    table: &mut toml::Table,
    prefix: &str,
    env: &BTreeMap<String, String>,
    origins: &mut BTreeMap<String, String>,
) -> Result<(), ConfigError> {
    for (k, slot) in table.iter_mut() {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if let toml::Value::Table(t) = slot {
            apply_env(t, &key, env, origins)?;
            continue;
        }
        let var = format!("{ENV_PREFIX}{}", key.replace('.', "_").to_uppercase());
        let Some(raw) = env.get(&var) else { continue };
        let value = match slot {
            toml::Value::String(_) => toml::Value::String(raw.clone()),
            toml::Value::Integer(_) => {
                toml::Value::Integer(raw.trim().parse().map_err(|_| ConfigError::Invalid {
                    key: key.clone(),
                    origin: format!(" (from {var})"),
                    message: format!("expected a whole number, got {raw:?}"),
                })?)
            }
            toml::Value::Boolean(_) => {
                toml::Value::Boolean(raw.trim().parse().map_err(|_| ConfigError::Invalid {
                    key: key.clone(),
                    origin: format!(" (from {var})"),
                    message: format!("expected true or false, got {raw:?}"),
                })?)
            }
            other => {
                return Err(ConfigError::Invalid {
                    key,
                    origin: format!(" (from {var})"),
                    message: format!("cannot be set from the environment ({})", other.type_str()),
                })
            }
        };
        *slot = value;
        origins.insert(key, var);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_valid() {
        let c = Config::load_from(None, &env(&[])).expect("defaults");
        assert_eq!(c.http.addr.to_string(), "127.0.0.1:8080");
        assert!(c.database.url.is_empty());
    }

    #[test]
    fn env_overrides_file_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.toml");
        std::fs::write(
            &path,
            "[http]\naddr = \"127.0.0.1:9000\"\nrequest_timeout_secs = 5\n",
        )
        .unwrap();
        let c = Config::load_from(
            Some(&path),
            &env(&[("FRONTLINE_HTTP_ADDR", "127.0.0.1:9100")]),
        )
        .unwrap();
        assert_eq!(c.http.addr.to_string(), "127.0.0.1:9100");
        assert_eq!(c.http.request_timeout_secs, 5);
    }

    #[test]
    fn invalid_values_name_the_key_and_source() {
        let e = Config::load_from(None, &env(&[("FRONTLINE_HTTP_ADDR", "nowhere")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("http.addr") && e.contains("FRONTLINE_HTTP_ADDR"),
            "{e}"
        );
        let e = Config::load_from(None, &env(&[("FRONTLINE_AUTH_SESSION_TTL_HOURS", "x")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("auth.session_ttl_hours"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.toml");
        std::fs::write(&path, "[http]\nadress = \"x\"\n").unwrap();
        let e = Config::load_from(Some(&path), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("http.adress") && e.contains("unknown key"),
            "{e}"
        );
    }

    #[test]
    fn zero_limits_and_periods_are_refused() {
        for var in [
            "FRONTLINE_AUTH_LOGIN_ATTEMPTS_PER_MINUTE_PER_ACCOUNT",
            "FRONTLINE_AUTH_LOGIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS",
            "FRONTLINE_RETENTION_CONTACT_DAYS",
        ] {
            let e = Config::load_from(None, &env(&[(var, "0")]))
                .unwrap_err()
                .to_string();
            assert!(e.contains("at least 1") && e.contains(var), "{var}: {e}");
        }
    }

    #[test]
    fn masked_output_hides_database_password() {
        let c = Config::load_from(
            None,
            &env(&[("FRONTLINE_DATABASE_URL", "postgres://u:hunter2@db/x")]),
        )
        .unwrap();
        let shown = c.to_masked_toml();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("postgres://u:***@db/x"), "{shown}");
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn the_sla_webhook_takes_http_or_https_and_needs_a_secret() {
        let secret = ("FRONTLINE_TICKETS_SLA_WEBHOOK_SECRET", "0123456789abcdef");
        for url in ["https://hooks.example.com/sla", "http://127.0.0.1:9/sla"] {
            let c = Config::load_from(
                None,
                &env(&[("FRONTLINE_TICKETS_SLA_WEBHOOK_URL", url), secret]),
            )
            .unwrap();
            assert_eq!(c.tickets.sla_webhook_url, url);
        }
        let e = Config::load_from(
            None,
            &env(&[
                ("FRONTLINE_TICKETS_SLA_WEBHOOK_URL", "ftp://example.com/x"),
                secret,
            ]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("tickets.sla_webhook_url") && e.contains("https://"),
            "{e}"
        );
        let e = Config::load_from(
            None,
            &env(&[(
                "FRONTLINE_TICKETS_SLA_WEBHOOK_URL",
                "https://hooks.example.com/sla",
            )]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("tickets.sla_webhook_secret"), "{e}");
    }
}
