//! Video sources: files (with rotation metadata applied, so frames come out
//! upright), cameras (V4L2) and network streams, all read with FFmpeg's
//! libraries directly (`av`: one decoding thread, frames converted at the
//! size the analysis asks for).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

mod av;
pub mod mp4;
pub mod orientation;
mod prefetch;

pub use orientation::Orientation;

use opencv::core::Mat;

/// Errors of the video stage.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    /// The file does not exist.
    #[error("{}: no such file", .path.display())]
    NotFound { path: PathBuf },
    /// The path exists but cannot be read (permissions, a directory ...).
    #[error("{}: cannot read: {reason}", .path.display())]
    Unreadable { path: PathBuf, reason: String },
    /// FFmpeg cannot open the file as a video.
    #[error("{}: not a video file FFmpeg can open{}", .path.display(), hint_for(.path))]
    NotAVideo { path: PathBuf },
    /// The file holds tracks but none of them is video (a sound recording).
    #[error("{}: no video track (the file holds audio only)", .path.display())]
    NoVideoTrack { path: PathBuf },
    /// The container opened but no frame could be decoded.
    #[error("{}: no decodable video frames (empty, truncated or unsupported codec)", .path.display())]
    NoFrames { path: PathBuf },
    /// A camera or stream could not be opened.
    #[error("cannot open {source_name}: {reason}")]
    SourceUnavailable { source_name: String, reason: String },
    /// OpenCV failed while decoding.
    #[error("{source_name}: decoding failed at frame {frame}: {reason}")]
    Decode { source_name: String, frame: u64, reason: String },
    /// Reading was stopped from outside (a time limit) before the end.
    #[error("{source_name}: stopped before its end")]
    Stopped { source_name: String },
}

fn hint_for(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()) {
        Some(e) if ["mp4", "mov", "avi", "mkv", "webm", "m4v"].contains(&e.as_str()) => {
            " (the file may be damaged or truncated)"
        }
        _ => " (expected e.g. .mp4, .mov, .avi, .mkv)",
    }
}

/// What kind of source frames come from.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceKind {
    File(PathBuf),
    Camera(i32),
    Stream(String),
}

/// Properties of an opened source.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoInfo {
    pub kind: SourceKind,
    /// Upright frame width in pixels (after applying rotation metadata).
    pub width: u32,
    /// Upright frame height in pixels.
    pub height: u32,
    /// Nominal frame rate (frames per second); 30 when the container has none.
    pub fps: f64,
    /// Frame count announced by the container (may be approximate).
    pub frame_count_hint: Option<u64>,
    /// Clockwise display rotation of the container in degrees (already
    /// applied to frames): of the decoded picture, or of its mirror image when
    /// `mirrored`.
    pub rotation_deg: i32,
    /// The container's display matrix mirrors the picture (applied to frames).
    pub mirrored: bool,
}

impl VideoInfo {
    /// A printable name of the source.
    pub fn name(&self) -> String {
        match &self.kind {
            SourceKind::File(p) => p.display().to_string(),
            SourceKind::Camera(i) => format!("camera {i}"),
            SourceKind::Stream(u) => u.clone(),
        }
    }
}

/// One decoded frame.
#[derive(Debug, Default)]
pub struct Frame {
    /// 0-based index of the decoded frame.
    pub index: u64,
    /// Presentation time in seconds.
    pub time_s: f64,
    /// Upright BGR image (`CV_8UC3`).
    pub image: Mat,
    /// Reads that decoded nothing just before this frame (a damaged stretch
    /// of a file that decoding resumed after); 0 normally.
    pub failed_reads_before: u32,
}

/// Size of `width` x `height` scaled down (aspect kept, rounded to whole
/// pixels, at least 1) so that its longer side is at most `max_long_side_px`;
/// the same size when it already fits.
pub fn fit_long_side(width: u32, height: u32, max_long_side_px: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= max_long_side_px {
        return (width, height);
    }
    let f = max_long_side_px as f64 / long as f64;
    let scaled = |v: u32| ((v as f64 * f).round() as u32).clamp(1, max_long_side_px);
    (scaled(width), scaled(height))
}

/// The decoder behind a [`VideoSource`]: reads and rotates frames in order.
struct Decoder {
    /// Reads and decodes the pictures (FFmpeg's libraries, see [`av`]).
    input: Box<av::AvFile>,
    info: VideoInfo,
    next_index: u64,
    last_time_s: Option<f64>,
    /// Display orientation applied to every decoded frame.
    orientation: Orientation,
    /// Decode buffer when frames are re-oriented.
    raw: Mat,
    /// The descriptor FFmpeg reads through, where it does not open the file by
    /// name: a stream's read end (`pipe:FD`), or a file whose name is not UTF-8
    /// (`/proc/self/fd/FD`); closed after the input.
    source_fd: Option<std::os::fd::OwnedFd>,
    /// Upright size frames are scaled to while they are converted (`None`: as
    /// decoded), see [`VideoSource::with_frame_size`].
    frame_size: Option<(u32, u32)>,
}

const FALLBACK_FPS: f64 = 30.0;

/// Packets in a row that may fail to decode before a file counts as ended: a
/// damaged stretch is skipped packet by packet and decoding goes on after it.
const MAX_FAILED_READS: u32 = 300;

/// A source of frames, read in order: decoded on the caller's thread, or
/// ahead of it on a decode thread ([`VideoSource::prefetch`]).
pub struct VideoSource {
    inner: Inner,
    /// Set from outside to end reading early ([`VideoSource::stop_when`]).
    stop: Option<Arc<AtomicBool>>,
}

/// Whether `path` is a stream rather than a file: a named pipe (FIFO), a
/// device or a socket. A stream can be read only once, and only by one
/// reader: it is opened by FFmpeg alone, never hashed or walked.
pub fn is_stream_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

enum Inner {
    Direct(Box<Decoder>),
    Prefetched(prefetch::Prefetch),
}

impl VideoSource {
    /// Opens a video file. Rotation metadata (phone videos) is applied so
    /// that frames come out upright.
    pub fn open_file(path: &Path) -> Result<Self, VideoError> {
        Decoder::open_file(path, None).map(Self::direct)
    }

    /// [`open_file`](Self::open_file) that gives up with [`VideoError::Stopped`]
    /// once `stop` is set while it waits for a stream (named pipe) to deliver.
    pub fn open_file_until(path: &Path, stop: Option<&AtomicBool>) -> Result<Self, VideoError> {
        Decoder::open_file(path, stop).map(Self::direct)
    }

    /// Opens a camera by index (V4L2 on Linux).
    pub fn open_camera(index: i32) -> Result<Self, VideoError> {
        Decoder::open_camera(index).map(Self::direct)
    }

    /// Opens a network stream or any URL FFmpeg understands (RTSP, HTTP ...).
    pub fn open_stream(url: &str) -> Result<Self, VideoError> {
        Decoder::open_stream(url).map(Self::direct)
    }

    fn direct(d: Decoder) -> Self {
        Self { inner: Inner::Direct(Box::new(d)), stop: None }
    }

    /// Frames come out upright at `width` x `height` instead of the video's
    /// size: each is resized right after decoding, before it is queued or
    /// re-oriented, so that no full-size frame is kept (a 3840x2160 BGR frame
    /// is 24 MB). Bilinear down to half the size, area averaging beyond.
    /// [`VideoInfo`] still describes the video; [`Self::frame_scale`] says
    /// how frame pixels relate to video pixels. Call before [`Self::prefetch`]
    /// (afterwards it changes nothing).
    pub fn with_frame_size(mut self, width: u32, height: u32) -> Self {
        if let Inner::Direct(d) = &mut self.inner {
            let size = (width.max(1), height.max(1));
            d.frame_size = (size != (d.info.width, d.info.height)).then_some(size);
        }
        self
    }

    /// Frame pixels per video pixel: 1 unless [`Self::with_frame_size`] set
    /// another size (the width's ratio; the height's differs by rounding only).
    pub fn frame_scale(&self) -> f64 {
        match &self.inner {
            Inner::Direct(d) => d.frame_scale(),
            Inner::Prefetched(p) => p.frame_scale(),
        }
    }

    /// Moves decoding to its own thread, `depth` frames ahead of the reader,
    /// so that decoding overlaps with the work done on each frame.
    pub fn prefetch(self, depth: usize) -> Self {
        let inner = match self.inner {
            Inner::Direct(d) => {
                let mut p = prefetch::Prefetch::start(d, depth.max(1));
                p.stop_when(self.stop.clone());
                Inner::Prefetched(p)
            }
            p => p,
        };
        Self { inner, stop: self.stop }
    }

    /// Ends reading early once `stop` is set: the next [`read`](Self::read)
    /// fails with [`VideoError::Stopped`], also while it waits for a decode
    /// thread stuck on a source that delivers nothing (a stalled pipe or
    /// network share); such a thread is then left behind rather than waited for.
    pub fn stop_when(mut self, stop: Arc<AtomicBool>) -> Self {
        if let Inner::Prefetched(p) = &mut self.inner {
            p.stop_when(Some(Arc::clone(&stop)));
        }
        self.stop = Some(stop);
        self
    }

    pub fn info(&self) -> &VideoInfo {
        match &self.inner {
            Inner::Direct(d) => &d.info,
            Inner::Prefetched(p) => p.info(),
        }
    }

    /// Reads the next frame into `frame` (reusing its buffer where it can).
    /// Returns false at the end of the video.
    pub fn read(&mut self, frame: &mut Frame) -> Result<bool, VideoError> {
        if self.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst)) {
            return Err(VideoError::Stopped { source_name: self.info().name() });
        }
        match &mut self.inner {
            Inner::Direct(d) => d.read(frame),
            Inner::Prefetched(p) => p.read(frame),
        }
    }
}

impl Decoder {
    /// Opens a video file. Rotation metadata (phone videos) is applied so
    /// that frames come out upright.
    fn open_file(path: &Path, stop: Option<&AtomicBool>) -> Result<Self, VideoError> {
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => VideoError::NotFound { path: path.to_path_buf() },
            _ => VideoError::Unreadable { path: path.to_path_buf(), reason: e.to_string() },
        })?;
        if meta.is_dir() {
            return Err(VideoError::Unreadable { path: path.to_path_buf(), reason: "is a directory".into() });
        }
        // a named pipe (or device) is opened by FFmpeg alone: a look of our own would
        // take bytes from the stream, and closing it would end the writer's stream
        let stream = !meta.is_file();
        if !stream {
            if let Err(e) = std::fs::File::open(path) {
                return Err(VideoError::Unreadable { path: path.to_path_buf(), reason: e.to_string() });
            }
            if meta.len() == 0 {
                return Err(VideoError::NoFrames { path: path.to_path_buf() });
            }
        }
        // FFmpeg reads a stream from hinge's descriptor: its own open of a pipe whose writer
        // has not come (or has gone) would block for good, inside OpenCV's global open lock.
        // FFmpeg takes a UTF-8 name: a file whose name is not UTF-8 is opened here and named
        // by its descriptor, the same file, seekable.
        let (source_fd, name) = match (stream, path.to_str()) {
            (true, _) => {
                let fd = open_stream_file(path, stop)?;
                let name = format!("pipe:{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
                (Some(fd), name)
            }
            (false, Some(name)) => (None, name.to_string()),
            (false, None) => {
                let file = std::fs::File::open(path)
                    .map_err(|e| VideoError::Unreadable { path: path.to_path_buf(), reason: e.to_string() })?;
                let fd = std::os::fd::OwnedFd::from(file);
                let name = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
                (Some(fd), name)
            }
        };
        let not_video = || match (!stream).then(|| mp4::has_video_track(path)).flatten() {
            Some(false) => VideoError::NoVideoTrack { path: path.to_path_buf() },
            _ => VideoError::NotAVideo { path: path.to_path_buf() },
        };
        let file = match av::AvFile::open(av::Input::File(&name)) {
            Ok(Some(file)) => file,
            Ok(None) => return Err(VideoError::NoFrames { path: path.to_path_buf() }),
            Err(av::OpenFailure::NoVideoTrack) => return Err(VideoError::NoVideoTrack { path: path.to_path_buf() }),
            Err(av::OpenFailure::NoDecoder) => return Err(VideoError::NoFrames { path: path.to_path_buf() }),
            Err(av::OpenFailure::NotAVideo | av::OpenFailure::Unavailable(_)) => return Err(not_video()),
        };
        // orient frames from the track matrix where the walker reads one, else from
        // FFmpeg's display matrix of the stream (the same matrix, other containers)
        let orientation = (!stream)
            .then(|| mp4::display_orientation(path))
            .flatten()
            .or(file.display_orientation)
            .unwrap_or(Orientation::UPRIGHT);
        let mut decoder = Self::new(file, SourceKind::File(path.to_path_buf()), orientation);
        decoder.source_fd = source_fd;
        Ok(decoder)
    }

    /// Opens a camera by index (V4L2 on Linux: `/dev/videoN`).
    fn open_camera(index: i32) -> Result<Self, VideoError> {
        let unavailable =
            |reason: String| VideoError::SourceUnavailable { source_name: format!("camera {index}"), reason };
        match av::AvFile::open(av::Input::Camera(index)) {
            Ok(Some(file)) => Ok(Self::new(file, SourceKind::Camera(index), Orientation::UPRIGHT)),
            Ok(None) => Err(unavailable("camera delivered no frame".into())),
            Err(av::OpenFailure::Unavailable(reason)) => Err(unavailable(reason)),
            Err(_) => Err(unavailable("no such camera, or it is busy / not permitted".into())),
        }
    }

    /// Opens a network stream or any URL FFmpeg understands (RTSP, HTTP ...).
    fn open_stream(url: &str) -> Result<Self, VideoError> {
        let unavailable = |reason: String| VideoError::SourceUnavailable { source_name: url.to_string(), reason };
        match av::AvFile::open(av::Input::Url(url)) {
            Ok(Some(file)) => {
                let orientation = file.display_orientation.unwrap_or(Orientation::UPRIGHT);
                Ok(Self::new(file, SourceKind::Stream(url.to_string()), orientation))
            }
            Ok(None) => Err(unavailable("stream delivered no frame".into())),
            Err(av::OpenFailure::Unavailable(reason)) => Err(unavailable(reason)),
            Err(av::OpenFailure::NoVideoTrack) => Err(unavailable("no video in it".into())),
            Err(_) => Err(unavailable("FFmpeg could not open it".into())),
        }
    }

    fn new(file: av::AvFile, kind: SourceKind, orientation: Orientation) -> Self {
        let (w, h) = file.stored_size();
        let (width, height) = if orientation.swaps_axes() { (h, w) } else { (w, h) };
        let fps = file.fps.unwrap_or(FALLBACK_FPS);
        let info = VideoInfo {
            kind,
            width,
            height,
            fps,
            frame_count_hint: file.frame_count_hint,
            rotation_deg: orientation.rotation_cw_deg(),
            mirrored: orientation.mirrored(),
        };
        Self {
            input: Box::new(file),
            info,
            next_index: 0,
            last_time_s: None,
            orientation,
            raw: Mat::default(),
            source_fd: None,
            frame_size: None,
        }
    }

    fn frame_scale(&self) -> f64 {
        match self.frame_size {
            Some((w, _)) => w as f64 / self.info.width.max(1) as f64,
            None => 1.0,
        }
    }

    /// Reads the next frame into `frame` (reusing its buffer): converted and
    /// scaled by the decoder, then turned upright. Returns false at the end.
    fn read(&mut self, frame: &mut Frame) -> Result<bool, VideoError> {
        frame.failed_reads_before = 0;
        let Self { input, info, next_index, orientation, frame_size, raw, .. } = self;
        let decode_error = |reason: String| VideoError::Decode { source_name: info.name(), frame: *next_index, reason };
        let stored = frame_size.map(|(w, h)| if orientation.swaps_axes() { (h, w) } else { (w, h) });
        let upright = *orientation == Orientation::UPRIGHT;
        let target = if upright { &mut frame.image } else { &mut *raw };
        // a damaged stretch is read past: the packets that fail are counted, not the end
        if !input.read(target, stored, &mut frame.failed_reads_before, MAX_FAILED_READS).map_err(decode_error)? {
            return Ok(false);
        }
        if !upright {
            orientation.apply(raw, &mut frame.image).map_err(|e| decode_error(e.to_string()))?;
        }
        let container_s = input.time_s();
        let step = 1.0 / self.info.fps;
        let time_s = match self.last_time_s {
            None if container_s.is_finite() && container_s >= 0.0 => container_s,
            None => 0.0,
            // the container's clock must advance (a frame without a time, or a camera's jitter)
            Some(last) if container_s.is_finite() && container_s > last + 1e-6 => container_s,
            Some(last) => last + step,
        };
        frame.index = self.next_index;
        frame.time_s = time_s;
        self.last_time_s = Some(time_s);
        self.next_index += 1;
        Ok(true)
    }
}

/// How often a wait for a stream looks at its stop flag.
const STREAM_POLL_MS: i32 = 50;

/// Opens a stream (named pipe, device) for reading without blocking, then
/// waits until it has data or its writer has gone — or `stop` is set. The
/// descriptor is left blocking, for FFmpeg to read.
fn open_stream_file(path: &Path, stop: Option<&AtomicBool>) -> Result<std::os::fd::OwnedFd, VideoError> {
    use std::os::fd::{AsRawFd, OwnedFd};
    use std::os::unix::fs::OpenOptionsExt;
    let unreadable = |e: std::io::Error| VideoError::Unreadable { path: path.to_path_buf(), reason: e.to_string() };
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(unreadable)?;
    let fd = OwnedFd::from(file);
    loop {
        if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
            return Err(VideoError::Stopped { source_name: path.display().to_string() });
        }
        let mut poll = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd, for the length given.
        let ready = unsafe { libc::poll(&mut poll, 1, STREAM_POLL_MS) };
        if ready < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(unreadable(e));
        }
        if ready > 0 && poll.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
            break;
        }
    }
    // SAFETY: fcntl on a descriptor this function owns.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    if flags < 0 || unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(unreadable(std::io::Error::last_os_error()));
    }
    Ok(fd)
}

/// The stretches of a video with no decoded frame, as `[start, end)` in
/// seconds: `start` is when the first missing frame was due, `end` the time of
/// the next decoded frame. From the decoded frames' times and whether reads
/// failed just before each. A hole counts when at least two frames are
/// missing in a row (more than 2.5 of the clip's usual intervals) or reads
/// failed there; a single late frame counts only within 0.5 s of such a hole
/// (so that a variable frame rate is not reported as damage); holes less than
/// 0.5 s apart are reported as one.
pub fn missing_ranges(times_s: &[f64], failed_before: &[bool]) -> Vec<[f64; 2]> {
    const NEAR_S: f64 = 0.5;
    let n = times_s.len().min(failed_before.len());
    let mut steps: Vec<f64> = times_s[..n].windows(2).map(|w| w[1] - w[0]).filter(|d| *d > 0.0).collect();
    if steps.is_empty() {
        return Vec::new();
    }
    steps.sort_by(f64::total_cmp);
    let step = steps[steps.len() / 2];
    // (start, end, significant); a failure without a time gap marks a place but holds no time
    let holes: Vec<(f64, f64, bool)> = (1..n)
        .filter_map(|i| {
            let gap = times_s[i] - times_s[i - 1];
            let late = gap > 1.5 * step;
            let significant = gap > 2.5 * step || failed_before[i];
            (late || failed_before[i]).then_some((times_s[i - 1] + step, times_s[i], significant))
        })
        .collect();
    let near_significant =
        |h: &(f64, f64, bool)| holes.iter().any(|s| s.2 && s.0 - NEAR_S <= h.1 && h.0 <= s.1 + NEAR_S);
    let mut out: Vec<[f64; 2]> = Vec::new();
    // a hole holds at least half a frame's time (a failure without a gap holds none)
    for h in holes.iter().filter(|h| h.1 - h.0 > 0.5 * step && (h.2 || near_significant(h))) {
        match out.last_mut() {
            Some(last) if h.0 - last[1] < NEAR_S => last[1] = h.1,
            _ => out.push([h.0, h.1]),
        }
    }
    let ms = |t: f64| (t * 1000.0).round() / 1000.0;
    out.into_iter().map(|[a, b]| [ms(a), ms(b)]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opencv::prelude::*;

    fn at_30fps(frames: &[u32]) -> Vec<f64> {
        frames.iter().map(|&k| k as f64 / 30.0).collect()
    }

    #[test]
    fn a_damaged_stretch_is_one_range_from_its_first_missing_frame() {
        // as FFmpeg decodes a clip with 4 kB of garbage after frame 27: reads fail before frame 28,
        // then 29, 31..38 and 42 are missing
        let mut frames: Vec<u32> = (0..=28).collect();
        frames.extend([30]);
        frames.extend(39..=41);
        frames.extend(43..133);
        let times = at_30fps(&frames);
        let mut failed = vec![false; times.len()];
        failed[28] = true;
        let got = missing_ranges(&times, &failed);
        assert_eq!(got, vec![[0.967, 1.433]]);
    }

    #[test]
    fn regular_and_variable_frame_rates_have_no_missing_ranges() {
        let none = |t: &[f64]| missing_ranges(t, &vec![false; t.len()]);
        assert!(none(&at_30fps(&(0..100).collect::<Vec<_>>())).is_empty());
        // a phone lowering its rate to 15 fps in the dark: every other frame late, nothing lost
        let vfr: Vec<u32> = (0..60).chain((60..120).step_by(2)).chain(120..180).collect();
        assert!(none(&at_30fps(&vfr)).is_empty());
        // an isolated late frame is not damage
        let one: Vec<u32> = (0..50).chain(51..100).collect();
        assert!(none(&at_30fps(&one)).is_empty());
        assert!(none(&[]).is_empty() && none(&[0.0]).is_empty());
    }

    #[test]
    fn separate_holes_are_separate_ranges() {
        let frames: Vec<u32> = (0..30).chain(40..100).chain(110..130).collect();
        let times = at_30fps(&frames);
        assert_eq!(missing_ranges(&times, &vec![false; times.len()]), vec![[1.0, 1.333], [3.333, 3.667]]);
    }

    #[test]
    fn fitting_the_long_side_keeps_the_aspect() {
        assert_eq!(fit_long_side(3840, 2160, 1920), (1920, 1080));
        assert_eq!(fit_long_side(2160, 3840, 1920), (1080, 1920));
        assert_eq!(fit_long_side(1920, 1080, 1920), (1920, 1080), "fits already");
        assert_eq!(fit_long_side(640, 480, 1920), (640, 480));
        assert_eq!(fit_long_side(4000, 3, 1920), (1920, 1));
    }

    /// Frames come out at the asked size, upright, from the first one on,
    /// while the source still describes the video.
    #[test]
    fn frames_are_resized_right_after_decoding() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for (clip, (w, h)) in [
            ("samples/dev/dev_12_idle_side_facing_right.mp4", (320, 240)),
            ("samples/dev_sessions/devs_02_phone_rotated.mp4", (360, 640)),
        ] {
            let full = VideoSource::open_file(&dir.join(clip)).unwrap();
            let info = full.info().clone();
            assert_eq!(full.frame_scale(), 1.0);
            let mut small = VideoSource::open_file(&dir.join(clip)).unwrap().with_frame_size(w, h).prefetch(2);
            assert_eq!(small.info(), &info, "{clip}: the video's own size is kept");
            assert!((small.frame_scale() - w as f64 / info.width as f64).abs() < 1e-12);
            let mut frame = Frame::default();
            for _ in 0..3 {
                assert!(small.read(&mut frame).unwrap());
                assert_eq!((frame.image.cols(), frame.image.rows()), (w as i32, h as i32), "{clip}");
            }
        }
    }

    /// The frames are the pixels and times FFmpeg's own program gives (the same
    /// conversion OpenCV's reader made before: bicubic swscale to BGR at the
    /// video's size), turned upright by the track matrix.
    #[test]
    fn files_decode_to_the_frames_and_times_ffmpeg_gives() {
        use std::process::Command;
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for clip in ["samples/dev/dev_12_idle_side_facing_right.mp4", "samples/dev_sessions/devs_02_phone_rotated.mp4"]
        {
            let path = dir.join(clip);
            let mut ours = VideoSource::open_file(&path).unwrap();
            let (w, h) = (ours.info().width as usize, ours.info().height as usize);
            let raw = Command::new("ffmpeg")
                .args(["-v", "error", "-i"])
                .arg(&path)
                .args(["-sws_flags", "bicubic", "-f", "rawvideo", "-pix_fmt", "bgr24", "-"])
                .output()
                .expect("ffmpeg");
            assert!(raw.status.success(), "{clip}: ffmpeg failed");
            let probe = Command::new("ffprobe")
                .args(["-v", "error", "-select_streams", "v:0", "-show_entries", "frame=best_effort_timestamp_time"])
                .args(["-show_entries", "stream=start_time", "-of", "csv=p=0"])
                .arg(&path)
                .output()
                .expect("ffprobe");
            let lines: Vec<f64> = String::from_utf8_lossy(&probe.stdout)
                .lines()
                .filter_map(|l| l.trim().trim_end_matches(',').parse().ok())
                .collect();
            let frame_bytes = w * h * 3;
            assert_eq!(raw.stdout.len() % frame_bytes, 0, "{clip}: ffmpeg's frames are {w}x{h} (upright)");
            let expected = raw.stdout.len() / frame_bytes;
            let mut frame = Frame::default();
            let mut times_s = Vec::new();
            while ours.read(&mut frame).unwrap() {
                let n = times_s.len();
                assert!(n < expected, "{clip}: more frames than ffmpeg's {expected}");
                let want = &raw.stdout[n * frame_bytes..(n + 1) * frame_bytes];
                assert_eq!(frame.image.data_bytes().unwrap(), want, "{clip}: frame {n}");
                times_s.push(frame.time_s);
            }
            let n = times_s.len();
            assert_eq!(n, expected, "{clip}");
            // ffprobe lists each frame's time, then the stream's start
            let (start, times) = lines.split_last().unwrap();
            assert_eq!(times.len(), n, "{clip}");
            for (k, (ours_s, t)) in times_s.iter().zip(times).enumerate() {
                assert!((ours_s - (t - start)).abs() < 1e-6, "{clip}: frame {k} at {ours_s} s, ffprobe {}", t - start);
            }
            assert!(n > 30, "{clip}");
        }
    }

    /// FFmpeg's display matrix (what orients a stream, or a file the walker
    /// cannot read) says what the track matrix says on the phone sample.
    #[test]
    fn the_display_matrix_agrees_with_the_track_matrix() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for (clip, cw) in [
            ("samples/dev_sessions/devs_02_phone_rotated.mp4", 90),
            ("samples/dev/dev_12_idle_side_facing_right.mp4", 0),
        ] {
            let path = dir.join(clip);
            let file = av::AvFile::open(av::Input::File(&path.to_string_lossy())).unwrap().unwrap();
            assert_eq!(
                file.display_orientation.unwrap_or(Orientation::UPRIGHT),
                Orientation::rotation_cw(cw),
                "{clip}"
            );
            assert_eq!(mp4::display_orientation(&path), Some(Orientation::rotation_cw(cw)), "{clip}");
            let url = format!("file://{}", path.display());
            let stream = VideoSource::open_stream(&url).unwrap();
            assert_eq!(stream.info().rotation_deg, cw, "{clip} as a stream");
        }
    }
}
