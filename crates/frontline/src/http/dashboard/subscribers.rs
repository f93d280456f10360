//! Subscribers: the status page's subscribers for the communications team
//! (addresses masked), filtered by channel and state, with a form to add
//! one and buttons to disable, unsubscribe or delete one. The same rules
//! as the API: an email address becomes active only by its owner's
//! confirmation, and a webhook's signing secret is shown once.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use axum_extra::extract::Form;
use minijinja::context;
use serde::Deserialize;

use super::i18n::phrase;
use super::{error_page, page, redirect_with_notice};
use crate::domain::{Action, DataClass, Grant};
use crate::http::api::subscribers::{
    add, change_one, list_some, remove, ChangeSubscriberBody, ListQuery, NewSubscriberBody,
};
use crate::http::error::{ApiError, ApiQuery};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::notify::subscribers::STATES;
use crate::notify::Channel;

/// Subscribers listed per page.
const PAGE: i64 = 100;

const fn need(action: Action) -> Need {
    Need::Grant(Grant::new(DataClass::Subscribers, action))
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/subscribers", need(Action::View), list),
        Route::new(Method::POST, "/subscribers", need(Action::Store), create),
        Route::new(
            Method::POST,
            "/subscribers/{id}/state",
            need(Action::Modify),
            set_state,
        ),
        Route::new(
            Method::POST,
            "/subscribers/{id}/delete",
            need(Action::Delete),
            delete,
        ),
    ]
}

#[derive(Deserialize, Default)]
struct Filter {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    cursor: String,
    #[serde(default)]
    notice: Option<String>,
}

fn some(v: &str) -> Option<String> {
    Some(v.trim().to_owned()).filter(|v| !v.is_empty())
}

async fn list(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(f): ApiQuery<Filter>,
) -> Response {
    let result = async {
        let q = ListQuery {
            channel: some(&f.channel),
            state: some(&f.state),
            cursor: some(&f.cursor),
            limit: Some(PAGE + 1),
        };
        let mut subscribers = list_some(&state, &q).await?;
        let next = if subscribers.len() as i64 > PAGE {
            subscribers.truncate(PAGE as usize);
            subscribers.last().map(|s| s.id.clone())
        } else {
            None
        };
        let components = state.store.list_components().await?;
        let names: std::collections::BTreeMap<String, String> = components
            .into_iter()
            .map(|c| (c.id.clone(), c.name))
            .collect();
        let channels: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
        let languages: Vec<&str> = crate::http::public::i18n::LANGUAGES
            .iter()
            .map(|(c, _)| *c)
            .collect();
        Ok::<_, ApiError>(page(
            &state,
            &p,
            "/subscribers",
            "subscribers.html",
            context! {
                subscribers, next, names, channels, languages,
                states => STATES,
                channel => f.channel.trim(),
                state => f.state.trim(),
                cursor => f.cursor.trim(),
                notice => f.notice,
                can_store => p.can(DataClass::Subscribers, Action::Store),
                can_modify => p.can(DataClass::Subscribers, Action::Modify),
                can_delete => p.can(DataClass::Subscribers, Action::Delete),
            },
        ))
    }
    .await;
    result.unwrap_or_else(|e| error_page(&state, e))
}

fn back(notice: &str) -> Response {
    redirect_with_notice("/subscribers", notice)
}

#[derive(Deserialize)]
struct NewForm {
    channel: String,
    address: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    region: String,
}

async fn create(State(state): State<AppState>, Auth(p): Auth, Form(f): Form<NewForm>) -> Response {
    let channel = f.channel.trim().to_owned();
    let body = NewSubscriberBody {
        channel: f.channel,
        address: f.address,
        language: some(&f.language),
        components: None,
        region: some(&f.region),
    };
    match add(&state, &p, body).await {
        // A webhook's signing secret is shown once, on this page.
        Ok(s) if s.secret.is_some() => page(
            &state,
            &p,
            "/subscribers",
            "subscriber_secret.html",
            context! { subscriber => s },
        ),
        Ok(_) if channel == "email" => back(phrase(
            "Subscriber added. They get a confirmation link and receive notices once they confirm.",
        )),
        Ok(_) => back(phrase("Subscriber added.")),
        Err(e) => error_page(&state, e),
    }
}

#[derive(Deserialize)]
struct StateForm {
    state: String,
}

async fn set_state(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Form(f): Form<StateForm>,
) -> Response {
    let body = ChangeSubscriberBody {
        language: None,
        components: None,
        state: Some(f.state),
    };
    match change_one(&state, &p, &id, body).await {
        Ok(_) => back(phrase("Subscriber changed.")),
        Err(e) => error_page(&state, e),
    }
}

async fn delete(State(state): State<AppState>, Auth(p): Auth, Path(id): Path<String>) -> Response {
    match remove(&state, &p, &id).await {
        Ok(()) => back(phrase(
            "Subscriber deleted; messages still queued for them are cancelled.",
        )),
        Err(e) => error_page(&state, e),
    }
}
