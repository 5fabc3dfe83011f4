//! Request bodies are never decompressed: a small gzip body can inflate to
//! many times the body limit before the limit is applied. A request whose
//! `Content-Encoding` is anything but `identity` gets 415 before its body is
//! read. (latchkey never compresses its responses either.) Forward auth is
//! the exception: it reads no body, and a gateway hands it the headers of a
//! request whose body is for the service behind the gateway.

use actix_web::dev::ServiceRequest;
use actix_web::http::header::{HeaderMap, CONTENT_ENCODING};

use super::forward_auth;

/// The request's body is encoded, and this path reads bodies.
pub fn body_is_encoded(req: &ServiceRequest) -> bool {
    !is_identity(req.headers()) && !forward_auth::is_verify_path(req.path())
}

/// No `Content-Encoding`, or only `identity` in every copy of it.
fn is_identity(headers: &HeaderMap) -> bool {
    headers.get_all(CONTENT_ENCODING).all(|value| {
        value
            .as_bytes()
            .split(|b| *b == b',')
            .all(|coding| coding.trim_ascii().eq_ignore_ascii_case(b"identity"))
    })
}
