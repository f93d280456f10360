//! `/api/v1/reports/weekly`: the weekly scorecard email. Who gets it (each
//! `reports:view` user for themselves; admins set it for others with
//! `PATCH /api/v1/users/{id}`), the weeks sent, and a send on request.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::domain::{Action, DataClass, Grant};
use crate::http::error::{ApiError, ApiJson};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::reports::{self, Queued, Week};
use crate::storage::UserView;

const VIEW: Need = Need::Grant(Grant::new(DataClass::Reports, Action::View));
const SEND: Need = Need::Grant(Grant::new(DataClass::Reports, Action::Modify));
const STAKEHOLDERS: Need = Need::Grant(Grant::new(DataClass::Settings, Action::View));

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/api/v1/reports/weekly", VIEW, overview)
            .doc(
                "reports",
                "The weekly report: when it goes out, whether you get it, the weeks sent",
            )
            .response::<WeeklyOverview>(),
        Route::new(
            Method::PUT,
            "/api/v1/reports/weekly/subscription",
            VIEW,
            subscribe,
        )
        .doc(
            "reports",
            "Get the weekly report by email, or stop it (for yourself)",
        )
        .request::<SubscriptionBody>()
        .response::<WeeklyOverview>(),
        Route::new(
            Method::GET,
            "/api/v1/reports/weekly/stakeholders",
            STAKEHOLDERS,
            list_stakeholders,
        )
        .doc(
            "reports",
            "Who gets the weekly report (set with PATCH /api/v1/users/{id} weekly_report)",
        )
        .response_list::<UserView>(),
        Route::new(Method::POST, "/api/v1/reports/weekly/send", SEND, send)
            .doc(
                "reports",
                "Send a week's report to every stakeholder now (default: the last week due)",
            )
            .request::<SendBody>()
            .response::<Queued>(),
    ]
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SentWeek {
    pub week: String,
    pub queued_at: String,
    pub recipients: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct WeeklyOverview {
    /// Sent on Monday from this hour, in this time zone.
    pub hour: u32,
    pub timezone: String,
    /// The week the next scheduled report covers, or the one just sent.
    pub due_week: String,
    /// Whether you get it (null for an API token).
    pub subscribed: Option<bool>,
    /// Weeks sent on schedule, newest first (at most 52).
    pub sent: Vec<SentWeek>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionBody {
    pub subscribed: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendBody {
    /// An ISO week such as `2026-W48`; default: the last week due.
    pub week: Option<String>,
}

fn due_week(state: &AppState) -> Week {
    let r = &state.config.reports;
    let tz = r.weekly_timezone.parse().unwrap_or(chrono_tz::UTC);
    Week::due(chrono::Utc::now(), tz, r.weekly_hour)
}

async fn overview_of(state: &AppState, actor: &str) -> Result<WeeklyOverview, ApiError> {
    let subscribed = if actor.starts_with("usr_") {
        state.store.user(actor).await?.map(|u| u.weekly_report)
    } else {
        None
    };
    Ok(WeeklyOverview {
        hour: state.config.reports.weekly_hour,
        timezone: state.config.reports.weekly_timezone.clone(),
        due_week: due_week(state).label(),
        subscribed,
        sent: reports::history(&state.store, 52)
            .await?
            .into_iter()
            .map(|(week, at, recipients)| SentWeek {
                week,
                queued_at: crate::storage::users::rfc3339(at),
                recipients,
            })
            .collect(),
    })
}

async fn overview(
    State(state): State<AppState>,
    Auth(p): Auth,
) -> Result<Json<WeeklyOverview>, ApiError> {
    Ok(Json(overview_of(&state, &p.actor).await?))
}

async fn subscribe(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<SubscriptionBody>,
) -> Result<Json<WeeklyOverview>, ApiError> {
    if !p.actor.starts_with("usr_") {
        return Err(ApiError::Unprocessable {
            code: "not_a_person",
            detail: "subscribed: only a staff user can get the weekly report; an API token has no address".into(),
        });
    }
    state
        .store
        .update_user(
            &p.actor,
            None,
            None,
            Some(b.subscribed),
            p.audit("user.update", DataClass::Settings, Some(p.actor.clone())),
        )
        .await?;
    Ok(Json(overview_of(&state, &p.actor).await?))
}

async fn list_stakeholders(
    State(state): State<AppState>,
    Auth(p): Auth,
) -> Result<Json<Vec<UserView>>, ApiError> {
    let users = reports::stakeholders(&state.store).await?;
    Ok(Json(super::users_present(&state, &p, &users).await?))
}

async fn send(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiJson(b): ApiJson<SendBody>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    let week = match b.week.as_deref() {
        Some(w) => Week::parse(w)?,
        None => due_week(&state),
    };
    if week.monday() > chrono::Utc::now().date_naive() {
        return Err(crate::domain::DomainError::invalid("week", "must have begun").into());
    }
    let queued = reports::queue(
        &state.store,
        &state.config,
        week,
        false,
        p.audit("report.weekly.send", DataClass::Reports, Some(week.label())),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(queued)))
}
