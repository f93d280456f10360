//! The demo's mailbox: what Frontline sent through the local mail catcher
//! (confirmations, notices, survey invitations), readable in the
//! dashboard. Recipients are masked in the list; opening a message shows
//! its address and body, and is audited like any look at personal data.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use minijinja::context;
use serde::Serialize;

use super::i18n::phrase;
use super::{error_page, page};
use crate::domain::user::mask_email;
use crate::domain::{Action, DataClass, Grant};
use crate::http::error::ApiError;
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::notify::catcher::Caught;

const VIEW: Need = Need::Grant(Grant::new(DataClass::Subscribers, Action::View));

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/mail", VIEW, list),
        Route::new(Method::GET, "/mail/{n}", VIEW, one),
    ]
}

#[derive(Serialize)]
struct Row {
    n: usize,
    received_at: String,
    to: String,
    subject: String,
    language: String,
    kind: &'static str,
}

fn parse(m: &Caught) -> Option<mail_parser::Message<'_>> {
    mail_parser::MessageParser::default().parse(&m.raw)
}

fn language(msg: &mail_parser::Message<'_>) -> String {
    msg.header_raw("Content-Language")
        .map(|v| v.trim().to_owned())
        .unwrap_or_default()
}

/// What a message is, by its content: a sign-up confirmation, a survey
/// invitation or an incident notice.
fn kind(msg: &mail_parser::Message<'_>) -> &'static str {
    let text = msg.body_text(0).unwrap_or_default();
    if text.contains("/status/confirm") {
        phrase("confirmation")
    } else if text.contains("/f/incident-") {
        phrase("mail|survey")
    } else if msg.header_raw("List-Unsubscribe").is_some() {
        phrase("mail|notice")
    } else {
        phrase("mail|other")
    }
}

fn not_here(state: &AppState) -> Response {
    error_page(
        state,
        ApiError::NotFound("mailbox (this server sends mail through notify.smtp_url)"),
    )
}

async fn list(State(state): State<AppState>, Auth(p): Auth) -> Response {
    let Some(mailbox) = state.mailbox.get() else {
        return not_here(&state);
    };
    let mut rows: Vec<Row> = mailbox
        .messages()
        .iter()
        .enumerate()
        .map(|(n, m)| {
            let msg = parse(m);
            Row {
                n,
                received_at: m.received_at.format("%H:%M:%S").to_string(),
                to: m
                    .to
                    .iter()
                    .map(|t| mask_email(t))
                    .collect::<Vec<_>>()
                    .join(", "),
                subject: msg
                    .as_ref()
                    .and_then(|x| x.subject())
                    .unwrap_or("")
                    .to_owned(),
                language: msg.as_ref().map(language).unwrap_or_default(),
                kind: msg.as_ref().map(kind).unwrap_or(phrase("mail|other")),
            }
        })
        .collect();
    rows.reverse();
    page(
        &state,
        &p,
        "/mail",
        "mail.html",
        context! { messages => rows, catcher => mailbox.url() },
    )
}

async fn one(State(state): State<AppState>, Auth(p): Auth, Path(n): Path<usize>) -> Response {
    let Some(mailbox) = state.mailbox.get() else {
        return not_here(&state);
    };
    let Some(m) = mailbox.message(n) else {
        return error_page(&state, ApiError::NotFound("message"));
    };
    let Some(msg) = parse(&m) else {
        return error_page(&state, ApiError::NotFound("message"));
    };
    // The recipient's address and the body are personal data: looked at
    // deliberately, so written down.
    if let Err(e) = state
        .store
        .audit(p.audit(
            "mail.view",
            DataClass::Subscribers,
            Some(format!("mail/{n}")),
        ))
        .await
    {
        return error_page(&state, e.into());
    }
    let lang = language(&msg);
    let dir = crate::domain::response::language_dir(lang.split('-').next().unwrap_or(""));
    page(
        &state,
        &p,
        "/mail",
        "mail_message.html",
        context! {
            n,
            from => m.from,
            to => m.to.join(", "),
            subject => msg.subject().unwrap_or(""),
            date => m.received_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            language => lang,
            dir,
            kind => kind(&msg),
            unsubscribe => msg.header_raw("List-Unsubscribe").map(|v| v.trim().to_owned()),
            text => msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
            has_html => msg.body_html(0).is_some(),
        },
    )
}
