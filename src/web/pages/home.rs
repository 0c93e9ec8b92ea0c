//! The start page: what needs attention (a unit's score, notices to confirm; the office's drafts
//! and unconfirmed notices) and a few counts, scoped to what the user may see.

use crate::domain::role::Role;
use crate::domain::score::{Class, fmt_points};
use crate::domain::time::{now_ms, to_local};
use crate::error::AppResult;
use crate::service::access::area_scope;
use crate::service::notices::{self, ListQuery};
use crate::service::scoring::{self, SpanKind};
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
    cards: Vec<(&'static str, String, String)>,
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
    let mut cards: Vec<(&'static str, String, String)> = Vec::new();
    let unit = match &ctx.user.unit_id {
        Some(id) => Some(unit_svc::visible(&ctx, id).await?),
        None => None,
    };
    // What a unit answers for first: its score this week, notices to confirm, red flags.
    if let Some(u) = unit.as_ref().filter(|_| ctx.user.role.needs_unit()) {
        let window = u.kind.is_window();
        let class = if window { Class::Window } else { Class::Unit };
        let today = to_local(now_ms()).date_naive();
        let l = scoring::ledger(&ctx, class, &u.id, SpanKind::Week, today).await?;
        cards.push(("本周千分制得分", fmt_points(l.score), format!("/scores/{}/{}", class.as_str(), u.id)));
        let unread = ListQuery { unread: "1".into(), ..Default::default() };
        let (_, n) = notices::list(&ctx, &unread, PageReq::new(Some(1), Some(1))).await?;
        cards.push(("待确认通报", n.to_string(), "/notices?unread=1".into()));
        let flags = crate::store::scoring::red_flags_of(ctx.db, &u.id).await?.len();
        cards.push(("流动红旗", flags.to_string(), format!("/units/{}#red-flags", u.id)));
    }
    // The office: drafts waiting, and who has not confirmed the latest notice.
    if ctx.user.role == Role::Admin {
        let drafts = ListQuery { status: "draft".into(), ..Default::default() };
        let (_, n) = notices::list(&ctx, &drafts, PageReq::new(Some(1), Some(1))).await?;
        cards.push(("待发布通报", n.to_string(), "/notices?status=draft".into()));
        let published = ListQuery { status: "published".into(), ..Default::default() };
        if let Some(latest) = notices::list(&ctx, &published, PageReq::new(Some(1), Some(1))).await?.0.first() {
            let missing = units::count_all(ctx.db).await? - latest.reads;
            cards.push(("最新通报未确认单位", missing.to_string(), format!("/notices/{}", latest.id)));
        }
    }
    let (_, nodes) = org::list(ctx.db, &Default::default(), PageReq::new(Some(1), Some(1))).await?;
    cards.push(("区域", nodes.to_string(), "/org".into()));
    cards.push(("责任单位", unit_count(&ctx).await?.to_string(), "/units".into()));
    if ctx.user.role.sees_teams() {
        let n = teams::list(ctx.db, None, PageReq::new(Some(1), Some(1))).await?.1;
        cards.push(("督导组", n.to_string(), "/teams".into()));
    }
    if ctx.user.role == Role::Admin {
        cards.push(("账号", users::count_all(ctx.db).await?.to_string(), "/users".into()));
    }
    Ok(Home { l: Layout::new(&page.user, "home", "首页"), unit_name: unit.map(|u| u.name), cards })
}
