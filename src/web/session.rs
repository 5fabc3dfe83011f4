//! A signed-in browser: its login token, checked on every page by the same
//! in-memory check as the API (so a session cut off from outside ends at
//! once, on every replica), and renewed transparently with its refresh
//! token through the same sessions service, which refuses a cut-off user.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use secrecy::SecretString;
use uuid::Uuid;

use super::cookies::{CookiePolicy, SessionCookie};
use super::csrf;
use super::error::PageError;
use super::flash::Flash;
use crate::error::ApiError;
use crate::services::Origin;
use crate::services::TokenRejection;
use crate::state::AppState;
use crate::tokens::{random_secret, Claims, TokenKind};

pub struct PageSession {
    pub claims: Arc<Claims>,
    browser_id: String,
}

/// New tokens from a transparent refresh, for `set_renewed_cookies`.
struct RenewedTokens {
    access: String,
    refresh: String,
}

pub fn app_state(req: &HttpRequest) -> Result<&web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("application state missing")))
}

pub fn cookie_policy(state: &AppState) -> CookiePolicy {
    CookiePolicy::for_issuer(&state.settings.issuer)
}

/// A fresh random id for a browser's visit (256 bits).
pub fn new_browser_id() -> String {
    random_secret()
}

impl PageSession {
    async fn resume(req: &HttpRequest) -> Result<PageSession, PageError> {
        let state = app_state(req)?;
        let policy = cookie_policy(state);
        let access = policy.read(req, SessionCookie::Access);
        let refresh = policy.read(req, SessionCookie::Refresh);
        let had_session = access.is_some() || refresh.is_some();
        let ended = || PageError::SignIn {
            policy,
            flash: had_session.then_some(Flash::SessionEnded),
        };
        let browser_id = policy
            .read(req, SessionCookie::BrowserId)
            .filter(|_| had_session)
            .ok_or_else(ended)?;
        if let Some(access) = access {
            match state.authenticator.authenticate(&access) {
                Ok(claims) if claims.kind == TokenKind::ShortLived => {
                    return Ok(PageSession { claims, browser_id });
                }
                Ok(_) => return Err(ended()),
                Err(TokenRejection::Stale) => return Err(ApiError::stale_access_state().into()),
                Err(TokenRejection::Invalid) => {}
            }
        }
        let refresh = refresh.ok_or_else(ended)?;
        let origin = Origin::from_request(req, &mut Payload::None)
            .into_inner()
            .unwrap_or_default();
        let refresh = SecretString::from(refresh);
        let pair = match state.sessions.refresh(refresh, origin).await {
            Ok(pair) => pair,
            Err(ApiError::InvalidToken) => return Err(ended()),
            Err(e) => return Err(e.into()),
        };
        let claims = state
            .authenticator
            .authenticate(&pair.access_token)
            .map_err(|_| ended())?;
        req.extensions_mut().insert(RenewedTokens {
            access: pair.access_token,
            refresh: pair.refresh_token,
        });
        Ok(PageSession { claims, browser_id })
    }

    pub fn user_id(&self) -> Uuid {
        self.claims.sub
    }

    /// The token every form of this session's pages carries.
    pub fn csrf_token(&self, state: &AppState) -> String {
        csrf::session_token(&state.page_mac, &self.browser_id, self.user_id())
    }

    pub fn accepts_csrf_token(&self, state: &AppState, token: &str) -> bool {
        csrf::session_token_is_valid(&state.page_mac, &self.browser_id, self.user_id(), token)
    }

    /// The tag that lets a create form reserve `key_id` in `company_id`.
    pub fn key_id_tag(&self, state: &AppState, company_id: Uuid, key_id: Uuid) -> String {
        csrf::key_id_tag(
            &state.page_mac,
            &self.browser_id,
            self.user_id(),
            company_id,
            key_id,
        )
    }

    pub fn key_id_is_reserved(
        &self,
        state: &AppState,
        company_id: Uuid,
        key_id: Uuid,
        tag: &str,
    ) -> bool {
        let mac = &state.page_mac;
        csrf::key_id_tag_is_valid(
            mac,
            &self.browser_id,
            self.user_id(),
            company_id,
            key_id,
            tag,
        )
    }
}

impl FromRequest for PageSession {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { PageSession::resume(&req).await })
    }
}

/// Middleware of the pages: after a transparent refresh, whatever the page
/// answers carries the renewed tokens, unless it set the session's cookies
/// itself (signing out clears them).
pub async fn set_renewed_cookies(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(req).await?;
    let renewed = response
        .request()
        .extensions_mut()
        .remove::<RenewedTokens>();
    let Some(renewed) = renewed else {
        return Ok(response);
    };
    let Ok(state) = app_state(response.request()) else {
        return Ok(response);
    };
    let policy = cookie_policy(state);
    let access_name = format!("{}=", policy.name(SessionCookie::Access));
    let sets_session = response
        .headers()
        .get_all(header::SET_COOKIE)
        .any(|value| value.as_bytes().starts_with(access_name.as_bytes()));
    if !sets_session {
        let cookies = [
            policy.make(SessionCookie::Access, renewed.access),
            policy.make(SessionCookie::Refresh, renewed.refresh),
        ];
        for cookie in cookies {
            response.response_mut().add_cookie(&cookie)?;
        }
    }
    Ok(response)
}
