use sea_orm::entity::prelude::*;

/// Append-only log; `id` is a monotonic auto-increment cursor.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "revocation_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub subject: String,
    pub user_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub role: Option<String>,
    pub not_after: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// `key_created`: the key's token digest (`None` in rows written before
    /// digests were kept).
    pub token_digest: Option<Vec<u8>>,
    /// `key_created`: the key's scopes, space-separated; `None`: unrestricted.
    pub scopes: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
