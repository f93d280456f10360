//! PII detection and redaction for customer feedback in any language.
//!
//! ```
//! use frontline_pii::{EntityKind, Redactor};
//!
//! let redactor = Redactor::new();
//! let out = redactor.redact("我的手机是 138 1234 5678，邮箱 zhang.wei@example.cn");
//! assert_eq!(out.text, "我的手机是 [PHONE]，邮箱 [EMAIL]");
//! assert_eq!(out.findings[0].kind, EntityKind::Phone);
//! ```
//!
//! Pure: no I/O, no async, no global state besides read-only tables. A
//! [`Redactor`] is built once and shared; [`Redactor::find`] and
//! [`Redactor::redact`] never panic, whatever the input.
//!
//! Digits in Persian, Arabic-Indic, Devanagari, Gujarati and full-width
//! forms are understood; validation runs on normalised digits, spans point
//! at the original bytes. Spans are byte offsets into the input `&str`, on
//! char boundaries.
//!
//! How it stays fast: one pass over the bytes with a lookup table picks out
//! the few places something can start (a digit in any script, '@', ':',
//! '-', the first letter of an ASCII word); each detector then reads
//! forward by hand. libphonenumber is consulted only for digit runs that
//! already have the shape of a phone number in one of the configured
//! regions.
#![forbid(unsafe_code)]

mod checksum;
mod context;
mod digits;
mod phone;
mod tokens;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A kind of personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EntityKind {
    /// Email address.
    Email,
    /// Phone number valid by libphonenumber metadata.
    Phone,
    /// Payment card number (Luhn).
    Card,
    /// International bank account number (mod 97).
    Iban,
    /// IPv4 or IPv6 address.
    Ip,
    /// URL carrying credentials or a token.
    Url,
    /// API key, token, JWT or private key.
    Secret,
    /// US Social Security number.
    Ssn,
    /// Chinese resident identity card number.
    CnId,
    /// Iranian national identification number (کد ملی).
    IrId,
    /// Indian Aadhaar number.
    Aadhaar,
    /// Indian Permanent Account Number.
    Pan,
    /// UK National Insurance number.
    Nino,
}

impl EntityKind {
    /// Every kind, in declaration order.
    pub const ALL: [EntityKind; 13] = [
        EntityKind::Email,
        EntityKind::Phone,
        EntityKind::Card,
        EntityKind::Iban,
        EntityKind::Ip,
        EntityKind::Url,
        EntityKind::Secret,
        EntityKind::Ssn,
        EntityKind::CnId,
        EntityKind::IrId,
        EntityKind::Aadhaar,
        EntityKind::Pan,
        EntityKind::Nino,
    ];

    /// Stable lower-case name, as used in serialised form: `"cn_id"`.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Email => "email",
            EntityKind::Phone => "phone",
            EntityKind::Card => "card",
            EntityKind::Iban => "iban",
            EntityKind::Ip => "ip",
            EntityKind::Url => "url",
            EntityKind::Secret => "secret",
            EntityKind::Ssn => "ssn",
            EntityKind::CnId => "cn_id",
            EntityKind::IrId => "ir_id",
            EntityKind::Aadhaar => "aadhaar",
            EntityKind::Pan => "pan",
            EntityKind::Nino => "nino",
        }
    }

    /// What replaces a value of this kind in redacted text: `"[CN_ID]"`.
    pub fn placeholder(self) -> &'static str {
        match self {
            EntityKind::Email => "[EMAIL]",
            EntityKind::Phone => "[PHONE]",
            EntityKind::Card => "[CARD]",
            EntityKind::Iban => "[IBAN]",
            EntityKind::Ip => "[IP]",
            EntityKind::Url => "[URL]",
            EntityKind::Secret => "[SECRET]",
            EntityKind::Ssn => "[SSN]",
            EntityKind::CnId => "[CN_ID]",
            EntityKind::IrId => "[IR_ID]",
            EntityKind::Aadhaar => "[AADHAAR]",
            EntityKind::Pan => "[PAN]",
            EntityKind::Nino => "[NINO]",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name given to [`EntityKind::from_str`] is not a kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEntityKind(pub String);

impl fmt::Display for UnknownEntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown PII kind {:?}", self.0)
    }
}

impl std::error::Error for UnknownEntityKind {}

impl FromStr for EntityKind {
    type Err = UnknownEntityKind;

    /// Accepts [`EntityKind::as_str`] names, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EntityKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownEntityKind(s.to_owned()))
    }
}

/// One piece of personal data found in a text.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// What it is.
    pub kind: EntityKind,
    /// Byte offset of the first byte, on a char boundary.
    pub start: usize,
    /// Byte offset one past the last byte, on a char boundary.
    pub end: usize,
    /// How sure the detector is, in `[0, 1]`: checksum-validated values
    /// score high, pattern-only ones lower; context words raise it.
    pub confidence: f32,
}

impl Finding {
    /// The byte range in the text it was found in.
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }
}

/// A redacted text and what was taken out of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Redacted {
    /// The text with every finding replaced by its kind's placeholder.
    pub text: String,
    /// The findings, in order, with spans into the *original* text.
    pub findings: Vec<Finding>,
}

/// How a [`Redactor`] is set up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// ISO 3166 region codes tried, in order, for phone numbers written
    /// without a `+` country code. Numbers with `+` are always understood.
    pub phone_regions: Vec<String>,
    /// Which kinds are looked for. Empty means none.
    pub enabled: Vec<EntityKind>,
    /// Findings below this confidence are dropped. In `[0, 1]`.
    pub min_confidence: f32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            phone_regions: ["CN", "IR", "IN", "US", "GB", "DE"]
                .map(String::from)
                .to_vec(),
            enabled: EntityKind::ALL.to_vec(),
            min_confidence: 0.5,
        }
    }
}

/// A [`Config`] that cannot be used.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigError {
    /// Not a region libphonenumber knows.
    UnknownRegion(String),
    /// `min_confidence` outside `[0, 1]`.
    MinConfidence(f32),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::UnknownRegion(r) => write!(f, "unknown phone region {r:?}"),
            ConfigError::MinConfidence(c) => write!(f, "min_confidence {c} is not in [0, 1]"),
        }
    }
}

impl std::error::Error for ConfigError {}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Kinds(u16);

impl Kinds {
    pub(crate) fn has(self, k: EntityKind) -> bool {
        self.0 & k.bit() != 0
    }
}

/// Finds and redacts personal data. Build once, share freely (`Send + Sync`).
#[derive(Debug, Clone)]
pub struct Redactor {
    pub(crate) regions: Vec<std::sync::Arc<phone::Rules>>,
    pub(crate) kinds: Kinds,
    pub(crate) min_confidence: f32,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::new()
    }
}

/// What the scanner does with a byte.
const SKIP: u8 = 0;
const DIGIT: u8 = 1;
/// Lead byte of a two- or three-byte digit (Arabic, Indic, full-width).
const MAYBE_DIGIT: u8 = 2;
const LETTER: u8 = 3;
const AT: u8 = 4;
const COLON: u8 = 5;
const DASH: u8 = 6;

static CLASS: [u8; 256] = {
    let mut t = [SKIP; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = if b.is_ascii_digit() {
            DIGIT
        } else if b.is_ascii_alphabetic() || b == b'_' {
            LETTER
        } else {
            match b {
                b'@' => AT,
                b':' => COLON,
                b'-' => DASH,
                0xD9 | 0xDB | 0xE0 | 0xEF => MAYBE_DIGIT,
                _ => SKIP,
            }
        };
        c += 1;
    }
    t
};

impl Redactor {
    /// All kinds, phone regions CN, IR, IN, US, GB, DE, confidence ≥ 0.5.
    pub fn new() -> Self {
        match Redactor::with_config(Config::default()) {
            Ok(r) => r,
            // The default configuration is valid; covered by a test.
            Err(_) => Redactor {
                regions: Vec::new(),
                kinds: Kinds(0),
                min_confidence: 1.0,
            },
        }
    }

    /// A redactor for `config`, or why it cannot be built.
    pub fn with_config(config: Config) -> Result<Self, ConfigError> {
        if !(0.0..=1.0).contains(&config.min_confidence) {
            return Err(ConfigError::MinConfidence(config.min_confidence));
        }
        let regions = config
            .phone_regions
            .iter()
            .map(|r| phone::Rules::shared(r).ok_or_else(|| ConfigError::UnknownRegion(r.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        let kinds = Kinds(config.enabled.iter().fold(0, |acc, k| acc | k.bit()));
        phone::warm_up();
        Ok(Redactor {
            regions,
            kinds,
            min_confidence: config.min_confidence,
        })
    }

    /// Every piece of personal data in `text`, in order, not overlapping.
    pub fn find(&self, text: &str) -> Vec<Finding> {
        let mut found = Vec::new();
        self.scan(text, &mut found);
        resolve(found)
    }

    /// `text` with every finding replaced by its placeholder.
    pub fn redact(&self, text: &str) -> Redacted {
        let findings = self.find(text);
        if findings.is_empty() {
            return Redacted {
                text: text.to_owned(),
                findings,
            };
        }
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        for f in &findings {
            out.push_str(&text[pos..f.start]);
            out.push_str(f.kind.placeholder());
            pos = f.end;
        }
        out.push_str(&text[pos..]);
        Redacted {
            text: out,
            findings,
        }
    }

    fn scan(&self, text: &str, out: &mut Vec<Finding>) {
        let b = text.as_bytes();
        let k = self.kinds;
        let digit_kinds = [
            EntityKind::Phone,
            EntityKind::Card,
            EntityKind::Ip,
            EntityKind::Ssn,
            EntityKind::CnId,
            EntityKind::IrId,
            EntityKind::Aadhaar,
        ]
        .iter()
        .any(|&d| k.has(d));
        let mut i = 0;
        while i < b.len() {
            match CLASS[usize::from(b[i])] {
                SKIP => i += 1,
                DIGIT | MAYBE_DIGIT => {
                    if digit_kinds && digits::digit_at(b, i).is_some() {
                        i = digits::scan(self, text, i, out);
                    } else {
                        i += 1;
                    }
                }
                LETTER => {
                    let end = i
                        + 1
                        + b[i + 1..]
                            .iter()
                            .position(|&c| !tokens::is_word_byte(c))
                            .unwrap_or(b.len() - i - 1);
                    if i == 0 || !tokens::is_word_byte(b[i - 1]) {
                        let (found, next) = tokens::word(text, i, end);
                        if let Some(f) = found {
                            self.push(out, f);
                        }
                        i = next;
                    } else {
                        i = end;
                    }
                }
                AT => {
                    if k.has(EntityKind::Email) {
                        if let Some(f) = tokens::email(b, i) {
                            i = f.end;
                            self.push(out, f);
                            continue;
                        }
                    }
                    i += 1;
                }
                COLON => {
                    // Emails, IPs and secrets inside a URL are still looked
                    // for afterwards: a URL without credentials may carry them.
                    if let Some(f) = tokens::url(b, i) {
                        self.push(out, f);
                    } else if k.has(EntityKind::Ip) {
                        if let Some(f) = tokens::ipv6(b, i) {
                            i = f.end;
                            self.push(out, f);
                            continue;
                        }
                    }
                    i += 1;
                }
                DASH => {
                    if let Some(f) = tokens::pem_private_key(b, i) {
                        i = f.end;
                        self.push(out, f);
                        continue;
                    }
                    i += 1;
                }
                _ => i += 1,
            }
        }
    }

    fn push(&self, out: &mut Vec<Finding>, f: Finding) {
        if self.kinds.has(f.kind) && f.confidence >= self.min_confidence && f.start < f.end {
            out.push(f);
        }
    }
}

/// Keep non-overlapping findings: the longest wins, then the more certain.
fn resolve(mut found: Vec<Finding>) -> Vec<Finding> {
    if found.len() < 2 {
        return found;
    }
    found.sort_by_key(|f| f.start);
    if found.windows(2).all(|w| w[0].end <= w[1].start) {
        return found;
    }
    found.sort_by(|a, b| {
        (b.end - b.start)
            .cmp(&(a.end - a.start))
            .then(b.confidence.total_cmp(&a.confidence))
            .then(a.start.cmp(&b.start))
    });
    let mut kept: BTreeMap<usize, Finding> = BTreeMap::new();
    for f in found {
        let overlaps_before = kept
            .range(..f.end)
            .next_back()
            .is_some_and(|(_, k)| k.end > f.start);
        if !overlaps_before {
            kept.insert(f.start, f);
        }
    }
    kept.into_values().collect()
}
