//! The `hinge` command: a thin layer over the library. Flags are parsed by
//! clap, validated into typed settings, and errors go to stderr as one line
//! naming the file and the cause (exit 1 for a failed analysis, 2 for bad usage).

mod cli;

fn main() {
    // FFmpeg's own messages ("moov atom not found" ...) would bury ours: hinge
    // reports decoding problems itself. HINGE_LOG=debug keeps them.
    let debugging = std::env::var("HINGE_LOG").is_ok_and(|v| v.contains("debug") || v.contains("trace"));
    if !debugging && std::env::var_os("OPENCV_FFMPEG_LOGLEVEL").is_none() {
        // SAFETY: single-threaded here, before any library reads the environment.
        unsafe { std::env::set_var("OPENCV_FFMPEG_LOGLEVEL", "-8") };
    }
    if std::env::var_os("OPENCV_LOG_LEVEL").is_none() {
        // SAFETY: as above.
        unsafe { std::env::set_var("OPENCV_LOG_LEVEL", "ERROR") };
    }
    // under a file size limit (`ulimit -f`) a write past it must fail with EFBIG,
    // which hinge reports, rather than kill the process (SIGXFSZ's default)
    // SAFETY: installs SIG_IGN, before any other thread exists.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    hinge::memory::return_large_blocks_when_freed();
    std::process::exit(cli::run());
}
