//! What a photo is evidence of.

crate::vocab! {
    /// The record a photo belongs to.
    pub enum PhotoOwner: "照片所属" {
        Point("point", "点位"),
        Problem("problem", "问题"),
    }
}

crate::vocab! {
    /// What a photo shows.
    pub enum PhotoKind: "照片类型" {
        /// A point's own photo
        Point("point", "点位照片"),
        /// A problem as found
        Before("before", "整改前"),
        /// The fix, for the re-check
        After("after", "整改后"),
    }
}
