//! Privacy: sealing keys and sealed data, retention, data requests.

pub mod commands;
pub mod keys;
pub mod retention;
pub mod subjects;

use std::sync::Arc;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};
use tokio::sync::watch;
use tokio::time::Instant;

pub use keys::{KeyRing, SealError, SubjectKey};

use crate::config::Config;
use crate::storage::Store;

/// How often the privacy worker wakes up.
const TICK: Duration = Duration::from_secs(60);
/// Subjects re-wrapped per tick after a key rotation.
const REWRAP_PER_TICK: i64 = 500;
/// The first purge waits this long after start (or the purge interval, if
/// shorter), so a starting server first serves.
const FIRST_PURGE_AFTER: Duration = Duration::from_secs(5 * 60);
/// The PostgreSQL advisory lock whose holder runs background privacy work.
const PG_WORKER_LOCK: i64 = 0x4652_4f4e_5052_5256;

/// Starts the background privacy work: every minute, re-wrap up to 500
/// subjects whose data key is under an older key version; every
/// `retention.purge_every_minutes`, purge what is past retention. On
/// PostgreSQL only the node holding the advisory lock does it. Ends when
/// `closing` turns true.
pub fn spawn_worker(
    store: Store,
    config: Arc<Config>,
    ring: Arc<KeyRing>,
    mut closing: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = Duration::from_secs(u64::from(config.retention.purge_every_minutes) * 60);
        let mut next_purge = Instant::now() + every.min(FIRST_PURGE_AFTER);
        let mut leader = Leader::new(&store);
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = closing.wait_for(|c| *c) => break,
            }
            if !leader.hold().await {
                continue;
            }
            // A rotation done while we run adds a version to the key file.
            match ring.refresh() {
                Ok(true) => {
                    tracing::info!(version = ring.current_version(), "new key version loaded")
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "cannot re-read the key file"),
            }
            match subjects::rewrap_batch(&store, &ring, REWRAP_PER_TICK, "keys").await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    subjects = n,
                    "re-wrapped data keys under the current key version"
                ),
                Err(e) => tracing::warn!(error = %e, "re-wrapping data keys failed; will retry"),
            }
            if Instant::now() >= next_purge {
                next_purge = Instant::now() + every;
                match retention::purge(&store, &config.retention, false).await {
                    Ok(r) if r.is_empty() => {}
                    Ok(r) => tracing::info!(
                        raw_text = r.raw_text,
                        contact = r.contact,
                        feedback = r.feedback,
                        subjects = r.subjects,
                        "retention purge"
                    ),
                    Err(e) => tracing::warn!(error = %e, "retention purge failed; will retry"),
                }
            }
        }
        leader.release().await;
    })
}

/// Whether this node runs the background work: always on SQLite (one
/// file, one server); on PostgreSQL, while it holds the advisory lock on a
/// connection of its own.
pub(crate) enum Leader {
    Sqlite,
    Postgres {
        pool: PgPool,
        conn: Option<PoolConnection<Postgres>>,
        lock: i64,
        work: &'static str,
    },
}

impl Leader {
    fn new(store: &Store) -> Self {
        Self::with_lock(store, PG_WORKER_LOCK, "the background privacy work")
    }

    /// A leader for other background work, under its own advisory lock.
    pub(crate) fn with_lock(store: &Store, lock: i64, work: &'static str) -> Self {
        match store {
            Store::Sqlite { .. } => Leader::Sqlite,
            Store::Postgres(pool) => Leader::Postgres {
                pool: pool.clone(),
                conn: None,
                lock,
                work,
            },
        }
    }

    pub(crate) async fn hold(&mut self) -> bool {
        let Leader::Postgres {
            pool,
            conn,
            lock,
            work,
        } = self
        else {
            return true;
        };
        if let Some(c) = conn {
            if sqlx::query("SELECT 1").execute(&mut **c).await.is_ok() {
                return true;
            }
            // The session ended, and the lock with it: try again below.
            if let Some(c) = conn.take() {
                drop(c.detach());
            }
        }
        let Ok(mut c) = pool.acquire().await else {
            return false;
        };
        // Advisory locks are per database: the key is mixed with the schema so
        // that deployments sharing a database in schemas of their own each
        // elect their own leader.
        match sqlx::query_scalar::<_, bool>(
            "SELECT pg_try_advisory_lock($1::bigint # hashtext(current_schema())::bigint)",
        )
        .bind(*lock)
        .fetch_one(&mut *c)
        .await
        {
            Ok(true) => {
                tracing::info!("this node runs {work}");
                *conn = Some(c);
                true
            }
            _ => false,
        }
    }

    pub(crate) async fn release(self) {
        if let Leader::Postgres {
            conn: Some(mut c),
            lock,
            ..
        } = self
        {
            let unlocked = sqlx::query(
                "SELECT pg_advisory_unlock($1::bigint # hashtext(current_schema())::bigint)",
            )
            .bind(lock)
            .execute(&mut *c)
            .await;
            if unlocked.is_err() {
                // Never hand a locked session back to the pool.
                drop(c.detach());
            }
        }
    }
}
