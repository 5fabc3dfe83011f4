use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A signing key revoked because it leaked: it leaves the JWKS at once and
/// verifies nothing more, unlike a retired key, which verifies until its
/// last token has expired.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SigningKeys::Table)
                    .add_column(timestamp_with_time_zone_null(SigningKeys::RevokedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SigningKeys::Table)
                    .drop_column(SigningKeys::RevokedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    RevokedAt,
}
