//! Gives every request an id, echoed in `X-Request-Id` and carried by every
//! log line of the request, with the client's address (`ClientIp`, behind
//! trusted proxies the forwarded one). Logs the route pattern, never the raw
//! path or query, which could carry a token; the same route pattern and
//! status label the request metrics.

use std::net::IpAddr;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};
use tracing::Instrument;
use uuid::Uuid;

use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
        .map_or_else(|| Uuid::now_v7().to_string(), str::to_owned);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let client_ip = client_ip(&req, state.as_ref().map(|s| s.get_ref()));
    if let Some(ip) = client_ip {
        req.extensions_mut().insert(ClientIp(ip));
    }
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        client_ip = client_ip.map(tracing::field::display),
    );
    let started = Instant::now();
    let mut response = next.call(req).instrument(span.clone()).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = response.status().as_u16();
    let latency = started.elapsed();
    span.in_scope(|| {
        tracing::info!(
            route = %route,
            status,
            latency_us = latency.as_micros() as u64,
            "request completed"
        );
    });
    // With `metrics.enabled` false nothing can read them: no per-request
    // handle lookup or histogram sample either.
    if let Some(state) = state.filter(|s| s.settings.metrics.enabled) {
        state.metrics.record_request(route, status, latency);
    }
    Ok(response)
}

/// The client's address, as worked out once per request.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

fn client_ip(req: &ServiceRequest, state: Option<&AppState>) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let Some(state) = state else {
        return Some(peer);
    };
    let headers = req.headers();
    let lines = |name| {
        headers
            .get_all(name)
            .filter_map(|value: &header::HeaderValue| value.to_str().ok())
    };
    Some(state.trusted_proxies.client_ip(
        peer,
        lines(header::FORWARDED),
        lines(header::HeaderName::from_static("x-forwarded-for")),
    ))
}
