//! RFC 7662 introspection, for service clients. Memory only: no database
//! query on this path.

use std::sync::Arc;

use super::authenticate::{TokenAuthenticator, TokenRejection};
use crate::access::AccessState;
use crate::error::ApiError;
use crate::monitoring::Outcomes;
use crate::tokens::Claims;

#[derive(Clone)]
pub struct Introspection {
    access: Arc<AccessState>,
    authenticator: TokenAuthenticator,
    outcomes: Outcomes,
}

impl Introspection {
    pub fn new(
        access: Arc<AccessState>,
        authenticator: TokenAuthenticator,
        outcomes: Outcomes,
    ) -> Self {
        Introspection {
            access,
            authenticator,
            outcomes,
        }
    }

    /// The caller must be a service client; checked before its body is read.
    pub fn authenticate_client(&self, client_id: &str, secret: &str) -> Result<(), ApiError> {
        if self.access.client_matches(client_id, secret) {
            Ok(())
        } else {
            self.outcomes.denied.increment(1);
            Err(ApiError::InvalidClient)
        }
    }

    /// The token's claims if it is active; None for anything else, which
    /// the caller may not tell apart. A stale access state is a 503.
    pub fn introspect(&self, token: &str) -> Result<Option<Arc<Claims>>, ApiError> {
        let outcomes = &self.outcomes;
        match self.authenticator.authenticate(token) {
            Ok(claims) => {
                outcomes.active.increment(1);
                Ok(Some(claims))
            }
            Err(TokenRejection::Invalid) => {
                outcomes.inactive.increment(1);
                Ok(None)
            }
            Err(TokenRejection::Stale) => {
                outcomes.stale.increment(1);
                Err(ApiError::stale_access_state())
            }
        }
    }
}
