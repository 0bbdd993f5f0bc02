//! The result of the pipeline for one video: every frame's measurements, the
//! reps with their verdicts, the standing baseline, the camera-view check and
//! the timings. `analyze` and `live` make it; `report`, `batch`, `eval` and
//! `serve` read it. Plain data: nothing here measures, draws or writes.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::faults::{Fault, FaultSet};
use crate::kinematics::metric::{Metric, MetricRanges, MetricValues};
use crate::kinematics::sagittal::FrameFeatures;
use crate::kinematics::{ClipView, Facing, FrameMetrics, Side};
use crate::pose::landmarks::{Landmark, BODY_LANDMARKS};
use crate::pose::StageTimes;
use crate::reps::Phase;
use crate::video::VideoInfo;

/// Everything measured in one frame.
#[derive(Debug, Clone)]
pub struct FrameRecord {
    pub index: u64,
    pub time_s: f64,
    /// Landmarks in frame pixels, when a person was tracked.
    pub landmarks: Option<[Landmark; BODY_LANDMARKS]>,
    pub metrics: FrameMetrics,
    /// Intermediate measurements (not written to frames.csv).
    pub features: FrameFeatures,
    pub phase: Option<Phase>,
    /// 1-based rep the frame belongs to.
    pub rep: Option<usize>,
    pub faults: FaultSet,
}

/// Per-rep figures and verdict.
#[derive(Debug, Clone, Serialize)]
pub struct RepSummary {
    pub index: usize,
    pub start_s: f64,
    pub bottom_s: f64,
    pub end_s: f64,
    pub start_frame: u64,
    pub bottom_frame: u64,
    pub end_frame: u64,
    /// Hip angle above standing at the deepest point, °.
    pub peak_depth_deg: f64,
    /// Medians of every metric over the rep's deep part: what the verdict was taken on.
    pub at_depth: MetricValues,
    /// Frames in the deep part.
    pub depth_frames: usize,
    /// Smallest and largest value of every metric over the rep.
    pub range: MetricRanges,
    pub verdict: &'static str,
    pub faults: Vec<Fault>,
    pub fault_frames: BTreeMap<&'static str, [u64; 2]>,
}

/// Standing posture used as the reference: medians over every frame with a
/// person outside the reps (the lead-in and the pauses between reps); the
/// reps themselves are found against the first `reps.baseline_window_s`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Baseline {
    /// Frames the baseline was taken from.
    pub frames: usize,
    /// Median of every metric over those frames.
    #[serde(flatten)]
    pub values: MetricValues,
}

impl Baseline {
    pub fn get(&self, m: Metric) -> Option<f64> {
        self.values.get(m)
    }
}

/// Is the camera view usable? Warnings say what to change.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ViewCheck {
    pub side_on: bool,
    /// Whether the person stands upright in the picture ([`crate::analyze::upright_share`]):
    /// `false` for a person lying down, upside down or on its side (a phone
    /// held the wrong way with no rotation tag), and then nothing is measured;
    /// `None` with no person.
    pub upright: Option<bool>,
    /// Whether the view shows the back well enough to read the lumbar flexion,
    /// pelvic tilt and rib stack (the camera within
    /// [`crate::kinematics::spine_model::MAX_BACK_OBLIQUITY_DEG`] of the side
    /// view); without it no back fault is judged.
    pub back_read: bool,
    /// Estimated angle of the camera off a true side view, ° (0 = side-on).
    pub obliquity_deg: Option<f64>,
    /// Body side nearer the camera.
    pub near_side: Option<Side>,
    pub warnings: Vec<String>,
}

/// Where the time went.
#[derive(Debug, Clone, Default)]
pub struct Timing {
    pub decode: Duration,
    pub pose: StageTimes,
    pub kinematics: Duration,
    pub total: Duration,
    pub frames: u64,
}

impl Timing {
    pub fn frames_per_s(&self) -> f64 {
        if self.total.is_zero() {
            0.0
        } else {
            self.frames as f64 / self.total.as_secs_f64()
        }
    }

    /// Milliseconds per stage (totals over the video).
    pub fn stages_ms(&self) -> BTreeMap<&'static str, f64> {
        let ms = |d: Duration| (d.as_secs_f64() * 1e3 * 100.0).round() / 100.0;
        BTreeMap::from([
            ("decode", ms(self.decode)),
            ("preprocess", ms(self.pose.preprocess)),
            ("detector", ms(self.pose.detector)),
            ("landmark_model", ms(self.pose.landmark_model)),
            ("postprocess", ms(self.pose.postprocess)),
            ("smoothing", ms(self.pose.smoothing)),
            ("kinematics", ms(self.kinematics)),
        ])
    }
}

/// The result of analysing one video.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub video: String,
    pub info: VideoInfo,
    pub model: String,
    pub facing: Option<Facing>,
    /// Camera view estimated for the clip (facing, near side, obliquity).
    pub clip_view: Option<ClipView>,
    pub baseline: Baseline,
    pub view: ViewCheck,
    pub frames: Vec<FrameRecord>,
    pub reps: Vec<RepSummary>,
    /// Faults that hold outside reps too (a standing posture).
    pub clip_faults: Vec<Fault>,
    pub timing: Timing,
    /// How many people the detector saw when it ran (about once a second).
    pub people: PeopleSeen,
    /// Stretches of the video in which no frame could be decoded (a damaged
    /// file read past), `[start, end)` in seconds; see [`crate::video::missing_ranges`].
    pub missing_ranges_s: Vec<[f64; 2]>,
}

/// People counted by the detector over the clip, per second of video.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct PeopleSeen {
    /// Seconds of video in which the detector ran (it runs about once a
    /// second while tracking, and on every frame while the subject is lost).
    pub checks: usize,
    /// Of those, seconds in which it saw two or more people of comparable size.
    pub checks_with_several: usize,
    #[serde(skip)]
    last_second: Option<(i64, bool)>,
}

impl PeopleSeen {
    /// Adds one detector run at `time_s`.
    pub fn add(&mut self, time_s: f64, comparable: usize) {
        let second = time_s.floor() as i64;
        let several = comparable >= 2;
        match self.last_second {
            Some((s, seen)) if s == second => {
                if several && !seen {
                    self.checks_with_several += 1;
                    self.last_second = Some((s, true));
                }
            }
            _ => {
                self.checks += 1;
                self.checks_with_several += usize::from(several);
                self.last_second = Some((second, several));
            }
        }
    }

    /// Share of checked seconds with several people, 0..1.
    pub fn several_share(&self) -> f64 {
        if self.checks == 0 {
            0.0
        } else {
            self.checks_with_several as f64 / self.checks as f64
        }
    }
}

impl Analysis {
    pub fn frames_with_person(&self) -> usize {
        self.frames.iter().filter(|f| f.landmarks.is_some()).count()
    }
}
