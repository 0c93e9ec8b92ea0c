//! The two migration sets (migrations/sqlite, migrations/postgres) must build the same schema:
//! the same tables with the same columns, so that no query works on one database only.

use crate::helpers::*;
use chuangcheng::store::Db;
use std::collections::BTreeSet;

/// Tables one backend has for a reason of its own, and the reason.
const SQLITE_ONLY: [(&str, &str); 1] =
    [("search_watermark", "how far the FTS5 keyword index has caught up; PostgreSQL indexes as it writes")];

/// (table, column) of every table the migrations create on SQLite.
async fn sqlite_columns(db: &Db) -> BTreeSet<(String, String)> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%' \
         AND m.sql NOT LIKE 'CREATE VIRTUAL TABLE%' \
         AND NOT EXISTS (SELECT 1 FROM sqlite_master v WHERE v.sql LIKE 'CREATE VIRTUAL TABLE%' \
                         AND m.name LIKE v.name || '\\_%' ESCAPE '\\')",
    )
    .fetch_all(&db.pool)
    .await
    .expect("SQLite schema");
    rows.into_iter().filter(|(t, _)| !SQLITE_ONLY.iter().any(|(only, _)| only == t)).collect()
}

/// (table, column) of every table the migrations create on PostgreSQL.
async fn postgres_columns(db: &Db) -> BTreeSet<(String, String)> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%'",
    )
    .fetch_all(&db.pool)
    .await
    .expect("PostgreSQL schema");
    rows.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_migrations_build_the_same_tables_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    let Some(pg_url) = fresh_database(Backend::Postgres, dir.path()).await else {
        skipped(
            "schema::sqlite_and_postgres_migrations_build_the_same_tables_and_columns",
            "CHUANGCHENG_TEST_PG is not set",
        );
        return;
    };
    let sqlite_url = fresh_database(Backend::Sqlite, dir.path()).await.unwrap();
    let (sqlite, pg) = (Db::connect(&sqlite_url, 1).await.unwrap(), Db::connect(&pg_url, 1).await.unwrap());
    sqlite.migrate().await.expect("SQLite migrations");
    pg.migrate().await.expect("PostgreSQL migrations");
    let (s, p) = (sqlite_columns(&sqlite).await, postgres_columns(&pg).await);
    assert!(s.len() > 100, "{} columns read from SQLite", s.len());
    let only_sqlite: Vec<String> = s.difference(&p).map(|(t, c)| format!("{t}.{c}")).collect();
    let only_postgres: Vec<String> = p.difference(&s).map(|(t, c)| format!("{t}.{c}")).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "the migrations disagree:\n only in SQLite: {only_sqlite:?}\n only in PostgreSQL: {only_postgres:?}"
    );
}

crate::both!(many_rows_inserted_in_one_statement_read_back_as_inserted_one_by_one, |app: TestApp| async move {
    // The bulk load (the bench's generator) writes 10,000 problems per transaction as
    // multi-row statements, several statements per call.
    use chuangcheng::store::batch::Batch;
    use chuangcheng::store::problems::Problem;
    use chuangcheng::store::record::{self, Insert};
    let point = app.id_of("SELECT id FROM points ORDER BY code LIMIT 1").await;
    let filed = app
        .api_login("admin")
        .await
        .file_ok(serde_json::json!({"point_id": point, "category": "市容环境·暴露垃圾", "description": "模板问题", "source": "supervision"}))
        .await;
    let original: Problem = record::find(&app.db, filed["id"].as_str().unwrap()).await.unwrap().expect("filed");
    let copies: Vec<Problem> = (0..1000)
        .map(|i| Problem {
            id: format!("copy-{i:04}"),
            code: format!("COPY{i:04}"),
            found_at: original.found_at - i * 1000,
            description: format!("副本{i}：'引号'与$1"),
            ..original.clone()
        })
        .collect();
    let mut conn = app.db.pool.acquire().await.unwrap();
    record::insert_rows(&mut conn, &copies).await.expect("insert rows");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM problems WHERE code LIKE 'COPY%'").await, 1000);
    // The first and last rows of a statement, and of the next.
    let per = record::ROWS_PARAMETERS / <Problem as Insert>::COLUMNS.len();
    for i in [0, per - 1, per, 999] {
        let back: Problem = record::find(&app.db, &copies[i].id).await.unwrap().expect("copy read back");
        assert_eq!(serde_json::to_value(&back).unwrap(), serde_json::to_value(&copies[i]).unwrap(), "copy {i}");
    }
    // A part that is not this table's insert is refused, and nothing of the batch is written.
    let stray = Problem { id: "stray".into(), code: "STRAY".into(), ..original.clone() };
    let mut batch = Batch::default();
    stray.stage(&mut batch);
    assert!(batch.run_as_rows(&mut conn, "points", <Problem as Insert>::COLUMNS).await.is_err());
    assert_eq!(app.scalar("SELECT COUNT(*) FROM problems WHERE id = 'stray'").await, 0);
});
