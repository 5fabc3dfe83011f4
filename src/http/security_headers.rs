//! The security headers every response carries, API and pages alike, set in
//! one place. A header a handler or scope already chose is kept: the pages
//! set their own, stricter-for-them CSP, the JWKS and assets their own
//! caching.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;

/// JSON is never a document: nothing may load from it or frame it.
pub const API_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

const DEFAULTS: [(HeaderName, &str); 5] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::CONTENT_SECURITY_POLICY, API_CONTENT_SECURITY_POLICY),
    (header::X_FRAME_OPTIONS, "DENY"),
    // Answers that may be cached say so themselves (JWKS, assets); anything
    // else may carry a token, a key or a secret, so no cache keeps it.
    (header::CACHE_CONTROL, "no-store"),
];

pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    for (name, value) in DEFAULTS {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    Ok(response)
}
