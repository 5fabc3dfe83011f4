use chrono::{DateTime, Utc};
use entity::api_keys;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::Store;
use crate::revocation::KeyEntry;

impl Store {
    /// Every key that is neither deleted nor expired: the allow-list at start.
    pub async fn active_key_entries(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, KeyEntry)>, DbErr> {
        let rows: Vec<(Uuid, Uuid, Uuid, DateTime<Utc>)> = api_keys::Entity::find()
            .select_only()
            .columns([
                api_keys::Column::Id,
                api_keys::Column::CompanyId,
                api_keys::Column::UserId,
                api_keys::Column::ExpiresAt,
            ])
            .filter(api_keys::Column::DeletedAt.is_null())
            .filter(api_keys::Column::ExpiresAt.gt(now))
            .into_tuple()
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, company_id, user_id, expires_at)| {
                (
                    id,
                    KeyEntry {
                        company_id,
                        user_id,
                        expires_at: expires_at.timestamp(),
                    },
                )
            })
            .collect())
    }
}
