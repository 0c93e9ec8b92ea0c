//! The start page: a few counts, scoped to what the user may see.

use crate::error::AppResult;
use crate::service::access::area_scope;
use crate::service::{Ctx, units as unit_svc};
use crate::store::units::UnitFilter;
use crate::store::{PageReq, org, teams, units, users};
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
    /// (label, number, link)
    cards: Vec<(&'static str, i64, &'static str)>,
}

async fn unit_count(ctx: &Ctx<'_>) -> AppResult<i64> {
    let mut f = UnitFilter { area_ids: area_scope(ctx).await?, ..Default::default() };
    if ctx.user.role.needs_unit() {
        f.only_id = Some(ctx.user.unit_id.clone().unwrap_or_default());
    }
    Ok(units::list(ctx.db, &f, PageReq::new(Some(1), Some(1))).await?.1)
}

pub async fn index(page: PageUser) -> PageResult<Home> {
    let ctx = page.ctx();
    let mut cards = Vec::new();
    let (_, nodes) = org::list(ctx.db, &Default::default(), PageReq::new(Some(1), Some(1))).await?;
    cards.push(("区域", nodes, "/org"));
    cards.push(("责任单位", unit_count(&ctx).await?, "/units"));
    if ctx.user.role.sees_teams() {
        cards.push(("督导组", teams::list(ctx.db, None, PageReq::new(Some(1), Some(1))).await?.1, "/teams"));
    }
    if ctx.user.role == crate::domain::role::Role::Admin {
        cards.push(("账号", users::count_all(ctx.db).await?, "/users"));
    }
    let unit_name = match &ctx.user.unit_id {
        Some(id) => Some(unit_svc::visible(&ctx, id).await?.name),
        None => None,
    };
    Ok(Home { l: Layout::new(&page.user, "home", "首页"), unit_name, cards })
}
