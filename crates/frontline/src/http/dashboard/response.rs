//! The response parts of the incident page: checklist controls, updates
//! from templates, the cadence, postmortem, remedies and the survey; the
//! signal page's "declare an incident"; the postmortems list.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use minijinja::context;

use super::i18n::{self, phrase};
use super::{error_page, page};
use crate::domain::incident::IncidentChange;
use crate::domain::response::{parse_update_every, ActionItem, FieldText, NOTICE_LANGUAGES};
use crate::domain::{Action, DataClass, Grant};
use crate::http::api::incidents::{cadence, refusal};
use crate::http::api::response::{
    change_checklist, count_remedy, make_survey, offer_remedy, parse_step_change, promote_signal,
    save_postmortem, send_survey_invites, start_postmortem_for, write_from_template,
    FromTemplateBody, PostmortemBody, PromoteBody, RemedyBody, RemedyCounts, StepChangeBody,
};
use crate::http::error::ApiError;
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::notify::survey::Invitees;

const fn need(class: DataClass, action: Action) -> Need {
    Need::Grant(Grant::new(class, action))
}

pub fn routes() -> Vec<Route> {
    use Action::*;
    use DataClass::{Feedback, Incidents, Notices, Subscribers};
    vec![
        Route::new(
            Method::POST,
            "/incidents/{id}/checklist/{item}",
            need(Incidents, Modify),
            checklist_item,
        ),
        Route::new(
            Method::POST,
            "/incidents/{id}/cadence",
            need(Incidents, Modify),
            set_cadence,
        ),
        Route::new(
            Method::POST,
            "/incidents/{id}/updates/from-template",
            need(Notices, Store),
            from_template,
        ),
        Route::new(
            Method::POST,
            "/incidents/{id}/postmortem",
            need(Incidents, Store),
            postmortem,
        ),
        Route::new(
            Method::POST,
            "/incidents/{id}/remedies",
            need(Incidents, Modify),
            add_remedy,
        ),
        Route::new(
            Method::POST,
            "/incidents/{id}/remedies/{rid}",
            need(Incidents, Modify),
            update_remedy,
        ),
        Route::new(
            Method::POST,
            "/incidents/{id}/survey",
            need(Feedback, Store),
            survey,
        ),
        Route::new(
            Method::POST,
            "/incidents/{id}/survey/send",
            need(Subscribers, Modify),
            send_survey,
        ),
        Route::new(
            Method::POST,
            "/incidents/{id}/affected",
            need(Subscribers, Store),
            import_affected,
        ),
        Route::new(
            Method::POST,
            "/incidents/{id}/affected/notify",
            need(Subscribers, Modify),
            notify_affected,
        ),
        Route::new(
            Method::POST,
            "/signals/{id}/promote",
            need(Incidents, Store),
            promote,
        ),
        Route::new(
            Method::GET,
            "/postmortems",
            need(Incidents, View),
            postmortems,
        ),
    ]
}

fn back(id: &str, notice: &str, anchor: &str) -> Response {
    let notice: String = url::form_urlencoded::byte_serialize(notice.as_bytes()).collect();
    Redirect::to(&format!("/incidents/{id}?notice={notice}#{anchor}")).into_response()
}

fn field<'a>(form: &'a HashMap<String, String>, key: &str) -> Option<&'a str> {
    form.get(key).map(|s| s.trim()).filter(|s| !s.is_empty())
}

async fn checklist_item(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path((id, item)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let body = match field(&form, "action") {
        Some("check") => StepChangeBody {
            done: Some(true),
            ..Default::default()
        },
        Some("uncheck") => StepChangeBody {
            done: Some(false),
            ..Default::default()
        },
        _ => StepChangeBody {
            seat: Some(field(&form, "seat").map(str::to_owned)),
            assignee: Some(field(&form, "assignee").map(str::to_owned)),
            ..Default::default()
        },
    };
    let result = async {
        let change = parse_step_change(&body)?;
        change_checklist(&state, &p, &id, &item, &change).await
    }
    .await;
    match result {
        Ok(_) => back(&id, phrase("Checklist updated."), "checklist-h"),
        Err(e) => error_page(&state, e),
    }
}

async fn set_cadence(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let result = async {
        let minutes: i64 = field(&form, "update_every_minutes")
            .unwrap_or("0")
            .parse()
            .map_err(|_| {
                crate::domain::DomainError::invalid(
                    "update_every_minutes",
                    "a whole number of minutes",
                )
            })?;
        let change = IncidentChange {
            update_every_minutes: Some(parse_update_every(minutes)?),
            ..Default::default()
        };
        let incident = state
            .store
            .update_incident(
                &id,
                &change,
                &cadence(&state),
                p.audit("incident.update", DataClass::Incidents, None),
            )
            .await
            .map_err(refusal)?;
        state.events.publish(
            "incident.changed",
            DataClass::Incidents,
            serde_json::json!({ "id": incident.id, "status": incident.status }),
        );
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => back(&id, phrase("Update cadence set."), "cadence-h"),
        Err(e) => error_page(&state, e),
    }
}

/// The template form: one fieldset per language; a language whose "what
/// happened" is empty is left out.
async fn from_template(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut fields: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut languages = Vec::new();
    for (lang, _) in NOTICE_LANGUAGES {
        if field(&form, &format!("what_happened_{lang}")).is_none() {
            continue;
        }
        languages.push((*lang).to_owned());
        for f in [
            "what_happened",
            "impact",
            "actions",
            "contact",
            "advice",
            "remedy",
        ] {
            if let Some(v) = field(&form, &format!("{f}_{lang}")) {
                fields
                    .entry(f.to_owned())
                    .or_default()
                    .insert((*lang).to_owned(), v.to_owned());
            }
        }
    }
    let body = FromTemplateBody {
        template: field(&form, "template").unwrap_or("").to_owned(),
        status: field(&form, "status").map(str::to_owned),
        languages: Some(languages),
        fields: fields
            .into_iter()
            .map(|(k, v)| (k, FieldText::PerLanguage(v)))
            .collect(),
        components: BTreeMap::new(),
        draft: field(&form, "draft").is_some(),
    };
    match write_from_template(&state, &p, &id, &body).await {
        Ok(u) if u.update.published_at.is_some() => {
            back(&id, phrase("Update published."), "updates-h")
        }
        Ok(_) => back(&id, phrase("Draft saved; preview it below."), "updates-h"),
        Err(e) => error_page(&state, e),
    }
}

async fn postmortem(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if field(&form, "start").is_some() {
        return match start_postmortem_for(&state, &p, &id).await {
            Ok(_) => back(
                &id,
                phrase("Postmortem started from the timeline."),
                "postmortem-h",
            ),
            Err(e) => error_page(&state, e),
        };
    }
    if !p.can(DataClass::Incidents, Action::Modify) {
        return error_page(
            &state,
            ApiError::Forbidden(Grant::new(DataClass::Incidents, Action::Modify)),
        );
    }
    let mut items = Vec::new();
    for n in 0..100 {
        let Some(title) = field(&form, &format!("ai_title_{n}")) else {
            if form.contains_key(&format!("ai_title_{n}")) {
                continue;
            }
            break;
        };
        items.push(ActionItem {
            title: title.to_owned(),
            owner: field(&form, &format!("ai_owner_{n}")).map(str::to_owned),
            due: field(&form, &format!("ai_due_{n}")).map(str::to_owned),
            done: field(&form, &format!("ai_done_{n}")).is_some(),
        });
    }
    let text = |k: &str| form.get(k).map(|s| s.trim().to_owned());
    let body = PostmortemBody {
        summary: text("summary"),
        root_cause: text("root_cause"),
        impact: text("impact"),
        went_well: text("went_well"),
        to_improve: text("to_improve"),
        action_items: Some(items),
        publish: field(&form, "publish").is_some(),
    };
    match save_postmortem(&state, &p, &id, &body).await {
        Ok(pm) if pm.published_at.is_some() => {
            back(&id, phrase("Postmortem published."), "postmortem-h")
        }
        Ok(_) => back(&id, phrase("Postmortem saved."), "postmortem-h"),
        Err(e) => error_page(&state, e),
    }
}

fn number(form: &HashMap<String, String>, key: &'static str) -> Result<i64, ApiError> {
    field(form, key)
        .unwrap_or("0")
        .parse()
        .map_err(|_| crate::domain::DomainError::invalid(key, "a whole number").into())
}

async fn add_remedy(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let result = async {
        let body = RemedyBody {
            kind: field(&form, "kind").unwrap_or("").to_owned(),
            description: field(&form, "description").unwrap_or("").to_owned(),
            offered: number(&form, "offered")?,
            taken: number(&form, "taken")?,
        };
        offer_remedy(&state, &p, &id, &body).await
    }
    .await;
    match result {
        Ok(_) => back(&id, phrase("Remedy recorded."), "remedies-h"),
        Err(e) => error_page(&state, e),
    }
}

async fn update_remedy(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path((id, rid)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let result = async {
        let body = RemedyCounts {
            offered: number(&form, "offered")?,
            taken: number(&form, "taken")?,
        };
        count_remedy(&state, &p, &id, &rid, &body).await
    }
    .await;
    match result {
        Ok(_) => back(&id, phrase("Remedy updated."), "remedies-h"),
        Err(e) => error_page(&state, e),
    }
}

async fn survey(State(state): State<AppState>, Auth(p): Auth, Path(id): Path<String>) -> Response {
    match make_survey(&state, &p, &id).await {
        Ok(_) => back(&id, phrase("Post-incident survey created."), "survey-h"),
        Err(e) => error_page(&state, e),
    }
}

async fn send_survey(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> Response {
    let everyone = Invitees {
        affected: true,
        subscribers: true,
    };
    match send_survey_invites(&state, &p, &id, everyone).await {
        Ok(q) => back(
            &id,
            &i18n::tf(
                p.language,
                phrase("Survey invitations queued: {affected} affected customers, {subscribers} subscribers."),
                &[("affected", &q.affected), ("subscribers", &q.subscribers)],
            ),
            "survey-h",
        ),
        Err(e) => error_page(&state, e),
    }
}

/// The affected customers pasted as CSV into the incident page.
async fn import_affected(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let result = async {
        let incident = crate::http::api::incidents::find(&state, &id).await?;
        let text = field(&form, "csv").ok_or_else(|| {
            ApiError::bad_request(
                "paste the affected customers as CSV lines under a header line such as email,language",
            )
        })?;
        let rows = crate::http::api::subscribers::parse_csv(text.as_bytes())?;
        crate::http::api::subscribers::import_rows(&state, &p, &incident.id, &rows).await
    }
    .await;
    match result {
        Ok(r) => {
            let mut notice = i18n::tf(
                p.language,
                phrase("Affected customers: {added} added, {duplicates} already on the list, {rejected} refused."),
                &[
                    ("added", &r.added),
                    ("duplicates", &r.duplicates),
                    ("rejected", &r.rejected.len()),
                ],
            );
            // Which lines, and why (never the values).
            for e in r.rejected.iter().take(5) {
                notice.push_str(&format!(
                    " {} {}: {}.",
                    i18n::t(p.language, phrase("Line")),
                    e.row,
                    e.detail
                ));
            }
            back(&id, &notice, "affected-h")
        }
        Err(e) => error_page(&state, e),
    }
}

async fn notify_affected(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let result = async {
        let incident = crate::http::api::incidents::find(&state, &id).await?;
        let update = field(&form, "update")
            .ok_or_else(|| ApiError::bad_request("choose a published update to send"))?;
        crate::http::api::subscribers::notify_update(&state, &p, &incident, update).await
    }
    .await;
    match result {
        Ok(n) => back(
            &id,
            &i18n::tf(
                p.language,
                phrase("The update is on its way to {n} affected customers (those already sent it are skipped)."),
                &[("n", &n)],
            ),
            "affected-h",
        ),
        Err(e) => error_page(&state, e),
    }
}

async fn promote(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let body = PromoteBody {
        incident_id: field(&form, "incident_id").map(str::to_owned),
        title: field(&form, "title").map(str::to_owned),
        severity: field(&form, "severity").map(str::to_owned),
        impact: field(&form, "impact").map(str::to_owned),
        playbook: field(&form, "playbook").map(str::to_owned),
        team: BTreeMap::new(),
        update_every_minutes: None,
    };
    match promote_signal(&state, &p, &id, body).await {
        Ok(i) => Redirect::to(&format!(
            "/incidents/{}?notice=Declared%20from%20the%20signal.",
            i.id
        ))
        .into_response(),
        Err(e) => error_page(&state, e),
    }
}

async fn postmortems(State(state): State<AppState>, Auth(p): Auth) -> Response {
    match state.store.list_postmortems().await {
        Ok(list) => {
            let rows: Vec<_> = list
                .into_iter()
                .map(|(pm, title)| context! { pm, title })
                .collect();
            page(
                &state,
                &p,
                "/incidents",
                "postmortems.html",
                context! { rows },
            )
        }
        Err(e) => error_page(&state, e.into()),
    }
}
