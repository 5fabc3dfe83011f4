//! Fills the API Keys page from the services the JSON API uses: the
//! viewer's companies from the sessions service, the keys and the plan's
//! terms from the API-key service (which applies the role rule), and who
//! created each key from the accounts service.

use std::collections::HashMap;

use uuid::Uuid;

use super::error::PageError;
use super::session::PageSession;
use super::views::api_keys::{ApiKeysPage, Dialog, KeyRow, KeyScope, PlanAccess};
use super::views::create_key::{CreateKeyForm, ReservedKeyId};
use super::views::{CompanyEntry, Shell, Viewer};
use crate::domain::Role;
use crate::error::ApiError;
use crate::services::sessions::ProfileCompany;
use crate::services::KeyView;
use crate::state::AppState;

/// The page for `company_id` with no dialog open; the viewer's company
/// switcher, the keys they may see, and a create form if the plan allows.
pub async fn keys_page(
    state: &AppState,
    session: &PageSession,
    company_id: Uuid,
) -> Result<ApiKeysPage, PageError> {
    let profile = state.sessions.profile(&session.claims).await?;
    let (here, others): (Vec<_>, Vec<_>) = profile
        .companies
        .into_iter()
        .partition(|company| company.id == company_id);
    let company = here.into_iter().next().ok_or(PageError::NotTheirCompany)?;
    let role: Role = company
        .role
        .parse()
        .map_err(|_| PageError::NotTheirCompany)?;
    let keys = match state.api_keys.list(&session.claims, company_id).await {
        Ok(keys) => keys,
        Err(ApiError::NotFound) => return Err(PageError::NotTheirCompany),
        Err(e) => return Err(e.into()),
    };
    let creators = if role.manages_company() {
        let ids = keys.iter().map(|key| key.created_by).collect();
        state.accounts.emails(ids).await.map_err(ApiError::from)?
    } else {
        HashMap::from([(session.user_id(), profile.email.clone())])
    };
    let now = state.clock.now();
    let plan = match state.api_keys.plan_terms(&company.plan) {
        Some(terms) => PlanAccess::Allowed {
            active_limit: terms
                .active_key_limit()
                .map(|limit| u32::try_from(limit).unwrap_or(u32::MAX)),
            create: Box::new(CreateKeyForm::blank(
                now,
                u32::try_from(terms.max_lifetime_days).unwrap_or(u32::MAX),
                state.api_keys.allowed_scopes(),
                reserve_key_id(state, session, company_id),
            )),
        },
        None => PlanAccess::NotIncluded {
            allowed_plans: state.api_keys.plans_with_keys(),
        },
    };
    Ok(ApiKeysPage {
        shell: Shell {
            viewer: Viewer {
                name: None,
                email: profile.email,
            },
            company: entry(company),
            other_companies: others.into_iter().map(entry).collect(),
            csrf_token: session.csrf_token(state),
        },
        now,
        scope: if role.manages_company() {
            KeyScope::Company
        } else {
            KeyScope::Own
        },
        plan,
        keys: keys.into_iter().map(|key| row(key, &creators)).collect(),
        dialog: Dialog::None,
        notice: None,
    })
}

/// A new id for the next key, reserved for this session and company.
fn reserve_key_id(state: &AppState, session: &PageSession, company_id: Uuid) -> ReservedKeyId {
    let id = state.clock.new_v7();
    ReservedKeyId {
        id,
        tag: session.key_id_tag(state, company_id, id),
    }
}

fn entry(company: ProfileCompany) -> CompanyEntry {
    CompanyEntry {
        id: company.id,
        name: company.name,
        plan: company.plan,
    }
}

fn row(key: KeyView, creators: &HashMap<Uuid, String>) -> KeyRow {
    KeyRow {
        id: key.id,
        created_by: creators.get(&key.created_by).cloned().unwrap_or_default(),
        name: key.name,
        created_at: key.created_at,
        expires_at: key.expires_at,
        last_used_at: key.last_used_at,
        status: key.status,
        scopes: key.scopes.unwrap_or_default(),
    }
}
