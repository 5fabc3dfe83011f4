//! `GET /api/v1/auth/verify`: forward auth for gateways (nginx
//! `auth_request`, Traefik ForwardAuth, Envoy ext_authz). Memory only.

use actix_web::http::header::HeaderName;
use actix_web::{HttpRequest, HttpResponse};
use uuid::Uuid;

use super::extractors::bearer_token;
use crate::error::ApiError;
use crate::state::AppState;
use crate::tokens::{Claims, TokenKind};
use crate::Result;

const ORIGINAL_URI_HEADERS: [&str; 2] = ["x-original-uri", "x-forwarded-uri"];

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
    // Envoy appends the original path to ours: /api/v1/auth/verify/<path>.
    let envoy_path = req.match_info().get("original").map(|p| format!("/{p}"));
    let uris = ORIGINAL_URI_HEADERS
        .iter()
        .filter_map(|name| req.headers().get(*name)?.to_str().ok().map(str::to_owned))
        .chain(envoy_path);
    for uri in uris {
        for company_id in companies_named(&uri) {
            if !may_reach(&state, &claims, company_id) {
                return Err(ApiError::PermissionDenied(
                    "This token may not reach that company.",
                ));
            }
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

/// Every `/companies/{id}` in the path, read the way the upstream will read it:
/// percent-decoded, with `.` and `..` resolved. An id that is not a UUID is
/// `None`, which no token reaches.
fn companies_named(uri: &str) -> Vec<Option<Uuid>> {
    let path = uri.split(['?', '#']).next().unwrap_or_default();
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let mut segments: Vec<&str> = Vec::new();
    for segment in decoded.split(['/', '\\']) {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    segments
        .windows(2)
        .filter(|pair| pair[0].eq_ignore_ascii_case("companies"))
        .map(|pair| pair[1].parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::companies_named;

    const ID: &str = "0193a1b2-0000-7000-8000-000000000001";

    #[test]
    fn finds_the_company_however_the_path_is_spelt() {
        let id = Some(ID.parse().unwrap());
        assert_eq!(
            companies_named(&format!("/api/v1/companies/{ID}/datasets/")),
            vec![id]
        );
        assert_eq!(
            companies_named(&format!("/api/v1/compan%69es/{ID}/x?y=1")),
            vec![id]
        );
        assert_eq!(
            companies_named(&format!("/api/v1/x/../COMPANIES//{ID}")),
            vec![id]
        );
        assert_eq!(companies_named("/api/v1/companies/not-a-uuid/"), vec![None]);
        assert!(companies_named("/api/v1/datasets/").is_empty());
    }
}
