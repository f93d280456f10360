//! The delivery worker: claims due messages, sends them side by side,
//! records each outcome as soon as it is known, and backs off failures exponentially with jitter
//! (or as Retry-After says) until `notify.max_attempts`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use lettre::message::Mailbox;
use rand::Rng;
use tokio::sync::{mpsc, oneshot, watch};

use super::email::{self, Transport, Unsubscribe};
use super::hooks::{self, Http};
use super::outbox::{Claimed, Outcome, Recipient, StaffEmail};
use super::render::{render_confirmation, render_with, Links, Notice, Rendered};
use super::routes::{self, RouteAttempt, RouteKind, RouteMessage};
use super::survey::{render_invite, SurveyInvite};
use super::ticket_mail::{self, TicketFacts, TicketMail};
use super::tokens::{self, Purpose};
use super::Channel;
use crate::config::Config;
use crate::privacy::KeyRing;
use crate::storage::{now_ms, Store};

/// How long the worker waits when there was nothing to send.
const IDLE: Duration = Duration::from_millis(200);
/// The longest wait between two attempts.
const MAX_BACKOFF_MS: i64 = 6 * 3600 * 1000;

/// Rings when a warning was queued, so the worker looks at once instead
/// of at the end of its idle wait (other nodes' workers still poll).
static WAKE: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Tells this node's worker that something was queued.
pub fn wake() {
    WAKE.notify_one();
}

/// What every delivery needs, built once.
struct Deliverer {
    store: Store,
    ring: Arc<KeyRing>,
    config: Arc<Config>,
    smtp: Option<Transport>,
    http: Http,
    from: Mailbox,
    mailto: String,
    host: String,
    base: String,
}

/// Starts the worker; it stops (after finishing the round in hand) when
/// `closing` turns true. Every node may run one: claims are leased and,
/// on PostgreSQL, taken with `FOR UPDATE SKIP LOCKED`.
pub fn spawn_worker(
    store: Store,
    config: Arc<Config>,
    ring: Arc<KeyRing>,
    mut closing: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let d = match Deliverer::new(store, config, ring) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "the delivery worker cannot start");
                return;
            }
        };
        let mut notices: HashMap<String, Option<Notice>> = HashMap::new();
        loop {
            if *closing.borrow() {
                break;
            }
            let n = match d.round(&mut notices).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "delivery round failed; will retry");
                    0
                }
            };
            if n == 0 {
                let woken = tokio::select! {
                    _ = tokio::time::sleep(IDLE) => false,
                    _ = WAKE.notified() => true,
                    _ = closing.wait_for(|c| *c) => break,
                };
                if woken {
                    // Let the transaction that queued it commit.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            if notices.len() > 256 {
                notices.clear();
            }
        }
    })
}

impl Deliverer {
    fn new(store: Store, config: Arc<Config>, ring: Arc<KeyRing>) -> anyhow::Result<Self> {
        let n = &config.notify;
        let smtp = email::transport(n)?;
        let from: Mailbox = n
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("notify.from: {e}"))?;
        let mailto = if n.unsubscribe_mailto.is_empty() {
            from.email.to_string()
        } else {
            n.unsubscribe_mailto.clone()
        };
        let base = config.http.public_url.trim_end_matches('/').to_owned();
        let host = url::Url::parse(&base)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "localhost".into());
        Ok(Self {
            http: Http::new(n.allow_private_targets)?,
            store,
            ring,
            smtp,
            from,
            mailto,
            host,
            base,
            config,
        })
    }

    fn channels(&self) -> Vec<Channel> {
        Channel::ALL
            .into_iter()
            .chain([Channel::PagerDuty])
            .filter(|c| match c {
                Channel::Email => self.smtp.is_some(),
                Channel::Sms => !self.config.notify.sms_url.is_empty(),
                _ => true,
            })
            .collect()
    }

    /// One round: claim, deliver, record. Returns how many were claimed.
    async fn round(&self, notices: &mut HashMap<String, Option<Notice>>) -> anyhow::Result<usize> {
        let n = &self.config.notify;
        let lease_ms = i64::try_from(n.lease_secs)
            .unwrap_or(60)
            .saturating_mul(1000);
        let claimed = self
            .store
            .claim_messages(&self.channels(), lease_ms, i64::from(n.batch))
            .await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let recipients = self.store.message_recipients(&self.ring, &claimed).await?;
        for c in &claimed {
            if let Some(u) = &c.update_id {
                if !notices.contains_key(u) {
                    let notice = self.store.notice(u, &self.base).await?;
                    notices.insert(u.clone(), notice);
                }
            }
        }
        let notices = &*notices;
        let recipients = &recipients;
        let count = claimed.len();
        // Each outcome is committed as soon as it is known (a recorder
        // commits whatever has arrived in one transaction), and a sending
        // slot takes its next message only once its last outcome is
        // committed: a crash can repeat at most one message per slot
        // (`notify.concurrency`), never the whole claimed batch.
        type Done = (Claimed, Outcome, Option<RouteAttempt>, oneshot::Sender<()>);
        let (tx, mut rx) = mpsc::unbounded_channel::<Done>();
        let stopped = AtomicBool::new(false);
        let stopped = &stopped;
        let send_all = async move {
            futures_util::stream::iter(claimed)
                .for_each_concurrent(n.concurrency.max(1) as usize, |c| {
                    let tx = tx.clone();
                    async move {
                        if stopped.load(Ordering::Relaxed) {
                            // Recording failed: leave the rest to their lease.
                            return;
                        }
                        let started = std::time::Instant::now();
                        let at = now_ms();
                        let (o, status) = self.deliver(&c, recipients, notices).await;
                        let attempt = (c.purpose == "route")
                            .then(|| route_attempt(&c, &o, status, at, started.elapsed()));
                        let (ack, committed) = oneshot::channel();
                        if tx.send((c, o, attempt, ack)).is_ok() {
                            let _ = committed.await;
                        }
                    }
                })
                .await;
        };
        let record_all = async {
            let mut arrived: Vec<Done> = Vec::new();
            while rx.recv_many(&mut arrived, 1024).await > 0 {
                let mut outcomes = Vec::with_capacity(arrived.len());
                let mut attempts = Vec::new();
                let mut acks = Vec::with_capacity(arrived.len());
                for (c, o, a, ack) in arrived.drain(..) {
                    outcomes.push((c, o));
                    attempts.extend(a);
                    acks.push(ack);
                }
                if let Err(e) = self.store.record_outcomes(&outcomes, &attempts).await {
                    stopped.store(true, Ordering::Relaxed);
                    return Err(e);
                }
                for ack in acks {
                    let _ = ack.send(());
                }
            }
            Ok(())
        };
        let ((), recorded) = tokio::join!(send_all, record_all);
        recorded?;
        Ok(count)
    }

    /// When the next attempt after `attempts` may start: exponential from
    /// `notify.retry_base_secs`, with jitter (between half and all of it).
    fn retry_at(&self, attempts: i64) -> i64 {
        let base = i64::try_from(self.config.notify.retry_base_secs)
            .unwrap_or(30)
            .saturating_mul(1000);
        let exp = u32::try_from((attempts - 1).clamp(0, 30)).unwrap_or(0);
        let full = base.saturating_mul(1i64 << exp).min(MAX_BACKOFF_MS);
        let wait = rand::thread_rng().gen_range(full / 2..=full.max(1));
        now_ms() + wait
    }

    /// Delivers one message; the answer's status code where there was one.
    async fn deliver(
        &self,
        c: &Claimed,
        recipients: &HashMap<String, Recipient>,
        notices: &HashMap<String, Option<Notice>>,
    ) -> (Outcome, Option<u16>) {
        let max = i64::from(self.config.notify.max_attempts);
        if c.attempts > max {
            return (Outcome::Failed("gave up: too many attempts".into()), None);
        }
        let Some(r) = recipients.get(&c.recipient_id) else {
            return (
                Outcome::Cancelled("recipient no longer exists".into()),
                None,
            );
        };
        let retry_at = self.retry_at(c.attempts);
        if c.purpose == "route" {
            if r.state != "active" {
                return (Outcome::Cancelled("the route is disabled".into()), None);
            }
            let (o, status) = self.send_route(c, r, retry_at).await;
            return (gave_up(o, c.attempts, max), status);
        }
        let outcome = match c.purpose.as_str() {
            "confirm" => {
                if r.state != "pending" {
                    return (
                        Outcome::Cancelled("no longer awaiting confirmation".into()),
                        None,
                    );
                }
                self.send_confirmation(c, r, retry_at).await
            }
            "staff" => {
                if r.state != "active" {
                    return (
                        Outcome::Cancelled(format!("recipient is {}", r.state)),
                        None,
                    );
                }
                self.send_staff(c, r, retry_at).await
            }
            "ticket" => self.send_ticket(c, retry_at).await,
            "survey" => {
                if r.state != "active" {
                    return (
                        Outcome::Cancelled(format!("recipient is {}", r.state)),
                        None,
                    );
                }
                self.send_survey(c, r, retry_at).await
            }
            _ => {
                if r.state != "active" {
                    return (
                        Outcome::Cancelled(format!("recipient is {}", r.state)),
                        None,
                    );
                }
                let Some(Some(notice)) = c.update_id.as_ref().and_then(|u| notices.get(u)) else {
                    return (Outcome::Failed("the update is not published".into()), None);
                };
                self.send_notice(c, r, notice, retry_at).await
            }
        };
        (gave_up(outcome, c.attempts, max), None)
    }

    /// A route's message: the body for its kind, signed for webhooks.
    async fn send_route(
        &self,
        c: &Claimed,
        r: &Recipient,
        retry_at: i64,
    ) -> (Outcome, Option<u16>) {
        let Ok(m) = serde_json::from_str::<RouteMessage>(&c.payload) else {
            return (Outcome::Failed("the message cannot be read".into()), None);
        };
        let kind = match c.channel {
            Channel::Slack => RouteKind::Slack,
            Channel::Teams => RouteKind::Teams,
            Channel::PagerDuty => RouteKind::PagerDuty,
            Channel::Webhook => RouteKind::Webhook,
            Channel::Email => RouteKind::Email,
            Channel::Sms => return (Outcome::Failed("routes do not send SMS".into()), None),
        };
        if kind == RouteKind::Email {
            let Some(smtp) = &self.smtp else {
                return (
                    Outcome::Retry(retry_at, "notify.smtp_url is not set".into()),
                    None,
                );
            };
            let (subject, text) = routes::email_text(&m, &self.base);
            let rendered = Rendered {
                language: "en".into(),
                subject,
                text,
                html: None,
                json: None,
            };
            return match email::build(
                &self.from,
                &r.contact.address,
                &c.id,
                &self.host,
                &rendered,
                None,
                &[],
            ) {
                Ok(mail) => (email::send(smtp, mail, retry_at).await, None),
                Err(e) => (Outcome::Failed(e), None),
            };
        }
        let body = match routes::http_body(kind, &m, &self.base, &r.contact) {
            Ok(b) => b,
            Err(e) => return (Outcome::Failed(e), None),
        };
        let headers = if kind == RouteKind::Webhook {
            let Some(secret) = &r.contact.secret else {
                return (
                    Outcome::Failed("the webhook has no signing secret".into()),
                    None,
                );
            };
            match hooks::standard_webhook_headers(secret, &c.id, now_ms() / 1000, &body) {
                Some(h) => h,
                None => {
                    return (
                        Outcome::Failed("the signing secret is not valid".into()),
                        None,
                    )
                }
            }
        } else {
            vec![]
        };
        self.http
            .post_status(&r.contact.address, &headers, body, retry_at)
            .await
    }

    async fn send_confirmation(&self, c: &Claimed, r: &Recipient, retry_at: i64) -> Outcome {
        let Some(smtp) = &self.smtp else {
            return Outcome::Retry(retry_at, "notify.smtp_url is not set".into());
        };
        let token = tokens::sign(
            &self.ring,
            Purpose::Confirm,
            &c.recipient_id,
            now_ms() + tokens::CONFIRM_TTL_MS,
        );
        let url = format!("{}/status/confirm?t={token}", self.base);
        let rendered = render_confirmation(&c.language, &url);
        match email::build(
            &self.from,
            &r.contact.address,
            &c.id,
            &self.host,
            &rendered,
            None,
            &[],
        ) {
            Ok(m) => email::send(smtp, m, retry_at).await,
            Err(e) => Outcome::Failed(e),
        }
    }

    async fn send_staff(&self, c: &Claimed, r: &Recipient, retry_at: i64) -> Outcome {
        let Some(smtp) = &self.smtp else {
            return Outcome::Retry(retry_at, "notify.smtp_url is not set".into());
        };
        let Ok(mail) = serde_json::from_str::<StaffEmail>(&c.payload) else {
            return Outcome::Failed("the message cannot be read".into());
        };
        let rendered = Rendered {
            language: c.language.clone(),
            subject: mail.subject,
            text: mail.text,
            html: mail.html,
            json: None,
        };
        match email::build(
            &self.from,
            &r.contact.address,
            &c.id,
            &self.host,
            &rendered,
            None,
            &mail.attachments,
        ) {
            Ok(m) => email::send(smtp, m, retry_at).await,
            Err(e) => Outcome::Failed(e),
        }
    }

    /// Mail to a customer about their ticket, with their tracking link.
    async fn send_ticket(&self, c: &Claimed, retry_at: i64) -> Outcome {
        let Some(smtp) = &self.smtp else {
            return Outcome::Retry(retry_at, "notify.smtp_url is not set".into());
        };
        let Ok(mail) = serde_json::from_str::<TicketMail>(&c.payload) else {
            return Outcome::Failed("the message cannot be read".into());
        };
        let parts = match self
            .store
            .ticket_mail_parts(&self.ring, &c.recipient_id, mail.event_id.as_deref())
            .await
        {
            Ok(Some(p)) => p,
            Ok(None) => {
                return Outcome::Cancelled("the ticket has no customer address any more".into())
            }
            Err(e) => return Outcome::Retry(retry_at, format!("cannot read the ticket: {e}")),
        };
        let link = crate::tickets::tracking_url(&self.config, &parts.token);
        let facts = TicketFacts {
            ticket_id: &c.recipient_id,
            title: &parts.title,
            link: &link,
            reply: parts.reply.as_deref(),
            csat: parts.csat,
        };
        let Some(rendered) = ticket_mail::render(&c.language, &mail.event, &facts) else {
            return Outcome::Failed("unknown ticket event".into());
        };
        match email::build(
            &self.from,
            &parts.email,
            &c.id,
            &self.host,
            &rendered,
            None,
            &[],
        ) {
            Ok(m) => email::send(smtp, m, retry_at).await,
            Err(e) => Outcome::Failed(e),
        }
    }

    /// The post-incident survey's invitation, by email (with the
    /// unsubscribe headers for subscribers) or SMS.
    async fn send_survey(&self, c: &Claimed, r: &Recipient, retry_at: i64) -> Outcome {
        let Ok(invite) = serde_json::from_str::<SurveyInvite>(&c.payload) else {
            return Outcome::Failed("the message cannot be read".into());
        };
        match c.channel {
            Channel::Email => {
                let Some(smtp) = &self.smtp else {
                    return Outcome::Retry(retry_at, "notify.smtp_url is not set".into());
                };
                let rendered = render_invite(&c.language, &invite, &self.base, false);
                let unsubscribe = (c.recipient_kind == "subscriber").then(|| {
                    let token = tokens::sign(&self.ring, Purpose::Manage, &c.recipient_id, 0);
                    Unsubscribe {
                        url: format!("{}/status/unsubscribe?t={token}", self.base),
                        mailto: self.mailto.clone(),
                        token,
                    }
                });
                match email::build(
                    &self.from,
                    &r.contact.address,
                    &c.id,
                    &self.host,
                    &rendered,
                    unsubscribe.as_ref(),
                    &[],
                ) {
                    Ok(m) => email::send(smtp, m, retry_at).await,
                    Err(e) => Outcome::Failed(e),
                }
            }
            Channel::Sms => {
                let rendered = render_invite(&c.language, &invite, &self.base, true);
                self.send_sms(c, r, &rendered.text, retry_at).await
            }
            _ => Outcome::Cancelled("surveys go by email or SMS".into()),
        }
    }

    async fn send_sms(&self, c: &Claimed, r: &Recipient, text: &str, retry_at: i64) -> Outcome {
        let n = &self.config.notify;
        let body = match hooks::sms_body(&n.sms_body_template, &r.contact.address, text) {
            Ok(b) => b,
            Err(e) => return Outcome::Failed(e),
        };
        let mut headers = vec![("idempotency-key".to_owned(), c.id.clone())];
        if let Some((k, v)) = n.sms_auth_header.expose().split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
        self.http.post(&n.sms_url, &headers, body, retry_at).await
    }

    async fn send_notice(
        &self,
        c: &Claimed,
        r: &Recipient,
        notice: &Notice,
        retry_at: i64,
    ) -> Outcome {
        let subscriber = c.recipient_kind == "subscriber";
        let manage_token =
            subscriber.then(|| tokens::sign(&self.ring, Purpose::Manage, &c.recipient_id, 0));
        let links = match &manage_token {
            Some(t) => Links {
                unsubscribe: Some(format!("{}/status/unsubscribe?t={t}", self.base)),
                manage: Some(format!("{}/status/subscription?t={t}", self.base)),
            },
            None => Links::default(),
        };
        let rendered = render_with(notice, &c.language, c.channel, &links);
        match c.channel {
            Channel::Email => {
                let Some(smtp) = &self.smtp else {
                    return Outcome::Retry(retry_at, "notify.smtp_url is not set".into());
                };
                let unsubscribe = manage_token.map(|token| Unsubscribe {
                    url: links.unsubscribe.clone().unwrap_or_default(),
                    mailto: self.mailto.clone(),
                    token,
                });
                match email::build(
                    &self.from,
                    &r.contact.address,
                    &c.id,
                    &self.host,
                    &rendered,
                    unsubscribe.as_ref(),
                    &[],
                ) {
                    Ok(m) => email::send(smtp, m, retry_at).await,
                    Err(e) => Outcome::Failed(e),
                }
            }
            Channel::Webhook => {
                let body = match rendered.json.as_ref().map(serde_json::to_vec) {
                    Some(Ok(b)) => b,
                    _ => return Outcome::Failed("cannot encode the payload".into()),
                };
                let Some(secret) = &r.contact.secret else {
                    return Outcome::Failed("the webhook has no signing secret".into());
                };
                let ts = now_ms() / 1000;
                let Some(headers) = hooks::standard_webhook_headers(secret, &c.id, ts, &body)
                else {
                    return Outcome::Failed("the signing secret is not valid".into());
                };
                self.http
                    .post(&r.contact.address, &headers, body, retry_at)
                    .await
            }
            Channel::Slack | Channel::Teams => {
                let body = match rendered.json.as_ref().map(serde_json::to_vec) {
                    Some(Ok(b)) => b,
                    _ => return Outcome::Failed("cannot encode the payload".into()),
                };
                self.http
                    .post(&r.contact.address, &[], body, retry_at)
                    .await
            }
            Channel::PagerDuty => Outcome::Failed("notices do not go to PagerDuty".into()),
            Channel::Sms => self.send_sms(c, r, &rendered.text, retry_at).await,
        }
    }
}

/// A retry on the last allowed attempt is the end.
fn gave_up(o: Outcome, attempts: i64, max: i64) -> Outcome {
    match o {
        Outcome::Retry(_, why) if attempts >= max => {
            Outcome::Failed(format!("gave up after {attempts} attempts: {why}"))
        }
        o => o,
    }
}

/// What the attempts table keeps of one attempt: no personal data.
fn route_attempt(
    c: &Claimed,
    o: &Outcome,
    status: Option<u16>,
    at: i64,
    took: Duration,
) -> RouteAttempt {
    #[derive(serde::Deserialize)]
    struct Event {
        event: String,
    }
    let (outcome, error) = match o {
        Outcome::Sent => ("sent", None),
        Outcome::Retry(_, e) => ("retry", Some(e.clone())),
        Outcome::Failed(e) | Outcome::Bounced(e) => ("failed", Some(e.clone())),
        Outcome::Cancelled(e) => ("cancelled", Some(e.clone())),
    };
    RouteAttempt {
        message_id: c.id.clone(),
        attempt: c.attempts,
        route_id: c.recipient_id.clone(),
        event: serde_json::from_str::<Event>(&c.payload)
            .map(|e| e.event)
            .unwrap_or_default(),
        at: crate::storage::incidents::Time(at),
        outcome: outcome.into(),
        status_code: status.map(i64::from),
        error,
        duration_ms: i64::try_from(took.as_millis()).unwrap_or(i64::MAX),
    }
}
