//! One pass of analysis over a message: language, topics, sentiment and
//! indicators.

use serde::{Deserialize, Serialize};

use crate::ioc::{extract_indicators, Indicators};
use crate::language::{detect_language, Language};
use crate::lexicon::{CompiledLexicon, Lexicon, LexiconError, Topic};
use crate::text::{is_word_char, normalize};

/// Evidence for one topic.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TopicScore {
    /// The topic.
    pub topic: Topic,
    /// Sum of matched term weights.
    pub score: f32,
}

/// Result of analysing one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Detected language.
    pub language: Language,
    /// The main topic (`Other` when the evidence is too weak).
    pub topic: Topic,
    /// All topics with evidence, strongest first.
    pub topics: Vec<TopicScore>,
    /// Sentiment in [-1, 1].
    pub sentiment: f32,
    /// Indicators of compromise, and how many personal contacts were skipped.
    pub indicators: Indicators,
}

/// Analyser built from a lexicon; cheap to share between threads.
#[derive(Debug, Clone)]
pub struct Analyzer {
    lexicon: CompiledLexicon,
    min_topic_score: f32,
}

/// Topic and sentiment of a text, without language or indicators.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    /// The main topic.
    pub topic: Topic,
    /// All topics with evidence, strongest first.
    pub topics: Vec<TopicScore>,
    /// Sentiment in [-1, 1].
    pub sentiment: f32,
}

/// How far (in words, or in characters for unspaced scripts) a negator or
/// intensifier reaches forward.
const SCOPE_WORDS: usize = 3;
const SCOPE_CHARS_UNSPACED: usize = 4;

impl Analyzer {
    /// Builds an analyser from a lexicon.
    pub fn new(lexicon: &Lexicon) -> Result<Self, LexiconError> {
        Ok(Self {
            lexicon: CompiledLexicon::new(lexicon)?,
            min_topic_score: 1.0,
        })
    }

    /// The analyser with the built-in lexicon.
    pub fn builtin() -> Self {
        match Self::new(&Lexicon::builtin()) {
            Ok(a) => a,
            // The built-in lexicon is tested to compile; an empty matcher is the
            // only safe fallback.
            Err(_) => Self {
                lexicon: CompiledLexicon::new(&Lexicon::default())
                    .unwrap_or_else(|e| panic!("empty lexicon must compile: {e}")),
                min_topic_score: 1.0,
            },
        }
    }

    /// Analyses one message.
    pub fn analyze(&self, text: &str) -> Analysis {
        let language = detect_language(text);
        let c = self.classify(text);
        let scam = matches!(c.topic, Topic::PhishingScam | Topic::Fraud)
            || c.topics
                .iter()
                .any(|t| t.topic == Topic::PhishingScam && t.score >= 2.0);
        let indicators = extract_indicators(text, scam);
        Analysis {
            language,
            topic: c.topic,
            topics: c.topics,
            sentiment: c.sentiment,
            indicators,
        }
    }

    /// Topics and sentiment only.
    pub fn classify(&self, text: &str) -> Classification {
        let norm = normalize(text);
        let mut topic = [0f32; Topic::ALL.len()];
        let mut sentiment = 0f32;
        // End of the last negator / intensifier and its factor.
        let mut negator_end: Option<usize> = None;
        let mut intensifier: Option<(usize, f32)> = None;
        for m in self.lexicon.automaton.find_iter(&norm) {
            let Some(p) = self.lexicon.patterns.get(m.pattern().as_usize()) else {
                continue;
            };
            let (s, e) = (m.start(), m.end());
            if p.start_boundary && norm[..s].chars().next_back().is_some_and(is_word_char) {
                continue;
            }
            if p.end_boundary && norm[e..].chars().next().is_some_and(is_word_char) {
                continue;
            }
            for (acc, w) in topic.iter_mut().zip(p.topic.iter()) {
                *acc += *w;
            }
            if p.sentiment != 0.0 {
                let mut w = p.sentiment;
                if let Some((end, f)) = intensifier {
                    if in_scope(&norm[end..s]) {
                        w *= f;
                    }
                }
                if let Some(end) = negator_end {
                    if in_scope(&norm[end..s]) {
                        w *= -0.5;
                    }
                }
                sentiment += w;
            }
            if p.negator {
                negator_end = Some(e);
            }
            if p.intensifier != 1.0 {
                intensifier = Some((e, p.intensifier));
            }
        }
        let mut topics: Vec<TopicScore> = Topic::ALL
            .iter()
            .zip(topic.iter())
            .filter(|(_, s)| **s > 0.0)
            .map(|(t, s)| TopicScore {
                topic: *t,
                score: *s,
            })
            .collect();
        // Stable sort keeps the taxonomy order on ties (security topics first).
        topics.sort_by(|a, b| b.score.total_cmp(&a.score));
        let main = match topics.first() {
            Some(t) if t.score >= self.min_topic_score => t.topic,
            _ => Topic::Other,
        };
        Classification {
            topic: main,
            topics,
            sentiment: squash(sentiment),
        }
    }
}

/// True when the gap between a negator/intensifier and a term is short and
/// crosses no clause boundary.
fn in_scope(gap: &str) -> bool {
    if gap.contains([
        '.', ',', '!', '?', ';', '，', '。', '！', '？', '；', '،', '؛',
    ]) {
        return false;
    }
    let spaces = gap.chars().filter(|c| c.is_whitespace()).count();
    let chars = gap.chars().count();
    if spaces == 0 {
        chars <= SCOPE_CHARS_UNSPACED
    } else {
        spaces <= SCOPE_WORDS
    }
}

/// Maps an unbounded valence sum into (-1, 1), as VADER does.
fn squash(x: f32) -> f32 {
    const ALPHA: f32 = 15.0;
    if x == 0.0 {
        0.0
    } else {
        x / (x * x + ALPHA).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(text: &str) -> Topic {
        Analyzer::builtin().classify(text).topic
    }

    #[test]
    fn english_topics() {
        assert_eq!(
            topic("I can't log in, it says wrong password"),
            Topic::AccountAccess
        );
        assert_eq!(
            topic("Got a password reset email I did not ask for"),
            Topic::AccountAccess
        );
        assert_eq!(
            topic("I received a text claiming to be you asking for my PIN"),
            Topic::PhishingScam
        );
        assert_eq!(
            topic("There are two charges on my card I didn't make"),
            Topic::Fraud
        );
        assert_eq!(
            topic("My email and phone number were leaked on a forum"),
            Topic::DataExposure
        );
        assert_eq!(
            topic("The app keeps opening pop-ups by itself"),
            Topic::Malware
        );
        assert_eq!(topic("Website is down, error 503"), Topic::Outage);
        assert_eq!(topic("Pages take forever to load"), Topic::Performance);
        assert_eq!(
            topic("I was charged twice for my subscription"),
            Topic::Billing
        );
        assert_eq!(topic("What are your opening hours?"), Topic::Other);
    }

    #[test]
    fn chinese_topics_without_spaces() {
        assert_eq!(topic("我的账号登录不了了"), Topic::AccountAccess);
        assert_eq!(
            topic("收到一条自称是你们客服的短信，让我点链接"),
            Topic::PhishingScam
        );
        assert_eq!(topic("我的信用卡被盗刷了三笔"), Topic::Fraud);
        assert_eq!(topic("APP一直闪退，打不开"), Topic::Outage);
        assert_eq!(topic("这个月被重复扣费，请退款"), Topic::Billing);
    }

    #[test]
    fn persian_and_gujarati_topics() {
        assert_eq!(topic("نمی‌توانم وارد حسابم شوم"), Topic::AccountAccess);
        assert_eq!(topic("برداشت غیرمجاز از حسابم انجام شده"), Topic::Fraud);
        assert_eq!(topic("اپلیکیشن کار نمی‌کند و خطا می‌دهد"), Topic::Outage);
        assert_eq!(topic("હું લોગિન કરી શકતો નથી"), Topic::AccountAccess);
        assert_eq!(topic("એપ ખૂબ ધીમી ચાલે છે"), Topic::Performance);
        assert_eq!(topic("મારું બિલ બે વાર આવ્યું, રિફંડ જોઈએ"), Topic::Billing);
    }

    #[test]
    fn word_boundaries_apply_to_spaced_scripts() {
        // "down" inside "download" and "bill" inside "billion" are not words.
        let c = Analyzer::builtin().classify("I downloaded a billionaire game");
        assert_eq!(c.topic, Topic::Other);
    }

    #[test]
    fn sentiment_polarity_and_negation() {
        let a = Analyzer::builtin();
        let good = a.classify("Great service, thank you!").sentiment;
        let bad = a.classify("Terrible, this is the worst app").sentiment;
        let not_good = a.classify("The support was not good").sentiment;
        assert!(good > 0.3, "{good}");
        assert!(bad < -0.3, "{bad}");
        assert!(not_good < 0.0, "{not_good}");
        assert!(a.classify("非常满意，谢谢").sentiment > 0.3);
        assert!(a.classify("太差了，垃圾").sentiment < -0.3);
        assert!(a.classify("خیلی بد است، افتضاح").sentiment < -0.3);
        assert!(a.classify("સરસ સેવા, આભાર").sentiment > 0.3);
        let s = a
            .classify("worst worst worst worst terrible awful")
            .sentiment;
        assert!((-1.0..=1.0).contains(&s));
    }

    #[test]
    fn a_replaced_lexicon_changes_results() {
        let lex = Lexicon::from_text("en", "billing|3|widget").expect("parses");
        let a = Analyzer::new(&lex).expect("compiles");
        assert_eq!(a.classify("my widget").topic, Topic::Billing);
        assert_eq!(a.classify("I can't log in").topic, Topic::Other);
    }

    #[test]
    fn analysis_combines_everything() {
        let r = Analyzer::builtin().analyze(
            "I got an SMS from +1 202 555 0188 claiming to be you with link http://secure-verify.top/login",
        );
        assert_eq!(r.language.code, "en");
        assert_eq!(r.topic, Topic::PhishingScam);
        let keys: Vec<&str> = r.indicators.found.iter().map(|i| i.key.as_str()).collect();
        assert!(keys.contains(&"phone:+12025550188"), "{keys:?}");
        assert!(keys.contains(&"domain:secure-verify.top"), "{keys:?}");
    }
}
