//! `/api/v1/companies/{company_id}/api-keys`: create, list, show, delete.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::extractors::{ApiJson, Authenticated};
use super::responses::no_store;
use crate::domain::KeyName;
use crate::error::{ApiError, ErrorBody};
use crate::services::api_keys::{CreatedKey, KeyRequest, RequestedExpiry};
use crate::services::KeyView;
use crate::services::Origin;
use crate::state::AppState;
use crate::Result;

/// Exactly one of `expires_at` and `expires_in`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateKeyRequest {
    name: String,
    /// RFC 3339, within the plan's longest lifetime.
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    /// Seconds from now.
    expires_in: Option<i64>,
    /// Checked by the service against `api_keys.scopes`, so a wrong type is
    /// an `invalid` on `scopes` like an unknown scope.
    scopes: Option<serde_json::Value>,
}

/// A company's keys, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct KeyList {
    pub count: usize,
    pub results: Vec<KeyView>,
}

#[utoipa::path(post, path = "/api/v1/companies/{company_id}/api-keys", tag = "api-keys",
    security(("bearer" = [])),
    params(("company_id" = Uuid, Path, description = "The company")),
    request_body = CreateKeyRequest,
    responses(
        (status = 201, description = "The key, with its token shown only here", body = CreatedKey),
        (status = 400, description = "`invalid` (`attr` names the field) or `parse_error`", body = ErrorBody),
        (status = 401, description = "`not_authenticated` or `invalid_token`", body = ErrorBody),
        (status = 403, description = "`short_lived_token_required`, `plan_not_allowed` or `api_key_limit_reached`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such company, or not the caller's", body = ErrorBody),
        (status = 429, description = "`throttled`: too many key creations", body = ErrorBody),
        (status = 503, description = "`service_unavailable`", body = ErrorBody),
    ))]
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

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/api-keys", tag = "api-keys",
    security(("bearer" = [])),
    params(("company_id" = Uuid, Path, description = "The company")),
    responses(
        (status = 200, description = "Keys that are not deleted: every key for owners and admins, their own for members", body = KeyList),
        (status = 401, description = "`not_authenticated` or `invalid_token`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 503, description = "`service_unavailable`", body = ErrorBody),
    ))]
pub async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<Uuid>,
) -> Result<HttpResponse> {
    let keys = state.api_keys.list(&auth.claims, *path).await?;
    let list = KeyList {
        count: keys.len(),
        results: keys,
    };
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(get, path = "/api/v1/companies/{company_id}/api-keys/{key_id}", tag = "api-keys",
    security(("bearer" = [])),
    params(
        ("company_id" = Uuid, Path, description = "The company"),
        ("key_id" = Uuid, Path, description = "The key"),
    ),
    responses(
        (status = 200, description = "The key", body = KeyView),
        (status = 401, description = "`not_authenticated` or `invalid_token`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such key, deleted, or out of reach", body = ErrorBody),
        (status = 503, description = "`service_unavailable`", body = ErrorBody),
    ))]
pub async fn show(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse> {
    let (company_id, key_id) = path.into_inner();
    let key = state.api_keys.get(&auth.claims, company_id, key_id).await?;
    Ok(HttpResponse::Ok().json(key))
}

#[utoipa::path(delete, path = "/api/v1/companies/{company_id}/api-keys/{key_id}", tag = "api-keys",
    security(("bearer" = [])),
    params(
        ("company_id" = Uuid, Path, description = "The company"),
        ("key_id" = Uuid, Path, description = "The key"),
    ),
    responses(
        (status = 204, description = "Deleted for good, on every instance"),
        (status = 401, description = "`not_authenticated` or `invalid_token`", body = ErrorBody),
        (status = 404, description = "`not_found`, also for a second delete", body = ErrorBody),
        (status = 503, description = "`service_unavailable`", body = ErrorBody),
    ))]
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
