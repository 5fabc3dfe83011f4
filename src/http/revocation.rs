//! `POST /api/v1/revoke` (RFC 7009). Always 200, whatever the token was.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::extractors::RawBody;
use super::responses::no_store;
use super::token_form::{token_from_body, TokenRequest};
use crate::error::ErrorBody;
use crate::services::Origin;
use crate::state::AppState;
use crate::Result;

#[utoipa::path(post, path = "/api/v1/revoke", tag = "introspection",
    request_body(description = "Form-encoded (JSON accepted): a login token, an API key or a refresh token", content(
        (TokenRequest = "application/x-www-form-urlencoded"),
        (TokenRequest = "application/json"),
    )),
    responses(
        (status = 200, description = "RFC 7009: always, whatever the token was"),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
    ))]
pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: RawBody,
    origin: Origin,
) -> Result<HttpResponse> {
    // Always 200 (RFC 7009 §2.2): a body we cannot read names no token.
    let token = token_from_body(&req, &body.0).unwrap_or_default();
    state.revocation.revoke(&token, origin).await?;
    Ok(no_store(StatusCode::OK).finish())
}
