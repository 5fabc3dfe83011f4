//! Argon2id with OWASP parameters, run on the blocking pool with bounded
//! concurrency so a burst of logins never stalls the HTTP workers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::Context;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::settings::PasswordSettings;

/// OWASP: m = 19 MiB, t = 2, p = 1.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password now, on this thread. For the CLI and for start-up.
pub fn hash_blocking(password: &SecretString) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let hash = argon2()
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2 failed: {e}"))?;
    Ok(hash.to_string())
}

fn verify_blocking(password: &SecretString, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            argon2()
                .verify_password(password.expose_secret().as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("too many password checks are waiting")]
    Busy,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// Checks running or waiting; past `max_in_flight` new ones are refused.
    in_flight: AtomicUsize,
    max_in_flight: usize,
    /// Verified against when the email is unknown, so that costs the same.
    dummy_hash: String,
}

impl PasswordHasher {
    pub fn new(settings: &PasswordSettings) -> anyhow::Result<Self> {
        let concurrency = match settings.max_concurrent_hashes {
            0 => std::thread::available_parallelism().map_or(2, usize::from),
            n => n,
        };
        let dummy_hash = hash_blocking(&SecretString::from("latchkey-dummy-password".to_owned()))
            .context("cannot compute the dummy password hash")?;
        Ok(PasswordHasher {
            permits: Arc::new(Semaphore::new(concurrency)),
            in_flight: AtomicUsize::new(0),
            max_in_flight: concurrency + settings.max_queued_hashes,
            dummy_hash,
        })
    }

    /// Password checks running or waiting for a slot.
    pub fn queue_depth(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    pub async fn hash(&self, password: SecretString) -> Result<String, HashError> {
        self.run(move || hash_blocking(&password))
            .await?
            .map_err(HashError::Failed)
    }

    /// True if `password` matches `phc`; with no hash, checks a dummy and says false.
    pub async fn verify(
        &self,
        password: SecretString,
        phc: Option<String>,
    ) -> Result<bool, HashError> {
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.dummy_hash.clone());
        let matches = self.run(move || verify_blocking(&password, &phc)).await?;
        Ok(known && matches)
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        if self.in_flight.fetch_add(1, Ordering::AcqRel) >= self.max_in_flight {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            return Err(HashError::Busy);
        }
        let _in_flight = InFlight(&self.in_flight);
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| HashError::Failed(anyhow::anyhow!("password pool closed")))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job()
        })
        .await
        .map_err(|e| HashError::Failed(anyhow::anyhow!("password task failed: {e}")))
    }
}

struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}
