pub use sea_orm_migration::prelude::*;

mod m20261128_000001_create_companies;
mod m20261128_000002_create_users;
mod m20261128_000003_create_memberships;
mod m20261128_000004_create_api_keys;
mod m20261128_000005_create_refresh_tokens;
mod m20261128_000006_create_signing_keys;
mod m20261128_000007_create_service_clients;
mod m20261128_000008_create_revocation_events;
mod m20261128_000009_create_audit_events;
mod m20261128_000010_alter_api_keys;
mod m20261128_000011_index_revocation_events;
mod m20261128_000012_add_api_key_scopes;
mod m20261128_000020_admin_and_provisioning;
mod m20261128_000020_create_login_attempts;
mod m20261129_000001_revoke_signing_keys;
mod m20261129_000002_add_token_digests;
mod m20261129_000003_add_refresh_session_end;
mod m20261205_000001_add_api_key_signing_kid;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_companies::Migration),
            Box::new(m20261128_000002_create_users::Migration),
            Box::new(m20261128_000003_create_memberships::Migration),
            Box::new(m20261128_000004_create_api_keys::Migration),
            Box::new(m20261128_000005_create_refresh_tokens::Migration),
            Box::new(m20261128_000006_create_signing_keys::Migration),
            Box::new(m20261128_000007_create_service_clients::Migration),
            Box::new(m20261128_000008_create_revocation_events::Migration),
            Box::new(m20261128_000009_create_audit_events::Migration),
            Box::new(m20261128_000010_alter_api_keys::Migration),
            Box::new(m20261128_000011_index_revocation_events::Migration),
            Box::new(m20261128_000020_create_login_attempts::Migration),
            Box::new(m20261129_000001_revoke_signing_keys::Migration),
            Box::new(m20261128_000020_admin_and_provisioning::Migration),
            Box::new(m20261128_000012_add_api_key_scopes::Migration),
            Box::new(m20261129_000002_add_token_digests::Migration),
            Box::new(m20261129_000003_add_refresh_session_end::Migration),
            Box::new(m20261205_000001_add_api_key_signing_kid::Migration),
        ]
    }
}
