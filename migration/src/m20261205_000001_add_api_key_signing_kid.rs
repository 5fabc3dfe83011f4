use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Which signing key signed each API key. With keys published ahead of
/// signing, a key's signing window is no longer "from its creation to its
/// retirement", so revoking a signing key finds its API keys by this column.
/// Keys made before it have none, and are still found by that window, which
/// was exact when they were made.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .add_column(string_null(ApiKeys::SigningKid))
                    .to_owned(),
            )
            .await?;
        // Revoking a signing key looks its API keys up by it.
        manager
            .create_index(
                Index::create()
                    .name("idx_api_keys_signing_kid")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::SigningKid)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_api_keys_signing_kid")
                    .table(ApiKeys::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .drop_column(ApiKeys::SigningKid)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    SigningKid,
}
