//! Feedback as customers give it: survey answers, comments and complaints.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::DomainError;

macro_rules! label_enum {
    ($(#[$m:meta])* $name:ident, $field:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Result<Self, DomainError> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(DomainError::invalid($field, format!(
                        "must be one of {}", [$($text),+].join(", ")
                    ))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

label_enum!(
    /// What kind of feedback an item is.
    FeedbackKind, "kind" {
        Nps = "nps",
        Csat = "csat",
        Ces = "ces",
        Scale = "scale",
        Comment = "comment",
        Complaint = "complaint",
    }
);

label_enum!(
    /// Where the feedback came in.
    Channel, "channel" {
        Web = "web",
        Email = "email",
        Chat = "chat",
        Phone = "phone",
        Social = "social",
        App = "app",
        Api = "api",
        Import = "import",
    }
);

impl FeedbackKind {
    /// The score range of a survey kind; `None` for free text.
    pub const fn range(self) -> Option<(u8, u8)> {
        match self {
            FeedbackKind::Nps => Some((0, 10)),
            FeedbackKind::Csat => Some((1, 5)),
            FeedbackKind::Ces => Some((1, 7)),
            FeedbackKind::Scale => Some((1, 5)),
            FeedbackKind::Comment | FeedbackKind::Complaint => None,
        }
    }
}

/// A score inside its kind's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Score(u8);

impl Score {
    pub fn parse(kind: FeedbackKind, v: i64) -> Result<Self, DomainError> {
        let Some((min, max)) = kind.range() else {
            return Err(DomainError::invalid(
                "score",
                format!("a {kind} has no score; use kind nps, csat, ces or scale"),
            ));
        };
        u8::try_from(v)
            .ok()
            .filter(|v| (min..=max).contains(v))
            .map(Self)
            .ok_or_else(|| {
                DomainError::invalid("score", format!("a {kind} score is {min} to {max}"))
            })
    }
    pub fn get(self) -> u8 {
        self.0
    }
}

/// The most free text one item may carry, in characters.
pub const MAX_TEXT_CHARS: usize = 10_000;

/// Free text as typed: trimmed, not empty, not too long, no control
/// characters other than line breaks and tabs.
pub fn parse_text(s: &str) -> Result<String, DomainError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(DomainError::invalid("text", "is empty"));
    }
    if t.chars().count() > MAX_TEXT_CHARS {
        return Err(DomainError::invalid(
            "text",
            format!("is longer than {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(t.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect())
}

/// A short label such as a component, region, journey stage or touchpoint:
/// 1 to 64 characters of letters, digits, spaces and `-_.:/`.
pub fn parse_label(field: &'static str, s: &str) -> Result<String, DomainError> {
    let t = s.trim();
    let ok = !t.is_empty()
        && t.chars().count() <= 64
        && t.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | ':' | '/'));
    if ok {
        Ok(t.to_owned())
    } else {
        Err(DomainError::invalid(
            field,
            "must be 1-64 letters, digits, spaces or -_.:/",
        ))
    }
}

/// A language tag: `en`, `zh`, `fa`, `gu`, `pt-BR`, ...
pub fn parse_language(s: &str) -> Result<String, DomainError> {
    let t = s.trim();
    let mut parts = t.split(['-', '_']);
    let primary = parts.next().unwrap_or_default();
    let ok = (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && parts
            .all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if ok {
        Ok(primary.to_ascii_lowercase())
    } else {
        Err(DomainError::invalid(
            "language",
            "must be a language tag such as en, zh, fa or gu",
        ))
    }
}

/// Who gave the feedback, when they agreed to be contacted. Personal data:
/// `Debug` hides it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl fmt::Debug for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Contact(***)")
    }
}

impl Contact {
    /// Checks and normalises: at least one of email or phone; the email
    /// lowercased; the phone in international form (E.164).
    pub fn parse(
        name: Option<&str>,
        email: Option<&str>,
        phone: Option<&str>,
        default_region: &str,
    ) -> Result<Self, DomainError> {
        let name = name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| {
                if n.chars().count() > 200 || n.chars().any(char::is_control) {
                    Err(DomainError::invalid(
                        "contact.name",
                        "must be 1-200 printable characters",
                    ))
                } else {
                    Ok(n.to_owned())
                }
            })
            .transpose()?;
        let email = email
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| {
                super::user::Email::parse(e)
                    .map(|e| e.as_str().to_owned())
                    .map_err(|_| DomainError::invalid("contact.email", "not an email address"))
            })
            .transpose()?;
        let phone = phone
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| normalise_phone(p, default_region))
            .transpose()?;
        if email.is_none() && phone.is_none() {
            return Err(DomainError::invalid(
                "contact",
                "needs an email or a phone number",
            ));
        }
        Ok(Self { name, email, phone })
    }
}

/// A phone number in E.164 form, validated with libphonenumber's data.
pub fn normalise_phone(raw: &str, default_region: &str) -> Result<String, DomainError> {
    let bad = || DomainError::invalid("contact.phone", "not a valid phone number");
    let region = default_region.parse::<phonenumber::country::Id>().ok();
    let number = phonenumber::parse(region, raw).map_err(|_| bad())?;
    if !phonenumber::is_valid(&number) {
        return Err(bad());
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_stay_in_their_kind_range() {
        assert!(Score::parse(FeedbackKind::Nps, 0).is_ok());
        assert!(Score::parse(FeedbackKind::Nps, 10).is_ok());
        assert!(Score::parse(FeedbackKind::Nps, 11).is_err());
        assert!(Score::parse(FeedbackKind::Csat, 0).is_err());
        assert!(Score::parse(FeedbackKind::Ces, 7).is_ok());
        assert!(Score::parse(FeedbackKind::Ces, -1).is_err());
        assert!(Score::parse(FeedbackKind::Comment, 3).is_err());
    }

    #[test]
    fn contacts_are_normalised_and_hidden_from_debug() {
        let c = Contact::parse(
            Some("Ana"),
            Some("Ana@Example.com"),
            Some("(415) 555-2671"),
            "US",
        )
        .unwrap();
        assert_eq!(c.email.as_deref(), Some("ana@example.com"));
        assert_eq!(c.phone.as_deref(), Some("+14155552671"));
        assert_eq!(format!("{c:?}"), "Contact(***)");
        let ir = Contact::parse(None, None, Some("0912 345 6789"), "IR").unwrap();
        assert_eq!(ir.phone.as_deref(), Some("+989123456789"));
        assert!(Contact::parse(Some("Ana"), None, None, "US").is_err());
        assert!(Contact::parse(None, None, Some("12"), "US").is_err());
    }

    #[test]
    fn labels_text_and_languages_are_checked() {
        assert_eq!(parse_label("component", " login ").unwrap(), "login");
        assert!(parse_label("component", "<script>").is_err());
        assert_eq!(parse_text("  hello\u{0007}  ").unwrap(), "hello");
        assert!(parse_text("   ").is_err());
        assert_eq!(parse_language("pt-BR").unwrap(), "pt");
        assert!(parse_language("english").is_err());
    }
}
