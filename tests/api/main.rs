mod auth;
mod cli;
mod errors;
mod forgery;
mod helpers;
mod logs;
mod process;
mod signing_keys;
