//! Playbooks: the list, and one playbook's steps. Admins (`settings:modify`)
//! edit them with a form: one step per line, its seat first when it has
//! one (`legal: Decide whether to report to the authorities`). A mistake
//! shows the form again with what was typed.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum_extra::extract::Form;
use minijinja::context;
use serde::Deserialize;

use super::i18n::phrase;
use super::{error_page, page, page_with_status, redirect_with_notice};
use crate::domain::incident::TeamRole;
use crate::domain::{Action, DataClass, Grant};
use crate::http::api::playbooks::{
    create_playbook, delete_playbook, replace_playbook, PlaybookBody, PlaybookStep,
};
use crate::http::error::{ApiError, ApiQuery};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;

const fn need(class: DataClass, action: Action) -> Need {
    Need::Grant(Grant::new(class, action))
}

pub fn routes() -> Vec<Route> {
    use Action::*;
    use DataClass::{Incidents, Settings};
    vec![
        Route::new(Method::GET, "/playbooks", need(Incidents, View), list),
        Route::new(
            Method::GET,
            "/playbooks/{slug}",
            need(Incidents, View),
            show,
        ),
        Route::new(
            Method::POST,
            "/playbooks/{slug}",
            need(Settings, Modify),
            save,
        ),
        Route::new(
            Method::POST,
            "/playbooks/{slug}/delete",
            need(Settings, Modify),
            delete,
        ),
    ]
}

#[derive(Deserialize, Default)]
struct Notice {
    notice: Option<String>,
}

fn seats() -> Vec<&'static str> {
    TeamRole::ALL.iter().map(|s| s.as_str()).collect()
}

async fn list(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(n): ApiQuery<Notice>,
) -> Response {
    match state.store.list_playbooks().await {
        Ok(playbooks) => page(
            &state,
            &p,
            "/incidents",
            "playbooks.html",
            context! {
                playbooks,
                notice => n.notice,
                can_modify => p.can(DataClass::Settings, Action::Modify),
            },
        ),
        Err(e) => error_page(&state, e.into()),
    }
}

/// The steps as the form's text: one per line, `seat: title`.
fn steps_text(items: &[crate::domain::response::PlaybookItem]) -> String {
    items
        .iter()
        .map(|i| match i.seat {
            Some(s) => format!("{}: {}", s.as_str(), i.title),
            None => i.title.clone(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The form's text as steps: a line's first word is its seat when it names
/// one and a colon follows; empty lines are skipped.
fn parse_steps(text: &str) -> Vec<PlaybookStep> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            if let Some((head, rest)) = line.split_once(':') {
                if let Some(seat) = TeamRole::from_db(head.trim()) {
                    return PlaybookStep {
                        title: rest.trim().to_owned(),
                        seat: Some(seat.as_str().to_owned()),
                    };
                }
            }
            PlaybookStep {
                title: line.to_owned(),
                seat: None,
            }
        })
        .collect()
}

async fn show(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(slug): Path<String>,
    ApiQuery(n): ApiQuery<Notice>,
) -> Response {
    let found = if slug == "new" {
        Ok(None)
    } else {
        state.store.playbook(&slug).await
    };
    match found {
        Ok(None) if slug != "new" => error_page(&state, ApiError::NotFound("playbook")),
        Ok(pb) => form_page(
            &state,
            &p,
            StatusCode::OK,
            context! {
                slug => pb.as_ref().map(|b| b.slug.clone()).unwrap_or_default(),
                name => pb.as_ref().map(|b| b.name.clone()).unwrap_or_default(),
                description => pb.as_ref().map(|b| b.description.clone()).unwrap_or_default(),
                steps => pb.as_ref().map(|b| steps_text(&b.items)).unwrap_or_default(),
                items => pb.as_ref().map(|b| b.items.clone()).unwrap_or_default(),
                builtin => pb.as_ref().is_some_and(|b| b.builtin),
                error => None::<String>,
                notice => n.notice,
            },
        ),
        Err(e) => error_page(&state, e.into()),
    }
}

fn form_page(
    state: &AppState,
    p: &crate::auth::Principal,
    code: StatusCode,
    ctx: minijinja::Value,
) -> Response {
    page_with_status(
        state,
        p,
        code,
        "/incidents",
        "playbook.html",
        context! {
            seats => seats(),
            can_modify => p.can(DataClass::Settings, Action::Modify),
            ..ctx
        },
    )
}

async fn save(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(slug): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let new = slug == "new";
    let slug = if new {
        get("slug").trim().to_owned()
    } else {
        slug
    };
    let body = PlaybookBody {
        slug: Some(slug.clone()),
        name: get("name"),
        description: get("description"),
        items: parse_steps(&get("steps")),
    };
    let saved = if new {
        create_playbook(&state, &p, &body).await
    } else {
        replace_playbook(&state, &p, &slug, &body).await
    };
    match saved {
        Ok(pb) => redirect_with_notice(
            &format!("/playbooks/{}", pb.slug),
            phrase("Playbook saved."),
        ),
        Err(e @ (ApiError::BadRequest { .. } | ApiError::Conflict(_))) => {
            let detail = match &e {
                ApiError::BadRequest { detail, .. } => detail.clone(),
                ApiError::Conflict(d) => d.clone(),
                _ => String::new(),
            };
            let builtin = !new
                && state
                    .store
                    .playbook(&slug)
                    .await
                    .ok()
                    .flatten()
                    .is_some_and(|b| b.builtin);
            form_page(
                &state,
                &p,
                e.status(),
                context! {
                    slug => if new { String::new() } else { slug.clone() },
                    typed_slug => slug,
                    name => get("name"),
                    description => get("description"),
                    steps => get("steps"),
                    items => Vec::<crate::domain::response::PlaybookItem>::new(),
                    builtin,
                    error => Some(detail),
                },
            )
        }
        Err(e) => error_page(&state, e),
    }
}

async fn delete(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(slug): Path<String>,
) -> Response {
    match delete_playbook(&state, &p, &slug).await {
        Ok(()) => redirect_with_notice(
            "/playbooks",
            phrase("Playbook deleted; incidents keep their checklists."),
        ),
        Err(e) => error_page(&state, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_starts_with_its_seat_only_when_it_names_one() {
        let steps = parse_steps(
            "legal: Decide whether to report\n\n  Note: this is not a seat\ncx:Brief the agents\n",
        );
        let got: Vec<(&str, Option<&str>)> = steps
            .iter()
            .map(|s| (s.title.as_str(), s.seat.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("Decide whether to report", Some("legal")),
                ("Note: this is not a seat", None),
                ("Brief the agents", Some("cx")),
            ]
        );
    }
}
