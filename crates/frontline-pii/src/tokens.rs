//! Detectors for ASCII tokens: email addresses, URLs with credentials,
//! IPv6, secrets, IBANs, Indian PAN and UK National Insurance numbers.
//!
//! Each starts from a trigger byte found by the scanner ('@', ':', '-', or
//! the first letter of a word) and reads forward by hand: no regex runs over
//! the whole text.

use std::net::Ipv6Addr;

use crate::context;
use crate::{EntityKind, Finding};

pub(crate) fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// Advance while `pred` holds; returns the first position where it fails.
fn run_while(b: &[u8], mut i: usize, pred: impl Fn(u8) -> bool) -> usize {
    while i < b.len() && pred(b[i]) {
        i += 1;
    }
    i
}

fn finding(kind: EntityKind, start: usize, end: usize, confidence: f32) -> Finding {
    Finding {
        kind,
        start,
        end,
        confidence,
    }
}

// ---------------------------------------------------------------- email

fn is_local_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-')
}

/// An email address around the '@' at `at_pos`.
pub(crate) fn email(b: &[u8], at_pos: usize) -> Option<Finding> {
    let mut start = at_pos;
    while start > 0 && is_local_byte(b[start - 1]) && at_pos - start < 64 {
        start -= 1;
    }
    while start < at_pos && b[start] == b'.' {
        start += 1;
    }
    if start == at_pos {
        return None;
    }
    let end = domain_end(b, at_pos + 1)?;
    Some(finding(EntityKind::Email, start, end, 0.95))
}

/// End of a domain name starting at `i`: labels of letters, digits and
/// hyphens, at least two, the last alphabetic and 2+ long.
fn domain_end(b: &[u8], mut i: usize) -> Option<usize> {
    let mut labels = 0;
    let mut end = None;
    loop {
        let ls = i;
        i = run_while(b, i, |c| c.is_ascii_alphanumeric() || c == b'-');
        if i == ls || i - ls > 63 || b[ls] == b'-' || b[i - 1] == b'-' {
            break;
        }
        labels += 1;
        if labels >= 2 {
            let tld = &b[ls..i];
            if tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic) {
                end = Some(i);
            }
        }
        if at(b, i) == b'.' && at(b, i + 1).is_ascii_alphanumeric() {
            i += 1;
        } else {
            break;
        }
    }
    end
}

// ---------------------------------------------------------------- URL

fn is_url_byte(c: u8) -> bool {
    c.is_ascii_graphic()
        && !matches!(
            c,
            b'<' | b'>' | b'"' | b'\'' | b'`' | b'{' | b'}' | b'|' | b'\\' | b'^'
        )
}

/// Query parameter names whose value is a credential.
const SENSITIVE_PARAMS: &[&str] = &[
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "auth",
    "auth_token",
    "api_key",
    "apikey",
    "api-key",
    "key",
    "secret",
    "client_secret",
    "password",
    "passwd",
    "pwd",
    "pass",
    "sig",
    "signature",
    "session",
    "sessionid",
    "session_id",
    "sid",
    "code",
    "otp",
    "jwt",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
];

/// A URL with credentials in it, for the "://" whose ':' is at `colon`.
pub(crate) fn url(b: &[u8], colon: usize) -> Option<Finding> {
    if b.get(colon + 1..colon + 3) != Some(b"//") {
        return None;
    }
    let mut start = colon;
    while start > 0
        && (b[start - 1].is_ascii_alphanumeric() || matches!(b[start - 1], b'+' | b'.' | b'-'))
        && colon - start < 16
    {
        start -= 1;
    }
    if start == colon || !b[start].is_ascii_alphabetic() {
        return None;
    }
    let mut end = run_while(b, colon + 3, is_url_byte);
    while end > colon + 3
        && matches!(
            b[end - 1],
            b'.' | b',' | b';' | b':' | b'!' | b'?' | b')' | b']'
        )
    {
        end -= 1;
    }
    let rest = &b[colon + 3..end];
    if rest.is_empty() {
        return None;
    }
    let auth_end = rest
        .iter()
        .position(|&c| matches!(c, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let authority = &rest[..auth_end];
    let mut conf = None;
    if let Some(at_pos) = authority.iter().rposition(|&c| c == b'@') {
        let userinfo = &authority[..at_pos];
        let has_password = userinfo
            .iter()
            .position(|&c| c == b':')
            .is_some_and(|p| p + 1 < userinfo.len());
        if has_password || userinfo.len() >= 20 {
            conf = Some(0.95);
        }
    }
    if conf.is_none() {
        let after = &rest[auth_end..];
        if let Some(q) = after.iter().position(|&c| c == b'?' || c == b'#') {
            let has_secret_param = after[q + 1..]
                .split(|&c| matches!(c, b'&' | b';' | b'?' | b'#'))
                .filter_map(|pair| {
                    let eq = pair.iter().position(|&c| c == b'=')?;
                    (eq + 1 < pair.len()).then_some(&pair[..eq])
                })
                .any(|name| {
                    SENSITIVE_PARAMS
                        .iter()
                        .any(|p| name.eq_ignore_ascii_case(p.as_bytes()))
                        || contains_ci(name, b"token")
                        || contains_ci(name, b"secret")
                        || contains_ci(name, b"password")
                        || contains_ci(name, b"api_key")
                        || contains_ci(name, b"apikey")
                        || contains_ci(name, b"signature")
                });
            if has_secret_param {
                conf = Some(0.9);
            }
        }
    }
    conf.map(|c| finding(EntityKind::Url, start, end, c))
}

fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len()
        && hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

// ---------------------------------------------------------------- IPv6

/// An IPv6 address through the ':' at `colon`.
pub(crate) fn ipv6(b: &[u8], colon: usize) -> Option<Finding> {
    let ip_byte = |c: u8| c.is_ascii_hexdigit() || c == b':' || c == b'.';
    let mut start = colon;
    while start > 0 && ip_byte(b[start - 1]) && colon - start < 40 {
        start -= 1;
    }
    if start > 0 && is_word_byte(b[start - 1]) {
        return None;
    }
    let mut end = run_while(b, colon, ip_byte);
    if end - start > 45 || end - start < 3 {
        return None;
    }
    while end > colon && matches!(b[end - 1], b'.') {
        end -= 1;
    }
    if is_word_byte(at(b, end)) {
        return None;
    }
    let s = std::str::from_utf8(&b[start..end]).ok()?;
    let colons = s.bytes().filter(|&c| c == b':').count();
    let hex = s.bytes().filter(u8::is_ascii_hexdigit).count();
    if colons < 2 || hex < 2 {
        return None;
    }
    s.parse::<Ipv6Addr>().ok()?;
    Some(finding(EntityKind::Ip, start, end, 0.9))
}

// ---------------------------------------------------------------- PEM

const PEM_BEGIN: &[u8] = b"-----BEGIN ";

/// A PEM private key block starting at `i` (a '-').
pub(crate) fn pem_private_key(b: &[u8], i: usize) -> Option<Finding> {
    if !b[i..].starts_with(PEM_BEGIN) {
        return None;
    }
    let label_start = i + PEM_BEGIN.len();
    let label_end = run_while(b, label_start, |c| c.is_ascii_uppercase() || c == b' ');
    if label_end - label_start > 40
        || !b[label_start..label_end].ends_with(b"PRIVATE KEY")
        || !b[label_end..].starts_with(b"-----")
    {
        return None;
    }
    let body = label_end + 5;
    // Up to the matching END line, or else to the end of the base64 body.
    let end = match find(&b[body..], b"-----END ") {
        Some(p) => {
            let after = body + p + 9;
            let close = find(&b[after..], b"-----").map_or(b.len(), |q| after + q + 5);
            close.min(b.len())
        }
        None => run_while(b, body, |c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    b'+' | b'/' | b'=' | b'\n' | b'\r' | b' ' | b'\t' | b':' | b'-' | b','
                )
        }),
    };
    Some(finding(EntityKind::Secret, i, end, 0.99))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------- words

/// Detectors keyed on the first letter of an ASCII word at `i..word_end`.
/// Returns a finding if one starts here, and where scanning goes on.
pub(crate) fn word(text: &str, i: usize, word_end: usize) -> (Option<Finding>, usize) {
    let b = text.as_bytes();
    let w = &b[i..word_end];
    let found = match b[i] {
        b'A'..=b'Z' if is_iban_shaped(b, i) => match iban(b, i) {
            // Checked or not, a full-length IBAN-shaped token is skipped
            // whole: its digit groups are not phone or card numbers.
            Some((f, end)) => return (f, end.max(word_end)),
            None => upper_ids(text, i),
        },
        b'A' => aws_key(b, i)
            .or_else(|| google_key(b, i))
            .or_else(|| upper_ids(text, i)),
        b'B' if w == b"Bearer" => bearer(b, word_end),
        b'B'..=b'Z' => upper_ids(text, i),
        b'g' if w.len() >= 4 => github_token(b, i),
        b'x' if w.starts_with(b"xox") || w == b"xapp" => slack_token(b, i),
        b's' | b'r' if w.starts_with(b"sk_") || w.starts_with(b"rk_") => stripe_key(b, i),
        b's' if w == b"sk" => openai_key(b, i),
        b'e' if w.starts_with(b"eyJ") => jwt(b, i),
        _ => None,
    };
    let next = found.map_or(word_end, |f| f.end.max(word_end));
    (found, next)
}

fn secret(start: usize, end: usize, conf: f32) -> Option<Finding> {
    Some(finding(EntityKind::Secret, start, end, conf))
}

/// `[A-Za-z0-9]` run followed by a boundary; returns its end.
fn alnum_end(b: &[u8], i: usize) -> usize {
    run_while(b, i, |c| c.is_ascii_alphanumeric())
}

fn token_end(b: &[u8], i: usize) -> usize {
    run_while(b, i, |c| {
        c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
    })
}

fn aws_key(b: &[u8], i: usize) -> Option<Finding> {
    const PREFIXES: [&[u8]; 8] = [
        b"AKIA", b"ASIA", b"AGPA", b"AIDA", b"AROA", b"ANPA", b"ANVA", b"AIPA",
    ];
    let p = b.get(i..i + 4)?;
    if !PREFIXES.contains(&p) {
        return None;
    }
    let end = run_while(b, i + 4, |c| c.is_ascii_uppercase() || c.is_ascii_digit());
    (end - i == 20 && !is_word_byte(at(b, end))).then_some(())?;
    secret(i, end, 0.95)
}

fn google_key(b: &[u8], i: usize) -> Option<Finding> {
    if !b[i..].starts_with(b"AIza") {
        return None;
    }
    let end = token_end(b, i + 4);
    (end - i == 39).then_some(())?;
    secret(i, end, 0.95)
}

fn github_token(b: &[u8], i: usize) -> Option<Finding> {
    let w = &b[i..];
    if w.starts_with(b"github_pat_") {
        let end = run_while(b, i + 11, is_word_byte);
        return (end - i >= 11 + 22).then(|| finding(EntityKind::Secret, i, end, 0.99));
    }
    if w.len() >= 4
        && w.starts_with(b"gh")
        && matches!(w[2], b'p' | b'o' | b'u' | b's' | b'r')
        && w[3] == b'_'
    {
        let end = alnum_end(b, i + 4);
        return (end - i - 4 >= 36 && !is_word_byte(at(b, end)))
            .then(|| finding(EntityKind::Secret, i, end, 0.99));
    }
    None
}

fn slack_token(b: &[u8], i: usize) -> Option<Finding> {
    let w = &b[i..];
    let slack = w.len() > 5
        && w.starts_with(b"xox")
        && matches!(w[3], b'a' | b'b' | b'p' | b'o' | b'r' | b's' | b'e')
        && w[4] == b'-';
    if !(slack || w.starts_with(b"xapp-")) {
        return None;
    }
    let body = i + 5;
    let end = run_while(b, body, |c| c.is_ascii_alphanumeric() || c == b'-');
    (end - body >= 10).then_some(())?;
    secret(i, end, 0.95)
}

fn stripe_key(b: &[u8], i: usize) -> Option<Finding> {
    let w = &b[i..];
    if !(w.starts_with(b"sk_live_")
        || w.starts_with(b"rk_live_")
        || w.starts_with(b"sk_test_")
        || w.starts_with(b"rk_test_"))
    {
        return None;
    }
    let end = alnum_end(b, i + 8);
    (end - i - 8 >= 16).then_some(())?;
    secret(i, end, 0.97)
}

fn openai_key(b: &[u8], i: usize) -> Option<Finding> {
    if !b[i..].starts_with(b"sk-") {
        return None;
    }
    let end = token_end(b, i + 3);
    let body = &b[i + 3..end];
    let digits = body.iter().filter(|c| c.is_ascii_digit()).count();
    (body.len() >= 20 && digits >= 2).then_some(())?;
    secret(i, end, 0.9)
}

fn jwt(b: &[u8], i: usize) -> Option<Finding> {
    let b64 = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    let h = run_while(b, i, b64);
    if h - i < 10 || at(b, h) != b'.' || !b[h + 1..].starts_with(b"eyJ") {
        return None;
    }
    let p = run_while(b, h + 1, b64);
    if p - h - 1 < 10 || at(b, p) != b'.' {
        return None;
    }
    let s = run_while(b, p + 1, b64);
    secret(i, s, 0.95)
}

fn bearer(b: &[u8], word_end: usize) -> Option<Finding> {
    if at(b, word_end) != b' ' {
        return None;
    }
    let start = word_end + 1;
    let end = run_while(b, start, |c| {
        c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
    });
    (end - start >= 20).then_some(())?;
    secret(start, end, 0.9)
}

/// PAN or NINO starting with the upper-case letter at `i`.
fn upper_ids(text: &str, i: usize) -> Option<Finding> {
    pan(text, i).or_else(|| nino(text.as_bytes(), i))
}

/// IBAN lengths by country (ISO 13616 registry).
fn iban_length(cc: &[u8]) -> Option<usize> {
    const TABLE: &[(&[u8; 2], usize)] = &[
        (b"AD", 24),
        (b"AE", 23),
        (b"AL", 28),
        (b"AT", 20),
        (b"AZ", 28),
        (b"BA", 20),
        (b"BE", 16),
        (b"BG", 22),
        (b"BH", 22),
        (b"BR", 29),
        (b"BY", 28),
        (b"CH", 21),
        (b"CR", 22),
        (b"CY", 28),
        (b"CZ", 24),
        (b"DE", 22),
        (b"DK", 18),
        (b"DO", 28),
        (b"EE", 20),
        (b"EG", 29),
        (b"ES", 24),
        (b"FI", 18),
        (b"FO", 18),
        (b"FR", 27),
        (b"GB", 22),
        (b"GE", 22),
        (b"GI", 23),
        (b"GL", 18),
        (b"GR", 27),
        (b"GT", 28),
        (b"HR", 21),
        (b"HU", 28),
        (b"IE", 22),
        (b"IL", 23),
        (b"IQ", 23),
        (b"IR", 26),
        (b"IS", 26),
        (b"IT", 27),
        (b"JO", 30),
        (b"KW", 30),
        (b"KZ", 20),
        (b"LB", 28),
        (b"LC", 32),
        (b"LI", 21),
        (b"LT", 20),
        (b"LU", 20),
        (b"LV", 21),
        (b"MC", 27),
        (b"MD", 24),
        (b"ME", 22),
        (b"MK", 19),
        (b"MR", 27),
        (b"MT", 31),
        (b"MU", 30),
        (b"NL", 18),
        (b"NO", 15),
        (b"PK", 24),
        (b"PL", 28),
        (b"PS", 29),
        (b"PT", 25),
        (b"QA", 29),
        (b"RO", 24),
        (b"RS", 22),
        (b"SA", 24),
        (b"SC", 31),
        (b"SE", 24),
        (b"SI", 19),
        (b"SK", 24),
        (b"SM", 27),
        (b"ST", 25),
        (b"SV", 28),
        (b"TL", 23),
        (b"TN", 24),
        (b"TR", 26),
        (b"UA", 29),
        (b"VG", 24),
        (b"XK", 20),
    ];
    TABLE
        .iter()
        .find(|(c, _)| c.as_slice() == cc)
        .map(|&(_, n)| n)
}

/// A known country code and two check digits.
fn is_iban_shaped(b: &[u8], i: usize) -> bool {
    at(b, i + 1).is_ascii_uppercase()
        && at(b, i + 2).is_ascii_digit()
        && at(b, i + 3).is_ascii_digit()
        && iban_length(&b[i..i + 2]).is_some()
}

/// If the text at `i` has an IBAN's shape and length: the IBAN if it checks
/// out, and the end of the IBAN-shaped text.
fn iban(b: &[u8], i: usize) -> Option<(Option<Finding>, usize)> {
    let want = iban_length(&b[i..i + 2]).unwrap_or(0);
    let mut compact = [0u8; 34];
    let mut n = 0;
    let mut j = i;
    while n < want.min(compact.len()) {
        let c = at(b, j);
        if c.is_ascii_digit() || c.is_ascii_uppercase() {
            compact[n] = c;
            n += 1;
            j += 1;
        } else if c == b' ' && n % 4 == 0 && at(b, j + 1).is_ascii_alphanumeric() {
            j += 1;
        } else {
            break;
        }
    }
    if n < want || is_word_byte(at(b, j)) {
        return None;
    }
    let f =
        crate::checksum::iban_mod97(&compact[..n]).then(|| finding(EntityKind::Iban, i, j, 0.97));
    Some((f, j))
}

/// Indian Permanent Account Number: AAAAA9999A, the fourth letter being the
/// holder type.
fn pan(text: &str, i: usize) -> Option<Finding> {
    let b = text.as_bytes();
    let w = b.get(i..i + 10)?;
    let ok = w[..5].iter().all(u8::is_ascii_uppercase)
        && b"ABCFGHLJPT".contains(&w[3])
        && w[5..9].iter().all(u8::is_ascii_digit)
        && w[9].is_ascii_uppercase()
        && !is_word_byte(at(b, i + 10));
    if !ok {
        return None;
    }
    let conf = if context::around(text, i, i + 10) & context::ID != 0 {
        0.95
    } else {
        0.8
    };
    Some(finding(EntityKind::Pan, i, i + 10, conf))
}

/// UK National Insurance number: two letters, six digits (maybe in pairs),
/// a suffix A-D.
fn nino(b: &[u8], i: usize) -> Option<Finding> {
    const FIRST_BAD: &[u8] = b"DFIQUV";
    const SECOND_BAD: &[u8] = b"DFIOQUV";
    const BAD_PREFIXES: [&[u8]; 7] = [b"BG", b"GB", b"KN", b"NK", b"NT", b"TN", b"ZZ"];
    let (c0, c1) = (at(b, i), at(b, i + 1));
    if !c1.is_ascii_uppercase()
        || FIRST_BAD.contains(&c0)
        || SECOND_BAD.contains(&c1)
        || BAD_PREFIXES.contains(&&b[i..i + 2])
    {
        return None;
    }
    let mut j = i + 2;
    let spaced = at(b, j) == b' ';
    for _ in 0..3 {
        if spaced {
            if at(b, j) != b' ' {
                return None;
            }
            j += 1;
        }
        if !(at(b, j).is_ascii_digit() && at(b, j + 1).is_ascii_digit()) {
            return None;
        }
        j += 2;
    }
    if spaced && at(b, j) == b' ' {
        j += 1;
    }
    if !(b'A'..=b'D').contains(&at(b, j)) || is_word_byte(at(b, j + 1)) {
        return None;
    }
    Some(finding(EntityKind::Nino, i, j + 1, 0.85))
}
