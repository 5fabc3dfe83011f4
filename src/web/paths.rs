//! Where the pages live. Templates and handlers build every link from here.

use uuid::Uuid;

pub const HOME: &str = "/ui/";
pub const SIGN_IN: &str = "/ui/login";
pub const SIGN_OUT: &str = "/ui/logout";
/// Where an invitation link leads: the user sets a password. The link
/// carries the invitation in its fragment (`#token=…`), which browsers
/// never send to a server, so it stays out of every log.
pub const INVITATION: &str = crate::services::accounts::INVITATION_PAGE;
pub const ASSETS: &str = "/ui/assets";

/// The list; a `POST` here creates a key.
pub fn api_keys(company_id: Uuid) -> String {
    format!("/ui/companies/{company_id}/api-keys")
}

/// The list with the create dialog open, for browsers without script.
pub fn new_api_key(company_id: Uuid) -> String {
    format!("/ui/companies/{company_id}/api-keys/new")
}

/// `GET`: the list with the delete confirmation open; `POST`: delete.
pub fn delete_api_key(company_id: Uuid, key_id: Uuid) -> String {
    format!("/ui/companies/{company_id}/api-keys/{key_id}/delete")
}
