//! Who is asking: password hashing, principals, and login throttling.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::domain::{Action, DataClass, Grant};
use crate::storage::AuditRecord;

/// Hashes a password with argon2id (the crate's defaults: OWASP's minimum).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash password: {e}"))
}

/// Checks a password against a stored hash. A missing user is checked
/// against a dummy hash so that timing does not tell whether an account exists.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("not a real password").unwrap_or_default());
    let hash = stored.unwrap_or(dummy);
    let ok = PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false);
    ok && stored.is_some()
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    /// `usr_...` or `tok_...`: what the audit trail records.
    pub actor: String,
    /// A name to show in the dashboard (never an email address).
    pub display_name: String,
    pub role: String,
    pub grants: BTreeSet<Grant>,
    /// Set for dashboard sessions: mutations must echo it.
    pub csrf: Option<String>,
    pub address: Option<IpAddr>,
    /// The language the user chose for the dashboard, if any.
    pub preferred_language: Option<&'static str>,
    /// The language pages are shown in: the choice, else the browser's.
    pub language: &'static str,
}

impl Principal {
    pub fn can(&self, class: DataClass, action: Action) -> bool {
        self.grants.contains(&Grant::new(class, action))
    }

    /// An audit record for something this principal did.
    pub fn audit(&self, action: &str, class: DataClass, record: Option<String>) -> AuditRecord {
        AuditRecord {
            actor: self.actor.clone(),
            address: self.address.map(|a| a.to_string()),
            action: action.to_owned(),
            class,
            record,
            detail: serde_json::json!({}),
        }
    }
}

/// The command line acting on the database directly.
pub fn cli_actor(action: &str, class: DataClass, record: Option<String>) -> AuditRecord {
    AuditRecord {
        actor: "cli".into(),
        address: None,
        action: action.to_owned(),
        class,
        record,
        detail: serde_json::json!({}),
    }
}

/// Limits login attempts per account and per client address.
#[derive(Clone)]
pub struct LoginThrottle {
    per_account: Arc<DefaultKeyedRateLimiter<String>>,
    per_address: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl LoginThrottle {
    pub fn new(per_account_per_minute: u32, per_address_per_minute: u32) -> Self {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        Self {
            per_account: Arc::new(governor::RateLimiter::keyed(quota(per_account_per_minute))),
            per_address: Arc::new(governor::RateLimiter::keyed(quota(per_address_per_minute))),
        }
    }

    /// `Err(seconds to wait)` when either budget is spent.
    pub fn check(&self, account: &str, address: Option<IpAddr>) -> Result<(), u64> {
        use governor::clock::{Clock, DefaultClock};
        let clock = DefaultClock::default();
        let wait = |nu: governor::NotUntil<governor::clock::QuantaInstant>| {
            nu.wait_time_from(clock.now()).as_secs().max(1)
        };
        if let Some(addr) = address {
            self.per_address.check_key(&addr).map_err(wait)?;
        }
        self.per_account
            .check_key(&account.to_lowercase())
            .map_err(wait)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", Some(&h)));
        assert!(!verify_password("wrong horse battery", Some(&h)));
        assert!(!verify_password("correct horse battery", None));
    }

    #[test]
    fn throttle_stops_a_guesser() {
        let t = LoginThrottle::new(3, 100);
        for _ in 0..3 {
            assert!(t.check("a@b.c", None).is_ok());
        }
        assert!(t.check("A@b.c", None).is_err());
        assert!(t.check("other@b.c", None).is_ok());
    }
}
