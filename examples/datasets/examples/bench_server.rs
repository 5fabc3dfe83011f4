//! The datasets service for instruction counts (`benches/datasets-instructions`):
//! `DATASETS_BENCH_MODE=offline` serves it as `datasets` does, its `GET`
//! checked offline; `none` serves the same handler with no latchkey at all,
//! the load benchmark's baseline. Prints the port it listens on.

use std::net::TcpListener;

use latchkey_client::{Latchkey, Policy};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("set {name}"))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let server = match env("DATASETS_BENCH_MODE").as_str() {
        "none" => datasets::serve_without_auth(listener)?,
        "offline" => {
            let url = env("LATCHKEY_URL");
            let latchkey = Latchkey::builder(&url)
                .issuer(env("LATCHKEY_ISSUER"))
                .client_credentials(env("LATCHKEY_CLIENT_ID"), env("LATCHKEY_CLIENT_SECRET"))
                .build()
                .expect("valid settings");
            latchkey.fetch_keys().await.expect("latchkey's JWKS");
            let policies = datasets::Policies {
                read: Policy::Offline,
                write: Policy::Live,
            };
            datasets::serve(listener, latchkey, policies)?
        }
        other => panic!("DATASETS_BENCH_MODE: none or offline, not {other:?}"),
    };
    println!("listening on {port}");
    server.await
}
