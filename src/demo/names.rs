//! Deterministic names, codes and phone numbers for the demo city.

use crate::domain::unit::TaskStatus;
use crate::domain::unit::UnitKind;
use crate::store::units::Unit;

/// 沧州市运河区 (GB/T 2260: 130903). Copies for `--scale` take the following county-level codes.
pub fn district_code_name(copy: u32) -> (String, String) {
    if copy == 0 {
        return ("130903".into(), "运河区".into());
    }
    // The copy-th code after 130903, skipping codes ending in 00 (those are prefectures).
    let mut n = 130903;
    for _ in 0..copy {
        n += 1;
        if n % 100 == 0 {
            n += 1;
        }
    }
    (format!("{n:06}"), format!("演示区{copy}"))
}

pub fn copy_suffix(copy: u32) -> String {
    if copy == 0 { String::new() } else { format!("（演示区{copy}）") }
}

pub const STREETS: [&str; 6] = ["水月寺街道", "南环中路街道", "市场街道", "西环街道", "公园街道", "解放路街道"];

/// 公园街道: the street office the seeds describe (14 communities, 106 compounds).
pub const BIG_STREET: usize = 4;

pub const BIG_STREET_COMMUNITIES: [&str; 14] = [
    "金狮社区",
    "百合社区",
    "御宇社区",
    "荷花池社区",
    "朝阳社区",
    "光荣社区",
    "新华社区",
    "颐和社区",
    "清池社区",
    "文庙社区",
    "运河社区",
    "明珠社区",
    "交通社区",
    "永安社区",
];

/// 8 compounds in each of the first eight communities and 7 in the other six: 106 in all.
pub fn big_street_compounds(community: usize) -> usize {
    if community < 8 { 8 } else { 7 }
}

const SMALL_COMMUNITIES: [&str; 15] = [
    "永济社区",
    "佟家花园社区",
    "千童社区",
    "南湖社区",
    "锦绣社区",
    "光明社区",
    "维明社区",
    "府前社区",
    "华北社区",
    "长庆社区",
    "建设社区",
    "联盟社区",
    "紫薇社区",
    "鞍山社区",
    "北环社区",
];

pub fn small_communities(street: usize) -> Vec<&'static str> {
    let i = if street > BIG_STREET { street - 1 } else { street };
    SMALL_COMMUNITIES[i * 3..i * 3 + 3].to_vec()
}

const COMPOUND_HEADS: [&str; 24] = [
    "金狮", "百合", "御宇", "荷花", "朝阳", "光荣", "新华", "颐和", "清池", "文庙", "运河", "明珠", "交通", "永安",
    "盛世", "阳光", "翠华", "锦江", "福康", "泰和", "天成", "祥云", "书香", "怡园",
];
const COMPOUND_TAILS: [&str; 8] = ["小区", "花园", "家园", "嘉苑", "名邸", "公寓", "新村", "雅居"];

pub fn compound_name(street: usize, community: usize, k: usize) -> String {
    let head = COMPOUND_HEADS[(street * 5 + community * 3 + k) % COMPOUND_HEADS.len()];
    let tail = COMPOUND_TAILS[k % COMPOUND_TAILS.len()];
    let number = if street == BIG_STREET { format!("{}", community * 8 + k + 1) } else { String::new() };
    format!("{head}{tail}{}", if number.is_empty() { String::new() } else { format!("（{number}号院）") })
}

/// The 22 responsible units: (name, kind, placed in 公园街道 rather than district-wide).
pub const UNITS: [(&str, UnitKind, bool); 22] = [
    ("运河区城市管理综合行政执法局", UnitKind::Government, false),
    ("运河区住房和城乡建设局", UnitKind::Government, false),
    ("运河区市场监督管理局", UnitKind::Government, false),
    ("运河区交通运输局", UnitKind::Government, false),
    ("运河区教育局", UnitKind::Government, false),
    ("运河区卫生健康局", UnitKind::Government, false),
    ("运河区民政局", UnitKind::Government, false),
    ("运河区文化广电和旅游局", UnitKind::Government, false),
    ("沧州市公安局运河分局交警大队", UnitKind::Government, false),
    ("运河区园林绿化服务中心", UnitKind::Institution, false),
    ("运河区市容环境卫生服务中心", UnitKind::Institution, false),
    ("中国工商银行沧州运河支行", UnitKind::BankBranch, true),
    ("中国农业银行沧州新华路支行", UnitKind::BankBranch, true),
    ("中国银行沧州解放路支行", UnitKind::BankBranch, true),
    ("中国建设银行沧州朝阳支行", UnitKind::BankBranch, true),
    ("交通银行沧州分行营业部", UnitKind::BankBranch, true),
    ("沧州银行公园支行", UnitKind::BankBranch, true),
    ("河北银行沧州运河支行", UnitKind::BankBranch, true),
    ("运河区政务服务中心", UnitKind::ServiceHall, false),
    ("中国移动沧州运河营业厅", UnitKind::BusinessHall, true),
    ("沧州恒信物业服务有限公司", UnitKind::Property, true),
    ("沧州安居物业管理有限公司", UnitKind::Property, true),
];

pub const TEAMS: [(&str, &str); 4] = [
    ("第一督导组", "主次干道与交通秩序"),
    ("第二督导组", "背街小巷与居民小区"),
    ("第三督导组", "窗口单位与金融网点"),
    ("第四督导组", "农贸市场与公共场所"),
];

const ROADS: [&str; 8] = ["解放西路", "新华西路", "永安大道", "朝阳南大街", "清池南大道", "光荣路", "御河路", "公园路"];

pub fn unit_address(i: usize) -> String {
    format!("沧州市运河区{}{}号", ROADS[i % ROADS.len()], 10 + i * 7)
}

pub fn landline(i: usize) -> String {
    format!("0317-{}", 2_100_000 + i * 1_337)
}

pub fn mobile(i: usize) -> String {
    let prefixes = ["138", "139", "135", "136", "150", "151", "186", "187"];
    format!("{}{:08}", prefixes[i % prefixes.len()], 31_700_000 + i * 4_729)
}

const SURNAMES: [&str; 20] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林",
    "罗",
];
const GIVEN: [&str; 24] = [
    "建华", "秀英", "志强", "丽娟", "海燕", "国栋", "文静", "红梅", "晓东", "春生", "玉兰", "立新", "桂芳", "永刚",
    "淑珍", "振华", "雪梅", "德明", "慧敏", "长青", "宏伟", "静怡", "子豪", "佳琪",
];

pub fn person_name(i: usize) -> String {
    format!("{}{}", SURNAMES[i % SURNAMES.len()], GIVEN[(i * 7 + i / SURNAMES.len()) % GIVEN.len()])
}

pub fn contact_position(unit: &Unit, level: usize) -> String {
    let window = unit.kind.is_window();
    match (level, window) {
        (0, true) => "行长/主任".into(),
        (0, false) => "局长/主任".into(),
        (1, _) => "分管副职".into(),
        (2, _) => "办公室主任".into(),
        (3, _) => "创城联络员".into(),
        (_, true) => "大堂经理".into(),
        (_, false) => "现场负责人".into(),
    }
}

/// The 136 points of 公园街道: (type code, how many, index into UNITS of the responsible unit, fixed).
pub const POINT_PLAN: [(&str, usize, &[usize], bool); 18] = [
    ("main_road", 10, &[0], true),
    ("back_street", 16, &[0, 10], true),
    ("compound", 30, &[20, 21], true),
    ("market", 6, &[2], true),
    ("mall", 5, &[2], true),
    ("bank", 7, &[11, 12, 13, 14, 15, 16, 17], true),
    ("service_hall", 1, &[18], true),
    ("hospital", 3, &[5], true),
    ("school", 8, &[4], true),
    ("park", 6, &[9], true),
    ("bus_stop", 12, &[3], true),
    ("construction", 5, &[1], false),
    ("shop_front", 12, &[0], false),
    ("toilet", 6, &[10], true),
    ("station", 1, &[3], true),
    ("intersection", 5, &[8], true),
    ("transfer_station", 2, &[10], true),
    ("business_hall", 1, &[19], true),
];

const PARKS: [&str; 6] = ["人民公园", "百狮园", "名人植物园", "大运河景观带（公园段）", "清池广场", "文庙广场"];
const HOSPITALS: [&str; 3] = ["沧州市中心医院（运河院区）", "运河区人民医院", "公园街道社区卫生服务中心"];

/// A point's name from its type, its number within the type and its community.
pub fn point_name(kind: &str, n: usize, community: &str, compound: &str, unit: &str) -> String {
    let road = ROADS[n % ROADS.len()];
    let head = COMPOUND_HEADS[(n * 5 + 3) % COMPOUND_HEADS.len()];
    match kind {
        "main_road" => format!("{road}（{}段）", ["东", "西", "南", "北", "中"][n % 5]),
        "back_street" => format!("{}{}号巷", community.trim_end_matches("社区"), n + 1),
        "compound" => compound.to_string(),
        "market" => format!("{head}农贸市场"),
        "mall" => format!("{head}购物广场"),
        "bank" | "business_hall" => unit.to_string(),
        "service_hall" => "运河区政务服务中心大厅".into(),
        "hospital" => HOSPITALS[n % HOSPITALS.len()].into(),
        "school" => {
            format!("{}{}", community.trim_end_matches("社区"), if n.is_multiple_of(2) { "小学" } else { "中学" })
        }
        "park" => PARKS[n % PARKS.len()].into(),
        "bus_stop" => format!("{road}{}公交站", community.trim_end_matches("社区")),
        "construction" => format!("{head}建设项目工地"),
        "shop_front" => format!("{road}沿街商铺（{}号-{}号）", n * 20 + 1, n * 20 + 19),
        "toilet" => format!("{road}公共厕所"),
        "station" => "沧州汽车客运站".into(),
        "intersection" => format!("{road}与{}交叉口", ROADS[(n + 3) % ROADS.len()]),
        "transfer_station" => format!("公园街道垃圾中转站（{}号）", n + 1),
        other => format!("{other}{n}"),
    }
}

/// The tasks every unit gets: (title, days from today until due, status).
pub const TASKS: [(&str, i64, TaskStatus); 3] = [
    ("按新版测评标准完成责任点位自查", -2, TaskStatus::Doing),
    ("更新责任点位公益广告", 10, TaskStatus::Todo),
    ("报送本周创城工作进展", 3, TaskStatus::Done),
];

/// Where 公园街道's communities lie (WGS-84): a 4-column grid of cells around central Cangzhou,
/// shifted east for each copy of the district.
pub fn community_cell(copy: u32, community: usize) -> ((f64, f64), (f64, f64)) {
    let (x0, y0) = (116.820 + copy as f64 * 0.08, 38.290);
    let (w, h) = (0.008, 0.006);
    let (col, row) = ((community % 4) as f64, (community / 4) as f64);
    let min = (x0 + col * w, y0 + row * h);
    (min, (min.0 + w, min.1 + h))
}

/// A deterministic number in [0, 1) from a seed (splitmix64), so demo positions look scattered.
fn unit_random(seed: u64) -> f64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z % 1_000_000) as f64 / 1_000_000.0
}

/// A deterministic spot inside a cell (or just south of the street for unplanned sites).
pub fn spot(cell: ((f64, f64), (f64, f64)), n: usize, outside: bool) -> (f64, f64) {
    let r = |k: usize| unit_random((n * 4 + k) as u64);
    let ((x0, y0), (x1, y1)) = cell;
    if outside {
        return (x0 + (x1 - x0) * r(1), 38.290 - 0.001 - 0.002 * r(2));
    }
    (x0 + (x1 - x0) * (0.05 + 0.9 * r(1)), y0 + (y1 - y0) * (0.05 + 0.9 * r(2)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::org::{OrgLevel, check_code};

    #[test]
    fn the_big_street_has_14_communities_and_106_compounds() {
        assert_eq!(BIG_STREET_COMMUNITIES.len(), 14);
        assert_eq!((0..14).map(big_street_compounds).sum::<usize>(), 106);
        assert_eq!(STREETS[BIG_STREET], "公园街道");
    }

    #[test]
    fn district_copies_have_valid_distinct_codes() {
        let mut seen = std::collections::HashSet::new();
        for copy in 0..1000 {
            let (code, _) = district_code_name(copy);
            assert!(check_code(OrgLevel::District, &code, None).is_ok(), "{code}");
            assert!(seen.insert(code));
        }
    }

    #[test]
    fn generated_phones_are_valid() {
        for i in 0..1000 {
            assert!(crate::domain::validate::is_phone(&mobile(i)), "{}", mobile(i));
        }
        assert!(crate::domain::validate::is_phone(&landline(21)));
    }
}
