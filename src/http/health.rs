//! Liveness and readiness.

use actix_web::{web, HttpResponse};
use serde::Serialize;

use crate::error::ErrorBody;
use crate::state::AppState;
use crate::Result;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    #[schema(value_type = String, example = "ok")]
    status: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Ready {
    #[schema(value_type = String, example = "ready")]
    status: &'static str,
    /// How old the in-memory access state is.
    revocation_staleness_ms: i64,
}

#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is up", body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Ready when the database answers and the access state is fresh.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "The database answers and the access state is fresh", body = Ready),
        (status = 503, description = "`service_unavailable`", body = ErrorBody),
    ))]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse> {
    let staleness_ms = state.readiness.check().await?;
    Ok(HttpResponse::Ok().json(Ready {
        status: "ready",
        revocation_staleness_ms: staleness_ms,
    }))
}
