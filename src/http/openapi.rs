//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document, generated from the
//! handlers' `#[utoipa::path]` attributes and the types they read and write.

use std::sync::LazyLock;

use actix_web::HttpResponse;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr};
use utoipa::OpenApi;

use super::{
    admin, api_keys, auth, forward_auth, health, introspection, metrics, provisioning, revocation,
    well_known,
};

pub const PATH: &str = "/api/v1/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "latchkey",
        description = "A standalone authentication service: login tokens, API keys, \
            introspection (RFC 7662), revocation (RFC 7009) and forward auth.",
        license(name = "MIT OR Apache-2.0"),
    ),
    paths(
        health::healthz,
        health::readyz,
        well_known::jwks,
        well_known::metadata,
        document,
        auth::login,
        auth::refresh,
        auth::logout,
        auth::me,
        forward_auth::verify,
        forward_auth::verify_with_path,
        introspection::introspect,
        revocation::revoke,
        api_keys::create,
        api_keys::list,
        api_keys::show,
        api_keys::delete,
        provisioning::accept_invitation,
        admin::companies,
        admin::company_keys,
        admin::delete_key,
        admin::revoke_user_tokens,
        admin::audit_events,
        provisioning::create_company,
        provisioning::set_plan,
        provisioning::create_user,
        provisioning::disable_user,
        provisioning::put_member,
        provisioning::remove_member,
        metrics::metrics,
    ),
    modifiers(&SecuritySchemes, &CommonErrors),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "operations", description = "Prometheus metrics, for monitoring"),
        (name = "discovery", description = "Keys, metadata and this document"),
        (name = "auth", description = "Login tokens"),
        (name = "api-keys", description = "A company's API keys"),
        (name = "introspection", description = "RFC 7662 and RFC 7009, for service clients"),
        (name = "forward-auth", description = "For gateways"),
        (name = "admin", description = "For platform admins holding a login token"),
        (name = "provisioning", description = "For platform admins and service clients granted provisioning"),
    )
)]
pub struct ApiDoc;

/// The document, built once.
pub fn openapi() -> &'static Document {
    static DOCUMENT: LazyLock<Document> = LazyLock::new(ApiDoc::openapi);
    &DOCUMENT
}

#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "discovery",
    responses((status = 200, description = "This OpenAPI 3.1 document", body = Object)))]
pub async fn document() -> HttpResponse {
    static JSON: LazyLock<String> =
        LazyLock::new(|| openapi().to_json().expect("the document serializes"));
    HttpResponse::Ok()
        .content_type("application/json")
        .body(JSON.as_str())
}

/// `bearer`: a login token or an API key. `client_basic`: a service
/// client's id and secret (RFC 6749 §2.3.1).
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some("A login token, or an API key where one is accepted"))
            .build();
        let basic = HttpBuilder::new()
            .scheme(HttpAuthScheme::Basic)
            .description(Some("A service client's id and secret"))
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        components.add_security_scheme("client_basic", SecurityScheme::Http(basic));
    }
}

/// The errors any route may answer, added where a route does not name
/// them itself: `500 error` everywhere; `413` and `415` on every body.
struct CommonErrors;

impl utoipa::Modify for CommonErrors {
    fn modify(&self, openapi: &mut Document) {
        let error = |description: &str| {
            let content = ContentBuilder::new()
                .schema(Some(RefOr::Ref(Ref::from_schema_name("Error"))))
                .build();
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content("application/json", content)
                    .build(),
            )
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                let has_body = operation.request_body.is_some();
                responses
                    .entry("500".to_owned())
                    .or_insert_with(|| error("`error`: a bug, never caused by input"));
                responses
                    .entry("431".to_owned())
                    .or_insert_with(|| error("`headers_too_large`"));
                if has_body {
                    responses
                        .entry("413".to_owned())
                        .or_insert_with(|| error("`payload_too_large`"));
                    responses
                        .entry("415".to_owned())
                        .or_insert_with(|| error("`unsupported_media_type`: a compressed body"));
                }
            }
        }
    }
}
