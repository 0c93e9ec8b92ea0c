//! Use cases shared by the web pages and the JSON API: check access, validate, write, audit,
//! all in one transaction. Handlers only translate HTTP to these calls and back.

pub mod access;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod civilized;
pub mod daily_reports;
pub mod dashboard;
pub mod deliberation;
pub mod documents;
pub mod escalation;
pub mod evaluations;
pub mod exchange;
pub mod grids;
pub mod indicators;
pub mod interviews;
pub mod kpi;
pub mod materials;
pub mod mutual;
pub mod notices;
pub mod notify;
pub mod org;
pub mod outbound;
pub mod phone_codes;
pub mod photos;
pub mod point_types;
pub mod points;
pub mod points_import;
pub mod problem_actions;
pub mod problems;
pub mod rating_cases;
pub mod ratings;
pub mod reports;
pub mod rounds;
pub mod scoring;
pub mod selections;
pub mod sheet;
pub mod standards;
pub mod surveys;
pub mod tasks;
pub mod teams;
pub mod today;
pub mod two_step;
pub mod units;
pub mod users;
pub mod volunteers;
pub mod weekly_summaries;
pub mod window_figures;
pub mod windows;
pub mod write;

use crate::domain::role::Role;
use crate::error::AppResult;
use crate::store::Db;
use crate::store::audit::{Actor, Change};
use sqlx::AnyConnection;

/// The signed-in user, as every use case sees them.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: Option<String>,
    pub area_id: Option<String>,
    pub session_id: String,
    pub csrf: String,
    /// The user's unit serves no window (好差评): its pages leave window service out of the menu.
    /// Known only on pages (`web::auth::PageUser`); false elsewhere.
    pub no_windows: bool,
}

impl CurrentUser {
    /// An account as it acts at the moment it signs in (before it has a session).
    pub fn signed_in(u: &crate::store::users::User) -> CurrentUser {
        CurrentUser {
            id: u.id.clone(),
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: u.role,
            unit_id: u.unit_id.clone(),
            area_id: u.area_id.clone(),
            session_id: String::new(),
            csrf: String::new(),
            no_windows: false,
        }
    }

    /// The command line acting with office rights (audited as 系统命令行, with no account id).
    pub fn system() -> CurrentUser {
        CurrentUser {
            id: String::new(),
            username: "system".into(),
            display_name: "系统命令行".into(),
            role: Role::Admin,
            unit_id: None,
            area_id: None,
            session_id: String::new(),
            csrf: String::new(),
            no_windows: false,
        }
    }
}

/// Who is acting, on which database, for which request.
pub struct Ctx<'a> {
    pub db: &'a Db,
    pub user: &'a CurrentUser,
    pub request_id: &'a str,
}

impl Ctx<'_> {
    pub async fn audit(&self, conn: &mut AnyConnection, change: Change<'_>, now: i64) -> AppResult<()> {
        let id = (!self.user.id.is_empty()).then_some(self.user.id.as_str());
        let actor = Actor { id, name: &self.user.display_name, request_id: self.request_id };
        crate::store::audit::record(conn, &actor, change, now).await?;
        Ok(())
    }

    /// The same audit entry, added to a batch of statements sent together.
    pub fn stage_audit(&self, b: &mut crate::store::batch::Batch<'_>, change: Change<'_>, now: i64) {
        let id = (!self.user.id.is_empty()).then_some(self.user.id.as_str());
        let actor = Actor { id, name: &self.user.display_name, request_id: self.request_id };
        crate::store::audit::stage(b, &actor, change, now);
    }
}

/// Empty strings from forms mean "not set".
pub fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

pub use crate::domain::validate::{flag, version};

/// A JSON snapshot of a row for the audit log's before/after.
pub fn snapshot<T: serde::Serialize>(v: &T) -> Option<serde_json::Value> {
    serde_json::to_value(v).ok()
}
