//! Text normalised for search, the same way for what is stored and what is
//! asked, so that a query matches however a customer typed: case, Arabic
//! versus Persian letter forms, zero-width joiners, digits of any script,
//! full-width forms.

pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_space = false;
    for c in text.chars() {
        let c = match c {
            // Arabic yeh and kaf, as Persian keyboards type them.
            '\u{064A}' | '\u{0649}' => '\u{06CC}',
            '\u{0643}' => '\u{06A9}',
            // Zero-width non-joiner / joiner, tatweel, Arabic diacritics.
            '\u{200C}' | '\u{200D}' | '\u{0640}' | '\u{064B}'..='\u{065F}' => continue,
            // Full-width ASCII.
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        };
        let c = digit_value(c).map_or(c, |d| char::from(b'0' + d));
        if c.is_whitespace() {
            if !last_space && !out.is_empty() {
                out.push(' ');
            }
            last_space = true;
            continue;
        }
        last_space = false;
        out.extend(c.to_lowercase());
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// The value of a decimal digit in any of the scripts customers write.
fn digit_value(c: char) -> Option<u8> {
    let zero = match c {
        '0'..='9' => '0',
        '\u{0660}'..='\u{0669}' => '\u{0660}', // Arabic-Indic
        '\u{06F0}'..='\u{06F9}' => '\u{06F0}', // Persian
        '\u{0966}'..='\u{096F}' => '\u{0966}', // Devanagari
        '\u{0AE6}'..='\u{0AEF}' => '\u{0AE6}', // Gujarati
        '\u{FF10}'..='\u{FF19}' => '\u{FF10}', // full-width
        _ => return None,
    };
    u8::try_from(c as u32 - zero as u32).ok()
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn variants_meet() {
        assert_eq!(normalise("Can't  LOG in"), "can't log in");
        // Arabic yeh/kaf typed on an Arabic keyboard match Persian ones.
        assert_eq!(normalise("كارت بانكي"), normalise("کارت بانکی"));
        assert_eq!(normalise("می‌خواهم"), "میخواهم");
        assert_eq!(normalise("کد ۱۲۳۴"), "کد 1234");
        assert_eq!(normalise("ઓટીપી ૧૨૩"), "ઓટીપી 123");
        assert_eq!(normalise("ＡＰＰ　登录"), "app 登录");
    }
}
