//! Cross-site request forgery. A state-changing request is accepted only if
//!
//! 1. it comes from our own pages: `Sec-Fetch-Site` is `same-origin` (or
//!    `none`, a person's own action); without that header, `Origin` names
//!    this host or the issuer. A request with neither header did not come
//!    from a current browser, which sends one of them on every `POST`; it
//!    is let through to the token check, which it cannot pass without
//!    having read one of our pages; and
//! 2. it carries a token only our pages hand out: an HMAC tag (under a key
//!    derived from the master key) of this browser's random id, and once
//!    signed in also of the user. A token is worthless in another browser
//!    or for another user, and dies with the session.
//!
//! The session cookies are also `SameSite=Strict`: a cross-site request
//! arrives without them in the first place.

use actix_web::http::header;
use actix_web::HttpRequest;
use uuid::Uuid;

use crate::tokens::PageMac;

const SEC_FETCH_SITE: &str = "sec-fetch-site";

/// Check 1: the request comes from a page of ours.
pub fn from_our_pages(req: &HttpRequest, issuer: &str) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get(SEC_FETCH_SITE) {
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    origin_matches(origin, host, issuer)
}

/// `Origin` is this request's host (as the browser addressed it) or the
/// issuer's origin (when a proxy rewrote `Host`). `null` matches nothing.
fn origin_matches(origin: &str, host: Option<&str>, issuer: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let default_port = match scheme {
        "https" => ":443",
        "http" => ":80",
        _ => return false,
    };
    let same_host = host.is_some_and(|host| {
        host.eq_ignore_ascii_case(authority)
            || host
                .strip_suffix(default_port)
                .is_some_and(|h| h.eq_ignore_ascii_case(authority))
    });
    same_host || origin.eq_ignore_ascii_case(issuer.trim_end_matches('/'))
}

/// Check 2, before sign-in: bound to the browser id alone.
pub fn sign_in_token(mac: &PageMac, browser_id: &str) -> String {
    mac.tag(&[b"sign-in", browser_id.as_bytes()])
}

pub fn sign_in_token_is_valid(mac: &PageMac, browser_id: &str, token: &str) -> bool {
    mac.verify(&[b"sign-in", browser_id.as_bytes()], token)
}

/// Check 2, signed in: bound to the browser id and the user.
pub fn session_token(mac: &PageMac, browser_id: &str, user_id: Uuid) -> String {
    mac.tag(&[b"session", browser_id.as_bytes(), user_id.as_bytes()])
}

pub fn session_token_is_valid(mac: &PageMac, browser_id: &str, user_id: Uuid, token: &str) -> bool {
    mac.verify(
        &[b"session", browser_id.as_bytes(), user_id.as_bytes()],
        token,
    )
}

/// The id a create form reserves for its key, tagged so that a client
/// cannot choose ids of its own: bound to the session and the company.
pub fn key_id_tag(
    mac: &PageMac,
    browser_id: &str,
    user_id: Uuid,
    company_id: Uuid,
    key_id: Uuid,
) -> String {
    mac.tag(&key_id_parts(browser_id, &user_id, &company_id, &key_id))
}

pub fn key_id_tag_is_valid(
    mac: &PageMac,
    browser_id: &str,
    user_id: Uuid,
    company_id: Uuid,
    key_id: Uuid,
    tag: &str,
) -> bool {
    mac.verify(
        &key_id_parts(browser_id, &user_id, &company_id, &key_id),
        tag,
    )
}

fn key_id_parts<'a>(
    browser_id: &'a str,
    user_id: &'a Uuid,
    company_id: &'a Uuid,
    key_id: &'a Uuid,
) -> [&'a [u8]; 5] {
    [
        b"key-id",
        browser_id.as_bytes(),
        user_id.as_bytes(),
        company_id.as_bytes(),
        key_id.as_bytes(),
    ]
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    const ISSUER: &str = "https://auth.example";

    fn allowed(headers: &[(&str, &str)]) -> bool {
        let mut request = TestRequest::post();
        for &(name, value) in headers {
            request = request.insert_header((name, value));
        }
        from_our_pages(&request.to_http_request(), ISSUER)
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        assert!(allowed(&[("sec-fetch-site", "same-origin")]));
        assert!(allowed(&[("sec-fetch-site", "none")]));
        assert!(!allowed(&[("sec-fetch-site", "cross-site")]));
        assert!(!allowed(&[("sec-fetch-site", "same-site")]));
        // Whatever Origin says.
        assert!(!allowed(&[
            ("sec-fetch-site", "cross-site"),
            ("host", "auth.example"),
            ("origin", "https://auth.example"),
        ]));
    }

    #[test]
    fn otherwise_origin_must_be_this_host_or_the_issuer() {
        let host = ("host", "127.0.0.1:8080");
        assert!(allowed(&[host, ("origin", "http://127.0.0.1:8080")]));
        assert!(!allowed(&[host, ("origin", "http://evil.example")]));
        assert!(!allowed(&[host, ("origin", "http://127.0.0.1:8081")]));
        assert!(!allowed(&[host, ("origin", "null")]));
        assert!(allowed(&[
            ("host", "auth.example:443"),
            ("origin", "https://auth.example")
        ]));
        assert!(allowed(&[
            ("host", "latchkey:8080"),
            ("origin", "https://auth.example")
        ]));
        assert!(!allowed(&[
            ("host", "latchkey:8080"),
            ("origin", "https://auth.example.evil")
        ]));
        // Neither header: not a browser; the token check still applies.
        assert!(allowed(&[host]));
    }
}
