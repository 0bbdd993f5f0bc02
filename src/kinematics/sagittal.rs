//! Sagittal-plane measurement: from image landmarks (and the torso outline)
//! to angles in the person's own plane of motion.
//!
//! An oblique camera (the person turned by an angle θ from a true side view)
//! shortens every forward/backward distance by cos θ while vertical distances
//! are kept (orthographic approximation; both legs and both shoulders are
//! averaged so the left–right offsets cancel). θ is estimated once per clip
//! from the BlazePose world landmarks (the direction of the left–right axis
//! of the shoulders against the camera axis) and undone by stretching
//! the forward component by 1/cos θ before any angle is taken.

use super::body::{facing_of, mid2, Facing, FacingVote, FrameMetrics};
use super::geometry::{wrap_deg, V2};
use super::outline::{self, TorsoOutline};
use super::spine_input::TorsoCrop;
use crate::pose::landmarks::{Landmark, LandmarkId as L, BODY_LANDMARKS};
use crate::pose::Pose;
use std::ops::Sub;

/// Body side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Left,
    Right,
}

/// What the measurement stage keeps of one frame's pose: landmarks, world
/// landmarks and the torso outline (the mask itself is dropped).
#[derive(Debug, Clone)]
pub struct BodyFrame {
    pub landmarks: [Landmark; BODY_LANDMARKS],
    /// World landmarks, metres, hip-centred, image-aligned axes (z away from camera).
    pub world_m: [[f32; 3]; BODY_LANDMARKS],
    pub outline: Option<TorsoOutline>,
    /// The mask around the torso, the spine model's input (frames with a mask only).
    pub crop: Option<TorsoCrop>,
}

impl BodyFrame {
    /// Keeps what is needed of a pose; extracts the torso outline when the
    /// pose carries a segmentation mask.
    pub fn from_pose(pose: &Pose) -> Self {
        let outline = pose.segmentation.as_ref().and_then(|mask| {
            let hip = mid2(&pose.landmarks, L::LeftHip, L::RightHip)?;
            let shoulder = mid2(&pose.landmarks, L::LeftShoulder, L::RightShoulder)?;
            outline::extract(mask, hip, shoulder)
        });
        let crop = pose.segmentation.as_ref().and_then(|mask| TorsoCrop::extract(mask, &pose.landmarks));
        Self { landmarks: pose.landmarks, world_m: pose.world_m, outline, crop }
    }

    pub fn landmark(&self, id: L) -> &Landmark {
        &self.landmarks[id.index()]
    }

    fn world(&self, id: L) -> [f64; 3] {
        let p = self.world_m[id.index()];
        [p[0] as f64, p[1] as f64, p[2] as f64]
    }

    /// Camera obliquity of this frame from the world landmarks, degrees
    /// (0 = true side view, 90 = facing the camera or turned away): the
    /// direction of the shoulder axis against the camera axis. The shoulders
    /// are used alone because BlazePose's world depth is least precise at the
    /// hips (on the dev footage adding them doubles the error on side views).
    pub fn obliquity_deg(&self) -> Option<f64> {
        let (ls, rs) = (self.world(L::LeftShoulder), self.world(L::RightShoulder));
        let lat_x = ls[0] - rs[0];
        let lat_z = ls[2] - rs[2];
        let a = lat_x.abs().atan2(lat_z.abs()).to_degrees();
        a.is_finite().then_some(a)
    }

    /// Signed angle of the person's forward direction against the image
    /// plane, degrees: + when the chest is turned toward the camera
    /// (front-oblique), − when the back is (back-oblique). The forward
    /// direction is the world shoulder axis turned about the vertical; its
    /// left–right labels are checked against `facing` (BlazePose swaps them
    /// now and then in side views).
    pub fn signed_obliquity_deg(&self, facing: Facing) -> Option<f64> {
        let (ls, rs) = (self.world(L::LeftShoulder), self.world(L::RightShoulder));
        let (lat_x, lat_z) = (ls[0] - rs[0], ls[2] - rs[2]);
        // forward = lateral × up with up = (0, −1, 0) (world y points down)
        let (mut fx, mut fz) = (lat_z, -lat_x);
        if fx * facing.forward_x() < 0.0 {
            fx = -fx;
            fz = -fz;
        }
        let a = (-fz).atan2(fx.abs()).to_degrees();
        a.is_finite().then_some(a)
    }

    /// Horizontal distance of the hands (mid-wrists) in front of the ankles'
    /// midpoint along the person's forward direction, in metres of BlazePose's
    /// world landmarks (the NIOSH lifting equation's H, taken at the wrists);
    /// negative behind the ankles. `None` when the hands or ankles are not usable.
    pub fn hands_ahead_of_ankles_m(&self, facing: Facing) -> Option<f64> {
        let usable2 = |a: L, b: L| super::usable(self.landmark(a)) || super::usable(self.landmark(b));
        if !usable2(L::LeftWrist, L::RightWrist) || !usable2(L::LeftAnkle, L::RightAnkle) {
            return None;
        }
        let mid = |a: L, b: L| {
            let (p, q) = (self.world(a), self.world(b));
            [(p[0] + q[0]) / 2.0, (p[2] + q[2]) / 2.0]
        };
        // lateral axis from shoulders and hips together, forward = lateral × up
        let lat = |a: L, b: L| {
            let (p, q) = (self.world(a), self.world(b));
            [p[0] - q[0], p[2] - q[2]]
        };
        let (ls, lh) = (lat(L::LeftShoulder, L::RightShoulder), lat(L::LeftHip, L::RightHip));
        let (lx, lz) = (ls[0] + lh[0], ls[1] + lh[1]);
        let (mut fx, mut fz) = (lz, -lx);
        let norm = fx.hypot(fz);
        if !(norm > 1e-6) {
            return None;
        }
        if fx * facing.forward_x() < 0.0 {
            fx = -fx;
            fz = -fz;
        }
        let (h, a) = (mid(L::LeftWrist, L::RightWrist), mid(L::LeftAnkle, L::RightAnkle));
        let d = ((h[0] - a[0]) * fx + (h[1] - a[1]) * fz) / norm;
        d.is_finite().then_some(d)
    }

    /// Side nearer the camera in this frame (smaller world z of hip + shoulder).
    pub fn near_side(&self) -> Option<Side> {
        let l = self.world(L::LeftHip)[2] + self.world(L::LeftShoulder)[2];
        let r = self.world(L::RightHip)[2] + self.world(L::RightShoulder)[2];
        if !(l.is_finite() && r.is_finite()) || (l - r).abs() < 0.02 {
            None
        } else if l < r {
            Some(Side::Left)
        } else {
            Some(Side::Right)
        }
    }
}

/// Camera view of a whole clip: which way the person faces, which side is
/// nearer the camera and how oblique the camera is.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ClipView {
    pub facing: Facing,
    pub near_side: Option<Side>,
    /// Estimated angle between the camera axis and the person's left–right axis, degrees.
    pub obliquity_deg: f64,
    /// Whether the chest (true) or the back (false) is turned toward the
    /// camera; `None` near a true side view or without an estimate.
    pub front_oblique: Option<bool>,
}

/// Smallest clip obliquity whose sign (front or back turned to the camera) is reported, °.
pub const SIGN_MIN_OBLIQUITY_DEG: f64 = 5.0;

/// Largest obliquity that is corrected; beyond it the correction would blow up noise.
pub const MAX_CORRECTED_OBLIQUITY_DEG: f64 = 55.0;

impl ClipView {
    /// Estimates the view from every frame of a clip (majority facing and
    /// near side, median obliquity). `None` without any frame.
    pub fn estimate<'a>(frames: impl IntoIterator<Item = &'a BodyFrame>) -> Option<ClipView> {
        let mut vote = FacingVote::default();
        let (mut left, mut right) = (0u32, 0u32);
        let mut obl = Vec::new();
        let mut any = false;
        let mut seen: Vec<&BodyFrame> = Vec::new();
        for f in frames {
            any = true;
            seen.push(f);
            vote.add(facing_of(&f.landmarks));
            match f.near_side() {
                Some(Side::Left) => left += 1,
                Some(Side::Right) => right += 1,
                None => {}
            }
            obl.extend(f.obliquity_deg());
        }
        if !any {
            return None;
        }
        obl.sort_by(f64::total_cmp);
        let obliquity_deg = obl.get(obl.len() / 2).copied().unwrap_or(0.0);
        let facing = vote.facing();
        let mut signed: Vec<f64> = seen.iter().filter_map(|f| f.signed_obliquity_deg(facing)).collect();
        signed.sort_by(f64::total_cmp);
        let front_oblique =
            signed.get(signed.len() / 2).filter(|a| a.abs() >= SIGN_MIN_OBLIQUITY_DEG).map(|a| *a > 0.0);
        let near_side = match left.cmp(&right) {
            std::cmp::Ordering::Greater => Some(Side::Left),
            std::cmp::Ordering::Less => Some(Side::Right),
            std::cmp::Ordering::Equal => None,
        };
        Some(ClipView { facing, near_side, obliquity_deg, front_oblique })
    }

    /// Obliquity with its sign: + front-oblique, − back-oblique, degrees.
    pub fn signed_obliquity_deg(&self) -> f64 {
        match self.front_oblique {
            Some(false) => -self.obliquity_deg,
            _ => self.obliquity_deg,
        }
    }

    /// An image vector in sagittal coordinates: (forward, up), with the
    /// obliquity's foreshortening of the forward component undone.
    pub fn to_sagittal(&self, v: V2) -> V2 {
        let c = self.obliquity_deg.clamp(0.0, MAX_CORRECTED_OBLIQUITY_DEG).to_radians().cos();
        V2::new(v.x * self.facing.forward_x() / c, -v.y)
    }
}

/// Signed inclination of a sagittal vector (forward, up) from vertical up, + forward.
fn lean_from_up_deg(s: V2) -> Option<f64> {
    (s.norm() > 1e-9 && s.is_finite()).then(|| s.x.atan2(s.y).to_degrees())
}

/// Signed inclination of a sagittal vector from vertical down, + forward.
fn lean_from_down_deg(s: V2) -> Option<f64> {
    (s.norm() > 1e-9 && s.is_finite()).then(|| s.x.atan2(-s.y).to_degrees())
}

/// Differences between angles taken on BlazePose keypoints and the same
/// angles on joint centres (what the truth and clinicians measure).
/// BlazePose's hip keypoint sits on the surface, above and in front of the
/// hip joint centre, and its shoulder keypoint in front of the glenohumeral
/// centre, so the keypoint trunk line leans less and the keypoint hip and knee
/// angles read straighter than the joint-centre ones. For the hip the gap
/// shrinks as the hip flexes (the surface offset turns with the pelvis), so
/// it is a linear map; trunk and knee need only an offset. Calibrated by least
/// squares over every frame of the rendered dev footage (side and oblique).
pub mod keypoint_offsets {
    /// Added to the keypoint trunk inclination, °.
    pub const TRUNK_DEG: f64 = 4.6;
    /// Joint-centre hip angle per degree of keypoint hip angle.
    pub const HIP_ANGLE_GAIN: f64 = 0.86;
    /// Joint-centre hip angle at a straight keypoint hip, °.
    pub const HIP_ANGLE_DEG: f64 = 19.2;
    /// Added to the keypoint knee flexion, °.
    pub const KNEE_FLEXION_DEG: f64 = 5.9;
}

/// Intermediate quantities of one frame, before smoothing over time.
#[derive(Debug, Clone, Default)]
pub struct FrameFeatures {
    /// Keypoint trunk inclination (mid-hip → mid-shoulder) from vertical, + forward, ° (no offset).
    pub trunk_lean_deg: Option<f64>,
    /// Thigh inclination from vertical down, + knee forward, °.
    pub thigh_deg: Option<f64>,
    /// Shank inclination from vertical down, + knee forward of the ankle, °.
    pub shank_deg: Option<f64>,
    /// Dorsal outline points in sagittal coordinates relative to mid-hip, in
    /// hip–shoulder lengths: (station, forward, up).
    pub dorsal: Vec<(f64, f64, f64)>,
}

/// Per-frame metrics (and features) of one body frame in a clip's view.
/// Only the landmark angles are final here; the outline-based ones are
/// completed over time by [`super::finish_series`].
pub fn measure(frame: &BodyFrame, view: &ClipView) -> (FrameMetrics, FrameFeatures) {
    let lms = &frame.landmarks;
    let shoulder = mid2(lms, L::LeftShoulder, L::RightShoulder);
    let hip = mid2(lms, L::LeftHip, L::RightHip);
    let knee = mid2(lms, L::LeftKnee, L::RightKnee);
    let ankle = mid2(lms, L::LeftAnkle, L::RightAnkle);
    let sag = |a: Option<V2>, b: Option<V2>| match (a, b) {
        (Some(a), Some(b)) => Some(view.to_sagittal(b.sub(a))),
        _ => None,
    };
    let trunk = sag(hip, shoulder);
    let thigh = sag(hip, knee);
    let shank = sag(knee, ankle);
    let trunk_lean = trunk.and_then(lean_from_up_deg);
    let thigh_lean = thigh.and_then(lean_from_down_deg);
    let shank_lean = shank.and_then(lean_from_down_deg);
    let trunk_deg = trunk_lean.map(|a| a + keypoint_offsets::TRUNK_DEG);
    // signed in the sagittal plane, so that a hip or knee extended past
    // straight reads negative instead of folding back to positive
    let hip_angle_deg = match (trunk_lean, thigh_lean) {
        (Some(t), Some(h)) => {
            Some(keypoint_offsets::HIP_ANGLE_GAIN * wrap_deg(t + h) + keypoint_offsets::HIP_ANGLE_DEG)
        }
        _ => None,
    };
    let knee_flexion_deg = match (thigh_lean, shank_lean) {
        (Some(t), Some(s)) => Some(wrap_deg(t - s) + keypoint_offsets::KNEE_FLEXION_DEG),
        _ => None,
    };
    let load_distance_cm = frame.hands_ahead_of_ankles_m(view.facing).map(|d| 100.0 * d);
    let mut features = FrameFeatures {
        trunk_lean_deg: trunk_lean,
        thigh_deg: thigh_lean,
        shank_deg: shank_lean,
        ..Default::default()
    };
    if let Some(o) = &frame.outline {
        let contour = o.dorsal_contour(-view.facing.forward_x(), |v| view.to_sagittal(v));
        features.dorsal = contour.iter().map(|(t, p)| (*t, p.x, p.y)).collect();
    }
    (FrameMetrics { trunk_deg, hip_angle_deg, knee_flexion_deg, load_distance_cm, ..Default::default() }, features)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::ops::Add;

    /// A side-view body (facing right) with a hinge of `trunk_deg` trunk lean,
    /// `thigh_deg` thigh and `shank_deg` shank inclination, in sagittal units;
    /// projected to pixels with the forward axis shortened by cos(obliquity).
    fn body(trunk_deg: f64, thigh_deg: f64, shank_deg: f64, obliquity_deg: f64, mirror: bool) -> BodyFrame {
        let c = obliquity_deg.to_radians().cos();
        let hip = V2::new(0.0, 0.0);
        let dir_up = |deg: f64| V2::new(deg.to_radians().sin(), deg.to_radians().cos());
        let dir_down = |deg: f64| V2::new(deg.to_radians().sin(), -deg.to_radians().cos());
        let shoulder = hip.add(dir_up(trunk_deg).scale(200.0));
        let knee = hip.add(dir_down(thigh_deg).scale(180.0));
        let ankle = knee.add(dir_down(-shank_deg).scale(170.0));
        let toe = ankle.add(V2::new(40.0, 0.0));
        let heel = ankle.add(V2::new(-10.0, 0.0));
        // sagittal (forward, up) → pixels (x right, y down), around (500, 500)
        let px = |s: V2| {
            let x = s.x * c;
            V2::new(500.0 + if mirror { -x } else { x }, 500.0 - s.y)
        };
        let mut lms = [Landmark { visibility: 1.0, presence: 1.0, ..Default::default() }; BODY_LANDMARKS];
        let mut put = |id: L, s: V2, lateral: f64| {
            let p = px(s);
            lms[id.index()].x_px = (p.x + lateral * obliquity_deg.to_radians().sin()) as f32;
            lms[id.index()].y_px = p.y as f32;
        };
        for (l, r, s) in [
            (L::LeftShoulder, L::RightShoulder, shoulder),
            (L::LeftHip, L::RightHip, hip),
            (L::LeftKnee, L::RightKnee, knee),
            (L::LeftAnkle, L::RightAnkle, ankle),
            (L::LeftFootIndex, L::RightFootIndex, toe),
            (L::LeftHeel, L::RightHeel, heel),
        ] {
            put(l, s, 20.0);
            put(r, s, -20.0);
        }
        BodyFrame { landmarks: lms, world_m: [[0.0; 3]; BODY_LANDMARKS], outline: None, crop: None }
    }

    fn view(facing: Facing, obliquity_deg: f64) -> ClipView {
        ClipView { facing, near_side: None, obliquity_deg, front_oblique: None }
    }

    #[test]
    fn zero_length_and_missing_segments_give_no_value() {
        let mut b = body(40.0, 10.0, 10.0, 0.0, false);
        for id in [L::LeftKnee, L::RightKnee] {
            b.landmarks[id.index()].x_px = b.landmark(L::LeftHip).x_px;
            b.landmarks[id.index()].y_px = b.landmark(L::LeftHip).y_px;
        }
        let (m, _) = measure(&b, &view(Facing::Right, 0.0));
        assert!(m.hip_angle_deg.is_none() && m.knee_flexion_deg.is_none(), "zero-length thigh");
        assert!(m.trunk_deg.is_some());
        let mut b = body(40.0, 10.0, 10.0, 0.0, false);
        for id in [L::LeftShoulder, L::RightShoulder] {
            b.landmarks[id.index()].visibility = 0.0;
            b.landmarks[id.index()].presence = 0.0;
        }
        let (m, _) = measure(&b, &view(Facing::Right, 0.0));
        assert!(m.trunk_deg.is_none() && m.hip_angle_deg.is_none(), "no shoulders");
        assert!(m.knee_flexion_deg.is_some());
        let mut b = body(40.0, 10.0, 10.0, 0.0, false);
        b.landmarks[L::LeftAnkle.index()].x_px = f32::NAN;
        b.landmarks[L::RightAnkle.index()].y_px = f32::NAN;
        let (m, _) = measure(&b, &view(Facing::Right, 0.0));
        assert!(m.knee_flexion_deg.is_none(), "NaN ankles");
    }

    #[test]
    fn view_estimate_needs_frames_and_detects_facing() {
        assert!(ClipView::estimate(std::iter::empty()).is_none());
        let right = body(10.0, 0.0, 0.0, 0.0, false);
        let left = body(10.0, 0.0, 0.0, 0.0, true);
        assert_eq!(ClipView::estimate([&right, &right]).unwrap().facing, Facing::Right);
        assert_eq!(ClipView::estimate([&left, &left]).unwrap().facing, Facing::Left);
    }

    proptest! {
        #[test]
        fn oblique_views_are_corrected(trunk in 0f64..85.0, thigh in 0f64..80.0, shank in 0f64..40.0,
                                       obl in 0f64..45.0, mirror in any::<bool>()) {
            let b = body(trunk, thigh, shank, obl, mirror);
            let facing = if mirror { Facing::Left } else { Facing::Right };
            let (m, f) = measure(&b, &view(facing, obl));
            let t = m.trunk_deg.unwrap() - keypoint_offsets::TRUNK_DEG;
            prop_assert!((t - trunk).abs() < 1e-3, "trunk {t} vs {trunk}");
            let hip = (m.hip_angle_deg.unwrap() - keypoint_offsets::HIP_ANGLE_DEG) / keypoint_offsets::HIP_ANGLE_GAIN;
            prop_assert!((hip - (trunk + thigh)).abs() < 1e-3, "hip {hip}");
            let knee = m.knee_flexion_deg.unwrap() - keypoint_offsets::KNEE_FLEXION_DEG;
            prop_assert!((knee - (thigh + shank)).abs() < 1e-3, "knee {knee}");
            prop_assert!((f.thigh_deg.unwrap() - thigh).abs() < 1e-3);
        }

        #[test]
        fn mirrored_clip_measures_the_same(trunk in -10f64..85.0, thigh in -5f64..80.0, shank in -5f64..40.0) {
            let (a, _) = measure(&body(trunk, thigh, shank, 0.0, false), &view(Facing::Right, 0.0));
            let (b, _) = measure(&body(trunk, thigh, shank, 0.0, true), &view(Facing::Left, 0.0));
            for (x, y) in [(a.trunk_deg, b.trunk_deg), (a.hip_angle_deg, b.hip_angle_deg),
                           (a.knee_flexion_deg, b.knee_flexion_deg)] {
                prop_assert!((x.unwrap() - y.unwrap()).abs() < 1e-3);
            }
        }

        #[test]
        fn image_translation_does_not_change_angles(dx in -300f32..300.0, dy in -300f32..300.0,
                                                    trunk in 0f64..85.0) {
            let b0 = body(trunk, 10.0, 10.0, 0.0, false);
            let mut b1 = b0.clone();
            for l in b1.landmarks.iter_mut() {
                l.x_px += dx;
                l.y_px += dy;
            }
            let (a, _) = measure(&b0, &view(Facing::Right, 0.0));
            let (b, _) = measure(&b1, &view(Facing::Right, 0.0));
            prop_assert!((a.trunk_deg.unwrap() - b.trunk_deg.unwrap()).abs() < 1e-3);
            prop_assert!((a.hip_angle_deg.unwrap() - b.hip_angle_deg.unwrap()).abs() < 1e-3);
        }
    }
}
