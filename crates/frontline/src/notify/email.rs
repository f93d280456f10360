//! Email through SMTP (lettre): multipart text and HTML in the recipient's
//! language, a Message-ID that is the outbox id, and one-click
//! unsubscribe (RFC 8058) for subscribers.

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::outbox::{Attachment, Outcome};
use super::render::Rendered;
use crate::config::NotifyConfig;

pub type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// The transport for `notify.smtp_url`, pooling up to `concurrency`
/// connections; None when no SMTP server is configured.
pub fn transport(config: &NotifyConfig) -> anyhow::Result<Option<Transport>> {
    let url = config.smtp_url.expose();
    if url.is_empty() {
        return Ok(None);
    }
    let t = Transport::from_url(url)
        .map_err(|e| anyhow::anyhow!("notify.smtp_url: {e}"))?
        .pool_config(PoolConfig::new().max_size(config.concurrency.max(1)))
        .timeout(Some(std::time::Duration::from_secs(30)))
        .build();
    Ok(Some(t))
}

/// The unsubscribe headers of a subscriber's message.
pub struct Unsubscribe {
    /// The https link for one-click unsubscribe (POST) and the page (GET).
    pub url: String,
    /// `mailto:` target.
    pub mailto: String,
    /// The token, carried in the mailto subject.
    pub token: String,
}

/// Builds the message. `message_id` is the stable outbox id, so a repeat
/// after a crash carries the same Message-ID. Attachments are base64.
pub fn build(
    from: &Mailbox,
    to: &str,
    message_id: &str,
    host: &str,
    rendered: &Rendered,
    unsubscribe: Option<&Unsubscribe>,
    attachments: &[Attachment],
) -> Result<Message, String> {
    let to: Mailbox = to
        .parse()
        .map_err(|_| "recipient address is not valid".to_owned())?;
    let mut b = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(rendered.subject.clone())
        .message_id(Some(format!("<{message_id}@{host}>")))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Content-Language"),
            rendered.language.clone(),
        ));
    if let Some(u) = unsubscribe {
        b = b
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!(
                    "<{}>, <mailto:{}?subject=unsubscribe%20{}>",
                    u.url, u.mailto, u.token
                ),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_owned(),
            ));
    }
    let html = rendered.html.clone().unwrap_or_default();
    let body = MultiPart::alternative_plain_html(rendered.text.clone(), html);
    if attachments.is_empty() {
        return b
            .multipart(body)
            .map_err(|e| format!("cannot build the message: {e}"));
    }
    let mut mixed = MultiPart::mixed().multipart(body);
    for a in attachments {
        let content_type = ContentType::parse(&a.content_type)
            .map_err(|_| "an attachment's content type is not valid".to_owned())?;
        let content = Body::new_with_encoding(a.content.clone(), ContentTransferEncoding::Base64)
            .map_err(|_| "cannot encode an attachment".to_owned())?;
        mixed = mixed.singlepart(
            lettre::message::Attachment::new(a.filename.clone()).body(content, content_type),
        );
    }
    b.multipart(mixed)
        .map_err(|e| format!("cannot build the message: {e}"))
}

/// Sends one message: 2xx sent; a permanent (5xx) refusal bounces;
/// anything else is retried.
pub async fn send(transport: &Transport, message: Message, retry_at: i64) -> Outcome {
    match transport.send(message).await {
        Ok(_) => Outcome::Sent,
        Err(e) if e.is_permanent() => Outcome::Bounced(format!(
            "smtp {}",
            e.status()
                .map(|c| c.to_string())
                .unwrap_or_else(|| "5xx".into())
        )),
        Err(e) => {
            let what = match e.status() {
                Some(c) => format!("smtp {c}"),
                None if e.is_timeout() => "smtp timeout".into(),
                None => "smtp connection failed".into(),
            };
            Outcome::Retry(retry_at, what)
        }
    }
}
