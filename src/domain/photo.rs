//! What a photo is evidence of.

crate::vocab! {
    /// The record a photo belongs to.
    pub enum PhotoOwner: "照片所属" {
        Point("point", "点位"),
        Problem("problem", "问题"),
        Report("report", "市民反映"),
        RatingCase("rating_case", "差评申诉"),
        DailyReport("daily_report", "每日汇报"),
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
        /// The photo's own GPS and the phone's position when it sent the photo, just after
        /// taking it, are far apart: one of them is not true
        WitnessesDisagree("witnesses_disagree", "照片与手机定位不符"),
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
    /// Which witness shows it: "exif" (the photo's own data) or "device" (the phone's position
    /// or clock when it uploaded the photo)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness: Option<String>,
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
            witness: None,
        }
    }

    fn by(self, witness: &str) -> EvidenceFlag {
        EvidenceFlag { witness: Some(witness.to_string()), ..self }
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
        /// Taken by the supervisor at the re-check (回头看)
        Recheck("recheck", "回头看"),
    }
}

/// An after-photo taken farther than this from its point is flagged.
pub const MAX_DISTANCE_M: f64 = 300.0;
/// A device clock this far from the server's is named in the time check.
const CLOCK_SKEW_MS: i64 = 2 * 60 * 1000;
/// The device's position at upload stands for where the photo was taken when the photo says
/// it was taken at most this long before (or nothing at all).
const FRESH_MS: i64 = 30 * 60 * 1000;
/// Positions less accurate than this say nothing.
const MAX_ACCURACY_M: f64 = 1000.0;

/// The second witness of an upload: the phone's position (browser geolocation, WGS-84) and clock
/// when it sent the photos. Both are optional; the server's own receipt time is always kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct DeviceWitness {
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// Accuracy radius of the position, metres
    pub accuracy_m: Option<f64>,
    /// The device's clock when it sent the form (UTC epoch milliseconds)
    pub clock_ms: Option<i64>,
}

impl DeviceWitness {
    /// Checks what a client sent; a browser's own readings always pass.
    pub fn check(&self, errors: &mut crate::domain::validate::FieldErrors, now: i64) {
        use crate::domain::code::Code;
        match (self.lng, self.lat) {
            (None, None) => {}
            (Some(lng), Some(lat)) if crate::domain::geo::in_china((lng, lat)) => {}
            _ => errors.add("device", Code::InvalidPosition, "上传时的设备位置无效：经纬度须成对给出且在中国境内"),
        }
        if self.accuracy_m.is_some_and(|a| !a.is_finite() || a < 0.0) {
            errors.add("device", Code::InvalidPosition, "设备定位精度应为不小于0的米数");
        }
        const YEAR_MS: i64 = 366 * 24 * 3600 * 1000;
        if self.clock_ms.is_some_and(|c| (c - now).abs() > 10 * YEAR_MS) {
            errors.add("device", Code::InvalidTime, "上传时的设备时间无效");
        }
    }

    pub fn position(&self) -> Option<(f64, f64)> {
        Some((self.lng?, self.lat?))
    }

    /// What a browser reported, keeping only what can be used: a phone abroad, a wild accuracy
    /// or a clock years off must never stop someone filing (the reading is simply not kept).
    pub fn usable(self, now: i64) -> DeviceWitness {
        let mut errors = crate::domain::validate::FieldErrors::default();
        let position = DeviceWitness { clock_ms: None, ..self };
        position.check(&mut errors, now);
        let keep_position = errors.is_empty();
        let mut errors = crate::domain::validate::FieldErrors::default();
        DeviceWitness { clock_ms: self.clock_ms, ..Default::default() }.check(&mut errors, now);
        DeviceWitness {
            lat: self.lat.filter(|_| keep_position),
            lng: self.lng.filter(|_| keep_position),
            accuracy_m: self.accuracy_m.filter(|_| keep_position),
            clock_ms: self.clock_ms.filter(|_| errors.is_empty()),
        }
    }
}

/// What the time and place checks of an after-photo look at.
#[derive(Debug, Clone, Default)]
pub struct CaptureFacts {
    pub found_at: i64,
    /// The point's position (WGS-84 lng, lat)
    pub point: Option<(f64, f64)>,
    /// EXIF capture time and position
    pub taken_at: Option<i64>,
    pub exif_position: Option<(f64, f64)>,
    /// The server's receipt time
    pub received_at: i64,
    pub device: Option<DeviceWitness>,
}

fn minutes(ms: i64) -> String {
    let m = (ms.abs() + 30_000) / 60_000;
    if m >= 120 { format!("{}小时", (m + 30) / 60) } else { format!("{m}分钟") }
}

/// The time and place warnings of an after-photo. The phone's witness only ever adds a warning
/// (a client that sends a false clock or position cannot clear one the photo itself shows):
/// a capture time before the problem was found, read as it stands or corrected by the phone's
/// clock error; the photo's GPS far from the point, or — when the photo has none — the phone's
/// position at upload, if the photo was taken just before; no capture data at all.
/// How much earlier than the find a before-photo may have been taken (a find written up later
/// the same day is normal; a picture from an earlier day is not today's problem).
pub const BEFORE_PHOTO_SLACK_MS: i64 = 24 * 3600 * 1000;

/// The warnings on a before-photo (整改前照片): taken more than a day before the problem was
/// found, or far from the point. A picture without capture data is not flagged here: many
/// chat apps strip it, and the find is the inspector's own word.
pub fn before_photo_flags(f: &CaptureFacts) -> Vec<EvidenceFlag> {
    use crate::domain::time::fmt_local;
    let shifted = CaptureFacts { found_at: f.found_at - BEFORE_PHOTO_SLACK_MS, ..f.clone() };
    time_place_flags(&shifted)
        .into_iter()
        .filter(|flag| flag.code != FlagCode::NoCaptureData)
        .map(|mut flag| {
            if flag.code == FlagCode::TakenBeforeFound {
                let taken = flag.taken_at.map(fmt_local).unwrap_or_default();
                flag.message = format!(
                    "整改前照片拍摄于{taken}，比问题发现时间{}早一天以上，可能不是本次发现时所拍",
                    fmt_local(f.found_at)
                );
            }
            flag
        })
        .collect()
}

/// How much earlier than the find a photo may read before it is "taken before the find": the
/// find is typed to the minute and a photo's capture time kept to the second, so a photo of the
/// same minute is not earlier (it read "07:58:22早于07:58:22").
pub const FOUND_TIME_SLACK_MS: i64 = 60_000;

pub fn time_place_flags(f: &CaptureFacts) -> Vec<EvidenceFlag> {
    use crate::domain::time::fmt_local;
    let mut flags = Vec::new();
    let device = f.device.unwrap_or_default();
    let skew = device.clock_ms.map(|c| c - f.received_at).filter(|s| s.abs() > CLOCK_SKEW_MS);
    let found_at = f.found_at - FOUND_TIME_SLACK_MS;
    if let Some(t) = f.taken_at {
        let corrected = skew.map(|s| t - s);
        if t < found_at {
            let mut message = format!("拍摄时间{}早于问题发现时间{}", fmt_local(t), fmt_local(f.found_at));
            // A phone whose clock runs slow says so; the supervisor decides, the warning stays.
            if let (Some(c), Some(s)) = (corrected.filter(|c| *c >= found_at), skew) {
                message.push_str(&format!("；但上传时手机时钟慢了{}，按此校正为{}，请核实", minutes(s), fmt_local(c)));
            }
            flags.push(
                EvidenceFlag { taken_at: Some(t), ..EvidenceFlag::new(FlagCode::TakenBeforeFound, message) }.by("exif"),
            );
        } else if let (Some(c), Some(s)) = (corrected.filter(|c| *c < found_at), skew) {
            let way = if s > 0 { "快了" } else { "慢了" };
            let message = format!(
                "上传时手机时钟{way}{}，按此校正，拍摄时间{}早于问题发现时间{}",
                minutes(s),
                fmt_local(c),
                fmt_local(f.found_at)
            );
            flags.push(
                EvidenceFlag { taken_at: Some(c), ..EvidenceFlag::new(FlagCode::TakenBeforeFound, message) }
                    .by("device"),
            );
        }
    }
    let Some(point) = f.point else { return no_capture(flags, f, None) };
    if let Some(pos) = f.exif_position {
        let d = crate::domain::geo::distance_m(pos, point).round();
        if d > MAX_DISTANCE_M {
            let message = format!("照片的拍摄位置距点位{}", crate::domain::geo::fmt_distance(d));
            flags.push(
                EvidenceFlag { distance_m: Some(d), ..EvidenceFlag::new(FlagCode::FarFromPoint, message) }.by("exif"),
            );
        }
        // Sent right after it was taken, the photo should have been taken where the phone was.
        let accuracy = device.accuracy_m.unwrap_or(0.0);
        let just_taken = f.taken_at.is_some_and(|t| f.received_at - (t - skew.unwrap_or(0)) <= FRESH_MS);
        if let Some(phone) = device.position().filter(|_| accuracy <= MAX_ACCURACY_M && just_taken) {
            let apart = crate::domain::geo::distance_m(pos, phone).round();
            if apart - accuracy > MAX_DISTANCE_M {
                let message = format!(
                    "照片记录的拍摄位置与拍摄后随即上传时的手机定位相距{}，二者不符，照片的位置信息可能被改动",
                    crate::domain::geo::fmt_distance(apart)
                );
                flags.push(
                    EvidenceFlag { distance_m: Some(apart), ..EvidenceFlag::new(FlagCode::WitnessesDisagree, message) }
                        .by("device"),
                );
            }
        }
        return no_capture(flags, f, None);
    }
    let accuracy = device.accuracy_m.unwrap_or(0.0);
    let fresh = f.taken_at.is_none_or(|t| f.received_at - (t - skew.unwrap_or(0)) <= FRESH_MS);
    let Some(pos) = device.position().filter(|_| accuracy <= MAX_ACCURACY_M && fresh) else {
        return no_capture(flags, f, None);
    };
    let d = crate::domain::geo::distance_m(pos, point).round();
    if d - accuracy > MAX_DISTANCE_M {
        let message = format!(
            "照片没有位置信息；上传时手机距点位{}（定位精度约{}米）",
            crate::domain::geo::fmt_distance(d),
            accuracy.round()
        );
        flags.push(
            EvidenceFlag { distance_m: Some(d), ..EvidenceFlag::new(FlagCode::FarFromPoint, message) }.by("device"),
        );
    }
    no_capture(flags, f, Some(d))
}

/// A photo without a capture time: the supervisor cannot tell when it was taken; the phone's
/// position, when known, says where it was uploaded.
fn no_capture(mut flags: Vec<EvidenceFlag>, f: &CaptureFacts, device_distance: Option<f64>) -> Vec<EvidenceFlag> {
    if f.taken_at.is_some() {
        return flags;
    }
    let message = match device_distance {
        Some(d) if d <= MAX_DISTANCE_M => {
            format!("照片没有拍摄时间信息（可能不是原图或被处理过）；上传时手机在点位附近（约{d}米）")
        }
        _ => "照片没有拍摄时间信息（可能不是原图或被处理过）".to_string(),
    };
    flags.push(EvidenceFlag::new(FlagCode::NoCaptureData, message));
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    const POINT: (f64, f64) = (116.85, 38.30);
    const FOUND: i64 = 1_790_000_000_000;

    fn facts(taken: Option<i64>, exif: Option<(f64, f64)>, device: Option<DeviceWitness>) -> CaptureFacts {
        CaptureFacts {
            found_at: FOUND,
            point: Some(POINT),
            taken_at: taken,
            exif_position: exif,
            received_at: FOUND + 8 * 3600 * 1000,
            device,
        }
    }

    fn codes(f: &CaptureFacts) -> Vec<(FlagCode, Option<String>)> {
        time_place_flags(f).into_iter().map(|x| (x.code, x.witness)).collect()
    }

    fn near(metres: f64) -> (f64, f64) {
        (POINT.0, POINT.1 + metres / 111_000.0)
    }

    #[test]
    fn the_phone_is_a_second_witness_that_only_adds_warnings() {
        let hour = 3600 * 1000;
        let received = FOUND + 8 * hour;
        let phone = |pos: (f64, f64), clock: i64| DeviceWitness {
            lng: Some(pos.0),
            lat: Some(pos.1),
            accuracy_m: Some(20.0),
            clock_ms: Some(clock),
        };
        // A genuine fix: taken after finding, at the point, phone agrees.
        assert!(codes(&facts(Some(received - 60_000), Some(near(30.0)), Some(phone(near(10.0), received)))).is_empty());
        // The same minute as the find is not before it (the find is typed to the minute); a
        // minute and more before is.
        assert!(codes(&facts(Some(FOUND - 900), Some(near(30.0)), None)).is_empty());
        assert!(codes(&facts(Some(FOUND - 59_000), Some(near(30.0)), None)).is_empty());
        assert_eq!(
            codes(&facts(Some(FOUND - 61_000), Some(near(30.0)), None)),
            [(FlagCode::TakenBeforeFound, Some("exif".into()))]
        );
        // EXIF alone says stale / far.
        assert_eq!(
            codes(&facts(Some(FOUND - hour), Some(near(30.0)), None)),
            [(FlagCode::TakenBeforeFound, Some("exif".into()))]
        );
        assert_eq!(
            codes(&facts(Some(received), Some(near(900.0)), None)),
            [(FlagCode::FarFromPoint, Some("exif".into()))]
        );
        // The phone's clock runs 10 hours fast: its EXIF time looks fine, corrected it is stale.
        let f = facts(Some(FOUND + 2 * hour), Some(near(30.0)), Some(phone(near(10.0), received + 10 * hour)));
        let flags = time_place_flags(&f);
        assert_eq!(flags.len(), 1);
        assert_eq!((flags[0].code, flags[0].witness.as_deref()), (FlagCode::TakenBeforeFound, Some("device")));
        assert!(flags[0].message.contains("快了10小时"), "{}", flags[0].message);
        // A slow clock cannot clear what the photo shows; it is named for the supervisor.
        let f = facts(Some(FOUND - hour), Some(near(30.0)), Some(phone(near(10.0), received - 20 * hour)));
        assert_eq!(codes(&f), [(FlagCode::TakenBeforeFound, Some("exif".into()))]);
        assert!(time_place_flags(&f)[0].message.contains("手机时钟慢了20小时"));
        // No GPS in the photo (stripped by the browser): the phone's position at upload speaks.
        let f = facts(Some(received - 5 * 60_000), None, Some(phone(near(2000.0), received)));
        assert_eq!(codes(&f), [(FlagCode::FarFromPoint, Some("device".into()))]);
        // ... but not for a photo taken long before the upload, nor with a vague position.
        assert!(codes(&facts(Some(received - 3 * hour), None, Some(phone(near(2000.0), received)))).is_empty());
        let vague = DeviceWitness { accuracy_m: Some(5000.0), ..phone(near(2000.0), received) };
        assert!(codes(&facts(Some(received - 60_000), None, Some(vague))).is_empty());
        // Within the accuracy of the fix, no warning.
        let rough = DeviceWitness { accuracy_m: Some(250.0), ..phone(near(500.0), received) };
        assert!(codes(&facts(Some(received - 60_000), None, Some(rough))).is_empty());
        // Nothing at all: no capture data; with the phone at the point, the message says so.
        assert_eq!(codes(&facts(None, None, None)), [(FlagCode::NoCaptureData, None)]);
        let at_point = time_place_flags(&facts(None, None, Some(phone(near(40.0), received))));
        assert!(at_point.len() == 1 && at_point[0].message.contains("上传时手机在点位附近（约40米）"));
        let far = codes(&facts(None, None, Some(phone(near(3000.0), received))));
        assert_eq!(far, [(FlagCode::FarFromPoint, Some("device".into())), (FlagCode::NoCaptureData, None)]);
    }

    #[test]
    fn a_browsers_reading_never_blocks_a_form() {
        let abroad =
            DeviceWitness { lat: Some(35.68), lng: Some(139.69), accuracy_m: Some(12.0), clock_ms: Some(FOUND) };
        assert_eq!(abroad.usable(FOUND), DeviceWitness { clock_ms: Some(FOUND), ..Default::default() });
        let vague =
            DeviceWitness { lat: Some(38.3), lng: Some(116.85), accuracy_m: Some(150_000.0), clock_ms: Some(0) };
        assert_eq!(vague.usable(FOUND), DeviceWitness { clock_ms: None, ..vague });
    }

    #[test]
    fn a_witness_from_a_client_is_checked() {
        let mut e = crate::domain::validate::FieldErrors::default();
        let ok = DeviceWitness { lat: Some(38.3), lng: Some(116.85), accuracy_m: Some(12.0), clock_ms: Some(FOUND) };
        ok.check(&mut e, FOUND);
        DeviceWitness::default().check(&mut e, FOUND);
        assert!(e.is_empty());
        for bad in [
            DeviceWitness { lat: Some(38.3), ..Default::default() },
            DeviceWitness { lat: Some(0.0), lng: Some(0.0), ..Default::default() },
            DeviceWitness { accuracy_m: Some(-1.0), ..Default::default() },
            DeviceWitness { accuracy_m: Some(f64::NAN), ..Default::default() },
            DeviceWitness { clock_ms: Some(0), ..Default::default() },
        ] {
            let mut e = crate::domain::validate::FieldErrors::default();
            bad.check(&mut e, FOUND);
            assert_eq!(e.0.len(), 1, "{bad:?}");
        }
    }
}

#[cfg(test)]
mod disagreeing_witnesses {
    use super::*;

    const POINT: (f64, f64) = (116.85, 38.30);
    const NOW: i64 = 1_790_000_000_000;

    fn at(east_m: f64) -> (f64, f64) {
        (POINT.0 + east_m / (111_320.0 * POINT.1.to_radians().cos()), POINT.1)
    }

    fn facts(exif: (f64, f64), phone: (f64, f64), taken_ago_ms: i64) -> CaptureFacts {
        CaptureFacts {
            found_at: NOW - 3_600_000 * 5,
            point: Some(POINT),
            taken_at: Some(NOW - taken_ago_ms),
            exif_position: Some(exif),
            received_at: NOW,
            device: Some(DeviceWitness {
                lng: Some(phone.0),
                lat: Some(phone.1),
                accuracy_m: Some(20.0),
                clock_ms: Some(NOW),
            }),
        }
    }

    #[test]
    fn a_photo_whose_gps_contradicts_the_phone_that_sent_it_at_once_is_flagged() {
        // The photo says "at the point", the phone that sent it a minute later was 3 km away.
        let flags = time_place_flags(&facts(at(20.0), at(3000.0), 60_000));
        assert_eq!(flags.len(), 1, "{flags:?}");
        assert_eq!((flags[0].code, flags[0].witness.as_deref()), (FlagCode::WitnessesDisagree, Some("device")));
        assert!(flags[0].message.contains("二者不符"));
        // Both near the point: nothing. Sent hours later from the office: not a contradiction.
        assert!(time_place_flags(&facts(at(20.0), at(60.0), 60_000)).is_empty());
        assert!(time_place_flags(&facts(at(20.0), at(3000.0), 3 * 3_600_000)).is_empty());
    }
}
