//! 创城通 (Chuangcheng): the civilized-city campaign platform.
//!
//! Layout: `domain` (pure rules), `store` (SQLite/PostgreSQL), `service` (use cases with access
//! checks and audit), `web` (pages, JSON API), `demo` (the demo city), `app` (assembly).

pub mod app;
pub mod backup;
pub mod bench;
pub mod config;
pub mod demo;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod media;
pub mod service;
pub mod store;
pub mod web;
