//! Gives every request an id, echoed in `X-Request-Id` and carried by every
//! log line of the request, with the client's address (`ClientIp`, behind
//! trusted proxies the forwarded one). Logs the route pattern, never the raw
//! path or query, which could carry a token; the same route pattern and
//! status label the request metrics. Run by `middleware::every_request`.

use std::net::IpAddr;
use std::time::Instant;

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::HttpMessage;
use tracing::Span;
use uuid::Uuid;

use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// One request as seen from its start: its id, its span, when it began.
pub struct RequestRecord {
    id: String,
    span: Span,
    started: Instant,
}

impl RequestRecord {
    /// Reads the caller's `X-Request-Id` (a safe one) or makes one, and
    /// works out the client's address, stored as `ClientIp`.
    pub fn begin(req: &ServiceRequest, state: Option<&AppState>) -> RequestRecord {
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
        let client_ip = client_ip(req, state);
        if let Some(ip) = client_ip {
            req.extensions_mut().insert(ClientIp(ip));
        }
        let span = tracing::info_span!(
            "request",
            request_id = %id,
            method = %req.method(),
            client_ip = client_ip.map(tracing::field::display),
        );
        RequestRecord {
            id,
            span,
            started: Instant::now(),
        }
    }

    /// The span the request's own log lines belong to.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Echoes the id, logs the request and records its metrics.
    pub fn finish<B>(self, response: &mut ServiceResponse<B>, state: Option<&AppState>) {
        if let Ok(value) = HeaderValue::from_str(&self.id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        let status = response.status().as_u16();
        let latency = self.started.elapsed();
        self.span.in_scope(|| {
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
    }
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
