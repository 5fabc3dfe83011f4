//! The HTTP API: one module per resource, wired here.

pub mod admin;
pub mod api_keys;
pub mod auth;
pub mod content_encoding;
pub mod extractors;
pub mod forward_auth;
pub mod health;
pub mod introspection;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod operators;
pub mod provisioning;
pub mod request_id;
pub mod request_limits;
pub mod responses;
pub mod revocation;
pub mod security_headers;
pub mod token_form;
pub mod trailing_slash;
pub mod well_known;

use actix_web::http::Method;
use actix_web::{web, FromRequest, Handler, HttpResponse, Resource, Responder, Route};

use crate::error::ApiError;

/// `GET /metrics` alone: on the main port (when `metrics.port` is unset)
/// or on a server of its own.
pub fn metrics_route(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/metrics").route(web::get().to(metrics::metrics)));
}

/// The JSON API's routes, registered with actix. The same table is listed
/// by `route_table`, which the OpenAPI test holds against the document.
pub fn routes(cfg: &mut web::ServiceConfig) {
    for resource in declare().resources {
        cfg.service(resource);
    }
}

/// Every (method, path pattern) registered by `routes`, and `/metrics`
/// (by `metrics_route`); `None` answers any method. Paths are actix
/// patterns (`{original:.*}` included).
pub fn route_table() -> Vec<(Option<Method>, &'static str)> {
    let mut table = declare().table;
    table.push((Some(Method::GET), "/metrics"));
    table
}

fn declare() -> Routes {
    use Method as M;
    let mut api = Routes::default();
    api.at("/healthz", [on(M::GET, health::healthz)]);
    api.at("/readyz", [on(M::GET, health::readyz)]);
    api.at("/.well-known/jwks.json", [on(M::GET, well_known::jwks)]);
    api.at(
        "/.well-known/oauth-authorization-server",
        [on(M::GET, well_known::metadata)],
    );
    api.at("/api/v1/openapi.json", [on(M::GET, openapi::document)]);
    api.at("/api/v1/auth/login", [on(M::POST, auth::login)]);
    api.at("/api/v1/auth/refresh", [on(M::POST, auth::refresh)]);
    api.at("/api/v1/auth/logout", [on(M::POST, auth::logout)]);
    api.at("/api/v1/auth/me", [on(M::GET, auth::me)]);
    api.at("/api/v1/auth/verify", [any(forward_auth::verify)]);
    api.at(
        "/api/v1/introspect",
        [on(M::POST, introspection::introspect)],
    );
    api.at("/api/v1/revoke", [on(M::POST, revocation::revoke)]);
    api.at(
        "/api/v1/companies/{company_id}/api-keys",
        [on(M::POST, api_keys::create), on(M::GET, api_keys::list)],
    );
    api.at(
        "/api/v1/companies/{company_id}/api-keys/{key_id}",
        [on(M::GET, api_keys::show), on(M::DELETE, api_keys::delete)],
    );
    api.at(
        "/api/v1/auth/invitation",
        [on(M::POST, provisioning::accept_invitation)],
    );
    admin_routes(&mut api);
    // Last: its pattern is a regex, which no other route should pay for.
    api.at(
        "/api/v1/auth/verify/{original:.*}",
        [any(forward_auth::verify)],
    );
    api
}

/// `/api/v1/admin/*`: admins only, or (provisioning) admins and
/// provisioning clients.
fn admin_routes(api: &mut Routes) {
    use Method as M;
    api.at(
        "/api/v1/admin/companies",
        [
            on(M::GET, admin::companies),
            on(M::POST, provisioning::create_company),
        ],
    );
    api.at(
        "/api/v1/admin/companies/{company_id}/plan",
        [on(M::PUT, provisioning::set_plan)],
    );
    api.at(
        "/api/v1/admin/companies/{company_id}/api-keys",
        [on(M::GET, admin::company_keys)],
    );
    api.at(
        "/api/v1/admin/companies/{company_id}/members/{user_id}",
        [
            on(M::PUT, provisioning::put_member),
            on(M::DELETE, provisioning::remove_member),
        ],
    );
    api.at(
        "/api/v1/admin/api-keys/{key_id}",
        [on(M::DELETE, admin::delete_key)],
    );
    api.at(
        "/api/v1/admin/users",
        [on(M::POST, provisioning::create_user)],
    );
    api.at(
        "/api/v1/admin/users/{user_id}/disable",
        [on(M::POST, provisioning::disable_user)],
    );
    api.at(
        "/api/v1/admin/users/{user_id}/revoke-tokens",
        [on(M::POST, admin::revoke_user_tokens)],
    );
    api.at(
        "/api/v1/admin/audit-events",
        [on(M::GET, admin::audit_events)],
    );
}

#[derive(Default)]
struct Routes {
    resources: Vec<Resource>,
    table: Vec<(Option<Method>, &'static str)>,
}

/// One handler of a resource, and the method it answers (`None`: any).
struct Endpoint {
    method: Option<Method>,
    route: Route,
}

fn on<F, Args>(method: Method, handler: F) -> Endpoint
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    Endpoint {
        route: web::method(method.clone()).to(handler),
        method: Some(method),
    }
}

fn any<F, Args>(handler: F) -> Endpoint
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    Endpoint {
        route: web::route().to(handler),
        method: None,
    }
}

impl Routes {
    fn at<const N: usize>(&mut self, path: &'static str, endpoints: [Endpoint; N]) {
        let mut resource = resource(path);
        for endpoint in endpoints {
            self.table.push((endpoint.method, path));
            resource = resource.route(endpoint.route);
        }
        self.resources.push(resource);
    }
}

/// A resource whose unknown methods answer 405 in the documented shape.
fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(|| async {
        ApiError::MethodNotAllowed.into_response()
    }))
}

pub async fn not_found() -> HttpResponse {
    ApiError::NotFound.into_response()
}

impl ApiError {
    pub fn into_response(self) -> HttpResponse {
        actix_web::ResponseError::error_response(&self)
    }
}
