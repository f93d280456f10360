//! Language detection.
//!
//! The writing system decides most cases cheaply and reliably even for very
//! short texts (Han -> `zh`, Gujarati -> `gu`, Arabic script with Persian
//! letters -> `fa`, ...). Only texts in shared scripts (Latin, Cyrillic,
//! Devanagari, plain Arabic) go to `whatlang`'s trigram model. For short Latin
//! texts the model is unreliable, so common English function words and
//! complaint vocabulary decide first; if nothing is known the answer is
//! marked unreliable rather than guessed with confidence.

use serde::{Deserialize, Serialize};

/// A detected language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Language {
    /// ISO 639-1 code where one exists (`en`, `zh`, `fa`, `gu`), otherwise the
    /// ISO 639-3 code from whatlang; `und` when nothing could be detected.
    pub code: String,
    /// Confidence in [0, 1].
    pub confidence: f32,
    /// False when the text was too short or too mixed to be sure.
    pub reliable: bool,
}

impl Language {
    fn new(code: &str, confidence: f32, reliable: bool) -> Self {
        Self {
            code: code.to_owned(),
            confidence,
            reliable,
        }
    }
}

#[derive(Default)]
struct ScriptCounts {
    latin: u32,
    han: u32,
    kana: u32,
    hangul: u32,
    gujarati: u32,
    arabic: u32,
    persian_letters: u32,
    urdu_letters: u32,
    arabic_only_letters: u32,
    devanagari: u32,
    cyrillic: u32,
    other: u32,
}

fn count_scripts(text: &str) -> ScriptCounts {
    let mut s = ScriptCounts::default();
    for c in text.chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '\u{00C0}'..='\u{024F}' => s.latin += 1,
            '\u{3040}'..='\u{30FF}' => s.kana += 1,
            '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}' => {
                s.han += 1
            }
            '\u{AC00}'..='\u{D7AF}' | '\u{1100}'..='\u{11FF}' => s.hangul += 1,
            '\u{0A80}'..='\u{0AFF}' => s.gujarati += 1,
            '\u{0600}'..='\u{06FF}' | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}' => {
                s.arabic += 1;
                match c {
                    'پ' | 'چ' | 'ژ' | 'گ' | '\u{06CC}' | '\u{06A9}' => s.persian_letters += 1,
                    'ٹ' | 'ڈ' | 'ڑ' | 'ں' | 'ے' | 'ھ' => s.urdu_letters += 1,
                    'ة' | '\u{064A}' | '\u{0643}' | 'ى' => s.arabic_only_letters += 1,
                    _ => {}
                }
            }
            '\u{0900}'..='\u{097F}' => s.devanagari += 1,
            '\u{0400}'..='\u{04FF}' => s.cyrillic += 1,
            c if c.is_alphabetic() => s.other += 1,
            _ => {}
        }
    }
    s
}

/// English function words and complaint vocabulary that decide short Latin
/// texts the trigram model cannot.
const ENGLISH_HINTS: &[&str] = &[
    "the", "i", "my", "is", "a", "to", "and", "not", "of", "it", "you", "your", "me", "in", "on",
    "can't", "cant", "cannot", "was", "for", "this", "that", "with", "from", "app", "login",
    "account", "password", "why", "what", "please", "have", "got", "did", "don't", "no", "help",
    "down", "again", "card", "money", "scam", "error", "slow", "site", "be", "we", "are", "an",
];

fn english_hint_ratio(text: &str) -> (usize, usize) {
    let mut hits = 0;
    let mut words = 0;
    for w in text
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
    {
        words += 1;
        let lw = w.to_ascii_lowercase();
        if ENGLISH_HINTS.contains(&lw.as_str()) {
            hits += 1;
        }
    }
    (hits, words)
}

/// Maps whatlang's ISO 639-3 code to ISO 639-1 where one exists.
fn iso639_1(lang: whatlang::Lang) -> &'static str {
    use whatlang::Lang as L;
    match lang {
        L::Eng => "en",
        L::Cmn => "zh",
        L::Pes => "fa",
        L::Guj => "gu",
        L::Ara => "ar",
        L::Rus => "ru",
        L::Spa => "es",
        L::Por => "pt",
        L::Ita => "it",
        L::Fra => "fr",
        L::Deu => "de",
        L::Ukr => "uk",
        L::Hin => "hi",
        L::Jpn => "ja",
        L::Kor => "ko",
        L::Ben => "bn",
        L::Urd => "ur",
        L::Tur => "tr",
        L::Nld => "nl",
        L::Pol => "pl",
        L::Swe => "sv",
        L::Dan => "da",
        L::Nob => "nb",
        L::Fin => "fi",
        L::Ind => "id",
        L::Vie => "vi",
        L::Tha => "th",
        L::Heb => "he",
        L::Ell => "el",
        L::Ces => "cs",
        L::Ron => "ro",
        L::Hun => "hu",
        L::Mar => "mr",
        L::Nep => "ne",
        L::Tam => "ta",
        L::Tel => "te",
        L::Pan => "pa",
        other => other.code(),
    }
}

/// Detects the language of `text`.
pub fn detect_language(text: &str) -> Language {
    let s = count_scripts(text);
    let letters = s.latin
        + s.han
        + s.kana
        + s.hangul
        + s.gujarati
        + s.arabic
        + s.devanagari
        + s.cyrillic
        + s.other;
    if letters == 0 {
        return Language::new("und", 0.0, false);
    }
    let share = |n: u32| n as f32 / letters as f32;
    // Short texts in a script of their own are still unambiguous.
    let reliable_len = |n: u32| n >= 2;
    if s.kana > 0 && s.kana + s.han >= s.latin {
        return Language::new("ja", share(s.kana + s.han), reliable_len(s.kana + s.han));
    }
    if s.han > 0 && s.han >= s.latin / 3 && s.han >= s.arabic && s.han >= s.gujarati {
        return Language::new("zh", share(s.han).max(0.5), reliable_len(s.han));
    }
    if s.hangul > 0 && s.hangul >= s.latin {
        return Language::new("ko", share(s.hangul), reliable_len(s.hangul));
    }
    if s.gujarati > 0 && s.gujarati >= s.latin / 2 {
        return Language::new("gu", share(s.gujarati).max(0.5), reliable_len(s.gujarati));
    }
    if s.arabic > 0 && s.arabic >= s.latin / 2 {
        let code = if s.urdu_letters > 0 && s.urdu_letters * 2 >= s.persian_letters {
            "ur"
        } else if s.persian_letters > 0 && s.persian_letters >= s.arabic_only_letters {
            "fa"
        } else if s.arabic_only_letters > 0 {
            "ar"
        } else {
            // No distinguishing letter: ask the model, restricted to the
            // languages written in this script.
            return model_detect(
                text,
                Some(&[
                    whatlang::Lang::Pes,
                    whatlang::Lang::Ara,
                    whatlang::Lang::Urd,
                ]),
            )
            .unwrap_or_else(|| Language::new("fa", 0.3, false));
        };
        return Language::new(code, share(s.arabic).max(0.5), s.arabic >= 4);
    }
    if s.latin > 0 && s.latin >= letters / 2 {
        let (hits, words) = english_hint_ratio(text);
        // Complaints are short; function words are a strong signal for English
        // where trigrams over 20 characters are not.
        if hits >= 2 && hits * 4 >= words {
            let conf = (0.6 + hits as f32 / words.max(1) as f32).min(1.0);
            return Language::new("en", conf, true);
        }
        if let Some(found) = model_detect(text, None) {
            if found.reliable || words >= 6 {
                return found;
            }
            if hits >= 1 {
                return Language::new("en", 0.4, false);
            }
            return found;
        }
        if hits >= 1 {
            return Language::new("en", 0.3, false);
        }
        return Language::new("und", 0.0, false);
    }
    model_detect(text, None).unwrap_or_else(|| Language::new("und", 0.0, false))
}

fn model_detect(text: &str, allow: Option<&[whatlang::Lang]>) -> Option<Language> {
    let info = match allow {
        Some(list) => whatlang::Detector::with_allowlist(list.to_vec()).detect(text),
        None => whatlang::detect(text),
    }?;
    Some(Language::new(
        iso639_1(info.lang()),
        info.confidence() as f32,
        info.is_reliable(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn code(t: &str) -> String {
        detect_language(t).code
    }

    #[test]
    fn detects_the_four_main_languages() {
        assert_eq!(
            code("I cannot log in to my account since this morning"),
            "en"
        );
        assert_eq!(code("我的账户无法登录，一直提示密码错误"), "zh");
        assert_eq!(code("نمی‌توانم وارد حساب کاربری خود شوم"), "fa");
        assert_eq!(code("હું મારા એકાઉન્ટમાં લોગિન કરી શકતો નથી"), "gu");
    }

    #[test]
    fn short_texts_are_handled() {
        let zh = detect_language("登录不了");
        assert_eq!(zh.code, "zh");
        assert!(zh.reliable);
        assert_eq!(code("app down?"), "en");
        assert_eq!(code("کار نمی‌کند"), "fa");
        assert_eq!(code("લોગિન"), "gu");
        let none = detect_language("123 !!!");
        assert_eq!(none.code, "und");
        assert!(!none.reliable);
    }

    #[test]
    fn other_languages_get_their_codes() {
        assert_eq!(
            code("No puedo iniciar sesión en mi cuenta desde ayer por la tarde"),
            "es"
        );
        assert_eq!(code("لا أستطيع الدخول إلى حسابي منذ الصباح"), "ar");
        assert_eq!(code("ログインできません"), "ja");
    }
}
