//! The demo city, modelled on the seeds (Cangzhou, Yunhe district): a district with six street
//! offices; 公园街道 has 14 communities and 106 compounds; 22 responsible units including bank
//! branches and the government service hall; 4 supervision teams; one account per role.
//! Content is deterministic; `scale` adds copies of the district for load tests.

pub mod citizen;
pub mod community;
pub mod evaluation;
pub mod history;
mod names;
pub mod problems;
pub mod windows;

use crate::domain::audit::Verb;
use crate::domain::geo::rectangle;
use crate::domain::org::OrgLevel;
use crate::domain::role::Role;
use crate::domain::time::now_ms;
use crate::domain::{ids::new_id, unit::UnitKind};
use crate::error::{AppError, AppResult};
use crate::service::auth::{check_password, hash_password};
use crate::service::points::GridIndex;
use crate::store::audit::{self, Actor, Change};
use crate::store::org::OrgNode;
use crate::store::points::Grid;
use crate::store::record::Insert;
use crate::store::teams::Team;
use crate::store::units::{Contact, Unit};
use crate::store::users::User;
use crate::store::{Db, Tx, teams, users};
use names::*;

pub const DEFAULT_PASSWORD: &str = "Demo2026";

pub struct DemoAccount {
    pub username: &'static str,
    pub role: Role,
    pub note: String,
}

pub struct Summary {
    pub created: bool,
    pub admin_password: String,
    pub accounts: Vec<DemoAccount>,
    pub org_nodes: usize,
    pub units: usize,
    pub teams: usize,
    pub points: usize,
}

impl Summary {
    pub fn describe(&self, url: &str) -> String {
        let mut s = String::new();
        s.push_str("\n==================== 创城通 演示城市 ====================\n");
        s.push_str(&format!("访问地址 / open: {url}\n"));
        if !self.created {
            s.push_str("数据库中已有数据，未重新生成演示城市 / database not empty, demo data left as it is\n");
            return s;
        }
        s.push_str(&format!(
            "已生成：区域 {} 个，责任单位 {} 个，督导组 {} 个，点位 {} 个\n",
            self.org_nodes, self.units, self.teams, self.points
        ));
        s.push_str("演示账号 / demo accounts:\n");
        for a in &self.accounts {
            let pw = if a.username == "admin" { &self.admin_password } else { DEFAULT_PASSWORD };
            s.push_str(&format!("  {:<12} 密码 {:<12} {}  {}\n", a.username, pw, a.role.label(), a.note));
        }
        s.push_str("=========================================================\n");
        s
    }
}

/// The liaison account of the demo unit at `index` of `UNITS` (the first and the first bank
/// branch have `unit` and `bank` instead).
pub fn liaison_username(index: usize) -> String {
    format!("dw{:02}", index + 1)
}

/// The people of the demo's accounts: the liaison of unit `index`, supervisor `n`, the named ones.
fn liaison_name(index: usize) -> String {
    person_name(300 + index)
}

fn supervisor_name(n: usize) -> String {
    person_name(200 + n)
}

const NAMED_ACCOUNTS: [&str; 4] = ["王建国", "李卫东", "赵晓燕", "孙丽娟"];

/// Creates the demo city when the database has no accounts yet.
pub async fn seed_if_empty(db: &Db, admin_password: &str, scale: u32) -> AppResult<Summary> {
    let mut e = crate::domain::validate::FieldErrors::default();
    check_password(&mut e, "admin_password", admin_password, "admin");
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    if users::count_all(db).await? > 0 {
        return Ok(Summary {
            created: false,
            admin_password: String::new(),
            accounts: Vec::new(),
            org_nodes: 0,
            units: 0,
            teams: 0,
            points: 0,
        });
    }
    let demo_hash = hash_password(DEFAULT_PASSWORD).await?;
    let admin_hash =
        if admin_password == DEFAULT_PASSWORD { demo_hash.clone() } else { hash_password(admin_password).await? };
    let mut b = Builder { tx: db.begin().await?, now: now_ms(), nodes: 0, units: 0, teams: 0, points: 0 };
    let mut accounts = Vec::new();
    for copy in 0..scale {
        let city = b.district(copy).await?;
        if copy == 0 {
            accounts = b.accounts(&city, &admin_hash, &demo_hash).await?;
        }
    }
    let summary = Summary {
        created: true,
        admin_password: admin_password.to_string(),
        accounts,
        org_nodes: b.nodes,
        units: b.units,
        teams: b.teams,
        points: b.points,
    };
    b.tx.commit().await?;
    crate::service::evaluations::fill_default_leads(db).await?;
    Ok(summary)
}

/// What one copy of the district made, for the accounts that point into it.
struct District {
    big_street: String,
    first_community: String,
    unit_ids: Vec<(String, UnitKind)>,
    team_ids: Vec<String>,
}

struct Builder {
    tx: Tx,
    now: i64,
    nodes: usize,
    units: usize,
    teams: usize,
    points: usize,
}

const ACTOR: Actor<'static> = Actor { id: None, name: "演示数据生成", request_id: "demo" };

impl Builder {
    /// Inserts a record and audits its creation, as the demo's generator.
    async fn create<R: Insert>(&mut self, r: &R) -> AppResult<()> {
        r.insert(&mut self.tx).await?;
        let label = r.label();
        let change = Change {
            action: Verb::Create.into(),
            object_type: R::OBJECT,
            object_id: r.id(),
            object_label: &label,
            before: None,
            after: r.snapshot(),
        };
        audit::record(&mut self.tx, &ACTOR, change, self.now).await?;
        Ok(())
    }

    async fn node(
        &mut self,
        parent: Option<&OrgNode>,
        level: OrgLevel,
        code: String,
        name: String,
    ) -> AppResult<OrgNode> {
        let n = OrgNode {
            id: new_id(),
            parent_id: parent.map(|p| p.id.clone()),
            level,
            code,
            name,
            created_at: self.now,
            updated_at: self.now,
            version: 1,
        };
        self.create(&n).await?;
        self.nodes += 1;
        Ok(n)
    }

    async fn district(&mut self, copy: u32) -> AppResult<District> {
        let (code, name) = district_code_name(copy);
        let suffix = copy_suffix(copy);
        let district = self.node(None, OrgLevel::District, code.clone(), name).await?;
        let mut big_street = String::new();
        let mut first_community = String::new();
        // 公园街道's communities with their compounds' names, for grids and points.
        let mut big_communities: Vec<(OrgNode, Vec<String>)> = Vec::new();
        for (si, street_name) in STREETS.iter().enumerate() {
            let street_code = format!("{code}{:03}", si + 1);
            let street =
                self.node(Some(&district), OrgLevel::Street, street_code.clone(), street_name.to_string()).await?;
            let big = si == BIG_STREET;
            let communities: Vec<&str> = if big { BIG_STREET_COMMUNITIES.to_vec() } else { small_communities(si) };
            for (ci, cname) in communities.iter().enumerate() {
                let community_code = format!("{street_code}{:03}", ci + 1);
                let community =
                    self.node(Some(&street), OrgLevel::Community, community_code.clone(), cname.to_string()).await?;
                if big && ci == 0 {
                    first_community = community.id.clone();
                }
                let compounds = if big { big_street_compounds(ci) } else { 3 };
                let mut names = Vec::new();
                for k in 0..compounds {
                    let cname = compound_name(si, ci, k);
                    names.push(cname.clone());
                    self.node(Some(&community), OrgLevel::Compound, format!("{community_code}{:03}", k + 1), cname)
                        .await?;
                }
                if big {
                    big_communities.push((community, names));
                }
            }
            if big {
                big_street = street.id.clone();
            }
        }
        let mut unit_ids = Vec::new();
        for (ui, (uname, kind, area)) in UNITS.iter().enumerate() {
            let area_id = if *area { Some(big_street.clone()) } else { Some(district.id.clone()) };
            let unit = Unit {
                id: new_id(),
                name: format!("{uname}{suffix}"),
                kind: *kind,
                sector: crate::domain::window::Sector::default_for(*kind),
                area_id,
                address: unit_address(ui),
                phone: landline(ui),
                note: String::new(),
                active: 1,
                created_at: self.now,
                updated_at: self.now,
                version: 1,
            };
            self.create(&unit).await?;
            self.contacts(&unit, ui).await?;
            unit_ids.push((unit.id.clone(), *kind));
            self.units += 1;
        }
        let mut team_ids = Vec::new();
        for (ti, (tname, theme)) in TEAMS.iter().enumerate() {
            let t = Team {
                id: new_id(),
                name: format!("{tname}{suffix}"),
                theme: theme.to_string(),
                area_id: Some(if ti == 1 { big_street.clone() } else { district.id.clone() }),
                leader_id: None,
                created_at: self.now,
                updated_at: self.now,
                version: 1,
                member_ids: Vec::new(),
            };
            self.create(&t).await?;
            team_ids.push(t.id);
            self.teams += 1;
        }
        let grids = self.grids(copy, &big_communities, &unit_ids).await?;
        self.points(copy, &big_communities, &grids, &unit_ids).await?;
        Ok(District { big_street, first_community, unit_ids, team_ids })
    }

    /// Two grids per community of 公园街道 (west and east halves of its cell).
    async fn grids(
        &mut self,
        copy: u32,
        communities: &[(OrgNode, Vec<String>)],
        unit_ids: &[(String, UnitKind)],
    ) -> AppResult<Vec<Grid>> {
        let mut out = Vec::new();
        for (ci, (community, _)) in communities.iter().enumerate() {
            let ((x0, y0), (x1, y1)) = community_cell(copy, ci);
            let mid = (x0 + x1) / 2.0;
            for (k, (a, b)) in [((x0, y0), (mid, y1)), ((mid, y0), (x1, y1))].into_iter().enumerate() {
                let area = rectangle(a, b);
                let (min_lng, min_lat, max_lng, max_lat) = area.bbox();
                let unit = if k == 0 { &unit_ids[0].0 } else { &unit_ids[20 + ci % 2].0 };
                let g = Grid {
                    id: new_id(),
                    code: format!("{}{:03}", community.code, k + 1),
                    name: format!("{}第{}网格", community.name, ["一", "二"][k]),
                    community_id: Some(community.id.clone()),
                    unit_id: Some(unit.clone()),
                    worker_id: None,
                    geometry: area.to_geojson().to_string(),
                    min_lng,
                    min_lat,
                    max_lng,
                    max_lat,
                    created_at: self.now,
                    updated_at: self.now,
                    version: 1,
                };
                self.create(&g).await?;
                out.push(g);
            }
        }
        Ok(out)
    }

    /// The 136 points of 公园街道, every national point type, spread over its communities.
    async fn points(
        &mut self,
        copy: u32,
        communities: &[(OrgNode, Vec<String>)],
        grids: &[Grid],
        unit_ids: &[(String, UnitKind)],
    ) -> AppResult<()> {
        let types =
            sqlx::query_as::<_, (String, String)>("SELECT code, id FROM point_types").fetch_all(&mut *self.tx).await?;
        let index = GridIndex::new(grids);
        let mut n_total = 0;
        let mut lead_points = 0;
        // The accounts' people: a point's lead never carries one of their names (a liaison of
        // another unit named as a point's lead looked like the wrong person answering).
        let account_names: std::collections::HashSet<String> = (0..UNITS.len())
            .map(liaison_name)
            .chain((0..TEAMS.len() * 3).map(supervisor_name))
            .chain(NAMED_ACCOUNTS.iter().map(|n| n.to_string()))
            .collect();
        let mut lead_index = 1000;
        // No two points share a name: a compound already taken gives way to the community's next one.
        let mut used = std::collections::HashSet::new();
        for (kind, count, unit_choices, fixed) in POINT_PLAN {
            let type_id = types.iter().find(|(c, _)| c == kind).map(|(_, id)| id.clone()).unwrap_or_default();
            for n in 0..count {
                let mut ci = (n * 5 + n_total) % communities.len();
                // A compound point goes to the next community that still has a compound without one.
                if kind == "compound" {
                    let free =
                        |c: usize| communities[c].1.iter().any(|k| !used.contains(&point_name(kind, n, "", k, "")));
                    ci = (0..communities.len()).map(|o| (ci + o) % communities.len()).find(|c| free(*c)).unwrap_or(ci);
                }
                let (community, compounds) = &communities[ci];
                let ui = unit_choices[n % unit_choices.len()];
                let outside = kind == "construction" && n < 2;
                let (lng, lat) = spot(community_cell(copy, ci), n_total, outside);
                let unit_name = UNITS[ui].0;
                let choices = compounds.len().max(1);
                let mut name = String::new();
                for step in 0..choices {
                    let compound = compounds.get((n + step) % choices).cloned().unwrap_or_default();
                    name = point_name(kind, n, &community.name, &compound, unit_name);
                    if !used.contains(&name) {
                        break;
                    }
                }
                if used.contains(&name) {
                    name = format!("{name}（{}）", n + 1);
                }
                used.insert(name.clone());
                let mut p = crate::service::points::blank(self.now);
                p.code = format!("{}-{:03}", &community.code[..9], n_total + 1);
                p.name = name;
                p.type_id = type_id.clone();
                p.fixed = fixed as i64;
                p.address = format!("沧州市运河区公园街道{}", community.name);
                p.lng = Some(lng);
                p.lat = Some(lat);
                p.community_id = Some(community.id.clone());
                p.grid_id = index.locate(lng, lat).map(|(g, _)| g.to_string());
                p.unit_id = unit_ids[ui].0.clone();
                // The demo's 点位负责人 account (李卫东, of the first unit) answers for six of its
                // unit's points from the start, so that the problems filed there name him; the
                // other points' leads are people without accounts (names apart from theirs).
                if ui == 0 && lead_points < 6 {
                    lead_points += 1;
                    p.lead_name = NAMED_ACCOUNTS[1].into();
                    p.lead_phone = mobile(902);
                } else {
                    while account_names.contains(&person_name(lead_index)) {
                        lead_index += 1;
                    }
                    p.lead_name = person_name(lead_index);
                    lead_index += 1;
                    p.lead_phone = mobile(1000 + n_total);
                }
                p.backup_name = person_name(700 + n_total);
                p.backup_phone = mobile(700 + n_total);
                p.guarantor_name = person_name(ui * 7 + 1);
                p.guarantor_phone = mobile(ui * 10 + 1);
                self.create(&p).await?;
                n_total += 1;
            }
        }
        self.points += n_total;
        self.tasks(unit_ids).await
    }

    /// A few tasks per unit, due in the coming weeks (one already overdue), as the office assigns them.
    async fn tasks(&mut self, unit_ids: &[(String, UnitKind)]) -> AppResult<()> {
        let today = crate::domain::time::to_local(self.now).date_naive();
        for (ui, (unit_id, _)) in unit_ids.iter().enumerate() {
            for (k, (title, days, status)) in TASKS.iter().enumerate() {
                let due = today + chrono::Duration::days(*days + (ui % 3) as i64);
                let t = crate::store::tasks::Task {
                    id: new_id(),
                    unit_id: unit_id.clone(),
                    unit_name: UNITS[ui].0.to_string(),
                    point_id: None,
                    title: title.to_string(),
                    owner_name: person_name(ui * 7 + 3),
                    due_date: due.format("%Y-%m-%d").to_string(),
                    status: *status,
                    note: if k == 0 { "已完成排查，正在整改".into() } else { String::new() },
                    created_at: self.now,
                    updated_at: self.now,
                    version: 1,
                };
                self.create(&t).await?;
            }
        }
        Ok(())
    }

    async fn contacts(&mut self, unit: &Unit, ui: usize) -> AppResult<()> {
        let levels =
            sqlx::query_as::<_, (String, i64, String)>("SELECT id, seq, name FROM contact_levels ORDER BY seq")
                .fetch_all(&mut *self.tx)
                .await?;
        for (li, (level_id, seq, level_name)) in levels.into_iter().enumerate() {
            let c = Contact {
                id: new_id(),
                unit_id: unit.id.clone(),
                unit_name: unit.name.clone(),
                level_id,
                level_name,
                level_seq: seq,
                name: person_name(ui * 7 + li),
                position: contact_position(unit, li),
                phone: mobile(ui * 10 + li),
                note: String::new(),
                created_at: self.now,
                updated_at: self.now,
                version: 1,
            };
            self.create(&c).await?;
        }
        Ok(())
    }

    /// An unscoped demo account; callers set the unit or area it acts for.
    fn account(&self, username: &str, name: String, role: Role, phone: String, hash: &str) -> User {
        User {
            id: new_id(),
            username: username.into(),
            display_name: name,
            role,
            unit_id: None,
            area_id: None,
            phone,
            password_hash: hash.into(),
            active: 1,
            created_at: self.now,
            updated_at: self.now,
            version: 1,
        }
    }

    async fn save_user(&mut self, u: User) -> AppResult<User> {
        self.create(&u).await?;
        Ok(u)
    }

    /// One account per role (plus the supervisors that staff the four teams).
    async fn accounts(&mut self, city: &District, admin_hash: &str, hash: &str) -> AppResult<Vec<DemoAccount>> {
        let unit_of = |kind: UnitKind| city.unit_ids.iter().find(|(_, k)| *k == kind).map(|(id, _)| id.clone());
        let cgj = city.unit_ids.first().map(|(id, _)| id.clone());
        let bank = unit_of(UnitKind::BankBranch);
        let admin = self.account("admin", "文明办管理员".into(), Role::Admin, mobile(900), admin_hash);
        self.save_user(admin).await?;
        let unit = self.account("unit", NAMED_ACCOUNTS[0].into(), Role::UnitUser, mobile(901), hash);
        self.save_user(User { unit_id: cgj.clone(), ..unit }).await?;
        let lead = self.account("lead", NAMED_ACCOUNTS[1].into(), Role::PointLead, mobile(902), hash);
        self.save_user(User { unit_id: cgj, ..lead }).await?;
        let teller = self.account("bank", NAMED_ACCOUNTS[2].into(), Role::UnitUser, mobile(903), hash);
        self.save_user(User { unit_id: bank.clone(), ..teller }).await?;
        let grid = self.account("grid", NAMED_ACCOUNTS[3].into(), Role::GridWorker, mobile(904), hash);
        let grid = self.save_user(User { area_id: Some(city.first_community.clone()), ..grid }).await?;
        let street = self.account("street", "钱秀英（公园街道办）".into(), Role::GridWorker, mobile(907), hash);
        self.save_user(User { area_id: Some(city.big_street.clone()), ..street }).await?;
        sqlx::query("UPDATE grids SET worker_id = $1 WHERE community_id = $2")
            .bind(&grid.id)
            .bind(&city.first_community)
            .execute(&mut *self.tx)
            .await?;
        // Every other responsible unit has its liaison (创城联络员) account: dw03, dw04, ….
        for (ui, (id, _)) in city.unit_ids.iter().enumerate() {
            if ui == 0 || Some(id) == bank.as_ref() {
                continue;
            }
            let u = self.account(&liaison_username(ui), liaison_name(ui), Role::UnitUser, mobile(300 + ui), hash);
            self.save_user(User { unit_id: Some(id.clone()), ..u }).await?;
        }
        let evaluator = self.account("evaluator", "周明（第三方测评）".into(), Role::Evaluator, mobile(905), hash);
        self.save_user(evaluator).await?;
        let discipline = self.account("discipline", "吴刚（区纪委）".into(), Role::Discipline, mobile(906), hash);
        self.save_user(discipline).await?;
        // Four teams of three supervisors each; the first member leads.
        for (ti, team_id) in city.team_ids.iter().enumerate() {
            let mut members = Vec::new();
            for k in 0..3 {
                let n = ti * 3 + k;
                let username = if n == 0 { "supervisor".to_string() } else { format!("duban{:02}", n + 1) };
                let area = (ti == 1).then(|| city.big_street.clone());
                let u = self.account(&username, supervisor_name(n), Role::Supervisor, mobile(910 + n), hash);
                let u = self.save_user(User { area_id: area, ..u }).await?;
                members.push(u.id);
            }
            teams::set_members(&mut self.tx, team_id, &members).await?;
            sqlx::query("UPDATE teams SET leader_id = $1 WHERE id = $2")
                .bind(&members[0])
                .bind(team_id)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(vec![
            DemoAccount { username: "admin", role: Role::Admin, note: String::new() },
            DemoAccount {
                username: "supervisor",
                role: Role::Supervisor,
                note: "第一督导组组长（另有 duban02-duban12）".into(),
            },
            DemoAccount { username: "unit", role: Role::UnitUser, note: UNITS[0].0.into() },
            DemoAccount { username: "bank", role: Role::UnitUser, note: UNITS[11].0.into() },
            DemoAccount { username: "lead", role: Role::PointLead, note: UNITS[0].0.into() },
            DemoAccount {
                username: "dw02…dw22", role: Role::UnitUser, note: "其余各责任单位的创城联络员".into()
            },
            DemoAccount { username: "grid", role: Role::GridWorker, note: BIG_STREET_COMMUNITIES[0].into() },
            DemoAccount {
                username: "street", role: Role::GridWorker, note: "公园街道办（收社区周汇总）".into()
            },
            DemoAccount { username: "evaluator", role: Role::Evaluator, note: String::new() },
            DemoAccount { username: "discipline", role: Role::Discipline, note: String::new() },
        ])
    }
}
