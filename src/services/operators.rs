//! Who may use the admin and provisioning API: platform admins holding a
//! login token, and (for provisioning) service clients granted it. The one
//! place these rules live; the extractors in `http` ask here.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;

use super::Origin;
use crate::access::AccessState;
use crate::error::ApiError;
use crate::store::audit::{Actor, AuditEntry};
use crate::store::Store;
use crate::tokens::{Claims, TokenKind};
use crate::Result;

const ADMINS_ONLY: &str = "Only a platform admin's login token may do this.";
const NOT_PROVISIONING: &str = "This client has not been granted provisioning.";
/// A caller refused again within this long is not audited again: any valid
/// token could otherwise write audit rows as fast as it can send requests.
const DENIAL_AUDIT_EVERY: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct Operators {
    store: Store,
    access: Arc<AccessState>,
    /// Callers refused lately (by actor name): their next refusals within
    /// `DENIAL_AUDIT_EVERY` are counted in the log only.
    recently_denied: Cache<String, ()>,
}

impl Operators {
    pub fn new(store: Store, access: Arc<AccessState>) -> Self {
        let recently_denied = Cache::builder()
            .max_capacity(10_000)
            .time_to_live(DENIAL_AUDIT_EVERY)
            .build();
        Operators {
            store,
            access,
            recently_denied,
        }
    }

    /// The answer to anyone who is not an admin holding a login token.
    pub fn admins_only() -> ApiError {
        ApiError::PermissionDenied(ADMINS_ONLY)
    }

    /// The caller (already authenticated) as an admin: a login token of a
    /// user with `is_admin`. API keys and everyone else: `permission_denied`.
    /// `request` (method and path) is what the audit row of a refusal names.
    pub async fn admin(&self, claims: &Claims, origin: Origin, request: &str) -> Result<Actor> {
        let actor = origin.actor(claims.sub.to_string());
        if claims.kind != TokenKind::ShortLived {
            return self.refuse(actor, request, ADMINS_ONLY).await;
        }
        let user = self.store.find_user(claims.sub).await?;
        match user {
            Some(user) if user.is_admin && user.disabled_at.is_none() => Ok(actor),
            _ => self.refuse(actor, request, ADMINS_ONLY).await,
        }
    }

    /// A service client that may provision: wrong credentials are
    /// `invalid_client`; a client without the grant is `permission_denied`.
    pub async fn provisioning_client(
        &self,
        client_id: &str,
        secret: &str,
        origin: Origin,
        request: &str,
    ) -> Result<Actor> {
        if !self.access.client_matches(client_id, secret) {
            return Err(ApiError::InvalidClient);
        }
        let actor = origin.actor(format!("client:{client_id}"));
        let client = self.store.find_active_service_client(client_id).await?;
        match client {
            Some(client) if client.provisioning => Ok(actor),
            _ => self.refuse(actor, request, NOT_PROVISIONING).await,
        }
    }

    /// Refuses an authenticated caller, and audits it: once per caller per
    /// `DENIAL_AUDIT_EVERY`. (An unauthenticated one is refused before
    /// this, unaudited: it cannot make us write.)
    async fn refuse(&self, actor: Actor, request: &str, why: &'static str) -> Result<Actor> {
        let first = self
            .recently_denied
            .entry(actor.name.clone())
            .or_insert(())
            .is_fresh();
        if first {
            let entry = AuditEntry {
                outcome: "denied",
                ..actor.entry("operator_api.denied", None, request)
            };
            self.store.record_audit(entry).await?;
        } else {
            tracing::info!(actor = %actor.name, request, "operator API refused again; not audited again");
        }
        Err(ApiError::PermissionDenied(why))
    }
}
