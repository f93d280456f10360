//! Incident pages: the list, one incident (timeline, team, updates with
//! approve and publish buttons for the roles that may press them), and the
//! status page's components and maintenances.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use minijinja::context;
use serde::Deserialize;

use super::i18n::phrase;
use super::{error_page, page};
use crate::domain::incident::TeamRole;
use crate::domain::incident::{ComponentStatus, Impact, IncidentStatus, Severity, APPROVING_ROLES};
use crate::domain::response::NOTICE_LANGUAGES;
use crate::domain::{Action, DataClass, Grant};
use crate::http::api::incidents::{
    approve, declare as declare_incident, find, note, parse_new, publish, write_update,
    NewIncidentBody, UpdateBody,
};
use crate::http::api::response::{incident_survey, previews_of};
use crate::http::error::{ApiError, ApiQuery};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;

const fn incidents(action: Action) -> Need {
    Need::Grant(Grant::new(DataClass::Incidents, action))
}

const fn notices(action: Action) -> Need {
    Need::Grant(Grant::new(DataClass::Notices, action))
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/incidents", incidents(Action::View), list),
        Route::new(
            Method::POST,
            "/incidents",
            incidents(Action::Store),
            declare,
        ),
        Route::new(
            Method::GET,
            "/incidents/{id}",
            incidents(Action::View),
            show,
        ),
        Route::new(
            Method::POST,
            "/incidents/{id}/notes",
            incidents(Action::Modify),
            add_note,
        ),
        Route::new(
            Method::POST,
            "/incidents/{id}/updates",
            notices(Action::Store),
            add_update,
        ),
        Route::new(
            Method::POST,
            "/incidents/{id}/updates/{uid}/approve",
            notices(Action::Modify),
            approve_update,
        ),
        Route::new(
            Method::POST,
            "/incidents/{id}/updates/{uid}/publish",
            notices(Action::Modify),
            publish_update,
        ),
        Route::new(
            Method::GET,
            "/components",
            notices(Action::View),
            components,
        ),
    ]
}

#[derive(Deserialize, Default)]
struct Notice {
    notice: Option<String>,
}

fn words<T: Copy>(all: &[T], f: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| f(*v)).collect()
}

async fn list(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(n): ApiQuery<Notice>,
) -> Response {
    let playbooks = state.store.list_playbooks().await.unwrap_or_default();
    let now = crate::storage::now_ms();
    match state.store.list_incidents(false, 200).await {
        Ok(incidents) => {
            let due: std::collections::BTreeMap<String, i64> = incidents
                .iter()
                .filter_map(|i| i.next_update_due.map(|t| (i.id.clone(), t.0)))
                .collect();
            page(
                &state,
                &p,
                "/incidents",
                "incidents.html",
                context! {
                    incidents, notice => n.notice, playbooks,
                    due, now,
                    can_store => p.can(DataClass::Incidents, Action::Store),
                    severities => words(Severity::ALL, Severity::as_str),
                    impacts => words(Impact::ALL, Impact::as_str),
                },
            )
        }
        Err(e) => error_page(&state, e.into()),
    }
}

#[derive(Deserialize)]
struct DeclareForm {
    title: String,
    severity: String,
    impact: String,
    #[serde(default)]
    playbook: Option<String>,
}

async fn declare(
    State(state): State<AppState>,
    Auth(p): Auth,
    Form(form): Form<DeclareForm>,
) -> Response {
    let result = async {
        let new = parse_new(&NewIncidentBody {
            title: form.title,
            severity: form.severity,
            impact: Some(form.impact),
            status: None,
            components: vec![],
            segments: vec![],
            team: Default::default(),
            playbook: form.playbook.filter(|p| !p.is_empty()),
            signal_id: None,
            update_every_minutes: None,
        })?;
        declare_incident(&state, &p, &new).await
    }
    .await;
    match result {
        Ok(i) => Redirect::to(&format!(
            "/incidents/{}?notice={}",
            i.id,
            url::form_urlencoded::byte_serialize(phrase("Incident declared.").as_bytes())
                .collect::<String>()
        ))
        .into_response(),
        Err(e) => error_page(&state, e),
    }
}

async fn show(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiQuery(n): ApiQuery<Notice>,
) -> Response {
    let result = async {
        let incident = find(&state, &id).await?;
        let timeline = state.store.incident_timeline(&incident.id).await?;
        let can_see_updates = p.can(DataClass::Notices, Action::View);
        let updates = if can_see_updates {
            state.store.incident_updates(&incident).await?
        } else {
            vec![]
        };
        // Published updates, newest first: what may be sent to the
        // affected customers.
        let published: Vec<_> = updates
            .iter()
            .rev()
            .filter(|u| u.published_at.is_some())
            .map(|u| {
                let mut body: String = u.body.chars().take(60).collect();
                if body.len() < u.body.len() {
                    body.push('…');
                }
                context! { id => u.id.clone(), status => u.status.as_str(), body }
            })
            .collect();
        let can_approve =
            p.can(DataClass::Notices, Action::Modify) && APPROVING_ROLES.contains(&p.role.as_str());
        let updates: Vec<_> = updates
            .into_iter()
            .map(|u| {
                let draft = u.published_at.is_none();
                let approve = draft
                    && can_approve
                    && u.approvals_missing.contains(&p.role.as_str())
                    && !u.approvals.iter().any(|a| a.approved_by == p.actor);
                let publish = draft
                    && p.can(DataClass::Notices, Action::Modify)
                    && u.approvals_missing.is_empty();
                context! { u, approve, publish }
            })
            .collect();
        let components = state.store.list_components().await?;
        let component_names: Vec<String> = incident
            .components
            .iter()
            .map(|c| {
                components
                    .iter()
                    .find(|x| &x.id == c)
                    .map_or_else(|| c.clone(), |x| x.name.clone())
            })
            .collect();
        let components: Vec<_> = components.into_iter().filter(|c| !c.is_group).collect();
        // Staff names (never email addresses) for the ids in the timeline.
        let mut names: std::collections::BTreeMap<String, String> = state
            .store
            .list_users()
            .await?
            .into_iter()
            .map(|u| (u.id.to_string(), u.name))
            .collect();
        for t in state.store.list_tokens().await? {
            names.insert(t.id, format!("{} (API token)", t.name));
        }
        let checklist = state.store.incident_checklist(&incident.id).await?;
        let links = state.store.incident_links(&incident.id).await?;
        let alerts = state.store.lead_alerts(&incident.id).await?;
        let postmortem = state.store.postmortem(&incident.id).await?;
        let remedies = state.store.remedies(&incident.id).await?;
        let survey = incident_survey(&state, &incident).await?;
        let metrics = if p.can(DataClass::Reports, Action::View) {
            Some(state.store.incident_metrics(&incident).await?)
        } else {
            None
        };
        let templates = if can_see_updates {
            state.store.list_templates().await?
        } else {
            vec![]
        };
        let mut previews = std::collections::BTreeMap::new();
        if can_see_updates {
            for u in state.store.incident_updates(&incident).await? {
                previews.insert(u.id.clone(), previews_of(&state, &incident, &u).await?);
            }
        }
        let staff: Vec<_> = state
            .store
            .list_users()
            .await?
            .into_iter()
            .filter(|u| !u.disabled)
            .map(|u| context! { id => u.id.to_string(), name => u.name })
            .collect();
        let languages: Vec<_> = NOTICE_LANGUAGES
            .iter()
            .map(|(code, dir)| context! { code, dir })
            .collect();
        // The affected customers, masked, for those who may see them.
        let affected = if p.can(DataClass::Subscribers, Action::View) {
            let (total, customers) = state
                .store
                .list_affected(&state.intake.ring, &incident.id, 20)
                .await?;
            Some(context! { total, customers })
        } else {
            None
        };
        let cadence_minutes = crate::http::api::incidents::cadence(&state)
            .minutes(incident.severity, incident.update_every_minutes);
        // Per-recipient state of the notices, recipients masked.
        let deliveries = if can_see_updates {
            Some(
                state
                    .store
                    .incident_deliveries(&state.intake.ring, &incident.id, None, 200)
                    .await?,
            )
        } else {
            None
        };
        Ok::<_, ApiError>(page(
            &state,
            &p,
            "/incidents",
            "incident.html",
            context! {
                checklist, links, alerts, postmortem, remedies, survey, metrics, templates,
                previews, staff, languages, cadence_minutes,
                now => crate::storage::now_ms(),
                due_ms => incident.next_update_due.map(|t| t.0),
                seats => words(TeamRole::ALL, TeamRole::as_str),
                can_modify => p.can(DataClass::Incidents, Action::Modify),
                can_store_incident => p.can(DataClass::Incidents, Action::Store),
                can_survey => p.can(DataClass::Feedback, Action::Store),
                can_send_survey => p.can(DataClass::Subscribers, Action::Modify),
                affected, published,
                can_import_affected => p.can(DataClass::Subscribers, Action::Store),
                can_notify_affected => p.can(DataClass::Subscribers, Action::Modify),
                incident, timeline, updates, component_names, components, names, deliveries,
                notice => n.notice,
                my_role => p.role,
                can_note => p.can(DataClass::Incidents, Action::Modify),
                can_see_updates,
                can_write_update => p.can(DataClass::Notices, Action::Store),
                needs_approval => incident.severity.needs_approval(),
                statuses => words(IncidentStatus::ALL, IncidentStatus::as_str),
                component_statuses => words(ComponentStatus::ALL, ComponentStatus::as_str),
            },
        ))
    }
    .await;
    result.unwrap_or_else(|e| error_page(&state, e))
}

#[derive(Deserialize)]
struct NoteForm {
    body: String,
}

fn back(id: &str, notice: &str) -> Response {
    let notice: String = url::form_urlencoded::byte_serialize(notice.as_bytes()).collect();
    Redirect::to(&format!("/incidents/{id}?notice={notice}")).into_response()
}

async fn add_note(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Form(form): Form<NoteForm>,
) -> Response {
    match note(&state, &p, &id, &form.body).await {
        Ok(_) => back(&id, phrase("Note added.")),
        Err(e) => error_page(&state, e),
    }
}

#[derive(Deserialize)]
struct UpdateForm {
    status: String,
    body: String,
    #[serde(default)]
    component: String,
    #[serde(default)]
    component_status: String,
}

async fn add_update(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Form(form): Form<UpdateForm>,
) -> Response {
    let mut components = std::collections::BTreeMap::new();
    if !form.component.trim().is_empty() && !form.component_status.trim().is_empty() {
        components.insert(form.component, form.component_status);
    }
    let body = UpdateBody {
        status: form.status,
        body: form.body,
        components,
        draft: false,
    };
    match write_update(&state, &p, &id, &body).await {
        Ok(u) if u.published_at.is_some() => back(&id, phrase("Update published.")),
        Ok(_) => back(
            &id,
            phrase("Draft saved; it needs approval before it is published."),
        ),
        Err(e) => error_page(&state, e),
    }
}

async fn approve_update(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path((id, uid)): Path<(String, String)>,
) -> Response {
    match approve(&state, &p, &id, &uid).await {
        Ok(_) => back(&id, phrase("Approved.")),
        Err(e) => error_page(&state, e),
    }
}

async fn publish_update(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path((id, uid)): Path<(String, String)>,
) -> Response {
    match publish(&state, &p, &id, &uid).await {
        Ok(_) => back(&id, phrase("Published to the status page.")),
        Err(e) => error_page(&state, e),
    }
}

async fn components(State(state): State<AppState>, Auth(p): Auth) -> Response {
    let result = async {
        let components = state.store.list_components().await?;
        let maintenances = state.store.list_maintenances(50).await?;
        Ok::<_, ApiError>(page(
            &state,
            &p,
            "/components",
            "components.html",
            context! { components, maintenances },
        ))
    }
    .await;
    result.unwrap_or_else(|e| error_page(&state, e))
}
