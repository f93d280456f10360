//! `/api/v1/subscribers`: status page subscribers managed by staff, and an
//! incident's affected customers (imported, told directly) with the
//! per-recipient state of its notices.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::auth::Principal;
use crate::domain::{Action, DataClass, DomainError, Grant};
use crate::http::error::{ApiError, ApiJson, ApiQuery};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::notify::outbox::IncidentDeliveries;
use crate::notify::subscribers::{
    Address, AffectedCustomer, AffectedInput, AffectedView, NewSubscriber, Subscriber,
    SubscriberRefusal, STATES,
};
use crate::notify::{parse_language, Channel};
use crate::storage::StoreError;

const fn subscribers(action: Action) -> Need {
    Need::Grant(Grant::new(DataClass::Subscribers, action))
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/api/v1/subscribers",
            subscribers(Action::View),
            list,
        )
        .doc("subscribers", "Subscribers, newest first, addresses masked (?channel, ?state, ?cursor, ?limit)")
        .response_list::<Subscriber>(),
        Route::new(
            Method::POST,
            "/api/v1/subscribers",
            subscribers(Action::Store),
            create,
        )
        .doc(
            "subscribers",
            "Add a subscriber: email (confirms by link first), webhook (returns its signing secret once), slack, teams, sms",
        )
        .request::<NewSubscriberBody>()
        .response::<Subscriber>(),
        Route::new(
            Method::GET,
            "/api/v1/subscribers/{id}",
            subscribers(Action::View),
            get_one,
        )
        .doc("subscribers", "One subscriber, address masked")
        .response::<Subscriber>(),
        Route::new(
            Method::PATCH,
            "/api/v1/subscribers/{id}",
            subscribers(Action::Modify),
            change,
        )
        .doc("subscribers", "Change language, components or state (active, unsubscribed, disabled)")
        .request::<ChangeSubscriberBody>()
        .response::<Subscriber>(),
        Route::new(
            Method::DELETE,
            "/api/v1/subscribers/{id}",
            subscribers(Action::Delete),
            delete,
        )
        .doc("subscribers", "Delete a subscriber; messages still queued for it are cancelled"),
        Route::new(
            Method::GET,
            "/api/v1/incidents/{id}/affected",
            subscribers(Action::View),
            list_affected,
        )
        .doc("subscribers", "An incident's affected customers, addresses masked")
        .response::<AffectedList>(),
        Route::new(
            Method::POST,
            "/api/v1/incidents/{id}/affected",
            subscribers(Action::Store),
            import_affected,
        )
        .doc(
            "subscribers",
            "Import affected customers: a JSON array or CSV (text/csv) with email and/or phone, language, name, region; sealed",
        )
        .request::<Vec<AffectedInput>>()
        .response::<ImportReport>(),
        Route::new(
            Method::POST,
            "/api/v1/incidents/{id}/affected/notify",
            subscribers(Action::Modify),
            notify_affected,
        )
        .doc(
            "subscribers",
            "Send a published update to every affected customer of the incident, each in their language (once each)",
        )
        .request::<NotifyBody>()
        .response::<NotifyReport>(),
        Route::new(
            Method::GET,
            "/api/v1/incidents/{id}/deliveries",
            Need::Grant(Grant::new(DataClass::Notices, Action::View)),
            deliveries,
        )
        .doc(
            "subscribers",
            "Per-recipient state of the incident's notices: counts per state and update, messages with masked recipients (?state, ?limit)",
        )
        .response::<IncidentDeliveries>(),
    ]
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscriberBody {
    /// email, webhook, slack, teams, sms.
    pub channel: String,
    /// The email address, URL or phone number.
    pub address: String,
    /// en (default), zh, fa, gu.
    #[serde(default)]
    pub language: Option<String>,
    /// Public component ids; absent: every component.
    #[serde(default)]
    pub components: Option<Vec<String>>,
    /// For phone numbers without a country code (default US).
    #[serde(default)]
    pub region: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeSubscriberBody {
    #[serde(default)]
    pub language: Option<String>,
    /// A list of component ids, or null for every component.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<Vec<String>>)]
    pub components: Option<Option<Vec<String>>>,
    /// active, unsubscribed or disabled.
    #[serde(default)]
    pub state: Option<String>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
}

fn refusal(e: SubscriberRefusal) -> ApiError {
    match e {
        SubscriberRefusal::UnknownComponent => {
            DomainError::invalid("components", "no such public component").into()
        }
        SubscriberRefusal::Duplicate => ApiError::Conflict(e.to_string()),
        SubscriberRefusal::Store(StoreError::NotFound) => ApiError::NotFound("subscriber"),
        SubscriberRefusal::Store(e) => e.into(),
    }
}

fn parse_components(c: Option<Vec<String>>) -> Result<Option<Vec<String>>, DomainError> {
    match c {
        Some(list) if list.len() > 200 => Err(DomainError::invalid("components", "200 at most")),
        Some(list) => Ok(Some(
            list.into_iter()
                .map(|s| s.trim().to_owned())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect(),
        )),
        None => Ok(None),
    }
}

async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<Subscriber>>, ApiError> {
    Ok(Json(list_some(&state, &q).await?))
}

/// Subscribers, newest first, addresses masked (shared with the dashboard).
pub(crate) async fn list_some(
    state: &AppState,
    q: &ListQuery,
) -> Result<Vec<Subscriber>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(DomainError::invalid("limit", "must be 1 to 500").into());
    }
    let channel = q.channel.as_deref().map(Channel::parse).transpose()?;
    if let Some(s) = q.state.as_deref() {
        if !STATES.contains(&s) {
            return Err(DomainError::invalid(
                "state",
                "must be pending, active, unsubscribed or disabled",
            )
            .into());
        }
    }
    Ok(state
        .store
        .list_subscribers(
            &state.intake.ring,
            channel,
            q.state.as_deref(),
            q.cursor.as_deref(),
            limit,
        )
        .await?)
}

async fn create(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<NewSubscriberBody>,
) -> Result<(StatusCode, Json<Subscriber>), ApiError> {
    Ok((StatusCode::CREATED, Json(add(&state, &p, body).await?)))
}

/// Adds a subscriber (shared with the dashboard).
pub(crate) async fn add(
    state: &AppState,
    p: &Principal,
    body: NewSubscriberBody,
) -> Result<Subscriber, ApiError> {
    let channel = Channel::parse(&body.channel)?;
    let address = Address::parse(channel, &body.address, body.region.as_deref())?;
    let new = NewSubscriber {
        address,
        language: parse_language(body.language.as_deref())?,
        components: parse_components(body.components)?,
        source: "staff",
    };
    let s = state
        .store
        .add_subscriber(
            &state.intake.ring,
            &new,
            p.audit("subscriber.create", DataClass::Subscribers, None),
        )
        .await
        .map_err(refusal)?;
    Ok(s)
}

async fn find(state: &AppState, id: &str) -> Result<Subscriber, ApiError> {
    state
        .store
        .subscriber(&state.intake.ring, id)
        .await?
        .ok_or(ApiError::NotFound("subscriber"))
}

async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Subscriber>, ApiError> {
    Ok(Json(find(&state, &id).await?))
}

async fn change(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ChangeSubscriberBody>,
) -> Result<Json<Subscriber>, ApiError> {
    Ok(Json(change_one(&state, &p, &id, body).await?))
}

/// Changes a subscriber's language, components or state (shared with the
/// dashboard).
pub(crate) async fn change_one(
    state: &AppState,
    p: &Principal,
    id: &str,
    body: ChangeSubscriberBody,
) -> Result<Subscriber, ApiError> {
    let current = find(state, id).await?;
    let language = body
        .language
        .as_deref()
        .map(|l| parse_language(Some(l)))
        .transpose()?;
    let components = body.components.map(parse_components).transpose()?;
    if let Some(s) = body.state.as_deref() {
        if !["active", "unsubscribed", "disabled"].contains(&s) {
            return Err(
                DomainError::invalid("state", "must be active, unsubscribed or disabled").into(),
            );
        }
        // Only the person confirms an email address.
        if s == "active" && current.channel == Channel::Email && current.confirmed_at.is_none() {
            return Err(ApiError::Conflict(
                "an email subscriber becomes active only by confirming the link sent to them"
                    .into(),
            ));
        }
    }
    if language.is_none() && components.is_none() && body.state.is_none() {
        return Err(DomainError::invalid("body", "send language, components or state").into());
    }
    state
        .store
        .change_subscriber(
            id,
            language.as_deref(),
            components.as_ref().map(|c| c.as_deref()),
            body.state.as_deref(),
            p.audit("subscriber.change", DataClass::Subscribers, None),
        )
        .await
        .map_err(refusal)?;
    find(state, id).await
}

async fn delete(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    remove(&state, &p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a subscriber (shared with the dashboard).
pub(crate) async fn remove(state: &AppState, p: &Principal, id: &str) -> Result<(), ApiError> {
    state
        .store
        .delete_subscriber(
            id,
            p.audit("subscriber.delete", DataClass::Subscribers, None),
        )
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::NotFound("subscriber"),
            e => e.into(),
        })?;
    Ok(())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AffectedList {
    pub total: i64,
    pub customers: Vec<AffectedView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// The CSV line (header is line 1) or the JSON array index.
    pub row: usize,
    pub detail: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub read: usize,
    pub added: u64,
    pub duplicates: u64,
    pub rejected: Vec<RowError>,
}

/// The most rows one import takes.
const MAX_IMPORT: usize = 100_000;

fn parse_rows(headers: &HeaderMap, body: &[u8]) -> Result<Vec<(usize, AffectedInput)>, ApiError> {
    let csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv"));
    if csv {
        return parse_csv(body);
    }
    let rows: Vec<AffectedInput> = serde_json::from_slice(body).map_err(|e| ApiError::BadRequest {
        code: "invalid_json",
        // serde's message may quote a value: give the position only.
        detail: format!(
            "send a JSON array of {{email, phone, language, name, region}} or text/csv; the JSON is not that near line {} column {}",
            e.line(),
            e.column()
        ),
    })?;
    Ok(rows.into_iter().enumerate().collect())
}

/// Affected customers as CSV with a header line (`email`, `phone`,
/// `language`, `name`, `region`; others ignored), each with its line number.
pub(crate) fn parse_csv(body: &[u8]) -> Result<Vec<(usize, AffectedInput)>, ApiError> {
    {
        let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(body);
        let names: Vec<String> = r
            .headers()
            .map_err(|_| ApiError::bad_request("the CSV has no header line"))?
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        let mut out = Vec::new();
        for (i, rec) in r.records().enumerate() {
            let rec = rec
                .map_err(|_| ApiError::bad_request(format!("CSV line {}: not readable", i + 2)))?;
            let mut input = AffectedInput::default();
            for (name, value) in names.iter().zip(rec.iter()) {
                let v = Some(value.to_owned()).filter(|v| !v.trim().is_empty());
                match name.as_str() {
                    "email" => input.email = v,
                    "phone" => input.phone = v,
                    "language" | "lang" => input.language = v,
                    "name" => input.name = v,
                    "region" => input.region = v,
                    _ => {}
                }
            }
            out.push((i + 2, input));
        }
        Ok(out)
    }
}

async fn import_affected(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ImportReport>, ApiError> {
    let incident = super::incidents::find(&state, &id).await?;
    let rows = parse_rows(&headers, &body)?;
    Ok(Json(import_rows(&state, &p, &incident.id, &rows).await?))
}

/// Imports affected customers into an incident's list (shared with the
/// dashboard's form): bad rows are reported by position, never by value.
pub(crate) async fn import_rows(
    state: &AppState,
    p: &Principal,
    incident_id: &str,
    rows: &[(usize, AffectedInput)],
) -> Result<ImportReport, ApiError> {
    if rows.len() > MAX_IMPORT {
        return Err(DomainError::invalid("body", "100000 rows at most per import").into());
    }
    let read = rows.len();
    let mut customers = Vec::with_capacity(rows.len());
    let mut rejected = Vec::new();
    for (row, input) in rows {
        match AffectedCustomer::parse(input) {
            Ok(c) => customers.push(c),
            Err(e) => rejected.push(RowError {
                row: *row,
                detail: e.to_string(),
            }),
        }
    }
    let (added, duplicates) = state
        .store
        .import_affected(
            &state.intake.ring,
            incident_id,
            &customers,
            p.audit("incident.affected.import", DataClass::Subscribers, None),
        )
        .await?;
    Ok(ImportReport {
        read,
        added,
        duplicates,
        rejected,
    })
}

async fn list_affected(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AffectedList>, ApiError> {
    let incident = super::incidents::find(&state, &id).await?;
    let (total, customers) = state
        .store
        .list_affected(&state.intake.ring, &incident.id, 500)
        .await?;
    Ok(Json(AffectedList { total, customers }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyBody {
    /// A published update of this incident.
    pub update: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NotifyReport {
    /// Messages queued now (customers already sent this update are skipped).
    pub queued: u64,
}

async fn notify_affected(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NotifyBody>,
) -> Result<(StatusCode, Json<NotifyReport>), ApiError> {
    let incident = super::incidents::find(&state, &id).await?;
    let queued = notify_update(&state, &p, &incident, body.update.trim()).await?;
    Ok((StatusCode::ACCEPTED, Json(NotifyReport { queued })))
}

/// Sends a published update to the incident's affected customers, each
/// once (shared with the dashboard). Returns the messages queued.
pub(crate) async fn notify_update(
    state: &AppState,
    p: &Principal,
    incident: &crate::storage::incidents::Incident,
    update_id: &str,
) -> Result<u64, ApiError> {
    let update = state
        .store
        .incident_update(incident, update_id)
        .await?
        .ok_or(ApiError::NotFound("update"))?;
    if update.published_at.is_none() {
        return Err(ApiError::Conflict(
            "only a published update is sent; publish it first".into(),
        ));
    }
    let queued = state
        .store
        .notify_affected(
            &incident.id,
            &update.id,
            p.audit("incident.affected.notify", DataClass::Subscribers, None),
        )
        .await?;
    Ok(queued)
}

#[derive(Deserialize)]
pub struct DeliveriesQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
}

async fn deliveries(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> Result<Json<IncidentDeliveries>, ApiError> {
    let incident = super::incidents::find(&state, &id).await?;
    let limit = q.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(DomainError::invalid("limit", "must be 1 to 1000").into());
    }
    if let Some(s) = q.state.as_deref() {
        if !crate::notify::outbox::STATES.contains(&s) {
            return Err(DomainError::invalid(
                "state",
                "must be queued, sending, sent, failed, bounced or cancelled",
            )
            .into());
        }
    }
    Ok(Json(
        state
            .store
            .incident_deliveries(&state.intake.ring, &incident.id, q.state.as_deref(), limit)
            .await?,
    ))
}
