//! Where the pages live. Templates and handlers build every link from here.

use uuid::Uuid;

pub const HOME: &str = "/ui/";
pub const SIGN_IN: &str = "/ui/login";
pub const SIGN_OUT: &str = "/ui/logout";
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
