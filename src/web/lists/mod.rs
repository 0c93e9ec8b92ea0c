//! The declarations of the platform's lists (see `web::list`): each one serves its page, its
//! API endpoint and its Excel export.

pub mod admin;
pub mod campaign;
pub mod citizen;
pub mod community;
pub mod problems;
pub mod registry;
pub mod windows;

pub use admin::{Accounts, Areas, AuditLog, Teams, Units};
pub use campaign::{Awards, Notices};
pub use citizen::Reports;
pub use community::CivilizedUnits;
pub use problems::Problems;
pub use registry::{Grids, Points};
