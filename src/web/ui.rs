//! Shared page furniture: the layout with its role-based left menu, paging, select options and
//! the 导出Excel download.

use crate::domain::role::Role;
use crate::service::CurrentUser;
use crate::store::PageReq;

pub struct MenuItem {
    pub key: &'static str,
    pub label: &'static str,
    pub href: &'static str,
}

pub struct MenuGroup {
    pub label: &'static str,
    pub items: Vec<MenuItem>,
}

/// What every page shows around its content.
pub struct Layout {
    pub title: String,
    pub active: &'static str,
    pub user_name: String,
    pub role_label: &'static str,
    pub csrf: String,
    pub menu: Vec<MenuGroup>,
    pub flash: Option<&'static str>,
    /// The role's main destinations, a thumb's reach away at the bottom of a phone screen
    pub bottom: Vec<MenuItem>,
    /// The bottom bar's lit item: the menu's, unless a page says otherwise (登记 is under 问题台账
    /// in the menu but has its own place at the bottom)
    pub bottom_active: &'static str,
}

/// The bottom bar on a phone: the 3-4 places each role goes to all day.
fn bottom_for(role: Role) -> Vec<MenuItem> {
    let home = MenuItem { key: "home", label: "待办", href: "/" };
    let ledger = MenuItem { key: "problems", label: "台账", href: "/problems" };
    let inbox = MenuItem { key: "inbox", label: "消息", href: "/inbox" };
    match role {
        Role::Evaluator => vec![
            home,
            MenuItem { key: "evaluations", label: "测评", href: "/evaluations" },
            MenuItem { key: "surveys", label: "问卷", href: "/surveys" },
            ledger,
        ],
        Role::Supervisor | Role::GridWorker => vec![
            home,
            MenuItem { key: "file", label: "登记", href: "/problems/new" },
            MenuItem { key: "rounds", label: "今日", href: "/rounds" },
            ledger,
        ],
        Role::UnitUser | Role::PointLead => {
            vec![home, ledger, inbox, MenuItem { key: "notices", label: "通报", href: "/notices" }]
        }
        Role::Admin => vec![home, ledger, MenuItem { key: "dashboard", label: "看板", href: "/dashboard" }, inbox],
        Role::Discipline => vec![
            home,
            ledger,
            MenuItem { key: "interviews", label: "约谈", href: "/interviews" },
            MenuItem { key: "audit", label: "审计", href: "/audit" },
        ],
    }
}

/// Residents' reports: for the office, the grid workers who verify them, and those who watch.
fn citizen_menu(role: Role) -> Option<MenuGroup> {
    if !matches!(role, Role::Admin | Role::GridWorker | Role::Supervisor | Role::Discipline) {
        return None;
    }
    let mut items = vec![
        MenuItem { key: "reports", label: "市民反映", href: "/reports" },
        MenuItem { key: "public", label: "公示与随手拍", href: "/public" },
    ];
    if role == Role::Admin {
        items.push(MenuItem { key: "open311_keys", label: "Open311接口密钥", href: "/open311/keys" });
    }
    Some(MenuGroup { label: "市民参与", items })
}

/// Window service (好差评): the office and its inspectors, and the window units themselves.
fn window_menu(role: Role, no_windows: bool) -> Option<MenuGroup> {
    if no_windows {
        // A unit that serves no window has nothing there.
        return None;
    }
    if role == Role::GridWorker {
        // Window service is not the community's work (their 入户问卷 is under 测评迎检).
        return None;
    }
    let items = vec![
        MenuItem { key: "windows", label: "服务窗口", href: "/windows" },
        MenuItem { key: "rating_cases", label: "差评工单", href: "/rating-cases?state=open" },
        MenuItem { key: "ratings", label: "好差评记录", href: "/ratings" },
        MenuItem { key: "window_figures", label: "评价统计与排名", href: "/windows/figures" },
        MenuItem { key: "mutual", label: "互评互查", href: "/mutual" },
        MenuItem { key: "selections", label: "十佳评选", href: "/selections" },
    ];
    Some(MenuGroup { label: "窗口服务", items })
}

/// The evaluation season (测评迎检): rounds for the office and its evaluators, material submission
/// for the office and the units, surveys, the evaluation system and the city's indicators.
fn evaluation_menu(role: Role) -> Option<MenuGroup> {
    if role == Role::GridWorker {
        // Grid workers enter resident surveys at the door; nothing else of the season is theirs.
        let items = vec![MenuItem { key: "surveys", label: "入户问卷", href: "/surveys" }];
        return Some(MenuGroup { label: "测评迎检", items });
    }
    let mut items = vec![MenuItem { key: "evaluations", label: "模拟测评", href: "/evaluations" }];
    if role != Role::Evaluator {
        items.push(MenuItem { key: "materials", label: "网上申报", href: "/materials" });
    }
    items.push(MenuItem { key: "surveys", label: "问卷调查", href: "/surveys" });
    items.push(MenuItem { key: "indicators", label: "测评体系", href: "/indicators" });
    if matches!(role, Role::Admin | Role::Supervisor | Role::Discipline) {
        items.push(MenuItem { key: "city_indicators", label: "城市指标", href: "/indicators/city" });
    }
    Some(MenuGroup { label: "测评迎检", items })
}

/// Community work: who reports, who watches, who manages volunteers and residents' suggestions.
fn community_menu(role: Role) -> Option<MenuGroup> {
    let mut items = Vec::new();
    if role != Role::Evaluator {
        items.push(MenuItem { key: "daily", label: "每日汇报", href: "/daily-reports" });
    }
    if crate::service::volunteers::reads(role) {
        items.push(MenuItem { key: "volunteers", label: "志愿服务", href: "/volunteers" });
    }
    if role != Role::Evaluator {
        let label = if role.needs_unit() { "居民建议办理" } else { "居民议事" };
        items.push(MenuItem { key: "deliberation", label, href: "/deliberation" });
    }
    if !matches!(role, Role::Evaluator | Role::GridWorker) {
        items.push(MenuItem { key: "civilized", label: "文明单位", href: "/civilized-units" });
    }
    Some(MenuGroup { label: "社区共建", items })
}

fn menu_for(role: Role, no_windows: bool) -> Vec<MenuGroup> {
    let mut desk = vec![MenuItem { key: "home", label: "首页", href: "/" }];
    if crate::service::dashboard::may_view(role) {
        desk.push(MenuItem { key: "dashboard", label: "数据看板", href: "/dashboard" });
    }
    let mut groups = vec![MenuGroup { label: "工作台", items: desk }];
    let mut org = vec![MenuItem { key: "org", label: "区域管理", href: "/org" }];
    org.push(MenuItem {
        key: "units", label: if role.needs_unit() { "本单位" } else { "责任单位" }, href: "/units"
    });
    if role.sees_teams() {
        org.push(MenuItem { key: "teams", label: "督导组", href: "/teams" });
    }
    groups.push(MenuGroup { label: "组织架构", items: org });
    groups.push(MenuGroup {
        label: "网格与点位",
        items: vec![
            MenuItem { key: "points", label: "点位台账", href: "/points" },
            MenuItem { key: "map", label: "点位地图", href: "/map" },
            MenuItem { key: "grids", label: "网格", href: "/grids" },
            MenuItem { key: "standards", label: "标准台账", href: "/standards" },
        ],
    });
    let mut work = vec![
        MenuItem { key: "rounds", label: "今日工作", href: "/rounds" },
        MenuItem { key: "problems", label: "问题台账", href: "/problems" },
        MenuItem { key: "kpi", label: "整改指标", href: "/kpi" },
    ];
    if matches!(role, Role::Admin | Role::Supervisor | Role::Discipline) {
        work.push(MenuItem { key: "escalation", label: "督办问责", href: "/escalation" });
    }
    work.push(MenuItem { key: "inbox", label: "消息", href: "/inbox" });
    groups.push(MenuGroup { label: "问题整改", items: work });
    groups.extend(citizen_menu(role));
    groups.extend(window_menu(role, no_windows));
    groups.extend(evaluation_menu(role));
    groups.extend(community_menu(role));
    groups.push(MenuGroup {
        label: "考核排名",
        items: vec![
            MenuItem { key: "scores", label: "千分制排名", href: "/scores" },
            MenuItem { key: "annual", label: "年度考核", href: "/scores/annual" },
            MenuItem { key: "awards", label: "红旗与表扬", href: "/scores/awards" },
            MenuItem { key: "notices", label: "通报简报", href: "/notices" },
        ],
    });
    if matches!(role, Role::Admin | Role::Supervisor | Role::Discipline) || role.needs_unit() {
        groups.last_mut().expect("group").items.push(MenuItem {
            key: "interviews",
            label: "约谈问责",
            href: "/interviews",
        });
    }
    let mut sys = Vec::new();
    if role == Role::Admin {
        sys.push(MenuItem { key: "score_rules", label: "评分规则", href: "/scores/rules" });
    }
    if role == Role::Admin || role == Role::UnitUser {
        sys.push(MenuItem { key: "users", label: "用户管理", href: "/users" });
    }
    if role == Role::Admin {
        sys.push(MenuItem { key: "levels", label: "联系人层级", href: "/settings/contact-levels" });
        sys.push(MenuItem { key: "point_types", label: "点位类型", href: "/settings/point-types" });
    }
    sys.push(MenuItem { key: "calendar", label: "工作日历", href: "/settings/calendar" });
    if role == Role::Admin {
        sys.push(MenuItem { key: "deliveries", label: "消息推送记录", href: "/deliveries" });
    }
    if role.reads_audit() {
        sys.push(MenuItem { key: "audit", label: "审计日志", href: "/audit" });
    }
    sys.push(MenuItem { key: "password", label: "修改密码", href: "/account/password" });
    sys.push(MenuItem { key: "two_step", label: "两步验证", href: "/account/two-step" });
    groups.push(MenuGroup { label: "系统管理", items: sys });
    groups
}

/// Messages shown after a redirect (`?ok=…`).
pub fn flash(ok: Option<&str>) -> Option<&'static str> {
    match ok? {
        "created" => Some("已新增"),
        "saved" => Some("已保存"),
        "deleted" => Some("已删除"),
        "password" => Some("密码已修改"),
        "two_step_off" => Some("两步验证已停用"),
        "two_step_reset" => Some("已重置该账号的两步验证，其登录已全部退出"),
        "clean" => Some("已记录：该点位检查无问题"),
        "published" => Some("已发布"),
        _ => None,
    }
}

impl Layout {
    pub fn new(user: &CurrentUser, active: &'static str, title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            active,
            user_name: user.display_name.clone(),
            role_label: user.role.label(),
            csrf: user.csrf.clone(),
            menu: menu_for(user.role, user.no_windows),
            flash: None,
            bottom: bottom_for(user.role),
            bottom_active: active,
        }
    }

    pub fn on_bottom(mut self, key: &'static str) -> Layout {
        self.bottom_active = key;
        self
    }

    pub fn with_flash(mut self, ok: Option<&str>) -> Layout {
        self.flash = flash(ok);
        self
    }
}

/// The pager under a list: "共 N 条，第 p/q 页" with first, previous and next links that keep the
/// filters. Offset lists link page numbers; keyset lists (the problem ledger) link cursors, so a
/// deep page costs what the first one does, and carry the page number `n` for display only.
pub struct Pager {
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    /// False when the count stopped at a cap (more than `total`; the number of pages is unknown)
    pub exact: bool,
    base: String,
    /// Keyset lists: the cursors to continue after / before
    cursors: Option<(Option<String>, Option<String>)>,
}

impl Pager {
    /// `raw_query` is the current query string; its paging and export parameters are dropped.
    pub fn new(raw_query: Option<&str>, req: PageReq, total: i64) -> Pager {
        let pages = ((total + req.size - 1) / req.size).max(1);
        Pager { page: req.page, pages, total, exact: true, base: base_query(raw_query), cursors: None }
    }

    /// A keyset list's pager: `page` is the number the link carried (`n`), 1 without a previous page.
    pub fn keyset(
        raw_query: Option<&str>,
        (page, size): (i64, i64),
        (total, exact): (i64, bool),
        next: Option<String>,
        prev: Option<String>,
    ) -> Pager {
        let pages = ((total + size - 1) / size).max(1);
        let page = if prev.is_none() {
            1
        } else if exact {
            page.clamp(1, pages)
        } else {
            page.max(1)
        };
        Pager { page, pages, total, exact, base: base_query(raw_query), cursors: Some((next, prev)) }
    }

    fn href(&self, extra: &str) -> String {
        if self.base.is_empty() { format!("?{extra}") } else { format!("?{}&{extra}", self.base) }
    }

    pub fn first_href(&self) -> Option<String> {
        (self.page > 2).then(|| if self.base.is_empty() { "?".into() } else { format!("?{}", self.base) })
    }

    pub fn prev_href(&self) -> Option<String> {
        match &self.cursors {
            Some((_, prev)) => prev.as_ref().map(|c| self.href(&format!("before={c}&n={}", (self.page - 1).max(1)))),
            None => (self.page > 1).then(|| self.href(&format!("page={}", self.page - 1))),
        }
    }

    pub fn next_href(&self) -> Option<String> {
        match &self.cursors {
            Some((next, _)) => next.as_ref().map(|c| self.href(&format!("after={c}&n={}", self.page + 1))),
            None => (self.page < self.pages).then(|| self.href(&format!("page={}", self.page + 1))),
        }
    }

    pub fn export_href(&self) -> String {
        self.href("export=xlsx")
    }
}

/// The query string without paging, export and flash parameters.
fn base_query(raw_query: Option<&str>) -> String {
    const DROPPED: [&str; 6] = ["page=", "export=", "ok=", "after=", "before=", "n="];
    raw_query
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty() && !DROPPED.iter().any(|p| kv.starts_with(p)))
        .collect::<Vec<_>>()
        .join("&")
}

/// An option of a select box.
pub struct Opt {
    pub value: String,
    pub label: String,
}

impl Opt {
    pub fn new(value: impl Into<String>, label: impl Into<String>) -> Opt {
        Opt { value: value.into(), label: label.into() }
    }
}
