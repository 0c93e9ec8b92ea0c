//! One integration-test binary: every test drives the real server over HTTP on a real database,
//! once on SQLite and once on PostgreSQL (when CHUANGCHENG_TEST_PG names a server).

mod helpers;

mod ledger;

mod access;
mod api;
mod audit;
mod auth;
mod calendar;
mod cli;
mod concurrency;
mod exchange;
mod forms;
mod notify;
mod ops;
mod org;
mod photos;
mod points;
mod problems;
mod scoring;
mod standards;
mod ui;
mod units;
mod users;
