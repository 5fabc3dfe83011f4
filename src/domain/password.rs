use std::collections::HashSet;
use std::sync::LazyLock;

use secrecy::{ExposeSecret, SecretString};

use super::ParseError;

const MIN_CHARS: usize = 8;
const MAX_CHARS: usize = 128;

static COMMON_PASSWORDS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    include_str!("common_passwords.txt")
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_lowercase)
        .collect()
});

/// A new password that meets the policy: 8–128 characters, not a common one.
pub struct Password(SecretString);

impl Password {
    /// The fewest characters a password may have.
    pub const MIN_CHARS: usize = MIN_CHARS;

    pub fn parse(raw: SecretString) -> Result<Self, ParseError> {
        let chars = raw.expose_secret().chars().count();
        if chars < MIN_CHARS {
            return Err(ParseError(format!(
                "The password must have at least {MIN_CHARS} characters."
            )));
        }
        if chars > MAX_CHARS {
            return Err(ParseError(format!(
                "The password must have at most {MAX_CHARS} characters."
            )));
        }
        if COMMON_PASSWORDS.contains(&raw.expose_secret().to_lowercase()) {
            return Err(ParseError("This password is too common.".to_owned()));
        }
        Ok(Password(raw))
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Password, ParseError> {
        Password::parse(SecretString::from(s.to_owned()))
    }

    #[test]
    fn enforces_length_and_commonness() {
        assert!(parse("short").is_err());
        assert!(parse(&"x".repeat(129)).is_err());
        assert!(parse(&"x".repeat(128)).is_ok());
        assert!(parse("baseball").is_err());
        assert!(parse("BaseBall").is_err());
        assert!(parse("correct horse battery").is_ok());
    }

    #[test]
    fn ships_about_a_thousand_common_passwords() {
        assert!(COMMON_PASSWORDS.len() >= 990);
    }
}
