//! JWKS and RFC 8414 authorization server metadata.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::state::AppState;

#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "discovery",
    responses((status = 200, description = "The public signing keys (RFC 7517), cached 60 s", body = Object)))]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        // Short, so a rotated-in key is seen soon by verifiers that cache.
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        .body(state.keys.current().jwks().to_vec())
}

#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "discovery",
    responses((status = 200, description = "RFC 8414 authorization server metadata", body = Object)))]
pub async fn metadata(state: web::Data<AppState>) -> HttpResponse {
    // RFC 8414: `issuer` is exactly the `iss` of our tokens.
    let issuer = state.settings.issuer.as_str();
    let base = issuer.trim_end_matches('/');
    HttpResponse::Ok().json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "introspection_endpoint": format!("{base}/api/v1/introspect"),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic"],
        "revocation_endpoint": format!("{base}/api/v1/revoke"),
        "revocation_endpoint_auth_methods_supported": ["none"],
        "response_types_supported": [],
        "grant_types_supported": ["refresh_token"],
        // The machine-readable contract: RFC 8414's `service_documentation`,
        // and under a name of ours that says what it is.
        "service_documentation": format!("{base}{}", super::openapi::PATH),
        "openapi_uri": format!("{base}{}", super::openapi::PATH),
    }))
}
