//! SeaORM entities for latchkey (classic `DeriveEntityModel` format, no relation fields).

pub mod api_keys;
pub mod audit_events;
pub mod companies;
pub mod idempotency_keys;
pub mod invitations;
pub mod memberships;
pub mod prelude;
pub mod refresh_tokens;
pub mod revocation_events;
pub mod service_clients;
pub mod signing_keys;
pub mod users;
