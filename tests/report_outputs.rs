//! What a clinician and a patient see: report.html rendered in headless
//! Chromium (no console errors, no network requests, every rep and fault of
//! the ground truth shown, screenshot saved), annotated.mp4 decoded with
//! ffprobe (same frame count and frame rate as the input), reps.csv, and the
//! flags that turn each off.
//!
//! Chromium (Debian package `chromium`) and ffprobe (`ffmpeg`) are optional:
//! without them the checks that need them are skipped with a message.

mod common;
use common::cdp::find_chromium;
use common::{hinge, read_summary, repo, run, stderr, Table};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const CLIP: &str = "samples/dev/dev_10_squat_side_facing_left.mp4";

/// The clip analysed once with every output, shared by the tests.
fn out_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_outputs_dev_10");
        let _ = std::fs::remove_dir_all(&d);
        let mut c = hinge();
        c.arg("analyze").arg(repo(CLIP)).arg("--out").arg(&d).arg("--quiet");
        let o = run(c);
        assert!(o.status.success(), "analyze failed: {}", stderr(&o));
        d
    })
}

fn meta(clip: &str) -> serde_json::Value {
    let p = repo(&clip.replace(".mp4", ".meta.json"));
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

/// The fault name a ground-truth variant is built to show (None: good, idle).
fn truth_fault(variant: &str) -> Option<&'static str> {
    match variant {
        "rounded_lumbar" => Some("rounded_lumbar"),
        "anterior_tilt" => Some("anterior_tilt"),
        "posterior_tilt" => Some("posterior_tilt"),
        "ribs_not_stacked" => Some("ribs_not_stacked"),
        "squat" | "squat_pattern" => Some("squat_pattern"),
        "load_far" => Some("load_far"),
        _ => None,
    }
}

fn have(tool: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().is_ok_and(|o| o.status.success())
}

#[test]
fn report_html_is_self_contained_and_shows_every_rep_and_fault() {
    let dir = out_dir();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    // nothing to fetch: no scripts, no links, no remote URLs
    let lower = html.to_lowercase();
    for bad in ["<script", "<link", "<iframe", "@import", "src=\"http", "href=\"http", "url(http", "src='http", "//cdn"]
    {
        assert!(!lower.contains(bad), "report.html contains `{bad}`");
    }
    assert!(!lower.contains("http://") && !lower.contains("https://"), "report.html names a remote URL");
    assert!(html.contains("<svg"), "no inline SVG plot");
    // one plot per group of metrics, the load's distance in cm with its threshold
    assert!(html.contains("Hands in front of the ankles") && html.contains("far &gt; 29 cm"), "no load plot");
    assert!(html.contains("data:image/jpeg;base64,"), "no key frame image");
    // every rep and fault of the ground truth, and of the analysis
    let m = meta(CLIP);
    let truth_reps = m["reps"].as_u64().unwrap();
    for r in 1..=truth_reps {
        assert!(html.contains(&format!("data-rep=\"{r}\"")), "rep {r} of the ground truth missing");
    }
    let fault = truth_fault(m["variant"].as_str().unwrap()).expect("a fault clip");
    assert!(html.contains(&format!("data-fault=\"{fault}\"")), "fault {fault} of the ground truth missing");
    let s = read_summary(dir);
    for r in s["reps"].as_array().unwrap() {
        assert!(html.contains(&format!("data-rep=\"{}\"", r["index"])));
        for f in r["faults"].as_array().unwrap() {
            assert!(html.contains(&format!("data-fault=\"{}\"", f.as_str().unwrap())));
        }
    }
    for w in s["view"]["warnings"].as_array().unwrap() {
        assert!(html.contains(w.as_str().unwrap()), "view warning missing: {w}");
    }
    // the cue to practise, in the default wording
    assert!(html.contains("hinge from the hips, keep the spine long"));
    // and how far the verdicts can be trusted: the back's are an estimate
    assert!(html.contains("class=\"note trust\"") && html.contains("a model&#39;s estimate"), "no trust note");
}

/// Runs headless Chromium `browser` on `page`: screenshot, console log and NetLog.
fn chromium(browser: &str, page: &Path, screenshot: &Path, netlog: &Path) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    let mut c = Command::new(browser);
    c.args(common::cdp::HEADLESS_FLAGS);
    c.args([
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1100,2800",
        "--net-log-capture-mode=Default",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .arg(format!("--log-net-log={}", netlog.display()))
    .arg(format!("--screenshot={}", screenshot.display()))
    .arg(format!("file://{}", page.canonicalize().unwrap().display()));
    c.output().expect("chromium runs")
}

/// URLs the page itself asked for (not Chromium's own background requests).
fn page_requests(netlog: &Path) -> Vec<String> {
    let log: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(netlog).unwrap()).unwrap();
    let types = &log["constants"]["logEventTypes"];
    let start_job = types["URL_REQUEST_START_JOB"].as_i64().unwrap();
    log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_i64() == Some(start_job))
        .filter(|e| e["params"]["initiator"].as_str() != Some("not an origin"))
        .filter_map(|e| e["params"]["url"].as_str().map(str::to_string))
        .filter(|u| !u.starts_with("file:") && !u.starts_with("data:"))
        .collect()
}

fn console_messages(chromium_stderr: &str) -> Vec<&str> {
    chromium_stderr.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

#[test]
fn report_renders_in_headless_chromium_without_errors_or_network() {
    let browser = match find_chromium() {
        Ok(b) => b,
        Err(why) => {
            eprintln!("SKIPPED: report_renders_in_headless_chromium_without_errors_or_network: {why}");
            return;
        }
    };
    let dir = out_dir();
    let tmp = tempfile::tempdir().unwrap();
    // the checks themselves see errors and requests: a page with both
    let bad = tmp.path().join("bad.html");
    std::fs::write(
        &bad,
        "<!DOCTYPE html><html><body><img src=\"http://example.invalid/x.png\">\
         <script>console.error('boom')</script></body></html>",
    )
    .unwrap();
    let o = chromium(&browser, &bad, &tmp.path().join("bad.png"), &tmp.path().join("bad.json"));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!console_messages(&err).is_empty(), "console messages are not logged: {err}");
    assert!(!page_requests(&tmp.path().join("bad.json")).is_empty(), "page requests are not seen");
    // the report
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_dev_10.png");
    let _ = std::fs::remove_file(&shot);
    let netlog = tmp.path().join("net.json");
    let o = chromium(&browser, &dir.join("report.html"), &shot, &netlog);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "chromium failed: {err}");
    assert_eq!(console_messages(&err), Vec::<&str>::new(), "console messages");
    assert_eq!(page_requests(&netlog), Vec::<String>::new(), "network requests");
    let png = std::fs::metadata(&shot).expect("screenshot written");
    assert!(png.len() > 50_000, "screenshot suspiciously small: {} bytes", png.len());
    eprintln!("screenshot: {}", shot.display());
}

fn probe(path: &Path) -> (u64, String, String) {
    let o = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args(["-show_entries", "stream=codec_name,nb_read_frames,r_frame_rate", "-of", "default=nw=1"])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let get = |k: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("{}: no {k} in {out}", path.display()))
            .to_string()
    };
    (get("nb_read_frames").parse().unwrap(), get("r_frame_rate"), get("codec_name"))
}

#[test]
fn annotated_video_has_the_inputs_frames_and_rate() {
    let dir = out_dir();
    let video = dir.join("annotated.mp4");
    assert!(std::fs::metadata(&video).unwrap().len() > 10_000);
    if !have("ffprobe") {
        eprintln!("SKIPPED: ffprobe not installed (Debian package `ffmpeg`)");
        return;
    }
    let (n_in, fps_in, _) = probe(&repo(CLIP));
    let (n_out, fps_out, codec) = probe(&video);
    assert_eq!(codec, "h264");
    assert_eq!(n_out, n_in, "frame count");
    assert_eq!(fps_out, fps_in, "frame rate");
    let s = read_summary(dir);
    assert_eq!(n_out, s["frames"].as_u64().unwrap());
}

/// A 1080x1920 60 fps phone-style video is annotated at 720x1280, every frame, same rate.
#[test]
fn large_video_is_annotated_at_720p_with_every_frame() {
    if !have("ffprobe") {
        eprintln!("SKIPPED: ffprobe not installed (Debian package `ffmpeg`)");
        return;
    }
    let clip = repo("tests/fixtures/real/pose2sim_single_cam01_portrait60.mp4");
    let tmp = tempfile::tempdir().unwrap();
    let mut c = hinge();
    c.arg("analyze").arg(&clip).arg("--out").arg(tmp.path()).args(["--quiet", "--no-html"]);
    let o = run(c);
    assert!(o.status.success(), "analyze failed: {}", stderr(&o));
    let video = tmp.path().join("annotated.mp4");
    let (n_in, fps_in, _) = probe(&clip);
    let (n_out, fps_out, codec) = probe(&video);
    assert_eq!((n_out, fps_out, codec), (n_in, fps_in, "h264".to_string()));
    let o = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0"])
        .arg(&video)
        .output()
        .expect("ffprobe runs");
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "720,1280");
}

#[test]
fn reps_csv_has_one_row_per_rep() {
    let dir = out_dir();
    let t = Table::read(&dir.join("reps.csv"));
    let s = read_summary(dir);
    let reps = s["reps"].as_array().unwrap();
    assert_eq!(t.rows.len(), reps.len());
    assert_eq!(t.header, hinge::report::reps_csv_header());
    for (i, r) in reps.iter().enumerate() {
        assert_eq!(t.get(i, "rep"), r["index"].to_string());
        // every metric of the registry, at depth as in summary.json
        for m in hinge::kinematics::metric::Metric::ALL {
            let cell = t.get(i, &format!("{}_at_depth", m.name()));
            match r["at_depth"][m.name()].as_f64() {
                Some(v) => assert!((cell.parse::<f64>().unwrap() - v).abs() < 0.06, "{} {cell} vs {v}", m.name()),
                None => assert_eq!(cell, "", "{}", m.name()),
            }
        }
        assert_eq!(t.get(i, "verdict"), r["verdict"].as_str().unwrap());
        let faults: Vec<&str> = r["faults"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
        assert_eq!(t.get(i, "faults"), faults.join(";"));
        assert_eq!(t.get(i, "start_frame"), r["start_frame"].to_string());
    }
}

#[test]
fn each_output_for_people_can_be_turned_off() {
    let clip = "samples/dev/dev_01_good_side_facing_left.mp4";
    let none = tempfile::tempdir().unwrap();
    let mut c = hinge();
    c.arg("analyze").arg(repo(clip)).arg("--out").arg(none.path()).arg("--quiet");
    c.args(["--no-video", "--no-html", "--no-reps-csv"]);
    let o = run(c);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut names: Vec<String> =
        std::fs::read_dir(none.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    names.sort();
    assert_eq!(names, ["frames.csv", "summary.json"]);
    // the report without the video still has its key frames
    let html_only = tempfile::tempdir().unwrap();
    let mut c = hinge();
    c.arg("analyze").arg(repo(clip)).arg("--out").arg(html_only.path()).arg("--quiet").arg("--no-video");
    let o = run(c);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!html_only.path().join("annotated.mp4").exists());
    let html = std::fs::read_to_string(html_only.path().join("report.html")).unwrap();
    assert!(html.contains("data:image/jpeg;base64,"));
    assert!(html_only.path().join("reps.csv").exists());
}
