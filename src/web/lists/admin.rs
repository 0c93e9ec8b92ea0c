//! The organisation's lists: areas, responsible units, accounts, supervision teams, audit log.

use crate::domain::audit::{AuditAction, ObjectType};
use crate::domain::org::OrgLevel;
use crate::domain::role::Role;
use crate::domain::unit::UnitKind;
use crate::error::{AppResult, Code};
use crate::service::access::{area_scope, narrow_to_area, users_scope};
use crate::service::audit::AuditLine;
use crate::service::{Ctx, CurrentUser};
use crate::store::PageReq;
use crate::store::audit::AuditFilter;
use crate::store::org::{self, OrgFilter, OrgNodeRow};
use crate::store::teams::{self, TeamRow};
use crate::store::units::{self, UnitFilter, UnitRow};
use crate::store::users::{self, UserFilter, UserRow};
use crate::web::list::*;
use crate::web::pages::area_filter_options;
use crate::web::ui::Opt;
use serde::Deserialize;
use utoipa::IntoParams;

fn is_admin(user: &CurrentUser) -> bool {
    user.role == Role::Admin
}

fn active_tag(active: i64) -> Cell {
    if active == 1 { Cell::Tag("启用".into(), "") } else { Cell::Tag("停用".into(), "off") }
}

fn active_options() -> Vec<Opt> {
    vec![Opt::new("1", "启用"), Opt::new("0", "停用")]
}

/// 区域管理: the administrative tree, a level or one node's children at a time.
pub struct Areas;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct AreaQuery {
    /// district | street | community | compound
    pub level: String,
    /// The children of this node
    pub parent_id: String,
    /// Keyword in name or code
    pub q: String,
}

impl ListSpec for Areas {
    type Query = AreaQuery;
    type Row = OrgNodeRow;
    const META: Meta = Meta::new("区域管理", "/org", "org", "没有符合条件的区域");

    fn columns(user: &CurrentUser) -> Vec<Column<OrgNodeRow>> {
        let admin = is_admin(user);
        vec![
            col("编码", |r: &OrgNodeRow| Cell::text(&r.code)),
            col("名称", |r: &OrgNodeRow| Cell::text(&r.name)),
            col("层级", |r: &OrgNodeRow| Cell::text(r.level.label())),
            col("上级", |r: &OrgNodeRow| Cell::or_dash(r.parent_name.as_deref())),
            table_col("下级数", |r: &OrgNodeRow| match r.child_count {
                0 => Cell::Int(0),
                n => Cell::link(n.to_string(), format!("/org?parent_id={}", r.id)),
            }),
            sheet_col("下级数", |r: &OrgNodeRow| Cell::Int(r.child_count)),
            sheet_col("更新时间", |r: &OrgNodeRow| Cell::Time(Some(r.updated_at))),
            table_col("操作", move |r: &OrgNodeRow| {
                if !admin {
                    return Cell::Actions(vec![Button::link("查看下级", format!("/org?parent_id={}", r.id))]);
                }
                let mut b = vec![Button::link("编辑", format!("/org/{}/edit", r.id))];
                if r.level.child().is_some() {
                    b.push(Button::link("添加下级", format!("/org/new?parent_id={}", r.id)));
                }
                b.push(Button::danger("删除", format!("/org/{}/delete", r.id), format!("确定删除“{}”吗？", r.name)));
                Cell::Actions(b)
            }),
        ]
    }

    async fn load(ctx: &Ctx<'_>, q: &AreaQuery, page: PageReq) -> AppResult<(Vec<OrgNodeRow>, i64)> {
        let f = OrgFilter {
            level: one_of(&q.level, OrgLevel::parse, Code::InvalidLevel, "层级")?,
            parent_id: given(&q.parent_id).map(str::to_string),
            keyword: given(&q.q).map(str::to_string),
            within: area_scope(ctx).await?,
        };
        Ok(org::list(ctx.db, &f, page).await?)
    }

    async fn filters(_ctx: &Ctx<'_>, q: &AreaQuery) -> AppResult<Vec<Field>> {
        Ok(vec![
            Field::select("level", "层级", options(&OrgLevel::ALL, OrgLevel::as_str, OrgLevel::label), &q.level),
            Field::text("q", "名称/编码", "输入关键字", &q.q),
            Field::hidden("parent_id", &q.parent_id),
        ])
    }

    fn buttons(user: &CurrentUser) -> Vec<Button> {
        if is_admin(user) { vec![Button::link("新增区域", "/org/new")] } else { Vec::new() }
    }

    async fn notes(ctx: &Ctx<'_>, q: &AreaQuery) -> AppResult<Vec<Note>> {
        let Some(parent) = given(&q.parent_id) else { return Ok(Vec::new()) };
        let Some(p) = org::get(ctx.db, parent).await? else { return Ok(Vec::new()) };
        let up = match &p.parent_id {
            Some(pp) => ("返回上一级".to_string(), format!("/org?parent_id={pp}")),
            None => ("返回区县".to_string(), "/org?level=district".to_string()),
        };
        let text = format!("当前：{}（{} {}）的下级", p.name, p.level.label(), p.code);
        Ok(vec![Note { text, link: Some(up), warn: false }])
    }
}

/// 责任单位: the responsible units a role may see.
pub struct Units;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct UnitQuery {
    /// government | bank_branch | … (see UnitKind)
    pub kind: String,
    /// Units in this area or below it
    pub area_id: String,
    /// Keyword in name or address
    pub q: String,
    /// 1 active, 0 deactivated
    pub active: String,
}

impl ListSpec for Units {
    type Query = UnitQuery;
    type Row = UnitRow;
    const META: Meta = Meta::new("责任单位", "/units", "units", "没有符合条件的单位");

    fn columns(user: &CurrentUser) -> Vec<Column<UnitRow>> {
        let admin = is_admin(user);
        vec![
            table_col("单位名称", |r: &UnitRow| Cell::link(&r.name, format!("/units/{}", r.id))),
            sheet_col("单位名称", |r: &UnitRow| Cell::text(&r.name)),
            col("类型", |r: &UnitRow| Cell::text(r.kind.label())),
            col("所属区域", |r: &UnitRow| Cell::or_dash(r.area_name.as_deref())),
            col("联系电话", |r: &UnitRow| Cell::text(&r.phone)),
            col("联系人数", |r: &UnitRow| Cell::Int(r.contact_count)),
            col("账号", |r: &UnitRow| Cell::Int(r.user_count)),
            col("状态", |r: &UnitRow| active_tag(r.active)),
            table_col("操作", move |r: &UnitRow| {
                let mut b = vec![Button::link("查看", format!("/units/{}", r.id))];
                if admin {
                    b.push(Button::link("编辑", format!("/units/{}/edit", r.id)));
                }
                Cell::Actions(b)
            }),
        ]
    }

    async fn load(ctx: &Ctx<'_>, q: &UnitQuery, page: PageReq) -> AppResult<(Vec<UnitRow>, i64)> {
        let scope = area_scope(ctx).await?;
        let held = scope.is_some();
        let area_ids = narrow_to_area(ctx.db, scope, given(&q.area_id).map(str::to_string)).await?;
        let only_id = ctx.user.role.needs_unit().then(|| ctx.user.unit_id.clone().unwrap_or_default());
        // A grid or street worker's area holds the units registered there and those answering
        // for its points; the office's area filter is where a unit is registered.
        let (area_ids, serving_area_ids) = if held { (None, area_ids) } else { (area_ids, None) };
        let f = UnitFilter {
            kind: one_of(&q.kind, UnitKind::parse, Code::InvalidKind, "单位类型")?,
            area_ids,
            serving_area_ids,
            keyword: given(&q.q).map(str::to_string),
            active: flag(&q.active, "状态")?,
            only_id,
        };
        Ok(units::list(ctx.db, &f, page).await?)
    }

    async fn filters(ctx: &Ctx<'_>, q: &UnitQuery) -> AppResult<Vec<Field>> {
        Ok(vec![
            Field::select("kind", "单位类型", options(&UnitKind::ALL, UnitKind::as_str, UnitKind::label), &q.kind),
            Field::select("area_id", "所属区域", area_filter_options(ctx).await?, &q.area_id),
            Field::select("active", "状态", active_options(), &q.active),
            Field::text("q", "名称/地址", "输入关键字", &q.q),
        ])
    }

    fn buttons(user: &CurrentUser) -> Vec<Button> {
        if !is_admin(user) {
            return Vec::new();
        }
        vec![Button::link("新增单位", "/units/new"), Button::link("导入Excel", "/units/import")]
    }

    fn elsewhere(user: &CurrentUser) -> Option<String> {
        user.role.needs_unit().then(|| format!("/units/{}", user.unit_id.clone().unwrap_or_default()))
    }

    /// The import's format: a 单位 sheet and a 联系人 sheet.
    async fn export(ctx: &Ctx<'_>, q: &UnitQuery) -> AppResult<Vec<Sheet>> {
        use crate::service::exchange::{CONTACT_COLUMNS, UNIT_COLUMNS, unit_sheets};
        let (rows, _) = Self::load(ctx, q, PageReq::all()).await?;
        let ids: std::collections::HashSet<String> = rows.into_iter().map(|r| r.record.id).collect();
        let full: Vec<_> = units::all(ctx.db).await?.into_iter().filter(|u| ids.contains(&u.id)).collect();
        let (unit_rows, contact_rows) = unit_sheets(ctx.db, &full).await?;
        let headers = |cols: &[crate::service::sheet::Column]| cols.iter().map(|c| c.0).collect();
        Ok(vec![
            Sheet::text("单位", headers(&UNIT_COLUMNS), unit_rows),
            Sheet::text("联系人", headers(&CONTACT_COLUMNS), contact_rows),
        ])
    }
}

/// 用户管理: accounts, all for the office, the own unit's for a unit user.
pub struct Accounts;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct AccountQuery {
    /// admin | supervisor | unit_user | point_lead | grid_worker | evaluator | discipline
    pub role: String,
    pub unit_id: String,
    /// Keyword in username, name or phone
    pub q: String,
    /// 1 active, 0 deactivated
    pub active: String,
}

impl ListSpec for Accounts {
    type Query = AccountQuery;
    type Row = UserRow;
    const META: Meta = Meta::new("用户管理", "/users", "users", "没有符合条件的用户");

    fn columns(user: &CurrentUser) -> Vec<Column<UserRow>> {
        let mut c = vec![
            col("用户名", |r: &UserRow| Cell::text(&r.username)),
            col("姓名", |r: &UserRow| Cell::text(&r.display_name)),
            col("角色", |r: &UserRow| Cell::text(r.role.label())),
            col("所属单位", |r: &UserRow| Cell::text(r.unit_name.clone().unwrap_or_default())),
            col("负责区域", |r: &UserRow| Cell::text(r.area_name.clone().unwrap_or_default())),
            col("手机号", |r: &UserRow| Cell::text(&r.phone)),
            col("状态", |r: &UserRow| active_tag(r.active)),
            sheet_col("更新时间", |r: &UserRow| Cell::Time(Some(r.updated_at))),
        ];
        if is_admin(user) {
            c.push(table_col("操作", |r: &UserRow| {
                Cell::Actions(vec![
                    Button::link("编辑", format!("/users/{}/edit", r.id)),
                    Button::link("重置密码", format!("/users/{}/password", r.id)),
                ])
            }));
        }
        c
    }

    async fn load(ctx: &Ctx<'_>, q: &AccountQuery, page: PageReq) -> AppResult<(Vec<UserRow>, i64)> {
        let scope = users_scope(ctx.user)?;
        let f = UserFilter {
            role: one_of(&q.role, Role::parse, Code::InvalidRole, "角色")?,
            unit_id: scope.or_else(|| given(&q.unit_id).map(str::to_string)),
            keyword: given(&q.q).map(str::to_string),
            active: flag(&q.active, "状态")?,
        };
        Ok(users::list(ctx.db, &f, page).await?)
    }

    async fn filters(ctx: &Ctx<'_>, q: &AccountQuery) -> AppResult<Vec<Field>> {
        let mut f = vec![Field::select("role", "角色", options(&Role::ALL, Role::as_str, Role::label), &q.role)];
        if is_admin(ctx.user) {
            let units = units::all_names(ctx.db).await?.into_iter().map(|(id, n)| Opt::new(id, n)).collect();
            f.push(Field::select("unit_id", "所属单位", units, &q.unit_id));
        }
        f.push(Field::select("active", "状态", active_options(), &q.active));
        f.push(Field::text("q", "用户名/姓名/手机号", "输入关键字", &q.q));
        Ok(f)
    }

    fn buttons(user: &CurrentUser) -> Vec<Button> {
        if is_admin(user) { vec![Button::link("新增用户", "/users/new")] } else { Vec::new() }
    }
}

/// 督导组: the supervision teams.
pub struct Teams;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct TeamQuery {
    /// Keyword in name or theme
    pub q: String,
}

impl ListSpec for Teams {
    type Query = TeamQuery;
    type Row = TeamRow;
    const META: Meta = Meta::new("督导组", "/teams", "teams", "没有符合条件的督导组");

    fn columns(user: &CurrentUser) -> Vec<Column<TeamRow>> {
        let admin = is_admin(user);
        vec![
            table_col("名称", |r: &TeamRow| Cell::link(&r.name, format!("/teams/{}", r.id))),
            sheet_col("名称", |r: &TeamRow| Cell::text(&r.name)),
            col("督导主题", |r: &TeamRow| Cell::text(&r.theme)),
            col("负责区域", |r: &TeamRow| Cell::text(r.area_name.clone().unwrap_or_default())),
            col("组长", |r: &TeamRow| match &r.leader_name {
                Some(n) => Cell::text(n),
                None => Cell::Muted("未指定".into()),
            }),
            col("成员数", |r: &TeamRow| Cell::Int(r.member_count)),
            table_col("操作", move |r: &TeamRow| {
                let mut b = vec![Button::link("查看", format!("/teams/{}", r.id))];
                if admin {
                    b.push(Button::link("编辑", format!("/teams/{}/edit", r.id)));
                }
                Cell::Actions(b)
            }),
        ]
    }

    async fn load(ctx: &Ctx<'_>, q: &TeamQuery, page: PageReq) -> AppResult<(Vec<TeamRow>, i64)> {
        crate::service::teams::require_read(ctx)?;
        Ok(teams::list(ctx.db, given(&q.q), page).await?)
    }

    async fn filters(_ctx: &Ctx<'_>, q: &TeamQuery) -> AppResult<Vec<Field>> {
        Ok(vec![Field::text("q", "名称/主题", "输入关键字", &q.q)])
    }

    fn buttons(user: &CurrentUser) -> Vec<Button> {
        if is_admin(user) { vec![Button::link("新增督导组", "/teams/new")] } else { Vec::new() }
    }
}

/// 审计日志: every change, newest first; it cannot be changed.
pub struct AuditLog;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct AuditQuery {
    /// Actor name contains
    pub actor: String,
    /// point | problem | unit | … (see ObjectType)
    pub object_type: String,
    /// One record's history
    pub object_id: String,
    /// create | update | delete | publish | … or a problem action
    pub action: String,
    /// First day, YYYY-MM-DD (Beijing time)
    pub from: String,
    /// Last day, inclusive, YYYY-MM-DD (Beijing time)
    pub to: String,
}

/// The page of an audited record, or its audit trail when it has no page of its own.
fn object_page(e: &crate::store::audit::AuditEntry) -> String {
    let id = &e.object_id;
    match e.object_type {
        ObjectType::Problem => format!("/problems/{id}"),
        ObjectType::Point => format!("/points/{id}"),
        ObjectType::Unit => format!("/units/{id}"),
        ObjectType::Notice => format!("/notices/{id}"),
        ObjectType::Team => format!("/teams/{id}"),
        ObjectType::User => format!("/users/{id}/edit"),
        ObjectType::OrgNode => format!("/org/{id}/edit"),
        ObjectType::Photo => format!("/photos/{id}"),
        _ => format!("/audit?object_id={id}"),
    }
}

impl ListSpec for AuditLog {
    type Query = AuditQuery;
    type Row = AuditLine;
    const META: Meta = Meta::new("审计日志", "/audit", "audit", "没有符合条件的记录");

    fn columns(_user: &CurrentUser) -> Vec<Column<AuditLine>> {
        vec![
            col("时间", |r: &AuditLine| Cell::Time(Some(r.entry.at))),
            col("操作人", |r: &AuditLine| Cell::text(&r.entry.actor_name)),
            col("动作", |r: &AuditLine| Cell::text(r.entry.action.label())),
            col("对象类型", |r: &AuditLine| Cell::text(r.entry.object_type.label())),
            table_col("对象", |r: &AuditLine| Cell::link(&r.entry.object_label, object_page(&r.entry))),
            sheet_col("对象", |r: &AuditLine| Cell::text(&r.entry.object_label)),
            col("变更内容", |r: &AuditLine| Cell::Changes(r.changes.clone())),
            sheet_col("请求ID", |r: &AuditLine| Cell::text(&r.entry.request_id)),
        ]
    }

    async fn load(ctx: &Ctx<'_>, q: &AuditQuery, page: PageReq) -> AppResult<(Vec<AuditLine>, i64)> {
        let f = AuditFilter {
            actor: given(&q.actor).map(str::to_string),
            object_type: one_of(&q.object_type, ObjectType::parse, Code::InvalidKind, "对象类型")?,
            object_id: given(&q.object_id).map(str::to_string),
            action: one_of(&q.action, AuditAction::parse, Code::InvalidKind, "动作")?,
            from_ms: day(&q.from, false)?,
            to_ms: day(&q.to, true)?,
        };
        crate::service::audit::lines(ctx, &f, page).await
    }

    async fn filters(_ctx: &Ctx<'_>, q: &AuditQuery) -> AppResult<Vec<Field>> {
        let actions = AuditAction::all().into_iter().map(|a| Opt::new(a.as_str(), a.label())).collect();
        Ok(vec![
            Field::text("actor", "操作人", "姓名", &q.actor),
            Field::select(
                "object_type",
                "对象类型",
                options(&ObjectType::ALL, ObjectType::as_str, ObjectType::label),
                &q.object_type,
            ),
            Field::select("action", "动作", actions, &q.action),
            Field::date("from", "开始日期", &q.from),
            Field::date("to", "结束日期", &q.to),
            Field::hidden("object_id", &q.object_id),
        ])
    }

    async fn notes(ctx: &Ctx<'_>, q: &AuditQuery) -> AppResult<Vec<Note>> {
        let mut n = vec![Note {
            text: "审计日志只可追加，任何人（包括管理员）都不能修改或删除。时间为北京时间。".into(),
            link: None,
            warn: false,
        }];
        if let Some(id) = given(&q.object_id) {
            // The object by its name as the log last recorded it, not its internal id.
            let named: Option<(String, String)> = sqlx::query_as(
                "SELECT object_type, object_label FROM audit_log WHERE object_id = $1 ORDER BY at DESC LIMIT 1",
            )
            .bind(id)
            .fetch_optional(&ctx.db.pool)
            .await?;
            let what = match named {
                Some((kind, label)) => {
                    let kind = crate::domain::audit::ObjectType::parse(&kind).map(|k| k.label()).unwrap_or("对象");
                    format!("{kind}“{label}”")
                }
                None => "该对象".into(),
            };
            n.push(Note {
                text: format!("仅显示{what}的记录"),
                link: Some(("显示全部".into(), "/audit".into())),
                warn: false,
            });
        }
        Ok(n)
    }
}
