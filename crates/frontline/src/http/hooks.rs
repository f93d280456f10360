//! Alerts in: `/hooks/{alertmanager,grafana,wazuh,generic}`. No session or
//! API token: each source proves itself with its own secret, as a bearer
//! token or as an HMAC-SHA256 signature of the body (or, for a source with
//! a timestamp header, of `<unix seconds>:<body>`, as Grafana signs when its
//! "Timestamp header" is set; then at most five minutes old). The answer
//! comes after the alerts are committed.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde::Serialize;
use subtle::ConstantTimeEq;

use super::error::ApiError;
use super::AppState;
use crate::alerts::{formats, normalise, source_of_token, Source, SourceAuth, SourceKind};
use crate::storage::alerts::Received;

pub fn routes() -> Router<AppState> {
    Router::new().route("/hooks/{kind}", post(receive))
}

/// What a hook call answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HookReceipt {
    pub received: usize,
    pub new: usize,
    pub updated: usize,
    pub alerts: Vec<Received>,
}

enum HookError {
    Api(ApiError),
    Unauthorized(&'static str),
    Refused(&'static str, String),
}

impl From<ApiError> for HookError {
    fn from(e: ApiError) -> Self {
        HookError::Api(e)
    }
}

impl From<crate::storage::StoreError> for HookError {
    fn from(e: crate::storage::StoreError) -> Self {
        HookError::Api(e.into())
    }
}

impl IntoResponse for HookError {
    fn into_response(self) -> Response {
        match self {
            HookError::Api(e) => e.into_response(),
            HookError::Unauthorized(detail) => (
                StatusCode::UNAUTHORIZED,
                Json(serde_json::json!({ "code": "unauthenticated", "detail": detail })),
            )
                .into_response(),
            HookError::Refused(code, detail) => (
                StatusCode::FORBIDDEN,
                Json(serde_json::json!({ "code": code, "detail": detail })),
            )
                .into_response(),
        }
    }
}

const NO_PROOF: &str = "send the source's secret as `Authorization: Bearer <secret>`, or sign the body with HMAC-SHA256 in the source's signature header";

async fn receive(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match handle(&state, &kind, query.as_deref(), &headers, &body).await {
        Ok(r) => (StatusCode::OK, Json(r)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn handle(
    state: &AppState,
    kind: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<HookReceipt, HookError> {
    let kind = SourceKind::from_db(kind).ok_or(ApiError::NotFound("hook"))?;
    let named = query.and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "source")
            .map(|(_, v)| v.into_owned())
    });
    let source = authenticate(state, kind, named.as_deref(), headers, body).await?;
    let value: serde_json::Value = super::error::parse_json(body)?;
    let raw =
        formats::parse(kind, &value, &source.field_map).map_err(|e| ApiError::BadRequest {
            code: "invalid_field",
            detail: e.to_string(),
        })?;
    let redactor = state.intake.preparer.redactor();
    let alerts = raw
        .into_iter()
        .map(|r| normalise(r, &source.components, redactor))
        .collect();
    let received = state.alerts.submit(source, alerts).await?;
    let new = received.iter().filter(|r| r.new).count();
    Ok(HookReceipt {
        received: received.len(),
        new,
        updated: received.len() - new,
        alerts: received,
    })
}

fn usable(source: &Source, kind: SourceKind) -> Result<(), HookError> {
    if source.kind != kind {
        return Err(HookError::Refused(
            "wrong_hook",
            format!("this source sends to /hooks/{}", source.kind),
        ));
    }
    if !source.enabled {
        return Err(HookError::Refused(
            "source_disabled",
            "this alert source is disabled".into(),
        ));
    }
    Ok(())
}

/// The signature as sent: hex, optionally prefixed `sha256=`.
fn signature_bytes(v: &str) -> Option<Vec<u8>> {
    let v = v.trim();
    let v = v.strip_prefix("sha256=").unwrap_or(v);
    hex::decode(v).ok()
}

/// How far a signed timestamp may be from now, either way.
const TIMESTAMP_TOLERANCE_SECS: i64 = 300;

/// Whether `signature` is the HMAC of the body (or, for a source with a
/// timestamp header, of `<timestamp>:<body>`, as Grafana signs).
fn signed_by(source: &Source, timestamp: Option<&str>, body: &[u8], signature: &[u8]) -> bool {
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(source.secret.expose().as_bytes())
    else {
        return false;
    };
    if let Some(ts) = timestamp {
        mac.update(ts.as_bytes());
        mac.update(b":");
    }
    mac.update(body);
    // Constant-time comparison.
    mac.verify_slice(signature).is_ok()
}

async fn authenticate(
    state: &AppState,
    kind: SourceKind,
    named: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Arc<Source>, HookError> {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(HookError::Unauthorized(NO_PROOF))?;
        let id = source_of_token(token).ok_or(HookError::Unauthorized(NO_PROOF))?;
        let source = state
            .alert_sources
            .get(id)
            .await?
            .ok_or(HookError::Unauthorized("this secret is not valid"))?;
        let same: bool = token
            .as_bytes()
            .ct_eq(source.secret.expose().as_bytes())
            .into();
        if !same || source.auth != SourceAuth::Bearer {
            return Err(HookError::Unauthorized("this secret is not valid"));
        }
        usable(&source, kind)?;
        return Ok(source);
    }
    let candidates = match named {
        Some(id) => state
            .alert_sources
            .get(id)
            .await?
            .filter(|s| s.auth == SourceAuth::Hmac)
            .into_iter()
            .collect(),
        None => state.alert_sources.hmac_sources(kind).await?,
    };
    let mut failure = NO_PROOF;
    for c in candidates {
        let Some(sig) = headers
            .get(c.signature_header.as_str())
            .and_then(|v| v.to_str().ok())
        else {
            continue;
        };
        if failure == NO_PROOF {
            failure = "the signature does not match the body";
        }
        let timestamp = if c.timestamp_header.is_empty() {
            None
        } else {
            match headers
                .get(c.timestamp_header.as_str())
                .and_then(|v| v.to_str().ok())
            {
                Some(ts) => Some(ts.trim()),
                None => {
                    failure = "this source signs with a timestamp: send the signing time (Unix seconds) in its timestamp header";
                    continue;
                }
            }
        };
        if signature_bytes(sig).is_some_and(|s| signed_by(&c, timestamp, body, &s)) {
            if let Some(ts) = timestamp {
                let fresh = ts.parse::<i64>().is_ok_and(|t| {
                    (chrono::Utc::now().timestamp() - t).abs() <= TIMESTAMP_TOLERANCE_SECS
                });
                if !fresh {
                    return Err(HookError::Unauthorized(
                        "the signed timestamp is more than five minutes from now: check the sender's clock, or this is a replay",
                    ));
                }
            }
            usable(&c, kind)?;
            return Ok(c);
        }
    }
    Err(HookError::Unauthorized(failure))
}
