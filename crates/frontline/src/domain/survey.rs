//! Surveys: questions, the languages they are asked in, and their policy.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::feedback::{parse_label, parse_language, FeedbackKind};
use super::DomainError;

/// Text in several languages: language tag -> text.
pub type Localised = BTreeMap<String, String>;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Short id, unique in the survey: `q1`, `likely`, ...
    pub id: String,
    /// nps, csat, ces, scale or comment.
    pub kind: String,
    #[schema(value_type = BTreeMap<String, String>)]
    pub prompt: Localised,
    #[serde(default)]
    pub required: bool,
}

/// What a survey does with what it collects.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyPolicy {
    /// Keep the unredacted text, sealed, for the raw-text retention period.
    #[serde(default)]
    pub keep_raw_text: bool,
    /// Store a truncated client address and user agent.
    #[serde(default)]
    pub collect_client_info: bool,
    /// Answers only through single-use links.
    #[serde(default)]
    pub single_use: bool,
    /// Offer an optional "contact me" section with explicit consent.
    #[serde(default)]
    pub ask_contact: bool,
    #[serde(default)]
    pub component: Option<String>,
    #[serde(default)]
    pub journey_stage: Option<String>,
    #[serde(default)]
    pub touchpoint: Option<String>,
    /// Region for phone numbers without a country code (default US).
    #[serde(default)]
    pub phone_region: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyDefinition {
    /// The languages offered; the first is the default.
    pub languages: Vec<String>,
    #[schema(value_type = BTreeMap<String, String>)]
    pub title: Localised,
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, String>)]
    pub intro: Localised,
    pub questions: Vec<Question>,
    #[serde(default)]
    pub policy: SurveyPolicy,
}

impl SurveyDefinition {
    /// Checks that every language has its texts and every question is sound.
    pub fn validate(mut self) -> Result<Self, DomainError> {
        if self.languages.is_empty() || self.languages.len() > 20 {
            return Err(DomainError::invalid("languages", "list 1 to 20 languages"));
        }
        self.languages = self
            .languages
            .iter()
            .map(|l| parse_language(l))
            .collect::<Result<_, _>>()?;
        let check_text = |field: &'static str, t: &Localised, required: bool| {
            for lang in &self.languages {
                match t.get(lang).map(|s| s.trim()) {
                    Some(s) if !s.is_empty() && s.chars().count() <= 500 => {}
                    Some(_) => {
                        return Err(DomainError::invalid(
                            field,
                            format!("{lang}: 1-500 characters"),
                        ))
                    }
                    None if required => {
                        return Err(DomainError::invalid(
                            field,
                            format!("missing the {lang} text"),
                        ))
                    }
                    None => {}
                }
            }
            Ok(())
        };
        check_text("title", &self.title, true)?;
        check_text("intro", &self.intro, false)?;
        if self.questions.is_empty() || self.questions.len() > 30 {
            return Err(DomainError::invalid("questions", "ask 1 to 30 questions"));
        }
        let mut ids = std::collections::BTreeSet::new();
        for q in &self.questions {
            let ok_id = !q.id.is_empty()
                && q.id.len() <= 32
                && q.id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !ok_id || !ids.insert(q.id.clone()) {
                return Err(DomainError::invalid(
                    "questions",
                    format!("question id {:?} must be unique, 1-32 of a-z 0-9 _ -", q.id),
                ));
            }
            let kind = FeedbackKind::parse(&q.kind)?;
            if kind == FeedbackKind::Complaint {
                return Err(DomainError::invalid(
                    "questions",
                    "use kind comment for free text",
                ));
            }
            check_text("questions.prompt", &q.prompt, true)?;
        }
        for (field, v) in [
            ("policy.component", &self.policy.component),
            ("policy.journey_stage", &self.policy.journey_stage),
            ("policy.touchpoint", &self.policy.touchpoint),
        ] {
            if let Some(v) = v {
                parse_label(field, v)?;
            }
        }
        Ok(self)
    }

    /// The language to show: the one asked for if offered, else the default.
    pub fn pick_language(&self, asked: Option<&str>) -> &str {
        asked
            .and_then(|a| self.languages.iter().find(|l| l.as_str() == a))
            .or_else(|| self.languages.first())
            .map(String::as_str)
            .unwrap_or("en")
    }
}

/// A survey slug for its public address `/f/{slug}`.
pub fn parse_slug(s: &str) -> Result<String, DomainError> {
    let ok = (2..=48).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(DomainError::invalid("slug", "2-48 of a-z, 0-9 and -"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(v: serde_json::Value) -> Result<SurveyDefinition, DomainError> {
        serde_json::from_value::<SurveyDefinition>(v)
            .unwrap()
            .validate()
    }

    #[test]
    fn every_language_needs_its_texts() {
        let ok = serde_json::json!({
            "languages": ["en", "fa"],
            "title": {"en": "How did we do?", "fa": "چطور بودیم؟"},
            "questions": [{"id": "q1", "kind": "nps", "prompt": {"en": "Recommend us?", "fa": "ما را توصیه می‌کنید؟"}}]
        });
        assert!(def(ok.clone()).is_ok());
        let mut missing = ok.clone();
        missing["questions"][0]["prompt"] = serde_json::json!({"en": "Recommend us?"});
        assert!(def(missing).unwrap_err().to_string().contains("fa"));
        let mut dup = ok;
        dup["questions"] = serde_json::json!([
            {"id": "q1", "kind": "nps", "prompt": {"en": "a", "fa": "b"}},
            {"id": "q1", "kind": "comment", "prompt": {"en": "a", "fa": "b"}}
        ]);
        assert!(def(dup).is_err());
    }
}
