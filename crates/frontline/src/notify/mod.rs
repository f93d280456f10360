//! Delivery to customers: a transactional outbox and the worker that
//! empties it by email (SMTP), Standard Webhooks, Slack, Microsoft Teams
//! and SMS through an HTTP provider.
//!
//! - A message is written to `outbox` in the transaction that causes it
//!   (publishing an update, a sign-up), so a notice is never published
//!   without its messages, nor a message queued for a notice that was not.
//! - Its id is stable (`<update>.<recipient>`), used as the email
//!   Message-ID and the `webhook-id`, and unique: the same notice is queued
//!   for a recipient once.
//! - The worker claims due messages with a lease (`FOR UPDATE SKIP LOCKED`
//!   on PostgreSQL, so several nodes share the work without taking the same
//!   message), delivers them, then records the outcome. A worker killed
//!   between handing a message over and recording it leaves it claimed;
//!   when the lease runs out it is delivered again with the same id. So
//!   delivery is at least once, a message is repeated only if it was in
//!   flight at the moment of the crash (at most `notify.batch` of them),
//!   and the repeat carries the same id, which receivers deduplicate on.

pub mod catcher;
pub mod email;
pub mod hooks;
pub mod outbox;
pub mod render;
pub mod routes;
pub mod subscribers;
pub mod survey;
pub mod ticket_mail;
pub mod tokens;
pub mod worker;

pub use render::{render, Notice, Rendered};
pub use worker::spawn_worker;

use crate::domain::DomainError;

/// How a message reaches its recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Webhook,
    Slack,
    Teams,
    Sms,
    /// PagerDuty's Events API v2 (routes only).
    #[serde(rename = "pagerduty")]
    PagerDuty,
}

impl Channel {
    /// The channels subscribers choose from.
    pub const ALL: [Channel; 5] = [
        Channel::Email,
        Channel::Webhook,
        Channel::Slack,
        Channel::Teams,
        Channel::Sms,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
            Channel::Slack => "slack",
            Channel::Teams => "teams",
            Channel::Sms => "sms",
            Channel::PagerDuty => "pagerduty",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid("channel", "must be email, webhook, slack, teams or sms")
            })
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain([Channel::PagerDuty])
            .find(|c| c.as_str() == s)
    }

    /// Channels delivered by an HTTP request to a URL the subscriber gave.
    pub fn is_url(self) -> bool {
        matches!(
            self,
            Channel::Webhook | Channel::Slack | Channel::Teams | Channel::PagerDuty
        )
    }
}

/// The languages notices are written in (those of the public pages).
pub fn parse_language(s: Option<&str>) -> Result<String, DomainError> {
    let s = s.map(str::trim).filter(|s| !s.is_empty()).unwrap_or("en");
    let s = s.to_ascii_lowercase();
    if crate::http::public::i18n::LANGUAGES
        .iter()
        .any(|(c, _)| *c == s)
    {
        Ok(s)
    } else {
        Err(DomainError::invalid(
            "language",
            "must be one of en, zh, fa, gu",
        ))
    }
}

/// Checks an SMS body template at start, so a typo fails the start and
/// not the first SMS.
pub fn sms_template_check(template: &str) -> Result<(), String> {
    let env = minijinja::Environment::new();
    let rendered = env
        .render_str(
            template,
            minijinja::context! { to => "+15550100", text => "a \"test\"" },
        )
        .map_err(|e| format!("does not render: {e}"))?;
    serde_json::from_str::<serde_json::Value>(&rendered)
        .map(|_| ())
        .map_err(|e| format!("does not render to JSON ({e}); quote values with `|tojson`"))
}
