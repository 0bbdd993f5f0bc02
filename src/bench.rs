//! Benchmark helpers: the cost of ONNX Runtime inference alone on a clip,
//! the floor against which the end-to-end pipeline is judged.

use std::path::Path;
use std::time::Duration;

use crate::analyze::AnalyzeError;
use crate::pose::PoseEstimator;
use crate::video::{Frame, VideoSource};

/// Inference-only timing of one clip.
#[derive(Debug, Clone, Copy, Default)]
pub struct InferenceTiming {
    pub frames: u64,
    /// Time ONNX Runtime spent in the detector and landmark model, summed.
    pub inference: Duration,
}

impl InferenceTiming {
    pub fn frames_per_s(&self) -> f64 {
        self.frames as f64 / self.inference.as_secs_f64().max(1e-12)
    }
}

/// Runs the pipeline over the clip untimed and, for every frame, runs the
/// same models again on the same inputs, timing only that: what inference
/// alone costs on this clip (same models, same inputs, same session options).
pub fn inference_alone(path: &Path, estimator: &mut PoseEstimator) -> Result<InferenceTiming, AnalyzeError> {
    let mut source = VideoSource::open_file(path)?;
    estimator.reset();
    let mut frame = Frame::default();
    let mut t = InferenceTiming::default();
    while source.read(&mut frame)? {
        let result = estimator.process(&frame.image, frame.time_s)?;
        let detected = result.pose.as_ref().map_or(result.times.detector > Duration::ZERO, |p| p.detected);
        t.inference += estimator.rerun_last_inference(detected)?;
        t.frames += 1;
    }
    Ok(t)
}
