//! Phone numbers, validated against libphonenumber's metadata.
//!
//! `phonenumber::parse` costs microseconds and every regex match in it takes
//! a global lock, so for the configured regions the metadata's patterns are
//! compiled once into [`Rules`] and matched directly, the way libphonenumber
//! decides validity (the general pattern and one of the type patterns). Only
//! `+` numbers of other countries go through `phonenumber::parse`. And a
//! candidate first has to look like a number of a region in use.

use phonenumber::country::Id;
use phonenumber::metadata::{Descriptor, DATABASE};
use regex::Regex;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

/// A compiled number pattern and the lengths it allows.
#[derive(Debug, Clone)]
struct Pattern {
    re: Regex,
    lengths: Vec<u16>,
}

impl Pattern {
    fn new(d: &Descriptor) -> Option<Pattern> {
        // The metadata's patterns are laid out with insignificant whitespace.
        let pattern: String = d
            .national_number()
            .as_str()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let re = Regex::new(&format!("^(?:{pattern})$")).ok()?;
        Some(Pattern {
            re,
            lengths: d.possible_length().to_vec(),
        })
    }

    fn matches(&self, nsn: &str) -> bool {
        let len = u16::try_from(nsn.len()).unwrap_or(u16::MAX);
        (self.lengths.is_empty() || self.lengths.contains(&len)) && self.re.is_match(nsn)
    }
}

/// One region's numbering plan.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    pub(crate) id: Id,
    code: u16,
    national_prefix: Option<String>,
    general: Pattern,
    types: Vec<Pattern>,
}

/// Compiled rules by region, shared by every `Redactor` in the process:
/// compiling them is the expensive part of building one.
static COMPILED: LazyLock<Mutex<HashMap<Id, Arc<Rules>>>> = LazyLock::new(Default::default);

impl Rules {
    /// The compiled rules for `region`, compiled on first use.
    pub(crate) fn shared(region: &str) -> Option<Arc<Rules>> {
        let id: Id = region.to_ascii_uppercase().parse().ok()?;
        let mut cache = COMPILED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(r) = cache.get(&id) {
            return Some(Arc::clone(r));
        }
        let rules = Arc::new(Rules::new(region)?);
        cache.insert(id, Arc::clone(&rules));
        Some(rules)
    }

    /// The rules for `region`, or `None` if libphonenumber has no metadata.
    pub(crate) fn new(region: &str) -> Option<Rules> {
        let id: Id = region.to_ascii_uppercase().parse().ok()?;
        let meta = DATABASE.by_id(id.as_ref())?;
        let d = meta.descriptors();
        let types = [
            d.fixed_line(),
            d.mobile(),
            d.toll_free(),
            d.premium_rate(),
            d.shared_cost(),
            d.personal_number(),
            d.voip(),
            d.pager(),
            d.uan(),
            d.voicemail(),
        ]
        .into_iter()
        .flatten()
        .filter_map(Pattern::new)
        .collect();
        Some(Rules {
            id,
            code: meta.country_code(),
            national_prefix: meta.national_prefix().map(str::to_owned),
            general: Pattern::new(d.general())?,
            types,
        })
    }

    /// Is `nsn` (national significant number) valid here?
    fn valid_nsn(&self, nsn: &str) -> bool {
        self.general.matches(nsn) && self.types.iter().any(|t| t.matches(nsn))
    }

    /// Is `national` (as dialled inside the country) valid here?
    fn valid_national(&self, national: &str) -> bool {
        if let Some(rest) = self
            .national_prefix
            .as_deref()
            .and_then(|p| national.strip_prefix(p))
        {
            if self.valid_nsn(rest) {
                return true;
            }
        }
        self.valid_nsn(national)
    }
}

/// A digit run reduced to what the phone checks need.
pub(crate) struct Shape<'a> {
    /// ASCII digits, without the `+`.
    pub digits: &'a [u8],
    /// Written with a leading `+`.
    pub plus: bool,
    /// Written in more than one group ("0912 345 6789", "(415) 555-2671").
    pub formatted: bool,
    /// Grouped 3-3-4, the North American way.
    pub us_grouping: bool,
}

/// Confidence that `shape` is a phone number, or `None` if it is not one.
pub(crate) fn confidence(
    shape: &Shape<'_>,
    regions: &[Arc<Rules>],
    phone_context: bool,
) -> Option<f32> {
    let d = shape.digits;
    let n = d.len();
    if shape.plus {
        return ((8..=15).contains(&n) && valid_international(d, regions)).then_some(0.9);
    }
    if n >= 10 && d.starts_with(b"00") && d[2] != b'0' {
        let conf = if shape.formatted { 0.85 } else { 0.75 };
        return valid_international(&d[2..], regions).then_some(conf);
    }
    let conf = if shape.formatted { 0.8 } else { 0.7 };
    regions
        .iter()
        .any(|r| {
            plausible(r.id, shape, phone_context)
                && std::str::from_utf8(d).is_ok_and(|s| {
                    // The North American plan spans many countries; US-shaped
                    // numbers of the others go through libphonenumber itself.
                    r.valid_national(s) || (r.code == 1 && slow_valid_national(r.id, s))
                })
        })
        .then_some(conf)
}

/// Cheap shape checks per region. Unformatted runs of digits are only taken
/// in mobile shapes, or when the text says it is a phone number: order and
/// ticket numbers are unformatted runs of digits too.
fn plausible(region: Id, s: &Shape<'_>, ctx: bool) -> bool {
    let d = s.digits;
    let n = d.len();
    let loose = s.formatted || ctx;
    let at = |i: usize| d.get(i).copied().unwrap_or(0);
    match region {
        Id::CN => {
            (n == 11 && at(0) == b'1' && (b'3'..=b'9').contains(&at(1)))
                || (at(0) == b'0' && (10..=12).contains(&n) && loose)
        }
        Id::IR => n == 11 && at(0) == b'0' && (at(1) == b'9' || loose),
        Id::IN => {
            (n == 10 && ((b'6'..=b'9').contains(&at(0)) || ctx))
                || (n == 11 && at(0) == b'0' && ((b'6'..=b'9').contains(&at(1)) || loose))
        }
        Id::US => {
            (n == 10 && at(0) >= b'2' && at(3) >= b'2' && (s.us_grouping || ctx))
                || (n == 11 && at(0) == b'1' && at(1) >= b'2' && loose)
        }
        Id::GB => {
            (n == 11 && at(0) == b'0' && (at(1) == b'7' || loose))
                || (n == 10 && at(0) == b'0' && loose)
        }
        Id::DE => {
            at(0) == b'0'
                && at(1) != b'0'
                && (8..=13).contains(&n)
                && (loose || (at(1) == b'1' && (b'5'..=b'7').contains(&at(2))))
        }
        _ => (7..=15).contains(&n) && loose,
    }
}

/// `d` is the digits after `+` (or `00`).
fn valid_international(d: &[u8], regions: &[Arc<Rules>]) -> bool {
    let Ok(s) = std::str::from_utf8(d) else {
        return false;
    };
    for cc_len in 1..=3.min(s.len()) {
        let Ok(code) = s[..cc_len].parse::<u16>() else {
            return false;
        };
        let rest = &s[cc_len..];
        for r in regions.iter().filter(|r| r.code == code) {
            // "+44 (0)20 ...": the national prefix written after the code.
            if r.valid_nsn(rest) || rest.strip_prefix('0').is_some_and(|x| r.valid_nsn(x)) {
                return true;
            }
        }
    }
    // Codes shared by several countries (+1, +44, +7, ...): the configured
    // region said no, another may say yes.
    slow_valid_international(s)
}

/// Countries outside the configured regions: libphonenumber's own parser.
fn slow_valid_international(digits: &str) -> bool {
    let mut buf = String::with_capacity(digits.len() + 1);
    buf.push('+');
    buf.push_str(digits);
    phonenumber::parse(None, &buf).is_ok_and(|p| phonenumber::is_valid(&p))
}

fn slow_valid_national(region: Id, national: &str) -> bool {
    phonenumber::parse(Some(region), national).is_ok_and(|p| phonenumber::is_valid(&p))
}

/// Load libphonenumber's metadata now rather than on the first number seen.
pub(crate) fn warm_up() {
    let _ = slow_valid_international("441632960961");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(d: &str, plus: bool, formatted: bool) -> Shape<'_> {
        Shape {
            digits: d.as_bytes(),
            plus,
            formatted,
            us_grouping: false,
        }
    }

    #[test]
    fn validates_by_region() {
        let regions: Vec<Arc<Rules>> = ["CN", "IR", "IN", "US", "GB", "DE"]
            .into_iter()
            .filter_map(Rules::shared)
            .collect();
        assert_eq!(regions.len(), 6);
        assert!(confidence(&shape("13812345678", false, false), &regions, false).is_some());
        assert!(confidence(&shape("09123456789", false, false), &regions, false).is_some());
        assert!(confidence(&shape("9876543210", false, false), &regions, false).is_some());
        assert!(confidence(&shape("447400123456", true, true), &regions, false).is_some());
        assert!(confidence(&shape("00989123456789", false, true), &regions, false).is_some());
        // Too short, unknown shape, no context.
        assert!(confidence(&shape("12345678", false, false), &regions, false).is_none());
        assert!(confidence(&shape("4410293847", false, false), &regions, false).is_none());
    }
}
