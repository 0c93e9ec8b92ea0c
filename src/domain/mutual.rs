//! 互评互查: who inspects which point. Every point goes to a unit of the round other than its
//! owner; the units' loads differ by at most one whenever that is possible; the same points,
//! units and seed always give the same assignment.

crate::vocab! {
    /// Where a mutual-inspection round stands.
    pub enum RoundState: "互评互查状态" {
        /// The inspectors are at work
        Open("open", "进行中"),
        /// The report is published to the units of the round
        Published("published", "已发布"),
    }
}

crate::vocab! {
    /// An item's result at a point.
    pub enum CheckResult: "检查结果" {
        Pass("pass", "合格"),
        Fail("fail", "不合格"),
        NotApplicable("na", "不适用"),
    }
}

crate::vocab! {
    /// What a 十佳 selection selects.
    pub enum SelectionKind: "评选类别" {
        LobbyManager("lobby_manager", "十佳大堂经理"),
        ServiceStar("service_star", "十佳文明服务标兵"),
    }
}

crate::vocab! {
    /// Where a 十佳 selection stands.
    pub enum SelectionState: "评选阶段" {
        Nominating("nominating", "推荐中"),
        Voting("voting", "投票中"),
        Published("published", "已公布"),
    }
}

crate::vocab! {
    /// Where a nomination stands.
    pub enum NominationState: "推荐状态" {
        Nominated("nominated", "已推荐"),
        Shortlisted("shortlisted", "入围"),
        Rejected("rejected", "未入围"),
    }
}

/// A nomination's weighted votes: staff votes and public votes each times its weight.
pub fn weighted(staff_votes: i64, public_votes: i64, staff_weight: f64, public_weight: f64) -> f64 {
    staff_votes as f64 * staff_weight + public_votes as f64 * public_weight
}

/// A seeded generator (splitmix64): the same seed gives the same sequence on every machine.
pub struct Seeded(u64);

impl Seeded {
    pub fn new(seed: u64) -> Seeded {
        Seeded(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Fisher–Yates.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// Assigns each point `(point, owner)` to an inspecting unit among `units` other than its owner.
/// Step by step, a point of the owner with the most points still waiting goes (those have the
/// fewest choices left) to the least-loaded unit that is not its owner; ties are broken by a
/// seeded order of the points and units. Returns (point, inspector) in the points' given order;
/// None for a point no other unit can take (a round of one unit).
pub fn assign(points: &[(String, String)], units: &[String], seed: u64) -> Vec<(String, Option<String>)> {
    let mut rng = Seeded::new(seed);
    let mut unit_order: Vec<usize> = (0..units.len()).collect();
    rng.shuffle(&mut unit_order);
    let mut order: Vec<usize> = (0..points.len()).collect();
    rng.shuffle(&mut order);
    // The waiting points of each owner, in the seeded order.
    let mut waiting: Vec<(String, Vec<usize>)> = Vec::new();
    for i in order {
        match waiting.iter_mut().find(|(o, _)| *o == points[i].1) {
            Some((_, v)) => v.push(i),
            None => waiting.push((points[i].1.clone(), vec![i])),
        }
    }
    let mut load = vec![0usize; units.len()];
    let mut out: Vec<Option<String>> = vec![None; points.len()];
    while let Some(g) = (0..waiting.len())
        .filter(|&g| !waiting[g].1.is_empty())
        .max_by_key(|&g| (waiting[g].1.len(), std::cmp::Reverse(g)))
    {
        let i = waiting[g].1.remove(0);
        let owner = &points[i].1;
        let pick = unit_order.iter().copied().filter(|&u| &units[u] != owner).min_by_key(|&u| load[u]);
        if let Some(u) = pick {
            load[u] += 1;
            out[i] = Some(units[u].clone());
        }
    }
    points.iter().zip(out).map(|((p, _), u)| (p.clone(), u)).collect()
}

/// A point's score in a round: passed over applicable items, in percent (one decimal).
pub fn score(passed: i64, applicable: i64) -> Option<f64> {
    (applicable > 0).then(|| (passed as f64 * 1000.0 / applicable as f64).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn banks(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("bank{i}")).collect()
    }

    #[test]
    fn nine_banks_over_twenty_points() {
        let units = banks(9);
        let points: Vec<(String, String)> = (0..20).map(|i| (format!("p{i}"), units[i % 9].clone())).collect();
        let a = assign(&points, &units, 7);
        assert!(a.iter().zip(&points).all(|((_, u), (_, owner))| u.as_ref().is_some_and(|u| u != owner)));
        let loads: Vec<usize> = units.iter().map(|u| a.iter().filter(|(_, x)| x.as_ref() == Some(u)).count()).collect();
        assert_eq!(loads.iter().sum::<usize>(), 20);
        assert!(loads.iter().max().unwrap() - loads.iter().min().unwrap() <= 1, "{loads:?}");
        assert_eq!(a, assign(&points, &units, 7), "reproducible from the seed");
        assert_ne!(a, assign(&points, &units, 8), "another seed, another draw");
    }

    #[test]
    fn a_round_of_one_unit_cannot_assign() {
        let a = assign(&[("p".into(), "u".into())], &["u".into()], 1);
        assert_eq!(a, vec![("p".to_string(), None)]);
    }

    proptest! {
        #[test]
        fn never_self_and_balanced(n_units in 2usize..12, owners in proptest::collection::vec(0usize..12, 1..60), seed in any::<u64>()) {
            let units = banks(n_units);
            let points: Vec<(String, String)> =
                owners.iter().enumerate().map(|(i, o)| (format!("p{i}"), units[o % n_units].clone())).collect();
            let a = assign(&points, &units, seed);
            for ((_, u), (_, owner)) in a.iter().zip(&points) {
                prop_assert!(u.as_ref().is_some_and(|u| u != owner));
            }
            let loads: Vec<usize> = units.iter().map(|u| a.iter().filter(|(_, x)| x.as_ref() == Some(u)).count()).collect();
            // Balanced within one unless one unit owns so many points that the others must take
            // them all (then every other unit is within one of each other).
            let max_owned = units.iter().map(|u| points.iter().filter(|(_, o)| o == u).count()).max().unwrap();
            if max_owned * n_units < points.len() + n_units {
                prop_assert!(loads.iter().max().unwrap() - loads.iter().min().unwrap() <= 1, "{:?}", loads);
            }
        }
    }
}
