//! Liveness and readiness.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::state::AppState;
use crate::Result;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when the database answers and the access state is fresh.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse> {
    let staleness_ms = state.readiness.check().await?;
    Ok(HttpResponse::Ok().json(json!({
        "status": "ready",
        "revocation_staleness_ms": staleness_ms,
    })))
}
