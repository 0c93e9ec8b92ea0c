//! What a photo is evidence of.

crate::vocab! {
    /// The record a photo belongs to.
    pub enum PhotoOwner: "照片所属" {
        Point("point", "点位"),
        Problem("problem", "问题"),
    }
}

crate::vocab! {
    /// Why an after-photo may not prove the fix.
    pub enum FlagCode: "证据警告" {
        /// The problem's own before-photo again (re-compressed, resized, cropped, re-lit…)
        ReusedBefore("reused_before", "重复使用整改前照片"),
        /// A photo already on the platform (another problem, another point, an earlier fix)
        ReusedOther("reused_other", "重复使用其他照片"),
        TakenBeforeFound("taken_before_found", "拍摄早于发现"),
        FarFromPoint("far_from_point", "拍摄位置偏远"),
        NoCaptureData("no_capture_data", "无拍摄信息"),
        /// A warning stored as text before warnings carried codes
        Earlier("earlier", "证据警告"),
    }
}

/// One evidence warning on a photo: what it is, in a Chinese sentence, and what shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct EvidenceFlag {
    pub code: FlagCode,
    pub message: String,
    /// The photo this one repeats
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_id: Option<String>,
    /// The problem that photo belongs to (its code)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem_code: Option<String>,
    /// Metres from the point
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<f64>,
    /// When the photo says it was taken (ms)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_at: Option<i64>,
}

impl EvidenceFlag {
    pub fn new(code: FlagCode, message: impl Into<String>) -> EvidenceFlag {
        EvidenceFlag {
            code,
            message: message.into(),
            photo_id: None,
            problem_code: None,
            distance_m: None,
            taken_at: None,
        }
    }

    /// The flags stored on a photo (JSON); warnings stored as plain text keep their text.
    pub fn list(stored: &str) -> Vec<EvidenceFlag> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Flag(EvidenceFlag),
            Text(String),
        }
        let items: Vec<Stored> = serde_json::from_str(stored).unwrap_or_default();
        items
            .into_iter()
            .map(|s| match s {
                Stored::Flag(f) => f,
                Stored::Text(t) => EvidenceFlag::new(FlagCode::Earlier, t),
            })
            .collect()
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
