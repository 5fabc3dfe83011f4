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
        let mut companies = Vec::new();
        for_each_company(target.as_ref(), |company| companies.push(company))?;
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

/// Calls `named` with each company `target` names, in order, and refuses
/// it as [`CompanyPath::parse`] does: what `parse` collects, without
/// collecting it. `named` may have been called before a refusal.
pub(crate) fn for_each_company(
    target: &[u8],
    mut named: impl FnMut(Option<Uuid>),
) -> Result<(), AmbiguousPath> {
    // A refused byte anywhere outranks every other reason, so whatever
    // refusal is found first, that byte is looked for before answering.
    let refuse = |reason| Err(first_refused_anywhere(target).unwrap_or(reason));
    if target.first() != Some(&b'/') {
        return refuse(AmbiguousPath::NotAbsolute);
    }
    // One look at each byte of the path, by table: where each segment ends,
    // where the query starts, and whether a segment needs decoding. Segments
    // are judged in order, and one after a segment reading `companies` is
    // named.
    let (mut start, mut at) = (1, 1);
    let (mut segment_classes, mut path_classes) = (0, 0);
    let mut after_companies = false;
    loop {
        let class = target.get(at).map_or(END, |&b| CLASSES[usize::from(b)]);
        if class & (SLASH | QUERY | END) == 0 {
            segment_classes |= class;
            at += 1;
            continue;
        }
        let segment = &target[start..at];
        let last = class & SLASH == 0;
        if segment.is_empty() {
            if last {
                break;
            }
            return refuse(AmbiguousPath::EmptySegment);
        }
        if segment == b"." || segment == b".." {
            return refuse(AmbiguousPath::DotSegment);
        }
        let decoded = if segment_classes & NOT_PLAIN == 0 {
            Cow::Borrowed(segment)
        } else {
            match decode_segment(segment) {
                Ok(decoded) => decoded,
                Err(reason) => return refuse(reason),
            }
        };
        if after_companies {
            named(company_id(&decoded));
        }
        after_companies = decoded.eq_ignore_ascii_case(b"companies");
        path_classes |= segment_classes;
        segment_classes = 0;
        if last {
            break;
        }
        at += 1;
        start = at;
    }
    // The query names nothing, but a refused byte is refused there too.
    let query = &target[at..];
    if path_classes & REFUSED != 0
        || query
            .iter()
            .any(|&b| CLASSES[usize::from(b)] & REFUSED != 0)
    {
        return refuse(AmbiguousPath::ControlByte);
    }
    Ok(())
}

/// A `/`: a segment ends.
const SLASH: u8 = 1;
/// A `?`: the path ends.
const QUERY: u8 = 2;
/// The end of the target, as a class of its own.
const END: u8 = 4;
/// A byte [`refused_anywhere`].
const REFUSED: u8 = 8;
/// Not a plain byte: a segment holding one is decoded (or refused).
const NOT_PLAIN: u8 = 16;

/// Each byte's classes.
static CLASSES: [u8; 256] = {
    let mut classes = [0; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        let mut class = 0;
        if b == b'/' {
            class |= SLASH;
        }
        if b == b'?' {
            class |= QUERY;
        }
        if refused_anywhere(b).is_some() {
            class |= REFUSED;
        }
        if !is_plain_byte(b) {
            class |= NOT_PLAIN;
        }
        classes[byte] = class;
        byte += 1;
    }
    classes
};

/// Printable ASCII but `%`, `\`, `#` and `;`: a byte that reads as itself.
const fn is_plain_byte(b: u8) -> bool {
    b > b' ' && b < 0x7f && b != b'%' && b != b'\\' && b != b'#' && b != b';'
}

/// The reason of the first byte in `target` no request target carries.
fn first_refused_anywhere(target: &[u8]) -> Option<AmbiguousPath> {
    target.iter().find_map(|&b| refused_anywhere(b))
}

/// A byte no request target carries, wherever it is.
const fn refused_anywhere(byte: u8) -> Option<AmbiguousPath> {
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
fn company_id(segment: &[u8]) -> Option<Uuid> {
    (segment.len() == 36)
        .then(|| Uuid::try_parse_ascii(segment).ok())
        .flatten()
}

/// Percent-decodes one segment, refusing whatever could be read two ways.
/// A segment of plain bytes only ([`is_plain_byte`]) is what it reads:
/// borrowed, not copied. Any other goes through the decoding loop, which finds the
/// first refusal in order.
fn decode_segment(segment: &[u8]) -> Result<Cow<'_, [u8]>, AmbiguousPath> {
    if segment.iter().all(|&b| is_plain_byte(b)) {
        return Ok(Cow::Borrowed(segment));
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
    std::str::from_utf8(&out).map_err(|_| AmbiguousPath::NotUtf8)?;
    Ok(Cow::Owned(out))
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
