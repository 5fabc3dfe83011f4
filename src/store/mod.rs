//! All database access, through sea-orm, one module per aggregate. A write
//! that changes who may use which token appends its `AccessEvent`s (and its
//! audit row) in its own transaction, and returns the events it appended.
//! This layer imports only `domain`, `clock`, `settings` and `entity`.

pub mod api_keys;
pub mod audit;
pub mod companies;
pub mod idempotency;
pub mod invitations;
pub mod login_attempts;
pub mod memberships;
pub mod refresh_tokens;
pub mod revocation_events;
pub mod service_clients;
pub mod signing_keys;
pub mod users;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use migration::MigratorTrait;
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use secrecy::{ExposeSecret, SecretString};

use crate::clock::Clock;
use crate::domain::AccessEvent;
use crate::private_files;
use crate::settings::DatabaseSettings;

#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// A pool closed at birth. While the database is known to be
    /// unreachable, `db()` hands this out, so a request fails at once with
    /// 503 instead of each waiting `acquire_timeout_seconds` for a
    /// connection; `probe` brings the real pool back.
    refusing: DatabaseConnection,
    unreachable: Arc<AtomicBool>,
    /// For a connection outside the pool, when the pool has none to give.
    url: SecretString,
    acquire_timeout: Duration,
    /// Where every timestamp the store writes comes from.
    clock: Clock,
    /// Every statement sent, for metrics and to prove the hot path sends none.
    statements: Arc<AtomicU64>,
}

/// What a write made, and the access events it appended to the log, in order.
pub struct Committed<T> {
    pub value: T,
    pub events: Vec<AccessEvent>,
}

impl Store {
    pub async fn connect(settings: &DatabaseSettings, clock: Clock) -> anyhow::Result<Self> {
        let url = settings.url.expose_secret();
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .acquire_timeout(Duration::from_secs(settings.acquire_timeout_seconds))
            .connect_timeout(Duration::from_secs(settings.acquire_timeout_seconds))
            .sqlx_logging(false);
        if url.starts_with("sqlite:") {
            prepare_sqlite_file(url)?;
            // One connection: SQLite has one writer, and a single connection
            // avoids SQLITE_BUSY on read-to-write upgrades inside transactions.
            options
                .max_connections(1)
                .min_connections(1)
                .map_sqlx_sqlite_opts(|o| {
                    o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                        .busy_timeout(Duration::from_secs(5))
                        .foreign_keys(true)
                });
        } else {
            options.max_connections(settings.max_connections);
        }
        let mut never_connects = options.clone();
        never_connects.connect_lazy(true).min_connections(0);
        let refusing = Database::connect(never_connects)
            .await
            .context("cannot set up the database pool (setting database.url)")?;
        refusing.close_by_ref().await?;
        let mut db = Database::connect(options)
            .await
            .context("cannot connect to the database (setting database.url)")?;
        let statements = Arc::new(AtomicU64::new(0));
        let counter = statements.clone();
        db.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        Ok(Store {
            db,
            refusing,
            unreachable: Arc::new(AtomicBool::new(false)),
            url: settings.url.clone(),
            acquire_timeout: Duration::from_secs(settings.acquire_timeout_seconds),
            clock,
            statements,
        })
    }

    /// The store's clock: the time of every row it writes.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        migration::Migrator::up(&self.db, None)
            .await
            .context("database migration failed")
    }

    pub fn statements_executed(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// The connection every query goes through: one that refuses at once
    /// while the database is known to be unreachable.
    pub fn db(&self) -> &DatabaseConnection {
        if self.is_unreachable() {
            &self.refusing
        } else {
            &self.db
        }
    }

    /// Whether the database was found unreachable and not reached since.
    pub fn is_unreachable(&self) -> bool {
        self.unreachable.load(Ordering::Acquire)
    }

    /// Takes note of an error: if it says the database is unreachable,
    /// queries fail at once until `probe` reaches it again.
    pub async fn note_error(&self, e: &DbErr) {
        if !is_unavailable(e) || self.is_unreachable() {
            return;
        }
        // Every connection busy is load, not an outage: refusing every
        // query would turn a slow spell into a full one.
        if is_pool_exhausted(e) && self.answers_outside_the_pool().await {
            return;
        }
        if !self.unreachable.swap(true, Ordering::AcqRel) {
            tracing::warn!(error = %e, "database unreachable; refusing queries until it answers");
        }
    }

    /// Whether a connection of its own, outside the pool, reaches the
    /// database. SQLite is a file: a busy pool there is never an outage.
    async fn answers_outside_the_pool(&self) -> bool {
        use sea_orm::sqlx::Connection;
        let url = self.url.expose_secret();
        if url.starts_with("sqlite:") {
            return true;
        }
        let connect = sea_orm::sqlx::PgConnection::connect(url);
        match tokio::time::timeout(self.acquire_timeout, connect).await {
            Ok(Ok(connection)) => {
                let _ = connection.close().await;
                true
            }
            _ => false,
        }
    }

    /// Tries the real pool (waiting up to `acquire_timeout_seconds`); once
    /// it answers, queries go to the database again.
    pub async fn probe(&self) -> Result<(), DbErr> {
        if let Err(e) = self.db.ping().await {
            self.note_error(&e).await;
            return Err(e);
        }
        if self.unreachable.swap(false, Ordering::AcqRel) {
            tracing::info!("database reachable again");
        }
        Ok(())
    }

    pub async fn ping(&self) -> Result<(), DbErr> {
        let result = self.db().ping().await;
        if let Err(e) = &result {
            self.note_error(e).await;
        }
        result
    }
}

/// The database could not be reached, or went away mid-statement (the
/// server stopped, the connection broke): a 503, not a 500.
pub fn is_unavailable(e: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    let runtime = match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(runtime) | DbErr::Query(runtime) => runtime,
        _ => return false,
    };
    let sea_orm::RuntimeErr::SqlxError(e) = runtime else {
        return false;
    };
    match e.as_ref() {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::Protocol(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed
        | Sqlx::BeginFailed => true,
        // SQLSTATE class 08 (connection exception) and 57P (the server is
        // shutting down, crashed or is starting).
        Sqlx::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

/// No connection came free within `acquire_timeout_seconds`: the pool is
/// exhausted, or cannot connect at all.
fn is_pool_exhausted(e: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    match e {
        DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout) => true,
        DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
        | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e)) => {
            matches!(e.as_ref(), Sqlx::PoolTimedOut)
        }
        _ => false,
    }
}

/// `is_unavailable` for an error that may carry a `DbErr` in its chain.
pub fn is_unavailable_any(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|cause| cause.downcast_ref::<DbErr>())
        .any(is_unavailable)
}

pub fn is_unique_violation(e: &DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Makes the SQLite database private before sqlx opens it: its directory
/// is created 0700 and the file 0600 (SQLite gives its WAL and shared-memory
/// files the database file's mode). Files left readable by others, by an
/// older version or by hand, are tightened.
fn prepare_sqlite_file(url: &str) -> anyhow::Result<()> {
    let location = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = location.split_once('?').unwrap_or((location, ""));
    let in_memory = path.is_empty() || path == ":memory:" || query.contains("mode=memory");
    if in_memory {
        return Ok(());
    }
    let path = std::path::Path::new(path);
    if query.split('&').any(|param| param == "mode=rwc") {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            private_files::create_dir_all(dir)?;
        }
        private_files::create_file(path)?;
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        private_files::tighten(std::path::Path::new(&file))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};

    use super::is_unavailable;

    fn exec(e: Sqlx) -> DbErr {
        DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
    }

    #[test]
    fn a_lost_or_unreachable_database_is_unavailable_and_nothing_else_is() {
        let reset = || std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert!(is_unavailable(&DbErr::ConnectionAcquire(
            ConnAcquireErr::Timeout
        )));
        assert!(is_unavailable(&exec(Sqlx::Io(reset()))));
        assert!(is_unavailable(&DbErr::Query(RuntimeErr::SqlxError(
            Arc::new(Sqlx::PoolClosed)
        ))));
        assert!(!is_unavailable(&exec(Sqlx::RowNotFound)));
        assert!(!is_unavailable(&DbErr::RecordNotFound("key".into())));
        assert!(!is_unavailable(&DbErr::Custom("constraint".into())));
    }
}
