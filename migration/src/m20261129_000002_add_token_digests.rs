use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The SHA-256 of an API key's exact token string (never the token), so an
/// instance can recognise its own keys without checking a signature; and the
/// same digest and the key's scopes on `key_created` events, so replicas
/// learn them. Keys and events from before stay NULL: such keys are checked
/// by signature until they expire.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .add_column(binary_null(ApiKeys::TokenDigest))
                    .to_owned(),
            )
            .await?;
        // SQLite alters one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(RevocationEvents::Table)
                    .add_column(binary_null(RevocationEvents::TokenDigest))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RevocationEvents::Table)
                    .add_column(text_null(RevocationEvents::Scopes))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RevocationEvents::Table)
                    .drop_column(RevocationEvents::Scopes)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RevocationEvents::Table)
                    .drop_column(RevocationEvents::TokenDigest)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .drop_column(ApiKeys::TokenDigest)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    TokenDigest,
}

#[derive(DeriveIden)]
enum RevocationEvents {
    Table,
    TokenDigest,
    Scopes,
}
