//! `/api/v1/components` and `/api/v1/maintenances`: what the status page
//! shows, managed by the people who write notices.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::Json;
use serde::Deserialize;

use crate::domain::id::Kind;
use crate::domain::incident::{parse_line, parse_text, ComponentStatus, MaintenanceStatus};
use crate::domain::{Action, DataClass, DomainError, Grant, Id};
use crate::http::error::{ApiError, ApiJson};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::storage::status::{
    Component, ComponentChange, Maintenance, MaintenanceChange, NewComponent, NewMaintenance,
};
use crate::storage::StoreError;

const fn notices(action: Action) -> Need {
    Need::Grant(Grant::new(DataClass::Notices, action))
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/api/v1/components",
            notices(Action::View),
            list,
        )
        .doc("status page", "Components and groups, in page order")
        .response_list::<Component>(),
        Route::new(
            Method::POST,
            "/api/v1/components",
            notices(Action::Store),
            create,
        )
        .doc(
            "status page",
            "Add a component (a new group name creates the group)",
        )
        .request::<NewComponentBody>()
        .response::<Component>(),
        Route::new(
            Method::GET,
            "/api/v1/components/{id}",
            notices(Action::View),
            get_one,
        )
        .doc("status page", "One component")
        .response::<Component>(),
        Route::new(
            Method::PATCH,
            "/api/v1/components/{id}",
            notices(Action::Modify),
            change,
        )
        .doc("status page", "Change a component or its status")
        .request::<ChangeComponentBody>()
        .response::<Component>(),
        Route::new(
            Method::GET,
            "/api/v1/maintenances",
            notices(Action::View),
            list_maintenances,
        )
        .doc("status page", "Scheduled maintenances, latest first")
        .response_list::<Maintenance>(),
        Route::new(
            Method::POST,
            "/api/v1/maintenances",
            notices(Action::Store),
            create_maintenance,
        )
        .doc("status page", "Schedule a maintenance")
        .request::<NewMaintenanceBody>()
        .response::<Maintenance>(),
        Route::new(
            Method::GET,
            "/api/v1/maintenances/{id}",
            notices(Action::View),
            get_maintenance,
        )
        .doc("status page", "One maintenance with its updates")
        .response::<Maintenance>(),
        Route::new(
            Method::PATCH,
            "/api/v1/maintenances/{id}",
            notices(Action::Modify),
            change_maintenance,
        )
        .doc(
            "status page",
            "Change a maintenance; a status or body adds an update",
        )
        .request::<ChangeMaintenanceBody>()
        .response::<Maintenance>(),
    ]
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComponentBody {
    /// 1-100 characters.
    pub name: String,
    pub description: Option<String>,
    /// The group's name; created if new.
    pub group: Option<String>,
    /// Order on the page (default: last).
    pub position: Option<i64>,
    /// operational (default), degraded_performance, partial_outage,
    /// major_outage, under_maintenance.
    pub status: Option<String>,
    /// Hidden from the public status page.
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub only_show_if_degraded: bool,
}

/// Fields left out stay as they are; `null` clears description and group.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeComponentBody {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "some")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    pub group: Option<Option<String>>,
    pub position: Option<i64>,
    pub status: Option<String>,
    pub private: Option<bool>,
    pub only_show_if_degraded: Option<bool>,
}

/// Tells a `null` field (Some(None)) from a missing one (None).
fn some<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMaintenanceBody {
    pub title: String,
    /// What customers read, 1-5,000 characters.
    pub body: String,
    #[serde(default)]
    pub components: Vec<String>,
    /// RFC 3339.
    pub scheduled_for: String,
    /// RFC 3339, after `scheduled_for`.
    pub scheduled_until: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeMaintenanceBody {
    pub title: Option<String>,
    /// scheduled, in_progress, verifying, completed.
    pub status: Option<String>,
    pub body: Option<String>,
    pub scheduled_for: Option<String>,
    pub scheduled_until: Option<String>,
}

fn not_found(what: &'static str) -> impl Fn(StoreError) -> ApiError {
    move |e| match e {
        StoreError::NotFound => ApiError::NotFound(what),
        e => e.into(),
    }
}

fn parse_description(d: Option<&str>) -> Result<Option<String>, DomainError> {
    d.map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| parse_text("description", d, 500))
        .transpose()
}

fn parse_group(g: Option<&str>) -> Result<Option<String>, DomainError> {
    g.map(str::trim)
        .filter(|g| !g.is_empty())
        .map(|g| parse_line("group", g, 100))
        .transpose()
}

fn parse_position(p: i64) -> Result<i64, DomainError> {
    if (0..=100_000).contains(&p) {
        Ok(p)
    } else {
        Err(DomainError::invalid("position", "must be 0 to 100000"))
    }
}

fn parse_time(field: &'static str, s: &str) -> Result<i64, DomainError> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.timestamp_millis())
        .map_err(|_| DomainError::invalid(field, "must be an RFC 3339 time"))
}

async fn list(State(state): State<AppState>) -> Result<Json<Vec<Component>>, ApiError> {
    Ok(Json(state.store.list_components().await?))
}

async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Component>, ApiError> {
    Ok(Json(
        state
            .store
            .component(&id)
            .await?
            .ok_or(ApiError::NotFound("component"))?,
    ))
}

async fn create(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<NewComponentBody>,
) -> Result<(StatusCode, Json<Component>), ApiError> {
    let new = NewComponent {
        name: parse_line("name", &body.name, 100)?,
        description: parse_description(body.description.as_deref())?,
        group: parse_group(body.group.as_deref())?,
        position: body.position.map(parse_position).transpose()?,
        status: body
            .status
            .as_deref()
            .map(ComponentStatus::parse)
            .transpose()?
            .unwrap_or(ComponentStatus::Operational),
        private: body.private,
        only_show_if_degraded: body.only_show_if_degraded,
    };
    let c = state
        .store
        .create_component(&new, p.audit("component.create", DataClass::Notices, None))
        .await?;
    state.events.publish(
        "component.created",
        DataClass::Notices,
        serde_json::json!({ "id": c.id }),
    );
    Ok((StatusCode::CREATED, Json(c)))
}

async fn change(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ChangeComponentBody>,
) -> Result<Json<Component>, ApiError> {
    let change = ComponentChange {
        name: body
            .name
            .as_deref()
            .map(|n| parse_line("name", n, 100))
            .transpose()?,
        description: body
            .description
            .as_ref()
            .map(|d| parse_description(d.as_deref()))
            .transpose()?,
        group: body
            .group
            .as_ref()
            .map(|g| parse_group(g.as_deref()))
            .transpose()?,
        position: body.position.map(parse_position).transpose()?,
        status: body
            .status
            .as_deref()
            .map(ComponentStatus::parse)
            .transpose()?,
        private: body.private,
        only_show_if_degraded: body.only_show_if_degraded,
    };
    let c = state
        .store
        .update_component(
            &id,
            &change,
            p.audit("component.update", DataClass::Notices, None),
        )
        .await
        .map_err(not_found("component"))?;
    state.events.publish(
        "component.changed",
        DataClass::Notices,
        serde_json::json!({ "id": c.id, "status": c.status }),
    );
    Ok(Json(c))
}

async fn list_maintenances(
    State(state): State<AppState>,
) -> Result<Json<Vec<Maintenance>>, ApiError> {
    Ok(Json(state.store.list_maintenances(200).await?))
}

async fn get_maintenance(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Maintenance>, ApiError> {
    Ok(Json(
        state
            .store
            .maintenance(&id)
            .await?
            .ok_or(ApiError::NotFound("maintenance"))?,
    ))
}

async fn create_maintenance(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<NewMaintenanceBody>,
) -> Result<(StatusCode, Json<Maintenance>), ApiError> {
    let mut components = Vec::new();
    for c in &body.components {
        let id = Id::parse(Kind::Component, c.trim())
            .ok_or_else(|| DomainError::invalid("components", "component ids look like cmp_..."))?;
        if !components.contains(&id.to_string()) {
            components.push(id.to_string());
        }
    }
    let new = NewMaintenance {
        title: parse_line("title", &body.title, 200)?,
        body: parse_text("body", &body.body, 5_000)?,
        components,
        scheduled_for: parse_time("scheduled_for", &body.scheduled_for)?,
        scheduled_until: parse_time("scheduled_until", &body.scheduled_until)?,
    };
    if new.scheduled_until <= new.scheduled_for {
        return Err(DomainError::invalid("scheduled_until", "must be after scheduled_for").into());
    }
    let m = state
        .store
        .create_maintenance(
            &new,
            p.audit("maintenance.create", DataClass::Notices, None),
        )
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::Unprocessable {
                code: "unknown_reference",
                detail: "components: no such component".into(),
            },
            e => e.into(),
        })?;
    state.events.publish(
        "maintenance.created",
        DataClass::Notices,
        serde_json::json!({ "id": m.id }),
    );
    Ok((StatusCode::CREATED, Json(m)))
}

async fn change_maintenance(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ChangeMaintenanceBody>,
) -> Result<Json<Maintenance>, ApiError> {
    let change = MaintenanceChange {
        title: body
            .title
            .as_deref()
            .map(|t| parse_line("title", t, 200))
            .transpose()?,
        status: body
            .status
            .as_deref()
            .map(MaintenanceStatus::parse)
            .transpose()?,
        body: body
            .body
            .as_deref()
            .map(|b| parse_text("body", b, 5_000))
            .transpose()?,
        scheduled_for: body
            .scheduled_for
            .as_deref()
            .map(|t| parse_time("scheduled_for", t))
            .transpose()?,
        scheduled_until: body
            .scheduled_until
            .as_deref()
            .map(|t| parse_time("scheduled_until", t))
            .transpose()?,
    };
    if change.title.is_none()
        && change.status.is_none()
        && change.body.is_none()
        && change.scheduled_for.is_none()
        && change.scheduled_until.is_none()
    {
        return Err(DomainError::invalid(
            "body",
            "send at least one of title, status, body, scheduled_for, scheduled_until",
        )
        .into());
    }
    let old = state
        .store
        .maintenance(&id)
        .await?
        .ok_or(ApiError::NotFound("maintenance"))?;
    let from = change.scheduled_for.unwrap_or(old.scheduled_for.0);
    let until = change.scheduled_until.unwrap_or(old.scheduled_until.0);
    if until <= from {
        return Err(DomainError::invalid("scheduled_until", "must be after scheduled_for").into());
    }
    let m = state
        .store
        .update_maintenance(
            &id,
            &change,
            p.audit("maintenance.update", DataClass::Notices, None),
        )
        .await
        .map_err(not_found("maintenance"))?;
    state.events.publish(
        "maintenance.changed",
        DataClass::Notices,
        serde_json::json!({ "id": m.id, "status": m.status }),
    );
    Ok(Json(m))
}
