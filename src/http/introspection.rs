//! `POST /api/v1/introspect` (RFC 7662), for service clients. Answers from
//! memory only: no database query on this path.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::auth::no_store;
use super::extractors::{BasicCredentials, FormOrJson};
use crate::error::ApiError;
use crate::state::{AppState, TokenRejection};
use crate::tokens::TokenKind;
use crate::Result;

/// `token_type_hint` is accepted and never trusted: every token is checked
/// for what it is.
#[derive(Deserialize)]
pub struct TokenRequest {
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    #[allow(dead_code)]
    pub token_type_hint: Option<String>,
}

#[derive(Serialize)]
struct Active<'a> {
    active: bool,
    token_type: &'static str,
    kind: TokenKind,
    sub: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    company_id: Option<Uuid>,
    jti: Uuid,
    iat: i64,
    exp: i64,
    iss: &'a str,
}

pub async fn introspect(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: FormOrJson<TokenRequest>,
) -> Result<HttpResponse> {
    let client = BasicCredentials::from_request(&req).ok_or(ApiError::InvalidClient)?;
    if !state
        .revocation
        .client_matches(&client.client_id, &client.client_secret)
    {
        return Err(ApiError::InvalidClient);
    }
    let response = match state.check_token(body.0.token.trim()) {
        Ok(claims) => no_store(StatusCode::OK).json(Active {
            active: true,
            token_type: "Bearer",
            kind: claims.kind,
            sub: claims.sub,
            company_id: claims.company_id,
            jti: claims.jti,
            iat: claims.iat,
            exp: claims.exp,
            iss: &claims.iss,
        }),
        Err(TokenRejection::Invalid) => no_store(StatusCode::OK)
            .content_type("application/json")
            .body(r#"{"active":false}"#),
        Err(TokenRejection::Stale) => return Err(ApiError::stale_revocation_state()),
    };
    Ok(response)
}
