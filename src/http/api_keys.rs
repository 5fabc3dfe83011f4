//! `/api/v1/companies/{company_id}/api-keys`: create, list, show, delete.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::extractors::{ApiJson, Authenticated};
use super::responses::no_store;
use crate::domain::KeyName;
use crate::error::ApiError;
use crate::services::api_keys::{KeyRequest, RequestedExpiry};
use crate::services::Origin;
use crate::state::AppState;
use crate::Result;

#[derive(Deserialize)]
pub struct CreateKeyRequest {
    name: String,
    expires_at: Option<String>,
    expires_in: Option<i64>,
    /// Checked by the service against `api_keys.scopes`, so a wrong type is
    /// an `invalid` on `scopes` like an unknown scope.
    scopes: Option<serde_json::Value>,
}

#[tracing::instrument(name = "create_api_key", skip_all, fields(company_id = %path))]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<Uuid>,
    body: ApiJson<CreateKeyRequest>,
    origin: Origin,
) -> Result<HttpResponse> {
    auth.require_short_lived()?;
    let CreateKeyRequest {
        name,
        expires_at,
        expires_in,
        scopes,
    } = body.0;
    let name = KeyName::parse(&name).map_err(|e| ApiError::invalid("name", e.0))?;
    let requested = KeyRequest {
        expiry: RequestedExpiry {
            expires_at,
            expires_in,
        },
        scopes,
    };
    let api_keys = &state.api_keys;
    let created = api_keys
        .create(&auth.claims, *path, name, requested, origin)
        .await?;
    Ok(no_store(StatusCode::CREATED).json(created))
}

pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<Uuid>,
) -> Result<HttpResponse> {
    let keys = state.api_keys.list(&auth.claims, *path).await?;
    Ok(HttpResponse::Ok().json(json!({ "count": keys.len(), "results": keys })))
}

pub async fn show(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse> {
    let (company_id, key_id) = path.into_inner();
    let key = state.api_keys.get(&auth.claims, company_id, key_id).await?;
    Ok(HttpResponse::Ok().json(key))
}

#[tracing::instrument(name = "delete_api_key", skip_all)]
pub async fn delete(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(Uuid, Uuid)>,
    origin: Origin,
) -> Result<HttpResponse> {
    let (company_id, key_id) = path.into_inner();
    let api_keys = &state.api_keys;
    api_keys
        .delete(&auth.claims, company_id, key_id, origin)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
