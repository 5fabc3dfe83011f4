//! `PageError`: what a page does instead of rendering, as a browser page
//! (or a redirect), never the API's JSON.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use super::cookies::{CookiePolicy, SessionCookie};
use super::flash::Flash;
use super::views::error::ErrorPage;
use super::{paths, render, see_other};
use crate::error::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// No session, or one that has ended: to the sign-in page, with the
    /// session's cookies cleared and, if it ended, a word saying so.
    #[error("sign-in required")]
    SignIn {
        policy: CookiePolicy,
        flash: Option<Flash>,
    },
    /// A state-changing request that did not come from our pages.
    #[error("cross-site request refused")]
    CrossSite,
    /// A form without a valid token for this session: stale or forged.
    #[error("form token refused")]
    FormExpired,
    /// The company in the path is not (or no longer) the viewer's.
    #[error("not a company of the viewer")]
    NotTheirCompany,
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::SignIn { .. } | PageError::NotTheirCompany => StatusCode::SEE_OTHER,
            PageError::CrossSite | PageError::FormExpired => StatusCode::FORBIDDEN,
            PageError::Api(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            PageError::SignIn { policy, flash } => to_sign_in(*policy, flash.as_ref()),
            PageError::NotTheirCompany => see_other(paths::HOME).finish(),
            PageError::CrossSite => {
                tracing::warn!("cross-site form post refused");
                error_page(
                    StatusCode::FORBIDDEN,
                    "Request refused",
                    "This request did not come from a latchkey page, so it was refused.",
                )
            }
            PageError::FormExpired => error_page(
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The page was older than your session. Go back, reload it, and try again.",
            ),
            PageError::Api(e) => api_error_page(e),
        }
    }
}

/// To the sign-in page, with the session's cookies cleared, and a word on
/// why when there is one.
pub fn to_sign_in(policy: CookiePolicy, flash: Option<&Flash>) -> HttpResponse {
    let mut response = see_other(paths::SIGN_IN);
    for which in SessionCookie::SESSION {
        response.cookie(policy.removal(which));
    }
    if let Some(flash) = flash {
        response.cookie(policy.make(SessionCookie::Flash, flash.encode()));
    }
    response.finish()
}

fn api_error_page(e: &ApiError) -> HttpResponse {
    let status = e.status_code();
    let (title, message) = match e {
        ApiError::NotFound => (
            "Page not found",
            "There is no page at this address.".to_owned(),
        ),
        ApiError::Unexpected(_) => {
            tracing::error!(error = ?e, "page failed");
            (
                "Something went wrong",
                "Please try again in a moment.".to_owned(),
            )
        }
        _ => (status.canonical_reason().unwrap_or("Error"), e.to_string()),
    };
    let mut response = error_page(status, title, &message);
    if let ApiError::Throttled {
        retry_after_seconds,
    } = e
    {
        if let Ok(value) = header::HeaderValue::from_str(&retry_after_seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

fn error_page(status: StatusCode, title: &'static str, message: &str) -> HttpResponse {
    render(
        status,
        &ErrorPage {
            title,
            message: message.to_owned(),
        },
    )
}
