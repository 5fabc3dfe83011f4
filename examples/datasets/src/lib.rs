//! A downstream service of latchkey: the datasets API its product docs call
//! (`GET /api/v1/companies/{company_id}/datasets/`), kept in memory.
//! The latchkey part is [`routes`]: one `protect` per route.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::Mutex;

use actix_web::dev::Server;
use actix_web::{web, App, HttpResponse, HttpServer};
use latchkey_client::{Caller, Latchkey, Policy};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How each route checks tokens.
#[derive(Debug, Clone, Copy)]
pub struct Policies {
    pub read: Policy,
    pub write: Policy,
}

#[derive(Clone, Serialize)]
pub struct Dataset {
    pub id: Uuid,
    pub name: String,
    pub created_by: Uuid,
}

#[derive(Deserialize)]
struct NewDataset {
    name: String,
}

/// Every company's datasets.
#[derive(Default)]
pub struct Datasets(Mutex<HashMap<Uuid, Vec<Dataset>>>);

/// The datasets routes, protected: reading needs `datasets:read`, writing
/// `datasets:write` (an API key without scopes has both), and either needs
/// a token that reaches the company in the path.
pub fn routes(cfg: &mut web::ServiceConfig, latchkey: &Latchkey, policies: Policies) {
    let read = latchkey
        .protect(policies.read)
        .require_scope("datasets:read");
    let write = latchkey
        .protect(policies.write)
        .require_scope("datasets:write");
    for path in PATHS {
        cfg.service(
            web::resource(path)
                .route(web::get().to(list).wrap(read.clone()))
                .route(web::post().to(create).wrap(write.clone())),
        );
    }
}

/// The datasets paths, the documented one (with the trailing slash) first.
/// One resource each rather than one resource with both: actix-web's router
/// matches every pattern of a multi-pattern resource against every request
/// before capturing from the one that matched, which here cost more than the
/// offline token check itself (issue #13).
const PATHS: [&str; 2] = [
    "/api/v1/companies/{company_id}/datasets/",
    "/api/v1/companies/{company_id}/datasets",
];

async fn list(company: web::Path<Uuid>, datasets: web::Data<Datasets>) -> HttpResponse {
    let all = datasets.0.lock().unwrap_or_else(|e| e.into_inner());
    let results = all.get(&company).cloned().unwrap_or_default();
    HttpResponse::Ok().json(serde_json::json!({ "count": results.len(), "results": results }))
}

async fn create(
    caller: Caller,
    company: web::Path<Uuid>,
    body: web::Json<NewDataset>,
    datasets: web::Data<Datasets>,
) -> HttpResponse {
    let dataset = Dataset {
        id: Uuid::now_v7(),
        name: body.into_inner().name,
        created_by: caller.subject,
    };
    let mut all = datasets.0.lock().unwrap_or_else(|e| e.into_inner());
    all.entry(*company).or_default().push(dataset.clone());
    HttpResponse::Created().json(dataset)
}

/// Serves the datasets API on `listener` until the returned server stops.
pub fn serve(
    listener: TcpListener,
    latchkey: Latchkey,
    policies: Policies,
) -> std::io::Result<Server> {
    let datasets = web::Data::new(Datasets::default());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(datasets.clone())
            .configure(|cfg| routes(cfg, &latchkey, policies))
    })
    .listen(listener)?
    .run();
    Ok(server)
}

/// The same handlers on the same resources (paths and routes as [`routes`]
/// registers them) with no latchkey at all: only the benchmarks'
/// baseline (`benches/run downstream`, `benches/datasets-instructions`),
/// never a way to run the service. `POST` answers 503: its `Caller` finds no
/// `Latchkey`.
#[doc(hidden)]
pub fn serve_without_auth(listener: TcpListener) -> std::io::Result<Server> {
    let datasets = web::Data::new(Datasets::default());
    let server = HttpServer::new(move || {
        App::new().app_data(datasets.clone()).configure(|cfg| {
            for path in PATHS {
                cfg.service(
                    web::resource(path)
                        .route(web::get().to(list))
                        .route(web::post().to(create)),
                );
            }
        })
    })
    .listen(listener)?
    .run();
    Ok(server)
}
