//! The delivery worker: claims due messages, sends them side by side,
//! records the outcomes, and backs off failures exponentially with jitter
//! (or as Retry-After says) until `notify.max_attempts`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use lettre::message::Mailbox;
use rand::Rng;
use tokio::sync::watch;

use super::email::{self, Transport, Unsubscribe};
use super::hooks::{self, Http};
use super::outbox::{Claimed, Outcome, Recipient, StaffEmail};
use super::render::{render_confirmation, render_with, Links, Notice, Rendered};
use super::tokens::{self, Purpose};
use super::Channel;
use crate::config::Config;
use crate::privacy::KeyRing;
use crate::storage::{now_ms, Store};

/// How long the worker waits when there was nothing to send.
const IDLE: Duration = Duration::from_millis(200);
/// The longest wait between two attempts.
const MAX_BACKOFF_MS: i64 = 6 * 3600 * 1000;

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
                tokio::select! {
                    _ = tokio::time::sleep(IDLE) => {}
                    _ = closing.wait_for(|c| *c) => break,
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
        let outcomes: Vec<(Claimed, Outcome)> = futures_util::stream::iter(claimed)
            .map(|c| async move {
                let o = self.deliver(&c, recipients, notices).await;
                (c, o)
            })
            .buffer_unordered(n.concurrency.max(1) as usize)
            .collect()
            .await;
        let count = outcomes.len();
        self.store.record_outcomes(&outcomes).await?;
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

    async fn deliver(
        &self,
        c: &Claimed,
        recipients: &HashMap<String, Recipient>,
        notices: &HashMap<String, Option<Notice>>,
    ) -> Outcome {
        let max = i64::from(self.config.notify.max_attempts);
        if c.attempts > max {
            return Outcome::Failed("gave up: too many attempts".into());
        }
        let Some(r) = recipients.get(&c.recipient_id) else {
            return Outcome::Cancelled("recipient no longer exists".into());
        };
        let retry_at = self.retry_at(c.attempts);
        let outcome = match c.purpose.as_str() {
            "confirm" => {
                if r.state != "pending" {
                    return Outcome::Cancelled("no longer awaiting confirmation".into());
                }
                self.send_confirmation(c, r, retry_at).await
            }
            "staff" => {
                if r.state != "active" {
                    return Outcome::Cancelled(format!("recipient is {}", r.state));
                }
                self.send_staff(c, r, retry_at).await
            }
            _ => {
                if r.state != "active" {
                    return Outcome::Cancelled(format!("recipient is {}", r.state));
                }
                let Some(Some(notice)) = c.update_id.as_ref().and_then(|u| notices.get(u)) else {
                    return Outcome::Failed("the update is not published".into());
                };
                self.send_notice(c, r, notice, retry_at).await
            }
        };
        match outcome {
            Outcome::Retry(_, why) if c.attempts >= max => {
                Outcome::Failed(format!("gave up after {} attempts: {why}", c.attempts))
            }
            o => o,
        }
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
            Channel::Sms => {
                let n = &self.config.notify;
                let body =
                    match hooks::sms_body(&n.sms_body_template, &r.contact.address, &rendered.text)
                    {
                        Ok(b) => b,
                        Err(e) => return Outcome::Failed(e),
                    };
                let mut headers = vec![("idempotency-key".to_owned(), c.id.clone())];
                if let Some((k, v)) = n.sms_auth_header.expose().split_once(':') {
                    headers.push((k.trim().to_owned(), v.trim().to_owned()));
                }
                self.http.post(&n.sms_url, &headers, body, retry_at).await
            }
        }
    }
}
