//! `GET /metrics`: the Prometheus text format.

use actix_web::{web, HttpResponse};

use crate::state::AppState;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Served on the main port, or only on `metrics.port` when that is set;
/// absent when `metrics.enabled` is false.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Every metric, in the Prometheus text format (0.0.4)",
        content_type = "text/plain", body = String)))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let body = state.monitoring.scrape().await;
    HttpResponse::Ok().content_type(CONTENT_TYPE).body(body)
}
