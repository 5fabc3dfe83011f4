use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub company_id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub deleted_at: Option<DateTimeUtc>,
    pub deleted_by: Option<Uuid>,
    /// Ended for good without being deleted; the key stays listed.
    pub revoked_at: Option<DateTimeUtc>,
    /// Who ended it, as text (an operator, the CLI, a user id).
    pub revoked_by: Option<String>,
    /// `member_removed`, `user_disabled`, `tokens_revoked` or `signing_key_revoked`.
    pub revoked_reason: Option<String>,
    /// The key's scopes, space-separated as in its token's `scope` claim;
    /// `None` for a key with its creator's full rights.
    pub scopes: Option<String>,
    /// SHA-256 of the key's exact token string (never the token itself);
    /// `None` for keys made before digests were kept.
    pub token_digest: Option<Vec<u8>>,
    /// The `kid` of the signing key that signed its token; `None` for keys
    /// made before it was kept (their signer is known by time).
    pub signing_kid: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
