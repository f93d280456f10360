//! Lexicons: weighted terms per topic, sentiment terms, negators and
//! intensifiers, per language. A [`Lexicon`] is plain data (serde) so the
//! service can store it and let admins edit it; [`Lexicon::builtin`] is the
//! default for English, Chinese, Persian and Gujarati.
//!
//! Matching rules, decided by the script of the term:
//! - Chinese, Japanese, Thai and other unspaced scripts match as substrings.
//! - Latin, Cyrillic and Devanagari terms match whole words.
//! - Arabic-script (Persian) and Gujarati terms match at the start of a word
//!   and may be followed by attached suffixes (حسابم, એકાઉન્ટમાં).
//! - A term ending in `*` matches as a word prefix; one ending in `$` must end
//!   a word, whatever its script.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::text::{is_unspaced_script, normalize};

/// The security-aware topic taxonomy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// Cannot log in, password resets or 2FA codes the customer did not ask for.
    AccountAccess,
    /// A strange email, SMS or call claiming to be us.
    PhishingScam,
    /// Charges or transfers the customer did not make.
    Fraud,
    /// The customer's data seen elsewhere, or someone else's data seen.
    DataExposure,
    /// The app behaves strangely: pop-ups, redirects, unknown apps.
    Malware,
    /// Down, not loading, errors.
    Outage,
    /// Slow, laggy, timeouts.
    Performance,
    /// Bills, refunds, subscriptions, fees.
    Billing,
    /// None of the above.
    Other,
}

impl Topic {
    /// All topics, in a fixed order (the order of ties).
    pub const ALL: [Topic; 9] = [
        Topic::AccountAccess,
        Topic::PhishingScam,
        Topic::Fraud,
        Topic::DataExposure,
        Topic::Malware,
        Topic::Outage,
        Topic::Performance,
        Topic::Billing,
        Topic::Other,
    ];

    /// The snake_case name used in lexicons and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::AccountAccess => "account_access",
            Topic::PhishingScam => "phishing_scam",
            Topic::Fraud => "fraud",
            Topic::DataExposure => "data_exposure",
            Topic::Malware => "malware",
            Topic::Outage => "outage",
            Topic::Performance => "performance",
            Topic::Billing => "billing",
            Topic::Other => "other",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(name: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.as_str() == name)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// True for topics a security team cares about first.
    pub fn is_security(self) -> bool {
        matches!(
            self,
            Topic::AccountAccess
                | Topic::PhishingScam
                | Topic::Fraud
                | Topic::DataExposure
                | Topic::Malware
        )
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a lexicon term does when it is found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum TermRole {
    /// Evidence for a topic.
    Topic {
        /// The topic.
        topic: Topic,
        /// Evidence weight (positive).
        weight: f32,
    },
    /// A sentiment-bearing term; negative weights are negative sentiment.
    Sentiment {
        /// Valence, typically in [-4, 4].
        weight: f32,
    },
    /// Flips the sentiment of a term that follows closely.
    Negator,
    /// Scales the sentiment of a term that follows closely.
    Intensifier {
        /// Multiplier, typically 1.2 to 2.
        factor: f32,
    },
}

/// One lexicon entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LexiconEntry {
    /// ISO 639-1 code of the language the term belongs to (informative: all
    /// terms are matched in every text, so mixed-language texts work).
    pub lang: String,
    /// The term or phrase, with an optional trailing `*` (prefix) or `$`
    /// (whole word).
    pub term: String,
    /// What the term means.
    #[serde(flatten)]
    pub role: TermRole,
}

/// A complete, replaceable lexicon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Lexicon {
    /// All entries, any language.
    pub entries: Vec<LexiconEntry>,
}

/// A lexicon that cannot be used.
#[derive(Debug, Clone, PartialEq)]
pub enum LexiconError {
    /// A line of the compact text format could not be read.
    BadLine {
        /// Language of the text being parsed.
        lang: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// An entry has an empty term.
    EmptyTerm {
        /// Index of the entry.
        index: usize,
    },
    /// An entry has a weight that is not a finite number.
    BadWeight {
        /// Index of the entry.
        index: usize,
    },
    /// The matcher could not be built.
    Matcher(String),
}

impl fmt::Display for LexiconError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LexiconError::BadLine { lang, line, reason } => {
                write!(f, "lexicon {lang}, line {line}: {reason}")
            }
            LexiconError::EmptyTerm { index } => write!(f, "lexicon entry {index}: empty term"),
            LexiconError::BadWeight { index } => {
                write!(f, "lexicon entry {index}: weight is not a finite number")
            }
            LexiconError::Matcher(e) => write!(f, "lexicon matcher: {e}"),
        }
    }
}

impl std::error::Error for LexiconError {}

const BUILTIN: [(&str, &str); 4] = [
    ("en", include_str!("lexicon/en.txt")),
    ("zh", include_str!("lexicon/zh.txt")),
    ("fa", include_str!("lexicon/fa.txt")),
    ("gu", include_str!("lexicon/gu.txt")),
];

impl Lexicon {
    /// The built-in lexicon for English, Chinese, Persian and Gujarati.
    pub fn builtin() -> Lexicon {
        let mut lex = Lexicon::default();
        for (lang, text) in BUILTIN {
            // The built-in files are checked by a test; a bad line would be a
            // bug in this crate, and is skipped rather than panicking.
            if let Ok(part) = Lexicon::from_text(lang, text) {
                lex.entries.extend(part.entries);
            }
        }
        lex
    }

    /// Reads the compact text format: one `role|weight|term` a line, where
    /// role is a topic name, `sentiment`, `negator` or `intensifier`; `#`
    /// starts a comment line.
    pub fn from_text(lang: &str, text: &str) -> Result<Lexicon, LexiconError> {
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |reason| LexiconError::BadLine {
                lang: lang.to_owned(),
                line: i + 1,
                reason,
            };
            let mut parts = line.splitn(3, '|');
            let (Some(role), Some(weight), Some(term)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(bad("expected role|weight|term"));
            };
            let weight: f32 = weight
                .trim()
                .parse()
                .map_err(|_| bad("weight is not a number"))?;
            if !weight.is_finite() {
                return Err(bad("weight is not finite"));
            }
            let role = match role.trim() {
                "sentiment" => TermRole::Sentiment { weight },
                "negator" => TermRole::Negator,
                "intensifier" => TermRole::Intensifier { factor: weight },
                name => TermRole::Topic {
                    topic: Topic::parse(name).ok_or_else(|| bad("unknown role"))?,
                    weight,
                },
            };
            let term = term.trim();
            if term.is_empty() {
                return Err(bad("empty term"));
            }
            entries.push(LexiconEntry {
                lang: lang.to_owned(),
                term: term.to_owned(),
                role,
            });
        }
        Ok(Lexicon { entries })
    }

    /// Number of entries per language.
    pub fn languages(&self) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = Vec::new();
        for e in &self.entries {
            match out.iter_mut().find(|(l, _)| *l == e.lang) {
                Some((_, n)) => *n += 1,
                None => out.push((e.lang.clone(), 1)),
            }
        }
        out
    }
}

const N_TOPICS: usize = Topic::ALL.len();

/// The merged meaning of one distinct normalised term.
#[derive(Debug, Clone, Default)]
pub(crate) struct PatternInfo {
    pub topic: [f32; N_TOPICS],
    pub sentiment: f32,
    pub negator: bool,
    pub intensifier: f32,
    pub start_boundary: bool,
    pub end_boundary: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Boundary {
    None,
    Start,
    Both,
}

fn term_boundary(term: &str) -> (String, Boundary) {
    let (body, forced) = if let Some(b) = term.strip_suffix('*') {
        (b, Some(Boundary::Start))
    } else if let Some(b) = term.strip_suffix('$') {
        (b, Some(Boundary::Both))
    } else {
        (term, None)
    };
    let body = normalize(body.trim());
    let first = body.chars().next();
    let unspaced = first.is_some_and(is_unspaced_script);
    let boundary = match forced {
        _ if unspaced => Boundary::None,
        Some(b) => b,
        None => {
            let suffixing = body.chars().any(|c| {
                matches!(c, '\u{0600}'..='\u{06FF}' | '\u{0A80}'..='\u{0AFF}' | '\u{FB50}'..='\u{FEFF}')
            });
            if suffixing {
                Boundary::Start
            } else {
                Boundary::Both
            }
        }
    };
    (body, boundary)
}

/// Lexicon compiled into one Aho-Corasick automaton over all terms.
#[derive(Debug, Clone)]
pub(crate) struct CompiledLexicon {
    pub automaton: aho_corasick::AhoCorasick,
    pub patterns: Vec<PatternInfo>,
}

impl CompiledLexicon {
    pub fn new(lexicon: &Lexicon) -> Result<Self, LexiconError> {
        let mut keys: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        let mut terms: Vec<String> = Vec::new();
        let mut patterns: Vec<PatternInfo> = Vec::new();
        for (index, e) in lexicon.entries.iter().enumerate() {
            let (body, boundary) = term_boundary(&e.term);
            if body.is_empty() {
                return Err(LexiconError::EmptyTerm { index });
            }
            let id = *keys.entry(body.clone()).or_insert_with(|| {
                terms.push(body.clone());
                patterns.push(PatternInfo {
                    intensifier: 1.0,
                    start_boundary: boundary != Boundary::None,
                    end_boundary: boundary == Boundary::Both,
                    ..PatternInfo::default()
                });
                patterns.len() - 1
            });
            let p = &mut patterns[id];
            // A prefix form anywhere relaxes the end check for the term.
            if boundary != Boundary::Both {
                p.end_boundary = false;
            }
            match &e.role {
                TermRole::Topic { topic, weight } => {
                    if !weight.is_finite() {
                        return Err(LexiconError::BadWeight { index });
                    }
                    p.topic[topic.index()] = p.topic[topic.index()].max(*weight);
                }
                TermRole::Sentiment { weight } => {
                    if !weight.is_finite() {
                        return Err(LexiconError::BadWeight { index });
                    }
                    p.sentiment = *weight;
                }
                TermRole::Negator => p.negator = true,
                TermRole::Intensifier { factor } => {
                    if !factor.is_finite() {
                        return Err(LexiconError::BadWeight { index });
                    }
                    p.intensifier = *factor;
                }
            }
        }
        let automaton = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(&terms)
            .map_err(|e| LexiconError::Matcher(e.to_string()))?;
        Ok(Self {
            automaton,
            patterns,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_files_parse_completely() {
        for (lang, text) in BUILTIN {
            let lex = Lexicon::from_text(lang, text).expect("builtin lexicon parses");
            assert!(lex.entries.len() > 150, "{lang} has {}", lex.entries.len());
            for t in Topic::ALL.iter().filter(|t| **t != Topic::Other) {
                assert!(
                    lex.entries
                        .iter()
                        .any(|e| matches!(e.role, TermRole::Topic { topic, .. } if topic == *t)),
                    "{lang} lacks {t}"
                );
            }
        }
        let all = Lexicon::builtin();
        assert_eq!(all.languages().len(), 4);
    }

    #[test]
    fn bad_lines_are_reported() {
        let err = Lexicon::from_text("en", "fraud|x|stolen").unwrap_err();
        assert!(matches!(err, LexiconError::BadLine { line: 1, .. }));
        let err = Lexicon::from_text("en", "# c\nnonsense|1|x").unwrap_err();
        assert!(matches!(err, LexiconError::BadLine { line: 2, .. }));
        assert!(Lexicon::from_text("en", "fraud|1|").is_err());
    }

    #[test]
    fn lexicon_round_trips_through_json() {
        let lex = Lexicon::from_text("en", "fraud|3|stolen\nsentiment|-2|bad\nnegator|0|not")
            .expect("parses");
        let json = serde_json::to_string(&lex).expect("serialises");
        assert!(json.contains(r#""role":"topic""#), "{json}");
        let back: Lexicon = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, lex);
    }

    #[test]
    fn boundaries_follow_the_script() {
        assert!(term_boundary("log in").1 == Boundary::Both);
        assert!(term_boundary("scam*").1 == Boundary::Start);
        assert!(term_boundary("登录").1 == Boundary::None);
        assert!(term_boundary("حساب").1 == Boundary::Start);
        assert!(term_boundary("بد$").1 == Boundary::Both);
    }
}
