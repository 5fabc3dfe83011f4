use entity::companies;
use sea_orm::{ActiveModelTrait, DbErr, EntityTrait, Set};
use uuid::Uuid;

use super::Store;
use crate::domain::{CompanyName, Plan};

impl Store {
    pub async fn create_company(
        &self,
        name: &CompanyName,
        plan: &Plan,
    ) -> Result<companies::Model, DbErr> {
        companies::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(name.as_str().to_owned()),
            plan: Set(plan.as_str().to_owned()),
            created_at: Set(self.now()),
        }
        .insert(self.db())
        .await
    }

    pub async fn find_company(&self, id: Uuid) -> Result<Option<companies::Model>, DbErr> {
        companies::Entity::find_by_id(id).one(self.db()).await
    }

    /// Returns false if there is no such company.
    pub async fn set_company_plan(&self, id: Uuid, plan: &Plan) -> Result<bool, DbErr> {
        let Some(company) = self.find_company(id).await? else {
            return Ok(false);
        };
        let mut active: companies::ActiveModel = company.into();
        active.plan = Set(plan.as_str().to_owned());
        active.update(self.db()).await?;
        Ok(true)
    }
}
