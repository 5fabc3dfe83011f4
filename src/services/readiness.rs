//! Readiness: the database answers and the access state is fresh.

use std::sync::Arc;

use crate::access::AccessState;
use crate::error::ApiError;
use crate::store::Store;

pub struct Readiness {
    store: Store,
    access: Arc<AccessState>,
}

impl Readiness {
    pub fn new(store: Store, access: Arc<AccessState>) -> Self {
        Readiness { store, access }
    }

    /// Ready: how long ago (ms) the access state last caught up.
    pub async fn check(&self) -> Result<i64, ApiError> {
        if self.store.ping().await.is_err() {
            return Err(ApiError::ServiceUnavailable("The database is unreachable."));
        }
        if !self.access.is_fresh() {
            return Err(ApiError::ServiceUnavailable(
                "The revocation state is stale.",
            ));
        }
        Ok(self.access.staleness_ms())
    }
}
