//! The scopes an API key is created with: a subset of the setting
//! `api_keys.scopes`, fixed for the key's life. No scopes means the key may
//! do whatever its creator may.

use serde_json::Value;

use super::FieldError;

const ATTR: &str = "scopes";

/// A key's scopes: `None` is unrestricted (the creator's full rights).
/// Kept in the order of the configured list, whatever order was asked for,
/// so the same set always reads the same.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyScopes(Option<Vec<String>>);

impl KeyScopes {
    pub fn unrestricted() -> KeyScopes {
        KeyScopes(None)
    }

    /// Reads the `scopes` field of a create request: absent or `null` is
    /// unrestricted; otherwise a non-empty array of distinct strings, each
    /// one of `allowed`.
    pub fn from_request(
        value: Option<&Value>,
        allowed: &[String],
    ) -> Result<KeyScopes, FieldError> {
        let items = match value {
            None | Some(Value::Null) => return Ok(KeyScopes(None)),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(FieldError::new(ATTR, "Scopes must be a list of strings.")),
        };
        if items.is_empty() {
            return Err(FieldError::new(
                ATTR,
                "Give at least one scope, or leave scopes out for a key with its creator's full rights.",
            ));
        }
        let mut wanted: Vec<&str> = Vec::with_capacity(items.len());
        for item in items {
            let Value::String(scope) = item else {
                return Err(FieldError::new(ATTR, "Scopes must be a list of strings."));
            };
            if !allowed.iter().any(|a| a == scope) {
                return Err(FieldError::new(
                    ATTR,
                    format!(
                        "Unknown scope {}; the allowed scopes are: {}.",
                        quoted(scope),
                        allowed.join(", ")
                    ),
                ));
            }
            if wanted.contains(&scope.as_str()) {
                return Err(FieldError::new(
                    ATTR,
                    format!("Scope {} is given twice.", quoted(scope)),
                ));
            }
            wanted.push(scope);
        }
        let ordered = allowed
            .iter()
            .filter(|a| wanted.contains(&a.as_str()))
            .cloned()
            .collect();
        Ok(KeyScopes(Some(ordered)))
    }

    /// Reads the stored column (or a `scope` claim): space-separated; `None`
    /// is unrestricted.
    pub fn from_stored(stored: Option<&str>) -> KeyScopes {
        KeyScopes(stored.map(|s| s.split(' ').map(str::to_owned).collect()))
    }

    /// The stored and signed form: space-separated (RFC 8693 `scope`), or
    /// `None` when unrestricted.
    pub fn to_claim(&self) -> Option<String> {
        self.0.as_ref().map(|scopes| scopes.join(" "))
    }

    /// The granted scopes; `None` when unrestricted.
    pub fn as_slice(&self) -> Option<&[String]> {
        self.0.as_deref()
    }
}

/// A requested scope echoed back in an error: JSON-quoted, so control
/// characters or quotes in it cannot garble the message.
fn quoted(scope: &str) -> String {
    let shown: String = scope.chars().take(64).collect();
    Value::String(shown).to_string()
}

/// Whether `scope` may be listed in `api_keys.scopes`: one RFC 6749 §3.3
/// scope token (printable ASCII without space, `"` or `\`), at most 64 bytes.
pub fn is_scope_token(scope: &str) -> bool {
    !scope.is_empty()
        && scope.len() <= 64
        && scope
            .bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{is_scope_token, KeyScopes};

    fn allowed() -> Vec<String> {
        vec!["datasets:read".to_owned(), "datasets:write".to_owned()]
    }

    #[test]
    fn absent_or_null_scopes_are_unrestricted() {
        assert_eq!(
            KeyScopes::from_request(None, &allowed()).unwrap(),
            KeyScopes::unrestricted()
        );
        let null = json!(null);
        let scopes = KeyScopes::from_request(Some(&null), &allowed()).unwrap();
        assert_eq!(scopes.to_claim(), None);
    }

    #[test]
    fn scopes_follow_the_configured_order() {
        let asked = json!(["datasets:write", "datasets:read"]);
        let scopes = KeyScopes::from_request(Some(&asked), &allowed()).unwrap();
        assert_eq!(
            scopes.to_claim().as_deref(),
            Some("datasets:read datasets:write")
        );
        assert_eq!(KeyScopes::from_stored(scopes.to_claim().as_deref()), scopes);
    }

    #[test]
    fn bad_scopes_are_refused_on_the_scopes_field() {
        for bad in [
            json!([]),
            json!(["datasets:admin"]),
            json!(["datasets:read", "datasets:read"]),
            json!([""]),
            json!(["datasets:read datasets:write"]),
            json!("datasets:read"),
            json!([1]),
            json!([null]),
            json!({"datasets:read": true}),
            json!(true),
        ] {
            let error = KeyScopes::from_request(Some(&bad), &allowed()).unwrap_err();
            assert_eq!(error.attr, "scopes", "{bad}");
        }
    }

    #[test]
    fn scope_tokens_are_printable_ascii_without_space_quote_or_backslash() {
        assert!(is_scope_token("datasets:read"));
        for bad in ["", "a b", "a\"b", "a\\b", "é", "a\n", &"x".repeat(65)] {
            assert!(!is_scope_token(bad), "{bad:?}");
        }
    }
}
