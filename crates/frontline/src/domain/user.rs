//! Staff accounts.

use std::fmt;

use super::DomainError;

/// A staff member's sign-in address. Personal data: `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        let valid = s.len() <= 254
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.is_empty()
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !s.chars().any(|c| c.is_whitespace() || c.is_control())
                    && domain.matches('@').count() == 0
            });
        if valid {
            Ok(Self(s.to_lowercase()))
        } else {
            Err(DomainError::invalid("email", "not an email address"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// `a***@example.com`, for people allowed to know that an address exists.
    pub fn masked(&self) -> String {
        mask_email(&self.0)
    }
}

pub fn mask_email(s: &str) -> String {
    match s.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.masked())
    }
}

/// A new password: long enough to resist guessing.
pub struct Password(String);

impl Password {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if s.chars().count() < 12 {
            return Err(DomainError::invalid(
                "password",
                "must be at least 12 characters",
            ));
        }
        if s.len() > 1024 {
            return Err(DomainError::invalid(
                "password",
                "must be at most 1024 bytes",
            ));
        }
        Ok(Self(s.to_owned()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A display name, 1 to 100 characters.
pub fn parse_name(s: &str) -> Result<String, DomainError> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > 100 || s.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "name",
            "must be 1-100 printable characters",
        ));
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_hidden_from_debug() {
        let e = Email::parse(" Ana@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "ana@example.com");
        assert_eq!(format!("{e:?}"), "Email(a***@example.com)");
        assert!(Email::parse("not-an-address").is_err());
        assert!(Email::parse("a@b@c").is_err());
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("correct horse battery").is_ok());
    }
}
