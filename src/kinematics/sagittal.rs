//! Sagittal-plane measurement: from image landmarks (and the torso outline)
//! to angles in the person's own plane of motion.
//!
//! An oblique camera (the person turned by an angle θ from a true side view)
//! shortens every forward/backward distance by cos θ while vertical distances
//! are kept (orthographic approximation; both legs and both shoulders are
//! averaged so the left–right offsets cancel). θ is estimated once per clip
//! from the BlazePose world landmarks (the direction of the left–right axis
//! of hips and shoulders against the camera axis) and undone by stretching
//! the forward component by 1/cos θ before any angle is taken.

use super::geometry::{angle_between_deg, V2};
use super::back::BackShape;
use super::outline::{self, TorsoOutline};
use super::{facing_of, mid2, Facing, FacingVote, FrameMetrics};
use crate::pose::landmarks::{Landmark, LandmarkId as L, BODY_LANDMARKS};
use crate::pose::Pose;

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
        Self { landmarks: pose.landmarks, world_m: pose.world_m, outline }
    }

    pub fn landmark(&self, id: L) -> &Landmark {
        &self.landmarks[id.index()]
    }

    fn world(&self, id: L) -> [f64; 3] {
        let p = self.world_m[id.index()];
        [p[0] as f64, p[1] as f64, p[2] as f64]
    }

    /// Camera obliquity of this frame from the world landmarks, degrees
    /// (0 = true side view, 90 = facing the camera or turned away).
    pub fn obliquity_deg(&self) -> Option<f64> {
        let (lh, rh, ls, rs) =
            (self.world(L::LeftHip), self.world(L::RightHip), self.world(L::LeftShoulder), self.world(L::RightShoulder));
        let lat_x = (lh[0] - rh[0]) + (ls[0] - rs[0]);
        let lat_z = (lh[2] - rh[2]) + (ls[2] - rs[2]);
        let a = lat_x.abs().atan2(lat_z.abs()).to_degrees();
        a.is_finite().then_some(a)
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
}

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
        for f in frames {
            any = true;
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
        let near_side = match left.cmp(&right) {
            std::cmp::Ordering::Greater => Some(Side::Left),
            std::cmp::Ordering::Less => Some(Side::Right),
            std::cmp::Ordering::Equal => None,
        };
        Some(ClipView { facing: vote.facing(), near_side, obliquity_deg })
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

/// Constant differences between angles taken on BlazePose keypoints and the
/// same angles on joint centres (what the truth and clinicians measure).
/// BlazePose's hip keypoint sits on the surface, above and in front of the
/// hip joint centre, and its shoulder keypoint in front of the glenohumeral
/// centre, so the keypoint trunk line leans less and the keypoint hip and knee
/// angles read straighter than the joint-centre ones. Calibrated as the mean
/// difference over the rendered dev footage (all frames, side and oblique).
pub mod keypoint_offsets {
    /// Added to the keypoint trunk inclination, °.
    pub const TRUNK_DEG: f64 = 4.6;
    /// Added to the keypoint hip angle, °.
    pub const HIP_ANGLE_DEG: f64 = 12.5;
    /// Added to the keypoint knee flexion, °.
    pub const KNEE_FLEXION_DEG: f64 = 5.6;
}

/// Intermediate quantities of one frame, before smoothing over time.
#[derive(Debug, Clone, Default)]
pub struct FrameFeatures {
    /// Thigh inclination from vertical down, + knee forward, °.
    pub thigh_deg: Option<f64>,
    /// Shank inclination from vertical down, + knee forward of the ankle, °.
    pub shank_deg: Option<f64>,
    /// Lean of the lumbosacral outline line (around hip level) from vertical, + forward, °.
    pub sacral_lean_deg: Option<f64>,
    /// Lean of the upper-back (thoracic) outline line, + forward, °.
    pub thorax_lean_deg: Option<f64>,
    /// Bending of the lower-back outline, + convex (rounded), − concave (arched), °.
    pub low_bend_deg: Option<f64>,
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
    let trunk_deg = trunk.and_then(lean_from_up_deg).map(|a| a + keypoint_offsets::TRUNK_DEG);
    let hip_angle_deg = match (trunk, thigh) {
        (Some(t), Some(h)) => angle_between_deg(t, h).map(|a| 180.0 - a + keypoint_offsets::HIP_ANGLE_DEG),
        _ => None,
    };
    let knee_flexion_deg = match (thigh, shank) {
        (Some(t), Some(s)) => {
            angle_between_deg(t.scale(-1.0), s).map(|a| 180.0 - a + keypoint_offsets::KNEE_FLEXION_DEG)
        }
        _ => None,
    };
    let mut features = FrameFeatures {
        thigh_deg: thigh.and_then(lean_from_down_deg),
        shank_deg: shank.and_then(lean_from_down_deg),
        ..Default::default()
    };
    if let Some(shape) = BackShape::of(frame, view) {
        features.sacral_lean_deg = shape.sacral.map(|f| f.lean_deg());
        features.thorax_lean_deg = shape.thorax.map(|f| f.lean_deg());
        features.low_bend_deg = shape.low_bend_deg.map(|b| b.clamp(-90.0, 90.0));
        features.dorsal = shape.points.iter().map(|(t, p)| (*t, p.x, p.y)).collect();
    }
    (FrameMetrics { trunk_deg, hip_angle_deg, knee_flexion_deg, ..Default::default() }, features)
}
