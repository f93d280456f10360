//! One error type for the HTTP edge: client mistakes become 4xx with a
//! `{code, detail}` body; anything unexpected is logged with its cause and
//! returned as an opaque 500.

use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::domain::{DomainError, Grant};
use crate::storage::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("sign in first: send `Authorization: Bearer <token>` or a session cookie")]
    Unauthenticated,
    #[error("email or password is wrong")]
    BadCredentials,
    #[error("this needs the `{0}` permission")]
    Forbidden(Grant),
    #[error("{0}")]
    ForbiddenBecause(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{detail}")]
    Unprocessable { code: &'static str, detail: String },
    #[error("too many attempts; try again in {0} s")]
    RateLimited(u64),
    #[error("send JSON with `Content-Type: application/json`")]
    UnsupportedMediaType,
    #[error("the request body is larger than allowed")]
    PayloadTooLarge,
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::BadRequest {
            code: "bad_request",
            detail: detail.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated | ApiError::BadCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::ForbiddenBecause(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. } | ApiError::Unprocessable { code, .. } => code,
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::BadCredentials => "bad_credentials",
            ApiError::Forbidden(_) | ApiError::ForbiddenBecause(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::RateLimited(_) => "rate_limited",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(e) = &self {
            tracing::error!(error = format!("{e:#}"), "request failed");
        }
        let status = self.status();
        let body = serde_json::json!({ "code": self.code(), "detail": self.to_string() });
        let mut resp = (status, axum::Json(body)).into_response();
        if let ApiError::RateLimited(secs) = self {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { .. } => ApiError::BadRequest {
                code: "invalid_field",
                detail: e.to_string(),
            },
            DomainError::UnknownClass(_)
            | DomainError::UnknownAction(_)
            | DomainError::UnknownRole(_) => ApiError::Unprocessable {
                code: "unknown_reference",
                detail: e.to_string(),
            },
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => ApiError::Conflict(format!("{what} already exists")),
            StoreError::InUse(what) => ApiError::Conflict(format!("{what} is still in use")),
            StoreError::NotFound => ApiError::NotFound("record"),
            other => ApiError::Internal(other.into()),
        }
    }
}

/// A JSON body parsed with errors that name the field at fault.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                let ct = ct.split(';').next().unwrap_or("").trim();
                ct == "application/json" || ct.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::bad_request("cannot read the request body")
                }
            })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses JSON, naming the path of the field that does not fit.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(json_error)
}

/// Reads an already parsed JSON value, naming the field that does not fit.
pub fn from_json_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(json_error)
}

fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // serde_json's message may quote the offending value; drop it, since
        // it may be personal data, and keep the structural reason.
        let reason = sanitize_serde_message(&inner.to_string());
        let structural = matches!(
            inner.classify(),
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof
        );
        let detail = if structural || path == "." || path.is_empty() {
            format!("malformed JSON body: {reason}")
        } else {
            format!("field `{path}`: {reason}")
        };
        ApiError::BadRequest {
            code: "invalid_body",
            detail,
        }
    }
}

fn sanitize_serde_message(msg: &str) -> String {
    let msg = msg.split(" at line ").next().unwrap_or(msg);
    match (
        msg.find("invalid value: string \""),
        msg.find("\", expected"),
    ) {
        (Some(_), Some(end)) => format!("invalid value, expected{}", &msg[end + 11..]),
        _ => match (
            msg.find("invalid type: string \""),
            msg.find("\", expected"),
        ) {
            (Some(_), Some(end)) => format!("invalid type: string, expected{}", &msg[end + 11..]),
            _ => msg.to_owned(),
        },
    }
}

/// A query string parsed with a `{code, detail}` error.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| ApiError::BadRequest {
                code: "invalid_query",
                detail: e.body_text(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        age: u8,
    }

    #[test]
    fn errors_name_the_field_and_hide_the_value() {
        let e = parse_json::<Body>(br#"{"email": "x@y.z"}"#).unwrap_err();
        assert!(e.to_string().contains("missing field `age`"), "{e}");
        let e = parse_json::<Body>(br#"{"email": "x@y.z", "age": "secret@mail.com"}"#).unwrap_err();
        assert!(e.to_string().contains("field `age`"), "{e}");
        assert!(!e.to_string().contains("secret@mail.com"), "{e}");
        let e = parse_json::<Body>(b"{not json").unwrap_err();
        assert!(e.to_string().starts_with("malformed JSON body"), "{e}");
    }
}
