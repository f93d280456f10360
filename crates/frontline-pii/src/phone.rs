//! Phone numbers. libphonenumber validation is slow (microseconds), so a
//! candidate first has to look like a number of one of the regions in
//! use; only then is it parsed.

use phonenumber::country::Id;

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
pub(crate) fn confidence(shape: &Shape<'_>, regions: &[Id], phone_context: bool) -> Option<f32> {
    let d = shape.digits;
    let n = d.len();
    if shape.plus {
        return ((8..=15).contains(&n) && valid_international(d)).then_some(0.9);
    }
    if n >= 10 && d.starts_with(b"00") && d[2] != b'0' {
        let conf = if shape.formatted { 0.85 } else { 0.75 };
        return valid_international(&d[2..]).then_some(conf);
    }
    let conf = if shape.formatted { 0.8 } else { 0.7 };
    regions
        .iter()
        .any(|&region| plausible(region, shape, phone_context) && valid_national(region, d))
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
            (n == 10 && (b'6'..=b'9').contains(&at(0)))
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

fn valid_international(d: &[u8]) -> bool {
    let mut buf = [0u8; 20];
    if d.len() + 1 > buf.len() {
        return false;
    }
    buf[0] = b'+';
    buf[1..=d.len()].copy_from_slice(d);
    let Ok(s) = std::str::from_utf8(&buf[..=d.len()]) else {
        return false;
    };
    phonenumber::parse(None, s).is_ok_and(|p| phonenumber::is_valid(&p))
}

fn valid_national(region: Id, d: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(d) else {
        return false;
    };
    phonenumber::parse(Some(region), s).is_ok_and(|p| phonenumber::is_valid(&p))
}

/// Parse a region code ("CN", "ir") for phone numbers written without `+`.
pub(crate) fn region(code: &str) -> Option<Id> {
    code.to_ascii_uppercase().parse().ok()
}

/// Load libphonenumber's metadata now rather than on the first number seen.
pub(crate) fn warm_up() {
    let _ = valid_international(b"441632960961");
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
        let regions = [Id::CN, Id::IR, Id::IN, Id::US, Id::GB, Id::DE];
        assert!(confidence(&shape("13812345678", false, false), &regions, false).is_some());
        assert!(confidence(&shape("09123456789", false, false), &regions, false).is_some());
        assert!(confidence(&shape("9876543210", false, false), &regions, false).is_some());
        assert!(confidence(&shape("447911123456", true, true), &regions, false).is_some());
        assert!(confidence(&shape("00989123456789", false, true), &regions, false).is_some());
        // Too short, unknown shape, no context.
        assert!(confidence(&shape("12345678", false, false), &regions, false).is_none());
        assert!(confidence(&shape("4410293847", false, false), &regions, false).is_none());
    }
}
