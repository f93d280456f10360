//! Deliveries: the outbox's messages of every purpose (notices, sign-up
//! confirmations, surveys, staff email, routes) by state, newest change
//! first, recipients masked. The overview's delivery numbers link here.

use axum::extract::State;
use axum::http::Method;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;

use super::i18n::phrase;
use super::{error_page, page};
use crate::domain::{Action, DataClass, DomainError, Grant};
use crate::http::error::{ApiError, ApiQuery};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::notify::outbox::STATES;
use crate::storage::now_ms;

/// The most messages the page lists; the count says how many match.
const LIMIT: i64 = 100;

pub fn routes() -> Vec<Route> {
    vec![Route::new(
        Method::GET,
        "/deliveries",
        Need::Grant(Grant::new(DataClass::Notices, Action::View)),
        list,
    )]
}

#[derive(Deserialize, Default)]
struct Filter {
    /// One of the outbox's states, or `waiting` (queued or sending).
    #[serde(default)]
    state: String,
    /// Only messages that changed state within this many hours.
    #[serde(default)]
    hours: String,
}

/// The states a filter stands for; `waiting` is queued or sending, as the
/// overview counts it.
fn states(filter: &str) -> Result<Vec<&'static str>, DomainError> {
    match filter {
        "" => Ok(STATES.to_vec()),
        "waiting" => Ok(vec!["queued", "sending"]),
        s => STATES
            .iter()
            .find(|v| **v == s)
            .map(|v| vec![*v])
            .ok_or_else(|| {
                DomainError::invalid(
                    "state",
                    "must be waiting, queued, sending, sent, failed, bounced or cancelled",
                )
            }),
    }
}

fn hours(v: &str) -> Result<Option<i64>, DomainError> {
    match v.trim() {
        "" => Ok(None),
        h => h
            .parse::<i64>()
            .ok()
            .filter(|h| (1..=8760).contains(h))
            .map(Some)
            .ok_or_else(|| DomainError::invalid("hours", "a whole number from 1 to 8760")),
    }
}

/// What a message is, in the dashboard's words.
fn kind(purpose: &str) -> &'static str {
    match purpose {
        "notice" => phrase("mail|notice"),
        "confirm" => phrase("confirmation"),
        "survey" => phrase("mail|survey"),
        "staff" => phrase("delivery|staff email"),
        "route" => phrase("delivery|route"),
        "ticket" => phrase("delivery|ticket mail"),
        _ => phrase("mail|other"),
    }
}

async fn list(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(f): ApiQuery<Filter>,
) -> Response {
    let result = async {
        let filter = f.state.trim();
        let wanted = states(filter)?;
        let hours = hours(&f.hours)?;
        let since = hours.map_or(0, |h| now_ms() - h * 3_600_000);
        let found = state
            .store
            .list_outbox(&state.intake.ring, &wanted, since, LIMIT)
            .await?;
        let messages: Vec<_> = found
            .messages
            .iter()
            .map(|m| context! { m, kind => kind(&m.purpose) })
            .collect();
        Ok::<_, ApiError>(page(
            &state,
            &p,
            "/deliveries",
            "deliveries.html",
            context! {
                messages, total => found.total, shown => found.messages.len(),
                state => filter, hours,
                filters => ["waiting", "sent", "failed", "bounced", "cancelled"],
            },
        ))
    }
    .await;
    result.unwrap_or_else(|e| error_page(&state, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_name_the_outbox_states() {
        assert_eq!(states("waiting").unwrap(), ["queued", "sending"]);
        assert_eq!(states("failed").unwrap(), ["failed"]);
        assert_eq!(states("").unwrap().len(), STATES.len());
        assert!(states("lost").is_err());
        assert_eq!(hours("24").unwrap(), Some(24));
        assert_eq!(hours("").unwrap(), None);
        assert!(hours("0").is_err() && hours("a day").is_err());
    }
}
