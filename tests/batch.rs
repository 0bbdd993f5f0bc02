//! `hinge batch` / `hinge merge`: every input gets a row with a status and a
//! reason, nothing finished is redone or lost after a kill, shards merge to
//! the unsharded result, and the deployment examples work as written.

mod common;
use common::{hinge, read_summary, repo, run, stderr, Table};
use std::path::{Path, PathBuf};
use std::process::Command;

const CLIP_A: &str = "samples/dev/dev_01_good_side_facing_left.mp4";
const CLIP_B: &str = "samples/dev/dev_12_idle_side_facing_right.mp4";
const CLIP_C: &str = "samples/dev/dev_10_squat_side_facing_left.mp4";

fn have_ffmpeg() -> bool {
    Command::new("ffmpeg").arg("-version").output().is_ok_and(|o| o.status.success())
}

fn ffmpeg(args: &[&str]) {
    let o = Command::new("ffmpeg").args(["-v", "error", "-y"]).args(args).output().unwrap();
    assert!(o.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

fn copy(src: &str, dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::copy(repo(src), &p).unwrap();
    p
}

fn batch(inputs: &[&Path], out: &Path, extra: &[&str]) -> std::process::Output {
    let mut c = hinge();
    c.arg("batch").args(inputs).arg("--out").arg(out).arg("-q").args(extra);
    run(c)
}

/// Rows of summary.csv keyed by file name.
fn rows(out: &Path, file: &str) -> std::collections::BTreeMap<String, (String, String, String)> {
    let t = Table::read(&out.join(file));
    (0..t.rows.len())
        .map(|r| {
            let name = Path::new(t.get(r, "path")).file_name().unwrap().to_string_lossy().to_string();
            (name, (t.get(r, "status").to_string(), t.get(r, "reason").to_string(), t.get(r, "reps").to_string()))
        })
        .collect()
}

#[test]
fn corpus_of_good_bad_and_real_videos() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("clinic");
    std::fs::create_dir_all(input.join("2026-11")).unwrap();
    copy(CLIP_A, &input, "good.mp4");
    copy("tests/fixtures/real/pose2sim_single_cam01_portrait60.mp4", &input.join("2026-11"), "lab.mp4");
    copy("tests/fixtures/real/sports2d_demo_outdoor_two_people.mp4", &input, "two_people.mp4");
    std::fs::write(input.join("zero.mp4"), b"").unwrap();
    std::fs::write(input.join("notes.mp4"), "not a video\n".repeat(50)).unwrap();
    let bytes = std::fs::read(repo(CLIP_B)).unwrap();
    std::fs::write(input.join("truncated.mp4"), &bytes[..bytes.len() / 2]).unwrap();
    std::fs::write(input.join("readme.txt"), "ignored: not a video extension").unwrap();
    let ff = have_ffmpeg();
    if ff {
        // a still image saved as .mp4, an empty room, and a phone-style rotated clip
        ffmpeg(&[
            "-i",
            repo(CLIP_A).to_str().unwrap(),
            "-frames:v",
            "1",
            "-c:v",
            "png",
            "-f",
            "image2",
            input.join("still.mp4").to_str().unwrap(),
        ]);
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "color=c=0x807060:s=320x240:d=2:r=15",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            input.join("empty_room.mp4").to_str().unwrap(),
        ]);
        // the person walks out: 1.5 s of the clip, then 4 s of the empty set
        let walks_out = input.join("walks_out.mp4");
        ffmpeg(&[
            "-i",
            repo(CLIP_A).to_str().unwrap(),
            "-f",
            "lavfi",
            "-i",
            "color=c=0xa8a29a:s=640x480:d=4:r=30",
            "-filter_complex",
            "[0:v]trim=duration=1.5,setpts=PTS-STARTPTS,fps=30,format=yuv420p[a];[1:v]format=yuv420p[b];[a][b]concat=n=2:v=1:a=0[v]",
            "-map",
            "[v]",
            "-c:v",
            "libx264",
            walks_out.to_str().unwrap(),
        ]);
        let turned = tmp.path().join("turned.mp4");
        ffmpeg(&[
            "-i",
            repo(CLIP_A).to_str().unwrap(),
            "-t",
            "2",
            "-vf",
            "transpose=2",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            turned.to_str().unwrap(),
        ]);
        ffmpeg(&[
            "-i",
            turned.to_str().unwrap(),
            "-c",
            "copy",
            // the phone's matrix (ffprobe rotation -90: display turned 90° clockwise, as
            // samples/dev_sessions/devs_02 has it); FFmpeg 5 writes it from the legacy tag
            // `rotate=270` (its `rotate=90` turns the other way: the clip would be upside down,
            // which hinge now refuses to measure)
            "-metadata:s:v:0",
            "rotate=270",
            input.join("phone.mp4").to_str().unwrap(),
        ]);
    }
    let out = tmp.path().join("out");
    let o = batch(&[&input, &tmp.path().join("missing.mp4")], &out, &["--jobs", "2"]);
    assert_eq!(o.status.code(), Some(3), "some videos failed: exit 3; {}", stderr(&o));
    let r = rows(&out, "summary.csv");
    let expect = |name: &str, status: &str, reason: &str| {
        let (s, why, _) = r.get(name).unwrap_or_else(|| panic!("no row for {name}: {r:?}"));
        assert_eq!(s, status, "{name}: {why}");
        assert!(why.contains(reason), "{name}: reason `{why}` should mention `{reason}`");
    };
    expect("good.mp4", "ok", "");
    expect("lab.mp4", "ok", "");
    expect("two_people.mp4", "multiple_people", "people in view");
    expect("zero.mp4", "no_frames", "no decodable video frames");
    expect("notes.mp4", "not_a_video", "not a video");
    // cut before any frame: no_frames; cut mid-stream: truncated. Either way the reason says so.
    let (s, why, _) = &r["truncated.mp4"];
    assert!(["truncated", "no_frames"].contains(&s.as_str()) && why.contains("truncated"), "truncated.mp4: {s} {why}");
    expect("missing.mp4", "not_found", "no such file");
    assert!(!r.contains_key("readme.txt"));
    if ff {
        expect("still.mp4", "too_short", "still image");
        expect("empty_room.mp4", "no_person", "no person");
        expect("walks_out.mp4", "subject_lost", "leave the frame");
        expect("phone.mp4", "ok", "");
        let dir = Table::read(&out.join("summary.csv"));
        let row = (0..dir.rows.len()).find(|&i| dir.get(i, "path").ends_with("phone.mp4")).unwrap();
        let summary = read_summary(&out.join(dir.get(row, "output_dir")));
        assert_eq!(
            (summary["width"].as_u64(), summary["height"].as_u64()),
            (Some(640), Some(480)),
            "phone clip upright"
        );
        assert_eq!(summary["rotation_deg"].as_u64(), Some(90), "turned 90° clockwise");
        assert_eq!(summary["view"]["upright"], serde_json::json!(true), "the person stands upright");
    }
    assert_eq!(r["good.mp4"].2, "2", "reps of the good clip");
    // per-video outputs exist and stay inside the output directory
    let t = Table::read(&out.join("summary.csv"));
    for i in 0..t.rows.len() {
        let dir = out.join(t.get(i, "output_dir"));
        assert!(dir.starts_with(&out) && dir.join("result.json").is_file(), "{}", dir.display());
    }
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains("good.mp4") && index.contains("not_a_video") && !index.contains("http"));
    let reps = Table::read(&out.join("reps.csv"));
    assert!(reps.rows.len() >= 2);
}

#[test]
fn all_ok_exits_zero_and_manifest_columns_are_carried() {
    let tmp = tempfile::tempdir().unwrap();
    copy(CLIP_A, tmp.path(), "a.mp4");
    copy(CLIP_B, tmp.path(), "b.mp4");
    std::fs::write(
        tmp.path().join("manifest.csv"),
        "path,patient,session_date,notes\na.mp4,P7,2026-02-01,first\nb.mp4,P7,2026-03-01,\"second, later\"\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = batch(&[&tmp.path().join("manifest.csv")], &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let t = Table::read(&out.join("summary.csv"));
    assert_eq!(t.rows.len(), 2);
    assert_eq!(t.get(0, "patient"), "P7");
    assert_eq!(t.get(1, "notes"), "second, later");
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains("Trend per patient") && index.contains("P7"));
}

#[test]
fn killed_batch_resumes_without_redoing_or_losing_work() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    for (i, c) in [CLIP_A, CLIP_B, CLIP_C, CLIP_A].iter().enumerate() {
        copy(c, &input, &format!("v{i}.mp4"));
    }
    let out = tmp.path().join("out");
    let mut child =
        hinge().arg("batch").arg(&input).arg("--out").arg(&out).args(["-q", "--jobs", "1"]).spawn().unwrap();
    // wait for the first finished video, then kill the run
    let started = std::time::Instant::now();
    let finished = |out: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(out.join("videos"))
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path().join("result.json")).filter(|p| p.is_file()).collect())
            .unwrap_or_default()
    };
    while finished(&out).is_empty() {
        assert!(started.elapsed().as_secs() < 120, "no video finished in time");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done = finished(&out);
    assert!(!done.is_empty() && done.len() < 4, "killed mid-batch ({} done)", done.len());
    let stamps: Vec<_> = done.iter().map(|p| (p.clone(), std::fs::metadata(p).unwrap().modified().unwrap())).collect();
    let o = batch(&[&input], &out, &["--jobs", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for (p, t) in stamps {
        assert_eq!(std::fs::metadata(&p).unwrap().modified().unwrap(), t, "{} was redone", p.display());
    }
    assert_eq!(finished(&out).len(), 4);
    assert_eq!(Table::read(&out.join("summary.csv")).rows.len(), 4);
    // no temporary files left behind by atomic writes of finished videos
    for p in finished(&out) {
        for e in std::fs::read_dir(p.parent().unwrap()).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().to_string();
            assert!(!name.ends_with(".tmp") && !name.contains(".tmp"), "leftover {name}");
        }
    }
    // --force redoes everything
    let o = batch(&[&input], &out, &["--force", "--jobs", "2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn shards_merge_to_the_unsharded_result() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    copy(CLIP_A, &input, "a.mp4");
    copy(CLIP_B, &input, "b.mp4");
    copy(CLIP_C, &input, "c.mp4");
    std::fs::write(input.join("bad.mp4"), "x").unwrap();
    let whole = tmp.path().join("whole");
    let _ = batch(&[&input], &whole, &[]);
    let (s0, s1) = (tmp.path().join("s0"), tmp.path().join("s1"));
    let _ = batch(&[&input], &s0, &["--shard", "0/2"]);
    let mut c = hinge();
    // the second shard takes its index from the environment, as in a Kubernetes Indexed Job
    c.arg("batch").arg(&input).arg("--out").arg(&s1).args(["-q", "--shard", "2"]).env("JOB_COMPLETION_INDEX", "1");
    let _ = run(c);
    assert!(s0.join("summary.shard-0-of-2.csv").is_file() && s1.join("summary.shard-1-of-2.csv").is_file());
    let merged = tmp.path().join("merged");
    let mut c = hinge();
    c.arg("merge").arg(&s0).arg(&s1).arg("--out").arg(&merged);
    let o = run(c);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(merged.join("summary.csv")).unwrap(), std::fs::read(whole.join("summary.csv")).unwrap());
    assert_eq!(std::fs::read(merged.join("reps.csv")).unwrap(), std::fs::read(whole.join("reps.csv")).unwrap());
    assert!(merged.join(Table::read(&merged.join("summary.csv")).get(0, "output_dir")).join("frames.csv").is_file());
}

#[test]
fn deployment_examples_run_as_written() {
    // the Kubernetes Indexed Job: its pods' command with JOB_COMPLETION_INDEX set, then merge
    let yaml = std::fs::read_to_string(repo("deploy/k8s-indexed-job.yaml")).unwrap();
    assert!(yaml.contains("completionMode: Indexed"));
    let completions: usize =
        yaml.lines().find_map(|l| l.trim().strip_prefix("completions:")).unwrap().trim().parse().unwrap();
    let line = yaml.lines().find(|l| l.contains("command:") && l.contains("hinge batch")).unwrap();
    let script = line.split("\"sh\", \"-c\", \"").nth(1).unwrap().trim_end_matches("\"]").to_string();
    assert!(script.contains(&format!("--shard {completions}")));
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    copy(CLIP_A, data, "a.mp4");
    copy(CLIP_B, data, "b.mp4");
    std::fs::write(data.join("bad.mp4"), "x").unwrap();
    std::fs::write(data.join("manifest.csv"), "path,patient\na.mp4,P1\nb.mp4,P2\nbad.mp4,P3\n").unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_hinge")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let script = script.replace("/data", data.to_str().unwrap());
    for index in 0..completions {
        let o = Command::new("sh")
            .args(["-c", &script])
            .env("PATH", &path)
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .output()
            .unwrap();
        assert!(o.status.success(), "pod {index}: {}", String::from_utf8_lossy(&o.stderr));
    }
    let merge = yaml.lines().find(|l| l.contains("command:") && l.contains("hinge merge")).unwrap();
    let merge = merge
        .split("\"sh\", \"-c\", \"")
        .nth(1)
        .unwrap()
        .trim_end_matches("\"]")
        .replace("/data", data.to_str().unwrap());
    let o = Command::new("sh").args(["-c", &merge]).env("PATH", &path).output().unwrap();
    assert!(o.status.success(), "merge: {}", String::from_utf8_lossy(&o.stderr));
    let t = Table::read(&data.join("out/all/summary.csv"));
    assert_eq!(t.rows.len(), 3);
    // the Slurm array script, task by task
    let sbatch = repo("deploy/slurm-array.sbatch");
    let tasks: usize = std::fs::read_to_string(&sbatch)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("#SBATCH --array=0-"))
        .unwrap()
        .trim()
        .parse::<usize>()
        .unwrap()
        + 1;
    for task in 0..tasks {
        let o = Command::new("bash")
            .arg(&sbatch)
            .arg(data.join("manifest.csv"))
            .arg(data.join("slurm"))
            .env("PATH", &path)
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .output()
            .unwrap();
        assert!(o.status.success(), "task {task}: {}", String::from_utf8_lossy(&o.stderr));
    }
    let mut c = hinge();
    c.arg("merge")
        .args((0..tasks).map(|t| data.join(format!("slurm/shard-{t}"))))
        .arg("--out")
        .arg(data.join("slurm/all"));
    assert!(run(c).status.success());
    assert_eq!(
        std::fs::read(data.join("slurm/all/summary.csv")).unwrap(),
        std::fs::read(data.join("out/all/summary.csv")).unwrap(),
        "same result both ways"
    );
}

#[test]
fn merge_of_a_folder_that_is_not_a_batch_output_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = hinge();
    c.arg("merge").arg(tmp.path()).arg("--out").arg(tmp.path().join("m"));
    let o = run(c);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not a batch output directory"), "{}", stderr(&o));
}

/// Where `file`'s outputs went, from summary.csv.
fn output_dir_of(out: &Path, file: &str) -> PathBuf {
    let t = Table::read(&out.join("summary.csv"));
    let row = (0..t.rows.len()).find(|&r| t.get(r, "path").ends_with(file)).unwrap_or_else(|| panic!("no row {file}"));
    out.join(t.get(row, "output_dir"))
}

#[test]
fn resume_retries_the_videos_that_failed_and_keeps_the_finished() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    copy(CLIP_A, &input, "a.mp4");
    copy(CLIP_B, &input, "b.mp4");
    let out = tmp.path().join("out");
    let o = batch(&[&input], &out, &["--jobs", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // b's outputs cannot be written (a folder where frames.csv goes, as a full or locked disk would do):
    // its row says error, with the same input and settings
    let b_dir = output_dir_of(&out, "b.mp4");
    std::fs::remove_file(b_dir.join("result.json")).unwrap();
    std::fs::remove_file(b_dir.join("frames.csv")).unwrap();
    std::fs::create_dir(b_dir.join("frames.csv")).unwrap();
    let o = batch(&[&input], &out, &["--jobs", "1"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(rows(&out, "summary.csv")["b.mp4"].0, "error");
    let a_result = output_dir_of(&out, "a.mp4").join("result.json");
    let a_stamp = std::fs::metadata(&a_result).unwrap().modified().unwrap();
    // the cause is gone: a resumed batch analyses b again and keeps a
    std::fs::remove_dir(b_dir.join("frames.csv")).unwrap();
    let o = batch(&[&input], &out, &["--jobs", "1"]);
    assert_eq!(o.status.code(), Some(0), "the failed video was not retried: {}", stderr(&o));
    let r = rows(&out, "summary.csv");
    assert_eq!((r["a.mp4"].0.as_str(), r["b.mp4"].0.as_str()), ("ok", "ok"));
    assert!(b_dir.join("frames.csv").is_file());
    assert_eq!(std::fs::metadata(&a_result).unwrap().modified().unwrap(), a_stamp, "a finished video was redone");
}

#[test]
fn merge_reports_every_result_it_cannot_read() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("a.mp4"), "not a video").unwrap();
    std::fs::write(input.join("b.mp4"), "not a video either").unwrap();
    std::fs::write(input.join("c.mp4"), "still not a video").unwrap();
    let (s0, s1) = (tmp.path().join("s0"), tmp.path().join("s1"));
    let _ = batch(&[&input], &s0, &["--shard", "0/2"]);
    let _ = batch(&[&input], &s1, &["--shard", "1/2"]);
    let results = |d: &Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d.join("videos"))
            .unwrap()
            .map(|e| e.unwrap().path().join("result.json"))
            .filter(|p| p.is_file())
            .collect();
        v.sort();
        v
    };
    let (r0, r1) = (results(&s0), results(&s1));
    assert_eq!(r0.len() + r1.len(), 3);
    // one result damaged, one video unfinished (its folder without result.json)
    let damaged = r0[0].clone();
    std::fs::write(&damaged, "{\"path\": ").unwrap();
    let unfinished = r1[0].clone();
    std::fs::remove_file(&unfinished).unwrap();
    let merged = tmp.path().join("merged");
    let mut c = hinge();
    c.arg("merge").arg(&s0).arg(&s1).arg("--out").arg(&merged);
    let o = run(c);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "a merge that leaves videos out is not a success: {err}");
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("hinge: warning:")).collect();
    assert_eq!(warnings.len(), 2, "one line per bad result: {err}");
    assert!(warnings.iter().any(|l| l.contains(&*damaged.to_string_lossy()) && l.contains("cannot read")), "{err}");
    assert!(warnings.iter().any(|l| l.contains(&*unfinished.to_string_lossy()) && l.contains("missing")), "{err}");
    assert!(err.contains("hinge: error: 2 video folder(s) left out"), "{err}");
    // the readable one is merged all the same
    assert_eq!(Table::read(&merged.join("summary.csv")).rows.len(), 1);
}
