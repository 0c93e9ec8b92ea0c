//! Statements sent together. A write that is several inserts (a problem, its audit entry, its
//! history step, the unit's inbox entries and robot deliveries) costs SQLite little work per row
//! but one hand-off to the connection's thread and back per statement, and on SQLite every
//! statement of a write is made while that write holds the single writer. A `Batch` collects
//! the statements with their binds; on SQLite `run` sends them as one multi-statement query (the
//! parameters of each statement renumbered after those before it), so the writer is held for one
//! hand-off instead of five. PostgreSQL runs them one after another, as before.
//!
//! Each statement is written with its own `$1…$n`, exactly as it would be run alone, and its
//! binder adds exactly `n` values.

use sqlx::any::AnyArguments;
use sqlx::error::BoxDynError;
use sqlx::{AnyConnection, Arguments};
use std::borrow::Cow;

/// Adds one statement's values, in the order of its `$1…$n`.
type Binder<'q> = Box<dyn FnOnce(&mut AnyArguments<'q>) -> Result<(), BoxDynError> + Send + 'q>;

#[derive(Default)]
pub struct Batch<'q> {
    parts: Vec<(Cow<'static, str>, Binder<'q>)>,
    /// Whether the statements may be prepared and cached (false when any of them may not).
    volatile: bool,
    /// No statement reads a row another one writes: PostgreSQL may run them as one statement.
    together: bool,
}

impl<'q> Batch<'q> {
    /// Adds a statement and the values of its parameters.
    pub fn push(
        &mut self,
        sql: impl Into<Cow<'static, str>>,
        bind: impl FnOnce(&mut AnyArguments<'q>) -> Result<(), BoxDynError> + Send + 'q,
    ) {
        self.parts.push((sql.into(), Box::new(bind)));
    }

    /// Marks the batch as not to be prepared and cached (a statement of it must not be).
    pub fn volatile(&mut self) {
        self.volatile = true;
    }

    /// Marks the statements as independent: none reads what another one writes (a record's
    /// insert and its audit entry, say), so that PostgreSQL runs them as one statement (each a
    /// data-modifying `WITH` part, all seeing the same snapshot; foreign keys are checked at
    /// the statement's end, after all of them): one round trip instead of one each.
    pub fn together(&mut self) {
        self.together = true;
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Runs every statement, in order, in the caller's transaction; stops at the first error
    /// (the caller's transaction is then to be rolled back, as after any failed statement).
    pub async fn run(self, conn: &mut AnyConnection) -> sqlx::Result<()> {
        if conn.backend_name() == "SQLite" && self.parts.len() > 1 {
            return self.run_then(conn, "").await;
        }
        let persistent = !self.volatile;
        if self.together && self.parts.len() > 1 {
            let last = self.parts.len() - 1;
            // WITH b0 AS (…), b1 AS (…) last
            let (parts, args) = self.joined(|i, text| match i {
                i if i == last => text.to_string(),
                i if i + 1 == last => format!("b{i} AS ({text}) "),
                i => format!("b{i} AS ({text}), "),
            })?;
            let sql = format!("WITH {parts}");
            sqlx::query_with(&sql, args).persistent(persistent).execute(&mut *conn).await?;
            return Ok(());
        }
        for (text, bind) in self.parts {
            let mut args = AnyArguments::default();
            bind(&mut args).map_err(sqlx::Error::Encode)?;
            sqlx::query_with(&text, args).persistent(persistent).execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// SQLite: runs every statement and then `tail` (statements without parameters, such as
    /// `RELEASE w`) as one multi-statement query: one hand-off to the connection's thread. It
    /// stops at the first error, so `tail` runs only when every statement before it succeeded.
    pub async fn run_then(self, conn: &mut AnyConnection, tail: &str) -> sqlx::Result<()> {
        // SQLite's prepared statements carry no parameter types, so a volatile part (see
        // `record!`'s `persistent`) does not keep the batch from being cached there.
        let (mut sql, args) = self.joined(|_, text| format!("{text};\n"))?;
        sql.push_str(tail);
        sqlx::query_with(&sql, args).execute(conn).await?;
        Ok(())
    }

    /// The statements as one text, each (its parameters renumbered after those before it, its
    /// own trailing `;` removed) written by `piece` with its position, and all their values.
    fn joined(self, piece: impl Fn(usize, &str) -> String) -> sqlx::Result<(String, AnyArguments<'q>)> {
        let mut sql = String::new();
        let mut args = AnyArguments::default();
        for (i, (text, bind)) in self.parts.into_iter().enumerate() {
            sql.push_str(&piece(i, &shift_params(text.trim().trim_end_matches(';'), args.len())));
            bind(&mut args).map_err(sqlx::Error::Encode)?;
        }
        Ok((sql, args))
    }

    /// Runs single-row inserts into one table as one multi-row `INSERT … VALUES (…), (…)`: a
    /// bulk load's one statement instead of one per row. Every part must be the table's
    /// `insert_sql(table, columns)` (what `Insert::stage` adds); anything else is refused.
    pub async fn run_as_rows(self, conn: &mut AnyConnection, table: &str, columns: &[&str]) -> sqlx::Result<()> {
        if self.parts.is_empty() {
            return Ok(());
        }
        let single = super::record::insert_sql(table, columns);
        // SQLite finds a numbered parameter's name by walking the list of names, once per value
        // bound: quadratic in the statement's parameters (half the load's time at 2,000).
        // Its plain `?` has no name and binds in order.
        let sqlite = conn.backend_name() == "SQLite";
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut args = AnyArguments::default();
        for (row, (text, bind)) in self.parts.into_iter().enumerate() {
            if text != single {
                return Err(sqlx::Error::Protocol(format!("not an insert into {table}: {text}")));
            }
            let base = row * columns.len();
            let mark = |k: usize| if sqlite { "?".to_string() } else { format!("${}", base + k) };
            let marks: Vec<String> = (1..=columns.len()).map(mark).collect();
            sql.push_str(if row == 0 { "(" } else { ", (" });
            sql.push_str(&marks.join(", "));
            sql.push(')');
            bind(&mut args).map_err(sqlx::Error::Encode)?;
        }
        sqlx::query_with(&sql, args).persistent(!self.volatile).execute(conn).await?;
        Ok(())
    }
}

/// `$k` becomes `$(k + by)` outside quoted text (`'…'`, `"…"`); nothing else changes.
pub fn shift_params(sql: &str, by: usize) -> Cow<'_, str> {
    if by == 0 || !sql.contains('$') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut quote: Option<char> = None;
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '$') if chars.peek().is_some_and(|(_, d)| d.is_ascii_digit()) => {
                let mut n = 0usize;
                while let Some((_, d)) = chars.peek().filter(|(_, d)| d.is_ascii_digit()).copied() {
                    n = n * 10 + d.to_digit(10).unwrap_or(0) as usize;
                    chars.next();
                }
                out.push('$');
                out.push_str(&(n + by).to_string());
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_shift_past_the_statements_before() {
        assert_eq!(shift_params("INSERT INTO t (a, b) VALUES ($1, $2)", 0), "INSERT INTO t (a, b) VALUES ($1, $2)");
        assert_eq!(shift_params("INSERT INTO t (a, b) VALUES ($1, $2)", 9), "INSERT INTO t (a, b) VALUES ($10, $11)");
        assert_eq!(
            shift_params("SELECT $1 || '.' || id, $12 FROM u WHERE x = $4", 3),
            "SELECT $4 || '.' || id, $15 FROM u WHERE x = $7"
        );
        // Quoted text and a lone dollar are not parameters.
        assert_eq!(
            shift_params("SELECT '$1', \"$2\", $3, '$' || $ FROM t", 1),
            "SELECT '$1', \"$2\", $4, '$' || $ FROM t"
        );
        assert_eq!(shift_params("值 = $1，名 = '张$2'", 2), "值 = $3，名 = '张$2'");
    }
}
