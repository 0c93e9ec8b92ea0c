//! Community work over the API: the year's 文明单位 applications.

use super::{ErrorBody, Page, list_endpoint};
use crate::service::civilized::{ApplicationLine, ApplicationQuery};
use crate::web::lists::CivilizedUnits;

list_endpoint! {
    /// The year's 文明单位 applications the caller may read (the office all, a unit its own):
    /// by year (this year when empty), state and a word of the unit's name, reviewed ones by total.
    civilized_units: CivilizedUnits, ApplicationQuery, ApplicationLine, "/civilized-units", "community"
}
