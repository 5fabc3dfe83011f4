//! The cookies of a browser session. The session's tokens live only here,
//! out of reach of any script: `HttpOnly`, `SameSite=Strict`, and, whenever
//! the issuer is https, `Secure` under a `__Host-` name.
//!
//! A `__Host-` cookie must have `Path=/` (browsers refuse it otherwise), and
//! in return no other host, not even a sibling subdomain, can set or shadow
//! it. That is worth more than keeping the cookies off `/api`, which never
//! reads them; so `Path=/ui` is used only on plain http (local use).

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse};

/// A flash message lives a minute: long enough for one redirect.
const FLASH_SECONDS: i64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionCookie {
    /// The short-lived login token.
    Access,
    /// The refresh token that renews it.
    Refresh,
    /// A random id for this browser's visit, which CSRF tokens are bound
    /// to; issued with the sign-in form and replaced at sign-in.
    BrowserId,
    /// A one-line message for the next page, e.g. after a deletion.
    Flash,
}

impl SessionCookie {
    /// Every cookie that belongs to a signed-in session.
    pub const SESSION: [SessionCookie; 3] = [
        SessionCookie::Access,
        SessionCookie::Refresh,
        SessionCookie::BrowserId,
    ];

    fn names(self) -> (&'static str, &'static str) {
        match self {
            SessionCookie::Access => ("__Host-latchkey-access", "latchkey-access"),
            SessionCookie::Refresh => ("__Host-latchkey-refresh", "latchkey-refresh"),
            SessionCookie::BrowserId => ("__Host-latchkey-browser", "latchkey-browser"),
            SessionCookie::Flash => ("__Host-latchkey-flash", "latchkey-flash"),
        }
    }
}

/// How this deployment names and scopes its cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookiePolicy {
    secure: bool,
}

impl CookiePolicy {
    /// Secure cookies whenever the issuer (the public URL) is https.
    pub fn for_issuer(issuer: &str) -> Self {
        let scheme = issuer.split_once("://").map_or("", |(scheme, _)| scheme);
        CookiePolicy {
            secure: scheme.eq_ignore_ascii_case("https"),
        }
    }

    pub fn name(self, which: SessionCookie) -> &'static str {
        let (secure, plain) = which.names();
        if self.secure {
            secure
        } else {
            plain
        }
    }

    pub fn read(self, req: &HttpRequest, which: SessionCookie) -> Option<String> {
        req.cookie(self.name(which))
            .map(|c| c.value().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// A cookie that lasts as long as the browser session (a flash, a minute).
    pub fn make(self, which: SessionCookie, value: String) -> Cookie<'static> {
        let mut cookie = Cookie::build(self.name(which), value)
            .path(if self.secure { "/" } else { "/ui" })
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.secure)
            .finish();
        if which == SessionCookie::Flash {
            cookie.set_max_age(time::Duration::seconds(FLASH_SECONDS));
        }
        cookie
    }

    /// Tells the browser to forget the cookie.
    pub fn removal(self, which: SessionCookie) -> Cookie<'static> {
        let mut cookie = self.make(which, String::new());
        cookie.make_removal();
        cookie
    }
}

/// Adds a cookie to a built response. Ours are plain ASCII names and
/// base64url values, which always make a valid header.
pub fn set(response: &mut HttpResponse, cookie: &Cookie<'_>) {
    if let Err(e) = response.add_cookie(cookie) {
        tracing::error!(error = %e, "a cookie could not be set");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_issuers_get_host_only_secure_cookies() {
        let secure = CookiePolicy::for_issuer("HTTPS://auth.example");
        let cookie = secure.make(SessionCookie::Access, "v".into()).to_string();
        assert_eq!(
            cookie,
            "__Host-latchkey-access=v; HttpOnly; SameSite=Strict; Secure; Path=/"
        );

        let plain = CookiePolicy::for_issuer("http://127.0.0.1:8080");
        let cookie = plain.make(SessionCookie::Refresh, "v".into()).to_string();
        assert_eq!(
            cookie,
            "latchkey-refresh=v; HttpOnly; SameSite=Strict; Path=/ui"
        );
        let flash = plain.make(SessionCookie::Flash, "x".into()).to_string();
        assert!(flash.contains("Max-Age=60"), "{flash}");
        let gone = plain.removal(SessionCookie::Access).to_string();
        assert!(
            gone.starts_with("latchkey-access=;") && gone.contains("Max-Age=0"),
            "{gone}"
        );
    }
}
