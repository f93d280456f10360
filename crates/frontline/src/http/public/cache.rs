//! Rendered public responses (the status page, its feeds and the
//! Statuspage JSON) kept in memory, so that a crowd of customers refreshing
//! the page during an incident costs one render, not one database read each.
//!
//! An entry is served while two things hold: nothing that the page shows
//! has changed on this node since it was rendered (the event bus's public
//! generation, bumped before a change is acknowledged), and it is younger
//! than [`FRESH`], which bounds how long a change made on another node (or
//! by the command line) takes to show. A render that started before a
//! change carries the older generation, so it is never kept past it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::http::error::ApiError;
use crate::http::AppState;

/// How long a rendered response may be served without rendering it again.
pub const FRESH: Duration = Duration::from_secs(2);

/// A rendered response: its bytes and the headers that go with them.
pub struct Rendered {
    pub content_type: &'static str,
    pub cache_control: &'static str,
    /// Readable from any origin (the JSON that widgets fetch).
    pub cors: bool,
    pub body: Bytes,
}

struct Entry {
    generation: u64,
    built: Instant,
    etag: HeaderValue,
    rendered: Rendered,
}

#[derive(Default)]
pub struct PublicCache {
    entries: RwLock<HashMap<String, Arc<Entry>>>,
    /// One render at a time: a crowd arriving when an entry goes stale
    /// waits for one render instead of starting one each.
    rendering: tokio::sync::Mutex<()>,
}

impl PublicCache {
    fn fresh(&self, key: &str, generation: u64) -> Option<Arc<Entry>> {
        let entries = self.entries.read().ok()?;
        entries
            .get(key)
            .filter(|e| e.generation == generation && e.built.elapsed() < FRESH)
            .cloned()
    }

    /// The response for `key` (which must name everything the response
    /// depends on: path, language, audience), rendered by `render` only
    /// when no fresh one is kept. Answers 304 to a matching `If-None-Match`.
    pub async fn serve<F, Fut>(
        &self,
        state: &AppState,
        key: String,
        request: &HeaderMap,
        render: F,
    ) -> Response
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Rendered, ApiError>>,
    {
        let generation = state.events.public_generation();
        if let Some(e) = self.fresh(&key, generation) {
            return respond(&e, request);
        }
        let _one = self.rendering.lock().await;
        // Someone else may have rendered it while this request waited.
        let generation = state.events.public_generation();
        if let Some(e) = self.fresh(&key, generation) {
            return respond(&e, request);
        }
        let rendered = match render().await {
            Ok(r) => r,
            Err(e) => return e.into_response(),
        };
        let digest = Sha256::digest(&rendered.body);
        let etag = HeaderValue::from_str(&format!("\"{}\"", hex::encode(&digest[..12])))
            .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
        let entry = Arc::new(Entry {
            generation,
            built: Instant::now(),
            etag,
            rendered,
        });
        if let Ok(mut entries) = self.entries.write() {
            entries.insert(key, entry.clone());
        }
        respond(&entry, request)
    }
}

fn respond(e: &Entry, request: &HeaderMap) -> Response {
    let matches = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == "*" || t.trim().trim_start_matches("W/") == e.etag)
        });
    let mut resp = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(e.rendered.content_type),
            )],
            e.rendered.body.clone(),
        )
            .into_response()
    };
    let h = resp.headers_mut();
    h.insert(header::ETAG, e.etag.clone());
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(e.rendered.cache_control),
    );
    if e.rendered.cors {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    resp
}
