//! The BlazePose person detector: letterboxed 224x224 input, 2254 SSD anchors,
//! sigmoid scores, weighted non-maximum suppression (MediaPipe
//! `TensorsToDetectionsCalculator` + `NonMaxSuppressionCalculator`).

use super::anchors::{ssd_anchors, Anchor, AnchorOptions};
use super::roi::{PointPx, Roi};

/// Detector input side in pixels.
pub const DETECTOR_INPUT_PX: u32 = 224;
/// Number of anchors / candidate boxes.
pub const NUM_ANCHORS: usize = 2254;
/// Values regressed per anchor: box (4) + 4 keypoints (8).
pub const REGRESSORS_PER_ANCHOR: usize = 12;
/// Minimum score of a candidate (`min_score_thresh`).
pub const MIN_DETECTION_SCORE: f32 = 0.5;
/// Logits are clipped to ±this before the sigmoid (`score_clipping_thresh`).
pub const SCORE_CLIP: f32 = 100.0;
/// IoU above which candidates are merged (`min_suppression_threshold`).
pub const NMS_IOU: f32 = 0.3;

/// An axis-aligned box in normalised coordinates (0..1).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BoxNorm {
    pub x_min: f32,
    pub y_min: f32,
    pub x_max: f32,
    pub y_max: f32,
}

impl BoxNorm {
    pub fn area(&self) -> f32 {
        (self.x_max - self.x_min).max(0.0) * (self.y_max - self.y_min).max(0.0)
    }

    /// Intersection over union; 0 when either box is empty.
    pub fn iou(&self, other: &BoxNorm) -> f32 {
        let ix = (self.x_max.min(other.x_max) - self.x_min.max(other.x_min)).max(0.0);
        let iy = (self.y_max.min(other.y_max) - self.y_min.max(other.y_min)).max(0.0);
        let inter = ix * iy;
        let union = self.area() + other.area() - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }
}

/// One detected person.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Detector confidence 0..1.
    pub score: f32,
    /// Loose head box, normalised to the frame (not used downstream).
    pub head_box: BoxNorm,
    /// Keypoints normalised to the frame: mid-hip, full-body scale point,
    /// mid-shoulder, upper-body scale point.
    pub keypoints: [[f32; 2]; 4],
}

impl Detection {
    /// The landmark-model region for this detection in a `width`x`height` frame.
    pub fn roi(&self, width: u32, height: u32) -> Option<Roi> {
        let p = |k: usize| PointPx::new(self.keypoints[k][0] * width as f32, self.keypoints[k][1] * height as f32);
        Roi::from_alignment_points(p(0), p(1))
    }

    /// Mid-hip keypoint in frame pixels.
    pub fn hip_center_px(&self, width: u32, height: u32) -> PointPx {
        PointPx::new(self.keypoints[0][0] * width as f32, self.keypoints[0][1] * height as f32)
    }
}

/// Letterbox that maps a `width`x`height` frame into the square detector input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Letterbox {
    /// Horizontal padding on each side, as a fraction of the square.
    pub pad_x: f32,
    /// Vertical padding on each side, as a fraction of the square.
    pub pad_y: f32,
}

impl Letterbox {
    pub fn for_frame(width: u32, height: u32) -> Self {
        let side = width.max(height) as f32;
        Self { pad_x: (side - width as f32) / 2.0 / side, pad_y: (side - height as f32) / 2.0 / side }
    }

    /// The square region of the frame that the detector sees (unrotated).
    pub fn roi(width: u32, height: u32) -> Roi {
        Roi {
            center: PointPx::new(width as f32 / 2.0, height as f32 / 2.0),
            size_px: width.max(height) as f32,
            rotation_rad: 0.0,
        }
    }

    /// Square-normalised point to frame-normalised point.
    pub fn remove(&self, x: f32, y: f32) -> [f32; 2] {
        [(x - self.pad_x) / (1.0 - 2.0 * self.pad_x), (y - self.pad_y) / (1.0 - 2.0 * self.pad_y)]
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Decodes raw detector outputs into detections (before NMS), in the
/// letterboxed square's normalised coordinates.
pub struct DetectionDecoder {
    anchors: Vec<Anchor>,
}

impl Default for DetectionDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl DetectionDecoder {
    pub fn new() -> Self {
        let anchors = ssd_anchors(&AnchorOptions::blazepose());
        debug_assert_eq!(anchors.len(), NUM_ANCHORS);
        Self { anchors }
    }

    /// `regressors`: `[NUM_ANCHORS * 12]`, `logits`: `[NUM_ANCHORS]`.
    pub fn decode(&self, regressors: &[f32], logits: &[f32]) -> Vec<Detection> {
        let scale = DETECTOR_INPUT_PX as f32;
        let n = self.anchors.len().min(logits.len()).min(regressors.len() / REGRESSORS_PER_ANCHOR);
        let mut out = Vec::new();
        for i in 0..n {
            let score = sigmoid(logits[i].clamp(-SCORE_CLIP, SCORE_CLIP));
            if !(score >= MIN_DETECTION_SCORE) {
                continue;
            }
            let r = &regressors[i * REGRESSORS_PER_ANCHOR..(i + 1) * REGRESSORS_PER_ANCHOR];
            let a = self.anchors[i];
            let xc = r[0] / scale + a.x;
            let yc = r[1] / scale + a.y;
            let w = r[2] / scale;
            let h = r[3] / scale;
            let mut keypoints = [[0.0; 2]; 4];
            for (k, kp) in keypoints.iter_mut().enumerate() {
                *kp = [r[4 + 2 * k] / scale + a.x, r[5 + 2 * k] / scale + a.y];
            }
            out.push(Detection {
                score,
                head_box: BoxNorm {
                    x_min: xc - w / 2.0,
                    y_min: yc - h / 2.0,
                    x_max: xc + w / 2.0,
                    y_max: yc + h / 2.0,
                },
                keypoints,
            });
        }
        out
    }
}

/// Weighted non-maximum suppression: each cluster of boxes overlapping the
/// best remaining one by more than `iou_threshold` is merged into one
/// detection whose box and keypoints are the score-weighted means, keeping
/// the best score. Output is sorted by score, best first.
pub fn weighted_nms(mut detections: Vec<Detection>, iou_threshold: f32) -> Vec<Detection> {
    detections.retain(|d| d.score.is_finite());
    detections.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out = Vec::new();
    while !detections.is_empty() {
        let top = detections[0].head_box;
        let (cluster, rest): (Vec<Detection>, Vec<Detection>) =
            detections.into_iter().partition(|d| d.head_box.iou(&top) > iou_threshold);
        detections = rest;
        if cluster.is_empty() {
            // the top box is degenerate (zero area): keep it as it is
            let top = detections.remove(0);
            out.push(top);
            continue;
        }
        let total: f32 = cluster.iter().map(|d| d.score).sum();
        let mut merged = Detection { score: cluster[0].score, head_box: BoxNorm::default(), keypoints: [[0.0; 2]; 4] };
        for d in &cluster {
            let w = d.score / total;
            merged.head_box.x_min += w * d.head_box.x_min;
            merged.head_box.y_min += w * d.head_box.y_min;
            merged.head_box.x_max += w * d.head_box.x_max;
            merged.head_box.y_max += w * d.head_box.y_max;
            for k in 0..4 {
                merged.keypoints[k][0] += w * d.keypoints[k][0];
                merged.keypoints[k][1] += w * d.keypoints[k][1];
            }
        }
        out.push(merged);
    }
    out
}

/// Maps detections from the letterboxed square to frame-normalised coordinates.
pub fn remove_letterbox(detections: &mut [Detection], letterbox: Letterbox) {
    for d in detections {
        let [x0, y0] = letterbox.remove(d.head_box.x_min, d.head_box.y_min);
        let [x1, y1] = letterbox.remove(d.head_box.x_max, d.head_box.y_max);
        d.head_box = BoxNorm { x_min: x0, y_min: y0, x_max: x1, y_max: y1 };
        for kp in &mut d.keypoints {
            *kp = letterbox.remove(kp[0], kp[1]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn det(score: f32, x: f32, y: f32, s: f32) -> Detection {
        Detection {
            score,
            head_box: BoxNorm { x_min: x, y_min: y, x_max: x + s, y_max: y + s },
            keypoints: [[x, y], [x + s, y], [x, y + s], [x + s, y + s]],
        }
    }

    #[test]
    fn iou_of_identical_disjoint_and_half_overlapping_boxes() {
        let a = BoxNorm { x_min: 0.0, y_min: 0.0, x_max: 1.0, y_max: 1.0 };
        assert!((a.iou(&a) - 1.0).abs() < 1e-6);
        let b = BoxNorm { x_min: 2.0, y_min: 0.0, x_max: 3.0, y_max: 1.0 };
        assert_eq!(a.iou(&b), 0.0);
        let c = BoxNorm { x_min: 0.5, y_min: 0.0, x_max: 1.5, y_max: 1.0 };
        assert!((a.iou(&c) - 1.0 / 3.0).abs() < 1e-6);
        let empty = BoxNorm::default();
        assert_eq!(empty.iou(&empty), 0.0);
    }

    #[test]
    fn nms_merges_overlaps_with_score_weights_and_keeps_separate_people() {
        let dets = vec![det(0.6, 0.05, 0.0, 0.2), det(0.9, 0.0, 0.0, 0.2), det(0.8, 0.6, 0.6, 0.2)];
        let out = weighted_nms(dets, NMS_IOU);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].score, 0.9);
        // IoU 0.6 > 0.3: merged; weighted mean of x_min: (0.9*0.0 + 0.6*0.05)/1.5 = 0.02
        assert!((out[0].head_box.x_min - 0.02).abs() < 1e-6);
        assert!((out[0].keypoints[0][0] - 0.02).abs() < 1e-6);
        assert_eq!(out[1].score, 0.8);
        assert_eq!(out[1].head_box.x_min, 0.6);
    }

    #[test]
    fn nms_keeps_degenerate_boxes_without_looping() {
        let dets = vec![det(0.9, 0.2, 0.2, 0.0), det(0.7, 0.2, 0.2, 0.0)];
        assert_eq!(weighted_nms(dets, NMS_IOU).len(), 2);
    }

    #[test]
    fn decoder_applies_threshold_and_anchor_offsets() {
        let decoder = DetectionDecoder::new();
        let mut logits = vec![-5.0f32; NUM_ANCHORS];
        let mut regressors = vec![0.0f32; NUM_ANCHORS * REGRESSORS_PER_ANCHOR];
        logits[0] = 2.0;
        // box of 22.4 px at offset +11.2 px from the first anchor (0.5/28)
        regressors[0] = 11.2;
        regressors[2] = 22.4;
        regressors[3] = 22.4;
        regressors[4] = 22.4; // kp0 x
        let out = decoder.decode(&regressors, &logits);
        assert_eq!(out.len(), 1);
        let d = &out[0];
        assert!((d.score - 1.0 / (1.0 + (-2.0f32).exp())).abs() < 1e-6);
        let ax = 0.5 / 28.0;
        assert!((d.head_box.x_min - (ax + 0.05 - 0.05)).abs() < 1e-6);
        assert!((d.keypoints[0][0] - (ax + 0.1)).abs() < 1e-6);
        assert!((d.keypoints[1][0] - ax).abs() < 1e-6);
    }

    #[test]
    fn letterbox_removal_of_landscape_frame() {
        let lb = Letterbox::for_frame(640, 480);
        assert_eq!(lb.pad_x, 0.0);
        assert!((lb.pad_y - 0.125).abs() < 1e-6);
        // the top edge of the image content maps to y = 0
        assert!(lb.remove(0.5, 0.125)[1].abs() < 1e-6);
        assert!((lb.remove(0.5, 0.875)[1] - 1.0).abs() < 1e-6);
    }

    proptest! {
        #[test]
        fn nms_output_never_grows_and_is_sorted(boxes in proptest::collection::vec((0.01f32..1.0, 0f32..1.0, 0f32..1.0, 0.01f32..0.5), 0..40)) {
            let dets: Vec<_> = boxes.iter().map(|&(s, x, y, w)| det(s, x, y, w)).collect();
            let n = dets.len();
            let out = weighted_nms(dets, NMS_IOU);
            prop_assert!(out.len() <= n);
            prop_assert!(out.windows(2).all(|w| w[0].score >= w[1].score));
            // no two outputs overlap more than the threshold with the earlier one being the cluster top
            for (i, a) in out.iter().enumerate() {
                prop_assert!(a.head_box.x_min.is_finite());
                for b in &out[i + 1..] {
                    prop_assert!(a.score >= b.score);
                }
            }
        }

        #[test]
        fn iou_is_symmetric_and_bounded(a in (0f32..1.0, 0f32..1.0, 0f32..1.0, 0f32..1.0), b in (0f32..1.0, 0f32..1.0, 0f32..1.0, 0f32..1.0)) {
            let ba = BoxNorm { x_min: a.0, y_min: a.1, x_max: a.0 + a.2, y_max: a.1 + a.3 };
            let bb = BoxNorm { x_min: b.0, y_min: b.1, x_max: b.0 + b.2, y_max: b.1 + b.3 };
            let i1 = ba.iou(&bb);
            prop_assert!((i1 - bb.iou(&ba)).abs() < 1e-6);
            prop_assert!((0.0..=1.0 + 1e-6).contains(&i1));
        }
    }
}
