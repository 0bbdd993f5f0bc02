//! Bad inputs: one clear line on stderr naming the file and the cause, a
//! non-zero exit code, never a panic.

mod common;
use common::{hinge, read_summary, repo, run, stderr};
use std::path::Path;

const CLIP: &str = "samples/dev/dev_12_idle_side_facing_right.mp4";

/// Asserts a failed run with exit `code` whose stderr mentions every needle.
fn assert_fails(o: &std::process::Output, code: i32, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "exit code; stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert!(err.starts_with("hinge: error:") || code == 2, "one clear error line: {err}");
    for n in needles {
        assert!(err.contains(n), "stderr should mention `{n}`: {err}");
    }
}

hinge_test!(missing_file, |cmd, dir| {
    let video = dir.path().join("nope.mp4");
    cmd.arg("analyze").arg(&video).arg("--out").arg(dir.path());
    assert_fails(&run(cmd), 1, &["nope.mp4", "no such file"]);
});

hinge_test!(directory_instead_of_file, |cmd, dir| {
    cmd.arg("analyze").arg(dir.path()).arg("--out").arg(dir.path().join("o"));
    assert_fails(&run(cmd), 1, &["is a directory"]);
});

hinge_test!(empty_file, |cmd, dir| {
    let video = dir.path().join("empty.mp4");
    std::fs::write(&video, b"").unwrap();
    cmd.arg("analyze").arg(&video).arg("--out").arg(dir.path().join("o"));
    assert_fails(&run(cmd), 1, &["empty.mp4", "no decodable video frames"]);
});

hinge_test!(text_file_renamed_mp4, |cmd, dir| {
    let video = dir.path().join("notes.mp4");
    std::fs::write(&video, "patient notes, not a video\n".repeat(100)).unwrap();
    cmd.arg("analyze").arg(&video).arg("--out").arg(dir.path().join("o"));
    assert_fails(&run(cmd), 1, &["notes.mp4", "not a video"]);
});

hinge_test!(truncated_mp4, |cmd, dir| {
    let bytes = std::fs::read(repo(CLIP)).unwrap();
    let video = dir.path().join("truncated.mp4");
    std::fs::write(&video, &bytes[..bytes.len() / 3]).unwrap();
    cmd.arg("analyze").arg(&video).arg("--out").arg(dir.path().join("o"));
    let o = run(cmd);
    // a truncated file either fails clearly or yields the frames that survive
    if o.status.success() {
        let t = common::Table::read(&dir.path().join("o/frames.csv"));
        assert!(!t.rows.is_empty());
        assert!(stderr(&o).contains("may be truncated"), "{}", stderr(&o));
    } else {
        assert_fails(&o, 1, &["truncated.mp4"]);
    }
});

hinge_test!(damaged_stretch_is_read_past_and_reported, |cmd, dir| {
    // 4 kB of garbage a third into the clip: FFmpeg decodes on after it, and so must hinge
    let clip = "samples/dev/dev_01_good_side_facing_left.mp4";
    let mut bytes = std::fs::read(repo(clip)).unwrap();
    let at = bytes.len() / 3;
    for (i, b) in bytes[at..at + 4096].iter_mut().enumerate() {
        *b = 0x5a ^ (i * 37) as u8;
    }
    let video = dir.path().join("damaged.mp4");
    std::fs::write(&video, &bytes).unwrap();
    let out = dir.path().join("o");
    cmd.arg("analyze").arg(&video).arg("--out").arg(&out).arg("--quiet");
    let o = run(cmd);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = read_summary(&out);
    let frames = s["frames"].as_u64().unwrap();
    assert!(frames >= 120, "only {frames} of 133 frames analysed: the analysis stopped at the damage");
    assert_eq!(s["reps"].as_array().unwrap().len(), 2, "both reps found");
    // the hole is reported: one range a third into the 4.4 s clip, short
    let ranges = s["missing_ranges_s"].as_array().expect("missing_ranges_s");
    assert_eq!(ranges.len(), 1, "{ranges:?}");
    let (a, b) = (ranges[0][0].as_f64().unwrap(), ranges[0][1].as_f64().unwrap());
    assert!(a > 0.5 && b < 2.5 && b - a > 0.1 && b - a < 1.0, "{ranges:?}");
    let warning = s["view"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w.as_str())
        .find(|w| w.contains("could be decoded"));
    assert!(warning.is_some(), "{}", s["view"]);
    assert!(std::fs::read_to_string(out.join("report.html")).unwrap().contains("the file is damaged there"));
    // frames.csv and the annotated video have the analysed frames
    assert_eq!(common::Table::read(&out.join("frames.csv")).rows.len() as u64, frames);
    let annotated = hinge::video::VideoSource::open_file(&out.join("annotated.mp4")).unwrap();
    assert_eq!(annotated.info().frame_count_hint, Some(frames), "annotated.mp4");
});

#[cfg(unix)]
hinge_test!(unreadable_file, |cmd, dir| {
    use std::os::unix::fs::PermissionsExt;
    let video = dir.path().join("locked.mp4");
    std::fs::copy(repo(CLIP), &video).unwrap();
    std::fs::set_permissions(&video, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&video).is_ok() {
        return; // running as root: permissions do not apply
    }
    cmd.arg("analyze").arg(&video).arg("--out").arg(dir.path().join("o"));
    assert_fails(&run(cmd), 1, &["locked.mp4", "cannot read"]);
});

hinge_test!(missing_ort_library, |cmd, dir| {
    let lib = dir.path().join("libonnxruntime.so.1.31.1");
    cmd.arg("analyze").arg(repo(CLIP)).arg("--out").arg(dir.path()).arg("--ort-lib").arg(&lib);
    assert_fails(&run(cmd), 1, &["ONNX Runtime library not found", "libonnxruntime.so.1.31.1"]);
});

hinge_test!(ort_library_that_is_not_a_library, |cmd, dir| {
    let lib = dir.path().join("libonnxruntime.so");
    std::fs::write(&lib, "not an ELF file").unwrap();
    cmd.arg("analyze").arg(repo(CLIP)).arg("--out").arg(dir.path()).arg("--ort-lib").arg(&lib);
    assert_fails(&run(cmd), 1, &["libonnxruntime.so", "cannot load the ONNX Runtime library"]);
});

/// A stand-in ONNX Runtime that reports version 1.20.0, built with the C compiler.
fn old_ort_library(dir: &Path) -> Option<std::path::PathBuf> {
    let src = dir.join("fake_ort.c");
    std::fs::write(
        &src,
        r#"
        typedef struct { const void* (*GetApi)(unsigned); const char* (*GetVersionString)(void); } OrtApiBase;
        static const void* get_api(unsigned v) { (void)v; return 0; }
        static const char* version(void) { return "1.20.0"; }
        static const OrtApiBase base = { get_api, version };
        const OrtApiBase* OrtGetApiBase(void) { return &base; }
        "#,
    )
    .unwrap();
    let lib = dir.join("libonnxruntime.so.1.20.0");
    let ok = std::process::Command::new("cc").args(["-shared", "-fPIC", "-o"]).arg(&lib).arg(&src).status().ok()?;
    ok.success().then_some(lib)
}

hinge_test!(wrong_ort_version, |cmd, dir| {
    let Some(lib) = old_ort_library(dir.path()) else {
        eprintln!("no C compiler: skipped");
        return;
    };
    cmd.arg("analyze").arg(repo(CLIP)).arg("--out").arg(dir.path()).arg("--ort-lib").arg(&lib);
    assert_fails(&run(cmd), 1, &["1.20.0", "not supported", "1.31"]);
});

/// Copies the bundled models into `dir`, then lets `edit` damage them.
fn models_copy(dir: &Path, edit: impl FnOnce(&Path)) -> std::path::PathBuf {
    let m = dir.join("models");
    std::fs::create_dir_all(&m).unwrap();
    for f in ["pose_detection.onnx", "pose_landmark_full.onnx"] {
        std::fs::copy(repo("models").join(f), m.join(f)).unwrap();
    }
    edit(&m);
    m
}

hinge_test!(corrupted_model, |cmd, dir| {
    let models = models_copy(dir.path(), |m| {
        let p = m.join("pose_landmark_full.onnx");
        let mut b = std::fs::read(&p).unwrap();
        let mid = b.len() / 2;
        b[mid] ^= 0xff;
        std::fs::write(&p, b).unwrap();
    });
    cmd.arg("analyze").arg(repo(CLIP)).arg("--out").arg(dir.path().join("o")).arg("--models-dir").arg(&models);
    assert_fails(&run(cmd), 1, &["pose_landmark_full.onnx", "corrupted"]);
});

hinge_test!(missing_model, |cmd, dir| {
    let models = models_copy(dir.path(), |m| std::fs::remove_file(m.join("pose_landmark_full.onnx")).unwrap());
    cmd.arg("analyze").arg(repo(CLIP)).arg("--out").arg(dir.path().join("o")).arg("--models-dir").arg(&models);
    assert_fails(&run(cmd), 1, &["model `full` not found", "models"]);
});

hinge_test!(heavy_model_not_bundled_says_how_to_get_it, |cmd, dir| {
    let models = models_copy(dir.path(), |_| {});
    cmd.arg("analyze").arg(repo(CLIP)).arg("--out").arg(dir.path().join("o")).arg("--models-dir").arg(&models);
    cmd.args(["--model", "heavy"]);
    assert_fails(&run(cmd), 1, &["make models-heavy"]);
});

hinge_test!(model_path_that_is_not_onnx, |cmd, dir| {
    let bogus = dir.path().join("bogus.onnx");
    std::fs::write(&bogus, "definitely not protobuf").unwrap();
    cmd.arg("analyze").arg(repo(CLIP)).arg("--out").arg(dir.path().join("o")).arg("--model").arg(&bogus);
    assert_fails(&run(cmd), 1, &["bogus.onnx", "not a usable ONNX model"]);
});

hinge_test!(bad_config_is_a_usage_error, |cmd, dir| {
    let cfg = dir.path().join("clinic.toml");
    std::fs::write(&cfg, "[reps]\nstart_deg = \"deep\"\n").unwrap();
    cmd.arg("analyze").arg(repo(CLIP)).arg("--out").arg(dir.path().join("o")).arg("--config").arg(&cfg);
    assert_fails(&run(cmd), 2, &["clinic.toml", "invalid config"]);
});

#[test]
fn bad_mask_interval_is_a_usage_error() {
    for value in ["-0.1", "NaN", "2", "often"] {
        let mut cmd = hinge();
        cmd.args(["analyze", "x.mp4", "--json", &format!("--mask-interval={value}")]);
        let o = run(cmd);
        assert_fails(&o, 2, &["mask-interval"]);
    }
}

hinge_test!(unknown_flag_is_a_usage_error, |cmd, _dir| {
    cmd.args(["analyze", "x.mp4", "--frobnicate"]);
    let o = run(cmd);
    assert_eq!(o.status.code(), Some(2));
});

#[test]
fn closed_stdout_is_not_an_error() {
    // `hinge analyze --json | head -c1`: the reader goes away early
    let mut c = hinge();
    c.args(["analyze", "--json", "-q"]).arg(repo(CLIP));
    c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    drop(child.stdout.take()); // close the pipe before anything is written
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(o.status.code(), Some(0), "{err}");
}

hinge_test!(output_directory_that_is_a_file, |cmd, dir| {
    let file = dir.path().join("taken");
    std::fs::write(&file, "x").unwrap();
    cmd.arg("analyze").arg(repo(CLIP)).arg("--out").arg(&file).arg("-q");
    assert_fails(&run(cmd), 1, &["taken", "not a directory"]);
});

hinge_test!(missing_config_file, |cmd, dir| {
    cmd.arg("analyze").arg(repo(CLIP)).arg("--out").arg(dir.path()).args(["--config", "/nonexistent/clinic.toml"]);
    let o = run(cmd);
    assert_fails(&o, 2, &["clinic.toml", "cannot read config"]);
    assert_eq!(stderr(&o).matches("No such file").count(), 1, "cause printed once: {}", stderr(&o));
});

/// The benchmark script refuses a bad round count before it runs anything.
#[test]
fn bench_script_rejects_a_bad_round_count() {
    for bad in ["0", "abc", "-1", "2.5"] {
        let o = std::process::Command::new("bash")
            .arg(repo("scripts/bench_vs_mediapipe.sh"))
            .env("ROUNDS", bad)
            .output()
            .expect("bash runs");
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "ROUNDS={bad}: exit code; stderr: {err}");
        assert!(err.contains("ROUNDS must be a positive whole number"), "ROUNDS={bad}: {err}");
        assert!(!String::from_utf8_lossy(&o.stdout).contains("hinge bench"), "ROUNDS={bad}: nothing should run");
    }
}

hinge_test!(no_ffmpeg_program_for_the_annotated_video, |cmd, dir| {
    // the annotated video is encoded by the `ffmpeg` program; without it, one line naming
    // it, exit 1, and what was already written stays
    let out = dir.path().join("o");
    cmd.env("HINGE_FFMPEG", dir.path().join("no-ffmpeg-here"));
    cmd.arg("analyze").arg(repo(CLIP)).arg("--out").arg(&out);
    let o = run(cmd);
    assert_fails(&o, 1, &["annotated.mp4", "no H.264 encoder", "no-ffmpeg-here", "install FFmpeg"]);
    assert_eq!(stderr(&o).trim().lines().count(), 1, "one line: {}", stderr(&o));
    for kept in ["frames.csv", "summary.json", "reps.csv"] {
        assert!(out.join(kept).is_file(), "{kept} kept");
    }
});

/// Messages are not results: a stderr that cannot be written (a full disk here;
/// a closed pipe alike) changes neither the exit code nor any output.
#[test]
fn an_unwritable_stderr_loses_no_output() {
    let full = || std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("analyze");
    let mut c = hinge();
    c.args(["analyze", "--json", "--no-video"]).arg(repo(CLIP)).arg("--out").arg(&out).stderr(full());
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "analyze with stderr on a full disk");
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).expect("the summary on stdout");
    assert!(summary["frames"].as_u64().unwrap_or(0) > 0, "{summary}");
    assert!(out.join("summary.json").is_file() && out.join("frames.csv").is_file());
    // a bad input keeps its exit code
    let mut c = hinge();
    c.args(["analyze", "--json"]).arg(dir.path().join("nope.mp4")).stderr(full());
    assert_eq!(c.output().unwrap().status.code(), Some(1), "a missing video");
    // batch: the progress lines go nowhere, the tables are written
    let out = dir.path().join("batch");
    let mut c = hinge();
    c.arg("batch").arg(repo(CLIP)).arg("--out").arg(&out).stderr(full());
    assert_eq!(c.output().unwrap().status.code(), Some(0), "batch with stderr on a full disk");
    for table in ["summary.csv", "reps.csv", "index.html"] {
        assert!(out.join(table).is_file(), "batch wrote no {table}");
    }
}

/// A file whose name is not UTF-8 (copied from an old camera or another
/// system) is a video like any other, not "a file FFmpeg cannot open".
#[test]
fn a_file_name_that_is_not_utf8_is_analysed() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join(std::ffi::OsStr::from_bytes(b"clip\xff\xfe.mp4"));
    std::fs::copy(repo(CLIP), &video).unwrap();
    let mut c = hinge();
    c.args(["analyze", "--json", "-q"]).arg(&video);
    let o = run(c);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).expect("the summary on stdout");
    assert!(summary["frames_with_person"].as_u64().unwrap_or(0) > 100, "{summary}");
}

/// A folder argument that names a file says so, on one line naming it.
#[test]
fn a_folder_that_is_a_file_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("taken");
    std::fs::write(&file, "x").unwrap();
    let fixtures = repo("tests/fixtures/heldout_loose");
    let runs: [(&str, Vec<std::ffi::OsString>); 2] = [
        ("serve --data", vec!["serve".into(), "--data".into(), file.clone().into()]),
        ("eval --dump-spine", vec!["eval".into(), fixtures.into(), "--dump-spine".into(), file.clone().into()]),
    ];
    for (what, args) in runs {
        let mut c = hinge();
        c.args(args);
        let o = run(c);
        assert_fails(&o, 1, &["taken", "exists and is not a directory"]);
        assert_eq!(stderr(&o).lines().count(), 1, "{what}: {}", stderr(&o));
    }
    // a data folder whose `videos` is a file
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("videos"), "x").unwrap();
    let mut c = hinge();
    c.arg("serve").arg("--data").arg(&data);
    assert_fails(&run(c), 1, &["videos: exists and is not a directory"]);
}

/// `eval --jobs` out of range is refused like `batch --jobs`, not quietly changed.
#[test]
fn eval_jobs_out_of_range_is_a_usage_error() {
    for jobs in ["0", "17"] {
        let mut c = hinge();
        c.args(["eval", "--jobs", jobs]).arg(repo("tests/fixtures/heldout_loose"));
        assert_fails(&run(c), 2, &["--jobs must be between 1 and 16"]);
    }
}

/// `serve --time-limit` out of range: the message says what is allowed.
#[test]
fn serve_time_limit_out_of_range_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    for minutes in ["0", "-5", "10081", "nan"] {
        let mut c = hinge();
        c.arg("serve").arg("--data").arg(dir.path()).arg(format!("--time-limit={minutes}"));
        assert_fails(&run(c), 2, &["more than 0 and at most 10080 minutes"]);
    }
}

/// A command-line mistake is one line: what is wrong (with clap's tip) and the
/// usage, exit code 2; --help and --version are not errors, but a stdout that
/// cannot take them is.
#[test]
fn usage_errors_are_one_line() {
    for (args, needles) in [
        (&["analyze"][..], &["required arguments were not provided: <VIDEO>", "usage: hinge analyze <VIDEO>"][..]),
        (&["analyze", "x.mp4", "--frobnicate"], &["unexpected argument '--frobnicate'"]),
        (&["anlyze"], &["unrecognized subcommand 'anlyze'", "similar subcommand exists: 'analyze'"]),
        (&["batch", "a.mp4", "--out", "o", "--jobs", "x"], &["invalid value 'x' for '--jobs <JOBS>'"]),
    ] {
        let mut c = hinge();
        c.args(args);
        let o = run(c);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err}");
        assert!(err.starts_with("hinge: error: "), "{args:?}: {err}");
        for n in needles {
            assert!(err.contains(n), "{args:?}: no `{n}` in {err}");
        }
    }
    // no command at all: the help, on stderr, exit 2
    let o = run(hinge());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("Usage: hinge") && stderr(&o).lines().count() > 5, "{}", stderr(&o));
    let mut c = hinge();
    c.arg("--help");
    let o = run(c);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Usage: hinge"));
    let mut c = hinge();
    c.arg("--help").stdout(std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap());
    assert_eq!(c.output().unwrap().status.code(), Some(1), "--help into a full disk");
}
