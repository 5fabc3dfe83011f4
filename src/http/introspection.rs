//! `POST /api/v1/introspect` (RFC 7662), for service clients. Answers from
//! memory only: no database query on this path.

use std::borrow::Cow;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::auth::no_store;
use super::extractors::{parse_json, BasicCredentials, RawBody};
use crate::error::ApiError;
use crate::state::{AppState, TokenRejection};
use crate::tokens::TokenKind;
use crate::Result;

#[derive(Deserialize)]
struct TokenRequest {
    #[serde(default)]
    token: String,
}

/// The `token` of an RFC 7662 / RFC 7009 body: form-encoded (the OAuth
/// default), or JSON when the request says so. `token_type_hint` is accepted
/// and never trusted: every token is checked for what it is. Borrowed from
/// the body when it can be: this is the hot path.
pub fn token_from_body<'a>(req: &HttpRequest, body: &'a [u8]) -> Result<Cow<'a, str>, ApiError> {
    let is_json = req.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        let v = v.as_bytes().trim_ascii_start();
        v.len() >= 16 && v[..16].eq_ignore_ascii_case(b"application/json")
    });
    let token = if is_json {
        Cow::Owned(parse_json::<TokenRequest>(body)?.token)
    } else {
        form_token(body)?
    };
    Ok(match token {
        Cow::Borrowed(t) => Cow::Borrowed(t.trim()),
        Cow::Owned(t) => Cow::Owned(t.trim().to_owned()),
    })
}

/// Tokens are base64url and dots, so the usual `token=…` needs no decoding;
/// anything else goes through the full form parser.
fn form_token(body: &[u8]) -> Result<Cow<'_, str>, ApiError> {
    let malformed =
        |e: &dyn std::fmt::Display| ApiError::ParseError(format!("Malformed form body: {e}."));
    let plain = body
        .split(|b| *b == b'&')
        .find_map(|pair| pair.strip_prefix(b"token="))
        .filter(|value| !value.iter().any(|b| matches!(b, b'%' | b'+')));
    match plain {
        Some(value) => std::str::from_utf8(value)
            .map(Cow::Borrowed)
            .map_err(|e| malformed(&e)),
        None => serde_urlencoded::from_bytes::<TokenRequest>(body)
            .map(|request| Cow::Owned(request.token))
            .map_err(|e| malformed(&e)),
    }
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

/// Client credentials are checked before the body is even parsed.
pub async fn introspect(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: RawBody,
) -> Result<HttpResponse> {
    let client = BasicCredentials::from_request(&req).ok_or(ApiError::InvalidClient)?;
    if !state
        .revocation
        .client_matches(client.client_id(), client.client_secret())
    {
        return Err(ApiError::InvalidClient);
    }
    let token = token_from_body(&req, &body.0)?;
    let response = match state.check_token(&token) {
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
