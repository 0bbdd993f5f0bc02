//! `hinge live` on a paced practice set: calibration, reps against ground
//! truth, the same per-rep verdicts as the file path; bad sources;
//! a lost source; and the window under Xvfb.

mod common;
use common::{hinge, read_summary, repo, run, stderr, stdout, Table};
use std::process::{Command, Stdio};

const SESSION: &str = "samples/dev_sessions/devs_01_mixed_side_left.mp4";

fn events(text: &str) -> Vec<serde_json::Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}"))).collect()
}

#[test]
fn paced_practice_set_gives_calibration_reps_and_faults() {
    let tmp = tempfile::tempdir().unwrap();
    let ev_path = tmp.path().join("events.jsonl");
    let save = tmp.path().join("saved");
    let mut c = hinge();
    c.args(["live", "--realtime", "--no-window", "-q", "--source"]).arg(repo(SESSION)).arg("--events").arg(&ev_path);
    c.arg("--save").arg(&save);
    let o = run(c);
    assert!(o.status.success(), "{}", stderr(&o));
    let ev = events(&std::fs::read_to_string(&ev_path).unwrap());
    // every event has a kind; calibration comes before any rep
    assert!(ev.iter().all(|e| e["event"].is_string()));
    let kinds: Vec<&str> = ev.iter().map(|e| e["event"].as_str().unwrap()).collect();
    let calibrated = kinds.iter().position(|k| *k == "calibrated").expect("calibrated event");
    let first_rep = kinds.iter().position(|k| *k == "rep_completed").expect("rep events");
    assert!(calibrated < first_rep);
    assert!(kinds.contains(&"status"));
    assert_eq!(*kinds.last().unwrap(), "summary");
    // reps and their faults against the ground truth (reps_detail, matched by time)
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo(&SESSION.replace(".mp4", ".meta.json"))).unwrap()).unwrap();
    let truth = meta["reps_detail"].as_array().unwrap();
    let reps: Vec<&serde_json::Value> = ev.iter().filter(|e| e["event"] == "rep_completed").collect();
    assert_eq!(reps.len(), truth.len(), "rep count");
    for (r, t) in reps.iter().zip(truth) {
        let mid = (r["start_s"].as_f64().unwrap() + r["end_s"].as_f64().unwrap()) / 2.0;
        assert!(
            mid > t["start_s"].as_f64().unwrap() && mid < t["end_s"].as_f64().unwrap(),
            "rep {} not matched by time",
            r["rep"]
        );
        // each rep's faults are scored against the truth by `hinge eval` (tests/metrics_accuracy.rs);
        // here they must be well-formed and, below, the same as the file path's
        assert!(r["faults"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| hinge::faults::Fault::from_name(f.as_str().unwrap()).is_some()));
    }
    let summary = ev.last().unwrap();
    assert_eq!(summary["reps"].as_array().unwrap().len(), truth.len());
    // paced to the clip's frame rate, a busy machine drops frames (the reps above must survive that); every
    // frame is either processed or counted as dropped
    let (processed, dropped) =
        (summary["frames_processed"].as_u64().unwrap(), summary["frames_dropped"].as_u64().unwrap());
    assert!(processed > 0);
    for k in ["p50", "p95", "max"] {
        assert!(summary["latency_ms"][k].as_f64().unwrap() > 0.0);
    }
    // same verdicts as the file path on the same frames
    let saved = read_summary(&save);
    let dir = tempfile::tempdir().unwrap();
    let mut c = hinge();
    c.args(["analyze", "-q", "--out"]).arg(dir.path()).arg(repo(SESSION));
    assert!(run(c).status.success());
    let file = read_summary(dir.path());
    assert_eq!(processed + dropped, file["frames"].as_u64().unwrap(), "live: frames processed + dropped");
    let verdicts = |s: &serde_json::Value| -> Vec<(String, Vec<String>)> {
        s["reps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (r["verdict"].to_string(), r["faults"].as_array().unwrap().iter().map(|f| f.to_string()).collect())
            })
            .collect()
    };
    assert_eq!(verdicts(&saved)[..], verdicts(&file)[..], "live --save and analyze agree");
    // analyze's reps.csv: the same columns and reps (live reads the back on every frame, analyze ten times
    // a second, so the figures can differ in the last digit)
    let (live_reps, file_reps) = (Table::read(&save.join("reps.csv")), Table::read(&dir.path().join("reps.csv")));
    assert_eq!(live_reps.header, file_reps.header, "live --save writes analyze's reps.csv");
    let faults = |t: &Table| t.rows.iter().map(|r| r[t.col("faults")].clone()).collect::<Vec<_>>();
    assert_eq!(faults(&live_reps), faults(&file_reps), "reps.csv: the same reps and faults");
    let live_verdicts: Vec<Vec<String>> =
        reps.iter().map(|r| r["faults"].as_array().unwrap().iter().map(|f| f.to_string()).collect()).collect();
    let file_verdicts: Vec<Vec<String>> = verdicts(&file).into_iter().map(|v| v.1).collect();
    assert_eq!(live_verdicts, file_verdicts, "live events and analyze agree");
}

#[test]
fn missing_file_source_is_a_clear_error() {
    let mut c = hinge();
    c.args(["live", "--no-window", "--source", "/nonexistent/clip.mp4"]);
    let o = run(c);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("/nonexistent/clip.mp4: no such file"), "{}", stderr(&o));
}

#[test]
fn no_camera_is_a_clear_error() {
    let mut c = hinge();
    c.args(["live", "--no-window", "--camera", "63"]);
    let o = run(c);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot open camera 63"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"));
}

#[test]
fn bad_stream_url_is_a_clear_error() {
    let mut c = hinge();
    c.args(["live", "--no-window", "--source", "rtsp://127.0.0.1:9/none"]);
    let o = run(c);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot open rtsp://127.0.0.1:9/none"), "{}", stderr(&o));
}

#[test]
fn lost_stream_keeps_the_summary() {
    // a stream that stops mid-session (FFmpeg's file: protocol behaves as a stream source)
    let tmp = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(repo("samples/dev/dev_01_good_side_facing_left.mp4")).unwrap();
    let cut = tmp.path().join("cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let mut c = hinge();
    c.args(["live", "--no-window", "--realtime", "--source"]).arg(format!("file://{}", cut.display()));
    let o = run(c);
    assert_eq!(o.status.code(), Some(0), "something started: not an error; {}", stderr(&o));
    assert!(stderr(&o).contains("source lost"), "{}", stderr(&o));
    let ev = events(&stdout(&o));
    let last = ev.last().unwrap();
    assert_eq!(last["event"], "summary");
    assert!(last["ended"].as_str().unwrap().starts_with("source_lost"));
    assert!(last["frames_processed"].as_u64().unwrap() > 10);
}

#[test]
fn window_under_xvfb_shows_the_overlay() {
    let have = |bin: &str| {
        Command::new("sh").args(["-c", &format!("command -v {bin}")]).output().is_ok_and(|o| o.status.success())
    };
    if !have("Xvfb") || !have("ffmpeg") {
        eprintln!("SKIPPED: window_under_xvfb_shows_the_overlay: Xvfb or ffmpeg missing (`make test` installs them: scripts/setup.sh --test)");
        return;
    }
    let display = format!(":{}", 90 + std::process::id() % 100);
    let mut xvfb = Command::new("Xvfb")
        .args([display.as_str(), "-screen", "0", "800x600x24", "-nolisten", "tcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    let live = hinge()
        .args(["live", "--realtime", "-q", "--source"])
        .arg(repo("samples/dev/dev_01_good_side_facing_left.mp4"))
        .env("DISPLAY", &display)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let tmp = tempfile::tempdir().unwrap();
    let shot = tmp.path().join("screen.png");
    let grab = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "x11grab",
            "-video_size",
            "800x600",
            "-i",
            display.as_str(),
            "-frames:v",
            "1",
        ])
        .arg(&shot)
        .output()
        .unwrap();
    let out = live.wait_with_output().unwrap();
    let _ = xvfb.kill();
    let _ = xvfb.wait();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(grab.status.success(), "screen grab: {}", String::from_utf8_lossy(&grab.stderr));
    let _ = std::fs::copy(&shot, repo("target/live-window-screenshot.png"));
    let img = image::open(&shot).expect("screenshot").to_rgb8();
    assert!(img.width() > 0 && img.height() > 0);
    // not blank: the frame is there, and the overlay's skeleton colour (green/amber/red) is drawn
    let sd: f64 = (0..3)
        .map(|c| {
            let v: Vec<f64> = img.pixels().map(|p| p[c] as f64).collect();
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
        })
        .sum();
    assert!(sd > 30.0, "screen looks blank: sd {sd}");
    let mut overlay = 0;
    for p in img.pixels() {
        let (rr, g, b) = (p[0] as i32, p[1] as i32, p[2] as i32);
        if (g > 180 && b < 110 && rr < 110) || (rr > 220 && g > 150 && b < 40) || (rr > 200 && g < 70 && b < 70) {
            overlay += 1;
        }
    }
    assert!(overlay > 200, "overlay not visible ({overlay} overlay-coloured pixels)");
}

/// A `--save` folder that cannot be written is refused before the session
/// starts, not after it (when the session would be lost).
#[test]
fn a_save_folder_that_cannot_be_written_is_refused_before_the_session() {
    let tmp = tempfile::tempdir().unwrap();
    let taken = tmp.path().join("taken");
    std::fs::write(&taken, "x").unwrap();
    let mut c = hinge();
    c.args(["live", "--no-window", "--source"]).arg(repo(SESSION)).arg("--save").arg(&taken);
    let o = run(c);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("taken") && stderr(&o).contains("not a directory"), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "one line: {}", stderr(&o));
    assert!(stdout(&o).is_empty(), "the session started: {}", stdout(&o));
}

/// The cue `live` shows and sends is the configured one (`[report.live_cues]`):
/// a clinic that words or translates its cues gets them live too.
#[test]
fn live_cues_come_from_the_configuration() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("clinic.toml");
    std::fs::write(&cfg, "[report.live_cues]\nload_far = \"Last nah am Körper halten\"\n").unwrap();
    let mut c = hinge();
    // paced like a camera: a file read flat out drops the frames live cannot keep up with
    c.args(["live", "--realtime", "--no-window", "-q", "--source"]).arg(repo(SESSION)).arg("--config").arg(&cfg);
    let o = run(c);
    assert!(o.status.success(), "{}", stderr(&o));
    let ev = events(&stdout(&o));
    let cues: Vec<(&str, &str)> = ev
        .iter()
        .filter(|e| e["event"] == "fault")
        .map(|e| (e["fault"].as_str().unwrap(), e["cue"].as_str().unwrap()))
        .collect();
    assert!(cues.contains(&("load_far", "Last nah am Körper halten")), "{cues:?}");
    // a misspelt fault is refused like any unknown key
    std::fs::write(&cfg, "[report.live_cues]\nload_farr = \"x\"\n").unwrap();
    let mut c = hinge();
    c.args(["live", "--no-window", "--source"]).arg(repo(SESSION)).arg("--config").arg(&cfg);
    let o = run(c);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("report.live_cues.load_farr is not a fault"), "{}", stderr(&o));
}
