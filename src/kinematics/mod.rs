//! From landmarks to angles: trunk, hip and knee per frame, with the side of
//! the body facing the camera and the walking direction detected, not assumed.
//!
//! All angles are in degrees. Definitions and signs follow `docs/metrics.md`.

pub mod geometry;

use geometry::{inclination_from_vertical_deg, joint_angle3_deg, joint_angle_deg, V2, V3};

use crate::pose::landmarks::{Landmark, LandmarkId as L};
use crate::pose::Pose;

/// Which way the person faces in the image (where the toes point).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Facing {
    Left,
    Right,
}

impl Facing {
    /// +1 for right, -1 for left (image x direction of "forward").
    pub fn forward_x(self) -> f64 {
        match self {
            Facing::Left => -1.0,
            Facing::Right => 1.0,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Facing::Left => "left",
            Facing::Right => "right",
        }
    }
}

/// Metrics of one frame; `None` where it cannot be measured.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct FrameMetrics {
    /// Trunk inclination from vertical, + forward.
    pub trunk_deg: Option<f64>,
    /// 180° − shoulder–hip–knee angle; 0 standing straight.
    pub hip_angle_deg: Option<f64>,
    /// 180° − hip–knee–ankle angle; 0 straight.
    pub knee_flexion_deg: Option<f64>,
    /// Anatomical hip flexion (pelvis against thigh).
    pub hip_flexion_deg: Option<f64>,
    /// Lumbar flexion from the back contour; + rounding, − arching.
    pub lumbar_flexion_deg: Option<f64>,
    /// Pelvic tilt beyond a neutral hinge; + anterior, − posterior.
    pub pelvic_tilt_deg: Option<f64>,
    /// Rib cage against pelvis; + closed, − flared.
    pub rib_stack_deg: Option<f64>,
    /// Stoop-squat index 0–100.
    pub ssi: Option<f64>,
}

/// Minimum visibility for a landmark to be used.
pub const MIN_VISIBILITY: f32 = 0.3;

fn usable(l: &Landmark) -> bool {
    l.x_px.is_finite() && l.y_px.is_finite() && (l.visibility >= MIN_VISIBILITY || l.presence >= 0.5)
}

fn p2(l: &Landmark) -> V2 {
    V2::new(l.x_px as f64, l.y_px as f64)
}

/// Midpoint of a left/right pair, or the usable one alone.
fn mid2(pose: &Pose, left: L, right: L) -> Option<V2> {
    let (a, b) = (pose.landmark(left), pose.landmark(right));
    match (usable(a), usable(b)) {
        (true, true) => Some(p2(a).midpoint(p2(b))),
        (true, false) => Some(p2(a)),
        (false, true) => Some(p2(b)),
        _ => None,
    }
}

fn w3(pose: &Pose, id: L) -> V3 {
    let p = pose.world_m[id.index()];
    V3::new(p[0] as f64, p[1] as f64, p[2] as f64)
}

fn mid3(pose: &Pose, left: L, right: L) -> V3 {
    w3(pose, left).midpoint(w3(pose, right))
}

/// Facing of one frame from the feet (toes ahead of heels), falling back to
/// the head (nose ahead of the ears). `None` when ambiguous.
pub fn facing_of(pose: &Pose) -> Option<Facing> {
    let mut votes = 0.0f64;
    for (toe, heel) in [(L::LeftFootIndex, L::LeftHeel), (L::RightFootIndex, L::RightHeel)] {
        let (t, h) = (pose.landmark(toe), pose.landmark(heel));
        if usable(t) && usable(h) {
            votes += (t.x_px - h.x_px) as f64;
        }
    }
    if votes.abs() < 2.0 {
        if let (Some(ears), n) = (mid2(pose, L::LeftEar, L::RightEar), pose.landmark(L::Nose)) {
            if usable(n) {
                votes = n.x_px as f64 - ears.x;
            }
        }
    }
    if votes.abs() < 2.0 {
        None
    } else if votes > 0.0 {
        Some(Facing::Right)
    } else {
        Some(Facing::Left)
    }
}

/// Per-frame angles from a pose, given which way the person faces.
pub fn measure(pose: &Pose, facing: Facing) -> FrameMetrics {
    let shoulder = mid2(pose, L::LeftShoulder, L::RightShoulder);
    let hip = mid2(pose, L::LeftHip, L::RightHip);
    let knee = mid2(pose, L::LeftKnee, L::RightKnee);
    let ankle = mid2(pose, L::LeftAnkle, L::RightAnkle);
    let trunk_deg = match (hip, shoulder) {
        (Some(h), Some(s)) => inclination_from_vertical_deg(s.sub(h), facing.forward_x()),
        _ => None,
    };
    let hip_angle_deg = match (shoulder, hip, knee) {
        (Some(s), Some(h), Some(k)) => joint_angle_deg(s, h, k).map(|a| 180.0 - a),
        _ => None,
    };
    let knee_flexion_deg = match (hip, knee, ankle) {
        (Some(h), Some(k), Some(a)) => joint_angle_deg(h, k, a).map(|a| 180.0 - a),
        _ => None,
    };
    FrameMetrics { trunk_deg, hip_angle_deg, knee_flexion_deg, ..Default::default() }
}

/// 3D joint angles from the world landmarks (view-independent but noisier).
pub fn world_joint_angles(pose: &Pose) -> (Option<f64>, Option<f64>) {
    let s = mid3(pose, L::LeftShoulder, L::RightShoulder);
    let h = mid3(pose, L::LeftHip, L::RightHip);
    let k = mid3(pose, L::LeftKnee, L::RightKnee);
    let a = mid3(pose, L::LeftAnkle, L::RightAnkle);
    (joint_angle3_deg(s, h, k).map(|x| 180.0 - x), joint_angle3_deg(h, k, a).map(|x| 180.0 - x))
}

/// Streaming facing vote: the majority of per-frame estimates so far.
#[derive(Debug, Clone, Default)]
pub struct FacingVote {
    left: u32,
    right: u32,
}

impl FacingVote {
    pub fn add(&mut self, f: Option<Facing>) {
        match f {
            Some(Facing::Left) => self.left += 1,
            Some(Facing::Right) => self.right += 1,
            None => {}
        }
    }

    /// Current majority; right when there is no evidence yet.
    pub fn facing(&self) -> Facing {
        if self.left > self.right {
            Facing::Left
        } else {
            Facing::Right
        }
    }

    pub fn has_evidence(&self) -> bool {
        self.left + self.right > 0
    }
}
