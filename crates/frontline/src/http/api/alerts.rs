//! Security alerts: the sources that send them, the alerts, and the
//! suggestions that pair them with customers' signals.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::Json;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::alerts::{
    component_name, derive_secret, AlertStatus, ComponentRule, FieldMap, SourceAuth, SourceKind,
};
use crate::domain::incident::{parse_line, Impact, Severity};
use crate::domain::{Action, DataClass, DomainError, Grant};
use crate::http::error::{ApiError, ApiJson, ApiQuery};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::storage::alerts::{
    Acceptance, AlertSource, NewSource, SecurityAlert, SourceChange, Suggestion, SuggestionRefusal,
};
use crate::storage::StoreError;

const VIEW: Need = Need::Grant(Grant::new(DataClass::SecurityAlerts, Action::View));
const STORE: Need = Need::Grant(Grant::new(DataClass::SecurityAlerts, Action::Store));
const MODIFY: Need = Need::Grant(Grant::new(DataClass::SecurityAlerts, Action::Modify));

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/api/v1/alert-sources", VIEW, list_sources)
            .doc("alerts", "Alert sources (never their secrets)")
            .response_list::<AlertSource>(),
        Route::new(Method::POST, "/api/v1/alert-sources", STORE, create_source)
            .doc("alerts", "Add a source; its secret is in this answer only")
            .request::<NewSourceBody>()
            .response::<SourceSecret>(),
        Route::new(Method::GET, "/api/v1/alert-sources/{id}", VIEW, get_source)
            .doc("alerts", "One alert source")
            .response::<AlertSource>(),
        Route::new(Method::PATCH, "/api/v1/alert-sources/{id}", MODIFY, change_source)
            .doc("alerts", "Rename, remap components or fields, enable or disable")
            .request::<SourceChangeBody>()
            .response::<AlertSource>(),
        Route::new(Method::POST, "/api/v1/alert-sources/{id}/rotate", MODIFY, rotate_source)
            .doc("alerts", "A new secret (shown once); the old one stops working")
            .response::<SourceSecret>(),
        Route::new(Method::GET, "/api/v1/alerts", VIEW, list_alerts)
            .doc("alerts", "Security alerts, most recently changed first; ?status=firing|resolved&source=&component=")
            .response_list::<SecurityAlert>(),
        Route::new(Method::GET, "/api/v1/alerts/{id}", VIEW, get_alert)
            .doc("alerts", "One security alert")
            .response::<SecurityAlert>(),
        Route::new(Method::GET, "/api/v1/suggestions", VIEW, list_suggestions)
            .doc("alerts", "Suggested incidents (a signal and alerts on one component); ?status=open")
            .response_list::<Suggestion>(),
        Route::new(Method::GET, "/api/v1/suggestions/{id}", VIEW, get_suggestion)
            .doc("alerts", "One suggestion with its signals and alerts")
            .response::<Suggestion>(),
        Route::new(Method::POST, "/api/v1/suggestions/{id}/accept", MODIFY, accept)
            .doc("alerts", "Open an incident with the signals and alerts attached (also needs incidents:store)")
            .request::<AcceptBody>()
            .response::<Accepted>(),
        Route::new(Method::POST, "/api/v1/suggestions/{id}/dismiss", MODIFY, dismiss)
            .doc("alerts", "Not one incident, with the reason")
            .request::<DismissBody>()
            .response::<Suggestion>(),
    ]
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSourceBody {
    pub name: String,
    /// alertmanager, grafana, wazuh or generic.
    pub kind: String,
    /// bearer (default) or hmac.
    #[serde(default)]
    pub auth: Option<String>,
    /// For hmac: the header with the hex signature (default X-Frontline-Signature).
    #[serde(default)]
    pub signature_header: Option<String>,
    /// For hmac: the header with the signing time in Unix seconds, as
    /// Grafana's "Timestamp header" sends it. When set, the signature
    /// covers `<timestamp>:<body>` and is refused more than five minutes
    /// from now. Default: none (the signature covers the body).
    #[serde(default)]
    pub timestamp_header: Option<String>,
    /// Label -> component mapping, first match wins.
    #[serde(default)]
    pub components: Vec<ComponentRule>,
    /// For generic sources: where the fields are (JSON pointers).
    #[serde(default)]
    pub field_map: Option<FieldMap>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceChangeBody {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub signature_header: Option<String>,
    /// An empty string removes it.
    #[serde(default)]
    pub timestamp_header: Option<String>,
    #[serde(default)]
    pub components: Option<Vec<ComponentRule>>,
    #[serde(default)]
    pub field_map: Option<FieldMap>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// A source with its secret: shown once, never stored.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceSecret {
    pub source: AlertSource,
    pub secret: String,
}

pub const DEFAULT_SIGNATURE_HEADER: &str = "x-frontline-signature";

fn parse_header(v: &str) -> Result<String, DomainError> {
    header_name("signature_header", v)
}

fn header_name(field: &'static str, v: &str) -> Result<String, DomainError> {
    let h = v.trim().to_ascii_lowercase();
    let ok = axum::http::HeaderName::from_bytes(h.as_bytes()).is_ok()
        && !["authorization", "content-type", "content-length", "host"].contains(&h.as_str());
    if ok {
        Ok(h)
    } else {
        Err(DomainError::invalid(
            field,
            "must be an HTTP header name of the source's own",
        ))
    }
}

/// The timestamp header of an hmac source: empty for none; another header
/// than the signature's.
fn parse_timestamp_header(
    v: &str,
    auth: SourceAuth,
    signature_header: &str,
) -> Result<String, DomainError> {
    if v.trim().is_empty() {
        return Ok(String::new());
    }
    if auth != SourceAuth::Hmac {
        return Err(DomainError::invalid(
            "timestamp_header",
            "only hmac sources sign; a bearer source has no timestamp header",
        ));
    }
    let h = header_name("timestamp_header", v)?;
    if h == signature_header {
        return Err(DomainError::invalid(
            "timestamp_header",
            "must be another header than signature_header",
        ));
    }
    Ok(h)
}

fn parse_rules(rules: &[ComponentRule]) -> Result<Vec<ComponentRule>, ApiError> {
    if rules.len() > 500 {
        return Err(DomainError::invalid("components", "at most 500 rules").into());
    }
    rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let bad = |what: &str, why: &str| ApiError::BadRequest {
                code: "invalid_field",
                detail: format!("components[{i}].{what}: {why}"),
            };
            let label = r.label.trim();
            if label.is_empty() || label.len() > 200 {
                return Err(bad("label", "must be 1-200 characters"));
            }
            if r.equals.is_empty() || r.equals.len() > 500 {
                return Err(bad("equals", "must be 1-500 characters"));
            }
            let component = component_name(&r.component)
                .ok_or_else(|| bad("component", "must be 1-64 letters, digits, spaces or -_.:/"))?;
            let region = match r.region.as_deref() {
                Some(reg) => Some(component_name(reg).ok_or_else(|| {
                    bad("region", "must be 1-64 letters, digits, spaces or -_.:/")
                })?),
                None => None,
            };
            Ok(ComponentRule {
                label: label.to_owned(),
                equals: r.equals.clone(),
                component,
                region,
            })
        })
        .collect()
}

fn parse_field_map(kind: SourceKind, m: &Option<FieldMap>) -> Result<Option<FieldMap>, ApiError> {
    match m {
        None => Ok(None),
        Some(_) if kind != SourceKind::Generic => {
            Err(DomainError::invalid("field_map", "only generic sources have a field map").into())
        }
        Some(m) => {
            m.check().map_err(|detail| ApiError::BadRequest {
                code: "invalid_field",
                detail,
            })?;
            Ok(Some(m.clone()))
        }
    }
}

fn nonce() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

fn not_found(e: StoreError, what: &'static str) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::NotFound(what),
        e => e.into(),
    }
}

async fn list_sources(State(state): State<AppState>) -> Result<Json<Vec<AlertSource>>, ApiError> {
    Ok(Json(state.store.list_alert_sources().await?))
}

/// Adds a source; shared with the dashboard.
pub(crate) async fn add_source(
    state: &AppState,
    p: &crate::auth::Principal,
    body: &NewSourceBody,
) -> Result<SourceSecret, ApiError> {
    let name = parse_line("name", &body.name, 100)?;
    let kind = SourceKind::from_db(body.kind.trim()).ok_or_else(|| {
        DomainError::invalid("kind", format!("must be one of: {}", SourceKind::names()))
    })?;
    let auth = match body.auth.as_deref() {
        None => SourceAuth::Bearer,
        Some(a) => SourceAuth::from_db(a.trim())
            .ok_or_else(|| DomainError::invalid("auth", "must be bearer or hmac"))?,
    };
    let signature_header = match body.signature_header.as_deref() {
        Some(h) => parse_header(h)?,
        None => DEFAULT_SIGNATURE_HEADER.into(),
    };
    let timestamp_header = parse_timestamp_header(
        body.timestamp_header.as_deref().unwrap_or(""),
        auth,
        &signature_header,
    )?;
    let new = NewSource {
        name,
        kind,
        auth,
        signature_header,
        timestamp_header,
        components: parse_rules(&body.components)?,
        field_map: parse_field_map(kind, &body.field_map)?,
    };
    let nonce = nonce();
    let source = state
        .store
        .create_alert_source(
            &new,
            &nonce,
            p.audit("alert_source.create", DataClass::SecurityAlerts, None),
        )
        .await?;
    state.alert_sources.invalidate();
    let secret = derive_secret(state.alert_sources.ring(), &source.id, &nonce);
    Ok(SourceSecret { source, secret })
}

async fn create_source(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<NewSourceBody>,
) -> Result<(StatusCode, Json<SourceSecret>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(add_source(&state, &p, &body).await?),
    ))
}

async fn get_source(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AlertSource>, ApiError> {
    state
        .store
        .alert_source(&id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound("alert source"))
}

async fn change_source(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SourceChangeBody>,
) -> Result<Json<AlertSource>, ApiError> {
    let old = state
        .store
        .alert_source(&id)
        .await?
        .ok_or(ApiError::NotFound("alert source"))?;
    let signature_header = body
        .signature_header
        .as_deref()
        .map(parse_header)
        .transpose()?;
    let change = SourceChange {
        name: body
            .name
            .as_deref()
            .map(|n| parse_line("name", n, 100))
            .transpose()?,
        signature_header: signature_header.clone(),
        timestamp_header: body
            .timestamp_header
            .as_deref()
            .map(|h| {
                parse_timestamp_header(
                    h,
                    old.auth,
                    signature_header.as_deref().unwrap_or(&old.signature_header),
                )
            })
            .transpose()?,
        components: body.components.as_deref().map(parse_rules).transpose()?,
        field_map: parse_field_map(old.kind, &body.field_map)?,
        enabled: body.enabled,
    };
    let source = state
        .store
        .update_alert_source(
            &id,
            &change,
            p.audit(
                "alert_source.update",
                DataClass::SecurityAlerts,
                Some(id.clone()),
            ),
        )
        .await
        .map_err(|e| not_found(e, "alert source"))?;
    state.alert_sources.invalidate();
    Ok(Json(source))
}

/// A new secret for a source; shared with the dashboard.
pub(crate) async fn rotate(
    state: &AppState,
    p: &crate::auth::Principal,
    id: &str,
) -> Result<SourceSecret, ApiError> {
    let nonce = nonce();
    let source = state
        .store
        .rotate_alert_source(
            id,
            &nonce,
            p.audit(
                "alert_source.rotate",
                DataClass::SecurityAlerts,
                Some(id.to_owned()),
            ),
        )
        .await
        .map_err(|e| not_found(e, "alert source"))?;
    state.alert_sources.invalidate();
    let secret = derive_secret(state.alert_sources.ring(), &source.id, &nonce);
    Ok(SourceSecret { source, secret })
}

async fn rotate_source(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<SourceSecret>, ApiError> {
    Ok(Json(rotate(&state, &p, &id).await?))
}

#[derive(Deserialize)]
struct AlertQuery {
    status: Option<String>,
    source: Option<String>,
    component: Option<String>,
    limit: Option<i64>,
}

async fn list_alerts(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AlertQuery>,
) -> Result<Json<Vec<SecurityAlert>>, ApiError> {
    let status = q
        .status
        .as_deref()
        .map(|s| {
            AlertStatus::from_db(s)
                .ok_or_else(|| DomainError::invalid("status", "firing or resolved"))
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(DomainError::invalid("limit", "must be 1 to 1000").into());
    }
    Ok(Json(
        state
            .store
            .list_security_alerts(status, q.source.as_deref(), q.component.as_deref(), limit)
            .await?,
    ))
}

async fn get_alert(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SecurityAlert>, ApiError> {
    state
        .store
        .security_alert(&id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound("alert"))
}

#[derive(Deserialize)]
struct SuggestionQuery {
    status: Option<String>,
    limit: Option<i64>,
}

pub(crate) const SUGGESTION_STATUSES: &[&str] = &["open", "accepted", "dismissed"];

async fn list_suggestions(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SuggestionQuery>,
) -> Result<Json<Vec<Suggestion>>, ApiError> {
    if let Some(s) = q.status.as_deref() {
        if !SUGGESTION_STATUSES.contains(&s) {
            return Err(DomainError::invalid("status", "open, accepted or dismissed").into());
        }
    }
    Ok(Json(
        state
            .store
            .list_suggestions(q.status.as_deref(), q.limit.unwrap_or(50).clamp(1, 200))
            .await?,
    ))
}

async fn get_suggestion(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Suggestion>, ApiError> {
    state
        .store
        .suggestion(&id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound("suggestion"))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    /// Default: the suggestion's title.
    #[serde(default)]
    pub title: Option<String>,
    /// Default: the suggested severity.
    #[serde(default)]
    pub severity: Option<String>,
    /// Default: from the severity (SEV1 critical, SEV2 major, else minor).
    #[serde(default)]
    pub impact: Option<String>,
    /// The playbook whose checklist the incident starts with (slug or id;
    /// empty: none). Default: `service-outage` when every signal is about
    /// an outage or slowness, else `customer-data-breach`.
    #[serde(default)]
    pub playbook: Option<String>,
    /// Status page components (`cmp_...`) it affects. Default: the
    /// components named like the suggestion's component.
    #[serde(default)]
    pub components: Option<Vec<String>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    pub suggestion: Suggestion,
    pub incident_id: String,
}

fn refusal(e: SuggestionRefusal) -> ApiError {
    match e {
        SuggestionRefusal::Decided(s) => {
            ApiError::Conflict(format!("this suggestion was already {s}"))
        }
        SuggestionRefusal::Store(StoreError::NotFound) => ApiError::NotFound("suggestion"),
        SuggestionRefusal::Store(e) => e.into(),
        SuggestionRefusal::Incident(e) => crate::http::api::incidents::refusal(e),
    }
}

/// The playbook an incident from `s` starts with when none is asked for:
/// the outage one when its customers report only outages or slowness, the
/// breach one (security) otherwise.
async fn default_playbook(state: &AppState, s: &Suggestion) -> Result<&'static str, ApiError> {
    for id in &s.signals {
        let topic = state.store.signal(id).await?.and_then(|sig| sig.topic);
        if !matches!(topic.as_deref(), Some("outage" | "performance")) {
            return Ok("customer-data-breach");
        }
    }
    Ok(if s.signals.is_empty() {
        "customer-data-breach"
    } else {
        "service-outage"
    })
}

/// Accepts a suggestion; shared with the dashboard.
pub(crate) async fn accept_suggestion(
    state: &AppState,
    p: &crate::auth::Principal,
    id: &str,
    body: &AcceptBody,
) -> Result<Accepted, ApiError> {
    let need = Grant::new(DataClass::Incidents, Action::Store);
    if !p.grants.contains(&need) {
        return Err(ApiError::Forbidden(need));
    }
    let title = body
        .title
        .as_deref()
        .map(|t| parse_line("title", t, 200))
        .transpose()?;
    let severity = body.severity.as_deref().map(Severity::parse).transpose()?;
    let impact = body.impact.as_deref().map(Impact::parse).transpose()?;
    let suggestion = state
        .store
        .suggestion(id)
        .await?
        .ok_or(ApiError::NotFound("suggestion"))?;
    let playbook = match body.playbook.as_deref().map(str::trim) {
        Some("") => None,
        Some(p) => Some(parse_line("playbook", p, 100)?),
        None => Some(default_playbook(state, &suggestion).await?.to_owned()),
    };
    let components = match &body.components {
        Some(list) => crate::http::api::incidents::parse_components(list)?,
        None => state
            .store
            .list_components()
            .await?
            .into_iter()
            .filter(|c| !c.is_group && c.name.eq_ignore_ascii_case(&suggestion.component))
            .map(|c| c.id)
            .collect(),
    };
    let acceptance = Acceptance {
        title,
        severity,
        impact,
        playbook,
        components,
    };
    let (suggestion, incident_id) = state
        .store
        .accept_suggestion(
            id,
            &acceptance,
            &crate::http::api::incidents::cadence(state),
            p.audit(
                "suggestion.accept",
                DataClass::SecurityAlerts,
                Some(id.to_owned()),
            ),
        )
        .await
        .map_err(refusal)?;
    state.events.publish(
        "incident.created",
        DataClass::Incidents,
        serde_json::json!({ "id": incident_id, "severity": suggestion.severity }),
    );
    state.events.publish(
        "suggestion.accepted",
        DataClass::SecurityAlerts,
        serde_json::json!({ "id": suggestion.id, "incident": incident_id }),
    );
    Ok(Accepted {
        suggestion,
        incident_id,
    })
}

async fn accept(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AcceptBody>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(accept_suggestion(&state, &p, &id, &body).await?),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DismissBody {
    /// Why these do not make one incident (1-500 characters).
    pub reason: String,
}

/// Dismisses a suggestion; shared with the dashboard.
pub(crate) async fn dismiss_suggestion(
    state: &AppState,
    p: &crate::auth::Principal,
    id: &str,
    reason: &str,
) -> Result<Suggestion, ApiError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(DomainError::invalid("reason", "say why, in 1-500 characters").into());
    }
    let s = state
        .store
        .dismiss_suggestion(
            id,
            reason,
            p.audit(
                "suggestion.dismiss",
                DataClass::SecurityAlerts,
                Some(id.to_owned()),
            ),
        )
        .await
        .map_err(refusal)?;
    state.events.publish(
        "suggestion.dismissed",
        DataClass::SecurityAlerts,
        serde_json::json!({ "id": s.id }),
    );
    Ok(s)
}

async fn dismiss(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DismissBody>,
) -> Result<Json<Suggestion>, ApiError> {
    Ok(Json(
        dismiss_suggestion(&state, &p, &id, &body.reason).await?,
    ))
}
