use super::{company_id, decode_segment, refused_anywhere, AmbiguousPath, CompanyPath};
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
fn only_the_hyphenated_form_is_a_company_id() {
    let simple = ID.replace('-', "");
    let braced = format!("%7B{ID}%7D");
    let urn = format!("urn:uuid:{ID}");
    for not_an_id in [simple.as_str(), braced.as_str(), urn.as_str()] {
        let path = CompanyPath::parse(format!("/companies/{not_an_id}/x")).unwrap();
        assert_eq!(path.companies(), [None], "{not_an_id}");
    }
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
        ("/api/v1/companies/x?y#z", Fragment),
        ("/api/v1/companies/x?y=\x7f", ControlByte),
        ("/api/v1/companies/x%252F/y", EncodedDelimiter),
        ("/api/v1/companies/x y/z", Space),
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

/// What a gateway says the original request was: a target, or an http(s)
/// absolute URI whose path is judged.
mod original_uri {
    use super::super::{AmbiguousPath, CompanyPath};
    use uuid::Uuid;

    const A: &str = "0193a1b2-0000-7000-8000-000000000001";
    const B: &str = "0193a1b2-0000-7000-8000-000000000002";

    fn named(uri: &str) -> Vec<Option<Uuid>> {
        CompanyPath::parse_original_uri(uri)
            .unwrap_or_else(|e| panic!("{uri:?} refused: {e}"))
            .companies()
            .to_vec()
    }

    fn refused(uri: &[u8]) -> AmbiguousPath {
        CompanyPath::parse_original_uri(uri).expect_err(&String::from_utf8_lossy(uri))
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
    fn ambiguous_uris_are_refused_with_their_reason() {
        use AmbiguousPath::*;
        let cases: &[(&[u8], AmbiguousPath)] = &[
            (b"", NotAbsolute),
            (b"*", NotAbsolute),
            (b"api/v1/companies/x", NotAbsolute),
            (b"ftp://host/companies/x", NotAbsolute),
            (b"/a/b#/../c", Fragment),
            (b"/a?b#c", Fragment),
            (b"http://h#x/a", Fragment),
            (b"/a/\x00b", ControlByte),
            (b"/a/\tb", ControlByte),
            (b"/a?b=\x7f", ControlByte),
            (b"/a/%00", ControlByte),
            (b"/a/%0A", ControlByte),
            (b"/a/%7f", ControlByte),
            (b"/a b", Space),
            (b"http://h x/a", Space),
            (b"/caf\xc3\xa9", NonAscii),
            (b"http://caf\xc3\xa9/a", NonAscii),
            (b"/a\\..\\b", Backslash),
            (b"http://h\\@evil/a", Backslash),
            (b"/companies;x=1/b", PathParameter),
            (b"http://h;x/a", PathParameter),
            (b"/a/b;", PathParameter),
            (b"/a%3bb", PathParameter),
            (b"/companies%2Fx", EncodedDelimiter),
            (b"/companies%2fx", EncodedDelimiter),
            (b"/a%5Cb", EncodedDelimiter),
            (b"/a%5cb", EncodedDelimiter),
            (b"/a/%2E%2E/b", EncodedDelimiter),
            (b"/a/%2e", EncodedDelimiter),
            (b"/a/%252F", EncodedDelimiter),
            (b"/a/%", BadEscape),
            (b"/a/%4", BadEscape),
            (b"/a/%zz", BadEscape),
            (b"/a/%+1", BadEscape),
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

/// `CompanyPath::parse` as it was before it became one pass (decode every
/// segment, then pair them): the oracle for the differential test below.
fn reference_parse(target: &[u8]) -> Result<CompanyPath, AmbiguousPath> {
    if let Some(reason) = target.iter().find_map(|&b| refused_anywhere(b)) {
        return Err(reason);
    }
    let path = match target.iter().position(|b| *b == b'?') {
        Some(query) => &target[..query],
        None => target,
    };
    let rest = path.strip_prefix(b"/").ok_or(AmbiguousPath::NotAbsolute)?;
    let mut segments = rest.split(|b| *b == b'/').peekable();
    let mut decoded = Vec::new();
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
        decoded.push(decode_segment(segment)?);
    }
    let companies = decoded
        .windows(2)
        .filter(|pair| pair[0].eq_ignore_ascii_case(b"companies"))
        .map(|pair| company_id(&pair[1]))
        .collect();
    Ok(CompanyPath { companies })
}

#[test]
fn the_one_pass_parser_reads_every_target_as_the_reference_does() {
    // Targets built from pieces that matter to the rule, by a fixed
    // pseudo-random walk: the same 200,000 every run.
    let pieces: [&[u8]; 32] = [
        b"/",
        b"/",
        b"/",
        b"companies",
        b"COMPANIES",
        b"compan%69es",
        b"0193a1b2-0000-7000-8000-000000000001",
        b"0193a1b2-0000-7000-8000-00000000000f",
        b"acme",
        b".",
        b"..",
        b"%2F",
        b"%2e",
        b"%41",
        b"%",
        b"%4",
        b"?",
        b"#",
        b";",
        b"\\",
        b" ",
        b"\x01",
        b"\xc3\xa9",
        b"%C3%A9",
        // So that every refusal reason comes up: a lone UTF-8 lead byte; an
        // encoded semicolon, control byte, slash, backslash and percent sign;
        // and near-misses of the company segment.
        b"%C3",
        b"%3b",
        b"%00",
        b"%2f",
        b"%5C",
        b"%25",
        b"Companies",
        b"zzzzzzzz-0000-7000-8000-000000000001",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut reasons_seen = Vec::new();
    for _ in 0..200_000 {
        let mut target = Vec::new();
        if next() % 8 != 0 {
            target.push(b'/');
        }
        for _ in 0..(next() % 9) {
            target.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
        }
        let parsed = CompanyPath::parse(&target);
        assert_eq!(
            parsed,
            reference_parse(&target),
            "{:?}",
            String::from_utf8_lossy(&target)
        );
        if let Err(reason) = parsed {
            if !reasons_seen.contains(&reason) {
                reasons_seen.push(reason);
            }
        }
    }
    // Every way to be refused was reached, not only the common ones.
    assert_eq!(reasons_seen.len(), 12, "{reasons_seen:?}");
}
