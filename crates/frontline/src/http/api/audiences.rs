//! `/api/v1/audience-pages`: status pages for one customer segment, each at
//! a secret link (`/status/a/{key}`) that shows only its components,
//! private ones included. The key is shown once, when the page is made or
//! its key rotated; only its hash is stored.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::Json;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::domain::incident::parse_line;
use crate::domain::{Action, DataClass, DomainError, Grant};
use crate::http::error::{ApiError, ApiJson};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::storage::audiences::{AudiencePage, AudienceSpec};
use crate::storage::StoreError;

const fn notices(action: Action) -> Need {
    Need::Grant(Grant::new(DataClass::Notices, action))
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/api/v1/audience-pages",
            notices(Action::View),
            list,
        )
        .doc("status page", "Audience pages (never their links' keys)")
        .response_list::<AudiencePage>(),
        Route::new(
            Method::POST,
            "/api/v1/audience-pages",
            notices(Action::Store),
            create,
        )
        .doc(
            "status page",
            "Add a status page for one segment; its link is in this answer only",
        )
        .request::<AudienceBody>()
        .response::<AudiencePageWithLink>(),
        Route::new(
            Method::GET,
            "/api/v1/audience-pages/{id}",
            notices(Action::View),
            get_one,
        )
        .doc("status page", "One audience page")
        .response::<AudiencePage>(),
        Route::new(
            Method::PUT,
            "/api/v1/audience-pages/{id}",
            notices(Action::Modify),
            replace,
        )
        .doc(
            "status page",
            "Replace an audience page's name, segment and components",
        )
        .request::<AudienceBody>()
        .response::<AudiencePage>(),
        Route::new(
            Method::POST,
            "/api/v1/audience-pages/{id}/rotate",
            notices(Action::Modify),
            rotate,
        )
        .doc(
            "status page",
            "A new link for the page; the old one stops working",
        )
        .response::<AudiencePageWithLink>(),
        Route::new(
            Method::DELETE,
            "/api/v1/audience-pages/{id}",
            notices(Action::Delete),
            delete,
        )
        .doc("status page", "Remove an audience page"),
    ]
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudienceBody {
    /// 1-100 characters, for staff.
    pub name: String,
    /// The customer segment it is for.
    pub segment: Option<String>,
    /// 1-200 component ids (groups are not components); private ones too.
    pub components: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AudiencePageWithLink {
    #[serde(flatten)]
    pub page: AudiencePage,
    /// The page's address: shown once, give it to the segment's customers.
    pub url: String,
}

fn parse(body: AudienceBody) -> Result<AudienceSpec, DomainError> {
    let name = parse_line("name", &body.name, 100)?;
    let segment = body
        .segment
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| parse_line("segment", s, 100))
        .transpose()?;
    if body.components.is_empty() || body.components.len() > 200 {
        return Err(DomainError::invalid(
            "components",
            "must name 1 to 200 components",
        ));
    }
    let mut components: Vec<String> = body
        .components
        .iter()
        .map(|c| c.trim().to_owned())
        .collect();
    components.sort();
    components.dedup();
    Ok(AudienceSpec {
        name,
        segment,
        components,
    })
}

fn new_key() -> String {
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn link(state: &AppState, key: &str) -> String {
    format!(
        "{}/status/a/{key}",
        state.config.http.public_url.trim_end_matches('/')
    )
}

fn unknown_component(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::from(DomainError::invalid(
            "components",
            "names a component that does not exist",
        )),
        e => e.into(),
    }
}

fn no_page(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::NotFound("audience page"),
        e => e.into(),
    }
}

fn changed(state: &AppState, id: &str) {
    state.events.publish(
        "audience.changed",
        DataClass::Notices,
        serde_json::json!({ "id": id }),
    );
}

async fn list(State(state): State<AppState>) -> Result<Json<Vec<AudiencePage>>, ApiError> {
    Ok(Json(state.store.list_audience_pages().await?))
}

async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AudiencePage>, ApiError> {
    Ok(Json(
        state
            .store
            .audience_page(&id)
            .await?
            .ok_or(ApiError::NotFound("audience page"))?,
    ))
}

async fn create(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<AudienceBody>,
) -> Result<(StatusCode, Json<AudiencePageWithLink>), ApiError> {
    let spec = parse(body)?;
    let key = new_key();
    let page = state
        .store
        .create_audience_page(
            &spec,
            &key,
            p.audit("audience_page.create", DataClass::Notices, None),
        )
        .await
        .map_err(unknown_component)?;
    changed(&state, &page.id);
    Ok((
        StatusCode::CREATED,
        Json(AudiencePageWithLink {
            url: link(&state, &key),
            page,
        }),
    ))
}

async fn replace(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AudienceBody>,
) -> Result<Json<AudiencePage>, ApiError> {
    let spec = parse(body)?;
    if state.store.audience_page(&id).await?.is_none() {
        return Err(ApiError::NotFound("audience page"));
    }
    let page = state
        .store
        .update_audience_page(
            &id,
            &spec,
            p.audit("audience_page.update", DataClass::Notices, None),
        )
        .await
        .map_err(unknown_component)?;
    changed(&state, &page.id);
    Ok(Json(page))
}

async fn rotate(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<Json<AudiencePageWithLink>, ApiError> {
    let key = new_key();
    state
        .store
        .rotate_audience_key(
            &id,
            &key,
            p.audit("audience_page.rotate", DataClass::Notices, None),
        )
        .await
        .map_err(no_page)?;
    changed(&state, &id);
    let page = state
        .store
        .audience_page(&id)
        .await?
        .ok_or(ApiError::NotFound("audience page"))?;
    Ok(Json(AudiencePageWithLink {
        url: link(&state, &key),
        page,
    }))
}

async fn delete(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .delete_audience_page(
            &id,
            p.audit("audience_page.delete", DataClass::Notices, None),
        )
        .await
        .map_err(no_page)?;
    changed(&state, &id);
    Ok(StatusCode::NO_CONTENT)
}
