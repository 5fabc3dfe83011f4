use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Keys ended for good without being deleted: by a member removal, a user
/// disabled, `revoke-tokens` (and later a signing key revoked). Who did it
/// is kept as text: an operator, the CLI, a user id.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for column in [
            timestamp_with_time_zone_null(ApiKeys::RevokedAt),
            string_null(ApiKeys::RevokedBy),
            string_null(ApiKeys::RevokedReason),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ApiKeys::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ApiKeys::RevokedReason,
            ApiKeys::RevokedBy,
            ApiKeys::RevokedAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ApiKeys::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    RevokedAt,
    RevokedBy,
    RevokedReason,
}
