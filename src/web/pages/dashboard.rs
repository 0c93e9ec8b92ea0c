//! 数据看板 and 大屏: one set of figures (`service::dashboard`) drawn for a desk or a phone at
//! `/dashboard`, and for a 1920×1080 screen across a room at `/dashboard/screen`, which reloads
//! its figures every minute without reloading the page.

use crate::service::dashboard::{self as svc, Dashboard, Request};
use crate::web::auth::PageUser;
use crate::web::error::PageResult;
use crate::web::query::Query;
use crate::web::ui::Layout;
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct DashQuery {
    period: Option<String>,
    area_id: Option<String>,
    /// 1: only the figures (the big screen's refresh)
    part: Option<String>,
}

/// The figures plus what the charts read, as JSON safe inside a script element.
pub struct Figures {
    pub d: Dashboard,
    pub json: String,
    /// The query string that reproduces this view (period and area)
    pub query: String,
}

impl Figures {
    fn new(d: Dashboard) -> Figures {
        let json = serde_json::to_string(&serde_json::json!({
            "trend": d.trend, "categories": d.categories, "points": d.points, "heat": d.heat,
        }))
        .unwrap_or_else(|_| "{}".into())
        .replace('<', "\\u003c");
        let mut query = format!("period={}", d.period.as_str());
        if let Some(a) = &d.area {
            query.push_str(&format!("&area_id={}", a.id));
        }
        Figures { d, json, query }
    }

    fn card_class(&self, better: &i8) -> &'static str {
        match better {
            1 => "better",
            -1 => "worse",
            _ => "",
        }
    }

    fn movement(&self, m: &Option<i64>) -> String {
        match m {
            None => "新".into(),
            Some(0) => "–".into(),
            Some(n) if *n > 0 => format!("↑{n}"),
            Some(n) => format!("↓{}", -n),
        }
    }
}

async fn figures(page: &PageUser, q: &DashQuery) -> PageResult<Figures> {
    let cfg = &page.state.config;
    let gcj = cfg.gcj_display();
    let req = Request { period: q.period.clone(), area_id: q.area_id.clone(), gcj };
    Ok(Figures::new(svc::read(&page.ctx(), &req).await?))
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard/index.html")]
pub struct DashPage {
    l: Layout,
    f: Figures,
}

pub async fn page(page: PageUser, Query(q): Query<DashQuery>) -> PageResult<DashPage> {
    let f = figures(&page, &q).await?;
    Ok(DashPage { l: Layout::new(&page.user, "dashboard", "数据看板"), f })
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard/screen.html")]
pub struct ScreenPage {
    f: Figures,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard/figures.html")]
pub struct FiguresPart {
    f: Figures,
}

pub enum Screen {
    Page(Box<ScreenPage>),
    Part(Box<FiguresPart>),
}

impl axum::response::IntoResponse for Screen {
    fn into_response(self) -> axum::response::Response {
        match self {
            Screen::Page(p) => p.into_response(),
            Screen::Part(p) => p.into_response(),
        }
    }
}

pub async fn screen(page: PageUser, Query(q): Query<DashQuery>) -> PageResult<Screen> {
    let f = figures(&page, &q).await?;
    Ok(if q.part.as_deref() == Some("1") {
        Screen::Part(Box::new(FiguresPart { f }))
    } else {
        Screen::Page(Box::new(ScreenPage { f }))
    })
}

/// The same figures as JSON for the page's own scripts (signed in by cookie).
pub async fn data(page: PageUser, Query(q): Query<DashQuery>) -> PageResult<Json<Dashboard>> {
    Ok(Json(figures(&page, &q).await?.d))
}
