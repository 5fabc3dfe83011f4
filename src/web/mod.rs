//! The browser pages: askama templates filled from plain view models, and
//! the stylesheet, script and icon they use, embedded in the binary.
//!
//! Pages are plain server-rendered forms; the script only enhances them
//! (modal dialogs, menus, copy buttons), so every flow also works without it.
//! Handlers call the same services as the JSON API. The session lives in
//! cookies no script can read (`cookies`, `session`); every form is
//! protected against cross-site forgery (`csrf`, `forms`).

mod api_keys;
pub mod assets;
pub mod cookies;
pub mod csrf;
mod error;
mod flash;
mod forms;
mod invitation;
mod keys_page;
pub mod paths;
mod session;
mod sign_in;
pub mod views;

use actix_web::http::{header, StatusCode};
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{web, HttpResponse, HttpResponseBuilder, Resource};
use askama::Template;

pub use error::PageError;

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
        .add((header::X_FRAME_OPTIONS, "DENY"))
}

/// `/` and everything under `/ui`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").route(web::get().to(sign_in::root)))
        .service(
            web::scope("/ui")
                .wrap(from_fn(session::set_renewed_cookies))
                .wrap(security_headers())
                .app_data(
                    web::PathConfig::default()
                        .error_handler(|_, _| PageError::Api(ApiError::NotFound).into()),
                )
                .service(page("").route(web::get().to(sign_in::home)))
                .service(
                    page("/login")
                        .route(web::get().to(sign_in::sign_in_page))
                        .route(web::post().to(sign_in::sign_in)),
                )
                .service(page("/logout").route(web::post().to(sign_in::sign_out)))
                .service(
                    page("/invitation")
                        .route(web::get().to(invitation::page))
                        .route(web::post().to(invitation::accept)),
                )
                .service(
                    page("/companies/{company_id}/api-keys")
                        .route(web::get().to(api_keys::list))
                        .route(web::post().to(api_keys::create)),
                )
                .service(
                    page("/companies/{company_id}/api-keys/new")
                        .route(web::get().to(api_keys::new)),
                )
                .service(
                    page("/companies/{company_id}/api-keys/{key_id}/delete")
                        .route(web::get().to(api_keys::confirm_delete))
                        .route(web::post().to(api_keys::delete)),
                )
                .service(page("/assets/{file}").route(web::get().to(assets::serve)))
                .default_service(web::to(|| async {
                    PageError::Api(ApiError::NotFound).into_response()
                })),
        );
}

/// A resource whose unknown methods get a page saying so.
fn page(path: &str) -> Resource {
    web::resource(path).default_service(web::to(|| async {
        PageError::Api(ApiError::MethodNotAllowed).into_response()
    }))
}

impl PageError {
    pub fn into_response(self) -> HttpResponse {
        actix_web::ResponseError::error_response(&self)
    }
}

/// A rendered page that no cache keeps: pages carry a CSRF token, and
/// show a new key once.
pub fn render(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(body),
        Err(e) => ApiError::Unexpected(e.into()).into_response(),
    }
}

/// `303 See Other`: after a form, the browser fetches `location` with GET.
pub fn see_other(location: &str) -> HttpResponseBuilder {
    let mut response = HttpResponse::SeeOther();
    response
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    response
}

impl forms::CsrfProtected for views::CsrfInput {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

impl forms::CsrfProtected for views::create_key::CreateKeyInput {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}
