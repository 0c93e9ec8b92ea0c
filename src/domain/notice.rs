//! Notices (通报), work briefs and interviews as the office issues them.

crate::vocab! {
    /// The kinds of notices generated from the data.
    pub enum NoticeKind: "通报类型" {
        Weekly("weekly", "周通报"),
        Daily("daily", "工作日报"),
    }
}

crate::vocab! {
    /// 约谈 or 问责.
    pub enum InterviewKind: "约谈类型" {
        Interview("interview", "约谈"),
        Accountability("accountability", "问责"),
    }
}
