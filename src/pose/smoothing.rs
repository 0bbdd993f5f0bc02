//! Temporal smoothing of landmarks: the One-Euro filter (Casiez et al. 2012)
//! as MediaPipe applies it (`LandmarksSmoothingCalculator`,
//! `pose_landmark_filtering.pbtxt`).
//!
//! The filter is time-aware: its sampling frequency comes from the actual
//! timestamps, so variable frame rates and dropped frames are handled. The
//! speed term is scaled by the inverse of the body's size in pixels, so the
//! same motion is smoothed the same whether the person is near or far.

use std::f64::consts::PI;

/// Parameters of a One-Euro filter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OneEuroParams {
    /// Minimum cutoff frequency (Hz): lower = smoother at rest.
    pub min_cutoff_hz: f64,
    /// Speed coefficient: higher = less lag when moving.
    pub beta: f64,
    /// Cutoff frequency (Hz) for the derivative.
    pub derivative_cutoff_hz: f64,
}

impl OneEuroParams {
    /// Body landmarks (`min_cutoff 0.05, beta 80, derivate_cutoff 1`).
    pub const LANDMARKS: Self = Self { min_cutoff_hz: 0.05, beta: 80.0, derivative_cutoff_hz: 1.0 };
    /// Auxiliary (ROI) landmarks (`min_cutoff 0.01, beta 10, derivate_cutoff 1`).
    pub const AUXILIARY: Self = Self { min_cutoff_hz: 0.01, beta: 10.0, derivative_cutoff_hz: 1.0 };
    /// World landmarks in metres (`min_cutoff 0.1, beta 40`, no value scaling).
    pub const WORLD: Self = Self { min_cutoff_hz: 0.1, beta: 40.0, derivative_cutoff_hz: 1.0 };
}

/// Frequency assumed before two timestamps are known (MediaPipe's default).
const DEFAULT_FREQUENCY_HZ: f64 = 30.0;

#[derive(Debug, Clone, Copy, Default)]
struct LowPass {
    raw: Option<f64>,
    stored: f64,
}

impl LowPass {
    fn apply(&mut self, value: f64, alpha: f64) -> f64 {
        self.stored = match self.raw {
            Some(_) => alpha * value + (1.0 - alpha) * self.stored,
            None => value,
        };
        self.raw = Some(value);
        self.stored
    }
}

/// A One-Euro filter for one scalar signal.
///
/// ```
/// use hinge::pose::smoothing::{OneEuroFilter, OneEuroParams};
/// let mut f = OneEuroFilter::new(OneEuroParams::LANDMARKS);
/// assert_eq!(f.apply(0.0, 1.0, 10.0), 10.0); // first value passes through
/// let y = f.apply(1.0 / 30.0, 1.0, 10.0);
/// assert!((y - 10.0).abs() < 1e-9); // a constant stays constant
/// ```
#[derive(Debug, Clone)]
pub struct OneEuroFilter {
    params: OneEuroParams,
    frequency_hz: f64,
    last_time_s: Option<f64>,
    x: LowPass,
    dx: LowPass,
}

impl OneEuroFilter {
    pub fn new(params: OneEuroParams) -> Self {
        Self {
            params,
            frequency_hz: DEFAULT_FREQUENCY_HZ,
            last_time_s: None,
            x: LowPass::default(),
            dx: LowPass::default(),
        }
    }

    fn alpha(&self, cutoff_hz: f64) -> f64 {
        let te = 1.0 / self.frequency_hz;
        let tau = 1.0 / (2.0 * PI * cutoff_hz);
        1.0 / (1.0 + tau / te)
    }

    /// Filters `value` observed at `time_s`. `value_scale` multiplies the
    /// speed estimate (MediaPipe uses 1 / object size). A timestamp that does
    /// not advance returns the value unfiltered.
    pub fn apply(&mut self, time_s: f64, value_scale: f64, value: f64) -> f64 {
        if let Some(last) = self.last_time_s {
            if time_s <= last {
                return value;
            }
            self.frequency_hz = 1.0 / (time_s - last);
        }
        self.last_time_s = Some(time_s);
        let speed = match self.x.raw {
            Some(prev) => (value - prev) * value_scale * self.frequency_hz,
            None => 0.0,
        };
        let smoothed_speed = self.dx.apply(speed, self.alpha(self.params.derivative_cutoff_hz));
        let cutoff = self.params.min_cutoff_hz + self.params.beta * smoothed_speed.abs();
        self.x.apply(value, self.alpha(cutoff))
    }
}

/// Smooths a set of 2D/3D points (pixels) with one One-Euro filter per axis.
#[derive(Debug, Clone)]
pub struct PointSmoother {
    params: OneEuroParams,
    scale_by_object: bool,
    filters: Vec<[OneEuroFilter; 3]>,
}

impl PointSmoother {
    /// Speed scaled by 1 / object size (pixel coordinates).
    pub fn new(params: OneEuroParams) -> Self {
        Self { params, scale_by_object: true, filters: Vec::new() }
    }

    /// No speed scaling (metric coordinates).
    pub fn unscaled(params: OneEuroParams) -> Self {
        Self { params, scale_by_object: false, filters: Vec::new() }
    }

    /// Forgets the history (after the person was lost).
    pub fn reset(&mut self) {
        self.filters.clear();
    }

    /// Smooths `points` (x, y, z in pixels) in place. The speed is scaled by
    /// the inverse of the points' bounding-box size (mean of width and height).
    pub fn apply(&mut self, time_s: f64, points: &mut [[f32; 3]]) {
        if self.filters.len() != points.len() {
            let p = self.params;
            self.filters = (0..points.len()).map(|_| std::array::from_fn(|_| OneEuroFilter::new(p))).collect();
        }
        let value_scale = if self.scale_by_object {
            let scale = object_scale(points);
            if !(scale > 1e-6) {
                return;
            }
            1.0 / scale
        } else {
            1.0
        };
        for (p, f) in points.iter_mut().zip(&mut self.filters) {
            for axis in 0..3 {
                p[axis] = f[axis].apply(time_s, value_scale, p[axis] as f64) as f32;
            }
        }
    }
}

/// Mean of the width and height of the points' bounding box.
fn object_scale(points: &[[f32; 3]]) -> f64 {
    let (mut x0, mut y0, mut x1, mut y1) = (f32::INFINITY, f32::INFINITY, f32::NEG_INFINITY, f32::NEG_INFINITY);
    for p in points {
        x0 = x0.min(p[0]);
        x1 = x1.max(p[0]);
        y0 = y0.min(p[1]);
        y1 = y1.max(p[1]);
    }
    (((x1 - x0) + (y1 - y0)) / 2.0) as f64
}

/// Exponential smoothing of visibilities (MediaPipe `VisibilitySmoothingCalculator`, alpha 0.1).
#[derive(Debug, Clone)]
pub struct VisibilitySmoother {
    alpha: f32,
    state: Vec<f32>,
}

impl VisibilitySmoother {
    pub fn new(alpha: f32) -> Self {
        Self { alpha, state: Vec::new() }
    }

    pub fn reset(&mut self) {
        self.state.clear();
    }

    pub fn apply(&mut self, values: &mut [f32]) {
        if self.state.len() != values.len() {
            self.state = values.to_vec();
            return;
        }
        for (v, s) in values.iter_mut().zip(&mut self.state) {
            *s = self.alpha * *v + (1.0 - self.alpha) * *s;
            *v = *s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn noise_is_reduced_on_a_still_point() {
        let mut f = OneEuroFilter::new(OneEuroParams::LANDMARKS);
        let mut max_dev: f64 = 0.0;
        for i in 0..300 {
            let noise = if i % 2 == 0 { 1.0 } else { -1.0 };
            let y = f.apply(i as f64 / 30.0, 1.0 / 200.0, 100.0 + noise);
            if i > 30 {
                max_dev = max_dev.max((y - 100.0).abs());
            }
        }
        assert!(max_dev < 0.5, "still point jitter after filtering: {max_dev}");
    }

    #[test]
    fn fast_motion_is_followed_with_little_lag() {
        let mut f = OneEuroFilter::new(OneEuroParams::LANDMARKS);
        let mut last = 0.0;
        for i in 0..60 {
            let t = i as f64 / 30.0;
            last = f.apply(t, 1.0 / 200.0, 300.0 * t);
        }
        let truth = 300.0 * 59.0 / 30.0;
        assert!((last - truth).abs() < 0.05 * truth, "lag too large: {last} vs {truth}");
    }

    #[test]
    fn same_motion_at_60fps_and_30fps_gives_similar_output() {
        let run = |fps: f64| {
            let mut f = OneEuroFilter::new(OneEuroParams::LANDMARKS);
            let mut out = 0.0;
            let n = (2.0 * fps) as usize;
            for i in 0..=n {
                let t = i as f64 / fps;
                out = f.apply(t, 1.0 / 200.0, 50.0 * (t * 3.0).sin());
            }
            out
        };
        assert!((run(30.0) - run(60.0)).abs() < 2.0);
    }

    #[test]
    fn repeated_timestamp_passes_value_through() {
        let mut f = OneEuroFilter::new(OneEuroParams::LANDMARKS);
        f.apply(1.0, 1.0, 0.0);
        assert_eq!(f.apply(1.0, 1.0, 5.0), 5.0);
    }

    proptest! {
        #[test]
        fn output_stays_within_input_range(values in proptest::collection::vec(-1e3f64..1e3, 1..100)) {
            let mut f = OneEuroFilter::new(OneEuroParams::LANDMARKS);
            let lo = values.iter().cloned().fold(f64::INFINITY, f64::min);
            let hi = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            for (i, v) in values.iter().enumerate() {
                let y = f.apply(i as f64 / 30.0, 0.01, *v);
                prop_assert!(y >= lo - 1e-6 && y <= hi + 1e-6);
            }
        }
    }
}
