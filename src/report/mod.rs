//! Writing what the analysis produced: `frames.csv` and `summary.json`
//! (schema in `docs/output.md`), and for people `reps.csv`, `annotated.mp4`
//! and `report.html` (docs/report.md). Files are written atomically (temporary
//! file + rename) so a killed run never leaves a half-written result.

pub mod atomic;
pub mod html;
pub mod style;
pub mod text;
pub mod video;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::analysis::{Analysis, Baseline, RepSummary, ViewCheck};
use crate::kinematics::metric::Metric;
use crate::pose::landmarks::LANDMARK_NAMES;
pub use atomic::write_atomic;

/// Schema identifier of summary.json.
pub const SUMMARY_SCHEMA: &str = "hinge.summary/2";

/// Errors writing reports.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file or directory could not be written.
    #[error("{}: cannot write: {}", .path.display(), atomic::plain_io_reason(.source))]
    Write { path: PathBuf, source: std::io::Error },
    /// Serialisation failed.
    #[error("{}: cannot encode: {reason}", .path.display())]
    Encode { path: PathBuf, reason: String },
    /// The video could not be decoded again or the annotated video not encoded.
    #[error("{}: cannot draw the annotated video: {reason}", .path.display())]
    Render { path: PathBuf, reason: String },
}

impl ReportError {
    /// The cause alone, in plain words, without the path.
    pub fn cause(&self) -> String {
        match self {
            ReportError::Write { source, .. } => atomic::plain_io_reason(source),
            ReportError::Encode { reason, .. } | ReportError::Render { reason, .. } => reason.clone(),
        }
    }

    /// The lack of space behind a failed write, when that is the cause.
    pub fn no_space(&self) -> Option<atomic::NoSpace> {
        match self {
            ReportError::Write { source, .. } => atomic::NoSpace::of(source),
            _ => None,
        }
    }
}

/// Creates the output directory; a file in its place is an error saying so.
pub fn create_output_dir(dir: &Path) -> Result<(), ReportError> {
    atomic::create_dir(dir).map_err(|source| ReportError::Write { path: dir.to_path_buf(), source })
}

/// Timing block of the summary.
#[derive(Debug, Clone, Serialize)]
pub struct TimingSummary {
    pub frames_per_s: f64,
    pub stages_ms: BTreeMap<&'static str, f64>,
}

/// The summary.json document.
#[derive(Debug, Clone, Serialize)]
pub struct Summary<'a> {
    pub schema: &'static str,
    pub hinge_version: &'static str,
    pub model: &'a str,
    pub video: &'a str,
    pub frames: usize,
    pub frames_with_person: usize,
    pub fps: f64,
    pub duration_s: f64,
    pub width: u32,
    pub height: u32,
    pub rotation_deg: i32,
    /// The display matrix mirrors the picture (front cameras); applied like the rotation.
    pub mirrored: bool,
    pub facing: Option<&'static str>,
    /// Stretches with no decodable frame, `[start, end)` in seconds (a damaged file).
    pub missing_ranges_s: &'a [[f64; 2]],
    pub view: &'a ViewCheck,
    pub baseline: &'a Baseline,
    pub reps: &'a [RepSummary],
    pub faults: Vec<&'static str>,
    /// People the detector saw when it ran (about once a second).
    pub people: crate::analysis::PeopleSeen,
    pub timing: TimingSummary,
}

impl<'a> Summary<'a> {
    pub fn of(a: &'a Analysis) -> Self {
        let duration_s = match (a.frames.first(), a.frames.last()) {
            (Some(f), Some(l)) => l.time_s - f.time_s + 1.0 / a.info.fps,
            _ => 0.0,
        };
        Summary {
            schema: SUMMARY_SCHEMA,
            hinge_version: env!("CARGO_PKG_VERSION"),
            model: &a.model,
            video: &a.video,
            frames: a.frames.len(),
            frames_with_person: a.frames_with_person(),
            fps: a.info.fps,
            duration_s: (duration_s * 1000.0).round() / 1000.0,
            width: a.info.width,
            height: a.info.height,
            rotation_deg: a.info.rotation_deg,
            mirrored: a.info.mirrored,
            facing: a.facing.map(|f| f.name()),
            missing_ranges_s: &a.missing_ranges_s,
            view: &a.view,
            baseline: &a.baseline,
            reps: &a.reps,
            faults: a.clip_faults.iter().map(|f| f.name()).collect(),
            people: a.people,
            timing: TimingSummary {
                frames_per_s: (a.timing.frames_per_s() * 10.0).round() / 10.0,
                stages_ms: a.timing.stages_ms(),
            },
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("summary serialises")
    }
}

/// Column names of frames.csv, in order.
pub fn frames_csv_header() -> Vec<String> {
    let mut h: Vec<String> = ["frame", "time_s", "person"].iter().map(|s| s.to_string()).collect();
    for n in LANDMARK_NAMES {
        h.push(format!("{n}_x"));
        h.push(format!("{n}_y"));
        h.push(format!("{n}_vis"));
    }
    for m in Metric::ALL {
        h.push(m.name().to_string());
    }
    h.extend(["phase", "rep", "faults"].iter().map(|s| s.to_string()));
    h
}

fn cell(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.decimals$}"),
        _ => String::new(),
    }
}

/// frames.csv as bytes.
pub fn frames_csv(a: &Analysis) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::with_capacity(a.frames.len() * 1200));
    w.write_record(frames_csv_header()).expect("in-memory write");
    let mut row: Vec<String> = Vec::with_capacity(3 + 99 + 11);
    for f in &a.frames {
        row.clear();
        row.push(f.index.to_string());
        row.push(format!("{:.4}", f.time_s));
        row.push(if f.landmarks.is_some() { "1" } else { "0" }.to_string());
        match &f.landmarks {
            Some(lms) => {
                for l in lms {
                    row.push(cell(Some(l.x_px as f64), 2));
                    row.push(cell(Some(l.y_px as f64), 2));
                    row.push(cell(Some(l.visibility as f64), 3));
                }
            }
            None => row.extend(std::iter::repeat_n(String::new(), 3 * LANDMARK_NAMES.len())),
        }
        for m in Metric::ALL {
            row.push(cell(m.of(&f.metrics), m.decimals()));
        }
        row.push(f.phase.map(|p| p.name().to_string()).unwrap_or_default());
        row.push(f.rep.map(|r| r.to_string()).unwrap_or_default());
        row.push(f.faults.to_cell());
        w.write_record(&row).expect("in-memory write");
    }
    w.into_inner().expect("in-memory flush")
}

/// Writes frames.csv and summary.json into `dir`; returns the paths written.
pub fn write_outputs(a: &Analysis, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    create_output_dir(dir)?;
    let frames = dir.join("frames.csv");
    write_atomic(&frames, &frames_csv(a))?;
    let summary = dir.join("summary.json");
    let mut json = Summary::of(a).to_json();
    json.push('\n');
    write_atomic(&summary, json.as_bytes())?;
    Ok(vec![frames, summary])
}

/// Column names of reps.csv, in order (docs/report.md): the rep's times and
/// frames, then for every metric of the registry its median at depth and its
/// range over the rep, then the verdict.
pub fn reps_csv_header() -> Vec<String> {
    let mut h: Vec<String> = ["rep", "start_s", "bottom_s", "end_s", "start_frame", "bottom_frame", "end_frame"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for m in Metric::ALL {
        h.push(format!("{}_at_depth", m.name()));
        h.push(format!("{}_min", m.name()));
        h.push(format!("{}_max", m.name()));
    }
    h.extend(["verdict", "faults", "fault_frames", "cues"].iter().map(|s| s.to_string()));
    h
}

/// reps.csv as bytes: one row per rep, the figures of summary.json's `reps`.
/// `cues` are the style's cues of the rep's faults, `|`-separated.
pub fn reps_csv(a: &Analysis, style: &style::ReportStyle) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::with_capacity(256 * (a.reps.len() + 1)));
    w.write_record(reps_csv_header()).expect("in-memory write");
    for r in &a.reps {
        let faults: Vec<&str> = r.faults.iter().map(|f| f.name()).collect();
        let fault_frames: Vec<String> = r.fault_frames.iter().map(|(n, [a, b])| format!("{n}:{a}-{b}")).collect();
        let cues: Vec<&str> = faults.iter().map(|n| style.cue(n)).collect();
        let mut row = vec![
            r.index.to_string(),
            format!("{:.4}", r.start_s),
            format!("{:.4}", r.bottom_s),
            format!("{:.4}", r.end_s),
            r.start_frame.to_string(),
            r.bottom_frame.to_string(),
            r.end_frame.to_string(),
        ];
        for m in Metric::ALL {
            let range = r.range.get(m);
            row.push(cell(r.at_depth.get(m), m.decimals()));
            row.push(cell(range.map(|x| x[0]), m.decimals()));
            row.push(cell(range.map(|x| x[1]), m.decimals()));
        }
        row.extend([r.verdict.to_string(), faults.join(";"), fault_frames.join(";"), cues.join("|")]);
        w.write_record(&row).expect("in-memory write");
    }
    w.into_inner().expect("in-memory flush")
}

/// Which of the files for people to write (each can be turned off).
#[derive(Debug, Clone)]
pub struct ExtraOutputs {
    pub annotated_video: bool,
    pub html: bool,
    pub reps_csv: bool,
    pub style: style::ReportStyle,
}

impl Default for ExtraOutputs {
    fn default() -> Self {
        ExtraOutputs { annotated_video: true, html: true, reps_csv: true, style: style::ReportStyle::default() }
    }
}

/// What the report shows of the settings an analysis ran with.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    /// The fault thresholds (drawn on the plots).
    pub faults: &'a crate::faults::FaultConfig,
    /// The whole configuration as TOML (printed at the end of the report).
    pub toml: &'a str,
    /// Wording and colours.
    pub style: &'a style::ReportStyle,
}

/// Everything `hinge analyze --out DIR` writes by default: frames.csv,
/// summary.json, reps.csv, annotated.mp4 and report.html.
pub fn write_all(
    a: &Analysis,
    settings: Settings,
    video: &Path,
    dir: &Path,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = write_outputs(a, dir)?;
    let opts = ExtraOutputs { style: settings.style.clone(), ..ExtraOutputs::default() };
    written.extend(write_extras(a, settings, video, dir, &opts, progress)?);
    Ok(written)
}

/// Writes `dir/reps.csv` (the folder must exist); returns its path.
pub fn write_reps_csv(a: &Analysis, style: &style::ReportStyle, dir: &Path) -> Result<PathBuf, ReportError> {
    let p = dir.join("reps.csv");
    write_atomic(&p, &reps_csv(a, style))?;
    Ok(p)
}

/// Writes reps.csv, annotated.mp4 and report.html into `dir` as asked;
/// `video` is decoded again to draw on (one pass for the video and the key
/// frames). Returns the paths written.
pub fn write_extras(
    a: &Analysis,
    settings: Settings,
    video: &Path,
    dir: &Path,
    opts: &ExtraOutputs,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<Vec<PathBuf>, ReportError> {
    create_output_dir(dir)?;
    let mut written = Vec::new();
    if opts.reps_csv {
        written.push(write_reps_csv(a, &opts.style, dir)?);
    }
    if !opts.annotated_video && !opts.html {
        return Ok(written);
    }
    let keys: Vec<u64> = if opts.html { html::key_frames(a).iter().map(|k| k.frame).collect() } else { Vec::new() };
    let out_video = dir.join("annotated.mp4");
    let rendered =
        video::render(a, &opts.style, video, opts.annotated_video.then_some(out_video.as_path()), &keys, progress)?;
    tracing::debug!(
        frames = a.frames.len(),
        total_ms = rendered.total.as_secs_f64() * 1e3,
        draw_encode_ms = rendered.draw.as_secs_f64() * 1e3,
        "annotation pass"
    );
    if let Some(p) = rendered.video {
        written.push(p);
    }
    if opts.html {
        let started = std::time::Instant::now();
        let p = dir.join("report.html");
        write_atomic(&p, html::report_html(a, &settings, &opts.style, &rendered.key_frames).as_bytes())?;
        tracing::debug!(ms = started.elapsed().as_secs_f64() * 1e3, "report.html");
        written.push(p);
    }
    Ok(written)
}
