use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RevocationEvents::Table)
                    .if_not_exists()
                    // Append-only, monotonic cursor: BIGINT identity on
                    // PostgreSQL, INTEGER PRIMARY KEY AUTOINCREMENT on SQLite
                    // (AUTOINCREMENT guarantees ids are never reused).
                    .col(big_pk_auto(RevocationEvents::Id))
                    .col(string(RevocationEvents::Kind))
                    .col(string(RevocationEvents::Subject))
                    .col(uuid_null(RevocationEvents::UserId))
                    .col(uuid_null(RevocationEvents::CompanyId))
                    .col(string_null(RevocationEvents::Role))
                    .col(timestamp_with_time_zone_null(RevocationEvents::NotAfter))
                    .col(timestamp_with_time_zone(RevocationEvents::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(RevocationEvents::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum RevocationEvents {
    Table,
    Id,
    Kind,
    Subject,
    UserId,
    CompanyId,
    Role,
    NotAfter,
    CreatedAt,
}
