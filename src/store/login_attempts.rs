//! Per-account login throttling, in the database so that every replica
//! counts the same attempts. One atomic upsert per attempt: fifty parallel
//! guesses cannot slip past the limit, on one replica or on several.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DbErr, DeriveIden};

use super::Store;

#[derive(DeriveIden)]
enum LoginAttempts {
    Table,
    Account,
    WindowStartedMs,
    Attempts,
}

/// The rule: at most `limit` attempts per account in a window of
/// `window_ms` milliseconds, counted from the window's first attempt.
#[derive(Debug, Clone, Copy)]
pub struct AccountLimit {
    pub limit: u32,
    pub window_ms: i64,
}

/// The answer to one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginSlot {
    /// Go ahead and check the password.
    Granted,
    /// Over the limit: the window ends this many milliseconds from now.
    Refused { retry_after_ms: i64 },
}

impl Store {
    /// Counts one attempt for `account` (an opaque key: a digest of the
    /// email) and says whether it may go ahead. The count and the decision
    /// are one statement.
    pub async fn take_login_slot(
        &self,
        account: &str,
        rule: AccountLimit,
    ) -> Result<LoginSlot, DbErr> {
        let now_ms = self.now().timestamp_millis();
        let stale_before = now_ms - rule.window_ms;
        // Integers computed here, not user input: safe to write into the SQL.
        let window_over = format!("login_attempts.window_started_ms <= {stale_before}");
        let upsert = Query::insert()
            .into_table(LoginAttempts::Table)
            .columns([
                LoginAttempts::Account,
                LoginAttempts::WindowStartedMs,
                LoginAttempts::Attempts,
            ])
            .values_panic([account.into(), now_ms.into(), 1i64.into()])
            .on_conflict(
                OnConflict::column(LoginAttempts::Account)
                    .value(
                        LoginAttempts::Attempts,
                        Expr::cust(format!(
                            "CASE WHEN {window_over} THEN 1 ELSE login_attempts.attempts + 1 END"
                        )),
                    )
                    .value(
                        LoginAttempts::WindowStartedMs,
                        Expr::cust(format!(
                            "CASE WHEN {window_over} THEN {now_ms} \
                             ELSE login_attempts.window_started_ms END"
                        )),
                    )
                    .to_owned(),
            )
            .returning(
                Query::returning()
                    .columns([LoginAttempts::Attempts, LoginAttempts::WindowStartedMs]),
            )
            .to_owned();
        let row = self
            .db()
            .query_one(&upsert)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("the login attempt row".to_owned()))?;
        let attempts: i64 = row.try_get("", "attempts")?;
        let started_ms: i64 = row.try_get("", "window_started_ms")?;
        if attempts <= i64::from(rule.limit) {
            Ok(LoginSlot::Granted)
        } else {
            Ok(LoginSlot::Refused {
                // Another replica's clock may run a little ahead of ours:
                // never ask for more than one window.
                retry_after_ms: (started_ms + rule.window_ms - now_ms).clamp(1, rule.window_ms),
            })
        }
    }

    /// A granted attempt that succeeded does not count against the account.
    pub async fn give_back_login_slot(&self, account: &str) -> Result<(), DbErr> {
        let update = Query::update()
            .table(LoginAttempts::Table)
            .value(
                LoginAttempts::Attempts,
                Expr::col(LoginAttempts::Attempts).sub(1),
            )
            .and_where(Expr::col(LoginAttempts::Account).eq(account))
            .and_where(Expr::col(LoginAttempts::Attempts).gt(0))
            .to_owned();
        self.db().execute(&update).await.map(|_| ())
    }

    /// Forgets accounts whose window is over: the table holds recent
    /// attempts, not every email ever tried.
    pub async fn prune_login_attempts(&self, window_ms: i64) -> Result<u64, DbErr> {
        let stale_before = self.now().timestamp_millis() - window_ms;
        let delete = Query::delete()
            .from_table(LoginAttempts::Table)
            .and_where(Expr::col(LoginAttempts::WindowStartedMs).lte(stale_before))
            .to_owned();
        Ok(self.db().execute(&delete).await?.rows_affected())
    }
}
