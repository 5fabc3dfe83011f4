//! Request extractors: bodies parsed with field-level errors, the bearer
//! token (checked by `TokenAuthenticator`), HTTP Basic client credentials,
//! and where a request came from.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::services::Origin;
use crate::state::AppState;
use crate::tokens::{Claims, TokenKind};

/// A JSON body. Syntax errors are `parse_error`; a missing or mistyped field is
/// `invalid` with `attr` naming it.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = RawBody::from_request(req, payload);
        Box::pin(async move { parse_json(&body.await?.0).map(ApiJson) })
    }
}

/// The raw body, with a too-large or broken one reported in our error shape.
pub struct RawBody(pub web::Bytes);

impl FromRequest for RawBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            body.await
                .map(RawBody)
                .map_err(ApiError::from_payload_error)
        })
    }
}

pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() {
            let attr = missing_field(&inner).or_else(|| (path != ".").then_some(path));
            ApiError::Invalid {
                attr,
                detail: first_sentence(&inner),
            }
        } else {
            ApiError::ParseError(format!("Malformed JSON body: {}", first_sentence(&inner)))
        }
    })
}

fn missing_field(e: &serde_json::Error) -> Option<String> {
    let msg = e.to_string();
    let rest = msg.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_owned())
}

/// serde's message without its " at line 1 column 9" suffix, capitalised.
fn first_sentence(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or_default();
    let mut chars = msg.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => "Invalid value.".to_owned(),
    }
}

/// The bearer token of the request, not yet checked: `not_authenticated`
/// without an `Authorization` header, `invalid_token` with one that holds
/// no bearer token.
pub fn bearer_token(req: &HttpRequest) -> Result<&str, ApiError> {
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let value = values.next().ok_or(ApiError::NotAuthenticated)?;
    // Two credentials: a proxy in front may have judged the other one.
    if values.next().is_some() {
        return Err(ApiError::InvalidToken);
    }
    let token = value.to_str().ok().and_then(|value| {
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim())
            .filter(|t| !t.is_empty())
    });
    token.ok_or(ApiError::InvalidToken)
}

/// A caller holding a valid, unrevoked token of either kind.
pub struct Authenticated {
    pub claims: Arc<Claims>,
}

impl Authenticated {
    pub fn require_short_lived(&self) -> Result<(), ApiError> {
        match self.claims.kind {
            TokenKind::ShortLived => Ok(()),
            TokenKind::ApiKey => Err(ApiError::ShortLivedTokenRequired),
        }
    }
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<Authenticated, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("application state missing")))?;
    let token = bearer_token(req)?;
    let claims = state.authenticator.authenticate(token)?;
    Ok(Authenticated { claims })
}

/// Where a request came from, for the audit log: the client's address (the
/// peer's, or behind a trusted proxy the forwarded one) and a bounded
/// `User-Agent`.
impl FromRequest for Origin {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(origin_of(req)))
    }
}

/// Where `req` came from: the peer address and a bounded `User-Agent`.
pub fn origin_of(req: &HttpRequest) -> Origin {
    // The client as the trusted-proxy rule found it, else the peer.
    let ip = req
        .extensions()
        .get::<super::request_id::ClientIp>()
        .map(|client| client.0)
        .or_else(|| req.peer_addr().map(|a| a.ip()))
        .map(|ip| ip.to_string());
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(256).collect());
    Origin { ip, user_agent }
}

/// HTTP Basic client credentials (RFC 6749 §2.3.1: each part form-encoded),
/// decoded into one buffer: this is on the introspection hot path.
pub struct BasicCredentials {
    decoded: String,
    colon: usize,
}

impl BasicCredentials {
    pub fn from_request(req: &HttpRequest) -> Option<Self> {
        Self::parse(req.headers().get(header::AUTHORIZATION)?.to_str().ok()?)
    }

    /// Reads an `Authorization` header value.
    pub fn parse(value: &str) -> Option<Self> {
        use base64::Engine;
        let (scheme, encoded) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let mut decoded = String::from_utf8(decoded).ok()?;
        if decoded.contains(['%', '+']) {
            let (id, secret) = decoded.split_once(':')?;
            let form_decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8()
                    .ok()
                    .map(|c| c.into_owned())
            };
            let (id, secret) = (form_decode(id)?, form_decode(secret)?);
            decoded = format!("{id}:{secret}");
            let colon = id.len();
            return Some(BasicCredentials { decoded, colon });
        }
        let colon = decoded.find(':')?;
        Some(BasicCredentials { decoded, colon })
    }

    pub fn client_id(&self) -> &str {
        &self.decoded[..self.colon]
    }

    pub fn client_secret(&self) -> &str {
        &self.decoded[self.colon + 1..]
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    use super::BasicCredentials;

    fn basic(raw: &str) -> String {
        format!("Basic {}", STANDARD.encode(raw))
    }

    fn parsed(value: &str) -> Option<(String, String)> {
        BasicCredentials::parse(value)
            .map(|c| (c.client_id().to_owned(), c.client_secret().to_owned()))
    }

    #[test]
    fn plain_credentials_split_at_the_first_colon() {
        let pair = |id: &str, secret: &str| Some((id.to_owned(), secret.to_owned()));
        assert_eq!(parsed(&basic("billing:s3cret")), pair("billing", "s3cret"));
        assert_eq!(parsed(&basic("billing:a:b")), pair("billing", "a:b"));
        assert_eq!(parsed(&basic("billing:")), pair("billing", ""));
        assert_eq!(
            parsed(&format!("bAsIc   {}", STANDARD.encode("a:b"))),
            pair("a", "b")
        );
    }

    #[test]
    fn each_part_is_form_decoded() {
        let value = basic("my%20client:p%3As+s");
        assert_eq!(
            parsed(&value),
            Some(("my client".to_owned(), "p:s s".to_owned()))
        );
    }

    #[test]
    fn anything_else_is_no_credentials() {
        for value in [
            "Bearer abc".to_owned(),
            "Basic".to_owned(),
            "Basic !!!notbase64".to_owned(),
            basic("no colon here"),
            format!("Basic {}", STANDARD.encode([0xff, b':', b'x'])),
        ] {
            assert_eq!(parsed(&value), None, "{value}");
        }
    }
}
