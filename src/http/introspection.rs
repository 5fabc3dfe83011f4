//! `POST /api/v1/introspect` (RFC 7662), for service clients. Answers from
//! memory only: no database query on this path.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use uuid::Uuid;

use super::extractors::{BasicCredentials, RawBody};
use super::responses::no_store;
use super::token_form::token_from_body;
use super::token_form::TokenRequest;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::tokens::{Claims, TokenKind};
use crate::Result;

/// An active token's claims.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = IntrospectionActive)]
pub struct Active<'a> {
    /// Always true here.
    active: bool,
    #[schema(value_type = String, example = "Bearer")]
    token_type: &'static str,
    kind: TokenKind,
    sub: Uuid,
    /// API keys only.
    #[serde(skip_serializing_if = "Option::is_none")]
    company_id: Option<Uuid>,
    /// Space-separated (RFC 7662 §2.2); absent for full rights.
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    jti: Uuid,
    iat: i64,
    exp: i64,
    #[schema(value_type = String)]
    iss: &'a str,
}

/// Exactly `{"active":false}`, whatever was wrong with the token. Written
/// as a literal by `introspect`; this type only describes it.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = IntrospectionInactive)]
#[allow(dead_code)]
pub struct Inactive {
    /// Always false.
    active: bool,
}

/// One of the two answers.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[schema(as = IntrospectionResponse)]
#[allow(dead_code)]
pub enum Answer<'a> {
    Active(Active<'a>),
    Inactive(Inactive),
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
#[utoipa::path(post, path = "/api/v1/introspect", tag = "introspection",
    security(("client_basic" = [])),
    request_body(description = "Form-encoded (JSON accepted)", content(
        (TokenRequest = "application/x-www-form-urlencoded"),
        (TokenRequest = "application/json"),
    )),
    responses(
        (status = 200, description = "RFC 7662: the claims of an active token, else exactly `{\"active\":false}`", body = Answer),
        (status = 400, description = "`parse_error`", body = ErrorBody),
        (status = 401, description = "`invalid_client`", body = ErrorBody),
        (status = 503, description = "`service_unavailable`: the access state is stale", body = ErrorBody),
    ))]
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
