//! The request head's limits: how many headers, and how many bytes of them.
//! actix-http has its own hard ceilings (96 headers, a 32 KiB head), which
//! answer with an empty body; ours sit below them and answer in the
//! documented shape, `431 headers_too_large`.

use actix_web::dev::ServiceRequest;
use actix_web::http::header::HeaderMap;

use crate::settings::ServerSettings;

/// The head has more header lines, or more bytes of them, than
/// `server.max_headers` and `server.max_header_bytes` allow.
pub fn head_too_large(req: &ServiceRequest, server: &ServerSettings) -> bool {
    exceeds(req.headers(), server.max_headers, server.max_header_bytes)
}

/// More than `max_headers` header lines, or more than `max_bytes` of them as
/// they travel (`name: value\r\n`).
fn exceeds(headers: &HeaderMap, max_headers: usize, max_bytes: usize) -> bool {
    let mut count = 0;
    let mut bytes = 0;
    for (name, value) in headers.iter() {
        count += 1;
        bytes += name.as_str().len() + value.len() + 4;
    }
    count > max_headers || bytes > max_bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(lines: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in lines {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn counts_every_copy_of_a_repeated_header() {
        let map = headers(&[("x-a", "1"), ("x-a", "2"), ("x-a", "3")]);
        assert!(!exceeds(&map, 3, 1000));
        assert!(exceeds(&map, 2, 1000));
    }

    #[test]
    fn counts_names_values_and_line_overhead() {
        // "x-a: 12345\r\n" is 3 + 5 + 4 = 12 bytes.
        let map = headers(&[("x-a", "12345")]);
        assert!(!exceeds(&map, 10, 12));
        assert!(exceeds(&map, 10, 11));
    }
}
