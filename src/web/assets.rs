//! The stylesheet, script and icon, compiled into the binary and served
//! under a name that carries a hash of their content, so browsers may cache
//! them for a year and still never see a stale one after an upgrade.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use ring::digest::{digest, SHA256};

use super::paths;
use crate::error::ApiError;

pub struct Asset {
    stem: &'static str,
    extension: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
    file_name: OnceLock<String>,
}

impl Asset {
    const fn new(
        stem: &'static str,
        extension: &'static str,
        content_type: &'static str,
        bytes: &'static [u8],
    ) -> Asset {
        Asset {
            stem,
            extension,
            content_type,
            bytes,
            file_name: OnceLock::new(),
        }
    }

    /// `app.3f9a0c1d2e4b.css`: twelve hex digits of the content's SHA-256.
    pub fn file_name(&self) -> &str {
        self.file_name.get_or_init(|| {
            let hash = digest(&SHA256, self.bytes);
            let hex: String = hash.as_ref()[..6]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            format!("{}.{hex}.{}", self.stem, self.extension)
        })
    }

    pub fn url(&self) -> String {
        format!("{}/{}", paths::ASSETS, self.file_name())
    }
}

pub static STYLESHEET: Asset = Asset::new(
    "app",
    "css",
    "text/css; charset=utf-8",
    include_bytes!("assets/app.css"),
);
pub static SCRIPT: Asset = Asset::new(
    "app",
    "js",
    "text/javascript; charset=utf-8",
    include_bytes!("assets/app.js"),
);
pub static ICON: Asset = Asset::new(
    "icon",
    "svg",
    "image/svg+xml",
    include_bytes!("assets/icon.svg"),
);

const ALL: [&Asset; 3] = [&STYLESHEET, &SCRIPT, &ICON];

/// `GET /ui/assets/{file}`; a name with an old or made-up hash is not found.
pub async fn serve(file: web::Path<String>) -> HttpResponse {
    let Some(asset) = ALL.iter().find(|a| a.file_name() == file.as_str()) else {
        return ApiError::NotFound.into_response();
    };
    HttpResponse::Ok()
        .content_type(asset.content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(asset.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_content_hash() {
        let name = STYLESHEET.file_name();
        assert!(name.starts_with("app.") && name.ends_with(".css"), "{name}");
        assert_eq!(name.len(), "app.".len() + 12 + ".css".len());
        assert_ne!(SCRIPT.file_name(), STYLESHEET.file_name());
        assert_eq!(ICON.url(), format!("/ui/assets/{}", ICON.file_name()));
    }
}
