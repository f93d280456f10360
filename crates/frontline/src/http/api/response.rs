//! The response side of an incident: its checklist, what it is linked to
//! (declaring from a signal), updates written from templates with their
//! language variants and per-channel previews, the lead's alerts, the
//! postmortem, remedies, the post-incident survey, and the metrics.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::incidents::{declare, find, parse_new, write_update_with, NewIncidentBody, UpdateBody};
use crate::auth::Principal;
use crate::domain::id::Kind;
use crate::domain::incident::{parse_line, parse_text, IncidentStatus};
use crate::domain::response::{parse_remedy_counts, parse_seat, parse_slug, ActionItem, FieldText};
use crate::domain::survey::{Question, SurveyDefinition, SurveyPolicy};
use crate::domain::{Action, DataClass, DomainError, Grant, Id};
use crate::http::error::{ApiError, ApiJson, ApiQuery};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::notify::survey::{Invitees, Queued, SurveyInvite};
use crate::response::notices::{self, format_due, NoticeContext, Preview};
use crate::storage::incidents::{Incident, IncidentUpdate};
use crate::storage::response::{
    ChecklistChange, ChecklistItem, IncidentLink, IncidentMetrics, LeadAlert, MetricsSummary,
    Postmortem, PostmortemText, Remedy, UpdateVariant,
};
use crate::storage::StoreError;

const fn need(class: DataClass, action: Action) -> Need {
    Need::Grant(Grant::new(class, action))
}

pub fn routes() -> Vec<Route> {
    use Action::*;
    use DataClass::{Feedback, Incidents, Notices, Reports, Subscribers};
    vec![
        Route::new(Method::GET, "/api/v1/incidents/metrics", need(Reports, View), metrics_summary)
            .doc("incidents", "Response metrics over incidents declared since ?since= (RFC 3339; default 90 days)")
            .response::<MetricsSummary>(),
        Route::new(Method::GET, "/api/v1/incidents/{id}/metrics", need(Reports, View), metrics_one)
            .doc("incidents", "One incident's response metrics")
            .response::<IncidentMetrics>(),
        Route::new(Method::GET, "/api/v1/incidents/{id}/checklist", need(Incidents, View), checklist)
            .doc("incidents", "The incident's checklist")
            .response_list::<ChecklistItem>(),
        Route::new(Method::POST, "/api/v1/incidents/{id}/checklist", need(Incidents, Modify), add_step)
            .doc("incidents", "Add a step to the checklist")
            .request::<StepBody>()
            .response::<ChecklistItem>(),
        Route::new(Method::PATCH, "/api/v1/incidents/{id}/checklist/{item}", need(Incidents, Modify), change_step)
            .doc("incidents", "Check or uncheck a step, or assign it to a seat or a staff user (null clears)")
            .request::<StepChangeBody>()
            .response::<ChecklistItem>(),
        Route::new(Method::GET, "/api/v1/incidents/{id}/links", need(Incidents, View), links)
            .doc("incidents", "Signals, alerts, tickets and surveys linked to the incident")
            .response_list::<IncidentLink>(),
        Route::new(Method::POST, "/api/v1/signals/{id}/promote", need(Incidents, Store), promote)
            .doc("signals", "Declare an incident from a signal (or link it to `incident_id`): the signal is promoted and linked, in one transaction")
            .request::<PromoteBody>()
            .response::<Incident>(),
        Route::new(Method::POST, "/api/v1/incidents/{id}/updates/from-template", need(Notices, Store), from_template)
            .doc("incidents", "Write an update from a notice template and fields, with a variant per language; drafts and approval as for any update")
            .request::<FromTemplateBody>()
            .response::<UpdateWithVariants>(),
        Route::new(Method::POST, "/api/v1/incidents/{id}/updates/preview", need(Notices, View), preview_unsaved)
            .doc("incidents", "Render a template with fields per language and channel, storing nothing")
            .request::<FromTemplateBody>()
            .response_list::<Preview>(),
        Route::new(Method::GET, "/api/v1/incidents/{id}/updates/{uid}/variants", need(Notices, View), variants)
            .doc("incidents", "An update's language variants (subject, body, SMS)")
            .response_list::<UpdateVariant>(),
        Route::new(Method::GET, "/api/v1/incidents/{id}/updates/{uid}/preview", need(Notices, View), preview_saved)
            .doc("incidents", "An update per language as the status page, an email and a text message show it")
            .response_list::<Preview>(),
        Route::new(Method::GET, "/api/v1/incidents/{id}/alerts", need(Incidents, View), alerts)
            .doc("incidents", "Alerts for the incident lead (overdue updates)")
            .response_list::<LeadAlert>(),
        Route::new(Method::GET, "/api/v1/incidents/{id}/postmortem", need(Incidents, View), get_postmortem)
            .doc("incidents", "The incident's postmortem")
            .response::<Postmortem>(),
        Route::new(Method::POST, "/api/v1/incidents/{id}/postmortem", need(Incidents, Store), start_postmortem)
            .doc("incidents", "Start the postmortem, pre-filled from the timeline, checklist and metrics")
            .response::<Postmortem>(),
        Route::new(Method::PATCH, "/api/v1/incidents/{id}/postmortem", need(Incidents, Modify), edit_postmortem)
            .doc("incidents", "Edit a draft postmortem; `publish: true` publishes it (then it is never edited)")
            .request::<PostmortemBody>()
            .response::<Postmortem>(),
        Route::new(Method::GET, "/api/v1/postmortems", need(Incidents, View), list_postmortems)
            .doc("incidents", "Postmortems, latest first")
            .response_list::<Postmortem>(),
        Route::new(Method::GET, "/api/v1/incidents/{id}/remedies", need(Incidents, View), remedies)
            .doc("incidents", "Remedies offered for the incident, with take-up")
            .response_list::<Remedy>(),
        Route::new(Method::POST, "/api/v1/incidents/{id}/remedies", need(Incidents, Modify), add_remedy)
            .doc("incidents", "Record a remedy offered (e.g. free account monitoring)")
            .request::<RemedyBody>()
            .response::<Remedy>(),
        Route::new(Method::PATCH, "/api/v1/incidents/{id}/remedies/{rid}", need(Incidents, Modify), update_remedy)
            .doc("incidents", "Update how many were offered a remedy and took it up")
            .request::<RemedyCounts>()
            .response::<Remedy>(),
        Route::new(Method::GET, "/api/v1/incidents/{id}/survey", need(Incidents, View), get_survey)
            .doc("incidents", "The post-incident survey and its link")
            .response::<IncidentSurvey>(),
        Route::new(Method::POST, "/api/v1/incidents/{id}/survey", need(Feedback, Store), create_survey)
            .doc("incidents", "Create the post-incident survey: a hosted form whose answers land in feedback intake")
            .response::<IncidentSurvey>(),
        Route::new(Method::POST, "/api/v1/incidents/{id}/survey/send", need(Subscribers, Modify), send_survey)
            .doc("incidents", "Invite the affected customers and the subscribers who were told, by email or SMS in their language, once each (the incident must be resolved)")
            .request::<SendSurveyBody>()
            .response::<Queued>(),
    ]
}

fn not_found(what: &'static str) -> impl Fn(StoreError) -> ApiError {
    move |e| match e {
        StoreError::NotFound => ApiError::NotFound(what),
        e => e.into(),
    }
}

// ---- checklist

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    pub title: String,
    #[serde(default)]
    pub seat: Option<String>,
}

/// `null` clears a seat or assignee; a field left out stays as it is.
#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct StepChangeBody {
    #[serde(default)]
    pub done: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub seat: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub assignee: Option<Option<String>>,
}

fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

async fn checklist(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<ChecklistItem>>, ApiError> {
    let incident = find(&state, &id).await?;
    Ok(Json(state.store.incident_checklist(&incident.id).await?))
}

async fn add_step(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StepBody>,
) -> Result<(StatusCode, Json<ChecklistItem>), ApiError> {
    let title = parse_line("title", &body.title, 300)?;
    let seat = body
        .seat
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(parse_seat)
        .transpose()?;
    let item = state
        .store
        .add_checklist_item(
            &id,
            &title,
            seat,
            p.audit("incident.checklist.add", DataClass::Incidents, None),
        )
        .await
        .map_err(not_found("incident"))?;
    checklist_event(&state, &id, &item.id);
    Ok((StatusCode::CREATED, Json(item)))
}

fn checklist_event(state: &AppState, incident: &str, item: &str) {
    state.events.publish(
        "incident.checklist",
        DataClass::Incidents,
        serde_json::json!({ "id": incident, "item": item }),
    );
}

/// Parses a change to a step.
pub(crate) fn parse_step_change(body: &StepChangeBody) -> Result<ChecklistChange, DomainError> {
    let change = ChecklistChange {
        done: body.done,
        seat: body
            .seat
            .as_ref()
            .map(|s| {
                s.as_deref()
                    .filter(|s| !s.trim().is_empty())
                    .map(parse_seat)
                    .transpose()
            })
            .transpose()?,
        assignee: body
            .assignee
            .as_ref()
            .map(|a| {
                a.as_deref()
                    .filter(|s| !s.trim().is_empty())
                    .map(|u| {
                        Id::parse(Kind::User, u.trim())
                            .map(|i| i.to_string())
                            .ok_or_else(|| {
                                DomainError::invalid("assignee", "staff user ids look like usr_...")
                            })
                    })
                    .transpose()
            })
            .transpose()?,
    };
    if change.done.is_none() && change.seat.is_none() && change.assignee.is_none() {
        return Err(DomainError::invalid("body", "send done, seat or assignee"));
    }
    Ok(change)
}

pub(crate) async fn change_checklist(
    state: &AppState,
    p: &Principal,
    id: &str,
    item: &str,
    change: &ChecklistChange,
) -> Result<ChecklistItem, ApiError> {
    let item = state
        .store
        .change_checklist_item(
            id,
            item,
            change,
            p.audit("incident.checklist.change", DataClass::Incidents, None),
        )
        .await
        .map_err(|e| match e {
            crate::storage::incidents::IncidentRefusal::Store(StoreError::NotFound) => {
                ApiError::NotFound("checklist item")
            }
            e => super::incidents::refusal(e),
        })?;
    checklist_event(state, id, &item.id);
    Ok(item)
}

async fn change_step(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path((id, item)): Path<(String, String)>,
    ApiJson(body): ApiJson<StepChangeBody>,
) -> Result<Json<ChecklistItem>, ApiError> {
    let change = parse_step_change(&body)?;
    Ok(Json(
        change_checklist(&state, &p, &id, &item, &change).await?,
    ))
}

// ---- links and promotion

async fn links(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<IncidentLink>>, ApiError> {
    let incident = find(&state, &id).await?;
    Ok(Json(state.store.incident_links(&incident.id).await?))
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct PromoteBody {
    /// Link the signal to this open incident instead of declaring one.
    #[serde(default)]
    pub incident_id: Option<String>,
    /// Default: the signal's title.
    #[serde(default)]
    pub title: Option<String>,
    /// Default SEV3.
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub impact: Option<String>,
    #[serde(default)]
    pub playbook: Option<String>,
    #[serde(default)]
    pub team: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub update_every_minutes: Option<i64>,
}

/// Declares an incident from a signal, or links the signal to one.
pub(crate) async fn promote_signal(
    state: &AppState,
    p: &Principal,
    signal_id: &str,
    body: PromoteBody,
) -> Result<Incident, ApiError> {
    let signal = state
        .store
        .signal(signal_id)
        .await?
        .ok_or(ApiError::NotFound("signal"))?;
    if let Some(incident) = &body.incident_id {
        let incident = find(state, incident.trim()).await?;
        state
            .store
            .promote_signal_into(
                &incident.id,
                &signal.id,
                p.audit("incident.link", DataClass::Incidents, None),
            )
            .await
            .map_err(super::incidents::refusal)?;
        state.events.publish(
            "signal.promoted",
            DataClass::Feedback,
            serde_json::json!({ "id": signal.id, "status": "promoted", "incident": incident.id }),
        );
        return find(state, &incident.id).await;
    }
    let title: String = body
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| signal.title.chars().take(200).collect());
    let new = parse_new(&NewIncidentBody {
        title,
        severity: body.severity.unwrap_or_else(|| "SEV3".into()),
        impact: body.impact,
        status: None,
        components: vec![],
        segments: vec![],
        team: body.team,
        playbook: body.playbook,
        signal_id: Some(signal.id.clone()),
        update_every_minutes: body.update_every_minutes,
    })?;
    declare(state, p, &new).await
}

async fn promote(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PromoteBody>,
) -> Result<(StatusCode, Json<Incident>), ApiError> {
    let linking = body.incident_id.is_some();
    let incident = promote_signal(&state, &p, &id, body).await?;
    let status = if linking {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(incident)))
}

// ---- notices from templates

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct FromTemplateBody {
    /// The template's slug: breach, outage, resolved, or one of your own.
    pub template: String,
    /// Default: the template's status.
    #[serde(default)]
    pub status: Option<String>,
    /// Languages to write (en, zh, fa, gu); default: every language of the
    /// template for which the required fields are given.
    #[serde(default)]
    pub languages: Option<Vec<String>>,
    /// what_happened, impact, actions, contact (required); advice, remedy,
    /// next_update, headline (SMS). Each a text for every language, or an
    /// object language -> text.
    #[schema(value_type = BTreeMap<String, Object>)]
    pub fields: BTreeMap<String, FieldText>,
    #[serde(default)]
    pub components: BTreeMap<String, String>,
    #[serde(default)]
    pub draft: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UpdateWithVariants {
    #[serde(flatten)]
    pub update: IncidentUpdate,
    pub variants: Vec<UpdateVariant>,
}

/// The status page's address, and the name customers know us by.
pub(crate) fn notice_context(state: &AppState, incident: &Incident) -> NoticeContext {
    let base = state
        .config
        .http
        .public_url
        .trim_end_matches('/')
        .to_owned();
    let company = url::Url::parse(&base)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "Frontline".into());
    let minutes =
        super::incidents::cadence(state).minutes(incident.severity, incident.update_every_minutes);
    NoticeContext {
        company,
        incident_title: incident.title.clone(),
        status_url: format!("{base}/status"),
        next_update: Some(format_due(crate::storage::now_ms() + minutes * 60_000)),
    }
}

/// Renders the variants an update from a template would have.
pub(crate) async fn render_from_template(
    state: &AppState,
    incident: &Incident,
    body: &FromTemplateBody,
) -> Result<(IncidentStatus, Vec<UpdateVariant>), ApiError> {
    let slug = parse_slug("template", &body.template)?;
    let template = state
        .store
        .template(&slug)
        .await?
        .ok_or_else(|| ApiError::Unprocessable {
            code: "unknown_reference",
            detail: "template: no such notice template".into(),
        })?;
    let status = body
        .status
        .as_deref()
        .map(IncidentStatus::parse)
        .transpose()?
        .unwrap_or(template.status);
    let ctx = notice_context(state, incident);
    let variants = notices::render_variants(
        &template,
        body.languages.as_deref(),
        &body.fields,
        &ctx,
        status.is_resolved(),
    )?;
    Ok((status, variants))
}

/// Writes an update from a template: the first variant (English when
/// there is one) is the update's body.
pub(crate) async fn write_from_template(
    state: &AppState,
    p: &Principal,
    id: &str,
    body: &FromTemplateBody,
) -> Result<UpdateWithVariants, ApiError> {
    let incident = find(state, id).await?;
    let (status, variants) = render_from_template(state, &incident, body).await?;
    let main = variants
        .first()
        .ok_or_else(|| DomainError::invalid("languages", "no language to write"))?;
    let update = write_update_with(
        state,
        p,
        &incident.id,
        &UpdateBody {
            status: status.as_str().to_owned(),
            body: main.body.clone(),
            components: body.components.clone(),
            draft: body.draft,
        },
        &variants,
    )
    .await?;
    let variants = state.store.update_variants(&update.id).await?;
    Ok(UpdateWithVariants { update, variants })
}

async fn from_template(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FromTemplateBody>,
) -> Result<(StatusCode, Json<UpdateWithVariants>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(write_from_template(&state, &p, &id, &body).await?),
    ))
}

async fn preview_unsaved(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FromTemplateBody>,
) -> Result<Json<Vec<Preview>>, ApiError> {
    let incident = find(&state, &id).await?;
    let (status, variants) = render_from_template(&state, &incident, &body).await?;
    let ctx = notice_context(&state, &incident);
    let notice = preview_notice(&state, &incident, status, "preview", "").await?;
    Ok(Json(
        variants
            .iter()
            .map(|v| notices::preview_all(v, &ctx.status_url, &notice))
            .collect(),
    ))
}

/// The update as delivery would tell it, for previews: the incident's
/// public components by name, the status page address.
async fn preview_notice(
    state: &AppState,
    incident: &Incident,
    status: IncidentStatus,
    update_id: &str,
    published_at: &str,
) -> Result<crate::notify::render::Notice, ApiError> {
    let mut components = Vec::new();
    for id in &incident.components {
        if let Some(c) = state.store.component(id).await? {
            if !c.private {
                components.push(c.name);
            }
        }
    }
    Ok(crate::notify::render::Notice {
        incident_id: incident.id.clone(),
        incident_title: incident.title.clone(),
        impact: incident.impact.as_str().to_owned(),
        update_id: update_id.to_owned(),
        status: status.as_str().to_owned(),
        body: String::new(),
        variants: BTreeMap::new(),
        components,
        published_at: published_at.to_owned(),
        base_url: state
            .config
            .http
            .public_url
            .trim_end_matches('/')
            .to_owned(),
    })
}

async fn find_update(
    state: &AppState,
    id: &str,
    uid: &str,
) -> Result<(Incident, IncidentUpdate), ApiError> {
    let incident = find(state, id).await?;
    let update = state
        .store
        .incident_update(&incident, uid)
        .await?
        .ok_or(ApiError::NotFound("update"))?;
    Ok((incident, update))
}

async fn variants(
    State(state): State<AppState>,
    Path((id, uid)): Path<(String, String)>,
) -> Result<Json<Vec<UpdateVariant>>, ApiError> {
    let (_, update) = find_update(&state, &id, &uid).await?;
    Ok(Json(state.store.update_variants(&update.id).await?))
}

/// Previews of a stored update: each variant, or the body alone (as
/// language "und") for an update written by hand.
pub(crate) async fn previews_of(
    state: &AppState,
    incident: &Incident,
    update: &IncidentUpdate,
) -> Result<Vec<Preview>, ApiError> {
    let mut variants = state.store.update_variants(&update.id).await?;
    let ctx = notice_context(state, incident);
    if variants.is_empty() {
        variants.push(UpdateVariant {
            language: "und".into(),
            subject: incident.title.clone(),
            body: update.body.clone(),
            sms: update.body.split_whitespace().collect::<Vec<_>>().join(" "),
        });
    }
    let published = update
        .published_at
        .as_ref()
        .map(|t| crate::storage::users::rfc3339(t.0))
        .unwrap_or_default();
    let notice = preview_notice(state, incident, update.status, &update.id, &published).await?;
    Ok(variants
        .iter()
        .map(|v| notices::preview_all(v, &ctx.status_url, &notice))
        .collect())
}

async fn preview_saved(
    State(state): State<AppState>,
    Path((id, uid)): Path<(String, String)>,
) -> Result<Json<Vec<Preview>>, ApiError> {
    let (incident, update) = find_update(&state, &id, &uid).await?;
    Ok(Json(previews_of(&state, &incident, &update).await?))
}

async fn alerts(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<LeadAlert>>, ApiError> {
    let incident = find(&state, &id).await?;
    Ok(Json(state.store.lead_alerts(&incident.id).await?))
}

// ---- postmortem

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct PostmortemBody {
    pub summary: Option<String>,
    pub root_cause: Option<String>,
    pub impact: Option<String>,
    pub went_well: Option<String>,
    pub to_improve: Option<String>,
    pub action_items: Option<Vec<ActionItem>>,
    #[serde(default)]
    pub publish: bool,
}

fn bounded(field: &'static str, v: &Option<String>) -> Result<Option<String>, DomainError> {
    match v.as_deref().map(str::trim) {
        None => Ok(None),
        Some("") => Ok(Some(String::new())),
        Some(t) => parse_text(field, t, 20_000).map(Some),
    }
}

pub(crate) fn parse_postmortem(body: &PostmortemBody) -> Result<PostmortemText, DomainError> {
    let items = body
        .action_items
        .clone()
        .map(|items| {
            if items.len() > 100 {
                return Err(DomainError::invalid("action_items", "100 at most"));
            }
            items
                .into_iter()
                .map(ActionItem::check)
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    Ok(PostmortemText {
        summary: bounded("summary", &body.summary)?,
        root_cause: bounded("root_cause", &body.root_cause)?,
        impact: bounded("impact", &body.impact)?,
        went_well: bounded("went_well", &body.went_well)?,
        to_improve: bounded("to_improve", &body.to_improve)?,
        action_items: items,
    })
}

async fn get_postmortem(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Postmortem>, ApiError> {
    let incident = find(&state, &id).await?;
    state
        .store
        .postmortem(&incident.id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound("postmortem"))
}

fn human_secs(s: i64) -> String {
    if s < 120 {
        format!("{s} seconds")
    } else if s < 2 * 3600 {
        format!("{} minutes", s / 60)
    } else {
        format!("{:.1} hours", s as f64 / 3600.0)
    }
}

/// A first draft from what is known: the timeline as a summary, the
/// impact as declared, what the numbers say went well or not, and every
/// step left unchecked as an action item with its assignee as owner.
pub(crate) async fn prefill(
    state: &AppState,
    incident: &Incident,
) -> Result<PostmortemText, ApiError> {
    let timeline = state.store.incident_timeline(&incident.id).await?;
    let checklist = state.store.incident_checklist(&incident.id).await?;
    let m = state.store.incident_metrics(incident).await?;
    let summary: Vec<String> = timeline
        .iter()
        .filter(|e| e.kind != "note" || e.body.chars().count() <= 300)
        .map(|e| {
            let at = crate::storage::users::rfc3339(e.at.0);
            format!(
                "{} {}: {}",
                at.get(..16).unwrap_or(&at).replace('T', " "),
                e.kind.replace('_', " "),
                e.body
            )
        })
        .collect();
    let components = state.store.list_components().await?;
    let names: Vec<String> = incident
        .components
        .iter()
        .filter_map(|c| {
            components
                .iter()
                .find(|x| &x.id == c)
                .map(|x| x.name.clone())
        })
        .collect();
    let mut impact = format!("{} impact, {}.", incident.impact, incident.severity);
    if !names.is_empty() {
        impact.push_str(&format!(" Components: {}.", names.join(", ")));
    }
    if !incident.segments.is_empty() {
        impact.push_str(&format!(
            " Customer segments: {}.",
            incident.segments.join(", ")
        ));
    }
    let mut well = Vec::new();
    let mut improve = Vec::new();
    if let Some(s) = m.signal_to_declared_secs {
        well.push(format!(
            "Declared {} after the first signal from customers.",
            human_secs(s)
        ));
    }
    match m.declared_to_first_notice_secs {
        Some(s) => well.push(format!(
            "First public notice {} after the declaration.",
            human_secs(s)
        )),
        None => improve.push("No public notice was published.".to_owned()),
    }
    if m.updates_due > 0 {
        let line = format!(
            "{} of {} public updates were on time.",
            m.updates_kept, m.updates_due
        );
        if m.updates_missed == 0 {
            well.push(line);
        } else {
            improve.push(line);
        }
    }
    let open: Vec<&ChecklistItem> = checklist.iter().filter(|i| !i.done).collect();
    if !open.is_empty() {
        improve.push(format!("{} checklist steps were not done.", open.len()));
    }
    let action_items = open
        .iter()
        .map(|i| ActionItem {
            title: i.title.chars().take(300).collect(),
            owner: i.assignee.clone(),
            due: None,
            done: false,
        })
        .collect();
    Ok(PostmortemText {
        summary: Some(summary.join("\n")),
        root_cause: Some(String::new()),
        impact: Some(impact),
        went_well: Some(well.join("\n")),
        to_improve: Some(improve.join("\n")),
        action_items: Some(action_items),
    })
}

pub(crate) async fn start_postmortem_for(
    state: &AppState,
    p: &Principal,
    id: &str,
) -> Result<Postmortem, ApiError> {
    let incident = find(state, id).await?;
    let text = prefill(state, &incident).await?;
    let pm = state
        .store
        .create_postmortem(
            &incident.id,
            &text,
            p.audit("incident.postmortem.create", DataClass::Incidents, None),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(w) => ApiError::Conflict(format!("{w} already exists; edit it")),
            e => not_found("incident")(e),
        })?;
    Ok(pm)
}

async fn start_postmortem(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Postmortem>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(start_postmortem_for(&state, &p, &id).await?),
    ))
}

pub(crate) async fn save_postmortem(
    state: &AppState,
    p: &Principal,
    id: &str,
    body: &PostmortemBody,
) -> Result<Postmortem, ApiError> {
    let text = parse_postmortem(body)?;
    let incident = find(state, id).await?;
    let pm = state
        .store
        .update_postmortem(
            &incident.id,
            &text,
            body.publish,
            p.audit("incident.postmortem.update", DataClass::Incidents, None),
        )
        .await
        .map_err(|e| match e {
            StoreError::InUse(_) => {
                ApiError::Conflict("this postmortem is published and is never edited".into())
            }
            e => not_found("postmortem")(e),
        })?;
    Ok(pm)
}

async fn edit_postmortem(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PostmortemBody>,
) -> Result<Json<Postmortem>, ApiError> {
    Ok(Json(save_postmortem(&state, &p, &id, &body).await?))
}

async fn list_postmortems(
    State(state): State<AppState>,
) -> Result<Json<Vec<Postmortem>>, ApiError> {
    Ok(Json(
        state
            .store
            .list_postmortems()
            .await?
            .into_iter()
            .map(|(p, _)| p)
            .collect(),
    ))
}

// ---- remedies

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemedyBody {
    /// A label: account_monitoring, credit, ...
    pub kind: String,
    pub description: String,
    #[serde(default)]
    pub offered: i64,
    #[serde(default)]
    pub taken: i64,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemedyCounts {
    pub offered: i64,
    pub taken: i64,
}

async fn remedies(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<Remedy>>, ApiError> {
    let incident = find(&state, &id).await?;
    Ok(Json(state.store.remedies(&incident.id).await?))
}

pub(crate) async fn offer_remedy(
    state: &AppState,
    p: &Principal,
    id: &str,
    body: &RemedyBody,
) -> Result<Remedy, ApiError> {
    let kind = crate::domain::feedback::parse_label("kind", &body.kind)?;
    let description = parse_line("description", &body.description, 500)?;
    let counts = parse_remedy_counts(body.offered, body.taken)?;
    let incident = find(state, id).await?;
    Ok(state
        .store
        .add_remedy(
            &incident.id,
            &kind,
            &description,
            counts,
            p.audit("incident.remedy.add", DataClass::Incidents, None),
        )
        .await?)
}

async fn add_remedy(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RemedyBody>,
) -> Result<(StatusCode, Json<Remedy>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(offer_remedy(&state, &p, &id, &body).await?),
    ))
}

pub(crate) async fn count_remedy(
    state: &AppState,
    p: &Principal,
    id: &str,
    rid: &str,
    body: &RemedyCounts,
) -> Result<Remedy, ApiError> {
    let counts = parse_remedy_counts(body.offered, body.taken)?;
    state
        .store
        .update_remedy(
            id,
            rid,
            counts,
            p.audit("incident.remedy.update", DataClass::Incidents, None),
        )
        .await
        .map_err(not_found("remedy"))
}

async fn update_remedy(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path((id, rid)): Path<(String, String)>,
    ApiJson(body): ApiJson<RemedyCounts>,
) -> Result<Json<Remedy>, ApiError> {
    Ok(Json(count_remedy(&state, &p, &id, &rid, &body).await?))
}

// ---- survey

#[derive(Serialize, utoipa::ToSchema)]
pub struct IncidentSurvey {
    pub survey_id: String,
    pub slug: String,
    /// The hosted form; add `?lang=zh|fa|gu` for another language. This is
    /// the link a message to subscribers carries.
    pub url: String,
}

fn localised(pairs: [(&str, &str); 4]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(l, t)| ((*l).to_owned(), (*t).to_owned()))
        .collect()
}

/// The post-incident survey: how well we kept customers informed.
fn survey_definition(incident: &Incident) -> SurveyDefinition {
    SurveyDefinition {
        languages: vec!["en".into(), "zh".into(), "fa".into(), "gu".into()],
        title: localised([
            ("en", "How did we do?"),
            ("zh", "我们做得怎么样？"),
            ("fa", "عملکرد ما چطور بود؟"),
            ("gu", "અમે કેવું કામ કર્યું?"),
        ]),
        intro: localised([
            ("en", "We recently had a problem that affected you. Two questions about how we kept you informed."),
            ("zh", "我们最近出现了一个影响到您的问题。关于我们如何让您了解情况，请回答两个问题。"),
            ("fa", "اخیراً مشکلی پیش آمد که روی شما هم اثر گذاشت. دو پرسش دربارهٔ اینکه چقدر شما را در جریان گذاشتیم."),
            ("gu", "તાજેતરમાં અમને એક સમસ્યા આવી જેની તમારા પર અસર થઈ. અમે તમને કેટલી સારી રીતે જાણ કરી તે વિશે બે પ્રશ્નો."),
        ]),
        questions: vec![
            Question {
                id: "informed".into(),
                kind: "csat".into(),
                prompt: localised([
                    ("en", "How satisfied are you with how we kept you informed?"),
                    ("zh", "您对我们通报情况的方式满意吗？"),
                    ("fa", "چقدر از نحوهٔ اطلاع‌رسانی ما راضی هستید؟"),
                    ("gu", "અમે તમને જે રીતે માહિતગાર રાખ્યા તેનાથી તમે કેટલા સંતુષ્ટ છો?"),
                ]),
                required: true,
            },
            Question {
                id: "comment".into(),
                kind: "comment".into(),
                prompt: localised([
                    ("en", "What could we have done better?"),
                    ("zh", "我们哪些地方可以做得更好？"),
                    ("fa", "چه کاری را می‌توانستیم بهتر انجام دهیم؟"),
                    ("gu", "અમે શું વધુ સારું કરી શક્યા હોત?"),
                ]),
                required: false,
            },
        ],
        policy: SurveyPolicy {
            touchpoint: Some(format!("incident:{}", incident.id.to_lowercase())),
            ..Default::default()
        },
    }
}

fn survey_slug(incident: &Incident) -> String {
    format!(
        "incident-{}",
        incident.id.trim_start_matches("inc_").to_lowercase()
    )
}

fn survey_view(state: &AppState, survey_id: String, slug: String) -> IncidentSurvey {
    let base = state.config.http.public_url.trim_end_matches('/');
    IncidentSurvey {
        url: format!("{base}/f/{slug}"),
        survey_id,
        slug,
    }
}

/// The incident's survey, if it has one.
pub(crate) async fn incident_survey(
    state: &AppState,
    incident: &Incident,
) -> Result<Option<IncidentSurvey>, ApiError> {
    let Some(link) = state
        .store
        .incident_links(&incident.id)
        .await?
        .into_iter()
        .find(|l| l.kind == "survey")
    else {
        return Ok(None);
    };
    let Some(survey) = state.store.survey(&link.ref_id).await? else {
        return Ok(None);
    };
    Ok(Some(survey_view(state, survey.id, survey.slug)))
}

async fn get_survey(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<IncidentSurvey>, ApiError> {
    let incident = find(&state, &id).await?;
    incident_survey(&state, &incident)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound("survey"))
}

pub(crate) async fn make_survey(
    state: &AppState,
    p: &Principal,
    id: &str,
) -> Result<IncidentSurvey, ApiError> {
    let incident = find(state, id).await?;
    let def = survey_definition(&incident).validate()?;
    let slug = survey_slug(&incident);
    let survey_id = state
        .store
        .create_incident_survey(
            &incident.id,
            &slug,
            &def,
            p.audit("survey.create", DataClass::Feedback, None),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(w) => ApiError::Conflict(format!("{w} already exists")),
            e => e.into(),
        })?;
    Ok(survey_view(state, survey_id, slug))
}

async fn create_survey(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<IncidentSurvey>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(make_survey(&state, &p, &id).await?),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendSurveyBody {
    /// `affected`, `subscribers` or both (the default).
    pub to: Option<Vec<String>>,
}

/// Queues the survey's invitations; each recipient is invited once.
pub(crate) async fn send_survey_invites(
    state: &AppState,
    p: &Principal,
    id: &str,
    who: Invitees,
) -> Result<Queued, ApiError> {
    let incident = find(state, id).await?;
    if !incident.status.is_resolved() {
        return Err(ApiError::Conflict(
            "the survey goes out once the incident is resolved".into(),
        ));
    }
    let survey = incident_survey(state, &incident)
        .await?
        .ok_or_else(|| ApiError::Conflict("create the survey first".into()))?;
    let invite = SurveyInvite {
        slug: survey.slug,
        incident_title: incident.title.clone(),
    };
    Ok(state
        .store
        .queue_survey_invites(
            &incident.id,
            &invite,
            who,
            p.audit("incident.survey.send", DataClass::Subscribers, None),
        )
        .await?)
}

async fn send_survey(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SendSurveyBody>,
) -> Result<Json<Queued>, ApiError> {
    let who = match body.to.as_deref() {
        None => Invitees {
            affected: true,
            subscribers: true,
        },
        Some(list) => {
            let mut who = Invitees::default();
            for t in list {
                match t.as_str() {
                    "affected" => who.affected = true,
                    "subscribers" => who.subscribers = true,
                    _ => {
                        return Err(
                            DomainError::invalid("to", "must be affected or subscribers").into(),
                        )
                    }
                }
            }
            if !who.affected && !who.subscribers {
                return Err(
                    DomainError::invalid("to", "must name affected, subscribers or both").into(),
                );
            }
            who
        }
    };
    Ok(Json(send_survey_invites(&state, &p, &id, who).await?))
}

// ---- metrics

#[derive(Deserialize)]
struct MetricsQuery {
    since: Option<String>,
}

async fn metrics_summary(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<MetricsQuery>,
) -> Result<Json<MetricsSummary>, ApiError> {
    let since = match q.since.as_deref() {
        Some(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map_err(|_| DomainError::invalid("since", "an RFC 3339 time"))?
            .timestamp_millis(),
        None => crate::storage::now_ms() - 90 * 24 * 3_600_000,
    };
    Ok(Json(state.store.metrics_summary(since).await?))
}

async fn metrics_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<IncidentMetrics>, ApiError> {
    let incident = find(&state, &id).await?;
    Ok(Json(state.store.incident_metrics(&incident).await?))
}
