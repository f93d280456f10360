use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::domain::survey::{parse_slug, SurveyDefinition};
use crate::domain::{Action, DataClass, Grant};
use crate::http::error::{ApiError, ApiJson};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::storage::surveys::{Survey, SurveyResults};
use crate::storage::StoreError;

const fn feedback(action: Action) -> Need {
    Need::Grant(Grant::new(DataClass::Feedback, action))
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/api/v1/surveys", feedback(Action::View), list)
            .doc("surveys", "List surveys")
            .response_list::<Survey>(),
        Route::new(
            Method::POST,
            "/api/v1/surveys",
            feedback(Action::Store),
            create,
        )
        .doc("surveys", "Define a survey; its form is at /f/{slug}")
        .request::<NewSurvey>()
        .response::<Survey>(),
        Route::new(
            Method::GET,
            "/api/v1/surveys/{id}",
            feedback(Action::View),
            get_one,
        )
        .doc("surveys", "One survey")
        .response::<Survey>(),
        Route::new(
            Method::PUT,
            "/api/v1/surveys/{id}",
            feedback(Action::Modify),
            update,
        )
        .doc("surveys", "Change a survey's questions or close it")
        .request::<UpdateSurvey>()
        .response::<Survey>(),
        Route::new(
            Method::POST,
            "/api/v1/surveys/{id}/links",
            feedback(Action::Store),
            links,
        )
        .doc("surveys", "Create single-use links (shown once)")
        .request::<LinkRequest>()
        .response::<Links>(),
        Route::new(
            Method::GET,
            "/api/v1/surveys/{id}/results",
            Need::Grant(Grant::new(DataClass::Reports, Action::View)),
            results,
        )
        .doc(
            "surveys",
            "NPS, CSAT and CES per question, answers by language",
        )
        .response::<SurveyResults>(),
    ]
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSurvey {
    /// The form's address: /f/{slug}.
    pub slug: String,
    pub definition: SurveyDefinition,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSurvey {
    pub definition: SurveyDefinition,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    /// 1 to 10,000.
    pub count: usize,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Links {
    pub links: Vec<String>,
}

async fn list(State(state): State<AppState>) -> Result<Json<Vec<Survey>>, ApiError> {
    Ok(Json(state.store.list_surveys().await?))
}

async fn find(state: &AppState, id: &str) -> Result<Survey, ApiError> {
    state
        .store
        .survey(id)
        .await?
        .ok_or(ApiError::NotFound("survey"))
}

async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Survey>, ApiError> {
    Ok(Json(find(&state, &id).await?))
}

async fn create(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<NewSurvey>,
) -> Result<(StatusCode, Json<Survey>), ApiError> {
    let slug = parse_slug(&body.slug)?;
    let def = body.definition.validate()?;
    let survey = state
        .store
        .create_survey(
            &slug,
            &def,
            p.audit("survey.create", DataClass::Feedback, None),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(survey)))
}

async fn update(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateSurvey>,
) -> Result<Json<Survey>, ApiError> {
    let def = body.definition.validate()?;
    let survey = state
        .store
        .update_survey(
            &id,
            &def,
            body.active,
            p.audit("survey.update", DataClass::Feedback, None),
        )
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::NotFound("survey"),
            e => e.into(),
        })?;
    Ok(Json(survey))
}

async fn links(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<LinkRequest>,
) -> Result<(StatusCode, Json<Links>), ApiError> {
    if !(1..=10_000).contains(&body.count) {
        return Err(crate::domain::DomainError::invalid("count", "must be 1 to 10000").into());
    }
    let survey = find(&state, &id).await?;
    let tokens = state
        .store
        .create_survey_links(
            &survey.id,
            body.count,
            p.audit("survey.links", DataClass::Feedback, None),
        )
        .await?;
    let base = state.config.http.public_url.trim_end_matches('/');
    Ok((
        StatusCode::CREATED,
        Json(Links {
            links: tokens
                .into_iter()
                .map(|t| format!("{base}/f/{}?t={t}", survey.slug))
                .collect(),
        }),
    ))
}

async fn results(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SurveyResults>, ApiError> {
    let survey = find(&state, &id).await?;
    Ok(Json(state.store.survey_results(&survey).await?))
}
