//! `/api/v1/auth/*`: login, refresh, logout and the caller's own profile.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use secrecy::SecretString;
use serde::Deserialize;

use super::extractors::{ApiJson, Authenticated};
use super::responses::no_store;
use crate::error::ErrorBody;
use crate::services::sessions::{Profile, TokenPair};
use crate::services::Origin;
use crate::state::AppState;
use crate::Result;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    email: String,
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    #[schema(value_type = String)]
    refresh_token: SecretString,
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "A login token and its refresh token", body = TokenPair),
        (status = 400, description = "`invalid` or `parse_error`", body = ErrorBody),
        (status = 401, description = "`invalid_credentials`: the same for an unknown email and a wrong password", body = ErrorBody),
        (status = 429, description = "`throttled`: the password queue is full", body = ErrorBody),
    ))]
#[tracing::instrument(name = "login", skip_all)]
pub async fn login(
    state: web::Data<AppState>,
    body: ApiJson<LoginRequest>,
    origin: Origin,
) -> Result<HttpResponse> {
    let LoginRequest { email, password } = body.0;
    let pair = state.sessions.login(&email, password, origin).await?;
    Ok(no_store(StatusCode::OK).json(pair))
}

#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new pair; the presented refresh token is spent", body = TokenPair),
        (status = 400, description = "`invalid` or `parse_error`", body = ErrorBody),
        (status = 401, description = "`invalid_token`: unknown, expired or spent (a spent one revokes its family)", body = ErrorBody),
    ))]
#[tracing::instrument(name = "refresh", skip_all)]
pub async fn refresh(
    state: web::Data<AppState>,
    body: ApiJson<RefreshRequest>,
    origin: Origin,
) -> Result<HttpResponse> {
    let pair = state.sessions.refresh(body.0.refresh_token, origin).await?;
    Ok(no_store(StatusCode::OK).json(pair))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "This login token and its refresh family are revoked"),
        (status = 401, description = "`not_authenticated` or `invalid_token`", body = ErrorBody),
        (status = 403, description = "`short_lived_token_required`: an API key was sent", body = ErrorBody),
        (status = 503, description = "`service_unavailable`", body = ErrorBody),
    ))]
#[tracing::instrument(name = "logout", skip_all, fields(user_id = %auth.claims.sub))]
pub async fn logout(
    state: web::Data<AppState>,
    auth: Authenticated,
    origin: Origin,
) -> Result<HttpResponse> {
    auth.require_short_lived()?;
    state.sessions.logout(&auth.claims, origin).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller and the companies the token speaks for", body = Profile),
        (status = 401, description = "`not_authenticated` or `invalid_token`", body = ErrorBody),
        (status = 503, description = "`service_unavailable`", body = ErrorBody),
    ))]
#[tracing::instrument(name = "me", skip_all, fields(user_id = %auth.claims.sub))]
pub async fn me(state: web::Data<AppState>, auth: Authenticated) -> Result<HttpResponse> {
    let profile = state.sessions.profile(&auth.claims).await?;
    Ok(HttpResponse::Ok().json(profile))
}
