//! The public status page (`/status`), its Atom and RSS feeds, and the
//! Statuspage-compatible `/api/v2/*.json`, so existing clients and widgets
//! work unchanged. Only published updates are shown; private components and
//! incidents that touch only private components are left out.

use std::collections::BTreeSet;

use axum::extract::{MatchedPath, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::cache::Rendered;
use super::i18n;
use crate::domain::incident::{ComponentStatus, Impact, IncidentStatus, MaintenanceStatus};
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::storage::audiences::AudiencePage;
use crate::storage::status::{Component, Maintenance, PublicIncident};
use crate::storage::users::rfc3339;

/// Whose status page: everyone's, or an audience page's (one segment's
/// customers, at a secret link).
pub(crate) enum Viewers {
    Public,
    Audience { page: AudiencePage, key: String },
}

impl Viewers {
    /// The audience page whose link carries `key`; 404 otherwise.
    async fn audience(state: &AppState, key: &str) -> Result<Self, ApiError> {
        // Keys are 32 URL-safe characters: anything else is not one, and
        // costs no database lookup.
        let plausible = key.len() == 32
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !plausible {
            return Err(ApiError::NotFound("page"));
        }
        match state.store.audience_page_by_key(key).await? {
            Some(page) => Ok(Viewers::Audience {
                page,
                key: key.to_owned(),
            }),
            None => Err(ApiError::NotFound("page")),
        }
    }

    /// Where its page lives.
    fn page_path(&self) -> String {
        match self {
            Viewers::Public => "/status".into(),
            Viewers::Audience { key, .. } => format!("/status/a/{key}"),
        }
    }

    /// What goes before `/api/v2/...` for its JSON.
    fn api_prefix(&self) -> String {
        match self {
            Viewers::Public => String::new(),
            Viewers::Audience { key, .. } => format!("/status/a/{key}"),
        }
    }

    fn audience_name(&self) -> Option<&str> {
        match self {
            Viewers::Public => None,
            Viewers::Audience { page, .. } => Some(&page.name),
        }
    }

    /// Names everything a cached response depends on besides `what`.
    fn cache_key(&self, what: &str) -> String {
        match self {
            Viewers::Public => format!("public|{what}"),
            Viewers::Audience { key, .. } => format!("a:{key}|{what}"),
        }
    }
}

/// What these viewers may see, loaded once per render.
struct Snapshot {
    base: String,
    /// The page's path: `/status`, or an audience page's.
    page_path: String,
    page_id: String,
    name: String,
    /// Components and groups the public may see, in page order.
    components: Vec<Component>,
    incidents: Vec<PublicIncident>,
    maintenances: Vec<Maintenance>,
}

impl Snapshot {
    async fn load(state: &AppState, who: &Viewers) -> Result<Self, ApiError> {
        let base = state
            .config
            .http
            .public_url
            .trim_end_matches('/')
            .to_owned();
        let digest = match who {
            Viewers::Public => hex::encode(Sha256::digest(base.as_bytes())),
            Viewers::Audience { page, .. } => {
                hex::encode(Sha256::digest(format!("{base}#{}", page.id).as_bytes()))
            }
        };
        let name = url::Url::parse(&base)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "Frontline".into());
        let all = state.store.list_components().await?;
        // The components these viewers see: the public ones, or exactly
        // those an audience page names (private or not).
        let public_members: BTreeSet<String> = all
            .iter()
            .filter(|c| !c.is_group)
            .filter(|c| match who {
                Viewers::Public => !c.private,
                Viewers::Audience { page, .. } => page.components.contains(&c.id),
            })
            .map(|c| c.id.clone())
            .collect();
        let live_groups: BTreeSet<String> = all
            .iter()
            .filter(|c| public_members.contains(&c.id))
            .filter_map(|c| c.group_id.clone())
            .collect();
        let components: Vec<Component> = all
            .into_iter()
            .filter(|c| public_members.contains(&c.id) || live_groups.contains(&c.id))
            .collect();
        // An incident is shown unless every component it names is one
        // these viewers do not see; an audience page also shows incidents
        // declared for its segment.
        let shows =
            |ids: &[String]| ids.is_empty() || ids.iter().any(|c| public_members.contains(c));
        let segment = match who {
            Viewers::Public => None,
            Viewers::Audience { page, .. } => page.segment.as_deref(),
        };
        let incidents = state
            .store
            .public_incidents(50)
            .await?
            .into_iter()
            .filter(|i| {
                shows(&i.incident.components)
                    || segment.is_some_and(|s| i.incident.segments.iter().any(|x| x == s))
            })
            .collect();
        let maintenances = state
            .store
            .list_maintenances(50)
            .await?
            .into_iter()
            .filter(|m| shows(&m.components))
            .collect();
        Ok(Self {
            base,
            page_path: who.page_path(),
            page_id: digest[..12].to_owned(),
            name,
            components,
            incidents,
            maintenances,
        })
    }

    fn url(&self) -> String {
        format!("{}{}", self.base, self.page_path)
    }

    fn updated_at(&self) -> i64 {
        let c = self.components.iter().map(|c| c.updated_at.0);
        let i = self
            .incidents
            .iter()
            .filter_map(|i| i.updates.first().and_then(|u| u.published_at).map(|t| t.0));
        let m = self.maintenances.iter().map(|m| m.updated_at.0);
        // A page with nothing on it yet is as of now, not of 1970.
        c.chain(i)
            .chain(m)
            .max()
            .unwrap_or_else(crate::storage::now_ms)
    }

    fn component(&self, id: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.id == id)
    }

    /// A group's status is the worst of its visible members'.
    fn status_of(&self, c: &Component) -> ComponentStatus {
        if !c.is_group {
            return c.status;
        }
        self.components
            .iter()
            .filter(|m| m.group_id.as_deref() == Some(c.id.as_str()))
            .fold(ComponentStatus::Operational, |w, m| w.worst(m.status))
    }

    fn public_status(i: &PublicIncident) -> IncidentStatus {
        i.updates.first().map_or(i.incident.status, |u| u.status)
    }

    fn unresolved(&self) -> impl Iterator<Item = &PublicIncident> {
        self.incidents
            .iter()
            .filter(|i| !Self::public_status(i).is_resolved())
    }

    fn upcoming_or_active(&self) -> impl Iterator<Item = &Maintenance> {
        self.maintenances
            .iter()
            .filter(|m| m.status != MaintenanceStatus::Completed)
    }

    /// The page's indicator: the worst of the open incidents' impact and the
    /// components' statuses.
    fn indicator(&self) -> (&'static str, &'static str) {
        let from_incidents = self
            .unresolved()
            .map(|i| i.incident.impact)
            .max()
            .unwrap_or(Impact::None);
        let from_components = self
            .components
            .iter()
            .filter(|c| !c.is_group)
            .map(|c| match c.status {
                ComponentStatus::Operational | ComponentStatus::UnderMaintenance => Impact::None,
                ComponentStatus::DegradedPerformance => Impact::Minor,
                ComponentStatus::PartialOutage => Impact::Major,
                ComponentStatus::MajorOutage => Impact::Critical,
            })
            .max()
            .unwrap_or(Impact::None);
        let maintenance = self
            .components
            .iter()
            .any(|c| c.status == ComponentStatus::UnderMaintenance);
        match from_incidents.max(from_components) {
            Impact::None if maintenance => ("none", "Service Under Maintenance"),
            Impact::None => ("none", "All Systems Operational"),
            Impact::Minor => ("minor", "Minor Service Outage"),
            Impact::Major => ("major", "Partial System Outage"),
            Impact::Critical => ("critical", "Major System Outage"),
        }
    }

    // ---- Statuspage v2 shapes ----

    fn page_json(&self) -> Value {
        json!({
            "id": self.page_id,
            "name": self.name,
            "url": self.url(),
            "time_zone": "Etc/UTC",
            "updated_at": rfc3339(self.updated_at()),
        })
    }

    fn component_json(&self, c: &Component) -> Value {
        let mut v = json!({
            "id": c.id,
            "name": c.name,
            "status": self.status_of(c).as_str(),
            "created_at": rfc3339(c.created_at.0),
            "updated_at": rfc3339(c.updated_at.0),
            "position": c.position,
            "description": c.description,
            "showcase": !c.is_group,
            "start_date": chrono::DateTime::from_timestamp_millis(c.created_at.0)
                .map(|d| d.format("%Y-%m-%d").to_string()),
            "group_id": c.group_id,
            "page_id": self.page_id,
            "group": c.is_group,
            "only_show_if_degraded": c.only_show_if_degraded,
        });
        if c.is_group {
            let members: Vec<&str> = self
                .components
                .iter()
                .filter(|m| m.group_id.as_deref() == Some(c.id.as_str()))
                .map(|m| m.id.as_str())
                .collect();
            v["components"] = json!(members);
        }
        v
    }

    fn components_of(&self, ids: &[String]) -> Vec<Value> {
        ids.iter()
            .filter_map(|id| self.component(id))
            .map(|c| self.component_json(c))
            .collect()
    }

    fn incident_json(&self, i: &PublicIncident) -> Value {
        let first_at = |s: IncidentStatus| {
            i.updates
                .iter()
                .filter(|u| u.status == s)
                .filter_map(|u| u.published_at)
                .min()
                .map(|t| rfc3339(t.0))
        };
        let status = Self::public_status(i);
        let updated = i
            .updates
            .first()
            .and_then(|u| u.published_at)
            .unwrap_or(i.incident.updated_at);
        let updates: Vec<Value> = i
            .updates
            .iter()
            .map(|u| {
                let at = rfc3339(u.published_at.unwrap_or(u.created_at).0);
                let affected = u.affected_components.as_ref().map(|list| {
                    list.iter()
                        .filter(|a| self.component(&a.code).is_some())
                        .collect::<Vec<_>>()
                });
                json!({
                    "id": u.id,
                    "status": u.status.as_str(),
                    "body": u.body,
                    "incident_id": i.incident.id,
                    "created_at": at,
                    "updated_at": at,
                    "display_at": at,
                    "affected_components": affected,
                    "deliver_notifications": true,
                    "custom_tweet": null,
                    "tweet_id": null,
                })
            })
            .collect();
        json!({
            "id": i.incident.id,
            "name": i.incident.title,
            "status": status.as_str(),
            "created_at": rfc3339(i.incident.created_at.0),
            "updated_at": rfc3339(updated.0),
            "monitoring_at": first_at(IncidentStatus::Monitoring),
            "resolved_at": if status.is_resolved() {
                first_at(IncidentStatus::Resolved).or_else(|| first_at(IncidentStatus::Postmortem))
            } else {
                None
            },
            "impact": i.incident.impact.as_str(),
            "shortlink": format!("{}#{}", self.url(), i.incident.id),
            "started_at": rfc3339(i.incident.created_at.0),
            "page_id": self.page_id,
            "incident_updates": updates,
            "components": self.components_of(&i.incident.components),
        })
    }

    fn maintenance_json(&self, m: &Maintenance) -> Value {
        let updates: Vec<Value> = m
            .updates
            .iter()
            .rev()
            .map(|u| {
                let at = rfc3339(u.created_at.0);
                json!({
                    "id": u.id,
                    "status": u.status.as_str(),
                    "body": u.body,
                    "incident_id": m.id,
                    "created_at": at,
                    "updated_at": at,
                    "display_at": at,
                    "affected_components": null,
                    "deliver_notifications": true,
                    "custom_tweet": null,
                    "tweet_id": null,
                })
            })
            .collect();
        let at = |s: MaintenanceStatus| {
            m.updates
                .iter()
                .find(|u| u.status == s)
                .map(|u| rfc3339(u.created_at.0))
        };
        json!({
            "id": m.id,
            "name": m.title,
            "status": m.status.as_str(),
            "created_at": rfc3339(m.created_at.0),
            "updated_at": rfc3339(m.updated_at.0),
            "monitoring_at": null,
            "resolved_at": at(MaintenanceStatus::Completed),
            "impact": "maintenance",
            "shortlink": format!("{}#{}", self.url(), m.id),
            "started_at": rfc3339(m.scheduled_for.0),
            "page_id": self.page_id,
            "incident_updates": updates,
            "components": self.components_of(&m.components),
            "scheduled_for": rfc3339(m.scheduled_for.0),
            "scheduled_until": rfc3339(m.scheduled_until.0),
        })
    }

    fn status_json(&self) -> Value {
        let (indicator, description) = self.indicator();
        json!({ "indicator": indicator, "description": description })
    }
}

/// The Statuspage v2 endpoints, by the path after `/api/v2/`.
#[derive(Clone, Copy)]
enum V2 {
    Summary,
    Status,
    Components,
    Incidents,
    Unresolved,
    Maintenances,
    Upcoming,
    Active,
}

impl V2 {
    fn from_path(path: &str) -> Option<Self> {
        Some(match path {
            "summary.json" => V2::Summary,
            "status.json" => V2::Status,
            "components.json" => V2::Components,
            "incidents.json" => V2::Incidents,
            "incidents/unresolved.json" => V2::Unresolved,
            "scheduled-maintenances.json" => V2::Maintenances,
            "scheduled-maintenances/upcoming.json" => V2::Upcoming,
            "scheduled-maintenances/active.json" => V2::Active,
            _ => return None,
        })
    }

    fn body(self, s: &Snapshot) -> Value {
        let components = || {
            s.components
                .iter()
                .map(|c| s.component_json(c))
                .collect::<Vec<_>>()
        };
        let maintenances = |keep: &dyn Fn(&Maintenance) -> bool| {
            json!({
                "page": s.page_json(),
                "scheduled_maintenances": s.maintenances.iter().filter(|m| keep(m)).map(|m| s.maintenance_json(m)).collect::<Vec<_>>(),
            })
        };
        match self {
            V2::Summary => json!({
                "page": s.page_json(),
                "components": components(),
                "incidents": s.unresolved().map(|i| s.incident_json(i)).collect::<Vec<_>>(),
                "scheduled_maintenances": s.upcoming_or_active().map(|m| s.maintenance_json(m)).collect::<Vec<_>>(),
                "status": s.status_json(),
            }),
            V2::Status => json!({ "page": s.page_json(), "status": s.status_json() }),
            V2::Components => json!({ "page": s.page_json(), "components": components() }),
            V2::Incidents => json!({
                "page": s.page_json(),
                "incidents": s.incidents.iter().map(|i| s.incident_json(i)).collect::<Vec<_>>(),
            }),
            V2::Unresolved => json!({
                "page": s.page_json(),
                "incidents": s.unresolved().map(|i| s.incident_json(i)).collect::<Vec<_>>(),
            }),
            V2::Maintenances => maintenances(&|_| true),
            V2::Upcoming => maintenances(&|m| m.status == MaintenanceStatus::Scheduled),
            V2::Active => maintenances(&|m| {
                matches!(
                    m.status,
                    MaintenanceStatus::InProgress | MaintenanceStatus::Verifying
                )
            }),
        }
    }
}

/// JSON for clients on other sites: cacheable for a short while, readable
/// from any origin (Statuspage widgets fetch it from the browser).
async fn v2(
    state: &AppState,
    who: &Viewers,
    which: V2,
    headers: &HeaderMap,
    path: &str,
) -> Response {
    state
        .public_cache
        .serve(state, who.cache_key(path), headers, || async {
            let s = Snapshot::load(state, who).await?;
            let body = serde_json::to_vec(&which.body(&s))
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("status JSON: {e}")))?;
            Ok(Rendered {
                content_type: "application/json",
                cache_control: "public, max-age=30",
                cors: true,
                body: body.into(),
            })
        })
        .await
}

/// `/api/v2/*.json`, by the route it was reached through.
pub async fn v2_public(
    State(state): State<AppState>,
    matched: MatchedPath,
    headers: HeaderMap,
) -> Response {
    let path = matched.as_str().trim_start_matches("/api/v2/");
    match V2::from_path(path) {
        Some(which) => v2(&state, &Viewers::Public, which, &headers, path).await,
        None => ApiError::NotFound("route").into_response(),
    }
}

/// `/status/a/{key}/api/v2/*.json`: the same for an audience page.
pub async fn v2_audience(
    State(state): State<AppState>,
    Path((key, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(which) = V2::from_path(&path) else {
        return ApiError::NotFound("route").into_response();
    };
    match Viewers::audience(&state, &key).await {
        Ok(who) => v2(&state, &who, which, &headers, &path).await,
        Err(e) => e.into_response(),
    }
}

// ---- The page ----

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

#[derive(Serialize)]
struct DayCell {
    class: &'static str,
    label: String,
    /// How many days in a row.
    days: usize,
}

#[derive(Serialize)]
struct ComponentView {
    id: String,
    name: String,
    description: Option<String>,
    status: &'static str,
    label: &'static str,
    days: Vec<DayCell>,
    days_ok: usize,
    /// Days it existed, of the 90.
    days_known: usize,
}

#[derive(Serialize)]
struct GroupView {
    name: Option<String>,
    status: &'static str,
    label: &'static str,
    components: Vec<ComponentView>,
}

#[derive(Serialize)]
struct UpdateView {
    status: &'static str,
    label: &'static str,
    body: String,
    at: String,
}

#[derive(Serialize)]
struct EventView {
    id: String,
    name: String,
    impact: &'static str,
    label: &'static str,
    when: Option<String>,
    updates: Vec<UpdateView>,
}

const DAYS: i64 = 90;
const DAY_MS: i64 = 86_400_000;

fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// The worst status of each of the last 90 days (UTC), oldest first;
/// `None` where the component did not exist yet.
pub fn day_history(
    events: &[(i64, ComponentStatus)],
    today_start: i64,
) -> Vec<Option<ComponentStatus>> {
    (0..DAYS)
        .map(|i| {
            let start = today_start - (DAYS - 1 - i) * DAY_MS;
            let end = start + DAY_MS;
            let before = events
                .iter()
                .rev()
                .find(|(at, _)| *at <= start)
                .map(|e| e.1);
            let during = events
                .iter()
                .filter(|(at, _)| *at > start && *at < end)
                .map(|e| e.1);
            during.fold(before, |w, s| Some(w.map_or(s, |w| w.worst(s))))
        })
        .collect()
}

fn page_lang(q: &LangQuery) -> &'static str {
    q.lang
        .as_deref()
        .and_then(|l| i18n::LANGUAGES.iter().find(|(c, _)| *c == l))
        .map_or("en", |(c, _)| c)
}

async fn serve_page(state: &AppState, who: &Viewers, lang: &str, headers: &HeaderMap) -> Response {
    state
        .public_cache
        .serve(
            state,
            who.cache_key(&format!("page|{lang}")),
            headers,
            || async {
                Ok(Rendered {
                    content_type: "text/html; charset=utf-8",
                    cache_control: "public, max-age=30",
                    cors: false,
                    body: build_page(state, who, lang).await?.into(),
                })
            },
        )
        .await
}

pub async fn page(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    serve_page(&state, &Viewers::Public, page_lang(&q), &headers).await
}

/// `/status/a/{key}`: an audience page.
pub async fn audience_page(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    match Viewers::audience(&state, &key).await {
        Ok(who) => serve_page(&state, &who, page_lang(&q), &headers).await,
        Err(e) => super::super::dashboard::error_page(&state, e),
    }
}

async fn build_page(state: &AppState, who: &Viewers, lang: &str) -> Result<String, ApiError> {
    let s = Snapshot::load(state, who).await?;
    let t = |k: &str| i18n::t(lang, k);
    let now = crate::storage::now_ms();
    let today_start = now - now.rem_euclid(DAY_MS);
    let history = state
        .store
        .component_history(today_start - (DAYS - 1) * DAY_MS)
        .await?;
    let view = |c: &Component| {
        let events = history.get(&c.id).map(Vec::as_slice).unwrap_or(&[]);
        let cells = day_history(events, today_start);
        let days_ok = cells
            .iter()
            .filter(|d| {
                matches!(
                    d,
                    Some(ComponentStatus::Operational | ComponentStatus::UnderMaintenance)
                )
            })
            .count();
        // Consecutive days with the same status are one run: one element
        // (drawn as that many day bars) with one text alternative, so the
        // page stays small however long things stay the same.
        let date = |i: usize| {
            chrono::DateTime::from_timestamp_millis(today_start - (DAYS - 1 - i as i64) * DAY_MS)
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default()
        };
        let mut days: Vec<DayCell> = Vec::new();
        let mut start = 0;
        for i in 0..cells.len() {
            if i + 1 < cells.len() && cells[i + 1] == cells[i] {
                continue;
            }
            let (class, key) = match cells[i] {
                Some(s) => (s.as_str(), format!("cs_{}", s.as_str())),
                None => ("no_data", "cs_no_data".to_owned()),
            };
            let when = if start == i {
                date(i)
            } else {
                format!("{} – {}", date(start), date(i))
            };
            days.push(DayCell {
                class,
                label: format!("{when}: {}", t(&key)),
                days: i + 1 - start,
            });
            start = i + 1;
        }
        let status = s.status_of(c);
        ComponentView {
            id: c.id.clone(),
            name: c.name.clone(),
            description: c.description.clone(),
            status: status.as_str(),
            label: t(&format!("cs_{}", status.as_str())),
            days,
            days_ok,
            days_known: cells.iter().filter(|d| d.is_some()).count(),
        }
    };
    let shown =
        |c: &&Component| !(c.only_show_if_degraded && c.status == ComponentStatus::Operational);
    let mut groups = Vec::new();
    for c in s.components.iter().filter(|c| c.group_id.is_none()) {
        if c.is_group {
            let members: Vec<ComponentView> = s
                .components
                .iter()
                .filter(|m| m.group_id.as_deref() == Some(c.id.as_str()))
                .filter(shown)
                .map(view)
                .collect();
            if members.is_empty() {
                continue;
            }
            let status = s.status_of(c);
            groups.push(GroupView {
                name: Some(c.name.clone()),
                status: status.as_str(),
                label: t(&format!("cs_{}", status.as_str())),
                components: members,
            });
        } else if shown(&c) {
            let v = view(c);
            groups.push(GroupView {
                name: None,
                status: v.status,
                label: v.label,
                components: vec![v],
            });
        }
    }
    // Updates written in the page's language show that variant.
    let shown: Vec<String> = s
        .incidents
        .iter()
        .flat_map(|i| i.updates.iter().map(|u| u.id.clone()))
        .take(1000)
        .collect();
    let variants = state.store.published_variant_bodies(lang, &shown).await?;
    let event = |i: &PublicIncident| {
        let status = Snapshot::public_status(i);
        EventView {
            id: i.incident.id.clone(),
            name: i.incident.title.clone(),
            impact: i.incident.impact.as_str(),
            label: t(&format!("is_{}", status.as_str())),
            when: None,
            updates: i
                .updates
                .iter()
                .map(|u| UpdateView {
                    status: u.status.as_str(),
                    label: t(&format!("is_{}", u.status.as_str())),
                    body: variants.get(&u.id).unwrap_or(&u.body).clone(),
                    at: when(u.published_at.unwrap_or(u.created_at).0),
                })
                .collect(),
        }
    };
    let incidents: Vec<EventView> = s.unresolved().map(event).collect();
    // Resolved in the last 14 days, so that shortlinks lead somewhere.
    let recent = now - 14 * DAY_MS;
    let past: Vec<EventView> = s
        .incidents
        .iter()
        .filter(|i| Snapshot::public_status(i).is_resolved())
        .filter(|i| {
            i.updates
                .first()
                .and_then(|u| u.published_at)
                .is_some_and(|at| at.0 >= recent)
        })
        .map(event)
        .collect();
    let maintenances: Vec<EventView> = s
        .upcoming_or_active()
        .map(|m| EventView {
            id: m.id.clone(),
            name: m.title.clone(),
            impact: "maintenance",
            label: t(&format!("ms_{}", m.status.as_str())),
            when: Some(format!(
                "{} – {}",
                when(m.scheduled_for.0),
                when(m.scheduled_until.0)
            )),
            updates: m
                .updates
                .iter()
                .rev()
                .map(|u| UpdateView {
                    status: u.status.as_str(),
                    label: t(&format!("ms_{}", u.status.as_str())),
                    body: u.body.clone(),
                    at: when(u.created_at.0),
                })
                .collect(),
        })
        .collect();
    let (indicator, description) = s.indicator();
    let overall_key = match (indicator, description) {
        ("none", "Service Under Maintenance") => "st_maintenance",
        ("none", _) => "st_none",
        ("minor", _) => "st_minor",
        ("major", _) => "st_major",
        _ => "st_critical",
    };
    let languages: Vec<_> = i18n::LANGUAGES
        .iter()
        .map(|(code, name)| context! { code, name, current => *code == lang })
        .collect();
    let ctx = context! {
        lang, dir => i18n::dir(lang), t => i18n::phrases(lang), languages,
        name => s.name,
        indicator, overall => t(overall_key),
        groups, incidents, past, maintenances,
        days => DAYS,
        updated => when(now),
        sub => super::subscribe::form_phrases(lang),
        // Paths we built from a checked key: nothing to escape.
        page => s.page_path, api => who.api_prefix(),
        audience => who.audience_name(),
    };
    state
        .templates
        .get_template("status.html")
        .and_then(|t| t.render(ctx))
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("template status.html: {e}")))
}

// ---- Feeds ----

struct FeedEntry {
    id: String,
    title: String,
    link: String,
    body: String,
    at: i64,
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 does not allow.
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// Published updates of incidents and maintenances, newest first; only
/// those touching `component` when given.
fn entries(s: &Snapshot, component: Option<&str>) -> Vec<FeedEntry> {
    let touches = |ids: &[String]| component.is_none_or(|c| ids.iter().any(|i| i == c));
    let mut out = Vec::new();
    for i in &s.incidents {
        let affected_here = |u: &crate::storage::incidents::IncidentUpdate| {
            component.is_some_and(|c| {
                u.affected_components
                    .as_ref()
                    .is_some_and(|a| a.iter().any(|a| a.code == c))
            })
        };
        for u in &i.updates {
            if !touches(&i.incident.components) && !affected_here(u) {
                continue;
            }
            let status = u.status.as_str();
            out.push(FeedEntry {
                id: u.id.clone(),
                title: format!("{}: {}", i.incident.title, capitalise(status)),
                link: format!("{}#{}", s.url(), i.incident.id),
                body: u.body.clone(),
                at: u.published_at.unwrap_or(u.created_at).0,
            });
        }
    }
    for m in s.maintenances.iter().filter(|m| touches(&m.components)) {
        for u in &m.updates {
            out.push(FeedEntry {
                id: u.id.clone(),
                title: format!(
                    "{}: {}",
                    m.title,
                    capitalise(&u.status.as_str().replace('_', " "))
                ),
                link: format!("{}#{}", s.url(), m.id),
                body: u.body.clone(),
                at: u.created_at.0,
            });
        }
    }
    out.sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
    out.truncate(50);
    out
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn atom(s: &Snapshot, title: &str, self_path: &str, list: &[FeedEntry]) -> String {
    let updated = list.first().map_or(s.updated_at(), |e| e.at);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">\n\
<id>{id}</id>\n<title>{title}</title>\n<updated>{updated}</updated>\n<author><name>{name}</name></author>\n\
<link rel=\"alternate\" type=\"text/html\" href=\"{url}\"/>\n<link rel=\"self\" type=\"application/atom+xml\" href=\"{base}{self_path}\"/>\n",
        id = xml(&format!("{}{}", s.base, self_path)),
        title = xml(title),
        updated = rfc3339(updated),
        name = xml(&s.name),
        url = xml(&s.url()),
        base = xml(&s.base),
        self_path = xml(self_path),
    );
    for e in list {
        out.push_str(&format!(
            "<entry>\n<id>{base}/status/updates/{id}</id>\n<title>{title}</title>\n<updated>{at}</updated>\n<published>{at}</published>\n\
<link rel=\"alternate\" type=\"text/html\" href=\"{link}\"/>\n<content type=\"text\">{body}</content>\n</entry>\n",
            base = xml(&s.base),
            id = xml(&e.id),
            title = xml(&e.title),
            at = rfc3339(e.at),
            link = xml(&e.link),
            body = xml(&e.body),
        ));
    }
    out.push_str("</feed>\n");
    out
}

fn rss(s: &Snapshot, title: &str, list: &[FeedEntry]) -> String {
    let date = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|d| d.to_rfc2822())
            .unwrap_or_default()
    };
    let updated = list.first().map_or(s.updated_at(), |e| e.at);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\">\n<channel>\n<title>{title}</title>\n<link>{url}</link>\n\
<description>{title}</description>\n<language>en</language>\n<lastBuildDate>{updated}</lastBuildDate>\n",
        title = xml(title),
        url = xml(&s.url()),
        updated = date(updated),
    );
    for e in list {
        out.push_str(&format!(
            "<item>\n<title>{title}</title>\n<link>{link}</link>\n<guid isPermaLink=\"false\">{id}</guid>\n<pubDate>{at}</pubDate>\n<description>{body}</description>\n</item>\n",
            title = xml(&e.title),
            link = xml(&e.link),
            id = xml(&e.id),
            at = date(e.at),
            body = xml(&e.body),
        ));
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

/// The status feeds: the whole page's, or one component's, each as Atom
/// and RSS 2.0.
enum Feed {
    Atom,
    Rss,
    ComponentAtom(String),
    ComponentRss(String),
}

async fn feed(state: &AppState, who: &Viewers, which: Feed, headers: &HeaderMap) -> Response {
    let key = match &which {
        Feed::Atom => "feed.atom".to_owned(),
        Feed::Rss => "feed.rss".to_owned(),
        Feed::ComponentAtom(id) => format!("components/{id}/feed.atom"),
        Feed::ComponentRss(id) => format!("components/{id}/feed.rss"),
    };
    state
        .public_cache
        .serve(state, who.cache_key(&key), headers, || async {
            let s = Snapshot::load(state, who).await?;
            let (content_type, body) = match &which {
                Feed::Atom | Feed::Rss => {
                    let list = entries(&s, None);
                    let title = match who.audience_name() {
                        Some(a) => format!("{} status ({a})", s.name),
                        None => format!("{} status", s.name),
                    };
                    if matches!(which, Feed::Atom) {
                        let path = format!("{}/feed.atom", s.page_path);
                        (
                            "application/atom+xml; charset=utf-8",
                            atom(&s, &title, &path, &list),
                        )
                    } else {
                        ("application/rss+xml; charset=utf-8", rss(&s, &title, &list))
                    }
                }
                Feed::ComponentAtom(id) | Feed::ComponentRss(id) => {
                    // Components the page does not show have no feed here:
                    // the same 404 as a missing one.
                    let c = s
                        .component(id)
                        .filter(|c| !c.is_group)
                        .ok_or(ApiError::NotFound("component"))?;
                    let title = format!("{} status: {}", s.name, c.name);
                    let list = entries(&s, Some(&c.id));
                    if matches!(which, Feed::ComponentAtom(_)) {
                        let path = format!("{}/components/{}/feed.atom", s.page_path, c.id);
                        (
                            "application/atom+xml; charset=utf-8",
                            atom(&s, &title, &path, &list),
                        )
                    } else {
                        ("application/rss+xml; charset=utf-8", rss(&s, &title, &list))
                    }
                }
            };
            Ok(Rendered {
                content_type,
                cache_control: "public, max-age=60",
                cors: false,
                body: body.into(),
            })
        })
        .await
}

pub async fn feed_atom(State(state): State<AppState>, headers: HeaderMap) -> Response {
    feed(&state, &Viewers::Public, Feed::Atom, &headers).await
}

pub async fn feed_rss(State(state): State<AppState>, headers: HeaderMap) -> Response {
    feed(&state, &Viewers::Public, Feed::Rss, &headers).await
}

pub async fn component_feed_atom(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    feed(&state, &Viewers::Public, Feed::ComponentAtom(id), &headers).await
}

pub async fn component_feed_rss(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    feed(&state, &Viewers::Public, Feed::ComponentRss(id), &headers).await
}

pub async fn audience_feed_atom(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    match Viewers::audience(&state, &key).await {
        Ok(who) => feed(&state, &who, Feed::Atom, &headers).await,
        Err(e) => e.into_response(),
    }
}

pub async fn audience_feed_rss(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    match Viewers::audience(&state, &key).await {
        Ok(who) => feed(&state, &who, Feed::Rss, &headers).await,
        Err(e) => e.into_response(),
    }
}

pub async fn audience_component_feed_atom(
    State(state): State<AppState>,
    Path((key, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    match Viewers::audience(&state, &key).await {
        Ok(who) => feed(&state, &who, Feed::ComponentAtom(id), &headers).await,
        Err(e) => e.into_response(),
    }
}

pub async fn audience_component_feed_rss(
    State(state): State<AppState>,
    Path((key, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    match Viewers::audience(&state, &key).await {
        Ok(who) => feed(&state, &who, Feed::ComponentRss(id), &headers).await,
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_day_shows_its_worst_status() {
        let today = 100 * DAY_MS;
        let day = |n: i64| today - n * DAY_MS;
        let events = vec![
            (day(10), ComponentStatus::Operational),
            (day(5) + 3_600_000, ComponentStatus::MajorOutage),
            (day(5) + 7_200_000, ComponentStatus::Operational),
            (day(2) + 1, ComponentStatus::DegradedPerformance),
        ];
        let h = day_history(&events, today);
        assert_eq!(h.len(), 90);
        assert_eq!(h[89 - 11], None, "before it existed");
        assert_eq!(h[89 - 10], Some(ComponentStatus::Operational));
        assert_eq!(h[89 - 5], Some(ComponentStatus::MajorOutage));
        assert_eq!(h[89 - 4], Some(ComponentStatus::Operational));
        assert_eq!(h[89 - 2], Some(ComponentStatus::DegradedPerformance));
        assert_eq!(
            h[89],
            Some(ComponentStatus::DegradedPerformance),
            "still degraded today"
        );
    }

    #[test]
    fn xml_is_escaped() {
        assert_eq!(xml("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
    }
}
