//! The 33 BlazePose body landmarks and the decoding of the landmark model's
//! outputs (MediaPipe `TensorsToLandmarksCalculator`,
//! `RefineLandmarksFromHeatmapCalculator`, `LandmarkProjectionCalculator`).

use super::roi::{PointPx, Roi};

/// Landmark model input side in pixels.
pub const LANDMARK_INPUT_PX: u32 = 256;
/// Landmarks the model outputs: 33 body + 2 ROI helpers + 4 unused.
pub const MODEL_LANDMARKS: usize = 39;
/// Body landmarks reported to users.
pub const BODY_LANDMARKS: usize = 33;
/// Values per landmark in the `Identity` output: x, y, z, visibility, presence.
pub const VALUES_PER_LANDMARK: usize = 5;
/// Heatmap side (cells) of the `Identity_3` output.
pub const HEATMAP_PX: usize = 64;
/// Heatmap refinement window side (`kernel_size`).
pub const HEATMAP_KERNEL: usize = 7;
/// Refine only when the window's best confidence reaches this.
pub const HEATMAP_MIN_CONFIDENCE: f32 = 0.5;
/// Index of the ROI centre helper landmark (hip midpoint).
pub const AUX_CENTER: usize = 33;
/// Index of the ROI scale/rotation helper landmark.
pub const AUX_SCALE: usize = 34;

/// Names of the 33 body landmarks in model order ("left" = the subject's left).
pub const LANDMARK_NAMES: [&str; BODY_LANDMARKS] = [
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
];

/// Named indices of the landmarks used by the kinematics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(usize)]
pub enum LandmarkId {
    Nose = 0,
    LeftEar = 7,
    RightEar = 8,
    LeftShoulder = 11,
    RightShoulder = 12,
    LeftElbow = 13,
    RightElbow = 14,
    LeftWrist = 15,
    RightWrist = 16,
    LeftHip = 23,
    RightHip = 24,
    LeftKnee = 25,
    RightKnee = 26,
    LeftAnkle = 27,
    RightAnkle = 28,
    LeftHeel = 29,
    RightHeel = 30,
    LeftFootIndex = 31,
    RightFootIndex = 32,
}

impl LandmarkId {
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Pairs of landmarks joined by a bone when drawing the skeleton.
pub const SKELETON_EDGES: [(usize, usize); 29] = [
    (11, 12),
    (11, 13),
    (13, 15),
    (12, 14),
    (14, 16),
    (11, 23),
    (12, 24),
    (23, 24),
    (23, 25),
    (25, 27),
    (27, 29),
    (29, 31),
    (27, 31),
    (24, 26),
    (26, 28),
    (28, 30),
    (30, 32),
    (28, 32),
    (0, 2),
    (0, 5),
    (2, 7),
    (5, 8),
    (9, 10),
    (15, 17),
    (15, 19),
    (15, 21),
    (16, 18),
    (16, 20),
    (16, 22),
];

/// One landmark in frame pixels.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Landmark {
    pub x_px: f32,
    pub y_px: f32,
    /// Depth relative to the hips, in the same pixel scale; negative = nearer the camera.
    pub z_px: f32,
    /// Probability that the landmark is visible (not occluded) 0..1.
    pub visibility: f32,
    /// Probability that the landmark is inside the frame 0..1.
    pub presence: f32,
}

impl Landmark {
    pub fn point(&self) -> PointPx {
        PointPx::new(self.x_px, self.y_px)
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x.clamp(-80.0, 80.0)).exp())
}

/// Landmarks in crop-normalised coordinates, as decoded from the tensors.
#[derive(Debug, Clone, PartialEq)]
pub struct CropLandmarks {
    /// x, y normalised to the crop (0..1), z in crop-widths.
    pub xyz: [[f32; 3]; MODEL_LANDMARKS],
    pub visibility: [f32; MODEL_LANDMARKS],
    pub presence: [f32; MODEL_LANDMARKS],
}

/// Decodes the `Identity` tensor (`[39 * 5]`, crop pixels and logits).
pub fn decode_crop_landmarks(raw: &[f32]) -> CropLandmarks {
    let mut out = CropLandmarks {
        xyz: [[0.0; 3]; MODEL_LANDMARKS],
        visibility: [0.0; MODEL_LANDMARKS],
        presence: [0.0; MODEL_LANDMARKS],
    };
    let s = LANDMARK_INPUT_PX as f32;
    for (k, chunk) in raw.chunks_exact(VALUES_PER_LANDMARK).take(MODEL_LANDMARKS).enumerate() {
        out.xyz[k] = [chunk[0] / s, chunk[1] / s, chunk[2] / s];
        out.visibility[k] = sigmoid(chunk[3]);
        out.presence[k] = sigmoid(chunk[4]);
    }
    out
}

/// Refines x/y with the heatmap (`[64, 64, 39]` logits, HWC): the
/// confidence-weighted mean cell position in a 7x7 window around each
/// landmark, applied when the window's peak confidence is at least 0.5.
pub fn refine_with_heatmap(landmarks: &mut CropLandmarks, heatmap: &[f32]) {
    let hw = HEATMAP_PX;
    let channels = MODEL_LANDMARKS;
    if heatmap.len() < hw * hw * channels {
        return;
    }
    let offset = (HEATMAP_KERNEL - 1) / 2;
    for k in 0..channels {
        let [x, y, _] = landmarks.xyz[k];
        // truncation toward zero, as MediaPipe's int cast
        let col = (x * hw as f32) as i64;
        let row = (y * hw as f32) as i64;
        if !(0..hw as i64).contains(&col) || !(0..hw as i64).contains(&row) {
            continue;
        }
        let (col, row) = (col as usize, row as usize);
        let (r0, r1) = (row.saturating_sub(offset), (row + offset + 1).min(hw));
        let (c0, c1) = (col.saturating_sub(offset), (col + offset + 1).min(hw));
        let (mut sum, mut wc, mut wr, mut max) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
        for r in r0..r1 {
            for c in c0..c1 {
                let conf = sigmoid(heatmap[(r * hw + c) * channels + k]);
                sum += conf;
                max = max.max(conf);
                wc += c as f32 * conf;
                wr += r as f32 * conf;
            }
        }
        if max >= HEATMAP_MIN_CONFIDENCE && sum > 0.0 {
            landmarks.xyz[k][0] = wc / hw as f32 / sum;
            landmarks.xyz[k][1] = wr / hw as f32 / sum;
        }
    }
}

/// Projects crop landmarks into frame pixels through the ROI.
pub fn project_to_frame(crop: &CropLandmarks, roi: &Roi) -> [Landmark; MODEL_LANDMARKS] {
    std::array::from_fn(|k| {
        let [u, v, z] = crop.xyz[k];
        let p = roi.crop_to_frame(u, v);
        Landmark {
            x_px: p.x,
            y_px: p.y,
            z_px: z * roi.size_px,
            visibility: crop.visibility[k],
            presence: crop.presence[k],
        }
    })
}

/// Rotates world landmarks (`[39 * 3]`, metres) by the ROI rotation.
pub fn world_landmarks(raw: &[f32], roi: &Roi) -> [[f32; 3]; BODY_LANDMARKS] {
    let (s, c) = roi.rotation_rad.sin_cos();
    std::array::from_fn(|k| match raw.get(3 * k..3 * k + 3) {
        Some(p) => [c * p[0] - s * p[1], s * p[0] + c * p[1], p[2]],
        None => [f32::NAN; 3],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cover_all_body_landmarks_and_ids_match() {
        assert_eq!(LANDMARK_NAMES[LandmarkId::LeftHip.index()], "left_hip");
        assert_eq!(LANDMARK_NAMES[LandmarkId::RightFootIndex.index()], "right_foot_index");
        assert_eq!(LANDMARK_NAMES[LandmarkId::LeftShoulder.index()], "left_shoulder");
        for (a, b) in SKELETON_EDGES {
            assert!(a < BODY_LANDMARKS && b < BODY_LANDMARKS);
        }
    }

    #[test]
    fn decode_scales_pixels_and_applies_sigmoid() {
        let mut raw = vec![0.0f32; MODEL_LANDMARKS * VALUES_PER_LANDMARK];
        raw[0] = 128.0;
        raw[1] = 64.0;
        raw[2] = -25.6;
        raw[3] = 0.0;
        raw[4] = 100.0;
        let d = decode_crop_landmarks(&raw);
        assert_eq!(d.xyz[0], [0.5, 0.25, -0.1]);
        assert!((d.visibility[0] - 0.5).abs() < 1e-6);
        assert!(d.presence[0] > 0.999);
    }

    #[test]
    fn heatmap_peak_pulls_landmark_to_window_centroid() {
        let mut lms = decode_crop_landmarks(&vec![0.0; MODEL_LANDMARKS * VALUES_PER_LANDMARK]);
        // landmark 5 predicted at cell (10, 20); heatmap peak at (12, 21)
        lms.xyz[5] = [10.2 / 64.0, 20.7 / 64.0, 0.0];
        let mut heat = vec![-50.0f32; HEATMAP_PX * HEATMAP_PX * MODEL_LANDMARKS];
        heat[(21 * HEATMAP_PX + 12) * MODEL_LANDMARKS + 5] = 50.0;
        refine_with_heatmap(&mut lms, &heat);
        assert!((lms.xyz[5][0] - 12.0 / 64.0).abs() < 1e-4);
        assert!((lms.xyz[5][1] - 21.0 / 64.0).abs() < 1e-4);
        // other landmarks: no confident peak, left untouched
        assert_eq!(lms.xyz[6], [0.0, 0.0, 0.0]);
    }

    #[test]
    fn heatmap_outside_the_grid_is_ignored() {
        let mut lms = decode_crop_landmarks(&vec![0.0; MODEL_LANDMARKS * VALUES_PER_LANDMARK]);
        lms.xyz[0] = [1.2, -0.1, 0.0];
        let heat = vec![50.0f32; HEATMAP_PX * HEATMAP_PX * MODEL_LANDMARKS];
        refine_with_heatmap(&mut lms, &heat);
        assert_eq!(lms.xyz[0], [1.2, -0.1, 0.0]);
    }

    #[test]
    fn world_landmarks_rotate_in_the_image_plane() {
        let roi = Roi { center: PointPx::new(0.0, 0.0), size_px: 1.0, rotation_rad: std::f32::consts::FRAC_PI_2 };
        let mut raw = vec![0.0f32; MODEL_LANDMARKS * 3];
        raw[0] = 1.0;
        raw[2] = 0.5;
        let w = world_landmarks(&raw, &roi);
        assert!(w[0][0].abs() < 1e-6 && (w[0][1] - 1.0).abs() < 1e-6 && w[0][2] == 0.5);
    }
}
