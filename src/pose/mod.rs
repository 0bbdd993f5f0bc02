//! Pose estimation: BlazePose detector → rotated ROI → landmark model →
//! back-projection, with ROI tracking across video frames and One-Euro
//! smoothing, as MediaPipe Pose does it.
//!
//! Each frame runs as `preprocess` → `inference` → `postprocess`, and every
//! stage is timed ([`StageTimes`]).

pub mod anchors;
pub mod detector;
pub mod landmarks;
pub mod model;
pub mod prune;
pub mod roi;
pub mod segmentation;
pub mod smoothing;
pub mod subject;
pub mod tensor;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ndarray::Array4;
use opencv::core::Mat;
use opencv::prelude::*;
use ort::session::Session;
use ort::value::TensorRef;

use detector::{remove_letterbox, weighted_nms, Detection, DetectionDecoder, Letterbox, DETECTOR_INPUT_PX, NMS_IOU};
use landmarks::{
    decode_crop_landmarks, project_to_frame, refine_with_heatmap, world_landmarks, Landmark, AUX_CENTER, AUX_SCALE,
    BODY_LANDMARKS, LANDMARK_INPUT_PX,
};
use model::{build_session, read_model, ModelChoice, ModelFiles, Runtime, SessionOptions};
use roi::{PointPx, Roi, ROI_SCALE};
use segmentation::SegmentationMask;
use smoothing::{OneEuroParams, PointSmoother, VisibilitySmoother};
use subject::{SubjectLock, SubjectLockConfig};
use tensor::{Border, Normalization, TensorBuilder};

/// Errors of the pose stage.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PoseError {
    /// No ONNX Runtime library was found in any searched location.
    #[error("ONNX Runtime library not found (looked for {}); run `make setup`, or pass --ort-lib / set ORT_DYLIB_PATH", display_paths(.searched))]
    RuntimeNotFound { searched: Vec<PathBuf> },
    /// The library exists but could not be loaded.
    #[error("{}: cannot load the ONNX Runtime library: {reason}", .path.display())]
    RuntimeLoad { path: PathBuf, reason: String },
    /// The library is an unsupported ONNX Runtime version.
    #[error("{}: ONNX Runtime {found} is not supported; hinge needs {required} (run `make setup` to fetch 1.31.1)", .path.display())]
    RuntimeVersion { path: PathBuf, found: String, required: String },
    /// A model file does not exist.
    #[error("{}: model file not found", .path.display())]
    ModelNotFound { path: PathBuf },
    /// A bundled model variant was not found in any models directory.
    #[error("model `{variant}` not found in {}{hint}", display_paths(.searched))]
    ModelMissing { variant: String, searched: Vec<PathBuf>, hint: String },
    /// A model file could not be read.
    #[error("{}: cannot read model file: {error}", .path.display())]
    ModelRead { path: PathBuf, error: std::sync::Arc<std::io::Error> },
    /// A bundled model's content differs from the shipped one.
    #[error("{}: model file is corrupted or modified (sha256 {actual}, expected {expected}); restore it with `git checkout models/` or `make models`", .path.display())]
    ModelHashMismatch { path: PathBuf, expected: String, actual: String },
    /// ONNX Runtime rejected the model.
    #[error("{}: not a usable ONNX model: {reason}", .path.display())]
    ModelLoad { path: PathBuf, reason: String },
    /// The model's inputs or outputs are not those of BlazePose.
    #[error("{}: unexpected model interface: {reason}", .path.display())]
    ModelInterface { path: PathBuf, reason: String },
    /// Inference failed at run time.
    #[error("inference failed in the {model} model: {reason}")]
    Inference { model: &'static str, reason: String },
    /// An image operation failed (OpenCV).
    #[error("image operation failed: {0}")]
    Image(String),
}

impl From<opencv::Error> for PoseError {
    fn from(e: opencv::Error) -> Self {
        PoseError::Image(e.to_string())
    }
}

// io::Error is not Clone; the Arc keeps PoseError cloneable for the runtime cache.
impl PoseError {
    pub(crate) fn read(path: PathBuf, e: std::io::Error) -> Self {
        PoseError::ModelRead { path, error: std::sync::Arc::new(e) }
    }
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// Settings of the pose stage.
#[derive(Debug, Clone)]
pub struct PoseConfig {
    /// Landmark model.
    pub model: ModelChoice,
    /// Directory with the bundled models (default: searched).
    pub models_dir: Option<PathBuf>,
    /// ONNX Runtime threading.
    pub session: SessionOptions,
    /// One-Euro smoothing of landmarks over time (video mode).
    pub smoothing: bool,
    /// Keep the segmentation mask for later stages.
    pub keep_segmentation: bool,
    /// With [`keep_segmentation`](Self::keep_segmentation): compute the mask
    /// at most this often (seconds of video time; always on the first frame
    /// of a track). The frames in between run the landmark model without its
    /// segmentation branch (about half its cost, see [`prune`]) and come
    /// with [`Pose::mask_skipped`] set. `None`: a mask on every frame.
    pub segmentation_interval_s: Option<f64>,
    /// Landmark-model pose score below which the person counts as lost.
    pub min_presence: f32,
    /// How a lost subject is told apart from bystanders on re-detection.
    pub subject_lock: SubjectLockConfig,
    /// While tracking, run the detector this often (seconds) to count the
    /// people in view; `None`: only when the subject is lost.
    pub people_check_interval_s: Option<f64>,
}

impl Default for PoseConfig {
    fn default() -> Self {
        Self {
            model: ModelChoice::default(),
            models_dir: None,
            session: SessionOptions::default(),
            smoothing: true,
            keep_segmentation: false,
            segmentation_interval_s: None,
            min_presence: 0.5,
            subject_lock: SubjectLockConfig::default(),
            people_check_interval_s: Some(1.0),
        }
    }
}

/// The pose of the tracked person in one frame.
#[derive(Debug, Clone)]
pub struct Pose {
    /// The 33 body landmarks in frame pixels.
    pub landmarks: [Landmark; BODY_LANDMARKS],
    /// The 33 body landmarks in metres, origin at the hip centre, image-aligned
    /// axes (x right, y down, z away from the camera).
    pub world_m: [[f32; 3]; BODY_LANDMARKS],
    /// Landmark-model pose score 0..1.
    pub score: f32,
    /// Region the landmark model looked at.
    pub roi: Roi,
    /// True when this frame needed the detector (first frame or after a loss).
    pub detected: bool,
    /// Person mask, when [`PoseConfig::keep_segmentation`] is on.
    pub segmentation: Option<SegmentationMask>,
    /// True when a mask was wanted but skipped on this frame by
    /// [`PoseConfig::segmentation_interval_s`] (later stages may interpolate).
    pub mask_skipped: bool,
}

impl Pose {
    pub fn landmark(&self, id: landmarks::LandmarkId) -> &Landmark {
        &self.landmarks[id.index()]
    }

    /// The same pose in a picture scaled by `factor`: pixel positions, depths
    /// and regions times `factor` (e.g. from a downscaled frame back to the
    /// video's pixels); world landmarks and scores unchanged.
    pub fn scaled(mut self, factor: f32) -> Self {
        for l in self.landmarks.iter_mut() {
            l.x_px *= factor;
            l.y_px *= factor;
            l.z_px *= factor;
        }
        self.roi = self.roi.scaled(factor);
        self.segmentation = self.segmentation.map(|m| m.scaled(factor));
        self
    }
}

/// Time spent per stage, accumulated over frames.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimes {
    pub preprocess: Duration,
    pub detector: Duration,
    pub landmark_model: Duration,
    pub postprocess: Duration,
    pub smoothing: Duration,
}

impl StageTimes {
    pub fn add(&mut self, other: &StageTimes) {
        self.preprocess += other.preprocess;
        self.detector += other.detector;
        self.landmark_model += other.landmark_model;
        self.postprocess += other.postprocess;
        self.smoothing += other.smoothing;
    }

    pub fn total(&self) -> Duration {
        self.preprocess + self.detector + self.landmark_model + self.postprocess + self.smoothing
    }
}

/// Result of one frame.
#[derive(Debug, Clone)]
pub struct PoseFrame {
    pub pose: Option<Pose>,
    pub times: StageTimes,
    /// When the detector ran on this frame: the people it found, with their
    /// body size relative to the tracked subject's (1.0 = same size).
    pub people: Option<PeopleCount>,
}

/// People the detector saw in one frame.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PeopleCount {
    /// All detections after non-maximum suppression.
    pub detected: usize,
    /// Detections at least half the subject's size (a second person in the
    /// scene rather than someone far in the background).
    pub comparable: usize,
}

/// Checks that a session has the input and outputs we read.
/// An output of a model: its name, what it holds, and how many values.
type OutputSpec = (&'static str, &'static str, usize);

/// Outputs of the detector.
const DETECTOR_OUTPUTS: [OutputSpec; 2] = [
    ("Identity", "box regressors", detector::NUM_ANCHORS * detector::REGRESSORS_PER_ANCHOR),
    ("Identity_1", "box scores", detector::NUM_ANCHORS),
];

/// Outputs of the landmark model.
const LANDMARK_OUTPUTS: [OutputSpec; 5] = [
    ("Identity", "landmarks", landmarks::MODEL_LANDMARKS * landmarks::VALUES_PER_LANDMARK),
    ("Identity_1", "pose presence", 1),
    ("Identity_2", "segmentation mask", (LANDMARK_INPUT_PX * LANDMARK_INPUT_PX) as usize),
    ("Identity_3", "heatmap", landmarks::HEATMAP_PX * landmarks::HEATMAP_PX * landmarks::MODEL_LANDMARKS),
    ("Identity_4", "world landmarks", landmarks::MODEL_LANDMARKS * 3),
];

fn interface_error(path: &std::path::Path, reason: String) -> PoseError {
    PoseError::ModelInterface { path: path.to_path_buf(), reason }
}

/// Checks the model's input and outputs: names, float tensors, and sizes
/// where the model declares them (dynamic ones are checked on every run).
fn check_interface(session: &Session, path: &std::path::Path, outputs: &[OutputSpec]) -> Result<(), PoseError> {
    if !session.inputs().iter().any(|i| i.name() == "input_1") {
        return Err(interface_error(path, "no input named `input_1`".into()));
    }
    check_outputs(session, path, outputs)
}

/// Checks that `session` has the outputs hinge reads, of their sizes.
fn check_outputs(session: &Session, path: &std::path::Path, outputs: &[OutputSpec]) -> Result<(), PoseError> {
    for &(name, what, values) in outputs {
        let Some(o) = session.outputs().iter().find(|o| o.name() == name) else {
            return Err(interface_error(path, format!("no output named `{name}` ({what})")));
        };
        match o.dtype() {
            ort::value::ValueType::Tensor { ty: ort::value::TensorElementType::Float32, shape, .. } => {
                let dims: &[i64] = shape;
                if dims.iter().all(|&d| d >= 0) && dims.iter().product::<i64>() != values as i64 {
                    return Err(interface_error(
                        path,
                        format!("output `{name}` ({what}) has shape {dims:?}, expected {values} values"),
                    ));
                }
            }
            other => {
                return Err(interface_error(
                    path,
                    format!("output `{name}` ({what}) is {other}, expected a float tensor"),
                ))
            }
        }
    }
    Ok(())
}

/// The values of output `spec`, checked against the size hinge reads.
fn output_values<'a>(
    outputs: &'a ort::session::SessionOutputs<'_>,
    spec: &OutputSpec,
    path: &std::path::Path,
    model: &'static str,
) -> Result<&'a [f32], PoseError> {
    let (name, what, values) = *spec;
    let (shape, data) =
        outputs[name].try_extract_tensor::<f32>().map_err(|e| PoseError::Inference { model, reason: e.to_string() })?;
    if data.len() != values {
        let dims: &[i64] = shape;
        return Err(interface_error(
            path,
            format!("output `{name}` ({what}) has shape {dims:?} ({} values), expected {values}", data.len()),
        ));
    }
    Ok(data)
}

/// Outputs of the landmark model without the segmentation mask.
const LANDMARK_OUTPUTS_WITHOUT_MASK: [&str; 4] =
    [LANDMARK_OUTPUTS[0].0, LANDMARK_OUTPUTS[1].0, LANDMARK_OUTPUTS[3].0, LANDMARK_OUTPUTS[4].0];

/// The landmark graph's mask branch as a model of its own.
struct MaskTail {
    session: Session,
    /// The values of the landmark run it reads (its inputs).
    boundary: Vec<String>,
}

/// Sessions of the landmark model split at its mask branch: the head
/// (landmarks, and the values the branch reads) and, when `with_tail`, the
/// branch; both checked against what hinge reads. Each part's bytes are freed
/// once its session is built (loading is when memory peaks on small video).
fn split_sessions(
    runtime: &Runtime,
    path: &std::path::Path,
    split: prune::SplitModel,
    options: SessionOptions,
    with_tail: bool,
) -> Result<(Session, Option<MaskTail>), PoseError> {
    let prune::SplitModel { head, tail, boundary } = split;
    let head_bytes = head;
    let head = build_session(runtime, path, &head_bytes, options)?;
    drop(head_bytes);
    let head_outputs: Vec<OutputSpec> = [0, 1, 3, 4].iter().map(|&k| LANDMARK_OUTPUTS[k]).collect();
    check_interface(&head, path, &head_outputs)?;
    if !with_tail {
        return Ok((head, None));
    }
    let tail = build_session(runtime, path, &tail, options)?;
    check_outputs(&tail, path, &LANDMARK_OUTPUTS[2..3])?;
    Ok((head, Some(MaskTail { session: tail, boundary })))
}

/// Video-mode pose estimator for one person.
pub struct PoseEstimator {
    config: PoseConfig,
    files: ModelFiles,
    detector: Session,
    /// The landmark model: its graph without the mask branch when that is
    /// split off into [`Self::mask_tail`], else the whole graph.
    landmark: Session,
    /// The mask branch split off the landmark graph, run when a mask is due.
    mask_tail: Option<MaskTail>,
    /// The landmark model pruned of its segmentation branch, beside the whole
    /// one when the graph could not be split (`None` if it could not be pruned
    /// either, or when split: then [`Self::landmark`] is already without it).
    landmark_without_mask: Option<Session>,
    /// Video time of the last frame that computed a mask.
    last_mask_s: Option<f64>,
    /// Whether the last landmark run used the pruned model (for benchmarks).
    last_run_without_mask: bool,
    decoder: DetectionDecoder,
    detector_input: TensorBuilder,
    landmark_input: TensorBuilder,
    detector_tensor: Array4<f32>,
    landmark_tensor: Array4<f32>,
    /// ROI for the next frame, from this frame's landmarks.
    tracked_roi: Option<Roi>,
    /// Keeps the same person across losses.
    subject: SubjectLock,
    /// When the people in view were last counted.
    last_people_check_s: Option<f64>,
    body_smoother: PointSmoother,
    aux_smoother: PointSmoother,
    world_smoother: PointSmoother,
    visibility_smoother: VisibilitySmoother,
}

impl PoseEstimator {
    /// Loads and verifies the models.
    pub fn new(runtime: &Runtime, config: PoseConfig) -> Result<Self, PoseError> {
        let files = ModelFiles::resolve(&config.model, config.models_dir.as_deref())?;
        Self::with_files(runtime, config, files)
    }

    /// Loads explicit model files.
    pub fn with_files(runtime: &Runtime, config: PoseConfig, files: ModelFiles) -> Result<Self, PoseError> {
        // one model's bytes at a time: loading is when memory peaks on small video
        let detector = {
            let det_bytes = read_model(&files.detector, files.detector_sha256)?;
            build_session(runtime, &files.detector, &det_bytes, config.session)?
        };
        check_interface(&detector, &files.detector, &DETECTOR_OUTPUTS)?;
        let mut lmk_bytes = Some(read_model(&files.landmark, files.landmark_sha256)?);
        // frames that need no mask run the graph without its mask branch (about half
        // the time): the graph is split where that branch leaves it, so that the mask
        // is computed from the landmark run's own values when it is due, with no
        // weight loaded twice; a graph that cannot be split runs whole, with a pruned
        // copy beside it for the frames without a mask
        let mask_sometimes = config.keep_segmentation && config.segmentation_interval_s.is_some();
        let mask_always = config.keep_segmentation && config.segmentation_interval_s.is_none();
        let split = match lmk_bytes.as_deref().filter(|_| !mask_always) {
            None => Err(None),
            Some(bytes) => {
                match prune::split_outputs(bytes, &LANDMARK_OUTPUTS_WITHOUT_MASK, &[LANDMARK_OUTPUTS[2].0]) {
                    Ok(parts) => {
                        lmk_bytes = None; // the parts hold all of it
                        split_sessions(runtime, &files.landmark, parts, config.session, mask_sometimes).map_err(Some)
                    }
                    Err(e) => Err(Some(interface_error(&files.landmark, e.to_string()))),
                }
            }
        };
        let (landmark, mask_tail, landmark_without_mask) = match split {
            Ok((head, tail)) => (head, tail, None),
            Err(split_error) => {
                let lmk_bytes = match lmk_bytes {
                    Some(bytes) => bytes,
                    None => read_model(&files.landmark, files.landmark_sha256)?,
                };
                // the whole graph says what is wrong with a model that is not usable at all
                let landmark = build_session(runtime, &files.landmark, &lmk_bytes, config.session)?;
                check_interface(&landmark, &files.landmark, &LANDMARK_OUTPUTS)?;
                if let Some(e) = split_error {
                    tracing::warn!(model = %files.landmark.display(), "landmark model not split ({e}): a pruned copy is used");
                }
                let pruned = if mask_always {
                    None
                } else {
                    prune::prune_outputs(&lmk_bytes, &LANDMARK_OUTPUTS_WITHOUT_MASK)
                        .map_err(|e| e.to_string())
                        .and_then(|pruned| {
                            build_session(runtime, &files.landmark, &pruned, config.session).map_err(|e| e.to_string())
                        })
                        .inspect_err(|e| {
                            tracing::warn!(model = %files.landmark.display(), "landmark model not pruned ({e}): the mask is computed on every frame")
                        })
                        .ok()
                };
                (landmark, None, pruned)
            }
        };
        let d = DETECTOR_INPUT_PX as usize;
        let l = LANDMARK_INPUT_PX as usize;
        Ok(Self {
            files,
            detector,
            landmark,
            mask_tail,
            landmark_without_mask,
            last_mask_s: None,
            last_run_without_mask: false,
            decoder: DetectionDecoder::new(),
            detector_input: TensorBuilder::new(DETECTOR_INPUT_PX, Normalization::SIGNED, Border::Zero),
            landmark_input: TensorBuilder::new(LANDMARK_INPUT_PX, Normalization::UNIT, Border::Replicate),
            detector_tensor: Array4::zeros((1, d, d, 3)),
            landmark_tensor: Array4::zeros((1, l, l, 3)),
            tracked_roi: None,
            subject: SubjectLock::new(config.subject_lock),
            last_people_check_s: None,
            body_smoother: PointSmoother::new(OneEuroParams::LANDMARKS),
            aux_smoother: PointSmoother::new(OneEuroParams::AUXILIARY),
            world_smoother: PointSmoother::unscaled(OneEuroParams::WORLD),
            visibility_smoother: VisibilitySmoother::new(0.1),
            config,
        })
    }

    pub fn files(&self) -> &ModelFiles {
        &self.files
    }

    pub fn config(&self) -> &PoseConfig {
        &self.config
    }

    /// Forgets the tracked person (e.g. between unrelated clips).
    pub fn reset(&mut self) {
        self.tracked_roi = None;
        self.subject.reset();
        self.last_people_check_s = None;
        self.last_mask_s = None;
        self.reset_smoothing();
    }

    fn reset_smoothing(&mut self) {
        self.body_smoother.reset();
        self.aux_smoother.reset();
        self.world_smoother.reset();
        self.visibility_smoother.reset();
    }

    /// Benchmark aid: runs the models again on the inputs of the last
    /// processed frame (the landmark crop, and the detector's letterboxed frame
    /// when it ran) and returns the time ONNX Runtime took — inference alone,
    /// with nothing around it.
    pub fn rerun_last_inference(&mut self, detector_too: bool) -> Result<Duration, PoseError> {
        let infer = |e: ort::Error| PoseError::Inference { model: "landmark", reason: e.to_string() };
        let t0 = Instant::now();
        if detector_too {
            let input = TensorRef::from_array_view(&self.detector_tensor).map_err(infer)?;
            drop(self.detector.run(ort::inputs!["input_1" => input]).map_err(infer)?);
        }
        let input = TensorRef::from_array_view(&self.landmark_tensor).map_err(infer)?;
        let session = match (&mut self.landmark_without_mask, self.last_run_without_mask) {
            (Some(s), true) => s,
            _ => &mut self.landmark,
        };
        let outputs = session.run(ort::inputs!["input_1" => input]).map_err(infer)?;
        if let (Some(tail), false) = (&mut self.mask_tail, self.last_run_without_mask) {
            let inputs: Vec<(&str, ort::session::SessionInputValue<'_>)> =
                tail.boundary.iter().map(|b| (b.as_str(), (&outputs[b.as_str()]).into())).collect();
            drop(tail.session.run(inputs).map_err(infer)?);
        }
        drop(outputs);
        Ok(t0.elapsed())
    }

    /// Runs the detector on the whole frame; detections sorted best first.
    pub fn detect(&mut self, frame_bgr: &Mat, times: &mut StageTimes) -> Result<Vec<Detection>, PoseError> {
        let (w, h) = (frame_bgr.cols() as u32, frame_bgr.rows() as u32);
        let t0 = Instant::now();
        let tensor = self.detector_tensor.as_slice_mut().expect("contiguous tensor");
        self.detector_input.fill(frame_bgr, &Letterbox::roi(w, h), tensor)?;
        let t1 = Instant::now();
        times.preprocess += t1 - t0;
        let infer = |e: ort::Error| PoseError::Inference { model: "detector", reason: e.to_string() };
        let input = TensorRef::from_array_view(&self.detector_tensor).map_err(infer)?;
        let outputs = self.detector.run(ort::inputs!["input_1" => input]).map_err(infer)?;
        let t2 = Instant::now();
        times.detector += t2 - t1;
        let path = &self.files.detector;
        let regressors = output_values(&outputs, &DETECTOR_OUTPUTS[0], path, "detector")?;
        let logits = output_values(&outputs, &DETECTOR_OUTPUTS[1], path, "detector")?;
        let mut detections = weighted_nms(self.decoder.decode(regressors, logits), NMS_IOU);
        remove_letterbox(&mut detections, Letterbox::for_frame(w, h));
        times.postprocess += t2.elapsed();
        Ok(detections)
    }

    /// Picks the detection to follow (see [`SubjectLock`]).
    fn choose_detection(&mut self, detections: &[Detection], w: u32, h: u32, time_s: f64) -> Option<Roi> {
        let candidates: Vec<(PointPx, f32)> = detections
            .iter()
            .map(|d| (d.hip_center_px(w, h), d.roi(w, h).map_or(0.0, |r| r.size_px / ROI_SCALE / 2.0)))
            .collect();
        let pick = self.subject.choose(&candidates, time_s)?;
        detections[pick].roi(w, h)
    }

    /// Processes the next video frame (BGR, upright) observed at `time_s`.
    pub fn process(&mut self, frame_bgr: &Mat, time_s: f64) -> Result<PoseFrame, PoseError> {
        let mut times = StageTimes::default();
        let (w, h) = (frame_bgr.cols() as u32, frame_bgr.rows() as u32);
        let mut people = None;
        // while tracking, the detector also runs once per interval to count people
        let due = self
            .config
            .people_check_interval_s
            .is_some_and(|every| self.last_people_check_s.is_none_or(|last| time_s - last >= every || time_s < last));
        let (roi, detected) = match self.tracked_roi.take() {
            Some(roi) => {
                if due {
                    let detections = self.detect(frame_bgr, &mut times)?;
                    people = Some(self.count_people(&detections, w, h, roi.size_px));
                    self.last_people_check_s = Some(time_s);
                }
                (Some(roi), false)
            }
            None => {
                let detections = self.detect(frame_bgr, &mut times)?;
                tracing::debug!(
                    time_s,
                    detections = ?detections.iter().map(|d| (d.score, d.hip_center_px(w, h))).collect::<Vec<_>>(),
                    "re-detecting"
                );
                let roi = self.choose_detection(&detections, w, h, time_s);
                people = Some(self.count_people(&detections, w, h, roi.map_or(0.0, |r| r.size_px)));
                self.last_people_check_s = Some(time_s);
                (roi, true)
            }
        };
        let Some(roi) = roi else {
            self.reset_smoothing();
            self.last_mask_s = None;
            return Ok(PoseFrame { pose: None, times, people });
        };
        let pose = self.landmarks_in(frame_bgr, roi, time_s, detected, &mut times)?;
        if pose.is_none() {
            self.reset_smoothing();
            self.last_mask_s = None;
        }
        if let Some(p) = people {
            tracing::debug!(time_s, detected = p.detected, comparable = p.comparable, "people in view");
        }
        Ok(PoseFrame { pose, times, people })
    }

    fn count_people(&self, detections: &[Detection], w: u32, h: u32, subject_roi_px: f32) -> PeopleCount {
        let comparable = detections
            .iter()
            .filter(|d| d.roi(w, h).is_some_and(|r| subject_roi_px <= 0.0 || r.size_px >= 0.5 * subject_roi_px))
            .count();
        PeopleCount { detected: detections.len(), comparable }
    }

    /// Runs the landmark model on `roi`; updates tracking.
    fn landmarks_in(
        &mut self,
        frame_bgr: &Mat,
        roi: Roi,
        time_s: f64,
        detected: bool,
        times: &mut StageTimes,
    ) -> Result<Option<Pose>, PoseError> {
        let t0 = Instant::now();
        let tensor = self.landmark_tensor.as_slice_mut().expect("contiguous tensor");
        self.landmark_input.fill(frame_bgr, &roi, tensor)?;
        let t1 = Instant::now();
        times.preprocess += t1 - t0;
        let infer = |e: ort::Error| PoseError::Inference { model: "landmark", reason: e.to_string() };
        let want_mask = self.config.keep_segmentation && self.mask_due(time_s);
        let input = TensorRef::from_array_view(&self.landmark_tensor).map_err(infer)?;
        let (session, without_mask) = match (&mut self.landmark_without_mask, &self.mask_tail) {
            (_, Some(_)) => (&mut self.landmark, !want_mask),
            (Some(s), None) if !want_mask => (s, true),
            _ => (&mut self.landmark, false),
        };
        let outputs = session.run(ort::inputs!["input_1" => input]).map_err(infer)?;
        // with the graph split, the mask branch runs only once a person is seen (below)
        self.last_run_without_mask = without_mask || self.mask_tail.is_some();
        let t2 = Instant::now();
        times.landmark_model += t2 - t1;

        let path = &self.files.landmark;
        let flag = output_values(&outputs, &LANDMARK_OUTPUTS[1], path, "landmark")?;
        let score = flag.first().copied().unwrap_or(0.0);
        if !(score >= self.config.min_presence) {
            times.postprocess += t2.elapsed();
            return Ok(None);
        }
        let raw = output_values(&outputs, &LANDMARK_OUTPUTS[0], path, "landmark")?;
        let heatmap = output_values(&outputs, &LANDMARK_OUTPUTS[3], path, "landmark")?;
        let world_raw = output_values(&outputs, &LANDMARK_OUTPUTS[4], path, "landmark")?;
        let mut crop = decode_crop_landmarks(raw);
        refine_with_heatmap(&mut crop, heatmap);
        let all = project_to_frame(&crop, &roi);
        let mut world_m = world_landmarks(world_raw, &roi);
        let mut tail_time = Duration::ZERO;
        let segmentation = if self.config.keep_segmentation && !without_mask {
            let seg = match &mut self.mask_tail {
                Some(tail) => {
                    let t = Instant::now();
                    let inputs: Vec<(&str, ort::session::SessionInputValue<'_>)> =
                        tail.boundary.iter().map(|b| (b.as_str(), (&outputs[b.as_str()]).into())).collect();
                    let mask = tail.session.run(inputs).map_err(infer)?;
                    let seg = output_values(&mask, &LANDMARK_OUTPUTS[2], path, "landmark")?.to_vec();
                    tail_time = t.elapsed();
                    times.landmark_model += tail_time;
                    seg
                }
                None => output_values(&outputs, &LANDMARK_OUTPUTS[2], path, "landmark")?.to_vec(),
            };
            Some(SegmentationMask::new(seg, roi))
        } else {
            None
        };
        let mask_skipped = self.config.keep_segmentation && without_mask;
        if self.mask_tail.is_some() {
            // for benchmarks: whether the mask branch ran after the head
            self.last_run_without_mask = segmentation.is_none();
        }
        drop(outputs);
        let t3 = Instant::now();
        // the mask branch's run is the model's time, not postprocessing
        times.postprocess += (t3 - t2).saturating_sub(tail_time);

        let mut body: [[f32; 3]; BODY_LANDMARKS] = std::array::from_fn(|k| [all[k].x_px, all[k].y_px, all[k].z_px]);
        let mut visibility: [f32; BODY_LANDMARKS] = std::array::from_fn(|k| all[k].visibility);
        let mut aux =
            [[all[AUX_CENTER].x_px, all[AUX_CENTER].y_px, 0.0], [all[AUX_SCALE].x_px, all[AUX_SCALE].y_px, 0.0]];
        if self.config.smoothing {
            self.visibility_smoother.apply(&mut visibility);
            self.body_smoother.apply(time_s, &mut body);
            self.aux_smoother.apply(time_s, &mut aux);
            self.world_smoother.apply(time_s, &mut world_m);
        }
        let landmarks: [Landmark; BODY_LANDMARKS] = std::array::from_fn(|k| Landmark {
            x_px: body[k][0],
            y_px: body[k][1],
            z_px: body[k][2],
            visibility: visibility[k],
            presence: all[k].presence,
        });
        // next frame's ROI from the (smoothed) helper landmarks
        let next = Roi::from_alignment_points(PointPx::new(aux[0][0], aux[0][1]), PointPx::new(aux[1][0], aux[1][1]));
        self.tracked_roi = next;
        self.subject.seen(PointPx::new(aux[0][0], aux[0][1]), roi.size_px / ROI_SCALE / 2.0, time_s);
        times.smoothing += t3.elapsed();
        if segmentation.is_some() {
            self.last_mask_s = Some(time_s);
        }
        Ok(Some(Pose { landmarks, world_m, score, roi, detected, segmentation, mask_skipped }))
    }

    /// Whether this frame should compute the mask under
    /// [`PoseConfig::segmentation_interval_s`] (a millisecond of slack
    /// absorbs rounding in frame times).
    fn mask_due(&self, time_s: f64) -> bool {
        match (self.config.segmentation_interval_s, self.last_mask_s) {
            (Some(every), Some(last)) => time_s < last || time_s - last >= every - 1e-3,
            _ => true,
        }
    }
}
