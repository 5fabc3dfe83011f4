use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    pub algorithm: String,
    #[sea_orm(column_type = "Blob")]
    pub public_key: Vec<u8>,
    #[sea_orm(column_type = "Blob")]
    pub private_key_encrypted: Vec<u8>,
    pub created_at: DateTimeUtc,
    pub retired_at: Option<DateTimeUtc>,
    /// Revoked (leaked): verifies nothing, whatever `retired_at` says.
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
