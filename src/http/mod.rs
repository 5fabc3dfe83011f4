//! The HTTP API: one module per resource, wired here.

pub mod api_keys;
pub mod auth;
pub mod content_encoding;
pub mod extractors;
pub mod forward_auth;
pub mod health;
pub mod introspection;
pub mod metrics;
pub mod request_id;
pub mod responses;
pub mod revocation;
pub mod security_headers;
pub mod token_form;
pub mod trailing_slash;
pub mod well_known;

use actix_web::{web, HttpResponse, Resource};

use crate::error::ApiError;

/// `GET /metrics` alone: on the main port (when `metrics.port` is unset)
/// or on a server of its own.
pub fn metrics_route(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/metrics").route(web::get().to(metrics::metrics)));
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/healthz").route(web::get().to(health::healthz)))
        .service(resource("/readyz").route(web::get().to(health::readyz)))
        .service(resource("/.well-known/jwks.json").route(web::get().to(well_known::jwks)))
        .service(
            resource("/.well-known/oauth-authorization-server")
                .route(web::get().to(well_known::metadata)),
        )
        .service(resource("/api/v1/auth/login").route(web::post().to(auth::login)))
        .service(resource("/api/v1/auth/refresh").route(web::post().to(auth::refresh)))
        .service(resource("/api/v1/auth/logout").route(web::post().to(auth::logout)))
        .service(resource("/api/v1/auth/me").route(web::get().to(auth::me)))
        .service(resource("/api/v1/auth/verify").route(web::route().to(forward_auth::verify)))
        .service(resource("/api/v1/introspect").route(web::post().to(introspection::introspect)))
        .service(resource("/api/v1/revoke").route(web::post().to(revocation::revoke)))
        .service(
            resource("/api/v1/companies/{company_id}/api-keys")
                .route(web::post().to(api_keys::create))
                .route(web::get().to(api_keys::list)),
        )
        .service(
            resource("/api/v1/companies/{company_id}/api-keys/{key_id}")
                .route(web::get().to(api_keys::show))
                .route(web::delete().to(api_keys::delete)),
        )
        // Last: its pattern is a regex, which no other route should pay for.
        .service(
            resource("/api/v1/auth/verify/{original:.*}")
                .route(web::route().to(forward_auth::verify)),
        );
}

/// A resource whose unknown methods answer 405 in the documented shape.
fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(|| async {
        ApiError::MethodNotAllowed.into_response()
    }))
}

pub async fn not_found() -> HttpResponse {
    ApiError::NotFound.into_response()
}

impl ApiError {
    pub fn into_response(self) -> HttpResponse {
        actix_web::ResponseError::error_response(&self)
    }
}
