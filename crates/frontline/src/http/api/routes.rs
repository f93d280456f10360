//! `/api/v1/routes`: where early warnings go out (Slack, Teams, PagerDuty,
//! email, Standard Webhooks), their rules, a test message, and every
//! delivery attempt.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::domain::incident::parse_line;
use crate::domain::{Action, DataClass, Grant};
use crate::http::error::{ApiError, ApiJson, ApiQuery};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::notify::routes::{
    NewRoute, RouteChange, RouteDeliveries, RouteKind, RouteRefusal, Rules, Target, WarningRoute,
};
use crate::storage::StoreError;

const fn alerts(action: Action) -> Need {
    Need::Grant(Grant::new(DataClass::SecurityAlerts, action))
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/api/v1/routes", alerts(Action::View), list)
            .doc("routes", "Routes for early warnings, with their rules; targets masked")
            .response_list::<WarningRoute>(),
        Route::new(Method::POST, "/api/v1/routes", alerts(Action::Store), create)
            .doc(
                "routes",
                "Add a route: slack, teams, webhook (url), pagerduty (routing_key, url optional), email (address); a webhook's signing secret is in this answer only",
            )
            .request::<NewRouteBody>()
            .response::<WarningRoute>(),
        Route::new(Method::GET, "/api/v1/routes/{id}", alerts(Action::View), get_one)
            .doc("routes", "One route, target masked")
            .response::<WarningRoute>(),
        Route::new(Method::PATCH, "/api/v1/routes/{id}", alerts(Action::Modify), change)
            .doc("routes", "Rename, change the target or the rules, enable or disable")
            .request::<RouteChangeBody>()
            .response::<WarningRoute>(),
        Route::new(Method::DELETE, "/api/v1/routes/{id}", alerts(Action::Delete), delete)
            .doc("routes", "Delete a route; its queued messages are cancelled"),
        Route::new(Method::POST, "/api/v1/routes/{id}/test", alerts(Action::Modify), test)
            .doc("routes", "Queue a test message through the outbox like any other")
            .response::<TestQueued>(),
        Route::new(
            Method::GET,
            "/api/v1/routes/{id}/deliveries",
            alerts(Action::View),
            deliveries,
        )
        .doc("routes", "The route's recent messages and every attempt (status code, error category, duration); ?limit")
        .response::<RouteDeliveries>(),
    ]
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRouteBody {
    pub name: String,
    /// slack, teams, pagerduty, email, webhook.
    pub kind: String,
    /// Slack, Teams, webhook; PagerDuty (default its Events API v2).
    #[serde(default)]
    pub url: Option<String>,
    /// PagerDuty's integration (routing) key.
    #[serde(default)]
    pub routing_key: Option<String>,
    /// Email routes: where the mail goes.
    #[serde(default)]
    pub address: Option<String>,
    /// Of signal.opened, suggestion.opened, incident.overdue (default all).
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// info (default), low, medium, high, critical.
    #[serde(default)]
    pub min_severity: Option<String>,
    /// Empty or absent: any topic.
    #[serde(default)]
    pub topics: Option<Vec<String>>,
    /// Empty or absent: any component.
    #[serde(default)]
    pub components: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteChangeBody {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub routing_key: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub events: Option<Vec<String>>,
    #[serde(default)]
    pub min_severity: Option<String>,
    #[serde(default)]
    pub topics: Option<Vec<String>>,
    #[serde(default)]
    pub components: Option<Vec<String>>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestQueued {
    /// The test message's id (the webhook-id / Message-ID it is sent with).
    pub message_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveriesQuery {
    #[serde(default)]
    limit: Option<i64>,
}

fn refusal(e: RouteRefusal) -> ApiError {
    match e {
        RouteRefusal::Duplicate => {
            ApiError::Conflict("a route with this name already exists".into())
        }
        RouteRefusal::Store(StoreError::NotFound) => ApiError::NotFound("route"),
        RouteRefusal::Store(e) => e.into(),
    }
}

/// Adds a route; shared with the dashboard.
pub(crate) async fn add_route(
    state: &AppState,
    p: &crate::auth::Principal,
    body: &NewRouteBody,
) -> Result<WarningRoute, ApiError> {
    let kind = RouteKind::parse(&body.kind)?;
    let new = NewRoute {
        name: parse_line("name", &body.name, 100)?,
        kind,
        target: Target::parse(
            kind,
            body.url.as_deref(),
            body.routing_key.as_deref(),
            body.address.as_deref(),
        )?,
        rules: Rules::parse(
            body.events.clone(),
            body.min_severity.as_deref(),
            body.topics.clone(),
            body.components.clone(),
        )?,
    };
    state
        .store
        .create_route(
            &state.intake.ring,
            &new,
            p.audit("route.create", DataClass::SecurityAlerts, None),
        )
        .await
        .map_err(refusal)
}

/// Queues a test message; shared with the dashboard.
pub(crate) async fn queue_test(
    state: &AppState,
    p: &crate::auth::Principal,
    id: &str,
) -> Result<String, ApiError> {
    state
        .store
        .queue_route_test(
            id,
            p.audit("route.test", DataClass::SecurityAlerts, Some(id.to_owned())),
        )
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::NotFound("route"),
            e => e.into(),
        })
}

/// Enables or disables a route; shared with the dashboard.
pub(crate) async fn set_enabled(
    state: &AppState,
    p: &crate::auth::Principal,
    id: &str,
    enabled: bool,
) -> Result<WarningRoute, ApiError> {
    state
        .store
        .change_route(
            &state.intake.ring,
            id,
            &RouteChange {
                enabled: Some(enabled),
                ..Default::default()
            },
            p.audit(
                "route.update",
                DataClass::SecurityAlerts,
                Some(id.to_owned()),
            ),
        )
        .await
        .map_err(refusal)
}

async fn list(State(state): State<AppState>) -> Result<Json<Vec<WarningRoute>>, ApiError> {
    Ok(Json(state.store.list_routes(&state.intake.ring).await?))
}

async fn create(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<NewRouteBody>,
) -> Result<(StatusCode, Json<WarningRoute>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(add_route(&state, &p, &body).await?),
    ))
}

async fn find(state: &AppState, id: &str) -> Result<WarningRoute, ApiError> {
    state
        .store
        .route(&state.intake.ring, id)
        .await?
        .ok_or(ApiError::NotFound("route"))
}

async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<WarningRoute>, ApiError> {
    Ok(Json(find(&state, &id).await?))
}

async fn change(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RouteChangeBody>,
) -> Result<Json<WarningRoute>, ApiError> {
    let old = find(&state, &id).await?;
    let target = if body.url.is_some() || body.routing_key.is_some() || body.address.is_some() {
        Some(Target::parse(
            old.kind,
            body.url.as_deref(),
            body.routing_key.as_deref(),
            body.address.as_deref(),
        )?)
    } else {
        None
    };
    let rules = if body.events.is_some()
        || body.min_severity.is_some()
        || body.topics.is_some()
        || body.components.is_some()
    {
        Some(Rules::parse(
            Some(body.events.unwrap_or(old.rules.events)),
            Some(
                body.min_severity
                    .as_deref()
                    .unwrap_or(old.rules.min_severity.as_str()),
            ),
            Some(body.topics.unwrap_or(old.rules.topics)),
            Some(body.components.unwrap_or(old.rules.components)),
        )?)
    } else {
        None
    };
    let change = RouteChange {
        name: body
            .name
            .as_deref()
            .map(|n| parse_line("name", n, 100))
            .transpose()?,
        target,
        rules,
        enabled: body.enabled,
    };
    let r = state
        .store
        .change_route(
            &state.intake.ring,
            &id,
            &change,
            p.audit("route.update", DataClass::SecurityAlerts, Some(id.clone())),
        )
        .await
        .map_err(refusal)?;
    Ok(Json(r))
}

async fn delete(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .delete_route(
            &id,
            p.audit("route.delete", DataClass::SecurityAlerts, Some(id.clone())),
        )
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::NotFound("route"),
            e => e.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

async fn test(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<TestQueued>), ApiError> {
    let message_id = queue_test(&state, &p, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(TestQueued { message_id })))
}

async fn deliveries(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> Result<Json<RouteDeliveries>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(crate::domain::DomainError::invalid("limit", "must be 1 to 1000").into());
    }
    find(&state, &id).await?;
    Ok(Json(state.store.route_deliveries(&id, limit).await?))
}
