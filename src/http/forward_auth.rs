//! `GET /api/v1/auth/verify`: forward auth for gateways (nginx
//! `auth_request`, Traefik ForwardAuth, Envoy ext_authz). Memory only.

use actix_web::http::header::HeaderName;
use actix_web::{web, HttpRequest, HttpResponse};

use super::extractors::bearer_token;
use crate::error::ErrorBody;
use crate::state::AppState;
use crate::Result;

const ORIGINAL_URI_HEADERS: [&str; 2] = ["x-original-uri", "x-forwarded-uri"];
/// Set by the gateway on routes that need a scope. A client that sends it
/// itself (Traefik passes client headers on) can only refuse itself.
const REQUIRED_SCOPES_HEADER: &str = "x-auth-required-scopes";
const VERIFY_PATH: &str = "/api/v1/auth/verify";

#[utoipa::path(get, path = "/api/v1/auth/verify", tag = "forward-auth",
    description = "Any method is answered alike. The original request is read from `X-Original-URI` and `X-Forwarded-Uri`.",
    security(("bearer" = [])),
    params(
        ("X-Original-URI" = Option<String>, Header, description = "The gateway's original request URI"),
        ("X-Forwarded-Uri" = Option<String>, Header, description = "The same, as Traefik names it"),
    ),
    responses(
        (status = 200, description = "The token may reach the original request", headers(
            ("X-Auth-Subject" = String, description = "The user id"),
            ("X-Auth-Token-Kind" = String, description = "`short_lived` or `private`"),
            ("X-Auth-Token-Id" = String, description = "The token's `jti`"),
            ("X-Auth-Company-Id" = String, description = "An API key's company"),
        )),
        (status = 401, description = "`not_authenticated` or `invalid_token`", body = ErrorBody),
        (status = 403, description = "`permission_denied`: the path is out of reach or ambiguous", body = ErrorBody),
        (status = 503, description = "`service_unavailable`", body = ErrorBody),
    ))]
pub async fn verify(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse> {
    let token = bearer_token(&req)?;
    // Every copy of every header that names the original URI is judged, as
    // the bytes that were sent, and so is the path Envoy appends to ours.
    let envoy_path = req
        .path()
        .strip_prefix(VERIFY_PATH)
        .filter(|p| !p.is_empty());
    let originals = ORIGINAL_URI_HEADERS
        .iter()
        .flat_map(|name| req.headers().get_all(*name))
        .map(|value| value.as_bytes())
        .chain(envoy_path.map(str::as_bytes));
    let required_scopes = req
        .headers()
        .get_all(REQUIRED_SCOPES_HEADER)
        .map(|value| value.as_bytes());
    let claims = state
        .forward_auth
        .authorize(token, originals, required_scopes)?;
    let mut response = HttpResponse::Ok();
    let header = HeaderName::from_static;
    response
        .insert_header((header("x-auth-subject"), claims.sub.to_string()))
        .insert_header((header("x-auth-token-kind"), claims.kind.as_str()))
        .insert_header((header("x-auth-token-id"), claims.jti.to_string()));
    if let Some(company_id) = claims.company_id {
        response.insert_header((header("x-auth-company-id"), company_id.to_string()));
    }
    // Absent for full rights, as the `scope` claim is.
    if let Some(scope) = &claims.scope {
        response.insert_header((header("x-auth-scopes"), scope.as_str()));
    }
    Ok(response.finish())
}

/// `/api/v1/auth/verify`, bare or with Envoy's appended path.
pub fn is_verify_path(path: &str) -> bool {
    path.strip_prefix(VERIFY_PATH)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Envoy's form: the original path appended to ours. Documents the route
/// that `verify` answers under `/api/v1/auth/verify/{original}`.
#[utoipa::path(get, path = "/api/v1/auth/verify/{original}", tag = "forward-auth",
    operation_id = "verify_with_path",
    description = "Envoy's form of forward auth; any method is answered alike.",
    security(("bearer" = [])),
    params(("original" = String, Path, description = "The original request's path")),
    responses(
        (status = 200, description = "The token may reach the original request"),
        (status = 401, description = "`not_authenticated` or `invalid_token`", body = ErrorBody),
        (status = 403, description = "`permission_denied`", body = ErrorBody),
        (status = 503, description = "`service_unavailable`", body = ErrorBody),
    ))]
#[allow(dead_code)]
fn verify_with_path() {}
