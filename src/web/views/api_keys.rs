//! The API Keys page: the list, and whichever dialog is open on it.

use askama::Template;
use chrono::{DateTime, Duration, Utc};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::create_key::CreateKeyForm;
use super::{in_words, plan_label, when, Shell};
use crate::web::paths;

/// Keys shown with under this much life left carry an "expires soon" mark.
const SOON_DAYS: i64 = 7;

#[derive(Template)]
#[template(path = "api_keys.html")]
pub struct ApiKeysPage {
    pub shell: Shell,
    pub now: DateTime<Utc>,
    pub scope: KeyScope,
    pub plan: PlanAccess,
    pub keys: Vec<KeyRow>,
    pub dialog: Dialog,
    /// A one-line confirmation, e.g. after a deletion.
    pub notice: Option<String>,
}

/// Which keys the viewer sees.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum KeyScope {
    /// A member: their own keys.
    Own,
    /// An owner or admin: every key of the company, with who created it.
    Company,
}

pub enum PlanAccess {
    Allowed {
        /// The most active keys at once; `None` for unlimited.
        active_limit: Option<u32>,
        create: Box<CreateKeyForm>,
    },
    /// The plan has no API keys; existing ones (after a downgrade) are
    /// still listed and may be deleted.
    NotIncluded {
        /// Settings names of the plans that do allow keys.
        allowed_plans: Vec<String>,
    },
}

pub enum Dialog {
    None,
    /// Opened by `GET .../new`, or again with errors after a failed create.
    Create,
    /// Straight after a create: the only time the key is shown.
    Reveal(RevealedKey),
    /// Opened by `GET .../{key_id}/delete`.
    Delete {
        key_id: Uuid,
        name: String,
    },
}

pub struct RevealedKey {
    pub name: String,
    pub token: SecretString,
    pub company_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

impl RevealedKey {
    pub fn token(&self) -> &str {
        self.token.expose_secret()
    }

    pub fn expires_on(&self) -> String {
        when::date(self.expires_at)
    }
}

pub struct KeyRow {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// The creator's name or email; shown to owners and admins.
    pub created_by: String,
    pub status: KeyStatus,
    /// Empty for a key with its creator's full rights.
    pub scopes: Vec<String>,
}

/// Active, expired or revoked: as the API says it.
pub use crate::services::api_keys::KeyStatus;

impl KeyRow {
    /// "…f3a9": the last four hex digits of the key id, which is public
    /// (it is the token's `jti`), never any part of the token itself.
    pub fn fingerprint(&self) -> String {
        let simple = self.id.simple().to_string();
        format!("…{}", &simple[simple.len() - 4..])
    }

    pub fn is_active(&self) -> bool {
        self.status == KeyStatus::Active
    }

    pub fn status_label(&self) -> &'static str {
        match self.status {
            KeyStatus::Active => "Active",
            KeyStatus::Expired => "Expired",
            KeyStatus::Revoked => "Revoked",
        }
    }

    pub fn created_on(&self) -> String {
        when::date(self.created_at)
    }

    pub fn created_instant(&self) -> String {
        when::instant(self.created_at)
    }

    pub fn expires_on(&self) -> String {
        when::date(self.expires_at)
    }

    pub fn expires_instant(&self) -> String {
        when::instant(self.expires_at)
    }

    pub fn expires_machine(&self) -> String {
        when::machine(self.expires_at)
    }

    pub fn expires_relative(&self, now: &DateTime<Utc>) -> String {
        when::relative(*now, self.expires_at)
    }

    pub fn expires_soon(&self, now: &DateTime<Utc>) -> bool {
        self.is_active() && self.expires_at - *now < Duration::days(SOON_DAYS)
    }

    pub fn last_used(&self, now: &DateTime<Utc>) -> String {
        when::since(*now, self.last_used_at)
    }

    pub fn last_used_instant(&self) -> String {
        self.last_used_at.map(when::instant).unwrap_or_default()
    }
}

impl ApiKeysPage {
    pub fn company_id(&self) -> Uuid {
        self.shell.company.id
    }

    pub fn list_path(&self) -> String {
        paths::api_keys(self.company_id())
    }

    pub fn new_path(&self) -> String {
        paths::new_api_key(self.company_id())
    }

    pub fn delete_path(&self, key_id: &Uuid) -> String {
        paths::delete_api_key(self.company_id(), *key_id)
    }

    pub fn show_creator(&self) -> bool {
        self.scope == KeyScope::Company
    }

    pub fn create_form(&self) -> Option<&CreateKeyForm> {
        match &self.plan {
            PlanAccess::Allowed { create, .. } => Some(create),
            PlanAccess::NotIncluded { .. } => None,
        }
    }

    pub fn active_count(&self) -> usize {
        self.keys.iter().filter(|k| k.is_active()).count()
    }

    /// "3 of 25 active keys", "3 active keys"; nothing without keys on the plan.
    pub fn usage(&self) -> Option<String> {
        let PlanAccess::Allowed { active_limit, .. } = &self.plan else {
            return None;
        };
        let count = self.active_count();
        let noun = if count == 1 && active_limit.is_none() {
            "key"
        } else {
            "keys"
        };
        Some(match active_limit {
            Some(limit) => format!("{count} of {limit} active {noun}"),
            None => format!("{count} active {noun}"),
        })
    }

    /// Why there is no Create button, when the plan has no keys.
    pub fn plan_notice(&self) -> Option<String> {
        let PlanAccess::NotIncluded { allowed_plans } = &self.plan else {
            return None;
        };
        let labels: Vec<String> = allowed_plans.iter().map(|p| plan_label(p)).collect();
        Some(format!(
            "API keys are not included in the {} plan. They are available on the {} {}.",
            self.shell.company.plan_label(),
            in_words(&labels),
            if labels.len() == 1 { "plan" } else { "plans" },
        ))
    }

    pub fn create_open(&self) -> bool {
        matches!(self.dialog, Dialog::Create)
    }

    pub fn reveal(&self) -> Option<&RevealedKey> {
        match &self.dialog {
            Dialog::Reveal(key) => Some(key),
            _ => None,
        }
    }

    /// The key named in an open delete confirmation, with its form action.
    pub fn delete_target(&self) -> Option<(String, &str)> {
        match &self.dialog {
            Dialog::Delete { key_id, name } => Some((self.delete_path(key_id), name)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use askama::Template;

    use super::*;
    use crate::web::views::create_key::ReservedKeyId;
    use crate::web::views::{CompanyEntry, Viewer};

    const HOSTILE: &str = "<img src=x onerror=alert(1)>";

    fn page(dialog: Dialog) -> ApiKeysPage {
        let now: DateTime<Utc> = "2026-11-28T10:00:00Z".parse().unwrap();
        ApiKeysPage {
            shell: Shell {
                viewer: Viewer {
                    name: Some(HOSTILE.into()),
                    email: "ada@example.com".into(),
                },
                company: CompanyEntry {
                    id: Uuid::nil(),
                    name: HOSTILE.into(),
                    plan: "professional".into(),
                },
                other_companies: Vec::new(),
                csrf_token: "csrf\"><b>".into(),
            },
            now,
            scope: KeyScope::Company,
            plan: PlanAccess::Allowed {
                active_limit: None,
                create: Box::new(CreateKeyForm::blank(
                    now,
                    365,
                    &[HOSTILE.to_owned()],
                    ReservedKeyId {
                        id: Uuid::nil(),
                        tag: String::new(),
                    },
                )),
            },
            keys: vec![KeyRow {
                id: Uuid::from_u128(0xf3a9),
                name: HOSTILE.into(),
                created_at: now,
                expires_at: now + Duration::days(3),
                last_used_at: None,
                created_by: HOSTILE.into(),
                status: KeyStatus::Active,
                scopes: vec![HOSTILE.into()],
            }],
            dialog,
            notice: None,
        }
    }

    #[test]
    fn everything_typed_by_people_is_escaped() {
        let html = page(Dialog::None).render().unwrap();
        assert!(!html.contains("<img src=x"), "unescaped markup");
        assert!(html.contains("&#60;img src=x onerror=alert(1)&#62;"));
        assert!(
            !html.contains("csrf\"><b>"),
            "an attribute was broken out of"
        );
        assert!(html.contains("…f3a9") && html.contains("expires soon"));
        assert!(
            !html.contains("style="),
            "the policy forbids style attributes"
        );
    }

    #[test]
    fn the_token_is_rendered_only_in_the_reveal() {
        let token = "eyJ.secret-token.sig";
        let reveal = page(Dialog::Reveal(RevealedKey {
            name: "ci".into(),
            token: SecretString::from(token),
            company_id: Uuid::nil(),
            expires_at: "2026-12-28T10:00:00Z".parse().unwrap(),
        }));
        let html = reveal.render().unwrap();
        assert_eq!(html.matches(token).count(), 1);
        assert!(html.contains("will not be shown again"));
        assert!(!page(Dialog::None)
            .render()
            .unwrap()
            .contains("reveal-dialog"));
    }
}
