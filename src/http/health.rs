//! Liveness and readiness.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::error::ApiError;
use crate::state::AppState;
use crate::Result;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when the database answers and the revocation state is fresh.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse> {
    if state.store.ping().await.is_err() {
        return Err(ApiError::ServiceUnavailable("The database is unreachable."));
    }
    if !state.revocation.is_fresh() {
        return Err(ApiError::ServiceUnavailable(
            "The revocation state is stale.",
        ));
    }
    Ok(HttpResponse::Ok().json(json!({
        "status": "ready",
        "revocation_staleness_ms": state.revocation.staleness_ms(),
    })))
}
