//! `GET /api/v1/auth/verify`: forward auth for gateways (nginx
//! `auth_request`, Traefik ForwardAuth, Envoy ext_authz). Memory only.
//! An original path that backends could read in more than one way is
//! refused outright (see `domain::OriginalUri`).

use actix_web::http::header::HeaderName;
use actix_web::{HttpRequest, HttpResponse};
use uuid::Uuid;

use super::extractors::bearer_token;
use crate::domain::OriginalUri;
use crate::error::ApiError;
use crate::state::AppState;
use crate::tokens::{Claims, TokenKind};
use crate::Result;

const ORIGINAL_URI_HEADERS: [&str; 2] = ["x-original-uri", "x-forwarded-uri"];
const VERIFY_PATH: &str = "/api/v1/auth/verify";

pub async fn verify(
    req: HttpRequest,
    state: actix_web::web::Data<AppState>,
) -> Result<HttpResponse> {
    if req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .is_none()
    {
        return Err(ApiError::NotAuthenticated);
    }
    let token = bearer_token(&req).ok_or(ApiError::InvalidToken)?;
    let claims = state.authenticate_token(token)?;
    // Every copy of every header that names the original URI is judged, as
    // the bytes that were sent, and so is the path Envoy appends to ours.
    let envoy_path = req
        .uri()
        .path()
        .strip_prefix(VERIFY_PATH)
        .filter(|p| !p.is_empty());
    let originals = ORIGINAL_URI_HEADERS
        .iter()
        .flat_map(|name| req.headers().get_all(*name))
        .map(|value| value.as_bytes())
        .chain(envoy_path.map(str::as_bytes));
    for original in originals {
        let uri = OriginalUri::parse(original).map_err(|reason| {
            tracing::debug!(%reason, "ambiguous original URI refused");
            ApiError::PermissionDenied("The original path is ambiguous.")
        })?;
        if !uri
            .companies()
            .iter()
            .all(|company| may_reach(&state, &claims, *company))
        {
            return Err(ApiError::PermissionDenied(
                "This token may not reach that company.",
            ));
        }
    }
    let mut response = HttpResponse::Ok();
    response
        .insert_header((
            HeaderName::from_static("x-auth-subject"),
            claims.sub.to_string(),
        ))
        .insert_header((
            HeaderName::from_static("x-auth-token-kind"),
            claims.kind.as_str(),
        ))
        .insert_header((
            HeaderName::from_static("x-auth-token-id"),
            claims.jti.to_string(),
        ));
    if let Some(company_id) = claims.company_id {
        response.insert_header((
            HeaderName::from_static("x-auth-company-id"),
            company_id.to_string(),
        ));
    }
    Ok(response.finish())
}

/// `/api/v1/auth/verify`, bare or with Envoy's appended path.
pub fn is_verify_path(path: &str) -> bool {
    path.strip_prefix(VERIFY_PATH)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A private token reaches its own company; a short-lived one, its user's.
fn may_reach(state: &AppState, claims: &Claims, company_id: Option<Uuid>) -> bool {
    let Some(company_id) = company_id else {
        return false;
    };
    match claims.kind {
        TokenKind::Private => claims.company_id == Some(company_id),
        TokenKind::ShortLived => state.revocation.role_in(claims.sub, company_id).is_some(),
    }
}
