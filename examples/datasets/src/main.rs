//! `datasets`: the example service, configured from the environment.

use std::net::TcpListener;
use std::time::Duration;

use latchkey_client::{Latchkey, Policy};

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// `offline`, `live`, or `confirmed:SECONDS`.
fn policy(name: &str, default: &str) -> Result<Policy, String> {
    let value = env(name, default);
    match value.split_once(':') {
        None if value == "offline" => Ok(Policy::Offline),
        None if value == "live" => Ok(Policy::Live),
        Some(("confirmed", seconds)) => seconds
            .parse()
            .map(|s| Policy::Confirmed(Duration::from_secs(s)))
            .map_err(|_| format!("{name}: {seconds:?} is not a number of seconds")),
        _ => Err(format!(
            "{name}: expected offline, live or confirmed:SECONDS, not {value:?}"
        )),
    }
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(env("RUST_LOG", "info"))
        .init();
    let url = env("LATCHKEY_URL", "http://127.0.0.1:8080");
    let latchkey = Latchkey::builder(&url)
        .issuer(env("LATCHKEY_ISSUER", &url))
        .client_credentials(
            std::env::var("LATCHKEY_CLIENT_ID").map_err(|_| "set LATCHKEY_CLIENT_ID")?,
            std::env::var("LATCHKEY_CLIENT_SECRET").map_err(|_| "set LATCHKEY_CLIENT_SECRET")?,
        )
        .build()?;
    let policies = datasets::Policies {
        read: policy("DATASETS_READ_POLICY", "offline")?,
        write: policy("DATASETS_WRITE_POLICY", "live")?,
    };
    let address = env("DATASETS_ADDRESS", "127.0.0.1:8000");
    let listener = TcpListener::bind(&address)?;
    println!("datasets listening on http://{address} ({policies:?})");
    datasets::serve(listener, latchkey, policies)?.await?;
    Ok(())
}
