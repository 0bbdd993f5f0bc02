//! Whatever a clinic feeds it: tools/make_bad_inputs.sh builds a corpus of bad
//! and unusual inputs (broken files, rotation tags, codecs, odd sizes, no
//! person, two people, stills, odd names ...) into a temporary directory, and
//! hinge must take every one of them: analysed (exit 0, summary.json written)
//! or refused with exactly one clear stderr line naming the file and the cause
//! (exit 1) — never a panic, never a hang. `hinge batch` over the whole corpus
//! exits 3 with a reason in every failed row and every finished result intact.

mod common;
use common::{hinge, read_summary, repo, run_with_timeout, stderr, Table};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Longest one input may take before it counts as a hang.
const PER_INPUT: Duration = Duration::from_secs(120);

fn ffmpeg_available() -> bool {
    Command::new("ffmpeg").arg("-version").output().is_ok_and(|o| o.status.success())
}

/// Builds the corpus into `dir` with the repository's script.
fn make_corpus(dir: &Path) {
    let started = Instant::now();
    let o = Command::new("bash").arg(repo("tools/make_bad_inputs.sh")).arg(dir).output().expect("bash runs");
    assert!(o.status.success(), "make_bad_inputs.sh failed: {}", String::from_utf8_lossy(&o.stderr));
    let notes = String::from_utf8_lossy(&o.stderr);
    if !notes.trim().is_empty() {
        eprintln!("make_bad_inputs.sh: {}", notes.trim());
    }
    eprintln!("corpus made in {:.1} s", started.elapsed().as_secs_f64());
}

fn corpus_entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    v
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().to_string()
}

/// How an input must come out of `hinge analyze`, where the corpus pins it.
enum Expect {
    /// Analysed with reps measured or not; `upright` as given.
    Analysed { upright: Option<bool> },
    /// Refused; stderr mentions the cause.
    Refused(&'static str),
}

fn expected(name: &str) -> Option<Expect> {
    use Expect::*;
    Some(match name {
        "zero_bytes.mp4" => Refused("no decodable video frames"),
        "text_renamed.mp4" => Refused("not a video"),
        "audio_only.mp4" => Refused("no video track (the file holds audio only)"),
        "dangling_link.mp4" => Refused("no such file"),
        "folder_named_like_a.mp4" => Refused("is a directory"),
        "no_person_colour.mp4" => Analysed { upright: None },
        "rotation_tag_90.mp4" | "rotation_tag_180.mp4" | "rotation_tag_270.mp4" => Analysed { upright: Some(false) },
        "base_h264.mp4"
        | "mirrored_hflip.mp4"
        | "h264_10bit.mp4"
        | "odd_size_333x251.mp4"
        | "upscaled_4k.mp4"
        | "vfr.mp4"
        | "mjpeg.avi"
        | "prores.mov"
        | "vp9.webm"
        | "hevc.mp4"
        | "av1.mp4"
        | "damaged_middle.mp4"
        | "clínica ü — séance 2.mp4"
        | "two_people.mp4"
        | "one_frame.mp4"
        | "still.png"
        | "still.jpg" => Analysed { upright: Some(true) },
        _ => return None,
    })
}

/// The corpus made in a fresh temporary directory (kept while the `TempDir`
/// lives), or `None`, with a printed reason, when ffmpeg is missing.
fn corpus() -> Option<(tempfile::TempDir, std::path::PathBuf)> {
    if !ffmpeg_available() {
        eprintln!("SKIPPED: ffmpeg is not installed; the bad-input corpus cannot be made");
        return None;
    }
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    make_corpus(&corpus);
    Some((tmp, corpus))
}

#[test]
fn every_bad_input_is_analysed_or_refused_in_one_line() {
    let Some((tmp, corpus)) = corpus() else { return };
    let entries = corpus_entries(&corpus);
    assert!(entries.len() >= 24, "corpus too small: {entries:?}");
    let mut failures = Vec::new();
    for (k, input) in entries.iter().enumerate() {
        let name = file_name(input);
        let out = tmp.path().join(format!("analyze_{k}"));
        let mut c = hinge();
        c.arg("analyze").arg(input).arg("--out").arg(&out).arg("--no-video").arg("--quiet");
        let o = run_with_timeout(c, PER_INPUT, &format!("hinge analyze {name}"));
        let err = stderr(&o);
        let code = o.status.code();
        let mut check = |ok: bool, what: String| {
            if !ok {
                failures.push(format!("{name}: {what} (exit {code:?}; stderr: {err})"));
            }
        };
        check(!err.contains("panicked") && code != Some(101), "panicked".into());
        check(code.is_some(), "killed by a signal".into());
        match code {
            Some(0) => {
                let summary = std::fs::read_to_string(out.join("summary.json"));
                check(summary.is_ok(), "exit 0 without summary.json".into());
                let s: serde_json::Value = summary.ok().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
                check(s["frames"].as_u64().is_some_and(|n| n > 0), "summary.json without frames".into());
                match expected(&name) {
                    Some(Expect::Refused(cause)) => check(false, format!("analysed, expected refused ({cause})")),
                    Some(Expect::Analysed { upright }) => {
                        let got = s["view"]["upright"].as_bool();
                        check(got == upright, format!("view.upright {got:?}, expected {upright:?}"));
                        if upright == Some(false) {
                            check(s["reps"].as_array().is_some_and(|r| r.is_empty()), "reps measured".into());
                        }
                    }
                    None => {}
                }
            }
            Some(_) => {
                let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
                check(lines.len() == 1, format!("{} stderr lines, expected one", lines.len()));
                let line = lines.first().copied().unwrap_or("");
                check(line.starts_with("hinge: error: "), "not a `hinge: error:` line".into());
                check(line.contains(&name), "the line does not name the file".into());
                check(code == Some(1), "refused with an exit code other than 1".into());
                check(!out.join("summary.json").exists(), "refused but summary.json written".into());
                match expected(&name) {
                    Some(Expect::Refused(cause)) => check(line.contains(cause), format!("cause `{cause}` not said")),
                    Some(Expect::Analysed { .. }) => check(false, "refused, expected analysed".into()),
                    None => {}
                }
            }
            None => {}
        }
        eprintln!("{name}: exit {code:?} {}", err.lines().next().unwrap_or(""));
    }
    assert!(failures.is_empty(), "{} input(s) mishandled:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn batch_over_the_corpus_gives_every_failure_a_reason() {
    let Some((tmp, corpus)) = corpus() else { return };
    let out = tmp.path().join("batch");
    let mut c = hinge();
    // the whole directory, plus a still image and the dangling link named on their own
    c.arg("batch")
        .arg(&corpus)
        .arg(corpus.join("still.png"))
        .arg(corpus.join("dangling_link.mp4"))
        .arg("--out")
        .arg(&out)
        .arg("--jobs")
        .arg("2")
        .arg("--quiet");
    let entries = corpus_entries(&corpus).len() as u32;
    let o = run_with_timeout(c, PER_INPUT * entries, "hinge batch");
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(o.status.code(), Some(3), "some videos fail: exit 3; {err}");
    let t = Table::read(&out.join("summary.csv"));
    let row_of = |name: &str| (0..t.rows.len()).find(|&r| t.get(r, "path").ends_with(name));
    let status = |name: &str| row_of(name).map(|r| t.get(r, "status").to_string());
    // every video file of the corpus has its row (the folder named like a video is searched, not a row)
    for input in corpus_entries(&corpus) {
        let name = file_name(&input);
        let is_video = [".mp4", ".mov", ".avi", ".webm"].iter().any(|e| name.ends_with(e));
        if is_video && input.is_file() {
            assert!(row_of(&name).is_some(), "no row for {name}");
        }
    }
    for r in 0..t.rows.len() {
        let (path, st, reason) = (t.get(r, "path"), t.get(r, "status"), t.get(r, "reason"));
        assert!(!st.is_empty(), "{path}: no status");
        if st != "ok" {
            assert!(!reason.trim().is_empty(), "{path}: status {st} without a reason");
        }
        // a finished analysis left its outputs whole
        let dir = t.get(r, "output_dir");
        if !dir.is_empty() && !["not_found", "unreadable", "not_a_video", "no_frames", "error"].contains(&st) {
            let d = out.join(dir);
            let result: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(d.join("result.json")).unwrap()).unwrap();
            assert_eq!(result["status"].as_str(), Some(st), "{path}: result.json");
            let s = read_summary(&d);
            let frames = Table::read(&d.join("frames.csv")).rows.len() as u64;
            assert_eq!(s["frames"].as_u64(), Some(frames), "{path}: frames.csv against summary.json");
        }
    }
    assert_eq!(status("base_h264.mp4").as_deref(), Some("ok"));
    assert_eq!(status("clínica ü — séance 2.mp4").as_deref(), Some("ok"));
    assert_eq!(status("zero_bytes.mp4").as_deref(), Some("no_frames"));
    assert_eq!(status("text_renamed.mp4").as_deref(), Some("not_a_video"));
    assert_eq!(status("audio_only.mp4").as_deref(), Some("not_a_video"));
    assert_eq!(status("no_person_colour.mp4").as_deref(), Some("no_person"));
    assert_eq!(status("still.png").as_deref(), Some("too_short"));
    assert_eq!(status("dangling_link.mp4").as_deref(), Some("not_found"));
    for r in ["rotation_tag_90.mp4", "rotation_tag_180.mp4", "rotation_tag_270.mp4"] {
        assert_eq!(status(r).as_deref(), Some("not_upright"), "{r}");
    }
}
