//! `hinge batch`: many videos, in parallel, resumable, one summary table.
//!
//! Each video is analysed exactly as `hinge analyze` does it and its files go
//! to `DIR/videos/<name>/`; the per-video `result.json` is written last and
//! atomically, so it marks a finished video. A restarted batch skips videos
//! whose result matches the input's content hash and the settings; the
//! tables (`summary.csv`, `reps.csv`, `index.html`) are rebuilt from the
//! result files, which is also how `hinge merge` combines shards.

pub mod inputs;
pub mod tables;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::analyze::{analyze_file, Analysis, AnalyzeError};
use crate::config::Config;
use crate::kinematics::metric::Metric;
use crate::kinematics::spine_model::{SpineModel, SpineReader};
use crate::pose::model::Runtime;
use crate::pose::{PoseConfig, PoseEstimator};
use crate::report::{write_all, write_atomic};
use crate::video::VideoError;
pub use inputs::{collect_jobs, parse_shard, shard, Job};

/// Errors that stop a batch (per-video failures do not: they become rows).
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// An input (directory, manifest) cannot be read.
    #[error("{}: {reason}", .path.display())]
    Input { path: PathBuf, reason: String },
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
            Status::NotFound | Status::Unreadable | Status::NotAVideo | Status::NoFrames | Status::Error => true,
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
}

/// How a batch went.
#[derive(Debug, Clone, Default)]
pub struct BatchOutcome {
    pub processed: usize,
    pub skipped: usize,
    pub failed: usize,
    pub results: Vec<VideoResult>,
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

/// SHA-256 of a file's content, streamed.
pub fn file_sha256(path: &Path) -> Option<String> {
    use std::io::Read;
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
}

/// Analyses one video into `out.dir` exactly as a batch worker does (every
/// file `hinge analyze` writes) and returns its record; `result.json` is left
/// to the caller. Never fails: failures are records with a status and a reason.
pub fn analyze_video(
    job: &Job,
    out: JobOutput,
    estimator: &mut PoseEstimator,
    spine: &dyn SpineReader,
    settings: JobSettings,
    progress: &mut dyn FnMut(JobStage, u64, Option<u64>),
) -> VideoResult {
    let sha = file_sha256(&job.path);
    let mut r = result_of(job, out.output_dir_rel, sha, settings.settings_sha256, settings.model);
    let config = settings.config;
    let analysed = analyze_file(&job.path, estimator, spine, config.rules(), &mut |done, total| {
        progress(JobStage::Analysing, done, total)
    });
    match analysed {
        Err(e) => {
            (r.status, r.reason) = classify(&e);
        }
        Ok(mut a) => {
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
            let toml = config.to_toml();
            let mut drawing = |done, total| progress(JobStage::Drawing, done, total);
            if let Err(e) = write_all(&a, config.report_settings(&toml), &job.path, out.dir, &mut drawing) {
                r.status = Status::Error;
                r.reason = e.to_string();
            }
        }
    }
    r
}

/// Analyses one job of a batch and writes its files; never fails (failures are rows).
fn process(
    job: &Job,
    estimator: &mut PoseEstimator,
    spine: &dyn SpineReader,
    opts: &BatchOptions,
    settings: &str,
) -> VideoResult {
    let (dir, rel) = job_dir(&opts.out_dir, job);
    let model = opts.pose.model.label();
    let job_settings = JobSettings { config: &opts.config, model: &model, settings_sha256: settings };
    let out = JobOutput { dir: &dir, output_dir_rel: &rel, shown_as: None };
    analyze_video(job, out, estimator, spine, job_settings, &mut |_, _, _| {})
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
        |path: &Path, e: std::io::Error| BatchError::Output { path: path.to_path_buf(), reason: e.to_string() };
    std::fs::create_dir_all(opts.out_dir.join("videos")).map_err(|e| out_err(&opts.out_dir, e))?;
    let settings = settings_hash(&opts.pose, &opts.config);
    let total = jobs.len();
    let mut outcome = BatchOutcome::default();
    // finished before, same content and settings: skip (a failure that may have passed is tried again)
    let mut todo = Vec::new();
    for job in jobs {
        let (dir, _) = job_dir(&opts.out_dir, &job);
        let previous = (!opts.force).then(|| read_result(&dir.join("result.json"))).flatten();
        match previous {
            Some(prev)
                if !prev.status.retried_on_resume()
                    && prev.settings_sha256 == settings
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
        let spine = &spine;
        let todo = Arc::new(todo);
        let next = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel::<VideoResult>();
        std::thread::scope(|scope| {
            for mut est in estimators {
                let (todo, next, tx, settings) = (Arc::clone(&todo), Arc::clone(&next), tx.clone(), settings.clone());
                scope.spawn(move || loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(job) = todo.get(i) else { break };
                    let r = process(job, &mut est, spine, opts, &settings);
                    let (dir, _) = job_dir(&opts.out_dir, job);
                    let json = serde_json::to_vec_pretty(&r).expect("result serialises");
                    let r = match std::fs::create_dir_all(&dir)
                        .map_err(|e| e.to_string())
                        .and_then(|_| write_atomic(&dir.join("result.json"), &json).map_err(|e| e.to_string()))
                    {
                        Ok(()) => r,
                        Err(e) => {
                            VideoResult { status: Status::Error, reason: format!("cannot write results: {e}"), ..r }
                        }
                    };
                    if tx.send(r).is_err() {
                        break;
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
