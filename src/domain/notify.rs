//! Messages to units: what happened to a problem, and the group-chat robots that carry it.

crate::vocab! {
    /// What a message tells a unit about a problem (inbox entries, robot posts, alerts sent).
    pub enum NotifyEvent: "消息类型" {
        New("new", "新问题待签收"),
        Reminder("reminder", "问题即将到期"),
        Overdue("overdue", "问题已逾期"),
        Rework("rework", "核查未通过，请返工"),
        TransferRequest("transfer_request", "申请转办"),
        /// The office decided on the unit's extension or transfer request
        Decision("decision", "申请审批结果"),
        /// A resident's report waits for verification (to the grid worker or the office)
        Citizen("citizen", "市民反映待核实"),
    }
}

crate::vocab! {
    /// The group-chat robots a unit can connect.
    pub enum WebhookKind: "机器人类型" {
        Wecom("wecom", "企业微信群机器人"),
        Dingtalk("dingtalk", "钉钉群机器人"),
    }
}

crate::vocab! {
    /// Where a robot delivery stands.
    pub enum DeliveryStatus: "推送状态" {
        Pending("pending", "待发送"),
        Sent("sent", "已发送"),
        Failed("failed", "发送失败"),
    }
}
