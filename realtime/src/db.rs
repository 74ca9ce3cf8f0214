//! Database connections: the reader's (which also LISTENs) and a small pool
//! for checking joins and re-reading changed records. Statements are sent as
//! simple-query text, several per round trip; the only values written into
//! them are quoted here ([`lit`], [`ident`]) or are numbers.

use crate::log;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::{mpsc, Semaphore, SemaphorePermit};
use tokio_postgres::{AsyncMessage, Client, NoTls, SimpleQueryMessage, Statement};

/// A text value as an SQL literal. The connection runs with
/// `standard_conforming_strings = on`, so only quotes need doubling.
pub fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\0', "").replace('\'', "''"))
}

/// An identifier, quoted.
pub fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('\0', "").replace('"', "\"\""))
}

/// What the server needs of every session it opens.
const SESSION: &str = "SET standard_conforming_strings = on; SET statement_timeout = '30s'; \
     SET application_name = 'cot-realtime'; SET jit = off";

/// Opens a connection; its notifications (`cot_changes` wake-ups) come on the
/// returned receiver, which ends when the connection does.
pub async fn connect(uri: &str) -> Result<(Client, mpsc::UnboundedReceiver<String>), String> {
    let (client, mut conn) = tokio_postgres::connect(uri, NoTls)
        .await
        .map_err(|e| e.to_string())?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| conn.poll_message(cx));
        use futures_util::StreamExt;
        while let Some(m) = messages.next().await {
            match m {
                Ok(AsyncMessage::Notification(n)) => {
                    if tx.send(n.payload().to_string()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    log::warn("database connection ended", json!({"error": e.to_string()}));
                    break;
                }
            }
        }
    });
    client.batch_execute(SESSION).await.map_err(|e| e.to_string())?;
    Ok((client, rx))
}

/// The rows of every statement in `sql`, as text, in order.
pub async fn rows(client: &Client, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
    let messages = client.simple_query(sql).await.map_err(|e| db_error(&e))?;
    Ok(messages
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some((0..r.len()).map(|i| r.get(i).map(String::from)).collect()),
            _ => None,
        })
        .collect())
}

/// The server's message with its SQLSTATE, when it is a database error.
pub fn db_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{} ({})", d.message(), d.code().code()),
        None => e.to_string(),
    }
}

/// A pooled connection and the statements prepared on it (by their text).
pub struct Conn {
    pub client: Client,
    statements: HashMap<String, Statement>,
}

/// Prepared statements kept per connection; past this, the cache starts over.
const STATEMENTS_KEPT: usize = 512;

impl Conn {
    /// `sql` prepared on this connection: once, then from the cache.
    pub async fn prepare(&mut self, sql: &str) -> Result<Statement, String> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).await.map_err(|e| db_error(&e))?;
        if self.statements.len() >= STATEMENTS_KEPT {
            self.statements.clear();
        }
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    /// Is `sql` prepared on this connection?
    pub fn has(&self, sql: &str) -> bool {
        self.statements.contains_key(sql)
    }

    /// Forgets the prepared statements (after an error: an entity may have
    /// been dropped or changed).
    pub fn forget(&mut self) {
        self.statements.clear();
    }
}

/// A connection taken from the pool; it goes back when dropped, unless closed.
pub struct Taken<'a> {
    pool: &'a Pool,
    conn: Option<Conn>,
    _slot: SemaphorePermit<'a>,
}

impl std::ops::Deref for Taken<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn.as_ref().expect("taken connection")
    }
}

impl std::ops::DerefMut for Taken<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("taken connection")
    }
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take().filter(|c| !c.client.is_closed()) {
            if let Ok(mut v) = self.pool.idle.lock() {
                v.push(c);
            }
        }
    }
}

/// A few connections, opened when first needed and kept while healthy.
pub struct Pool {
    uri: String,
    idle: Mutex<Vec<Conn>>,
    slots: Semaphore,
    size: usize,
}

impl Pool {
    pub fn new(uri: &str, size: usize) -> Pool {
        Pool {
            uri: uri.to_string(),
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(size),
            size,
        }
    }

    /// How many connections the pool may open.
    pub fn size(&self) -> usize {
        self.size
    }

    /// A connection of the pool, waiting for one to be free.
    pub async fn take(&self) -> Result<Taken<'_>, String> {
        let slot = self.slots.acquire().await.map_err(|e| e.to_string())?;
        let idle = self.idle.lock().map(|mut v| v.pop()).unwrap_or(None);
        let conn = match idle {
            Some(c) if !c.client.is_closed() => c,
            _ => Conn {
                client: connect(&self.uri).await?.0,
                statements: HashMap::new(),
            },
        };
        Ok(Taken {
            pool: self,
            conn: Some(conn),
            _slot: slot,
        })
    }

    /// Runs `sql` on a pooled connection; see [`rows`]. A query that fails
    /// leaves no transaction open: a failed simple query ends it.
    pub async fn rows(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
        let conn = self.take().await?;
        let result = rows(&conn.client, sql).await;
        if result.is_err() && !conn.client.is_closed() {
            // An error inside an explicit transaction block leaves it aborted.
            let _ = conn.client.batch_execute("ROLLBACK").await;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(lit("it's"), "'it''s'");
        assert_eq!(lit("a\\b"), "'a\\b'");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
    }
}
