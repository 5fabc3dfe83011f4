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
    // Every copy of every header that names the original URI is checked, as
    // bytes: one that cannot be read must not slip past as "no company".
    let mut uris: Vec<String> = ORIGINAL_URI_HEADERS
        .iter()
        .flat_map(|name| req.headers().get_all(*name))
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect();
    // Envoy appends the original path to ours: /api/v1/auth/verify/<path>.
    if let Some(original) = req
        .uri()
        .path()
        .strip_prefix(VERIFY_PATH)
        .filter(|p| !p.is_empty())
    {
        uris.push(original.to_owned());
    }
    for uri in &uris {
        for company_id in companies_named(uri) {
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

/// Every `/companies/{id}` in the path, in each way the service behind the
/// gateway might read it: as sent, with each segment percent-decoded, and
/// fully decoded with `.` and `..` resolved. Every one must be reachable, so
/// a path that reads as two companies is refused. An id that is not a UUID
/// is `None`, which no token reaches.
fn companies_named(uri: &str) -> Vec<Option<Uuid>> {
    let path = uri.split(['?', '#']).next().unwrap_or_default();
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let as_sent: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let decoded_segments: Vec<String> = as_sent.iter().map(|s| decode(s)).collect();
    let mut normalised: Vec<String> = Vec::new();
    for segment in decode(path).split(['/', '\\']) {
        match segment {
            "" | "." => {}
            ".." => {
                normalised.pop();
            }
            s => normalised.push(s.to_owned()),
        }
    }
    let mut companies = Vec::new();
    for view in [&as_sent, &decoded_segments, &normalised] {
        for pair in view.windows(2) {
            if pair[0].eq_ignore_ascii_case("companies") {
                let id = pair[1].parse().ok();
                if !companies.contains(&id) {
                    companies.push(id);
                }
            }
        }
    }
    companies
}

#[cfg(test)]
mod tests {
    use super::companies_named;

    const ID: &str = "0193a1b2-0000-7000-8000-000000000001";
    const OTHER: &str = "0193a1b2-0000-7000-8000-000000000002";

    #[test]
    fn finds_the_company_however_the_path_is_spelt() {
        let id = Some(ID.parse().unwrap());
        for uri in [
            format!("/api/v1/companies/{ID}/datasets/"),
            format!("/api/v1/compan%69es/{ID}/x?y=1"),
            format!("/api/v1/x/../COMPANIES//{ID}"),
        ] {
            assert_eq!(companies_named(&uri), vec![id], "{uri}");
        }
        assert_eq!(companies_named("/api/v1/companies/not-a-uuid/"), vec![None]);
        assert!(companies_named("/api/v1/datasets/").is_empty());
    }

    #[test]
    fn a_path_that_reads_as_two_companies_names_both_or_an_unreachable_one() {
        let (id, other) = (Some(ID.parse().unwrap()), Some(OTHER.parse().unwrap()));
        for uri in [
            format!("/api/v1/companies/{ID}/datasets/../../{OTHER}/datasets/"),
            format!("/api/v1/companies/{ID}/datasets/..%2F..%2F{OTHER}/datasets/"),
            format!("/api/v1/companies/{ID}%2F..%2F{OTHER}/datasets/"),
        ] {
            // A token of OTHER alone must not pass: something else is named too.
            let named = companies_named(&uri);
            assert!(named.contains(&other), "{uri}: {named:?}");
            assert!(
                named.contains(&id) || named.contains(&None),
                "{uri}: {named:?}"
            );
        }
    }
}
