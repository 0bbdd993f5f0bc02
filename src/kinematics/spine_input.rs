//! What the spine model sees: the person mask resampled in the torso's own
//! frame, and the landmarks around it.
//!
//! [`TorsoCrop`] is taken once per frame with a mask, when the mask is
//! still at hand ([`super::BodyFrame::from_pose`]): a [`CROP_ROWS`] x
//! [`CROP_COLS`] grid of person probabilities laid along the image's
//! hip→shoulder axis (rows, from above the shoulders down to the upper
//! thighs) and across it (columns), in units of the axis length, so the
//! sample does not depend on where the person stands, how large they are in
//! the frame or how far they lean. Nothing of the clip is known yet at that
//! point; [`SpineInput::new`] later orients the crop with the clip's
//! facing (columns running from the front of the body to its back) and adds
//! the landmark positions in the same frame plus the segment angles, which
//! is exactly the tensor the model was trained on (`tools/spine/`).

use super::body::{mid2, p2, usable, Facing};
use super::geometry::V2;
use crate::pose::landmarks::{Landmark, LandmarkId as L, BODY_LANDMARKS};
use crate::pose::roi::PointPx;
use crate::pose::segmentation::SegmentationMask;
use std::ops::{Add, Sub};

/// Rows of the crop, along the torso axis (row 0 above the shoulders).
pub const CROP_ROWS: usize = 56;
/// Columns of the crop, across the torso axis.
pub const CROP_COLS: usize = 48;
/// Index of the camera's signed obliquity (÷ 90°) in [`SpineInput::scalars`].
pub const OBLIQUITY_SCALAR: usize = 3;
/// The rows cover the axis from this far above the hips (in axis lengths;
/// 1 = the shoulders) ...
pub const ALONG_TOP: f64 = 1.3;
/// ... down to this far (negative: below the hips, over the buttocks and thighs).
pub const ALONG_BOTTOM: f64 = -0.65;
/// Half the width the columns cover, in axis lengths, on each side of the axis.
pub const ACROSS_HALF: f64 = 0.8;
/// Shortest hip→shoulder axis, in frame pixels, that is sampled.
pub const MIN_AXIS_PX: f64 = 24.0;

/// Number of scalar inputs next to the crop (see [`SpineInput::scalars`]).
pub const SCALAR_COUNT: usize = 18;

/// Stations of the edge profiles along the axis (axis lengths; 0 = mid-hip, 1 = mid-shoulder).
pub const PROFILE_STATIONS: usize = 64;
/// First (lowest) profile station.
pub const PROFILE_FROM: f64 = -0.6;
/// Last (highest) profile station.
pub const PROFILE_TO: f64 = 1.3;
/// How far from the axis an edge is looked for, axis lengths.
pub const PROFILE_REACH: f64 = 0.9;
/// Value of a profile cell without an edge (the model also gets a presence flag).
pub const NO_EDGE: f32 = 0.0;

/// Axis station of profile cell `k`.
pub fn profile_station(k: usize) -> f64 {
    PROFILE_FROM + k as f64 * (PROFILE_TO - PROFILE_FROM) / (PROFILE_STATIONS - 1) as f64
}

/// The mask around the torso of one frame, in the image's torso frame.
#[derive(Debug, Clone, PartialEq)]
pub struct TorsoCrop {
    /// Probability 0..255, row-major, [`CROP_ROWS`] x [`CROP_COLS`]; column
    /// `j` lies on the side of the normal `n = (-u.y, u.x)` (u = the axis in
    /// pixels) for `j >= CROP_COLS / 2`.
    pub pixels: Vec<u8>,
    /// The silhouette's outer edge on the side of `n` at each profile
    /// station ([`profile_station`]): its distance from the axis in axis
    /// lengths, located to a fraction of a mask pixel; `None` without one.
    pub edge_plus: Vec<Option<f32>>,
    /// The same on the side of `-n`.
    pub edge_minus: Vec<Option<f32>>,
    /// Mid-hip in frame pixels.
    pub hip_px: V2,
    /// Mid-shoulder in frame pixels.
    pub shoulder_px: V2,
}

/// Along-axis station of row `i` (centre), axis lengths.
pub fn row_station(i: usize) -> f64 {
    ALONG_TOP - (i as f64 + 0.5) * (ALONG_TOP - ALONG_BOTTOM) / CROP_ROWS as f64
}

/// Across-axis offset of column `j` (centre), axis lengths, along `n`.
pub fn col_offset(j: usize) -> f64 {
    -ACROSS_HALF + (j as f64 + 0.5) * 2.0 * ACROSS_HALF / CROP_COLS as f64
}

impl TorsoCrop {
    /// Samples the mask; `None` for a missing or too short axis.
    pub fn extract(mask: &SegmentationMask, landmarks: &[Landmark; BODY_LANDMARKS]) -> Option<TorsoCrop> {
        let hip = mid2(landmarks, L::LeftHip, L::RightHip)?;
        let shoulder = mid2(landmarks, L::LeftShoulder, L::RightShoulder)?;
        Self::extract_with(|p| mask.probability_at(PointPx::new(p.x as f32, p.y as f32)), hip, shoulder)
    }

    /// [`Self::extract`] over any probability field (frame pixels → 0..1).
    pub fn extract_with(prob: impl Fn(V2) -> f32, hip_px: V2, shoulder_px: V2) -> Option<TorsoCrop> {
        if !hip_px.is_finite() || !shoulder_px.is_finite() {
            return None;
        }
        let d = shoulder_px.sub(hip_px);
        let l = d.norm();
        if !(l >= MIN_AXIS_PX) {
            return None;
        }
        let u = d.scale(1.0 / l);
        let n = V2::new(-u.y, u.x);
        let mut pixels = Vec::with_capacity(CROP_ROWS * CROP_COLS);
        for i in 0..CROP_ROWS {
            let c = hip_px.add(u.scale(row_station(i) * l));
            for j in 0..CROP_COLS {
                let p = prob(c.add(n.scale(col_offset(j) * l)));
                pixels.push((p.clamp(0.0, 1.0) * 255.0).round() as u8);
            }
        }
        // outer edges: marched inward from the reach in steps of about a pixel
        // (at least 1/150 of the axis), the crossing interpolated between samples
        let step = (l / 150.0).max(0.75);
        let steps = (PROFILE_REACH * l / step).ceil() as usize;
        let edge = |c: V2, dir: V2| -> Option<f32> {
            let mut prev = prob(c.add(dir.scale(steps as f64 * step)));
            for k in (0..steps).rev() {
                let r = k as f64 * step;
                let p = prob(c.add(dir.scale(r)));
                if p >= 0.5 && prev < 0.5 {
                    let frac = ((p - 0.5) / (p - prev).max(1e-6)) as f64;
                    return Some(((r + frac.clamp(0.0, 1.0) * step) / l) as f32);
                }
                prev = p;
            }
            None
        };
        let mut edge_plus = Vec::with_capacity(PROFILE_STATIONS);
        let mut edge_minus = Vec::with_capacity(PROFILE_STATIONS);
        for k in 0..PROFILE_STATIONS {
            let c = hip_px.add(u.scale(profile_station(k) * l));
            edge_plus.push(edge(c, n));
            edge_minus.push(edge(c, n.scale(-1.0)));
        }
        Some(TorsoCrop { pixels, edge_plus, edge_minus, hip_px, shoulder_px })
    }

    /// Axis length in pixels.
    pub fn axis_px(&self) -> f64 {
        self.shoulder_px.sub(self.hip_px).norm()
    }

    /// Share of the crop's cells inside the person (probability ≥ 0.5) on the
    /// side of `n` (`sign` = +1) or `-n` (-1), between axis stations `from`..`to`.
    pub fn filled_share(&self, sign: f64, from: f64, to: f64) -> f64 {
        let mut inside = 0usize;
        let mut total = 0usize;
        for i in 0..CROP_ROWS {
            let t = row_station(i);
            if t < from || t > to {
                continue;
            }
            for j in 0..CROP_COLS {
                if col_offset(j) * sign > 0.0 {
                    total += 1;
                    inside += usize::from(self.pixels[i * CROP_COLS + j] >= 128);
                }
            }
        }
        if total == 0 {
            0.0
        } else {
            inside as f64 / total as f64
        }
    }
}

/// The spine model's input for one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct SpineInput {
    /// Probabilities 0..1, row-major [`CROP_ROWS`] x [`CROP_COLS`]; columns
    /// run from the front of the body (0) to its back.
    pub crop: Vec<f32>,
    /// See [`SpineInput::SCALAR_NAMES`].
    pub scalars: [f32; SCALAR_COUNT],
    /// Edge profiles, 4 x [`PROFILE_STATIONS`]: the back's distance from the
    /// axis, the front's, and a 1/0 flag for each telling whether an edge was found.
    pub profile: Vec<f32>,
}

impl SpineInput {
    /// Names of the scalar inputs, in order (angles in units of 90°,
    /// positions in axis lengths in the oriented torso frame: `t` along the
    /// hip→shoulder axis, `d` across it toward the back).
    pub const SCALAR_NAMES: [&'static str; SCALAR_COUNT] = [
        "trunk_lean",
        "thigh_lean",
        "shank_lean",
        "obliquity_signed",
        "knee_t",
        "knee_d",
        "ankle_t",
        "ankle_d",
        "toe_t",
        "toe_d",
        "nose_t",
        "nose_d",
        "ear_t",
        "ear_d",
        "elbow_t",
        "elbow_d",
        "wrist_t",
        "wrist_d",
    ];

    /// Builds the input of one frame from its crop, landmarks and the clip's
    /// view: which way the person faces and the camera's signed obliquity
    /// (+ chest turned to the camera, degrees). `leans_deg` are the sagittal
    /// keypoint inclinations of trunk, thigh and shank (see
    /// `sagittal::measure`); `None` when any is missing.
    pub fn new(
        crop: &TorsoCrop,
        landmarks: &[Landmark; BODY_LANDMARKS],
        facing: Facing,
        signed_obliquity_deg: f64,
        leans_deg: [Option<f64>; 3],
    ) -> Option<SpineInput> {
        let [trunk, thigh, shank] = leans_deg;
        let (trunk, thigh, shank) = (trunk?, thigh?, shank?);
        let l = crop.axis_px();
        if !(l >= MIN_AXIS_PX) {
            return None;
        }
        let u = crop.shoulder_px.sub(crop.hip_px).scale(1.0 / l);
        let n = V2::new(-u.y, u.x);
        let dorsal = dorsal_sign(facing);
        let mut out = vec![0f32; CROP_ROWS * CROP_COLS];
        for i in 0..CROP_ROWS {
            for j in 0..CROP_COLS {
                let src = if dorsal > 0.0 { j } else { CROP_COLS - 1 - j };
                out[i * CROP_COLS + j] = crop.pixels[i * CROP_COLS + src] as f32 / 255.0;
            }
        }
        let frame_of = |p: Option<V2>| -> (f32, f32) {
            match p {
                Some(p) => {
                    let r = p.sub(crop.hip_px);
                    ((r.dot(u) / l) as f32, (dorsal * r.dot(n) / l) as f32)
                }
                None => (0.0, 0.0),
            }
        };
        let pts = [
            mid2(landmarks, L::LeftKnee, L::RightKnee),
            mid2(landmarks, L::LeftAnkle, L::RightAnkle),
            mid2(landmarks, L::LeftFootIndex, L::RightFootIndex),
            usable(&landmarks[L::Nose.index()]).then(|| p2(&landmarks[L::Nose.index()])),
            mid2(landmarks, L::LeftEar, L::RightEar),
            mid2(landmarks, L::LeftElbow, L::RightElbow),
            mid2(landmarks, L::LeftWrist, L::RightWrist),
        ];
        let mut scalars = [0f32; SCALAR_COUNT];
        scalars[0] = (trunk / 90.0) as f32;
        scalars[1] = (thigh / 90.0) as f32;
        scalars[2] = (shank / 90.0) as f32;
        scalars[OBLIQUITY_SCALAR] = (signed_obliquity_deg / 90.0) as f32;
        for (k, p) in pts.into_iter().enumerate() {
            let (t, d) = frame_of(p);
            scalars[4 + 2 * k] = t.clamp(-4.0, 4.0);
            scalars[5 + 2 * k] = d.clamp(-4.0, 4.0);
        }
        let (back, front) =
            if dorsal > 0.0 { (&crop.edge_plus, &crop.edge_minus) } else { (&crop.edge_minus, &crop.edge_plus) };
        let mut profile = Vec::with_capacity(4 * PROFILE_STATIONS);
        profile.extend(back.iter().map(|e| e.unwrap_or(NO_EDGE)));
        profile.extend(front.iter().map(|e| e.unwrap_or(NO_EDGE)));
        profile.extend(back.iter().map(|e| if e.is_some() { 1.0 } else { 0.0 }));
        profile.extend(front.iter().map(|e| if e.is_some() { 1.0 } else { 0.0 }));
        Some(SpineInput { crop: out, scalars, profile })
    }
}

/// +1 when the back of the body lies on the side of `n = (-u.y, u.x)` of the
/// image's hip→shoulder axis `u`, -1 otherwise. With image y pointing down,
/// `n` is `u` turned toward image right for an upright torso, i.e. toward
/// the front of a person facing right; bending forward turns `u` and `n`
/// together, so the answer depends on the facing alone.
pub fn dorsal_sign(facing: Facing) -> f64 {
    -facing.forward_x()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An upright torso, facing `facing`: a body 60 px deep around x = 100
    /// whose back bulges out `bulge` px behind it; hips at y = 300, shoulders at y = 100.
    fn upright(facing: Facing, bulge: f64) -> impl Fn(V2) -> f32 {
        move |p: V2| {
            let back = -facing.forward_x();
            let rel = (p.x - 100.0) * back; // + behind the axis
            let limit = 30.0 + if (150.0..=280.0).contains(&p.y) { bulge } else { 0.0 };
            if rel <= limit && rel >= -30.0 && (40.0..=420.0).contains(&p.y) {
                1.0
            } else {
                0.0
            }
        }
    }

    fn landmarks(hip: V2, shoulder: V2) -> [Landmark; BODY_LANDMARKS] {
        let mut lms = [Landmark { visibility: 1.0, presence: 1.0, ..Default::default() }; BODY_LANDMARKS];
        for (id, p) in
            [(L::LeftHip, hip), (L::RightHip, hip), (L::LeftShoulder, shoulder), (L::RightShoulder, shoulder)]
        {
            lms[id.index()].x_px = p.x as f32;
            lms[id.index()].y_px = p.y as f32;
        }
        lms
    }

    #[test]
    fn geometry_of_rows_and_columns() {
        assert!(row_station(0) < ALONG_TOP && row_station(0) > row_station(1));
        assert!((row_station(CROP_ROWS - 1) - ALONG_BOTTOM) > 0.0);
        assert!((col_offset(0) + col_offset(CROP_COLS - 1)).abs() < 1e-12, "symmetric");
    }

    #[test]
    fn crop_is_oriented_back_to_the_last_columns_for_both_facings() {
        for facing in [Facing::Left, Facing::Right] {
            let (hip, sh) = (V2::new(100.0, 300.0), V2::new(100.0, 100.0));
            let c = TorsoCrop::extract_with(upright(facing, 25.0), hip, sh).unwrap();
            let input = SpineInput::new(&c, &landmarks(hip, sh), facing, 0.0, [Some(0.0); 3]).unwrap();
            // at mid-torso the back (bulging 25 px = 0.125 axis lengths further) reaches farther than the front
            let row = (0..CROP_ROWS).find(|&i| (row_station(i) - 0.5).abs() < 0.02).unwrap();
            let line = &input.crop[row * CROP_COLS..(row + 1) * CROP_COLS];
            let front = line[..CROP_COLS / 2].iter().filter(|&&p| p > 0.5).count();
            let back = line[CROP_COLS / 2..].iter().filter(|&&p| p > 0.5).count();
            assert!(back >= front + 3, "{facing:?}: back {back} front {front}");
        }
    }

    #[test]
    fn profiles_find_the_back_edge_to_a_fraction_of_a_pixel() {
        for facing in [Facing::Left, Facing::Right] {
            let (hip, sh) = (V2::new(100.0, 300.0), V2::new(100.0, 100.0));
            let c = TorsoCrop::extract_with(upright(facing, 25.0), hip, sh).unwrap();
            let input = SpineInput::new(&c, &landmarks(hip, sh), facing, 0.0, [Some(0.0); 3]).unwrap();
            let k = (0..PROFILE_STATIONS).find(|&k| (profile_station(k) - 0.5).abs() < 0.02).unwrap();
            // back edge 30 + 25 px behind the axis (0.275 axis lengths), front edge 30 px (0.15)
            assert!((input.profile[k] - 0.275).abs() < 0.01, "{facing:?}: back {}", input.profile[k]);
            assert!((input.profile[PROFILE_STATIONS + k] - 0.15).abs() < 0.01);
            assert_eq!(input.profile[2 * PROFILE_STATIONS + k], 1.0);
            // below the body (y > 420 px = station < -0.6) there is no edge
            assert!(profile_station(0) < -0.55);
        }
    }

    #[test]
    fn too_short_or_broken_axes_give_nothing() {
        let f = upright(Facing::Right, 0.0);
        assert!(TorsoCrop::extract_with(&f, V2::new(100.0, 300.0), V2::new(100.0, 290.0)).is_none());
        assert!(TorsoCrop::extract_with(&f, V2::new(f64::NAN, 300.0), V2::new(100.0, 100.0)).is_none());
        let c = TorsoCrop::extract_with(&f, V2::new(100.0, 300.0), V2::new(100.0, 100.0)).unwrap();
        let lms = landmarks(V2::new(100.0, 300.0), V2::new(100.0, 100.0));
        assert!(SpineInput::new(&c, &lms, Facing::Right, 0.0, [Some(1.0), None, Some(1.0)]).is_none());
    }

    proptest! {
        /// Moving, scaling or rotating the whole picture does not change the input.
        #[test]
        fn input_is_invariant_to_similarity_transforms(dx in -200f64..200.0, dy in -200f64..200.0,
                                                      k in 0.5f64..3.0, rot in -1.5f64..1.5) {
            let base = upright(Facing::Right, 20.0);
            let (hip, sh) = (V2::new(100.0, 300.0), V2::new(100.0, 100.0));
            let (s, c) = rot.sin_cos();
            let fwd = |p: V2| {
                let r = p.sub(V2::new(100.0, 300.0));
                V2::new(100.0 + dx + k * (c * r.x - s * r.y), 300.0 + dy + k * (s * r.x + c * r.y))
            };
            let inv = |p: V2| {
                let r = V2::new(p.x - 100.0 - dx, p.y - 300.0 - dy).scale(1.0 / k);
                V2::new(100.0 + c * r.x + s * r.y, 300.0 - s * r.x + c * r.y)
            };
            let a = TorsoCrop::extract_with(&base, hip, sh).unwrap();
            let b = TorsoCrop::extract_with(|p| base(inv(p)), fwd(hip), fwd(sh)).unwrap();
            // only cells on an edge (a neighbour on the other side of it) may flip
            let at = |i: usize, j: usize| a.pixels[i * CROP_COLS + j] >= 128;
            for i in 0..CROP_ROWS {
                for j in 0..CROP_COLS {
                    let k = i * CROP_COLS + j;
                    if a.pixels[k].abs_diff(b.pixels[k]) > 128 {
                        let near: Vec<bool> = (i.saturating_sub(1)..=(i + 1).min(CROP_ROWS - 1))
                            .flat_map(|r| (j.saturating_sub(1)..=(j + 1).min(CROP_COLS - 1)).map(move |c| (r, c)))
                            .map(|(r, c)| at(r, c))
                            .collect();
                        prop_assert!(near.contains(&true) && near.contains(&false), "cell {i},{j} flipped off an edge");
                    }
                }
            }
            // edges along the straight parts of the outline (clear of its corners) agree to a pixel
            for k in (0..PROFILE_STATIONS).filter(|&k| (0.2..0.7).contains(&profile_station(k))) {
                for (x, y) in [(a.edge_plus[k], b.edge_plus[k]), (a.edge_minus[k], b.edge_minus[k])] {
                    let (x, y) = (x.unwrap(), y.unwrap());
                    prop_assert!((x - y).abs() < 0.01, "edge {x} vs {y} at station {}", profile_station(k));
                }
            }
        }
    }
}
