//! The original URI a gateway asks forward auth about, read strictly.
//!
//! Backends disagree on how they read a path: some decode `%2F` into a
//! slash, some take `\` for `/`, some resolve `..`, some drop `;` parameters
//! or decode twice. Guessing each one's reading is a losing game, so a path
//! that two backends could read differently is refused outright, and a path
//! that is not refused has exactly one reading: its segments, each
//! percent-decoded once.
//!
//! Refused ("ambiguous"): an encoded `/`, `\`, `.`, `%` or `;` (`%2F`, `%5C`,
//! `%2E`, `%25`, `%3B`, any case); a raw `\`, `;`, space or non-ASCII byte
//! before the query; a `.` or `..` segment; an empty segment (`//`; a
//! trailing `/` is fine); a raw `#` or control byte anywhere; a control byte
//! percent-encoded; invalid percent-encoding; bytes that are not UTF-8 once
//! decoded; anything that is neither origin-form (`/path`) nor absolute-form
//! with an `http` or `https` scheme (whose scheme and authority are dropped,
//! as the backend routes by the path). The query string never names a
//! company.
//!
//! Only `std` and `uuid`: this module is meant to be shared with the client
//! library as it is.

use std::borrow::Cow;
use std::fmt;

use uuid::Uuid;

/// The segment that introduces a company id, matched case-insensitively.
const COMPANIES: &str = "companies";

/// An original URI with one reading: the companies its path names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OriginalUri {
    companies: Vec<Option<Uuid>>,
}

/// Why an original URI was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmbiguousPath {
    /// Neither `/path` nor `http(s)://authority/path`.
    NotAPath,
    /// A raw `#`: no request carries a fragment.
    Fragment,
    /// A control byte, raw or percent-encoded.
    ControlByte,
    /// A raw space or non-ASCII byte, which no request path may carry.
    InvalidByte,
    /// A raw `\`, which some backends take for `/`.
    Backslash,
    /// A `;`, raw or encoded: path parameters some backends drop.
    PathParameter,
    /// `%2F`, `%5C`, `%2E` or `%25`: a separator, a dot, or double encoding.
    EncodedDelimiter,
    /// A `%` not followed by two hex digits.
    BadPercentEncoding,
    /// Bytes that are not UTF-8 once decoded.
    NotUtf8,
    /// A `.` or `..` segment.
    DotSegment,
    /// An empty segment (`//`) anywhere but at the end.
    EmptySegment,
}

impl fmt::Display for AmbiguousPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AmbiguousPath::NotAPath => "not an origin-form or http(s) absolute URI",
            AmbiguousPath::Fragment => "a raw '#'",
            AmbiguousPath::ControlByte => "a control byte",
            AmbiguousPath::InvalidByte => "a raw space or non-ASCII byte in the path",
            AmbiguousPath::Backslash => "a raw backslash",
            AmbiguousPath::PathParameter => "a ';' path parameter",
            AmbiguousPath::EncodedDelimiter => "an encoded '/', '\\', '.' or '%'",
            AmbiguousPath::BadPercentEncoding => "invalid percent-encoding",
            AmbiguousPath::NotUtf8 => "not UTF-8 once decoded",
            AmbiguousPath::DotSegment => "a '.' or '..' segment",
            AmbiguousPath::EmptySegment => "an empty segment",
        })
    }
}

impl std::error::Error for AmbiguousPath {}

impl OriginalUri {
    /// Reads the value of `X-Original-URI` / `X-Forwarded-Uri`, or the path
    /// Envoy appends, as the bytes that were sent.
    pub fn parse(raw: &[u8]) -> Result<OriginalUri, AmbiguousPath> {
        if let Some(&byte) = raw.iter().find(|&&b| b == b'#' || is_control(b)) {
            return Err(if byte == b'#' {
                AmbiguousPath::Fragment
            } else {
                AmbiguousPath::ControlByte
            });
        }
        let before_query = raw.split(|&b| b == b'?').next().unwrap_or_default();
        for &byte in before_query {
            match byte {
                b'\\' => return Err(AmbiguousPath::Backslash),
                b';' => return Err(AmbiguousPath::PathParameter),
                b' ' | 0x80.. => return Err(AmbiguousPath::InvalidByte),
                _ => {}
            }
        }
        let path = strip_scheme_and_authority(before_query)?;
        // `path` starts with '/': what follows it is the first segment.
        let segments: Vec<&[u8]> = path[1..].split(|&b| b == b'/').collect();
        let last = segments.len() - 1;
        let mut companies = Vec::new();
        let mut after_companies = false;
        for (index, raw_segment) in segments.into_iter().enumerate() {
            match raw_segment {
                b"." | b".." => return Err(AmbiguousPath::DotSegment),
                b"" if index != last => return Err(AmbiguousPath::EmptySegment),
                _ => {}
            }
            let segment = decode_segment(raw_segment)?;
            if after_companies && !segment.is_empty() {
                companies.push(company_id(&segment));
            }
            after_companies = segment.eq_ignore_ascii_case(COMPANIES);
        }
        Ok(OriginalUri { companies })
    }

    /// Every company the path names, in order: the segment after each
    /// `companies` segment. `None` is a segment that is not a company id,
    /// which no token may reach.
    pub fn companies(&self) -> &[Option<Uuid>] {
        &self.companies
    }
}

fn is_control(byte: u8) -> bool {
    byte < 0x20 || byte == 0x7f
}

/// The path of an origin-form or http(s) absolute-form URI. Absolute-form
/// reaches the backend as the path after its authority, so that is what is
/// judged.
fn strip_scheme_and_authority(uri: &[u8]) -> Result<&[u8], AmbiguousPath> {
    if uri.first() == Some(&b'/') {
        return Ok(uri);
    }
    let after_scheme = ["http://", "https://"].iter().find_map(|scheme| {
        let prefix = uri.get(..scheme.len())?;
        prefix
            .eq_ignore_ascii_case(scheme.as_bytes())
            .then(|| &uri[scheme.len()..])
    });
    let after_scheme = after_scheme.ok_or(AmbiguousPath::NotAPath)?;
    Ok(match after_scheme.iter().position(|&b| b == b'/') {
        Some(slash) => &after_scheme[slash..],
        None => b"/",
    })
}

/// A segment percent-decoded once. Refuses what could decode differently
/// elsewhere: delimiters, `%` itself (double encoding), control bytes.
fn decode_segment(segment: &[u8]) -> Result<Cow<'_, str>, AmbiguousPath> {
    if !segment.contains(&b'%') {
        // Already checked to be printable ASCII.
        let text = std::str::from_utf8(segment).map_err(|_| AmbiguousPath::NotUtf8)?;
        return Ok(Cow::Borrowed(text));
    }
    let mut decoded = Vec::with_capacity(segment.len());
    let mut bytes = segment.iter();
    while let Some(&byte) = bytes.next() {
        if byte != b'%' {
            decoded.push(byte);
            continue;
        }
        let (Some(high), Some(low)) = (
            bytes.next().and_then(|&b| hex_value(b)),
            bytes.next().and_then(|&b| hex_value(b)),
        ) else {
            return Err(AmbiguousPath::BadPercentEncoding);
        };
        let byte = (high << 4) | low;
        match byte {
            b'/' | b'\\' | b'.' | b'%' => return Err(AmbiguousPath::EncodedDelimiter),
            b';' => return Err(AmbiguousPath::PathParameter),
            byte if is_control(byte) => return Err(AmbiguousPath::ControlByte),
            _ => decoded.push(byte),
        }
    }
    String::from_utf8(decoded)
        .map(Cow::Owned)
        .map_err(|_| AmbiguousPath::NotUtf8)
}

fn hex_value(byte: u8) -> Option<u8> {
    char::from(byte)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Only the hyphenated form is an id: the braced, URN and 32-digit forms
/// are not how company ids appear in paths, so they name no company.
fn company_id(segment: &str) -> Option<Uuid> {
    (segment.len() == 36)
        .then(|| Uuid::try_parse(segment).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::{AmbiguousPath, OriginalUri};
    use uuid::Uuid;

    const A: &str = "0193a1b2-0000-7000-8000-000000000001";
    const B: &str = "0193a1b2-0000-7000-8000-000000000002";

    fn named(uri: &str) -> Vec<Option<Uuid>> {
        OriginalUri::parse(uri.as_bytes())
            .unwrap_or_else(|e| panic!("{uri:?} refused: {e}"))
            .companies()
            .to_vec()
    }

    fn refused(uri: &[u8]) -> AmbiguousPath {
        OriginalUri::parse(uri).expect_err(&String::from_utf8_lossy(uri))
    }

    #[test]
    fn a_plain_path_names_its_company() {
        let a = Some(A.parse().unwrap());
        for uri in [
            format!("/api/v1/companies/{A}/datasets/"),
            format!("/api/v1/companies/{A}/datasets"),
            format!("/api/v1/companies/{A}"),
            format!("/api/v1/COMPANIES/{A}/x"),
            format!("/api/v1/compan%69es/{A}/x"),
            format!("/api/v1/companies/{}/x", A.to_uppercase()),
            format!("/api/v1/companies/{A}/datasets/caf%C3%A9?x=%2F..%2F{B}"),
            format!("/api/v1/companies/{A}/?next=/companies/{B}/&y=a\\b"),
            format!("http://gateway/api/v1/companies/{A}/x"),
            format!("HTTPS://gateway:8443/api/v1/companies/{A}/x?y"),
        ] {
            assert_eq!(named(&uri), vec![a], "{uri}");
        }
    }

    #[test]
    fn a_path_without_a_company_names_none() {
        for uri in [
            "/",
            "/api/v1/datasets/",
            "/api/v1/companies",
            "/api/v1/companies/",
            "/api/v1/companies?id=1",
            "http://gateway",
            "http://gateway?x",
        ] {
            assert!(named(uri).is_empty(), "{uri}");
        }
    }

    #[test]
    fn every_company_is_named_and_a_non_id_is_none() {
        let (a, b) = (Some(A.parse().unwrap()), Some(B.parse().unwrap()));
        assert_eq!(
            named(&format!("/companies/{A}/x/companies/{B}")),
            vec![a, b]
        );
        let simple = A.replace('-', "");
        for not_an_id in [
            "not-a-company",
            simple.as_str(),
            "%7B0193a1b2-0000-7000-8000-000000000001%7D",
        ] {
            assert_eq!(
                named(&format!("/companies/{not_an_id}/x")),
                vec![None],
                "{not_an_id}"
            );
        }
        assert_eq!(named("/companies/companies/x"), vec![None, None]);
    }

    #[test]
    fn ambiguous_paths_are_refused_with_their_reason() {
        use AmbiguousPath::*;
        let cases: &[(&[u8], AmbiguousPath)] = &[
            (b"", NotAPath),
            (b"*", NotAPath),
            (b"api/v1/companies/x", NotAPath),
            (b"ftp://host/companies/x", NotAPath),
            (b"/a/b#/../c", Fragment),
            (b"/a?b#c", Fragment),
            (b"/a/\x00b", ControlByte),
            (b"/a/\tb", ControlByte),
            (b"/a?b=\x7f", ControlByte),
            (b"/a/%00", ControlByte),
            (b"/a/%0A", ControlByte),
            (b"/a/%7f", ControlByte),
            (b"/a b", InvalidByte),
            (b"/caf\xc3\xa9", InvalidByte),
            (b"/a\\..\\b", Backslash),
            (b"http://h\\@evil/a", Backslash),
            (b"/companies;x=1/b", PathParameter),
            (b"/a/b;", PathParameter),
            (b"/a%3bb", PathParameter),
            (b"/companies%2Fx", EncodedDelimiter),
            (b"/companies%2fx", EncodedDelimiter),
            (b"/a%5Cb", EncodedDelimiter),
            (b"/a%5cb", EncodedDelimiter),
            (b"/a/%2E%2E/b", EncodedDelimiter),
            (b"/a/%2e", EncodedDelimiter),
            (b"/a/%252F", EncodedDelimiter),
            (b"/a/%", BadPercentEncoding),
            (b"/a/%4", BadPercentEncoding),
            (b"/a/%zz", BadPercentEncoding),
            (b"/a/%+1", BadPercentEncoding),
            (b"/a/%ff", NotUtf8),
            (b"/a/%c3%28", NotUtf8),
            (b"/a/./b", DotSegment),
            (b"/a/../b", DotSegment),
            (b"/a/..", DotSegment),
            (b"/.", DotSegment),
            (b"//a", EmptySegment),
            (b"/a//b", EmptySegment),
            (b"/a//", EmptySegment),
            (b"http://h//a", EmptySegment),
        ];
        for (uri, reason) in cases {
            assert_eq!(refused(uri), *reason, "{:?}", String::from_utf8_lossy(uri));
        }
    }

    #[test]
    fn the_reported_attack_is_refused() {
        let uri = format!("/api/v1/companies%2F{B}/datasets/x%5C..%5C..%5C..");
        assert_eq!(refused(uri.as_bytes()), AmbiguousPath::EncodedDelimiter);
    }
}
