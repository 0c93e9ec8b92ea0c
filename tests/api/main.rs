//! One integration-test binary: every test drives the real server over HTTP on a real database,
//! once on SQLite and once on PostgreSQL (when CHUANGCHENG_TEST_PG names a server).

mod fixtures;
mod helpers;

mod access;
mod api;
mod audit;
mod auth;
mod awards;
mod calendar;
mod citizen;
mod cli;
mod community;
mod concurrency;
mod dashboard;
mod evaluations;
mod evidence;
mod exchange;
mod forms;
mod hostile;
mod indicators;
mod instances;
mod kpi;
mod ledger;
mod materials;
mod mutual;
mod notices;
mod notify;
mod open311;
mod ops;
mod org;
mod photos;
mod points;
mod problems;
mod schema;
mod scoring;
mod search;
mod standards;
mod surveys;
mod today;
mod two_step;
mod ui;
mod units;
mod users;
mod windows;
