//! Video sources: files (with rotation metadata applied, so frames come out
//! upright), cameras and network streams, all read through OpenCV/FFmpeg.

use std::path::{Path, PathBuf};

pub mod mp4;
mod prefetch;

use opencv::core::{self as cvcore, Mat};
use opencv::prelude::*;
use opencv::videoio::{self, VideoCapture};

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
    /// The container opened but no frame could be decoded.
    #[error("{}: no decodable video frames (empty, truncated or unsupported codec)", .path.display())]
    NoFrames { path: PathBuf },
    /// A camera or stream could not be opened.
    #[error("cannot open {source_name}: {reason}")]
    SourceUnavailable { source_name: String, reason: String },
    /// OpenCV failed while decoding.
    #[error("{source_name}: decoding failed at frame {frame}: {reason}")]
    Decode { source_name: String, frame: u64, reason: String },
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
    /// Rotation tag of the container in degrees (already applied to frames).
    pub rotation_deg: i32,
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
}

/// The decoder behind a [`VideoSource`]: reads and rotates frames in order.
struct Decoder {
    capture: VideoCapture,
    info: VideoInfo,
    next_index: u64,
    last_time_s: Option<f64>,
    /// A frame read ahead while opening (to validate the source).
    pending: Option<Mat>,
    /// Clockwise rotation applied to every decoded frame.
    rotate_cw_deg: i32,
    /// Decode buffer when frames are rotated.
    raw: Mat,
}

const FALLBACK_FPS: f64 = 30.0;

/// A source of frames, read in order: decoded on the caller's thread, or
/// ahead of it on a decode thread ([`VideoSource::prefetch`]).
pub struct VideoSource {
    inner: Inner,
}

enum Inner {
    Direct(Box<Decoder>),
    Prefetched(prefetch::Prefetch),
}

impl VideoSource {
    /// Opens a video file. Rotation metadata (phone videos) is applied so
    /// that frames come out upright.
    pub fn open_file(path: &Path) -> Result<Self, VideoError> {
        Decoder::open_file(path).map(Self::direct)
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
        Self { inner: Inner::Direct(Box::new(d)) }
    }

    /// Moves decoding to its own thread, `depth` frames ahead of the reader,
    /// so that decoding overlaps with the work done on each frame.
    pub fn prefetch(self, depth: usize) -> Self {
        match self.inner {
            Inner::Direct(d) => Self { inner: Inner::Prefetched(prefetch::Prefetch::start(d, depth.max(1))) },
            p => Self { inner: p },
        }
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
        match &mut self.inner {
            Inner::Direct(d) => d.read(frame),
            Inner::Prefetched(p) => p.read(frame),
        }
    }
}

impl Decoder {
    /// Opens a video file. Rotation metadata (phone videos) is applied so
    /// that frames come out upright.
    fn open_file(path: &Path) -> Result<Self, VideoError> {
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => VideoError::NotFound { path: path.to_path_buf() },
            _ => VideoError::Unreadable { path: path.to_path_buf(), reason: e.to_string() },
        })?;
        if meta.is_dir() {
            return Err(VideoError::Unreadable { path: path.to_path_buf(), reason: "is a directory".into() });
        }
        if let Err(e) = std::fs::File::open(path) {
            return Err(VideoError::Unreadable { path: path.to_path_buf(), reason: e.to_string() });
        }
        if meta.len() == 0 {
            return Err(VideoError::NoFrames { path: path.to_path_buf() });
        }
        let name = path.to_string_lossy().to_string();
        let not_video = || VideoError::NotAVideo { path: path.to_path_buf() };
        let mut capture = VideoCapture::from_file(&name, videoio::CAP_FFMPEG).map_err(|_| not_video())?;
        if !capture.is_opened().unwrap_or(false) {
            return Err(not_video());
        }
        // rotate ourselves where the container says how (OpenCV 4.6 turns the wrong way)
        let rotate_cw_deg = mp4::display_rotation_cw_deg(path);
        let _ = capture.set(videoio::CAP_PROP_ORIENTATION_AUTO, if rotate_cw_deg.is_some() { 0.0 } else { 1.0 });
        Self::finish_open(capture, SourceKind::File(path.to_path_buf()), rotate_cw_deg.unwrap_or(0))?
            .ok_or(VideoError::NoFrames { path: path.to_path_buf() })
    }

    /// Opens a camera by index (V4L2 on Linux).
    fn open_camera(index: i32) -> Result<Self, VideoError> {
        let unavailable =
            |reason: String| VideoError::SourceUnavailable { source_name: format!("camera {index}"), reason };
        let capture = VideoCapture::new(index, videoio::CAP_ANY).map_err(|e| unavailable(e.to_string()))?;
        if !capture.is_opened().unwrap_or(false) {
            return Err(unavailable("no such camera, or it is busy / not permitted".into()));
        }
        Self::finish_open(capture, SourceKind::Camera(index), 0)?
            .ok_or_else(|| unavailable("camera delivered no frame".into()))
    }

    /// Opens a network stream or any URL FFmpeg understands (RTSP, HTTP ...).
    fn open_stream(url: &str) -> Result<Self, VideoError> {
        let unavailable = |reason: String| VideoError::SourceUnavailable { source_name: url.to_string(), reason };
        let capture = VideoCapture::from_file(url, videoio::CAP_FFMPEG).map_err(|e| unavailable(e.to_string()))?;
        if !capture.is_opened().unwrap_or(false) {
            return Err(unavailable("FFmpeg could not open it".into()));
        }
        Self::finish_open(capture, SourceKind::Stream(url.to_string()), 0)?
            .ok_or_else(|| unavailable("stream delivered no frame".into()))
    }

    fn finish_open(
        mut capture: VideoCapture,
        kind: SourceKind,
        rotate_cw_deg: i32,
    ) -> Result<Option<Self>, VideoError> {
        let fps = capture.get(videoio::CAP_PROP_FPS).unwrap_or(0.0);
        let fps = if fps.is_finite() && fps > 0.5 && fps < 1000.0 { fps } else { FALLBACK_FPS };
        let count = capture.get(videoio::CAP_PROP_FRAME_COUNT).unwrap_or(0.0);
        let frame_count_hint = (count.is_finite() && count >= 1.0).then_some(count as u64);
        let rotation_deg = if rotate_cw_deg != 0 {
            rotate_cw_deg
        } else {
            capture.get(videoio::CAP_PROP_ORIENTATION_META).unwrap_or(0.0) as i32
        };
        let mut raw = Mat::default();
        let got = capture.read(&mut raw).unwrap_or(false);
        if !got || raw.empty() {
            return Ok(None);
        }
        let mut first = Mat::default();
        if rotate(&raw, &mut first, rotate_cw_deg).is_err() {
            return Ok(None);
        }
        let info = VideoInfo {
            kind,
            width: first.cols() as u32,
            height: first.rows() as u32,
            fps,
            frame_count_hint,
            rotation_deg,
        };
        Ok(Some(Self { capture, info, next_index: 0, last_time_s: None, pending: Some(first), rotate_cw_deg, raw }))
    }

    /// Reads the next frame into `frame` (reusing its buffer). Returns false
    /// at the end of the video.
    fn read(&mut self, frame: &mut Frame) -> Result<bool, VideoError> {
        if let Some(first) = self.pending.take() {
            frame.image = first;
        } else {
            let decode_error = |e: opencv::Error, index| VideoError::Decode {
                source_name: self.info.name(),
                frame: index,
                reason: e.to_string(),
            };
            let target = if self.rotate_cw_deg == 0 { &mut frame.image } else { &mut self.raw };
            let ok = self.capture.read(target).map_err(|e| decode_error(e, self.next_index))?;
            if !ok || target.empty() {
                return Ok(false);
            }
            if self.rotate_cw_deg != 0 {
                rotate(&self.raw, &mut frame.image, self.rotate_cw_deg)
                    .map_err(|e| decode_error(e, self.next_index))?;
            }
        }
        let container_s = self.capture.get(videoio::CAP_PROP_POS_MSEC).unwrap_or(f64::NAN) / 1000.0;
        let step = 1.0 / self.info.fps;
        let time_s = match self.last_time_s {
            None if container_s.is_finite() && container_s >= 0.0 => container_s,
            None => 0.0,
            // the container's clock must advance; FFmpeg reports 0 for the last frames
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

/// Rotates `src` clockwise by a multiple of 90° into `dst` (a copy when 0).
fn rotate(src: &Mat, dst: &mut Mat, cw_deg: i32) -> opencv::Result<()> {
    match cw_deg.rem_euclid(360) {
        90 => cvcore::rotate(src, dst, cvcore::ROTATE_90_CLOCKWISE),
        180 => cvcore::rotate(src, dst, cvcore::ROTATE_180),
        270 => cvcore::rotate(src, dst, cvcore::ROTATE_90_COUNTERCLOCKWISE),
        _ => src.copy_to(dst),
    }
}
