//! How the process hands memory back to the system (glibc's allocator).
//!
//! Large buffers come and go in phases: decoded 4K frames and FFmpeg's
//! decoder pool during the analysis, ONNX Runtime's weights and buffers until
//! the models are dropped, then a second decoder for the annotated video.
//! glibc serves a buffer from its heap once one of that size has been freed
//! (its mmap threshold rises up to 32 MB), and a freed heap block in the
//! middle of a heap stays resident: the second phase then adds its peak on
//! top of the first one's leftovers (a 4K clip: 575 MB instead of ~360 MB).

/// Blocks at least this large are mapped on their own and unmapped when
/// freed, bytes. Buffers this large are reused from frame to frame (frame
/// pools, ONNX Runtime's arena), so the system calls are rare.
pub const OWN_MAPPING_MIN_BYTES: usize = 1 << 20;

/// Makes blocks of [`OWN_MAPPING_MIN_BYTES`] and more go back to the system
/// as soon as they are freed (fixes glibc's mmap threshold, which otherwise
/// rises with every large block freed). Call once, early, from the program.
pub fn return_large_blocks_when_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; any value is valid.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, OWN_MAPPING_MIN_BYTES as libc::c_int);
    }
}

/// Returns the free pages of every heap to the system (after a phase that
/// freed a lot, e.g. dropping the models before the drawing pass).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases pages no allocation uses.
    unsafe {
        libc::malloc_trim(0);
    }
}
