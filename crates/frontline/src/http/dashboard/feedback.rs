//! The feedback explorer, the item page (contacts open on a deliberate,
//! audited click), and surveys: list, builder, results.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use minijinja::context;
use serde::Deserialize;

use super::i18n::phrase;
use super::{error_page, page};
use crate::auth::Principal;
use crate::domain::feedback::{Channel, FeedbackKind};
use crate::domain::survey::{parse_slug, Question, SurveyDefinition, SurveyPolicy};
use crate::domain::{Action, DataClass, Grant};
use crate::http::api::feedback::{filter_from, item, view, ListQuery};
use crate::http::error::{ApiError, ApiQuery};
use crate::http::guard::{Auth, Need, Route};
use crate::http::public::i18n::LANGUAGES;
use crate::http::AppState;

const fn feedback(action: Action) -> Need {
    Need::Grant(Grant::new(DataClass::Feedback, action))
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/feedback", feedback(Action::View), list),
        Route::new(Method::GET, "/feedback/{id}", feedback(Action::View), show),
        Route::new(
            Method::POST,
            "/feedback/{id}/reveal",
            feedback(Action::View),
            reveal,
        ),
        Route::new(Method::GET, "/surveys", feedback(Action::View), surveys),
        Route::new(
            Method::GET,
            "/surveys/new",
            feedback(Action::Store),
            new_survey,
        ),
        Route::new(
            Method::POST,
            "/surveys",
            feedback(Action::Store),
            create_survey,
        ),
        Route::new(
            Method::GET,
            "/surveys/{id}",
            Need::Grant(Grant::new(DataClass::Reports, Action::View)),
            survey,
        ),
    ]
}

async fn list(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(mut q): ApiQuery<ListQuery>,
) -> Response {
    // Empty form fields mean "any".
    for f in [
        &mut q.kind,
        &mut q.channel,
        &mut q.language,
        &mut q.component,
        &mut q.region,
        &mut q.segment,
        &mut q.q,
    ] {
        if f.as_deref().is_some_and(|v| v.trim().is_empty()) {
            *f = None;
        }
    }
    let result = async {
        let mut filter = filter_from(&q)?;
        let limit = filter.limit;
        filter.limit = limit + 1;
        let rows = state.store.list_feedback(&filter).await?;
        Ok::<_, ApiError>((rows, limit))
    }
    .await;
    let (rows, limit) = match result {
        Ok(r) => r,
        Err(e) => return error_page(&state, e),
    };
    let more = rows.len() as i64 > limit;
    let items: Vec<_> = rows.iter().take(limit as usize).map(item).collect();
    let next_cursor = more.then(|| items.last().map(|i| i.id.clone())).flatten();
    let next_href = next_cursor.as_ref().map(|c| {
        let mut qs = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", &q.q),
            ("kind", &q.kind),
            ("channel", &q.channel),
            ("language", &q.language),
            ("component", &q.component),
            ("region", &q.region),
            ("segment", &q.segment),
            ("topic", &q.topic),
            ("journey_stage", &q.journey_stage),
            ("survey", &q.survey),
        ] {
            if let Some(v) = v {
                qs.append_pair(k, v);
            }
        }
        qs.append_pair("cursor", c);
        format!("/feedback?{}", qs.finish())
    });
    let shown = context! {
        q => q.q, kind => q.kind, channel => q.channel, language => q.language,
        component => q.component, region => q.region, segment => q.segment,
        topic => q.topic, journey_stage => q.journey_stage,
    };
    page(
        &state,
        &p,
        "/feedback",
        "feedback_list.html",
        context! {
            items, next_cursor, next_href, q => shown,
            kinds => FeedbackKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            channels => Channel::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        },
    )
}

async fn item_page(state: &AppState, p: &Principal, id: &str, reveal: bool) -> Response {
    let row = match state.store.feedback(id).await {
        Ok(Some(r)) => r,
        Ok(None) => return error_page(state, ApiError::NotFound("feedback item")),
        Err(e) => return error_page(state, e.into()),
    };
    let can_reveal = p.can(DataClass::Contact, Action::View);
    // Without a deliberate click, nothing sealed is opened (and nothing
    // audited). Roles without contact:view see the masked form on the click.
    let (contact, consent_text, raw_text) = if reveal {
        match view(state, p, &row).await {
            Ok(v) => (v.contact, v.consent_text, v.raw_text),
            Err(e) => return error_page(state, e),
        }
    } else {
        (None, None, None)
    };
    page(
        state,
        p,
        "/feedback",
        "feedback_item.html",
        context! {
            item => item(&row), contact, consent_text, raw_text,
            can_reveal => can_reveal || row.contact_sealed.is_some(),
        },
    )
}

async fn show(State(state): State<AppState>, Auth(p): Auth, Path(id): Path<String>) -> Response {
    item_page(&state, &p, &id, false).await
}

async fn reveal(State(state): State<AppState>, Auth(p): Auth, Path(id): Path<String>) -> Response {
    item_page(&state, &p, &id, true).await
}

#[derive(Deserialize, Default)]
struct Notice {
    notice: Option<String>,
}

async fn surveys(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(n): ApiQuery<Notice>,
) -> Response {
    match state.store.list_surveys().await {
        Ok(surveys) => page(
            &state,
            &p,
            "/surveys",
            "surveys.html",
            context! { surveys, notice => n.notice, can_store => p.can(DataClass::Feedback, Action::Store) },
        ),
        Err(e) => error_page(&state, e.into()),
    }
}

fn languages() -> Vec<minijinja::Value> {
    LANGUAGES
        .iter()
        .map(|(code, name)| context! { code, name })
        .collect()
}

async fn new_survey(State(state): State<AppState>, Auth(p): Auth) -> Response {
    let kinds: Vec<&str> = ["nps", "csat", "ces", "scale", "comment"].to_vec();
    page(
        &state,
        &p,
        "/surveys",
        "survey_new.html",
        context! { languages => languages(), kinds },
    )
}

/// The builder's flat form: `languages` repeated, `title_<lang>`,
/// `q<n>_kind`, `q<n>_required`, `q<n>_<lang>`, policy checkboxes.
#[derive(Deserialize)]
struct BuilderForm {
    slug: String,
    #[serde(default)]
    languages: Vec<String>,
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

fn definition_from(form: &BuilderForm) -> Result<SurveyDefinition, ApiError> {
    let text = |key: String| {
        form.rest
            .get(&key)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let per_language = |prefix: &str| -> BTreeMap<String, String> {
        form.languages
            .iter()
            .filter_map(|l| text(format!("{prefix}{l}")).map(|t| (l.clone(), t)))
            .collect()
    };
    let mut questions = Vec::new();
    for n in 1..=4 {
        let Some(kind) = text(format!("q{n}_kind")) else {
            continue;
        };
        questions.push(Question {
            id: format!("q{n}"),
            kind,
            prompt: per_language(&format!("q{n}_")),
            required: form
                .rest
                .get(&format!("q{n}_required"))
                .is_some_and(|v| v == "yes"),
        });
    }
    let flag = |k: &str| form.rest.get(k).is_some_and(|v| v == "yes");
    let def = SurveyDefinition {
        languages: form.languages.clone(),
        title: per_language("title_"),
        intro: BTreeMap::new(),
        questions,
        policy: SurveyPolicy {
            keep_raw_text: flag("keep_raw_text"),
            collect_client_info: flag("collect_client_info"),
            single_use: flag("single_use"),
            ask_contact: flag("ask_contact"),
            component: text("component".into()),
            journey_stage: text("journey_stage".into()),
            touchpoint: None,
            phone_region: None,
        },
    };
    Ok(def.validate()?)
}

async fn create_survey(
    State(state): State<AppState>,
    Auth(p): Auth,
    Form(form): Form<BuilderForm>,
) -> Response {
    let result = async {
        let slug = parse_slug(form.slug.trim())?;
        let def = definition_from(&form)?;
        Ok::<_, ApiError>(
            state
                .store
                .create_survey(
                    &slug,
                    &def,
                    p.audit("survey.create", DataClass::Feedback, None),
                )
                .await?,
        )
    }
    .await;
    match result {
        Ok(s) => Redirect::to(&format!(
            "/surveys/{}?notice={}",
            s.id,
            url::form_urlencoded::byte_serialize(phrase("Survey created.").as_bytes())
                .collect::<String>()
        ))
        .into_response(),
        Err(e) => error_page(&state, e),
    }
}

async fn survey(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiQuery(n): ApiQuery<Notice>,
) -> Response {
    let result = async {
        let survey = state
            .store
            .survey(&id)
            .await?
            .ok_or(ApiError::NotFound("survey"))?;
        let results = state.store.survey_results(&survey).await?;
        Ok::<_, ApiError>((survey, results))
    }
    .await;
    match result {
        Ok((survey, results)) => {
            let lang = survey
                .definition
                .languages
                .first()
                .cloned()
                .unwrap_or_default();
            let prompts: BTreeMap<String, String> = survey
                .definition
                .questions
                .iter()
                .map(|q| {
                    (
                        q.id.clone(),
                        q.prompt.get(&lang).cloned().unwrap_or_default(),
                    )
                })
                .collect();
            page(
                &state,
                &p,
                "/surveys",
                "survey.html",
                context! { survey, results, prompts, notice => n.notice },
            )
        }
        Err(e) => error_page(&state, e),
    }
}
