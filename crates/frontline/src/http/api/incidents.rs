//! `/api/v1/incidents`: declare, change and read incidents, their team and
//! timeline; draft, approve and publish their public updates.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::Json;
use serde::Deserialize;

use crate::auth::Principal;
use crate::domain::id::Kind;
use crate::domain::incident::{
    parse_line, parse_segments, parse_text, ComponentStatus, Impact, IncidentChange,
    IncidentStatus, NewIncident, Severity, TeamRole,
};
use crate::domain::response::{parse_update_every, Cadence};
use crate::domain::{Action, DataClass, DomainError, Grant, Id};
use crate::http::error::{ApiError, ApiJson, ApiQuery};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::storage::incidents::{
    Incident, IncidentRefusal, IncidentUpdate, NewUpdate, TimelineEntry, UpdateRefusal,
    UpdateVariant,
};
use crate::storage::StoreError;

const fn incidents(action: Action) -> Need {
    Need::Grant(Grant::new(DataClass::Incidents, action))
}

const fn notices(action: Action) -> Need {
    Need::Grant(Grant::new(DataClass::Notices, action))
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/api/v1/incidents",
            incidents(Action::View),
            list,
        )
        .doc("incidents", "List incidents, newest first (?open=true: unresolved only)")
        .response_list::<Incident>(),
        Route::new(
            Method::POST,
            "/api/v1/incidents",
            incidents(Action::Store),
            create,
        )
        .doc("incidents", "Declare an incident")
        .request::<NewIncidentBody>()
        .response::<Incident>(),
        Route::new(
            Method::GET,
            "/api/v1/incidents/{id}",
            incidents(Action::View),
            get_one,
        )
        .doc("incidents", "One incident with its team")
        .response::<Incident>(),
        Route::new(
            Method::PATCH,
            "/api/v1/incidents/{id}",
            incidents(Action::Modify),
            change,
        )
        .doc("incidents", "Change an incident (fields left out stay as they are)")
        .request::<ChangeIncidentBody>()
        .response::<Incident>(),
        Route::new(
            Method::GET,
            "/api/v1/incidents/{id}/timeline",
            incidents(Action::View),
            timeline,
        )
        .doc("incidents", "The internal timeline, oldest first")
        .response_list::<TimelineEntry>(),
        Route::new(
            Method::POST,
            "/api/v1/incidents/{id}/notes",
            incidents(Action::Modify),
            add_note,
        )
        .doc("incidents", "Add a note to the internal timeline")
        .request::<NoteBody>()
        .response::<TimelineEntry>(),
        Route::new(
            Method::GET,
            "/api/v1/incidents/{id}/updates",
            notices(Action::View),
            list_updates,
        )
        .doc("incidents", "An incident's public updates and drafts, oldest first")
        .response_list::<IncidentUpdate>(),
        Route::new(
            Method::POST,
            "/api/v1/incidents/{id}/updates",
            notices(Action::Store),
            create_update,
        )
        .doc(
            "incidents",
            "Write a public update: published at once for SEV3/SEV4, a draft needing communications and legal approval for SEV1/SEV2",
        )
        .request::<UpdateBody>()
        .response::<IncidentUpdate>(),
        Route::new(
            Method::POST,
            "/api/v1/incidents/{id}/updates/{uid}/approve",
            notices(Action::Modify),
            approve_update,
        )
        .doc("incidents", "Approve a draft update (communications or legal role)")
        .response::<IncidentUpdate>(),
        Route::new(
            Method::POST,
            "/api/v1/incidents/{id}/updates/{uid}/publish",
            notices(Action::Modify),
            publish_update,
        )
        .doc("incidents", "Publish a draft update to the status page")
        .response::<IncidentUpdate>(),
    ]
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIncidentBody {
    /// 1-200 characters.
    pub title: String,
    /// SEV1 (worst) to SEV4.
    pub severity: String,
    /// none, minor (default), major, critical.
    #[serde(default)]
    pub impact: Option<String>,
    /// investigating (default), identified, monitoring, resolved, postmortem.
    #[serde(default)]
    pub status: Option<String>,
    /// Status page component ids (`cmp_...`).
    #[serde(default)]
    pub components: Vec<String>,
    /// Customer segments, e.g. `eu`, `enterprise`.
    #[serde(default)]
    pub segments: Vec<String>,
    /// Seat -> staff user ids; seats: incident_lead, security, cx,
    /// communications, legal.
    #[serde(default)]
    pub team: BTreeMap<String, Vec<String>>,
    /// A playbook (slug or `pbk_...`) whose checklist the incident starts with.
    #[serde(default)]
    pub playbook: Option<String>,
    /// Declare it from this signal (`sig_...`): the signal is promoted and linked.
    #[serde(default)]
    pub signal_id: Option<String>,
    /// Minutes between public updates, instead of the severity's default
    /// (e.g. 10080 for a week-long investigation).
    #[serde(default)]
    pub update_every_minutes: Option<i64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeIncidentBody {
    pub title: Option<String>,
    pub severity: Option<String>,
    pub impact: Option<String>,
    pub status: Option<String>,
    pub components: Option<Vec<String>>,
    pub segments: Option<Vec<String>>,
    /// The whole team, replacing the old one.
    pub team: Option<BTreeMap<String, Vec<String>>>,
    /// Minutes between public updates; 0: back to the severity's default.
    pub update_every_minutes: Option<i64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// 1-10,000 characters.
    pub body: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    /// The incident's status as of this update.
    pub status: String,
    /// What customers read, 1-5,000 characters.
    pub body: String,
    /// Component id -> status to set when the update is published.
    #[serde(default)]
    pub components: BTreeMap<String, String>,
    /// Keep a SEV3/SEV4 update as a draft instead of publishing it at once.
    #[serde(default)]
    pub draft: bool,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub open: bool,
    pub limit: Option<i64>,
}

pub(crate) fn parse_components(list: &[String]) -> Result<Vec<String>, DomainError> {
    if list.len() > 100 {
        return Err(DomainError::invalid(
            "components",
            "list 100 components at most",
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for c in list {
        let id = Id::parse(Kind::Component, c.trim())
            .ok_or_else(|| DomainError::invalid("components", "component ids look like cmp_..."))?;
        if !out.iter().any(|o| o == id.as_str()) {
            out.push(id.to_string());
        }
    }
    Ok(out)
}

fn parse_team(
    team: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<(TeamRole, String)>, DomainError> {
    let mut out = Vec::new();
    for (seat, users) in team {
        let seat = TeamRole::parse(seat)?;
        if users.len() > 20 {
            return Err(DomainError::invalid("team", "20 people per seat at most"));
        }
        for u in users {
            let id = Id::parse(Kind::User, u.trim())
                .ok_or_else(|| DomainError::invalid("team", "staff user ids look like usr_..."))?;
            out.push((seat, id.to_string()));
        }
    }
    Ok(out)
}

pub(crate) fn refusal(e: IncidentRefusal) -> ApiError {
    match e {
        IncidentRefusal::UnknownComponent | IncidentRefusal::UnknownUser => {
            ApiError::Unprocessable {
                code: "unknown_reference",
                detail: e.to_string(),
            }
        }
        IncidentRefusal::UnknownPlaybook | IncidentRefusal::UnknownSignal => {
            ApiError::Unprocessable {
                code: "unknown_reference",
                detail: e.to_string(),
            }
        }
        IncidentRefusal::SignalClosed => ApiError::Conflict(e.to_string()),
        IncidentRefusal::Store(StoreError::NotFound) => ApiError::NotFound("incident"),
        IncidentRefusal::Store(e) => e.into(),
    }
}

/// The update cadence from the configuration.
pub(crate) fn cadence(state: &AppState) -> Cadence {
    Cadence::from_config(&state.config.incidents)
}

fn update_refusal(e: UpdateRefusal) -> ApiError {
    match e {
        UpdateRefusal::NotAnApprover => ApiError::ForbiddenBecause(
            "only a user with the communications or legal role can approve an update",
        ),
        UpdateRefusal::Store(StoreError::NotFound) => ApiError::NotFound("update"),
        UpdateRefusal::Store(StoreError::Conflict(_)) => {
            ApiError::Conflict(UpdateRefusal::AlreadyPublished.to_string())
        }
        UpdateRefusal::Store(e) => e.into(),
        e => ApiError::Conflict(e.to_string()),
    }
}

/// The incident named in the path, or 404.
pub(crate) async fn find(state: &AppState, id: &str) -> Result<Incident, ApiError> {
    state
        .store
        .incident(id)
        .await?
        .ok_or(ApiError::NotFound("incident"))
}

async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<Incident>>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(DomainError::invalid("limit", "must be 1 to 500").into());
    }
    Ok(Json(state.store.list_incidents(q.open, limit).await?))
}

async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Incident>, ApiError> {
    Ok(Json(find(&state, &id).await?))
}

pub(crate) fn parse_new(body: &NewIncidentBody) -> Result<NewIncident, DomainError> {
    Ok(NewIncident {
        title: parse_line("title", &body.title, 200)?,
        severity: Severity::parse(&body.severity)?,
        impact: body
            .impact
            .as_deref()
            .map(Impact::parse)
            .transpose()?
            .unwrap_or(Impact::Minor),
        status: body
            .status
            .as_deref()
            .map(IncidentStatus::parse)
            .transpose()?
            .unwrap_or(IncidentStatus::Investigating),
        components: parse_components(&body.components)?,
        segments: parse_segments(&body.segments)?,
        team: parse_team(&body.team)?,
        playbook: body
            .playbook
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| parse_line("playbook", p, 100))
            .transpose()?,
        signal: body
            .signal_id
            .as_deref()
            .map(|s| {
                Id::parse(Kind::Signal, s.trim())
                    .map(|i| i.to_string())
                    .ok_or_else(|| {
                        DomainError::invalid("signal_id", "signal ids look like sig_...")
                    })
            })
            .transpose()?,
        update_every_minutes: body
            .update_every_minutes
            .map(parse_update_every)
            .transpose()?
            .filter(|m| *m > 0),
    })
}

async fn create(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<NewIncidentBody>,
) -> Result<(StatusCode, Json<Incident>), ApiError> {
    let new = parse_new(&body)?;
    let incident = declare(&state, &p, &new).await?;
    Ok((StatusCode::CREATED, Json(incident)))
}

/// Declares an incident (with its playbook and signal, if given) and tells
/// the dashboard.
pub(crate) async fn declare(
    state: &AppState,
    p: &Principal,
    new: &NewIncident,
) -> Result<Incident, ApiError> {
    let incident = state
        .store
        .create_incident(
            new,
            &cadence(state),
            p.audit("incident.create", DataClass::Incidents, None),
        )
        .await
        .map_err(refusal)?;
    state.events.publish(
        "incident.created",
        DataClass::Incidents,
        serde_json::json!({ "id": incident.id, "severity": incident.severity }),
    );
    if let Some(signal) = &new.signal {
        state.events.publish(
            "signal.promoted",
            DataClass::Feedback,
            serde_json::json!({ "id": signal, "status": "promoted", "incident": incident.id }),
        );
    }
    Ok(incident)
}

pub(crate) fn parse_change(body: &ChangeIncidentBody) -> Result<IncidentChange, DomainError> {
    let change = IncidentChange {
        title: body
            .title
            .as_deref()
            .map(|t| parse_line("title", t, 200))
            .transpose()?,
        severity: body.severity.as_deref().map(Severity::parse).transpose()?,
        impact: body.impact.as_deref().map(Impact::parse).transpose()?,
        status: body
            .status
            .as_deref()
            .map(IncidentStatus::parse)
            .transpose()?,
        components: body
            .components
            .as_deref()
            .map(parse_components)
            .transpose()?,
        segments: body.segments.as_deref().map(parse_segments).transpose()?,
        team: body.team.as_ref().map(parse_team).transpose()?,
        update_every_minutes: body
            .update_every_minutes
            .map(parse_update_every)
            .transpose()?,
    };
    if change.is_empty() {
        return Err(DomainError::invalid(
            "body",
            "send at least one of title, severity, impact, status, components, segments, team, update_every_minutes",
        ));
    }
    Ok(change)
}

async fn change(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ChangeIncidentBody>,
) -> Result<Json<Incident>, ApiError> {
    let change = parse_change(&body)?;
    let incident = state
        .store
        .update_incident(
            &id,
            &change,
            &cadence(&state),
            p.audit("incident.update", DataClass::Incidents, None),
        )
        .await
        .map_err(refusal)?;
    state.events.publish(
        "incident.changed",
        DataClass::Incidents,
        serde_json::json!({ "id": incident.id, "status": incident.status }),
    );
    Ok(Json(incident))
}

async fn timeline(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<TimelineEntry>>, ApiError> {
    let incident = find(&state, &id).await?;
    Ok(Json(state.store.incident_timeline(&incident.id).await?))
}

pub(crate) async fn note(
    state: &AppState,
    p: &Principal,
    id: &str,
    body: &str,
) -> Result<TimelineEntry, ApiError> {
    let body = parse_text("body", body, 10_000)?;
    let entry = state
        .store
        .add_incident_note(
            id,
            &body,
            p.audit("incident.note", DataClass::Incidents, None),
        )
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::NotFound("incident"),
            e => e.into(),
        })?;
    state.events.publish(
        "incident.note",
        DataClass::Incidents,
        serde_json::json!({ "id": id, "entry": entry.id }),
    );
    Ok(entry)
}

async fn add_note(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NoteBody>,
) -> Result<(StatusCode, Json<TimelineEntry>), ApiError> {
    let entry = note(&state, &p, &id, &body.body).await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

async fn list_updates(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<IncidentUpdate>>, ApiError> {
    let incident = find(&state, &id).await?;
    Ok(Json(state.store.incident_updates(&incident).await?))
}

/// Drafts an update, publishing it at once when the severity allows and
/// the caller did not ask for a draft.
pub(crate) async fn write_update(
    state: &AppState,
    p: &Principal,
    id: &str,
    body: &UpdateBody,
) -> Result<IncidentUpdate, ApiError> {
    write_update_with(state, p, id, body, &[]).await
}

/// Drafts an update with its language variants (the body is the first).
pub(crate) async fn write_update_with(
    state: &AppState,
    p: &Principal,
    id: &str,
    body: &UpdateBody,
    variants: &[UpdateVariant],
) -> Result<IncidentUpdate, ApiError> {
    let incident = find(state, id).await?;
    let status = IncidentStatus::parse(&body.status)?;
    let text = parse_text("body", &body.body, 5_000)?;
    if body.components.len() > 100 {
        return Err(DomainError::invalid("components", "100 components at most").into());
    }
    let mut components = BTreeMap::new();
    for (c, s) in &body.components {
        let c = Id::parse(Kind::Component, c.trim())
            .ok_or_else(|| DomainError::invalid("components", "component ids look like cmp_..."))?;
        components.insert(c.to_string(), ComponentStatus::parse(s)?);
    }
    let publish = !body.draft && !incident.severity.needs_approval();
    let update = state
        .store
        .create_incident_update(
            &incident,
            NewUpdate {
                status,
                body: &text,
                component_status: &components,
                variants,
                publish,
            },
            &cadence(state),
            p.audit("incident.update.draft", DataClass::Notices, None),
        )
        .await
        .map_err(refusal)?;
    announce(state, &update);
    Ok(update)
}

fn announce(state: &AppState, update: &IncidentUpdate) {
    let kind = if update.published_at.is_some() {
        "incident.update.published"
    } else {
        "incident.update.drafted"
    };
    state.events.publish(
        kind,
        DataClass::Notices,
        serde_json::json!({ "incident": update.incident_id, "id": update.id }),
    );
}

async fn create_update(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<(StatusCode, Json<IncidentUpdate>), ApiError> {
    let update = write_update(&state, &p, &id, &body).await?;
    Ok((StatusCode::CREATED, Json(update)))
}

pub(crate) async fn approve(
    state: &AppState,
    p: &Principal,
    id: &str,
    uid: &str,
) -> Result<IncidentUpdate, ApiError> {
    let incident = find(state, id).await?;
    let update = state
        .store
        .approve_incident_update(
            &incident,
            uid,
            &p.role,
            p.audit("incident.update.approve", DataClass::Notices, None),
        )
        .await
        .map_err(update_refusal)?;
    state.events.publish(
        "incident.update.approved",
        DataClass::Notices,
        serde_json::json!({ "incident": incident.id, "id": update.id, "role": p.role }),
    );
    Ok(update)
}

async fn approve_update(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path((id, uid)): Path<(String, String)>,
) -> Result<Json<IncidentUpdate>, ApiError> {
    Ok(Json(approve(&state, &p, &id, &uid).await?))
}

pub(crate) async fn publish(
    state: &AppState,
    p: &Principal,
    id: &str,
    uid: &str,
) -> Result<IncidentUpdate, ApiError> {
    let incident = find(state, id).await?;
    let update = state
        .store
        .publish_incident_update(
            &incident,
            uid,
            &cadence(state),
            p.audit("incident.update.publish", DataClass::Notices, None),
        )
        .await
        .map_err(update_refusal)?;
    announce(state, &update);
    Ok(update)
}

async fn publish_update(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path((id, uid)): Path<(String, String)>,
) -> Result<Json<IncidentUpdate>, ApiError> {
    Ok(Json(publish(&state, &p, &id, &uid).await?))
}
