//! `/ui/invitation`: where an invitation link leads. The invited user sets
//! a password through the same service as `POST /api/v1/auth/invitation`,
//! then signs in.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::cookies::SessionCookie;
use super::error::{to_sign_in, PageError};
use super::flash::Flash;
use super::forms::PostedForm;
use super::session::cookie_policy;
use super::sign_in::{form_token_matches, render_bound_form};
use super::views::invitation::{InvitationInput, InvitationMessage, InvitationPage};
use crate::domain::Password;
use crate::services::Origin;
use crate::state::AppState;

/// `GET /ui/invitation`; the link's fragment fills in the code (script), or
/// the user pastes it.
pub async fn page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    form(&state, &req, None, StatusCode::OK)
}

/// `POST /ui/invitation`.
pub async fn accept(
    state: web::Data<AppState>,
    req: HttpRequest,
    form_input: PostedForm<InvitationInput>,
    origin: Origin,
) -> Result<HttpResponse, PageError> {
    let PostedForm(input) = form_input;
    let policy = cookie_policy(&state);
    let browser_id = policy.read(&req, SessionCookie::BrowserId);
    if !form_token_matches(&state, browser_id.as_deref(), &input.csrf_token) {
        let message = Some(InvitationMessage::FormExpired);
        return Ok(form(&state, &req, message, StatusCode::FORBIDDEN));
    }
    let password = match Password::parse(input.password) {
        Ok(password) => password,
        Err(why) => {
            let message = Some(InvitationMessage::WeakPassword(why.0));
            return Ok(form(
                &state,
                &req,
                message,
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    use secrecy::ExposeSecret;
    let actor = origin.actor("anonymous".to_owned());
    let accepted = state
        .accounts
        .accept_invitation(input.token.expose_secret(), password, &actor)
        .await?;
    if !accepted {
        let message = Some(InvitationMessage::Unusable);
        return Ok(form(&state, &req, message, StatusCode::BAD_REQUEST));
    }
    Ok(to_sign_in(policy, Some(&Flash::PasswordSet)))
}

/// The form, with a token bound to this browser's id (a new id if it has
/// none, set in a cookie along the way). The invitation code is never
/// written back into the page.
fn form(
    state: &AppState,
    req: &HttpRequest,
    message: Option<InvitationMessage>,
    status: StatusCode,
) -> HttpResponse {
    let policy = cookie_policy(state);
    let browser_id = policy.read(req, SessionCookie::BrowserId);
    render_bound_form(state, &policy, browser_id, status, |csrf_token| {
        InvitationPage {
            csrf_token,
            message,
        }
    })
}
