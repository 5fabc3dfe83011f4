//! The datasets service, with latchkey-client, against a real latchkey
//! spawned in-process on port 0 (SQLite, or PostgreSQL when
//! `LATCHKEY_TEST_DATABASE_URL` is set).

mod helpers;
mod keys;
mod outage;
mod paths;
mod scopes;
