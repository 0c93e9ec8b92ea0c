//! Pure domain rules: no IO. Everything here is testable without a database.

pub mod audit;
pub mod calendar;
pub mod code;
pub mod geo;
pub mod ids;
pub mod kpi;
pub mod notice;
pub mod notify;
pub mod org;
pub mod photo;
pub mod problem;
pub mod role;
pub mod score;
pub mod search;
pub mod standard;
pub mod time;
pub mod unit;
pub mod validate;
pub mod vocab;
