//! `ApiError`: the one HTTP error type. Its single `ResponseError` impl owns
//! status codes, the JSON error shape and `WWW-Authenticate`.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

pub const INVALID_TOKEN_DETAIL: &str = "The provided token is expired or invalid.";
const REALM: &str = "latchkey";

#[derive(thiserror::Error)]
pub enum ApiError {
    #[error("Authentication credentials were not provided.")]
    NotAuthenticated,
    #[error("{INVALID_TOKEN_DETAIL}")]
    InvalidToken,
    #[error("Invalid email or password.")]
    InvalidCredentials,
    #[error("Client authentication failed.")]
    InvalidClient,
    #[error("{0}")]
    PermissionDenied(&'static str),
    /// The token is valid but lacks a scope the request needs (RFC 6750 §3.1).
    #[error("This token lacks the scope this action needs.")]
    InsufficientScope { scope: String },
    #[error("Your plan does not include API keys.")]
    PlanNotAllowed,
    #[error("This action needs a short-lived (login) token, not an API key.")]
    ShortLivedTokenRequired,
    #[error("The company has reached its plan's limit of active API keys.")]
    ApiKeyLimitReached,
    #[error("Not found.")]
    NotFound,
    #[error("Method not allowed.")]
    MethodNotAllowed,
    #[error("{detail}")]
    Invalid {
        attr: Option<String>,
        detail: String,
    },
    #[error("{0}")]
    ParseError(String),
    #[error("The request body is too large.")]
    PayloadTooLarge,
    #[error("The request's headers are too many or too large.")]
    HeadersTooLarge,
    #[error("Request bodies must not be compressed: send them without a Content-Encoding.")]
    UnsupportedMediaType,
    #[error("Too many requests; retry later.")]
    Throttled { retry_after_seconds: u64 },
    #[error("{0}")]
    ServiceUnavailable(&'static str),
    #[error("A server error occurred.")]
    Unexpected(#[source] anyhow::Error),
}

impl ApiError {
    pub fn invalid(attr: &str, detail: impl Into<String>) -> Self {
        ApiError::Invalid {
            attr: Some(attr.to_owned()),
            detail: detail.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::NotAuthenticated => "not_authenticated",
            ApiError::InvalidToken => "invalid_token",
            ApiError::InvalidCredentials => "invalid_credentials",
            ApiError::InvalidClient => "invalid_client",
            ApiError::PermissionDenied(_) => "permission_denied",
            ApiError::InsufficientScope { .. } => "insufficient_scope",
            ApiError::PlanNotAllowed => "plan_not_allowed",
            ApiError::ShortLivedTokenRequired => "short_lived_token_required",
            ApiError::ApiKeyLimitReached => "api_key_limit_reached",
            ApiError::NotFound => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Invalid { .. } => "invalid",
            ApiError::ParseError(_) => "parse_error",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::HeadersTooLarge => "headers_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::Throttled { .. } => "throttled",
            ApiError::ServiceUnavailable(_) => "service_unavailable",
            ApiError::Unexpected(_) => "error",
        }
    }
}

impl std::fmt::Debug for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        error_chain_fmt(self, f)
    }
}

/// Writes an error and its whole `source()` chain, for logs.
pub fn error_chain_fmt(
    e: &impl std::error::Error,
    f: &mut std::fmt::Formatter<'_>,
) -> std::fmt::Result {
    writeln!(f, "{e}")?;
    let mut current = e.source();
    while let Some(cause) = current {
        writeln!(f, "Caused by:\n\t{cause}")?;
        current = cause.source();
    }
    Ok(())
}

/// The body of every error answer.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody<'a> {
    /// `validation_error` for 400, `server_error` for 5xx, else `client_error`.
    #[serde(rename = "type")]
    #[schema(value_type = String, pattern = "^(validation_error|client_error|server_error)$")]
    kind: &'static str,
    /// Exactly one item.
    #[schema(value_type = Vec<ErrorItem>, min_items = 1, max_items = 1)]
    errors: [ErrorItem<'a>; 1],
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorItem<'a> {
    /// One of the documented codes, such as `invalid_token`.
    #[schema(value_type = String, example = "invalid_token")]
    code: &'static str,
    #[schema(value_type = String)]
    detail: &'a str,
    /// The offending field, or null.
    #[schema(value_type = Option<String>)]
    attr: Option<&'a str>,
    #[schema(value_type = Option<Object>)]
    extra: Option<serde_json::Value>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::NotAuthenticated
            | ApiError::InvalidToken
            | ApiError::InvalidCredentials
            | ApiError::InvalidClient => StatusCode::UNAUTHORIZED,
            ApiError::PermissionDenied(_)
            | ApiError::InsufficientScope { .. }
            | ApiError::PlanNotAllowed
            | ApiError::ShortLivedTokenRequired
            | ApiError::ApiKeyLimitReached => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Invalid { .. } | ApiError::ParseError(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if let ApiError::Unexpected(_) = self {
            tracing::error!(error = ?self, "request failed");
        }
        let kind = match status.as_u16() {
            400 => "validation_error",
            500..=599 => "server_error",
            _ => "client_error",
        };
        let detail = self.to_string();
        let attr = match self {
            ApiError::Invalid { attr, .. } => attr.as_deref(),
            _ => None,
        };
        let extra = match self {
            ApiError::InsufficientScope { scope } => Some(serde_json::json!({ "scope": scope })),
            _ => None,
        };
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            ApiError::NotAuthenticated | ApiError::InvalidCredentials => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    format!("Bearer realm=\"{REALM}\""),
                ));
            }
            ApiError::InvalidToken => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    format!("Bearer realm=\"{REALM}\", error=\"invalid_token\""),
                ));
            }
            ApiError::InvalidClient => {
                response
                    .insert_header((header::WWW_AUTHENTICATE, format!("Basic realm=\"{REALM}\"")));
            }
            // `scope` is a checked scope token: no quote or backslash in it.
            ApiError::InsufficientScope { scope } => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    format!(
                        "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{scope}\""
                    ),
                ));
            }
            ApiError::Throttled {
                retry_after_seconds,
            } => {
                response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
            }
            _ => {}
        }
        response.json(ErrorBody {
            kind,
            errors: [ErrorItem {
                code: self.code(),
                detail: &detail,
                attr,
                extra,
            }],
        })
    }
}

impl ApiError {
    /// The access state has not caught up with the log for too long.
    pub fn stale_access_state() -> Self {
        ApiError::ServiceUnavailable("Revocation state is stale; refusing to vouch for tokens.")
    }

    /// The database cannot be reached: retry later.
    pub fn database_unavailable() -> Self {
        ApiError::ServiceUnavailable("The service is temporarily unavailable.")
    }

    /// A body that could not be read: too large, or cut short.
    pub fn from_payload_error(e: actix_web::Error) -> Self {
        use actix_web::error::PayloadError;
        match e.as_error::<PayloadError>() {
            Some(PayloadError::Overflow) => ApiError::PayloadTooLarge,
            _ if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::PayloadTooLarge
            }
            _ => ApiError::ParseError("The request body could not be read.".to_owned()),
        }
    }
}

impl From<crate::domain::FieldError> for ApiError {
    fn from(e: crate::domain::FieldError) -> Self {
        ApiError::invalid(e.attr, e.detail)
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        if crate::store::is_unavailable(&e) {
            tracing::warn!(error = %e, "database unavailable");
            return ApiError::database_unavailable();
        }
        ApiError::Unexpected(e.into())
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        if crate::store::is_unavailable_any(&e) {
            tracing::warn!(error = %e, "database unavailable");
            return ApiError::database_unavailable();
        }
        ApiError::Unexpected(e)
    }
}
