//! The durable outbox of the Chaos Toolkit notifier: notifications an endpoint did not
//! take (or that a killed process had not delivered yet) kept in a SQLite file, for
//! `notifier outbox list / replay / drop`.
//!
//! [`SqliteOutbox`] implements [`notifier_core::outbox::Outbox`], the hook the
//! dispatcher writes to (plug it in with `NotifierBuilder::outbox`). The file is opened
//! in WAL mode with `synchronous=FULL`, a busy timeout, and every write in a
//! `BEGIN IMMEDIATE` transaction, so several processes (two `send`s and a `replay`)
//! share it safely; it can be inspected with `sqlite3`. Its directory is created 0700
//! and the file 0600 (SQLite gives its `-wal` and `-shm` files the same mode).
//!
//! No resolved secret is ever written: an entry holds the envelope (event and payload,
//! the bytes chaostoolkit-lib would POST), the settings file, the channel's position,
//! label (credentials masked) and fingerprint, the message id, the state and the last
//! error as the delivery report shows it (secrets masked).

#![warn(missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use notifier_core::outbox::{Outbox, OutboxError, OutboxOp, OutboxRecord, Written};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// Default cap on the number of entries (delivered ones are pruned first).
pub const DEFAULT_MAX_ENTRIES: u64 = 10_000;
/// Default cap on the envelopes' total size, in bytes (64 MiB).
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// How long a process waits for another one's write lock.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a replay holds the entries it is sending.
pub const REPLAY_LEASE: Duration = Duration::from_secs(600);
/// The schema version (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outbox (
    id          TEXT PRIMARY KEY,
    message_id  TEXT NOT NULL,
    created     REAL NOT NULL,
    updated     REAL NOT NULL,
    event       TEXT NOT NULL,
    envelope    BLOB NOT NULL,
    settings    TEXT NOT NULL,
    channel     INTEGER NOT NULL,
    label       TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'delivered')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    owner       INTEGER,
    lease_until REAL
);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox (state, created);
";

/// Why the outbox cannot be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Its directory or file cannot be created, or its permissions set.
    #[error("outbox {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// SQLite refused it: not a database (corrupt), locked for longer than the busy
    /// timeout, a disk error.
    #[error("outbox {}: {source}", path.display())]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// Written by a newer notifier.
    #[error("outbox {}: schema version {found}, this notifier knows version {SCHEMA_VERSION}", path.display())]
    Version {
        /// The file.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
    },
    /// No per-user location: neither `XDG_STATE_HOME` nor `HOME` is set.
    #[error("no outbox location: set XDG_STATE_HOME or HOME, or pass --outbox PATH")]
    NoLocation,
}

/// Caps of an outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most entries kept.
    pub max_entries: u64,
    /// Most envelope bytes kept.
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_entries: DEFAULT_MAX_ENTRIES, max_bytes: DEFAULT_MAX_BYTES }
    }
}

/// The state of a stored notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Not delivered (yet): recorded before an attempt, or its delivery failed.
    Pending,
    /// Delivered (kept until pruned or dropped).
    Delivered,
}

/// One stored notification.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Entry {
    /// Stable id: the event's message id and the channel's number.
    pub id: String,
    /// The message id (`webhook-id` of signing channels).
    pub message_id: String,
    /// Unix time the notification was made.
    pub created: f64,
    /// Unix time of the last change.
    pub updated: f64,
    /// The event name.
    pub event: String,
    /// The envelope's wire bytes.
    #[serde(skip)]
    pub envelope: Vec<u8>,
    /// The settings file.
    pub settings: String,
    /// The channel's 0-based position in `notifications`.
    pub channel: usize,
    /// The channel's label, credentials masked.
    pub label: String,
    /// The fingerprint of the channel's definition.
    pub fingerprint: String,
    /// Pending or delivered.
    pub state: State,
    /// HTTP attempts made so far, all processes together (plugin channels count none).
    pub attempts: u32,
    /// The last error, secrets masked.
    pub last_error: Option<String>,
    /// The process attempting it now, if any.
    pub owner: Option<u32>,
    /// Until when that process may be attempting it (Unix time).
    pub lease_until: Option<f64>,
}

impl Entry {
    /// Whether a process is (or may still be) attempting it: its lease is running and
    /// its owner is alive.
    pub fn in_flight(&self, now: f64) -> bool {
        match (self.owner, self.lease_until) {
            (Some(owner), Some(until)) => until > now && (owner == std::process::id() || process_alive(owner)),
            _ => false,
        }
    }
}

/// Which entries a command works on.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Channel: its number in the settings file (1-based) or a part of its label.
    pub channel: Option<String>,
    /// Event name.
    pub event: Option<String>,
}

impl Filter {
    fn matches(&self, e: &Entry) -> bool {
        let channel = self.channel.as_deref().is_none_or(|c| match c.parse::<usize>() {
            Ok(n) => e.channel + 1 == n,
            Err(_) => e.label.contains(c),
        });
        channel && self.event.as_deref().is_none_or(|ev| e.event == ev)
    }
}

/// A SQLite outbox file. See the [crate docs](crate).
pub struct SqliteOutbox {
    path: PathBuf,
    conn: Mutex<Connection>,
    limits: Limits,
}

impl std::fmt::Debug for SqliteOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteOutbox").field("path", &self.path).field("limits", &self.limits).finish_non_exhaustive()
    }
}

/// The per-user default location: `$XDG_STATE_HOME/notifier/outbox.sqlite3`, else
/// `~/.local/state/notifier/outbox.sqlite3`.
pub fn default_path() -> Result<PathBuf, StoreError> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty() && Path::new(v).is_absolute())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| Path::new(&h).join(".local/state")))
        .ok_or(StoreError::NoLocation)?;
    Ok(state.join("notifier").join("outbox.sqlite3"))
}

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64()
}

/// Whether process `pid` exists (on this host).
pub fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
        // SAFETY: signal 0 only checks that the process exists and may be signalled.
        let r = unsafe { libc::kill(pid, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

impl SqliteOutbox {
    /// Opens (creating if needed) the outbox at `path`: directory 0700, file 0600, WAL,
    /// `synchronous=FULL`, a busy timeout of [`BUSY_TIMEOUT`]. Fails on a file that is
    /// not a SQLite database, or one locked for longer than the busy timeout.
    pub fn open(path: impl Into<PathBuf>) -> Result<SqliteOutbox, StoreError> {
        let path = path.into();
        let path = std::path::absolute(&path).unwrap_or(path);
        let io = |source| StoreError::Io { path: path.clone(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
            create_private_dir(dir).map_err(io)?;
        }
        create_private_file(&path).map_err(io)?;
        let sql = |source| StoreError::Sqlite { path: path.clone(), source };
        let conn = Connection::open(&path).map_err(sql)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(sql)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(sql)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(sql)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Version { path, found: version });
        }
        if version < SCHEMA_VERSION {
            conn.execute_batch(&format!("BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"))
                .map_err(sql)?;
        }
        Ok(SqliteOutbox { path, conn: Mutex::new(conn), limits: Limits::default() })
    }

    /// Opens the outbox at the per-user [`default_path`].
    pub fn open_default() -> Result<SqliteOutbox, StoreError> {
        SqliteOutbox::open(default_path()?)
    }

    /// Other caps than [`Limits::default`].
    pub fn with_limits(mut self, limits: Limits) -> SqliteOutbox {
        self.limits = limits;
        self
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn sql(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite { path: self.path.clone(), source }
    }

    /// Every entry matching `filter` (pending ones only unless `all`), oldest first.
    pub fn list(&self, filter: &Filter, all: bool) -> Result<Vec<Entry>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT id, message_id, created, updated, event, envelope, settings, channel, label, fingerprint,
                        state, attempts, last_error, owner, lease_until
                 FROM outbox WHERE (?1 OR state = 'pending') ORDER BY created, id",
            )
            .map_err(|e| self.sql(e))?;
        let rows = stmt.query_map([all], row_to_entry).map_err(|e| self.sql(e))?;
        let mut out = Vec::new();
        for row in rows {
            let entry = row.map_err(|e| self.sql(e))?;
            if filter.matches(&entry) {
                out.push(entry);
            }
        }
        Ok(out)
    }

    /// Takes the pending entries matching `filter` that no live process is attempting,
    /// for a replay: they are leased to this process for [`REPLAY_LEASE`], so a
    /// concurrent replay (or `send --replay-outbox`) does not send them too.
    pub fn claim(&self, filter: &Filter) -> Result<Vec<Entry>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| self.sql(e))?;
        let t = now();
        let candidates: Vec<Entry> = {
            let mut stmt = tx
                .prepare(
                    "SELECT id, message_id, created, updated, event, envelope, settings, channel, label, fingerprint,
                            state, attempts, last_error, owner, lease_until
                     FROM outbox WHERE state = 'pending' ORDER BY created, id",
                )
                .map_err(|e| self.sql(e))?;
            let rows = stmt.query_map([], row_to_entry).map_err(|e| self.sql(e))?;
            rows.filter_map(Result::ok).filter(|e| filter.matches(e) && !e.in_flight(t)).collect()
        };
        let lease = t + REPLAY_LEASE.as_secs_f64();
        for e in &candidates {
            tx.execute(
                "UPDATE outbox SET owner = ?1, lease_until = ?2 WHERE id = ?3",
                params![std::process::id(), lease, e.id],
            )
            .map_err(|e| self.sql(e))?;
        }
        tx.commit().map_err(|e| self.sql(e))?;
        Ok(candidates)
    }

    /// Marks an entry delivered (after a replay's 2xx).
    pub fn mark_delivered(&self, id: &str, attempts: u32) -> Result<(), StoreError> {
        self.write(&[OutboxOp::Delivered { id: id.to_owned(), attempts }]).map(drop).map_err(|e| self.other(e))
    }

    /// Leaves an entry pending with `reason` as its last error, and releases it.
    pub fn mark_failed(&self, id: &str, reason: &str, attempts: u32) -> Result<(), StoreError> {
        self.write(&[OutboxOp::Failed { id: id.to_owned(), reason: reason.to_owned(), attempts }])
            .map(drop)
            .map_err(|e| self.other(e))
    }

    fn other(&self, e: OutboxError) -> StoreError {
        StoreError::Io { path: self.path.clone(), source: std::io::Error::other(e.0) }
    }

    /// Removes the entries with these ids; returns how many existed.
    pub fn drop_ids(&self, ids: &[String]) -> Result<usize, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| self.sql(e))?;
        let mut n = 0;
        for id in ids {
            n += tx.execute("DELETE FROM outbox WHERE id = ?1", [id]).map_err(|e| self.sql(e))?;
        }
        tx.commit().map_err(|e| self.sql(e))?;
        Ok(n)
    }

    /// Removes the delivered entries (`all`: every entry); returns how many.
    pub fn drop_where(&self, all: bool) -> Result<usize, StoreError> {
        let sql = if all { "DELETE FROM outbox" } else { "DELETE FROM outbox WHERE state = 'delivered'" };
        self.conn().execute(sql, []).map_err(|e| self.sql(e))
    }

    fn apply(&self, ops: &[OutboxOp]) -> Result<Written, rusqlite::Error> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let t = now();
        let mut written = Written::default();
        let mut usage: Option<(u64, u64)> = None;
        for op in ops {
            match op {
                OutboxOp::Record(r) => {
                    let (count, bytes) = match usage {
                        Some(u) => u,
                        None => tx.query_row(
                            "SELECT count(*), coalesce(sum(length(envelope)), 0) FROM outbox",
                            [],
                            |row| Ok((row.get::<_, i64>(0)? as u64, row.get::<_, i64>(1)? as u64)),
                        )?,
                    };
                    let (count, bytes) = make_room(&tx, self.limits, count, bytes, r.envelope.len() as u64)?;
                    if count + 1 > self.limits.max_entries || bytes + r.envelope.len() as u64 > self.limits.max_bytes {
                        written.refused += 1;
                        usage = Some((count, bytes));
                        continue;
                    }
                    let inserted = insert(&tx, r, t)?;
                    usage = Some(if inserted { (count + 1, bytes + r.envelope.len() as u64) } else { (count, bytes) });
                }
                OutboxOp::Delivered { id, attempts } => {
                    tx.execute(
                        "UPDATE outbox SET state = 'delivered', attempts = attempts + ?1, last_error = NULL,
                                owner = NULL, lease_until = NULL, updated = ?2 WHERE id = ?3",
                        params![attempts, t, id],
                    )?;
                }
                OutboxOp::Failed { id, reason, attempts } => {
                    tx.execute(
                        "UPDATE outbox SET attempts = attempts + ?1, last_error = ?2, owner = NULL,
                                lease_until = NULL, updated = ?3 WHERE id = ?4 AND state = 'pending'",
                        params![attempts, reason, t, id],
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(written)
    }
}

/// Prunes the oldest delivered entries until one more record of `size` bytes fits (or
/// none is left); returns the new usage.
fn make_room(
    tx: &rusqlite::Transaction<'_>,
    limits: Limits,
    mut count: u64,
    mut bytes: u64,
    size: u64,
) -> Result<(u64, u64), rusqlite::Error> {
    while count + 1 > limits.max_entries || bytes + size > limits.max_bytes {
        let oldest: Option<(String, i64)> = tx
            .query_row(
                "SELECT id, length(envelope) FROM outbox WHERE state = 'delivered' ORDER BY updated, id LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((id, len)) = oldest else { break };
        tx.execute("DELETE FROM outbox WHERE id = ?1", [id])?;
        count -= 1;
        bytes = bytes.saturating_sub(len as u64);
    }
    Ok((count, bytes))
}

/// Inserts a record, or (same id: it was recorded before an attempt that never
/// reached a worker) updates it. Returns whether a row was added.
fn insert(tx: &rusqlite::Transaction<'_>, r: &OutboxRecord, t: f64) -> Result<bool, rusqlite::Error> {
    let settings = std::path::absolute(&r.channel.file)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| r.channel.file.clone());
    let (owner, lease) = match r.lease_secs {
        Some(secs) => (Some(std::process::id()), Some(t + secs)),
        None => (None, None),
    };
    let existed: bool =
        tx.query_row("SELECT count(*) FROM outbox WHERE id = ?1", [&r.id], |row| row.get::<_, i64>(0))? > 0;
    tx.execute(
        "INSERT INTO outbox (id, message_id, created, updated, event, envelope, settings, channel, label,
                             fingerprint, state, attempts, last_error, owner, lease_until)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'pending', ?11, ?12, ?13, ?14)
         ON CONFLICT(id) DO UPDATE SET attempts = attempts + excluded.attempts, last_error = excluded.last_error,
             owner = excluded.owner, lease_until = excluded.lease_until, updated = excluded.updated",
        params![
            r.id,
            r.message_id,
            r.created,
            t,
            r.event.name(),
            &r.envelope[..],
            settings,
            r.channel.index as i64,
            r.channel.label,
            r.channel.fingerprint,
            r.attempts,
            r.failed,
            owner,
            lease,
        ],
    )?;
    Ok(!existed)
}

fn row_to_entry(row: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    let state: String = row.get(10)?;
    Ok(Entry {
        id: row.get(0)?,
        message_id: row.get(1)?,
        created: row.get(2)?,
        updated: row.get(3)?,
        event: row.get(4)?,
        envelope: row.get(5)?,
        settings: row.get(6)?,
        channel: row.get::<_, i64>(7)? as usize,
        label: row.get(8)?,
        fingerprint: row.get(9)?,
        state: if state == "delivered" { State::Delivered } else { State::Pending },
        attempts: row.get(11)?,
        last_error: row.get(12)?,
        owner: row.get(13)?,
        lease_until: row.get(14)?,
    })
}

impl Outbox for SqliteOutbox {
    fn write(&self, ops: &[OutboxOp]) -> Result<Written, OutboxError> {
        self.apply(ops).map_err(|e| OutboxError(format!("{}: {e}", self.path.display())))
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates the file 0600 if it does not exist (before SQLite does, with the umask's mode).
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop)
}
