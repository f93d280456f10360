//! One storage interface with two implementations: SQLite (embedded default)
//! and PostgreSQL. Domain code writes SQL once, with `$1` placeholders, which
//! both dialects accept; values and rows pass through small portable types.

pub mod alerts;
pub mod audiences;
mod audit;
pub mod feedback;
pub mod incidents;
pub mod indicators;
pub mod overview;
pub mod response;
mod roles;
pub mod scorecard;
mod sessions;
pub mod signals;
pub mod sla;
pub mod status;
pub mod surveys;
pub mod tickets;
pub(crate) mod tokens;
pub(crate) mod users;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool};

pub use audit::{AuditEntry, AuditPage, AuditRecord, Verification};
pub use roles::Role;
pub use sessions::SessionPrincipal;
pub use tokens::{ApiToken, NewToken};
pub use users::{NewUser, User, UserView};

use crate::config::Config;

/// Everything that can go wrong below the domain.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("{0} is still in use")]
    InUse(&'static str),
    #[error("not found")]
    NotFound,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database behind Frontline.
#[derive(Clone)]
pub enum Store {
    /// Reads go to a pool; writes go through one connection, which SQLite
    /// serialises anyway, so transactions never fail on a busy lock.
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    Postgres(PgPool),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.backend())
    }
}

/// A value bound to a query. Nulls carry their type, as PostgreSQL needs it.
#[derive(Debug, Clone)]
pub enum Value {
    I64(i64),
    F64(f64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
    NullI64,
    NullText,
    NullBool,
    NullBytes,
    NullF64,
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::I64(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::F64(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<&crate::domain::Id> for Value {
    fn from(v: &crate::domain::Id) -> Self {
        Value::Text(v.as_str().to_owned())
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Bytes(v)
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Value::NullI64, Value::I64)
    }
}
impl From<Option<bool>> for Value {
    fn from(v: Option<bool>) -> Self {
        v.map_or(Value::NullBool, Value::Bool)
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        v.map_or(Value::NullText, Value::Text)
    }
}
impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        v.map_or(Value::NullText, |s| Value::Text(s.to_owned()))
    }
}

/// Builds a `Vec<Value>` from anything convertible.
#[macro_export]
macro_rules! args {
    ($($v:expr),* $(,)?) => { vec![$($crate::storage::Value::from($v)),*] };
}

/// A row from either backend.
pub enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

/// Types both backends can decode.
pub trait Column:
    for<'r> sqlx::Decode<'r, Sqlite>
    + sqlx::Type<Sqlite>
    + for<'r> sqlx::Decode<'r, Postgres>
    + sqlx::Type<Postgres>
{
}
impl<T> Column for T where
    T: for<'r> sqlx::Decode<'r, Sqlite>
        + sqlx::Type<Sqlite>
        + for<'r> sqlx::Decode<'r, Postgres>
        + sqlx::Type<Postgres>
{
}

impl Row {
    pub fn get<T: Column>(&self, col: &str) -> Result<T> {
        use sqlx::Row as _;
        Ok(match self {
            Row::Sqlite(r) => r.try_get(col)?,
            Row::Postgres(r) => r.try_get(col)?,
        })
    }
}

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>;
type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

fn sqlite_query<'q>(sql: &'q str, args: &'q [Value]) -> SqliteQuery<'q> {
    args.iter().fold(sqlx::query(sql), |q, a| match a {
        Value::I64(v) => q.bind(*v),
        Value::F64(v) => q.bind(*v),
        Value::Bool(v) => q.bind(*v),
        Value::Text(v) => q.bind(v.as_str()),
        Value::Bytes(v) => q.bind(v.as_slice()),
        Value::NullI64 => q.bind(None::<i64>),
        Value::NullText => q.bind(None::<String>),
        Value::NullBool => q.bind(None::<bool>),
        Value::NullBytes => q.bind(None::<Vec<u8>>),
        Value::NullF64 => q.bind(None::<f64>),
    })
}

fn pg_query<'q>(sql: &'q str, args: &'q [Value]) -> PgQuery<'q> {
    args.iter().fold(sqlx::query(sql), |q, a| match a {
        Value::I64(v) => q.bind(*v),
        Value::F64(v) => q.bind(*v),
        Value::Bool(v) => q.bind(*v),
        Value::Text(v) => q.bind(v.as_str()),
        Value::Bytes(v) => q.bind(v.as_slice()),
        Value::NullI64 => q.bind(None::<i64>),
        Value::NullText => q.bind(None::<String>),
        Value::NullBool => q.bind(None::<bool>),
        Value::NullBytes => q.bind(None::<Vec<u8>>),
        Value::NullF64 => q.bind(None::<f64>),
    })
}

/// A write transaction. Dropped without `commit`, it rolls back: nothing
/// half-written.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    pub async fn execute(&mut self, sql: &str, args: Vec<Value>) -> Result<u64> {
        Ok(match self {
            Tx::Sqlite(tx) => sqlite_query(sql, &args)
                .execute(&mut **tx)
                .await
                .map_err(classify)?
                .rows_affected(),
            Tx::Postgres(tx) => pg_query(sql, &args)
                .execute(&mut **tx)
                .await
                .map_err(classify)?
                .rows_affected(),
        })
    }

    pub async fn fetch_all(&mut self, sql: &str, args: Vec<Value>) -> Result<Vec<Row>> {
        Ok(match self {
            Tx::Sqlite(tx) => sqlite_query(sql, &args)
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            Tx::Postgres(tx) => pg_query(sql, &args)
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(Row::Postgres)
                .collect(),
        })
    }

    pub async fn fetch_optional(&mut self, sql: &str, args: Vec<Value>) -> Result<Option<Row>> {
        Ok(match self {
            Tx::Sqlite(tx) => sqlite_query(sql, &args)
                .fetch_optional(&mut **tx)
                .await?
                .map(Row::Sqlite),
            Tx::Postgres(tx) => pg_query(sql, &args)
                .fetch_optional(&mut **tx)
                .await?
                .map(Row::Postgres),
        })
    }

    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    fn is_postgres(&self) -> bool {
        matches!(self, Tx::Postgres(_))
    }
}

/// Turns constraint violations into errors the caller can explain.
fn classify(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        match db.kind() {
            sqlx::error::ErrorKind::UniqueViolation => return StoreError::Conflict("record"),
            sqlx::error::ErrorKind::ForeignKeyViolation => return StoreError::InUse("record"),
            _ => {}
        }
    }
    StoreError::Db(e)
}

impl Store {
    /// Opens the database named by the configuration: PostgreSQL for a
    /// `postgres://` URL, otherwise SQLite (a file under `data_dir` by default).
    pub async fn connect(config: &Config) -> Result<Self> {
        let url = config.database.url.expose();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(config.database.max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            return Ok(Store::Postgres(pool));
        }
        let path = match url.strip_prefix("sqlite:") {
            Some(p) => p.trim_start_matches("//").into(),
            None => {
                std::fs::create_dir_all(&config.data_dir).map_err(|e| {
                    StoreError::Db(sqlx::Error::Configuration(
                        format!("cannot create data_dir {}: {e}", config.data_dir.display()).into(),
                    ))
                })?;
                config.data_dir.join("frontline.db")
            }
        };
        Self::open_sqlite(&path, config.database.max_connections).await
    }

    pub async fn open_sqlite(path: &Path, readers: u32) -> Result<Self> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before we acknowledge it.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.clone())
            .await?;
        let read = SqlitePoolOptions::new()
            .max_connections(readers.max(1))
            .connect_with(opts.read_only(true))
            .await?;
        Ok(Store::Sqlite { read, write })
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite { .. } => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Brings the schema up to date and refreshes the built-in roles.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Store::Sqlite { write, .. } => sqlx::migrate!("./migrations/sqlite").run(write).await?,
            Store::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        self.backfill_rollups_if_needed().await?;
        self.sync_builtin_roles().await?;
        self.seed_response_builtins().await
    }

    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Store::Sqlite { write, .. } => Tx::Sqlite(write.begin().await?),
            Store::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    pub async fn fetch_all(&self, sql: &str, args: Vec<Value>) -> Result<Vec<Row>> {
        Ok(match self {
            Store::Sqlite { read, .. } => sqlite_query(sql, &args)
                .fetch_all(read)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            Store::Postgres(pool) => pg_query(sql, &args)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(Row::Postgres)
                .collect(),
        })
    }

    pub async fn fetch_optional(&self, sql: &str, args: Vec<Value>) -> Result<Option<Row>> {
        Ok(match self {
            Store::Sqlite { read, .. } => sqlite_query(sql, &args)
                .fetch_optional(read)
                .await?
                .map(Row::Sqlite),
            Store::Postgres(pool) => pg_query(sql, &args)
                .fetch_optional(pool)
                .await?
                .map(Row::Postgres),
        })
    }

    /// One statement in its own transaction.
    pub async fn execute(&self, sql: &str, args: Vec<Value>) -> Result<u64> {
        let mut tx = self.begin().await?;
        let n = tx.execute(sql, args).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Is the database answering?
    pub async fn ping(&self) -> Result<()> {
        self.fetch_optional("SELECT 1 AS one", vec![]).await?;
        Ok(())
    }

    /// (size, idle) of the connection pools, for /metrics.
    pub fn pool_stats(&self) -> (u32, u32) {
        match self {
            Store::Sqlite { read, write } => (
                read.size() + write.size(),
                (read.num_idle() + write.num_idle()) as u32,
            ),
            Store::Postgres(pool) => (pool.size(), pool.num_idle() as u32),
        }
    }

    pub async fn close(&self) {
        match self {
            Store::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Store::Postgres(pool) => pool.close().await,
        }
    }
}

/// Milliseconds since the Unix epoch, UTC: the time column of every table.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
