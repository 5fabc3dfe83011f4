//! The page an invitation link opens: the invited user sets a password.

use askama::Template;

use crate::domain::Password;
use crate::web::paths;

#[derive(Template)]
#[template(path = "invitation.html")]
pub struct InvitationPage {
    pub csrf_token: String,
    pub message: Option<InvitationMessage>,
}

pub enum InvitationMessage {
    /// Unknown, spent or expired: the same words for each.
    Unusable,
    /// The password policy's own words.
    WeakPassword(String),
    /// The form's token did not match this browser.
    FormExpired,
}

impl InvitationMessage {
    pub fn text(&self) -> String {
        match self {
            InvitationMessage::Unusable => {
                "This invitation is unknown, already used or expired. Ask for a new one.".to_owned()
            }
            InvitationMessage::WeakPassword(why) => why.clone(),
            InvitationMessage::FormExpired => {
                "The form had expired. Open your invitation link again.".to_owned()
            }
        }
    }
}

impl InvitationPage {
    pub fn action(&self) -> &'static str {
        paths::INVITATION
    }

    pub fn min_length(&self) -> usize {
        Password::MIN_CHARS
    }
}

/// The form as posted.
#[derive(serde::Deserialize)]
pub struct InvitationInput {
    pub csrf_token: String,
    pub token: secrecy::SecretString,
    pub password: secrecy::SecretString,
}
