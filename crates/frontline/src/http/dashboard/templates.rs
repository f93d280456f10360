//! Notice templates: the list, and one template's texts per language as a
//! form (subject, body and SMS for English, Chinese, Persian and Gujarati).
//! Saving checks it as the API does (it compiles, uses only known names,
//! renders with sample fields); a mistake shows the form again with what
//! was typed and the error naming language, part and line.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum_extra::extract::Form;
use minijinja::context;
use serde::Deserialize;

use super::i18n::phrase;
use super::{error_page, page, page_with_status, redirect_with_notice};
use crate::domain::incident::IncidentStatus;
use crate::domain::response::{TemplateText, NOTICE_LANGUAGES};
use crate::domain::{Action, DataClass, Grant};
use crate::http::api::playbooks::{save_template, TemplateBody};
use crate::http::error::{ApiError, ApiQuery};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;

const fn notices(action: Action) -> Need {
    Need::Grant(Grant::new(DataClass::Notices, action))
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/templates", notices(Action::View), list),
        Route::new(
            Method::GET,
            "/templates/{slug}",
            notices(Action::View),
            show,
        ),
        Route::new(
            Method::POST,
            "/templates/{slug}",
            notices(Action::Modify),
            save,
        ),
    ]
}

#[derive(Deserialize, Default)]
struct Notice {
    notice: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(n): ApiQuery<Notice>,
) -> Response {
    match state.store.list_templates().await {
        Ok(templates) => page(
            &state,
            &p,
            "/incidents",
            "templates.html",
            context! {
                templates,
                notice => n.notice,
                can_modify => p.can(DataClass::Notices, Action::Modify),
            },
        ),
        Err(e) => error_page(&state, e.into()),
    }
}

fn statuses() -> Vec<&'static str> {
    IncidentStatus::ALL.iter().map(|s| s.as_str()).collect()
}

fn languages() -> Vec<minijinja::Value> {
    NOTICE_LANGUAGES
        .iter()
        .map(|(code, dir)| {
            let name = crate::http::public::i18n::LANGUAGES
                .iter()
                .find(|(c, _)| c == code)
                .map_or(*code, |(_, n)| *n);
            context! { code, dir, name }
        })
        .collect()
}

/// The edit form: `new` for a template yet to be written.
async fn show(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(slug): Path<String>,
    ApiQuery(n): ApiQuery<Notice>,
) -> Response {
    let found = if slug == "new" {
        Ok(None)
    } else {
        state.store.template(&slug).await
    };
    match found {
        Ok(None) if slug != "new" => error_page(&state, ApiError::NotFound("notice template")),
        Ok(t) => {
            let (name, status, texts, builtin) = match &t {
                Some(t) => (
                    t.name.clone(),
                    t.status.as_str(),
                    t.texts.clone(),
                    t.builtin,
                ),
                None => (String::new(), "investigating", BTreeMap::new(), false),
            };
            form_page(
                &state,
                &p,
                StatusCode::OK,
                context! {
                    slug => if t.is_some() { slug.clone() } else { String::new() },
                    name, status, texts, builtin,
                    error => None::<String>,
                    notice => n.notice,
                },
            )
        }
        Err(e) => error_page(&state, e.into()),
    }
}

fn form_page(
    state: &AppState,
    p: &crate::auth::Principal,
    code: StatusCode,
    ctx: minijinja::Value,
) -> Response {
    page_with_status(
        state,
        p,
        code,
        "/incidents",
        "template.html",
        context! {
            names => crate::response::notices::template_names().collect::<Vec<_>>(),
            statuses => statuses(),
            languages => languages(),
            can_modify => p.can(DataClass::Notices, Action::Modify),
            ..ctx
        },
    )
}

/// The form's fields: `slug` (for a new one), `name`, `status`, and
/// `<lang>_subject`, `<lang>_body`, `<lang>_sms` per language; a language
/// left empty is not part of the template.
async fn save(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(slug): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let slug = if slug == "new" {
        get("slug").trim().to_owned()
    } else {
        slug
    };
    let mut texts = BTreeMap::new();
    for (lang, _) in NOTICE_LANGUAGES {
        let t = TemplateText {
            subject: get(&format!("{lang}_subject")),
            body: get(&format!("{lang}_body")),
            sms: get(&format!("{lang}_sms")),
        };
        if !(t.subject.trim().is_empty() && t.body.trim().is_empty() && t.sms.trim().is_empty()) {
            texts.insert((*lang).to_owned(), t);
        }
    }
    let body = TemplateBody {
        name: get("name"),
        status: get("status"),
        texts: texts.clone(),
    };
    match save_template(&state, &p, &slug, body).await {
        Ok(t) => redirect_with_notice(&format!("/templates/{}", t.slug), phrase("Template saved.")),
        // The form again, with what was typed and what is wrong.
        Err(ApiError::BadRequest { detail, .. }) => {
            let builtin = state
                .store
                .template(&slug)
                .await
                .ok()
                .flatten()
                .is_some_and(|t| t.builtin);
            form_page(
                &state,
                &p,
                StatusCode::BAD_REQUEST,
                context! {
                    slug => slug.clone(),
                    name => get("name"),
                    status => get("status"),
                    texts, builtin,
                    error => Some(detail),
                },
            )
        }
        Err(e) => error_page(&state, e),
    }
}
