//! Prefixed, sortable identifiers: `usr_01J...`. The ULID part sorts by time.

use std::fmt;

/// The kinds of record that have identifiers, each with its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Token,
    Role,
    Audit,
    Feedback,
    Ticket,
    Incident,
    Signal,
    Alert,
    Notice,
    Subscriber,
    Survey,
    Submission,
    Subject,
    Component,
    Maintenance,
    TimelineEntry,
    Playbook,
    ChecklistItem,
    NoticeTemplate,
    Deadline,
    LeadAlert,
    Remedy,
    AlertSource,
    Suggestion,
    TicketEvent,
    Calendar,
    SlaPolicy,
    AudiencePage,
    Route,
}

impl Kind {
    pub const fn prefix(self) -> &'static str {
        match self {
            Kind::User => "usr",
            Kind::Token => "tok",
            Kind::Role => "rol",
            Kind::Audit => "aud",
            Kind::Feedback => "fb",
            Kind::Ticket => "tkt",
            Kind::Incident => "inc",
            Kind::Signal => "sig",
            Kind::Alert => "alr",
            Kind::Notice => "ntc",
            Kind::Subscriber => "sub",
            Kind::Survey => "srv",
            Kind::Submission => "sbm",
            Kind::Subject => "sbj",
            Kind::Component => "cmp",
            Kind::Maintenance => "mnt",
            Kind::TimelineEntry => "tln",
            Kind::Playbook => "pbk",
            Kind::ChecklistItem => "chk",
            Kind::NoticeTemplate => "tpl",
            Kind::Deadline => "ddl",
            Kind::LeadAlert => "lda",
            Kind::Remedy => "rem",
            Kind::AlertSource => "asrc",
            Kind::Suggestion => "sug",
            Kind::TicketEvent => "tev",
            Kind::Calendar => "cal",
            Kind::SlaPolicy => "sla",
            Kind::AudiencePage => "apg",
            Kind::Route => "rte",
        }
    }
}

/// A prefixed identifier such as `usr_01HZX3...`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Id(String);

impl Id {
    pub fn new(kind: Kind) -> Self {
        Self(format!("{}_{}", kind.prefix(), ulid::Ulid::new()))
    }

    /// Accepts a string only if it is an identifier of `kind`.
    pub fn parse(kind: Kind, s: &str) -> Option<Self> {
        let rest = s.strip_prefix(kind.prefix())?.strip_prefix('_')?;
        ulid::Ulid::from_string(rest).ok()?;
        Some(Self(s.to_owned()))
    }

    /// Wraps an identifier read back from our own storage.
    pub(crate) fn from_db(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_sortable_and_checked() {
        let a = Id::new(Kind::User);
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = Id::new(Kind::User);
        assert!(a.as_str().starts_with("usr_"));
        assert!(a < b);
        assert!(Id::parse(Kind::User, a.as_str()).is_some());
        assert!(Id::parse(Kind::Token, a.as_str()).is_none());
        assert!(Id::parse(Kind::User, "usr_nope").is_none());
    }
}
