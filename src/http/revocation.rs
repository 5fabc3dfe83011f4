//! `POST /api/v1/revoke` (RFC 7009). Always 200, whatever the token was.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::extractors::RawBody;
use super::responses::no_store;
use super::token_form::token_from_body;
use crate::services::Origin;
use crate::state::AppState;
use crate::Result;

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
