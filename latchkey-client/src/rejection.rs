//! Why a request was refused, rendered exactly as latchkey renders its own
//! errors: `{"type", "errors": [{"code", "detail", "attr", "extra"}]}`.

use std::fmt;

/// The `detail` latchkey gives every expired or invalid token.
pub const INVALID_TOKEN_DETAIL: &str = "The provided token is expired or invalid.";

/// A refusal, with the status, body and `WWW-Authenticate` latchkey uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// 401 `not_authenticated`: no `Authorization` header.
    NotAuthenticated,
    /// 401 `invalid_token`: malformed, forged, expired, deleted, revoked.
    InvalidToken,
    /// 403 `insufficient_scope`: the key lacks the scope the route needs.
    InsufficientScope { scope: String },
    /// 403 `permission_denied`: another company, or an ambiguous path.
    PermissionDenied(&'static str),
    /// 503 `service_unavailable`: latchkey could not be asked.
    Unavailable,
}

impl Rejection {
    pub const OTHER_COMPANY: Rejection =
        Rejection::PermissionDenied("This token may not reach that company.");
    pub const AMBIGUOUS_PATH: Rejection =
        Rejection::PermissionDenied("The request path is ambiguous.");

    pub fn status(&self) -> u16 {
        match self {
            Rejection::NotAuthenticated | Rejection::InvalidToken => 401,
            Rejection::InsufficientScope { .. } | Rejection::PermissionDenied(_) => 403,
            Rejection::Unavailable => 503,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Rejection::NotAuthenticated => "not_authenticated",
            Rejection::InvalidToken => "invalid_token",
            Rejection::InsufficientScope { .. } => "insufficient_scope",
            Rejection::PermissionDenied(_) => "permission_denied",
            Rejection::Unavailable => "service_unavailable",
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            Rejection::NotAuthenticated => "Authentication credentials were not provided.",
            Rejection::InvalidToken => INVALID_TOKEN_DETAIL,
            Rejection::InsufficientScope { .. } => "This token lacks the scope this action needs.",
            Rejection::PermissionDenied(detail) => detail,
            Rejection::Unavailable => "The authentication service is unreachable; try again later.",
        }
    }

    /// The `WWW-Authenticate` challenge (RFC 6750 §3), if this refusal has one.
    pub fn www_authenticate(&self) -> Option<String> {
        match self {
            Rejection::NotAuthenticated => Some(r#"Bearer realm="latchkey""#.to_owned()),
            Rejection::InvalidToken => {
                Some(r#"Bearer realm="latchkey", error="invalid_token""#.to_owned())
            }
            Rejection::InsufficientScope { scope } => Some(format!(
                r#"Bearer realm="latchkey", error="insufficient_scope", scope="{scope}""#
            )),
            Rejection::PermissionDenied(_) | Rejection::Unavailable => None,
        }
    }

    /// The JSON body.
    ///
    /// ```
    /// use latchkey_client::Rejection;
    ///
    /// assert_eq!(
    ///     Rejection::InvalidToken.body(),
    ///     r#"{"type":"client_error","errors":[{"code":"invalid_token","detail":"The provided token is expired or invalid.","attr":null,"extra":null}]}"#
    /// );
    /// ```
    pub fn body(&self) -> String {
        let kind = match self.status() {
            500.. => "server_error",
            _ => "client_error",
        };
        let extra = match self {
            Rejection::InsufficientScope { scope } => {
                format!(r#"{{"scope":{}}}"#, json_string(scope))
            }
            _ => "null".to_owned(),
        };
        format!(
            r#"{{"type":"{kind}","errors":[{{"code":"{}","detail":{},"attr":null,"extra":{extra}}}]}}"#,
            self.code(),
            json_string(self.detail())
        )
    }
}

/// A JSON string literal, without pulling in a JSON library.
fn json_string(s: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.detail())
    }
}

impl std::error::Error for Rejection {}

#[cfg(test)]
mod tests {
    use super::Rejection;

    #[test]
    fn every_body_is_json_in_latchkeys_shape() {
        for rejection in [
            Rejection::NotAuthenticated,
            Rejection::InvalidToken,
            Rejection::InsufficientScope {
                scope: "datasets:write".to_owned(),
            },
            Rejection::OTHER_COMPANY,
            Rejection::PermissionDenied("A \"quoted\" \\ detail\n"),
            Rejection::Unavailable,
        ] {
            let body: serde_json::Value = serde_json::from_str(&rejection.body()).unwrap();
            let kind = if rejection.status() >= 500 {
                "server_error"
            } else {
                "client_error"
            };
            assert_eq!(body["type"], kind);
            assert_eq!(body["errors"][0]["code"], rejection.code());
            assert_eq!(body["errors"][0]["detail"], rejection.detail());
            assert!(body["errors"][0]["attr"].is_null());
        }
    }
}
