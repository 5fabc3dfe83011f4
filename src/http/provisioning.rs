//! The provisioning API under `/api/v1/admin/`, for the host product's
//! sign-up and billing: a platform admin's login token, or a service client
//! granted provisioning. Creations take an `Idempotency-Key`. Every call is
//! audited with the caller as actor.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::extractors::ApiJson;
use super::operators::ProvisioningCaller;
use super::responses::no_store;
use crate::domain::{CompanyName, Email, Password, Plan, Role};
use crate::error::{ApiError, ErrorBody};
use crate::services::accounts::{CompanyView, UserView};
use crate::services::Origin;
use crate::state::AppState;
use crate::store::audit::Actor;
use crate::store::idempotency::IdempotencyKey;
use crate::store::memberships::AddMemberError;
use crate::tokens::sha256_hex;
use crate::Result;

const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// Set on the answer to a retried creation.
const REPLAYED: &str = "Idempotent-Replayed";

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
pub struct CreateCompanyRequest {
    name: String,
    /// A plan of the settings, such as `free` or `professional`.
    plan: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SetPlanRequest {
    plan: String,
}

/// Without `password`, the answer carries a single-use invitation.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateUserRequest {
    email: String,
    #[schema(value_type = Option<String>, format = Password)]
    password: Option<SecretString>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct MembershipRequest {
    /// `owner`, `admin` or `member`.
    role: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MembershipView {
    user_id: Uuid,
    company_id: Uuid,
    role: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AcceptInvitationRequest {
    #[schema(value_type = String)]
    token: SecretString,
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

/// The caller's `Idempotency-Key`, bound to the request's non-secret fields.
fn idempotency_key(
    req: &HttpRequest,
    actor: &Actor,
    request: &str,
) -> Result<Option<IdempotencyKey>> {
    let Some(value) = req.headers().get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .ok()
        .filter(|v| !v.is_empty() && v.len() <= 255)
        .ok_or_else(|| ApiError::invalid(IDEMPOTENCY_KEY, "1 to 255 visible ASCII characters."))?;
    Ok(Some(IdempotencyKey {
        id: sha256_hex(&format!("{}\n{value}", actor.name)),
        request_hash: sha256_hex(&format!("{}\n{request}", req.path())),
    }))
}

fn created(replayed: bool) -> actix_web::HttpResponseBuilder {
    let mut response = no_store(StatusCode::CREATED);
    if replayed {
        response.insert_header((REPLAYED, "true"));
    }
    response
}

#[utoipa::path(post, path = "/api/v1/admin/companies", tag = "provisioning",
    security(("bearer" = []), ("client_basic" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key creates nothing and answers the same company")),
    request_body = CreateCompanyRequest,
    responses(
        (status = 201, description = "The company (`Idempotent-Replayed: true` on a retry)", body = CompanyView),
        (status = 400, description = "`invalid` (`attr` names the field) or `parse_error`", body = ErrorBody),
        (status = 401, description = "`not_authenticated`, `invalid_token` or `invalid_client`", body = ErrorBody),
        (status = 403, description = "`permission_denied`", body = ErrorBody),
        (status = 503, description = "`service_unavailable`", body = ErrorBody),
    ))]
pub async fn create_company(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: ProvisioningCaller,
    body: ApiJson<CreateCompanyRequest>,
) -> Result<HttpResponse> {
    let request = serde_json::to_string(&body.0).map_err(anyhow::Error::from)?;
    let key = idempotency_key(&req, &caller.0, &request)?;
    let name = CompanyName::parse(&body.0.name).map_err(|e| ApiError::invalid("name", e.0))?;
    let plan =
        Plan::parse(&body.0.plan, &state.settings).map_err(|e| ApiError::invalid("plan", e.0))?;
    let accounts = &state.accounts;
    let company = accounts
        .create_company(&name, &plan, &caller.0, key.as_ref())
        .await?;
    Ok(created(company.replayed).json(company.value))
}

#[utoipa::path(put, path = "/api/v1/admin/companies/{company_id}/plan", tag = "provisioning",
    security(("bearer" = []), ("client_basic" = [])),
    params(("company_id" = Uuid, Path, description = "The company")),
    request_body = SetPlanRequest,
    responses(
        (status = 200, description = "The company on its new plan; existing keys keep working after a downgrade", body = CompanyView),
        (status = 400, description = "`invalid` or `parse_error`", body = ErrorBody),
        (status = 401, description = "`not_authenticated`, `invalid_token` or `invalid_client`", body = ErrorBody),
        (status = 403, description = "`permission_denied`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 503, description = "`service_unavailable`", body = ErrorBody),
    ))]
pub async fn set_plan(
    state: web::Data<AppState>,
    caller: ProvisioningCaller,
    path: web::Path<Uuid>,
    body: ApiJson<SetPlanRequest>,
) -> Result<HttpResponse> {
    let plan =
        Plan::parse(&body.0.plan, &state.settings).map_err(|e| ApiError::invalid("plan", e.0))?;
    let company = state.accounts.set_plan(*path, &plan, &caller.0).await?;
    Ok(HttpResponse::Ok().json(company.ok_or(ApiError::NotFound)?))
}

#[utoipa::path(post, path = "/api/v1/admin/users", tag = "provisioning",
    security(("bearer" = []), ("client_basic" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key creates nothing; a user still without a password gets a new invitation")),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "The user, with an invitation when no password was given", body = UserView),
        (status = 400, description = "`invalid` (`attr` names the field; also an email taken) or `parse_error`", body = ErrorBody),
        (status = 401, description = "`not_authenticated`, `invalid_token` or `invalid_client`", body = ErrorBody),
        (status = 403, description = "`permission_denied`", body = ErrorBody),
        (status = 503, description = "`service_unavailable`", body = ErrorBody),
    ))]
pub async fn create_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: ProvisioningCaller,
    body: ApiJson<CreateUserRequest>,
) -> Result<HttpResponse> {
    let CreateUserRequest { email, password } = body.0;
    // The password is never part of what an idempotency key remembers.
    let request = format!("{email}\n{}", password.is_some());
    let key = idempotency_key(&req, &caller.0, &request)?;
    let email = Email::parse(&email).map_err(|e| ApiError::invalid("email", e.0))?;
    let password = password
        .map(|p| Password::parse(p).map_err(|e| ApiError::invalid("password", e.0)))
        .transpose()?;
    let user = state
        .accounts
        .create_user(
            &email,
            password,
            &caller.0,
            key.as_ref(),
            &state.settings.issuer,
        )
        .await?;
    Ok(created(user.replayed).json(user.value))
}

#[utoipa::path(post, path = "/api/v1/admin/users/{user_id}/disable", tag = "provisioning",
    security(("bearer" = []), ("client_basic" = [])),
    params(("user_id" = Uuid, Path, description = "The user")),
    responses(
        (status = 204, description = "Disabled for good: every token of theirs stops working, their keys end"),
        (status = 401, description = "`not_authenticated`, `invalid_token` or `invalid_client`", body = ErrorBody),
        (status = 403, description = "`permission_denied`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 503, description = "`service_unavailable`", body = ErrorBody),
    ))]
pub async fn disable_user(
    state: web::Data<AppState>,
    caller: ProvisioningCaller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse> {
    let disabled = state.accounts.disable_user(*path, &caller.0).await?;
    disabled
        .then(|| HttpResponse::NoContent().finish())
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(put, path = "/api/v1/admin/companies/{company_id}/members/{user_id}", tag = "provisioning",
    security(("bearer" = []), ("client_basic" = [])),
    params(
        ("company_id" = Uuid, Path, description = "The company"),
        ("user_id" = Uuid, Path, description = "The user"),
    ),
    request_body = MembershipRequest,
    responses(
        (status = 200, description = "The user is a member with this role (added, or their role changed)", body = MembershipView),
        (status = 400, description = "`invalid` or `parse_error`", body = ErrorBody),
        (status = 401, description = "`not_authenticated`, `invalid_token` or `invalid_client`", body = ErrorBody),
        (status = 403, description = "`permission_denied`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such company or user", body = ErrorBody),
        (status = 503, description = "`service_unavailable`", body = ErrorBody),
    ))]
pub async fn put_member(
    state: web::Data<AppState>,
    caller: ProvisioningCaller,
    path: web::Path<(Uuid, Uuid)>,
    body: ApiJson<MembershipRequest>,
) -> Result<HttpResponse> {
    let (company_id, user_id) = path.into_inner();
    let role: Role = body
        .0
        .role
        .parse()
        .map_err(|e: crate::domain::ParseError| ApiError::invalid("role", e.0))?;
    let accounts = &state.accounts;
    match accounts
        .add_member(user_id, company_id, role, &caller.0)
        .await
    {
        Ok(()) => Ok(HttpResponse::Ok().json(MembershipView {
            user_id,
            company_id,
            role: role.as_str().to_owned(),
        })),
        Err(AddMemberError::UnknownUser | AddMemberError::UnknownCompany) => {
            Err(ApiError::NotFound)
        }
        Err(AddMemberError::Db(e)) => Err(e.into()),
    }
}

#[utoipa::path(delete, path = "/api/v1/admin/companies/{company_id}/members/{user_id}", tag = "provisioning",
    security(("bearer" = []), ("client_basic" = [])),
    params(
        ("company_id" = Uuid, Path, description = "The company"),
        ("user_id" = Uuid, Path, description = "The user"),
    ),
    responses(
        (status = 204, description = "Removed; their keys of this company end for good"),
        (status = 401, description = "`not_authenticated`, `invalid_token` or `invalid_client`", body = ErrorBody),
        (status = 403, description = "`permission_denied`", body = ErrorBody),
        (status = 404, description = "`not_found`: not a member", body = ErrorBody),
        (status = 503, description = "`service_unavailable`", body = ErrorBody),
    ))]
pub async fn remove_member(
    state: web::Data<AppState>,
    caller: ProvisioningCaller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse> {
    let (company_id, user_id) = path.into_inner();
    let removed = state
        .accounts
        .remove_member(user_id, company_id, &caller.0)
        .await?;
    removed
        .then(|| HttpResponse::NoContent().finish())
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(post, path = "/api/v1/auth/invitation", tag = "auth",
    request_body = AcceptInvitationRequest,
    responses(
        (status = 204, description = "The password is set; the invitation is spent"),
        (status = 400, description = "`invalid`: a weak password, or an invitation unknown, used or expired (`attr` is `token`)", body = ErrorBody),
        (status = 503, description = "`service_unavailable`", body = ErrorBody),
    ))]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    body: ApiJson<AcceptInvitationRequest>,
    origin: Origin,
) -> Result<HttpResponse> {
    use secrecy::ExposeSecret;
    let AcceptInvitationRequest { token, password } = body.0;
    let password = Password::parse(password).map_err(|e| ApiError::invalid("password", e.0))?;
    let actor = origin.actor("anonymous".to_owned());
    let accepted = state
        .accounts
        .accept_invitation(token.expose_secret(), password, &actor)
        .await?;
    if !accepted {
        return Err(ApiError::invalid(
            "token",
            "The invitation is unknown, used or expired.",
        ));
    }
    Ok(HttpResponse::NoContent()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}
