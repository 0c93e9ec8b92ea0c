//! The start page (我的待办): what this person must do now, most urgent first, each item one tap
//! from its action; above it the counters, each opening the records behind it.

use crate::domain::role::Role;
use crate::domain::score::{Class, fmt_points};
use crate::domain::time::{now_ms, to_local};
use crate::service::scoring::{self, SpanKind};
use crate::service::today::{self, TodoSection};
use crate::service::units as unit_svc;
use crate::web::auth::PageUser;
use crate::web::error::PageResult;
use crate::web::ui::Layout;
use askama::Template;
use askama_web::WebTemplate;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct Home {
    l: Layout,
    unit_name: Option<String>,
    /// (label, number, link, urgent)
    cards: Vec<(&'static str, String, String, bool)>,
    sections: Vec<TodoSection>,
    /// Roles that find problems get the button to file one
    files: bool,
}

pub async fn index(page: PageUser) -> PageResult<Home> {
    let ctx = page.ctx();
    let sections = today::todo(&ctx).await?;
    let urgent = ["overdue", "rework", "requests", "to_acknowledge"];
    let mut cards: Vec<(&'static str, String, String, bool)> = sections
        .iter()
        .map(|s| (s.title, s.total.to_string(), s.more.clone(), s.total > 0 && urgent.contains(&s.key)))
        .collect();
    let unit = match &ctx.user.unit_id {
        Some(id) => Some(unit_svc::visible(&ctx, id).await?),
        None => None,
    };
    // A unit also sees where it stands: its score this week and its red flags.
    if let Some(u) = unit.as_ref().filter(|_| ctx.user.role.needs_unit()) {
        let class = if u.kind.is_window() { Class::Window } else { Class::Unit };
        let day = to_local(now_ms()).date_naive();
        let l = scoring::ledger(&ctx, class, &u.id, SpanKind::Week, day).await?;
        cards.push(("本周千分制得分", fmt_points(l.score), format!("/scores/{}/{}", class.as_str(), u.id), false));
        let flags = crate::store::scoring::red_flags_of(ctx.db, &u.id).await?.len();
        cards.push(("流动红旗", flags.to_string(), format!("/units/{}#red-flags", u.id), false));
    }
    let files = matches!(ctx.user.role, Role::Admin | Role::Supervisor | Role::GridWorker | Role::Evaluator);
    Ok(Home {
        l: Layout::new(&page.user, "home", "我的待办"), unit_name: unit.map(|u| u.name), cards, sections, files
    })
}
