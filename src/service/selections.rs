//! 十佳 selections (十佳大堂经理, 十佳文明服务标兵): window units nominate their staff with their
//! deeds, the office shortlists and opens the vote, staff (signed in) and the public (a mobile
//! number confirmed by a text-message code) vote once a day each, and the office publishes the
//! result: the best `winners` by weighted votes, each winner's unit commended in the 千分制.

use super::access::require_admin;
use super::{Ctx, CurrentUser};
use crate::domain::code::Code;
use crate::domain::ids::new_id;
use crate::domain::mutual::{NominationState, SelectionKind, SelectionState, weighted};
use crate::domain::role::Role;
use crate::domain::score::{AwardKind, Class};
use crate::domain::time::{now_ms, to_local};
use crate::domain::validate::{FieldErrors, required_text};
use crate::error::{AppError, AppResult};
use crate::store::Db;
use crate::store::selections::{self as store, Nomination, NominationRow, Selection};
use crate::store::{Held, Hold};
use serde::Deserialize;
use std::collections::HashMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SelectionInput {
    #[serde(default)]
    pub title: String,
    /// lobby_manager (十佳大堂经理) | service_star (十佳文明服务标兵)
    #[serde(default)]
    pub kind: String,
    /// How many are selected (default 10)
    #[serde(default, deserialize_with = "crate::domain::validate::number")]
    pub winners: Option<i64>,
    /// Weight of a staff vote and of a public vote (default 1 and 1)
    #[serde(default)]
    pub staff_weight: Option<f64>,
    #[serde(default)]
    pub public_weight: Option<f64>,
}

pub async fn create(ctx: &Ctx<'_>, input: SelectionInput) -> AppResult<Selection> {
    require_admin(ctx.user)?;
    let mut e = FieldErrors::default();
    let title = required_text(&mut e, "title", "评选名称", &input.title, 60);
    let kind = SelectionKind::parse(input.kind.trim());
    if kind.is_none() {
        e.add("kind", Code::InvalidKind, "请选择评选类别");
    }
    let winners = input.winners.unwrap_or(10);
    if !(1..=100).contains(&winners) {
        e.add("winners", Code::TooMany, "评选人数应为1至100");
    }
    let (sw, pw) = (input.staff_weight.unwrap_or(1.0), input.public_weight.unwrap_or(1.0));
    if !(0.0..=100.0).contains(&sw) || !(0.0..=100.0).contains(&pw) || sw + pw <= 0.0 {
        e.add("staff_weight", Code::InvalidRule, "投票权重应为0至100，且不能都为0");
    }
    let (Some(kind), true) = (kind, e.is_empty()) else { return Err(AppError::Validation(e)) };
    let now = now_ms();
    let s = Selection {
        id: new_id(),
        title,
        kind,
        winners,
        state: SelectionState::Nominating,
        staff_weight: sw,
        public_weight: pw,
        created_by: Some(ctx.user.id.clone()).filter(|u| !u.is_empty()),
        published_at: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    ctx.create(&s).await?;
    Ok(s)
}

pub async fn get(db: &Db, id: &str) -> AppResult<Selection> {
    store::get(db, id).await?.ok_or(AppError::NotFound)
}

/// What anyone sees of the nominations: the shortlist while voting, the result once published
/// (the office and the nominating units see every nomination).
pub async fn visible_nominations(db: &Db, s: &Selection, user: Option<&CurrentUser>) -> AppResult<Vec<NominationRow>> {
    let all = store::nominations(db, &s.id).await?;
    let office = user.is_some_and(|u| matches!(u.role, Role::Admin | Role::Discipline));
    Ok(all
        .into_iter()
        .filter(|n| {
            office
                || n.state == NominationState::Shortlisted
                || user.is_some_and(|u| u.unit_id.as_deref() == Some(n.unit_id.as_str()))
        })
        .collect())
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NominateInput {
    /// A staff member of the caller's unit
    #[serde(default)]
    pub staff_id: String,
    /// 事迹
    #[serde(default)]
    pub deeds: String,
}

/// A unit nominates one of its window staff with their deeds (while nominations are open).
pub async fn nominate(ctx: &Ctx<'_>, id: &str, input: NominateInput) -> AppResult<Nomination> {
    let s = get(ctx.db, id).await?;
    if s.state != SelectionState::Nominating {
        return Err(AppError::refuse(Code::CaseNotOpen, "推荐已截止"));
    }
    let staff = crate::store::windows::staff(ctx.db, input.staff_id.trim()).await?;
    let unit = match (&staff, ctx.user.role) {
        (Some(st), Role::Admin) => st.unit_id.clone(),
        (Some(st), Role::UnitUser) if ctx.user.unit_id.as_deref() == Some(st.unit_id.as_str()) => st.unit_id.clone(),
        (Some(_), Role::UnitUser) => {
            return Err(AppError::field("staff_id", Code::NotThisUnit, "只能推荐本单位的人员"));
        }
        (None, _) => return Err(AppError::field("staff_id", Code::Required, "请选择被推荐人")),
        _ => return Err(AppError::Forbidden),
    };
    let mut e = FieldErrors::default();
    let deeds = required_text(&mut e, "deeds", "事迹", &input.deeds, 1000);
    if !deeds.is_empty() && deeds.chars().count() < 20 {
        e.add("deeds", Code::Required, "请写明主要事迹（至少20字）");
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let now = now_ms();
    let n = Nomination {
        id: new_id(),
        selection_id: s.id.clone(),
        unit_id: unit,
        staff_id: input.staff_id.trim().into(),
        deeds,
        state: NominationState::Nominated,
        staff_votes: 0,
        public_votes: 0,
        place: None,
        created_by: Some(ctx.user.id.clone()).filter(|u| !u.is_empty()),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    ctx.create(&n).await?;
    Ok(n)
}

/// The office puts a nomination on the shortlist or leaves it off (while nominating).
pub async fn shortlist(ctx: &Ctx<'_>, nomination_id: &str, on: bool) -> AppResult<Nomination> {
    require_admin(ctx.user)?;
    let old = store::nomination(ctx.db, nomination_id).await?.ok_or(AppError::NotFound)?;
    if get(ctx.db, &old.selection_id).await?.state != SelectionState::Nominating {
        return Err(AppError::refuse(Code::CaseNotOpen, "投票已开始，入围名单不能再改"));
    }
    let state = if on { NominationState::Shortlisted } else { NominationState::Rejected };
    let mut new = Nomination { state, updated_at: now_ms(), ..old.clone() };
    ctx.update(&old, &mut new, Some(old.version)).await?;
    Ok(new)
}

async fn advance(ctx: &Ctx<'_>, old: &Selection, to: SelectionState) -> AppResult<Selection> {
    let now = now_ms();
    let published_at = (to == SelectionState::Published).then_some(now);
    let mut new = Selection { state: to, published_at, updated_at: now, ..old.clone() };
    let mut w = ctx.write().await?;
    w.update_as(crate::domain::audit::Verb::Update, old, &mut new, old.version).await?;
    w.commit().await?;
    Ok(new)
}

/// Opens the vote on the shortlist (the office).
pub async fn open_vote(ctx: &Ctx<'_>, id: &str) -> AppResult<Selection> {
    require_admin(ctx.user)?;
    let s = get(ctx.db, id).await?;
    if s.state != SelectionState::Nominating {
        return Err(AppError::refuse(Code::CaseNotOpen, "投票已开始或已公布"));
    }
    if !store::nominations(ctx.db, id).await?.iter().any(|n| n.state == NominationState::Shortlisted) {
        return Err(AppError::refuse(Code::Required, "请先确定入围名单"));
    }
    advance(ctx, &s, SelectionState::Voting).await
}

fn today() -> String {
    to_local(now_ms()).format("%Y-%m-%d").to_string()
}

async fn cast(db: &Db, s: &Selection, nomination_id: &str, (voter, kind): (&str, &str)) -> AppResult<()> {
    if s.state != SelectionState::Voting {
        return Err(AppError::refuse(Code::CaseNotOpen, "当前不在投票期"));
    }
    let n = store::nomination(db, nomination_id).await?.filter(|n| n.selection_id == s.id);
    if n.is_none_or(|n| n.state != NominationState::Shortlisted) {
        return Err(AppError::field("nomination_id", Code::Required, "请选择入围人员"));
    }
    let mut tx = db.begin().await?;
    // Still voting when the vote is counted (the result may have been published meanwhile).
    if !crate::store::hold(&mut tx, Held::Selections, (&s.id, Some(SelectionState::Voting.as_str())), Hold::Shared)
        .await?
    {
        return Err(AppError::refuse(Code::CaseNotOpen, "投票已结束"));
    }
    if !store::vote(&mut tx, (&s.id, nomination_id), (voter, &today(), kind), now_ms()).await? {
        return Err(AppError::refuse(Code::AlreadyRated, "您今天已经投过票了，明天再来"));
    }
    tx.commit().await?;
    Ok(())
}

/// A signed-in staff member's vote (one a day per account).
pub async fn staff_vote(ctx: &Ctx<'_>, id: &str, nomination_id: &str) -> AppResult<()> {
    let s = get(ctx.db, id).await?;
    cast(ctx.db, &s, nomination_id, (&format!("u:{}", ctx.user.id), "staff")).await
}

/// Texts a code to a public voter's phone (once a minute per phone; valid 10 minutes).
pub async fn send_code(db: &Db, id: &str, phone: &str) -> AppResult<String> {
    let s = get(db, id).await?;
    if s.state != SelectionState::Voting {
        return Err(AppError::refuse(Code::CaseNotOpen, "当前不在投票期"));
    }
    super::phone_codes::send(db, phone, &format!("参加“{}”投票", s.title)).await
}

/// A public vote with the phone's code (five tries per code; one vote per phone a day).
pub async fn public_vote(db: &Db, id: &str, nomination_id: &str, phone: &str, code: &str) -> AppResult<()> {
    let s = get(db, id).await?;
    let key = super::phone_codes::verify(db, phone, code).await?;
    cast(db, &s, nomination_id, (&format!("p:{key}"), "public")).await
}

/// Publishes the result (the office): the shortlist ranked by weighted votes (then public votes,
/// staff votes), the first `winners` placed, and each winner's unit commended in the 千分制.
pub async fn publish(ctx: &Ctx<'_>, id: &str) -> AppResult<Selection> {
    require_admin(ctx.user)?;
    let s = get(ctx.db, id).await?;
    if s.state != SelectionState::Voting {
        return Err(AppError::refuse(Code::CaseNotOpen, "只能在投票结束时公布结果"));
    }
    // The units of the shortlist, read before the write: while it holds the selection, votes
    // waiting for it hold their own connections, and the write must not need another one.
    let mut units = HashMap::new();
    for n in store::nominations(ctx.db, id).await? {
        if let std::collections::hash_map::Entry::Vacant(e) = units.entry(n.unit_id.clone()) {
            e.insert(crate::store::units::get(ctx.db, &n.unit_id).await?.ok_or(AppError::NotFound)?);
        }
    }
    let now = now_ms();
    let published = {
        let mut w = ctx.write().await?;
        // Voting ends first (votes in flight are counted before, later ones refused), then
        // the votes are read inside this write: the places match the counts shown.
        let mut new =
            Selection { state: SelectionState::Published, published_at: Some(now), updated_at: now, ..s.clone() };
        w.update_as(crate::domain::audit::Verb::Publish, &s, &mut new, s.version).await?;
        let mut list: Vec<NominationRow> = store::nominations_in(w.conn(), id)
            .await?
            .into_iter()
            .filter(|n| n.state == NominationState::Shortlisted)
            .collect();
        let score = |n: &NominationRow| weighted(n.staff_votes, n.public_votes, s.staff_weight, s.public_weight);
        list.sort_by(|a, b| {
            score(b)
                .total_cmp(&score(a))
                .then(b.public_votes.cmp(&a.public_votes))
                .then(b.staff_votes.cmp(&a.staff_votes))
        });
        for (i, n) in list.iter().take(s.winners as usize).enumerate() {
            let old = n.record.clone();
            let mut new = Nomination { place: Some(i as i64 + 1), updated_at: now, ..old.clone() };
            w.update(&old, &mut new, old.version).await?;
            let unit = units.get(&n.unit_id).ok_or(AppError::NotFound)?;
            let class = if unit.kind.is_window() { Class::Window } else { Class::Unit };
            let award = crate::store::scoring::Award {
                id: new_id(),
                class,
                target_id: unit.id.clone(),
                target_name: unit.name.clone(),
                kind: AwardKind::Commendation,
                period_start: None,
                period_end: None,
                at: now,
                note: format!("{}：{}（第{}名）", s.title, n.staff_name, i + 1),
                created_by: Some(ctx.user.id.clone()).filter(|u| !u.is_empty()),
                created_at: now,
            };
            w.create(&award).await?;
        }
        w.commit().await?;
        new
    };
    Ok(published)
}
