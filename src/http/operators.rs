//! Extractors for the admin and provisioning API: who the caller acts as.
//! The rules are in `services::Operators`; this only reads the request.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use super::extractors::{Authenticated, BasicCredentials};
use crate::error::ApiError;
use crate::services::{Operators, Origin};
use crate::state::AppState;
use crate::store::audit::Actor;

/// A platform admin holding a login token.
pub struct AdminCaller(pub Actor);

/// A platform admin, or a service client granted provisioning (HTTP Basic).
pub struct ProvisioningCaller(pub Actor);

type Extracted<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("application state missing")))
}

fn origin(req: &HttpRequest) -> Origin {
    Origin::from_request(req, &mut Payload::None)
        .into_inner()
        .unwrap_or_default()
}

/// What a refusal's audit row names: the method and the path (at most 200
/// bytes of it; a path carries ids, never a secret).
fn request_line(req: &HttpRequest) -> String {
    let mut path = req.path();
    if path.len() > 200 {
        let cut = (0..=200)
            .rev()
            .find(|i| path.is_char_boundary(*i))
            .unwrap_or(0);
        path = &path[..cut];
    }
    format!("{} {path}", req.method())
}

/// Whether the request signs with HTTP Basic (a service client).
fn is_basic(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
}

impl FromRequest for AdminCaller {
    type Error = ApiError;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if is_basic(req) {
            // A service client, whoever it is, is not an admin.
            return Box::pin(async { Err(Operators::admins_only()) });
        }
        let auth = Authenticated::from_request(req, payload).into_inner();
        let (state, origin, request) = (state(req), origin(req), request_line(req));
        Box::pin(async move {
            let (auth, state) = (auth?, state?);
            let actor = state
                .operators
                .admin(&auth.claims, origin, &request)
                .await?;
            Ok(AdminCaller(actor))
        })
    }
}

impl FromRequest for ProvisioningCaller {
    type Error = ApiError;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !is_basic(req) {
            let admin = AdminCaller::from_request(req, payload);
            return Box::pin(async move { Ok(ProvisioningCaller(admin.await?.0)) });
        }
        let credentials = BasicCredentials::from_request(req).ok_or(ApiError::InvalidClient);
        let (state, origin, request) = (state(req), origin(req), request_line(req));
        Box::pin(async move {
            let (credentials, state) = (credentials?, state?);
            let client_id = credentials.client_id();
            let secret = credentials.client_secret();
            let actor = state
                .operators
                .provisioning_client(client_id, secret, origin, &request)
                .await?;
            Ok(ProvisioningCaller(actor))
        })
    }
}
