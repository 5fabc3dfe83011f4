//! The forward-auth URI rules: `latchkey_client::path` (`CompanyPath::parse`
//! and `parse_original_uri`) and the server's use of them with the gateway's
//! required scopes (`judge_original_request`). Must never panic, and a path
//! refused as ambiguous must be refused to every token.
#![no_main]

use latchkey::services::access::judge_original_request;
use latchkey::tokens::{Claims, TokenKind};
use latchkey_client::path::CompanyPath;
use latchkey_fuzz::parts;
use libfuzzer_sys::fuzz_target;
use uuid::Uuid;

const COMPANY: Uuid = Uuid::from_u128(0x0193a1b2_0000_7000_8000_000000000001);

fn claims(scope: Option<&str>) -> Claims {
    Claims {
        iss: latchkey_fuzz::ISSUER.to_owned(),
        sub: Uuid::from_u128(1),
        aud: latchkey_fuzz::AUDIENCE.to_owned(),
        iat: 0,
        nbf: 0,
        exp: i64::MAX,
        jti: Uuid::from_u128(2),
        kind: TokenKind::ApiKey,
        company_id: Some(COMPANY),
        scope: scope.map(str::to_owned),
    }
}

fuzz_target!(|data: &[u8]| {
    // Parts: original URIs, then (after an empty part) required scopes.
    let mut uris = Vec::new();
    let mut scopes = Vec::new();
    let mut in_scopes = false;
    for part in parts(data) {
        if part.is_empty() {
            in_scopes = true;
        } else if in_scopes {
            scopes.push(part);
        } else {
            uris.push(part);
        }
    }
    for uri in &uris {
        let plain = CompanyPath::parse(uri);
        let original = CompanyPath::parse_original_uri(uri);
        // An origin-form path reads the same either way.
        if uri.first() == Some(&b'/') {
            assert_eq!(plain, original);
        }
        if let Ok(path) = &original {
            let _ = path.all_reachable(|company| company == COMPANY);
        }
    }
    let unscoped = judge_original_request(
        &claims(None),
        uris.iter().copied(),
        scopes.iter().copied(),
        |company| company == COMPANY,
    );
    let reaches_all = judge_original_request(
        &claims(Some("datasets:read")),
        uris.iter().copied(),
        std::iter::empty(),
        |_| true,
    );
    // A token that may reach every company is refused only for an
    // ambiguous path, or one naming a company by something not a UUID.
    if reaches_all.is_err() {
        assert!(uris
            .iter()
            .any(|u| CompanyPath::parse_original_uri(u)
                .map_or(true, |path| path.companies().iter().any(Option::is_none))));
        assert!(unscoped.is_err());
    }
});
