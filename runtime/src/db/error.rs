//! Database errors, worded for the person at the terminal: what failed,
//! where, and what to do.

use std::fmt;

pub enum DbError {
    BadUrl {
        url: String,
    },
    Connect {
        url: String,
        message: String,
        hint: &'static str,
    },
    Query {
        sql: String,
        message: String,
        hint: Option<&'static str>,
    },
    Decode {
        sql: String,
        column: usize,
        message: String,
    },
    /// A precondition in the data: a customer that is not there, a table
    /// that lacks a column.
    Data {
        message: String,
    },
}

impl DbError {
    pub(crate) fn connect(url: &str, e: sqlx::Error) -> DbError {
        let code = e.as_database_error().and_then(|d| d.code()).map(|c| c.to_string());
        let hint = match (&e, code.as_deref()) {
            (_, Some("28P01" | "28000")) => "check the user name and password in the URL",
            (_, Some("3D000")) => "create the database first, or fix its name in the URL",
            (sqlx::Error::Io(_), _) | (sqlx::Error::PoolTimedOut, _) => {
                "is the server running and listening at that address? check host and port"
            }
            (_, Some("14")) => "the SQLite file does not exist or cannot be opened: check the path (`sqlite://path/to/file.db`)",
            (sqlx::Error::Configuration(_), _) => "URLs look like `sqlite://shop.db` or `postgres://user:password@host:5432/db`",
            _ => "check the URL and that the database accepts connections",
        };
        DbError::Connect {
            url: redact(url),
            message: e.to_string(),
            hint,
        }
    }

    /// Wraps a query error with its SQL, and a hint for the common causes.
    pub(crate) fn query(sql: &str) -> impl Fn(sqlx::Error) -> DbError + '_ {
        move |e| {
            let code = e.as_database_error().and_then(|d| d.code()).map(|c| c.to_string());
            let message = e.to_string();
            let hint = match code.as_deref() {
                Some("42P01") => {
                    Some("a table the schema names is missing: run `camp check --database URL` to compare the schema with the database")
                }
                Some("42703") => {
                    Some("a column the schema names is missing: run `camp check --database URL` to compare the schema with the database")
                }
                Some("22P02") | Some("22003") => Some(
                    "some row holds a value of the wrong type (often a JSON event property): run `camp check --database URL` to find it",
                ),
                _ if message.contains("no such table") || message.contains("no such column") => {
                    Some("the schema and the database disagree: run `camp check --database URL` to compare them")
                }
                _ => None,
            };
            DbError::Query {
                sql: sql.to_string(),
                message,
                hint,
            }
        }
    }

    pub fn data(message: impl Into<String>) -> DbError {
        DbError::Data { message: message.into() }
    }
}

/// A URL with its password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbError::BadUrl { url } => write!(
                f,
                "`{}` is not a database URL\n  help: use `sqlite://path/to/file.db` or `postgres://user:password@host:5432/db`",
                redact(url)
            ),
            DbError::Connect { url, message, hint } => write!(f, "cannot connect to {url}: {message}\n  help: {hint}"),
            DbError::Query { sql, message, hint } => {
                write!(f, "the database refused a query: {message}\n  query: {}", first_line(sql))?;
                if let Some(hint) = hint {
                    write!(f, "\n  help: {hint}")?;
                }
                Ok(())
            }
            DbError::Decode { sql, column, message } => {
                write!(
                    f,
                    "cannot read column {} of a result: {message}\n  query: {}",
                    column + 1,
                    first_line(sql)
                )
            }
            DbError::Data { message } => f.write_str(message),
        }
    }
}

fn first_line(sql: &str) -> String {
    const MAX: usize = 160;
    let line = sql.lines().next().unwrap_or("");
    match line.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_string(),
    }
}

impl std::error::Error for DbError {}

/// Debug prints what Display prints: a failed `expect` in a test shows the
/// readable message, not a multi-megabyte statement.
impl fmt::Debug for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
