//! Types that can only be built valid.

pub mod access;
pub mod calendar;
pub mod feedback;
pub mod id;
pub mod incident;
pub mod response;
pub mod survey;
pub mod ticket;
pub mod user;

pub use access::{Action, DataClass, Grant, RoleName};
pub use id::Id;

/// A value from outside that does not fit the domain: which field, and why.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum DomainError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("unknown data class {0:?}")]
    UnknownClass(String),
    #[error("unknown action {0:?}")]
    UnknownAction(String),
    #[error("unknown role {0:?}")]
    UnknownRole(String),
}

impl DomainError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
