//! Parsed, validated values. Each is built once at the edge, so the rest of
//! the code never sees an unchecked email, password, plan or name.

mod access_event;
mod email;
mod expiry;
mod names;
mod network;
mod password;
mod plan;
mod role;
mod scopes;

pub use access_event::{AccessEvent, ActiveKey, ActiveKeys, ScopeSetId, ScopeSets};
pub use email::Email;
pub use expiry::Expiry;
pub use names::{CompanyName, KeyName};
pub use network::{Cidr, TrustedProxies};
pub use password::Password;
pub use plan::Plan;
pub use role::Role;
pub use scopes::{is_scope_token, KeyScopes};

/// Why a value was refused; the message is safe to show to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// A refused field of a request body: `attr` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub attr: &'static str,
    pub detail: String,
}

impl FieldError {
    pub fn new(attr: &'static str, detail: impl Into<String>) -> Self {
        FieldError {
            attr,
            detail: detail.into(),
        }
    }
}
