//! The use cases. Each is a struct built from the narrow pieces it needs;
//! `http`, `web` and `cli` call these and nothing below them for writes.

pub mod access;
pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod authenticate;
pub mod clients;
pub mod events;
pub mod introspection;
pub mod monitoring;
pub mod operators;
pub mod readiness;
pub mod revocation;
pub mod sessions;
pub mod signing_keys;

use uuid::Uuid;

use crate::store::audit::{Actor, AuditEntry};

pub use access::ForwardAuth;
pub use accounts::Accounts;
pub use api_keys::{ApiKeyAdmin, ApiKeys, KeyView};
pub use audit::AuditLog;
pub use authenticate::{TokenAuthenticator, TokenRejection};
pub use clients::ServiceClients;
pub use events::EventSink;
pub use introspection::Introspection;
pub use monitoring::Monitoring;
pub use operators::Operators;
pub use readiness::Readiness;
pub use revocation::TokenRevocation;
pub use sessions::Sessions;
pub use signing_keys::SigningKeys;

/// Where a request came from, for the audit log.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Origin {
    /// The client's address, for per-client limits.
    pub fn client_ip(&self) -> Option<std::net::IpAddr> {
        self.ip.as_deref().and_then(|ip| ip.parse().ok())
    }

    /// `name` acting from here.
    pub fn actor(self, name: String) -> Actor {
        Actor {
            name,
            ip: self.ip,
            user_agent: self.user_agent,
        }
    }

    /// The audit row of a successful `action` by `actor` on `target`.
    pub fn audit(
        self,
        actor: String,
        action: &'static str,
        company_id: Option<Uuid>,
        target: Uuid,
    ) -> AuditEntry {
        AuditEntry {
            actor,
            company_id,
            action,
            target: Some(target.to_string()),
            ip: self.ip,
            user_agent: self.user_agent,
            outcome: "success",
            details: None,
        }
    }
}

impl From<crate::throttle::RetryAfter> for crate::error::ApiError {
    fn from(crate::throttle::RetryAfter(seconds): crate::throttle::RetryAfter) -> Self {
        crate::error::ApiError::Throttled {
            retry_after_seconds: seconds,
        }
    }
}
