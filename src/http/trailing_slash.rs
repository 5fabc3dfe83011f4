//! Makes the trailing slash optional: `/x/` is routed as `/x`. actix's
//! `NormalizePath` runs a regex over every path (4% of the hot path in a
//! profile); this touches only paths that end in a slash.

use actix_web::dev::{ServiceRequest, Url};
use actix_web::http::uri::{PathAndQuery, Uri};

pub fn trim_trailing_slash(req: &mut ServiceRequest) {
    let path = req.path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = match path.trim_end_matches('/') {
            "" => "/",
            trimmed => trimmed,
        };
        let path_and_query = match req.query_string() {
            "" => trimmed.to_owned(),
            query => format!("{trimmed}?{query}"),
        };
        if let Ok(path_and_query) = PathAndQuery::try_from(path_and_query) {
            let mut parts = req.head().uri.clone().into_parts();
            parts.path_and_query = Some(path_and_query);
            if let Ok(uri) = Uri::from_parts(parts) {
                *req.match_info_mut().get_mut() = Url::new(uri.clone());
                req.match_info_mut().reset();
                req.head_mut().uri = uri;
            }
        }
    }
}
