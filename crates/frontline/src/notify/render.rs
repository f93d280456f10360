//! What a notice says on each channel, in each language. Every message
//! goes through [`render`]: the one place that picks the language variant
//! of an update (falling back to the update's own text) and shapes it for
//! the channel.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::Channel;
use crate::http::public::i18n;

/// A published update as customers are told it.
#[derive(Debug, Clone)]
pub struct Notice {
    pub incident_id: String,
    pub incident_title: String,
    pub impact: String,
    pub update_id: String,
    /// investigating, identified, monitoring, resolved, postmortem.
    pub status: String,
    /// The update's text as written.
    pub body: String,
    /// The same update in other languages (language -> text), where
    /// someone wrote one.
    pub variants: BTreeMap<String, String>,
    /// Names of the components the incident touches.
    pub components: Vec<String>,
    /// RFC 3339.
    pub published_at: String,
    /// The status page address, e.g. `https://status.example.com`.
    pub base_url: String,
}

/// A message ready for its channel.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub language: String,
    pub subject: String,
    pub text: String,
    /// Email only.
    pub html: Option<String>,
    /// The JSON body of webhook, Slack and Teams messages.
    pub json: Option<Value>,
}

/// Phrases of the messages themselves (the pages have their own).
fn phrase(lang: &str, key: &str) -> &'static str {
    const ROWS: &[(&str, [&str; 4])] = &[
        (
            "unsubscribe",
            ["Unsubscribe", "退订", "لغو اشتراک", "સબ્સ્ક્રિપ્શન રદ કરો"],
        ),
        (
            "manage",
            [
                "Manage your subscription",
                "管理您的订阅",
                "مدیریت اشتراک",
                "તમારું સબ્સ્ક્રિપ્શન સંચાલિત કરો",
            ],
        ),
        (
            "status_page",
            ["Status page", "状态页面", "صفحه وضعیت", "સ્થિતિ પૃષ્ઠ"],
        ),
        (
            "affected",
            ["Affected", "受影响", "تحت تأثیر", "અસરગ્રસ્ત"],
        ),
        (
            "confirm_subject",
            [
                "Confirm your subscription to status updates",
                "请确认订阅状态更新",
                "اشتراک به‌روزرسانی‌های وضعیت را تأیید کنید",
                "સ્થિતિ અપડેટ્સના સબ્સ્ક્રિપ્શનની પુષ્ટિ કરો",
            ],
        ),
        (
            "confirm_body",
            [
                "Someone, hopefully you, asked to receive status updates at this address. To confirm, open this link and press Confirm. If it was not you, ignore this message: nothing more will be sent.",
                "有人(希望是您)请求向此地址发送状态更新。如需确认,请打开此链接并点击“确认”。如果不是您本人,请忽略此邮件,我们不会再发送任何邮件。",
                "کسی، امیدواریم خود شما، خواسته است به‌روزرسانی‌های وضعیت به این نشانی فرستاده شود. برای تأیید، این پیوند را باز کنید و «تأیید» را بزنید. اگر شما نبودید، این پیام را نادیده بگیرید: چیز دیگری فرستاده نمی‌شود.",
                "કોઈએ, આશા છે કે તમે, આ સરનામે સ્થિતિ અપડેટ્સ મેળવવા વિનંતી કરી છે. પુષ્ટિ કરવા માટે આ લિંક ખોલો અને પુષ્ટિ કરો દબાવો. જો તે તમે ન હતા, તો આ સંદેશને અવગણો: વધુ કંઈ મોકલવામાં આવશે નહીં.",
            ],
        ),
    ];
    let idx = match lang {
        "zh" => 1,
        "fa" => 2,
        "gu" => 3,
        _ => 0,
    };
    ROWS.iter()
        .find(|(k, _)| *k == key)
        .map(|(_, t)| t[idx])
        .unwrap_or("")
}

/// The links a subscriber's message carries.
#[derive(Debug, Clone, Default)]
pub struct Links {
    /// One-click unsubscribe (also the List-Unsubscribe URL).
    pub unsubscribe: Option<String>,
    pub manage: Option<String>,
}

/// Renders `notice` for `channel` in `language`: the language's variant
/// where there is one, else the update's own text.
pub fn render(notice: &Notice, language: &str, channel: Channel) -> Rendered {
    render_with(notice, language, channel, &Links::default())
}

pub fn render_with(notice: &Notice, language: &str, channel: Channel, links: &Links) -> Rendered {
    let lang = if i18n::LANGUAGES.iter().any(|(c, _)| *c == language) {
        language
    } else {
        "en"
    };
    let body = notice
        .variants
        .get(lang)
        .filter(|v| !v.trim().is_empty())
        .unwrap_or(&notice.body);
    let status = i18n::t(lang, &format!("is_{}", notice.status));
    let status = if status.is_empty() {
        notice.status.as_str()
    } else {
        status
    };
    let subject = format!("[{status}] {}", notice.incident_title);
    let page = format!(
        "{}/status?lang={lang}#{}",
        notice.base_url, notice.incident_id
    );
    let affected = if notice.components.is_empty() {
        String::new()
    } else {
        format!(
            "{}: {}",
            phrase(lang, "affected"),
            notice.components.join(", ")
        )
    };
    match channel {
        Channel::Email => {
            let mut text = format!("{subject}\n\n{body}\n\n");
            if !affected.is_empty() {
                text.push_str(&affected);
                text.push_str("\n\n");
            }
            text.push_str(&format!("{}: {page}\n", phrase(lang, "status_page")));
            if let Some(m) = &links.manage {
                text.push_str(&format!("{}: {m}\n", phrase(lang, "manage")));
            }
            if let Some(u) = &links.unsubscribe {
                text.push_str(&format!("{}: {u}\n", phrase(lang, "unsubscribe")));
            }
            let dir = i18n::dir(lang);
            let mut html = format!(
                "<!doctype html><html lang=\"{lang}\" dir=\"{dir}\"><head><meta charset=\"utf-8\"><title>{}</title></head><body>\
<h1>{}</h1><p><strong>{}</strong></p>",
                esc(&subject),
                esc(&notice.incident_title),
                esc(status)
            );
            for para in body.split("\n\n") {
                html.push_str(&format!("<p>{}</p>", esc(para).replace('\n', "<br>")));
            }
            if !affected.is_empty() {
                html.push_str(&format!("<p>{}</p>", esc(&affected)));
            }
            html.push_str(&format!(
                "<p><a href=\"{}\">{}</a></p>",
                esc(&page),
                phrase(lang, "status_page")
            ));
            let mut foot = Vec::new();
            if let Some(m) = &links.manage {
                foot.push(format!(
                    "<a href=\"{}\">{}</a>",
                    esc(m),
                    phrase(lang, "manage")
                ));
            }
            if let Some(u) = &links.unsubscribe {
                foot.push(format!(
                    "<a href=\"{}\">{}</a>",
                    esc(u),
                    phrase(lang, "unsubscribe")
                ));
            }
            if !foot.is_empty() {
                html.push_str(&format!("<p><small>{}</small></p>", foot.join(" · ")));
            }
            html.push_str("</body></html>");
            Rendered {
                language: lang.to_owned(),
                subject,
                text,
                html: Some(html),
                json: None,
            }
        }
        Channel::Sms => {
            // One or two SMS segments: the status, title and the link.
            let mut text = format!("{subject}: {body}");
            if text.chars().count() > 250 {
                text = text.chars().take(247).collect::<String>() + "...";
            }
            text.push(' ');
            text.push_str(&page);
            Rendered {
                language: lang.to_owned(),
                subject,
                text,
                html: None,
                json: None,
            }
        }
        // Notices never go to PagerDuty (routes do); if one did, it would
        // be the webhook's body.
        Channel::Webhook | Channel::PagerDuty => {
            let data = json!({
                "type": "incident.update",
                "timestamp": notice.published_at,
                "data": {
                    "incident": {
                        "id": notice.incident_id,
                        "name": notice.incident_title,
                        "impact": notice.impact,
                        "status": notice.status,
                        "components": notice.components,
                        "shortlink": page,
                    },
                    "update": {
                        "id": notice.update_id,
                        "status": notice.status,
                        "body": body,
                        "language": lang,
                        "published_at": notice.published_at,
                    }
                }
            });
            Rendered {
                language: lang.to_owned(),
                subject,
                text: body.clone(),
                html: None,
                json: Some(data),
            }
        }
        Channel::Slack => {
            let mrkdwn = format!(
                "*{}*\n{}\n<{}|{}>",
                slack_escape(&subject),
                slack_escape(body),
                page,
                phrase(lang, "status_page")
            );
            let data = json!({
                "text": format!("{subject}: {body}"),
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}
                ]
            });
            Rendered {
                language: lang.to_owned(),
                subject,
                text: body.clone(),
                html: None,
                json: Some(data),
            }
        }
        Channel::Teams => {
            let mut blocks = vec![
                json!({"type": "TextBlock", "text": notice.incident_title, "weight": "Bolder", "size": "Medium", "wrap": true}),
                json!({"type": "TextBlock", "text": status, "isSubtle": true, "wrap": true}),
                json!({"type": "TextBlock", "text": body, "wrap": true}),
            ];
            if !affected.is_empty() {
                blocks.push(json!({"type": "TextBlock", "text": affected, "wrap": true}));
            }
            let data = json!({
                "type": "message",
                "attachments": [{
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": null,
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "rtl": i18n::dir(lang) == "rtl",
                        "body": blocks,
                        "actions": [
                            {"type": "Action.OpenUrl", "title": phrase(lang, "status_page"), "url": page}
                        ]
                    }
                }]
            });
            Rendered {
                language: lang.to_owned(),
                subject,
                text: body.clone(),
                html: None,
                json: Some(data),
            }
        }
    }
}

/// The confirmation email of a sign-up.
pub fn render_confirmation(language: &str, confirm_url: &str) -> Rendered {
    let lang = if i18n::LANGUAGES.iter().any(|(c, _)| *c == language) {
        language
    } else {
        "en"
    };
    let subject = phrase(lang, "confirm_subject").to_owned();
    let body = phrase(lang, "confirm_body");
    let text = format!("{body}\n\n{confirm_url}\n");
    let html = format!(
        "<!doctype html><html lang=\"{lang}\" dir=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head><body>\
<p>{}</p><p><a href=\"{}\">{}</a></p></body></html>",
        i18n::dir(lang),
        esc(&subject),
        esc(body),
        esc(confirm_url),
        esc(confirm_url)
    );
    Rendered {
        language: lang.to_owned(),
        subject,
        text,
        html: Some(html),
        json: None,
    }
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice() -> Notice {
        Notice {
            incident_id: "inc_1".into(),
            incident_title: "Login <failures>".into(),
            impact: "major".into(),
            update_id: "ntc_1".into(),
            status: "investigating".into(),
            body: "We are looking into it.".into(),
            variants: BTreeMap::from([("fa".into(), "در حال بررسی هستیم.".into())]),
            components: vec!["Login".into()],
            published_at: "2026-12-01T00:00:00Z".into(),
            base_url: "https://status.example.com".into(),
        }
    }

    #[test]
    fn a_variant_is_used_where_it_exists_and_the_body_elsewhere() {
        let n = notice();
        let fa = render(&n, "fa", Channel::Email);
        assert!(fa.text.contains("در حال بررسی هستیم."));
        assert!(fa.html.as_deref().unwrap().contains("dir=\"rtl\""));
        let zh = render(&n, "zh", Channel::Email);
        assert!(zh.text.contains("We are looking into it."));
        assert!(zh.subject.starts_with("[调查中]"));
        let unknown = render(&n, "xx", Channel::Email);
        assert_eq!(unknown.language, "en");
    }

    #[test]
    fn html_is_escaped() {
        let r = render(&notice(), "en", Channel::Email);
        let html = r.html.unwrap();
        assert!(html.contains("Login &lt;failures&gt;"));
        assert!(!html.contains("<failures>"));
    }

    #[test]
    fn slack_and_teams_have_their_shapes() {
        let s = render(&notice(), "en", Channel::Slack).json.unwrap();
        assert_eq!(s["blocks"][0]["type"], "section");
        assert!(s["text"].as_str().unwrap().contains("We are looking"));
        let t = render(&notice(), "en", Channel::Teams).json.unwrap();
        assert_eq!(
            t["attachments"][0]["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(t["attachments"][0]["content"]["type"], "AdaptiveCard");
    }
}
