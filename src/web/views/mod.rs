//! View models: plain structs that handlers fill and templates render.
//! Nothing here is secret except `RevealedKey::token`.

pub mod api_keys;
pub mod create_key;
pub mod error;
pub mod invitation;
pub mod sign_in;
pub mod when;

use uuid::Uuid;

use super::paths;

/// A form that carries nothing but its CSRF token: sign out, delete a key.
#[derive(serde::Deserialize)]
pub struct CsrfInput {
    pub csrf_token: String,
}

/// What the sidebar of every signed-in page shows.
pub struct Shell {
    pub viewer: Viewer,
    /// The company the page is about.
    pub company: CompanyEntry,
    /// The viewer's other companies, for the switcher; empty hides it.
    pub other_companies: Vec<CompanyEntry>,
    /// Sent back in the `csrf_token` field of every form on the page.
    pub csrf_token: String,
}

/// The signed-in person, in the bottom-left corner.
pub struct Viewer {
    /// Users have only an email today; with no name the email stands alone.
    pub name: Option<String>,
    pub email: String,
}

impl Viewer {
    /// The email split at its `@`, so a page may let it wrap there.
    pub fn email_parts(&self) -> (&str, &str) {
        self.email.rsplit_once('@').unwrap_or((&self.email, ""))
    }

    /// One or two letters for the avatar: "AL" for Ada Lovelace, "GH" for
    /// grace.hopper@example.com (the domain is no part of the person).
    pub fn initials(&self) -> String {
        let who = match &self.name {
            Some(name) => name.as_str(),
            None => self.email.split('@').next().unwrap_or_default(),
        };
        who.split(|c: char| c.is_whitespace() || c == '.' || c == '_' || c == '-')
            .filter_map(|word| word.chars().next())
            .take(2)
            .flat_map(char::to_uppercase)
            .collect()
    }
}

pub struct CompanyEntry {
    pub id: Uuid,
    pub name: String,
    /// The plan's settings name, e.g. `professional_unlimited`.
    pub plan: String,
}

impl CompanyEntry {
    /// "Professional Unlimited" for `professional_unlimited`.
    pub fn plan_label(&self) -> String {
        plan_label(&self.plan)
    }

    pub fn api_keys_path(&self) -> String {
        paths::api_keys(self.id)
    }
}

/// A plan's settings name as people read it.
pub fn plan_label(plan: &str) -> String {
    plan.split('_')
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// "Professional", "Professional and Professional Unlimited", "A, B and C".
pub fn in_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_labels_and_lists_read_as_words() {
        assert_eq!(
            plan_label("professional_unlimited"),
            "Professional Unlimited"
        );
        assert_eq!(plan_label("free"), "Free");
        let plans = [
            "Professional".to_owned(),
            "Professional Unlimited".to_owned(),
        ];
        assert_eq!(in_words(&plans), "Professional and Professional Unlimited");
        assert_eq!(in_words(&plans[..1]), "Professional");
    }

    #[test]
    fn initials_come_from_the_name_or_the_email() {
        let named = Viewer {
            name: Some("Ada Lovelace".into()),
            email: "ada@example.com".into(),
        };
        assert_eq!(named.initials(), "AL");
        let unnamed = Viewer {
            name: None,
            email: "grace.hopper@example.com".into(),
        };
        assert_eq!(unnamed.email_parts(), ("grace.hopper", "example.com"));
        assert_eq!(unnamed.initials(), "GH");
        let short = Viewer {
            name: None,
            email: "ada@example.com".into(),
        };
        assert_eq!(short.initials(), "A");
    }
}
