//! A `rusqlite` connection whose statements are recorded as query spans (feature `rusqlite`):
//! each `execute`, `insert`, `query_row`, `exists`, `query` and `query_map` is one span in
//! component `db.sqlite`, named by the normalised statement, with `db.rows` and any error.
//!
//! Rows are counted as the caller reads them: the span of `query` and `query_map` lasts until
//! the rows (or the iterator) are dropped, so it includes the time the caller spends per row,
//! as it does in SQLite itself, which computes rows as they are stepped through.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::Arc;

use rusqlite::{CachedStatement, Connection, Params, Row, Rows, Statement};

use super::{QueryIdentity, QuerySpan};

/// `db.system` of every statement here.
const SYSTEM: &str = "sqlite";
/// Statements whose identity is remembered; past it the memory starts again (statements with
/// values written into them would otherwise fill it).
const MAX_REMEMBERED_STATEMENTS: usize = 512;

/// A [`rusqlite::Connection`] that records its statements. Everything else of the connection
/// is reached through `Deref` (statements run that way, or in a `Transaction` borrowed from
/// it, are not recorded).
///
/// ```
/// let recorder = pathwise::testing::Recorder::start();
/// let conn = pathwise::db::TracedConnection::open_in_memory()?;
/// conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)", ())?;
/// conn.execute("INSERT INTO users (name) VALUES (?1), (?2)", ["ada", "grace"])?;
/// let mut find = conn.prepare_cached("SELECT name FROM users WHERE id > ?1")?;
/// let names: Vec<String> = find.query_map([0], |row| row.get(0))?.collect::<Result<_, _>>()?;
/// assert_eq!(names, ["ada", "grace"]);
/// drop(find);
/// let records = recorder.records();
/// let spans = pathwise::testing::spans(&records);
/// assert_eq!(spans.len(), 3);
/// assert_eq!(spans[2].name, "SELECT name FROM users WHERE id > ?1");
/// # Ok::<(), rusqlite::Error>(())
/// ```
pub struct TracedConnection {
    conn: Connection,
    identities: RefCell<HashMap<Box<str>, Arc<QueryIdentity>>>,
}

impl TracedConnection {
    /// Records the statements of `conn`.
    pub fn new(conn: Connection) -> TracedConnection {
        TracedConnection {
            conn,
            identities: RefCell::new(HashMap::new()),
        }
    }

    /// Opens (or creates) the database file at `path`.
    pub fn open(path: impl AsRef<Path>) -> rusqlite::Result<TracedConnection> {
        Connection::open(path).map(TracedConnection::new)
    }

    /// Opens a new in-memory database.
    pub fn open_in_memory() -> rusqlite::Result<TracedConnection> {
        Connection::open_in_memory().map(TracedConnection::new)
    }

    /// The connection itself, no longer recorded.
    pub fn into_inner(self) -> Connection {
        self.conn
    }

    /// What `sql` is recorded as; `None` while nothing records (then nothing is normalised).
    fn identity(&self, sql: &str) -> Option<Arc<QueryIdentity>> {
        if !pathwise_pipeline::is_running() {
            return None;
        }
        let mut known = self.identities.borrow_mut();
        if let Some(identity) = known.get(sql) {
            return Some(identity.clone());
        }
        if known.len() >= MAX_REMEMBERED_STATEMENTS {
            known.clear();
        }
        let identity = Arc::new(QueryIdentity::new(SYSTEM, sql));
        known.insert(sql.into(), identity.clone());
        Some(identity)
    }

    fn traced<'c>(
        &self,
        sql: &str,
        prepared: rusqlite::Result<StatementRef<'c>>,
    ) -> rusqlite::Result<TracedStatement<'c>> {
        let identity = self.identity(sql);
        match prepared {
            Ok(stmt) => Ok(TracedStatement { stmt, identity }),
            Err(error) => {
                // A statement that does not compile (syntax, unknown table) failed to run.
                if let Some(identity) = identity {
                    identity.start(Some(sql)).record_error(&error);
                }
                Err(error)
            }
        }
    }

    /// Prepares `sql`; its executions are recorded. One that does not compile is recorded as
    /// a failed query.
    pub fn prepare(&self, sql: &str) -> rusqlite::Result<TracedStatement<'_>> {
        self.traced(sql, self.conn.prepare(sql).map(StatementRef::Plain))
    }

    /// Prepares `sql` through the connection's statement cache; see [`TracedConnection::prepare`].
    pub fn prepare_cached(&self, sql: &str) -> rusqlite::Result<TracedStatement<'_>> {
        self.traced(sql, self.conn.prepare_cached(sql).map(StatementRef::Cached))
    }

    /// Runs one statement and returns the rows it changed; recorded as one query.
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare(sql)?.execute(params)
    }

    /// Runs a query expected to return a row and maps it with `f`; recorded as one query with
    /// `db.rows` 1, or 0 when no row came back (`QueryReturnedNoRows` is an answer, not a
    /// failure of the statement).
    pub fn query_row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare(sql)?.query_row(params, f)
    }

    /// Runs several statements separated by semicolons (a migration, a schema); recorded as
    /// one query named by the normalised text of all of them.
    pub fn execute_batch(&self, sql: &str) -> rusqlite::Result<()> {
        let mut span = self
            .identity(sql)
            .map_or_else(QuerySpan::off, |identity| identity.start(Some(sql)));
        let result = self.conn.execute_batch(sql);
        if let Err(error) = &result {
            span.record_error(error);
        }
        result
    }
}

impl Deref for TracedConnection {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl DerefMut for TracedConnection {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

impl From<Connection> for TracedConnection {
    fn from(conn: Connection) -> Self {
        TracedConnection::new(conn)
    }
}

enum StatementRef<'c> {
    Plain(Statement<'c>),
    Cached(CachedStatement<'c>),
}

/// A prepared statement of a [`TracedConnection`]: each execution is one query span. The
/// statement itself (column names, parameter indexes, …) is reached through `Deref`.
///
/// ```
/// let recorder = pathwise::testing::Recorder::start();
/// let conn = pathwise::db::TracedConnection::open_in_memory()?;
/// conn.execute_batch("CREATE TABLE t (x INTEGER)")?;
/// let mut insert = conn.prepare("INSERT INTO t (x) VALUES (?1)")?;
/// for x in 0..3 {
///     insert.execute([x])?; // three spans, one statement
/// }
/// assert_eq!(insert.column_count(), 0); // the rusqlite statement, through Deref
/// drop(insert);
/// let records = recorder.records();
/// let inserts = pathwise::testing::named(&records, "INSERT INTO t (x) VALUES (?1)");
/// assert_eq!(inserts.len(), 3);
/// # Ok::<(), rusqlite::Error>(())
/// ```
pub struct TracedStatement<'c> {
    stmt: StatementRef<'c>,
    /// `None` when prepared while nothing recorded: then its executions are not recorded.
    identity: Option<Arc<QueryIdentity>>,
}

impl<'c> TracedStatement<'c> {
    fn start(&self) -> QuerySpan {
        self.identity
            .as_ref()
            .map_or_else(QuerySpan::off, |identity| identity.start(None))
    }

    /// Ends `span` with the outcome of one execution: the rows `rows` reads from a success, or
    /// the error. The statement as written (values bound) is kept if full statements are on.
    fn finish<T>(
        &self,
        mut span: QuerySpan,
        result: &rusqlite::Result<T>,
        rows: impl FnOnce(&T) -> u64,
    ) {
        if span.wants_full_statement()
            && let Some(written) = self.expanded_sql()
        {
            span.keep_full_statement(&written);
        }
        match result {
            Ok(value) => span.set_rows(rows(value)),
            Err(error) => span.record_error(error),
        }
    }

    /// Runs the statement and returns the rows it changed.
    pub fn execute<P: Params>(&mut self, params: P) -> rusqlite::Result<usize> {
        let span = self.start();
        let result = self.deref_mut().execute(params);
        self.finish(span, &result, |&changed| changed as u64);
        result
    }

    /// Runs an insert of one row and returns its rowid.
    pub fn insert<P: Params>(&mut self, params: P) -> rusqlite::Result<i64> {
        let mut span = self.start();
        let result = self.deref_mut().insert(params);
        if let Err(rusqlite::Error::StatementChangedRows(changed)) = &result {
            span.set_rows(*changed as u64);
        }
        self.finish(span, &result, |_| 1);
        result
    }

    /// Runs a query expected to return a row and maps its first row with `f`; `db.rows` is 1,
    /// or 0 when no row came back (not a failure: the statement ran).
    pub fn query_row<T, P, F>(&mut self, params: P, f: F) -> rusqlite::Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    {
        let span = self.start();
        let result = self.deref_mut().query_row(params, f);
        if let Err(rusqlite::Error::QueryReturnedNoRows) = &result {
            self.finish(span, &Ok(()), |_| 0);
        } else {
            self.finish(span, &result, |_| 1);
        }
        result
    }

    /// Whether the query returns at least one row; `db.rows` is 1 or 0.
    pub fn exists<P: Params>(&mut self, params: P) -> rusqlite::Result<bool> {
        let span = self.start();
        let result = self.deref_mut().exists(params);
        self.finish(span, &result, |&found| u64::from(found));
        result
    }

    /// Runs the query; the span lasts until the returned rows are dropped and counts the rows
    /// read through them.
    pub fn query<P: Params>(&mut self, params: P) -> rusqlite::Result<TracedRows<'_>> {
        let mut span = self.start();
        match self.deref_mut().query(params) {
            Ok(rows) => {
                if span.wants_full_statement()
                    && let Some(written) = rows.as_ref().and_then(Statement::expanded_sql)
                {
                    span.keep_full_statement(&written);
                }
                Ok(TracedRows {
                    rows,
                    span,
                    count: 0,
                })
            }
            Err(error) => {
                span.record_error(&error);
                Err(error)
            }
        }
    }

    /// Runs the query and maps each row with `f`; the span lasts until the iterator is
    /// dropped, with the rows it yielded and any error it yielded.
    pub fn query_map<T, P, F>(
        &mut self,
        params: P,
        f: F,
    ) -> rusqlite::Result<TracedMappedRows<'_, F>>
    where
        P: Params,
        F: FnMut(&Row<'_>) -> rusqlite::Result<T>,
    {
        Ok(TracedMappedRows {
            rows: self.query(params)?,
            map: f,
        })
    }
}

impl<'c> Deref for TracedStatement<'c> {
    type Target = Statement<'c>;

    fn deref(&self) -> &Statement<'c> {
        match &self.stmt {
            StatementRef::Plain(stmt) => stmt,
            StatementRef::Cached(stmt) => stmt,
        }
    }
}

impl<'c> DerefMut for TracedStatement<'c> {
    fn deref_mut(&mut self) -> &mut Statement<'c> {
        match &mut self.stmt {
            StatementRef::Plain(stmt) => stmt,
            StatementRef::Cached(stmt) => stmt,
        }
    }
}

/// The rows of a [`TracedStatement::query`], read one at a time with [`TracedRows::next`];
/// the query's span ends, with the rows read, when this drops.
///
/// ```
/// let conn = pathwise::db::TracedConnection::open_in_memory()?;
/// conn.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3)")?;
/// let mut stmt = conn.prepare("SELECT x FROM t WHERE x > ?1")?;
/// let mut rows = stmt.query([1])?;
/// let mut sum = 0;
/// while let Some(row) = rows.next()? {
///     sum += row.get::<_, i64>(0)?;
/// }
/// assert_eq!(sum, 5); // recorded with db.rows = 2 when `rows` drops
/// # Ok::<(), rusqlite::Error>(())
/// ```
pub struct TracedRows<'s> {
    rows: Rows<'s>,
    span: QuerySpan,
    count: u64,
}

impl<'s> TracedRows<'s> {
    /// The next row, `None` after the last; an error also fails the query's span.
    #[expect(
        clippy::should_implement_trait,
        reason = "a streaming iterator, as rusqlite's own `Rows::next`: rows borrow the cursor"
    )]
    pub fn next(&mut self) -> rusqlite::Result<Option<&Row<'s>>> {
        match self.rows.next() {
            Ok(Some(row)) => {
                self.count += 1;
                Ok(Some(row))
            }
            Ok(None) => Ok(None),
            Err(error) => {
                self.span.record_error(&error);
                Err(error)
            }
        }
    }
}

impl Drop for TracedRows<'_> {
    fn drop(&mut self) {
        self.span.set_rows(self.count);
    }
}

/// The iterator of [`TracedStatement::query_map`]: each row mapped with `F`; an error from
/// the database or from `F` fails the query's span.
///
/// ```
/// let conn = pathwise::db::TracedConnection::open_in_memory()?;
/// let mut stmt = conn.prepare("SELECT 1 UNION ALL SELECT 2")?;
/// let values: Vec<i64> = stmt.query_map([], |row| row.get(0))?.collect::<Result<_, _>>()?;
/// assert_eq!(values, [1, 2]);
/// # Ok::<(), rusqlite::Error>(())
/// ```
pub struct TracedMappedRows<'s, F> {
    rows: TracedRows<'s>,
    map: F,
}

impl<T, F> Iterator for TracedMappedRows<'_, F>
where
    F: FnMut(&Row<'_>) -> rusqlite::Result<T>,
{
    type Item = rusqlite::Result<T>;

    fn next(&mut self) -> Option<rusqlite::Result<T>> {
        match self.rows.next() {
            Ok(Some(row)) => {
                let mapped = (self.map)(row);
                if let Err(error) = &mapped {
                    self.rows.span.record_error(error);
                }
                Some(mapped)
            }
            Ok(None) => None,
            Err(error) => Some(Err(error)),
        }
    }
}
