//! Alert sources, security alerts, and the suggestions that pair alerts
//! with signals. Every change commits with its audit entry.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::users::rfc3339;
use super::{now_ms, AuditRecord, Result, Row, Store, StoreError, Tx};
use crate::alerts::{
    AlertSeverity, AlertStatus, ComponentRule, FieldMap, NewAlert, Source, SourceAuth, SourceKind,
};
use crate::args;
use crate::domain::incident::{Impact, IncidentStatus, NewIncident, Severity};
use crate::domain::{id::Kind, DataClass, Id};
use crate::notify::routes::{PageAction, RouteMessage, RouteSeverity};

/// A source as the API shows it: never its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AlertSource {
    pub id: String,
    pub name: String,
    pub kind: SourceKind,
    pub auth: SourceAuth,
    /// The header that carries the HMAC-SHA256 signature (hmac sources).
    pub signature_header: String,
    /// The header that carries the signing time in Unix seconds (hmac
    /// sources; empty: none). When set, the signature covers
    /// `<timestamp>:<body>` and must be at most five minutes old.
    pub timestamp_header: String,
    pub components: Vec<ComponentRule>,
    pub field_map: Option<FieldMap>,
    pub enabled: bool,
    /// Where the tool posts: `/hooks/<kind>`.
    pub hook_path: String,
    pub created_at: String,
    pub updated_at: String,
    pub rotated_at: String,
}

/// What a new source is.
#[derive(Debug, Clone)]
pub struct NewSource {
    pub name: String,
    pub kind: SourceKind,
    pub auth: SourceAuth,
    pub signature_header: String,
    pub timestamp_header: String,
    pub components: Vec<ComponentRule>,
    pub field_map: Option<FieldMap>,
}

/// A change to a source; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SourceChange {
    pub name: Option<String>,
    pub signature_header: Option<String>,
    pub timestamp_header: Option<String>,
    pub components: Option<Vec<ComponentRule>>,
    pub field_map: Option<FieldMap>,
    pub enabled: Option<bool>,
}

const SOURCE_COLUMNS: &str = "id, name, kind, auth, signature_header, secret_nonce, components, field_map, enabled, created_at, updated_at, rotated_at, timestamp_header";

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("alert {what}"))
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl AlertSource {
    fn from_row(r: &Row) -> Result<(Self, String)> {
        let kind =
            SourceKind::from_db(&r.get::<String>("kind")?).ok_or_else(|| corrupt("source kind"))?;
        let field_map: String = r.get("field_map")?;
        Ok((
            Self {
                id: r.get("id")?,
                name: r.get("name")?,
                kind,
                auth: SourceAuth::from_db(&r.get::<String>("auth")?)
                    .ok_or_else(|| corrupt("source auth"))?,
                signature_header: r.get("signature_header")?,
                timestamp_header: r.get("timestamp_header")?,
                components: serde_json::from_str(&r.get::<String>("components")?)
                    .map_err(|_| corrupt("source components"))?,
                field_map: if field_map == "null" {
                    None
                } else {
                    Some(
                        serde_json::from_str(&field_map)
                            .map_err(|_| corrupt("source field map"))?,
                    )
                },
                enabled: r.get("enabled")?,
                hook_path: format!("/hooks/{kind}"),
                created_at: rfc3339(r.get("created_at")?),
                updated_at: rfc3339(r.get("updated_at")?),
                rotated_at: rfc3339(r.get("rotated_at")?),
            },
            r.get("secret_nonce")?,
        ))
    }
}

/// A normalised security alert.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SecurityAlert {
    pub id: String,
    pub source_id: String,
    pub source_name: String,
    pub fingerprint: String,
    pub status: AlertStatus,
    pub severity: AlertSeverity,
    pub title: String,
    pub description: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub component: Option<String>,
    pub region: Option<String>,
    /// The label value the component was mapped from.
    pub origin: Option<String>,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub received_at: String,
    pub updated_at: String,
    /// Notifications received for it (firing, repeats, resolved).
    pub notifications: i64,
    pub incident_id: Option<String>,
    #[serde(skip)]
    pub started_ms: i64,
    #[serde(skip)]
    pub ended_ms: Option<i64>,
}

const ALERT_COLUMNS: &str = "a.id, a.source_id, s.name AS source_name, a.fingerprint, a.status, a.severity, a.title, \
a.description, a.labels, a.component, a.region, a.origin, a.started_at, a.ended_at, a.received_at, a.updated_at, \
a.notifications, a.incident_id";

impl SecurityAlert {
    fn from_row(r: &Row) -> Result<Self> {
        let started: i64 = r.get("started_at")?;
        let ended: Option<i64> = r.get("ended_at")?;
        Ok(Self {
            id: r.get("id")?,
            source_id: r.get("source_id")?,
            source_name: r.get("source_name")?,
            fingerprint: r.get("fingerprint")?,
            status: AlertStatus::from_db(&r.get::<String>("status")?)
                .ok_or_else(|| corrupt("status"))?,
            severity: AlertSeverity::from_db(&r.get::<String>("severity")?)
                .ok_or_else(|| corrupt("severity"))?,
            title: r.get("title")?,
            description: r.get("description")?,
            labels: serde_json::from_str(&r.get::<String>("labels")?)
                .map_err(|_| corrupt("labels"))?,
            component: r.get("component")?,
            region: r.get("region")?,
            origin: r.get("origin")?,
            started_at: rfc3339(started),
            ended_at: ended.map(rfc3339),
            received_at: rfc3339(r.get("received_at")?),
            updated_at: rfc3339(r.get("updated_at")?),
            notifications: r.get("notifications")?,
            incident_id: r.get("incident_id")?,
            started_ms: started,
            ended_ms: ended,
        })
    }
}

/// What became of one alert in a hook call.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Received {
    pub id: String,
    /// First notification for this fingerprint.
    pub new: bool,
    pub status: AlertStatus,
    #[serde(skip)]
    pub severity: AlertSeverity,
    #[serde(skip)]
    pub component: Option<String>,
    #[serde(skip)]
    pub region: Option<String>,
    #[serde(skip)]
    pub started_at: i64,
    #[serde(skip)]
    pub ended_at: Option<i64>,
}

/// A suggested incident: a signal and alerts that touch the same component.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    pub id: String,
    pub component: String,
    pub region: Option<String>,
    pub title: String,
    /// SEV1 (worst) to SEV4.
    pub severity: Severity,
    /// How the severity was decided.
    pub reason: String,
    /// open, accepted or dismissed.
    pub status: String,
    pub status_note: Option<String>,
    pub incident_id: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub signals: Vec<String>,
    pub alerts: Vec<String>,
}

const SUGGESTION_COLUMNS: &str =
    "id, component, region, title, severity, reason, status, status_note, incident_id, \
decided_by, decided_at, created_at, updated_at";

impl Suggestion {
    fn from_row(r: &Row) -> Result<Self> {
        let region: String = r.get("region")?;
        Ok(Self {
            id: r.get("id")?,
            component: r.get("component")?,
            region: (!region.is_empty()).then_some(region),
            title: r.get("title")?,
            severity: Severity::from_db(&r.get::<String>("severity")?)
                .ok_or_else(|| corrupt("suggestion severity"))?,
            reason: r.get("reason")?,
            status: r.get("status")?,
            status_note: r.get("status_note")?,
            incident_id: r.get("incident_id")?,
            decided_by: r.get("decided_by")?,
            decided_at: r.get::<Option<i64>>("decided_at")?.map(rfc3339),
            created_at: rfc3339(r.get("created_at")?),
            updated_at: rfc3339(r.get("updated_at")?),
            signals: vec![],
            alerts: vec![],
        })
    }
}

/// A signal as correlation needs it.
#[derive(Debug, Clone)]
pub struct SignalSide {
    pub id: String,
    pub title: String,
    pub topic: Option<String>,
    pub component: String,
    pub region: Option<String>,
    pub observed_total: f64,
    pub expected_total: f64,
    pub started_at: i64,
    pub updated_at: i64,
}

/// A signal as stored, before its place is worked out.
struct SignalRow {
    id: String,
    title: String,
    topic: Option<String>,
    component: Option<String>,
    region: Option<String>,
    channel: Option<String>,
    observed_total: f64,
    expected_total: f64,
    started_at: i64,
    updated_at: i64,
}

impl SignalRow {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(Self {
            id: r.get("id")?,
            title: r.get("title")?,
            topic: r.get("topic")?,
            component: r
                .get::<Option<String>>("component")?
                .map(|c| c.to_lowercase()),
            region: r.get::<Option<String>>("region")?.map(|r| r.to_lowercase()),
            channel: r.get("channel")?,
            observed_total: r.get("observed_total")?,
            expected_total: r.get("expected_total")?,
            started_at: r.get("started_at")?,
            updated_at: r.get("updated_at")?,
        })
    }
}

const SIGNAL_SIDE: &str =
    "id, title, topic, component, region, channel, observed_total, expected_total, started_at, updated_at";

/// A pair to link into a suggestion, decided by the correlator.
#[derive(Debug, Clone)]
pub struct Pairing {
    pub signal_id: String,
    pub alert_id: String,
    pub component: String,
    pub region: String,
    pub title: String,
    pub severity: Severity,
    pub reason: String,
}

/// What accepting a suggestion may override.
#[derive(Debug, Clone, Default)]
pub struct Acceptance {
    pub title: Option<String>,
    pub severity: Option<Severity>,
    pub impact: Option<Impact>,
    /// The playbook (slug or id) the incident's checklist comes from.
    pub playbook: Option<String>,
    /// Status page components (`cmp_...`) the incident affects.
    pub components: Vec<String>,
}

/// Why a suggestion cannot be accepted or dismissed.
#[derive(Debug, thiserror::Error)]
pub enum SuggestionRefusal {
    #[error("this suggestion was already {0}")]
    Decided(String),
    #[error(transparent)]
    Incident(#[from] super::incidents::IncidentRefusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn impact_for(s: Severity) -> Impact {
    match s {
        Severity::Sev1 => Impact::Critical,
        Severity::Sev2 => Impact::Major,
        Severity::Sev3 | Severity::Sev4 => Impact::Minor,
    }
}

impl Tx {
    /// Writes alerts, many per statement: one row per (source,
    /// fingerprint), so a repeat firing or a resolve updates the row. A new
    /// firing after a resolution starts a new occurrence; a repeat keeps the
    /// first start. Returns what became of each, in order.
    async fn upsert_alerts(
        &mut self,
        alerts: &[(&str, &NewAlert)],
        now: i64,
    ) -> Result<Vec<Received>> {
        const WIDTH: usize = 14;
        const PER_STATEMENT: usize = 100;
        let postgres = self.is_postgres();
        let mut out: Vec<Option<Received>> = vec![None; alerts.len()];
        let mut i = 0;
        while i < alerts.len() {
            // A statement may not touch one row twice: a duplicate key
            // waits for the next statement.
            let mut keys = std::collections::HashSet::new();
            let mut chunk = Vec::new();
            while i < alerts.len()
                && chunk.len() < PER_STATEMENT
                && keys.insert((alerts[i].0, alerts[i].1.fingerprint.as_str()))
            {
                chunk.push(i);
                i += 1;
            }
            let mut sql = String::from(
                "INSERT INTO security_alerts (id, source_id, fingerprint, status, severity, title, description, labels,
                   component, region, origin, started_at, ended_at, received_at, updated_at, notifications, incident_id) VALUES ",
            );
            let mut args = Vec::with_capacity(chunk.len() * WIDTH);
            for (n, &k) in chunk.iter().enumerate() {
                let (source, a) = alerts[k];
                if n > 0 {
                    sql.push(',');
                }
                sql.push('(');
                for j in 0..WIDTH {
                    if j > 0 {
                        sql.push(',');
                    }
                    if postgres {
                        sql.push_str(&format!("${}", n * WIDTH + j + 1));
                    } else {
                        sql.push('?');
                    }
                }
                // updated_at = received_at; a first notification; no incident.
                sql.push(',');
                if postgres {
                    sql.push_str(&format!("${}", n * WIDTH + 14));
                } else {
                    sql.push('?');
                }
                sql.push_str(", 1, NULL)");
                args.extend(args![
                    Id::new(Kind::Alert).to_string(),
                    source,
                    &a.fingerprint,
                    a.status.as_str(),
                    a.severity.as_str(),
                    &a.title,
                    a.description.clone(),
                    to_json(&a.labels)?,
                    a.component.clone(),
                    a.region.clone(),
                    a.origin.clone(),
                    a.started_at,
                    a.ended_at,
                    now
                ]);
                if !postgres {
                    args.push(now.into());
                }
            }
            sql.push_str(
                " ON CONFLICT (source_id, fingerprint) DO UPDATE SET
                   started_at = CASE WHEN security_alerts.status = 'resolved' AND EXCLUDED.status = 'firing'
                                     THEN EXCLUDED.started_at ELSE security_alerts.started_at END,
                   status = EXCLUDED.status, severity = EXCLUDED.severity, title = EXCLUDED.title,
                   description = EXCLUDED.description, labels = EXCLUDED.labels, component = EXCLUDED.component,
                   region = EXCLUDED.region, origin = EXCLUDED.origin, ended_at = EXCLUDED.ended_at,
                   updated_at = EXCLUDED.updated_at, notifications = security_alerts.notifications + 1
                 RETURNING id, source_id, fingerprint, notifications, started_at, ended_at",
            );
            let rows = self.fetch_all(&sql, args).await?;
            let mut by_key: HashMap<(String, String), &Row> = HashMap::new();
            for r in &rows {
                by_key.insert((r.get("source_id")?, r.get("fingerprint")?), r);
            }
            for &k in &chunk {
                let (source, a) = alerts[k];
                let r = by_key
                    .get(&(source.to_owned(), a.fingerprint.clone()))
                    .ok_or(StoreError::NotFound)?;
                out[k] = Some(Received {
                    id: r.get("id")?,
                    new: r.get::<i64>("notifications")? == 1,
                    status: a.status,
                    severity: a.severity,
                    component: a.component.clone(),
                    region: a.region.clone(),
                    started_at: r.get("started_at")?,
                    ended_at: r.get("ended_at")?,
                });
            }
        }
        out.into_iter()
            .map(|r| r.ok_or(StoreError::NotFound))
            .collect()
    }
}

impl Store {
    pub async fn create_alert_source(
        &self,
        new: &NewSource,
        nonce: &str,
        by: AuditRecord,
    ) -> Result<AlertSource> {
        let id = Id::new(Kind::AlertSource).to_string();
        let now = now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            &format!("INSERT INTO alert_sources ({SOURCE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9, $9, $9, $10)"),
            args![&id, &new.name, new.kind.as_str(), new.auth.as_str(), &new.signature_header, nonce,
                  to_json(&new.components)?, to_json(&new.field_map)?, now, &new.timestamp_header],
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict("an alert source with this name"),
            e => e,
        })?;
        tx.audit(AuditRecord {
            action: "alert_source.create".into(),
            class: DataClass::SecurityAlerts,
            record: Some(id.clone()),
            detail: serde_json::json!({ "kind": new.kind.as_str(), "auth": new.auth.as_str() }),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.alert_source(&id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn update_alert_source(
        &self,
        id: &str,
        change: &SourceChange,
        by: AuditRecord,
    ) -> Result<AlertSource> {
        let mut tx = self.begin().await?;
        let row = tx
            .fetch_optional(
                &format!("SELECT {SOURCE_COLUMNS} FROM alert_sources WHERE id = $1"),
                args![id],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let (old, _) = AlertSource::from_row(&row)?;
        tx.execute(
            "UPDATE alert_sources SET name = $1, signature_header = $2, components = $3, field_map = $4,
               enabled = $5, updated_at = $6, timestamp_header = $7 WHERE id = $8",
            args![
                change.name.clone().unwrap_or(old.name),
                change.signature_header.clone().unwrap_or(old.signature_header),
                to_json(change.components.as_ref().unwrap_or(&old.components))?,
                to_json(&change.field_map.clone().or(old.field_map))?,
                change.enabled.unwrap_or(old.enabled),
                now_ms(),
                change.timestamp_header.clone().unwrap_or(old.timestamp_header),
                id
            ],
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict("an alert source with this name"),
            e => e,
        })?;
        tx.audit(AuditRecord {
            action: "alert_source.update".into(),
            class: DataClass::SecurityAlerts,
            record: Some(id.to_owned()),
            detail: serde_json::json!({ "enabled": change.enabled }),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.alert_source(id).await?.ok_or(StoreError::NotFound)
    }

    /// A new nonce, so a new secret; the old one stops working at once.
    pub async fn rotate_alert_source(
        &self,
        id: &str,
        nonce: &str,
        by: AuditRecord,
    ) -> Result<AlertSource> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE alert_sources SET secret_nonce = $1, rotated_at = $2, updated_at = $2 WHERE id = $3",
                args![nonce, now_ms(), id],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.audit(AuditRecord {
            action: "alert_source.rotate".into(),
            class: DataClass::SecurityAlerts,
            record: Some(id.to_owned()),
            detail: serde_json::json!({}),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.alert_source(id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn alert_source(&self, id: &str) -> Result<Option<AlertSource>> {
        self.fetch_optional(
            &format!("SELECT {SOURCE_COLUMNS} FROM alert_sources WHERE id = $1"),
            args![id],
        )
        .await?
        .map(|r| AlertSource::from_row(&r).map(|(s, _)| s))
        .transpose()
    }

    pub async fn list_alert_sources(&self) -> Result<Vec<AlertSource>> {
        self.fetch_all(
            &format!("SELECT {SOURCE_COLUMNS} FROM alert_sources ORDER BY name"),
            vec![],
        )
        .await?
        .iter()
        .map(|r| AlertSource::from_row(r).map(|(s, _)| s))
        .collect()
    }

    /// Sources with the nonces their secrets derive from (for the hooks).
    pub async fn alert_source_secrets(&self) -> Result<Vec<(AlertSource, String)>> {
        self.fetch_all(
            &format!("SELECT {SOURCE_COLUMNS} FROM alert_sources"),
            vec![],
        )
        .await?
        .iter()
        .map(AlertSource::from_row)
        .collect()
    }

    /// Writes the alerts of many hook calls in one transaction, with one
    /// audit entry per source. Returns what became of each alert, per call.
    pub async fn store_alerts(
        &self,
        calls: &[(&Source, &[NewAlert])],
    ) -> Result<Vec<Vec<Received>>> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let flat: Vec<(&str, &NewAlert)> = calls
            .iter()
            .flat_map(|(source, alerts)| alerts.iter().map(|a| (source.id.as_str(), a)))
            .collect();
        let mut received = tx.upsert_alerts(&flat, now).await?.into_iter();
        let mut out = Vec::with_capacity(calls.len());
        let mut per_source: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
        for (source, alerts) in calls {
            let got: Vec<Received> = received.by_ref().take(alerts.len()).collect();
            for r in &got {
                let e = per_source.entry(source.id.as_str()).or_default();
                if r.new {
                    e.0 += 1;
                } else {
                    e.1 += 1;
                }
            }
            out.push(got);
        }
        for (source, (new, updated)) in per_source {
            tx.audit(AuditRecord {
                actor: source.to_owned(),
                address: None,
                action: "alert.receive".into(),
                class: DataClass::SecurityAlerts,
                record: None,
                detail: serde_json::json!({ "new": new, "updated": updated }),
            })
            .await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    pub async fn security_alert(&self, id: &str) -> Result<Option<SecurityAlert>> {
        self.fetch_optional(
            &format!("SELECT {ALERT_COLUMNS} FROM security_alerts a JOIN alert_sources s ON s.id = a.source_id WHERE a.id = $1"),
            args![id],
        )
        .await?
        .as_ref()
        .map(SecurityAlert::from_row)
        .transpose()
    }

    /// Alerts, most recently changed first.
    pub async fn list_security_alerts(
        &self,
        status: Option<AlertStatus>,
        source: Option<&str>,
        component: Option<&str>,
        limit: i64,
    ) -> Result<Vec<SecurityAlert>> {
        let mut sql = format!("SELECT {ALERT_COLUMNS} FROM security_alerts a JOIN alert_sources s ON s.id = a.source_id WHERE 1 = 1");
        let mut args = vec![];
        if let Some(st) = status {
            args.push(st.as_str().into());
            sql.push_str(&format!(" AND a.status = ${}", args.len()));
        }
        if let Some(src) = source {
            args.push(src.into());
            sql.push_str(&format!(" AND a.source_id = ${}", args.len()));
        }
        if let Some(c) = component {
            args.push(c.to_lowercase().into());
            sql.push_str(&format!(" AND a.component = ${}", args.len()));
        }
        args.push(limit.into());
        sql.push_str(&format!(
            " ORDER BY a.updated_at DESC, a.id DESC LIMIT ${}",
            args.len()
        ));
        self.fetch_all(&sql, args)
            .await?
            .iter()
            .map(SecurityAlert::from_row)
            .collect()
    }

    pub async fn count_security_alerts(&self) -> Result<i64> {
        self.fetch_optional("SELECT COUNT(*) AS n FROM security_alerts", vec![])
            .await?
            .map(|r| r.get("n"))
            .transpose()
            .map(|n| n.unwrap_or(0))
    }

    /// Where a signal is: its series' component (and region), or, for a
    /// topic series that names none, the component most of its complaints
    /// since it began name (more than half of those that name one), and
    /// likewise their region. The all-complaints series is nowhere.
    /// Where a firing belongs, as correlation places signals: its series'
    /// component, or for a topic series that names none the component (and
    /// region) most of its complaints since the rise began name.
    pub(crate) async fn place_firing(
        &self,
        f: &crate::storage::signals::Firing,
    ) -> Result<Option<(String, Option<String>)>> {
        let now = now_ms();
        let row = SignalRow {
            id: String::new(),
            title: String::new(),
            topic: f.series.topic.clone(),
            component: f.series.component.as_ref().map(|c| c.to_lowercase()),
            region: f.series.region.as_ref().map(|r| r.to_lowercase()),
            channel: f.series.channel.clone(),
            observed_total: f.observed_total,
            expected_total: f.expected_total,
            started_at: f.started_at,
            updated_at: now,
        };
        Ok(self.place(row).await?.map(|s| (s.component, s.region)))
    }

    async fn place(&self, row: SignalRow) -> Result<Option<SignalSide>> {
        let side = |component: String, region: Option<String>| SignalSide {
            id: row.id.clone(),
            title: row.title.clone(),
            topic: row.topic.clone(),
            component,
            region,
            observed_total: row.observed_total,
            expected_total: row.expected_total,
            started_at: row.started_at,
            updated_at: row.updated_at,
        };
        if let Some(c) = &row.component {
            return Ok(Some(side(c.clone(), row.region.clone())));
        }
        let Some(topic) = &row.topic else {
            return Ok(None);
        };
        let mut sql = String::from(
            "SELECT LOWER(component) AS c, LOWER(region) AS r, COUNT(*) AS n FROM feedback
             WHERE topic = $1 AND occurred_at >= $2 AND component IS NOT NULL",
        );
        let mut args = args![topic, row.started_at];
        if let Some(r) = &row.region {
            args.push(r.clone().into());
            sql.push_str(&format!(" AND LOWER(region) = ${}", args.len()));
        }
        if let Some(ch) = &row.channel {
            args.push(ch.clone().into());
            sql.push_str(&format!(" AND channel = ${}", args.len()));
        }
        sql.push_str(" GROUP BY LOWER(component), LOWER(region)");
        let mut per_component: BTreeMap<String, (i64, BTreeMap<Option<String>, i64>)> =
            BTreeMap::new();
        let mut named = 0;
        for r in self.fetch_all(&sql, args).await? {
            let c: String = r.get("c")?;
            let region: Option<String> = r.get("r")?;
            let n: i64 = r.get("n")?;
            named += n;
            let e = per_component.entry(c).or_default();
            e.0 += n;
            *e.1.entry(region).or_default() += n;
        }
        let Some((component, (n, regions))) =
            per_component.into_iter().max_by_key(|(_, (n, _))| *n)
        else {
            return Ok(None);
        };
        if n * 2 <= named {
            return Ok(None);
        }
        let region = row.region.clone().or_else(|| {
            regions
                .into_iter()
                .max_by_key(|(_, k)| *k)
                .filter(|(r, k)| r.is_some() && k * 2 > n)
                .and_then(|(r, _)| r)
        });
        Ok(Some(side(component, region)))
    }

    /// Open or acknowledged signals on a component (by their place) whose
    /// time comes within [from, until] (ms).
    pub async fn signals_near(
        &self,
        component: &str,
        from: i64,
        until: i64,
    ) -> Result<Vec<SignalSide>> {
        let component = component.to_lowercase();
        let rows = self
            .fetch_all(
                &format!(
                    "SELECT {SIGNAL_SIDE} FROM signals WHERE status IN ('open', 'acknowledged')
                     AND (LOWER(component) = $1 OR (component IS NULL AND topic IS NOT NULL))
                     AND started_at <= $2 AND updated_at >= $3 ORDER BY fired_at DESC LIMIT 50"
                ),
                args![&component, until, from],
            )
            .await?;
        let mut out = Vec::new();
        for r in &rows {
            if let Some(s) = self.place(SignalRow::from_row(r)?).await? {
                if s.component == component {
                    out.push(s);
                }
            }
        }
        Ok(out)
    }

    pub async fn signal_side(&self, id: &str) -> Result<Option<SignalSide>> {
        match self
            .fetch_optional(
                &format!("SELECT {SIGNAL_SIDE} FROM signals WHERE id = $1 AND status IN ('open', 'acknowledged')"),
                args![id],
            )
            .await?
        {
            Some(r) => self.place(SignalRow::from_row(&r)?).await,
            None => Ok(None),
        }
    }

    /// Of a signal's complaints since it began that name a region: how many
    /// name `region`, and how many name any.
    pub async fn signal_region_share(&self, s: &SignalSide, region: &str) -> Result<(i64, i64)> {
        let mut sql = String::from(
            "SELECT COALESCE(SUM(CASE WHEN LOWER(region) = $1 THEN 1 ELSE 0 END), 0) AS inside, COUNT(region) AS named
             FROM feedback WHERE LOWER(component) = $2 AND occurred_at >= $3",
        );
        let mut args = args![region.to_lowercase(), &s.component, s.started_at];
        if let Some(t) = &s.topic {
            args.push(t.clone().into());
            sql.push_str(" AND topic = $4");
        }
        let row = self
            .fetch_optional(&sql, args)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok((row.get("inside")?, row.get("named")?))
    }

    /// Alerts on a component whose time (start to end, or now) meets [from, until].
    pub async fn alerts_near(
        &self,
        component: &str,
        from: i64,
        until: i64,
    ) -> Result<Vec<SecurityAlert>> {
        self.fetch_all(
            &format!(
                "SELECT {ALERT_COLUMNS} FROM security_alerts a JOIN alert_sources s ON s.id = a.source_id
                 WHERE a.component = $1 AND a.started_at <= $2 AND COALESCE(a.ended_at, $4) >= $3
                 ORDER BY a.started_at DESC LIMIT 50"
            ),
            args![component.to_lowercase(), until, from, now_ms()],
        )
        .await?
        .iter()
        .map(SecurityAlert::from_row)
        .collect()
    }

    /// Links a signal and an alert into the open suggestion for their
    /// component and region, opening it if there is none. Items already in
    /// an accepted or dismissed suggestion are not suggested again.
    /// Returns the suggestion id, whether it is new, and whether anything changed.
    pub async fn link_pair(&self, p: &Pairing) -> Result<Option<(String, bool, bool)>> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let decided = tx
            .fetch_optional(
                "SELECT l.ref_id FROM suggestion_links l JOIN suggestions s ON s.id = l.suggestion_id
                 WHERE l.ref_id IN ($1, $2) AND s.status <> 'open' LIMIT 1",
                args![&p.signal_id, &p.alert_id],
            )
            .await?;
        if decided.is_some() {
            return Ok(None);
        }
        let open = tx
            .fetch_optional(
                "SELECT id, severity FROM suggestions WHERE component = $1 AND region = $2 AND status = 'open'",
                args![&p.component, &p.region],
            )
            .await?;
        let (id, new) = match open {
            Some(r) => {
                let id: String = r.get("id")?;
                let sev =
                    Severity::from_db(&r.get::<String>("severity")?).unwrap_or(Severity::Sev4);
                if p.severity < sev {
                    tx.execute(
                        "UPDATE suggestions SET severity = $1, reason = $2, updated_at = $3 WHERE id = $4",
                        args![p.severity.as_str(), &p.reason, now, &id],
                    )
                    .await?;
                }
                (id, false)
            }
            None => {
                let id = Id::new(Kind::Suggestion).to_string();
                tx.execute(
                    &format!("INSERT INTO suggestions ({SUGGESTION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, 'open', NULL, NULL, NULL, NULL, $7, $7)"),
                    args![&id, &p.component, &p.region, &p.title, p.severity.as_str(), &p.reason, now],
                )
                .await?;
                tx.audit(AuditRecord {
                    actor: "correlator".into(),
                    address: None,
                    action: "suggestion.open".into(),
                    class: DataClass::SecurityAlerts,
                    record: Some(id.clone()),
                    detail: serde_json::json!({ "signal": p.signal_id, "alert": p.alert_id, "severity": p.severity.as_str() }),
                })
                .await?;
                let topic: Option<String> = tx
                    .fetch_optional(
                        "SELECT topic FROM signals WHERE id = $1",
                        args![&p.signal_id],
                    )
                    .await?
                    .map(|r| r.get::<Option<String>>("topic"))
                    .transpose()?
                    .flatten();
                tx.route_trigger(&RouteMessage {
                    event: "suggestion.opened".into(),
                    action: PageAction::Trigger,
                    ref_id: id.clone(),
                    dedup_key: format!("frontline/{id}"),
                    title: p.title.clone(),
                    severity: RouteSeverity::of_incident(p.severity),
                    topic,
                    components: vec![p.component.to_lowercase()],
                    region: (!p.region.is_empty()).then(|| p.region.clone()),
                    link: "/security".into(),
                    at: rfc3339(now),
                    details: serde_json::json!({
                        "suggested_severity": p.severity.as_str(), "reason": p.reason,
                        "signal": p.signal_id, "alert": p.alert_id,
                    }),
                })
                .await?;
                (id, true)
            }
        };
        let mut changed = new;
        for (kind, ref_id) in [("signal", &p.signal_id), ("alert", &p.alert_id)] {
            let n = tx
                .execute(
                    "INSERT INTO suggestion_links (suggestion_id, kind, ref_id, linked_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT DO NOTHING",
                    args![&id, kind, ref_id, now],
                )
                .await?;
            changed |= n > 0;
        }
        if changed && !new {
            tx.execute(
                "UPDATE suggestions SET updated_at = $1 WHERE id = $2",
                args![now, &id],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Some((id, new, changed)))
    }

    async fn with_links(&self, mut s: Suggestion) -> Result<Suggestion> {
        for r in self
            .fetch_all(
                "SELECT kind, ref_id FROM suggestion_links WHERE suggestion_id = $1 ORDER BY linked_at, ref_id",
                args![&s.id],
            )
            .await?
        {
            let kind: String = r.get("kind")?;
            let id: String = r.get("ref_id")?;
            if kind == "signal" {
                s.signals.push(id);
            } else {
                s.alerts.push(id);
            }
        }
        Ok(s)
    }

    pub async fn suggestion(&self, id: &str) -> Result<Option<Suggestion>> {
        match self
            .fetch_optional(
                &format!("SELECT {SUGGESTION_COLUMNS} FROM suggestions WHERE id = $1"),
                args![id],
            )
            .await?
        {
            Some(r) => Ok(Some(self.with_links(Suggestion::from_row(&r)?).await?)),
            None => Ok(None),
        }
    }

    pub async fn list_suggestions(
        &self,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Suggestion>> {
        let rows = match status {
            Some(s) => {
                self.fetch_all(
                    &format!("SELECT {SUGGESTION_COLUMNS} FROM suggestions WHERE status = $1 ORDER BY updated_at DESC LIMIT $2"),
                    args![s, limit],
                )
                .await?
            }
            None => {
                self.fetch_all(
                    &format!("SELECT {SUGGESTION_COLUMNS} FROM suggestions ORDER BY updated_at DESC LIMIT $1"),
                    args![limit],
                )
                .await?
            }
        };
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(self.with_links(Suggestion::from_row(r)?).await?);
        }
        Ok(out)
    }

    /// Suggestions each signal and alert is linked to: ref id -> suggestion ids.
    pub async fn suggestion_links(&self) -> Result<HashMap<String, Vec<String>>> {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for r in self
            .fetch_all(
                "SELECT l.ref_id, l.suggestion_id FROM suggestion_links l JOIN suggestions s ON s.id = l.suggestion_id
                 ORDER BY s.updated_at DESC LIMIT 5000",
                vec![],
            )
            .await?
        {
            map.entry(r.get("ref_id")?).or_default().push(r.get("suggestion_id")?);
        }
        Ok(map)
    }

    /// Opens an incident from the suggestion, with its signals and alerts
    /// attached and on its timeline, in one transaction with the audit
    /// entries: the signals become promoted, the alerts point at it.
    pub async fn accept_suggestion(
        &self,
        id: &str,
        acceptance: &Acceptance,
        cadence: &crate::domain::response::Cadence,
        by: AuditRecord,
    ) -> Result<(Suggestion, String), SuggestionRefusal> {
        let s = self.suggestion(id).await?.ok_or(StoreError::NotFound)?;
        if s.status != "open" {
            return Err(SuggestionRefusal::Decided(s.status));
        }
        let severity = acceptance.severity.unwrap_or(s.severity);
        let title = acceptance
            .title
            .clone()
            .unwrap_or_else(|| s.title.chars().take(200).collect());
        let new = NewIncident {
            title,
            severity,
            impact: acceptance.impact.unwrap_or(impact_for(severity)),
            status: IncidentStatus::Investigating,
            components: acceptance.components.clone(),
            segments: vec![],
            team: vec![],
            playbook: acceptance.playbook.clone(),
            // Its signals are promoted below, with the alerts beside them.
            signal: None,
            update_every_minutes: None,
        };
        let now = now_ms();
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE suggestions SET status = 'accepted', decided_by = $1, decided_at = $2, updated_at = $2
                 WHERE id = $3 AND status = 'open'",
                args![&by.actor, now, id],
            )
            .await?;
        if n == 0 {
            return Err(SuggestionRefusal::Decided("decided".into()));
        }
        let incident = tx.create_incident(&new, cadence, by.clone()).await?;
        tx.execute(
            "UPDATE suggestions SET incident_id = $1 WHERE id = $2",
            args![&incident, id],
        )
        .await?;
        tx.timeline(
            &incident,
            "suggestion",
            &format!("Opened from suggestion {id}: {}", s.title),
            &by.actor,
        )
        .await?;
        for sig in &s.signals {
            let row = tx
                .fetch_optional(
                    "SELECT title, started_at FROM signals WHERE id = $1",
                    args![sig],
                )
                .await?;
            let (title, began): (String, Option<i64>) = match row {
                Some(r) => (r.get("title")?, Some(r.get("started_at")?)),
                None => (String::new(), None),
            };
            tx.link_in(
                &incident,
                &crate::storage::response::NewLink {
                    kind: "signal",
                    ref_id: sig.clone(),
                    title: title.clone(),
                    began_at: began,
                },
                &by.actor,
            )
            .await?;
            let promoted = tx
                .execute(
                    "UPDATE signals SET status = 'promoted', incident_id = $1, updated_at = $2
                 WHERE id = $3 AND status IN ('open', 'acknowledged')",
                    args![&incident, now, sig],
                )
                .await?;
            if promoted > 0 {
                tx.route_follow_up(sig, "signal.promoted", PageAction::Resolve)
                    .await?;
            }
            tx.timeline(
                &incident,
                "signal",
                &format!("Signal {sig}: {title}"),
                &by.actor,
            )
            .await?;
        }
        for alr in &s.alerts {
            let row = tx
                .fetch_optional(
                    "SELECT a.title, a.severity, s.name FROM security_alerts a JOIN alert_sources s ON s.id = a.source_id WHERE a.id = $1",
                    args![alr],
                )
                .await?;
            let line = match row {
                Some(r) => format!(
                    "Alert {alr} from {} ({}): {}",
                    r.get::<String>("name")?,
                    r.get::<String>("severity")?,
                    r.get::<String>("title")?
                ),
                None => format!("Alert {alr}"),
            };
            tx.execute(
                "UPDATE security_alerts SET incident_id = $1 WHERE id = $2",
                args![&incident, alr],
            )
            .await?;
            tx.link_in(
                &incident,
                &crate::storage::response::NewLink {
                    kind: "alert",
                    ref_id: alr.clone(),
                    title: line.clone(),
                    began_at: None,
                },
                &by.actor,
            )
            .await?;
            tx.timeline(&incident, "alert", &line, &by.actor).await?;
        }
        tx.route_follow_up(id, "suggestion.accepted", PageAction::Resolve)
            .await?;
        tx.audit(AuditRecord {
            action: "suggestion.accept".into(),
            class: DataClass::SecurityAlerts,
            record: Some(id.to_owned()),
            detail: serde_json::json!({ "incident": incident, "signals": s.signals, "alerts": s.alerts }),
            ..by
        })
        .await?;
        tx.commit().await?;
        let s = self.suggestion(id).await?.ok_or(StoreError::NotFound)?;
        Ok((s, incident))
    }

    pub async fn dismiss_suggestion(
        &self,
        id: &str,
        reason: &str,
        by: AuditRecord,
    ) -> Result<Suggestion, SuggestionRefusal> {
        // Refused without taking the writer when it is already decided.
        let current = self.suggestion(id).await?.ok_or(StoreError::NotFound)?;
        if current.status != "open" {
            return Err(SuggestionRefusal::Decided(current.status));
        }
        let now = now_ms();
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE suggestions SET status = 'dismissed', status_note = $1, decided_by = $2, decided_at = $3,
                   updated_at = $3 WHERE id = $4 AND status = 'open'",
                args![reason, &by.actor, now, id],
            )
            .await?;
        if n == 0 {
            let s = self.suggestion(id).await?.ok_or(StoreError::NotFound)?;
            return Err(SuggestionRefusal::Decided(s.status));
        }
        tx.route_follow_up(id, "suggestion.dismissed", PageAction::Resolve)
            .await?;
        tx.audit(AuditRecord {
            action: "suggestion.dismiss".into(),
            class: DataClass::SecurityAlerts,
            record: Some(id.to_owned()),
            detail: serde_json::json!({}),
            ..by
        })
        .await?;
        tx.commit().await?;
        Ok(self.suggestion(id).await?.ok_or(StoreError::NotFound)?)
    }
}
