//! Feedback over the API: one item, a batch (JSON array or NDJSON), listing
//! with filters and a cursor, and one item with its sealed parts for those
//! allowed to see them.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::auth::Principal;
use crate::domain::user::mask_email;
use crate::domain::{Action, DataClass, Grant};
use crate::http::error::{from_json_value, ApiError, ApiJson, ApiQuery};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::intake::{FeedbackInput, Policy};
use crate::storage::feedback::{FeedbackFilter, FeedbackRow, Stored};
use crate::storage::users::rfc3339;

const VIEW: Need = Need::Grant(Grant::new(DataClass::Feedback, Action::View));
const STORE: Need = Need::Grant(Grant::new(DataClass::Feedback, Action::Store));

/// The most items one batch may carry.
pub const MAX_BATCH: usize = 10_000;

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::POST, "/api/v1/feedback", STORE, create)
            .doc(
                "feedback",
                "Submit one feedback item (redacted, contact sealed)",
            )
            .request::<FeedbackInput>()
            .response::<Stored>(),
        Route::new(Method::POST, "/api/v1/feedback/batch", STORE, batch)
            .doc(
                "feedback",
                "Submit up to 10,000 items as a JSON array or NDJSON; a result per item",
            )
            .body_limit(64 * 1024 * 1024)
            .response::<BatchResult>(),
        Route::new(Method::GET, "/api/v1/feedback", VIEW, list)
            .doc(
                "feedback",
                "List feedback, newest first, with filters and a cursor",
            )
            .response::<FeedbackPage>(),
        Route::new(Method::GET, "/api/v1/feedback/{id}", VIEW, get_one)
            .doc(
                "feedback",
                "One item; its contact shown to contact:view (audited), masked otherwise",
            )
            .response::<FeedbackView>(),
    ]
}

async fn create(
    State(state): State<AppState>,
    Auth(p): Auth,
    headers: HeaderMap,
    ApiJson(mut input): ApiJson<FeedbackInput>,
) -> Result<(StatusCode, Json<Stored>), ApiError> {
    if input.idempotency_key.is_none() {
        input.idempotency_key = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
    }
    let item = state
        .intake
        .preparer
        .prepare(input, &Policy::default(), None)?;
    let mut stored = state
        .intake
        .submit(
            vec![item],
            p.audit("feedback.store", DataClass::Feedback, None),
        )
        .await?;
    let stored = stored.remove(0);
    let status = match stored {
        Stored::Created { .. } => StatusCode::CREATED,
        Stored::Duplicate { .. } => StatusCode::OK,
    };
    if let Stored::Created { id } = &stored {
        state.events.publish(
            "feedback.received",
            DataClass::Feedback,
            serde_json::json!({ "id": id, "count": 1 }),
        );
    }
    Ok((status, Json(stored)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ItemResult {
    /// Position in the submitted batch (0-based).
    pub index: usize,
    /// created, duplicate or rejected.
    pub status: &'static str,
    pub id: Option<String>,
    pub code: Option<&'static str>,
    pub detail: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BatchResult {
    pub created: usize,
    pub duplicates: usize,
    pub rejected: usize,
    pub results: Vec<ItemResult>,
}

/// Good items are stored together; bad ones are reported by position and
/// nothing of them is stored.
async fn batch(
    State(state): State<AppState>,
    Auth(p): Auth,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<BatchResult>, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    let raw: Vec<Result<serde_json::Value, String>> = match ct.as_str() {
        "application/json" => match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(serde_json::Value::Array(items)) => items.into_iter().map(Ok).collect(),
            Ok(_) => return Err(ApiError::bad_request("send a JSON array of items")),
            Err(_) => return Err(ApiError::bad_request("malformed JSON body")),
        },
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" => body
            .split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .map(|l| serde_json::from_slice(l).map_err(|_| "malformed JSON line".to_owned()))
            .collect(),
        _ => return Err(ApiError::UnsupportedMediaType),
    };
    if raw.is_empty() {
        return Err(ApiError::bad_request("the batch is empty"));
    }
    if raw.len() > MAX_BATCH {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_BATCH} items per batch (got {}); split it",
            raw.len()
        )));
    }
    let preparer = state.intake.preparer.clone();
    // Parsing and redaction are CPU work: keep them off the async workers.
    let prepared = tokio::task::spawn_blocking(move || {
        let policy = Policy::default();
        raw.into_iter()
            .map(|r| {
                let value = r.map_err(|e| ApiError::BadRequest {
                    code: "invalid_body",
                    detail: e,
                })?;
                let input: FeedbackInput = from_json_value(value)?;
                preparer
                    .prepare(input, &policy, None)
                    .map_err(ApiError::from)
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(anyhow::Error::from)?;
    let mut results: Vec<ItemResult> = Vec::with_capacity(prepared.len());
    let mut good = Vec::new();
    let mut good_index = Vec::new();
    for (index, r) in prepared.into_iter().enumerate() {
        match r {
            Ok(item) => {
                good_index.push(index);
                good.push(item);
                results.push(ItemResult {
                    index,
                    status: "created",
                    id: None,
                    code: None,
                    detail: None,
                });
            }
            Err(e) => results.push(ItemResult {
                index,
                status: "rejected",
                id: None,
                code: Some(e.code()),
                detail: Some(e.to_string()),
            }),
        }
    }
    if !good.is_empty() {
        let stored = state
            .intake
            .submit(good, p.audit("feedback.store", DataClass::Feedback, None))
            .await?;
        for (index, s) in good_index.into_iter().zip(stored) {
            let r = &mut results[index];
            if let Stored::Duplicate { .. } = s {
                r.status = "duplicate";
            }
            r.id = Some(s.id().to_owned());
        }
    }
    let count = |s: &str| results.iter().filter(|r| r.status == s).count();
    let out = BatchResult {
        created: count("created"),
        duplicates: count("duplicate"),
        rejected: count("rejected"),
        results,
    };
    if out.created > 0 {
        state.events.publish(
            "feedback.received",
            DataClass::Feedback,
            serde_json::json!({ "count": out.created }),
        );
    }
    Ok(Json(out))
}

/// The list filters, shared with the dashboard's explorer.
#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    pub kind: Option<String>,
    pub channel: Option<String>,
    pub component: Option<String>,
    pub region: Option<String>,
    pub segment: Option<String>,
    pub language: Option<String>,
    pub journey_stage: Option<String>,
    pub topic: Option<String>,
    pub survey: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub q: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FeedbackItem {
    pub id: String,
    pub kind: String,
    pub score: Option<i64>,
    /// Redacted: personal data replaced by [EMAIL], [PHONE], ...
    pub text: Option<String>,
    /// Kinds of personal data that were redacted.
    pub redacted: Vec<String>,
    pub language: Option<String>,
    /// account_access, phishing_scam, fraud, data_exposure, malware, outage,
    /// performance, billing or other.
    pub topic: Option<String>,
    /// -1 (angry) to 1 (delighted).
    pub sentiment: Option<f64>,
    pub channel: String,
    pub component: Option<String>,
    pub region: Option<String>,
    pub segment: Option<String>,
    pub journey_stage: Option<String>,
    pub touchpoint: Option<String>,
    pub survey_id: Option<String>,
    pub question_id: Option<String>,
    pub submission_id: Option<String>,
    pub has_contact: bool,
    pub occurred_at: String,
    pub received_at: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FeedbackPage {
    pub items: Vec<FeedbackItem>,
    /// Pass as `cursor` for the next (older) page; absent on the last.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ContactView {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// False when masked for lack of `contact:view`.
    pub full: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FeedbackView {
    #[serde(flatten)]
    pub item: FeedbackItem,
    pub contact: Option<ContactView>,
    pub consent_text: Option<String>,
    /// The unredacted original, for `raw_text:view`, where a survey kept it.
    pub raw_text: Option<String>,
    /// Indicators the customer quoted (scam links, senders), defanged.
    pub indicators: Vec<IndicatorView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct IndicatorView {
    /// url, domain, ip, email, phone, btc or eth.
    pub kind: String,
    /// Safe to show: `hxxp://example[.]com`.
    pub value: String,
}

pub(crate) fn item(r: &FeedbackRow) -> FeedbackItem {
    FeedbackItem {
        id: r.id.clone(),
        kind: r.kind.clone(),
        score: r.score,
        text: r.text.clone(),
        redacted: r
            .pii
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        language: r.language.clone(),
        topic: r.topic.clone(),
        sentiment: r.sentiment.map(|s| (s * 100.0).round() / 100.0),
        channel: r.channel.clone(),
        component: r.component.clone(),
        region: r.region.clone(),
        segment: r.segment.clone(),
        journey_stage: r.journey_stage.clone(),
        touchpoint: r.touchpoint.clone(),
        survey_id: r.survey_id.clone(),
        question_id: r.question_id.clone(),
        submission_id: r.submission_id.clone(),
        has_contact: r.contact_sealed.is_some(),
        occurred_at: rfc3339(r.occurred_at),
        received_at: rfc3339(r.received_at),
    }
}

pub(crate) fn time_param(field: &'static str, v: Option<&str>) -> Result<Option<i64>, ApiError> {
    v.map(|s| {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.timestamp_millis())
            .map_err(|_| ApiError::BadRequest {
                code: "invalid_query",
                detail: format!("{field}: must be an RFC 3339 time"),
            })
    })
    .transpose()
}

pub(crate) fn filter_from(q: &ListQuery) -> Result<FeedbackFilter, ApiError> {
    Ok(FeedbackFilter {
        kind: q.kind.clone(),
        channel: q.channel.clone(),
        component: q.component.clone(),
        region: q.region.clone(),
        segment: q.segment.clone(),
        language: q.language.clone(),
        journey_stage: q.journey_stage.clone(),
        topic: q.topic.clone(),
        survey_id: q.survey.clone(),
        since: time_param("since", q.since.as_deref())?,
        until: time_param("until", q.until.as_deref())?,
        query: q
            .q
            .as_deref()
            .map(crate::search::normalise)
            .filter(|s| !s.is_empty()),
        before: q.cursor.clone(),
        limit: q.limit.unwrap_or(50).clamp(1, 200),
    })
}

async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<FeedbackPage>, ApiError> {
    let mut filter = filter_from(&q)?;
    let limit = filter.limit;
    // One more than asked tells whether another page follows.
    filter.limit = limit + 1;
    let rows = state.store.list_feedback(&filter).await?;
    let more = rows.len() as i64 > limit;
    let items: Vec<FeedbackItem> = rows.iter().take(limit as usize).map(item).collect();
    let next_cursor = more.then(|| items.last().map(|i| i.id.clone())).flatten();
    Ok(Json(FeedbackPage { items, next_cursor }))
}

pub(crate) fn mask_phone(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    let keep = chars.len().min(3);
    format!(
        "{}***{}",
        chars[..keep].iter().collect::<String>(),
        chars[chars.len().saturating_sub(2)..]
            .iter()
            .collect::<String>()
    )
}

async fn get_one(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<FeedbackView>, ApiError> {
    let row = state
        .store
        .feedback(&id)
        .await?
        .ok_or(ApiError::NotFound("feedback item"))?;
    Ok(Json(view(&state, &p, &row).await?))
}

/// An item as this principal may see it; looks at personal data are audited.
pub(crate) async fn view(
    state: &AppState,
    p: &Principal,
    row: &FeedbackRow,
) -> Result<FeedbackView, ApiError> {
    let (contact, raw) = state.store.open_sealed(&state.intake.ring, row).await?;
    let full = p.can(DataClass::Contact, Action::View);
    let see_raw = p.can(DataClass::RawText, Action::View) && raw.is_some();
    if full && contact.is_some() {
        state
            .store
            .audit(p.audit("contact.view", DataClass::Contact, Some(row.id.clone())))
            .await?;
    }
    if see_raw {
        state
            .store
            .audit(p.audit("raw_text.view", DataClass::RawText, Some(row.id.clone())))
            .await?;
    }
    let contact = contact.map(|c| ContactView {
        name: if full {
            c.name
        } else {
            c.name.map(|_| "***".into())
        },
        email: c.email.map(|e| if full { e } else { mask_email(&e) }),
        phone: c.phone.map(|ph| if full { ph } else { mask_phone(&ph) }),
        full,
    });
    let indicators = state
        .store
        .feedback_indicators(&row.id)
        .await?
        .into_iter()
        .map(|(kind, value)| IndicatorView { kind, value })
        .collect();
    Ok(FeedbackView {
        indicators,
        item: item(row),
        contact,
        consent_text: row.consent_text.clone(),
        raw_text: if see_raw { raw } else { None },
    })
}
