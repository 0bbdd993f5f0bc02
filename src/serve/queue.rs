//! The worker pool. Each worker thread takes the oldest queued analysis from
//! the database and runs it as a child process (`hinge serve-worker`):
//!
//! * the child writes into `work/<id>/`; on success the folder is renamed to
//!   the analysis's folder and the row marked done (with its reps) in one
//!   transaction, so a kill at any moment leaves either no record or a whole
//!   one, and start-up puts `running` rows back in the queue;
//! * the child gets SIGKILL when the server dies (`PR_SET_PDEATHSIG`), runs
//!   in its own process group (a Ctrl-C in the terminal stops the server,
//!   which then stops it), and is killed past the time limit;
//! * a crash of the child fails that analysis with the reason, not the server.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::db::{Claimed, Db};
use super::store::DataDir;
use super::worker::{ProgressLine, RESULT_FILE};
use super::{ServeOptions, WorkerCommand};
use crate::batch::{read_result_checked, JobStage, VideoResult};

/// How far a running analysis is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Progress {
    pub stage: JobStage,
    pub done: u64,
    pub total: Option<u64>,
    /// 0..100 over both stages (analysing is the first 80%).
    pub percent: f64,
}

impl Progress {
    fn of(line: ProgressLine) -> Progress {
        let share = line.total.filter(|t| *t > 0).map_or(0.0, |t| (line.done as f64 / t as f64).min(1.0));
        let percent = match line.stage {
            JobStage::Analysing => 80.0 * share,
            JobStage::Drawing => 80.0 + 20.0 * share,
        };
        Progress { stage: line.stage, done: line.done, total: line.total, percent: (percent * 10.0).round() / 10.0 }
    }
}

/// The pool and what it knows of the running analyses.
pub struct Queue {
    db: Arc<Db>,
    store: DataDir,
    command: WorkerCommand,
    time_limit: Duration,
    progress: Mutex<HashMap<i64, Progress>>,
    /// Process ids of the running children, by analysis.
    children: Mutex<HashMap<i64, u32>>,
    wake: (Mutex<u64>, Condvar),
    stopping: AtomicBool,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

/// How often an idle worker looks at the queue without being woken.
const IDLE_POLL: Duration = Duration::from_secs(2);
/// How often a worker checks its child.
const CHILD_POLL: Duration = Duration::from_millis(100);
/// Lines of the child's stderr kept for a failure's reason.
const STDERR_LINES: usize = 20;

impl Queue {
    /// Starts `options.workers` worker threads.
    pub fn start(db: Arc<Db>, store: DataDir, options: &ServeOptions) -> std::io::Result<Arc<Queue>> {
        let queue = Arc::new(Queue {
            db,
            store,
            command: options.worker_command.clone(),
            time_limit: options.analysis_time_limit,
            progress: Mutex::new(HashMap::new()),
            children: Mutex::new(HashMap::new()),
            wake: (Mutex::new(0), Condvar::new()),
            stopping: AtomicBool::new(false),
            threads: Mutex::new(Vec::new()),
        });
        let mut threads = Vec::new();
        for i in 0..options.workers {
            let q = Arc::clone(&queue);
            threads.push(std::thread::Builder::new().name(format!("hinge-worker-{i}")).spawn(move || q.work())?);
        }
        *queue.threads.lock().unwrap_or_else(|e| e.into_inner()) = threads;
        Ok(queue)
    }

    /// Wakes the workers: new work was queued.
    pub fn notify(&self) {
        let (lock, cv) = &self.wake;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        cv.notify_all();
    }

    /// The progress of a running analysis, if it has reported any.
    pub fn progress(&self, analysis_id: i64) -> Option<Progress> {
        self.progress.lock().unwrap_or_else(|e| e.into_inner()).get(&analysis_id).copied()
    }

    /// Stops the workers: running children are killed, their analyses left
    /// `running` for the caller to put back in the queue.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        for pid in self.children.lock().unwrap_or_else(|e| e.into_inner()).values() {
            // SAFETY: kill(2) on a child we started and have not reaped (its worker waits for it)
            unsafe { libc::kill(*pid as libc::pid_t, libc::SIGKILL) };
        }
        self.notify();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        for t in threads {
            let _ = t.join();
        }
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    fn work(&self) {
        while !self.stopping() {
            let seen = *self.wake.0.lock().unwrap_or_else(|e| e.into_inner());
            match self.db.claim_next() {
                Ok(Some(job)) => self.run(job),
                Ok(None) => {
                    let (lock, cv) = &self.wake;
                    let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
                    if *guard == seen && !self.stopping() {
                        let _ = cv.wait_timeout(guard, IDLE_POLL);
                    }
                }
                Err(e) => {
                    tracing::error!("{e}");
                    std::thread::sleep(IDLE_POLL);
                }
            }
        }
    }

    fn run(&self, job: Claimed) {
        let outcome = self.run_child(&job);
        self.progress.lock().unwrap_or_else(|e| e.into_inner()).remove(&job.id);
        if self.stopping() {
            // killed by the stop: the analysis goes back to the queue
            return;
        }
        let recorded = match outcome {
            Ok(result) => self.db.finish(job.id, &result).map(|_| ()),
            Err(reason) => self.db.fail(job.id, &reason),
        };
        if let Err(e) = recorded {
            tracing::error!("analysis {}: {e}", job.id);
        }
    }

    /// Runs the child; the result (files in place) or the reason it failed.
    fn run_child(&self, job: &Claimed) -> Result<VideoResult, String> {
        let video_rel = DataDir::video_rel(&job.video_sha256);
        if !self.store.video_path(&job.video_sha256).is_file() {
            return Err("the stored video is missing from the data directory".into());
        }
        let work = self.store.work_dir(job.id);
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).map_err(|e| format!("cannot create the work folder: {e}"))?;
        let mut command = Command::new(&self.command.program);
        command
            .args(&self.command.args)
            .arg("serve-worker")
            .arg("--video")
            .arg(&video_rel)
            .arg("--out")
            .arg(DataDir::work_rel(job.id))
            // a name shown in the outputs, passed as text: never a path
            .arg(format!("--shown-as={}", job.original_name.as_deref().unwrap_or("video")))
            .current_dir(self.store.root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let server = std::process::id();
        // SAFETY: only async-signal-safe calls between fork and exec
        unsafe {
            command.pre_exec(move || {
                // own process group: a terminal's Ctrl-C reaches the server, which stops the child
                libc::setpgid(0, 0);
                // die with the server (SIGKILL when the thread that started us ends)
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0);
                if libc::getppid() as u32 != server {
                    // the server died before the line above: do not run orphaned
                    libc::_exit(1);
                }
                Ok(())
            });
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start the analysis ({}): {e}", self.command.program.display()))?;
        self.children.lock().unwrap_or_else(|e| e.into_inner()).insert(job.id, child.id());
        let ended = self.watch(job.id, &mut child);
        self.children.lock().unwrap_or_else(|e| e.into_inner()).remove(&job.id);
        let (status, stderr) = ended?;
        if !status.success() {
            return Err(child_failure(status, &stderr, &video_rel));
        }
        let mut result = read_result_checked(&work.join(RESULT_FILE))
            .map_err(|e| format!("the analysis left no readable result: {e}"))?;
        result.reason = plain_reason(&result.reason, &video_rel);
        let target = self.store.output_dir(&job.video_sha256, &job.settings_sha256);
        self.store.put_in_place(&work, &target).map_err(|e| format!("cannot store the results: {e}"))?;
        Ok(result)
    }

    /// Follows a child to its end: progress from its stdout, the tail of its
    /// stderr, the time limit.
    fn watch(&self, id: i64, child: &mut Child) -> Result<(std::process::ExitStatus, Vec<String>), String> {
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        std::thread::scope(|scope| {
            if let Some(out) = stdout {
                scope.spawn(move || {
                    for line in BufReader::new(out).lines().map_while(Result::ok) {
                        if let Ok(p) = serde_json::from_str::<ProgressLine>(&line) {
                            self.progress.lock().unwrap_or_else(|e| e.into_inner()).insert(id, Progress::of(p));
                        }
                    }
                });
            }
            let tail = scope.spawn(move || {
                let mut tail: Vec<String> = Vec::new();
                if let Some(err) = stderr {
                    for line in BufReader::new(err).lines().map_while(Result::ok) {
                        tail.push(line);
                        if tail.len() > STDERR_LINES {
                            tail.remove(0);
                        }
                    }
                }
                tail
            });
            let started = Instant::now();
            let status = loop {
                match child.try_wait() {
                    Ok(Some(status)) => break Ok(status),
                    Ok(None) if started.elapsed() > self.time_limit => {
                        let _ = child.kill();
                        let _ = child.wait();
                        break Err(format!(
                            "the analysis took longer than the time limit ({:.0} minutes) and was stopped",
                            self.time_limit.as_secs_f64() / 60.0
                        ));
                    }
                    Ok(None) => std::thread::sleep(CHILD_POLL),
                    Err(e) => break Err(format!("lost the analysis process: {e}")),
                }
            };
            let tail = tail.join().unwrap_or_default();
            status.map(|s| (s, tail))
        })
    }
}

/// Why a child failed, in plain words: its own error line, or the signal.
fn child_failure(status: std::process::ExitStatus, stderr: &[String], video_rel: &str) -> String {
    if let Some(signal) = status.signal() {
        return format!("the analysis crashed (signal {signal}); the video may be damaged");
    }
    let line = stderr
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("hinge: error: "))
        .or_else(|| stderr.last().map(String::as_str))
        .unwrap_or("no message");
    format!("the analysis failed (exit {}): {}", status.code().unwrap_or(-1), plain_reason(line, video_rel))
}

/// A reason without the stored file's path (`videos/<sha>: ` → ``).
fn plain_reason(reason: &str, video_rel: &str) -> String {
    reason.replace(&format!("{video_rel}: "), "").replace(video_rel, "the video")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_covers_both_stages() {
        let p = |stage, done| Progress::of(ProgressLine { stage, done, total: Some(100) }).percent;
        assert_eq!(p(JobStage::Analysing, 0), 0.0);
        assert_eq!(p(JobStage::Analysing, 50), 40.0);
        assert_eq!(p(JobStage::Drawing, 50), 90.0);
        assert_eq!(Progress::of(ProgressLine { stage: JobStage::Analysing, done: 5, total: None }).percent, 0.0);
    }

    #[test]
    fn reasons_do_not_show_the_stored_path() {
        let rel = format!("videos/{}", "a".repeat(64));
        assert_eq!(plain_reason(&format!("{rel}: no decodable video frames"), &rel), "no decodable video frames");
        let why = child_failure(
            std::process::ExitStatus::from_raw(1 << 8),
            &["hinge: error: cannot load ONNX Runtime".to_string()],
            &rel,
        );
        assert_eq!(why, "the analysis failed (exit 1): cannot load ONNX Runtime");
        assert!(child_failure(std::process::ExitStatus::from_raw(9), &[], &rel).contains("signal 9"));
    }
}
