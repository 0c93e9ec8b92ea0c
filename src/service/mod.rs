//! Use cases shared by the web pages and the JSON API: check access, validate, write, audit,
//! all in one transaction. Handlers only translate HTTP to these calls and back.

pub mod access;
pub mod auth;
pub mod calendar;
pub mod escalation;
pub mod exchange;
pub mod grids;
pub mod interviews;
pub mod kpi;
pub mod notices;
pub mod org;
pub mod photos;
pub mod point_types;
pub mod points;
pub mod points_import;
pub mod problems;
pub mod rounds;
pub mod scoring;
pub mod sheet;
pub mod standards;
pub mod tasks;
pub mod teams;
pub mod units;
pub mod users;

use crate::domain::role::Role;
use crate::error::AppResult;
use crate::store::Db;
use crate::store::audit::{self, Actor, Change};
use serde::{Deserialize, Deserializer};
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
}

impl CurrentUser {
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
        audit::record(conn, &actor, change, now).await?;
        Ok(())
    }
}

/// Empty strings from forms mean "not set".
pub fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

/// Accepts a JSON boolean or a form value ("on", "1", "true", "0", "false").
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum F {
        B(bool),
        S(String),
    }
    Ok(match Option::<F>::deserialize(d)? {
        None => None,
        Some(F::B(b)) => Some(b),
        Some(F::S(s)) => match s.as_str() {
            "on" | "1" | "true" | "yes" => Some(true),
            "0" | "false" | "off" | "no" => Some(false),
            "" => None,
            _ => return Err(serde::de::Error::custom("应为是/否")),
        },
    })
}

/// Accepts a JSON number or a form string for a row version.
pub fn version<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum V {
        N(i64),
        S(String),
    }
    Ok(match Option::<V>::deserialize(d)? {
        None => None,
        Some(V::N(n)) => Some(n),
        Some(V::S(s)) if s.trim().is_empty() => None,
        Some(V::S(s)) => Some(s.trim().parse().map_err(|_| serde::de::Error::custom("版本号应为数字"))?),
    })
}

/// A JSON snapshot of a row for the audit log's before/after.
pub fn snapshot<T: serde::Serialize>(v: &T) -> Option<serde_json::Value> {
    serde_json::to_value(v).ok()
}
