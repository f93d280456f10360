//! Access by role over data classes: a grant is (data class, action).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::DomainError;

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident, $err:ident { $($variant:ident = $text:literal : $doc:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $(#[doc = $doc] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub const fn describe(self) -> &'static str {
                match self { $($name::$variant => $doc),+ }
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($text => Ok($name::$variant),)+ other => Err(DomainError::$err(other.to_owned())) }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

string_enum!(
    /// What kind of data a record holds; access is granted per class.
    DataClass, UnknownClass {
    Feedback = "feedback": "redacted feedback text and scores",
    Contact = "contact": "who sent something: names, email addresses, phone numbers",
    RawText = "raw_text": "unredacted original text (sealed, off by default)",
    Tickets = "tickets": "support tickets and replies",
    Incidents = "incidents": "incidents, their team, checklist and timeline",
    SecurityAlerts = "security_alerts": "alerts from the security team's tools",
    Notices = "notices": "customer notices and status page updates",
    Subscribers = "subscribers": "status page subscribers and affected-customer lists",
    Reports = "reports": "aggregates only: scorecards and counts",
    Settings = "settings": "users, roles, tokens and configuration",
    Audit = "audit": "the audit trail",
});

string_enum!(
    /// What one may do with a data class.
    Action, UnknownAction {
    View = "view": "read",
    Modify = "modify": "change existing records",
    Store = "store": "create new records",
    Delete = "delete": "delete records",
});

/// A permission: one action on one data class, written `class:action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Grant {
    pub class: DataClass,
    pub action: Action,
}

impl Grant {
    pub const fn new(class: DataClass, action: Action) -> Self {
        Self { class, action }
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.class, self.action)
    }
}

impl FromStr for Grant {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (class, action) = s
            .split_once(':')
            .ok_or_else(|| DomainError::invalid("grants", format!("{s:?} is not class:action")))?;
        Ok(Self::new(class.parse()?, action.parse()?))
    }
}

impl Serialize for Grant {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Grant {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A role name: lowercase letters, digits and underscores, 2 to 40 long.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RoleName(String);

impl RoleName {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let ok = (2..=40).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(DomainError::invalid(
                "name",
                "a role name is 2-40 lowercase letters, digits or underscores, starting with a letter",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A built-in role: its name, what it is for, and its grants.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinRole {
    pub name: &'static str,
    pub description: &'static str,
    grants: &'static [(DataClass, &'static [Action])],
}

impl BuiltinRole {
    pub fn grants(&self) -> BTreeSet<Grant> {
        self.grants
            .iter()
            .flat_map(|(c, acts)| acts.iter().map(|a| Grant::new(*c, *a)))
            .collect()
    }
}

use Action::{Delete as D, Modify as M, Store as S, View as V};
use DataClass::*;

const ALL: &[Action] = &[V, M, S, D];

/// The roles every installation has. Admins can add their own.
pub const BUILTIN_ROLES: &[BuiltinRole] = &[
    BuiltinRole {
        name: "admin",
        description: "everything, including users, roles, tokens and the audit trail",
        grants: &[
            (Feedback, ALL),
            (Contact, ALL),
            (RawText, ALL),
            (Tickets, ALL),
            (Incidents, ALL),
            (SecurityAlerts, ALL),
            (Notices, ALL),
            (Subscribers, ALL),
            (Reports, ALL),
            (Settings, ALL),
            (Audit, &[V]),
        ],
    },
    BuiltinRole {
        name: "security_analyst",
        description: "investigates signals and alerts; sees feedback, not who sent it",
        grants: &[
            (Feedback, &[V, M]),
            (Tickets, &[V]),
            (Incidents, &[V, M, S]),
            (SecurityAlerts, &[V, M, S, D]),
            (Notices, &[V]),
            (Reports, &[V]),
        ],
    },
    BuiltinRole {
        name: "cx_agent",
        description: "answers customers: feedback, tickets and the contacts behind them",
        grants: &[
            (Feedback, &[V, M, S]),
            (Contact, &[V]),
            (Tickets, &[V, M, S]),
            (Incidents, &[V]),
            (Notices, &[V]),
            (Subscribers, &[V]),
            (Reports, &[V]),
        ],
    },
    BuiltinRole {
        name: "communications",
        description: "writes and publishes notices, manages subscribers",
        grants: &[
            (Feedback, &[V]),
            (Incidents, &[V, M]),
            (Notices, &[V, M, S]),
            (Subscribers, &[V, M, S]),
            (Reports, &[V]),
        ],
    },
    BuiltinRole {
        name: "legal",
        description: "assesses incidents and approves notices; may see contacts",
        grants: &[
            (Feedback, &[V]),
            (Contact, &[V]),
            (Incidents, &[V, M]),
            (Notices, &[V, M]),
            (Reports, &[V]),
        ],
    },
    BuiltinRole {
        name: "analyst",
        description: "aggregates only, no personal data",
        grants: &[(Reports, &[V])],
    },
    BuiltinRole {
        name: "viewer",
        description: "read-only view of incidents, notices and aggregates",
        grants: &[(Incidents, &[V]), (Notices, &[V]), (Reports, &[V])],
    },
];

pub fn builtin_role(name: &str) -> Option<&'static BuiltinRole> {
    BUILTIN_ROLES.iter().find(|r| r.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_round_trip_and_reject_unknowns() {
        let g: Grant = "contact:view".parse().unwrap();
        assert_eq!(g, Grant::new(DataClass::Contact, Action::View));
        assert_eq!(g.to_string(), "contact:view");
        assert_eq!(
            "nope:view".parse::<Grant>().unwrap_err(),
            DomainError::UnknownClass("nope".into())
        );
        assert_eq!(
            "feedback:peek".parse::<Grant>().unwrap_err(),
            DomainError::UnknownAction("peek".into())
        );
    }

    #[test]
    fn analyst_sees_no_personal_data() {
        let g = builtin_role("analyst").unwrap().grants();
        assert!(g.iter().all(|g| g.class == DataClass::Reports));
    }

    #[test]
    fn role_names_are_checked() {
        assert!(RoleName::parse("incident_scribe").is_ok());
        assert!(RoleName::parse("Bad Name").is_err());
        assert!(RoleName::parse("x").is_err());
    }
}
