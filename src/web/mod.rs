//! The browser pages: askama templates filled from plain view models, and
//! the stylesheet, script and icon they use, embedded in the binary.
//!
//! Pages are plain server-rendered forms; the script only enhances them
//! (modal dialogs, menus, copy buttons), so every flow also works without it.

pub mod assets;
pub mod paths;
pub mod views;

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::HttpResponse;
use askama::Template;

use crate::error::ApiError;

/// No inline script or style anywhere: everything comes from `assets`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'";

/// The headers every page and asset carries.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
}

/// A rendered page, `200 OK`; the caller adjusts status and caching.
pub fn html(page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(e) => ApiError::Unexpected(e.into()).into_response(),
    }
}
