//! Public pages, no sign-in and no cookies: hosted survey forms, the
//! privacy notice, and the status page with its feeds and JSON.

mod cache;
mod forms;
pub mod i18n;
mod privacy;
mod status;
mod subscribe;
mod support;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;

pub use cache::PublicCache;

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/f/{slug}", get(forms::show).post(forms::submit))
        .route("/privacy", get(privacy::notice))
        .route("/support", get(support::new_form).post(support::submit))
        .route("/t/{token}", get(support::track))
        .route("/t/{token}/reply", axum::routing::post(support::reply))
        .route("/t/{token}/csat", axum::routing::post(support::csat))
        .route("/status", get(status::page))
        .route("/status/feed.atom", get(status::feed_atom))
        .route("/status/feed.rss", get(status::feed_rss))
        .route(
            "/status/components/{id}/feed.atom",
            get(status::component_feed_atom),
        )
        .route(
            "/status/components/{id}/feed.rss",
            get(status::component_feed_rss),
        )
        .route("/api/v2/summary.json", get(status::v2_public))
        .route("/api/v2/status.json", get(status::v2_public))
        .route("/api/v2/components.json", get(status::v2_public))
        .route("/api/v2/incidents.json", get(status::v2_public))
        .route("/api/v2/incidents/unresolved.json", get(status::v2_public))
        .route(
            "/api/v2/scheduled-maintenances.json",
            get(status::v2_public),
        )
        .route(
            "/api/v2/scheduled-maintenances/upcoming.json",
            get(status::v2_public),
        )
        .route(
            "/api/v2/scheduled-maintenances/active.json",
            get(status::v2_public),
        )
        .route("/status/a/{key}", get(status::audience_page))
        .route("/status/a/{key}/feed.atom", get(status::audience_feed_atom))
        .route("/status/a/{key}/feed.rss", get(status::audience_feed_rss))
        .route(
            "/status/a/{key}/components/{id}/feed.atom",
            get(status::audience_component_feed_atom),
        )
        .route(
            "/status/a/{key}/components/{id}/feed.rss",
            get(status::audience_component_feed_rss),
        )
        .route("/status/a/{key}/api/v2/{*path}", get(status::v2_audience))
        .route("/status/subscribe", post(subscribe::submit_form))
        .route("/status/subscriptions", post(subscribe::submit_json))
        .route(
            "/status/confirm",
            get(subscribe::confirm_page).post(subscribe::confirm),
        )
        .route(
            "/status/subscription",
            get(subscribe::manage_page).post(subscribe::manage),
        )
        .route(
            "/status/unsubscribe",
            get(subscribe::unsubscribe_page).post(subscribe::unsubscribe),
        )
        .route("/static/public.css", get(css))
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("../../../static/public.css"),
    )
}

/// The client address reduced to its network (/24 for IPv4, /48 for IPv6),
/// for surveys that opt in to keeping it.
pub fn truncate_ip(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

/// The user agent reduced to its first product token, e.g. `Mozilla/5.0`.
pub fn truncate_user_agent(ua: &str) -> String {
    ua.split_whitespace()
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(40)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_details_are_truncated() {
        assert_eq!(
            truncate_ip("203.0.113.77".parse().unwrap()),
            "203.0.113.0/24"
        );
        assert_eq!(
            truncate_ip("2001:db8:85a3::8a2e:370:7334".parse().unwrap()),
            "2001:db8:85a3::/48"
        );
        assert_eq!(
            truncate_user_agent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"),
            "Mozilla/5.0"
        );
    }
}
