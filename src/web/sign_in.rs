//! Signing in and out, and where `/` and `/ui/` lead.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::cookies::{self, CookiePolicy, SessionCookie};
use super::error::{to_sign_in, PageError};
use super::flash::Flash;
use super::forms::{PostedForm, SignedInForm};
use super::session::{cookie_policy, new_browser_id, PageSession};
use super::views::sign_in::{SignInInput, SignInMessage, SignInPage};
use super::views::CsrfInput;
use super::{csrf, paths, render, see_other};
use crate::error::ApiError;
use crate::services::Origin;
use crate::state::AppState;

/// `GET /`: the pages live under `/ui/`.
pub async fn root() -> HttpResponse {
    see_other(paths::HOME).finish()
}

/// `GET /ui/`: the first of the viewer's companies. An account in no
/// company has nothing to see: its session is ended, and it is told why.
pub async fn home(
    state: web::Data<AppState>,
    session: PageSession,
    origin: Origin,
) -> Result<HttpResponse, PageError> {
    let profile = state.sessions.profile(&session.claims).await?;
    if let Some(company) = profile.companies.first() {
        return Ok(see_other(&paths::api_keys(company.id)).finish());
    }
    state.sessions.logout(&session.claims, origin).await?;
    Err(PageError::SignIn {
        policy: cookie_policy(&state),
        flash: Some(Flash::NoCompany),
    })
}

/// `GET /ui/login`; a browser already signed in goes on to its keys.
pub async fn sign_in_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Option<PageSession>,
) -> HttpResponse {
    if session.is_some() {
        return see_other(paths::HOME).finish();
    }
    let policy = cookie_policy(&state);
    let flash = policy.read(&req, SessionCookie::Flash);
    let message = flash
        .as_deref()
        .and_then(Flash::decode)
        .and_then(|flash| match flash {
            Flash::SignedOut => Some(SignInMessage::SignedOut),
            Flash::SessionEnded => Some(SignInMessage::SessionEnded),
            Flash::NoCompany => Some(SignInMessage::NoCompany),
            Flash::PasswordSet => Some(SignInMessage::PasswordSet),
            Flash::KeyDeleted { .. } | Flash::KeyGone => None,
        });
    let browser_id = policy.read(&req, SessionCookie::BrowserId);
    let mut response = sign_in_form(
        &state,
        policy,
        browser_id,
        String::new(),
        message,
        StatusCode::OK,
    );
    if flash.is_some() {
        cookies::set(&mut response, &policy.removal(SessionCookie::Flash));
    }
    response
}

/// `POST /ui/login`, through the same login as the API: the same answer
/// for an unknown email and a wrong password, and the same throttling.
pub async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: PostedForm<SignInInput>,
    origin: Origin,
) -> Result<HttpResponse, PageError> {
    let PostedForm(input) = form;
    let policy = cookie_policy(&state);
    let browser_id = policy.read(&req, SessionCookie::BrowserId);
    if !form_token_matches(&state, browser_id.as_deref(), &input.csrf_token) {
        let message = Some(SignInMessage::FormExpired);
        return Ok(sign_in_form(
            &state,
            policy,
            None,
            input.email,
            message,
            StatusCode::FORBIDDEN,
        ));
    }
    let refusal = match state
        .sessions
        .login(&input.email, input.password, origin)
        .await
    {
        Ok(pair) => {
            // A new browser id at sign-in: one planted before is worthless.
            return Ok(see_other(paths::HOME)
                .cookie(policy.make(SessionCookie::Access, pair.access_token))
                .cookie(policy.make(SessionCookie::Refresh, pair.refresh_token))
                .cookie(policy.make(SessionCookie::BrowserId, new_browser_id()))
                .finish());
        }
        Err(ApiError::InvalidCredentials) => SignInMessage::InvalidCredentials,
        Err(ApiError::Throttled {
            retry_after_seconds,
        }) => SignInMessage::Throttled {
            retry_after_seconds,
        },
        Err(e) => return Err(e.into()),
    };
    let (status, retry_after) = match refusal {
        SignInMessage::Throttled {
            retry_after_seconds,
        } => (StatusCode::TOO_MANY_REQUESTS, Some(retry_after_seconds)),
        _ => (StatusCode::UNAUTHORIZED, None),
    };
    let mut response = sign_in_form(
        &state,
        policy,
        browser_id,
        input.email,
        Some(refusal),
        status,
    );
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
    }
    Ok(response)
}

/// `POST /ui/logout`: the same logout as the API (this token and its
/// refresh family are revoked), then the cookies are cleared.
pub async fn sign_out(
    state: web::Data<AppState>,
    form: SignedInForm<CsrfInput>,
    origin: Origin,
) -> Result<HttpResponse, PageError> {
    state.sessions.logout(&form.session.claims, origin).await?;
    Ok(to_sign_in(cookie_policy(&state), Some(&Flash::SignedOut)))
}

/// The sign-in page, with a token bound to this browser's id (a new id if
/// it has none, set in a cookie along the way).
fn sign_in_form(
    state: &AppState,
    policy: CookiePolicy,
    browser_id: Option<String>,
    email: String,
    message: Option<SignInMessage>,
    status: StatusCode,
) -> HttpResponse {
    render_bound_form(state, &policy, browser_id, status, |csrf_token| {
        SignInPage {
            email,
            csrf_token,
            message,
        }
    })
}

/// Whether a posted form of a browser not yet signed in (sign-in,
/// invitation) carries the form token bound to this browser's id.
pub(super) fn form_token_matches(
    state: &AppState,
    browser_id: Option<&str>,
    csrf_token: &str,
) -> bool {
    browser_id.is_some_and(|id| csrf::sign_in_token_is_valid(&state.page_mac, id, csrf_token))
}

/// Renders a form of a browser not yet signed in, its token bound to
/// `browser_id`, or to a new id that the response sets as a cookie.
pub(super) fn render_bound_form<P: Template>(
    state: &AppState,
    policy: &CookiePolicy,
    browser_id: Option<String>,
    status: StatusCode,
    page: impl FnOnce(String) -> P,
) -> HttpResponse {
    let (browser_id, is_new) = match browser_id {
        Some(id) => (id, false),
        None => (new_browser_id(), true),
    };
    let page = page(csrf::sign_in_token(&state.page_mac, &browser_id));
    let mut response = render(status, &page);
    if is_new {
        cookies::set(
            &mut response,
            &policy.make(SessionCookie::BrowserId, browser_id),
        );
    }
    response
}
