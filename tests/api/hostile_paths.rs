//! Forward auth against original paths built to fool it: each is refused, or
//! judged by the company it really names, whichever way the gateway passes it
//! on (nginx's `X-Original-URI`, Traefik's `X-Forwarded-Uri`, Envoy's
//! appended path). `nginx.rs` pushes the refused ones through nginx too.

use uuid::Uuid;

use crate::helpers::{Gateway, TestApp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Ambiguous: 403 for every token, whatever it names.
    Ambiguous,
    /// Names company A only: admitted for A's tokens, 403 for B's.
    NamesA,
    /// Names company B only.
    NamesB,
    /// Names both companies, or one that is not a company id: no token of
    /// ours reaches it.
    NoOne,
}

/// A path with `{A}` and `{B}` standing for the two companies' ids, and
/// `{A_UPPER}` / `{A_SIMPLE}` for A's id in upper case / without hyphens.
pub struct HostilePath {
    pub template: &'static str,
    pub verdict: Verdict,
}

const fn path(template: &'static str, verdict: Verdict) -> HostilePath {
    HostilePath { template, verdict }
}

use Verdict::{Ambiguous, NamesA, NamesB, NoOne};

pub const HOSTILE_PATHS: &[HostilePath] = &[
    // The attack from the report, and its cousins: encoded separators.
    path(
        "/api/v1/companies%2F{B}/datasets/x%5C..%5C..%5C..",
        Ambiguous,
    ),
    path("/api/v1/companies%2f{B}/datasets/", Ambiguous),
    path("/api/v1/companies/{A}%2F..%2F{B}/datasets/", Ambiguous),
    path(
        "/api/v1/companies/{A}/datasets/..%2F..%2F{B}/datasets/",
        Ambiguous,
    ),
    path(
        "/api/v1/companies/{A}/datasets/x%5c..%5c..%5c{B}/datasets/",
        Ambiguous,
    ),
    path(
        "/api/v1/companies/{A}/datasets/%2e%2e/%2e%2e/{B}/datasets/",
        Ambiguous,
    ),
    path(
        "/api/v1/companies/{A}/datasets/%2E%2E/%2E%2E/{B}/datasets/",
        Ambiguous,
    ),
    path("/api/v1/companies/{A}/datasets/%2e", Ambiguous),
    // Dot segments and raw backslashes.
    path(
        "/api/v1/companies/{A}/datasets/../../{B}/datasets/",
        Ambiguous,
    ),
    path("/api/v1/companies/{A}/./datasets/", Ambiguous),
    path("/api/v1/companies/{A}/datasets/..", Ambiguous),
    path(
        "/api/v1/companies/{A}/datasets\\..\\..\\{B}/datasets/",
        Ambiguous,
    ),
    path("/api/v1/companies\\{B}/datasets/", Ambiguous),
    // Empty segments.
    path("/api/v1//companies/{B}/datasets/", Ambiguous),
    path("//api/v1/companies/{A}/datasets/", Ambiguous),
    path("/api/v1/companies//{B}/datasets/", Ambiguous),
    // Control bytes, raw or encoded; bad encodings; non-UTF-8.
    path("/api/v1/companies/{A}%00/datasets/", Ambiguous),
    path("/api/v1/companies/{A}/datasets/%0a", Ambiguous),
    path("/api/v1/companies/{A}/datasets/\tx", Ambiguous),
    path("/api/v1/companies/{A}/datasets/%zz", Ambiguous),
    path("/api/v1/companies/{A}/datasets/%4", Ambiguous),
    path("/api/v1/companies/{A}/datasets/%ff", Ambiguous),
    path("/api/v1/companies/{A}/datasets/%c3%28", Ambiguous),
    // Double encoding: a backend that decodes twice sees a slash.
    path("/api/v1/companies%252F{B}/datasets/", Ambiguous),
    path("/api/v1/companies/{A}/datasets/%252e%252e/", Ambiguous),
    // Fragments and path parameters.
    path("/api/v1/companies/{A}/datasets/#/../../{B}/", Ambiguous),
    path("/api/v1/companies;x=1/{B}/datasets/", Ambiguous),
    path("/api/v1/companies/{A};/../{B}/datasets/", Ambiguous),
    path("/api/v1/companies/{B};jsessionid=1/datasets/", Ambiguous),
    path("/api/v1/companies%3b/{B}/datasets/", Ambiguous),
    // Not a path at all.
    path("api/v1/companies/{B}/datasets/", Ambiguous),
    path("*", Ambiguous),
    path("ftp://host/api/v1/companies/{B}/datasets/", Ambiguous),
    // Spelt differently, but naming one company plainly.
    path("/api/v1/COMPANIES/{B}/datasets/", NamesB),
    path("/api/v1/compan%69es/{B}/datasets/", NamesB),
    path("/api/v1/CoMpAnIeS/{A}/datasets/", NamesA),
    path("/api/v1/companies/{A_UPPER}/datasets/", NamesA),
    path("/api/v1/companies/{A}/datasets/caf%C3%A9", NamesA),
    path("/api/v1/companies/{A}/datasets", NamesA),
    path(
        "http://gateway.example/api/v1/companies/{B}/datasets/",
        NamesB,
    ),
    path(
        "HTTPS://gateway.example/api/v1/companies/{A}/datasets/",
        NamesA,
    ),
    // The query string never names a company.
    path(
        "/api/v1/companies/{A}/datasets/?next=/api/v1/companies/{B}/",
        NamesA,
    ),
    path("/api/v1/companies/{A}/datasets/?x=%2F..%2F{B}", NamesA),
    // Two companies, or something that is not a company id.
    path("/api/v1/companies/{A}/datasets/companies/{B}/", NoOne),
    path("/api/v1/companies/{A_SIMPLE}/datasets/", NoOne),
    path("/api/v1/companies/%7B{A}%7D/datasets/", NoOne),
    path("/api/v1/companies/not-a-company/datasets/", NoOne),
    path("/api/v1/companies/companies/{A}/", NoOne),
];

impl HostilePath {
    pub fn render(&self, a: Uuid, b: Uuid) -> String {
        self.template
            .replace("{A_UPPER}", &a.to_string().to_uppercase())
            .replace("{A_SIMPLE}", &a.simple().to_string())
            .replace("{A}", &a.to_string())
            .replace("{B}", &b.to_string())
    }

    /// Whether forward auth admits a token of company A (or B).
    pub fn admits(&self, company_a: bool) -> bool {
        match self.verdict {
            NamesA => company_a,
            NamesB => !company_a,
            Ambiguous | NoOne => false,
        }
    }
}

/// How a gateway hands the original path to forward auth.
#[tokio::test]
async fn every_hostile_original_path_is_refused_or_judged_by_the_company_it_names() {
    let fixture = TestApp::spawn_for_hostile_paths().await;
    let (a, b) = (fixture.company_a, fixture.company_b);
    let mut wrong = Vec::new();

    for hostile in HOSTILE_PATHS {
        let original = hostile.render(a, b);
        for gateway in [Gateway::Nginx, Gateway::Traefik, Gateway::Envoy] {
            // Envoy appends a path to ours: only an origin-form one, and
            // never a fragment (the HTTP parser drops it from a request line).
            if matches!(gateway, Gateway::Envoy)
                && (!original.starts_with('/') || original.contains('#'))
            {
                continue;
            }
            for (token, of_a) in fixture.tokens() {
                let status = fixture.app.verify_as(gateway, token, &original).await;
                let expected = if hostile.admits(of_a) { 200 } else { 403 };
                // Envoy's form puts the path in the request line, where the
                // HTTP parser refuses some bytes (400) before we see them.
                let parser_refused = matches!(gateway, Gateway::Envoy) && status == 400;
                if status != expected && !(expected == 403 && parser_refused) {
                    wrong.push(format!(
                        "{gateway:?} {original:?} token of {}: {status}, expected {expected}",
                        if of_a { "A" } else { "B" }
                    ));
                }
            }
        }
    }

    assert!(
        HOSTILE_PATHS.len() >= 30,
        "the table holds at least 30 paths"
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn every_copy_of_both_headers_is_judged() {
    let fixture = TestApp::spawn_for_hostile_paths().await;
    let app = &fixture.app;
    let (a, b) = (fixture.company_a, fixture.company_b);
    let own = format!("/api/v1/companies/{a}/datasets/");
    let other = format!("/api/v1/companies/{b}/datasets/");
    let ambiguous = format!("/api/v1/companies%2F{b}/datasets/");

    for (first, second, expected) in [
        (&own, &own, 200),
        (&own, &other, 403),
        (&own, &ambiguous, 403),
    ] {
        for header in ["x-original-uri", "x-forwarded-uri"] {
            let request = format!(
                "GET /api/v1/auth/verify HTTP/1.1\r\nhost: latchkey\r\n\
                 authorization: Bearer {}\r\n{header}: {first}\r\n{header}: {second}\r\n\
                 connection: close\r\n\r\n",
                fixture.short_a
            );
            assert_eq!(
                app.raw_status(request.into_bytes()).await,
                expected,
                "{header}: {first} then {second}"
            );
        }
        let both = app
            .client
            .get(app.url("/api/v1/auth/verify"))
            .bearer_auth(&fixture.short_a)
            .header("x-original-uri", first.as_str())
            .header("x-forwarded-uri", second.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(both.status(), expected, "{first} and {second}");
    }
}
