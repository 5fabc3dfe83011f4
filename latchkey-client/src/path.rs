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
//! - a raw `#` or control byte (NUL to 0x1F, 0x7F) anywhere, query
//!   included, is refused: no request carries either;
//! - the query (from the first `?`) is then cut off and never names a company;
//! - the path must start with `/` ([`CompanyPath::parse_original_uri`] also
//!   takes an `http(s)://authority/path` absolute URI and judges its path);
//! - refused: `%2F`, `%5C`, `%2E` and `%25` (double encoding) in any case; a
//!   raw `\`; a `.` or `..` segment; an empty segment (`//`; a single
//!   trailing `/` is fine); a `;` anywhere in the path, raw or encoded; a
//!   control byte percent-encoded; a raw space or byte outside ASCII; a `%`
//!   not followed by two hex digits; a segment that is not UTF-8 once decoded;
//! - other escapes are decoded once, segment by segment (`compan%69es` is
//!   `companies`), and `companies` is matched without regard to ASCII case;
//! - a company segment that is not a UUID in its hyphenated form (the form
//!   company ids take in paths) is named too, as `None`: no token reaches it.
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

use std::borrow::Cow;
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
    /// Empty, or not starting with `/` (nor, for an original URI, an
    /// `http(s)://` absolute URI).
    NotAbsolute,
    /// `%2F`, `%5C`, `%2E` or `%25`, in any case: a separator, a dot, or
    /// double encoding.
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
    /// A raw space.
    Space,
    /// A `%` not followed by two hex digits.
    BadEscape,
    /// A segment that is not UTF-8 once decoded.
    NotUtf8,
}

impl fmt::Display for AmbiguousPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AmbiguousPath::NotAbsolute => "the path does not start with /",
            AmbiguousPath::EncodedDelimiter => "the path encodes /, \\, . or %",
            AmbiguousPath::Backslash => "the path contains \\",
            AmbiguousPath::DotSegment => "the path has a . or .. segment",
            AmbiguousPath::EmptySegment => "the path has an empty segment",
            AmbiguousPath::Fragment => "the path contains #",
            AmbiguousPath::PathParameter => "the path contains ;",
            AmbiguousPath::ControlByte => "the path contains a control byte",
            AmbiguousPath::NonAscii => "the path contains a raw non-ASCII byte",
            AmbiguousPath::Space => "the path contains a raw space",
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
        // A fold without early exit checks many bytes at a time; which byte
        // is refused, and why, is looked for only when one is.
        let suspect = target.iter().fold(false, |suspect, &b| {
            suspect | (b == b'#') | (b < 0x20) | (b == 0x7f)
        });
        if suspect {
            if let Some(reason) = target.iter().find_map(|&b| refused_anywhere(b)) {
                return Err(reason);
            }
        }
        let path = match target.iter().position(|b| *b == b'?') {
            Some(query) => &target[..query],
            None => target,
        };
        let rest = path.strip_prefix(b"/").ok_or(AmbiguousPath::NotAbsolute)?;
        // Segments are judged in order, and a segment after one reading
        // `companies` is named: one pass, nothing collected but the names.
        let mut companies = Vec::new();
        let mut after_companies = false;
        let mut segments = rest.split(|b| *b == b'/').peekable();
        while let Some(segment) = segments.next() {
            if segment.is_empty() {
                if segments.peek().is_none() {
                    continue;
                }
                return Err(AmbiguousPath::EmptySegment);
            }
            if segment == b"." || segment == b".." {
                return Err(AmbiguousPath::DotSegment);
            }
            let decoded = decode_segment(segment)?;
            if after_companies {
                companies.push(company_id(&decoded));
            }
            after_companies = decoded.eq_ignore_ascii_case("companies");
        }
        Ok(CompanyPath { companies })
    }

    /// Reads what a gateway says the original request was (`X-Original-URI`,
    /// `X-Forwarded-Uri`, or the path Envoy appends), as the bytes sent:
    /// a request target as [`CompanyPath::parse`] reads it, or an
    /// `http(s)://authority/path` absolute URI, which reaches the backend as
    /// its path, so its path is what is judged.
    pub fn parse_original_uri(uri: impl AsRef<[u8]>) -> Result<CompanyPath, AmbiguousPath> {
        let uri = uri.as_ref();
        if uri.first() == Some(&b'/') {
            return Self::parse(uri);
        }
        let after_scheme = ["http://", "https://"]
            .iter()
            .find_map(|scheme| {
                let prefix = uri.get(..scheme.len())?;
                prefix
                    .eq_ignore_ascii_case(scheme.as_bytes())
                    .then(|| &uri[scheme.len()..])
            })
            .ok_or(AmbiguousPath::NotAbsolute)?;
        let end = after_scheme
            .iter()
            .position(|b| matches!(b, b'/' | b'?'))
            .unwrap_or(after_scheme.len());
        let (authority, rest) = after_scheme.split_at(end);
        if let Some(reason) = authority.iter().find_map(|&b| refused_in_authority(b)) {
            return Err(reason);
        }
        if rest.first() == Some(&b'/') {
            Self::parse(rest)
        } else {
            Self::parse([b"/", rest].concat())
        }
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

/// A byte no request target carries, wherever it is.
fn refused_anywhere(byte: u8) -> Option<AmbiguousPath> {
    match byte {
        b'#' => Some(AmbiguousPath::Fragment),
        0x00..=0x1f | 0x7f => Some(AmbiguousPath::ControlByte),
        _ => None,
    }
}

/// A byte that makes an absolute URI's authority read two ways.
fn refused_in_authority(byte: u8) -> Option<AmbiguousPath> {
    refused_anywhere(byte).or(match byte {
        b'\\' => Some(AmbiguousPath::Backslash),
        b';' => Some(AmbiguousPath::PathParameter),
        b' ' => Some(AmbiguousPath::Space),
        0x80.. => Some(AmbiguousPath::NonAscii),
        _ => None,
    })
}

/// Only the hyphenated form is a company id: the braced, URN and 32-digit
/// forms are not how ids appear in paths, so they name no company.
fn company_id(segment: &str) -> Option<Uuid> {
    (segment.len() == 36)
        .then(|| Uuid::try_parse(segment).ok())
        .flatten()
}

/// Percent-decodes one segment, refusing whatever could be read two ways.
/// A segment of plain bytes only (printable ASCII but `%`, `\`, `#` and
/// `;`) is what it reads: borrowed, not copied. Any other goes through the
/// decoding loop, which finds the first refusal in order.
fn decode_segment(segment: &[u8]) -> Result<Cow<'_, str>, AmbiguousPath> {
    // A fold, not `all`: no early exit, so it checks many bytes at a time.
    let plain = segment.iter().fold(true, |plain, &b| {
        plain & (b > b' ') & (b < 0x7f) & (b != b'%') & (b != b'\\') & (b != b'#') & (b != b';')
    });
    if plain {
        // Printable ASCII only, so UTF-8.
        return std::str::from_utf8(segment)
            .map(Cow::Borrowed)
            .map_err(|_| AmbiguousPath::NotUtf8);
    }
    let mut out = Vec::with_capacity(segment.len());
    let mut bytes = segment.iter().copied();
    while let Some(byte) = bytes.next() {
        let byte = match byte {
            b'%' => {
                let high = bytes.next().and_then(hex).ok_or(AmbiguousPath::BadEscape)?;
                let low = bytes.next().and_then(hex).ok_or(AmbiguousPath::BadEscape)?;
                match high << 4 | low {
                    b'/' | b'\\' | b'.' | b'%' => return Err(AmbiguousPath::EncodedDelimiter),
                    decoded => decoded,
                }
            }
            b'\\' => return Err(AmbiguousPath::Backslash),
            b'#' => return Err(AmbiguousPath::Fragment),
            0x80.. => return Err(AmbiguousPath::NonAscii),
            b' ' => return Err(AmbiguousPath::Space),
            raw => raw,
        };
        match byte {
            b';' => return Err(AmbiguousPath::PathParameter),
            0x00..=0x1f | 0x7f => return Err(AmbiguousPath::ControlByte),
            _ => out.push(byte),
        }
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| AmbiguousPath::NotUtf8)
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
mod tests;
