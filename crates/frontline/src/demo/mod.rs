//! Demo data: what a month of feedback looks like at a mid-sized company,
//! in several languages. Deterministic, so every demo tells the same story.

pub mod story;

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::domain::survey::SurveyDefinition;
use crate::domain::DataClass;
use crate::intake::{ConsentInput, ContactInput, FeedbackInput, Policy, Preparer};
use crate::privacy::KeyRing;
use crate::storage::{AuditRecord, Store};

pub struct Seeded {
    pub surveys: Vec<String>,
    pub feedback: usize,
}

fn actor(action: &str) -> AuditRecord {
    AuditRecord {
        actor: "demo".into(),
        address: None,
        action: action.into(),
        class: DataClass::Feedback,
        record: None,
        detail: serde_json::json!({}),
    }
}

fn nps_survey() -> SurveyDefinition {
    serde_json::from_value(serde_json::json!({
        "languages": ["en", "zh", "fa", "gu"],
        "title": {"en": "How are we doing?", "zh": "我们做得怎么样?", "fa": "عملکرد ما چطور است؟", "gu": "અમે કેવું કરી રહ્યા છીએ?"},
        "intro": {"en": "Two questions, one minute.", "zh": "两个问题,一分钟。", "fa": "دو پرسش، یک دقیقه.", "gu": "બે પ્રશ્નો, એક મિનિટ."},
        "questions": [
            {"id": "recommend", "kind": "nps", "required": true, "prompt": {
                "en": "How likely are you to recommend us to a friend?",
                "zh": "您向朋友推荐我们的可能性有多大?",
                "fa": "چقدر احتمال دارد ما را به دوستانتان توصیه کنید؟",
                "gu": "તમે મિત્રને અમારી ભલામણ કરો તેવી કેટલી શક્યતા છે?"}},
            {"id": "why", "kind": "comment", "prompt": {
                "en": "What is the main reason for your score?",
                "zh": "您打这个分数的主要原因是什么?",
                "fa": "دلیل اصلی امتیاز شما چیست؟",
                "gu": "તમારા સ્કોરનું મુખ્ય કારણ શું છે?"}}
        ],
        "policy": {"ask_contact": true, "journey_stage": "use"}
    }))
    .expect("the demo survey is valid")
}

fn support_survey() -> SurveyDefinition {
    serde_json::from_value(serde_json::json!({
        "languages": ["en", "zh", "fa", "gu"],
        "title": {"en": "How was your support experience?", "zh": "您的客服体验如何?", "fa": "تجربه پشتیبانی شما چطور بود؟", "gu": "તમારો સપોર્ટ અનુભવ કેવો રહ્યો?"},
        "questions": [
            {"id": "csat", "kind": "csat", "required": true, "prompt": {
                "en": "How satisfied are you with the help you got?", "zh": "您对获得的帮助满意吗?",
                "fa": "از کمکی که دریافت کردید چقدر راضی هستید؟", "gu": "તમને મળેલી મદદથી તમે કેટલા સંતુષ્ટ છો?"}},
            {"id": "effort", "kind": "ces", "required": true, "prompt": {
                "en": "How easy was it to get your issue solved?", "zh": "解决您的问题有多容易?",
                "fa": "حل مشکل شما چقدر آسان بود؟", "gu": "તમારી સમસ્યા ઉકેલવી કેટલી સરળ હતી?"}},
            {"id": "comment", "kind": "comment", "prompt": {
                "en": "Anything we could do better?", "zh": "我们还有什么可以改进的?",
                "fa": "چه کاری را می‌توانیم بهتر انجام دهیم؟", "gu": "અમે શું વધુ સારું કરી શકીએ?"}}
        ],
        "policy": {"journey_stage": "support", "touchpoint": "chat"}
    }))
    .expect("the demo survey is valid")
}

/// Complaints as customers write them: (language, component, text).
const COMPLAINTS: &[(&str, &str, &str)] = &[
    ("en", "login", "I can't log in since this morning, the app says my password is wrong but I didn't change it."),
    ("en", "login", "Got a password reset email I never asked for. Is my account safe?"),
    ("en", "login", "The 2FA code never arrives by SMS, tried five times."),
    ("en", "payments", "There's a charge of $49.99 on my card I didn't make. Please call me on +1 415 555 2671."),
    ("en", "payments", "Refund still not processed after two weeks, order 88231."),
    ("en", "app", "The app is very slow today, pages take forever to load."),
    ("en", "app", "App crashes every time I open the statements page."),
    ("en", "web", "Website shows error 503 when I try to pay my bill."),
    ("en", "billing", "I was billed twice this month. My email is pat.lee@example.com if you need it."),
    ("en", "support", "Waited 40 minutes on the phone and nobody answered."),
    ("zh", "login", "我无法登录我的账户,一直提示密码错误。"),
    ("zh", "login", "收不到短信验证码,试了好几次了。"),
    ("zh", "payments", "我的卡上有一笔我没有消费的扣款,请尽快处理。"),
    ("zh", "app", "应用今天特别慢,页面一直加载不出来。"),
    ("zh", "billing", "这个月被重复扣费了两次。"),
    ("zh", "support", "客服电话打了半小时没人接。"),
    ("fa", "login", "نمی‌توانم وارد حسابم شوم، می‌گوید رمز اشتباه است."),
    ("fa", "login", "کد تأیید پیامکی برای من نمی‌آید."),
    ("fa", "payments", "یک برداشت از کارت من شده که من انجام نداده‌ام."),
    ("fa", "app", "برنامه امروز خیلی کند است و صفحه‌ها باز نمی‌شوند."),
    ("fa", "billing", "این ماه دو بار از من پول کم شده است."),
    ("gu", "login", "હું મારા એકાઉન્ટમાં લોગિન કરી શકતો નથી, પાસવર્ડ ખોટો બતાવે છે."),
    ("gu", "login", "મને એસએમએસ દ્વારા ઓટીપી મળતો નથી."),
    ("gu", "payments", "મારા કાર્ડ પર એક ચાર્જ છે જે મેં કર્યો નથી."),
    ("gu", "app", "એપ આજે ખૂબ ધીમી ચાલે છે."),
    ("gu", "billing", "આ મહિને મારી પાસેથી બે વાર પૈસા કાપવામાં આવ્યા."),
];

/// Reasons people give with their scores: (language, positive?, text).
const REASONS: &[(&str, bool, &str)] = &[
    ("en", true, "Fast, friendly and it just works."),
    ("en", true, "Support solved my problem in one call."),
    ("en", false, "Too many outages lately."),
    ("en", false, "Fees went up without warning."),
    ("zh", true, "服务很好,速度很快。"),
    ("zh", false, "最近经常出问题。"),
    ("fa", true, "پشتیبانی عالی و سریع بود."),
    ("fa", false, "اپلیکیشن زیاد قطع می‌شود."),
    ("gu", true, "સેવા ઝડપી અને સારી છે."),
    ("gu", false, "એપ વારંવાર બંધ થઈ જાય છે."),
];

const LANGS: &[(&str, u32)] = &[("en", 55), ("zh", 20), ("fa", 15), ("gu", 10)];
const REGIONS: &[&str] = &["eu-west", "us-east", "ap-south", "me-central"];
const CHANNELS: &[&str] = &["web", "app", "email", "chat", "phone", "social"];

fn pick_lang(rng: &mut StdRng) -> &'static str {
    let total: u32 = LANGS.iter().map(|(_, w)| w).sum();
    let mut x = rng.gen_range(0..total);
    for (l, w) in LANGS {
        if x < *w {
            return l;
        }
        x -= w;
    }
    "en"
}

fn occurred(rng: &mut StdRng, now: chrono::DateTime<chrono::Utc>) -> String {
    let minutes = rng.gen_range(0..30 * 24 * 60);
    (now - chrono::Duration::minutes(minutes)).to_rfc3339()
}

/// Creates the demo surveys and about `n` feedback items over 30 days.
pub async fn seed(store: &Store, ring: Arc<KeyRing>, n: usize) -> anyhow::Result<Seeded> {
    let preparer = Preparer::default();
    let mut rng = StdRng::seed_from_u64(2026);
    let now = chrono::Utc::now();
    let nps = store
        .create_survey(
            "how-are-we-doing",
            &nps_survey().validate()?,
            actor("survey.create"),
        )
        .await?;
    let support = store
        .create_survey(
            "support",
            &support_survey().validate()?,
            actor("survey.create"),
        )
        .await?;
    let mut batch = Vec::new();
    let mut stored = 0;
    while stored + batch.len() < n {
        let lang = pick_lang(&mut rng);
        let at = occurred(&mut rng, now);
        let region = REGIONS[rng.gen_range(0..REGIONS.len())].to_owned();
        let roll = rng.gen_range(0..100);
        let submission =
            Some(crate::domain::Id::new(crate::domain::id::Kind::Submission).to_string());
        if roll < 40 {
            // An NPS answer, half of them with a reason.
            let score: i64 = match rng.gen_range(0..100) {
                0..=54 => rng.gen_range(9..=10),
                55..=79 => rng.gen_range(7..=8),
                _ => rng.gen_range(0..=6),
            };
            let policy = Policy {
                default_channel: crate::domain::feedback::Channel::Web,
                survey_id: Some(nps.id.clone()),
                submission_id: submission,
                ..Policy::default()
            };
            let input = FeedbackInput {
                kind: "nps".into(),
                score: Some(score),
                language: Some(lang.into()),
                region: Some(region.clone()),
                journey_stage: Some("use".into()),
                occurred_at: Some(at.clone()),
                ..Default::default()
            };
            batch.push(preparer.prepare(input, &policy, Some("recommend".into()))?);
            if rng.gen_bool(0.5) {
                let positive = score >= 9;
                let options: Vec<_> = REASONS
                    .iter()
                    .filter(|(l, p, _)| *l == lang && *p == positive)
                    .collect();
                if let Some((_, _, text)) = options.get(rng.gen_range(0..options.len().max(1))) {
                    let input = FeedbackInput {
                        kind: "comment".into(),
                        text: Some((*text).into()),
                        region: Some(region),
                        journey_stage: Some("use".into()),
                        occurred_at: Some(at),
                        ..Default::default()
                    };
                    batch.push(preparer.prepare(input, &policy, Some("why".into()))?);
                }
            }
        } else if roll < 70 {
            // After a support conversation: CSAT and CES.
            let policy = Policy {
                default_channel: crate::domain::feedback::Channel::Chat,
                survey_id: Some(support.id.clone()),
                submission_id: submission,
                ..Policy::default()
            };
            let csat = *[5, 5, 5, 4, 4, 4, 3, 2, 1]
                .get(rng.gen_range(0..9))
                .unwrap_or(&4);
            let effort = (csat + rng.gen_range(0..3)).clamp(1, 7);
            for (kind, q, score) in [("csat", "csat", csat), ("ces", "effort", effort)] {
                let input = FeedbackInput {
                    kind: kind.into(),
                    score: Some(score),
                    language: Some(lang.into()),
                    region: Some(region.clone()),
                    journey_stage: Some("support".into()),
                    touchpoint: Some("chat".into()),
                    occurred_at: Some(at.clone()),
                    ..Default::default()
                };
                batch.push(preparer.prepare(input, &policy, Some(q.into()))?);
            }
        } else {
            // A complaint, in the customer's language, some with a contact.
            let options: Vec<_> = COMPLAINTS.iter().filter(|(l, _, _)| *l == lang).collect();
            let (_, component, text) = options[rng.gen_range(0..options.len())];
            let with_contact = rng.gen_bool(0.08);
            let input = FeedbackInput {
                kind: "complaint".into(),
                text: Some((*text).into()),
                channel: Some(CHANNELS[rng.gen_range(0..CHANNELS.len())].into()),
                component: Some((*component).into()),
                region: Some(region),
                occurred_at: Some(at),
                contact: with_contact.then(|| ContactInput {
                    name: None,
                    email: Some(format!("customer{}@example.com", rng.gen_range(1..400))),
                    phone: None,
                }),
                consent: with_contact.then(|| ConsentInput {
                    given: true,
                    text: "You may contact me about this.".into(),
                }),
                ..Default::default()
            };
            batch.push(preparer.prepare(input, &Policy::default(), None)?);
        }
        if batch.len() >= 500 {
            stored += batch.len();
            store
                .store_feedback(&ring, &batch, actor("feedback.store"), None)
                .await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        stored += batch.len();
        store
            .store_feedback(&ring, &batch, actor("feedback.store"), None)
            .await?;
    }
    Ok(Seeded {
        surveys: vec![nps.slug, support.slug],
        feedback: stored,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_surveys_are_valid() {
        assert!(super::nps_survey().validate().is_ok());
        assert!(super::support_survey().validate().is_ok());
    }
}
