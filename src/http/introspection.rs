//! `POST /api/v1/introspect` (RFC 7662), for service clients. Answers from
//! memory only: no database query on this path.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use uuid::Uuid;

use super::extractors::{BasicCredentials, RawBody};
use super::responses::no_store;
use super::token_form::token_from_body;
use crate::error::ApiError;
use crate::state::AppState;
use crate::tokens::{Claims, TokenKind};
use crate::Result;

#[derive(Serialize)]
struct Active<'a> {
    active: bool,
    token_type: &'static str,
    kind: TokenKind,
    sub: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    company_id: Option<Uuid>,
    /// Space-separated (RFC 7662 §2.2); absent for full rights.
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    jti: Uuid,
    iat: i64,
    exp: i64,
    iss: &'a str,
}

impl<'a> From<&'a Claims> for Active<'a> {
    fn from(claims: &'a Claims) -> Self {
        Active {
            active: true,
            token_type: "Bearer",
            kind: claims.kind,
            sub: claims.sub,
            company_id: claims.company_id,
            scope: claims.scope.as_deref(),
            jti: claims.jti,
            iat: claims.iat,
            exp: claims.exp,
            iss: &claims.iss,
        }
    }
}

/// Client credentials are checked before the body is even parsed.
pub async fn introspect(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: RawBody,
) -> Result<HttpResponse> {
    let client = BasicCredentials::from_request(&req).ok_or(ApiError::InvalidClient)?;
    let introspection = &state.introspection;
    introspection.authenticate_client(client.client_id(), client.client_secret())?;
    let token = token_from_body(&req, &body.0)?;
    Ok(match introspection.introspect(&token)? {
        Some(claims) => no_store(StatusCode::OK).json(Active::from(&*claims)),
        None => no_store(StatusCode::OK)
            .content_type("application/json")
            .body(r#"{"active":false}"#),
    })
}
