//! Is an after-photo a re-used picture? Two steps.
//!
//! 1. **Candidates by signature.** Every photo keeps four 64-bit DCT hashes (the whole picture
//!    and centred crops of 80, 64 and 50 %): a re-compressed, resized or re-lit copy stays
//!    within a few bits of the original's whole-picture hash, and a centred crop lands near one
//!    of the crop hashes. Comparing every pair of a photo's four hashes with a million stored
//!    signatures is a linear scan of popcounts (see `Index`), a few milliseconds.
//! 2. **Confirmation by alignment.** Hash distance does not separate a re-shot of the same place
//!    from a copy (both look alike), so each candidate is aligned with the photo: FAST corners
//!    and BRIEF descriptors (imageproc), matched, then a RANSAC homography. The two are compared
//!    cell by cell in the aligned overlap with zero-mean normalised correlation (so re-lighting
//!    does not matter): a copy matches everywhere; a genuine re-shot from another position,
//!    in other light and with the litter gone differs where the problem was.
//!
//! Both steps work on the 480-pixel thumbnail every photo already has.

use image::imageops::FilterType;
use image::{DynamicImage, GrayImage, Luma};
use imageproc::binary_descriptors::brief::{BriefDescriptor, TestPair, brief};
use imageproc::binary_descriptors::match_binary_descriptors;
use imageproc::geometric_transformations::{Interpolation, Projection, warp_into};
use imageproc::point::Point;
use std::sync::LazyLock;

/// Four perceptual hashes: whole picture, then centred crops of 80, 64 and 50 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Signature(pub [u64; 4]);

const CROPS: [f32; 4] = [1.0, 0.8, 0.64, 0.5];
/// Signatures at most this many bits apart (any pair of their hashes) go to confirmation.
pub const CANDIDATE_BITS: u32 = 12;

impl Signature {
    pub fn of(img: &DynamicImage) -> Signature {
        let grey = img.to_luma8();
        let (w, h) = grey.dimensions();
        let mut out = [0u64; 4];
        for (i, f) in CROPS.iter().enumerate() {
            let (cw, ch) = (((w as f32) * f) as u32, ((h as f32) * f) as u32);
            let crop = image::imageops::crop_imm(&grey, (w - cw) / 2, (h - ch) / 2, cw.max(1), ch.max(1)).to_image();
            out[i] = dct_hash(&crop);
        }
        Signature(out)
    }

    /// The smallest distance between any hash of one and any hash of the other.
    pub fn distance(&self, other: &Signature) -> u32 {
        self.0.iter().flat_map(|a| other.0.iter().map(move |b| (a ^ b).count_ones())).min().unwrap_or(64)
    }

    /// Stored as four 16-digit hex numbers joined by ':'.
    pub fn to_text(self) -> String {
        self.0.iter().map(|h| format!("{h:016x}")).collect::<Vec<_>>().join(":")
    }

    pub fn parse(s: &str) -> Option<Signature> {
        let parts: Vec<u64> = s.split(':').map(|p| u64::from_str_radix(p, 16).ok()).collect::<Option<_>>()?;
        <[u64; 4]>::try_from(parts).ok().map(Signature)
    }
}

/// DCT hash: 32×32 grey, 2-D DCT, the 8×8 lowest frequencies (without the DC term's influence)
/// compared with their median.
fn dct_hash(grey: &GrayImage) -> u64 {
    let small = image::imageops::resize(grey, 32, 32, FilterType::Triangle);
    let px: Vec<f32> = small.pixels().map(|p| p[0] as f32).collect();
    static COS: LazyLock<Vec<f32>> = LazyLock::new(|| {
        (0..8 * 32)
            .map(|i| {
                let (u, x) = (i / 32, i % 32);
                ((2 * x + 1) as f32 * u as f32 * std::f32::consts::PI / 64.0).cos()
            })
            .collect()
    });
    let mut rows = [0f32; 8 * 32];
    for y in 0..32 {
        for u in 0..8 {
            rows[u * 32 + y] = (0..32).map(|x| px[y * 32 + x] * COS[u * 32 + x]).sum();
        }
    }
    let mut coeffs = [0f32; 64];
    for u in 0..8 {
        for v in 0..8 {
            coeffs[v * 8 + u] = (0..32).map(|y| rows[u * 32 + y] * COS[v * 32 + y]).sum();
        }
    }
    let mut sorted = coeffs[1..].to_vec();
    sorted.sort_by(f32::total_cmp);
    let median = sorted[sorted.len() / 2];
    coeffs.iter().enumerate().fold(0u64, |h, (i, c)| if i > 0 && *c > median { h | 1 << i } else { h })
}

/// The keypoints of a photo, for alignment.
pub struct Features {
    /// The colours, compared once aligned (litter often differs in colour more than brightness)
    rgb: image::RgbImage,
    descriptors: Vec<BriefDescriptor>,
}

const SIDE: u32 = 480;
const MAX_KEYPOINTS: usize = 600;
const MARGIN: u32 = 20;

static PAIRS: LazyLock<Vec<TestPair>> = LazyLock::new(|| {
    // Fixed test pairs (a seeded generator), so descriptors of all photos are comparable.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut coord = || {
        // Roughly Gaussian around the patch centre: the mean of four uniform draws.
        let s: u64 = (0..4).map(|_| next() % 31).sum();
        (s / 4) as u32
    };
    (0..256).map(|_| TestPair { p0: Point::new(coord(), coord()), p1: Point::new(coord(), coord()) }).collect()
});

impl Features {
    pub fn of(img: &DynamicImage) -> Features {
        let small = if img.width().max(img.height()) > SIDE {
            img.resize(SIDE, SIDE, FilterType::Triangle)
        } else {
            img.clone()
        };
        let (grey, rgb) = (small.to_luma8(), small.to_rgb8());
        let (w, h) = grey.dimensions();
        let mut corners = imageproc::corners::corners_fast9(&grey, 25);
        corners.retain(|c| c.x > MARGIN && c.y > MARGIN && c.x + MARGIN < w && c.y + MARGIN < h);
        corners.sort_by(|a, b| b.score.total_cmp(&a.score));
        corners.truncate(MAX_KEYPOINTS);
        let points: Vec<Point<u32>> = corners.iter().map(|c| Point::new(c.x, c.y)).collect();
        let descriptors = brief(&grey, &points, 256, Some(&PAIRS)).map(|(d, _)| d).unwrap_or_default();
        Features { rgb, descriptors }
    }
}

/// How two photos compare once aligned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Alignment {
    /// Matched keypoints that agree with the homography
    pub inliers: usize,
    /// Cells of the overlap compared (those it covers)
    pub cells: usize,
    /// The mean difference (0–255 per channel) of the third most different cell, once the other
    /// photo's tones are mapped onto this one's (so re-lighting, gamma and clipping do not count)
    pub worst: f32,
    /// The median cell's difference: what noise, compression and light leave everywhere
    pub typical: f32,
}

impl Alignment {
    /// The same picture: aligned on many points, alike in the typical cell, and no group of
    /// cells stands out from the rest (a genuine fix changes the problem area several times more
    /// than light and noise change the rest; a copy differs about as little everywhere; another
    /// scene that happens to align differs a lot everywhere).
    pub fn is_copy(&self) -> bool {
        self.inliers >= 12
            && self.cells >= 16
            && self.typical < 12.0
            && (self.worst < 15.0 || self.worst < 3.4 * (self.typical + 1.0))
    }
}

/// Aligns `other` onto `photo`; None when no consistent alignment exists (different scenes).
pub fn align(photo: &Features, other: &Features) -> Option<Alignment> {
    let matches = match_binary_descriptors(&photo.descriptors, &other.descriptors, 40, Some(7));
    if matches.len() < 8 {
        return None;
    }
    let pairs: Vec<Pair> = matches
        .iter()
        .map(|(a, b)| ((b.corner.x as f32, b.corner.y as f32), (a.corner.x as f32, a.corner.y as f32)))
        .collect();
    let (h, inliers) = ransac(&pairs)?;
    if inliers < 12 || !plausible(h, &photo.rgb, &other.rgb) {
        return None;
    }
    let (worst, typical, cells) = compare_cells(&photo.rgb, &other.rgb, h);
    Some(Alignment { inliers, cells, worst, typical })
}

/// A homography a re-taken or re-used picture could have: every point of the photo (on a 9×9
/// grid) comes from a finite place near the other picture. A degenerate fit (its horizon
/// across the photo) would send pixels to infinity.
fn plausible(h: Projection, photo: &image::RgbImage, other: &image::RgbImage) -> bool {
    let back = h.invert();
    let (w, ht) = (photo.width() as f32, photo.height() as f32);
    let (ow, oh) = (other.width() as f32, other.height() as f32);
    (0..=8).all(|i| {
        (0..=8).all(|j| {
            let (x, y) = back * (w * i as f32 / 8.0, ht * j as f32 / 8.0);
            x.is_finite() && y.is_finite() && (-ow..=2.0 * ow).contains(&x) && (-oh..=2.0 * oh).contains(&y)
        })
    })
}

/// A matched keypoint: its place in the other photo and in this one.
type Pair = ((f32, f32), (f32, f32));

/// The homography (other → photo) most matches agree with, and how many do (within 3 px).
fn ransac(pairs: &[Pair]) -> Option<(Projection, usize)> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ pairs.len() as u64;
    let mut pick = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % pairs.len() as u64) as usize
    };
    let agree = |h: &Projection| {
        pairs
            .iter()
            .filter(|(from, to)| {
                let (x, y) = *h * *from;
                (x - to.0).powi(2) + (y - to.1).powi(2) < 9.0
            })
            .count()
    };
    let mut best: Option<(Projection, usize)> = None;
    for _ in 0..400 {
        let idx = [pick(), pick(), pick(), pick()];
        let from = idx.map(|i| pairs[i].0);
        let to = idx.map(|i| pairs[i].1);
        let Some(h) = Projection::from_control_points(from, to) else { continue };
        let n = agree(&h);
        if best.as_ref().is_none_or(|(_, m)| n > *m) {
            best = Some((h, n));
        }
    }
    best
}

/// Cells per side: fine enough that a problem area fills several whole cells.
const GRID: u32 = 12;

/// Warps `other` into `photo`'s frame, maps each colour channel's tones onto `photo`'s by
/// matching their histograms over the overlap, and returns the mean difference of the third
/// most different and of the median cell of the 12×12 cells the overlap covers (at least 80 % of
/// a cell), and how many cells were compared.
fn compare_cells(photo: &image::RgbImage, other: &image::RgbImage, h: Projection) -> (f32, f32, usize) {
    use imageproc::geometric_transformations::Border;
    let (w, ht) = photo.dimensions();
    let mut warped = image::RgbImage::new(w, ht);
    warp_into(other, h, Interpolation::Bilinear, Border::Constant(image::Rgb([0, 0, 0])), &mut warped);
    let mut covered = GrayImage::new(w, ht);
    let full = GrayImage::from_pixel(other.width(), other.height(), Luma([255]));
    warp_into(&full, h, Interpolation::Nearest, Border::Constant(Luma([0])), &mut covered);
    let tones = [0, 1, 2].map(|c| tone_map(photo, &warped, &covered, c));
    let (cw, ch) = (w / GRID, ht / GRID);
    let mut diffs = Vec::new();
    for gy in 0..GRID {
        for gx in 0..GRID {
            let (mut area, mut n, mut diff) = (0u32, 0u32, 0f32);
            for y in gy * ch..(gy + 1) * ch {
                for x in gx * cw..(gx + 1) * cw {
                    if covered.get_pixel(x, y)[0] != 255 {
                        continue;
                    }
                    area += 1;
                    // A clipped pixel (burnt out or black) has lost what it showed: not judged.
                    let o = warped.get_pixel(x, y).0;
                    if o.iter().all(|v| (4..=251).contains(v)) {
                        n += 1;
                        let p = photo.get_pixel(x, y).0;
                        diff += (0..3).map(|c| (p[c] as f32 - tones[c][o[c] as usize]).abs()).sum::<f32>() / 3.0;
                    }
                }
            }
            if (area as f32) < 0.8 * (cw * ch) as f32 || n * 2 < area {
                continue;
            }
            diffs.push(diff / n as f32);
        }
    }
    diffs.sort_by(|a, b| b.total_cmp(a));
    // The third most different cell: a problem area spans several cells, a stray artefact one.
    let median = diffs.get(diffs.len() / 2).copied().unwrap_or(0.0);
    (diffs.get(2).copied().unwrap_or(0.0), median, diffs.len())
}

/// The monotonic mapping of `other`'s levels of channel `c` onto `photo`'s that matches their
/// histograms over the covered pixels.
fn tone_map(photo: &image::RgbImage, other: &image::RgbImage, covered: &GrayImage, c: usize) -> [f32; 256] {
    let (mut hp, mut ho) = ([0u64; 256], [0u64; 256]);
    for ((p, o), m) in photo.pixels().zip(other.pixels()).zip(covered.pixels()) {
        if m[0] == 255 {
            hp[p[c] as usize] += 1;
            ho[o[c] as usize] += 1;
        }
    }
    let total: u64 = hp.iter().sum::<u64>().max(1);
    let cumulative = |h: &[u64; 256]| {
        let mut acc = 0u64;
        h.map(|v| {
            acc += v;
            acc as f64 / total as f64
        })
    };
    let (cp, co) = (cumulative(&hp), cumulative(&ho));
    let mut map = [0f32; 256];
    for (level, m) in map.iter_mut().enumerate() {
        // The photo level at the same rank as the middle of this level's rank range.
        let rank = co[level] - ho[level] as f64 / total as f64 / 2.0;
        *m = cp.iter().position(|c| *c >= rank).unwrap_or(255) as f32;
    }
    map
}

/// Every stored signature of the platform, searched by a linear scan (about 1–3 ms per million
/// photos on this machine; `chuangcheng bench` measures it).
#[derive(Default)]
pub struct Index {
    entries: Vec<(String, Signature)>,
    /// The newest upload time loaded, for incremental refresh.
    pub watermark: i64,
    /// Photos loaded within `OVERLAP_MS` of the watermark, by id: a refresh reads that window
    /// again (see `overlap_from`) and skips them.
    recent: std::collections::HashMap<String, i64>,
}

/// How far behind its newest photo the index reads again at each refresh. A photo is stamped
/// when it is stored and committed with its filing a little later, so another instance's photo
/// can become visible after newer ones were loaded; a refresh that only read past the newest
/// would never find it.
pub const OVERLAP_MS: i64 = 10 * 60_000;

impl Index {
    /// Adds a photo uploaded at `at` unless it is loaded already.
    pub fn add(&mut self, id: String, sig: Signature, at: i64) {
        if self.recent.contains_key(&id) {
            return;
        }
        self.entries.push((id.clone(), sig));
        self.recent.insert(id, at);
        self.watermark = self.watermark.max(at);
        // A first load adds every photo there is: keep only the window as it goes.
        if self.recent.len() >= 4096 && self.recent.len().is_power_of_two() {
            self.overlap_from();
        }
    }

    /// Where the next refresh reads from; the photos before it are forgotten from `recent`.
    pub fn overlap_from(&mut self) -> i64 {
        let from = self.watermark.saturating_sub(OVERLAP_MS);
        self.recent.retain(|_, at| *at >= from);
        from
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The ids of the `limit` nearest signatures within `CANDIDATE_BITS`, nearest first.
    pub fn near(&self, sig: &Signature, limit: usize) -> Vec<(String, u32)> {
        let mut hits: Vec<(u32, usize)> = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, (_, s))| {
                let d = s.distance(sig);
                (d <= CANDIDATE_BITS).then_some((d, i))
            })
            .collect();
        hits.sort();
        hits.into_iter().take(limit).map(|(d, i)| (self.entries[i].0.clone(), d)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn street(seed: u64) -> DynamicImage {
        image::load_from_memory(&crate::bench::evidence::street_jpeg(seed, true)).unwrap()
    }

    #[test]
    fn a_resaved_crop_is_near_and_aligns_as_a_copy() {
        let a = street(90).thumbnail(480, 480);
        let b = street(90).crop_imm(40, 30, 560, 420).resize(420, 315, FilterType::Triangle).thumbnail(480, 480);
        let d = Signature::of(&a).distance(&Signature::of(&b));
        let al = align(&Features::of(&b), &Features::of(&a));
        assert!(d <= CANDIDATE_BITS, "{d}");
        assert!(al.is_some_and(|x| x.is_copy()), "{al:?}");
        let other = street(91).thumbnail(480, 480);
        let al = align(&Features::of(&other), &Features::of(&a));
        assert!(!al.is_some_and(|x| x.is_copy()), "{al:?}");
        let sig = Signature::of(&a);
        assert_eq!(Signature::parse(&sig.to_text()), Some(sig));
    }
}
