use super::ParseError;
use crate::settings::Settings;

/// The name of a plan that exists in `plans.<name>` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan(String);

impl Plan {
    pub fn parse(raw: &str, settings: &Settings) -> Result<Self, ParseError> {
        let name = raw.trim();
        if settings.plan(name).is_none() {
            let mut known: Vec<&str> = settings.plans.keys().map(String::as_str).collect();
            known.sort_unstable();
            return Err(ParseError(format!(
                "Unknown plan {name:?}; expected one of: {}.",
                known.join(", ")
            )));
        }
        Ok(Plan(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
