//! Shared helpers of the integration tests: run the real binary on real clips.
#![allow(dead_code)]

pub mod cdp;
pub mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A path under the repository root.
pub fn repo(rel: &str) -> PathBuf {
    root().join(rel)
}

/// The `hinge` binary under test, with the environment cleared of overrides.
pub fn hinge() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hinge"));
    c.env_remove("ORT_DYLIB_PATH").env_remove("HINGE_MODELS_DIR").env_remove("HINGE_LOG");
    c
}

/// Runs a command and returns its output.
pub fn run(mut c: Command) -> Output {
    c.output().expect("binary runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// A parsed CSV: header and rows of cells.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn read(path: &Path) -> Table {
        let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let header = r.headers().unwrap().iter().map(str::to_string).collect();
        let rows = r.records().map(|x| x.unwrap().iter().map(str::to_string).collect()).collect();
        Table { header, rows }
    }

    pub fn col(&self, name: &str) -> usize {
        self.header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"))
    }

    pub fn get(&self, row: usize, name: &str) -> &str {
        &self.rows[row][self.col(name)]
    }

    pub fn f64(&self, row: usize, name: &str) -> Option<f64> {
        let s = self.get(row, name);
        (!s.is_empty()).then(|| s.parse().unwrap_or_else(|_| panic!("{name}: not a number: {s}")))
    }
}

/// The `summary.json` an analysis wrote into `dir`.
pub fn read_summary(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap()
}

/// Analyses `clip` (repo-relative) into a fresh temporary directory.
pub fn analyze(clip: &str, extra: &[&str]) -> (tempfile::TempDir, Table) {
    let dir = tempfile::tempdir().unwrap();
    let mut c = hinge();
    c.arg("analyze").arg(repo(clip)).arg("--out").arg(dir.path()).arg("--quiet").args(extra);
    let o = run(c);
    assert!(o.status.success(), "analyze {clip} failed: {}", stderr(&o));
    let t = Table::read(&dir.path().join("frames.csv"));
    (dir, t)
}

/// Declares a test that runs the binary: `hinge_test!(name, |cmd| { ... })`
/// gets a fresh `Command` for `hinge` and a temporary directory.
#[macro_export]
macro_rules! hinge_test {
    ($name:ident, |$cmd:ident, $dir:ident| $body:block) => {
        #[test]
        fn $name() {
            let $dir = tempfile::tempdir().unwrap();
            #[allow(unused_mut)]
            let mut $cmd = common::hinge();
            $body
        }
    };
}

/// Runs `cmd` to its end, or kills it after `limit` and fails the test
/// naming `what` (a hang). The pipes are drained on threads so that a
/// chatty child cannot block on a full pipe.
pub fn run_with_timeout(mut cmd: Command, limit: Duration, what: &str) -> Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("binary runs");
    let drain = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut b = Vec::new();
            r.read_to_end(&mut b).ok();
            b
        })
    };
    let (out, err) = (drain(Box::new(child.stdout.take().unwrap())), drain(Box::new(child.stderr.take().unwrap())));
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > limit {
            child.kill().ok();
            child.wait().ok();
            panic!("{what}: still running after {} s (a hang): killed", limit.as_secs());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() }
}
