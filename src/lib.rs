//! latchkey: a standalone authentication service that issues tokens.

pub mod access;
pub mod cli;
pub mod clock;
pub mod domain;
pub mod error;
pub mod http;
pub mod lifecycle;
pub mod monitoring;
pub mod passwords;
pub mod private_files;
pub mod services;
pub mod settings;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod throttle;
pub mod tokens;
pub mod usage;
pub mod web;

/// The crate-wide result: errors are rendered by `ApiError`.
pub type Result<T, E = error::ApiError> = std::result::Result<T, E>;
