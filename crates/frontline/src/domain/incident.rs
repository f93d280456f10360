//! Incidents, the status page's components and maintenances, and the words
//! they are described in. Every value here was checked on the way in.

use std::fmt;

use serde::Serialize;

use super::feedback::parse_label;
use super::DomainError;

macro_rules! word_enum {
    ($(#[$m:meta])* $name:ident, $field:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            /// Parses the word as sent by a client; the error names the field.
            pub fn parse(s: &str) -> Result<Self, DomainError> {
                let t = s.trim();
                Self::ALL.iter().copied().find(|v| v.as_str().eq_ignore_ascii_case(t)).ok_or_else(|| {
                    DomainError::invalid($field, concat!("must be one of: ", $($text, " "),+).trim_end().to_owned())
                })
            }
            /// Reads a word back from our own storage.
            pub fn from_db(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

word_enum!(
    /// How bad it is for the business: SEV1 is the worst.
    Severity, "severity" {
    Sev1 = "SEV1",
    Sev2 = "SEV2",
    Sev3 = "SEV3",
    Sev4 = "SEV4",
});

impl Severity {
    /// SEV1 and SEV2 updates are published only after communications and
    /// legal have both approved them.
    pub fn needs_approval(self) -> bool {
        matches!(self, Severity::Sev1 | Severity::Sev2)
    }
}

word_enum!(
    /// How much customers feel it (Statuspage's `impact`).
    Impact, "impact" {
    None = "none",
    Minor = "minor",
    Major = "major",
    Critical = "critical",
});

word_enum!(
    /// Where the response stands (Statuspage's incident `status`).
    IncidentStatus, "status" {
    Investigating = "investigating",
    Identified = "identified",
    Monitoring = "monitoring",
    Resolved = "resolved",
    Postmortem = "postmortem",
});

impl IncidentStatus {
    pub fn is_resolved(self) -> bool {
        matches!(self, IncidentStatus::Resolved | IncidentStatus::Postmortem)
    }
}

word_enum!(
    /// A component's state on the status page.
    ComponentStatus, "status" {
    Operational = "operational",
    UnderMaintenance = "under_maintenance",
    DegradedPerformance = "degraded_performance",
    PartialOutage = "partial_outage",
    MajorOutage = "major_outage",
});

impl ComponentStatus {
    /// Larger is worse; maintenance ranks just above operational.
    pub fn rank(self) -> u8 {
        match self {
            ComponentStatus::Operational => 0,
            ComponentStatus::UnderMaintenance => 1,
            ComponentStatus::DegradedPerformance => 2,
            ComponentStatus::PartialOutage => 3,
            ComponentStatus::MajorOutage => 4,
        }
    }

    pub fn worst(self, other: Self) -> Self {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }
}

word_enum!(
    /// Where a scheduled maintenance stands.
    MaintenanceStatus, "status" {
    Scheduled = "scheduled",
    InProgress = "in_progress",
    Verifying = "verifying",
    Completed = "completed",
});

word_enum!(
    /// A seat on the incident response team.
    TeamRole, "team" {
    IncidentLead = "incident_lead",
    Security = "security",
    Cx = "cx",
    Communications = "communications",
    Legal = "legal",
});

/// The roles whose approval a SEV1 or SEV2 update needs, one of each.
pub const APPROVING_ROLES: &[&str] = &["communications", "legal"];

/// A short line of text: trimmed, 1 to `max` characters, no control characters.
pub fn parse_line(field: &'static str, s: &str, max: usize) -> Result<String, DomainError> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            format!("must be 1-{max} characters on one line"),
        ));
    }
    Ok(t.to_owned())
}

/// Free text such as an update's body: trimmed, 1 to `max` characters; line
/// breaks and tabs are kept, other control characters refused.
pub fn parse_text(field: &'static str, s: &str, max: usize) -> Result<String, DomainError> {
    let t = s.trim();
    let bad = t
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
    if t.is_empty() || t.chars().count() > max || bad {
        return Err(DomainError::invalid(
            field,
            format!("must be 1-{max} characters of text"),
        ));
    }
    Ok(t.replace("\r\n", "\n"))
}

/// Customer segments an incident touches: labels, no duplicates, 50 at most.
pub fn parse_segments(list: &[String]) -> Result<Vec<String>, DomainError> {
    if list.len() > 50 {
        return Err(DomainError::invalid("segments", "list 50 segments at most"));
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for s in list {
        let s = parse_label("segments", s)?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

/// A new incident, checked.
#[derive(Debug, Clone)]
pub struct NewIncident {
    pub title: String,
    pub severity: Severity,
    pub impact: Impact,
    pub status: IncidentStatus,
    pub components: Vec<String>,
    pub segments: Vec<String>,
    /// The response team: (seat, staff user id).
    pub team: Vec<(TeamRole, String)>,
    /// A playbook (slug or id) whose checklist the incident starts with.
    pub playbook: Option<String>,
    /// A signal (`sig_...`) the incident is declared from.
    pub signal: Option<String>,
    /// Minutes between public updates, if not the severity's default.
    pub update_every_minutes: Option<i64>,
}

/// A change to an incident, checked; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct IncidentChange {
    pub title: Option<String>,
    pub severity: Option<Severity>,
    pub impact: Option<Impact>,
    pub status: Option<IncidentStatus>,
    pub components: Option<Vec<String>>,
    pub segments: Option<Vec<String>>,
    /// The whole team, replacing the old one: (seat, staff user id).
    pub team: Option<Vec<(TeamRole, String)>>,
    /// Minutes between public updates; 0 returns to the severity's default.
    pub update_every_minutes: Option<i64>,
}

impl IncidentChange {
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.severity.is_none()
            && self.impact.is_none()
            && self.status.is_none()
            && self.components.is_none()
            && self.segments.is_none()
            && self.team.is_none()
            && self.update_every_minutes.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_parse_case_insensitively_and_errors_name_the_field() {
        assert_eq!(Severity::parse("sev1").unwrap(), Severity::Sev1);
        assert_eq!(
            ComponentStatus::parse("major_outage").unwrap(),
            ComponentStatus::MajorOutage
        );
        let e = Impact::parse("apocalyptic").unwrap_err();
        assert!(e.to_string().starts_with("impact:"), "{e}");
        assert!(!e.to_string().contains("apocalyptic"));
        assert!(Severity::Sev2.needs_approval() && !Severity::Sev3.needs_approval());
        assert_eq!(
            ComponentStatus::DegradedPerformance.worst(ComponentStatus::UnderMaintenance),
            ComponentStatus::DegradedPerformance
        );
    }

    #[test]
    fn text_is_bounded_and_clean() {
        assert!(parse_line("title", "  ", 10).is_err());
        assert!(parse_line("title", "a\nb", 10).is_err());
        assert_eq!(
            parse_line("title", " Login down ", 20).unwrap(),
            "Login down"
        );
        assert_eq!(parse_text("body", "a\r\nb", 10).unwrap(), "a\nb");
        assert!(parse_text("body", "a\u{7}b", 10).is_err());
        assert_eq!(
            parse_segments(&["eu".into(), "eu".into(), "enterprise".into()]).unwrap(),
            vec!["eu", "enterprise"]
        );
    }
}
