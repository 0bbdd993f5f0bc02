//! `hinge live`: real-time feedback from a camera, stream or paced file.
//!
//! Capture runs on its own thread and keeps only the newest frame
//! ([`capture`]); this loop takes it when free, runs the same pose and
//! interpretation code as `hinge analyze` (so verdicts match the file path),
//! and reports JSON-lines events and, where a display exists, a window.
//!
//! Interpretation runs on the calibration frames plus a trailing window of
//! recent frames, so cost and memory stay flat however long the session.

pub mod capture;
pub mod events;

use std::collections::{BTreeSet, VecDeque};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::analyze::{interpret, Analysis, Observed};
use crate::config::Config;
use crate::faults::Fault;
use crate::kinematics::spine_model::{CachedReader, SpineModel};
use crate::kinematics::BodyFrame;
use crate::pose::{PoseError, PoseEstimator};
use crate::video::{VideoError, VideoInfo, VideoSource};
use capture::CaptureEnd;
pub use events::{Event, LatencyHistogram, LatencyMs, RepEvent};

/// Errors that keep a live session from starting.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The camera, stream or file could not be opened.
    #[error(transparent)]
    Source(#[from] VideoError),
    /// Models could not be loaded or inference failed.
    #[error(transparent)]
    Pose(#[from] PoseError),
    /// The spine model failed.
    #[error(transparent)]
    Analyze(#[from] crate::analyze::AnalyzeError),
    /// The events file could not be written.
    #[error("{}: cannot write events: {reason}", .path.display())]
    Events { path: PathBuf, reason: String },
}

/// Settings of a live session.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// Pace a file source at its own frame rate (behave like a camera).
    pub realtime: bool,
    /// Seconds of standing at the start used for calibration.
    pub calibration_s: f64,
    /// Seconds of recent frames interpreted each time.
    pub window_s: f64,
    /// Keep every observation so the whole session can be saved at the end.
    pub keep_all: bool,
    /// Seconds a fault cue stays on screen after it appears.
    pub cue_hold_s: f64,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self { realtime: false, calibration_s: 1.0, window_s: 8.0, keep_all: false, cue_hold_s: 2.0 }
    }
}

/// What the session ended with.
#[derive(Debug)]
pub struct LiveOutcome {
    pub reps: Vec<RepEvent>,
    pub frames_processed: u64,
    pub frames_dropped: u64,
    pub latency_ms: LatencyMs,
    pub end: CaptureEnd,
    /// The whole session analysed as `hinge analyze` would (when `keep_all`).
    pub analysis: Option<Analysis>,
}

/// Receives what the session produces: events, and (optionally) frames to show.
pub trait LiveSink {
    /// One event (already timestamped).
    fn event(&mut self, e: &Event) -> std::io::Result<()>;
    /// The processed frame with the latest state; return false to stop.
    fn frame(&mut self, _frame: &opencv::core::Mat, _state: &LiveState) -> bool {
        true
    }
}

/// What the overlay shows.
#[derive(Debug, Clone, Default)]
pub struct LiveState {
    pub calibrated: bool,
    pub reps: usize,
    pub phase: Option<&'static str>,
    pub trunk_deg: Option<f64>,
    pub hip_angle_deg: Option<f64>,
    pub landmarks: Option<[crate::pose::landmarks::Landmark; 33]>,
    /// Faults holding now.
    pub faults: Vec<Fault>,
    /// The cue to show (`[report] live_cues`), held for `cue_hold_s`.
    pub cue: Option<(String, Instant)>,
    pub warnings: Vec<String>,
    pub fps: f64,
}

/// Runs a live session until the source ends, the sink asks to stop, or `stop` is set.
pub fn run(
    source: VideoSource,
    estimator: &mut PoseEstimator,
    spine: &SpineModel,
    config: &Config,
    options: &LiveOptions,
    sink: &mut dyn LiveSink,
    stop: Arc<AtomicBool>,
) -> Result<LiveOutcome, LiveError> {
    let info: VideoInfo = source.info().clone();
    let name = info.name();
    let model = estimator.files().label.clone();
    estimator.reset();
    let spine = CachedReader::new(spine);
    let (slot, capture_thread) = capture::start(source, options.realtime);
    let mut latency = LatencyHistogram::default();
    let mut latency_last_s = LatencyHistogram::default();
    let mut processed = 0u64;
    let mut calibration: Vec<Observed> = Vec::new();
    let mut recent: VecDeque<Observed> = VecDeque::new();
    let mut all: Vec<Observed> = Vec::new();
    let mut state = LiveState::default();
    let mut emitted_reps: Vec<RepEvent> = Vec::new();
    let mut warned: BTreeSet<String> = BTreeSet::new();
    let mut last_status = Instant::now();
    let mut fps_window: VecDeque<Instant> = VecDeque::new();
    let mut sink_error: Option<std::io::Error> = None;
    let emit = |sink: &mut dyn LiveSink, e: Event, err: &mut Option<std::io::Error>| {
        if err.is_none() {
            if let Err(x) = sink.event(&e) {
                *err = Some(x);
            }
        }
    };
    let end = loop {
        if stop.load(Ordering::SeqCst) {
            slot.stop();
            break CaptureEnd::Stopped;
        }
        let Some(cap) = slot.take(Duration::from_millis(200)) else {
            let (_, _, ended) = slot.stats();
            match ended {
                Some(e) => break e,
                None => continue,
            }
        };
        let frame = cap.frame;
        let result = estimator.process(&frame.image, frame.time_s)?;
        let body = result.pose.as_ref().map(BodyFrame::from_pose);
        let obs = Observed { index: frame.index, time_s: frame.time_s, body };
        let first_seen_s = calibration.iter().find(|o| o.body.is_some()).map(|o| o.time_s);
        let calibrating = match first_seen_s {
            None => obs.body.is_some() || calibration.is_empty(),
            Some(t0) => obs.time_s <= t0 + options.calibration_s,
        };
        if options.keep_all {
            all.push(obs.clone());
        }
        if calibrating && !state.calibrated {
            calibration.push(obs);
        } else {
            recent.push_back(obs);
            while recent.front().is_some_and(|o| frame.time_s - o.time_s > options.window_s) {
                recent.pop_front();
            }
        }
        // interpret calibration + the recent window, with the same code as the file path
        let window: Vec<Observed> = calibration.iter().chain(recent.iter()).cloned().collect();
        let analysis = interpret(&name, info.clone(), model.clone(), &window, &spine, config.rules())?;
        // forget the readings of frames that left the window (the calibration frames stay)
        let last_calibration = calibration.last().map(|o| o.index);
        let first_recent = recent.front().map(|o| o.index);
        spine.retain(|f| last_calibration.is_some_and(|c| f <= c) || first_recent.is_some_and(|r| f >= r));
        let now_s = frame.time_s;
        if !state.calibrated && !calibrating && analysis.baseline.frames > 0 {
            state.calibrated = true;
            emit(sink, Event::Calibrated { time_s: now_s, baseline: analysis.baseline.clone() }, &mut sink_error);
        }
        if state.calibrated {
            for w in &analysis.view.warnings {
                if warned.insert(w.clone()) {
                    emit(sink, Event::ViewWarning { time_s: now_s, warning: w.clone() }, &mut sink_error);
                }
            }
            state.warnings = warned.iter().cloned().collect();
        }
        // completed reps not reported yet (a rep closed by the window's end is not complete)
        let last_index = window.last().map_or(0, |o| o.index);
        let last_end_s = emitted_reps.last().map_or(f64::NEG_INFINITY, |r| r.end_s);
        for r in &analysis.reps {
            if r.end_frame < last_index && r.start_s > last_end_s {
                let ev = RepEvent::from_summary(emitted_reps.len() + 1, r);
                emit(sink, Event::RepCompleted { time_s: now_s, rep: ev.clone() }, &mut sink_error);
                emitted_reps.push(ev);
            }
        }
        // faults raised / cleared at the newest frame
        let newest = analysis.frames.last();
        let now_faults: Vec<Fault> = newest.map(|f| f.faults.iter().collect()).unwrap_or_default();
        for f in &now_faults {
            if !state.faults.contains(f) {
                emit(
                    sink,
                    Event::Fault {
                        time_s: now_s,
                        fault: f.name(),
                        state: "raised",
                        cue: config.report.live_cue(*f).to_string(),
                    },
                    &mut sink_error,
                );
                state.cue = Some((config.report.live_cue(*f).to_string(), Instant::now()));
            }
        }
        for f in &state.faults {
            if !now_faults.contains(f) {
                emit(
                    sink,
                    Event::Fault {
                        time_s: now_s,
                        fault: f.name(),
                        state: "cleared",
                        cue: config.report.live_cue(*f).to_string(),
                    },
                    &mut sink_error,
                );
            }
        }
        if state.cue.as_ref().is_some_and(|(_, t)| t.elapsed().as_secs_f64() > options.cue_hold_s) {
            state.cue = None;
        }
        state.faults = now_faults;
        state.reps = emitted_reps.len();
        state.phase = newest.and_then(|f| f.phase.map(|p| p.name()));
        state.trunk_deg = newest.and_then(|f| f.metrics.trunk_deg);
        state.hip_angle_deg = newest.and_then(|f| f.metrics.hip_angle_deg);
        state.landmarks = newest.and_then(|f| f.landmarks);
        processed += 1;
        let now = Instant::now();
        fps_window.push_back(now);
        while fps_window.front().is_some_and(|t| now.duration_since(*t) > Duration::from_secs(1)) {
            fps_window.pop_front();
        }
        state.fps = fps_window.len() as f64;
        let keep_going = sink.frame(&frame.image, &state);
        let lat = cap.captured_at.elapsed();
        latency.add(lat);
        latency_last_s.add(lat);
        if last_status.elapsed() >= Duration::from_secs(1) {
            last_status = Instant::now();
            let (_, dropped, _) = slot.stats();
            emit(
                sink,
                Event::Status {
                    time_s: now_s,
                    fps: state.fps,
                    frames_processed: processed,
                    frames_dropped: dropped,
                    latency_ms: latency.summary(),
                    latency_ms_last_s: latency_last_s.summary(),
                },
                &mut sink_error,
            );
            latency_last_s.clear();
        }
        if !keep_going || sink_error.is_some() {
            slot.stop();
            break CaptureEnd::Stopped;
        }
    };
    slot.stop();
    if let Some(t) = capture_thread {
        let _ = t.join();
    }
    let (_, dropped, _) = slot.stats();
    let analysis = match options.keep_all {
        true => Some(interpret(&name, info.clone(), model.clone(), &all, &spine, config.rules())?),
        false => None,
    };
    let outcome = LiveOutcome {
        reps: emitted_reps,
        frames_processed: processed,
        frames_dropped: dropped,
        latency_ms: latency.summary(),
        end: end.clone(),
        analysis,
    };
    emit(
        sink,
        Event::Summary {
            reps: outcome.reps.clone(),
            frames_processed: processed,
            frames_dropped: dropped,
            latency_ms: outcome.latency_ms,
            ended: match &end {
                CaptureEnd::EndOfStream => "end_of_stream".to_string(),
                CaptureEnd::Stopped => "stopped".to_string(),
                CaptureEnd::Lost(why) => format!("source_lost: {why}"),
            },
        },
        &mut sink_error,
    );
    if let Some(e) = sink_error {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(LiveError::Events { path: PathBuf::from("events"), reason: e.to_string() });
        }
    }
    Ok(outcome)
}

/// A sink writing JSON lines (stdout or a file).
pub struct JsonLinesSink<W: Write> {
    out: W,
}

impl<W: Write> JsonLinesSink<W> {
    pub fn new(out: W) -> Self {
        Self { out }
    }
}

impl<W: Write> LiveSink for JsonLinesSink<W> {
    fn event(&mut self, e: &Event) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, e)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

/// True when a window can be opened: an X11 display is named (the window is
/// an X11 window; a Wayland desktop serves it through XWayland).
pub fn display_available() -> bool {
    std::env::var_os("DISPLAY").is_some_and(|v| !v.is_empty())
}
