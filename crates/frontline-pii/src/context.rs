//! Words near a candidate that make one reading more or less likely.
//!
//! Only looked at for candidates that already passed the cheap checks; all
//! the words of all the languages are found in one pass of one automaton
//! over a short window.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// How many bytes before a candidate are searched for context words.
const BEFORE: usize = 48;
/// How many bytes after a candidate are searched (e.g. "... 是我的手机").
const AFTER: usize = 24;

pub(crate) const PHONE: u8 = 1;
pub(crate) const CARD: u8 = 2;
pub(crate) const ID: u8 = 4;
/// Order, invoice, tracking, ticket numbers: a digit run here is not a phone.
pub(crate) const REFERENCE: u8 = 8;
/// The neighbourhood is written in Arabic script (Persian).
pub(crate) const PERSIAN_SCRIPT: u8 = 16;

const PHONE_WORDS: &[&str] = &[
    "phone",
    "tel",
    "mobile",
    "cell",
    "call",
    "whatsapp",
    "sms",
    "contact",
    "number is",
    "my number",
    "reach me",
    "ring me",
    "text me",
    "telefon",
    "handy",
    "ruf",
    "电话",
    "手机",
    "致电",
    "联系",
    "號碼",
    "号码",
    "微信",
    "تلفن",
    "تماس",
    "موبایل",
    "همراه",
    "ફોન",
    "મોબાઇલ",
    "મોબાઈલ",
    "સંપર્ક",
    "फोन",
    "फ़ोन",
    "मोबाइल",
];

const CARD_WORDS: &[&str] = &[
    "card",
    "visa",
    "master",
    "amex",
    "karte",
    "卡",
    "کارت",
    "કાર્ડ",
    "कार्ड",
];

const ID_WORDS: &[&str] = &[
    "id",
    "national",
    "ssn",
    "social security",
    "aadhaar",
    "aadhar",
    "pan",
    "insurance",
    "身份证",
    "身份",
    "证件",
    "کد ملی",
    "کدملی",
    "شماره ملی",
    "ملی",
    "આધાર",
    "आधार",
];

const REFERENCE_WORDS: &[&str] = &[
    "order",
    "invoice",
    "tracking",
    "ticket",
    "ref",
    "case",
    "booking",
    "reservation",
    "transaction",
    "account no",
    "sku",
    "bestell",
    "rechnung",
    "#",
    "reference",
    "订单",
    "单号",
    "编号",
    "快递",
    "发票",
    "سفارش",
    "پیگیری",
    "فاکتور",
    "ઓર્ડર",
    "ટિકિટ",
    "ઇન્વોઇસ",
];

/// Every context word, and the category of each pattern index. `None`
/// only if the automaton could not be built (it can: the words are fixed).
/// The automaton, and per pattern: its category, and whether it must stand
/// as a whole word.
type Words = (AhoCorasick, Vec<(u8, bool)>);

static WORDS: LazyLock<Option<Words>> = LazyLock::new(|| {
    let mut patterns: Vec<&str> = Vec::new();
    let mut meta = Vec::new();
    for (flag, words) in [
        (PHONE, PHONE_WORDS),
        (CARD, CARD_WORDS),
        (ID, ID_WORDS),
        (REFERENCE, REFERENCE_WORDS),
    ] {
        for w in words {
            patterns.push(w);
            // Short ASCII words must not be glued to other letters ("tel" is
            // not in "hotel", "id" not in "did").
            meta.push((
                flag,
                w.len() <= 4 && w.bytes().all(|c| c.is_ascii_alphabetic()),
            ));
        }
    }
    let ac = AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .build(&patterns)
        .ok()?;
    Some((ac, meta))
});

/// (category, start, end) of each context word in `hay`.
fn words_in(hay: &[u8]) -> impl Iterator<Item = (u8, usize, usize)> + '_ {
    WORDS.iter().flat_map(move |(ac, meta)| {
        ac.find_overlapping_iter(hay).filter_map(move |m| {
            let (flag, bounded) = *meta.get(m.pattern().as_usize())?;
            if bounded {
                let left_ok = m.start() == 0 || !hay[m.start() - 1].is_ascii_alphabetic();
                let right_ok = hay.get(m.end()).is_none_or(|c| !c.is_ascii_alphabetic());
                if !(left_ok && right_ok) {
                    return None;
                }
            }
            Some((flag, m.start(), m.end()))
        })
    })
}

/// Context flags for the candidate at `start..end` of `text`.
///
/// Of the label words before the candidate, in the same sentence, the
/// nearest decides ("call me about order 123": an order number). Words
/// after it count only when there are none before ("૯૮૭૬૫ ૪૩૨૧૦ પર ફોન કરો").
pub(crate) fn around(text: &str, start: usize, end: usize) -> u8 {
    let mut lo = start.saturating_sub(BEFORE);
    while !text.is_char_boundary(lo) {
        lo += 1;
    }
    let mut hi = (end + AFTER).min(text.len());
    while !text.is_char_boundary(hi) {
        hi -= 1;
    }
    let mut before = &text.as_bytes()[lo..start];
    if let Some(cut) = sentence_start(before) {
        before = &before[cut..];
    }
    let mut after = &text.as_bytes()[end..hi];
    if let Some(cut) = sentence_end(after) {
        after = &after[..cut];
    }
    let mut flags = 0;
    if before
        .iter()
        .chain(after)
        .any(|&b| (0xD8..=0xDB).contains(&b))
    {
        flags |= PERSIAN_SCRIPT;
    }
    if let Some((flag, _, _)) = words_in(before).max_by_key(|&(_, _, e)| e) {
        return flags | flag;
    }
    if let Some((flag, _, _)) = words_in(after)
        .filter(|&(f, _, _)| f != REFERENCE)
        .min_by_key(|&(_, s, _)| s)
    {
        flags |= flag;
    }
    flags
}

/// Length of the sentence terminator starting at `p`, if one does:
/// ". ", "! ", "? ", newline, "。", "！", "？", "؟", "।".
#[inline]
fn terminator_at(b: &[u8], p: usize) -> Option<usize> {
    let next = |k: usize| b.get(p + k).copied().unwrap_or(0);
    match b[p] {
        b'.' | b'!' | b'?' if next(1) == b' ' => Some(2),
        b'\n' => Some(1),
        0xE3 if next(1) == 0x80 && next(2) == 0x82 => Some(3),
        0xEF if next(1) == 0xBC && matches!(next(2), 0x81 | 0x9F) => Some(3),
        0xD8 if next(1) == 0x9F => Some(2),
        0xE0 if next(1) == 0xA5 && next(2) == 0xA4 => Some(3),
        _ => None,
    }
}

/// Where the sentence containing the end of `before` starts.
fn sentence_start(before: &[u8]) -> Option<usize> {
    (0..before.len())
        .rev()
        .find_map(|p| terminator_at(before, p).map(|len| p + len))
        .filter(|&cut| cut <= before.len())
}

/// Where the sentence that `after` starts in ends.
fn sentence_end(after: &[u8]) -> Option<usize> {
    (0..after.len()).find(|&p| terminator_at(after, p).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_words_in_each_language() {
        let t = "my phone is 123";
        assert_ne!(around(t, 12, 15) & PHONE, 0);
        let t = "我的电话是123";
        assert_ne!(around(t, t.len() - 3, t.len()) & PHONE, 0);
        let t = "order #123";
        assert_ne!(around(t, 7, 10) & REFERENCE, 0);
        let t = "call me about order 123";
        assert_eq!(around(t, 20, 23) & (PHONE | REFERENCE), REFERENCE);
        let t = "order 5 arrived. Call me 123";
        assert_eq!(around(t, 25, 28) & (PHONE | REFERENCE), PHONE);
        let t = "hotel 123";
        assert_eq!(around(t, 6, 9) & PHONE, 0);
        let t = "کد ملی ۱۲۳";
        let s = t.len() - "۱۲۳".len();
        let f = around(t, s, t.len());
        assert_ne!(f & ID, 0);
        assert_ne!(f & PERSIAN_SCRIPT, 0);
    }
}
