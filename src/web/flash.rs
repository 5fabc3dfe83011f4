//! One-line messages carried across a redirect in a short-lived cookie, so
//! that nothing the person did shows up in a URL.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flash {
    SignedOut,
    /// Ended from outside (disabled, tokens revoked) or simply run out.
    SessionEnded,
    /// Signed out because the account belongs to no company.
    NoCompany,
    KeyDeleted {
        name: String,
    },
    /// The key was gone already, e.g. deleted in another tab.
    KeyGone,
    /// An invitation was accepted: the password is set.
    PasswordSet,
}

impl Flash {
    pub fn encode(&self) -> String {
        match self {
            Flash::SignedOut => "signed-out".to_owned(),
            Flash::SessionEnded => "session-ended".to_owned(),
            Flash::NoCompany => "no-company".to_owned(),
            Flash::KeyDeleted { name } => format!("deleted.{}", URL_SAFE_NO_PAD.encode(name)),
            Flash::KeyGone => "gone".to_owned(),
            Flash::PasswordSet => "password-set".to_owned(),
        }
    }

    pub fn decode(value: &str) -> Option<Flash> {
        match value {
            "signed-out" => Some(Flash::SignedOut),
            "session-ended" => Some(Flash::SessionEnded),
            "no-company" => Some(Flash::NoCompany),
            "gone" => Some(Flash::KeyGone),
            "password-set" => Some(Flash::PasswordSet),
            other => {
                let encoded = other.strip_prefix("deleted.")?;
                let name = String::from_utf8(URL_SAFE_NO_PAD.decode(encoded).ok()?).ok()?;
                Some(Flash::KeyDeleted { name })
            }
        }
    }

    /// The notice on the API Keys page, for the messages that go there.
    pub fn key_notice(&self) -> Option<String> {
        match self {
            Flash::KeyDeleted { name } => Some(format!(
                "Deleted “{name}”. Services using it are refused from now on."
            )),
            Flash::KeyGone => Some("That key was already deleted.".to_owned()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Flash;

    #[test]
    fn round_trips_and_refuses_the_rest() {
        for flash in [
            Flash::SignedOut,
            Flash::SessionEnded,
            Flash::NoCompany,
            Flash::KeyGone,
            Flash::PasswordSet,
            Flash::KeyDeleted {
                name: "ci; deploy=“x”".into(),
            },
        ] {
            assert_eq!(Flash::decode(&flash.encode()), Some(flash));
        }
        assert_eq!(Flash::decode("deleted.!!"), None);
        assert_eq!(Flash::decode("other"), None);
    }
}
