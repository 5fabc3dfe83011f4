//! What handlers call: one function per use case, with its policy.

pub mod api_keys;
