//! Security alerts: the security team's own tools (Alertmanager, Grafana,
//! Wazuh, anything that posts JSON) send alerts to `/hooks/*`; they are
//! normalised into one shape, written through a group-commit writer, and
//! correlated with customers' signals into suggested incidents.
//!
//! - `formats`: each tool's payload into raw alerts, naming the field at
//!   fault when a payload does not fit.
//! - `writer`: the batching writer; a hook is acknowledged after commit.
//! - `correlate`: pairs signals and alerts on the same component and time.

pub mod correlate;
pub mod formats;
pub mod writer;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::config::Secret;
use crate::privacy::KeyRing;
use crate::storage::Store;

pub use correlate::Correlator;
pub use writer::AlertWriter;

macro_rules! words {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn from_db(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
            pub fn names() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

words!(
    /// How bad an alert is, worst first.
    AlertSeverity {
    Critical = "critical",
    High = "high",
    Medium = "medium",
    Low = "low",
    Info = "info",
});

impl AlertSeverity {
    /// The usual words tools use for severity, case-insensitively.
    pub fn from_word(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "critical" | "crit" | "fatal" | "emergency" | "emerg" | "alert" | "page" | "p1"
            | "disaster" => Self::Critical,
            "high" | "error" | "err" | "major" | "p2" => Self::High,
            "medium" | "warning" | "warn" | "moderate" | "average" | "p3" => Self::Medium,
            "low" | "minor" | "p4" => Self::Low,
            "info" | "informational" | "information" | "notice" | "none" | "ok" | "debug"
            | "p5" => Self::Info,
            _ => return None,
        })
    }

    /// Wazuh rule levels (0 to 15; 16 in recent rulesets).
    pub fn from_wazuh_level(level: u8) -> Self {
        match level {
            0..=3 => Self::Info,
            4..=6 => Self::Low,
            7..=9 => Self::Medium,
            10..=12 => Self::High,
            _ => Self::Critical,
        }
    }

    /// 0 for critical up to 4 for info.
    pub fn rank(self) -> usize {
        Self::ALL.iter().position(|s| *s == self).unwrap_or(4)
    }
}

words!(
    /// Whether the tool says the condition still holds.
    AlertStatus {
    Firing = "firing",
    Resolved = "resolved",
});

words!(
    /// The payload format a source sends.
    SourceKind {
    Alertmanager = "alertmanager",
    Grafana = "grafana",
    Wazuh = "wazuh",
    Generic = "generic",
});

words!(
    /// How a source proves who it is.
    SourceAuth {
    Bearer = "bearer",
    Hmac = "hmac",
});

/// Maps an alert to a component (and region) by one of its labels:
/// `service=auth-eu` -> component `login`, region `eu`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentRule {
    pub label: String,
    pub equals: String,
    pub component: String,
    #[serde(default)]
    pub region: Option<String>,
}

/// Where a generic source's fields are in its JSON: JSON pointers
/// (RFC 6901), relative to each alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldMap {
    /// Pointer to an array of alerts; without it the body is one alert, or
    /// an array of them.
    #[serde(default)]
    pub alerts: Option<String>,
    #[serde(default = "ptr_title")]
    pub title: String,
    #[serde(default = "ptr_description")]
    pub description: String,
    #[serde(default = "ptr_severity")]
    pub severity: String,
    #[serde(default = "ptr_status")]
    pub status: String,
    #[serde(default = "ptr_fingerprint")]
    pub fingerprint: String,
    #[serde(default = "ptr_started")]
    pub started_at: String,
    #[serde(default = "ptr_ended")]
    pub ended_at: String,
    #[serde(default = "ptr_labels")]
    pub labels: String,
    /// The source's own severity words -> critical, high, medium, low, info.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, String>)]
    pub severity_values: BTreeMap<String, AlertSeverity>,
    /// Status values that mean resolved (case-insensitive).
    #[serde(default = "resolved_words")]
    pub resolved_values: Vec<String>,
}

fn ptr_title() -> String {
    "/title".into()
}
fn ptr_description() -> String {
    "/description".into()
}
fn ptr_severity() -> String {
    "/severity".into()
}
fn ptr_status() -> String {
    "/status".into()
}
fn ptr_fingerprint() -> String {
    "/fingerprint".into()
}
fn ptr_started() -> String {
    "/started_at".into()
}
fn ptr_ended() -> String {
    "/ended_at".into()
}
fn ptr_labels() -> String {
    "/labels".into()
}
fn resolved_words() -> Vec<String> {
    ["resolved", "ok", "closed", "recovered"]
        .map(String::from)
        .to_vec()
}

impl Default for FieldMap {
    fn default() -> Self {
        serde_json::from_value(serde_json::json!({})).unwrap_or(Self {
            alerts: None,
            title: ptr_title(),
            description: ptr_description(),
            severity: ptr_severity(),
            status: ptr_status(),
            fingerprint: ptr_fingerprint(),
            started_at: ptr_started(),
            ended_at: ptr_ended(),
            labels: ptr_labels(),
            severity_values: BTreeMap::new(),
            resolved_values: resolved_words(),
        })
    }
}

impl FieldMap {
    /// Every pointer is empty (the whole alert) or starts with `/`.
    pub fn check(&self) -> Result<(), String> {
        let pointers = [
            ("alerts", self.alerts.as_deref().unwrap_or("")),
            ("title", &self.title),
            ("description", &self.description),
            ("severity", &self.severity),
            ("status", &self.status),
            ("fingerprint", &self.fingerprint),
            ("started_at", &self.started_at),
            ("ended_at", &self.ended_at),
            ("labels", &self.labels),
        ];
        for (name, p) in pointers {
            if !(p.is_empty() || p.starts_with('/')) || p.len() > 200 {
                return Err(format!(
                    "field_map.{name}: a JSON pointer such as /alert/title (RFC 6901)"
                ));
            }
        }
        if self.title.is_empty() {
            return Err("field_map.title: must point at a field".into());
        }
        Ok(())
    }
}

/// An alert as a tool described it, before mapping and redaction.
#[derive(Debug, Clone)]
pub struct RawAlert {
    pub fingerprint: Option<String>,
    pub status: AlertStatus,
    pub severity: AlertSeverity,
    pub title: String,
    pub description: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub started_at: i64,
    pub ended_at: Option<i64>,
}

/// An alert ready to store.
#[derive(Debug, Clone)]
pub struct NewAlert {
    pub fingerprint: String,
    pub status: AlertStatus,
    pub severity: AlertSeverity,
    pub title: String,
    pub description: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub component: Option<String>,
    pub region: Option<String>,
    pub origin: Option<String>,
    pub started_at: i64,
    pub ended_at: Option<i64>,
}

const TITLE_MAX: usize = 300;
const DESCRIPTION_MAX: usize = 4000;

fn clip(s: &str, max: usize) -> String {
    let t = s.trim();
    if t.chars().count() <= max {
        t.to_owned()
    } else {
        let mut out: String = t.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

/// A component or region name as signals use it: lowercased, and only
/// what a feedback label may hold.
pub fn component_name(s: &str) -> Option<String> {
    crate::domain::feedback::parse_label("component", &s.to_lowercase()).ok()
}

/// Maps labels to a component, takes personal data out of the free text,
/// and gives the alert a fingerprint if the tool sent none.
pub fn normalise(
    raw: RawAlert,
    rules: &[ComponentRule],
    redactor: &frontline_pii::Redactor,
) -> NewAlert {
    let mut component = None;
    let mut region = None;
    let mut origin = None;
    for r in rules {
        if raw.labels.get(&r.label).is_some_and(|v| *v == r.equals) {
            component = component_name(&r.component);
            region = r.region.as_deref().and_then(component_name);
            origin = Some(r.equals.clone());
            break;
        }
    }
    if component.is_none() {
        if let Some(c) = raw.labels.get("component").and_then(|c| component_name(c)) {
            origin = Some(c.clone());
            component = Some(c);
        }
    }
    if region.is_none() {
        region = raw.labels.get("region").and_then(|r| component_name(r));
    }
    let fingerprint = raw
        .fingerprint
        .map(|f| clip(&f, 200))
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| formats::label_fingerprint(&raw.title, &raw.labels));
    let title = redactor.redact(&clip(&raw.title, TITLE_MAX)).text;
    let description = raw
        .description
        .as_deref()
        .map(|d| clip(d, DESCRIPTION_MAX))
        .filter(|d| !d.is_empty())
        .map(|d| redactor.redact(&d).text);
    NewAlert {
        fingerprint,
        status: raw.status,
        severity: raw.severity,
        title: if title.is_empty() {
            "(untitled alert)".into()
        } else {
            title
        },
        description,
        labels: raw.labels,
        component,
        region,
        origin,
        started_at: raw.started_at,
        ended_at: raw.ended_at,
    }
}

/// A source as the hooks need it, with its secret derived.
#[derive(Debug, Clone)]
pub struct Source {
    pub id: String,
    pub name: String,
    pub kind: SourceKind,
    pub auth: SourceAuth,
    pub signature_header: String,
    /// Empty: the signature covers the body alone.
    pub timestamp_header: String,
    pub secret: Secret,
    pub components: Vec<ComponentRule>,
    pub field_map: FieldMap,
    pub enabled: bool,
}

/// The secret of a source: derived from its nonce with the key ring's
/// index key, so it is never stored. It names its source, so a bearer
/// token finds its source without a lookup by secret.
pub fn derive_secret(ring: &KeyRing, source_id: &str, nonce: &str) -> String {
    let mac = ring.blind_index("alert_source", &format!("{source_id}:{nonce}"));
    format!("fla_{source_id}_{}", &mac[..48.min(mac.len())])
}

/// The source a bearer token names.
pub fn source_of_token(token: &str) -> Option<&str> {
    let rest = token.strip_prefix("fla_")?;
    let (id, _) = rest.rsplit_once('_')?;
    Some(id)
}

const CACHE_TTL: Duration = Duration::from_secs(5);

/// When the sources were read, and what they were.
type Cached = (Option<Instant>, HashMap<String, Arc<Source>>);

/// Sources, cached for a few seconds so that a burst of alerts does not
/// read the same rows thousands of times. Changes made here refresh it at
/// once; changes made by another node show within the TTL.
#[derive(Clone)]
pub struct Sources {
    store: Store,
    ring: Arc<KeyRing>,
    cache: Arc<RwLock<Cached>>,
}

impl Sources {
    pub fn new(store: Store, ring: Arc<KeyRing>) -> Self {
        Self {
            store,
            ring,
            cache: Arc::new(RwLock::new((None, HashMap::new()))),
        }
    }

    pub fn ring(&self) -> &KeyRing {
        &self.ring
    }

    /// Forgets the cache, after a change.
    pub fn invalidate(&self) {
        if let Ok(mut c) = self.cache.write() {
            c.0 = None;
        }
    }

    async fn all(&self) -> crate::storage::Result<HashMap<String, Arc<Source>>> {
        if let Ok(c) = self.cache.read() {
            if c.0.is_some_and(|t| t.elapsed() < CACHE_TTL) {
                return Ok(c.1.clone());
            }
        }
        let rows = self.store.alert_source_secrets().await?;
        let map: HashMap<String, Arc<Source>> = rows
            .into_iter()
            .map(|(s, nonce)| {
                let secret = Secret::new(derive_secret(&self.ring, &s.id, &nonce));
                (
                    s.id.clone(),
                    Arc::new(Source {
                        id: s.id,
                        name: s.name,
                        kind: s.kind,
                        auth: s.auth,
                        signature_header: s.signature_header,
                        timestamp_header: s.timestamp_header,
                        secret,
                        components: s.components,
                        field_map: s.field_map.unwrap_or_default(),
                        enabled: s.enabled,
                    }),
                )
            })
            .collect();
        if let Ok(mut c) = self.cache.write() {
            *c = (Some(Instant::now()), map.clone());
        }
        Ok(map)
    }

    pub async fn get(&self, id: &str) -> crate::storage::Result<Option<Arc<Source>>> {
        Ok(self.all().await?.get(id).cloned())
    }

    /// Enabled sources of one kind that sign with HMAC.
    pub async fn hmac_sources(&self, kind: SourceKind) -> crate::storage::Result<Vec<Arc<Source>>> {
        let mut v: Vec<Arc<Source>> = self
            .all()
            .await?
            .into_values()
            .filter(|s| s.kind == kind && s.auth == SourceAuth::Hmac && s.enabled)
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wazuh_levels_map_to_severities() {
        let got: Vec<&str> = [0u8, 3, 4, 6, 7, 9, 10, 12, 13, 15, 16]
            .iter()
            .map(|l| AlertSeverity::from_wazuh_level(*l).as_str())
            .collect();
        assert_eq!(
            got,
            [
                "info", "info", "low", "low", "medium", "medium", "high", "high", "critical",
                "critical", "critical"
            ]
        );
    }

    #[test]
    fn tokens_name_their_source() {
        let ring = KeyRing::generate();
        let t = derive_secret(&ring, "asrc_01J00000000000000000000000", "n1");
        assert_eq!(source_of_token(&t), Some("asrc_01J00000000000000000000000"));
        assert_ne!(
            t,
            derive_secret(&ring, "asrc_01J00000000000000000000000", "n2")
        );
        assert_eq!(source_of_token("Bearer x"), None);
    }

    #[test]
    fn rules_map_labels_to_components() {
        let rules = vec![ComponentRule {
            label: "service".into(),
            equals: "auth-eu".into(),
            component: "Login".into(),
            region: Some("EU".into()),
        }];
        let raw = RawAlert {
            fingerprint: None,
            status: AlertStatus::Firing,
            severity: AlertSeverity::High,
            title: "Brute force".into(),
            description: Some("from admin@example.com".into()),
            labels: [("service".to_owned(), "auth-eu".to_owned())].into(),
            started_at: 0,
            ended_at: None,
        };
        let redactor = frontline_pii::Redactor::new();
        let a = normalise(raw, &rules, &redactor);
        assert_eq!(a.component.as_deref(), Some("login"));
        assert_eq!(a.region.as_deref(), Some("eu"));
        assert_eq!(a.origin.as_deref(), Some("auth-eu"));
        assert!(!a.description.unwrap().contains("admin@example.com"));
        assert!(!a.fingerprint.is_empty());
    }
}
