//! Audited writes in one place. A use case opens a `Write`, creates, updates or deletes records
//! through it (each change written with its audit entry: actor, time, request, before and after),
//! adds whatever else belongs to the same change through `conn()`, and commits. Dropping it
//! without `commit` rolls everything back, audit entries included.
//!
//! ```ignore
//! let mut w = ctx.write().await?;
//! w.update(&old, &mut new, expected(input.version)?).await?;
//! w.commit().await?;
//! ```

use super::{Ctx, CurrentUser};
use crate::domain::audit::{AuditAction, ObjectType, Verb};
use crate::error::{AppError, AppResult, Code};
use crate::store::audit::Change;
use crate::store::batch::Batch;
use crate::store::record::{Insert, Record};
use crate::store::{Tx, is_foreign_key_violation, is_unique_violation};
use sqlx::AnyConnection;

/// A setting's value in a message ("（空）" for an empty one).
fn shown_text(v: &str) -> &str {
    if v.is_empty() { "（空）" } else { v }
}

pub struct Write<'a> {
    ctx: &'a Ctx<'a>,
    tx: Tx,
    /// The time every change of this write is recorded at.
    pub now: i64,
}

/// The row version an update was read at: required, so that a save from an outdated copy is
/// refused (409 stale_version) instead of overwriting what someone else saved.
pub fn expected(version: Option<i64>) -> AppResult<i64> {
    version.ok_or_else(|| AppError::field("version", Code::VersionRequired, Code::VersionRequired.message()))
}

impl<'a> Ctx<'a> {
    /// Opens an audited write (one transaction).
    pub async fn write(&'a self) -> AppResult<Write<'a>> {
        Ok(Write { ctx: self, tx: self.db.begin().await?, now: crate::domain::time::now_ms() })
    }

    /// Opens an audited write that shares its commit with the writes of the same kind arriving
    /// together (`Db::begin_grouped`): for writes that arrive in numbers and lock the same rows.
    pub async fn write_grouped(&'a self) -> AppResult<Write<'a>> {
        Ok(Write { ctx: self, tx: self.db.begin_grouped().await?, now: crate::domain::time::now_ms() })
    }

    /// Creates one record, audited, in its own transaction.
    pub async fn create<R: Insert>(&'a self, new: &R) -> AppResult<()> {
        let w = self.write().await?;
        let mut b = Batch::default();
        // The audit entry does not read the new row.
        b.together();
        w.stage_create(&mut b, new);
        w.commit_batch::<R>(b).await
    }

    /// Saves one record over `old` at the version the caller read (`version` is required; 409
    /// when someone saved in between), audited, in its own transaction.
    pub async fn update<R: Record>(&'a self, old: &R, new: &mut R, version: Option<i64>) -> AppResult<()> {
        let expected = expected(version)?;
        let mut w = self.write().await?;
        w.update(old, new, expected).await?;
        w.commit().await
    }
}

/// A unique or foreign-key violation as the user's mistake, anything else as an internal error.
pub fn refusal<R: Insert>(e: sqlx::Error) -> AppError {
    match R::UNIQUE {
        Some(("", code, message)) if is_unique_violation(&e) => AppError::refuse(code, message),
        Some((field, code, message)) if is_unique_violation(&e) => AppError::field(field, code, message),
        _ if is_foreign_key_violation(&e) => AppError::refuse(Code::InUse, R::IN_USE),
        _ => e.into(),
    }
}

impl<'a> Write<'a> {
    /// Inserts a record and audits its creation (sent together: one statement on SQLite).
    pub async fn create<R: Insert>(&mut self, new: &R) -> AppResult<()> {
        let mut b = Batch::default();
        self.stage_create(&mut b, new);
        b.run(&mut self.tx).await.map_err(refusal::<R>)
    }

    /// Adds a record's insert and the audit entry of its creation to a batch, for a change
    /// that sends several statements together (`run`).
    pub fn stage_create<'q, R: Insert>(&self, b: &mut Batch<'q>, new: &'q R) {
        new.stage(b);
        let change = Change {
            action: Verb::Create.into(),
            object_type: R::OBJECT,
            object_id: new.id(),
            object_label: &new.label(),
            before: None,
            after: new.snapshot(),
        };
        self.ctx.stage_audit(b, change, self.now);
    }

    /// Sends a batch of statements in this write (a refused one maps as for `R`'s insert).
    pub async fn run<R: Insert>(&mut self, b: Batch<'_>) -> AppResult<()> {
        b.run(&mut self.tx).await.map_err(refusal::<R>)
    }

    /// Saves `new` over `old` if the row is still at `expected` (else 409 stale_version), sets
    /// `new`'s version to the stored one and audits the change with both snapshots.
    pub async fn update<R: Record>(&mut self, old: &R, new: &mut R, expected: i64) -> AppResult<()> {
        self.update_as(Verb::Update, old, new, expected).await
    }

    /// An update audited under another action (a problem's state change, a publication).
    pub async fn update_as<R: Record>(
        &mut self,
        action: impl Into<AuditAction>,
        old: &R,
        new: &mut R,
        expected: i64,
    ) -> AppResult<()> {
        if !new.update(&mut self.tx, expected).await.map_err(refusal::<R>)? {
            return Err(AppError::stale());
        }
        new.set_version(expected + 1);
        self.audit(action, R::OBJECT, new.id(), &new.label(), old.snapshot(), new.snapshot()).await
    }

    /// Deletes a record (dependent rows are the caller's, through `conn()`, before) and audits it.
    pub async fn delete<R: Insert>(&mut self, old: &R) -> AppResult<()> {
        let sql = format!("DELETE FROM {} WHERE id = $1", R::TABLE);
        sqlx::query(&sql).bind(old.id()).execute(&mut *self.tx).await.map_err(refusal::<R>)?;
        self.audit(Verb::Delete, R::OBJECT, old.id(), &old.label(), old.snapshot(), None).await
    }

    /// An audit entry for a change made through `conn()`.
    pub async fn audit(
        &mut self,
        action: impl Into<AuditAction>,
        object_type: ObjectType,
        object_id: &str,
        object_label: &str,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> AppResult<()> {
        let change = Change { action: action.into(), object_type, object_id, object_label, before, after };
        self.ctx.audit(&mut self.tx, change, self.now).await
    }

    /// Changes a key/value setting from what the user's page showed, audited with its label
    /// ("工作时间") and both values. `shown` is how a stored value (None: never set) reads on
    /// the page; `seen` is that text as the form was rendered (None from a client that sends
    /// none). A field the user left as they saw it is not written, so a form of several
    /// settings keeps what someone else saved meanwhile in the others; one the user changed
    /// that someone else changed too is refused (409 stale_version, naming the value now
    /// stored) instead of overwriting it. The stored text is read and replaced in this write,
    /// compared and set: another instance's save in between refuses this one.
    pub async fn setting(
        &mut self,
        (key, label): (&str, &str),
        shown: impl Fn(Option<&str>) -> String,
        seen: Option<&str>,
        new: &str,
    ) -> AppResult<()> {
        if seen == Some(new) {
            return Ok(());
        }
        let stored = crate::store::calendar::setting_in(&mut self.tx, key).await?;
        let old = shown(stored.as_deref());
        if old == new {
            return Ok(());
        }
        let changed_by_another = |now: &str| {
            AppError::refuse(
                Code::StaleVersion,
                format!("“{label}”已被他人改为“{}”，请核对后重新保存", shown_text(now)),
            )
        };
        if seen.is_some_and(|s| s != old) {
            return Err(changed_by_another(&old));
        }
        let now = self.now;
        if !crate::store::calendar::set_setting_from(&mut self.tx, key, stored.as_deref(), new, now).await? {
            // Another write changed it first (PostgreSQL: this statement waited for it): its value,
            // which may be this one's (two saving the same at once).
            let stored = shown(crate::store::calendar::setting_in(&mut self.tx, key).await?.as_deref());
            return if stored == new { Ok(()) } else { Err(changed_by_another(&stored)) };
        }
        let (before, after) = (serde_json::json!({"value": old}), serde_json::json!({"value": new}));
        self.audit(Verb::Update, ObjectType::Setting, key, label, Some(before), Some(after)).await
    }

    /// The database the write is on (for reads that belong to it).
    pub fn db(&self) -> &'a crate::store::Db {
        self.ctx.db
    }

    /// Who is writing.
    pub fn user(&self) -> &CurrentUser {
        self.ctx.user
    }

    /// The transaction, for the rest of the change (events, links, notifications).
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> AppResult<()> {
        self.tx.commit().await?;
        Ok(())
    }

    /// Runs a batch as the last statements of this write and commits: on SQLite the batch and
    /// the commit's own statements are one hand-off (`Tx::commit_batch`). A refused statement
    /// maps as for `R`'s insert.
    pub async fn commit_batch<R: Insert>(self, b: Batch<'_>) -> AppResult<()> {
        self.tx.commit_batch(b).await.map_err(refusal::<R>)
    }

    /// `commit_batch` with the database's error as it is, for a caller that tells one refusal
    /// from another.
    pub async fn try_commit_batch(self, b: Batch<'_>) -> Result<(), sqlx::Error> {
        self.tx.commit_batch(b).await
    }

    /// The next number of a sequence (a day's problem numbers, a year's notices), taken in
    /// this write.
    pub async fn next_in_sequence(&mut self, scope: &str) -> AppResult<i64> {
        Ok(self.tx.next_in_sequence(None, scope).await?)
    }

    /// The next number of a sequence, its record added to `b` (see `Tx::next_in_sequence`).
    pub async fn stage_next_in_sequence(&mut self, b: &mut Batch<'_>, scope: &str) -> AppResult<i64> {
        Ok(self.tx.next_in_sequence(Some(b), scope).await?)
    }

    /// A filing's point held (`store::hold_point`) and then the next number of `scope`: on
    /// PostgreSQL in one round trip (the function `filing_start`, migration 0053), on SQLite
    /// the number staged in `b` (`stage_next_in_sequence`).
    pub async fn hold_point_and_number(
        &mut self,
        b: &mut Batch<'_>,
        point_id: &str,
        scope: &str,
    ) -> AppResult<(crate::store::problems::PointNow, i64)> {
        use crate::store::problems::{PointNow, hold_point};
        if self.db().backend == crate::store::Backend::Postgres {
            let (name, community, n): (Option<String>, Option<String>, i64) =
                sqlx::query_as("SELECT point_name, point_community, n FROM filing_start($1, $2)")
                    .bind(point_id)
                    .bind(scope)
                    .fetch_one(self.conn())
                    .await?;
            return Ok((PointNow::Held(name.map(|name| (name, community))), n));
        }
        let held = hold_point(self.conn(), point_id).await?;
        Ok((held, self.stage_next_in_sequence(b, scope).await?))
    }
}
