//! The API Keys page and its forms: list, create (with the one-time
//! reveal), delete. Each calls the API-key service exactly as the JSON API
//! does; only the answers differ (pages and redirects instead of JSON).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::SecretString;
use uuid::Uuid;

use super::cookies::{self, SessionCookie};
use super::error::PageError;
use super::flash::Flash;
use super::forms::SignedInForm;
use super::keys_page::keys_page;
use super::session::{cookie_policy, PageSession};
use super::views::api_keys::{ApiKeysPage, Dialog, PlanAccess, RevealedKey};
use super::views::create_key::{CreateKeyErrors, CreateKeyInput, RequestedLifetime};
use super::views::CsrfInput;
use super::{paths, render, see_other};
use crate::domain::KeyName;
use crate::error::ApiError;
use crate::services::api_keys::{CreatedKey, KeyRequest, RequestedExpiry};
use crate::services::Origin;
use crate::state::AppState;

/// `GET .../api-keys`, with the notice a deletion left, if any.
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: PageSession,
    company_id: web::Path<Uuid>,
) -> Result<HttpResponse, PageError> {
    let mut page = keys_page(&state, &session, *company_id).await?;
    let policy = cookie_policy(&state);
    let flash = policy.read(&req, SessionCookie::Flash);
    page.notice = flash
        .as_deref()
        .and_then(Flash::decode)
        .and_then(|f| f.key_notice());
    let mut response = render(StatusCode::OK, &page);
    if flash.is_some() {
        cookies::set(&mut response, &policy.removal(SessionCookie::Flash));
    }
    Ok(response)
}

/// `GET .../api-keys/new`: the create dialog, open without script.
pub async fn new(
    state: web::Data<AppState>,
    session: PageSession,
    company_id: web::Path<Uuid>,
) -> Result<HttpResponse, PageError> {
    let mut page = keys_page(&state, &session, *company_id).await?;
    page.dialog = Dialog::Create;
    Ok(render(StatusCode::OK, &page))
}

/// `GET .../api-keys/{key_id}/delete`: the confirmation, open without
/// script. A key the viewer cannot reach (or no longer exists) is not
/// named: back to the list.
pub async fn confirm_delete(
    state: web::Data<AppState>,
    session: PageSession,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, PageError> {
    let (company_id, key_id) = path.into_inner();
    let key = match state
        .api_keys
        .get(&session.claims, company_id, key_id)
        .await
    {
        Ok(key) => key,
        Err(ApiError::NotFound) => return Ok(see_other(&paths::api_keys(company_id)).finish()),
        Err(e) => return Err(e.into()),
    };
    let mut page = keys_page(&state, &session, company_id).await?;
    page.dialog = Dialog::Delete {
        key_id,
        name: key.name,
    };
    Ok(render(StatusCode::OK, &page))
}

/// `POST .../api-keys/{key_id}/delete`: deleted for good, then back to the
/// list, which says so.
pub async fn delete(
    state: web::Data<AppState>,
    form: SignedInForm<CsrfInput>,
    path: web::Path<(Uuid, Uuid)>,
    origin: Origin,
) -> Result<HttpResponse, PageError> {
    let (company_id, key_id) = path.into_inner();
    let caller = &form.session.claims;
    let flash = match state.api_keys.get(caller, company_id, key_id).await {
        Ok(key) => match state
            .api_keys
            .delete(caller, company_id, key_id, origin)
            .await
        {
            Ok(()) => Flash::KeyDeleted { name: key.name },
            Err(ApiError::NotFound) => Flash::KeyGone,
            Err(e) => return Err(e.into()),
        },
        Err(ApiError::NotFound) => Flash::KeyGone,
        Err(e) => return Err(e.into()),
    };
    let policy = cookie_policy(&state);
    Ok(see_other(&paths::api_keys(company_id))
        .cookie(policy.make(SessionCookie::Flash, flash.encode()))
        .finish())
}

/// `POST .../api-keys`: the list with the new key revealed, once, on a
/// page no cache keeps; or the dialog again with its errors in words.
pub async fn create(
    state: web::Data<AppState>,
    form: SignedInForm<CreateKeyInput>,
    company_id: web::Path<Uuid>,
    origin: Origin,
) -> Result<HttpResponse, PageError> {
    let company_id = *company_id;
    let SignedInForm { session, input } = form;
    if !session.key_id_is_reserved(&state, company_id, input.key_id, &input.key_id_tag) {
        return Err(PageError::FormExpired);
    }
    let outcome = match (
        KeyName::parse(&input.name),
        input.lifetime(),
        input.scopes(),
    ) {
        (Err(e), _, _) => Err(Refusal::Form(CreateKeyErrors::name(e.0))),
        (_, Err(message), _) => Err(Refusal::Form(CreateKeyErrors::expiry(message))),
        (_, _, Err(message)) => Err(Refusal::Form(CreateKeyErrors::scopes(message))),
        (Ok(name), Ok(lifetime), Ok(scopes)) => state
            .api_keys
            .create_once(
                &session.claims,
                company_id,
                input.key_id,
                name,
                requested(lifetime, scopes),
                origin,
            )
            .await
            .map_err(Refusal::Service),
    };
    // Built after the attempt, so the list shows the new key.
    let mut page = keys_page(&state, &session, company_id).await?;
    match outcome {
        Ok(Some(created)) => {
            page.dialog = Dialog::Reveal(revealed(created));
            Ok(render(StatusCode::OK, &page))
        }
        Ok(None) => {
            page.notice = Some(
                "This key was created already, and it is not shown again. \
                 If you did not copy it, delete it and create another."
                    .to_owned(),
            );
            Ok(render(StatusCode::CONFLICT, &page))
        }
        Err(refusal) => refused(page, &input, refusal),
    }
}

enum Refusal {
    /// Caught on reading the form.
    Form(CreateKeyErrors),
    Service(ApiError),
}

/// The page again, with the dialog open on what went wrong.
fn refused(
    mut page: ApiKeysPage,
    input: &CreateKeyInput,
    refusal: Refusal,
) -> Result<HttpResponse, PageError> {
    let limit = match &page.plan {
        PlanAccess::Allowed { active_limit, .. } => *active_limit,
        PlanAccess::NotIncluded { .. } => None,
    };
    let mut retry_after = None;
    let (status, errors) = match refusal {
        Refusal::Form(errors) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
        Refusal::Service(ApiError::Invalid { attr, detail }) => {
            let errors = match attr.as_deref() {
                Some("name") => CreateKeyErrors::name(detail),
                Some("scopes") => CreateKeyErrors::scopes(detail),
                _ => CreateKeyErrors::expiry(detail),
            };
            (StatusCode::UNPROCESSABLE_ENTITY, errors)
        }
        Refusal::Service(ApiError::ApiKeyLimitReached) => {
            let limit = limit.unwrap_or_default();
            (StatusCode::FORBIDDEN, CreateKeyErrors::limit_reached(limit))
        }
        Refusal::Service(ApiError::Throttled {
            retry_after_seconds,
        }) => {
            retry_after = Some(retry_after_seconds);
            let errors = CreateKeyErrors::throttled(retry_after_seconds);
            (StatusCode::TOO_MANY_REQUESTS, errors)
        }
        // The plan has no keys: the page says so in place of the form.
        Refusal::Service(ApiError::PlanNotAllowed) => {
            return Ok(render(StatusCode::FORBIDDEN, &page));
        }
        Refusal::Service(ApiError::NotFound) => return Err(PageError::NotTheirCompany),
        Refusal::Service(e) => return Err(e.into()),
    };
    if let PlanAccess::Allowed { create, .. } = &mut page.plan {
        create.refill(input, errors);
    }
    page.dialog = Dialog::Create;
    let mut response = render(status, &page);
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
    }
    Ok(response)
}

/// No scope ticked asks for none: the key has its creator's full rights.
fn requested(lifetime: RequestedLifetime, scopes: Vec<String>) -> KeyRequest {
    let expiry = match lifetime {
        RequestedLifetime::Seconds(seconds) => RequestedExpiry {
            expires_at: None,
            expires_in: Some(seconds),
        },
        RequestedLifetime::Until(at) => RequestedExpiry {
            expires_at: Some(at.to_rfc3339()),
            expires_in: None,
        },
    };
    KeyRequest {
        expiry,
        scopes: (!scopes.is_empty()).then(|| serde_json::json!(scopes)),
    }
}

fn revealed(created: CreatedKey) -> RevealedKey {
    RevealedKey {
        name: created.name,
        token: SecretString::from(created.token),
        company_id: created.company_id,
        expires_at: created.expires_at,
    }
}
