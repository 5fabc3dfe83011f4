//! Sample view models: one page for every state the templates can show.

use chrono::{DateTime, Duration, Utc};
use latchkey::web::views::api_keys::{
    ApiKeysPage, Dialog, KeyRow, KeyScope, KeyStatus, PlanAccess, RevealedKey,
};
use latchkey::web::views::create_key::{
    CreateKeyErrors, CreateKeyForm, CreateKeyInput, ReservedKeyId,
};
use latchkey::web::views::sign_in::{SignInMessage, SignInPage};
use latchkey::web::views::{CompanyEntry, Shell, Viewer};
use secrecy::SecretString;
use uuid::Uuid;

pub const COMPANY_ID: Uuid = Uuid::from_u128(0x01a220c8_253c_7458_a638_fa406364372c);
const OTHER_COMPANY_ID: Uuid = Uuid::from_u128(0x01a220c8_9e11_7c3a_b102_5d0c7e61a9b4);
pub const FIRST_KEY_ID: Uuid = Uuid::from_u128(0x019ac9b1_5f2e_7a40_9c1d_3e8b2f71f3a9);
/// Looks like a real token; it is not one.
const SAMPLE_TOKEN: &str = "eyJhbGciOiJFZERTQSIsImtpZCI6IjAxOWFjOWIxIiwidHlwIjoibGF0Y2hrZXkrcHJpdmF0ZSJ9.eyJzdWIiOiIwMTlhYzliMSIsImNvbXBhbnlfaWQiOiIwMWEyMjBjOCJ9.c2lnbmF0dXJlLW5vdC1yZWFs";
pub const CSRF: &str = "sample-csrf-token";

/// Every page state, by the name the gallery serves it under.
pub const STATES: [&str; 16] = [
    "sign-in",
    "sign-in-error",
    "sign-in-throttled",
    "signed-out",
    "keys-owner",
    "keys-member",
    "keys-empty",
    "keys-free-plan",
    "keys-after-downgrade",
    "keys-deleted",
    "create",
    "create-errors",
    "create-duplicate-name",
    "create-limit",
    "reveal",
    "delete",
];

pub fn now() -> DateTime<Utc> {
    "2026-11-28T10:00:00Z".parse().unwrap()
}

fn ago(days: i64, minutes: i64) -> DateTime<Utc> {
    now() - Duration::days(days) - Duration::minutes(minutes)
}

fn ahead(days: i64, minutes: i64) -> DateTime<Utc> {
    now() + Duration::days(days) + Duration::minutes(minutes)
}

fn acme(plan: &str) -> CompanyEntry {
    CompanyEntry {
        id: COMPANY_ID,
        name: "Acme".into(),
        plan: plan.into(),
    }
}

fn shell(plan: &str, several_companies: bool) -> Shell {
    let other_companies = if several_companies {
        vec![CompanyEntry {
            id: OTHER_COMPANY_ID,
            name: "Globex Corporation".into(),
            plan: "professional_unlimited".into(),
        }]
    } else {
        Vec::new()
    };
    Shell {
        viewer: Viewer {
            name: Some("Ada Lovelace".into()),
            email: "ada@example.com".into(),
        },
        company: acme(plan),
        other_companies,
        csrf_token: CSRF.into(),
    }
}

fn key(
    id: Uuid,
    name: &str,
    created: DateTime<Utc>,
    expires: DateTime<Utc>,
    used: Option<DateTime<Utc>>,
    by: &str,
    status: KeyStatus,
) -> KeyRow {
    KeyRow {
        id,
        name: name.into(),
        created_at: created,
        expires_at: expires,
        last_used_at: used,
        created_by: by.into(),
        status,
        scopes: Vec::new(),
    }
}

fn company_keys() -> Vec<KeyRow> {
    use KeyStatus::*;
    let id = |n: u128| Uuid::from_u128(0x019ac9b1_0000_7000_8000_000000000000 + n * 0x1f3d);
    vec![
        key(
            FIRST_KEY_ID,
            "ci deploy",
            ago(0, 5),
            ahead(30, -5),
            Some(ago(0, 2)),
            "Ada Lovelace",
            Active,
        ),
        KeyRow {
            scopes: vec!["datasets:read".into()],
            ..key(
                id(2),
                "nightly export",
                ago(86, 0),
                ahead(4, 0),
                Some(ago(1, 120)),
                "Grace Hopper",
                Active,
            )
        },
        key(
            id(3),
            "staging smoke tests — eu-west-1 cluster",
            ago(12, 0),
            ahead(353, 0),
            None,
            "Ada Lovelace",
            Active,
        ),
        key(
            id(4),
            "old laptop",
            ago(392, 0),
            ago(27, 0),
            Some(ago(29, 0)),
            "Ada Lovelace",
            Expired,
        ),
        key(
            id(5),
            "contractor access",
            ago(40, 0),
            ahead(50, 0),
            Some(ago(9, 0)),
            "Linus Example",
            Revoked,
        ),
    ]
}

fn own_keys() -> Vec<KeyRow> {
    company_keys()
        .into_iter()
        .filter(|k| k.created_by == "Ada Lovelace")
        .collect()
}

fn blank_form() -> CreateKeyForm {
    let key_id = ReservedKeyId {
        id: Uuid::now_v7(),
        tag: "sample-key-id-tag".into(),
    };
    let scopes = ["datasets:read".to_owned(), "datasets:write".to_owned()];
    CreateKeyForm::blank(now(), 365, &scopes, key_id)
}

fn professional() -> PlanAccess {
    PlanAccess::Allowed {
        active_limit: Some(25),
        create: Box::new(blank_form()),
    }
}

fn free() -> PlanAccess {
    PlanAccess::NotIncluded {
        allowed_plans: vec!["professional".into(), "professional_unlimited".into()],
    }
}

fn keys_page(scope: KeyScope, plan: PlanAccess, keys: Vec<KeyRow>, dialog: Dialog) -> ApiKeysPage {
    let plan_name = match plan {
        PlanAccess::Allowed { .. } => "professional",
        PlanAccess::NotIncluded { .. } => "free",
    };
    ApiKeysPage {
        shell: shell(plan_name, scope == KeyScope::Company),
        now: now(),
        scope,
        plan,
        keys,
        dialog,
        notice: None,
    }
}

fn failed_create(input: (&str, &str, &str), errors: CreateKeyErrors) -> ApiKeysPage {
    let (name, expiry, expiry_date) = input;
    let input = CreateKeyInput {
        csrf_token: CSRF.into(),
        key_id: Uuid::now_v7(),
        key_id_tag: String::new(),
        name: name.into(),
        expiry: expiry.into(),
        expiry_date: expiry_date.into(),
        other_fields: Default::default(),
    };
    let mut create = blank_form();
    create.refill(&input, errors);
    let plan = PlanAccess::Allowed {
        active_limit: Some(25),
        create: Box::new(create),
    };
    keys_page(KeyScope::Company, plan, company_keys(), Dialog::Create)
}

pub enum Sample {
    SignIn(SignInPage),
    Keys(Box<ApiKeysPage>),
}

fn sign_in(email: &str, message: Option<SignInMessage>) -> Sample {
    Sample::SignIn(SignInPage {
        email: email.into(),
        csrf_token: CSRF.into(),
        message,
    })
}

/// The page for a state, or `None` for a name not in `STATES`.
pub fn page(state: &str) -> Option<Sample> {
    use KeyScope::{Company, Own};
    let keys = |page: ApiKeysPage| Some(Sample::Keys(Box::new(page)));
    match state {
        "sign-in" => Some(sign_in("", None)),
        "sign-in-error" => Some(sign_in(
            "ada@example.com",
            Some(SignInMessage::InvalidCredentials),
        )),
        "sign-in-throttled" => Some(sign_in(
            "ada@example.com",
            Some(SignInMessage::Throttled {
                retry_after_seconds: 42,
            }),
        )),
        "signed-out" => Some(sign_in("", Some(SignInMessage::SignedOut))),
        "keys-owner" => keys(keys_page(
            Company,
            professional(),
            company_keys(),
            Dialog::None,
        )),
        "keys-member" => keys(keys_page(Own, professional(), own_keys(), Dialog::None)),
        "keys-empty" => keys(keys_page(Company, professional(), Vec::new(), Dialog::None)),
        "keys-free-plan" => keys(keys_page(Company, free(), Vec::new(), Dialog::None)),
        "keys-after-downgrade" => keys(keys_page(Company, free(), own_keys(), Dialog::None)),
        "keys-deleted" => {
            let mut page = keys_page(Company, professional(), company_keys(), Dialog::None);
            page.keys.retain(|k| k.name != "old laptop");
            page.notice =
                Some("Deleted “old laptop”. Services using it are refused from now on.".into());
            keys(page)
        }
        "create" => keys(keys_page(
            Company,
            professional(),
            company_keys(),
            Dialog::Create,
        )),
        "create-errors" => keys(failed_create(
            ("", "custom", "2028-01-01"),
            CreateKeyErrors {
                expiry: Some("Your plan allows keys to live at most 365 days.".into()),
                ..CreateKeyErrors::name("The name must not be empty.")
            },
        )),
        "create-duplicate-name" => keys(failed_create(
            ("ci deploy", "30", ""),
            CreateKeyErrors::name(
                "An active key of this company already has this name. Choose another name.",
            ),
        )),
        "create-limit" => keys(failed_create(
            ("backup job", "90", ""),
            CreateKeyErrors::limit_reached(25),
        )),
        "reveal" => keys(keys_page(
            Company,
            professional(),
            company_keys(),
            Dialog::Reveal(RevealedKey {
                name: "ci deploy".into(),
                token: SecretString::from(SAMPLE_TOKEN),
                company_id: COMPANY_ID,
                expires_at: ahead(30, 0),
            }),
        )),
        "delete" => keys(keys_page(
            Company,
            professional(),
            company_keys(),
            Dialog::Delete {
                key_id: FIRST_KEY_ID,
                name: "ci deploy".into(),
            },
        )),
        _ => None,
    }
}
