//! The lexicon analysis runs on: see it, add or change terms, take built-in
//! ones out, and try a text against it.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::domain::{Action, DataClass, DomainError, Grant};
use crate::http::error::{ApiError, ApiJson, ApiQuery};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::lexicon::{parse_role, CustomTerm, Term};
use crate::storage::StoreError;

const VIEW: Need = Need::Grant(Grant::new(DataClass::Settings, Action::View));
const MODIFY: Need = Need::Grant(Grant::new(DataClass::Settings, Action::Modify));

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/api/v1/lexicon", VIEW, list)
            .doc(
                "lexicon",
                "The lexicon in use, built-in and custom terms; ?lang=en|zh|fa|gu|..",
            )
            .response::<LexiconView>(),
        Route::new(Method::PUT, "/api/v1/lexicon/terms", MODIFY, put)
            .doc(
                "lexicon",
                "Add or change a term (replaces the built-in entries for its language and term); role `removed` takes a built-in term out",
            )
            .request::<TermInput>()
            .response::<CustomTerm>(),
        Route::new(
            Method::DELETE,
            "/api/v1/lexicon/terms/{lang}/{term}",
            MODIFY,
            reset,
        )
        .doc(
            "lexicon",
            "Forget the custom word on a term: the built-in entries apply again",
        ),
        Route::new(Method::POST, "/api/v1/lexicon/try", VIEW, try_text)
            .doc(
                "lexicon",
                "Analyse a text with the lexicon in use; nothing is stored",
            )
            .request::<TryInput>()
            .response::<TryResult>(),
    ]
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LexiconView {
    pub terms: Vec<Term>,
    pub custom: usize,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    lang: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<LexiconView>, ApiError> {
    let custom = state.store.custom_terms().await?;
    let terms = crate::lexicon::entries(&custom, q.lang.as_deref());
    Ok(Json(LexiconView {
        custom: terms.iter().filter(|t| t.source == "custom").count(),
        terms,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermInput {
    /// ISO 639-1 language code (two letters).
    pub lang: String,
    /// 1-80 characters; a trailing `*` matches a word prefix, `$` a whole word.
    pub term: String,
    /// A topic name, `sentiment`, `negator`, `intensifier`, or `removed`.
    pub role: String,
    /// Topic evidence (above 0, at most 10), sentiment valence (-5 to 5) or
    /// intensifier factor (0.1 to 5); ignored for negators and removals.
    #[serde(default)]
    pub weight: Option<f64>,
}

fn parse_term(body: TermInput) -> Result<CustomTerm, DomainError> {
    let lang = body.lang.trim().to_ascii_lowercase();
    if lang.len() != 2 || !lang.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(DomainError::invalid(
            "lang",
            "a two-letter ISO 639-1 code, such as en, zh, fa or gu",
        ));
    }
    let term = body.term.trim().to_owned();
    let chars = term.trim_end_matches(['*', '$']).chars().count();
    if chars == 0 || term.chars().count() > 80 || term.contains(['|', '\n', '\r']) {
        return Err(DomainError::invalid(
            "term",
            "1-80 characters on one line, without |",
        ));
    }
    let weight = match body.role.as_str() {
        "negator" | "removed" => body.weight.unwrap_or(1.0),
        _ => body
            .weight
            .ok_or(DomainError::invalid("weight", "this role needs a weight"))?,
    };
    parse_role(&body.role, weight)?;
    Ok(CustomTerm {
        lang,
        term,
        role: body.role,
        weight,
        updated_at: String::new(),
    })
}

async fn put(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<TermInput>,
) -> Result<Json<CustomTerm>, ApiError> {
    let term = parse_term(body)?;
    // The whole lexicon must still build before the term is stored.
    let mut custom = state.store.custom_terms().await?;
    custom.retain(|c| !(c.lang == term.lang && c.term == term.term));
    custom.push(term.clone());
    frontline_detect::Analyzer::new(&crate::lexicon::effective(&custom)).map_err(|e| {
        ApiError::Unprocessable {
            code: "invalid_lexicon",
            detail: e.to_string(),
        }
    })?;
    state
        .store
        .put_term(&term, p.audit("lexicon", DataClass::Settings, None))
        .await?;
    let lexicons = state.intake.preparer.lexicons();
    lexicons.refresh(&state.store).await?;
    let stored = state
        .store
        .custom_terms()
        .await?
        .into_iter()
        .find(|c| c.lang == term.lang && c.term == term.term)
        .ok_or(ApiError::NotFound("term"))?;
    Ok(Json(stored))
}

async fn reset(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path((lang, term)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .reset_term(&lang, &term, p.audit("lexicon", DataClass::Settings, None))
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::NotFound("custom term"),
            e => e.into(),
        })?;
    state
        .intake
        .preparer
        .lexicons()
        .refresh(&state.store)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TryInput {
    /// At most 10,000 characters.
    pub text: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TryResult {
    pub language: String,
    pub topic: String,
    /// Every topic with evidence, and its score.
    pub topics: Vec<(String, f32)>,
    pub sentiment: f32,
    /// Indicators found (defanged).
    pub indicators: Vec<String>,
}

async fn try_text(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<TryInput>,
) -> Result<Json<TryResult>, ApiError> {
    if body.text.trim().is_empty() || body.text.chars().count() > 10_000 {
        return Err(DomainError::invalid("text", "1-10,000 characters").into());
    }
    let a = state
        .intake
        .preparer
        .lexicons()
        .analyzer()
        .analyze(&body.text);
    Ok(Json(TryResult {
        language: a.language.code.to_string(),
        topic: a.topic.as_str().to_owned(),
        topics: a
            .topics
            .iter()
            .map(|t| (t.topic.as_str().to_owned(), t.score))
            .collect(),
        sentiment: a.sentiment,
        indicators: a
            .indicators
            .found
            .iter()
            .map(|i| i.defanged.clone())
            .collect(),
    }))
}
