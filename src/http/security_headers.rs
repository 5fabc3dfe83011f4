//! The security headers every response carries, API and pages alike, set in
//! one place. A header a handler or scope already chose is kept: the pages
//! set their own, stricter-for-them CSP, the JWKS and assets their own
//! caching.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;

/// JSON is never a document: nothing may load from it or frame it.
pub const API_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

const DEFAULTS: [(HeaderName, HeaderValue); 5] = [
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ),
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(API_CONTENT_SECURITY_POLICY),
    ),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    // Answers that may be cached say so themselves (JWKS, assets); anything
    // else may carry a token, a key or a secret, so no cache keeps it.
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
];

/// Adds each default the response does not already carry.
pub fn apply(headers: &mut HeaderMap) {
    for (name, value) in DEFAULTS {
        if !headers.contains_key(&name) {
            headers.insert(name, value);
        }
    }
}

/// `apply` as a middleware of its own, for the metrics server; the main
/// server runs it from `middleware::every_request`.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(req).await?;
    apply(response.headers_mut());
    Ok(response)
}
