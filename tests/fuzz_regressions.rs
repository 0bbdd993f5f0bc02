//! Every input kept from fuzzing (`tests/fixtures/fuzz/<target>/`: the seeds,
//! each finding, a minimised corpus) fed through the same checks as the fuzz
//! targets (`fuzz/src/lib.rs`, included here), on stable: no panic, no
//! unbounded work, and each target's invariants. README.md → "Fuzzing".

#[path = "../fuzz/src/lib.rs"]
mod fuzz_checks;

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The kept inputs of one target, sorted.
fn kept_inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `check` on every kept input of `target` on a thread, within `limit`;
/// names every input that panicked.
fn replay(target: &str, check: fn(&[u8]), limit: Duration) {
    let files = kept_inputs(target);
    // the seeds alone are more than this: an emptied folder must not pass unnoticed
    assert!(files.len() >= 10, "{target}: only {} kept inputs", files.len());
    let count = files.len();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let failed: Vec<String> = files
            .iter()
            .filter(|path| {
                let data = std::fs::read(path).expect("readable fixture");
                std::panic::catch_unwind(|| check(&data)).is_err()
            })
            .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        let _ = tx.send(failed);
    });
    let failed = rx.recv_timeout(limit).unwrap_or_else(|_| panic!("{target}: the {count} inputs took over {limit:?}"));
    assert!(failed.is_empty(), "{target}: {} of {count} inputs fail (messages above): {failed:?}", failed.len());
}

#[test]
fn mp4_box_walker_survives_every_kept_input() {
    replay("mp4_boxes", fuzz_checks::mp4_boxes, Duration::from_secs(60));
}

#[test]
fn config_parser_survives_every_kept_input() {
    replay("config_toml", fuzz_checks::config_toml, Duration::from_secs(60));
}

/// The checks themselves can fail: a walker reading past its length, or an
/// accepted configuration out of range, is caught.
#[test]
fn the_checks_catch_what_they_are_meant_to() {
    // a WatchedReader refuses a read past the length the walker was given
    let walk_past_len = std::panic::catch_unwind(|| {
        use std::io::{Read, Seek, SeekFrom};
        let data = [0u8; 32];
        let mut r = fuzz_checks::WatchedReader::new(&data, 16);
        r.seek(SeekFrom::Start(12)).unwrap();
        let mut buf = [0u8; 8];
        let _ = r.read(&mut buf);
    });
    assert!(walk_past_len.is_err());
    // ... and more reads than a walk of that length may make
    let too_many_reads = std::panic::catch_unwind(|| {
        use std::io::Read;
        let data = [0u8; 16];
        let mut r = fuzz_checks::WatchedReader::new(&data, 16);
        for _ in 0..=fuzz_checks::mp4_read_bound(16) {
            let _ = r.read(&mut [0u8; 0]);
        }
    });
    assert!(too_many_reads.is_err());
    let mut cfg = hinge::Config::default();
    cfg.faults.posterior_tilt_deg = f64::NAN;
    assert!(std::panic::catch_unwind(|| fuzz_checks::check_config(&cfg)).is_err());
    fuzz_checks::check_config(&hinge::Config::default());
}
