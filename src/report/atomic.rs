//! Files that are either complete or absent: each is written to a temporary
//! name in its folder, flushed to the disk and renamed over the final name,
//! then the folder is flushed so that the rename itself survives a power cut.
//! A crash or `kill -9` at any point leaves the old file (or none) and at
//! worst a temporary file, which [`remove_stale_temp_files`] clears.
//!
//! Also here: plain words for the I/O errors a clinic meets (disk full,
//! read-only folder), and a test hook that stops a write half-way so that
//! tests can kill the process at that exact point (docs/batch.md).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use super::ReportError;

/// Environment variable of the mid-write test hook: `NAME` or `NAME@N`
/// pauses the process forever half-way through its N-th (default first)
/// atomic write of a file named `NAME` — half of the bytes in the temporary
/// file, flushed, nothing renamed — after printing
/// `hinge: test hook: paused mid-write of PATH` to stderr. Tests kill the
/// process there. Unset, the hook costs one look-up per process.
pub const PAUSE_MID_WRITE_ENV: &str = "HINGE_TEST_PAUSE_MID_WRITE";

/// Why a file could not be written when the disk has no room for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoSpace {
    /// ENOSPC: the file system is full.
    DiskFull,
    /// EDQUOT: the user's quota on the file system is used up.
    QuotaExceeded,
    /// EFBIG: the file would pass the process's file size limit (`ulimit -f`).
    FileSizeLimit,
}

impl NoSpace {
    /// The kind of an I/O error, when it is a lack of space.
    pub fn of(e: &std::io::Error) -> Option<NoSpace> {
        match e.raw_os_error() {
            Some(libc::ENOSPC) => Some(NoSpace::DiskFull),
            Some(libc::EDQUOT) => Some(NoSpace::QuotaExceeded),
            Some(libc::EFBIG) => Some(NoSpace::FileSizeLimit),
            _ => match e.kind() {
                std::io::ErrorKind::StorageFull => Some(NoSpace::DiskFull),
                std::io::ErrorKind::QuotaExceeded => Some(NoSpace::QuotaExceeded),
                std::io::ErrorKind::FileTooLarge => Some(NoSpace::FileSizeLimit),
                _ => None,
            },
        }
    }

    /// The lack of space FFmpeg reports in its error output, if any (the
    /// annotated video is written by an `ffmpeg` process).
    pub fn in_ffmpeg_message(message: &str) -> Option<NoSpace> {
        if message.contains("No space left on device") {
            Some(NoSpace::DiskFull)
        } else if message.contains("Disk quota exceeded") {
            Some(NoSpace::QuotaExceeded)
        } else if message.contains("File too large") {
            Some(NoSpace::FileSizeLimit)
        } else {
            None
        }
    }

    /// The I/O error this stands for.
    pub fn io_error(self) -> std::io::Error {
        std::io::Error::from_raw_os_error(match self {
            NoSpace::DiskFull => libc::ENOSPC,
            NoSpace::QuotaExceeded => libc::EDQUOT,
            NoSpace::FileSizeLimit => libc::EFBIG,
        })
    }

    /// In plain words.
    pub fn plain(self) -> &'static str {
        match self {
            NoSpace::DiskFull => "disk full (no space left on the device)",
            NoSpace::QuotaExceeded => "disk quota exceeded (no space left for this user)",
            NoSpace::FileSizeLimit => "file size limit reached (the file would be larger than `ulimit -f` allows)",
        }
    }
}

/// Why a writer that reported success left `path` incomplete (FFmpeg 5
/// exits 0 when its writes fail): past the file size limit, a nearly full
/// disk, or, failing those, an unexplained incomplete file.
pub fn cause_of_incomplete_file(path: &Path) -> std::io::Error {
    /// Free space below which a disk counts as the cause.
    const NEARLY_FULL_BYTES: u64 = 1 << 20;
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit fills the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_FSIZE, &mut limit) } == 0
        && limit.rlim_cur != libc::RLIM_INFINITY
        && len >= limit.rlim_cur
    {
        return NoSpace::FileSizeLimit.io_error();
    }
    let dir = std::ffi::CString::new(parent_dir(path).as_os_str().as_encoded_bytes()).ok();
    // SAFETY: statvfs fills the zeroed struct it is given, from a NUL-terminated path.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    if let Some(dir) = dir {
        if unsafe { libc::statvfs(dir.as_ptr(), &mut stat) } == 0
            && (stat.f_bavail as u64).saturating_mul(stat.f_frsize as u64) < NEARLY_FULL_BYTES
        {
            return NoSpace::DiskFull.io_error();
        }
    }
    std::io::Error::other("the encoder left the file incomplete (no index at its end)")
}

/// An I/O error in plain words: a full disk, a read-only folder and a
/// missing permission say so; anything else as the system puts it.
pub fn plain_io_reason(e: &std::io::Error) -> String {
    if let Some(no_space) = NoSpace::of(e) {
        return no_space.plain().to_string();
    }
    match (e.raw_os_error(), e.kind()) {
        (Some(libc::EROFS), _) | (_, std::io::ErrorKind::ReadOnlyFilesystem) => {
            "read-only file system (the folder cannot be written)".to_string()
        }
        (_, std::io::ErrorKind::PermissionDenied) => "permission denied (this user may not write there)".to_string(),
        _ => e.to_string(),
    }
}

/// The temporary name `path` is written under: `.NAME.tmpPID` in the same folder.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "out".into());
    parent_dir(path).join(format!(".{name}.tmp{}", std::process::id()))
}

/// [`temp_path`] with the final extension kept at its end (`.NAME.tmpPID.EXT`),
/// for writers that choose the format by the extension (FFmpeg).
pub fn temp_path_keeping_extension(path: &Path) -> PathBuf {
    let tmp = temp_path(path);
    match path.extension() {
        Some(ext) => {
            let mut name = tmp.file_name().expect("a file name").to_os_string();
            name.push(".");
            name.push(ext);
            tmp.with_file_name(name)
        }
        None => tmp,
    }
}

/// The process id in a temporary file name made by [`temp_path`] or
/// [`temp_path_keeping_extension`]; `None` for any other name.
pub fn temp_file_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let at = rest.rfind(".tmp")?;
    let digits: String = rest[at + 4..].chars().take_while(char::is_ascii_digit).collect();
    let after = &rest[at + 4 + digits.len()..];
    // nothing, or one extension
    if digits.is_empty() || !(after.is_empty() || (after.starts_with('.') && !after[1..].contains('.'))) {
        return None;
    }
    digits.parse().ok()
}

fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    // SAFETY: signal 0 only checks that the process exists; no signal is sent.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Removes the temporary files in `dir` (not below) left by processes that
/// no longer run — a run killed mid-write. Returns how many went.
pub fn remove_stale_temp_files(dir: &Path) -> std::io::Result<usize> {
    let me = std::process::id();
    let mut removed = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(pid) = temp_file_pid(&name) else { continue };
        if pid == me || process_alive(pid) || !entry.file_type()?.is_file() {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}

fn parent_dir(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Creates a folder and its parents; a file in its place is an error saying
/// so ("exists and is not a directory"), not the platform's "File exists".
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(std::io::Error::new(std::io::ErrorKind::NotADirectory, "exists and is not a directory"));
    }
    std::fs::create_dir_all(dir)
}

/// Flushes a folder's entries (a rename in it) to the disk.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Renames a finished temporary file over `path` and flushes the folder.
pub fn commit_temp_file(tmp: &Path, path: &Path) -> std::io::Result<()> {
    std::fs::rename(tmp, path)?;
    sync_dir(parent_dir(path))
}

/// Writes `bytes` to `path` atomically (see the module documentation). On
/// failure the temporary file is removed, so that a full disk gets its
/// space back.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let err = |source| ReportError::Write { path: path.to_path_buf(), source };
    std::fs::create_dir_all(parent_dir(path)).map_err(err)?;
    let tmp = temp_path(path);
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        if pause_mid_write_requested(path) {
            pause_mid_write(&mut f, &tmp, bytes);
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        commit_temp_file(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    Ok(())
}

/// The hook's setting: (file name, which of its writes, 1-based).
fn pause_mid_write_setting() -> Option<&'static (String, usize)> {
    static SETTING: OnceLock<Option<(String, usize)>> = OnceLock::new();
    SETTING
        .get_or_init(|| {
            let v = std::env::var(PAUSE_MID_WRITE_ENV).ok()?;
            let (name, nth) = match v.rsplit_once('@') {
                Some((name, n)) => (name.to_string(), n.parse::<usize>().ok().filter(|n| *n >= 1)?),
                None => (v, 1),
            };
            Some((name, nth))
        })
        .as_ref()
}

fn pause_mid_write_requested(path: &Path) -> bool {
    static SEEN: AtomicUsize = AtomicUsize::new(0);
    let Some((name, nth)) = pause_mid_write_setting() else { return false };
    if path.file_name().is_none_or(|n| n.to_string_lossy() != name.as_str()) {
        return false;
    }
    SEEN.fetch_add(1, Ordering::SeqCst) + 1 == *nth
}

fn pause_mid_write(f: &mut std::fs::File, tmp: &Path, bytes: &[u8]) -> ! {
    let _ = f.write_all(&bytes[..bytes.len() / 2]);
    let _ = f.sync_all();
    eprintln!("hinge: test hook: paused mid-write of {}", tmp.display());
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_carry_the_process_id() {
        let p = Path::new("/out/videos/a/result.json");
        let t = temp_path(p);
        assert_eq!(t.parent(), p.parent());
        let name = t.file_name().unwrap().to_str().unwrap();
        assert_eq!(temp_file_pid(name), Some(std::process::id()));
        let v = temp_path_keeping_extension(Path::new("/out/annotated.mp4"));
        let name = v.file_name().unwrap().to_str().unwrap();
        assert!(name.ends_with(".mp4") && name.starts_with(".annotated.mp4.tmp"), "{name}");
        assert_eq!(temp_file_pid(name), Some(std::process::id()));
        for other in ["result.json", ".hidden", ".a.tmp", ".a.tmpx12", ".a.tmp12.b.c", "a.tmp12"] {
            assert_eq!(temp_file_pid(other), None, "{other}");
        }
    }

    #[test]
    fn stale_temporary_files_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        // a pid far above any pid_max: no such process
        let dead = dir.path().join(".summary.csv.tmp4000000000");
        let mine = temp_path(&dir.path().join("frames.csv"));
        let keep = dir.path().join("result.json");
        for p in [&dead, &mine, &keep] {
            std::fs::write(p, "x").unwrap();
        }
        assert_eq!(remove_stale_temp_files(dir.path()).unwrap(), 1);
        assert!(!dead.exists() && mine.exists() && keep.exists());
        assert_eq!(remove_stale_temp_files(&dir.path().join("missing")).unwrap(), 0);
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // the target is a folder: the rename fails after the temporary file was written
        let target = dir.path().join("frames.csv");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("inside"), "x").unwrap();
        assert!(write_atomic(&target, b"data").is_err());
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, vec![std::ffi::OsString::from("frames.csv")], "temporary file left behind");
        write_atomic(&dir.path().join("ok.csv"), b"data").unwrap();
        assert_eq!(std::fs::read(dir.path().join("ok.csv")).unwrap(), b"data");
    }

    #[test]
    fn lack_of_space_in_plain_words() {
        let full = std::io::Error::from_raw_os_error(libc::ENOSPC);
        assert_eq!(NoSpace::of(&full), Some(NoSpace::DiskFull));
        assert!(plain_io_reason(&full).starts_with("disk full"));
        let limit = std::io::Error::from_raw_os_error(libc::EFBIG);
        assert!(plain_io_reason(&limit).contains("file size limit"));
        let ro = std::io::Error::from_raw_os_error(libc::EROFS);
        assert!(plain_io_reason(&ro).starts_with("read-only file system"));
        assert_eq!(NoSpace::of(&ro), None);
        assert_eq!(
            NoSpace::in_ffmpeg_message("av_interleaved_write_frame(): No space left on device"),
            Some(NoSpace::DiskFull)
        );
        assert_eq!(NoSpace::in_ffmpeg_message("Invalid data found"), None);
        assert_eq!(NoSpace::of(&NoSpace::FileSizeLimit.io_error()), Some(NoSpace::FileSizeLimit));
    }
}
