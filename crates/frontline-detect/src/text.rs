//! Text helpers shared by the analysers: normalisation for matching and
//! word-character tests that understand combining marks.

/// Normalises text for lexicon matching: lower case, curly quotes folded to
/// straight ones, Arabic letter variants folded to their Persian forms, the
/// zero-width non-joiner (common inside Persian words) turned into a space,
/// and Persian/Arabic/Gujarati/full-width digits folded to ASCII.
///
/// The same function is applied to lexicon terms, so both sides agree.
pub(crate) fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        match c {
            '\u{2018}' | '\u{2019}' | '\u{02BC}' | '\u{FF07}' => out.push('\''),
            '\u{201C}' | '\u{201D}' | '\u{FF02}' => out.push('"'),
            '\u{200C}' | '\u{00A0}' | '\u{3000}' => out.push(' '),
            '\u{200D}' | '\u{FEFF}' => {}
            '\u{064A}' | '\u{0649}' => out.push('\u{06CC}'), // Arabic yeh -> Persian yeh
            '\u{0643}' => out.push('\u{06A9}'),              // Arabic kaf -> keheh
            _ => {
                if let Some(d) = fold_digit(c) {
                    out.push(d);
                } else if c.is_uppercase() {
                    out.extend(c.to_lowercase());
                } else {
                    out.push(c);
                }
            }
        }
    }
    out
}

/// Maps non-ASCII decimal digits of the scripts we handle to ASCII.
pub(crate) fn fold_digit(c: char) -> Option<char> {
    let base = match c {
        '\u{0660}'..='\u{0669}' => 0x0660,
        '\u{06F0}'..='\u{06F9}' => 0x06F0,
        '\u{0AE6}'..='\u{0AEF}' => 0x0AE6,
        '\u{0966}'..='\u{096F}' => 0x0966,
        '\u{FF10}'..='\u{FF19}' => 0xFF10,
        _ => return None,
    };
    char::from_u32(u32::from('0') + (u32::from(c) - base))
}

/// True for characters that continue a word: letters, digits and the
/// combining marks of Indic and Arabic scripts (a Gujarati vowel sign is not
/// `alphanumeric` but is part of the word).
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
        || c == '_'
        || matches!(c,
            '\u{0300}'..='\u{036F}'
            | '\u{064B}'..='\u{065F}'
            | '\u{0670}'
            | '\u{0900}'..='\u{0903}'
            | '\u{093A}'..='\u{094F}'
            | '\u{0A81}'..='\u{0A83}'
            | '\u{0ABC}'..='\u{0ACD}'
            | '\u{0AE2}'..='\u{0AE3}')
}

/// Scripts whose words are not separated by spaces: lexicon terms in these
/// match as plain substrings.
pub(crate) fn is_unspaced_script(c: char) -> bool {
    matches!(c,
        '\u{2E80}'..='\u{9FFF}'   // CJK radicals, kana, ideographs
        | '\u{F900}'..='\u{FAFF}' // compatibility ideographs
        | '\u{0E00}'..='\u{0EFF}' // Thai, Lao
        | '\u{1000}'..='\u{109F}' // Myanmar
        | '\u{1780}'..='\u{17FF}' // Khmer
        | '\u{20000}'..='\u{2FA1F}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_quotes_digits_and_persian_letters() {
        assert_eq!(normalize("Can’t LOGIN"), "can't login");
        assert_eq!(normalize("۰۹۱۲"), "0912");
        assert_eq!(normalize("૯૮"), "98");
        assert_eq!(normalize("\u{064A}\u{0643}"), "\u{06CC}\u{06A9}");
        assert_eq!(normalize("می\u{200C}شود"), "می شود");
    }

    #[test]
    fn gujarati_vowel_signs_are_word_characters() {
        assert!(is_word_char('િ'));
        assert!(is_word_char('a'));
        assert!(!is_word_char(' '));
        assert!(!is_word_char('.'));
        assert!(is_unspaced_script('登'));
        assert!(!is_unspaced_script('a'));
    }
}
