use super::ParseError;

const MAX_CHARS: usize = 100;

fn parse_name(raw: &str, what: &str) -> Result<String, ParseError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(ParseError(format!("The {what} must not be empty.")));
    }
    if name.chars().count() > MAX_CHARS {
        return Err(ParseError(format!(
            "The {what} must have at most {MAX_CHARS} characters."
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(ParseError(format!(
            "The {what} must not contain control characters."
        )));
    }
    Ok(name.to_owned())
}

/// A company's display name: trimmed, 1–100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyName(String);

impl CompanyName {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        parse_name(raw, "company name").map(CompanyName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An API key's name: trimmed, 1–100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyName(String);

impl KeyName {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        parse_name(raw, "name").map(KeyName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `other` names the same key to a reader: equal once both are
    /// trimmed and case-folded, so "CI deploy" and "ci deploy " clash.
    pub fn same_as(&self, other: &str) -> bool {
        self.0.to_lowercase() == other.trim().to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::KeyName;

    #[test]
    fn trims_and_bounds_names() {
        assert_eq!(
            KeyName::parse("  ci deploy ").unwrap().as_str(),
            "ci deploy"
        );
        assert!(KeyName::parse("   ").is_err());
        assert!(KeyName::parse(&"é".repeat(100)).is_ok());
        assert!(KeyName::parse(&"é".repeat(101)).is_err());
        assert!(KeyName::parse("bad\u{7}name").is_err());
    }

    #[test]
    fn names_clash_whatever_their_case() {
        let name = KeyName::parse("CI Deploy").unwrap();
        assert!(name.same_as("ci deploy"));
        assert!(name.same_as(" CI DEPLOY "));
        assert!(KeyName::parse("Überweisung")
            .unwrap()
            .same_as("überweisung"));
        assert!(!name.same_as("ci deploy 2"));
    }
}
