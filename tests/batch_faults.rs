//! Faults injected into `hinge batch`: `kill -9` mid-video and mid-write, a
//! full disk (a small tmpfs), a read-only output folder, and streams that
//! never end or never start under the per-video time limit. Every finished
//! result stays intact, the run resumes, and each problem is said in plain
//! words. The mounts need root (tests run as root here); where mounting is
//! refused, the disk-full test uses a file size limit (`ulimit -f`) and the
//! read-only test an unprivileged user instead, or says why it skips.

mod common;
use common::{hinge, repo, run_with_timeout, stderr, Table};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

const CLIP_A: &str = "samples/dev/dev_01_good_side_facing_left.mp4";
const CLIP_B: &str = "samples/dev/dev_02_good_side_facing_right.mp4";
const CLIP_C: &str = "samples/dev/dev_12_idle_side_facing_right.mp4";

/// Longest a batch here may run before it counts as a hang.
const HANG: Duration = Duration::from_secs(150);

fn have_ffmpeg() -> bool {
    Command::new("ffmpeg").arg("-version").output().is_ok_and(|o| o.status.success())
}

/// The first `SHORT_S` seconds of a sample clip, so that each batch takes little time.
const SHORT_S: &str = "1.2";

fn short_clip(src: &str, dst: &Path) {
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(repo(src))
        .args(["-t", SHORT_S, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-an"])
        .arg(dst)
        .output()
        .unwrap();
    assert!(o.status.success(), "ffmpeg: {}", String::from_utf8_lossy(&o.stderr));
}

/// Three short clips a.mp4, b.mp4, c.mp4 in `dir/in`, or `None` (printed) without ffmpeg.
fn three_clips(dir: &Path) -> Option<PathBuf> {
    if !have_ffmpeg() {
        eprintln!("SKIPPED: ffmpeg is not installed; the short test clips cannot be made");
        return None;
    }
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    for (name, clip) in [("a.mp4", CLIP_A), ("b.mp4", CLIP_B), ("c.mp4", CLIP_C)] {
        short_clip(clip, &input.join(name));
    }
    Some(input)
}

fn batch(inputs: &[&Path], out: &Path, extra: &[&str]) -> Command {
    let mut c = hinge();
    c.arg("batch").args(inputs).arg("--out").arg(out).args(["--jobs", "1"]).args(extra);
    c
}

/// Rows of summary.csv by file name: (status, reason).
fn rows(out: &Path) -> BTreeMap<String, (String, String)> {
    let t = Table::read(&out.join("summary.csv"));
    (0..t.rows.len())
        .map(|r| {
            let name = Path::new(t.get(r, "path")).file_name().unwrap().to_string_lossy().to_string();
            (name, (t.get(r, "status").to_string(), t.get(r, "reason").to_string()))
        })
        .collect()
}

/// The per-video folder of input `stem` (`videos/<stem>-<hash>`), if any.
fn video_dir(out: &Path, stem: &str) -> Option<PathBuf> {
    let prefix = format!("{stem}-");
    std::fs::read_dir(out.join("videos"))
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(&prefix))
}

/// Every file of a folder: name → (bytes, modification time).
fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, SystemTime)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            (name, (std::fs::read(&p).unwrap(), std::fs::metadata(&p).unwrap().modified().unwrap()))
        })
        .collect()
}

/// Temporary files (`.NAME.tmpPID`) anywhere under `out`.
fn temp_files(out: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![out.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.file_name().unwrap().to_string_lossy().contains(".tmp") {
                found.push(p);
            }
        }
    }
    found
}

/// Starts a batch with the mid-write test hook set to `point`, waits until
/// it pauses there, and kills it with SIGKILL. Returns the temporary file it
/// was writing.
fn kill_mid_write(inputs: &Path, out: &Path, point: &str) -> PathBuf {
    let mut c = batch(&[inputs], out, &["-q"]);
    let mut child = c
        .env("HINGE_TEST_PAUSE_MID_WRITE", point)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    let (tx, rx) = std::sync::mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let tmp = loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                if let Some(path) = line.strip_prefix("hinge: test hook: paused mid-write of ") {
                    break PathBuf::from(path);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                let status = child.wait().unwrap();
                panic!("{point}: the batch ended ({status}) without reaching the hook");
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{point}: the batch ended ({status}) without reaching the hook");
        }
        assert!(started.elapsed() < HANG, "{point}: the hook was not reached in time");
    };
    child.kill().unwrap(); // SIGKILL: no destructor, no clean-up runs
    child.wait().unwrap();
    assert!(tmp.is_file(), "{}: the half-written temporary file", tmp.display());
    tmp
}

#[test]
fn kill_9_mid_video_and_mid_write_then_resume_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(input) = three_clips(tmp.path()) else { return };
    // what an uninterrupted run writes
    let reference = tmp.path().join("reference");
    let o = run_with_timeout(batch(&[&input], &reference, &["-q"]), HANG, "reference batch");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let out = tmp.path().join("out");
    // 1. killed mid-video: half-way through b's frames.csv (a finished, c not started)
    let half = kill_mid_write(&input, &out, "frames.csv@2");
    let (a_dir, b_dir) = (video_dir(&out, "a").unwrap(), video_dir(&out, "b").unwrap());
    assert_eq!(half.parent(), Some(b_dir.as_path()));
    assert!(a_dir.join("result.json").is_file() && !b_dir.join("result.json").exists());
    assert!(!b_dir.join("frames.csv").exists(), "no half-written file under its final name");
    assert!(video_dir(&out, "c").is_none() && !out.join("summary.csv").exists());
    let a_files = snapshot(&a_dir);

    // 2. resumed, killed again half-way through b's result.json: b stays unfinished
    let half = kill_mid_write(&input, &out, "result.json@1");
    assert_eq!(half.parent(), Some(b_dir.as_path()));
    assert!(!b_dir.join("result.json").exists(), "a half-written result.json under its name");
    assert_eq!(temp_files(&b_dir), vec![half], "the first kill's temporary file was cleared");

    // 3. resumed, killed half-way through the summary table: no half table is visible
    let half = kill_mid_write(&input, &out, "summary.csv@1");
    assert_eq!(half.parent(), Some(out.as_path()));
    assert!(!out.join("summary.csv").exists());
    for stem in ["a", "b", "c"] {
        assert!(video_dir(&out, stem).unwrap().join("result.json").is_file(), "{stem} finished");
    }
    let finished: Vec<_> = ["b", "c"].iter().map(|s| snapshot(&video_dir(&out, s).unwrap())).collect();

    // 4. resumed to the end: nothing redone, nothing left over, the tables complete
    let o = run_with_timeout(batch(&[&input], &out, &[]), HANG, "resumed batch");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("0 analysed now, 3 done before"), "{}", stderr(&o));
    assert_eq!(snapshot(&a_dir), a_files, "a finished video was changed");
    for (stem, before) in ["b", "c"].iter().zip(&finished) {
        assert_eq!(&snapshot(&video_dir(&out, stem).unwrap()), before, "{stem} was changed");
    }
    assert_eq!(temp_files(&out), Vec::<PathBuf>::new(), "temporary files left behind");
    for table in ["summary.csv", "reps.csv"] {
        assert_eq!(
            std::fs::read(out.join(table)).unwrap(),
            std::fs::read(reference.join(table)).unwrap(),
            "{table} differs from an uninterrupted run"
        );
    }
    for stem in ["a", "b", "c"] {
        let (got, want) = (video_dir(&out, stem).unwrap(), video_dir(&reference, stem).unwrap());
        for file in ["result.json", "frames.csv", "reps.csv"] {
            assert_eq!(
                std::fs::read(got.join(file)).unwrap(),
                std::fs::read(want.join(file)).unwrap(),
                "{stem}/{file} differs from an uninterrupted run"
            );
        }
    }
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    /// Mounts a tmpfs with `options` at `at`; `Err` with the reason when not permitted.
    fn tmpfs(at: &Path, options: &str) -> Result<Mount, String> {
        std::fs::create_dir_all(at).unwrap();
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(at)
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if !o.status.success() {
            return Err(format!("mount -t tmpfs: {}", String::from_utf8_lossy(&o.stderr).trim()));
        }
        Ok(Mount(at.to_path_buf()))
    }

    fn remount(&self, options: &str) {
        let o = Command::new("mount").args(["-o", &format!("remount,{options}")]).arg(&self.0).output().unwrap();
        assert!(o.status.success(), "remount {options}: {}", String::from_utf8_lossy(&o.stderr));
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).output();
    }
}

/// Free bytes on the file system of `dir`.
fn free_bytes(dir: &Path) -> u64 {
    let o = Command::new("df").args(["-B1", "--output=avail"]).arg(dir).output().unwrap();
    String::from_utf8_lossy(&o.stdout).lines().nth(1).unwrap().trim().parse().unwrap()
}

#[test]
fn a_full_disk_is_said_in_plain_words_keeps_the_finished_and_resumes_once_freed() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(input) = three_clips(tmp.path()) else { return };
    let disk = tmp.path().join("disk");
    let mount = Mount::tmpfs(&disk, "size=1m");
    if let Err(why) = &mount {
        eprintln!("NOTE: {why}; a file size limit (ulimit -f) stands in for the full disk");
    }
    let out = disk.join("out");
    // a finishes while there is room
    let o = run_with_timeout(batch(&[&input.join("a.mp4")], &out, &["-q"]), HANG, "first batch");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let a_dir = video_dir(&out, "a").unwrap();
    let a_files = snapshot(&a_dir);
    // then the disk fills up: 48 kB left, less than a video's outputs, more than the tables
    let ballast = disk.join("ballast");
    let mut full = batch(&[&input], &out, &[]);
    let words = match &mount {
        Ok(_) => {
            let fill = free_bytes(&disk).saturating_sub(48 * 1024);
            std::fs::write(&ballast, vec![0u8; fill as usize]).unwrap();
            "disk full (no space left on the device)"
        }
        Err(_) => {
            use std::os::unix::process::CommandExt;
            // SAFETY: only setrlimit between fork and exec.
            unsafe {
                full.pre_exec(|| {
                    let limit = libc::rlimit { rlim_cur: 48 * 1024, rlim_max: libc::RLIM_INFINITY };
                    if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            "file size limit reached"
        }
    };
    let o = run_with_timeout(full, HANG, "batch on a full disk");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "a full disk is not a verdict on the videos: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let once = format!("hinge: error: {}: {words}", out.display());
    assert_eq!(err.lines().filter(|l| l.starts_with(&once)).count(), 1, "said once: {err}");
    assert!(err.contains("free space and run the same command again"), "{err}");
    let r = rows(&out);
    assert_eq!(r["a.mp4"].0, "ok");
    assert!(r["b.mp4"].0 == "error" && r["b.mp4"].1.contains(words), "b: {:?}", r["b.mp4"]);
    assert!(r["c.mp4"].1.starts_with("not analysed") && r["c.mp4"].1.contains(words), "c: {:?}", r["c.mp4"]);
    assert_eq!(snapshot(&a_dir), a_files, "the finished video was touched");
    assert!(video_dir(&out, "b").is_none(), "b's partial files were not cleared to give the space back");
    assert_eq!(temp_files(&out), Vec::<PathBuf>::new(), "temporary files hold on to the space");
    // space freed: the same command finishes the rest and leaves a alone
    let _ = std::fs::remove_file(&ballast);
    let o = run_with_timeout(batch(&[&input], &out, &[]), HANG, "resumed batch");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("2 analysed now, 1 done before"), "{}", stderr(&o));
    assert!(rows(&out).values().all(|(s, _)| s == "ok"), "{:?}", rows(&out));
    assert_eq!(snapshot(&a_dir), a_files, "the finished video was redone");
}

#[test]
fn a_read_only_output_folder_is_refused_up_front_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let clip = repo(CLIP_C);
    let place = tmp.path().join("share");
    let check = |out: &Path, o: &Output, words: &str| {
        let err = stderr(o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines, vec![format!("hinge: error: {}: cannot write: {words}", out.display())], "one line");
    };
    match Mount::tmpfs(&place, "size=256k") {
        Ok(mount) => {
            // the folder of an earlier run, on a share that has become read-only since
            let out = place.join("out");
            std::fs::create_dir_all(out.join("videos")).unwrap();
            mount.remount("ro");
            let words = "read-only file system (the folder cannot be written)";
            let o = run_with_timeout(batch(&[&clip], &out, &[]), HANG, "read-only batch");
            check(&out, &o, words);
            // and a new folder that cannot be made there
            let fresh = place.join("new");
            let o = run_with_timeout(batch(&[&clip], &fresh, &[]), HANG, "read-only batch");
            check(&fresh, &o, words);
        }
        Err(why) => {
            // root writes through permissions: an unprivileged user meets them
            let setpriv = Command::new("setpriv").arg("--version").output().is_ok_and(|o| o.status.success());
            if !setpriv {
                eprintln!("SKIPPED: {why}, and no setpriv to run as an unprivileged user");
                return;
            }
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
            let out = tmp.path().join("locked");
            std::fs::create_dir_all(out.join("videos")).unwrap();
            std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).unwrap();
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_hinge")]);
            c.arg("batch").arg(&clip).arg("--out").arg(&out);
            let o = run_with_timeout(c, HANG, "batch as nobody");
            check(&out, &o, "permission denied (this user may not write there)");
        }
    }
}

/// Makes a named pipe.
fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo {}", path.display());
}

/// A writer that opens `fifo` and never writes: a stalled stream.
fn stalled_writer(fifo: &Path) -> Child {
    Command::new("sh").arg("-c").arg("exec sleep 600 > \"$0\"").arg(fifo).spawn().unwrap()
}

/// Ends a helper process of the test.
fn end(mut child: Child) {
    child.kill().ok();
    child.wait().ok();
}

#[test]
fn an_endless_and_a_stalled_stream_time_out_and_the_batch_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    if !have_ffmpeg() {
        eprintln!("SKIPPED: ffmpeg is not installed; no stream can be made");
        return;
    }
    let input = tmp.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    short_clip(CLIP_A, &input.join("a.mp4"));
    // a camera feed that never ends: the clip looped forever into a named pipe
    let endless = input.join("endless.mkv");
    mkfifo(&endless);
    let writer = Command::new("ffmpeg")
        .args(["-v", "quiet", "-y", "-stream_loop", "-1", "-i"])
        .arg(repo(CLIP_C))
        .args(["-c", "copy", "-f", "matroska"])
        .arg(&endless)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    // and one whose writer never sends a byte
    let stalled = input.join("stalled.mkv");
    mkfifo(&stalled);
    let sleeper = stalled_writer(&stalled);
    let out = tmp.path().join("out");
    // a worker each: the clip's time is its own (8 s is ample for a 1.2 s clip even on a busy machine)
    let mut c = hinge();
    c.arg("batch").arg(&input).arg("--out").arg(&out).args(["-q", "--jobs", "3", "--video-timeout", "8"]);
    let o = run_with_timeout(c, HANG, "batch with endless streams");
    end(writer);
    end(sleeper);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let r = rows(&out);
    assert_eq!(r["a.mp4"].0, "ok", "the others finish: {r:?}");
    for name in ["endless.mkv", "stalled.mkv"] {
        let (status, reason) = &r[name];
        assert_eq!(status, "timed_out", "{name}: {reason}");
        assert!(reason.starts_with("took longer than 8 s"), "{name}: {reason}");
    }
}

#[test]
fn analyze_reads_a_named_pipe_once_and_sigterm_ends_a_stalled_one() {
    let tmp = tempfile::tempdir().unwrap();
    if !have_ffmpeg() {
        eprintln!("SKIPPED: ffmpeg is not installed; no stream can be made");
        return;
    }
    let clip = tmp.path().join("a.mp4");
    short_clip(CLIP_A, &clip);
    let fifo = tmp.path().join("once.mkv");
    mkfifo(&fifo);
    let writer = Command::new("ffmpeg")
        .args(["-v", "quiet", "-y", "-i"])
        .arg(&clip)
        .args(["-c", "copy", "-f", "matroska"])
        .arg(&fifo)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let out = tmp.path().join("out");
    // a worker each: the clip's time is its own (8 s is ample for a 1.2 s clip even on a busy machine)
    let mut c = hinge();
    c.arg("analyze").arg(&fifo).arg("--out").arg(&out);
    let o = run_with_timeout(c, HANG, "analyze of a named pipe");
    end(writer);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("can be read only once: annotated.mp4 and report.html are not drawn"), "{err}");
    assert!(out.join("frames.csv").is_file() && out.join("summary.json").is_file());
    assert!(!out.join("annotated.mp4").exists());
    // a pipe that never delivers: no answer, but SIGTERM (or Ctrl-C) ends the wait at once
    let stalled = tmp.path().join("stalled.mkv");
    mkfifo(&stalled);
    let sleeper = stalled_writer(&stalled);
    let mut child = hinge()
        .arg("analyze")
        .arg(&stalled)
        .arg("--out")
        .arg(tmp.path().join("never"))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "still waiting for the stream");
    // SAFETY: a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) }, 0);
    let asked = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(asked.elapsed() < Duration::from_secs(10), "SIGTERM did not end hinge analyze");
        std::thread::sleep(Duration::from_millis(50));
    };
    end(sleeper);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status}");
}
