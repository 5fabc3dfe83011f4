//! The `token` parameter of an RFC 7662 or RFC 7009 body.

use std::borrow::Cow;

use actix_web::http::header;
use actix_web::HttpRequest;
use serde::Deserialize;

use super::extractors::parse_json;
use crate::error::ApiError;

/// The body of RFC 7662 and RFC 7009 requests. `token_type_hint` may be
/// sent and is ignored.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    #[serde(default)]
    token: String,
}

/// The `token` of the body: form-encoded (the OAuth default), or JSON when
/// the request says so. `token_type_hint` is accepted and never trusted:
/// every token is checked for what it is. Borrowed from the body when it
/// can be: this is the introspection hot path.
pub fn token_from_body<'a>(req: &HttpRequest, body: &'a [u8]) -> Result<Cow<'a, str>, ApiError> {
    let is_json = req.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        let v = v.as_bytes().trim_ascii_start();
        v.len() >= 16 && v[..16].eq_ignore_ascii_case(b"application/json")
    });
    let token = if is_json {
        Cow::Owned(parse_json::<TokenRequest>(body)?.token)
    } else {
        form_token(body)?
    };
    Ok(match token {
        Cow::Borrowed(t) => Cow::Borrowed(t.trim()),
        Cow::Owned(t) => Cow::Owned(t.trim().to_owned()),
    })
}

/// Tokens are base64url and dots, so the usual body needs no decoding: with
/// no `%` or `+` anywhere, every name reads as sent, and one `token` pair is
/// read here, borrowed. Anything else goes through the full form parser,
/// which also refuses a second `token` (`token=A&token=B`): both readings
/// must take the same token, or none.
fn form_token(body: &[u8]) -> Result<Cow<'_, str>, ApiError> {
    let malformed =
        |e: &dyn std::fmt::Display| ApiError::ParseError(format!("Malformed form body: {e}."));
    if memchr::memchr2(b'%', b'+', body).is_none() {
        let mut tokens = form_pairs(body).filter(|pair| {
            pair.strip_prefix(b"token")
                .is_some_and(|rest| rest.is_empty() || rest[0] == b'=')
        });
        if let (Some(pair), None) = (tokens.next(), tokens.next()) {
            let value = pair.strip_prefix(b"token=").unwrap_or_default();
            return std::str::from_utf8(value)
                .map(Cow::Borrowed)
                .map_err(|e| malformed(&e));
        }
    }
    serde_urlencoded::from_bytes::<TokenRequest>(body)
        .map(|request| Cow::Owned(request.token))
        .map_err(|e| malformed(&e))
}

/// The `&`-separated pairs of a form body. memchr, not a byte-at-a-time
/// split: a token is hundreds of bytes, and scanning them one by one cost
/// more than the rest of an introspection's parsing (callgrind).
fn form_pairs(body: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(body);
    std::iter::from_fn(move || {
        let current = rest?;
        match memchr::memchr(b'&', current) {
            Some(at) => {
                rest = Some(&current[at + 1..]);
                Some(&current[..at])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(body: &str) -> Vec<&str> {
        form_pairs(body.as_bytes())
            .map(|pair| std::str::from_utf8(pair).unwrap())
            .collect()
    }

    #[test]
    fn form_pairs_split_as_a_byte_split_would() {
        for body in ["", "a", "a=1&b=2", "&", "a&&b", "token=x&", "&token=y"] {
            let expected: Vec<&str> = body.split('&').collect();
            assert_eq!(pairs(body), expected, "{body:?}");
        }
    }

    #[test]
    fn the_plain_token_is_borrowed_and_anything_encoded_is_decoded() {
        assert!(matches!(
            form_token(b"a=1&token=abc.def"),
            Ok(Cow::Borrowed("abc.def"))
        ));
        assert_eq!(form_token(b"token=a%2Eb").unwrap(), "a.b");
        assert_eq!(form_token(b"token=a+b").unwrap(), "a b");
        assert_eq!(form_token(b"x=1").unwrap(), "");
        assert_eq!(form_token(b"token").unwrap(), "");
        assert!(matches!(
            form_token(b"tokens=x&token=abc"),
            Ok(Cow::Borrowed("abc"))
        ));
        assert!(form_token(b"token=\xff").is_err());
    }

    #[test]
    fn a_second_token_is_refused_however_it_is_spelt() {
        for body in [
            &b"token=abc&token=def"[..],
            b"token=abc&token",
            b"token=a%2Eb&token=def",
            b"tok%65n=abc&token=def",
            b"token=abc&tok%65n=def",
            b"token=a+b&token=def",
        ] {
            assert!(
                form_token(body).is_err(),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
