//! A small SMTP server that keeps what it receives: for tests, the demo
//! and the fan-out benchmark, so mail goes over a real SMTP conversation on
//! loopback without a mail system. It speaks enough of RFC 5321 for a
//! client (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and refuses
//! recipients whose local part starts with `bounce` (550), to show bounces.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// One message as received.
#[derive(Debug, Clone)]
pub struct Caught {
    pub from: String,
    pub to: Vec<String>,
    /// The Message-ID header, without angle brackets.
    pub message_id: Option<String>,
    /// The whole message (empty when the catcher keeps counts only).
    pub raw: Vec<u8>,
    /// When the catcher received it.
    pub received_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Default)]
struct Inbox {
    messages: Vec<Caught>,
    /// Deliveries per Message-ID.
    by_id: HashMap<String, u64>,
    total: u64,
}

/// A running catcher. Dropping it stops accepting.
pub struct MailCatcher {
    pub addr: SocketAddr,
    inbox: Arc<Mutex<Inbox>>,
    arrived: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MailCatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MailCatcher {
    /// Listens on `addr` (e.g. `127.0.0.1:0`). `keep_bodies`: keep each
    /// message whole (false: only Message-IDs and counts, for millions).
    pub async fn start(addr: &str, keep_bodies: bool) -> std::io::Result<Self> {
        Self::start_with_delay(addr, keep_bodies, Duration::ZERO).await
    }

    /// Like `start`, answering each message only after `delay`, like a
    /// slow mail server.
    pub async fn start_with_delay(
        addr: &str,
        keep_bodies: bool,
        delay: Duration,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let inbox: Arc<Mutex<Inbox>> = Arc::default();
        let arrived = Arc::new(Notify::new());
        let (i, n) = (inbox.clone(), arrived.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let (i, n) = (i.clone(), n.clone());
                tokio::spawn(async move {
                    let _ = session(sock, i, n, keep_bodies, delay).await;
                });
            }
        });
        Ok(Self {
            addr,
            inbox,
            arrived,
            task,
        })
    }

    /// `smtp://127.0.0.1:PORT`, for `notify.smtp_url`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn messages(&self) -> Vec<Caught> {
        self.inbox
            .lock()
            .map(|i| i.messages.clone())
            .unwrap_or_default()
    }

    /// The `n`th message kept (0 is the first).
    pub fn message(&self, n: usize) -> Option<Caught> {
        self.inbox.lock().ok()?.messages.get(n).cloned()
    }

    /// Messages received, repeats included.
    pub fn total(&self) -> u64 {
        self.inbox.lock().map(|i| i.total).unwrap_or(0)
    }

    /// Deliveries per Message-ID.
    pub fn by_message_id(&self) -> HashMap<String, u64> {
        self.inbox
            .lock()
            .map(|i| i.by_id.clone())
            .unwrap_or_default()
    }

    /// Waits until `n` messages have arrived in all, or `timeout` passes;
    /// returns the count.
    pub async fn wait_for(&self, n: u64, timeout: Duration) -> u64 {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.arrived.notified();
            let got = self.total();
            if got >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.total();
            }
        }
    }
}

const MAX_MESSAGE: usize = 10 * 1024 * 1024;

async fn session(
    sock: tokio::net::TcpStream,
    inbox: Arc<Mutex<Inbox>>,
    arrived: Arc<Notify>,
    keep: bool,
    delay: Duration,
) -> std::io::Result<()> {
    let (r, mut w) = sock.into_split();
    let mut r = BufReader::new(r);
    w.write_all(b"220 frontline-catcher ESMTP\r\n").await?;
    let mut from = String::new();
    let mut to: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end();
        let upper = text.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            w.write_all(
                b"250-frontline-catcher\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n",
            )
            .await?;
        } else if upper.starts_with("HELO") {
            w.write_all(b"250 frontline-catcher\r\n").await?;
        } else if upper.starts_with("MAIL FROM:") {
            from = path_of(&text[10..]);
            to.clear();
            w.write_all(b"250 2.1.0 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            let rcpt = path_of(&text[8..]);
            if rcpt.to_ascii_lowercase().starts_with("bounce") {
                w.write_all(b"550 5.1.1 no such mailbox\r\n").await?;
            } else {
                to.push(rcpt);
                w.write_all(b"250 2.1.5 OK\r\n").await?;
            }
        } else if upper == "DATA" {
            if to.is_empty() {
                w.write_all(b"503 5.5.1 no recipients\r\n").await?;
                continue;
            }
            w.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut raw = Vec::new();
            loop {
                line.clear();
                if r.read_until(b'\n', &mut line).await? == 0 {
                    return Ok(());
                }
                if line == b".\r\n" || line == b".\n" {
                    break;
                }
                let content = if line.starts_with(b"..") {
                    &line[1..]
                } else {
                    &line[..]
                };
                if raw.len() + content.len() <= MAX_MESSAGE {
                    raw.extend_from_slice(content);
                }
            }
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let message_id = header(&raw, "message-id").map(|v| {
                v.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            });
            if let Ok(mut i) = inbox.lock() {
                i.total += 1;
                if let Some(id) = &message_id {
                    *i.by_id.entry(id.clone()).or_default() += 1;
                }
                if keep {
                    i.messages.push(Caught {
                        from: from.clone(),
                        to: std::mem::take(&mut to),
                        message_id,
                        raw,
                        received_at: chrono::Utc::now(),
                    });
                }
            }
            to.clear();
            arrived.notify_waiters();
            w.write_all(b"250 2.0.0 OK queued\r\n").await?;
        } else if upper == "RSET" {
            from.clear();
            to.clear();
            w.write_all(b"250 2.0.0 OK\r\n").await?;
        } else if upper == "NOOP" {
            w.write_all(b"250 2.0.0 OK\r\n").await?;
        } else if upper == "QUIT" {
            w.write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else {
            w.write_all(b"502 5.5.2 command not implemented\r\n")
                .await?;
        }
    }
}

/// `<a@b> SIZE=...` -> `a@b`.
fn path_of(s: &str) -> String {
    let s = s.trim();
    let end = s.find('>').map_or(s.len(), |i| i + 1);
    s[..end]
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}

/// The value of a header in the header block (unfolded).
pub fn header(raw: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    let mut value: Option<String> = None;
    for l in head.split("\r\n") {
        if let Some(v) = &mut value {
            if l.starts_with(' ') || l.starts_with('\t') {
                v.push(' ');
                v.push_str(l.trim());
                continue;
            }
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.trim().eq_ignore_ascii_case(name) {
                value = Some(v.trim().to_owned());
            }
        }
    }
    value
}
