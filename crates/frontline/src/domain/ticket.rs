//! Support tickets: states and the moves allowed between them, priorities.

use std::fmt;

use serde::Serialize;

use super::DomainError;

macro_rules! ticket_enum {
    ($(#[$m:meta])* $name:ident, $field:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Result<Self, DomainError> {
                Self::from_db(s.trim()).ok_or_else(|| DomainError::invalid($field, format!(
                    "must be one of {}", [$($text),+].join(", ")
                )))
            }
            pub fn from_db(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

ticket_enum!(
    /// Where a ticket stands.
    TicketStatus, "status" {
        New = "new",
        Open = "open",
        Pending = "pending",
        OnHold = "on_hold",
        Solved = "solved",
        Closed = "closed",
        Reopened = "reopened",
    }
);

ticket_enum!(
    /// How urgent a ticket is.
    Priority, "priority" {
        Low = "low",
        Normal = "normal",
        High = "high",
        Urgent = "urgent",
    }
);

impl TicketStatus {
    /// The moves allowed. Closed is final (a customer writing again opens a
    /// new ticket); solved goes back only through reopened.
    pub fn can_become(self, to: TicketStatus) -> bool {
        use TicketStatus::*;
        match self {
            New | Open | Pending | OnHold | Reopened => {
                matches!(to, Open | Pending | OnHold | Solved) && to != self
            }
            Solved => matches!(to, Closed | Reopened),
            Closed => false,
        }
    }

    /// Still to be worked on: counts in the backlog.
    pub fn is_active(self) -> bool {
        !matches!(self, TicketStatus::Solved | TicketStatus::Closed)
    }

    /// The SLA clock runs in these states; pending (waiting on the
    /// customer) pauses it, solved and closed stop it.
    pub fn clock_runs(self) -> bool {
        self.is_active() && self != TicketStatus::Pending
    }

    /// The states to which `self` may move.
    pub fn next(self) -> Vec<TicketStatus> {
        Self::ALL
            .iter()
            .copied()
            .filter(|t| self.can_become(*t))
            .collect()
    }
}

/// A ticket's title: one line, 1-200 characters.
pub fn parse_title(s: &str) -> Result<String, DomainError> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > 200 || t.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "subject",
            "must be 1-200 characters on one line",
        ));
    }
    Ok(t.to_owned())
}

/// A reply or note: 1-10,000 characters.
pub fn parse_body(s: &str) -> Result<String, DomainError> {
    super::feedback::parse_text(s).map_err(|e| match e {
        DomainError::Invalid { reason, .. } => DomainError::Invalid {
            field: "body",
            reason,
        },
        e => e,
    })
}

#[cfg(test)]
mod tests {
    use super::TicketStatus::*;
    use super::*;

    #[test]
    fn transitions_follow_the_lifecycle() {
        assert!(New.can_become(Open));
        assert!(Open.can_become(Pending));
        assert!(Pending.can_become(Solved));
        assert!(Solved.can_become(Reopened));
        assert!(Solved.can_become(Closed));
        assert!(Reopened.can_become(Open));
        assert!(!New.can_become(Closed));
        assert!(!Open.can_become(Reopened));
        assert!(!Solved.can_become(Open));
        assert!(!Open.can_become(Open));
        for s in TicketStatus::ALL {
            assert!(!Closed.can_become(*s));
            assert!(!s.can_become(New));
        }
        assert!(!Pending.clock_runs());
        assert!(OnHold.clock_runs());
        assert!(!Solved.clock_runs());
        assert_eq!(Priority::parse("urgent").unwrap(), Priority::Urgent);
        assert!(Priority::parse("asap").is_err());
    }
}
