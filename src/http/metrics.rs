//! `GET /metrics`: the Prometheus text format.

use actix_web::{web, HttpResponse};

use crate::state::AppState;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let body = state.monitoring.scrape().await;
    HttpResponse::Ok().content_type(CONTENT_TYPE).body(body)
}
