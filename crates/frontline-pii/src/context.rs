//! Words near a candidate that make one reading more or less likely.
//!
//! Only looked at for candidates that already passed the cheap checks, so a
//! plain substring search over a short window is fast enough.

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
    "no.",
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

/// Context flags for the candidate at `start..end` of `text`.
pub(crate) fn around(text: &str, start: usize, end: usize) -> u8 {
    let mut lo = start.saturating_sub(BEFORE);
    while !text.is_char_boundary(lo) {
        lo += 1;
    }
    let mut hi = (end + AFTER).min(text.len());
    while !text.is_char_boundary(hi) {
        hi -= 1;
    }
    let before = &text.as_bytes()[lo..start];
    let after = &text.as_bytes()[end..hi];
    let mut flags = 0;
    // Words before the number are the usual form ("phone: ..."); after the
    // number only the unambiguous scripts, where the noun often follows.
    if has_any(before, PHONE_WORDS) || has_any_non_ascii(after, PHONE_WORDS) {
        flags |= PHONE;
    }
    if has_any(before, CARD_WORDS) {
        flags |= CARD;
    }
    if has_any(before, ID_WORDS) || has_any_non_ascii(after, ID_WORDS) {
        flags |= ID;
    }
    if has_any(before, REFERENCE_WORDS) {
        flags |= REFERENCE;
    }
    if before
        .iter()
        .chain(after)
        .any(|&b| (0xD8..=0xDB).contains(&b))
    {
        flags |= PERSIAN_SCRIPT;
    }
    flags
}

fn has_any(hay: &[u8], words: &[&str]) -> bool {
    words.iter().any(|w| contains(hay, w.as_bytes()))
}

fn has_any_non_ascii(hay: &[u8], words: &[&str]) -> bool {
    words
        .iter()
        .filter(|w| !w.is_ascii())
        .any(|w| contains(hay, w.as_bytes()))
}

/// ASCII-case-insensitive substring search. Short ASCII words must not be
/// glued to other letters ("tel" is not in "hotel", "id" not in "did").
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    if needle.len() > hay.len() {
        return false;
    }
    let short_ascii = needle.len() <= 4 && needle.iter().all(u8::is_ascii_alphabetic);
    (0..=hay.len() - needle.len()).any(|i| {
        if !hay[i..i + needle.len()].eq_ignore_ascii_case(needle) {
            return false;
        }
        if !short_ascii {
            return true;
        }
        let left_ok = i == 0 || !hay[i - 1].is_ascii_alphabetic();
        let right = i + needle.len();
        let right_ok = right == hay.len() || !hay[right].is_ascii_alphabetic();
        left_ok && right_ok
    })
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
        let t = "hotel 123";
        assert_eq!(around(t, 6, 9) & PHONE, 0);
        let t = "کد ملی ۱۲۳";
        let s = t.len() - "۱۲۳".len();
        let f = around(t, s, t.len());
        assert_ne!(f & ID, 0);
        assert_ne!(f & PERSIAN_SCRIPT, 0);
    }
}
