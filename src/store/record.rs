//! A table row as one declaration: `record!` names the table, the columns an insert writes and
//! the ones an update may change, and generates the SQL and its binds. Updates always check the
//! row version (`… WHERE id = $n AND version = $m`, then `version = version + 1`), so a save
//! made from an outdated copy changes nothing instead of overwriting someone else's.

use crate::domain::audit::ObjectType;
use crate::domain::code::Code;
use sqlx::AnyConnection;
use std::future::Future;

/// A statement on its way: what `insert` and `update` return.
pub trait Written<'c, T>: Future<Output = sqlx::Result<T>> + Send + 'c {}

impl<'c, T, F: Future<Output = sqlx::Result<T>> + Send + 'c> Written<'c, T> for F {}

/// A stored row that the audited-write helpers (`service::write`) create and delete.
pub trait Insert: serde::Serialize + Send + Sync {
    const TABLE: &'static str;
    /// What the audit log calls it.
    const OBJECT: ObjectType;
    /// A unique column whose violation is the user's mistake: (field, code, Chinese message); an
    /// empty field refuses the whole form (409) instead of marking a field.
    const UNIQUE: Option<(&'static str, Code, &'static str)> = None;
    /// Why it cannot be deleted while other rows refer to it.
    const IN_USE: &'static str = "仍有记录引用它，不能删除";
    /// Whether its statements may be prepared and cached (see `record!`).
    const PERSISTENT: bool = true;
    /// Its stored columns (the insert's).
    const COLUMNS: &'static [&'static str];

    fn id(&self) -> &str;
    /// How the audit log names it ("P0001 人民公园东门").
    fn label(&self) -> String;
    /// What the audit log keeps of it.
    fn snapshot(&self) -> Option<serde_json::Value> {
        serde_json::to_value(self).ok()
    }
    fn insert<'c>(&'c self, conn: &'c mut AnyConnection) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'c;
    /// The same insert, added to a batch of statements sent together.
    fn stage<'q>(&'q self, b: &mut super::batch::Batch<'q>);
}

/// A row people edit: it carries a version, and an update writes only over the version it read.
pub trait Record: Insert {
    fn version(&self) -> i64;
    fn set_version(&mut self, version: i64);
    /// Writes the updatable columns if the row is still at version `at`; false when it is not.
    fn update<'c>(&'c self, db: &'c mut AnyConnection, at: i64) -> impl Written<'c, bool>;
}

/// One stored record by id, read with its declared columns.
pub async fn find<R>(db: &super::Db, id: &str) -> Result<Option<R>, sqlx::Error>
where
    R: Insert + for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let sql = format!("SELECT {} FROM {} WHERE id = $1", R::COLUMNS.join(", "), R::TABLE);
    sqlx::query_as::<_, R>(&sql).bind(id).persistent(R::PERSISTENT).fetch_optional(&db.pool).await
}

/// `INSERT INTO t (a, b) VALUES ($1, $2)`.
pub fn insert_sql(table: &str, cols: &[&str]) -> String {
    format!("INSERT INTO {table} ({}) VALUES ({})", cols.join(", "), super::marks(1, cols.len()))
}

/// Parameters per multi-row statement in `insert_rows`: some fifty rows share one hand-off to
/// the database. Both databases allow more (SQLite 32,766), but a statement that large gains
/// nothing more and is parsed and planned as one.
pub const ROWS_PARAMETERS: usize = 2_000;

/// Inserts rows of one kind in multi-row statements of up to `ROWS_PARAMETERS` parameters each:
/// for bulk loads (the bench's generator).
pub async fn insert_rows<R: Insert>(conn: &mut AnyConnection, rows: &[R]) -> sqlx::Result<()> {
    let per = (ROWS_PARAMETERS / R::COLUMNS.len().max(1)).max(1);
    for chunk in rows.chunks(per) {
        let mut batch = super::batch::Batch::default();
        for row in chunk {
            row.stage(&mut batch);
        }
        batch.run_as_rows(conn, R::TABLE, R::COLUMNS).await?;
    }
    Ok(())
}

/// `UPDATE t SET a = $1, b = $2, version = version + 1 WHERE id = $3 AND version = $4`.
pub fn update_sql(table: &str, cols: &[&str]) -> String {
    let sets: Vec<String> = cols.iter().enumerate().map(|(i, c)| format!("{c} = ${}", i + 1)).collect();
    let n = cols.len();
    format!(
        "UPDATE {table} SET {}, version = version + 1 WHERE id = ${} AND version = ${}",
        sets.join(", "),
        n + 1,
        n + 2
    )
}

/// Declares a stored row: the `Insert` part always, the `Record` part when `update [...]` is
/// given (the table then has a `version` column).
///
/// ```ignore
/// record! {
///     Point in "points" as ObjectType::Point,
///     label |p| format!("{} {}", p.code, p.name),
///     insert [id, code, name, created_at, updated_at, version],
///     update [code, name, updated_at],
///     unique ("code", Code::DuplicateCode, "该点位编码已被使用"),
/// }
/// ```
///
/// Optional clauses, in this order: `unique (field, code, message)`, `in_use "message"`,
/// `snapshot |r| json`, and `persistent = false` for tables with optional floats (sqlx 0.8.6's
/// Any driver declares a NULL f64 as FLOAT4 to PostgreSQL, and a cached statement would then
/// refuse a later real value).
#[macro_export]
macro_rules! record {
    (
        $ty:ident in $table:literal as $object:expr,
        label |$r:ident| $label:expr,
        insert [$($icol:ident),+ $(,)?]
        $(, update [$($ucol:ident),+ $(,)?])?
        $(, unique ($ufield:literal, $ucode:expr, $umsg:literal))?
        $(, in_use $in_use:literal)?
        $(, snapshot |$s:ident| $snap:expr)?
        $(, persistent = $persist:literal)? $(,)?
    ) => {
        impl $crate::store::record::Insert for $ty {
            const TABLE: &'static str = $table;
            const OBJECT: $crate::domain::audit::ObjectType = $object;
            $(const UNIQUE: Option<(&'static str, $crate::domain::code::Code, &'static str)> = Some(($ufield, $ucode, $umsg));)?
            $(const IN_USE: &'static str = $in_use;)?
            $(const PERSISTENT: bool = $persist;)?
            const COLUMNS: &'static [&'static str] = &[$(stringify!($icol)),+];

            fn id(&self) -> &str {
                &self.id
            }

            fn label(&self) -> String {
                let $r = self;
                $label
            }

            $(fn snapshot(&self) -> Option<serde_json::Value> {
                let $s = self;
                Some($snap)
            })?

            fn insert<'c>(
                &'c self,
                conn: &'c mut sqlx::AnyConnection,
            ) -> impl std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'c {
                async move {
                    let q = sqlx::query(Self::insert_sql())$(.bind(&self.$icol))+;
                    q.persistent(Self::PERSISTENT).execute(conn).await.map(|_| ())
                }
            }

            fn stage<'q>(&'q self, b: &mut $crate::store::batch::Batch<'q>) {
                if !Self::PERSISTENT {
                    b.volatile();
                }
                b.push(Self::insert_sql(), move |a| {
                    $(sqlx::Arguments::add(a, &self.$icol)?;)+
                    Ok(())
                });
            }
        }

        impl $ty {
            /// The insert statement of every declared column.
            fn insert_sql() -> &'static str {
                static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
                    $crate::store::record::insert_sql($table, &[$(stringify!($icol)),+])
                });
                SQL.as_str()
            }
        }

        $(impl $crate::store::record::Record for $ty {
            fn version(&self) -> i64 {
                self.version
            }

            fn set_version(&mut self, version: i64) {
                self.version = version;
            }

            fn update<'c>(
                &'c self,
                conn: &'c mut sqlx::AnyConnection,
                expected: i64,
            ) -> impl std::future::Future<Output = Result<bool, sqlx::Error>> + Send + 'c {
                async move {
                    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
                        $crate::store::record::update_sql($table, &[$(stringify!($ucol)),+])
                    });
                    let q = sqlx::query(&SQL)$(.bind(&self.$ucol))+.bind(&self.id).bind(expected);
                    let q = q.persistent(<Self as $crate::store::record::Insert>::PERSISTENT);
                    Ok(q.execute(conn).await?.rows_affected() == 1)
                }
            }
        })?
    };
}

/// A record as a list shows it: the stored record itself plus what the list joins to it (the
/// names it refers to, counts). The record's own fields are reached through `Deref`, so a list
/// row is written `row.code` like the record, and its JSON is the record's with the extras.
///
/// ```ignore
/// crate::listed! {
///     /// A point as listed, with the names of what it refers to.
///     PointRow: Point { type_name: String, unit_name: String }
/// }
/// ```
#[macro_export]
macro_rules! listed {
    ($(#[$m:meta])* $name:ident : $record:ident { $($(#[$fm:meta])* $field:ident : $fty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            #[sqlx(flatten)]
            #[serde(flatten)]
            pub record: $record,
            $($(#[$fm])* pub $field: $fty,)*
        }

        impl std::ops::Deref for $name {
            type Target = $record;
            fn deref(&self) -> &$record {
                &self.record
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_sql_checks_the_version() {
        assert_eq!(insert_sql("t", &["id", "name"]), "INSERT INTO t (id, name) VALUES ($1, $2)");
        assert_eq!(
            update_sql("t", &["name", "updated_at"]),
            "UPDATE t SET name = $1, updated_at = $2, version = version + 1 WHERE id = $3 AND version = $4"
        );
    }
}
