//! `/api/v1/playbooks` and `/api/v1/notice-templates`: what an incident's
//! checklist starts from, and what its notices are written from.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::Json;
use serde::Deserialize;

use crate::domain::incident::{parse_line, IncidentStatus};
use crate::domain::response::{parse_slug, PlaybookSpec, TemplateSpec, TemplateText};
use crate::domain::{Action, DataClass, DomainError, Grant};
use crate::http::error::{ApiError, ApiJson};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::storage::response::{NoticeTemplate, Playbook};
use crate::storage::StoreError;

const fn need(class: DataClass, action: Action) -> Need {
    Need::Grant(Grant::new(class, action))
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/api/v1/playbooks",
            need(DataClass::Incidents, Action::View),
            list,
        )
        .doc(
            "playbooks",
            "Playbooks: the checklists incidents start from",
        )
        .response_list::<Playbook>(),
        Route::new(
            Method::POST,
            "/api/v1/playbooks",
            need(DataClass::Settings, Action::Modify),
            create,
        )
        .doc("playbooks", "Add a playbook (admins)")
        .request::<PlaybookBody>()
        .response::<Playbook>(),
        Route::new(
            Method::GET,
            "/api/v1/playbooks/{slug}",
            need(DataClass::Incidents, Action::View),
            get_one,
        )
        .doc("playbooks", "One playbook")
        .response::<Playbook>(),
        Route::new(
            Method::PUT,
            "/api/v1/playbooks/{slug}",
            need(DataClass::Settings, Action::Modify),
            replace,
        )
        .doc(
            "playbooks",
            "Replace a playbook's name, description and steps (admins)",
        )
        .request::<PlaybookBody>()
        .response::<Playbook>(),
        Route::new(
            Method::DELETE,
            "/api/v1/playbooks/{slug}",
            need(DataClass::Settings, Action::Modify),
            delete,
        )
        .doc(
            "playbooks",
            "Delete a playbook of your own (built-in ones stay); incidents keep their checklists",
        ),
        Route::new(
            Method::GET,
            "/api/v1/notice-templates",
            need(DataClass::Notices, Action::View),
            list_templates,
        )
        .doc("notices", "Notice templates, per language")
        .response_list::<NoticeTemplate>(),
        Route::new(
            Method::GET,
            "/api/v1/notice-templates/{slug}",
            need(DataClass::Notices, Action::View),
            get_template,
        )
        .doc("notices", "One notice template")
        .response::<NoticeTemplate>(),
        Route::new(
            Method::PUT,
            "/api/v1/notice-templates/{slug}",
            need(DataClass::Notices, Action::Modify),
            put_template,
        )
        .doc(
            "notices",
            "Create or replace a notice template (sandboxed minijinja; checked before it is saved)",
        )
        .request::<TemplateBody>()
        .response::<NoticeTemplate>(),
        Route::new(
            Method::DELETE,
            "/api/v1/notice-templates/{slug}",
            need(DataClass::Notices, Action::Modify),
            delete_template,
        )
        .doc("notices", "Delete a notice template of your own"),
    ]
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaybookStep {
    /// 1-300 characters.
    pub title: String,
    /// incident_lead, security, cx, communications or legal.
    #[serde(default)]
    pub seat: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaybookBody {
    /// a-z, 0-9 and -; only when creating (the path names it otherwise).
    #[serde(default)]
    pub slug: Option<String>,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub items: Vec<PlaybookStep>,
}

fn spec(slug: &str, body: &PlaybookBody) -> Result<PlaybookSpec, DomainError> {
    let items: Vec<(String, Option<String>)> = body
        .items
        .iter()
        .map(|i| (i.title.clone(), i.seat.clone()))
        .collect();
    PlaybookSpec::parse(slug, &body.name, &body.description, &items)
}

fn store_error(what: &'static str) -> impl Fn(StoreError) -> ApiError {
    move |e| match e {
        StoreError::NotFound => ApiError::NotFound(what),
        StoreError::InUse(w) => {
            ApiError::Conflict(format!("{w} cannot be deleted; edit it instead"))
        }
        e => e.into(),
    }
}

async fn list(State(state): State<AppState>) -> Result<Json<Vec<Playbook>>, ApiError> {
    Ok(Json(state.store.list_playbooks().await?))
}

async fn get_one(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<Playbook>, ApiError> {
    state
        .store
        .playbook(&slug)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound("playbook"))
}

async fn create(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<PlaybookBody>,
) -> Result<(StatusCode, Json<Playbook>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(create_playbook(&state, &p, &body).await?),
    ))
}

/// Creates a playbook (shared with the dashboard).
pub(crate) async fn create_playbook(
    state: &AppState,
    p: &crate::auth::Principal,
    body: &PlaybookBody,
) -> Result<Playbook, ApiError> {
    let slug = body
        .slug
        .clone()
        .ok_or_else(|| DomainError::invalid("slug", "name the playbook: a-z, 0-9 and -"))?;
    let spec = spec(&slug, body)?;
    state
        .store
        .create_playbook(&spec, p.audit("playbook.create", DataClass::Settings, None))
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                ApiError::Conflict(format!("a playbook {slug} exists already"))
            }
            e => e.into(),
        })
}

async fn replace(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<PlaybookBody>,
) -> Result<Json<Playbook>, ApiError> {
    Ok(Json(replace_playbook(&state, &p, &slug, &body).await?))
}

/// Replaces a playbook's name, description and steps (shared with the
/// dashboard).
pub(crate) async fn replace_playbook(
    state: &AppState,
    p: &crate::auth::Principal,
    slug: &str,
    body: &PlaybookBody,
) -> Result<Playbook, ApiError> {
    let spec = spec(slug, body)?;
    state
        .store
        .update_playbook(
            slug,
            &spec,
            p.audit("playbook.update", DataClass::Settings, None),
        )
        .await
        .map_err(store_error("playbook"))
}

async fn delete(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(slug): Path<String>,
) -> Result<StatusCode, ApiError> {
    delete_playbook(&state, &p, &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a playbook of one's own (shared with the dashboard).
pub(crate) async fn delete_playbook(
    state: &AppState,
    p: &crate::auth::Principal,
    slug: &str,
) -> Result<(), ApiError> {
    state
        .store
        .delete_playbook(slug, p.audit("playbook.delete", DataClass::Settings, None))
        .await
        .map_err(store_error("playbook"))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    pub name: String,
    /// The incident status an update from it usually has.
    pub status: String,
    /// Language (en, zh, fa, gu) -> {subject, body, sms}. Names available:
    /// company, incident_title, status_url, what_happened, impact,
    /// actions, contact, advice, remedy, next_update, headline.
    #[schema(value_type = BTreeMap<String, TemplateText>)]
    pub texts: BTreeMap<String, TemplateText>,
}

async fn list_templates(
    State(state): State<AppState>,
) -> Result<Json<Vec<NoticeTemplate>>, ApiError> {
    Ok(Json(state.store.list_templates().await?))
}

async fn get_template(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<NoticeTemplate>, ApiError> {
    state
        .store
        .template(&slug)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound("notice template"))
}

async fn put_template(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<TemplateBody>,
) -> Result<Json<NoticeTemplate>, ApiError> {
    Ok(Json(save_template(&state, &p, &slug, body).await?))
}

/// Checks and saves a notice template (shared with the dashboard).
pub(crate) async fn save_template(
    state: &AppState,
    p: &crate::auth::Principal,
    slug: &str,
    body: TemplateBody,
) -> Result<NoticeTemplate, ApiError> {
    let slug = parse_slug("slug", slug)?;
    crate::response::notices::check_texts(&body.texts)?;
    let spec = TemplateSpec {
        slug,
        name: parse_line("name", &body.name, 120)?,
        status: IncidentStatus::parse(&body.status)?,
        texts: body.texts,
    };
    let t = state
        .store
        .save_template(
            &spec,
            p.audit("notice_template.save", DataClass::Notices, None),
        )
        .await?;
    Ok(t)
}

async fn delete_template(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(slug): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .delete_template(
            &slug,
            p.audit("notice_template.delete", DataClass::Notices, None),
        )
        .await
        .map_err(store_error("notice template"))?;
    Ok(StatusCode::NO_CONTENT)
}
