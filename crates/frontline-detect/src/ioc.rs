//! Indicators of compromise (IOCs) quoted in complaints: URLs, domains, IP
//! addresses, sender email addresses, phone numbers and crypto addresses.
//!
//! # Indicator or personal data?
//!
//! URLs, domains, IP addresses and crypto addresses are always indicators
//! (unless a "my ..." cue says otherwise, as in "my wallet 0x...").
//! Phone numbers and email addresses are either the scammer's (an indicator)
//! or the customer's own (personal data, never reported). The rule:
//!
//! 1. Look for cue words up to 48 characters before and 24 after the value.
//!    Personal cues: "my number", "call me at", "contact me", "我的电话",
//!    "联系我", "شماره من", "با من تماس", "મારો નંબર", ...
//!    Indicator cues: "from", "sent by", "called me from", "this number",
//!    "caller", "发来", "来电", "号码", "از شماره", "از طرف", "પરથી", ...
//! 2. The cue closest to the value wins; on a tie the personal cue wins
//!    ("my number" beats the "number" inside it).
//! 3. With no cue, the value is an indicator only when the message is a
//!    scam or fraud report (`reported_as_scam`); otherwise it is treated as
//!    personal data. Privacy is the default.
//!
//! Values are returned in defanged form for display (`hxxp://`,
//! `example[.]com`, `1.2.3[.]4`, `user[@]example[.]com`) and with a
//! normalised `key` for counting (`domain:example.com`, `phone:+989121234567`).
//! Already-defanged input (`hxxp`, `[.]`, `(dot)`, `[@]`) is refanged first.

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::text::fold_digit;

/// Kind of indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    /// A full URL.
    Url,
    /// A domain name (bare, or the host of a URL).
    Domain,
    /// An IPv4 address.
    Ip,
    /// A sender's email address.
    Email,
    /// A scammer's phone number.
    Phone,
    /// A Bitcoin address (base58 or bech32).
    BtcAddress,
    /// An Ethereum address.
    EthAddress,
}

impl IndicatorKind {
    fn prefix(self) -> &'static str {
        match self {
            IndicatorKind::Url => "url",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Ip => "ip",
            IndicatorKind::Email => "email",
            IndicatorKind::Phone => "phone",
            IndicatorKind::BtcAddress => "btc",
            IndicatorKind::EthAddress => "eth",
        }
    }
}

/// One indicator found in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    /// What it is.
    pub kind: IndicatorKind,
    /// Safe to display: links cannot be clicked.
    pub defanged: String,
    /// Normalised key for counting, prefixed by kind (`domain:example.com`).
    pub key: String,
}

/// What [`extract_indicators`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicators {
    /// Indicators, in order of appearance, without duplicates.
    pub found: Vec<Indicator>,
    /// Phone numbers and email addresses judged to be the customer's own:
    /// counted, never returned.
    pub personal_skipped: usize,
}

struct Patterns {
    url: Regex,
    email: Regex,
    domain: Regex,
    ip: Regex,
    phone: Regex,
    btc: Regex,
    eth: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        // These are fixed, tested patterns; failure to compile is a bug caught
        // by every test in this module.
        let re = |s: &str| Regex::new(s).unwrap_or_else(|e| panic!("bad built-in regex {s}: {e}"));
        Patterns {
            url: re(r#"(?i)(?-u:\b)(?:https?://|ftp://|www\.)[^\s<>"'`，。、！？）)\]}]+"#),
            email: re(r"(?i)(?-u:\b)[a-z0-9][a-z0-9._%+-]{0,63}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.[a-z]{2,24}(?-u:\b)"),
            domain: re(r"(?i)(?-u:\b)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}(?-u:\b)"),
            ip: re(r"(?-u:\b)(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?-u:\b)"),
            phone: re(r"(?:\+|(?-u:\b)00|(?-u:\b))[0-9][[0-9] \-().]{5,20}[0-9](?-u:\b)"),
            btc: re(r"(?-u:\b)(?:[13][a-km-zA-HJ-NP-Z1-9]{25,34}|bc1[ac-hj-np-z02-9]{11,71}|BC1[AC-HJ-NP-Z02-9]{11,71})(?-u:\b)"),
            eth: re(r"(?-u:\b)0x[0-9a-fA-F]{40}(?-u:\b)"),
        }
    })
}

/// Top-level domains accepted for bare domains (a bare `file.txt` or
/// `v1.2` is not a domain). Domains inside URLs and emails need no check.
const TLDS: &[&str] = &[
    "com", "net", "org", "info", "biz", "io", "co", "me", "app", "xyz", "top", "online", "site",
    "club", "shop", "live", "ru", "cn", "ir", "in", "uk", "de", "fr", "us", "tk", "ml", "ga", "cf",
    "gq", "pw", "cc", "ly", "link", "click", "support", "help", "security", "bank", "pay", "store",
    "icu", "vip", "work", "tech", "cloud", "page", "dev", "ai", "eu", "nl", "es", "it", "br", "au",
    "ca", "jp", "kr", "hk", "tw", "sg", "ae", "pk", "bd", "tr", "ua", "pl", "cz", "ro", "gov",
    "edu", "mobi", "website", "space", "fun", "buzz", "rest", "sbs", "cfd", "cyou", "monster",
    "today", "world", "network", "services", "digital", "email", "tel", "asia", "su", "ws", "to",
    "gg", "im", "sh", "ch", "at", "be", "se", "no", "fi", "dk", "mx", "ar", "za", "ng", "ke", "id",
    "my", "ph", "vn", "th", "nz", "ie", "pt", "gr", "hu", "il", "sa", "qa", "kw", "om", "com.cn",
    "net.cn",
];

/// Cue words that mark a value as the customer's own.
const PERSONAL_BEFORE: &[&str] = &[
    "my number",
    "my phone",
    "my mobile",
    "my cell",
    "my email",
    "my e-mail",
    "my mail",
    "my address",
    "my wallet",
    "my own",
    "my contact",
    "call me",
    "reach me",
    "contact me",
    "text me",
    "email me",
    "me at",
    "me on",
    "registered number",
    "registered email",
    "我的电话",
    "我的手机",
    "我的号码",
    "我的邮箱",
    "我的手机号",
    "联系我",
    "打给我",
    "我的钱包",
    "我的联系方式",
    "本人电话",
    "本人手机",
    "شماره من",
    "شماره ام",
    "شماره ی من",
    "شماره همراه من",
    "موبایل من",
    "ایمیل من",
    "با من تماس",
    "به من زنگ",
    "تماس با من",
    "شماره خودم",
    "મારો નંબર",
    "મારા નંબર",
    "મારો મોબાઇલ",
    "મારું ઇમેઇલ",
    "મારો ઈમેલ",
    "મારું ઈમેલ",
    "મને કૉલ",
    "મને ફોન",
    "મારો સંપર્ક",
];
const PERSONAL_AFTER: &[&str] = &[
    "is my",
    "is mine",
    "(mine)",
    "(my",
    "是我的",
    "是本人",
    "شماره من است",
    "مال من",
    "મારો નંબર",
    "મારો છે",
];
/// Cue words that mark a value as a scammer's.
const INDICATOR_BEFORE: &[&str] = &[
    "from",
    "sent by",
    "sender",
    "called me from",
    "calling from",
    "this number",
    "the number",
    "number",
    "caller",
    "texted",
    "scam",
    "scammer",
    "fake",
    "spoof",
    "pretending",
    "claiming",
    "via",
    "link",
    "click",
    "visit",
    "site",
    "go to",
    "reply to",
    "send to",
    "sent to",
    "transfer to",
    "pay to",
    "wallet",
    "address",
    "call back",
    "callback",
    "发来",
    "来电",
    "打来",
    "号码",
    "骗子",
    "发件人",
    "从",
    "冒充",
    "转账到",
    "打到",
    "网址",
    "از شماره",
    "از طرف",
    "فرستنده",
    "شماره",
    "از ایمیل",
    "از آدرس",
    "با شماره",
    "به شماره",
    "لینک",
    "سایت",
    "પરથી",
    "નંબર",
    "મોકલ્યો",
    "મેસેજ",
    "લિંક",
    "સાઇટ",
];
const INDICATOR_AFTER: &[&str] = &[
    "发来",
    "打来",
    "来电",
    "发的",
    "给我打",
    "給我",
    "پیامک داد",
    "پیام داد",
    "تماس گرفت",
    "زنگ زد",
    "પરથી",
    "થી",
    "sent me",
    "called me",
    "texted me",
    "messaged me",
];

#[derive(Clone, Copy, PartialEq)]
enum Verdict {
    Indicator,
    Personal,
}

/// The four cue lists compiled into automata: one scan of a window finds
/// every cue (overlapping) instead of one substring search per cue.
struct Cues {
    personal_before: AhoCorasick,
    personal_after: AhoCorasick,
    indicator_before: AhoCorasick,
    indicator_after: AhoCorasick,
}

fn cues() -> &'static Cues {
    static C: OnceLock<Cues> = OnceLock::new();
    C.get_or_init(|| {
        // Fixed, tested lists; failure to build is a bug caught by every test.
        let ac = |list: &[&str]| {
            AhoCorasick::new(list).unwrap_or_else(|e| panic!("bad built-in cue list: {e}"))
        };
        Cues {
            personal_before: ac(PERSONAL_BEFORE),
            personal_after: ac(PERSONAL_AFTER),
            indicator_before: ac(INDICATOR_BEFORE),
            indicator_after: ac(INDICATOR_AFTER),
        }
    })
}

/// Distance from the end of the nearest cue to the end of `window`.
fn nearest_before(window: &str, cues: &AhoCorasick) -> Option<usize> {
    cues.find_overlapping_iter(window)
        .map(|m| window.len() - m.end())
        .min()
}

/// Distance from the start of `window` to the start of the nearest cue.
fn nearest_after(window: &str, cues: &AhoCorasick) -> Option<usize> {
    cues.find_overlapping_iter(window).map(|m| m.start()).min()
}

fn char_floor(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn char_ceil(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Applies the context rule in the module documentation.
fn judge(lower: &str, start: usize, end: usize, default: Verdict) -> Verdict {
    let before = &lower[char_floor(lower, start.saturating_sub(48))..start];
    let after = &lower[end..char_ceil(lower, (end + 24).min(lower.len()))];
    let k = cues();
    let personal = [
        nearest_before(before, &k.personal_before),
        nearest_after(after, &k.personal_after),
    ]
    .into_iter()
    .flatten()
    .min();
    let indicator = [
        nearest_before(before, &k.indicator_before),
        nearest_after(after, &k.indicator_after),
    ]
    .into_iter()
    .flatten()
    .min();
    match (personal, indicator) {
        (Some(p), Some(i)) if p <= i => Verdict::Personal,
        (Some(_), Some(_)) => Verdict::Indicator,
        (Some(_), None) => Verdict::Personal,
        (None, Some(_)) => Verdict::Indicator,
        (None, None) => default,
    }
}

/// Refangs common defanging and folds non-ASCII digits, so that values
/// written either way are found. Returns `None` when nothing changes.
fn refang(text: &str) -> Option<String> {
    let needs = text.contains('[')
        || text.contains("(.)")
        || text.contains("(dot)")
        || text.contains("(at)")
        || text.contains("hxxp")
        || text.contains("HXXP")
        || text.chars().any(|c| fold_digit(c).is_some());
    if !needs {
        return None;
    }
    let mut s: String = text.chars().map(|c| fold_digit(c).unwrap_or(c)).collect();
    for (from, to) in [
        ("[.]", "."),
        ("(.)", "."),
        ("{.}", "."),
        ("[dot]", "."),
        ("(dot)", "."),
        ("[:]", ":"),
        ("[://]", "://"),
        ("[@]", "@"),
        ("(at)", "@"),
        ("[at]", "@"),
        ("hxxps", "https"),
        ("hxxp", "http"),
        ("HXXPS", "https"),
        ("HXXP", "http"),
    ] {
        if s.contains(from) {
            s = s.replace(from, to);
        }
    }
    Some(s)
}

fn defang_host(host: &str) -> String {
    host.replace('.', "[.]")
}

fn defang_ip(ip: &str) -> String {
    match ip.rfind('.') {
        Some(p) => format!("{}[.]{}", &ip[..p], &ip[p + 1..]),
        None => ip.to_owned(),
    }
}

fn trim_url(u: &str) -> &str {
    u.trim_end_matches(['.', ',', ';', ':', '!', '?', '\'', '"', '»', '…'])
}

/// Splits a URL into (scheme, host, rest) with the host lower-cased.
fn split_url(u: &str) -> (String, String, String) {
    let (scheme, rest) = match u.find("://") {
        Some(p) => (u[..p].to_ascii_lowercase(), &u[p + 3..]),
        None => ("http".to_owned(), u),
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..host_end];
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    let mut path = rest[host_end..].to_owned();
    if let Some(p) = path.find('#') {
        path.truncate(p);
    }
    while path.ends_with('/') {
        path.pop();
    }
    (scheme, host, path)
}

fn tld_ok(domain: &str) -> bool {
    let d = domain.to_ascii_lowercase();
    TLDS.iter().any(|t| d.ends_with(&format!(".{t}")))
}

fn looks_base58_address(s: &str) -> bool {
    if s.starts_with("bc1") || s.starts_with("BC1") {
        return true;
    }
    let digits = s.chars().filter(char::is_ascii_digit).count();
    let upper = s.chars().filter(char::is_ascii_uppercase).count();
    let lower = s.chars().filter(char::is_ascii_lowercase).count();
    digits >= 2 && upper >= 3 && lower >= 3
}

struct Collector {
    found: Vec<Indicator>,
    taken: Vec<(usize, usize)>,
    personal_skipped: usize,
}

impl Collector {
    fn overlaps(&self, s: usize, e: usize) -> bool {
        self.taken.iter().any(|&(a, b)| s < b && a < e)
    }

    fn push(&mut self, kind: IndicatorKind, key_body: String, defanged: String) {
        let key = format!("{}:{}", kind.prefix(), key_body);
        if !self.found.iter().any(|i| i.key == key) {
            self.found.push(Indicator {
                kind,
                defanged,
                key,
            });
        }
    }
}

/// Finds indicators in `text`, applying the context rule in the module
/// documentation; `reported_as_scam` sets the default for phone numbers and
/// emails that have no cue.
pub fn extract_indicators(text: &str, reported_as_scam: bool) -> Indicators {
    let refanged = refang(text);
    let text = refanged.as_deref().unwrap_or(text);
    let bytes = text.as_bytes();
    let p = patterns();
    let mut c = Collector {
        found: Vec::new(),
        taken: Vec::new(),
        personal_skipped: 0,
    };
    let has_dot = bytes.contains(&b'.');
    let digit_count = bytes.iter().filter(|b| b.is_ascii_digit()).count();
    let needs_context = bytes.contains(&b'@')
        || text.contains("0x")
        || digit_count >= 8
        || has_long_token(bytes, 26);
    let low_owned = if needs_context {
        text.to_lowercase()
    } else {
        String::new()
    };
    // Lower-casing can change byte lengths outside ASCII; fall back to the
    // original text for the context rule then.
    let low: &str = if low_owned.len() == text.len() {
        &low_owned
    } else {
        text
    };
    let soft_default = if reported_as_scam {
        Verdict::Indicator
    } else {
        Verdict::Personal
    };

    if has_dot && (text.contains("://") || text.contains("www.") || text.contains("WWW.")) {
        for m in p.url.find_iter(text) {
            let raw = trim_url(m.as_str());
            let (s, e) = (m.start(), m.start() + raw.len());
            c.taken.push((s, e));
            let (scheme, host, path) = split_url(raw);
            if host.is_empty() {
                continue;
            }
            let fanged_scheme = scheme.replacen("http", "hxxp", 1);
            c.push(
                IndicatorKind::Url,
                format!("{scheme}://{host}{path}"),
                format!("{fanged_scheme}://{}{path}", defang_host(&host)),
            );
            if p.ip.is_match(&host) && host.chars().all(|ch| ch.is_ascii_digit() || ch == '.') {
                c.push(IndicatorKind::Ip, host.clone(), defang_ip(&host));
            } else {
                let bare = host.strip_prefix("www.").unwrap_or(&host).to_owned();
                let d = defang_host(&bare);
                c.push(IndicatorKind::Domain, bare, d);
            }
        }
    }
    if bytes.contains(&b'@') {
        for m in p.email.find_iter(text) {
            c.taken.push((m.start(), m.end()));
            let v = m.as_str().to_ascii_lowercase();
            if judge(low, m.start(), m.end(), soft_default) == Verdict::Personal {
                c.personal_skipped += 1;
                continue;
            }
            let defanged = v.replace('@', "[@]").replace('.', "[.]");
            c.push(IndicatorKind::Email, v, defanged);
        }
    }
    if text.contains("0x") {
        for m in p.eth.find_iter(text) {
            c.taken.push((m.start(), m.end()));
            if judge(low, m.start(), m.end(), Verdict::Indicator) == Verdict::Personal {
                continue;
            }
            let v = m.as_str().to_ascii_lowercase();
            c.push(IndicatorKind::EthAddress, v.clone(), v);
        }
    }
    if has_long_token(bytes, 26) {
        for m in p.btc.find_iter(text) {
            if c.overlaps(m.start(), m.end()) || !looks_base58_address(m.as_str()) {
                continue;
            }
            c.taken.push((m.start(), m.end()));
            if judge(low, m.start(), m.end(), Verdict::Indicator) == Verdict::Personal {
                continue;
            }
            let v = if m.as_str().starts_with("BC1") {
                m.as_str().to_ascii_lowercase()
            } else {
                m.as_str().to_owned()
            };
            c.push(IndicatorKind::BtcAddress, v.clone(), v);
        }
    }
    if has_dot && digit_count >= 4 {
        for m in p.ip.find_iter(text) {
            if c.overlaps(m.start(), m.end()) {
                continue;
            }
            let before = &text[char_floor(text, m.start().saturating_sub(8))..m.start()];
            let before = before.to_ascii_lowercase();
            if before.contains("version") || before.ends_with('v') || before.ends_with("v ") {
                continue;
            }
            c.taken.push((m.start(), m.end()));
            let v = m.as_str().to_owned();
            let d = defang_ip(&v);
            c.push(IndicatorKind::Ip, v, d);
        }
    }
    if has_dot {
        for m in p.domain.find_iter(text) {
            if c.overlaps(m.start(), m.end()) || !tld_ok(m.as_str()) {
                continue;
            }
            // Part of an email address we skipped, or a file path.
            if text[..m.start()].ends_with(['@', '/', '\\']) {
                continue;
            }
            c.taken.push((m.start(), m.end()));
            let v = m.as_str().to_ascii_lowercase();
            let v = v.strip_prefix("www.").unwrap_or(&v).to_owned();
            let d = defang_host(&v);
            c.push(IndicatorKind::Domain, v, d);
        }
    }
    if digit_count >= 8 {
        for m in p.phone.find_iter(text) {
            if c.overlaps(m.start(), m.end()) {
                continue;
            }
            let raw = m.as_str();
            let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
            if !(8..=15).contains(&digits.len()) || looks_like_date_or_amount(raw) {
                continue;
            }
            c.taken.push((m.start(), m.end()));
            if judge(low, m.start(), m.end(), soft_default) == Verdict::Personal {
                c.personal_skipped += 1;
                continue;
            }
            let key = if raw.starts_with('+') {
                format!("+{digits}")
            } else if let Some(rest) = digits.strip_prefix("00") {
                format!("+{rest}")
            } else {
                digits.clone()
            };
            c.push(IndicatorKind::Phone, key.clone(), raw.trim().to_owned());
        }
    }
    Indicators {
        found: c.found,
        personal_skipped: c.personal_skipped,
    }
}

fn looks_like_date_or_amount(raw: &str) -> bool {
    // 2024-05-01, 12.05.2024, 1,234.56: separators in date or money positions.
    let dots = raw.matches('.').count();
    let dashes = raw.matches('-').count();
    let groups: Vec<usize> = raw
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .map(str::len)
        .collect();
    (dashes == 2
        && groups.len() == 3
        && (groups[0] == 4 || groups[2] == 4)
        && groups.iter().all(|g| *g <= 4))
        || (dots == 2 && groups.len() == 3 && groups.iter().all(|g| *g <= 4))
        || (dots == 1
            && groups.last().is_some_and(|g| *g == 2)
            && groups.len() <= 3
            && !raw.contains(' '))
}

fn has_long_token(bytes: &[u8], n: usize) -> bool {
    let mut run = 0;
    for b in bytes {
        if b.is_ascii_alphanumeric() {
            run += 1;
            if run >= n {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str, scam: bool) -> Vec<String> {
        extract_indicators(text, scam)
            .found
            .into_iter()
            .map(|i| i.key)
            .collect()
    }

    #[test]
    fn urls_domains_and_ips_are_found_and_defanged() {
        let r = extract_indicators(
            "Got an SMS with https://secure-login.example-bank.xyz/verify?id=7. Also saw 185.220.101.4",
            false,
        );
        let k: Vec<&str> = r.found.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            k,
            [
                "url:https://secure-login.example-bank.xyz/verify?id=7",
                "domain:secure-login.example-bank.xyz",
                "ip:185.220.101.4"
            ]
        );
        assert_eq!(
            r.found[0].defanged,
            "hxxps://secure-login[.]example-bank[.]xyz/verify?id=7"
        );
        assert_eq!(r.found[2].defanged, "185.220.101[.]4");
    }

    #[test]
    fn bare_domains_need_a_known_tld() {
        assert_eq!(
            keys("go to paypa1-support.com now", false),
            ["domain:paypa1-support.com"]
        );
        assert!(keys("see report.pdf and version 2.3", false).is_empty());
    }

    #[test]
    fn defanged_input_is_refanged() {
        assert_eq!(
            keys("link was hxxp://evil[.]example[.]com/a", false),
            ["url:http://evil.example.com/a", "domain:evil.example.com"]
        );
    }

    #[test]
    fn scammer_phone_numbers_are_indicators() {
        assert_eq!(
            keys(
                "I got a call from +44 20 7946 0958 saying my card is blocked",
                false
            ),
            ["phone:+442079460958"]
        );
        assert_eq!(
            keys("13800138000发来的短信说我的账户被冻结", false),
            ["phone:13800138000"]
        );
        assert_eq!(
            keys("پیامک از شماره ۰۹۱۲۳۴۵۶۷۸۹ آمد که حسابم مسدود شده", false),
            ["phone:09123456789"]
        );
        assert_eq!(
            keys("9876543210 પરથી મેસેજ આવ્યો કે મારું ખાતું બંધ થશે", false),
            ["phone:9876543210"]
        );
    }

    #[test]
    fn customers_own_numbers_are_personal_data() {
        let r = extract_indicators("The app crashes. Please call me at +1 415 555 0132", true);
        assert!(r.found.is_empty(), "{:?}", r.found);
        assert_eq!(r.personal_skipped, 1);
        let r = extract_indicators("我的电话是13912345678，请联系我", true);
        assert!(r.found.is_empty());
        assert_eq!(r.personal_skipped, 1);
        let r = extract_indicators("شماره من ۰۹۱۲۱۱۱۲۲۳۳ است لطفا تماس بگیرید", true);
        assert!(r.found.is_empty());
        let r = extract_indicators("મારો નંબર 9123456780 છે, મને કૉલ કરો", true);
        assert!(r.found.is_empty());
    }

    #[test]
    fn no_cue_follows_the_message_kind() {
        let text = "Strange message, number 0044 7700 900123";
        // "number" is an indicator cue.
        assert_eq!(keys(text, false), ["phone:+447700900123"]);
        let plain = "Ticket 5 re 07700 900123";
        assert!(keys(plain, false).is_empty());
        assert_eq!(keys(plain, true), ["phone:07700900123"]);
    }

    #[test]
    fn emails_follow_the_context_rule() {
        assert_eq!(
            keys(
                "Email from security@paypal-verify.top asked for my PIN",
                false
            ),
            ["email:security@paypal-verify.top"]
        );
        let r = extract_indicators("my email is jane.doe@gmail.com, please reply", true);
        assert!(r.found.is_empty());
        assert_eq!(r.personal_skipped, 1);
    }

    #[test]
    fn crypto_addresses_are_found() {
        let k = keys(
            "They asked me to send BTC to 1BoatSLRHtKNngkdXEeobR76b53LETtpyT or bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            false,
        );
        assert_eq!(
            k,
            [
                "btc:1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
                "btc:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
            ]
        );
        assert_eq!(
            keys("pay 0x52908400098527886E0F7030069857D2E4169EE7 now", false),
            ["eth:0x52908400098527886e0f7030069857d2e4169ee7"]
        );
    }

    #[test]
    fn values_next_to_chinese_text_are_found() {
        assert_eq!(
            keys("请不要访问secure-bank.top登录", false),
            ["domain:secure-bank.top"]
        );
    }

    #[test]
    fn dates_amounts_and_codes_are_not_phones() {
        assert!(keys("on 2024-05-01 I paid 1234.56 and code 123456", true).is_empty());
    }
}
