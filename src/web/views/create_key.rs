//! The create dialog: a name; an expiry, chosen from presets that fit the
//! plan's longest lifetime, or a custom date; and, optionally, the scopes
//! that limit what the key may do.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use super::when;
/// Presets in days, with their labels; only those within the plan's
/// longest lifetime are offered.
const PRESETS: [(u32, &str); 5] = [
    (7, "7 days"),
    (30, "30 days"),
    (60, "60 days"),
    (90, "90 days"),
    (365, "1 year"),
];
const DEFAULT_DAYS: u32 = 30;

/// The `expiry` field's value for a custom date in `expiry_date`.
pub const CUSTOM: &str = "custom";

/// Each scope is a checkbox named this prefix and the scope, so a form
/// with any set of scopes reads as plain fields (`scope.datasets:read=on`).
const SCOPE_FIELD: &str = "scope.";

/// An id reserved for the key a form will create, with the tag that
/// proves the server reserved it for this session and company.
pub struct ReservedKeyId {
    pub id: Uuid,
    pub tag: String,
}

pub struct CreateKeyForm {
    /// Reserved when the form is rendered and posted back, so a second
    /// submission of the same form makes no second key.
    pub key_id: ReservedKeyId,
    pub name: String,
    pub presets: Vec<ExpiryPreset>,
    /// The chosen `expiry` value: a preset's days, or `custom`.
    pub selected: String,
    pub custom_date: String,
    pub earliest_date: NaiveDate,
    pub latest_date: NaiveDate,
    pub longest_days: u32,
    /// The scopes a key may be limited to (`api_keys.scopes`), none ticked
    /// at first: a key without scopes has its creator's full rights.
    pub scopes: Vec<ScopeChoice>,
    pub errors: CreateKeyErrors,
}

pub struct ScopeChoice {
    pub name: String,
    pub checked: bool,
}

impl ScopeChoice {
    /// The checkbox's field name.
    pub fn field(&self) -> String {
        format!("{SCOPE_FIELD}{}", self.name)
    }
}

pub struct ExpiryPreset {
    pub days: u32,
    pub label: &'static str,
    pub expires_on: String,
}

impl CreateKeyForm {
    /// An empty form, with the 30-day preset chosen (or the longest the
    /// plan allows, if shorter) and no scope ticked.
    pub fn blank(
        now: DateTime<Utc>,
        longest_days: u32,
        allowed_scopes: &[String],
        key_id: ReservedKeyId,
    ) -> CreateKeyForm {
        let presets: Vec<ExpiryPreset> = PRESETS
            .iter()
            .filter(|(days, _)| *days <= longest_days)
            .map(|&(days, label)| ExpiryPreset {
                days,
                label,
                expires_on: when::date(now + Duration::days(days.into())),
            })
            .collect();
        let selected = presets
            .iter()
            .map(|p| p.days)
            .filter(|days| *days <= DEFAULT_DAYS)
            .max()
            .map_or_else(|| CUSTOM.to_owned(), |days| days.to_string());
        // A custom date means 00:00 UTC that day: tomorrow at the earliest
        // (the day after when tomorrow is less than an hour away), and never
        // past the plan's longest lifetime.
        let earliest = (now + Duration::hours(1)).date_naive() + Duration::days(1);
        let latest = now + Duration::days(longest_days.into());
        CreateKeyForm {
            key_id,
            name: String::new(),
            presets,
            selected,
            custom_date: String::new(),
            earliest_date: earliest,
            latest_date: latest.date_naive(),
            longest_days,
            scopes: allowed_scopes
                .iter()
                .map(|name| ScopeChoice {
                    name: name.clone(),
                    checked: false,
                })
                .collect(),
            errors: CreateKeyErrors::default(),
        }
    }

    /// The form again after a failed attempt: what was typed, and the
    /// errors. Its key id is a new one; nothing was created under the old.
    pub fn refill(&mut self, input: &CreateKeyInput, errors: CreateKeyErrors) {
        self.name = input.name.clone();
        self.selected = input.expiry.clone();
        self.custom_date = input.expiry_date.clone();
        let ticked = input.scopes().unwrap_or_default();
        for scope in &mut self.scopes {
            scope.checked = ticked.contains(&scope.name);
        }
        self.errors = errors;
    }

    pub fn is_selected(&self, value: &str) -> bool {
        self.selected == value
    }
}

/// Errors shown in the dialog, in words, next to what they are about.
#[derive(Default)]
pub struct CreateKeyErrors {
    pub name: Option<String>,
    pub expiry: Option<String>,
    pub scopes: Option<String>,
    /// About the whole request: the plan's limit, throttling.
    pub form: Option<String>,
}

impl CreateKeyErrors {
    pub fn name(message: impl Into<String>) -> Self {
        CreateKeyErrors {
            name: Some(message.into()),
            ..Self::default()
        }
    }

    pub fn expiry(message: impl Into<String>) -> Self {
        CreateKeyErrors {
            expiry: Some(message.into()),
            ..Self::default()
        }
    }

    pub fn scopes(message: impl Into<String>) -> Self {
        CreateKeyErrors {
            scopes: Some(message.into()),
            ..Self::default()
        }
    }

    pub fn limit_reached(limit: u32) -> Self {
        CreateKeyErrors {
            form: Some(format!(
                "Your plan allows {} and all are in use. \
                 Delete a key you no longer need, then try again.",
                super::when::plural(i64::from(limit), "active key")
            )),
            ..Self::default()
        }
    }

    pub fn throttled(retry_after_seconds: u64) -> Self {
        CreateKeyErrors {
            form: Some(format!(
                "Too many keys created in a short time. Try again in {retry_after_seconds} seconds."
            )),
            ..Self::default()
        }
    }
}

/// The create form as posted.
#[derive(serde::Deserialize)]
pub struct CreateKeyInput {
    pub csrf_token: String,
    pub key_id: Uuid,
    /// The tag of `key_id`, from `ReservedKeyId`.
    pub key_id_tag: String,
    pub name: String,
    /// A preset's days (`"30"`) or `custom`.
    #[serde(default)]
    pub expiry: String,
    /// `YYYY-MM-DD`, read when `expiry` is `custom`.
    #[serde(default)]
    pub expiry_date: String,
    /// The other fields: the ticked scopes' checkboxes among them.
    #[serde(flatten)]
    pub other_fields: HashMap<String, String>,
}

/// When the posted form asks the key to expire.
#[derive(Debug, PartialEq, Eq)]
pub enum RequestedLifetime {
    /// A preset: this many seconds from now.
    Seconds(i64),
    /// A custom date: 00:00 UTC that day.
    Until(DateTime<Utc>),
}

impl CreateKeyInput {
    /// The scopes ticked, in the order of their names; the service checks
    /// them against `api_keys.scopes`, as for any other request. A scope
    /// field with another value than a checkbox's `on` is refused rather
    /// than ignored: ignored, it would make a key with full rights.
    pub fn scopes(&self) -> Result<Vec<String>, String> {
        let mut scopes = Vec::new();
        for (field, value) in &self.other_fields {
            let Some(scope) = field.strip_prefix(SCOPE_FIELD) else {
                continue;
            };
            if value != "on" {
                return Err(format!(
                    "Tick the scopes the key may use; {:?} is not a checkbox's value.",
                    value.chars().take(16).collect::<String>()
                ));
            }
            scopes.push(scope.to_owned());
        }
        scopes.sort();
        Ok(scopes)
    }

    /// The plan's bounds are checked by the service, like any other request.
    pub fn lifetime(&self) -> Result<RequestedLifetime, String> {
        if self.expiry == CUSTOM {
            let date = NaiveDate::parse_from_str(self.expiry_date.trim(), "%Y-%m-%d")
                .map_err(|_| "Enter the expiry date as YYYY-MM-DD.".to_owned())?;
            return Ok(RequestedLifetime::Until(
                date.and_time(chrono::NaiveTime::MIN).and_utc(),
            ));
        }
        PRESETS
            .iter()
            .find(|(days, _)| days.to_string() == self.expiry)
            .map(|(days, _)| RequestedLifetime::Seconds(i64::from(*days) * 86_400))
            .ok_or_else(|| "Choose when the key expires.".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-28T23:59:30Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn reserved() -> ReservedKeyId {
        ReservedKeyId {
            id: Uuid::nil(),
            tag: String::new(),
        }
    }

    fn input(expiry: &str, date: &str) -> CreateKeyInput {
        CreateKeyInput {
            csrf_token: String::new(),
            key_id: Uuid::nil(),
            key_id_tag: String::new(),
            name: "ci".into(),
            expiry: expiry.into(),
            expiry_date: date.into(),
            other_fields: HashMap::new(),
        }
    }

    const SCOPES: [&str; 2] = ["datasets:read", "datasets:write"];

    fn allowed() -> Vec<String> {
        SCOPES.map(str::to_owned).to_vec()
    }

    #[test]
    fn offers_only_presets_within_the_plan() {
        let form = CreateKeyForm::blank(now(), 365, &allowed(), reserved());
        let days: Vec<u32> = form.presets.iter().map(|p| p.days).collect();
        assert_eq!(days, [7, 30, 60, 90, 365]);
        assert!(form.is_selected("30"));
        assert_eq!(form.presets[1].expires_on, "2026-12-28");

        let short = CreateKeyForm::blank(now(), 45, &allowed(), reserved());
        let days: Vec<u32> = short.presets.iter().map(|p| p.days).collect();
        assert_eq!(days, [7, 30]);
        assert!(CreateKeyForm::blank(now(), 20, &allowed(), reserved()).is_selected("7"));
        let tiny = CreateKeyForm::blank(now(), 3, &allowed(), reserved());
        assert!(tiny.presets.is_empty() && tiny.is_selected(CUSTOM));
    }

    #[test]
    fn custom_dates_stay_within_bounds() {
        let form = CreateKeyForm::blank(now(), 365, &allowed(), reserved());
        // At 23:59:30 the next midnight is too close: the day after it is.
        assert_eq!(form.earliest_date.to_string(), "2026-11-30");
        assert_eq!(form.latest_date.to_string(), "2027-11-28");
        let latest_midnight = form.latest_date.and_time(chrono::NaiveTime::MIN).and_utc();
        assert!(latest_midnight <= now() + Duration::days(365));
    }

    #[test]
    fn reads_the_posted_lifetime() {
        assert_eq!(
            input("30", "").lifetime(),
            Ok(RequestedLifetime::Seconds(30 * 86_400))
        );
        assert_eq!(
            input(CUSTOM, "2027-01-31").lifetime().unwrap(),
            RequestedLifetime::Until("2027-01-31T00:00:00Z".parse().unwrap())
        );
        assert!(input(CUSTOM, "31/01/2027").lifetime().is_err());
        assert!(input("29", "").lifetime().is_err());
        assert!(input("", "").lifetime().is_err());
    }

    #[test]
    fn reads_the_ticked_scopes_from_the_posted_form() {
        let body = "csrf_token=t&key_id=00000000-0000-0000-0000-000000000000&key_id_tag=x\
            &name=ci&expiry=30&scope.datasets%3Awrite=on&scope.datasets%3Aread=on&other=1";
        let input: CreateKeyInput = serde_urlencoded::from_str(body).unwrap();
        assert_eq!(input.scopes().unwrap(), ["datasets:read", "datasets:write"]);
        let odd: CreateKeyInput =
            serde_urlencoded::from_str(&body.replace("read=on", "read=1")).unwrap();
        assert!(odd.scopes().is_err(), "a value not a checkbox's is refused");
        assert_eq!(
            input.lifetime(),
            Ok(RequestedLifetime::Seconds(30 * 86_400))
        );

        let mut form = CreateKeyForm::blank(now(), 365, &allowed(), reserved());
        assert!(form.scopes.iter().all(|s| !s.checked));
        assert_eq!(form.scopes[0].field(), "scope.datasets:read");
        form.refill(&input, CreateKeyErrors::default());
        assert!(form.scopes.iter().all(|s| s.checked));
    }
}
