//! Incident response: playbooks and their checklist items, the update
//! cadence, notice templates, postmortems and remedies. Every value here
//! was checked on the way in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::incident::{parse_line, parse_text, IncidentStatus, Severity, TeamRole};
use super::DomainError;

/// Minutes between public updates of an open incident, per severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cadence {
    pub sev1: i64,
    pub sev2: i64,
    pub sev3: i64,
    pub sev4: i64,
}

impl Default for Cadence {
    fn default() -> Self {
        Self {
            sev1: 30,
            sev2: 60,
            sev3: 240,
            sev4: 1440,
        }
    }
}

impl Cadence {
    pub fn from_config(c: &crate::config::IncidentsConfig) -> Self {
        Self {
            sev1: c.update_due_minutes_sev1.into(),
            sev2: c.update_due_minutes_sev2.into(),
            sev3: c.update_due_minutes_sev3.into(),
            sev4: c.update_due_minutes_sev4.into(),
        }
    }

    /// The minutes for an incident: its own setting, else its severity's.
    pub fn minutes(&self, severity: Severity, own: Option<i64>) -> i64 {
        own.filter(|m| *m > 0).unwrap_or(match severity {
            Severity::Sev1 => self.sev1,
            Severity::Sev2 => self.sev2,
            Severity::Sev3 => self.sev3,
            Severity::Sev4 => self.sev4,
        })
    }
}

/// The longest an incident may go between updates: 30 days.
pub const MAX_UPDATE_EVERY_MINUTES: i64 = 30 * 24 * 60;

/// An incident's own cadence: 1 minute to 30 days; 0 returns to the default.
pub fn parse_update_every(minutes: i64) -> Result<i64, DomainError> {
    if (0..=MAX_UPDATE_EVERY_MINUTES).contains(&minutes) {
        Ok(minutes)
    } else {
        Err(DomainError::invalid(
            "update_every_minutes",
            format!("must be 1 to {MAX_UPDATE_EVERY_MINUTES} minutes (0: the severity's default)"),
        ))
    }
}

/// One step of a playbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaybookItem {
    /// What to do, 1-300 characters.
    pub title: String,
    /// The team seat that owns it: incident_lead, security, cx,
    /// communications or legal.
    #[serde(default)]
    pub seat: Option<TeamRole>,
}

/// A playbook, checked.
#[derive(Debug, Clone)]
pub struct PlaybookSpec {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub items: Vec<PlaybookItem>,
}

/// A slug: 1-64 of a-z, 0-9 and -, starting with a letter or digit.
pub fn parse_slug(field: &'static str, s: &str) -> Result<String, DomainError> {
    let t = s.trim();
    let ok = !t.is_empty()
        && t.len() <= 64
        && t.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !t.starts_with('-');
    if ok {
        Ok(t.to_owned())
    } else {
        Err(DomainError::invalid(
            field,
            "1-64 characters of a-z, 0-9 and -",
        ))
    }
}

/// Parses a seat name sent by a client.
pub fn parse_seat(s: &str) -> Result<TeamRole, DomainError> {
    TeamRole::parse(s).map_err(|_| {
        DomainError::invalid(
            "seat",
            "must be one of: incident_lead security cx communications legal",
        )
    })
}

impl PlaybookSpec {
    pub fn parse(
        slug: &str,
        name: &str,
        description: &str,
        items: &[(String, Option<String>)],
    ) -> Result<Self, DomainError> {
        if items.is_empty() || items.len() > 100 {
            return Err(DomainError::invalid("items", "list 1 to 100 steps"));
        }
        let items = items
            .iter()
            .map(|(title, seat)| {
                Ok(PlaybookItem {
                    title: parse_line("items.title", title, 300)?,
                    seat: seat
                        .as_deref()
                        .filter(|s| !s.trim().is_empty())
                        .map(parse_seat)
                        .transpose()?,
                })
            })
            .collect::<Result<_, DomainError>>()?;
        let description = description.trim();
        Ok(Self {
            slug: parse_slug("slug", slug)?,
            name: parse_line("name", name, 120)?,
            description: if description.is_empty() {
                String::new()
            } else {
                parse_text("description", description, 2_000)?
            },
            items,
        })
    }
}

/// The languages notices are written in, each with its direction.
pub const NOTICE_LANGUAGES: &[(&str, &str)] =
    &[("en", "ltr"), ("zh", "ltr"), ("fa", "rtl"), ("gu", "ltr")];

pub fn language_dir(lang: &str) -> &'static str {
    NOTICE_LANGUAGES
        .iter()
        .find(|(l, _)| *l == lang)
        .map_or("ltr", |(_, d)| d)
}

/// A notice language: one of `NOTICE_LANGUAGES`.
pub fn parse_notice_language(s: &str) -> Result<&'static str, DomainError> {
    let t = s.trim().to_ascii_lowercase();
    NOTICE_LANGUAGES
        .iter()
        .find(|(l, _)| *l == t)
        .map(|(l, _)| *l)
        .ok_or_else(|| DomainError::invalid("language", "must be one of: en zh fa gu"))
}

/// One language of a notice template: each part is a minijinja template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateText {
    /// The email subject, one line.
    pub subject: String,
    /// The notice: the status page, the email body.
    pub body: String,
    /// The text message; `headline` is shortened to fit one SMS.
    pub sms: String,
}

/// The fields a template is filled with. Every template may use them all;
/// `what_happened`, `impact`, `actions` and `contact` are required.
pub const REQUIRED_FIELDS: &[&str] = &["what_happened", "impact", "actions", "contact"];
pub const OPTIONAL_FIELDS: &[&str] = &["advice", "remedy", "next_update", "headline"];

/// A notice template, checked (its sources compile, see `response::notices`).
#[derive(Debug, Clone)]
pub struct TemplateSpec {
    pub slug: String,
    pub name: String,
    /// The incident status an update from it usually has.
    pub status: IncidentStatus,
    pub texts: BTreeMap<String, TemplateText>,
}

/// A field's text: the same in every language, or per language.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum FieldText {
    Same(String),
    PerLanguage(BTreeMap<String, String>),
}

impl FieldText {
    pub fn get(&self, lang: &str) -> Option<&str> {
        match self {
            FieldText::Same(s) => Some(s.as_str()),
            FieldText::PerLanguage(m) => m.get(lang).map(String::as_str),
        }
        .map(str::trim)
        .filter(|s| !s.is_empty())
    }
}

/// How a text message is encoded, which decides how long one may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SmsEncoding {
    /// GSM 03.38: 160 characters in one message.
    Gsm7,
    /// Anything outside it (Chinese, Persian, Gujarati...): 70.
    Ucs2,
}

const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENDED: &str = "^{}\\[~]|€\u{c}";

impl SmsEncoding {
    pub fn of(text: &str) -> Self {
        if text
            .chars()
            .all(|c| GSM_BASIC.contains(c) || GSM_EXTENDED.contains(c))
        {
            SmsEncoding::Gsm7
        } else {
            SmsEncoding::Ucs2
        }
    }

    /// The length as the network counts it: septets (extended characters
    /// take two) or UTF-16 units.
    pub fn length(self, text: &str) -> usize {
        match self {
            SmsEncoding::Gsm7 => text
                .chars()
                .map(|c| if GSM_EXTENDED.contains(c) { 2 } else { 1 })
                .sum(),
            SmsEncoding::Ucs2 => text.encode_utf16().count(),
        }
    }

    /// What fits in one message.
    pub fn single_limit(self) -> usize {
        match self {
            SmsEncoding::Gsm7 => 160,
            SmsEncoding::Ucs2 => 70,
        }
    }

    /// What a notice's text message is fitted to: one message in GSM-7;
    /// two joined parts (134 units) in UCS-2, since 70 cannot carry a
    /// sentence and a link.
    pub fn fit_limit(self) -> usize {
        match self {
            SmsEncoding::Gsm7 => 160,
            SmsEncoding::Ucs2 => 134,
        }
    }

    /// Messages needed (concatenated parts carry a header).
    pub fn segments(self, text: &str) -> usize {
        let n = self.length(text);
        let (single, part) = match self {
            SmsEncoding::Gsm7 => (160, 153),
            SmsEncoding::Ucs2 => (70, 67),
        };
        if n <= single {
            1
        } else {
            n.div_ceil(part)
        }
    }
}

/// A remedy offered to customers, e.g. free account monitoring.
pub fn parse_remedy_counts(offered: i64, taken: i64) -> Result<(i64, i64), DomainError> {
    if !(0..=1_000_000_000).contains(&offered) {
        return Err(DomainError::invalid("offered", "must be 0 or more"));
    }
    if !(0..=offered).contains(&taken) {
        return Err(DomainError::invalid(
            "taken",
            "must be 0 to the number offered",
        ));
    }
    Ok((offered, taken))
}

/// An action item of a postmortem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionItem {
    /// What will be done, 1-300 characters.
    pub title: String,
    /// The staff user who owns it (`usr_...`), if anyone yet.
    #[serde(default)]
    pub owner: Option<String>,
    /// When it is due: YYYY-MM-DD.
    #[serde(default)]
    pub due: Option<String>,
    #[serde(default)]
    pub done: bool,
}

impl ActionItem {
    pub fn check(self) -> Result<Self, DomainError> {
        let title = parse_line("action_items.title", &self.title, 300)?;
        let owner = match self.owner.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(o) => Some(
                super::Id::parse(super::id::Kind::User, o)
                    .ok_or_else(|| {
                        DomainError::invalid(
                            "action_items.owner",
                            "staff user ids look like usr_...",
                        )
                    })?
                    .to_string(),
            ),
        };
        let due = match self.due.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => Some(
                chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| DomainError::invalid("action_items.due", "a date, YYYY-MM-DD"))?
                    .to_string(),
            ),
        };
        Ok(Self {
            title,
            owner,
            due,
            done: self.done,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_length_follows_the_encoding() {
        assert_eq!(SmsEncoding::of("Login is down"), SmsEncoding::Gsm7);
        assert_eq!(SmsEncoding::of("€5 [refund]").length("€5 [refund]"), 14);
        let fa = "ورود به حساب مختل است";
        assert_eq!(SmsEncoding::of(fa), SmsEncoding::Ucs2);
        assert_eq!(SmsEncoding::Ucs2.single_limit(), 70);
        assert_eq!(SmsEncoding::Gsm7.segments(&"a".repeat(160)), 1);
        assert_eq!(SmsEncoding::Gsm7.segments(&"a".repeat(161)), 2);
        assert_eq!(SmsEncoding::Ucs2.segments(&"ક".repeat(71)), 2);
    }

    #[test]
    fn cadence_uses_the_incident_setting_first() {
        let c = Cadence::default();
        assert_eq!(c.minutes(Severity::Sev1, None), 30);
        assert_eq!(c.minutes(Severity::Sev4, None), 1440);
        assert_eq!(c.minutes(Severity::Sev1, Some(10_080)), 10_080);
        assert_eq!(c.minutes(Severity::Sev2, Some(0)), 60);
        assert!(parse_update_every(-1).is_err());
        assert!(parse_update_every(MAX_UPDATE_EVERY_MINUTES + 1).is_err());
    }

    #[test]
    fn playbooks_and_action_items_are_checked() {
        let ok = PlaybookSpec::parse(
            "outage",
            "Outage",
            "",
            &[("Tell customers".into(), Some("communications".into()))],
        )
        .unwrap();
        assert_eq!(ok.items[0].seat, Some(TeamRole::Communications));
        assert!(PlaybookSpec::parse("Bad Slug", "x", "", &[("a".into(), None)]).is_err());
        assert!(PlaybookSpec::parse("ok", "x", "", &[]).is_err());
        assert!(PlaybookSpec::parse("ok", "x", "", &[("a".into(), Some("boss".into()))]).is_err());
        let item = ActionItem {
            title: "Rotate keys".into(),
            owner: Some("nope".into()),
            due: None,
            done: false,
        };
        assert!(item.check().is_err());
        let item = ActionItem {
            title: "Rotate keys".into(),
            owner: None,
            due: Some("2026-13-01".into()),
            done: false,
        };
        assert!(item.check().is_err());
        assert!(parse_remedy_counts(10, 11).is_err());
        assert_eq!(parse_remedy_counts(10, 3).unwrap(), (10, 3));
    }
}
