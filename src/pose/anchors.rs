//! SSD anchors of the BlazePose detector (MediaPipe `SsdAnchorsCalculator`).
//!
//! The detector regresses every box and keypoint relative to one of 2254 fixed
//! anchors. With `fixed_anchor_size` every anchor is 1x1 (in normalised units),
//! so only the centres matter.

/// Options of `SsdAnchorsCalculator` as used by `pose_detection_cpu.pbtxt`.
#[derive(Debug, Clone, PartialEq)]
pub struct AnchorOptions {
    /// Square input side of the detector in pixels.
    pub input_size_px: u32,
    /// Stride of each feature-map layer; equal consecutive strides share a grid.
    pub strides: Vec<u32>,
    /// Anchors per layer per cell (aspect ratio 1.0 plus the interpolated one).
    pub anchors_per_layer: u32,
    /// Offset of an anchor centre inside its cell (0.5 = cell centre).
    pub anchor_offset: f32,
}

impl AnchorOptions {
    /// The BlazePose detector's options: 224 px input, strides 8/16/32/32/32.
    pub fn blazepose() -> Self {
        Self { input_size_px: 224, strides: vec![8, 16, 32, 32, 32], anchors_per_layer: 2, anchor_offset: 0.5 }
    }
}

/// Centre of one anchor in normalised detector-input coordinates (0..1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Anchor {
    pub x: f32,
    pub y: f32,
}

/// Generates the anchors in the detector's output order: layer groups of equal
/// stride, then rows, then columns, then the anchors of one cell.
///
/// ```
/// use hinge::pose::anchors::{ssd_anchors, AnchorOptions};
/// let anchors = ssd_anchors(&AnchorOptions::blazepose());
/// assert_eq!(anchors.len(), 2254);
/// assert!((anchors[0].x - 0.5 / 28.0).abs() < 1e-6);
/// ```
pub fn ssd_anchors(options: &AnchorOptions) -> Vec<Anchor> {
    let mut anchors = Vec::new();
    let strides = &options.strides;
    let mut layer = 0;
    while layer < strides.len() {
        let mut last = layer;
        let mut per_cell = 0;
        while last < strides.len() && strides[last] == strides[layer] {
            per_cell += options.anchors_per_layer;
            last += 1;
        }
        let grid = options.input_size_px.div_ceil(strides[layer]);
        for row in 0..grid {
            for col in 0..grid {
                let x = (col as f32 + options.anchor_offset) / grid as f32;
                let y = (row as f32 + options.anchor_offset) / grid as f32;
                for _ in 0..per_cell {
                    anchors.push(Anchor { x, y });
                }
            }
        }
        layer = last;
    }
    anchors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blazepose_has_2254_anchors_in_three_grids() {
        let anchors = ssd_anchors(&AnchorOptions::blazepose());
        // 28x28x2 + 14x14x2 + 7x7x6
        assert_eq!(anchors.len(), 1568 + 392 + 294);
        // first grid: 28 cells per side, 2 anchors per cell
        assert_eq!(anchors[0], anchors[1]);
        assert!((anchors[2].x - 1.5 / 28.0).abs() < 1e-6);
        // second grid starts at index 1568 with a 14-cell grid
        assert!((anchors[1568].x - 0.5 / 14.0).abs() < 1e-6);
        // last grid: 6 anchors per 7x7 cell, last one at the bottom-right cell centre
        let last = anchors[2253];
        assert!((last.x - 6.5 / 7.0).abs() < 1e-6 && (last.y - 6.5 / 7.0).abs() < 1e-6);
        assert_eq!(anchors[1960], anchors[1965]);
    }

    #[test]
    fn anchors_lie_inside_the_unit_square() {
        for a in ssd_anchors(&AnchorOptions::blazepose()) {
            assert!(a.x > 0.0 && a.x < 1.0 && a.y > 0.0 && a.y < 1.0);
        }
    }
}
