//! Mail to the customer about their ticket: when it is opened (with the
//! secret tracking link), when an agent replies in public, and when it is
//! solved (with the invitation to rate the help, when it is offered). In
//! the ticket's language: English, Chinese, Persian or Gujarati. Queued in
//! the ticket's own transaction (purpose `ticket`); the worker opens the
//! customer's address and the tracking token only to send.

use serde::{Deserialize, Serialize};

use super::render::Rendered;

/// What the outbox row says: which event, and the reply's event id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TicketMail {
    /// `created`, `reply` or `solved`.
    pub event: String,
    /// The public reply's event (for `reply`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
}

/// The languages the mail is written in; others get English.
pub fn language_of(ticket_language: Option<&str>) -> &'static str {
    match ticket_language
        .map(|l| l.split(['-', '_']).next().unwrap_or(l).to_ascii_lowercase())
        .as_deref()
    {
        Some("zh") => "zh",
        Some("fa") => "fa",
        Some("gu") => "gu",
        _ => "en",
    }
}

struct Words {
    created_subject: &'static str,
    created: &'static str,
    reply_subject: &'static str,
    reply: &'static str,
    solved_subject: &'static str,
    solved: &'static str,
    rate: &'static str,
    follow: &'static str,
    reference: &'static str,
}

fn words(lang: &str) -> Words {
    match lang {
        "zh" => Words {
            created_subject: "我们已收到您的请求",
            created: "您好：\n\n感谢您联系我们。我们已收到您的请求，会尽快回复您。",
            reply_subject: "您的请求有新的回复",
            reply: "您好：\n\n我们回复了您的请求：",
            solved_subject: "您的请求已解决",
            solved: "您好：\n\n我们已将您的请求标记为已解决。如果问题仍然存在，请在下面的页面上回复，请求会重新打开。",
            rate: "我们做得怎么样？您可以在同一页面上为我们的帮助评分。",
            follow: "在此查看您的请求或回复我们：",
            reference: "编号",
        },
        "fa" => Words {
            created_subject: "درخواست شما را دریافت کردیم",
            created: "سلام،\n\nاز تماس شما سپاسگزاریم. درخواست شما را دریافت کردیم و هر چه زودتر پاسخ می‌دهیم.",
            reply_subject: "پاسخ تازه به درخواست شما",
            reply: "سلام،\n\nبه درخواست شما پاسخ دادیم:",
            solved_subject: "درخواست شما حل شد",
            solved: "سلام،\n\nدرخواست شما را حل‌شده علامت زدیم. اگر مشکل هنوز باقی است، در صفحهٔ زیر پاسخ دهید تا درخواست دوباره باز شود.",
            rate: "کار ما چطور بود؟ می‌توانید در همان صفحه به کمک ما امتیاز دهید.",
            follow: "درخواست خود را اینجا دنبال کنید یا به ما پاسخ دهید:",
            reference: "شماره",
        },
        "gu" => Words {
            created_subject: "અમને તમારી વિનંતી મળી છે",
            created: "નમસ્તે,\n\nઅમારો સંપર્ક કરવા બદલ આભાર. અમને તમારી વિનંતી મળી છે અને અમે શક્ય તેટલો વહેલો જવાબ આપીશું.",
            reply_subject: "તમારી વિનંતીનો નવો જવાબ",
            reply: "નમસ્તે,\n\nઅમે તમારી વિનંતીનો જવાબ આપ્યો છે:",
            solved_subject: "તમારી વિનંતી ઉકેલાઈ ગઈ છે",
            solved: "નમસ્તે,\n\nઅમે તમારી વિનંતીને ઉકેલાયેલી તરીકે ચિહ્નિત કરી છે. જો હજુ પણ કંઈ ખોટું હોય, તો નીચેના પાના પર જવાબ આપો અને વિનંતી ફરી ખુલશે.",
            rate: "અમે કેવું કામ કર્યું? તમે એ જ પાના પર અમારી મદદને રેટિંગ આપી શકો છો.",
            follow: "તમારી વિનંતી અહીં જુઓ અથવા અમને જવાબ આપો:",
            reference: "સંદર્ભ",
        },
        _ => Words {
            created_subject: "We received your request",
            created: "Hello,\n\nThank you for contacting us. We received your request and will reply as soon as we can.",
            reply_subject: "New reply to your request",
            reply: "Hello,\n\nWe replied to your request:",
            solved_subject: "Your request is solved",
            solved: "Hello,\n\nWe have marked your request as solved. If something is still wrong, reply on the page below and it opens again.",
            rate: "How did we do? You can rate our help on the same page.",
            follow: "Follow your request, or write to us, here:",
            reference: "Reference",
        },
    }
}

/// What the mail says about one ticket.
pub struct TicketFacts<'a> {
    pub ticket_id: &'a str,
    pub title: &'a str,
    pub link: &'a str,
    /// The agent's public reply (for `reply`).
    pub reply: Option<&'a str>,
    /// Whether the customer is invited to rate the help (for `solved`).
    pub csat: bool,
}

/// The mail for `event` in `lang`; `None` for an unknown event.
pub fn render(lang: &str, event: &str, f: &TicketFacts<'_>) -> Option<Rendered> {
    let w = words(lang);
    let (subject, mut text) = match event {
        "created" => (w.created_subject, w.created.to_owned()),
        "reply" => {
            let quoted: String = f
                .reply
                .unwrap_or_default()
                .lines()
                .map(|l| format!("> {l}\n"))
                .collect();
            (w.reply_subject, format!("{}\n\n{quoted}", w.reply))
        }
        "solved" => {
            let mut t = w.solved.to_owned();
            if f.csat {
                t.push_str("\n\n");
                t.push_str(w.rate);
            }
            (w.solved_subject, t)
        }
        _ => return None,
    };
    text.push_str(&format!(
        "\n\n{}\n{}\n\n{}: {}\n",
        w.follow, f.link, w.reference, f.ticket_id
    ));
    Some(Rendered {
        language: lang.to_owned(),
        subject: format!("{subject}: {} [{}]", f.title, f.ticket_id),
        text,
        html: None,
        json: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(reply: Option<&'a str>, csat: bool) -> TicketFacts<'a> {
        TicketFacts {
            ticket_id: "tkt_1",
            title: "Cannot sign in",
            link: "https://status.example/t/secret",
            reply,
            csat,
        }
    }

    #[test]
    fn every_language_has_every_event_with_the_link_and_reference() {
        for lang in ["en", "zh", "fa", "gu"] {
            for event in ["created", "reply", "solved"] {
                let m =
                    render(lang, event, &facts(Some("Try again now."), true)).expect("known event");
                assert!(
                    m.text.contains("https://status.example/t/secret"),
                    "{lang} {event}"
                );
                assert!(m.subject.contains("[tkt_1]"), "{lang} {event}");
                assert_eq!(m.language, lang);
            }
        }
        assert!(render("en", "deleted", &facts(None, false)).is_none());
    }

    #[test]
    fn a_reply_is_quoted_and_the_rating_invitation_only_when_offered() {
        let r = render("en", "reply", &facts(Some("Line one\nLine two"), false)).unwrap();
        assert!(r.text.contains("> Line one\n> Line two\n"), "{}", r.text);
        let with = render("en", "solved", &facts(None, true)).unwrap();
        let without = render("en", "solved", &facts(None, false)).unwrap();
        assert!(with.text.contains("rate our help"));
        assert!(!without.text.contains("rate our help"));
    }

    #[test]
    fn languages_fall_back_to_english() {
        assert_eq!(language_of(Some("zh-Hans")), "zh");
        assert_eq!(language_of(Some("FA")), "fa");
        assert_eq!(language_of(Some("gu_IN")), "gu");
        assert_eq!(language_of(Some("de")), "en");
        assert_eq!(language_of(None), "en");
    }
}
