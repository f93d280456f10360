//! The post-incident survey, sent once an incident is resolved: an
//! invitation by email or SMS, in each recipient's language, to the
//! incident's affected customers and to the subscribers its notices went
//! to. Answers are feedback like any other (touchpoint `incident:<id>`).

use serde::{Deserialize, Serialize};

use super::render::Rendered;
use crate::args;
use crate::domain::DataClass;
use crate::http::public::i18n;
use crate::storage::{now_ms, AuditRecord, Result, Store, StoreError};

/// Who is invited.
#[derive(Debug, Clone, Copy, Default)]
pub struct Invitees {
    pub affected: bool,
    pub subscribers: bool,
}

/// What an invitation message carries (no personal data).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SurveyInvite {
    pub slug: String,
    pub incident_title: String,
}

/// How many invitations were queued now, per kind of recipient.
#[derive(Debug, Clone, Copy, Default, Serialize, utoipa::ToSchema)]
pub struct Queued {
    pub affected: u64,
    pub subscribers: u64,
}

impl Store {
    /// Queues an invitation for every invitee reachable by email or SMS,
    /// each once (a second call adds only those added since). Subscribers
    /// are those an update of this incident was queued for, so the survey
    /// reaches exactly the people who were told about it.
    pub async fn queue_survey_invites(
        &self,
        incident: &str,
        invite: &SurveyInvite,
        who: Invitees,
        by: AuditRecord,
    ) -> Result<Queued> {
        let payload = serde_json::to_string(invite)
            .map_err(|e| StoreError::Corrupt(format!("survey invite: {e}")))?;
        let now = now_ms();
        let mut tx = self.begin().await?;
        let mut queued = Queued::default();
        if who.affected {
            queued.affected = tx
                .execute(
                    "INSERT INTO outbox (id, purpose, incident_id, update_id, recipient_kind, recipient_id, channel, language, payload, state, attempts, next_attempt_at, created_at, updated_at)
                     SELECT 'svy.' || $1 || '.' || a.id, 'survey', $1, NULL, 'affected', a.id, a.channel, a.language, $2, 'queued', 0, $3, $3, $3
                     FROM affected_customers a
                     WHERE a.incident_id = $1 AND a.channel IN ('email', 'sms')
                     ON CONFLICT (id) DO NOTHING",
                    args![incident, &payload, now],
                )
                .await?;
        }
        if who.subscribers {
            queued.subscribers = tx
                .execute(
                    "INSERT INTO outbox (id, purpose, incident_id, update_id, recipient_kind, recipient_id, channel, language, payload, state, attempts, next_attempt_at, created_at, updated_at)
                     SELECT 'svy.' || $1 || '.' || s.id, 'survey', $1, NULL, 'subscriber', s.id, s.channel, s.language, $2, 'queued', 0, $3, $3, $3
                     FROM subscribers s
                     WHERE s.state = 'active' AND s.channel IN ('email', 'sms')
                       AND EXISTS (SELECT 1 FROM outbox o
                                   WHERE o.incident_id = $1 AND o.purpose = 'notice'
                                     AND o.recipient_kind = 'subscriber' AND o.recipient_id = s.id)
                     ON CONFLICT (id) DO NOTHING",
                    args![incident, &payload, now],
                )
                .await?;
        }
        tx.audit(AuditRecord {
            action: "incident.survey.send".into(),
            class: DataClass::Subscribers,
            record: Some(incident.to_owned()),
            detail: serde_json::json!({
                "affected": queued.affected,
                "subscribers": queued.subscribers,
            }),
            ..by
        })
        .await?;
        tx.commit().await?;
        Ok(queued)
    }
}

const PHRASES: &[(&str, [&str; 4])] = &[
    (
        "subject",
        [
            "How did we keep you informed?",
            "我们的通报让您满意吗？",
            "اطلاع‌رسانی ما چطور بود؟",
            "અમે તમને કેવી રીતે માહિતગાર રાખ્યા?",
        ],
    ),
    (
        "body",
        [
            "We recently had a problem that affected you. It is resolved. Two short questions about how we kept you informed help us do better next time:",
            "我们最近出现了一个影响到您的问题，现已解决。请回答两个简短的问题，告诉我们通报是否及时清楚，帮助我们下次做得更好：",
            "اخیراً مشکلی پیش آمد که روی شما هم اثر گذاشت و اکنون برطرف شده است. با پاسخ به دو پرسش کوتاه دربارهٔ اطلاع‌رسانی ما، به ما کمک کنید دفعهٔ بعد بهتر عمل کنیم:",
            "તાજેતરમાં અમને એક સમસ્યા આવી જેની તમારા પર અસર થઈ. તે હવે ઉકેલાઈ ગઈ છે. અમે તમને કેવી રીતે માહિતગાર રાખ્યા તે વિશેના બે ટૂંકા પ્રશ્નો અમને આગલી વખતે વધુ સારું કરવામાં મદદ કરે છે:",
        ],
    ),
    (
        "sms",
        [
            "Resolved: {title}. How did we keep you informed? {url}",
            "已解决：{title}。我们的通报让您满意吗？{url}",
            "برطرف شد: {title}. اطلاع‌رسانی ما چطور بود؟ {url}",
            "ઉકેલાયું: {title}. અમે તમને કેવી રીતે માહિતગાર રાખ્યા? {url}",
        ],
    ),
];

fn phrase(lang: &str, key: &str) -> &'static str {
    let i = i18n::LANGUAGES
        .iter()
        .position(|(c, _)| *c == lang)
        .unwrap_or(0);
    PHRASES
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("", |(_, p)| p[i])
}

/// The survey's address in the recipient's language.
pub fn survey_url(base: &str, slug: &str, language: &str) -> String {
    format!("{}/f/{slug}?lang={language}", base.trim_end_matches('/'))
}

/// The invitation in `language` (English where it is not one of ours):
/// subject, text and HTML for email; `text` is the SMS.
pub fn render_invite(language: &str, invite: &SurveyInvite, base: &str, sms: bool) -> Rendered {
    let lang = if i18n::LANGUAGES.iter().any(|(c, _)| *c == language) {
        language
    } else {
        "en"
    };
    let url = survey_url(base, &invite.slug, lang);
    if sms {
        let title: String = invite.incident_title.chars().take(60).collect();
        return Rendered {
            language: lang.to_owned(),
            subject: String::new(),
            text: phrase(lang, "sms")
                .replace("{title}", &title)
                .replace("{url}", &url),
            html: None,
            json: None,
        };
    }
    let subject = phrase(lang, "subject").to_owned();
    let body = phrase(lang, "body");
    let text = format!("{}\n\n{body}\n\n{url}\n", invite.incident_title);
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let html = format!(
        "<!doctype html><html lang=\"{lang}\" dir=\"{dir}\"><head><meta charset=\"utf-8\"><title>{s}</title></head><body>\
<p><strong>{title}</strong></p><p>{body}</p><p><a href=\"{url}\">{url}</a></p></body></html>",
        dir = i18n::dir(lang),
        s = esc(&subject),
        title = esc(&invite.incident_title),
        body = esc(body),
        url = esc(&url),
    );
    Rendered {
        language: lang.to_owned(),
        subject,
        text,
        html: Some(html),
        json: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite() -> SurveyInvite {
        SurveyInvite {
            slug: "incident-01abc".into(),
            incident_title: "Login <failures>".into(),
        }
    }

    #[test]
    fn each_language_links_the_form_in_that_language() {
        for lang in ["en", "zh", "fa", "gu"] {
            let r = render_invite(lang, &invite(), "https://status.example.com/", false);
            assert!(
                r.text.contains(&format!(
                    "https://status.example.com/f/incident-01abc?lang={lang}"
                )),
                "{lang}: {}",
                r.text
            );
            assert_eq!(r.language, lang);
        }
        let fa = render_invite("fa", &invite(), "https://s.example", false);
        assert!(fa.html.unwrap().contains("dir=\"rtl\""));
        assert_eq!(
            render_invite("xx", &invite(), "https://s.example", false).language,
            "en"
        );
    }

    #[test]
    fn html_is_escaped_and_sms_is_short() {
        let r = render_invite("en", &invite(), "https://s.example", false);
        assert!(r.html.unwrap().contains("Login &lt;failures&gt;"));
        let sms = render_invite("en", &invite(), "https://s.example", true);
        assert!(sms.text.starts_with("Resolved: Login <failures>."));
        assert!(sms.text.chars().count() <= 160, "{}", sms.text);
    }
}
