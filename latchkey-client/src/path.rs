//! The company path rule: which companies a request path names, and which
//! paths are too ambiguous to judge at all.
//!
//! A path names company `X` when a segment reads `companies` and the next one
//! reads `X`. A token may pass only if it reaches every company the path
//! names. Servers, proxies and frameworks disagree on how to read an encoded
//! slash, a backslash, a dot segment or a path parameter, so a path that
//! contains one is refused outright rather than read one way here and another
//! way behind us:
//!
//! - the query (from the first `?`) is cut off first and never names a company;
//! - the path must start with `/`;
//! - refused: `%2F`, `%5C`, `%2E` in any case; a raw `\`; a `.` or `..`
//!   segment; an empty segment (`//`; a single trailing `/` is fine); a raw
//!   `#`; a `;` anywhere, raw or encoded; a control byte (NUL to 0x1F, 0x7F),
//!   raw or encoded; a raw byte outside ASCII; a `%` not followed by two hex
//!   digits; a segment that is not UTF-8 once decoded;
//! - other escapes are decoded segment by segment (`compan%69es` is
//!   `companies`), and `companies` is matched without regard to ASCII case;
//! - a company segment that is not a UUID is named too, as `None`: no token
//!   reaches it.
//!
//! This module uses nothing but `std` and `uuid`, so latchkey's own forward
//! auth can share it.
//!
//! ```
//! use latchkey_client::path::{AmbiguousPath, CompanyPath};
//! use uuid::Uuid;
//!
//! let acme: Uuid = "0193a1b2-0000-7000-8000-000000000001".parse().unwrap();
//! let path = CompanyPath::parse(format!("/api/v1/compan%69es/{acme}/datasets/?page=2"))?;
//! assert_eq!(path.companies(), [Some(acme)]);
//! assert!(path.all_reachable(|company| company == acme));
//!
//! let sneaky = format!("/api/v1/companies/{acme}/..%2F..%2Fother/datasets/");
//! assert_eq!(CompanyPath::parse(sneaky), Err(AmbiguousPath::EncodedDelimiter));
//! # Ok::<(), AmbiguousPath>(())
//! ```

use std::fmt;

use uuid::Uuid;

/// The companies a request path names, in order, each `None` when its
/// segment is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompanyPath {
    companies: Vec<Option<Uuid>>,
}

/// Why a path was refused as ambiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmbiguousPath {
    /// Empty, or not starting with `/`.
    NotAbsolute,
    /// `%2F`, `%5C` or `%2E`, in any case.
    EncodedDelimiter,
    /// A raw `\`.
    Backslash,
    /// A `.` or `..` segment.
    DotSegment,
    /// `//`: an empty segment before the last.
    EmptySegment,
    /// A raw `#`.
    Fragment,
    /// A `;`, raw or encoded.
    PathParameter,
    /// A control byte, raw or encoded.
    ControlByte,
    /// A raw byte outside ASCII.
    NonAscii,
    /// A `%` not followed by two hex digits.
    BadEscape,
    /// A segment that is not UTF-8 once decoded.
    NotUtf8,
}

impl fmt::Display for AmbiguousPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AmbiguousPath::NotAbsolute => "the path does not start with /",
            AmbiguousPath::EncodedDelimiter => "the path encodes /, \\ or .",
            AmbiguousPath::Backslash => "the path contains \\",
            AmbiguousPath::DotSegment => "the path has a . or .. segment",
            AmbiguousPath::EmptySegment => "the path has an empty segment",
            AmbiguousPath::Fragment => "the path contains #",
            AmbiguousPath::PathParameter => "the path contains ;",
            AmbiguousPath::ControlByte => "the path contains a control byte",
            AmbiguousPath::NonAscii => "the path contains a raw non-ASCII byte",
            AmbiguousPath::BadEscape => "the path has a malformed percent escape",
            AmbiguousPath::NotUtf8 => "the path is not UTF-8 once decoded",
        })
    }
}

impl std::error::Error for AmbiguousPath {}

impl CompanyPath {
    /// Reads a request target (path and optional query, as sent: not decoded).
    pub fn parse(target: impl AsRef<[u8]>) -> Result<CompanyPath, AmbiguousPath> {
        let target = target.as_ref();
        let path = match target.iter().position(|b| *b == b'?') {
            Some(query) => &target[..query],
            None => target,
        };
        let rest = path.strip_prefix(b"/").ok_or(AmbiguousPath::NotAbsolute)?;
        let segments: Vec<&[u8]> = rest.split(|b| *b == b'/').collect();
        let last = segments.len() - 1;
        let mut decoded = Vec::with_capacity(segments.len());
        for (i, segment) in segments.iter().enumerate() {
            if segment.is_empty() {
                if i == last {
                    continue;
                }
                return Err(AmbiguousPath::EmptySegment);
            }
            if *segment == b"." || *segment == b".." {
                return Err(AmbiguousPath::DotSegment);
            }
            decoded.push(decode_segment(segment)?);
        }
        let companies = decoded
            .windows(2)
            .filter(|pair| pair[0].eq_ignore_ascii_case("companies"))
            .map(|pair| Uuid::parse_str(&pair[1]).ok())
            .collect();
        Ok(CompanyPath { companies })
    }

    /// Every company named, in order; `None` for a segment that is not a UUID.
    pub fn companies(&self) -> &[Option<Uuid>] {
        &self.companies
    }

    /// Whether `may_reach` accepts every company named. A path that names no
    /// company is reachable; one naming a non-UUID company is not.
    pub fn all_reachable(&self, mut may_reach: impl FnMut(Uuid) -> bool) -> bool {
        self.companies
            .iter()
            .all(|company| company.is_some_and(&mut may_reach))
    }
}

/// Percent-decodes one segment, refusing whatever could be read two ways.
fn decode_segment(segment: &[u8]) -> Result<String, AmbiguousPath> {
    let mut out = Vec::with_capacity(segment.len());
    let mut bytes = segment.iter().copied();
    while let Some(byte) = bytes.next() {
        let byte = match byte {
            b'%' => {
                let high = bytes.next().and_then(hex).ok_or(AmbiguousPath::BadEscape)?;
                let low = bytes.next().and_then(hex).ok_or(AmbiguousPath::BadEscape)?;
                match high << 4 | low {
                    b'/' | b'\\' | b'.' => return Err(AmbiguousPath::EncodedDelimiter),
                    decoded => decoded,
                }
            }
            b'\\' => return Err(AmbiguousPath::Backslash),
            b'#' => return Err(AmbiguousPath::Fragment),
            0x80.. => return Err(AmbiguousPath::NonAscii),
            raw => raw,
        };
        match byte {
            b';' => return Err(AmbiguousPath::PathParameter),
            0x00..=0x1f | 0x7f => return Err(AmbiguousPath::ControlByte),
            _ => out.push(byte),
        }
    }
    String::from_utf8(out).map_err(|_| AmbiguousPath::NotUtf8)
}

fn hex(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{AmbiguousPath, CompanyPath};
    use uuid::Uuid;

    const ID: &str = "0193a1b2-0000-7000-8000-000000000001";
    const OTHER: &str = "0193a1b2-0000-7000-8000-000000000002";

    fn id() -> Uuid {
        ID.parse().unwrap()
    }

    #[test]
    fn names_the_company_however_plainly_spelt() {
        for target in [
            format!("/api/v1/companies/{ID}/datasets/"),
            format!("/api/v1/companies/{ID}/datasets"),
            format!("/api/v1/companies/{ID}"),
            format!("/api/v1/compan%69es/{ID}/x?y=1"),
            format!("/api/v1/COMPANIES/{ID}/x?/companies/{OTHER}"),
            "/api/v1/companies/%30193a1b2-0000-7000-8000-000000000001/".to_owned(),
            format!("/api/v1/companies/{}/", ID.to_uppercase()),
            format!("/api/v1/companies/{}/", ID.replace('-', "")),
        ] {
            let path = CompanyPath::parse(&target).unwrap_or_else(|e| panic!("{target}: {e}"));
            assert_eq!(path.companies(), [Some(id())], "{target}");
        }
    }

    #[test]
    fn paths_without_a_company_name_none() {
        for target in [
            "/",
            "/api/v1/datasets/",
            "/api/v1/companies/",
            "/api/v1/companies",
        ] {
            let path = CompanyPath::parse(target).unwrap();
            assert!(path.companies().is_empty(), "{target}");
            assert!(path.all_reachable(|_| false), "{target}");
        }
    }

    #[test]
    fn a_company_segment_that_is_not_a_uuid_is_reachable_by_no_one() {
        let path = CompanyPath::parse("/api/v1/companies/acme/datasets/").unwrap();
        assert_eq!(path.companies(), [None]);
        assert!(!path.all_reachable(|_| true));
    }

    #[test]
    fn every_company_named_must_be_reachable() {
        let path = CompanyPath::parse(format!("/companies/{ID}/companies/{OTHER}/")).unwrap();
        assert_eq!(path.companies().len(), 2);
        assert!(!path.all_reachable(|c| c == id()));
        assert!(path.all_reachable(|_| true));
    }

    #[test]
    fn ambiguous_paths_are_refused_with_their_reason() {
        use AmbiguousPath::*;
        let cases: &[(&str, AmbiguousPath)] = &[
            ("", NotAbsolute),
            ("api/v1/companies/x", NotAbsolute),
            ("http://host/api/v1/companies/x", NotAbsolute),
            ("/api/v1/companies/a%2F..%2Fb", EncodedDelimiter),
            ("/api/v1/companies/a%2f..%2fb", EncodedDelimiter),
            ("/api/v1/companies/a%5Cb", EncodedDelimiter),
            ("/api/v1/companies/a%5cb", EncodedDelimiter),
            ("/api/v1/%2E%2E/companies/x", EncodedDelimiter),
            ("/api/v1/%2e/companies/x", EncodedDelimiter),
            ("/api/v1/companies/a\\..\\b", Backslash),
            ("/api/v1/../companies/x", DotSegment),
            ("/api/v1/./companies/x", DotSegment),
            ("/api/v1/companies/x/..", DotSegment),
            ("/api/v1//companies/x", EmptySegment),
            ("//api/v1/companies/x", EmptySegment),
            ("/api/v1/companies/x//", EmptySegment),
            ("/api/v1/companies/x#/companies/y", Fragment),
            ("/api/v1/companies;x=1/y", PathParameter),
            ("/api/v1/companies/x;/y", PathParameter),
            ("/api/v1/companies/x%3B/y", PathParameter),
            ("/api/v1/companies/x%3b/y", PathParameter),
            ("/api/v1/companies/x%00/y", ControlByte),
            ("/api/v1/companies/x\0/y", ControlByte),
            ("/api/v1/companies/x%0A/y", ControlByte),
            ("/api/v1/companies/x\t/y", ControlByte),
            ("/api/v1/companies/x%7F/y", ControlByte),
            ("/api/v1/companies/x%/y", BadEscape),
            ("/api/v1/companies/x%4/y", BadEscape),
            ("/api/v1/companies/x%zz/y", BadEscape),
            ("/api/v1/companies/x%C3/y", NotUtf8),
            ("/api/v1/companies/x%FF/y", NotUtf8),
        ];
        for (target, reason) in cases {
            assert_eq!(CompanyPath::parse(target), Err(*reason), "{target:?}");
        }
        assert_eq!(
            CompanyPath::parse(b"/api/v1/compa\xc3\xb1ies/x"),
            Err(NonAscii)
        );
    }

    #[test]
    fn decoded_non_ascii_utf8_is_fine() {
        let path = CompanyPath::parse(format!("/caf%C3%A9/companies/{ID}/")).unwrap();
        assert_eq!(path.companies(), [Some(id())]);
    }
}
