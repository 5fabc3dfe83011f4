//! Argon2id with OWASP parameters, run on a few threads of its own so a
//! burst of logins never stalls the HTTP workers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::oneshot;

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
    threads: HashingThreads,
    /// Checks queued or running, counted until the job itself is done (or
    /// dropped): a login whose client hung up still holds its place until
    /// a thread reaches it and skips it. Past `max_in_flight`, refused.
    in_flight: Arc<AtomicUsize>,
    max_in_flight: usize,
    /// Verified against when the email is unknown, so that costs the same.
    dummy_hash: String,
}

/// The most password checks that may run at once, whatever the setting:
/// each thread holds 19 MiB while it hashes.
pub const MAX_CONCURRENT_HASHES: usize = 256;

/// A check that waited this long for a thread is refused (429) instead of
/// run: its client has likely given up, and the queue must drain.
const MAX_QUEUE_WAIT: Duration = Duration::from_secs(10);

impl PasswordHasher {
    pub fn new(settings: &PasswordSettings) -> anyhow::Result<Self> {
        let concurrency = match settings.max_concurrent_hashes {
            0 => std::thread::available_parallelism().map_or(2, usize::from),
            n => n,
        }
        .min(MAX_CONCURRENT_HASHES);
        let dummy_hash = hash_blocking(&SecretString::from("latchkey-dummy-password".to_owned()))
            .context("cannot compute the dummy password hash")?;
        Ok(PasswordHasher {
            threads: HashingThreads::start(concurrency)?,
            in_flight: Arc::new(AtomicUsize::new(0)),
            max_in_flight: concurrency + settings.max_queued_hashes,
            dummy_hash,
        })
    }

    /// Password checks queued or running.
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
        let in_flight = InFlight(self.in_flight.clone());
        let queued_at = Instant::now();
        let (answer, answered) = oneshot::channel();
        self.threads.run(Box::new(move || {
            if answer.is_closed() {
                // Its client hung up while it waited: no hash for nobody.
                return;
            }
            let outcome = if queued_at.elapsed() > MAX_QUEUE_WAIT {
                Err(HashError::Busy)
            } else {
                Ok(job())
            };
            // Its place is free before its waiter hears back.
            drop(in_flight);
            let _ = answer.send(outcome);
        }))?;
        answered
            .await
            .map_err(|_| HashError::Failed(anyhow::anyhow!("a password check panicked")))?
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// The threads that run argon2, `concurrency` of them, at a lower CPU
/// priority than the rest of the process. Hashing is throughput work and
/// request handling is latency work: when a login storm keeps every core
/// busy, the scheduler gives the cores to the HTTP workers first, so the
/// storm slows logins, not introspection. On an idle machine hashing runs at
/// full speed. The threads end when the hasher is dropped.
struct HashingThreads {
    jobs: mpsc::Sender<Job>,
}

/// How much lower the hashing threads' priority is than the process's:
/// 10 nice steps weigh about a tenth under Linux's scheduler.
const HASHING_NICENESS_STEPS: i32 = 10;

impl HashingThreads {
    fn start(concurrency: usize) -> anyhow::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..concurrency {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("latchkey-hash-{n}"))
                .spawn(move || {
                    lower_this_threads_priority();
                    loop {
                        // The lock is held only while waiting for a job.
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        // A panicking job drops its answer (the waiter
                        // sees it); the thread stays for the next one.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                })
                .context("cannot start a password hashing thread")?;
        }
        Ok(HashingThreads { jobs })
    }

    fn run(&self, job: Job) -> Result<(), HashError> {
        self.jobs
            .send(job)
            .map_err(|_| HashError::Failed(anyhow::anyhow!("the password threads have stopped")))
    }
}

/// This thread's nice value, on Linux its own: the rest of the process
/// keeps its priority.
#[cfg(target_os = "linux")]
fn this_threads_niceness() -> Option<i32> {
    // SAFETY: errno is this thread's; getpriority reads only this thread's
    // value (-1 is also a valid answer, hence errno).
    unsafe {
        *libc::__errno_location() = 0;
        let nice = libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t);
        (nice != -1 || *libc::__errno_location() == 0).then_some(nice)
    }
}

#[cfg(target_os = "linux")]
fn lower_this_threads_priority() {
    let Some(current) = this_threads_niceness() else {
        tracing::warn!("cannot read the password hashing thread's priority; it stays as it is");
        return;
    };
    let lowered = (current + HASHING_NICENESS_STEPS).min(19);
    if lowered <= current {
        return;
    }
    // SAFETY: a plain system call on this thread's own id.
    let failed = unsafe {
        libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, lowered) != 0
    };
    if failed {
        tracing::warn!(
            "cannot lower the password hashing thread's priority; a login storm will compete \
             with request handling for the CPU"
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_this_threads_priority() {}

struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashing_runs_on_its_own_threads_and_answers_every_waiter() {
        let hasher = PasswordHasher::new(&PasswordSettings {
            max_concurrent_hashes: 2,
            max_queued_hashes: 8,
        })
        .unwrap();
        let names = futures::future::join_all(
            (0..6).map(|_| hasher.run(|| std::thread::current().name().unwrap_or("").to_owned())),
        )
        .await;
        for name in names {
            assert!(name.unwrap().starts_with("latchkey-hash-"));
        }
        assert_eq!(hasher.queue_depth(), 0);
        // A job that panics answers its waiter with an error, and the
        // threads go on with the next one.
        assert!(hasher.run(|| panic!("boom")).await.is_err());
        assert!(hasher.run(|| 7).await.is_ok_and(|n| n == 7));
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_yield_the_cpu_to_request_handling() {
        let hasher = PasswordHasher::new(&PasswordSettings {
            max_concurrent_hashes: 1,
            max_queued_hashes: 0,
        })
        .unwrap();
        let ours = this_threads_niceness().unwrap();
        let theirs = hasher.run(this_threads_niceness).await.unwrap().unwrap();
        // Ten steps lower than the process's, at most the lowest (19).
        assert_eq!(theirs, (ours + 10).min(19), "the test runs at nice {ours}");
    }

    #[tokio::test]
    async fn a_check_whose_client_left_costs_no_hash_and_frees_its_place() {
        let hasher = Arc::new(
            PasswordHasher::new(&PasswordSettings {
                max_concurrent_hashes: 1,
                max_queued_hashes: 2,
            })
            .unwrap(),
        );
        // The one thread is held by a first check.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let blocker = {
            let hasher = hasher.clone();
            tokio::spawn(async move { hasher.run(move || held.recv().is_ok()).await })
        };
        while hasher.queue_depth() < 1 {
            tokio::task::yield_now().await;
        }
        // A second check queues, then its client hangs up.
        let ran = Arc::new(AtomicUsize::new(0));
        let mut abandoned = Box::pin({
            let ran = ran.clone();
            hasher.run(move || ran.fetch_add(1, Ordering::SeqCst))
        });
        assert!(futures::poll!(abandoned.as_mut()).is_pending());
        drop(abandoned);
        assert_eq!(hasher.queue_depth(), 2, "its place is held until skipped");

        release.send(()).unwrap();
        assert!(blocker.await.unwrap().unwrap());
        assert!(hasher.run(|| 7).await.is_ok_and(|n| n == 7));
        assert_eq!(
            ran.load(Ordering::SeqCst),
            0,
            "the abandoned check never hashed"
        );
        assert_eq!(hasher.queue_depth(), 0);
    }
}
