//! Companies, users and memberships: for the CLI now, the admin API later.

use std::collections::HashMap;

use entity::{companies, users};
use sea_orm::DbErr;
use uuid::Uuid;

use super::events::EventSink;
use crate::domain::{CompanyName, Email, Password, Plan, Role};
use crate::store::memberships::AddMemberError;
use crate::store::Store;

#[derive(Clone)]
pub struct Accounts {
    store: Store,
    events: EventSink,
}

impl Accounts {
    pub fn new(store: Store, events: EventSink) -> Self {
        Accounts { store, events }
    }

    /// Who created each key, as people read it: the creators' emails.
    pub async fn emails(&self, user_ids: Vec<Uuid>) -> Result<HashMap<Uuid, String>, DbErr> {
        self.store.user_emails(user_ids).await
    }

    pub async fn create_company(
        &self,
        name: &CompanyName,
        plan: &Plan,
    ) -> Result<companies::Model, DbErr> {
        self.store.create_company(name, plan).await
    }

    /// False if there is no such company. Existing keys keep working after a
    /// downgrade.
    pub async fn set_plan(&self, company_id: Uuid, plan: &Plan) -> Result<bool, DbErr> {
        self.store.set_company_plan(company_id, plan).await
    }

    /// Hashes the password (argon2id, off the async threads) and creates the user.
    pub async fn create_user(
        &self,
        email: &Email,
        password: Password,
        is_admin: bool,
    ) -> anyhow::Result<users::Model> {
        let hash =
            tokio::task::spawn_blocking(move || crate::passwords::hash_blocking(password.secret()))
                .await??;
        Ok(self.store.create_user(email, hash, is_admin).await?)
    }

    /// Every token of the user stops working, for good. False if no such user.
    pub async fn disable_user(&self, user_id: Uuid, actor: &str) -> Result<bool, DbErr> {
        let events = self.store.disable_user(user_id, actor).await?;
        Ok(self.put_in_force(events).await)
    }

    /// Every token issued to the user so far stops working. False if no such user.
    pub async fn revoke_user_tokens(&self, user_id: Uuid, actor: &str) -> Result<bool, DbErr> {
        let events = self.store.revoke_user_tokens(user_id, actor).await?;
        Ok(self.put_in_force(events).await)
    }

    /// Adds the user to the company, or changes their role there.
    pub async fn add_member(
        &self,
        user_id: Uuid,
        company_id: Uuid,
        role: Role,
    ) -> Result<(), AddMemberError> {
        let events = self.store.add_member(user_id, company_id, role).await?;
        self.put_in_force(events).await;
        Ok(())
    }

    /// Removes the user from the company and ends their keys there for good.
    /// False if they were not a member.
    pub async fn remove_member(
        &self,
        user_id: Uuid,
        company_id: Uuid,
        actor: &str,
    ) -> Result<bool, DbErr> {
        let events = self.store.remove_member(user_id, company_id, actor).await?;
        Ok(self.put_in_force(events).await)
    }

    /// True if the write did anything (and so appended events).
    async fn put_in_force(&self, events: Vec<crate::domain::AccessEvent>) -> bool {
        if events.is_empty() {
            return false;
        }
        self.events.put_in_force(events).await;
        true
    }
}
