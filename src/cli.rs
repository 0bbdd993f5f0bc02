use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use hinge::analyze::{analyze_file, Analysis, AnalyzeError};
use hinge::config::Config;
use hinge::kinematics::spine_model::SpineModel;
use hinge::pose::model::{ModelChoice, Runtime, SessionOptions};
use hinge::pose::{PoseConfig, PoseEstimator};
use hinge::report::{write_outputs, Summary};

/// A diagnostic line on stderr. A stderr that cannot be written (a closed
/// pipe, a full disk) must not stop the command or lose its results, so a
/// failed write is ignored (`eprintln!` would panic).
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

const EXAMPLES: &str = "\
Examples:
  hinge analyze samples/dev/dev_01_good_side_facing_left.mp4 --out out/dev_01
  hinge analyze lift.mp4 --out out/lift --model lite --json > summary.json
  hinge analyze lift.mp4 --out out/lift --config clinic.toml
  hinge live --camera 0
  hinge live --source lift.mp4 --realtime --no-window --events events.jsonl
  hinge batch clinic/ manifest.csv --out out/clinic --jobs 2
  hinge merge out/shard-0 out/shard-1 --out out/all
  hinge eval samples/dev samples/dev_sessions
  hinge bench samples/dev/dev_01_good_side_facing_left.mp4 --model full
  hinge serve --data clinic-data            (then open http://127.0.0.1:8080/)
  hinge batch clinic/ manifest.csv --out out/clinic --into clinic-data

Exit codes: 0 success, 1 the input could not be analysed, 2 bad usage or configuration,
3 (batch) finished but some videos failed.";

/// hinge — computer-vision form checker for the hip hinge.
#[derive(Parser, Debug)]
#[command(name = "hinge", version, about, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    global: GlobalArgs,
}

#[derive(Args, Debug, Clone)]
struct GlobalArgs {
    /// ONNX Runtime shared library (default: found next to the binary or in vendor/)
    #[arg(long, global = true, env = "ORT_DYLIB_PATH", value_name = "FILE")]
    ort_lib: Option<PathBuf>,
    /// Directory with the bundled models (default: found next to the binary or in models/)
    #[arg(long, global = true, env = "HINGE_MODELS_DIR", value_name = "DIR")]
    models_dir: Option<PathBuf>,
    /// Landmark model: lite, full, heavy, or a path to an .onnx file
    #[arg(long, global = true, default_value = "full", value_name = "MODEL")]
    model: String,
    /// ONNX Runtime intra-op threads per model (default: one per core, at most 4; `batch` always uses 1 per worker)
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
    /// Thresholds file (TOML); see docs/config.md
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Compute the person mask (the back's outline) at most every SECONDS of video and
    /// interpolate the outline in between; 0: on every frame
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = hinge::analyze::SEGMENTATION_INTERVAL_S)]
    mask_interval: f64,
    /// No progress bar or informational messages
    #[arg(long, short, global = true)]
    quiet: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Analyse a recorded lift: per-frame metrics, reps and faults
    Analyze(AnalyzeArgs),
    /// Measure speed: frames/s, time per stage and peak memory
    Bench(BenchArgs),
    /// Score the analysis against a rendered footage set with ground truth
    Eval(EvalArgs),
    /// Analyse many videos in parallel, resumably, into one summary table
    Batch(BatchArgs),
    /// Combine the outputs of sharded batch runs into one summary
    Merge(MergeArgs),
    /// Real-time feedback from a webcam, a stream or a paced video file
    Live(LiveArgs),
    /// The clinic's desk: a local web application to upload videos, follow the queue and each patient (docs/serve.md)
    Serve(ServeArgs),
    /// Add batch results (their per-video folders) to a `hinge serve` database
    Import(ImportArgs),
    /// Runs one analysis for `hinge serve` (started by the server, not by people)
    #[command(hide = true)]
    ServeWorker(ServeWorkerArgs),
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Data directory: the database (hinge.sqlite), the videos and the analyses' files
    #[arg(long, default_value = "hinge-data", value_name = "DIR")]
    data: PathBuf,
    /// Address and port to listen on; any address but loopback (127.0.0.1, ::1) needs --token
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    listen: String,
    /// Access token every request must carry (Authorization: Bearer, or ?token= once in the browser)
    #[arg(long, env = "HINGE_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    token: Option<String>,
    /// Analyses run at once (default: one per core)
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// Largest video accepted (e.g. 4GB, 500MB)
    #[arg(long, default_value = "4GB", value_name = "SIZE")]
    max_upload: String,
    /// An analysis running longer than this many minutes is stopped and fails
    #[arg(long, default_value_t = 60.0, value_name = "MINUTES")]
    time_limit: f64,
}

#[derive(Args, Debug)]
struct ImportArgs {
    /// Batch output directories (`hinge batch --out`, `hinge merge --out`)
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// The `hinge serve` data directory to add them to
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
}

#[derive(Args, Debug)]
struct ServeWorkerArgs {
    /// The stored video
    #[arg(long)]
    video: PathBuf,
    /// Scratch folder for the outputs and result.json
    #[arg(long)]
    out: PathBuf,
    /// The video's name in the outputs (the name it was uploaded under)
    #[arg(long)]
    shown_as: Option<String>,
}

#[derive(Args, Debug)]
struct LiveArgs {
    /// Camera index (V4L2 /dev/videoN)
    #[arg(long, conflicts_with = "source")]
    camera: Option<i32>,
    /// A camera device path, a video file, or any stream URL FFmpeg opens (rtsp://, http://)
    #[arg(long)]
    source: Option<String>,
    /// Pace a file source at its own frame rate, as a camera would deliver it
    #[arg(long)]
    realtime: bool,
    /// No window: JSON-lines events only (automatic when there is no display)
    #[arg(long)]
    no_window: bool,
    /// Write the events to this file instead of stdout
    #[arg(long, value_name = "FILE")]
    events: Option<PathBuf>,
    /// Keep the whole session and write its data files (frames.csv, summary.json, reps.csv) into DIR at the end
    #[arg(long, value_name = "DIR")]
    save: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct BatchArgs {
    /// Video files, directories (searched recursively) or manifest CSVs (`path` column plus any of patient, session_date, side, notes ...)
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output directory (per-video folders, summary.csv, reps.csv, index.html)
    #[arg(long, short)]
    out: PathBuf,
    /// Parallel workers (default: the number of cores); each runs its own models with 1 thread
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Redo videos that are already finished
    #[arg(long)]
    force: bool,
    /// Process one deterministic slice: I/N (0-based), or N to take I from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Longest one video may take, analysis and outputs; past it the video's row says
    /// `timed_out` and the batch goes on (an endless stream, a stalled read). 0: no limit
    #[arg(long, value_name = "SECONDS", default_value_t = hinge::batch::DEFAULT_VIDEO_TIMEOUT_S)]
    video_timeout: f64,
    /// Also add the results to this `hinge serve` data directory (patient pages); the manifest's
    /// `patient`, `session_date` and `notes` columns say whose sessions they are
    #[arg(long, value_name = "DIR")]
    into: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct MergeArgs {
    /// Batch output directories (e.g. one per shard)
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Where the combined summary goes (may be one of the inputs)
    #[arg(long, short)]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct EvalArgs {
    /// Footage directory (manifest.json, or *.mp4 with .csv truth and .meta.json)
    dirs: Vec<PathBuf>,
    /// Write each clip's frames.csv, summary.json and features.csv under DIR/<clip>/
    #[arg(long, short, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Parallel workers (one pose estimator each)
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Print the scores as JSON instead of the table
    #[arg(long)]
    json: bool,
    /// Use the spine readings in DIR/<clip>.spine_readings.csv instead of the spine model
    /// (cross-validated readings of bodies the model never saw, tools/spine/)
    #[arg(long, value_name = "DIR")]
    spine_readings: Option<PathBuf>,
    /// Only write each clip's spine-model inputs (NumPy files) under DIR, for training (tools/spine/); no scores
    #[arg(long, value_name = "DIR")]
    dump_spine: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct AnalyzeArgs {
    /// Video file (mp4, mov, avi, mkv ...)
    video: PathBuf,
    /// Output directory for frames.csv and summary.json
    #[arg(long, short, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print summary.json to stdout
    #[arg(long)]
    json: bool,
    /// Turn off temporal smoothing of landmarks
    #[arg(long)]
    no_smoothing: bool,
    /// Do not write DIR/annotated.mp4 (the video with the skeleton, angles and faults drawn on it)
    #[arg(long)]
    no_video: bool,
    /// Do not write DIR/report.html
    #[arg(long)]
    no_html: bool,
    /// Do not write DIR/reps.csv
    #[arg(long)]
    no_reps_csv: bool,
}

#[derive(Args, Debug)]
struct BenchArgs {
    /// Video files to time
    #[arg(required = true)]
    videos: Vec<PathBuf>,
    /// Runs per video (the best is reported)
    #[arg(long, default_value_t = 1)]
    repeat: usize,
}

/// Settings validated from the raw flags.
struct Settings {
    pose: PoseConfig,
    config: Config,
    ort_lib: Option<PathBuf>,
    quiet: bool,
}

/// A failure with its exit code.
struct Failure {
    code: i32,
    error: anyhow::Error,
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Failure { code: 1, error }
    }
}

fn usage(error: anyhow::Error) -> Failure {
    Failure { code: 2, error }
}

fn settings(g: &GlobalArgs) -> Result<Settings, Failure> {
    let config = match &g.config {
        Some(p) => Config::load(p).map_err(|e| usage(e.into()))?,
        None => Config::default(),
    };
    let threads = g.threads.unwrap_or_else(default_threads);
    if threads == 0 || threads > 64 {
        return Err(usage(anyhow::anyhow!("--threads must be between 1 and 64")));
    }
    if !(g.mask_interval.is_finite() && (0.0..=1.0).contains(&g.mask_interval)) {
        return Err(usage(anyhow::anyhow!("--mask-interval must be between 0 and 1 second")));
    }
    let model = ModelChoice::parse(&g.model);
    if let ModelChoice::Path(p) = &model {
        if p.extension().and_then(|e| e.to_str()) != Some("onnx") {
            return Err(usage(anyhow::anyhow!(
                "--model must be lite, full, heavy or a path to an .onnx file (got `{}`)",
                g.model
            )));
        }
    }
    let pose = PoseConfig {
        model,
        models_dir: g.models_dir.clone(),
        session: SessionOptions { intra_op_threads: threads, allow_spinning: false },
        // the back's outline (lumbar, pelvis, rib measures) comes from the mask,
        // computed at a cadence; the outline is interpolated in between
        keep_segmentation: true,
        segmentation_interval_s: (g.mask_interval > 0.0).then_some(g.mask_interval),
        ..PoseConfig::default()
    };
    Ok(Settings { pose, config, ort_lib: g.ort_lib.clone(), quiet: g.quiet })
}

/// Intra-op threads when none are asked for: one per core, at most 4 (measured on
/// 2 cores: the full landmark model takes ~16.7 ms with 1 thread, ~11.4 ms with 2).
fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4)
}

fn estimator(s: &Settings) -> Result<PoseEstimator, Failure> {
    let runtime = Runtime::init(s.ort_lib.as_deref()).map_err(|e| Failure { code: 1, error: e.into() })?;
    PoseEstimator::new(&runtime, s.pose.clone()).map_err(|e| Failure { code: 1, error: e.into() })
}

fn spine_model(s: &Settings) -> Result<SpineModel, Failure> {
    let runtime = Runtime::init(s.ort_lib.as_deref()).map_err(|e| Failure { code: 1, error: e.into() })?;
    SpineModel::load_bundled(&runtime, s.pose.models_dir.as_deref()).map_err(|e| Failure { code: 1, error: e.into() })
}

pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        // a mistake on one line; `hinge` alone (no command) shows the help, as clap does
        Err(e) if e.use_stderr() && e.kind() != clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            note!("hinge: error: {}", usage_line(&e.render().to_string()));
            return 2;
        }
        Err(e) if e.use_stderr() => {
            let _ = e.print();
            return 2;
        }
        // --help, --version: a stdout that cannot be written is a failure, a closed pipe is not
        Err(e) => {
            return match e.print() {
                Err(w) if w.kind() != std::io::ErrorKind::BrokenPipe => 1,
                _ => 0,
            };
        }
    };
    let filter = if cli.global.quiet { "error" } else { "warn" };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("HINGE_LOG").unwrap_or_else(|_| filter.into()))
        .with_writer(std::io::stderr)
        .try_init();
    let result = match &cli.command {
        Command::Analyze(a) => cmd_analyze(&cli.global, a),
        Command::Bench(b) => cmd_bench(&cli.global, b),
        Command::Eval(e) => cmd_eval(&cli.global, e),
        Command::Batch(b) => batch_cli::cmd_batch(&cli.global.batch_settings(), b.into()),
        Command::Serve(a) => serve_cli::cmd_serve(&cli.global, a),
        Command::Import(a) => serve_cli::cmd_import(&a.dirs, &a.data),
        Command::ServeWorker(a) => serve_cli::cmd_serve_worker(&cli.global, a),
        Command::Merge(m) => batch_cli::cmd_merge(&m.dirs, &m.out),
        Command::Live(l) => live_cli::cmd_live(&cli.global, l),
    };
    match result {
        Ok(()) => 0,
        Err(f) => {
            if is_broken_pipe(&f.error) {
                return 0;
            }
            note!("hinge: error: {}", error_line(&f.error));
            f.code
        }
    }
}

/// clap's usage error on one line: its message and tips, then the usage,
/// without the blank lines and the pointer to --help that it spreads them over.
fn usage_line(rendered: &str) -> String {
    let mut parts = Vec::new();
    let mut usage = None;
    for line in rendered.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(u) = line.strip_prefix("Usage:") {
            usage = Some(u.trim().to_string());
        } else if !line.starts_with("For more information") {
            parts.push(line.strip_prefix("error:").unwrap_or(line).trim().to_string());
        }
    }
    let mut out = parts.join("; ").replace(":; ", ": ");
    if let Some(u) = usage {
        out.push_str(&format!(" (usage: {u}; --help for more)"));
    }
    out
}

/// The error and its causes on one line, each cause once (library errors
/// already name their cause in their own message).
fn error_line(e: &anyhow::Error) -> String {
    let mut line = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !line.contains(&c) {
            line.push_str(": ");
            line.push_str(&c);
        }
    }
    line
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

fn progress_bar(quiet: bool, label: &str) -> indicatif::ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} frames {per_sec} eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(label.to_string());
    bar
}

fn run_analysis(video: &Path, est: &mut PoseEstimator, spine: &SpineModel, s: &Settings) -> Result<Analysis, Failure> {
    let bar = progress_bar(s.quiet, &video.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default());
    let mut progress = |done: u64, total: Option<u64>| {
        if let Some(t) = total {
            bar.set_length(t.max(done));
        }
        bar.set_position(done);
    };
    let result = analyze_file(video, est, spine, s.config.rules(), &mut progress);
    bar.finish_and_clear();
    result.map_err(|e: AnalyzeError| Failure { code: 1, error: e.into() })
}

fn cmd_analyze(g: &GlobalArgs, a: &AnalyzeArgs) -> Result<(), Failure> {
    let mut s = settings(g)?;
    if a.no_smoothing {
        s.pose.smoothing = false;
    }
    if a.out.is_none() && !a.json {
        return Err(usage(anyhow::anyhow!("nothing to write: give --out DIR and/or --json")));
    }
    if let Some(dir) = &a.out {
        // made before the analysis: a folder that cannot be written is reported before the work, not after
        hinge::report::create_output_dir(dir).context("writing results")?;
    }
    let mut est = estimator(&s)?;
    let spine = spine_model(&s)?;
    let analysis = run_analysis(&a.video, &mut est, &spine, &s)?;
    // the models' memory (weights, ONNX Runtime's buffers) goes back before the drawing pass
    drop((est, spine));
    hinge::memory::release_free_memory();
    if let Some(announced) = analysis.info.frame_count_hint {
        let decoded = analysis.frames.len() as u64;
        if (decoded as f64) < 0.98 * announced as f64 - 1.0 {
            note!(
                "hinge: warning: {}: only {decoded} of {announced} announced frames could be decoded; the file may be truncated",
                a.video.display()
            );
        }
    }
    let files = a.out.as_deref().map(|dir| -> Result<Vec<PathBuf>, Failure> {
        let mut written = write_outputs(&analysis, dir).context("writing results")?;
        written.extend(write_report_extras(a, &s, &analysis, dir)?);
        Ok(written)
    });
    // the summary reaches stdout even when a file could not be written (that error follows)
    if a.json {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", Summary::of(&analysis).to_json()).context("writing to stdout")?;
        out.flush().context("writing to stdout")?;
    }
    if let Some(written) = files {
        let written = written?;
        if !s.quiet {
            let reps = analysis.reps.len();
            note!(
                "{}: {} frames ({} with a person), {} rep(s), {:.1} frames/s",
                a.video.display(),
                analysis.frames.len(),
                analysis.frames_with_person(),
                reps,
                analysis.timing.frames_per_s()
            );
            for w in &analysis.view.warnings {
                note!("  view: {w}");
            }
            for p in written {
                note!("  wrote {}", p.display());
            }
        }
    }
    Ok(())
}

/// reps.csv, annotated.mp4 and report.html (each unless turned off); the
/// `[report]` table of the --config file sets their colours and wording.
fn write_report_extras(
    a: &AnalyzeArgs,
    s: &Settings,
    analysis: &Analysis,
    dir: &Path,
) -> Result<Vec<PathBuf>, Failure> {
    // a named pipe can be read only once: no second pass to draw on
    let stream = hinge::video::is_stream_file(&a.video);
    if stream && !(a.no_video && a.no_html) && !s.quiet {
        note!(
            "hinge: warning: {}: a stream (named pipe) can be read only once: annotated.mp4 and report.html are not drawn",
            a.video.display()
        );
    }
    let opts = hinge::report::ExtraOutputs {
        annotated_video: !a.no_video && !stream,
        html: !a.no_html && !stream,
        reps_csv: !a.no_reps_csv,
        style: s.config.report.clone(),
    };
    let bar = progress_bar(s.quiet || a.no_video, "drawing annotated.mp4");
    let mut progress = |done: u64, total: Option<u64>| {
        if let Some(t) = total {
            bar.set_length(t.max(done));
        }
        bar.set_position(done);
    };
    let toml = s.config.to_toml();
    let written =
        hinge::report::write_extras(analysis, s.config.report_settings(&toml), &a.video, dir, &opts, &mut progress)
            .context("writing the report");
    bar.finish_and_clear();
    Ok(written?)
}

/// Peak resident memory of this process (Linux `VmHWM`), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn cmd_bench(g: &GlobalArgs, b: &BenchArgs) -> Result<(), Failure> {
    let s = settings(g)?;
    let t_load = Instant::now();
    let mut est = estimator(&s)?;
    let spine = spine_model(&s)?;
    let load_ms = t_load.elapsed().as_secs_f64() * 1e3;
    let threads = s.pose.session.intra_op_threads;
    let quiet = Settings { quiet: true, ..s };
    let mut out = std::io::stdout().lock();
    let w = |out: &mut std::io::StdoutLock, line: String| writeln!(out, "{line}").context("writing to stdout");
    w(
        &mut out,
        format!(
            "hinge {} bench — model {}, {} intra-op thread(s), mask {}, models loaded in {load_ms:.0} ms",
            env!("CARGO_PKG_VERSION"),
            est.files().label,
            threads,
            match quiet.pose.segmentation_interval_s {
                Some(every) => format!("every {every} s"),
                None => "every frame".to_string(),
            }
        ),
    )?;
    w(
        &mut out,
        format!(
            "{:<40} {:>6} {:>8} {:>8} {:>6} | {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6}  (ms/frame)",
            "video",
            "frames",
            "e2e fps",
            "inf fps",
            "e2e/inf",
            "decode",
            "prep",
            "detect",
            "lmark",
            "post",
            "smooth",
            "kin",
            "data",
            "render"
        ),
    )?;
    let scratch = tempfile_dir().context("creating a scratch directory")?;
    let toml = quiet.config.to_toml();
    for video in &b.videos {
        // end to end: the analysis plus writing its default outputs, timed as the
        // data files (frames.csv, summary.json, reps.csv) and the rendering pass
        // (annotated.mp4 and report.html)
        let mut best: Option<(Analysis, Duration, Duration, Duration)> = None;
        for _ in 0..b.repeat.max(1) {
            let t0 = Instant::now();
            let a = run_analysis(video, &mut est, &spine, &quiet)?;
            let t1 = Instant::now();
            let style = quiet.config.report.clone();
            hinge::report::write_outputs(&a, &scratch).context("writing outputs")?;
            let data_only = hinge::report::ExtraOutputs {
                annotated_video: false,
                html: false,
                reps_csv: true,
                style: style.clone(),
            };
            hinge::report::write_extras(
                &a,
                quiet.config.report_settings(&toml),
                video,
                &scratch,
                &data_only,
                &mut |_, _| {},
            )
            .context("writing outputs")?;
            let t2 = Instant::now();
            let rendered = hinge::report::ExtraOutputs { reps_csv: false, style, ..Default::default() };
            hinge::report::write_extras(
                &a,
                quiet.config.report_settings(&toml),
                video,
                &scratch,
                &rendered,
                &mut |_, _| {},
            )
            .context("writing outputs")?;
            let (total, data, render) = (t0.elapsed(), t2 - t1, t2.elapsed());
            if best.as_ref().is_none_or(|x| total < x.1) {
                best = Some((a, total, data, render));
            }
        }
        let (a, total, data, render) = best.expect("at least one run");
        // inference alone: the same models on the same inputs, nothing around them
        let mut inf: Option<hinge::bench::InferenceTiming> = None;
        for _ in 0..b.repeat.max(1) {
            let t = hinge::bench::inference_alone(video, &mut est).map_err(|e| Failure { code: 1, error: e.into() })?;
            if inf.is_none_or(|x| t.inference < x.inference) {
                inf = Some(t);
            }
        }
        let inf = inf.expect("at least one run");
        let n = a.timing.frames.max(1) as f64;
        let per = |d: Duration| d.as_secs_f64() * 1e3 / n;
        let t = &a.timing;
        let name = video.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        w(
            &mut out,
            format!(
                "{:<40} {:>6} {:>8.1} {:>8.1} {:>6.2} | {:>6.2} {:>6.2} {:>6.2} {:>6.2} {:>6.2} {:>6.2} {:>6.2} {:>6.2} {:>6.2}",
                name,
                t.frames,
                n / total.as_secs_f64(),
                inf.frames_per_s(),
                total.as_secs_f64() / inf.inference.as_secs_f64().max(1e-9),
                per(t.decode),
                per(t.pose.preprocess),
                per(t.pose.detector),
                per(t.pose.landmark_model),
                per(t.pose.postprocess),
                per(t.pose.smoothing),
                per(t.kinematics),
                per(data),
                per(render)
            ),
        )?;
    }
    let _ = std::fs::remove_dir_all(&scratch);
    w(&mut out, format!("peak RSS: {:.0} MiB", peak_rss_mib().unwrap_or(f64::NAN)))?;
    Ok(())
}

/// A fresh scratch directory for benchmark outputs.
fn tempfile_dir() -> std::io::Result<PathBuf> {
    let d = std::env::temp_dir().join(format!("hinge-bench-{}", std::process::id()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}

fn cmd_eval(g: &GlobalArgs, e: &EvalArgs) -> Result<(), Failure> {
    if e.dirs.is_empty() {
        return Err(usage(anyhow::anyhow!("give at least one footage directory")));
    }
    let s = settings(g)?;
    let mut clips = Vec::new();
    for d in &e.dirs {
        clips.extend(hinge::eval::discover(d).map_err(|err| usage(err.into()))?);
    }
    hinge::eval::check_unique_names(&clips).map_err(|err| usage(err.into()))?;
    if !(1..=16).contains(&e.jobs) {
        return Err(usage(anyhow::anyhow!("--jobs must be between 1 and 16 (one pose estimator each)")));
    }
    let jobs = e.jobs.min(clips.len());
    let estimators = (0..jobs).map(|_| estimator(&s)).collect::<Result<Vec<_>, _>>()?;
    if let Some(d) = &e.dump_spine {
        hinge::report::create_output_dir(d).context("writing the spine model's inputs")?;
        hinge::eval::dump_spine_set(&clips, estimators, d).context("writing the spine model's inputs")?;
        return Ok(());
    }
    let spine = spine_model(&s)?;
    let outputs = hinge::eval::EvalOutputs { out_dir: e.out.as_deref(), readings_dir: e.spine_readings.as_deref() };
    let report = hinge::eval::evaluate(&clips, estimators, &spine, &s.config, outputs).context("evaluating")?;
    let mut out = std::io::stdout().lock();
    if e.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report).context("encoding")?).context("writing to stdout")?;
    } else {
        write!(out, "{}", report.table()).context("writing to stdout")?;
    }
    Ok(())
}

impl GlobalArgs {
    fn batch_settings(&self) -> Result<(PoseConfig, Config, Option<PathBuf>, bool), Failure> {
        let mut s = settings(self)?;
        // parallelism comes from the workers: one intra-op thread each unless asked otherwise
        s.pose.session.intra_op_threads = self.threads.unwrap_or(1);
        Ok((s.pose, s.config, s.ort_lib, s.quiet))
    }
}

impl From<&BatchArgs> for batch_cli::BatchRequest {
    fn from(b: &BatchArgs) -> Self {
        batch_cli::BatchRequest {
            inputs: b.inputs.clone(),
            out: b.out.clone(),
            jobs: b.jobs,
            force: b.force,
            shard: b.shard.clone(),
            video_timeout_s: b.video_timeout,
            into: b.into.clone(),
        }
    }
}

/// `hinge batch` and `hinge merge`.
mod batch_cli {
    use super::{usage, Failure};
    use anyhow::anyhow;
    use hinge::batch::{self, BatchOptions, Status};
    use hinge::config::Config;
    use hinge::pose::PoseConfig;
    use std::io::IsTerminal;
    use std::path::PathBuf;
    use std::time::{Duration, Instant};

    /// Exit code when the batch finished but some videos failed.
    pub const EXIT_SOME_FAILED: i32 = 3;

    pub struct BatchRequest {
        pub inputs: Vec<PathBuf>,
        pub out: PathBuf,
        pub jobs: Option<usize>,
        pub force: bool,
        pub shard: Option<String>,
        pub video_timeout_s: f64,
        pub into: Option<PathBuf>,
    }

    pub fn cmd_batch(
        settings: &Result<(PoseConfig, Config, Option<PathBuf>, bool), Failure>,
        req: BatchRequest,
    ) -> Result<(), Failure> {
        let (pose, config, ort_lib, quiet) = match settings {
            Ok(s) => s.clone(),
            Err(f) => return Err(Failure { code: f.code, error: anyhow!("{:#}", f.error) }),
        };
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let jobs = req.jobs.unwrap_or(cores);
        if jobs == 0 || jobs > 256 {
            return Err(usage(anyhow!("--jobs must be between 1 and 256")));
        }
        if !req.video_timeout_s.is_finite() || req.video_timeout_s < 0.0 {
            return Err(usage(anyhow!(
                "--video-timeout {}: give a number of seconds (0: no limit)",
                req.video_timeout_s
            )));
        }
        let video_timeout = (req.video_timeout_s > 0.0).then(|| Duration::from_secs_f64(req.video_timeout_s));
        let shard = match &req.shard {
            Some(spec) => Some(batch::parse_shard(spec, |k| std::env::var(k).ok()).map_err(|e| usage(anyhow!(e)))?),
            None => None,
        };
        let mut list = batch::collect_jobs(&req.inputs).map_err(|e| Failure { code: 2, error: e.into() })?;
        if list.is_empty() {
            return Err(usage(anyhow!("no videos found in the inputs")));
        }
        if let Some((i, n)) = shard {
            // a shard may be empty when there are fewer videos than shards: that is fine
            list = batch::shard(list, i, n);
        }
        let opts = BatchOptions {
            out_dir: req.out.clone(),
            jobs,
            force: req.force,
            pose,
            config,
            ort_lib,
            shard,
            video_timeout,
        };
        let total = list.len();
        let tty = !quiet && std::io::stderr().is_terminal();
        let bar = if tty {
            let b = indicatif::ProgressBar::new(total as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "batch [{bar:30}] {pos}/{len} videos {per_sec} eta {eta} {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            b
        } else {
            indicatif::ProgressBar::hidden()
        };
        let started = Instant::now();
        let mut last_line = Instant::now();
        let mut progress = |done: usize, total: usize, r: &batch::VideoResult, skipped: bool| {
            bar.set_position(done as u64);
            bar.set_message(r.path.rsplit('/').next().unwrap_or("").to_string());
            if !tty && !quiet && (last_line.elapsed().as_secs_f64() >= 10.0 || done == total || r.status != Status::Ok)
            {
                last_line = Instant::now();
                let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-9);
                let tag = if skipped { "done before" } else { r.status.name() };
                note!("batch: {done}/{total} videos ({rate:.2}/s): {} {tag} {}", r.path, r.reason);
            }
        };
        let outcome = batch::run_batch(list, &opts, &mut progress).map_err(|e| Failure { code: 1, error: e.into() })?;
        bar.finish_and_clear();
        if !quiet {
            note!(
                "batch: {} videos: {} analysed now, {} done before, {} failed, {:.1} s with {} worker(s); tables in {}",
                total,
                outcome.processed,
                outcome.skipped,
                outcome.failed,
                started.elapsed().as_secs_f64(),
                jobs,
                req.out.display()
            );
        }
        if let Some(full) = outcome.out_of_space {
            // not a verdict on the videos: a pipeline should retry once there is room
            return Err(Failure {
                code: 1,
                error: anyhow!(
                    "{}: {}: {} video(s) not written; free space and run the same command again (the finished videos are kept and not redone)",
                    req.out.display(),
                    full.kind.plain(),
                    full.videos
                ),
            });
        }
        if let Some(data) = &req.into {
            let found: Vec<(PathBuf, batch::VideoResult)> =
                outcome.results.iter().map(|r| (req.out.clone(), r.clone())).collect();
            super::serve_cli::import_and_tell(&found, data, quiet)?;
        }
        if outcome.failed > 0 {
            return Err(Failure {
                code: EXIT_SOME_FAILED,
                error: anyhow!("{} of {} videos failed (see the status column of summary.csv)", outcome.failed, total),
            });
        }
        Ok(())
    }

    pub fn cmd_merge(dirs: &[PathBuf], out: &std::path::Path) -> Result<(), Failure> {
        let merged = batch::merge(dirs, out).map_err(|e| Failure { code: 1, error: e.into() })?;
        for b in &merged.bad {
            note!("hinge: warning: {}: {}; that video is not in the merged tables", b.path.display(), b.reason);
        }
        note!("merge: {} videos from {} director(y/ies) into {}", merged.results.len(), dirs.len(), out.display());
        if !merged.bad.is_empty() {
            return Err(Failure {
                code: EXIT_SOME_FAILED,
                error: anyhow!(
                    "{} video folder(s) left out of the merged tables: result.json missing or unreadable (listed above)",
                    merged.bad.len()
                ),
            });
        }
        Ok(())
    }
}

/// `hinge serve`, `hinge import` and the server's worker process.
mod serve_cli {
    use super::{estimator, settings, spine_model, usage, Failure, GlobalArgs, ServeArgs, ServeWorkerArgs};
    use anyhow::{anyhow, Context};
    use hinge::batch::{self, JobSettings, VideoResult};
    use hinge::pose::model::ModelChoice;
    use hinge::serve::{self, ServeOptions, WorkerCommand};
    use std::ffi::OsString;
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    fn absolute(p: &Path) -> Result<PathBuf, Failure> {
        std::path::absolute(p).map_err(|e| usage(anyhow!("{}: {e}", p.display())))
    }

    /// The global flags the worker processes run with (paths made absolute:
    /// the workers run in the data directory).
    fn worker_args(g: &GlobalArgs, threads: usize) -> Result<Vec<OsString>, Failure> {
        let mut args: Vec<OsString> = vec!["--quiet".into(), "--threads".into(), threads.to_string().into()];
        args.extend(["--mask-interval".into(), g.mask_interval.to_string().into()]);
        let model = match ModelChoice::parse(&g.model) {
            ModelChoice::Path(p) => absolute(&p)?.into_os_string(),
            _ => g.model.clone().into(),
        };
        args.extend(["--model".into(), model]);
        for (flag, path) in [("--config", &g.config), ("--models-dir", &g.models_dir), ("--ort-lib", &g.ort_lib)] {
            if let Some(p) = path {
                args.extend([flag.into(), absolute(p)?.into_os_string()]);
            }
        }
        Ok(args)
    }

    pub fn cmd_serve(g: &GlobalArgs, a: &ServeArgs) -> Result<(), Failure> {
        let s = settings(g)?;
        let listen = a
            .listen
            .parse()
            .map_err(|_| usage(anyhow!("--listen must be ADDRESS:PORT, e.g. 127.0.0.1:8080 (got `{}`)", a.listen)))?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers = a.workers.unwrap_or(cores);
        let max_upload_bytes = serve::parse_size(&a.max_upload).map_err(|e| usage(anyhow!("--max-upload: {e}")))?;
        if !(a.time_limit.is_finite() && a.time_limit > 0.0 && a.time_limit <= 7.0 * 24.0 * 60.0) {
            return Err(usage(anyhow!("--time-limit must be more than 0 and at most 10080 minutes (a week)")));
        }
        // each worker's ONNX Runtime threads: the cores shared out unless asked
        let threads = g.threads.unwrap_or((cores / workers.max(1)).max(1));
        let options = ServeOptions {
            data_dir: a.data.clone(),
            listen,
            token: a.token.clone().filter(|t| !t.is_empty()),
            workers,
            max_upload_bytes,
            analysis_time_limit: Duration::from_secs_f64(a.time_limit * 60.0),
            worker_command: WorkerCommand {
                program: std::env::current_exe().context("finding the hinge executable")?,
                args: worker_args(g, threads)?,
            },
            settings_sha256: batch::settings_hash(&s.pose, &s.config),
            config: s.config.clone(),
        };
        options.validate().map_err(|e| usage(e.into()))?;
        // the models must load, or every analysis would fail: say so now
        drop(estimator(&s)?);
        drop(spine_model(&s)?);
        let quiet = s.quiet;
        let data = a.data.clone();
        serve::serve(options, |addr| {
            if !quiet {
                note!(
                    "hinge serve: listening on http://{addr}/ ({workers} worker(s), data in {}); Ctrl-C stops",
                    data.display()
                );
            }
        })
        .map_err(|e| match e {
            serve::ServeError::Option(_) => usage(e.into()),
            other => Failure { code: 1, error: other.into() },
        })
    }

    pub fn cmd_serve_worker(g: &GlobalArgs, a: &ServeWorkerArgs) -> Result<(), Failure> {
        let s = settings(g)?;
        let mut est = estimator(&s)?;
        let spine = spine_model(&s)?;
        let hash = batch::settings_hash(&s.pose, &s.config);
        let model = s.pose.model.label();
        let job = JobSettings { config: &s.config, model: &model, settings_sha256: &hash };
        let mut out = std::io::stdout();
        serve::worker::run_job(&a.video, a.shown_as.as_deref(), &a.out, &mut est, &spine, job, &mut out)
            .context("writing the result")?;
        Ok(())
    }

    /// Imports and prints what happened (warnings for videos left out).
    pub fn import_and_tell(found: &[(PathBuf, VideoResult)], data: &Path, quiet: bool) -> Result<(), Failure> {
        let outcome = serve::import::import_results(data, found).map_err(|e| Failure { code: 1, error: e.into() })?;
        for (path, why) in &outcome.skipped {
            note!("hinge: warning: {path}: not added to {}: {why}", data.display());
        }
        if !quiet {
            note!(
                "import: {} analyses added to {}, {} there before, {} left out",
                outcome.added,
                data.display(),
                outcome.already,
                outcome.skipped.len()
            );
        }
        Ok(())
    }

    pub fn cmd_import(dirs: &[PathBuf], data: &Path) -> Result<(), Failure> {
        let (found, bad) = batch::collect_results(dirs).map_err(|e| usage(e.into()))?;
        for b in &bad {
            note!("hinge: warning: {}: {}; that video is not imported", b.path.display(), b.reason);
        }
        import_and_tell(&found, data, false)
    }
}

/// `hinge live`.
mod live_cli {
    use super::{estimator, settings, spine_model, usage, Failure, GlobalArgs, LiveArgs};
    use anyhow::{anyhow, Context};
    use hinge::live::{self, Event, JsonLinesSink, LiveOptions, LiveSink, LiveState};
    use hinge::report::write_outputs;
    use hinge::video::VideoSource;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    fn open_source(l: &LiveArgs) -> Result<VideoSource, Failure> {
        let fail = |e: hinge::video::VideoError| Failure { code: 1, error: e.into() };
        match (&l.camera, &l.source) {
            (Some(i), _) => VideoSource::open_camera(*i).map_err(fail),
            (None, Some(s)) if s.contains("://") => VideoSource::open_stream(s).map_err(fail),
            (None, Some(s)) if s.starts_with("/dev/video") => {
                let index = s
                    .trim_start_matches("/dev/video")
                    .parse()
                    .map_err(|_| usage(anyhow!("{s}: not a camera device")))?;
                VideoSource::open_camera(index).map_err(fail)
            }
            (None, Some(s)) => VideoSource::open_file(std::path::Path::new(s)).map_err(fail),
            (None, None) => VideoSource::open_camera(0).map_err(fail),
        }
    }

    /// Events to a writer, and frames to a window when one is open.
    struct Sink {
        events: JsonLinesSink<Box<dyn std::io::Write>>,
        window: Option<overlay::Window>,
    }

    impl LiveSink for Sink {
        fn event(&mut self, e: &Event) -> std::io::Result<()> {
            self.events.event(e)
        }
        fn frame(&mut self, frame: &opencv::core::Mat, state: &LiveState) -> bool {
            match &mut self.window {
                Some(w) => w.show(frame, state),
                None => true,
            }
        }
    }

    pub fn cmd_live(g: &GlobalArgs, l: &LiveArgs) -> Result<(), Failure> {
        let s = settings(g)?;
        // the spine model reads the back at the mask frames (ten times a second by
        // default, `--mask-interval`) and its readings are carried to the frames in
        // between; the frames without a mask run the landmark graph without its
        // segmentation branch (about half the cost), which is most of live's latency
        if let Some(dir) = &l.save {
            // made before the session: a folder that cannot be written must not lose a recorded session
            hinge::report::create_output_dir(dir).context("saving the session")?;
        }
        let source = open_source(l)?;
        let mut est = estimator(&s)?;
        let spine = spine_model(&s)?;
        let out: Box<dyn std::io::Write> = match &l.events {
            Some(p) => Box::new(std::io::BufWriter::new(
                std::fs::File::create(p).with_context(|| format!("{}: cannot create events file", p.display()))?,
            )),
            None => Box::new(std::io::stdout()),
        };
        let want_window = !l.no_window && live::display_available();
        if !l.no_window && !want_window && !s.quiet {
            note!("hinge: no display found: running without a window (events only)");
        }
        let window = if want_window {
            Some(overlay::Window::open().map_err(|e| Failure { code: 1, error: e.into() })?)
        } else {
            None
        };
        let mut sink = Sink { events: JsonLinesSink::new(out), window };
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
        let options = LiveOptions { realtime: l.realtime, keep_all: l.save.is_some(), ..LiveOptions::default() };
        let outcome = live::run(source, &mut est, &spine, &s.config, &options, &mut sink, stop)
            .map_err(|e| Failure { code: 1, error: e.into() })?;
        if let live::capture::CaptureEnd::Lost(why) = &outcome.end {
            note!("hinge: source lost: {why} (session summary kept)");
        }
        if let (Some(dir), Some(a)) = (&l.save, &outcome.analysis) {
            write_outputs(a, dir).context("saving the session")?;
            // annotated.mp4 and report.html take a second pass over the video, which a camera cannot give
            hinge::report::write_reps_csv(a, &s.config.report, dir).context("saving the session")?;
        }
        if !s.quiet {
            note!(
                "live: {} rep(s), {} frames processed, {} dropped, latency p50 {:.1} ms p95 {:.1} ms max {:.1} ms",
                outcome.reps.len(),
                outcome.frames_processed,
                outcome.frames_dropped,
                outcome.latency_ms.p50,
                outcome.latency_ms.p95,
                outcome.latency_ms.max
            );
            for r in &outcome.reps {
                let faults = if r.faults.is_empty() { "good".to_string() } else { r.faults.join(", ") };
                note!("  rep {} ({:.1}-{:.1} s): {faults}", r.rep, r.start_s, r.end_s);
            }
        }
        Ok(())
    }

    /// The window: skeleton coloured by state, angles, rep counter, a large cue.
    /// Drawn with OpenCV, shown through minifb, whose X11 client library is
    /// loaded when the window opens (a GUI toolkit linked in would be loaded,
    /// and resident, in every run of every command).
    mod overlay {
        use hinge::live::LiveState;
        use hinge::pose::landmarks::SKELETON_EDGES;
        use minifb::{Key, ScaleMode, WindowOptions};
        use opencv::core::{Mat, Point, Scalar};
        use opencv::imgproc;
        use opencv::prelude::*;

        pub struct Window {
            canvas: Mat,
            window: minifb::Window,
            /// The canvas as minifb's 0RGB words.
            pixels: Vec<u32>,
            /// Set when q or Esc was pressed (kept from the key event itself: a
            /// tap between two frames is over before the key state is looked at).
            quit: std::rc::Rc<std::cell::Cell<bool>>,
        }

        /// Records a press of q or Esc.
        struct QuitKeys(std::rc::Rc<std::cell::Cell<bool>>);

        impl minifb::InputCallback for QuitKeys {
            fn add_char(&mut self, _: u32) {}
            fn set_key_state(&mut self, key: Key, down: bool) {
                if down && matches!(key, Key::Q | Key::Escape) {
                    self.0.set(true);
                }
            }
        }

        const NAME: &str = "hinge live";

        impl Window {
            pub fn open() -> Result<Self, minifb::Error> {
                let options =
                    WindowOptions { resize: true, scale_mode: ScaleMode::AspectRatioStretch, ..Default::default() };
                let mut window = minifb::Window::new(NAME, 640, 480, options)?;
                // frames are shown as they come: no pacing of its own (it would add latency)
                window.set_target_fps(0);
                let quit = std::rc::Rc::new(std::cell::Cell::new(false));
                window.set_input_callback(Box::new(QuitKeys(std::rc::Rc::clone(&quit))));
                Ok(Self { canvas: Mat::default(), window, pixels: Vec::new(), quit })
            }

            fn text(&mut self, s: &str, at: Point, scale: f64, color: Scalar, thick: i32) {
                // shrink to fit the frame's width
                let room = (self.canvas.cols() - at.x - 10).max(10) as f64;
                let mut base = 0;
                let width = imgproc::get_text_size(s, imgproc::FONT_HERSHEY_SIMPLEX, scale, thick, &mut base)
                    .map_or(0, |z| z.width) as f64;
                let scale = if width > room { scale * room / width } else { scale };
                let _ = imgproc::put_text(
                    &mut self.canvas,
                    s,
                    at,
                    imgproc::FONT_HERSHEY_SIMPLEX,
                    scale,
                    Scalar::all(0.0),
                    thick + 4,
                    imgproc::LINE_AA,
                    false,
                );
                let _ = imgproc::put_text(
                    &mut self.canvas,
                    s,
                    at,
                    imgproc::FONT_HERSHEY_SIMPLEX,
                    scale,
                    color,
                    thick,
                    imgproc::LINE_AA,
                    false,
                );
            }

            /// Draws and shows; false when the user pressed q or Esc.
            pub fn show(&mut self, frame: &Mat, st: &LiveState) -> bool {
                if frame.copy_to(&mut self.canvas).is_err() {
                    return true;
                }
                let (w, h) = (self.canvas.cols(), self.canvas.rows());
                let k = (h.min(w) as f64 / 480.0).max(0.5);
                let green = Scalar::new(80.0, 200.0, 60.0, 0.0);
                let amber = Scalar::new(0.0, 180.0, 255.0, 0.0);
                let red = Scalar::new(40.0, 40.0, 230.0, 0.0);
                let color = if !st.faults.is_empty() {
                    red
                } else if !st.calibrated || !st.warnings.is_empty() {
                    amber
                } else {
                    green
                };
                if let Some(lms) = &st.landmarks {
                    for (a, b) in SKELETON_EDGES {
                        let (p, q) = (lms[a], lms[b]);
                        let _ = imgproc::line(
                            &mut self.canvas,
                            Point::new(p.x_px as i32, p.y_px as i32),
                            Point::new(q.x_px as i32, q.y_px as i32),
                            color,
                            (3.0 * k) as i32,
                            imgproc::LINE_AA,
                            0,
                        );
                    }
                }
                let line = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.0}"));
                self.text(
                    &format!("reps {}", st.reps),
                    Point::new((10.0 * k) as i32, (35.0 * k) as i32),
                    1.0 * k,
                    Scalar::all(255.0),
                    (2.0 * k) as i32,
                );
                self.text(
                    &format!(
                        "trunk {} deg  hip {} deg  {}  {:.0} fps",
                        line(st.trunk_deg),
                        line(st.hip_angle_deg),
                        st.phase.unwrap_or(""),
                        st.fps
                    ),
                    Point::new((10.0 * k) as i32, (65.0 * k) as i32),
                    0.6 * k,
                    Scalar::all(255.0),
                    (1.0 * k).max(1.0) as i32,
                );
                let banner = if !st.calibrated {
                    Some(("Stand tall, side-on".to_string(), amber))
                } else if let Some((cue, _)) = &st.cue {
                    Some((cue.clone(), red))
                } else {
                    st.warnings.first().map(|w| (w.clone(), amber))
                };
                if let Some((msg, c)) = banner {
                    self.text(&msg, Point::new((10.0 * k) as i32, h - (20.0 * k) as i32), 0.9 * k, c, (2.0 * k) as i32);
                }
                if let Ok(bgr) = self.canvas.data_bytes() {
                    self.pixels.clear();
                    self.pixels.extend(
                        bgr.chunks_exact(3).map(|p| (u32::from(p[2]) << 16) | (u32::from(p[1]) << 8) | u32::from(p[0])),
                    );
                    let _ = self.window.update_with_buffer(&self.pixels, w as usize, h as usize);
                }
                // closing the window, q or Esc end the session
                self.window.is_open() && !self.quit.get()
            }
        }
    }
}
