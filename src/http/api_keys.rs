//! `/api/v1/companies/{company_id}/api-keys`: create, list, show, delete.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::auth::no_store;
use super::extractors::{ApiJson, Authenticated, ClientInfo};
use crate::domain::KeyName;
use crate::services::api_keys::{self, Origin, RequestedExpiry};
use crate::state::AppState;
use crate::Result;

#[derive(Deserialize)]
pub struct CreateKeyRequest {
    name: String,
    expires_at: Option<String>,
    expires_in: Option<i64>,
}

impl From<ClientInfo> for Origin {
    fn from(client: ClientInfo) -> Self {
        Origin {
            ip: client.ip,
            user_agent: client.user_agent,
        }
    }
}

#[tracing::instrument(name = "create_api_key", skip_all, fields(company_id = %path))]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<Uuid>,
    body: ApiJson<CreateKeyRequest>,
    client: ClientInfo,
) -> Result<HttpResponse> {
    auth.require_short_lived()?;
    let CreateKeyRequest {
        name,
        expires_at,
        expires_in,
    } = body.0;
    let name = KeyName::parse(&name).map_err(|e| crate::error::ApiError::invalid("name", e.0))?;
    let requested = RequestedExpiry {
        expires_at,
        expires_in,
    };
    let created =
        api_keys::create(&state, &auth.claims, *path, name, requested, client.into()).await?;
    Ok(no_store(StatusCode::CREATED).json(created))
}

pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<Uuid>,
) -> Result<HttpResponse> {
    let keys = api_keys::list(&state, &auth.claims, *path).await?;
    Ok(HttpResponse::Ok().json(json!({ "count": keys.len(), "results": keys })))
}

pub async fn show(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse> {
    let (company_id, key_id) = path.into_inner();
    let key = api_keys::get(&state, &auth.claims, company_id, key_id).await?;
    Ok(HttpResponse::Ok().json(key))
}

#[tracing::instrument(name = "delete_api_key", skip_all)]
pub async fn delete(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(Uuid, Uuid)>,
    client: ClientInfo,
) -> Result<HttpResponse> {
    let (company_id, key_id) = path.into_inner();
    api_keys::delete(&state, &auth.claims, company_id, key_id, client.into()).await?;
    Ok(HttpResponse::NoContent().finish())
}
