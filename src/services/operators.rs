//! Who may use the admin and provisioning API: platform admins holding a
//! login token, and (for provisioning) service clients granted it. The one
//! place these rules live; the extractors in `http` ask here.

use std::sync::Arc;

use super::Origin;
use crate::access::AccessState;
use crate::error::ApiError;
use crate::store::audit::Actor;
use crate::store::Store;
use crate::tokens::{Claims, TokenKind};
use crate::Result;

const ADMINS_ONLY: &str = "Only a platform admin's login token may do this.";
const NOT_PROVISIONING: &str = "This client has not been granted provisioning.";

#[derive(Clone)]
pub struct Operators {
    store: Store,
    access: Arc<AccessState>,
}

impl Operators {
    pub fn new(store: Store, access: Arc<AccessState>) -> Self {
        Operators { store, access }
    }

    /// The answer to anyone who is not an admin holding a login token.
    pub fn admins_only() -> ApiError {
        ApiError::PermissionDenied(ADMINS_ONLY)
    }

    /// The caller (already authenticated) as an admin: a login token of a
    /// user with `is_admin`. API keys and everyone else: `permission_denied`.
    pub async fn admin(&self, claims: &Claims, origin: Origin) -> Result<Actor> {
        if claims.kind != TokenKind::ShortLived {
            return Err(ApiError::PermissionDenied(ADMINS_ONLY));
        }
        let user = self.store.find_user(claims.sub).await?;
        match user {
            Some(user) if user.is_admin && user.disabled_at.is_none() => {
                Ok(origin.actor(user.id.to_string()))
            }
            _ => Err(ApiError::PermissionDenied(ADMINS_ONLY)),
        }
    }

    /// A service client that may provision: wrong credentials are
    /// `invalid_client`; a client without the grant is `permission_denied`.
    pub async fn provisioning_client(
        &self,
        client_id: &str,
        secret: &str,
        origin: Origin,
    ) -> Result<Actor> {
        if !self.access.client_matches(client_id, secret) {
            return Err(ApiError::InvalidClient);
        }
        let client = self.store.find_active_service_client(client_id).await?;
        match client {
            Some(client) if client.provisioning => Ok(origin.actor(format!("client:{client_id}"))),
            _ => Err(ApiError::PermissionDenied(NOT_PROVISIONING)),
        }
    }
}
