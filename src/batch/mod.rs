//! `hinge batch`: many videos, in parallel, resumable, one summary table.
//!
//! Each video is analysed exactly as `hinge analyze` does it and its files go
//! to `DIR/videos/<name>/`; the per-video `result.json` is written last and
//! atomically, so it marks a finished video. A restarted batch skips videos
//! whose result matches the input's content hash and the settings; the
//! tables (`summary.csv`, `reps.csv`, `index.html`) are rebuilt from the
//! result files, which is also how `hinge merge` combines shards.
//!
//! Faults: each video runs on its own thread under a time limit (an endless
//! stream or a stalled read fails that row, not the batch); a full disk stops
//! the batch taking new videos and says so; an output folder that cannot be
//! written is refused before any work. A redone video loses its old
//! `result.json` first, so that a kill at any point leaves it unfinished.

pub mod inputs;
pub mod tables;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::analyze::{analyze_file_until, Analysis, AnalyzeError};
use crate::config::Config;
use crate::kinematics::metric::Metric;
use crate::kinematics::spine_model::{SpineModel, SpineReader};
use crate::pose::model::Runtime;
use crate::pose::{PoseConfig, PoseEstimator};
use crate::report::atomic::{plain_io_reason, remove_stale_temp_files, sync_dir, temp_path, NoSpace};
use crate::report::{write_all, write_atomic, write_extras, write_outputs, ExtraOutputs, ReportError};
use crate::video::{is_stream_file, VideoError};
pub use inputs::{collect_jobs, parse_shard, shard, Job};

/// Errors that stop a batch (per-video failures do not: they become rows).
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// An input (directory, manifest) cannot be read.
    #[error("{}: {reason}", .path.display())]
    Input { path: PathBuf, reason: String },
    /// No input gave a video: each input with why, on one line
    /// (`clinic: no videos (looked for .mp4, …); m.csv: no rows`).
    #[error("{}", .0.iter().map(|(p, why)| format!("{}: {why}", p.display())).collect::<Vec<_>>().join("; "))]
    NoVideos(Vec<(PathBuf, String)>),
    /// The output directory cannot be written.
    #[error("{}: cannot write: {reason}", .path.display())]
    Output { path: PathBuf, reason: String },
    /// The models or runtime cannot be loaded.
    #[error(transparent)]
    Pose(#[from] crate::pose::PoseError),
    /// The spine model cannot be loaded.
    #[error(transparent)]
    Spine(#[from] crate::kinematics::spine_model::SpineModelError),
}

/// Status of one video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    NotFound,
    Unreadable,
    NotAVideo,
    NoFrames,
    TooShort,
    Truncated,
    NoPerson,
    /// The person is lying down, upside down or on its side in the picture.
    NotUpright,
    SubjectLost,
    MultiplePeople,
    /// The video took longer than the per-video time limit (`--video-timeout`).
    TimedOut,
    Error,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::NotFound => "not_found",
            Status::Unreadable => "unreadable",
            Status::NotAVideo => "not_a_video",
            Status::NoFrames => "no_frames",
            Status::TooShort => "too_short",
            Status::Truncated => "truncated",
            Status::NoPerson => "no_person",
            Status::NotUpright => "not_upright",
            Status::SubjectLost => "subject_lost",
            Status::MultiplePeople => "multiple_people",
            Status::TimedOut => "timed_out",
            Status::Error => "error",
        }
    }

    /// Whether a resumed batch analyses the video again: yes when the analysis
    /// did not run to its end (the file could not be opened or decoded, the
    /// outputs could not be written ...), which may have been passing; no for
    /// `ok` and for the verdicts of a finished analysis, which the same bytes
    /// and settings would only repeat (a changed file is redone anyway).
    pub fn retried_on_resume(self) -> bool {
        match self {
            Status::NotFound
            | Status::Unreadable
            | Status::NotAVideo
            | Status::NoFrames
            | Status::TimedOut
            | Status::Error => true,
            Status::Ok
            | Status::TooShort
            | Status::Truncated
            | Status::NoPerson
            | Status::NotUpright
            | Status::SubjectLost
            | Status::MultiplePeople => false,
        }
    }
}

/// One rep as it appears in reps.csv.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepRow {
    pub rep: usize,
    pub start_s: f64,
    pub end_s: f64,
    pub verdict: String,
    pub faults: Vec<String>,
    /// Medians over the rep's deep part, by metric name (the metrics registry;
    /// a metric without a value is left out).
    pub at_depth: BTreeMap<String, f64>,
}

impl RepRow {
    /// The rep's value of `m` at depth.
    pub fn at_depth(&self, m: Metric) -> Option<f64> {
        self.at_depth.get(m.name()).copied()
    }
}

/// The per-video record (`result.json`), source of the batch tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoResult {
    pub path: String,
    pub status: Status,
    /// Plain-words reason when the status is not ok.
    pub reason: String,
    pub input_sha256: Option<String>,
    pub settings_sha256: String,
    pub model: String,
    pub hinge_version: String,
    /// Output folder, relative to the batch directory.
    pub output_dir: String,
    pub frames: usize,
    pub frames_with_person: usize,
    pub duration_s: f64,
    pub reps: Vec<RepRow>,
    /// Faults of the clip: any rep's plus standing-posture faults.
    pub faults: Vec<String>,
    pub meta: BTreeMap<String, String>,
}

impl VideoResult {
    /// Reps whose verdict is not `good`.
    pub fn faulty_reps(&self) -> usize {
        self.reps.iter().filter(|x| x.verdict != "good").count()
    }

    pub fn worst(&self, f: impl Fn(&RepRow) -> Option<f64>) -> Option<f64> {
        self.reps.iter().filter_map(f).fold(None, |a: Option<f64>, x| Some(a.map_or(x, |a| a.max(x))))
    }
}

/// Settings of a batch run.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    pub out_dir: PathBuf,
    pub jobs: usize,
    pub force: bool,
    pub pose: PoseConfig,
    pub config: Config,
    pub ort_lib: Option<PathBuf>,
    /// Shard (index, count), for the output table names.
    pub shard: Option<(usize, usize)>,
    /// Longest one video may take (analysis and outputs); `None`: no limit.
    pub video_timeout: Option<Duration>,
}

/// Default per-video time limit of `hinge batch --video-timeout`, seconds:
/// far longer than a clinic recording takes (docs/batch.md), so that only an
/// input that never ends or a read that never returns meets it.
pub const DEFAULT_VIDEO_TIMEOUT_S: f64 = 3600.0;

/// How long a video past its time limit has to stop by itself (it looks
/// before every frame) before its thread is left behind, stuck in a read.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// The batch stopped taking videos: the output disk has no room left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfSpace {
    pub kind: NoSpace,
    /// Videos whose outputs could not be written or that were not started.
    pub videos: usize,
}

/// How a batch went.
#[derive(Debug, Clone, Default)]
pub struct BatchOutcome {
    pub processed: usize,
    pub skipped: usize,
    pub failed: usize,
    pub results: Vec<VideoResult>,
    /// Set when a full disk stopped the batch before every video was done.
    pub out_of_space: Option<OutOfSpace>,
}

/// Progress callback: (videos finished, total, the result just finished, skipped?).
pub type BatchProgress<'a> = &'a mut dyn FnMut(usize, usize, &VideoResult, bool);

/// Hash of everything that changes results: version, model, config, smoothing.
pub fn settings_hash(pose: &PoseConfig, config: &Config) -> String {
    let text = format!(
        "hinge {}\nmodel {}\nsmoothing {}\nmask interval {:?}\n{}",
        env!("CARGO_PKG_VERSION"),
        pose.model.label(),
        pose.smoothing,
        pose.segmentation_interval_s,
        toml::to_string(config).unwrap_or_default()
    );
    hex(&Sha256::digest(text.as_bytes()))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// SHA-256 of a file's content, streamed; `None` for a stream (a named
/// pipe, a device), which has no content to hash before it is read.
pub fn file_sha256(path: &Path) -> Option<String> {
    use std::io::Read;
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let mut f = std::fs::File::open(path).ok()?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Some(hex(&h.finalize()))
}

/// Where a job's outputs go.
pub fn job_dir(out_dir: &Path, job: &Job) -> (PathBuf, String) {
    let rel = format!("videos/{}", inputs::output_name(&job.path));
    (out_dir.join(&rel), rel)
}

fn classify(e: &AnalyzeError) -> (Status, String) {
    let reason = e.to_string();
    let status = match e {
        AnalyzeError::Video(VideoError::NotFound { .. }) => Status::NotFound,
        AnalyzeError::Video(VideoError::Unreadable { .. }) => Status::Unreadable,
        AnalyzeError::Video(VideoError::NotAVideo { .. } | VideoError::NoVideoTrack { .. }) => Status::NotAVideo,
        AnalyzeError::Video(VideoError::NoFrames { .. }) => Status::NoFrames,
        _ => Status::Error,
    };
    (status, reason)
}

/// Judges a finished analysis: ok, or why its numbers cannot be trusted.
fn judge(a: &Analysis) -> (Status, String) {
    let n = a.frames.len();
    let seen = a.frames_with_person();
    if n < 2 {
        return (Status::TooShort, format!("only {n} frame: a still image or a clip too short to analyse"));
    }
    if let Some(announced) = a.info.frame_count_hint {
        if (n as f64) < 0.98 * announced as f64 - 1.0 {
            return (
                Status::Truncated,
                format!("only {n} of {announced} announced frames could be decoded: the file is truncated or damaged"),
            );
        }
    }
    if seen == 0 {
        return (Status::NoPerson, "no person found in any frame: film the whole body from the side".into());
    }
    if a.view.upright == Some(false) {
        return (Status::NotUpright, crate::analyze::NOT_UPRIGHT_WARNING.to_string());
    }
    let share = seen as f64 / n as f64;
    if share < 0.8 {
        return (
            Status::SubjectLost,
            format!("person tracked in only {:.0}% of frames: they leave the frame or are hidden", share * 100.0),
        );
    }
    let several = a.people.several_share();
    if a.people.checks_with_several >= 2 && several >= 0.1 {
        return (
            Status::MultiplePeople,
            format!(
                "two or more people in view in {:.0}% of the seconds checked: the results may mix people; film one person at a time",
                several * 100.0
            ),
        );
    }
    (Status::Ok, String::new())
}

fn result_of(job: &Job, rel: &str, sha: Option<String>, settings: &str, model: &str) -> VideoResult {
    VideoResult {
        path: job.path.display().to_string(),
        status: Status::Error,
        reason: String::new(),
        input_sha256: sha,
        settings_sha256: settings.to_string(),
        model: model.to_string(),
        hinge_version: env!("CARGO_PKG_VERSION").to_string(),
        output_dir: rel.to_string(),
        frames: 0,
        frames_with_person: 0,
        duration_s: 0.0,
        reps: Vec::new(),
        faults: Vec::new(),
        meta: job.meta.clone(),
    }
}

/// What an analysis is doing, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStage {
    /// Pose estimation and interpretation, frame by frame.
    Analysing,
    /// The second pass: annotated.mp4 and the report's key frames.
    Drawing,
}

impl JobStage {
    /// The stage in plain words.
    pub fn label(self) -> &'static str {
        match self {
            JobStage::Analysing => "analysing",
            JobStage::Drawing => "drawing the annotated video",
        }
    }
}

/// What stays the same for every video of a run.
#[derive(Debug, Clone, Copy)]
pub struct JobSettings<'a> {
    pub config: &'a Config,
    /// The landmark model's label (`full`, `lite`, a file name ...).
    pub model: &'a str,
    /// [`settings_hash`] of the run.
    pub settings_sha256: &'a str,
}

/// Where one video's outputs go and how they name it.
#[derive(Debug, Clone, Copy)]
pub struct JobOutput<'a> {
    /// The folder the files are written to.
    pub dir: &'a Path,
    /// The record's `output_dir` (relative to the batch or data directory).
    pub output_dir_rel: &'a str,
    /// The video's name in the outputs (summary.json's `video`, the report's
    /// title); `None`: its path.
    pub shown_as: Option<&'a str>,
    /// The video's sha256 when the caller already knows it (`hinge serve`
    /// stores videos under it); `None`: the file is read to compute it.
    pub video_sha256: Option<&'a str>,
}

/// What the batch shares with every video's thread.
struct Shared {
    opts: BatchOptions,
    settings: String,
    spine: SpineModel,
}

/// One video's record, and the lack of space that made it fail, if any.
#[derive(Debug)]
pub struct Processed {
    /// The record (status, reason, reps ...).
    pub result: VideoResult,
    /// Writing the outputs failed for lack of space.
    pub no_space: Option<NoSpace>,
    /// The analysis ended because it was told to stop (its time was up).
    pub stopped: bool,
}

impl Processed {
    fn of(result: VideoResult) -> Self {
        Processed { result, no_space: None, stopped: false }
    }
}

/// A failed write as a row: a full disk says what to do about it.
fn write_failure(r: &mut VideoResult, e: &ReportError) -> Option<NoSpace> {
    r.status = Status::Error;
    let no_space = e.no_space();
    r.reason = match no_space {
        Some(_) => format!("{e}; free space and run the batch again (finished videos are kept)"),
        None => e.to_string(),
    };
    no_space
}

/// Analyses one video into `out.dir` exactly as a batch worker does (every
/// file `hinge analyze` writes) and returns its record; `result.json` is left
/// to the caller. Never fails: failures are records with a status and a
/// reason. Once `stop` is set (a time limit) the analysis ends early with
/// `stopped`. A stream (named pipe) can be read only once: it gets
/// frames.csv, summary.json and reps.csv, not the drawings that need a
/// second pass.
pub fn analyze_video(
    job: &Job,
    out: JobOutput,
    estimator: &mut PoseEstimator,
    spine: &dyn SpineReader,
    settings: JobSettings,
    stop: Option<&Arc<AtomicBool>>,
    progress: &mut dyn FnMut(JobStage, u64, Option<u64>),
) -> Processed {
    let stream = is_stream_file(&job.path);
    let sha = out.video_sha256.map(str::to_string).or_else(|| file_sha256(&job.path));
    let mut r = result_of(job, out.output_dir_rel, sha, settings.settings_sha256, settings.model);
    let config = settings.config;
    let analysed = analyze_file_until(
        &job.path,
        estimator,
        spine,
        config.rules(),
        &mut |done, total| progress(JobStage::Analysing, done, total),
        stop.cloned(),
    );
    let mut a = match analysed {
        Err(AnalyzeError::Video(VideoError::Stopped { .. })) => {
            return Processed { stopped: true, ..Processed::of(r) };
        }
        Err(e) => {
            (r.status, r.reason) = classify(&e);
            return Processed::of(r);
        }
        Ok(a) => a,
    };
    if let Some(name) = out.shown_as {
        a.video = name.to_string();
    }
    (r.status, r.reason) = judge(&a);
    r.frames = a.frames.len();
    r.frames_with_person = a.frames_with_person();
    r.duration_s = a.frames.last().map_or(0.0, |f| f.time_s + 1.0 / a.info.fps);
    r.reps = a
        .reps
        .iter()
        .map(|x| RepRow {
            rep: x.index,
            start_s: x.start_s,
            end_s: x.end_s,
            verdict: x.verdict.to_string(),
            faults: x.faults.iter().map(|f| f.name().to_string()).collect(),
            at_depth: Metric::ALL
                .iter()
                .filter_map(|m| x.at_depth.get(*m).map(|v| (m.name().to_string(), v)))
                .collect(),
        })
        .collect();
    let mut faults: Vec<String> = r.reps.iter().flat_map(|x| x.faults.clone()).collect();
    faults.extend(a.clip_faults.iter().map(|f| f.name().to_string()));
    faults.sort();
    faults.dedup();
    r.faults = faults;
    if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
        // its time is up: the row says so; nothing more is written
        return Processed { stopped: true, ..Processed::of(r) };
    }
    let toml = config.to_toml();
    let report = config.report_settings(&toml);
    let mut drawing = |done, total| progress(JobStage::Drawing, done, total);
    let written = if stream {
        let once = ExtraOutputs { annotated_video: false, html: false, ..ExtraOutputs::default() };
        let once = ExtraOutputs { style: report.style.clone(), ..once };
        write_outputs(&a, out.dir).and_then(|_| write_extras(&a, report, &job.path, out.dir, &once, &mut drawing))
    } else {
        write_all(&a, report, &job.path, out.dir, &mut drawing)
    };
    let no_space = written.err().and_then(|e| write_failure(&mut r, &e));
    Processed { result: r, no_space, stopped: false }
}

/// Analyses one job of a batch and writes its files; never fails (failures are rows).
fn process(job: &Job, estimator: &mut PoseEstimator, shared: &Shared, stop: &Arc<AtomicBool>) -> Processed {
    let (dir, rel) = job_dir(&shared.opts.out_dir, job);
    let model = shared.opts.pose.model.label();
    let settings = JobSettings { config: &shared.opts.config, model: &model, settings_sha256: &shared.settings };
    let out = JobOutput { dir: &dir, output_dir_rel: &rel, shown_as: None, video_sha256: None };
    analyze_video(job, out, estimator, &shared.spine, settings, Some(stop), &mut |_, _, _| {})
}

/// A time in seconds as people write it: `3`, `2.5`.
fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}

/// Runs [`process`] on its own thread, under the time limit. Returns the
/// estimator when the thread gave it back; past the limit the thread is told
/// to stop, and left behind if it does not (stuck in a read that never
/// returns: it holds nothing the batch needs and ends with the process).
fn process_in_time(
    job: &Job,
    estimator: PoseEstimator,
    shared: &Arc<Shared>,
    limit: Option<Duration>,
) -> (Processed, Option<PoseEstimator>) {
    let (_, rel) = job_dir(&shared.opts.out_dir, job);
    let row = || result_of(job, &rel, None, &shared.settings, &shared.opts.pose.model.label());
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let (thread_job, thread_shared, thread_stop) = (job.clone(), Arc::clone(shared), Arc::clone(&stop));
    let spawned = std::thread::Builder::new().name("hinge-video".into()).spawn(move || {
        let mut estimator = estimator;
        let processed = process(&thread_job, &mut estimator, &thread_shared, &thread_stop);
        let _ = tx.send((processed, estimator));
    });
    if let Err(e) = spawned {
        let reason = format!("cannot start a thread for the video: {e}");
        return (Processed::of(VideoResult { reason, ..row() }), None);
    }
    let timed_out = |limit: Duration| {
        let reason = format!(
            "took longer than {} s (--video-timeout): stopped; a stream that never ends or a read that never returns (a stalled pipe or network share); raise --video-timeout for very long videos",
            seconds(limit)
        );
        Processed::of(VideoResult { status: Status::TimedOut, reason, ..row() })
    };
    let crashed = || {
        let reason = "the analysis crashed (a bug in hinge: please report it with the video)".to_string();
        (Processed::of(VideoResult { reason, ..row() }), None)
    };
    let Some(limit) = limit else {
        return rx.recv().map_or_else(|_| crashed(), |(p, e)| (p, Some(e)));
    };
    match rx.recv_timeout(limit) {
        Ok((p, e)) if !p.stopped => return (p, Some(e)),
        Ok((_, e)) => return (timed_out(limit), Some(e)),
        Err(mpsc::RecvTimeoutError::Disconnected) => return crashed(),
        Err(mpsc::RecvTimeoutError::Timeout) => {}
    }
    stop.store(true, Ordering::SeqCst);
    match rx.recv_timeout(STOP_GRACE) {
        // it finished just as its time ran out: keep what it did
        Ok((p, e)) if !p.stopped => (p, Some(e)),
        Ok((_, e)) => (timed_out(limit), Some(e)),
        Err(_) => {
            tracing::warn!(video = %job.path.display(), "the video's thread did not stop: left behind");
            (timed_out(limit), None)
        }
    }
}

/// Makes a video's folder ready to be redone: an earlier `result.json` no
/// longer describes the files about to be replaced, so it goes first (the
/// video counts as unfinished until the new one is written), and so do the
/// temporary files of a run killed mid-write.
fn prepare_video_dir(dir: &Path) {
    let _ = remove_stale_temp_files(dir);
    match std::fs::remove_file(dir.join("result.json")) {
        Ok(()) => {
            let _ = sync_dir(dir);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(dir = %dir.display(), error = %e, "cannot remove the old result.json"),
    }
}

/// Writes `result.json` (last, atomically: it marks the video finished).
/// A video that met a full disk gets none: its partial files go, to give
/// the space back for the tables, and it stays unfinished (redone on resume).
fn write_result(dir: &Path, p: &mut Processed) {
    if p.no_space.is_some() {
        let _ = std::fs::remove_dir_all(dir);
        return;
    }
    let json = serde_json::to_vec_pretty(&p.result).expect("result serialises");
    let written = std::fs::create_dir_all(dir)
        .map_err(|source| ReportError::Write { path: dir.to_path_buf(), source })
        .and_then(|()| write_atomic(&dir.join("result.json"), &json));
    if let Err(e) = written {
        p.result.status = Status::Error;
        p.no_space = write_failure(&mut p.result, &e);
        p.result.reason = format!("cannot write results: {}", p.result.reason);
        if p.no_space.is_some() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Checks that `dir` can be written, before any work: a read-only folder
/// is one clear error up front rather than a failed row per video.
fn check_writable(dir: &Path) -> Result<(), BatchError> {
    use std::io::Write;
    let probe = temp_path(&dir.join(".hinge-write-check"));
    let written = std::fs::File::create(&probe).and_then(|mut f| f.write_all(b"hinge"));
    let _ = std::fs::remove_file(&probe);
    written.map_err(|e| BatchError::Output { path: dir.to_path_buf(), reason: plain_io_reason(&e) })
}

fn read_result(path: &Path) -> Option<VideoResult> {
    read_result_checked(path).ok()
}

/// Reads a `result.json`, saying why it cannot.
pub fn read_result_checked(path: &Path) -> Result<VideoResult, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| format!("not a hinge result: {e}"))
}

/// Runs a batch over `jobs`.
pub fn run_batch(jobs: Vec<Job>, opts: &BatchOptions, progress: BatchProgress) -> Result<BatchOutcome, BatchError> {
    let out_err =
        |path: &Path, e: std::io::Error| BatchError::Output { path: path.to_path_buf(), reason: plain_io_reason(&e) };
    std::fs::create_dir_all(opts.out_dir.join("videos")).map_err(|e| out_err(&opts.out_dir, e))?;
    check_writable(&opts.out_dir)?;
    check_writable(&opts.out_dir.join("videos"))?;
    // the tables' temporary files of a run killed while writing them
    remove_stale_temp_files(&opts.out_dir).map_err(|e| out_err(&opts.out_dir, e))?;
    let settings = settings_hash(&opts.pose, &opts.config);
    let total = jobs.len();
    let mut outcome = BatchOutcome::default();
    // finished before, same content and settings: skip (a failure that may have passed is tried again;
    // a stream has no content hash and is always read again)
    let mut todo = Vec::new();
    for job in jobs {
        let (dir, _) = job_dir(&opts.out_dir, &job);
        let previous = (!opts.force).then(|| read_result(&dir.join("result.json"))).flatten();
        match previous {
            Some(prev)
                if !prev.status.retried_on_resume()
                    && prev.settings_sha256 == settings
                    && prev.input_sha256.is_some()
                    && prev.input_sha256 == file_sha256(&job.path) =>
            {
                outcome.skipped += 1;
                progress(outcome.skipped + outcome.processed, total, &prev, true);
                outcome.results.push(prev);
            }
            _ => todo.push(job),
        }
    }
    if !todo.is_empty() {
        let runtime = Runtime::init(opts.ort_lib.as_deref())?;
        let workers = opts.jobs.max(1).min(todo.len());
        // load every worker's models up front, so a model problem stops the batch at once
        let mut estimators = Vec::with_capacity(workers);
        for _ in 0..workers {
            estimators.push(PoseEstimator::new(&runtime, opts.pose.clone())?);
        }
        let spine = SpineModel::load_bundled(&runtime, opts.pose.models_dir.as_deref())?;
        let shared = Arc::new(Shared { opts: opts.clone(), settings: settings.clone(), spine });
        let todo = Arc::new(todo);
        let next = Arc::new(AtomicUsize::new(0));
        // the first lack of space seen: no new video is started after it
        let out_of_space: Arc<Mutex<Option<NoSpace>>> = Arc::new(Mutex::new(None));
        let no_space_rows = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel::<VideoResult>();
        std::thread::scope(|scope| {
            for est in estimators {
                let (todo, next, tx, shared) = (Arc::clone(&todo), Arc::clone(&next), tx.clone(), Arc::clone(&shared));
                let (out_of_space, no_space_rows) = (Arc::clone(&out_of_space), Arc::clone(&no_space_rows));
                let runtime = runtime.clone();
                scope.spawn(move || {
                    let mut estimator = Some(est);
                    loop {
                        if out_of_space.lock().is_ok_and(|o| o.is_some()) {
                            break;
                        }
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(job) = todo.get(i) else { break };
                        let (dir, rel) = job_dir(&opts.out_dir, job);
                        prepare_video_dir(&dir);
                        // a worker whose last video was left behind, stuck, loads new models
                        let est = match estimator
                            .take()
                            .map_or_else(|| PoseEstimator::new(&runtime, opts.pose.clone()), Ok)
                        {
                            Ok(est) => est,
                            Err(e) => {
                                let reason = format!("not analysed: the models cannot be loaded again: {e}");
                                let row = result_of(job, &rel, None, &shared.settings, &opts.pose.model.label());
                                if tx.send(VideoResult { reason, ..row }).is_err() {
                                    break;
                                }
                                continue;
                            }
                        };
                        let (mut p, est) = process_in_time(job, est, &shared, opts.video_timeout);
                        estimator = est;
                        write_result(&dir, &mut p);
                        if let Some(kind) = p.no_space {
                            no_space_rows.fetch_add(1, Ordering::SeqCst);
                            if let Ok(mut o) = out_of_space.lock() {
                                o.get_or_insert(kind);
                            }
                        }
                        if tx.send(p.result).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            for r in rx {
                outcome.processed += 1;
                progress(outcome.skipped + outcome.processed, total, &r, false);
                outcome.results.push(r);
            }
        });
        let no_space = out_of_space.lock().ok().and_then(|o| *o);
        if let Some(kind) = no_space {
            // the videos no worker started get a row (not a result.json: they are simply not done)
            let reported: BTreeSet<String> = outcome.results.iter().map(|r| r.path.clone()).collect();
            let mut videos = no_space_rows.load(Ordering::SeqCst);
            for job in todo.iter().filter(|j| !reported.contains(&j.path.display().to_string())) {
                let (_, rel) = job_dir(&opts.out_dir, job);
                let reason = format!(
                    "not analysed: the batch stopped when the output disk ran out of space ({}); free space and run the batch again",
                    kind.plain()
                );
                let r = VideoResult { reason, ..result_of(job, &rel, None, &settings, &opts.pose.model.label()) };
                outcome.processed += 1;
                progress(outcome.skipped + outcome.processed, total, &r, false);
                outcome.results.push(r);
                videos += 1;
            }
            outcome.out_of_space = Some(OutOfSpace { kind, videos });
        }
    }
    outcome.results.sort_by(|a, b| a.path.cmp(&b.path));
    outcome.failed = outcome.results.iter().filter(|r| r.status != Status::Ok).count();
    let suffix = opts.shard.map(|(i, n)| format!(".shard-{i}-of-{n}")).unwrap_or_default();
    tables::write_tables(&opts.out_dir, &outcome.results, &suffix)?;
    Ok(outcome)
}

/// A result read from a batch directory: (that directory, the result).
pub type FoundResult = (PathBuf, VideoResult);

/// A video folder whose result could not be used.
#[derive(Debug, Clone, PartialEq)]
pub struct BadResult {
    /// The `result.json` (missing or unreadable).
    pub path: PathBuf,
    pub reason: String,
}

/// Reads every `videos/*/result.json` under the given batch directories;
/// the folders whose result is missing (an unfinished video) or cannot be
/// read come back as [`BadResult`]s.
pub fn collect_results(dirs: &[PathBuf]) -> Result<(Vec<FoundResult>, Vec<BadResult>), BatchError> {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for d in dirs {
        let videos = d.join("videos");
        if !videos.is_dir() {
            return Err(BatchError::Input {
                path: d.clone(),
                reason: "not a batch output directory (no videos/ folder in it)".into(),
            });
        }
        let entries = std::fs::read_dir(&videos)
            .map_err(|e| BatchError::Input { path: videos.clone(), reason: e.to_string() })?;
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths.into_iter().filter(|p| p.is_dir()) {
            let file = p.join("result.json");
            if !file.exists() {
                bad.push(BadResult { path: file, reason: "missing: the video was not finished".into() });
                continue;
            }
            match read_result_checked(&file) {
                Ok(r) => out.push((d.clone(), r)),
                Err(reason) => bad.push(BadResult { path: file, reason: format!("cannot read: {reason}") }),
            }
        }
    }
    Ok((out, bad))
}

/// What `hinge merge` combined.
#[derive(Debug, Clone, Default)]
pub struct MergeOutcome {
    /// The videos in the merged tables.
    pub results: Vec<VideoResult>,
    /// Video folders left out of the tables: their result is missing or unreadable.
    pub bad: Vec<BadResult>,
}

/// Combines the results of several batch (shard) directories into `out_dir`:
/// copies each video's folder when it lives elsewhere and writes the tables.
/// Folders whose result cannot be used are left out and listed.
pub fn merge(dirs: &[PathBuf], out_dir: &Path) -> Result<MergeOutcome, BatchError> {
    let (found, bad) = collect_results(dirs)?;
    let mut by_path: BTreeMap<String, VideoResult> = BTreeMap::new();
    for (src, r) in found {
        let from = src.join(&r.output_dir);
        let to = out_dir.join(&r.output_dir);
        if from.canonicalize().ok() != to.canonicalize().ok() {
            copy_dir(&from, &to).map_err(|e| BatchError::Output { path: to.clone(), reason: e.to_string() })?;
        }
        by_path.insert(r.path.clone(), r);
    }
    let results: Vec<VideoResult> = by_path.into_values().collect();
    tables::write_tables(out_dir, &results, "")?;
    Ok(MergeOutcome { results, bad })
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        if e.file_type()?.is_file() {
            std::fs::copy(e.path(), to.join(e.file_name()))?;
        }
    }
    Ok(())
}
