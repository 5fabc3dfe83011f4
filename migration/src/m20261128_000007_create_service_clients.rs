use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ServiceClients::Table)
                    .if_not_exists()
                    .col(string(ServiceClients::ClientId).primary_key())
                    .col(string(ServiceClients::SecretHash))
                    .col(string(ServiceClients::Name))
                    .col(timestamp_with_time_zone(ServiceClients::CreatedAt))
                    .col(timestamp_with_time_zone_null(ServiceClients::RevokedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(ServiceClients::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ServiceClients {
    Table,
    ClientId,
    SecretHash,
    Name,
    CreatedAt,
    RevokedAt,
}
