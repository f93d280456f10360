//! Hosted survey forms at `/f/{slug}`: no JavaScript, no cookies, in the
//! customer's language. Loading a form stores nothing (mail scanners follow
//! links); only an explicit submit counts.

use std::collections::HashMap;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use minijinja::context;
use serde::Serialize;

use super::i18n::{self, t};
use crate::domain::feedback::{Channel, FeedbackKind};
use crate::domain::survey::{Question, SurveyDefinition};
use crate::domain::{id::Kind, DataClass, Id};
use crate::http::dashboard::render;
use crate::http::AppState;
use crate::intake::{ConsentInput, ContactInput, FeedbackInput, Policy};
use crate::storage::feedback::LinkClaim;
use crate::storage::surveys::Survey;
use crate::storage::{AuditRecord, StoreError};

type Fields = HashMap<String, String>;

fn message(
    state: &AppState,
    lang: &str,
    status: StatusCode,
    heading: &str,
    body: &str,
) -> Response {
    let mut resp = render(
        state,
        "public_message.html",
        context! { lang, dir => i18n::dir(lang), heading, body },
    );
    *resp.status_mut() = status;
    no_store(resp)
}

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    resp
}

#[derive(Serialize)]
struct QuestionView {
    id: String,
    kind: String,
    prompt: String,
    required: bool,
    values: Vec<u8>,
    low: &'static str,
    high: &'static str,
    value: String,
    error: Option<&'static str>,
}

fn question_view(
    q: &Question,
    lang: &str,
    def: &SurveyDefinition,
    fields: &Fields,
    error: Option<&'static str>,
) -> QuestionView {
    let kind = FeedbackKind::parse(&q.kind).unwrap_or(FeedbackKind::Comment);
    let (values, low, high) = match kind.range() {
        Some((lo, hi)) => {
            let (l, h) = match kind {
                FeedbackKind::Nps => ("nps_low", "nps_high"),
                FeedbackKind::Csat => ("csat_low", "csat_high"),
                FeedbackKind::Ces => ("ces_low", "ces_high"),
                _ => ("scale_low", "scale_high"),
            };
            ((lo..=hi).collect(), t(lang, l), t(lang, h))
        }
        None => (Vec::new(), "", ""),
    };
    let default = def.languages.first().map(String::as_str).unwrap_or("en");
    QuestionView {
        id: q.id.clone(),
        kind: q.kind.clone(),
        prompt: q
            .prompt
            .get(lang)
            .or_else(|| q.prompt.get(default))
            .cloned()
            .unwrap_or_default(),
        required: q.required,
        values,
        low,
        high,
        value: fields.get(&q.id).cloned().unwrap_or_default(),
        error,
    }
}

/// What the customer sent and what is wrong with it, to show the form again.
#[derive(Default)]
struct Answers<'a> {
    token: Option<&'a str>,
    fields: Option<&'a Fields>,
    errors: HashMap<String, &'static str>,
    contact_error: Option<&'static str>,
}

fn render_form(
    state: &AppState,
    survey: &Survey,
    lang: &str,
    answers: &Answers<'_>,
    status: StatusCode,
) -> Response {
    let empty = Fields::new();
    let fields = answers.fields.unwrap_or(&empty);
    let (token, errors, contact_error) = (answers.token, &answers.errors, answers.contact_error);
    let def = &survey.definition;
    let default = def.languages.first().map(String::as_str).unwrap_or("en");
    let pick =
        |m: &crate::domain::survey::Localised| m.get(lang).or_else(|| m.get(default)).cloned();
    let questions: Vec<_> = def
        .questions
        .iter()
        .map(|q| question_view(q, lang, def, fields, errors.get(&q.id).copied()))
        .collect();
    let languages: Vec<_> = def
        .languages
        .iter()
        .map(|code| {
            let name = i18n::LANGUAGES
                .iter()
                .find(|(c, _)| c == code)
                .map_or(code.as_str(), |(_, n)| n);
            context! { code, name }
        })
        .collect();
    let field = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let mut resp = render(
        state,
        "form.html",
        context! {
            lang, dir => i18n::dir(lang), slug => survey.slug, token,
            title => pick(&def.title), intro => pick(&def.intro),
            questions, languages, t => i18n::phrases(lang),
            errors => !errors.is_empty() || contact_error.is_some(),
            ask_contact => def.policy.ask_contact, contact_error,
            contact => context! {
                consent => fields.get("consent").is_some_and(|v| v == "yes"),
                name => field("contact_name"), email => field("contact_email"), phone => field("contact_phone"),
            },
        },
    );
    *resp.status_mut() = status;
    no_store(resp)
}

async fn find(state: &AppState, slug: &str, lang: &str) -> Result<Survey, Response> {
    match state.store.survey_by_slug(slug).await {
        Ok(Some(s)) if s.active => Ok(s),
        Ok(Some(s)) => {
            let lang = s.definition.pick_language(Some(lang)).to_owned();
            Err(message(
                state,
                &lang,
                StatusCode::GONE,
                t(&lang, "closed"),
                "",
            ))
        }
        Ok(None) => Err(message(
            state,
            lang,
            StatusCode::NOT_FOUND,
            t(lang, "not_found"),
            "",
        )),
        Err(e) => Err(crate::http::error::ApiError::from(e).into_response()),
    }
}

/// Shows the form. Query parameters may preselect answers (`?q1=9`), as
/// links in invitation emails do; nothing is stored until submit.
pub async fn show(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(query): Query<Fields>,
) -> Response {
    let asked = query.get("lang").map(String::as_str).unwrap_or("en");
    let survey = match find(&state, &slug, asked).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let lang = survey
        .definition
        .pick_language(query.get("lang").map(String::as_str))
        .to_owned();
    let token = query.get("t").map(String::as_str);
    if survey.definition.policy.single_use {
        match token {
            Some(tok) => match state.store.survey_link_open(&survey.id, tok).await {
                Ok(true) => {}
                Ok(false) => {
                    return message(
                        &state,
                        &lang,
                        StatusCode::FORBIDDEN,
                        t(&lang, "link_invalid"),
                        "",
                    )
                }
                Err(e) => return crate::http::error::ApiError::from(e).into_response(),
            },
            None => {
                return message(
                    &state,
                    &lang,
                    StatusCode::FORBIDDEN,
                    t(&lang, "link_invalid"),
                    "",
                )
            }
        }
    }
    render_form(
        &state,
        &survey,
        &lang,
        &Answers {
            token,
            fields: Some(&query),
            ..Default::default()
        },
        StatusCode::OK,
    )
}

pub async fn submit(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Response {
    let asked = fields.get("lang").map(String::as_str).unwrap_or("en");
    let survey = match find(&state, &slug, asked).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let def = &survey.definition;
    let lang = def
        .pick_language(fields.get("lang").map(String::as_str))
        .to_owned();
    if state.public_throttle.check_key(&peer.ip()).is_err() {
        let mut resp = message(
            &state,
            &lang,
            StatusCode::TOO_MANY_REQUESTS,
            t(&lang, "too_many"),
            "",
        );
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
        return resp;
    }
    // Bots fill every field; people never see this one. Say thanks, keep nothing.
    if fields.get("website").is_some_and(|v| !v.trim().is_empty()) {
        tracing::info!(survey = %survey.id, "honeypot submission dropped");
        return message(
            &state,
            &lang,
            StatusCode::OK,
            t(&lang, "thanks_title"),
            t(&lang, "thanks_body"),
        );
    }
    let token = fields.get("t").cloned().filter(|t| !t.is_empty());
    if def.policy.single_use && token.is_none() {
        return message(
            &state,
            &lang,
            StatusCode::FORBIDDEN,
            t(&lang, "link_invalid"),
            "",
        );
    }

    let mut errors: HashMap<String, &'static str> = HashMap::new();
    let mut inputs = Vec::new();
    for q in &def.questions {
        let value = fields
            .get(&q.id)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty());
        let kind = FeedbackKind::parse(&q.kind).unwrap_or(FeedbackKind::Comment);
        match (value, kind.range()) {
            (None, _) if q.required => {
                errors.insert(q.id.clone(), t(&lang, "answer_required"));
            }
            (None, _) => {}
            (Some(v), Some((lo, hi))) => match v.parse::<i64>() {
                Ok(n) if (i64::from(lo)..=i64::from(hi)).contains(&n) => inputs.push((
                    q.id.clone(),
                    FeedbackInput {
                        kind: q.kind.clone(),
                        score: Some(n),
                        language: Some(lang.clone()),
                        ..Default::default()
                    },
                )),
                _ => {
                    errors.insert(q.id.clone(), t(&lang, "answer_invalid"));
                }
            },
            (Some(v), None) => inputs.push((
                q.id.clone(),
                FeedbackInput {
                    kind: "comment".into(),
                    text: Some(
                        v.chars()
                            .take(crate::domain::feedback::MAX_TEXT_CHARS)
                            .collect(),
                    ),
                    ..Default::default()
                },
            )),
        }
    }
    if errors.is_empty() && inputs.is_empty() {
        if let Some(q) = def.questions.first() {
            errors.insert(q.id.clone(), t(&lang, "answer_none"));
        }
    }
    let field = |k: &str| {
        fields
            .get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let (contact_email, contact_phone, contact_name) = (
        field("contact_email"),
        field("contact_phone"),
        field("contact_name"),
    );
    let consented = fields.get("consent").is_some_and(|v| v == "yes");
    let wants_contact =
        def.policy.ask_contact && (contact_email.is_some() || contact_phone.is_some());
    let mut contact_error = None;
    if wants_contact && !consented {
        contact_error = Some(t(&lang, "contact_needs_consent"));
    }
    if !errors.is_empty() || contact_error.is_some() {
        let answers = Answers {
            token: token.as_deref(),
            fields: Some(&fields),
            errors,
            contact_error,
        };
        return render_form(
            &state,
            &survey,
            &lang,
            &answers,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }

    let client = def.policy.collect_client_info.then(|| {
        (
            Some(super::truncate_ip(peer.ip())),
            headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(super::truncate_user_agent),
        )
    });
    let policy = Policy {
        default_channel: Channel::Web,
        keep_raw_text: def.policy.keep_raw_text,
        phone_region: def
            .policy
            .phone_region
            .clone()
            .unwrap_or_else(|| "US".into()),
        survey_id: Some(survey.id.clone()),
        submission_id: Some(Id::new(Kind::Submission).to_string()),
        client,
    };
    let mut items = Vec::with_capacity(inputs.len());
    for (question, mut input) in inputs {
        input.component = def.policy.component.clone();
        input.journey_stage = def.policy.journey_stage.clone();
        input.touchpoint = def.policy.touchpoint.clone();
        if wants_contact {
            input.contact = Some(ContactInput {
                name: contact_name.clone(),
                email: contact_email.clone(),
                phone: contact_phone.clone(),
            });
            input.consent = Some(ConsentInput {
                given: true,
                text: t(&lang, "contact_consent").to_owned(),
            });
        }
        match state
            .intake
            .preparer
            .prepare(input, &policy, Some(question.clone()))
        {
            Ok(item) => items.push(item),
            Err(e) => {
                let msg = if e.to_string().starts_with("contact") {
                    contact_error = Some(t(&lang, "contact_invalid"));
                    None
                } else {
                    Some(t(&lang, "answer_invalid"))
                };
                if let Some(m) = msg {
                    errors.insert(question, m);
                }
            }
        }
    }
    if !errors.is_empty() || contact_error.is_some() {
        let answers = Answers {
            token: token.as_deref(),
            fields: Some(&fields),
            errors,
            contact_error,
        };
        return render_form(
            &state,
            &survey,
            &lang,
            &answers,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let audit = AuditRecord {
        actor: "public".into(),
        address: None,
        action: "feedback.store".into(),
        class: DataClass::Feedback,
        record: None,
        detail: serde_json::json!({}),
    };
    let claim = token.map(|token| LinkClaim {
        survey_id: survey.id.clone(),
        token,
    });
    let count = items.len();
    match state.intake.submit_claiming(items, audit, claim).await {
        Ok(_) => {
            state.events.publish(
                "feedback.received",
                DataClass::Feedback,
                serde_json::json!({ "survey": survey.id, "count": count }),
            );
            message(
                &state,
                &lang,
                StatusCode::OK,
                t(&lang, "thanks_title"),
                t(&lang, "thanks_body"),
            )
        }
        Err(StoreError::Conflict(_)) => message(
            &state,
            &lang,
            StatusCode::CONFLICT,
            t(&lang, "link_used"),
            "",
        ),
        Err(e) => crate::http::error::ApiError::from(e).into_response(),
    }
}
