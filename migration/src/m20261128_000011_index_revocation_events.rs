use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Indexes that fit the start-up reads and the upkeep of the log: revoked
/// tokens still alive (`kind`, `not_after`), the cursor's starting point
/// and pruning (`created_at`), and whether a token is already revoked
/// (`subject`).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, columns) in INDEXES {
            let mut index = Index::create();
            index
                .name(*name)
                .table(RevocationEvents::Table)
                .if_not_exists();
            for column in *columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in INDEXES {
            manager
                .drop_index(
                    Index::drop()
                        .name(*name)
                        .table(RevocationEvents::Table)
                        .if_exists()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

const INDEXES: &[(&str, &[RevocationEvents])] = &[
    (
        "idx_revocation_events_kind_not_after",
        &[RevocationEvents::Kind, RevocationEvents::NotAfter],
    ),
    (
        "idx_revocation_events_created_at",
        &[RevocationEvents::CreatedAt],
    ),
    (
        "idx_revocation_events_subject",
        &[RevocationEvents::Subject],
    ),
];

#[derive(DeriveIden, Clone, Copy)]
enum RevocationEvents {
    Table,
    Kind,
    Subject,
    NotAfter,
    CreatedAt,
}
