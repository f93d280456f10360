//! Runs of digits in any script, and what they may be: phone numbers,
//! payment cards, national identifiers, US SSNs, IPv4 addresses.
//!
//! A run is a sequence of digit groups joined by the separators people type
//! (spaces, hyphens, dots, slashes, parentheses, their full-width forms).
//! Digits are normalised to ASCII into a fixed buffer for validation; spans
//! always point into the original text.

use crate::checksum;
use crate::context;
use crate::phone;
use crate::{EntityKind, Finding, Redactor};

const MAX_GROUPS: usize = 24;
const MAX_DIGITS: usize = 64;
/// The longest number any detector accepts (19-digit cards).
const MAX_CANDIDATE_DIGITS: usize = 19;
/// Most groups one candidate may span ("+ 98 (21) 1234 5678" is five).
const MAX_CANDIDATE_GROUPS: usize = 8;

/// If a digit in a supported script starts at `i`: its value and byte length.
/// ASCII, Arabic-Indic, Persian, Devanagari, Gujarati and full-width digits.
#[inline]
pub(crate) fn digit_at(b: &[u8], i: usize) -> Option<(u8, usize)> {
    let c = *b.get(i)?;
    if c.is_ascii_digit() {
        return Some((c - b'0', 1));
    }
    let c1 = *b.get(i + 1)?;
    match c {
        0xD9 if (0xA0..=0xA9).contains(&c1) => Some((c1 - 0xA0, 2)),
        0xDB if (0xB0..=0xB9).contains(&c1) => Some((c1 - 0xB0, 2)),
        0xE0 | 0xEF => {
            let c2 = *b.get(i + 2)?;
            let zero = match (c, c1) {
                (0xE0, 0xA5) | (0xE0, 0xAB) => 0xA6, // Devanagari, Gujarati
                (0xEF, 0xBC) => 0x90,                // full-width
                _ => return None,
            };
            (zero..zero + 10).contains(&c2).then(|| (c2 - zero, 3))
        }
        _ => None,
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Sep {
    Space,
    Hyphen,
    Dot,
    Slash,
    /// Only parentheses (and maybe spaces): "(021) 1234".
    Paren,
}

/// A separator character at `i`: its kind and byte length.
#[inline]
fn sep_at(b: &[u8], i: usize) -> Option<(u8, usize)> {
    const SPACE: u8 = 1;
    const HYPHEN: u8 = 2;
    const DOT: u8 = 3;
    const SLASH: u8 = 4;
    const OPEN: u8 = 5;
    const CLOSE: u8 = 6;
    let c = *b.get(i)?;
    let r = match c {
        b' ' => (SPACE, 1),
        b'-' => (HYPHEN, 1),
        b'.' => (DOT, 1),
        b'/' => (SLASH, 1),
        b'(' => (OPEN, 1),
        b')' => (CLOSE, 1),
        0xC2 if b.get(i + 1) == Some(&0xA0) => (SPACE, 2),
        0xE2 | 0xE3 | 0xEF => {
            let (c1, c2) = (*b.get(i + 1)?, *b.get(i + 2)?);
            match (c, c1, c2) {
                (0xE2, 0x80, 0x90..=0x95) => (HYPHEN, 3), // dashes
                (0xE2, 0x80, 0xAF) => (SPACE, 3),         // narrow no-break space
                (0xE2, 0x88, 0x92) => (HYPHEN, 3),        // minus sign
                (0xE3, 0x80, 0x80) => (SPACE, 3),         // ideographic space
                (0xEF, 0xBC, 0x8D) => (HYPHEN, 3),        // full-width hyphen
                (0xEF, 0xBC, 0x88) => (OPEN, 3),
                (0xEF, 0xBC, 0x89) => (CLOSE, 3),
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(r)
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

#[derive(Clone, Copy, Default)]
struct Group {
    /// Byte span of the group's digits in the text.
    start: usize,
    end: usize,
    /// Offset and length in the normalised digit buffer.
    d0: usize,
    dlen: usize,
    /// Separator before this group (meaningless for the first).
    sep: Option<SepKind>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct SepKind(Sep);

struct Run {
    groups: [Group; MAX_GROUPS],
    ngroups: usize,
    digits: [u8; MAX_DIGITS],
    ndigits: usize,
    /// The run was written with a leading `+` (international form).
    plus: bool,
    /// Byte where the run starts (a `+` or `(` before the first digit).
    start: usize,
    /// The last group is glued to letters, or was cut short: not usable.
    last_unusable: bool,
    /// A Chinese ID check character `X` follows the last group.
    x_end: Option<usize>,
    any_non_ascii: bool,
    any_arabic_script: bool,
}

/// Scan the digit run starting at `i` (a digit), classify it, push
/// findings. Returns the byte position to continue scanning from.
pub(crate) fn scan(r: &Redactor, text: &str, i: usize, out: &mut Vec<Finding>) -> usize {
    let b = text.as_bytes();
    // Where the run may start: a '+' and/or '(' right before the digit.
    let mut start = i;
    let mut plus = false;
    if start > 0 && b[start - 1] == b'+' {
        plus = true;
        start -= 1;
    } else if start >= 3 && b[start - 3..start] == [0xEF, 0xBC, 0x8B] {
        plus = true;
        start -= 3;
    }
    let mut paren_open = false;
    if start > 0 && b[start - 1] == b'(' {
        paren_open = true;
        start -= 1;
    }
    // Glued to a preceding word ("v1.2.3", "/orders/123", "x9"): skip it.
    let glued = start > 0
        && (is_word_byte(b[start - 1])
            || (start > 1
                && matches!(b[start - 1], b'.' | b'/' | b'%' | b',')
                && is_word_byte(b[start - 2])));
    let mut run = Run {
        groups: [Group::default(); MAX_GROUPS],
        ngroups: 0,
        digits: [0; MAX_DIGITS],
        ndigits: 0,
        plus,
        start,
        last_unusable: false,
        x_end: None,
        any_non_ascii: false,
        any_arabic_script: false,
    };
    let end = collect(b, i, &mut run);
    if glued || run.ngroups == 0 {
        return end.max(i + 1);
    }
    if paren_open && !closes_paren(b, run.groups[0].end) {
        run.start += 1;
    }
    classify(r, text, &run, out);
    end
}

fn closes_paren(b: &[u8], pos: usize) -> bool {
    b.get(pos) == Some(&b')') || b.get(pos..pos + 3) == Some("）".as_bytes())
}

/// Fill `run` with groups starting at `i`; returns the end of the run.
fn collect(b: &[u8], mut i: usize, run: &mut Run) -> usize {
    let mut sep: Option<SepKind> = None;
    loop {
        // One group of digits.
        let gstart = i;
        let d0 = run.ndigits;
        let mut overflow = false;
        while let Some((v, len)) = digit_at(b, i) {
            if run.ndigits < MAX_DIGITS {
                run.digits[run.ndigits] = b'0' + v;
                run.ndigits += 1;
            } else {
                overflow = true;
            }
            if len > 1 {
                run.any_non_ascii = true;
                if b[i] == 0xD9 || b[i] == 0xDB {
                    run.any_arabic_script = true;
                }
            }
            i += len;
        }
        if run.ngroups == MAX_GROUPS || overflow {
            // Too long to be one of ours; skip the rest of the digits.
            run.last_unusable = true;
            return skip_digits(b, i);
        }
        run.groups[run.ngroups] = Group {
            start: gstart,
            end: i,
            d0,
            dlen: run.ndigits - d0,
            sep,
        };
        run.ngroups += 1;
        // What follows the group?
        match b.get(i) {
            Some(&c) if is_word_byte(c) => {
                if (c == b'X' || c == b'x')
                    && run.ndigits == 17
                    && !b.get(i + 1).is_some_and(|&n| is_word_byte(n))
                {
                    run.x_end = Some(i + 1);
                    return i + 1;
                }
                run.last_unusable = true;
                return skip_word(b, i);
            }
            _ => {}
        }
        // Separators: at most 3 characters, at most one that is not a space
        // or a parenthesis, and a digit must follow.
        let mut j = i;
        let mut count = 0;
        let mut kind: Option<Sep> = None;
        let mut saw_paren = false;
        let mut ok = true;
        while let Some((k, len)) = sep_at(b, j) {
            count += 1;
            if count > 3 {
                ok = false;
                break;
            }
            match k {
                1 => {
                    if kind.is_none() {
                        kind = Some(Sep::Space);
                    }
                }
                5 | 6 => saw_paren = true,
                k => {
                    let s = match k {
                        2 => Sep::Hyphen,
                        3 => Sep::Dot,
                        _ => Sep::Slash,
                    };
                    if matches!(kind, Some(Sep::Hyphen | Sep::Dot | Sep::Slash)) {
                        ok = false;
                        break;
                    }
                    kind = Some(s);
                }
            }
            j += len;
        }
        if !ok || j == i || digit_at(b, j).is_none() {
            return i;
        }
        sep = Some(SepKind(match kind {
            Some(k) => k,
            None if saw_paren => Sep::Paren,
            None => Sep::Space,
        }));
        i = j;
    }
}

fn skip_digits(b: &[u8], mut i: usize) -> usize {
    while let Some((_, len)) = digit_at(b, i) {
        i += len;
    }
    i
}

fn skip_word(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|&c| is_word_byte(c)) {
        i += 1;
    }
    i
}

/// Try the whole run, then shorter sub-runs of whole groups (a phone number
/// right after a quantity: "2 x 0912 345 6789"), longest first.
fn classify(r: &Redactor, text: &str, run: &Run, out: &mut Vec<Finding>) {
    let usable = run.ngroups - usize::from(run.last_unusable);
    if usable == 0 {
        return;
    }
    let mut ctx: Option<u8> = None;
    // A card-shaped run (four or more groups of four) that failed as a
    // whole is not cut into pieces: its pieces are not PII either.
    let card_shaped = run.ngroups >= 4 && run.groups[..run.ngroups].iter().all(|g| g.dlen == 4);
    let mut a = 0;
    while a < usable {
        let mut found = false;
        let max_b = usable.min(a + MAX_CANDIDATE_GROUPS);
        for z in (a..max_b).rev() {
            let whole = a == 0 && z + 1 == run.ngroups;
            if !whole && card_shaped {
                continue;
            }
            // Sub-runs split only at spaces.
            if !whole {
                if a > 0 && run.groups[a].sep != Some(SepKind(Sep::Space)) {
                    continue;
                }
                if z + 1 < run.ngroups && run.groups[z + 1].sep != Some(SepKind(Sep::Space)) {
                    continue;
                }
            }
            let cand = Candidate::new(run, a, z, whole);
            if cand.ndigits < 4 {
                continue;
            }
            if let Some((kind, conf, start, end)) = cand.classify(r, text, &mut ctx) {
                if conf >= r.min_confidence {
                    out.push(Finding {
                        kind,
                        start,
                        end,
                        confidence: conf,
                    });
                }
                a = z + 1;
                found = true;
                break;
            }
        }
        if !found {
            a += 1;
        }
    }
}

struct Candidate<'a> {
    run: &'a Run,
    a: usize,
    z: usize,
    whole: bool,
    digits: &'a [u8],
    ndigits: usize,
    plus: bool,
}

impl<'a> Candidate<'a> {
    fn new(run: &'a Run, a: usize, z: usize, whole: bool) -> Self {
        let d0 = run.groups[a].d0;
        let d1 = run.groups[z].d0 + run.groups[z].dlen;
        let digits = &run.digits[d0..d1];
        Candidate {
            run,
            a,
            z,
            whole,
            digits,
            ndigits: digits.len(),
            plus: a == 0 && run.plus,
        }
    }

    fn groups(&self) -> &'a [Group] {
        &self.run.groups[self.a..=self.z]
    }

    fn group_lens(&self) -> impl Iterator<Item = usize> + 'a {
        self.run.groups[self.a..=self.z].iter().map(|g| g.dlen)
    }

    fn lens_are(&self, pattern: &[usize]) -> bool {
        self.z - self.a + 1 == pattern.len() && self.group_lens().zip(pattern).all(|(l, p)| l == *p)
    }

    fn single_group(&self) -> bool {
        self.a == self.z
    }

    /// All separators inside the candidate are of this kind.
    fn seps_all(&self, kind: Sep) -> bool {
        self.groups()[1..]
            .iter()
            .all(|g| g.sep == Some(SepKind(kind)))
    }

    fn has_sep(&self, kind: Sep) -> bool {
        self.groups()[1..]
            .iter()
            .any(|g| g.sep == Some(SepKind(kind)))
    }

    fn span(&self) -> (usize, usize) {
        let start = if self.a == 0 {
            self.run.start
        } else {
            self.run.groups[self.a].start
        };
        (start, self.run.groups[self.z].end)
    }

    /// The most likely reading of this candidate, if any.
    fn classify(
        &self,
        r: &Redactor,
        text: &str,
        ctx_cache: &mut Option<u8>,
    ) -> Option<(EntityKind, f32, usize, usize)> {
        let (start, end) = self.span();
        let k = r.kinds;
        // IPv4: exactly the whole run, four dotted ASCII octets.
        if self.whole
            && !self.plus
            && self.run.ngroups == 4
            && self.seps_all(Sep::Dot)
            && !self.run.any_non_ascii
        {
            if k.has(EntityKind::Ip) && self.is_ipv4() {
                return Some((EntityKind::Ip, 0.9, start, end));
            }
            return None;
        }
        if self.has_sep(Sep::Dot)
            && self.groups().len() > 2
            && self.group_lens().all(|l| l <= 4)
            && !self.has_sep(Sep::Space)
        {
            // Dotted dates and versions ("12.05.2023", "1.2.3") are not ours;
            // dotted phone numbers ("415.555.2671") still are.
            if !self.lens_are(&[3, 3, 4]) {
                return None;
            }
        }
        if self.ndigits > MAX_CANDIDATE_DIGITS + 2 {
            return None;
        }
        let mut ctx = || {
            *ctx_cache.get_or_insert_with(|| {
                context::around(
                    text,
                    self.run.start,
                    self.run.groups[self.run.ngroups - 1].end,
                )
            })
        };

        // Chinese resident ID: 17 digits and a check digit or X.
        if k.has(EntityKind::CnId) && !self.plus {
            let with_x = self.whole && self.run.x_end.is_some() && self.ndigits == 17;
            if (with_x || self.ndigits == 18) && self.group_lens().all(|l| l >= 4) {
                let mut id = [0u8; 18];
                id[..self.ndigits].copy_from_slice(self.digits);
                if with_x {
                    id[17] = b'X';
                }
                if checksum::cn_resident_id(&id) && cn_id_plausible(&id) {
                    let end = if with_x {
                        self.run.x_end.unwrap_or(end)
                    } else {
                        end
                    };
                    return Some((EntityKind::CnId, 0.97, start, end));
                }
            }
        }
        if self.run.x_end.is_some() && self.whole {
            // "…X" that is not a valid Chinese ID: nothing else fits either.
            return None;
        }

        let mut best: Option<(EntityKind, f32)> = None;
        let mut offer = |kind: EntityKind, conf: f32| {
            if k.has(kind) && best.is_none_or(|(_, c)| conf > c) {
                best = Some((kind, conf.clamp(0.0, 1.0)));
            }
        };

        // Payment card. 12-digit ones (Maestro) only with a Maestro prefix.
        let card_len = (13..=19).contains(&self.ndigits)
            || (self.ndigits == 12 && maestro_prefix(self.digits));
        if card_len
            && !self.plus
            && self.card_grouping()
            && checksum::luhn(self.digits)
            && card_prefix(self.digits)
        {
            let c = ctx();
            let conf = if c & context::CARD != 0 {
                0.98
            } else if c & (context::REFERENCE | context::ID | context::PHONE) != 0 {
                0.45
            } else if self.ndigits == 12 {
                0.55
            } else if self.single_group() {
                0.85
            } else {
                0.92
            };
            offer(EntityKind::Card, conf);
        }

        // US Social Security number: 3-2-4.
        if self.ndigits == 9 && !self.plus && ssn_plausible(self.digits) {
            if self.lens_are(&[3, 2, 4])
                && (self.seps_all(Sep::Hyphen) || self.seps_all(Sep::Space))
            {
                let conf = if ctx() & context::ID != 0 { 0.95 } else { 0.85 };
                offer(EntityKind::Ssn, conf);
            } else if self.single_group() && ctx() & context::ID != 0 {
                offer(EntityKind::Ssn, 0.7);
            }
        }

        // Aadhaar: 12 digits, not starting with 0 or 1, Verhoeff.
        if self.ndigits == 12
            && !self.plus
            && self.digits[0] >= b'2'
            && (self.single_group() || self.lens_are(&[4, 4, 4]))
            && checksum::verhoeff(self.digits)
        {
            let c = ctx();
            let mut conf: f32 = if self.single_group() { 0.6 } else { 0.85 };
            if c & context::ID != 0 {
                conf += 0.3;
            }
            if c & context::PHONE != 0 && self.single_group() {
                conf -= 0.3;
            }
            if c & context::REFERENCE != 0 && c & context::ID == 0 {
                conf -= 0.3;
            }
            offer(EntityKind::Aadhaar, conf);
        }

        // Iranian national ID: 10 digits with check digit.
        if self.ndigits == 10
            && !self.plus
            && (self.single_group() || self.lens_are(&[3, 6, 1]))
            && checksum::ir_national_id(self.digits)
        {
            let c = ctx();
            // Without Persian around it or an ID word, a 10-digit number
            // passing a 1-in-11 check is not enough.
            let mut conf: f32 = 0.45;
            if c & context::PERSIAN_SCRIPT != 0 || self.run.any_arabic_script {
                conf += 0.3;
            }
            if c & context::ID != 0 {
                conf += 0.3;
            }
            if self.digits[0] == b'0' {
                conf += 0.1;
            }
            if c & context::PHONE != 0 {
                conf -= 0.3;
            }
            if c & context::REFERENCE != 0 && c & context::ID == 0 {
                conf -= 0.3;
            }
            offer(EntityKind::IrId, conf);
        }

        // Phone number, validated against libphonenumber metadata.
        if k.has(EntityKind::Phone)
            && (7..=17).contains(&self.ndigits)
            && !self.date_or_ssn_shaped()
        {
            let shape = phone::Shape {
                digits: self.digits,
                plus: self.plus,
                formatted: !self.single_group(),
                us_grouping: self.lens_are(&[3, 3, 4]),
            };
            let c = ctx();
            if let Some(mut conf) = phone::confidence(&shape, &r.regions, c & context::PHONE != 0) {
                if c & context::PHONE != 0 {
                    conf += 0.15;
                } else if c & (context::REFERENCE | context::ID | context::CARD) != 0 {
                    conf -= 0.35;
                }
                offer(EntityKind::Phone, conf);
            }
        }

        best.map(|(kind, conf)| (kind, conf, start, end))
    }

    /// 2-2-4, 4-2-2 or 2-2-2 groups (dates), 3-2-4 (SSN): not phone numbers.
    fn date_or_ssn_shaped(&self) -> bool {
        !self.plus
            && [&[2, 2, 4][..], &[4, 2, 2], &[2, 2, 2], &[3, 2, 4]]
                .iter()
                .any(|p| self.lens_are(p))
    }

    fn is_ipv4(&self) -> bool {
        self.groups().iter().all(|g| {
            let d = &self.run.digits[g.d0..g.d0 + g.dlen];
            if !(1..=3).contains(&d.len()) || (d.len() > 1 && d[0] == b'0') {
                return false;
            }
            d.iter().fold(0u32, |acc, x| acc * 10 + u32::from(x - b'0')) <= 255
        })
    }

    /// Cards are written as one block, in fours, or 4-6-5 / 4-6-4.
    fn card_grouping(&self) -> bool {
        if self.single_group() {
            return true;
        }
        if self.has_sep(Sep::Dot) || self.has_sep(Sep::Slash) || self.has_sep(Sep::Paren) {
            return false;
        }
        let n = self.z - self.a + 1;
        let fours = self.group_lens().enumerate().all(|(i, l)| {
            if i + 1 < n {
                l == 4
            } else {
                (1..=4).contains(&l)
            }
        });
        fours || self.lens_are(&[4, 6, 5]) || self.lens_are(&[4, 6, 4])
    }
}

fn maestro_prefix(d: &[u8]) -> bool {
    d[0] == b'5' && matches!(d[1], b'0' | b'6'..=b'9') || d[0] == b'6'
}

fn card_prefix(d: &[u8]) -> bool {
    if d.starts_with(b"2131") || d.starts_with(b"1800") {
        return d.len() == 15; // JCB
    }
    match d[0] {
        b'4' => true,                                                    // Visa
        b'5' => true,                                                    // Mastercard, Maestro
        b'2' => (b'2'..=b'7').contains(&d[1]),                           // Mastercard 2-series
        b'3' => matches!(d[1], b'0' | b'4' | b'5' | b'6' | b'7' | b'8'), // Amex, JCB, Diners
        b'6' => true,         // Discover, UnionPay, Maestro, RuPay
        b'8' => d[1] == b'1', // UnionPay 81
        _ => false,
    }
}

fn ssn_plausible(d: &[u8]) -> bool {
    let area = &d[0..3];
    area != b"000" && area != b"666" && d[0] != b'9' && &d[3..5] != b"00" && &d[5..9] != b"0000"
}

/// Region code and a real date of birth.
fn cn_id_plausible(id: &[u8; 18]) -> bool {
    if !matches!(id[0], b'1'..=b'6' | b'8') {
        return false;
    }
    let num = |s: &[u8]| s.iter().fold(0u32, |acc, x| acc * 10 + u32::from(x - b'0'));
    let year = num(&id[6..10]);
    let month = num(&id[10..12]);
    let day = num(&id[12..14]);
    (1900..=2099).contains(&year) && (1..=12).contains(&month) && (1..=31).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_in_every_script() {
        for s in ["7", "٧", "۷", "७", "૭", "７"] {
            assert_eq!(digit_at(s.as_bytes(), 0), Some((7, s.len())), "{s}");
        }
        for s in ["a", "ب", "क", "ક", "Ｘ", "中"] {
            assert_eq!(digit_at(s.as_bytes(), 0), None, "{s}");
        }
        assert_eq!(digit_at(&[0xDB], 0), None);
        assert_eq!(digit_at(&[0xEF, 0xBC], 0), None);
    }
}
