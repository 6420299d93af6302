//! SQLite on threads of its own (issue 17): each operation's queries run in one closure on one
//! database thread, instead of one channel round trip per query through sqlx's driver.
//!
//! - **Readers**: a few threads (about the core count), each owning a read-only connection
//!   with its prepared statements cached, take [`Engine::read`] jobs from one queue.
//! - **The writer**: one thread owning the one read-write connection takes [`Engine::write`]
//!   jobs. The jobs waiting when a transaction starts run together in it, each in a
//!   SAVEPOINT of its own (**group commit**): one COMMIT, so one fsync, for all of them. A job
//!   that fails rolls back its savepoint alone; each caller is answered only after COMMIT
//!   returned, so that nothing acknowledged is ever lost; a COMMIT that fails answers its
//!   error to every job of the transaction, and none of them changed anything.
//! - **Checkpoints** leave the commit path: the writer's automatic checkpoint is off, and a
//!   thread of its own runs a passive checkpoint (which never waits) after commits. Once a
//!   checkpoint has emptied the log, the next commit starts it over, and SQLite cuts the file
//!   back to [`WAL_LIMIT_BYTES`]. Under a steady stream of reads and writes some reader is
//!   nearly always inside the log, so it would never be started over and would grow without
//!   end (3 GB in a 3-minute benchmark): when it holds more than [`WAL_LIMIT_BYTES`], the
//!   checkpointer runs a TRUNCATE checkpoint, which waits (a few milliseconds: jobs are short)
//!   until the readers have left the log, holding the writer back meanwhile, and empties the
//!   file. The log stays within its limit and what comes in between two checkpoints.
//! - Every connection maps the file (`mmap_size`), so that the pages come from the kernel's
//!   page cache, which a commit by another connection does not throw away.
//!
//! A closure must never wait: no `.await`, no sleep, no hashing, no mail. A panic in a job
//! answers its caller with an error and leaves the thread running.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// The most jobs one group commit takes: enough to share an fsync widely, few enough that a
/// job that just arrived waits for at most one such transaction.
pub const MAX_GROUP: usize = 64;
/// What the log file is cut back to after the checkpointer has emptied it.
pub const WAL_LIMIT_BYTES: i64 = 64 * 1024 * 1024;
/// What every connection maps of the file.
pub const MMAP_BYTES: i64 = 256 * 1024 * 1024;

/// Why a job did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A uniqueness rule was broken.
    #[error("a unique value is already taken")]
    Conflict,
    #[error("sqlite: {0}")]
    Sqlite(#[source] rusqlite::Error),
    /// The transaction's COMMIT failed: nothing of the job was kept.
    #[error("the transaction could not be committed: {0}")]
    Commit(String),
    /// The disk (or the file system's quota) is full: nothing of the job was kept.
    #[error("the disk is full: {0}")]
    DiskFull(String),
    /// The job panicked; its changes were rolled back.
    #[error("a database job panicked: {0}")]
    Panicked(String),
    /// The engine has stopped.
    #[error("the database threads have stopped")]
    Stopped,
    /// Anything the job itself reports.
    #[error("{0}")]
    Job(String),
}

/// Whether SQLite failed for want of space.
pub(crate) fn is_disk_full(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
}

impl EngineError {
    /// What each job of a transaction that could not be begun or committed is answered.
    fn as_commit_failure(&self) -> EngineError {
        match self {
            EngineError::Sqlite(e) if is_disk_full(e) => EngineError::DiskFull(e.to_string()),
            EngineError::DiskFull(m) => EngineError::DiskFull(m.clone()),
            other => EngineError::Commit(other.to_string()),
        }
    }
}

impl From<rusqlite::Error> for EngineError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
            {
                Self::Conflict
            }
            _ => Self::Sqlite(e),
        }
    }
}

pub type EngineResult<T> = Result<T, EngineError>;

/// What the writer does with a job once the transaction is over: answer its caller with the
/// job's result, or with the COMMIT's error.
type Answer = Box<dyn FnOnce(Option<&EngineError>) + Send>;
/// A write job: runs on the writer's connection, says whether it succeeded, and how to
/// answer.
type WriteJob = Box<dyn FnOnce(Result<&Connection, &EngineError>) -> (bool, Answer) + Send>;
type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

/// How many transactions and jobs the writer ran: group commit's measure.
#[derive(Debug, Default)]
pub struct WriterStats {
    pub transactions: AtomicU64,
    pub jobs: AtomicU64,
}

/// The database threads of one SQLite file.
pub struct Engine {
    /// The file, for the read-only connections opened where a read job runs.
    path: std::path::PathBuf,
    /// Held while the engine lives: a thread's inline connection to a closed engine is let go.
    alive: Arc<()>,
    /// `None` once closed: the threads end when their queue's last sender is gone.
    reads: Option<flume::Sender<ReadJob>>,
    writes: Option<flume::Sender<WriteJob>>,
    stats: Arc<WriterStats>,
    checkpoints: Arc<Checkpoints>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

/// The settings every connection gets.
fn prepare(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(())
}

impl Engine {
    /// Opens (creating it if needed) the file at `path` in WAL mode with `readers` reader
    /// threads and one writer.
    pub fn open(path: &Path, readers: usize) -> EngineResult<Self> {
        Self::open_with(path, readers, WAL_LIMIT_BYTES)
    }

    /// [`Engine::open`] with the log held below `wal_limit` bytes (tests use a small one).
    pub fn open_with(path: &Path, readers: usize, wal_limit: i64) -> EngineResult<Self> {
        let writer = Connection::open(path)?;
        prepare(&writer)?;
        // Another process may hold the file's write lock for a while (a second server
        // started on the same file by mistake, a `sqlite3` shell): the writer waits for it
        // rather than failing a stream of jobs at once.
        writer.busy_timeout(Duration::from_secs(30))?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        // Every commit is on disk before its callers hear of it.
        writer.pragma_update(None, "synchronous", "FULL")?;
        writer.pragma_update(None, "wal_autocheckpoint", 0)?;
        writer.pragma_update(None, "journal_size_limit", wal_limit)?;
        let stats = Arc::new(WriterStats::default());
        let checkpoints = Arc::new(Checkpoints {
            restart_above: wal_limit,
            ..Checkpoints::default()
        });
        let (writes, write_jobs) = flume::unbounded::<WriteJob>();
        let (reads, read_jobs) = flume::unbounded::<ReadJob>();
        let mut threads = Vec::new();
        for i in 0..readers.max(1) {
            let conn = open_reader(path)?;
            let jobs = read_jobs.clone();
            threads.push(spawn(&format!("roster-db-read-{i}"), move || {
                for job in jobs.iter() {
                    job(&conn);
                }
            })?);
        }
        let checkpointer = Connection::open(path)?;
        prepare(&checkpointer)?;
        let (w_stats, w_checkpoints) = (stats.clone(), checkpoints.clone());
        threads.push(spawn("roster-db-write", move || {
            write_loop(&writer, &write_jobs, &w_stats, &w_checkpoints);
            w_checkpoints.stop();
        })?);
        let c = checkpoints.clone();
        threads.push(spawn("roster-db-checkpoint", move || {
            c.run(&checkpointer);
        })?);
        Ok(Self {
            path: path.to_path_buf(),
            alive: Arc::new(()),
            reads: Some(reads),
            writes: Some(writes),
            stats,
            checkpoints,
            threads,
        })
    }

    /// Runs `f` on a read-only connection of the calling thread and answers what it returns.
    /// A read job is short (a few lookups, a page of rows): handing it to another thread
    /// and waiting for the answer cost more than the job itself (two thread switches, 15 %
    /// of a GET). Each thread that reads keeps a connection of its own (a tokio worker: one
    /// each), with its statements cached. A long read (a backup) goes to
    /// [`Engine::read_on_thread`].
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        E: From<EngineError>,
        F: FnOnce(&Connection) -> Result<T, E>,
    {
        INLINE.with(|cell| {
            let mut conns = cell.borrow_mut();
            conns.retain(|c| c.engine.strong_count() > 0);
            let i = match conns
                .iter()
                .position(|c| std::ptr::eq(c.engine.as_ptr(), Arc::as_ptr(&self.alive)))
            {
                Some(i) => i,
                None => {
                    let conn = open_reader(&self.path)?;
                    conns.push(Inline {
                        engine: Arc::downgrade(&self.alive),
                        conn,
                    });
                    conns.len() - 1
                }
            };
            let conn = &conns[i].conn;
            catch_unwind(AssertUnwindSafe(|| f(conn)))
                .unwrap_or_else(|p| Err(EngineError::Panicked(panic_text(&p)).into()))
        })
    }

    /// Runs `f` on a reader thread's connection (read-only) and answers what it returns: for
    /// a read that takes long, which must not hold up the caller's thread.
    pub async fn read_on_thread<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<EngineError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: ReadJob = Box::new(move |conn| {
            let out = catch_unwind(AssertUnwindSafe(|| f(conn)))
                .unwrap_or_else(|p| Err(EngineError::Panicked(panic_text(&p)).into()));
            let _ = tx.send(out);
        });
        let queue = self.reads.as_ref().ok_or(EngineError::Stopped)?;
        queue.send(job).map_err(|_| EngineError::Stopped)?;
        rx.await.map_err(|_| EngineError::Stopped)?
    }

    /// Runs `f` on the writer's connection inside a savepoint of a transaction it may share
    /// with other jobs, and answers once that transaction committed: `f`'s result, or the
    /// commit's error. When `f` fails, its changes are rolled back, and the others' kept.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<EngineError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let job: WriteJob = Box::new(move |conn| {
            let out = match conn {
                Ok(conn) => catch_unwind(AssertUnwindSafe(|| f(conn)))
                    .unwrap_or_else(|p| Err(EngineError::Panicked(panic_text(&p)).into())),
                // The transaction could not be had: the job never ran.
                Err(e) => Err(e.as_commit_failure().into()),
            };
            let ok = out.is_ok();
            let answer: Answer = Box::new(move |commit| {
                let _ = tx.send(match commit {
                    Some(e) => Err(e.as_commit_failure().into()),
                    None => out,
                });
            });
            (ok, answer)
        });
        let queue = self.writes.as_ref().ok_or(EngineError::Stopped)?;
        queue.send(job).map_err(|_| EngineError::Stopped)?;
        rx.await.map_err(|_| EngineError::Stopped)?
    }

    /// Write jobs waiting for the writer.
    pub fn queued_writes(&self) -> usize {
        self.writes.as_ref().map_or(0, flume::Sender::len)
    }

    /// Transactions and jobs the writer has run.
    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Checkpoints the checkpointer has run.
    /// How many times the log was started over because it had grown too large.
    pub fn log_restarts(&self) -> u64 {
        self.checkpoints.restarts.load(Ordering::Relaxed)
    }

    pub fn checkpoints_run(&self) -> u64 {
        self.checkpoints.done.load(Ordering::Relaxed)
    }
}

impl Drop for Engine {
    /// Stops taking jobs, lets the queued ones finish, and waits for the threads.
    fn drop(&mut self) {
        self.reads = None;
        self.writes = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// A read-only connection to `path`, prepared like every other.
fn open_reader(path: &Path) -> EngineResult<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    prepare(&conn)?;
    Ok(conn)
}

/// A thread's read-only connection to one engine's file.
struct Inline {
    engine: std::sync::Weak<()>,
    conn: Connection,
}

thread_local! {
    /// The read-only connections of this thread, one an engine it has read from.
    static INLINE: std::cell::RefCell<Vec<Inline>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> EngineResult<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map_err(|e| EngineError::Job(format!("cannot start a database thread: {e}")))
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

/// The writer's loop: a transaction for the jobs waiting, one savepoint each.
fn write_loop(
    conn: &Connection,
    jobs: &flume::Receiver<WriteJob>,
    stats: &WriterStats,
    checkpoints: &Checkpoints,
) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let answers = run_group(conn, group);
        stats.transactions.fetch_add(1, Ordering::Relaxed);
        stats
            .jobs
            .fetch_add(answers.1.len() as u64, Ordering::Relaxed);
        let commit = answers.0;
        for answer in answers.1 {
            answer(commit.as_ref().err());
        }
        if commit.is_ok() {
            checkpoints.committed();
        }
    }
}

/// Runs a group in one transaction: the COMMIT's outcome, and every job's answer.
fn run_group(conn: &Connection, group: Vec<WriteJob>) -> (EngineResult<()>, Vec<Answer>) {
    let mut answers = Vec::with_capacity(group.len());
    let mut jobs = group.into_iter();
    let mut failure: Option<EngineError> =
        conn.execute_batch("BEGIN IMMEDIATE").err().map(Into::into);
    if failure.is_none() {
        for job in jobs.by_ref() {
            if let Err(e) = conn.execute_batch("SAVEPOINT job") {
                let e = EngineError::from(e);
                answers.push(job(Err(&e)).1);
                failure = Some(e);
                break;
            }
            let (ok, answer) = job(Ok(conn));
            answers.push(answer);
            let end = if ok {
                "RELEASE job"
            } else {
                "ROLLBACK TO job; RELEASE job"
            };
            if let Err(e) = conn.execute_batch(end) {
                failure = Some(e.into());
                break;
            }
        }
        if failure.is_none() {
            failure = conn.execute_batch("COMMIT").err().map(Into::into);
        }
    }
    match failure {
        None => (Ok(()), answers),
        Some(e) => {
            // Nothing of the group is kept, and every caller hears of it.
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            for job in jobs {
                answers.push(job(Err(&e)).1);
            }
            (Err(e), answers)
        }
    }
}

/// The checkpointer's state: commits since its last checkpoint, and whether to stop.
#[derive(Default)]
struct Checkpoints {
    state: Mutex<(u64, bool)>,
    wake: Condvar,
    done: AtomicU64,
    /// A log larger than this many bytes is emptied by a TRUNCATE checkpoint.
    restart_above: i64,
    restarts: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Checkpoints {
    fn committed(&self) {
        lock(&self.state).0 += 1;
        self.wake.notify_one();
    }

    fn stop(&self) {
        lock(&self.state).1 = true;
        self.wake.notify_one();
    }

    /// Passive checkpoints (they never wait for a reader or block the writer), at most one
    /// every `PAUSE`, while commits come; one more at the end. A log that has grown past
    /// `restart_above` gets a TRUNCATE checkpoint instead.
    fn run(&self, conn: &Connection) {
        const PAUSE: Duration = Duration::from_millis(100);
        let page: i64 = conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap_or(4096);
        loop {
            let mut state = lock(&self.state);
            while state.0 == 0 && !state.1 {
                state = self
                    .wake
                    .wait(state)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            let stopping = state.1;
            state.0 = 0;
            drop(state);
            // (busy, frames in the log, frames copied to the database)
            let frames: i64 = conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
                .unwrap_or(0);
            if frames.saturating_mul(page) > self.restart_above {
                // Waits for the readers to leave the log, on the connection's busy timeout,
                // then empties the file; when it gives up, the next round tries again.
                if conn
                    .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                        r.get::<_, i64>(0)
                    })
                    .is_ok_and(|busy| busy == 0)
                {
                    self.restarts.fetch_add(1, Ordering::Relaxed);
                }
            }
            self.done.fetch_add(1, Ordering::Relaxed);
            if stopping {
                return;
            }
            std::thread::sleep(PAUSE);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    type Job = Box<dyn FnOnce(&Connection) -> EngineResult<()> + Send>;

    fn open(dir: &tempfile::TempDir) -> Arc<Engine> {
        Arc::new(Engine::open(&dir.path().join("roster.db"), 2).unwrap())
    }

    async fn setup(e: &Engine, sql: &'static str) {
        e.write(move |c| -> EngineResult<()> { Ok(c.execute_batch(sql)?) })
            .await
            .unwrap();
    }

    async fn ids(e: &Engine, table: &'static str) -> Vec<i64> {
        e.read(move |c| -> EngineResult<Vec<i64>> {
            let mut s = c.prepare_cached(&format!("SELECT id FROM {table} ORDER BY id"))?;
            let rows = s.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<Result<Vec<i64>, _>>()?)
        })
        .await
        .unwrap()
    }

    /// Holds the writer in a job until the returned sender is dropped or sent to, then
    /// waits until `queued` more jobs wait behind it: they run as one group.
    async fn hold_writer(
        e: &Arc<Engine>,
    ) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = tokio::sync::oneshot::channel();
        let e2 = e.clone();
        let task = tokio::spawn(async move {
            e2.write(move |_| -> EngineResult<()> {
                let _ = started_tx.send(());
                let _ = held.recv();
                Ok(())
            })
            .await
            .unwrap();
        });
        started.await.unwrap();
        (release, task)
    }

    async fn queued(e: &Engine, n: usize) {
        for _ in 0..500 {
            if e.queued_writes() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("{n} writes never queued");
    }

    fn insert(table: &'static str, id: i64) -> impl FnOnce(&Connection) -> EngineResult<()> {
        move |c| {
            c.prepare_cached(&format!("INSERT INTO {table} (id) VALUES (?1)"))?
                .execute([id])?;
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_job_in_a_group_rolls_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let e = open(&dir);
        setup(&e, "CREATE TABLE t (id INTEGER PRIMARY KEY)").await;
        let (release, held) = hold_writer(&e).await;
        let before = e.stats().transactions.load(Ordering::Relaxed);
        let spawn = |f: Job| {
            let e = e.clone();
            tokio::spawn(async move { e.write(f).await })
        };
        let a = spawn(Box::new(insert("t", 1)));
        queued(&e, 1).await;
        let b = spawn(Box::new(|c| {
            insert("t", 2)(c)?;
            Err(EngineError::Job("refused after its insert".into()))
        }));
        queued(&e, 2).await;
        let c = spawn(Box::new(insert("t", 3)));
        queued(&e, 3).await;
        release.send(()).unwrap();
        held.await.unwrap();
        assert!(a.await.unwrap().is_ok());
        assert!(matches!(b.await.unwrap(), Err(EngineError::Job(_))));
        assert!(c.await.unwrap().is_ok());
        assert_eq!(ids(&e, "t").await, [1, 3]);
        // The held job's transaction, then one for the three.
        assert_eq!(e.stats().transactions.load(Ordering::Relaxed), before + 2);
        // A conflict is a conflict, and fails its job alone.
        let again = e.write(insert("t", 1)).await;
        assert!(matches!(again, Err(EngineError::Conflict)), "{again:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_commit_answers_every_job_and_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let e = open(&dir);
        setup(
            &e,
            "CREATE TABLE parent (id INTEGER PRIMARY KEY);
             CREATE TABLE child (id INTEGER PRIMARY KEY,
                 parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)",
        )
        .await;
        let (release, held) = hold_writer(&e).await;
        let jobs: Vec<Job> = vec![
            Box::new(insert("parent", 1)),
            // Fine until COMMIT checks the deferred key.
            Box::new(|c| {
                c.execute("INSERT INTO child (id, parent) VALUES (1, 99)", [])?;
                Ok(())
            }),
            Box::new(insert("parent", 2)),
        ];
        let mut tasks = Vec::new();
        for (n, job) in jobs.into_iter().enumerate() {
            let e2 = e.clone();
            tasks.push(tokio::spawn(async move { e2.write(job).await }));
            queued(&e, n + 1).await;
        }
        release.send(()).unwrap();
        held.await.unwrap();
        for t in tasks {
            let got = t.await.unwrap();
            assert!(matches!(got, Err(EngineError::Commit(_))), "{got:?}");
        }
        assert!(ids(&e, "parent").await.is_empty());
        assert!(ids(&e, "child").await.is_empty());
        // The writer goes on.
        e.write(insert("parent", 3)).await.unwrap();
        assert_eq!(ids(&e, "parent").await, [3]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writers_and_readers_lose_nothing_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roster.db");
        let e = Arc::new(Engine::open(&path, 2).unwrap());
        setup(&e, "CREATE TABLE t (id INTEGER PRIMARY KEY)").await;
        let mut tasks = Vec::new();
        for w in 0..8i64 {
            let e = e.clone();
            tasks.push(tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                for i in 0..40 {
                    let id = w * 1000 + i;
                    e.write(insert("t", id)).await.unwrap();
                    acknowledged.push(id);
                    // A reader sees its own acknowledged write at once.
                    let seen = e
                        .read(move |c| -> EngineResult<i64> {
                            Ok(
                                c.query_row("SELECT count(*) FROM t WHERE id = ?1", [id], |r| {
                                    r.get::<_, i64>(0)
                                })?,
                            )
                        })
                        .await
                        .unwrap();
                    assert_eq!(seen, 1);
                }
                acknowledged
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        let jobs = e.stats().jobs.load(Ordering::Relaxed);
        let transactions = e.stats().transactions.load(Ordering::Relaxed);
        assert!(transactions <= jobs);
        drop(e);
        // Reopened from the file: every acknowledged row is there.
        let again = Engine::open(&path, 1).unwrap();
        all.sort_unstable();
        assert_eq!(ids(&again, "t").await, all);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn readers_cannot_write_and_a_panic_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = open(&dir);
        setup(&e, "CREATE TABLE t (id INTEGER PRIMARY KEY)").await;
        let got = e.read(insert("t", 1)).await;
        assert!(matches!(got, Err(EngineError::Sqlite(_))), "{got:?}");
        let got = e.read_on_thread(insert("t", 2)).await;
        assert!(matches!(got, Err(EngineError::Sqlite(_))), "{got:?}");
        let got: EngineResult<()> = e.write(|_| panic!("a bug")).await;
        assert!(
            matches!(&got, Err(EngineError::Panicked(m)) if m == "a bug"),
            "{got:?}"
        );
        let got: EngineResult<()> = e.read(|_| panic!("another")).await;
        assert!(matches!(got, Err(EngineError::Panicked(_))));
        let got: EngineResult<()> = e.read_on_thread(|_| panic!("a third")).await;
        assert!(matches!(got, Err(EngineError::Panicked(_))));
        // Every kind of reader and the writer still work.
        e.write(insert("t", 7)).await.unwrap();
        assert_eq!(ids(&e, "t").await, [7]);
        let on_thread = e
            .read_on_thread(|c| -> EngineResult<i64> {
                Ok(c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?)
            })
            .await
            .unwrap();
        assert_eq!(on_thread, 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checkpoints_run_off_the_commit_path() {
        let dir = tempfile::tempdir().unwrap();
        let e = open(&dir);
        setup(&e, "CREATE TABLE t (id INTEGER PRIMARY KEY)").await;
        for i in 0..20 {
            e.write(insert("t", i)).await.unwrap();
        }
        for _ in 0..200 {
            if e.checkpoints_run() > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(e.checkpoints_run() > 0);
        let mmap: i64 = e
            .read(|c| -> EngineResult<i64> {
                Ok(c.query_row("PRAGMA mmap_size", [], |r| r.get(0))?)
            })
            .await
            .unwrap();
        assert_eq!(mmap, MMAP_BYTES);
    }

    /// Readers that are always inside the log keep a passive checkpoint from ever starting
    /// it over; the log is held near its limit all the same, and nothing written is lost.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_stays_bounded_under_steady_reads() {
        const LIMIT: i64 = 256 * 1024;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roster.db");
        let e = Arc::new(Engine::open_with(&path, 2, LIMIT).unwrap());
        setup(&e, "CREATE TABLE t (id INTEGER PRIMARY KEY, pad TEXT)").await;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut readers = Vec::new();
        for _ in 0..4 {
            let (e, stop) = (e.clone(), stop.clone());
            readers.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    e.read(|c| -> EngineResult<i64> {
                        Ok(c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?)
                    })
                    .await
                    .unwrap();
                    // A read runs where it is called, without yielding: let the writer's
                    // answers through, as a request's other awaits would.
                    tokio::task::yield_now().await;
                }
            }));
        }
        let wal = dir.path().join("roster.db-wal");
        let size = || std::fs::metadata(&wal).map_or(0, |m| m.len());
        for i in 0..4_000i64 {
            e.write(move |c| -> EngineResult<()> {
                c.execute(
                    "INSERT INTO t (id, pad) VALUES (?1, ?2)",
                    rusqlite::params![i, "x".repeat(2_000)],
                )?;
                Ok(())
            })
            .await
            .unwrap();
        }
        // Never started over, the log would keep every write (over 30 MB) for as long as the
        // readers go on; bounded, it is emptied once the checkpointer has caught up.
        let mut waited = 0;
        while size() > LIMIT as u64 && waited < 500 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            waited += 1;
        }
        let left = size();
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            r.await.unwrap();
        }
        assert!(e.log_restarts() > 0, "the log was never started over");
        assert!(
            left <= LIMIT as u64,
            "the log holds {left} bytes with a limit of {LIMIT}"
        );
        assert_eq!(ids(&e, "t").await.len(), 4_000);
    }
}
