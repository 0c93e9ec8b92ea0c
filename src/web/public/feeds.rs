//! Atom and RSS feeds of reports, new or closed, per area and category: what a community's
//! WeChat account, a newspaper or a resident's reader follows. Public words only.

use super::gate::CACHE_HEADER;
use crate::domain::citizen;
use crate::store::reports::{self as store, PublicRow};
use crate::web::AppState;
use crate::web::error::PageResult;
use crate::web::query::Query;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct FeedQuery {
    #[serde(default)]
    area: String,
    #[serde(default)]
    category: String,
    /// new (default): newest reports; closed: newly closed ones
    #[serde(default)]
    kind: String,
    /// The public state (待核实, 处置中, 已办结, 不予立案), as on /public
    #[serde(default)]
    state: String,
}

/// XML text with the five special characters escaped.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

/// A time with its zone, as Atom (RFC 3339) and RSS (RFC 2822) want it.
fn rfc3339(ms: i64) -> String {
    crate::domain::time::to_local(ms).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

fn rfc2822(ms: i64) -> String {
    crate::domain::time::to_local(ms).to_rfc2822()
}

struct Feed {
    title: String,
    base: String,
    query: String,
    rows: Vec<PublicRow>,
}

async fn feed(state: &AppState, headers: &HeaderMap, q: FeedQuery) -> PageResult<Feed> {
    let db = &state.db;
    let pq = super::pages::PublicQuery::for_feed(&q.area, &q.category, &q.state);
    let mut f = super::pages::report_filter(db, &pq).await?;
    let closed = q.kind == "closed";
    if closed {
        f.closed = Some(true);
    }
    let mut rows: Vec<PublicRow> = store::newest(db, &f, 50).await?.into_iter().map(PublicRow::for_public).collect();
    if closed {
        rows.sort_by_key(|r| std::cmp::Reverse(r.closed_at));
    }
    let mut title = format!("{}群众反映", if closed { "已办结的" } else { "新的" });
    if !q.category.trim().is_empty() {
        title = format!("{title}·{}", q.category.trim());
    }
    let base = super::pages::base_url(state, headers);
    let query = format!(
        "area={}&category={}&state={}&kind={}",
        crate::domain::urlencode(&q.area),
        crate::domain::urlencode(&q.category),
        crate::domain::urlencode(&q.state),
        crate::domain::urlencode(&q.kind)
    );
    Ok(Feed { title, base, query, rows })
}

fn summary(r: &PublicRow) -> String {
    let mut s = format!("{}。位置：{}", r.description, r.address);
    if let Some(u) = &r.unit_name {
        s.push_str(&format!("。责任单位：{u}"));
    }
    if !r.public_note.is_empty() {
        s.push_str(&format!("。说明：{}", r.public_note));
    }
    s
}

fn when(r: &PublicRow) -> i64 {
    r.closed_at.unwrap_or(r.updated_at).max(r.updated_at)
}

fn respond(content_type: &'static str, xml: String) -> Response {
    let mut res = ([(header::CONTENT_TYPE, content_type)], xml).into_response();
    res.headers_mut().insert(CACHE_HEADER, header::HeaderValue::from_static("60"));
    res
}

pub async fn atom(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<FeedQuery>,
) -> PageResult<Response> {
    let f = feed(&state, &headers, q).await?;
    let updated = f.rows.iter().map(when).max().unwrap_or(0);
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:georss=\"http://www.georss.org/georss\">\n\
         <title>{}</title>\n<id>{}/public/feed.atom?{}</id>\n<link rel=\"self\" href=\"{}/public/feed.atom?{}\"/>\n\
         <link rel=\"alternate\" href=\"{}/public\"/>\n<updated>{}</updated>\n<author><name>文明办</name></author>\n",
        esc(&f.title),
        esc(&f.base),
        esc(&f.query),
        esc(&f.base),
        esc(&f.query),
        esc(&f.base),
        rfc3339(updated)
    );
    for r in &f.rows {
        let state = citizen::public_state(r.state, r.problem_state);
        xml.push_str(&format!(
            "<entry>\n<title>【{}】{}</title>\n<id>urn:chuangcheng:report:{}</id>\n\
             <link href=\"{}/public/reports/{}\"/>\n<published>{}</published>\n<updated>{}</updated>\n\
             <category term=\"{}\"/>\n<summary>{}</summary>\n<georss:point>{} {}</georss:point>\n</entry>\n",
            esc(state),
            esc(&r.category),
            esc(&r.code),
            esc(&f.base),
            esc(&r.code),
            rfc3339(r.created_at),
            rfc3339(when(r)),
            esc(&r.category),
            esc(&summary(r)),
            r.lat,
            r.lng
        ));
    }
    xml.push_str("</feed>\n");
    Ok(respond("application/atom+xml; charset=utf-8", xml))
}

pub async fn rss(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<FeedQuery>,
) -> PageResult<Response> {
    let f = feed(&state, &headers, q).await?;
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\" xmlns:georss=\"http://www.georss.org/georss\">\n<channel>\n\
         <title>{}</title>\n<link>{}/public</link>\n<description>{}</description>\n<language>zh-cn</language>\n",
        esc(&f.title),
        esc(&f.base),
        esc(&f.title)
    );
    for r in &f.rows {
        let state = citizen::public_state(r.state, r.problem_state);
        xml.push_str(&format!(
            "<item>\n<title>【{}】{}</title>\n<link>{}/public/reports/{}</link>\n<guid isPermaLink=\"false\">urn:chuangcheng:report:{}</guid>\n\
             <pubDate>{}</pubDate>\n<category>{}</category>\n<description>{}</description>\n<georss:point>{} {}</georss:point>\n</item>\n",
            esc(state),
            esc(&r.category),
            esc(&f.base),
            esc(&r.code),
            esc(&r.code),
            rfc2822(when(r)),
            esc(&r.category),
            esc(&summary(r)),
            r.lat,
            r.lng
        ));
    }
    xml.push_str("</channel>\n</rss>\n");
    Ok(respond("application/rss+xml; charset=utf-8", xml))
}
