//! Subscribing to the status page by email, with double opt-in: the form
//! on /status and a JSON call queue a confirmation; only the signed link
//! in it (and a press of Confirm: mail scanners follow links) activates the
//! subscription. A signed manage link chooses components and language;
//! one-click unsubscribe (RFC 8058) answers a POST to the List-Unsubscribe
//! address. No cookies, no script, no address in any URL.

use std::collections::BTreeMap;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::i18n;
use crate::domain::{DataClass, DomainError};
use crate::http::dashboard::render;
use crate::http::error::{ApiError, ApiJson};
use crate::http::AppState;
use crate::notify::subscribers::{Address, NewSubscriber};
use crate::notify::tokens::{self, Purpose};
use crate::notify::{parse_language, Channel};
use crate::storage::{now_ms, AuditRecord};

type Phrases = BTreeMap<&'static str, &'static str>;

const ROWS: &[(&str, [&str; 4])] = &[
    (
        "heading",
        [
            "Get updates by email",
            "通过电子邮件获取更新",
            "دریافت به‌روزرسانی با ایمیل",
            "ઇમેઇલ દ્વારા અપડેટ્સ મેળવો",
        ],
    ),
    (
        "email",
        ["Email address", "电子邮件地址", "نشانی ایمیل", "ઇમેઇલ સરનામું"],
    ),
    ("button", ["Subscribe", "订阅", "اشتراک", "સબ્સ્ક્રાઇબ કરો"]),
    (
        "note",
        [
            "We send a confirmation first; nothing else until you confirm.",
            "我们会先发送一封确认邮件;在您确认之前不会发送其他任何内容。",
            "ابتدا یک پیام تأیید می‌فرستیم؛ تا تأیید نکنید چیز دیگری فرستاده نمی‌شود.",
            "અમે પહેલા પુષ્ટિ મોકલીએ છીએ; તમે પુષ્ટિ કરો ત્યાં સુધી બીજું કંઈ નહીં.",
        ],
    ),
    (
        "check_inbox",
        [
            "Check your inbox",
            "请查收邮件",
            "صندوق ایمیل خود را ببینید",
            "તમારું ઇનબોક્સ તપાસો",
        ],
    ),
    (
        "check_inbox_body",
        [
            "If this address can receive mail, a message with a confirmation link is on its way.",
            "如果该地址可以接收邮件,一封带有确认链接的邮件正在发送中。",
            "اگر این نشانی بتواند ایمیل دریافت کند، پیامی با پیوند تأیید در راه است.",
            "જો આ સરનામું મેઇલ મેળવી શકે, તો પુષ્ટિ લિંક સાથેનો સંદેશ આવી રહ્યો છે.",
        ],
    ),
    (
        "confirm_heading",
        [
            "Confirm your subscription",
            "确认您的订阅",
            "اشتراک خود را تأیید کنید",
            "તમારા સબ્સ્ક્રિપ્શનની પુષ્ટિ કરો",
        ],
    ),
    ("confirm", ["Confirm", "确认", "تأیید", "પુષ્ટિ કરો"]),
    (
        "confirmed",
        [
            "You are subscribed",
            "您已订阅",
            "اشتراک شما فعال شد",
            "તમે સબ્સ્ક્રાઇબ થયા છો",
        ],
    ),
    (
        "bad_link",
        [
            "This link is not valid or has expired",
            "此链接无效或已过期",
            "این پیوند نامعتبر است یا منقضی شده",
            "આ લિંક અમાન્ય છે અથવા સમાપ્ત થઈ ગઈ છે",
        ],
    ),
    (
        "manage",
        [
            "Your subscription",
            "您的订阅",
            "اشتراک شما",
            "તમારું સબ્સ્ક્રિપ્શન",
        ],
    ),
    ("language", ["Language", "语言", "زبان", "ભાષા"]),
    ("components", ["Components", "组件", "اجزا", "ઘટકો"]),
    ("all_components", ["Everything", "全部", "همه", "બધું"]),
    ("save", ["Save", "保存", "ذخیره", "સાચવો"]),
    ("saved", ["Saved", "已保存", "ذخیره شد", "સાચવ્યું"]),
    (
        "unsubscribe",
        ["Unsubscribe", "退订", "لغو اشتراک", "સબ્સ્ક્રિપ્શન રદ કરો"],
    ),
    (
        "unsubscribed",
        [
            "You are unsubscribed",
            "您已退订",
            "اشتراک شما لغو شد",
            "તમારું સબ્સ્ક્રિપ્શન રદ થયું",
        ],
    ),
    (
        "back",
        ["Status page", "状态页面", "صفحه وضعیت", "સ્થિતિ પૃષ્ઠ"],
    ),
    (
        "too_many",
        [
            "Too many attempts; try again later",
            "尝试次数过多,请稍后再试",
            "تلاش‌های زیاد؛ بعداً دوباره امتحان کنید",
            "ઘણા પ્રયાસો; પછીથી ફરી પ્રયાસ કરો",
        ],
    ),
    (
        "bad_email",
        [
            "That is not an email address",
            "这不是有效的电子邮件地址",
            "این یک نشانی ایمیل نیست",
            "તે ઇમેઇલ સરનામું નથી",
        ],
    ),
];

fn phrases(lang: &str) -> Phrases {
    let idx = match lang {
        "zh" => 1,
        "fa" => 2,
        "gu" => 3,
        _ => 0,
    };
    ROWS.iter().map(|(k, t)| (*k, t[idx])).collect()
}

/// The sign-up form's words on /status.
pub fn form_phrases(lang: &str) -> Phrases {
    phrases(lang)
}

fn lang_of(asked: Option<&str>) -> &'static str {
    let asked = asked.unwrap_or("en");
    i18n::LANGUAGES
        .iter()
        .map(|(c, _)| *c)
        .find(|c| *c == asked)
        .unwrap_or("en")
}

fn page(state: &AppState, lang: &str, status: StatusCode, ctx: minijinja::Value) -> Response {
    let mut resp = render(state, "subscription.html", ctx);
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let _ = lang;
    resp
}

fn message(
    state: &AppState,
    lang: &str,
    status: StatusCode,
    heading: &str,
    body: &str,
) -> Response {
    let p = phrases(lang);
    page(
        state,
        lang,
        status,
        context! { lang, dir => i18n::dir(lang), heading, body, mode => "message", p },
    )
}

fn public_audit(peer: std::net::SocketAddr, action: &str) -> AuditRecord {
    AuditRecord {
        actor: "public".into(),
        address: Some(super::truncate_ip(peer.ip())),
        action: action.into(),
        class: DataClass::Subscribers,
        record: None,
        detail: serde_json::json!({}),
    }
}

/// Why a sign-up did not go ahead.
enum Refused {
    Invalid(DomainError),
    TooMany,
    Other(ApiError),
}

/// The sign-up itself, shared by the form and the JSON call.
async fn sign_up(
    state: &AppState,
    peer: std::net::SocketAddr,
    email: &str,
    language: Option<&str>,
    components: Option<Vec<String>>,
) -> Result<(), Refused> {
    if state.public_throttle.check_key(&peer.ip()).is_err() {
        return Err(Refused::TooMany);
    }
    let address = Address::parse(Channel::Email, email, None).map_err(Refused::Invalid)?;
    let language = parse_language(language).map_err(Refused::Invalid)?;
    if components.as_ref().is_some_and(|c| c.len() > 200) {
        return Err(Refused::Invalid(DomainError::invalid(
            "components",
            "200 at most",
        )));
    }
    let ring = &state.intake.ring;
    // Per address, so nobody can fill someone's inbox with confirmations;
    // keyed by the blind index, not the address.
    if state
        .signup_throttle
        .check_key(&address.blind(ring))
        .is_err()
    {
        return Err(Refused::TooMany);
    }
    let new = NewSubscriber {
        address,
        language,
        components,
        source: "public",
    };
    state
        .store
        .sign_up(ring, &new, public_audit(peer, "subscriber.sign_up"))
        .await
        .map_err(|e| match e {
            crate::notify::subscribers::SubscriberRefusal::UnknownComponent => Refused::Invalid(
                DomainError::invalid("components", "no such public component"),
            ),
            crate::notify::subscribers::SubscriberRefusal::Duplicate => {
                Refused::Other(ApiError::Conflict("try again".into()))
            }
            crate::notify::subscribers::SubscriberRefusal::Store(e) => Refused::Other(e.into()),
        })?;
    Ok(())
}

pub async fn submit_form(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let lang = lang_of(get("lang"));
    let p = phrases(lang);
    if get("website").is_some_and(|v| !v.trim().is_empty()) {
        return message(
            &state,
            lang,
            StatusCode::OK,
            p["check_inbox"],
            p["check_inbox_body"],
        );
    }
    let components: Vec<String> = fields
        .iter()
        .filter(|(n, _)| n == "component")
        .map(|(_, v)| v.clone())
        .collect();
    let components = (!components.is_empty()).then_some(components);
    match sign_up(
        &state,
        peer,
        get("email").unwrap_or(""),
        Some(lang),
        components,
    )
    .await
    {
        Ok(()) => message(
            &state,
            lang,
            StatusCode::OK,
            p["check_inbox"],
            p["check_inbox_body"],
        ),
        Err(Refused::TooMany) => {
            let mut r = message(
                &state,
                lang,
                StatusCode::TOO_MANY_REQUESTS,
                p["too_many"],
                "",
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("3600"));
            r
        }
        Err(Refused::Invalid(_)) => {
            message(&state, lang, StatusCode::BAD_REQUEST, p["bad_email"], "")
        }
        Err(Refused::Other(e)) => e.into_response(),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUpBody {
    pub email: String,
    /// en (default), zh, fa, gu.
    #[serde(default)]
    pub language: Option<String>,
    /// Component ids; absent: every component.
    #[serde(default)]
    pub components: Option<Vec<String>>,
}

#[derive(Serialize)]
pub struct SignUpAnswer {
    status: &'static str,
    detail: &'static str,
}

pub async fn submit_json(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    ApiJson(body): ApiJson<SignUpBody>,
) -> Result<(StatusCode, Json<SignUpAnswer>), ApiError> {
    match sign_up(
        &state,
        peer,
        &body.email,
        body.language.as_deref(),
        body.components,
    )
    .await
    {
        Ok(()) => Ok((
            StatusCode::ACCEPTED,
            Json(SignUpAnswer {
                status: "confirmation_sent",
                detail: "if this address can receive mail, a confirmation link is on its way; nothing else is sent until it is followed",
            }),
        )),
        Err(Refused::TooMany) => Err(ApiError::RateLimited(3600)),
        Err(Refused::Invalid(e)) => Err(e.into()),
        Err(Refused::Other(e)) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    t: String,
    #[serde(default)]
    lang: Option<String>,
}

/// The subscriber a token leads to, with their language.
async fn subscriber_of(
    state: &AppState,
    purpose: Purpose,
    token: &str,
) -> Option<crate::notify::subscribers::Subscriber> {
    let id = tokens::verify(&state.intake.ring, purpose, token, now_ms())?;
    state
        .store
        .subscriber(&state.intake.ring, &id)
        .await
        .ok()
        .flatten()
}

fn bad_link(state: &AppState, lang: &str) -> Response {
    let p = phrases(lang);
    message(state, lang, StatusCode::NOT_FOUND, p["bad_link"], "")
}

pub async fn confirm_page(State(state): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    let Some(s) = subscriber_of(&state, Purpose::Confirm, &q.t).await else {
        return bad_link(&state, lang_of(q.lang.as_deref()));
    };
    let lang = lang_of(Some(&s.language));
    let p = phrases(lang);
    page(
        &state,
        lang,
        StatusCode::OK,
        context! { lang, dir => i18n::dir(lang), heading => p["confirm_heading"], body => "", mode => "confirm", token => q.t, p },
    )
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    t: String,
}

pub async fn confirm(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Form(f): Form<TokenForm>,
) -> Response {
    let Some(s) = subscriber_of(&state, Purpose::Confirm, &f.t).await else {
        return bad_link(&state, "en");
    };
    let lang = lang_of(Some(&s.language));
    if s.state == "pending" {
        if let Err(e) = state
            .store
            .confirm_subscriber(&s.id, public_audit(peer, "subscriber.confirm"))
            .await
        {
            return ApiError::from(e).into_response();
        }
    } else if s.state != "active" {
        return bad_link(&state, lang);
    }
    manage_view(&state, &s.id, lang, phrases(lang)["confirmed"]).await
}

async fn manage_view(state: &AppState, id: &str, lang: &str, heading: &str) -> Response {
    let ring = &state.intake.ring;
    let Ok(Some(s)) = state.store.subscriber(ring, id).await else {
        return bad_link(state, lang);
    };
    let token = tokens::sign(ring, Purpose::Manage, &s.id, 0);
    let components: Vec<_> = match state.store.list_components().await {
        Ok(all) => all
            .into_iter()
            .filter(|c| !c.is_group && !c.private)
            .map(|c| {
                let chosen = s.components.contains(&c.id);
                context! { id => c.id, name => c.name, chosen }
            })
            .collect(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let p = phrases(lang);
    page(
        state,
        lang,
        StatusCode::OK,
        context! {
            lang, dir => i18n::dir(lang), heading, body => s.address, mode => "manage", token, p,
            languages => i18n::LANGUAGES.to_vec(), language => s.language,
            all_components => s.all_components, components,
        },
    )
}

pub async fn manage_page(State(state): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    let Some(s) = subscriber_of(&state, Purpose::Manage, &q.t).await else {
        return bad_link(&state, lang_of(q.lang.as_deref()));
    };
    let lang = lang_of(Some(&s.language));
    if s.state == "unsubscribed" || s.state == "disabled" {
        let p = phrases(lang);
        return message(&state, lang, StatusCode::OK, p["unsubscribed"], "");
    }
    manage_view(&state, &s.id, lang, phrases(lang)["manage"]).await
}

pub async fn manage(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let Some(s) = subscriber_of(&state, Purpose::Manage, get("t").unwrap_or("")).await else {
        return bad_link(&state, "en");
    };
    let Ok(language) = parse_language(get("language")) else {
        return bad_link(&state, "en");
    };
    let chosen: Vec<String> = fields
        .iter()
        .filter(|(n, _)| n == "component")
        .map(|(_, v)| v.clone())
        .take(200)
        .collect();
    let all = get("all").is_some() || chosen.is_empty();
    let components = if all { None } else { Some(chosen.as_slice()) };
    let result = state
        .store
        .change_subscriber(
            &s.id,
            Some(&language),
            Some(components),
            None,
            public_audit(peer, "subscriber.change"),
        )
        .await;
    let lang = lang_of(Some(&language));
    match result {
        Ok(()) => manage_view(&state, &s.id, lang, phrases(lang)["saved"]).await,
        Err(crate::notify::subscribers::SubscriberRefusal::UnknownComponent) => message(
            &state,
            lang,
            StatusCode::BAD_REQUEST,
            phrases(lang)["bad_link"],
            "",
        ),
        Err(crate::notify::subscribers::SubscriberRefusal::Store(e)) => {
            ApiError::from(e).into_response()
        }
        Err(e) => ApiError::Conflict(e.to_string()).into_response(),
    }
}

pub async fn unsubscribe_page(
    State(state): State<AppState>,
    Query(q): Query<TokenQuery>,
) -> Response {
    let Some(s) = subscriber_of(&state, Purpose::Manage, &q.t).await else {
        return bad_link(&state, lang_of(q.lang.as_deref()));
    };
    let lang = lang_of(Some(&s.language));
    let p = phrases(lang);
    page(
        &state,
        lang,
        StatusCode::OK,
        context! { lang, dir => i18n::dir(lang), heading => p["unsubscribe"], body => s.address, mode => "unsubscribe", token => q.t, p },
    )
}

/// One-click unsubscribe: mail clients POST `List-Unsubscribe=One-Click`
/// to the List-Unsubscribe address (RFC 8058); the page's button posts the
/// same address. Either way the token in the query decides.
pub async fn unsubscribe(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Query(q): Query<TokenQuery>,
) -> Response {
    let Some(s) = subscriber_of(&state, Purpose::Manage, &q.t).await else {
        return bad_link(&state, lang_of(q.lang.as_deref()));
    };
    let lang = lang_of(Some(&s.language));
    if s.state != "unsubscribed" {
        if let Err(e) = state
            .store
            .change_subscriber(
                &s.id,
                None,
                None,
                Some("unsubscribed"),
                public_audit(peer, "subscriber.unsubscribe"),
            )
            .await
        {
            return match e {
                crate::notify::subscribers::SubscriberRefusal::Store(e) => {
                    ApiError::from(e).into_response()
                }
                e => ApiError::Conflict(e.to_string()).into_response(),
            };
        }
    }
    let p = phrases(lang);
    message(&state, lang, StatusCode::OK, p["unsubscribed"], "")
}
