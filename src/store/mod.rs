//! Storage on SQLite (default, embedded) or PostgreSQL (several instances), through one code path.
//!
//! We use sqlx's `Any` driver: the same portable SQL (`$1` placeholders, `RETURNING`,
//! `ON CONFLICT`) runs on both, with ids as UUIDv7 text and times as UTC epoch milliseconds
//! (`BIGINT`), so no value needs a dialect-specific type. Dialect differences stay in the
//! migrations folders and in the few helpers below.

pub mod audit;
pub mod batch;
pub mod calendar;
pub mod dashboard;
pub mod evaluation;
pub mod kpi_days;
pub mod mutual;
pub mod notices;
pub mod notifications;
pub mod org;
pub mod photos;
pub mod points;
pub mod problems;
pub mod record;
pub mod reports;
pub mod score_weeks;
pub mod scoring;
pub mod selections;
pub mod sessions;
pub mod standards;
pub mod tasks;
pub mod teams;
pub mod two_step;
pub mod units;
pub mod users;
pub mod windows;

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// SQLite has one writer: transactions of this process queue for one dedicated connection
    /// instead of spinning in SQLite's busy handler (which sleeps up to 100 ms per retry), and that
    /// connection's page cache stays warm because no other connection of ours writes in between.
    /// On PostgreSQL the same queue carries only the grouped writes (`begin_grouped`: problem
    /// filings) on a connection of their own; every other write has a pooled transaction.
    writer: Arc<tokio::sync::Mutex<Writer>>,
    /// Tasks waiting for the writer (the writer queue's depth).
    writer_waiting: Arc<std::sync::atomic::AtomicUsize>,
    /// The writer's group commits.
    pub writer_stats: Arc<WriterStats>,
    /// Every photo's signature, for the platform-wide re-use search (refreshed from the table
    /// before each search, so photos stored by other instances are found too).
    pub photo_index: Arc<tokio::sync::Mutex<crate::media::evidence::Index>>,
    /// The working-day calendar as last loaded, with the fingerprint of the rows it came from.
    pub calendar_cache: Arc<std::sync::Mutex<Option<(String, crate::domain::calendar::Calendar)>>>,
    /// Where each point is, as last read.
    pub point_index: Arc<std::sync::Mutex<Option<Arc<points::PointIndex>>>>,
    /// Every unit's name and kind, as last read.
    pub unit_index: Arc<std::sync::Mutex<Option<Arc<units::UnitIndex>>>>,
    /// Counts of days before today by their filter, with the found or closed problems' revision
    /// they were read at (`dashboard::per_day_category_closed`, `closed_per_day_closed`).
    #[allow(clippy::type_complexity)]
    pub closed_counts:
        Arc<std::sync::Mutex<std::collections::HashMap<String, (i64, Arc<Vec<dashboard::DayCategoryCount>>)>>>,
    /// Problems found per point over days before today by their filter, with the found
    /// problems' revision they were read at (`dashboard::per_point`).
    #[allow(clippy::type_complexity)]
    pub point_counts: Arc<std::sync::Mutex<std::collections::HashMap<String, (i64, Arc<Vec<(String, i64)>>)>>>,
    /// Derived figures kept for a short while (the dashboard's ranking), by key.
    pub memo: Arc<std::sync::Mutex<Vec<Memo>>>,
}

/// A derived figure, when it was computed, and the value.
pub type Memo = (String, std::time::Instant, Arc<dyn std::any::Any + Send + Sync>);

struct Writer {
    conn: sqlx::AnyConnection,
    /// The database's backend: PostgreSQL's group has no write lock to take and keeps no
    /// numbers in memory (other instances number too).
    backend: Backend,
    /// PostgreSQL: where a new connection comes from when this one is lost.
    pool: AnyPool,
    /// A transaction was dropped without commit: undo it before the next one begins.
    needs_rollback: bool,
    /// The group transaction (`BEGIN IMMEDIATE`) is open; each write is a savepoint inside it.
    open: bool,
    /// Writes released into the open group transaction, waiting for its commit.
    batch: Vec<tokio::sync::oneshot::Sender<Result<(), String>>>,
    /// A flush is queued for the writer (see `Db::schedule_flush`).
    flush_queued: bool,
    /// How many tasks wait for the writer: while someone waits, a finished write leaves the
    /// group open for them instead of syncing alone.
    waiting: Arc<std::sync::atomic::AtomicUsize>,
    /// Group commits so far and the writes they carried (for `/metrics` and the bench).
    stats: Arc<WriterStats>,
    /// The savepoint of the next write is open already: the write before released its own and
    /// opened this one in the same hand-off (`Tx::commit_batch`), as others were waiting.
    preopened: bool,
    /// The last number this writer handed out per sequence (`code_sequences`), while nothing
    /// else wrote to the database: checked at each group's `BEGIN IMMEDIATE` through
    /// `PRAGMA data_version`, forgotten after any undo or failed commit.
    sequences: std::collections::HashMap<String, i64>,
    /// `PRAGMA data_version` when the last group began: another connection's commit moves it.
    data_version: i64,
}

/// Counters of the SQLite writer, read by `/metrics` and the bench.
#[derive(Debug, Default)]
pub struct WriterStats {
    pub commits: std::sync::atomic::AtomicU64,
    pub writes: std::sync::atomic::AtomicU64,
    pub failed: std::sync::atomic::AtomicU64,
}

/// Most writes one group commit carries before it syncs even while others wait.
const MAX_GROUP: usize = 256;

impl Writer {
    /// Commits the group transaction (one sync to disk) and answers every write in it.
    async fn flush(&mut self) {
        if !self.open {
            return;
        }
        let result = self.conn.execute("COMMIT").await.map(|_| ()).map_err(|e| e.to_string());
        if result.is_err() {
            let _ = self.conn.execute("ROLLBACK").await;
        }
        self.open = false;
        self.preopened = false;
        self.finish(result);
    }

    /// Answers the writes of the group with the outcome of its commit.
    fn finish(&mut self, result: Result<(), String>) {
        use std::sync::atomic::Ordering::Relaxed;
        let n = self.batch.len() as u64;
        if result.is_ok() {
            self.stats.commits.fetch_add(1, Relaxed);
            self.stats.writes.fetch_add(n, Relaxed);
        } else {
            self.stats.failed.fetch_add(n, Relaxed);
            self.sequences.clear();
        }
        for waiter in self.batch.drain(..) {
            let _ = waiter.send(result.clone());
        }
    }

    /// PostgreSQL: begins the group transaction and the first write's savepoint (one round
    /// trip). A connection that fails to begin is replaced by a new one from the pool, once:
    /// the server may have closed it (a restart, an idle timeout of a proxy in between).
    async fn begin_postgres(&mut self) -> Result<(), sqlx::Error> {
        const BEGIN: &str = "BEGIN; SAVEPOINT w";
        if self.conn.execute(BEGIN).await.is_ok() {
            return Ok(());
        }
        let _ = self.conn.execute("ROLLBACK").await;
        self.conn = self.pool.acquire().await?.detach();
        if let Err(e) = self.conn.execute(BEGIN).await {
            let _ = self.conn.execute("ROLLBACK").await;
            return Err(e);
        }
        Ok(())
    }

    /// Undoes the write in progress (its savepoint). When that fails the group transaction is
    /// gone (SQLite rolled it back after an I/O error): the writes waiting in it fail with it.
    async fn undo(&mut self) {
        self.needs_rollback = false;
        // A number handed out by the undone write may not be in the database.
        self.sequences.clear();
        if !self.open {
            return;
        }
        let undone = match self.conn.execute("ROLLBACK TO w").await {
            Ok(_) => self.conn.execute("RELEASE w").await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = undone {
            let _ = self.conn.execute("ROLLBACK").await;
            self.open = false;
            self.preopened = false;
            self.finish(Err(e.to_string()));
        }
    }
}

/// Counts a task among those waiting for the writer for as long as it waits (also when the
/// waiting request is dropped).
struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(n: &'a std::sync::atomic::AtomicUsize) -> Self {
        n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Waiting(n)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A write transaction: on PostgreSQL a pooled transaction, on SQLite a savepoint of the
/// writer's group transaction, the writer held for this write alone. Dropping it without
/// `commit` rolls it back.
pub struct Tx {
    /// Taken out only by `commit`.
    inner: Option<TxInner>,
    /// SQLite: this write's savepoint is released into the group already (`commit_batch`).
    released: bool,
    /// SQLite: numbers this write handed out per sequence, the writer's once it is released.
    pending: Vec<(String, i64)>,
}

enum TxInner {
    Pool(sqlx::Transaction<'static, sqlx::Any>),
    Writer(tokio::sync::OwnedMutexGuard<Writer>, Arc<tokio::sync::Mutex<Writer>>),
}

impl Tx {
    /// Commits; returns once the write is on disk. On SQLite the write joins the group
    /// transaction: when nobody else waits for the writer (or the group is full) it commits at
    /// once with one sync; otherwise the next writer carries it on and this call waits for the
    /// group's commit, so writes that arrive together share one sync (group commit).
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        match self.inner.take().expect("open transaction") {
            TxInner::Pool(t) => t.commit().await,
            TxInner::Writer(mut w, shared) => {
                if !self.released
                    && let Err(e) = w.conn.execute("RELEASE w").await
                {
                    w.needs_rollback = true;
                    return Err(e);
                }
                // The numbers this write handed out are in its released statements.
                w.sequences.extend(self.pending.drain(..));
                let (tell, told) = tokio::sync::oneshot::channel();
                w.batch.push(tell);
                let others = w.waiting.load(std::sync::atomic::Ordering::SeqCst);
                if others == 0 || w.batch.len() >= MAX_GROUP {
                    w.flush().await;
                } else if !w.flush_queued {
                    // Whoever waits now carries the group on; a flush queued behind them makes
                    // sure it is committed even if they give up waiting.
                    w.flush_queued = true;
                    tokio::spawn(flush_later(shared));
                }
                drop(w);
                match told.await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(sqlx::Error::Protocol(format!("group commit failed: {e}"))),
                    Err(_) => Err(sqlx::Error::Protocol("group commit abandoned".into())),
                }
            }
        }
    }

    /// Runs a batch as the last statements of this write and commits, as `commit` does. On
    /// SQLite the batch, the savepoint's release and, when others wait for the writer, the next
    /// write's savepoint go in one hand-off: a write that is one batch holds the writer for
    /// that hand-off alone. The batch's error (nothing of this write kept) is returned as is.
    pub async fn commit_batch(mut self, b: batch::Batch<'_>) -> Result<(), sqlx::Error> {
        match self.inner.as_mut().expect("open transaction") {
            TxInner::Pool(t) => b.run(t).await?,
            TxInner::Writer(w, _) => {
                let others = w.waiting.load(std::sync::atomic::Ordering::SeqCst);
                // The next write's savepoint only when the group will stay open for it.
                let next = others > 0 && w.batch.len() + 1 < MAX_GROUP;
                let tail = if next { "RELEASE w; SAVEPOINT w;" } else { "RELEASE w;" };
                let ran = match w.backend {
                    Backend::Sqlite => b.run_then(&mut w.conn, tail).await,
                    // PostgreSQL takes statements with parameters one query at a time.
                    Backend::Postgres => match b.run(&mut w.conn).await {
                        Ok(()) => w.conn.execute(tail).await.map(|_| ()),
                        Err(e) => Err(e),
                    },
                };
                if let Err(e) = ran {
                    w.needs_rollback = true;
                    return Err(e);
                }
                w.preopened = next;
                self.released = true;
            }
        }
        self.commit().await
    }

    /// The next number of a sequence (`code_sequences`, such as a day's problem numbers) for
    /// this write, counted in the database at once (PostgreSQL holds the row's lock to the
    /// commit). With `staged` on SQLite the writer hands it out from memory instead (read from
    /// the table once, then kept while no other connection writes) and the statement that
    /// records it is added to the batch, so numbering costs the writer no hand-off of its own.
    /// Numbers stay gapless: a write that is undone or a group that fails forgets them.
    pub async fn next_in_sequence(
        &mut self,
        staged: Option<&mut batch::Batch<'_>>,
        scope: &str,
    ) -> Result<i64, sqlx::Error> {
        let (w, b) = match (self.inner.as_mut().expect("open transaction"), staged) {
            (TxInner::Pool(t), _) => return problems::next_in_sequence(t, scope).await,
            // Other instances number too: PostgreSQL's group takes each number from the row,
            // whose lock it holds to its commit.
            (TxInner::Writer(w, _), _) if w.backend == Backend::Postgres => {
                return problems::next_in_sequence(&mut w.conn, scope).await;
            }
            (TxInner::Writer(w, _), None) => {
                let n = problems::next_in_sequence(&mut w.conn, scope).await?;
                self.pending.push((scope.to_string(), n));
                return Ok(n);
            }
            (TxInner::Writer(w, _), Some(b)) => (w, b),
        };
        let mine = self.pending.iter().rev().find(|(s, _)| s == scope).map(|(_, n)| *n);
        let last = match mine.or_else(|| w.sequences.get(scope).copied()) {
            Some(n) => n,
            None => sqlx::query_scalar::<_, i64>("SELECT n FROM code_sequences WHERE scope = $1")
                .bind(scope)
                .fetch_optional(&mut w.conn)
                .await?
                .unwrap_or(0),
        };
        let n = last + 1;
        let owned = scope.to_string();
        b.push(
            "INSERT INTO code_sequences (scope, n) VALUES ($1, $2) \
             ON CONFLICT (scope) DO UPDATE SET n = max(code_sequences.n, excluded.n)",
            move |a| {
                sqlx::Arguments::add(a, owned)?;
                sqlx::Arguments::add(a, n)
            },
        );
        self.pending.push((scope.to_string(), n));
        Ok(n)
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        // Dropping marks the writer for rollback; the pooled transaction rolls back on drop.
        drop(self);
        Ok(())
    }
}

/// Takes the writer after those already waiting for it and commits the group they left open.
async fn flush_later(shared: Arc<tokio::sync::Mutex<Writer>>) {
    let mut w = shared.lock_owned().await;
    w.flush_queued = false;
    if w.needs_rollback {
        w.undo().await;
    }
    w.flush().await;
}

impl Drop for Tx {
    /// An abandoned SQLite write must not keep the database's write lock: the writer is handed
    /// to a task that undoes it, commits the group the others left in it and only then frees it.
    fn drop(&mut self) {
        if let Some(TxInner::Writer(mut w, _)) = self.inner.take() {
            w.needs_rollback = true;
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    w.undo().await;
                    w.flush().await;
                });
            }
        }
    }
}

impl std::ops::Deref for Tx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        match self.inner.as_ref().expect("open transaction") {
            TxInner::Pool(t) => t,
            TxInner::Writer(w, _) => &w.conn,
        }
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self.inner.as_mut().expect("open transaction") {
            TxInner::Pool(t) => &mut *t,
            TxInner::Writer(w, _) => &mut w.conn,
        }
    }
}

/// The settings every new connection gets before its first use.
async fn prepare(conn: &mut sqlx::AnyConnection, backend: Backend) -> Result<(), sqlx::Error> {
    if backend == Backend::Sqlite {
        // WAL lets readers run beside the single writer; FULL syncs the log at
        // every commit, so a commit survives power loss, not only a crash. The
        // writer's group commit shares that sync among the writes that arrive
        // together.
        conn.execute("PRAGMA journal_mode = WAL").await?;
        conn.execute("PRAGMA synchronous = FULL").await?;
        conn.execute("PRAGMA foreign_keys = ON").await?;
        conn.execute("PRAGMA busy_timeout = 10000").await?;
        // Every commit invalidates the other connections' page caches; reading
        // pages through a memory map instead of read() copies keeps that cheap.
        // The whole file is mapped, however large (the build raises SQLite's
        // 2 GiB limit, see .cargo/config.toml): the mapped pages are the
        // system's file cache, shared by every connection and given back under
        // memory pressure, not the process's own memory.
        conn.execute("PRAGMA mmap_size = 1099511627776").await?;
        // Checkpoints (which fsync) run from the background jobs, off the commit
        // path; this larger automatic limit only bounds the log if jobs do not run.
        conn.execute("PRAGMA wal_autocheckpoint = 20000").await?;
    } else {
        // The default, said here so that a server configured otherwise cannot
        // acknowledge a write that power loss would take back.
        conn.execute("SET synchronous_commit = on").await?;
        // No JIT compilation: it pays off for analytic queries that run for
        // seconds, while every read here answers a page within about 100 ms.
        // Compiling took 9 of a notice's 108 ms read and 547 ms of a misplanned
        // one at ten million problems.
        conn.execute("SET jit = off").await?;
    }
    Ok(())
}

impl Db {
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            anyhow::bail!("不支持的数据库地址（应以 sqlite:// 或 postgres:// 开头）: {url}");
        };
        let opts = AnyConnectOptions::from_str(url).with_context(|| format!("invalid database URL {url}"))?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(30))
            // A pinged round trip before every use guards against dropped network connections;
            // an embedded SQLite file has none, and the ping costs a thread hand-off per query.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| Box::pin(prepare(conn, backend)))
            .connect_with(opts)
            .await
            .with_context(|| format!("cannot open database {}", redact(url)))?;
        let waiting = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let writer_stats = Arc::new(WriterStats::default());
        // PostgreSQL: the grouped writes' own connection (`begin_grouped`).
        let conn = pool.acquire().await?.detach();
        let writer = Arc::new(tokio::sync::Mutex::new(Writer {
            conn,
            backend,
            pool: pool.clone(),
            needs_rollback: false,
            open: false,
            batch: Vec::new(),
            flush_queued: false,
            waiting: waiting.clone(),
            stats: writer_stats.clone(),
            preopened: false,
            sequences: Default::default(),
            data_version: 0,
        }));
        Ok(Db {
            pool,
            backend,
            writer,
            writer_waiting: waiting,
            writer_stats,
            photo_index: Default::default(),
            calendar_cache: Default::default(),
            point_index: Default::default(),
            unit_index: Default::default(),
            closed_counts: Default::default(),
            point_counts: Default::default(),
            memo: Default::default(),
        })
    }

    /// The migrations of this database's backend.
    pub fn migrator(&self) -> sqlx::migrate::Migrator {
        match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        }
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.migrator().run(&self.pool).await.context("database migration failed")?;
        Ok(())
    }

    /// A write transaction whose commit is on disk when `commit` returns, power loss included:
    /// on SQLite the write-ahead log is synced at its commit (`synchronous = FULL`), shared by
    /// the writes that arrive together (group commit); PostgreSQL's default
    /// `synchronous_commit = on` does the same (its WAL flush is shared by concurrent commits).
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.writer_turn().await,
            Backend::Postgres => {
                Ok(Tx { inner: Some(TxInner::Pool(self.pool.begin().await?)), released: false, pending: Vec::new() })
            }
        }
    }

    /// A write of many that arrive together from different requests (problem filings): on
    /// both databases it joins the instance's group transaction, as every SQLite write does, so
    /// that the writes of a group share one commit and its sync. On PostgreSQL that also means
    /// they share one hold of the rows every such write locks to its commit (the day's number
    /// in `code_sequences`): filed one transaction each, the filings of all instances queued
    /// for that row one commit's sync at a time.
    pub async fn begin_grouped(&self) -> Result<Tx, sqlx::Error> {
        self.writer_turn().await
    }

    /// Takes the writer after those already waiting for it: a savepoint of its group
    /// transaction, which is begun when none is open.
    async fn writer_turn(&self) -> Result<Tx, sqlx::Error> {
        let w = &self.writer;
        let mut turn = {
            let _waiting = Waiting::new(&self.writer_waiting);
            w.clone().lock_owned().await
        };
        if turn.needs_rollback {
            // The previous write was abandoned (an error or a dropped request).
            turn.undo().await;
        }
        if !turn.open && turn.backend == Backend::Postgres {
            turn.begin_postgres().await?;
            turn.open = true;
        } else if !turn.open {
            // IMMEDIATE takes SQLite's write lock at once: a transaction that reads before
            // it writes can never find its snapshot outdated by a concurrent write. The
            // group, its data version and the first write's savepoint: one hand-off.
            // Every row is fetched, so that the savepoint after the pragma runs too.
            let begun = sqlx::query_scalar::<_, i64>("BEGIN IMMEDIATE; PRAGMA data_version; SAVEPOINT w")
                .fetch_all(&mut turn.conn)
                .await
                .and_then(|v| v.first().copied().ok_or(sqlx::Error::RowNotFound));
            match begun {
                Ok(version) => {
                    if version != turn.data_version {
                        // Another connection wrote since this writer's last group.
                        turn.sequences.clear();
                        turn.data_version = version;
                    }
                }
                Err(e) => {
                    // Nothing of the group is written yet: no write waits in it.
                    let _ = turn.conn.execute("ROLLBACK").await;
                    return Err(e);
                }
            }
            turn.open = true;
        } else if turn.preopened {
            turn.preopened = false;
        } else if let Err(e) = turn.conn.execute("SAVEPOINT w").await {
            turn.flush().await;
            return Err(e);
        }
        Ok(Tx { inner: Some(TxInner::Writer(turn, w.clone())), released: false, pending: Vec::new() })
    }

    /// Returns once the writes that have left the writer (released into its open group) are
    /// committed or failed.
    pub async fn settle(&self) {
        let mut w = self.writer.lock().await;
        if w.needs_rollback {
            w.undo().await;
        }
        w.flush().await;
    }

    /// How many tasks wait for the writer now (on PostgreSQL the grouped writes only).
    pub fn writer_queue(&self) -> usize {
        self.writer_waiting.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// SQLite: refreshes the query planner's statistics (sampled: `analysis_limit`). Without
    /// them SQLite takes `state = 'closed'` for a narrow condition and sorts a city's closed
    /// problems to show twenty. PostgreSQL's autovacuum keeps its own.
    ///
    /// Only tables whose rows have moved by more than a fifth since their last analysis, and
    /// indexes without statistics, are analyzed again (`stale_tables`, counted on a reader):
    /// even sampled, `ANALYZE` walks every
    /// index of ten million problems for 2–4 s (20 s from a cold cache) while it holds the
    /// writer, and every filing would wait behind it each hour.
    ///
    /// The sample reads an index's first rows, which share their first column when it has few
    /// values (a problem's state, its community): SQLite then believes each state or community
    /// holds about a thousand of ten million problems, and took the state index to count one
    /// street's problems to re-check (every such problem of the city, read row by row) where
    /// the street's own index answers at once. Those first-column figures are counted exactly
    /// (`correct_sampled`, one index seek per value: milliseconds). When a figure changed, the
    /// schema's version is moved, so that every open connection plans with the new figures
    /// (SQLite's own ANALYZE reaches only the connection that ran it). Returns the tables and
    /// indexes analyzed.
    pub async fn refresh_statistics(&self) -> Result<Vec<String>, sqlx::Error> {
        if self.backend != Backend::Sqlite {
            return Ok(Vec::new());
        }
        let stale = stale_tables(&self.pool).await?;
        let mut tx = self.begin().await?;
        sqlx::query(&format!("PRAGMA analysis_limit = {SAMPLED_ROWS}")).execute(&mut *tx).await?;
        for table in &stale {
            sqlx::query(&format!("ANALYZE {}", quoted(table))).execute(&mut *tx).await?;
        }
        if !stale.is_empty() | correct_sampled(&mut tx).await? {
            sqlx::query("CREATE TABLE statistics_reload (x INTEGER)").execute(&mut *tx).await?;
            sqlx::query("DROP TABLE statistics_reload").execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(stale)
    }

    /// SQLite: copies committed pages from the write-ahead log into the database without
    /// waiting for readers or blocking the writer.
    pub async fn checkpoint(&self) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Closes every connection, the SQLite writer's included (before its files are replaced).
    pub async fn close(self) {
        self.writer.lock().await.flush().await;
        if let Ok(w) = Arc::try_unwrap(self.writer) {
            let _ = sqlx::Connection::close(w.into_inner().conn).await;
        }
        self.pool.close().await;
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ())
    }

    /// Case-insensitive LIKE: `ILIKE` on PostgreSQL; SQLite's LIKE is already case-insensitive for ASCII.
    pub fn ilike(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "LIKE",
            Backend::Postgres => "ILIKE",
        }
    }
}

/// Hides a password in a database URL before it reaches a log line or an error.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Tables whose record a write holds with `hold`.
#[derive(Debug, Clone, Copy)]
pub enum Held {
    Selections,
    MutualRounds,
    EvalRounds,
    /// By its publication status
    Notices,
    VolunteerActivities,
}

/// How a write holds a record (`hold`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Writes holding it do not wait for each other (PostgreSQL: a shared row lock)
    Shared,
    /// One write at a time (PostgreSQL: an exclusive row lock): for writes that count what the
    /// ones before them added (a notice's corrections, an activity's places)
    Alone,
}

/// Whether the record exists (and is still in `state`, when given), its row held to the end of
/// the caller's write (SQLite: the single writer holds it already). A change of state
/// (publishing a result) waits for the writes holding it and is seen by those that come after,
/// so a vote or a score is either in the result or refused, never added after it.
pub async fn hold(
    conn: &mut sqlx::AnyConnection,
    table: Held,
    (id, state): (&str, Option<&str>),
    how: Hold,
) -> Result<bool, sqlx::Error> {
    let (table, column) = match table {
        Held::Selections => ("selections", "state"),
        Held::MutualRounds => ("mutual_rounds", "state"),
        Held::EvalRounds => ("eval_rounds", "state"),
        Held::Notices => ("notices", "status"),
        Held::VolunteerActivities => ("volunteer_activities", ""),
    };
    let lock = match (conn.backend_name() == "PostgreSQL", how) {
        (false, _) => "",
        (true, Hold::Shared) => " FOR SHARE",
        (true, Hold::Alone) => " FOR UPDATE",
    };
    let in_state = if state.is_some() { format!(" AND {column} = $2") } else { String::new() };
    let sql = format!("SELECT id FROM {table} WHERE id = $1{in_state}{lock}");
    let mut q = sqlx::query_scalar::<_, String>(&sql).bind(id);
    if let Some(state) = state {
        q = q.bind(state);
    }
    Ok(q.fetch_optional(conn).await?.is_some())
}

/// True when the error is a UNIQUE constraint violation (a duplicate code or name).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => d.is_unique_violation() || d.message().contains("UNIQUE constraint failed"),
        _ => false,
    }
}

/// True when the error is a FOREIGN KEY violation (something still refers to the row).
pub fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.is_foreign_key_violation() || d.message().contains("FOREIGN KEY constraint failed")
        }
        _ => false,
    }
}

/// Escapes `%`, `_` and `\` for a LIKE pattern and wraps it for a substring match.
pub fn like_pattern(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Rows SQLite's ANALYZE reads per index (`analysis_limit`).
const SAMPLED_ROWS: i64 = 1000;

/// A first column with more values than this is left as sampled: its estimate is then already
/// narrow, and counting its values would seek this many times.
const COUNTED_VALUES: i64 = 1000;

/// What to analyze again: the tables (ordinary, SQLite's own left out) whose rows now differ
/// from the count their statistics recorded by more than a fifth (and by more than
/// `STALE_ROWS`), or that have rows and no statistics yet; then, of the other tables with rows,
/// each index without statistics (one a migration added: analyzed alone, a few tenths of a
/// second where its table would take seconds). Counted on a reader: a second for ten million
/// problems, the writer not held.
async fn stale_tables(pool: &sqlx::AnyPool) -> Result<Vec<String>, sqlx::Error> {
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%' \
         AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name",
    )
    .fetch_all(pool)
    .await?;
    let has_stats: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'").fetch_one(pool).await?;
    let (recorded, unanalyzed) = if has_stats > 0 {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT tbl, stat FROM sqlite_stat1").fetch_all(pool).await?;
        let unanalyzed: Vec<(String, String)> = sqlx::query_as(
            "SELECT m.tbl_name, m.name FROM sqlite_schema m WHERE m.type = 'index' \
             AND NOT EXISTS (SELECT 1 FROM sqlite_stat1 s WHERE s.idx = m.name) ORDER BY m.name",
        )
        .fetch_all(pool)
        .await?;
        (recorded_rows(rows), unanalyzed)
    } else {
        Default::default()
    };
    let mut stale = Vec::new();
    let mut with_rows = std::collections::HashSet::new();
    for (table,) in tables {
        let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", quoted(&table))).fetch_one(pool).await?;
        let was = recorded.get(&table).copied().unwrap_or(0);
        let moved = (rows - was).abs();
        if moved > STALE_ROWS && moved * 5 > rows.max(was) {
            stale.push(table);
        } else if rows > 0 {
            with_rows.insert(table);
        }
    }
    stale.extend(unanalyzed.into_iter().filter(|(table, _)| with_rows.contains(table)).map(|(_, index)| index));
    Ok(stale)
}

/// Each table's rows as `sqlite_stat1` recorded them (rows of `(table, figures)`): its largest
/// index's first figure, since a partial index holds fewer.
fn recorded_rows(rows: Vec<(String, String)>) -> std::collections::HashMap<String, i64> {
    let mut recorded = std::collections::HashMap::new();
    for (t, stat) in rows {
        if let Some(n) = stat.split(' ').next().and_then(|n| n.parse::<i64>().ok()) {
            let r = recorded.entry(t).or_insert(n);
            *r = (*r).max(n);
        }
    }
    recorded
}

/// Rows a table may gain or lose before its statistics are taken again, however small it is.
const STALE_ROWS: i64 = 50;

/// Replaces the sampled rows-per-value of each index's first column, where the sample saw too
/// few values to tell (`SAMPLED_ROWS / 2` rows or more per value), with the table's count: the
/// index's rows over the column's distinct values, counted by skipping from one value to the
/// next through an index that leads with the column (one seek per value). Whether a figure
/// changed.
async fn correct_sampled(conn: &mut sqlx::AnyConnection) -> Result<bool, sqlx::Error> {
    // Table, index, figures, the index's definition, its first column.
    type StatRow = (String, String, String, Option<String>, Option<String>);
    let rows: Vec<StatRow> = sqlx::query_as(
        "SELECT s.tbl, s.idx, s.stat, m.sql, (SELECT name FROM pragma_index_info(s.idx) WHERE seqno = 0) \
         FROM sqlite_stat1 s JOIN sqlite_schema m ON m.type = 'index' AND m.name = s.idx",
    )
    .fetch_all(&mut *conn)
    .await?;
    // Per table and column, an index without a condition that leads with it (to count through).
    let partial = |sql: &Option<String>| sql.as_deref().is_some_and(|s| s.to_ascii_uppercase().contains(" WHERE "));
    let mut through: std::collections::HashMap<(&str, &str), &str> = std::collections::HashMap::new();
    for (tbl, idx, _, sql, col) in &rows {
        if let Some(col) = col
            && !partial(sql)
        {
            through.entry((tbl, col)).or_insert(idx);
        }
    }
    let mut counted: std::collections::HashMap<(&str, &str), Option<i64>> = std::collections::HashMap::new();
    let mut changed = false;
    for (tbl, idx, stat, _, col) in &rows {
        let mut parts = stat.split(' ');
        let (Some(Ok(_)), Some(Ok(per_value))) =
            (parts.next().map(str::parse::<i64>), parts.next().map(str::parse::<i64>))
        else {
            continue;
        };
        let Some(col) = col else { continue };
        let Some(via) = through.get(&(tbl.as_str(), col.as_str())) else { continue };
        if per_value * 2 < SAMPLED_ROWS {
            continue;
        }
        let values = match counted.get(&(tbl.as_str(), col.as_str())) {
            Some(v) => *v,
            None => {
                let v = distinct_values(conn, tbl, via, col).await?;
                counted.insert((tbl, col), v);
                v
            }
        };
        let Some(figures) = values.and_then(|values| counted_stat(stat, values)) else { continue };
        if figures == *stat {
            continue;
        }
        changed = true;
        sqlx::query("UPDATE sqlite_stat1 SET stat = $1 WHERE tbl = $2 AND idx = $3")
            .bind(figures)
            .bind(tbl)
            .bind(idx)
            .execute(&mut *conn)
            .await?;
    }
    Ok(changed)
}

/// An index's `sqlite_stat1` figures ("rows, rows per first-column value, per first two, …",
/// then options such as `unordered`) with the first column's figure counted: rows ÷ `values`.
/// The later columns' figures are kept but never above it (each further column can only narrow
/// a value's rows, and SQLite expects them so).
fn counted_stat(stat: &str, values: i64) -> Option<String> {
    let mut parts: Vec<String> = stat.split(' ').map(str::to_string).collect();
    let total: i64 = parts.first()?.parse().ok()?;
    parts.get(1)?.parse::<i64>().ok()?;
    let values = values.max(1);
    let exact = ((total + values - 1) / values).max(1);
    parts[1] = exact.to_string();
    for later in parts.iter_mut().skip(2) {
        if later.parse::<i64>().is_ok_and(|n| n > exact) {
            *later = exact.to_string();
        }
    }
    Some(parts.join(" "))
}

/// How many values a column takes (NULL counting as one), through an index that leads with it;
/// `None` past `COUNTED_VALUES`.
async fn distinct_values(
    conn: &mut sqlx::AnyConnection,
    tbl: &str,
    via: &str,
    col: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let (t, i, c) = (quoted(tbl), quoted(via), quoted(col));
    let sql = format!(
        "WITH RECURSIVE v(x, n) AS (SELECT (SELECT MIN({c}) FROM {t} INDEXED BY {i}), 0 \
         UNION ALL SELECT (SELECT MIN({c}) FROM {t} INDEXED BY {i} WHERE {c} > v.x), n + 1 FROM v \
         WHERE v.x IS NOT NULL AND n <= {COUNTED_VALUES}) \
         SELECT MAX(n) + EXISTS (SELECT 1 FROM {t} INDEXED BY {i} WHERE {c} IS NULL) FROM v"
    );
    let n: i64 = sqlx::query_scalar(&sql).fetch_one(&mut *conn).await?;
    Ok((n <= COUNTED_VALUES).then_some(n))
}

/// A name as an SQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
    }

    #[test]
    fn counted_statistics_replace_the_first_figure_and_bound_the_later_ones() {
        // 1,000,000 rows in 4 states: 250,000 per state; the sampled figure per (state, deadline)
        // stays, being smaller.
        assert_eq!(counted_stat("1000000 1001 3", 4).as_deref(), Some("1000000 250000 3"));
        // Rounded up, never 0; options after the figures kept.
        assert_eq!(counted_stat("10 600 2 unordered", 3).as_deref(), Some("10 4 2 unordered"));
        // Counted below the sample's guess: a later figure above it is brought down to it.
        assert_eq!(counted_stat("300000 1000 900 2", 1000).as_deref(), Some("300000 300 300 2"));
        assert_eq!(counted_stat("5 1", 0).as_deref(), Some("5 5"));
        assert_eq!(counted_stat("unreadable", 3), None);
        assert_eq!(counted_stat("100", 3), None);
    }

    #[test]
    fn a_tables_recorded_rows_are_its_largest_indexs() {
        let rows = [("problems", "10006270 1"), ("problems", "142122 1"), ("problems", "0 0"), ("points", "100000")];
        let recorded = recorded_rows(rows.iter().map(|(t, s)| (t.to_string(), s.to_string())).collect());
        assert_eq!((recorded["problems"], recorded["points"]), (10_006_270, 100_000));
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("a%b_c"), "%a\\%b\\_c%");
    }
}

/// An upsert that claims one kept row for rebuilding.
pub type ClaimRow<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Claims kept rows (weeks of scores, KPI days) for rebuilding: each upsert in its own
/// transaction, then waits until any later change to a fact under a claimed row will see the
/// claim (`claim_settled`); false when that wait ran out (then nothing should be kept). On
/// PostgreSQL one row per transaction: a change's trigger forgets several kept rows in one
/// statement, in an order of its own, so a claim holding two rows at once could deadlock with
/// it. SQLite's single writer cannot deadlock: all rows in one transaction (one sync).
pub async fn claim_rows(db: &Db, upserts: Vec<ClaimRow<'_>>) -> Result<bool, sqlx::Error> {
    let per_row = db.backend == Backend::Postgres;
    let mut tx = db.begin().await?;
    for upsert in upserts {
        upsert.execute(&mut *tx).await?;
        if per_row {
            tx.commit().await?;
            tx = db.begin().await?;
        }
    }
    tx.commit().await?;
    claim_settled(db).await
}

/// After a cache's claim has committed: whether every write that could have missed it has
/// ended, so that any later change to a fact under the claim sees the claim (and forgets it).
/// SQLite has one writer: every write either committed before the claim (readers see it) or
/// comes after it (its trigger sees the claim). On PostgreSQL the transactions running at the
/// claim may have run their triggers before it was visible: wait (up to two seconds) for them
/// to end; false when they did not end in time (then nothing should be kept).
async fn claim_settled(db: &Db) -> Result<bool, sqlx::Error> {
    if db.backend != Backend::Postgres {
        return Ok(true);
    }
    let horizon: String =
        sqlx::query_scalar("SELECT pg_snapshot_xmax(pg_current_snapshot())::text").fetch_one(&db.pool).await?;
    for _ in 0..200 {
        let done: bool = sqlx::query_scalar("SELECT pg_snapshot_xmin(pg_current_snapshot()) >= $1::text::xid8")
            .bind(&horizon)
            .fetch_one(&db.pool)
            .await?;
        if done {
            return Ok(true);
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    Ok(false)
}

/// A bind value for dynamically built SQL.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Int(i64),
}

/// `n` numbered parameters from `$first`, as a list: `$2, $3, $4`.
pub fn marks(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// A tiny builder for filtered list queries: WHERE clauses with numbered placeholders that
/// work on both backends.
#[derive(Debug, Default)]
pub struct Where {
    clauses: Vec<String>,
    pub args: Vec<Arg>,
}

impl Where {
    /// Adds a bind value and returns its placeholder (`$n`).
    pub fn bind(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }

    pub fn text(&mut self, s: impl Into<String>) -> String {
        self.bind(Arg::Text(s.into()))
    }

    pub fn int(&mut self, i: i64) -> String {
        self.bind(Arg::Int(i))
    }

    pub fn and(&mut self, clause: String) {
        self.clauses.push(clause);
    }

    /// `col = $n` when a value is given.
    pub fn eq(&mut self, col: &str, value: Option<&str>) {
        if let Some(v) = value {
            let p = self.text(v);
            self.and(format!("{col} = {p}"));
        }
    }

    /// `col IN ($n, …)` when a list is given (an empty list matches nothing).
    pub fn within(&mut self, col: &str, values: Option<&[String]>) {
        if let Some(vs) = values {
            let ps: Vec<String> = vs.iter().map(|v| self.text(v)).collect();
            self.and(if ps.is_empty() { "1 = 0".into() } else { format!("{col} IN ({})", ps.join(",")) });
        }
    }

    /// A case-insensitive substring of any of `cols`.
    pub fn contains(&mut self, db: &Db, cols: &[&str], keyword: Option<&str>) {
        if let Some(k) = keyword {
            let p = self.text(like_pattern(k));
            let any: Vec<String> = cols.iter().map(|c| format!("{c} {} {p} ESCAPE '\\'", db.ilike())).collect();
            self.and(format!("({})", any.join(" OR ")));
        }
    }

    /// `col = 1` / `col = 0` for a yes/no filter.
    pub fn flag(&mut self, col: &str, value: Option<bool>) {
        if let Some(v) = value {
            let p = self.int(v as i64);
            self.and(format!("{col} = {p}"));
        }
    }

    /// `condition` followed by the value, when a value is given (`"q.deadline_at <"`, now).
    pub fn compare(&mut self, condition: &str, value: Option<i64>) {
        if let Some(v) = value {
            let p = self.int(v);
            self.and(format!("{condition} {p}"));
        }
    }

    /// `col` within the half-open [from, to); either end may be open.
    pub fn range(&mut self, col: &str, from: Option<i64>, to: Option<i64>) {
        self.compare(&format!("{col} >="), from);
        self.compare(&format!("{col} <"), to);
    }

    /// A fixed clause for a ticked filter.
    pub fn when(&mut self, ticked: bool, clause: &str) {
        if ticked {
            self.and(clause.into());
        }
    }

    pub fn sql(&self) -> String {
        if self.clauses.is_empty() { String::new() } else { format!(" WHERE {}", self.clauses.join(" AND ")) }
    }
}

pub fn bind_args<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    args: &[Arg],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for a in args {
        q = match a {
            Arg::Text(s) => q.bind(s.clone()),
            Arg::Int(i) => q.bind(*i),
        };
    }
    q
}

pub fn bind_args_as<'q, O>(
    mut q: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    args: &[Arg],
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    for a in args {
        q = match a {
            Arg::Text(s) => q.bind(s.clone()),
            Arg::Int(i) => q.bind(*i),
        };
    }
    q
}

/// Page request: 1-based page number and page size, clamped to sane bounds.
#[derive(Debug, Clone, Copy)]
pub struct PageReq {
    pub page: i64,
    pub size: i64,
}

impl PageReq {
    pub fn new(page: Option<i64>, size: Option<i64>) -> Self {
        PageReq { page: page.unwrap_or(1).max(1), size: size.unwrap_or(20).clamp(1, 200) }
    }

    /// Everything, for exports.
    pub fn all() -> Self {
        PageReq { page: 1, size: 1_000_000 }
    }

    pub fn limit_offset(&self) -> String {
        format!(" LIMIT {} OFFSET {}", self.size, (self.page - 1) * self.size)
    }
}

/// Counts rows matching a filter.
pub async fn count(db: &Db, from: &str, w: &Where) -> Result<i64, sqlx::Error> {
    count_sql(db, &format!("SELECT COUNT(*) FROM {from}{}", w.sql()), w).await
}

/// A count written out (e.g. capped: `SELECT COUNT(*) FROM (… LIMIT n) t`) with a filter's values.
pub async fn count_sql(db: &Db, sql: &str, w: &Where) -> Result<i64, sqlx::Error> {
    let mut q = sqlx::query_scalar::<_, i64>(sql);
    for a in &w.args {
        q = match a {
            Arg::Text(s) => q.bind(s.clone()),
            Arg::Int(i) => q.bind(*i),
        };
    }
    q.fetch_one(&db.pool).await
}

/// One page of a filtered list with the total: `select` is the row query up to its FROM clause
/// and joins, `from` the table the filter counts over (its joins only when the filter needs them).
pub async fn paged<T>(
    db: &Db,
    select: &str,
    from: &str,
    w: &Where,
    order: &str,
    page: PageReq,
) -> Result<(Vec<T>, i64), sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let sql = format!("{select}{} ORDER BY {order}{}", w.sql(), page.limit_offset());
    let rows = bind_args_as(sqlx::query_as::<_, T>(&sql), &w.args).fetch_all(&db.pool).await?;
    // A first page that is not full holds every match: its length is the count. A week's notice
    // reads all its late problems at once, and counting them first cost 0.32 s of its 2 s at the
    // weekly pace of ten million problems.
    if page.page <= 1 && (rows.len() as i64) < page.size {
        let n = rows.len() as i64;
        return Ok((rows, n));
    }
    let total = count(db, from, w).await?;
    Ok((rows, total))
}

/// The backend's JSON functions for reading many rows as one: the aggregate, the row builder,
/// and the cast that makes the aggregate text. A query that would hand tens of thousands of rows
/// one by one from the driver's thread (which costs more than the query at ten million problems)
/// selects `{agg}({row}(…)){cast}` instead and reads the one value with `from_json`.
pub(crate) fn json_aggregate(db: &Db) -> (&'static str, &'static str, &'static str) {
    match db.backend {
        Backend::Sqlite => ("json_group_array", "json_array", ""),
        Backend::Postgres => ("json_agg", "json_build_array", "::text"),
    }
}

/// Rows aggregated into one JSON array (NULL: none), each deserialized from its columns in order.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(text: Option<String>) -> Result<Vec<T>, sqlx::Error> {
    match text {
        None => Ok(Vec::new()),
        Some(t) => serde_json::from_str(&t).map_err(|e| sqlx::Error::Decode(Box::new(e))),
    }
}
