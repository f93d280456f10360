//! The demo's story: a phishing SMS campaign from the first complaint to
//! the survey afterwards, played against a running Frontline through its
//! own public surfaces (the REST API, the alert hooks, the status page's
//! sign-up and the survey form), as the people in the story would use them.
//! Nothing is written to the database behind the server's back, so what
//! the story shows is what the product does.
//!
//! Each chapter returns what happened and the page to look at; the command
//! line prints it, the browser test opens the page and keeps a screenshot.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use reqwest::Method;
use serde_json::{json, Value};

use crate::notify::catcher::{Caught, MailCatcher};

/// API tokens of the people in the story.
#[derive(Debug, Clone)]
pub struct Cast {
    pub admin: String,
    pub analyst: String,
    pub communications: String,
    pub legal: String,
    pub cx: String,
}

/// What one chapter did.
#[derive(Debug, Clone)]
pub struct Chapter {
    pub title: &'static str,
    /// What happened, one line each.
    pub lines: Vec<String>,
    /// The dashboard or public page that shows it (a path).
    pub page: String,
}

/// The chapters, in order.
pub const CHAPTERS: [&str; 9] = [
    "An ordinary morning",
    "A phishing SMS campaign",
    "Wazuh sees the other side",
    "An incident, with its team and checklist",
    "A notice in four languages",
    "Approved, published, sent",
    "Updates on the cadence",
    "Resolved, and a survey",
    "The scorecard moves",
];

/// The scam link every report quotes.
pub const SCAM_LINK: &str = "https://examp1e-bank-verify.top/login";

/// Subscribers of the status page, one per language.
const SUBSCRIBERS: [(&str, &str); 4] = [
    ("olivia.subscriber@example.com", "en"),
    ("wei.subscriber@example.com", "zh"),
    ("dariush.subscriber@example.com", "fa"),
    ("hetal.subscriber@example.com", "gu"),
];

/// Customers who typed their password into the fake page: the affected.
const AFFECTED: [(&str, &str); 4] = [
    ("sam.affected@example.com", "en"),
    ("li.affected@example.com", "zh"),
    ("sara.affected@example.com", "fa"),
    ("nisha.affected@example.com", "gu"),
];

const COMPONENTS: [&str; 6] = [
    "Login",
    "Payments",
    "Mobile app",
    "Website",
    "Billing",
    "Customer support",
];

/// Reports of the scam, as customers write them.
const SCAM_REPORTS: [(&str, &str); 8] = [
    ("en", "Got an SMS saying my account is locked and I must verify at {link}. Is this really you? Looks like a scam."),
    ("en", "Text message from \"ExampleBank\" asking me to confirm my password at {link}. Phishing?"),
    ("zh", "我收到一条自称是你们的短信，说我的账户被冻结，要我到 {link} 验证。这是诈骗短信吗？"),
    ("zh", "短信里让我点 {link} 输入密码，是钓鱼网站吧？"),
    ("fa", "پیامکی به اسم شما آمد که حسابم مسدود شده و باید در {link} تأیید کنم. این پیامک کلاهبرداری است؟"),
    ("fa", "یک پیامک جعلی با لینک {link} برای من آمد و رمزم را خواست. فیشینگ است؟"),
    ("gu", "મને તમારા નામે SMS આવ્યો કે મારું એકાઉન્ટ બંધ થયું છે અને {link} પર ચકાસણી કરો. શું આ છેતરપિંડી છે?"),
    ("gu", "{link} વાળો નકલી SMS આવ્યો, પાસવર્ડ માંગે છે. આ ફિશિંગ છે?"),
];

/// An ordinary morning's feedback: (language, kind, score, text, component).
const ORDINARY: [(&str, &str, Option<i64>, &str, &str); 12] = [
    ("en", "nps", Some(9), "", ""),
    (
        "en",
        "comment",
        None,
        "The new statements page is great, thanks!",
        "app",
    ),
    ("zh", "nps", Some(10), "", ""),
    (
        "zh",
        "complaint",
        None,
        "这个月被重复扣费了两次。",
        "billing",
    ),
    ("fa", "csat", Some(5), "", ""),
    (
        "fa",
        "comment",
        None,
        "پشتیبانی عالی و سریع بود.",
        "support",
    ),
    ("gu", "nps", Some(8), "", ""),
    ("gu", "complaint", None, "એપ આજે ખૂબ ધીમી ચાલે છે.", "app"),
    ("en", "csat", Some(4), "", ""),
    (
        "en",
        "complaint",
        None,
        "Refund still not processed after two weeks.",
        "payments",
    ),
    ("zh", "csat", Some(5), "", ""),
    ("fa", "nps", Some(6), "", ""),
];

pub struct Story {
    http: reqwest::Client,
    base: String,
    cast: Cast,
    mailbox: Arc<MailCatcher>,
    speed: f64,
    next: usize,
    components: BTreeMap<&'static str, String>,
    wazuh_secret: String,
    signal: Option<String>,
    suggestion: Option<String>,
    incident: Option<String>,
    notice: Option<String>,
    before: Option<Value>,
}

/// The part of a scorecard the story compares.
fn card_line(card: &Value) -> String {
    let all = card["totals"]
        .as_array()
        .and_then(|t| t.iter().find(|r| r["value"] == "all"))
        .cloned()
        .unwrap_or(Value::Null);
    let num = |v: &Value| v.as_f64().map_or("-".to_owned(), |x| format!("{x:.1}"));
    format!(
        "NPS {} ({} answers), CSAT {}% ({} answers), incidents {}, median time to the first notice {} min",
        num(&all["nps"]),
        all["nps_responses"],
        num(&all["csat"]),
        all["csat_responses"],
        card["incidents"]["incidents"],
        num(&card["incidents"]["median_first_notice_mins"]),
    )
}

/// The first link in a message's text that contains `path`.
pub fn link_in(m: &Caught, path: &str) -> Option<String> {
    let msg = mail_parser::MessageParser::default().parse(&m.raw)?;
    let text = msg.body_text(0)?;
    text.split_whitespace()
        .find(|w| w.contains(path))
        .map(|w| w.trim_end_matches(['.', ',', ')', '>']).to_owned())
}

impl Story {
    /// `base`: where Frontline listens, e.g. `http://127.0.0.1:8080`.
    /// `speed`: 1 plays in about four minutes, 10 ten times as fast.
    pub fn new(base: &str, cast: Cast, mailbox: Arc<MailCatcher>, speed: f64) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
            base: base.trim_end_matches('/').to_owned(),
            cast,
            mailbox,
            speed: speed.clamp(0.1, 1000.0),
            next: 0,
            components: BTreeMap::new(),
            wazuh_secret: String::new(),
            signal: None,
            suggestion: None,
            incident: None,
            notice: None,
            before: None,
        }
    }

    /// Waits `secs` of story time.
    pub async fn pause(&self, secs: f64) {
        tokio::time::sleep(Duration::from_secs_f64(secs / self.speed)).await;
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        if !status.is_success() {
            bail!("{method} {path}: {status}: {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str, token: &str) -> anyhow::Result<Value> {
        self.call(Method::GET, path, token, None).await
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> anyhow::Result<Value> {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// Polls `path` until `found` picks something out, for `secs` at most
    /// (wall time: detection does not run faster with the story).
    async fn wait_for<T>(
        &self,
        path: &str,
        token: &str,
        secs: u64,
        found: impl Fn(&Value) -> Option<T>,
    ) -> anyhow::Result<Option<T>> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(t) = found(&self.get(path, token).await?) {
                return Ok(Some(t));
            }
            if tokio::time::Instant::now() > deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn wait_for_mail(&self, n: u64) -> u64 {
        self.mailbox.wait_for(n, Duration::from_secs(30)).await
    }

    /// What the story needs before it starts: status page components, the
    /// Wazuh source (agent `auth-eu` is the Login service in eu-west),
    /// and four subscribers who confirmed their sign-up by mail.
    pub async fn prepare(&mut self) -> anyhow::Result<()> {
        let existing = self.get("/api/v1/components", &self.cast.admin).await?;
        for name in COMPONENTS {
            let found = existing.as_array().and_then(|l| {
                l.iter()
                    .find(|c| c["name"] == name)
                    .and_then(|c| c["id"].as_str().map(str::to_owned))
            });
            let id = match found {
                Some(id) => id,
                None => self
                    .post(
                        "/api/v1/components",
                        &self.cast.admin,
                        json!({ "name": name }),
                    )
                    .await?["id"]
                    .as_str()
                    .ok_or_else(|| anyhow!("a component without an id"))?
                    .to_owned(),
            };
            self.components.insert(name, id);
        }
        let source = self
            .post(
                "/api/v1/alert-sources",
                &self.cast.admin,
                json!({
                    "name": "Wazuh (demo)", "kind": "wazuh",
                    "components": [{"label": "agent_name", "equals": "auth-eu", "component": "login", "region": "eu-west"}]
                }),
            )
            .await?;
        self.wazuh_secret = source["secret"]
            .as_str()
            .ok_or_else(|| anyhow!("the alert source came without its secret"))?
            .to_owned();
        let already = self.mailbox.total();
        for (email, language) in SUBSCRIBERS {
            let r = self
                .http
                .post(format!("{}/status/subscriptions", self.base))
                .json(&json!({ "email": email, "language": language }))
                .send()
                .await?;
            if r.status() != reqwest::StatusCode::ACCEPTED {
                bail!("subscribing {language}: {}", r.status());
            }
        }
        let want = already + SUBSCRIBERS.len() as u64;
        if self.wait_for_mail(want).await < want {
            bail!("the confirmation mails did not arrive");
        }
        for m in self.mailbox.messages().iter().skip(already as usize) {
            let Some(link) = link_in(m, "/status/confirm") else {
                continue;
            };
            let token = link
                .split("t=")
                .nth(1)
                .ok_or_else(|| anyhow!("a confirmation link without its token"))?;
            let r = self
                .http
                .post(format!("{}/status/confirm", self.base))
                .form(&[("t", token)])
                .send()
                .await?;
            if !r.status().is_success() {
                bail!("confirming a subscription: {}", r.status());
            }
        }
        self.before = Some(self.get("/api/v1/scorecard", &self.cast.admin).await?);
        Ok(())
    }

    /// Plays the next chapter; `None` when the story is over.
    pub async fn play_next(&mut self) -> anyhow::Result<Option<Chapter>> {
        let n = self.next;
        let lines = match n {
            0 => self.ordinary().await?,
            1 => self.campaign().await?,
            2 => self.wazuh().await?,
            3 => self.incident().await?,
            4 => self.notice().await?,
            5 => self.publish().await?,
            6 => self.updates().await?,
            7 => self.resolve().await?,
            8 => self.scorecard().await?,
            _ => return Ok(None),
        };
        self.next += 1;
        let incident = self.incident.clone().unwrap_or_default();
        let page = match n {
            0 => "/".to_owned(),
            1 => format!("/signals/{}", self.signal.clone().unwrap_or_default()),
            2 => "/security".to_owned(),
            3 | 4 | 6 => format!("/incidents/{incident}"),
            5 => "/status".to_owned(),
            7 => "/mail".to_owned(),
            _ => "/scorecard".to_owned(),
        };
        Ok(Some(Chapter {
            title: CHAPTERS[n],
            lines,
            page,
        }))
    }

    async fn ordinary(&mut self) -> anyhow::Result<Vec<String>> {
        for part in ORDINARY.chunks(4) {
            let items: Vec<Value> = part
                .iter()
                .map(|(lang, kind, score, text, component)| {
                    let mut item = json!({ "kind": kind, "language": lang, "channel": "web", "region": "eu-west" });
                    if let Some(s) = score {
                        item["score"] = json!(s);
                    }
                    if !text.is_empty() {
                        item["text"] = json!(text);
                    }
                    if !component.is_empty() {
                        item["component"] = json!(component);
                    }
                    item
                })
                .collect();
            self.post("/api/v1/feedback/batch", &self.cast.cx, json!(items))
                .await?;
            self.pause(4.0).await;
        }
        Ok(vec![
            format!(
                "{} answers and comments arrive in English, Chinese, Persian and Gujarati: NPS and CSAT answers, praise, a double charge, a slow app.",
                ORDINARY.len()
            ),
            "Every series stays inside its expected band; nothing fires.".into(),
        ])
    }

    async fn campaign(&mut self) -> anyhow::Result<Vec<String>> {
        let channels = ["app", "phone", "social", "web"];
        let mut sent = 0usize;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(150);
        let signal = loop {
            let wave: Vec<Value> = (0..6)
                .map(|i| {
                    let (lang, text) = SCAM_REPORTS[(sent + i) % SCAM_REPORTS.len()];
                    json!({
                        "kind": "complaint", "language": lang,
                        "text": text.replace("{link}", SCAM_LINK),
                        "component": "login", "region": "eu-west",
                        "channel": channels[(sent + i) % channels.len()],
                    })
                })
                .collect();
            sent += wave.len();
            self.post("/api/v1/feedback/batch", &self.cast.cx, json!(wave))
                .await?;
            let open = self
                .wait_for("/api/v1/signals?status=open", &self.cast.analyst, 2, |v| {
                    v.as_array()?
                        .iter()
                        .find(|s| s["topic"] == "phishing_scam" && s["component"] == "login")
                        .cloned()
                })
                .await?;
            if let Some(s) = open {
                break s;
            }
            if tokio::time::Instant::now() > deadline {
                bail!("no signal fired after {sent} scam reports");
            }
            self.pause(3.0).await;
        };
        let id = signal["id"].as_str().unwrap_or_default().to_owned();
        self.signal = Some(id.clone());
        let indicators = self
            .get("/api/v1/indicators", &self.cast.analyst)
            .await
            .unwrap_or(Value::Null);
        let top = indicators
            .as_array()
            .and_then(|l| l.iter().find(|i| i["kind"] == "url"))
            .map(|i| {
                format!(
                    "Top indicator: {} quoted in {} reports, stored defanged and exportable as STIX.",
                    i["defanged"].as_str().unwrap_or("?"),
                    i["reports"]
                )
            })
            .unwrap_or_default();
        Ok(vec![
            format!("{sent} customers report an SMS in four languages, all quoting the same link."),
            format!(
                "Signal {id}: \"{}\", {} observed against {:.1} expected.",
                signal["title"].as_str().unwrap_or(""),
                signal["observed"],
                signal["expected"].as_f64().unwrap_or(0.0)
            ),
            top,
        ])
    }

    async fn wazuh(&mut self) -> anyhow::Result<Vec<String>> {
        let alert = json!({
            "timestamp": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string(),
            "rule": {
                "level": 12,
                "description": "Credential stuffing: many accounts failing sign-in from one network",
                "id": "100210",
                "mitre": {"id": ["T1110.004"], "tactic": ["Credential Access"], "technique": ["Credential Stuffing"]},
                "groups": ["web", "authentication_failures"]
            },
            "agent": {"id": "007", "name": "auth-eu", "ip": "10.0.7.21"},
            "manager": {"name": "wazuh-manager"},
            "id": format!("{}.1", chrono::Utc::now().timestamp()),
            "full_log": "auth-eu: 412 failed sign-ins for 388 accounts from 198.51.100.0/24 in 5 minutes",
            "data": {"srcip": "198.51.100.23"},
            "location": "auth-service"
        });
        let r = self
            .http
            .post(format!("{}/hooks/wazuh", self.base))
            .bearer_auth(&self.wazuh_secret)
            .json(&alert)
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("the Wazuh hook refused the alert: {}", r.status());
        }
        let suggestion = self
            .wait_for(
                "/api/v1/suggestions?status=open",
                &self.cast.analyst,
                30,
                |v| {
                    v.as_array()?
                        .iter()
                        .find(|s| s["component"] == "login")
                        .cloned()
                },
            )
            .await?
            .ok_or_else(|| anyhow!("the Wazuh alert did not correlate with the signal"))?;
        self.suggestion = suggestion["id"].as_str().map(str::to_owned);
        self.pause(4.0).await;
        Ok(vec![
            "Wazuh reports credential stuffing on auth-eu, the Login service in eu-west.".into(),
            format!(
                "Suggestion: \"{}\", {}.",
                suggestion["title"].as_str().unwrap_or(""),
                suggestion["severity"].as_str().unwrap_or("")
            ),
        ])
    }

    async fn incident(&mut self) -> anyhow::Result<Vec<String>> {
        let sid = self.suggestion.clone().unwrap_or_default();
        let accepted = self
            .post(
                &format!("/api/v1/suggestions/{sid}/accept"),
                &self.cast.analyst,
                json!({ "title": "Phishing SMS campaign against our customers" }),
            )
            .await?;
        let id = accepted["incident_id"]
            .as_str()
            .ok_or_else(|| anyhow!("accepting gave no incident"))?
            .to_owned();
        self.incident = Some(id.clone());
        // The team: one person per seat, from the staff.
        let users = self.get("/api/v1/users", &self.cast.admin).await?;
        let mut team: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (seat, role) in [
            ("incident_lead", "admin"),
            ("security", "security_analyst"),
            ("cx", "cx_agent"),
            ("communications", "communications"),
            ("legal", "legal"),
        ] {
            if let Some(u) = users
                .as_array()
                .and_then(|l| {
                    l.iter()
                        .find(|u| u["role"] == role && u["disabled"] != true)
                })
                .and_then(|u| u["id"].as_str())
            {
                team.insert(seat, vec![u.to_owned()]);
            }
        }
        self.call(
            Method::PATCH,
            &format!("/api/v1/incidents/{id}"),
            &self.cast.analyst,
            Some(json!({ "team": team })),
        )
        .await?;
        let checklist = self
            .get(
                &format!("/api/v1/incidents/{id}/checklist"),
                &self.cast.analyst,
            )
            .await?;
        let items = checklist.as_array().cloned().unwrap_or_default();
        if let Some(first) = items.first().and_then(|i| i["id"].as_str()) {
            self.call(
                Method::PATCH,
                &format!("/api/v1/incidents/{id}/checklist/{first}"),
                &self.cast.analyst,
                Some(json!({ "done": true })),
            )
            .await?;
        }
        self.post(
            &format!("/api/v1/incidents/{id}/notes"),
            &self.cast.analyst,
            json!({ "body": format!("The SMS sends customers to {SCAM_LINK}. Takedown request sent to the registrar; the domain is blocked on our mail and SMS gateways.") }),
        )
        .await?;
        let inc = self
            .get(&format!("/api/v1/incidents/{id}"), &self.cast.analyst)
            .await?;
        self.pause(5.0).await;
        let on: Vec<&str> = self
            .components
            .iter()
            .filter(|(_, cid)| {
                inc["components"].as_array().is_some_and(|l| {
                    l.iter()
                        .any(|c| c == cid.as_str() || c["id"] == cid.as_str())
                })
            })
            .map(|(name, _)| *name)
            .collect();
        Ok(vec![
            format!(
                "The analyst opens incident {id} ({}) from the suggestion, on {}.",
                inc["severity"].as_str().unwrap_or(""),
                if on.is_empty() { "no status page component".to_owned() } else { on.join(", ") }
            ),
            format!(
                "The team takes its seats ({} of 5); the breach playbook's checklist has {} steps, the first is done.",
                team.len(),
                items.len()
            ),
        ])
    }

    async fn notice(&mut self) -> anyhow::Result<Vec<String>> {
        let id = self.incident.clone().unwrap_or_default();
        let fields = json!({
            "what_happened": {
                "en": format!("Since this morning, text messages pretending to be from us ask customers to \"verify\" their account at {SCAM_LINK}. The page is fake and steals passwords."),
                "zh": format!("从今天上午开始，有人冒充我们发送短信，要求客户在 {SCAM_LINK} “验证”账户。该网页是伪造的，会窃取密码。"),
                "fa": format!("از امروز صبح پیامک‌هایی به نام ما از مشتریان می‌خواهند حساب خود را در {SCAM_LINK} «تأیید» کنند. این صفحه جعلی است و رمز عبور را می‌دزدد."),
                "gu": format!("આજે સવારથી અમારા નામે SMS ગ્રાહકોને {SCAM_LINK} પર એકાઉન્ટ \"ચકાસવા\" કહે છે. આ પેજ નકલી છે અને પાસવર્ડ ચોરે છે."),
            },
            "impact": {
                "en": "If you entered your password on that page, someone else may know it. Our systems were not broken into.",
                "zh": "如果您在该网页上输入过密码，他人可能已经知道您的密码。我们的系统没有被入侵。",
                "fa": "اگر رمز عبور خود را در آن صفحه وارد کرده‌اید، ممکن است شخص دیگری آن را بداند. به سامانه‌های ما نفوذ نشده است.",
                "gu": "જો તમે એ પેજ પર તમારો પાસવર્ડ નાખ્યો હોય, તો કોઈ બીજું તે જાણી શકે છે. અમારી સિસ્ટમમાં કોઈ ઘૂસ્યું નથી.",
            },
            "actions": {
                "en": "We have asked for the fake site to be taken down, blocked it, and are resetting the passwords of accounts that signed in from it.",
                "zh": "我们已要求关闭该虚假网站并将其拦截，同时正在重置从该网站登录过的账户密码。",
                "fa": "درخواست حذف سایت جعلی را داده‌ایم، آن را مسدود کرده‌ایم و رمز حساب‌هایی را که از آن وارد شده‌اند بازنشانی می‌کنیم.",
                "gu": "અમે નકલી સાઇટ બંધ કરાવવા વિનંતી કરી છે, તેને બ્લોક કરી છે, અને તેમાંથી સાઇન-ઇન થયેલા એકાઉન્ટના પાસવર્ડ રીસેટ કરી રહ્યા છીએ.",
            },
            "remedy": {
                "en": "Free account monitoring for a year for everyone who entered their details.",
                "zh": "为所有输入过个人信息的客户提供一年的免费账户监控。",
                "fa": "پایش رایگان حساب به مدت یک سال برای همهٔ کسانی که اطلاعات خود را وارد کرده‌اند.",
                "gu": "જેમણે પોતાની વિગતો નાખી છે તે સૌ માટે એક વર્ષ સુધી મફત એકાઉન્ટ મોનિટરિંગ.",
            },
            "contact": "security@example.com, +1 800 555 0100",
        });
        let draft = self
            .post(
                &format!("/api/v1/incidents/{id}/updates/from-template"),
                &self.cast.communications,
                json!({ "template": "breach", "fields": fields, "components": { self.components["Login"].clone(): "degraded_performance" } }),
            )
            .await?;
        let uid = draft["id"]
            .as_str()
            .ok_or_else(|| anyhow!("the notice has no id"))?
            .to_owned();
        self.notice = Some(uid.clone());
        let languages: Vec<&str> = draft["variants"]
            .as_array()
            .map(|v| v.iter().filter_map(|x| x["language"].as_str()).collect())
            .unwrap_or_default();
        self.pause(6.0).await;
        Ok(vec![
            format!(
                "Communications writes the notice from the breach template: {} ({}), one variant each.",
                languages.join(", "),
                draft["state"].as_str().unwrap_or("")
            ),
            "Persian is laid out right to left; each channel has its preview (email, SMS, status page).".into(),
        ])
    }

    async fn approve_and_publish(&self, uid: &str) -> anyhow::Result<Value> {
        let id = self.incident.clone().unwrap_or_default();
        let update = format!("/api/v1/incidents/{id}/updates/{uid}");
        let mut current = Value::Null;
        for t in [&self.cast.communications, &self.cast.legal] {
            current = self
                .post(&format!("{update}/approve"), t, json!({}))
                .await?;
            if current["state"] == "published" {
                return Ok(current);
            }
        }
        if current["state"] != "published" {
            current = self
                .post(
                    &format!("{update}/publish"),
                    &self.cast.communications,
                    json!({}),
                )
                .await?;
        }
        Ok(current)
    }

    async fn publish(&mut self) -> anyhow::Result<Vec<String>> {
        let id = self.incident.clone().unwrap_or_default();
        let uid = self.notice.clone().unwrap_or_default();
        let sent_before = self.mailbox.total();
        let published = self.approve_and_publish(&uid).await?;
        // The customers who typed their password into the fake page, from
        // the sign-in logs: told directly, each in their language.
        let affected: Vec<Value> = AFFECTED
            .iter()
            .map(|(email, language)| json!({ "email": email, "language": language }))
            .collect();
        self.post(
            &format!("/api/v1/incidents/{id}/affected"),
            &self.cast.communications,
            json!(affected),
        )
        .await?;
        let queued = self
            .post(
                &format!("/api/v1/incidents/{id}/affected/notify"),
                &self.cast.communications,
                json!({ "update": uid }),
            )
            .await?;
        let want = sent_before + (SUBSCRIBERS.len() + AFFECTED.len()) as u64;
        let got = self.wait_for_mail(want).await - sent_before;
        Ok(vec![
            format!(
                "Communications and legal approve (SEV1 and SEV2 need both); the notice is {} on the status page.",
                published["state"].as_str().unwrap_or("")
            ),
            format!(
                "{got} emails reach the local mail catcher: {} subscribers and {} affected customers ({} queued), each in their language.",
                SUBSCRIBERS.len(),
                AFFECTED.len(),
                queued["queued"]
            ),
        ])
    }

    async fn updates(&mut self) -> anyhow::Result<Vec<String>> {
        let id = self.incident.clone().unwrap_or_default();
        let mut lines = Vec::new();
        for (status, body) in [
            ("identified", "The fake site has been taken down by its host. We have reset the passwords of the 4 accounts that signed in from it and told their owners."),
            ("monitoring", "No new reports of the SMS for 30 minutes. We keep blocking new copies of the site."),
        ] {
            self.pause(8.0).await;
            let draft = self
                .post(
                    &format!("/api/v1/incidents/{id}/updates"),
                    &self.cast.communications,
                    json!({ "status": status, "body": body }),
                )
                .await?;
            let uid = draft["id"].as_str().unwrap_or_default().to_owned();
            let done = if draft["state"] == "published" {
                draft
            } else {
                self.approve_and_publish(&uid).await?
            };
            lines.push(format!(
                "{status}: \"{body}\" ({})",
                done["state"].as_str().unwrap_or("")
            ));
        }
        let inc = self
            .get(&format!("/api/v1/incidents/{id}"), &self.cast.analyst)
            .await?;
        lines.push(format!(
            "Next update due {}: the cadence for {} keeps the team honest.",
            inc["next_update_due"].as_str().unwrap_or("-"),
            inc["severity"].as_str().unwrap_or("")
        ));
        Ok(lines)
    }

    async fn resolve(&mut self) -> anyhow::Result<Vec<String>> {
        let id = self.incident.clone().unwrap_or_default();
        self.pause(8.0).await;
        let fields = json!({
            "what_happened": {
                "en": "The fake text messages have stopped and the fake site is offline.",
                "zh": "冒充我们的短信已经停止，虚假网站也已下线。",
                "fa": "پیامک‌های جعلی متوقف شده و سایت جعلی از دسترس خارج است.",
                "gu": "નકલી SMS બંધ થઈ ગયા છે અને નકલી સાઇટ ઑફલાઇન છે.",
            },
            "impact": {
                "en": "If you entered your password on that page, we have already reset it: sign in with the link we sent you.",
                "zh": "如果您在该网页上输入过密码，我们已为您重置：请使用我们发给您的链接登录。",
                "fa": "اگر رمز خود را در آن صفحه وارد کرده بودید، آن را بازنشانی کرده‌ایم: با پیوندی که فرستادیم وارد شوید.",
                "gu": "જો તમે એ પેજ પર પાસવર્ડ નાખ્યો હતો, તો અમે તેને રીસેટ કરી દીધો છે: અમે મોકલેલી લિંકથી સાઇન ઇન કરો.",
            },
            "actions": {
                "en": "We keep watching for new copies of the site and block them.",
                "zh": "我们会继续监测并拦截该网站的新副本。",
                "fa": "همچنان نسخه‌های تازهٔ سایت را زیر نظر داریم و مسدود می‌کنیم.",
                "gu": "અમે સાઇટની નવી નકલો પર નજર રાખીને તેને બ્લોક કરતા રહીશું.",
            },
            "contact": "security@example.com, +1 800 555 0100",
        });
        let draft = self
            .post(
                &format!("/api/v1/incidents/{id}/updates/from-template"),
                &self.cast.communications,
                json!({ "template": "resolved", "fields": fields, "components": { self.components["Login"].clone(): "operational" } }),
            )
            .await?;
        let uid = draft["id"].as_str().unwrap_or_default().to_owned();
        let told = self.mailbox.total();
        if draft["state"] != "published" {
            self.approve_and_publish(&uid).await?;
        }
        // The resolution reaches the subscribers before the invitations.
        self.wait_for_mail(told + SUBSCRIBERS.len() as u64).await;
        let pm = self
            .post(
                &format!("/api/v1/incidents/{id}/postmortem"),
                &self.cast.analyst,
                json!({}),
            )
            .await
            .is_ok();
        // CX owns surveys; communications sends the invitations.
        self.post(
            &format!("/api/v1/incidents/{id}/survey"),
            &self.cast.cx,
            json!({}),
        )
        .await?;
        let before = self.mailbox.total();
        let sent = self
            .post(
                &format!("/api/v1/incidents/{id}/survey/send"),
                &self.cast.communications,
                json!({}),
            )
            .await?;
        let invited =
            sent["affected"].as_u64().unwrap_or(0) + sent["subscribers"].as_u64().unwrap_or(0);
        let got = self.wait_for_mail(before + invited).await - before;
        // Customers follow their invitation and answer; most were pleased
        // to hear early, one was not.
        let invitations: Vec<(String, String)> = self
            .mailbox
            .messages()
            .iter()
            .skip(before as usize)
            .filter_map(|m| link_in(m, "/f/incident-").map(|l| (m.to.join(","), l)))
            .collect();
        let mut answered = 0;
        for (i, (_, link)) in invitations.iter().enumerate() {
            let Some(path) = link.split_once("/f/").map(|(_, p)| format!("/f/{p}")) else {
                continue;
            };
            let (slug_path, lang) = path.split_once("?lang=").unwrap_or((&path, "en"));
            let score = ["5", "5", "4", "5", "4", "2", "5", "4"][i % 8];
            let r = self
                .http
                .post(format!("{}{slug_path}", self.base))
                .form(&[("lang", lang), ("informed", score), ("comment", "")])
                .send()
                .await?;
            if r.status().is_success() {
                answered += 1;
            }
            if i % 3 == 2 {
                self.pause(1.0).await;
            }
        }
        Ok(vec![
            "Resolved, in four languages; Login is operational again.".into(),
            if pm {
                "The postmortem starts pre-filled from the timeline.".into()
            } else {
                "The postmortem was already started.".into()
            },
            format!("{got} survey invitations go out; {answered} customers answer how well they were kept informed."),
        ])
    }

    async fn scorecard(&mut self) -> anyhow::Result<Vec<String>> {
        let after = self.get("/api/v1/scorecard", &self.cast.admin).await?;
        let before = self.before.clone().unwrap_or(Value::Null);
        Ok(vec![
            format!("Before: {}", card_line(&before)),
            format!("After:  {}", card_line(&after)),
        ])
    }
}
