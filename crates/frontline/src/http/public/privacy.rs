//! `/privacy`: the privacy notice, generated from the live configuration,
//! surveys and roles, so it changes when they change.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::Deserialize;

use super::i18n;
use crate::domain::{Action, DataClass};
use crate::http::dashboard::render;
use crate::http::error::ApiError;
use crate::http::AppState;

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

pub async fn notice(State(state): State<AppState>, Query(q): Query<LangQuery>) -> Response {
    match build(&state, q.lang.as_deref().unwrap_or("en")).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn build(state: &AppState, lang: &str) -> Result<Response, ApiError> {
    let surveys = state.store.list_surveys().await?;
    let roles = state.store.list_roles().await?;
    let r = &state.config.retention;
    let kinds: Vec<&str> = frontline_pii::EntityKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    let surveys: Vec<_> = surveys
        .iter()
        .filter(|s| s.active)
        .map(|s| {
            let p = &s.definition.policy;
            context! {
                title => s.title, slug => s.slug,
                keeps_raw => p.keep_raw_text, client_info => p.collect_client_info,
                asks_contact => p.ask_contact,
            }
        })
        .collect();
    let who = |class: DataClass| -> Vec<String> {
        roles
            .iter()
            .filter(|role| {
                role.grants
                    .contains(&crate::domain::Grant::new(class, Action::View))
            })
            .map(|role| role.name.clone())
            .collect()
    };
    let access = vec![
        context! { class => "contact", what => DataClass::Contact.describe(), roles => who(DataClass::Contact) },
        context! { class => "raw_text", what => DataClass::RawText.describe(), roles => who(DataClass::RawText) },
        context! { class => "feedback", what => DataClass::Feedback.describe(), roles => who(DataClass::Feedback) },
        context! { class => "reports", what => DataClass::Reports.describe(), roles => who(DataClass::Reports) },
    ];
    let lang = if i18n::LANGUAGES.iter().any(|(c, _)| *c == lang) {
        lang
    } else {
        "en"
    };
    Ok(render(
        state,
        "privacy.html",
        context! {
            lang, dir => i18n::dir(lang), t => i18n::phrases(lang),
            site => state.config.http.public_url,
            kinds, surveys, access,
            retention => context! {
                raw_text => r.raw_text_days, contact => r.contact_days, feedback => r.feedback_days,
                purge_every => r.purge_every_minutes,
            },
            generated => chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        },
    ))
}
