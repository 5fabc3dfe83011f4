//! The HTTP calls to latchkey: bounded in time and in size.

use std::time::Duration;

/// Larger than any JWKS or introspection answer latchkey sends.
const MAX_BODY_BYTES: usize = 256 * 1024;

#[derive(Debug)]
pub(crate) enum FetchError {
    Unreachable(reqwest::Error),
    Status(u16),
    TooLarge,
    Body,
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Unreachable(e) => write!(f, "latchkey unreachable: {e}"),
            FetchError::Status(status) => write!(f, "latchkey answered {status}"),
            FetchError::TooLarge => f.write_str("latchkey's answer is too large"),
            FetchError::Body => f.write_str("latchkey's answer is not what was expected"),
        }
    }
}

#[derive(Clone)]
pub(crate) struct Http {
    pub client: reqwest::Client,
    pub timeout: Duration,
}

impl Http {
    /// Sends, and reads a 200 answer's body whole.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<Vec<u8>, FetchError> {
        let mut response = request
            .timeout(self.timeout)
            .send()
            .await
            .map_err(FetchError::Unreachable)?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(FetchError::Unreachable)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}
