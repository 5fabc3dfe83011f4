//! Forms posted to the pages: refused unless they come from our pages,
//! parsed, and, once signed in, checked against the session's CSRF token.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use super::csrf;
use super::error::PageError;
use super::session::{app_state, PageSession};
use crate::error::ApiError;

/// A form that carries a CSRF token.
pub trait CsrfProtected {
    fn csrf_token(&self) -> &str;
}

/// A form posted from one of our pages, parsed; its token not yet checked.
pub struct PostedForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for PostedForm<T> {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let allowed = app_state(req)
            .map(|state| csrf::from_our_pages(req, &state.settings.issuer))
            .unwrap_or(false);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !allowed {
                return Err(PageError::CrossSite);
            }
            let body = body.await.map_err(ApiError::from_payload_error)?;
            let form = serde_urlencoded::from_bytes(&body)
                .map_err(|_| ApiError::ParseError("The form could not be read.".to_owned()))?;
            Ok(PostedForm(form))
        })
    }
}

/// A form posted by a signed-in browser, with the session's own token.
pub struct SignedInForm<T> {
    pub session: PageSession,
    pub input: T,
}

impl<T: DeserializeOwned + CsrfProtected + 'static> FromRequest for SignedInForm<T> {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = PostedForm::<T>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            // Refused before the session is touched: a cross-site post
            // never even renews it.
            let PostedForm(input) = form.await?;
            let session = PageSession::extract(&req).await?;
            if !session.accepts_csrf_token(app_state(&req)?, input.csrf_token()) {
                return Err(PageError::FormExpired);
            }
            Ok(SignedInForm { session, input })
        })
    }
}
