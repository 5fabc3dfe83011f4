//! `/api/v1/admin/*` for platform admins: companies and their keys, any
//! key deleted, a user's tokens revoked, the audit log. Every write is
//! audited with the admin as actor.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::api_keys::KeyList;
use super::operators::AdminCaller;
use crate::error::{ApiError, ErrorBody};
use crate::services::accounts::CompanyView;
use crate::services::audit::AuditPage;
use crate::state::AppState;
use crate::store::api_keys::KeyFilter;
use crate::store::audit::AuditFilter;
use crate::Result;

#[derive(Serialize, utoipa::ToSchema)]
pub struct CompanyList {
    pub count: usize,
    pub results: Vec<CompanyView>,
}

#[utoipa::path(get, path = "/api/v1/admin/companies", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every company, oldest first", body = CompanyList),
        (status = 401, description = "`not_authenticated` or `invalid_token`", body = ErrorBody),
        (status = 403, description = "`permission_denied`: not a platform admin's login token", body = ErrorBody),
        (status = 503, description = "`service_unavailable`", body = ErrorBody),
    ))]
pub async fn companies(state: web::Data<AppState>, _admin: AdminCaller) -> Result<HttpResponse> {
    let companies = state.accounts.companies().await?;
    Ok(HttpResponse::Ok().json(CompanyList {
        count: companies.len(),
        results: companies,
    }))
}

#[utoipa::path(get, path = "/api/v1/admin/companies/{company_id}/api-keys", tag = "admin",
    security(("bearer" = [])),
    params(("company_id" = Uuid, Path, description = "The company")),
    responses(
        (status = 200, description = "The company's keys that are not deleted, newest first", body = KeyList),
        (status = 401, description = "`not_authenticated` or `invalid_token`", body = ErrorBody),
        (status = 403, description = "`permission_denied`", body = ErrorBody),
        (status = 404, description = "`not_found`: a malformed id", body = ErrorBody),
        (status = 503, description = "`service_unavailable`", body = ErrorBody),
    ))]
pub async fn company_keys(
    state: web::Data<AppState>,
    _admin: AdminCaller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse> {
    let filter = KeyFilter {
        company_id: Some(*path),
        user_id: None,
    };
    let keys = state.key_admin.list(filter).await?;
    Ok(HttpResponse::Ok().json(KeyList {
        count: keys.len(),
        results: keys,
    }))
}

#[utoipa::path(delete, path = "/api/v1/admin/api-keys/{key_id}", tag = "admin",
    security(("bearer" = [])),
    params(("key_id" = Uuid, Path, description = "The key")),
    responses(
        (status = 204, description = "Deleted for good, on every instance"),
        (status = 401, description = "`not_authenticated` or `invalid_token`", body = ErrorBody),
        (status = 403, description = "`permission_denied`", body = ErrorBody),
        (status = 404, description = "`not_found`, also for a second delete", body = ErrorBody),
        (status = 503, description = "`service_unavailable`", body = ErrorBody),
    ))]
pub async fn delete_key(
    state: web::Data<AppState>,
    admin: AdminCaller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse> {
    let deleted = state.key_admin.delete_any(*path, &admin.0).await?;
    deleted
        .then(|| HttpResponse::NoContent().finish())
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(post, path = "/api/v1/admin/users/{user_id}/revoke-tokens", tag = "admin",
    security(("bearer" = [])),
    params(("user_id" = Uuid, Path, description = "The user")),
    responses(
        (status = 204, description = "Every token issued to the user so far stops working; their API keys end"),
        (status = 401, description = "`not_authenticated` or `invalid_token`", body = ErrorBody),
        (status = 403, description = "`permission_denied`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 503, description = "`service_unavailable`", body = ErrorBody),
    ))]
pub async fn revoke_user_tokens(
    state: web::Data<AppState>,
    admin: AdminCaller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse> {
    let revoked = state.accounts.revoke_user_tokens(*path, &admin.0).await?;
    revoked
        .then(|| HttpResponse::NoContent().finish())
        .ok_or(ApiError::NotFound)
}

/// Filters of `GET /api/v1/admin/audit-events`; all optional.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// A user id, `client:<client_id>` or `cli:<os user>`.
    actor: Option<String>,
    company_id: Option<Uuid>,
    /// Such as `api_key.deleted` or `login`.
    action: Option<String>,
    /// From this time on (RFC 3339).
    since: Option<DateTime<Utc>>,
    /// Before this time (RFC 3339).
    until: Option<DateTime<Utc>>,
    /// The `next_cursor` of the previous page.
    cursor: Option<i64>,
    /// At most this many events (1 to 1000; 100 by default).
    limit: Option<u64>,
}

#[utoipa::path(get, path = "/api/v1/admin/audit-events", tag = "admin",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "Matching events, newest first", body = AuditPage),
        (status = 400, description = "`invalid`: a malformed filter", body = ErrorBody),
        (status = 401, description = "`not_authenticated` or `invalid_token`", body = ErrorBody),
        (status = 403, description = "`permission_denied`", body = ErrorBody),
        (status = 503, description = "`service_unavailable`", body = ErrorBody),
    ))]
pub async fn audit_events(
    state: web::Data<AppState>,
    _admin: AdminCaller,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse> {
    let query = query.into_inner();
    let filter = AuditFilter {
        actor: query.actor,
        company_id: query.company_id,
        action: query.action,
        since: query.since,
        until: query.until,
        before: query.cursor,
        limit: query.limit.unwrap_or(100),
    };
    Ok(HttpResponse::Ok().json(state.audit.page(filter).await?))
}
