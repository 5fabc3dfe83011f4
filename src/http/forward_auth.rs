//! `GET /api/v1/auth/verify`: forward auth for gateways (nginx
//! `auth_request`, Traefik ForwardAuth, Envoy ext_authz). Memory only.

use actix_web::http::header::HeaderName;
use actix_web::{web, HttpRequest, HttpResponse};

use super::extractors::bearer_token;
use crate::state::AppState;
use crate::Result;

const ORIGINAL_URI_HEADERS: [&str; 2] = ["x-original-uri", "x-forwarded-uri"];
/// Set by the gateway on routes that need a scope. A client that sends it
/// itself (Traefik passes client headers on) can only refuse itself.
const REQUIRED_SCOPES_HEADER: &str = "x-auth-required-scopes";
const VERIFY_PATH: &str = "/api/v1/auth/verify";

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
