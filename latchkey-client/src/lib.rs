//! Check latchkey tokens in a downstream Rust service.
//!
//! latchkey issues two kinds of JWT, both EdDSA-signed: short-lived login
//! tokens, and long-lived API keys bound to one company. This crate checks
//! them the way latchkey itself does:
//!
//! - **offline**, against latchkey's JWKS (fetched, cached, refreshed on an
//!   unknown `kid` no more often than a minimum interval);
//! - **live**, by introspection with service-client credentials, behind a
//!   cache of a few seconds, so a deleted key is refused almost at once;
//! - per route, by a [`Policy`]: offline only, live, or offline with a live
//!   confirmation at most every N seconds.
//!
//! Offline checks always run first, so a forged token never costs a round
//! trip. When latchkey cannot be reached, live routes answer 503 and offline
//! routes keep working on the keys already fetched.
//!
//! On actix-web, [`Latchkey::protect`] wraps routes and the [`Caller`]
//! extractor gives handlers the subject, kind, company, scopes and token id.
//! Refusals carry latchkey's own error body and `WWW-Authenticate` header.
//!
//! ```no_run
//! use actix_web::{web, App, HttpServer, Responder};
//! use latchkey_client::{Caller, Latchkey, Policy};
//!
//! async fn datasets(caller: Caller) -> impl Responder {
//!     format!("datasets of company {:?}", caller.company_id)
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     let latchkey = Latchkey::builder("http://127.0.0.1:8080").build().unwrap();
//!     HttpServer::new(move || {
//!         App::new().route(
//!             "/api/v1/companies/{company_id}/datasets/",
//!             web::get().to(datasets).wrap(latchkey.protect(Policy::Offline)),
//!         )
//!     })
//!     .bind(("127.0.0.1", 8000))?
//!     .run()
//!     .await
//! }
//! ```
//!
//! # Features
//!
//! - `offline` (default): [`Latchkey`] with [`Policy::Offline`].
//! - `live` (default): [`Policy::Live`] and [`Policy::Confirmed`].
//! - `actix` (default): [`Latchkey::protect`] and the [`Caller`] extractor.
//!
//! With no features the crate is only its pure parts, with no HTTP stack:
//! [`Caller`], [`Scopes`], [`TokenKind`], [`Rejection`], the clock and the
//! company path rule ([`path`]).

mod caller;
mod clock;
pub mod path;
mod rejection;

pub use caller::{Caller, InvalidScope, Scopes, TokenKind};
pub use clock::{Clock, SystemClock, TestClock};
pub use rejection::{Rejection, INVALID_TOKEN_DETAIL};

#[cfg(feature = "offline")]
mod builder;
#[cfg(feature = "offline")]
mod client;
#[cfg(feature = "offline")]
mod fetch;
#[cfg(feature = "offline")]
mod halt;
#[cfg(feature = "offline")]
mod jwks;
#[cfg(feature = "offline")]
mod jws;
#[cfg(feature = "offline")]
mod memberships;
#[cfg(feature = "offline")]
mod offline;
#[cfg(feature = "offline")]
mod token;
#[cfg(feature = "offline")]
mod verified_cache;

#[cfg(feature = "offline")]
pub use builder::{BuildError, LatchkeyBuilder, MAX_VERIFIED_CACHE};
#[cfg(feature = "offline")]
pub use client::{Latchkey, Policy};

#[cfg(feature = "live")]
mod live;

#[cfg(feature = "live")]
pub use builder::MAX_INTROSPECTION_TTL;

#[cfg(feature = "actix")]
mod actix;

#[cfg(feature = "actix")]
pub use actix::{CallerFuture, Protect, ProtectFuture, ProtectService};

/// The README's examples, compiled by `cargo test --doc`.
#[cfg(all(doctest, feature = "actix"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
