use crate::both;
use crate::fixtures::bulk_problems;
use crate::helpers::*;
use chuangcheng::domain::time::now_ms;
use reqwest::StatusCode;
use serde_json::json;

both!(a_units_page_is_its_responsibility_ledger, |app: TestApp| async move {
    let b = app.login("unit").await;
    let unit = app.id_of("SELECT unit_id FROM users WHERE username = 'unit'").await;
    let points = app.scalar(&format!("SELECT COUNT(*) FROM points WHERE unit_id = '{unit}'")).await;
    assert!(points > 10);
    let (status, html) = b.get(&format!("/units/{unit}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("责任点位（{points}个）")));
    assert!(html.contains("包保领导") && html.contains("打印责任台账") && html.contains("data-print"));
    assert!(
        html.contains("按新版测评标准完成责任点位自查") && html.contains("逾期"),
        "the overdue demo task is flagged"
    );
    assert!(!html.contains("下达任务"), "only the office assigns tasks");
});

both!(the_office_assigns_tasks_and_units_report_progress, |app: TestApp| async move {
    let admin = app.api_login("admin").await;
    let unit = app.id_of("SELECT unit_id FROM users WHERE username = 'bank'").await;
    let own_point = app.id_of(&format!("SELECT id FROM points WHERE unit_id = '{unit}'")).await;
    let other_point =
        app.id_of(&format!("SELECT id FROM points WHERE unit_id <> '{unit}' ORDER BY code LIMIT 1")).await;
    let (status, e) = admin
        .post(
            &format!("/api/v1/units/{unit}/tasks"),
            json!({"title": "", "due_date": "2026-02-30", "point_id": other_point, "status": "later"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = field_codes(&e).into_iter().map(|f| f.0).collect();
    assert_eq!(fields, ["title", "due_date", "status", "point_id"]);
    let (status, t) = admin.post(&format!("/api/v1/units/{unit}/tasks"), json!({"title": "增设无障碍求助门铃", "due_date": "2026-12-20", "point_id": own_point, "owner_name": "赵晓燕"})).await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    assert_eq!(t["status"], "todo");
    let id = t["id"].as_str().unwrap().to_string();
    let bank = app.api_login("bank").await;
    let (_, list) = bank.get(&format!("/api/v1/units/{unit}/tasks")).await;
    assert!(list.as_array().unwrap().iter().any(|x| x["id"] == id.as_str() && x["point_name"].is_string()));
    // The unit reports progress but cannot move its deadline.
    let (status, e) = bank
        .put(
            &format!("/api/v1/tasks/{id}"),
            json!({"title": "增设无障碍求助门铃", "due_date": "2027-06-30", "point_id": own_point, "status": "doing",
                   "version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&e), [("title".to_string(), "office_only".to_string())]);
    let (status, t2) = bank.put(&format!("/api/v1/tasks/{id}"), json!({"title": "增设无障碍求助门铃", "due_date": "2026-12-20", "point_id": own_point, "status": "done", "note": "已安装", "version": 1})).await;
    assert_eq!(status, StatusCode::OK, "{t2}");
    assert_eq!(t2["status"], "done");
    assert_eq!(app.scalar(&format!("SELECT COUNT(*) FROM audit_log WHERE object_id = '{id}'")).await, 2);
    // Another unit neither sees nor changes it; a unit cannot assign tasks.
    let other = app.api_login("unit").await;
    assert_eq!(other.get(&format!("/api/v1/units/{unit}/tasks")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        other
            .put(&format!("/api/v1/tasks/{id}"), json!({"title": "x", "due_date": "2026-12-20", "status": "todo"}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let own_unit = app.id_of("SELECT unit_id FROM users WHERE username = 'unit'").await;
    assert_eq!(
        other
            .post(&format!("/api/v1/units/{own_unit}/tasks"), json!({"title": "自己给自己", "due_date": "2026-12-20"}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    // The page form does the same for the office.
    let b = app.login("admin").await;
    let (status, _, _) = b
        .post(
            &format!("/units/{unit}/tasks"),
            &[("title", "检查便民服务箱"), ("due_date", "2026-12-31"), ("point_id", ""), ("owner_name", "")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, html, _) = b.post(&format!("/units/{unit}/tasks"), &[("title", "缺日期"), ("due_date", "")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("完成时限应为有效日期"));
});

/// 20,200 open, overdue problems alternating between a point of 金狮社区 and one of 百合社区
/// (after one filed through the API as their template); 金狮社区's id.
async fn bulk_in_two_communities(app: &TestApp) -> String {
    let jinshi = app.id_of("SELECT id FROM org_nodes WHERE name = '金狮社区'").await;
    let baihe = app.id_of("SELECT id FROM org_nodes WHERE name = '百合社区'").await;
    let at = |c: &str| format!("SELECT id FROM points WHERE community_id = '{c}' ORDER BY code LIMIT 1");
    let (a, b) = (app.id_of(&at(&jinshi)).await, app.id_of(&at(&baihe)).await);
    let t = app
        .api_login("admin")
        .await
        .file_ok(
            json!({"point_id": a, "category": "市容环境·暴露垃圾", "description": "模板问题", "source": "supervision"}),
        )
        .await;
    bulk_problems(app, t["id"].as_str().unwrap(), (&a, &b), 20_200).await;
    jinshi
}

both!(a_large_areas_ledger_pages_in_order, |app: TestApp| async move {
    // An area holding more problems than the ledger counts exactly (10,000) is read another way
    // on SQLite (walked in the page's order): its pages are still exactly the area's, in order.
    let admin = app.api_login("admin").await;
    let jinshi = bulk_in_two_communities(&app).await;
    let area = chuangcheng::store::org::subtree_ids(&app.db, &jinshi).await.unwrap();
    let within = area.iter().map(|i| format!("'{i}'")).collect::<Vec<_>>().join(",");
    let in_area = app.scalar(&format!("SELECT COUNT(*) FROM problems WHERE community_id IN ({within})")).await;
    assert!(in_area > 10_000, "{in_area}");
    for (query, order) in [
        ("", "found_at DESC, id DESC"),
        ("&sort=found_asc", "found_at ASC, id ASC"),
        ("&overdue=1&sort=deadline_asc", "COALESCE(deadline_at, 0) ASC, id ASC"),
    ] {
        let clock = if query.contains("overdue") {
            format!("AND state IN ('dispatched', 'acknowledged', 'submitted') AND deadline_at < {}", now_ms())
        } else {
            String::new()
        };
        let expected: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT id FROM problems WHERE community_id IN ({within}) {clock} ORDER BY {order} LIMIT 40"
        ))
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
        let (status, p1) = admin.get(&format!("/api/v1/problems?area_id={jinshi}&size=20{query}")).await;
        assert_eq!(status, StatusCode::OK, "{p1}");
        assert_eq!(p1["total_exact"], false, "{query}: more than the cap");
        let cursor = p1["next_cursor"].as_str().unwrap().to_string();
        let (status, p2) = admin.get(&format!("/api/v1/problems?area_id={jinshi}&size=20{query}&after={cursor}")).await;
        assert_eq!(status, StatusCode::OK, "{p2}");
        let ids: Vec<&str> = [&p1, &p2]
            .iter()
            .flat_map(|p| p["items"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()))
            .collect();
        assert_eq!(ids, expected, "{query}: two pages, the area's problems in order");
    }
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_plans_with_counted_figures_where_its_sample_cannot_see() {
    // SQLite's ANALYZE reads an index's first thousand rows, which share their state or their
    // community: it then believes each state holds about a thousand problems (and counted a
    // street's problems to re-check through the city's state index, 58 ms against 2 ms at 3.3
    // million). The refreshed statistics count those first columns, and every open connection
    // plans with them. (PostgreSQL's ANALYZE samples rows across the whole table; this
    // concerns SQLite only.)
    let app = AppBuilder::new(Backend::Sqlite).spawn().await.expect("sqlite app");
    app.run(|app: TestApp| async move {
        let admin = app.api_login("admin").await;
        let jinshi = bulk_in_two_communities(&app).await;
        for (state, every) in [("submitted", 3), ("closed", 5)] {
            sqlx::query(&format!(
                "UPDATE problems SET state = '{state}' WHERE id LIKE 'bbbb-%' AND CAST(substr(id, 6) AS INTEGER) % {every} = 0"
            ))
            .execute(&app.db.pool)
            .await
            .unwrap();
        }
        // The sampled figures alone, on a reader connection: about a thousand rows per state.
        let mut reader = app.db.pool.acquire().await.unwrap();
        sqlx::query("PRAGMA analysis_limit = 1000").execute(&mut *reader).await.unwrap();
        sqlx::query("ANALYZE").execute(&mut *reader).await.unwrap();
        let (rows, states) = (
            app.scalar("SELECT COUNT(*) FROM problems").await,
            app.scalar("SELECT COUNT(DISTINCT state) FROM problems").await,
        );
        let exact = (rows + states - 1) / states;
        let sampled = state_figures(&mut reader).await;
        assert!((1000..=1001).contains(&sampled) && exact > 2 * sampled, "sampled {sampled}, exact {exact}");
        let before = schema_version(&mut reader).await;
        // Refreshed by the background job's routine (on the writer's connection): counted.
        app.db.refresh_statistics().await.unwrap();
        assert_eq!(state_figures(&mut reader).await, exact, "rows per state, counted");
        // The schema's version moved, so the reader that planned with the sampled figures reads
        // the counted ones before its next statement (SQLite's own ANALYZE does not move it).
        assert!(schema_version(&mut reader).await > before);
        // The ledger still counts a street's problems to re-check exactly.
        let street = app.id_of(&format!("SELECT parent_id FROM org_nodes WHERE id = '{jinshi}'")).await;
        let area = chuangcheng::store::org::subtree_ids(&app.db, &street).await.unwrap();
        let within = area.iter().map(|i| format!("'{i}'")).collect::<Vec<_>>().join(",");
        let n = app
            .scalar(&format!("SELECT COUNT(*) FROM problems WHERE state = 'submitted' AND community_id IN ({within})"))
            .await;
        let (status, p) = admin.get(&format!("/api/v1/problems?area_id={street}&state=submitted&size=1")).await;
        assert_eq!(status, StatusCode::OK, "{p}");
        assert!(n > 1000, "{n}");
        assert_eq!(p["total"].as_i64(), Some(n), "{p}");
        // The next hour's refresh analyzes no table that has not moved by a fifth (ANALYZE holds
        // the writer for seconds at ten million problems): the problems' counted figures stay,
        // and with nothing analyzed no connection is made to reload the schema. (The background
        // job may have added a table's first alerts meanwhile: those are analyzed.)
        let before = schema_version(&mut reader).await;
        let analyzed = app.db.refresh_statistics().await.unwrap();
        assert!(!analyzed.iter().any(|t| t == "problems" || t == "points"), "{analyzed:?}");
        assert_eq!(state_figures(&mut reader).await, exact);
        if analyzed.is_empty() {
            assert_eq!(schema_version(&mut reader).await, before);
        }
        // A table whose rows moved since its statistics were taken (here: recorded as twice its
        // rows) is analyzed again.
        let points = app.scalar("SELECT COUNT(*) FROM points").await;
        let recorded = || {
            app.scalar(
                "SELECT MIN(CAST(substr(stat, 1, instr(stat || ' ', ' ') - 1) AS INTEGER)) FROM sqlite_stat1 WHERE tbl = 'points'",
            )
        };
        sqlx::query(&format!(
            "UPDATE sqlite_stat1 SET stat = '{}' || substr(stat, instr(stat || ' ', ' ')) WHERE tbl = 'points'",
            points * 2
        ))
        .execute(&app.db.pool)
        .await
        .unwrap();
        assert_eq!(recorded().await, points * 2);
        let before = schema_version(&mut reader).await;
        let analyzed = app.db.refresh_statistics().await.unwrap();
        assert!(analyzed.iter().any(|t| t == "points") && !analyzed.iter().any(|t| t == "problems"), "{analyzed:?}");
        assert_eq!(recorded().await, points);
        assert!(schema_version(&mut reader).await > before);
        // An index a migration adds has no statistics: it is analyzed alone, once.
        sqlx::query("CREATE INDEX points_by_name_for_test ON points (name)").execute(&app.db.pool).await.unwrap();
        let analyzed = app.db.refresh_statistics().await.unwrap();
        assert!(analyzed.iter().any(|t| t == "points_by_name_for_test") && !analyzed.iter().any(|t| t == "points"), "{analyzed:?}");
        let stat = app.scalar("SELECT COUNT(*) FROM sqlite_stat1 WHERE idx = 'points_by_name_for_test'").await;
        assert_eq!(stat, 1);
        let analyzed = app.db.refresh_statistics().await.unwrap();
        assert!(!analyzed.iter().any(|t| t == "points_by_name_for_test"), "{analyzed:?}");
    })
    .await;
}

/// SQLite's rows per state, as its statistics say.
async fn state_figures(conn: &mut sqlx::AnyConnection) -> i64 {
    let stat: String = sqlx::query_scalar("SELECT stat FROM sqlite_stat1 WHERE idx = 'problems_state_deadline'")
        .fetch_one(conn)
        .await
        .unwrap();
    stat.split(' ').nth(1).unwrap().parse::<i64>().unwrap()
}

async fn schema_version(conn: &mut sqlx::AnyConnection) -> i64 {
    sqlx::query_scalar::<_, i64>("PRAGMA schema_version").fetch_one(conn).await.unwrap()
}

both!(a_list_past_its_last_page_or_a_ledger_with_a_bad_sort_says_so_in_chinese, |app: TestApp| async move {
    let b = app.login("admin").await;
    let (status, html) = b.get("/units?page=9999").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"past-last\"") && html.contains("第 9999 页已超出末页"), "{html}");
    assert!(html.contains(">首页<"), "a way back");
    let (status, html) = b.get("/problems?sort=zzz").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("排序方式“zzz”无效，应为发现时间（新→旧）（found_desc）"), "{html}");
    let (status, html) = b.get("/problems?type_id=abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("所选点位类型不存在"), "{html}");
});
