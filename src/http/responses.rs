//! Response helpers shared by the handlers.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, HttpResponseBuilder};

/// A response no cache may keep: every answer that carries or describes a
/// token (RFC 6749 §5.1, RFC 7662, RFC 7009).
pub fn no_store(status: StatusCode) -> HttpResponseBuilder {
    let mut response = HttpResponse::build(status);
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    response
}
