//! Privacy: sealing keys and sealed data, retention, data requests.

pub mod keys;

pub use keys::{KeyRing, SealError, SubjectKey};
