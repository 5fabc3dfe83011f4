//! `/api/v1/auth/*`: login, refresh, logout and the caller's own profile.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use secrecy::SecretString;
use serde::Deserialize;

use super::extractors::{ApiJson, Authenticated};
use super::responses::no_store;
use crate::services::Origin;
use crate::state::AppState;
use crate::Result;

#[derive(Deserialize)]
pub struct LoginRequest {
    email: String,
    password: SecretString,
}

#[derive(Deserialize)]
pub struct RefreshRequest {
    refresh_token: SecretString,
}

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

#[tracing::instrument(name = "refresh", skip_all)]
pub async fn refresh(
    state: web::Data<AppState>,
    origin: Origin,
    body: ApiJson<RefreshRequest>,
) -> Result<HttpResponse> {
    let pair = state
        .sessions
        .refresh(body.0.refresh_token, &origin)
        .await?;
    Ok(no_store(StatusCode::OK).json(pair))
}

#[tracing::instrument(name = "logout", skip_all, fields(user_id = %auth.claims.sub))]
pub async fn logout(state: web::Data<AppState>, auth: Authenticated) -> Result<HttpResponse> {
    auth.require_short_lived()?;
    state.sessions.logout(&auth.claims).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[tracing::instrument(name = "me", skip_all, fields(user_id = %auth.claims.sub))]
pub async fn me(state: web::Data<AppState>, auth: Authenticated) -> Result<HttpResponse> {
    let profile = state.sessions.profile(&auth.claims).await?;
    Ok(HttpResponse::Ok().json(profile))
}
