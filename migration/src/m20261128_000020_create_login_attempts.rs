use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Failed (and in-flight) logins per account, in a fixed window: shared by
/// every replica, so spreading guesses over replicas gains nothing. Times
/// are unix milliseconds, so the window arithmetic is the same SQL on
/// SQLite and PostgreSQL.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginAttempts::Table)
                    .if_not_exists()
                    .col(string(LoginAttempts::Account).primary_key())
                    .col(big_integer(LoginAttempts::WindowStartedMs))
                    .col(big_integer(LoginAttempts::Attempts))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(LoginAttempts::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum LoginAttempts {
    Table,
    Account,
    WindowStartedMs,
    Attempts,
}
