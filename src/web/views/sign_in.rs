//! The sign-in page.

use askama::Template;

use crate::web::paths;

#[derive(Template)]
#[template(path = "sign_in.html")]
pub struct SignInPage {
    /// What was typed last time, so only the password is asked again.
    pub email: String,
    pub csrf_token: String,
    pub message: Option<SignInMessage>,
}

pub enum SignInMessage {
    /// Unknown email and wrong password read the same, on purpose.
    InvalidCredentials,
    Throttled {
        retry_after_seconds: u64,
    },
    SignedOut,
    /// The session was ended from outside (user disabled, tokens revoked,
    /// membership removed) or simply expired.
    SessionEnded,
    /// The account belongs to no company, so there is nothing to show.
    NoCompany,
    /// The form's token did not match this browser (an old tab, or cookies
    /// cleared meanwhile).
    FormExpired,
    /// An invitation was just accepted.
    PasswordSet,
}

impl SignInMessage {
    pub fn is_error(&self) -> bool {
        matches!(
            self,
            SignInMessage::InvalidCredentials
                | SignInMessage::Throttled { .. }
                | SignInMessage::NoCompany
                | SignInMessage::FormExpired
        )
    }

    pub fn text(&self) -> String {
        match self {
            SignInMessage::InvalidCredentials => "Wrong email or password.".to_owned(),
            SignInMessage::Throttled {
                retry_after_seconds,
            } => {
                let unit = if *retry_after_seconds == 1 {
                    "second"
                } else {
                    "seconds"
                };
                format!("Too many attempts. Try again in {retry_after_seconds} {unit}.")
            }
            SignInMessage::SignedOut => "You have signed out.".to_owned(),
            SignInMessage::SessionEnded => {
                "Your session has ended. Please sign in again.".to_owned()
            }
            SignInMessage::NoCompany => {
                "Your account does not belong to any company yet. Ask an owner of your company to add you."
                    .to_owned()
            }
            SignInMessage::FormExpired => {
                "The sign-in form had expired. Please sign in again.".to_owned()
            }
            SignInMessage::PasswordSet => {
                "Your password is set. Sign in with your email and your new password.".to_owned()
            }
        }
    }
}

impl SignInPage {
    pub fn action(&self) -> &'static str {
        paths::SIGN_IN
    }
}

/// The sign-in form as posted.
#[derive(serde::Deserialize)]
pub struct SignInInput {
    pub csrf_token: String,
    pub email: String,
    pub password: secrecy::SecretString,
}
