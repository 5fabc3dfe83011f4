//! `GET /api/v1/openapi.json`: every registered route is in the document,
//! the document is well formed, and the metadata points at it.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

use crate::helpers::spawn_app;

async fn document() -> (Value, crate::helpers::TestApp) {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    (response.json().await.unwrap(), app)
}

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// `/api/v1/auth/verify/{original:.*}` as OpenAPI writes it.
fn openapi_path(actix_pattern: &str) -> String {
    let mut out = String::new();
    let mut rest = actix_pattern;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').unwrap() + open;
        let name = rest[open + 1..close].split(':').next().unwrap();
        out.push_str(&format!("{{{name}}}"));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn every_registered_route_is_in_the_document_and_nothing_else() {
    let (doc, _app) = document().await;
    let paths = doc["paths"].as_object().expect("paths");
    let mut registered = BTreeSet::new();
    for (method, pattern) in latchkey::http::route_table() {
        let path = openapi_path(pattern);
        let item = paths
            .get(&path)
            .unwrap_or_else(|| panic!("{path} is registered but not documented"));
        match method {
            Some(method) => {
                let method = method.as_str().to_ascii_lowercase();
                assert!(
                    item.get(&method).is_some(),
                    "{method} {path} not documented"
                );
                registered.insert((method, path));
            }
            // Any method: documented as GET, described as answering any.
            None => {
                assert!(item.get("get").is_some(), "{path} not documented");
                registered.insert(("get".to_owned(), path));
            }
        }
    }
    for (path, item) in paths {
        for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
            assert!(
                registered.contains(&(method.to_string(), path.clone())),
                "{method} {path} is documented but not registered"
            );
        }
    }
}

fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

/// Every `$ref` anywhere in `value` names something in the document.
fn assert_refs_resolve(doc: &Value, value: &Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                assert!(resolve(doc, reference).is_some(), "{reference} dangles");
            }
            map.values().for_each(|v| assert_refs_resolve(doc, v));
        }
        Value::Array(items) => items.iter().for_each(|v| assert_refs_resolve(doc, v)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_well_formed_openapi_3_1() {
    let (doc, _app) = document().await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["type"], "http");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["client_basic"]["type"], "http");
    assert_eq!(schemes["client_basic"]["scheme"], "basic");
    let error = &doc["components"]["schemas"]["Error"];
    assert_eq!(error["required"], serde_json::json!(["type", "errors"]));
    assert_refs_resolve(&doc, &doc);

    let mut operation_ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let name = format!("{method} {path}");
            let id = op["operationId"].as_str().expect("an operationId");
            assert!(operation_ids.insert(id.to_owned()), "{id} twice");
            // Every path parameter is declared.
            let declared: BTreeSet<&str> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .map(|p| p["name"].as_str().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            let templated: BTreeSet<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            assert_eq!(declared, templated, "{name}");
            // Security names only schemes that exist.
            for requirement in op["security"].as_array().into_iter().flatten() {
                for scheme in requirement.as_object().unwrap().keys() {
                    assert!(schemes.get(scheme).is_some(), "{name}: {scheme}");
                }
            }
            let responses = op["responses"].as_object().expect("responses");
            assert!(responses.contains_key("500"), "{name}: no 500");
            for (status, response) in responses {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{name} {status}: no description"
                );
                // Every error answer has the error body.
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/Error",
                        "{name} {status}"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn the_document_passes_openapi_spec_validator() {
    let (doc, app) = document().await;
    let found = Command::new("openapi-spec-validator")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("LATCHKEY_REQUIRE_OPENAPI_VALIDATOR").is_err(),
            "openapi-spec-validator is required (LATCHKEY_REQUIRE_OPENAPI_VALIDATOR) but not installed"
        );
        eprintln!(
            "SKIPPED: openapi-spec-validator is not installed; .ci/run installs and requires it"
        );
        return;
    }
    let file = app.db.dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let output = Command::new("openapi-spec-validator")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn the_authorization_server_metadata_points_at_the_document() {
    let app = spawn_app().await;
    let metadata: Value = app
        .client
        .get(app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let issuer = app.settings.issuer.trim_end_matches('/');
    let expected = format!("{issuer}/api/v1/openapi.json");
    assert_eq!(metadata["openapi_uri"], expected.as_str());
    assert_eq!(metadata["service_documentation"], expected.as_str());
}
