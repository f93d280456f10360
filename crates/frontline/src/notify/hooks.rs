//! HTTP deliveries: Standard Webhooks, Slack and Teams incoming webhooks,
//! the SMS provider. Every request goes through a client whose resolver
//! refuses loopback, private, link-local and other internal addresses
//! (unless `notify.allow_private_targets`), and that follows no redirects,
//! so a subscriber cannot point deliveries at the inside of the network.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::outbox::Outcome;
use crate::storage::now_ms;

/// Addresses no delivery may reach unless allowed.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return internal_v4(v4);
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64
        }
    }
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // shared address space
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking
        || o[0] >= 240
}

/// Resolves names, then drops internal addresses (or refuses if none is left).
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow || !is_internal(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(Box::new(Refused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the address resolves only to internal addresses")
    }
}
impl std::error::Error for Refused {}

/// The outbound HTTP client and its policy.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    allow_private: bool,
}

impl Http {
    pub fn new(allow_private: bool) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver { allow_private }))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("Frontline/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            allow_private,
        })
    }

    /// Whether `url` may be delivered to, judged on its literal host (names
    /// are judged by the resolver when connecting).
    pub fn permits(&self, url: &url::Url) -> bool {
        if self.allow_private {
            return true;
        }
        match url.host() {
            Some(url::Host::Ipv4(ip)) => !is_internal(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => !is_internal(IpAddr::V6(ip)),
            Some(url::Host::Domain(d)) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                d != "localhost" && !d.ends_with(".localhost")
            }
            None => false,
        }
    }

    /// POSTs JSON with extra headers and turns the answer into an outcome.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        retry_at: i64,
    ) -> Outcome {
        self.post_status(url, headers, body, retry_at).await.0
    }

    /// The same, with the answer's status code when there was one.
    pub async fn post_status(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        retry_at: i64,
    ) -> (Outcome, Option<u16>) {
        let Ok(parsed) = url::Url::parse(url) else {
            return (Outcome::Failed("invalid URL".into()), None);
        };
        if !self.permits(&parsed) || !self.resolves_outside(&parsed).await {
            return (Outcome::Failed("refused: internal address".into()), None);
        }
        let mut req = self
            .client
            .post(parsed)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        match req.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                (outcome_of(status, resp.headers(), retry_at), Some(status))
            }
            Err(e) if e.is_timeout() => (Outcome::Retry(retry_at, "timeout".into()), None),
            Err(_) => (Outcome::Retry(retry_at, "connection failed".into()), None),
        }
    }

    /// Names that resolve only to internal addresses are refused outright
    /// (the resolver also filters at connect time, against rebinding).
    async fn resolves_outside(&self, url: &url::Url) -> bool {
        if self.allow_private {
            return true;
        }
        let Some(url::Host::Domain(d)) = url.host() else {
            return true;
        };
        match tokio::net::lookup_host((d, url.port_or_known_default().unwrap_or(443))).await {
            Ok(addrs) => addrs.into_iter().any(|a| !is_internal(a.ip())),
            // Unknown now: let the attempt fail and be retried.
            Err(_) => true,
        }
    }
}

/// 2xx sent; 410 gone (the subscriber is disabled); 429 and 503 honour
/// Retry-After; other answers are retried.
fn outcome_of(status: u16, headers: &reqwest::header::HeaderMap, retry_at: i64) -> Outcome {
    match status {
        200..=299 => Outcome::Sent,
        410 => Outcome::Failed("410 gone".into()),
        _ => {
            let at = retry_after(headers).unwrap_or(retry_at);
            Outcome::Retry(at, format!("http {status}"))
        }
    }
}

/// Retry-After as an absolute time in ms: seconds or an HTTP date, capped
/// at a day.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<i64> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let now = now_ms();
    let at = if let Ok(secs) = v.trim().parse::<i64>() {
        now + secs.max(0) * 1000
    } else {
        chrono::DateTime::parse_from_rfc2822(v.trim())
            .ok()?
            .timestamp_millis()
    };
    Some(at.clamp(now, now + 24 * 3600 * 1000))
}

/// The Standard Webhooks headers for `body`: `webhook-id`,
/// `webhook-timestamp`, and `webhook-signature` = `v1,` + base64 of
/// HMAC-SHA256 over `id.timestamp.body` under the secret (`whsec_` +
/// base64 key).
pub fn standard_webhook_headers(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Option<Vec<(String, String)>> {
    let key = B64.decode(secret.strip_prefix("whsec_")?).ok()?;
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&key).ok()?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let sig = B64.encode(mac.finalize().into_bytes());
    Some(vec![
        ("webhook-id".into(), id.to_owned()),
        ("webhook-timestamp".into(), timestamp.to_string()),
        ("webhook-signature".into(), format!("v1,{sig}")),
    ])
}

/// The SMS provider's request body for `to` and `text`.
pub fn sms_body(template: &str, to: &str, text: &str) -> Result<Vec<u8>, String> {
    let env = minijinja::Environment::new();
    env.render_str(template, minijinja::context! { to, text })
        .map(String::into_bytes)
        .map_err(|_| "the SMS body template does not render".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn literal_hosts_are_checked_before_connecting() {
        let h = Http::new(false).unwrap();
        for u in [
            "http://127.0.0.1:8080/x",
            "http://[::1]/x",
            "http://localhost/x",
            "http://169.254.169.254/latest",
        ] {
            assert!(!h.permits(&url::Url::parse(u).unwrap()), "{u}");
        }
        assert!(h.permits(&url::Url::parse("https://hooks.slack.com/x").unwrap()));
        assert!(Http::new(true)
            .unwrap()
            .permits(&url::Url::parse("http://127.0.0.1/").unwrap()));
    }

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let h = standard_webhook_headers(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(h[2].1, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
