//! Video decoded with FFmpeg's libraries directly (libavformat, libavcodec,
//! libswscale; libavdevice for cameras, loaded when one opens), for the
//! memory a large video costs: files, pipes, cameras and network streams.
//!
//! OpenCV's FFmpeg reader decoded with as many threads as the machine has
//! cores (each with its own pictures) and converts every frame to a full-size
//! BGR image before hinge can shrink it: a 3840x2160 clip held ~150 MB of
//! decoder memory. Here a file is decoded on one thread, and each picture is
//! converted to BGR and scaled to the size the analysis asks for in one
//! swscale pass, so that no full-size colour frame is ever made. At the
//! video's own size the conversion is the one OpenCV makes (bicubic, same
//! colour matrix), so frames are the same pixels as before.
//!
//! Times are the frames' best-effort presentation times from the stream's
//! start, as OpenCV reported them; the nominal rate is the stream's average
//! (else FFmpeg's guess), the frame count the container's (else estimated
//! from the duration at a plausible rate). Packets that do not decode (a damaged stretch) are
//! skipped and counted, and decoding goes on after them.

use std::sync::Once;

use ff::codec::threading;
use ff::format::Pixel;
use ff::software::scaling;
use ff::util::frame;
use ffmpeg_next as ff;
use opencv::core::{Mat, Scalar, CV_8UC3};
use opencv::prelude::*;

use super::Orientation;

/// What to open.
#[derive(Debug, Clone, Copy)]
pub(super) enum Input<'a> {
    /// A file's path, or `pipe:FD` for a stream hinge opened.
    File(&'a str),
    /// A camera by index: V4L2's `/dev/videoN`.
    Camera(i32),
    /// A URL FFmpeg reads (RTSP, HTTP, `file:` ...).
    Url(&'a str),
}

/// Why a source could not be opened for decoding.
#[derive(Debug)]
pub(super) enum OpenFailure {
    /// A camera or URL FFmpeg cannot open, and why (FFmpeg's words).
    Unavailable(String),
    /// FFmpeg cannot read the file as a container it knows.
    NotAVideo,
    /// The container holds no video stream.
    NoVideoTrack,
    /// The video stream's codec cannot be decoded here.
    NoDecoder,
}

/// What a scaler was made for: pixel format, source and destination sizes.
type ScalerKey = (Pixel, u32, u32, u32, u32);

/// A source (file, pipe, camera or URL) read and decoded in order.
pub(super) struct AvFile {
    input: ff::format::context::Input,
    stream_index: usize,
    decoder: ff::decoder::Video,
    /// Seconds per stream tick.
    time_base_s: f64,
    /// The stream's first tick (0 where the container gives none).
    start_ticks: i64,
    /// Nominal frames per second (`None`: the container gives no plausible one).
    pub(super) fps: Option<f64>,
    /// Frames announced by the container, or estimated from its duration.
    pub(super) frame_count_hint: Option<u64>,
    /// The orientation of the stream's display matrix, if it has one.
    pub(super) display_orientation: Option<Orientation>,
    /// The picture last received from the decoder.
    decoded: frame::Video,
    /// A picture received but not yet handed out (the first one, read while opening).
    peeked: bool,
    /// The conversion to BGR, with the sizes and pixel format it was made for.
    scaler: Option<(scaling::Context, ScalerKey)>,
    /// Conversion buffer for frames whose rows swscale cannot write in place.
    padded: Vec<u8>,
    /// The presentation time of the last picture handed out, seconds (NaN: none).
    last_time_s: f64,
    /// The end of the input has been passed to the decoder.
    input_ended: bool,
    /// A camera or network stream: a failed read ends it (a file's damaged
    /// stretch is read past instead).
    live: bool,
}

// SAFETY: every FFmpeg object here (format context, codec context, frames,
// scaler) is owned by this value and used only through `&mut self`; none is
// shared with another thread, so moving the whole to the decode thread is sound.
unsafe impl Send for AvFile {}

fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let _ = ff::init();
        // FFmpeg's own messages (a damaged packet, a partial file) would go to
        // standard error among hinge's; what matters is reported by hinge
        ff::util::log::set_level(ff::util::log::Level::Quiet);
    });
}

/// FFmpeg's V4L2 input. It lives in libavdevice, which is loaded the first
/// time a camera is opened rather than linked: its dependencies (X11, SDL,
/// PulseAudio ...) would otherwise be loaded, and resident, in every run.
fn camera_input_format() -> Result<ff::format::format::Input, String> {
    static REGISTERED: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            // libavdevice's major version is libavformat's (both are FFmpeg's release)
            let major = ff::format::version() >> 16;
            let names = [format!("libavdevice.so.{major}"), "libavdevice.so".to_string()];
            let mut last = String::new();
            for name in &names {
                // SAFETY: loading FFmpeg's device library runs its initialisers only;
                // `avdevice_register_all` takes no arguments and only registers formats.
                match unsafe { libloading::Library::new(name) } {
                    Ok(library) => unsafe {
                        let register: libloading::Symbol<unsafe extern "C" fn()> =
                            library.get(b"avdevice_register_all\0").map_err(|e| e.to_string())?;
                        register();
                        // the formats it registered point into it: it stays loaded
                        std::mem::forget(library);
                        return Ok(());
                    },
                    Err(e) => last = e.to_string(),
                }
            }
            Err(format!("cameras need FFmpeg's libavdevice ({}; e.g. apt install ffmpeg): {last}", names[0]))
        })
        .clone()?;
    // SAFETY: a C string literal; the result is null or a format registered above.
    let format = unsafe { ff::ffi::av_find_input_format(c"v4l2".as_ptr()) };
    if format.is_null() {
        return Err("this FFmpeg has no V4L2 camera input".into());
    }
    // SAFETY: a non-null, static input format of FFmpeg's.
    Ok(unsafe { ff::format::format::Input::wrap(format as *mut _) })
}

/// How long a network source may deliver nothing before it counts as lost, µs.
const STALL_TIMEOUT_US: &str = "30000000";

/// Frame rates taken as the container's own (outside: no usable rate), fps.
const PLAUSIBLE_FPS: std::ops::RangeInclusive<f64> = 0.5..=1000.0;

fn rational_f64(r: ff::Rational) -> Option<f64> {
    (r.numerator() > 0 && r.denominator() > 0).then(|| r.numerator() as f64 / r.denominator() as f64)
}

/// The orientation of a display matrix as FFmpeg stores it (nine native-endian
/// 32-bit integers `a b u c d v x y w`, `a b c d` in 16.16 fixed point).
fn matrix_orientation(data: &[u8]) -> Option<Orientation> {
    if data.len() < 36 {
        return None;
    }
    let words =
        std::array::from_fn(|i| i32::from_ne_bytes([data[4 * i], data[4 * i + 1], data[4 * i + 2], data[4 * i + 3]]));
    Some(Orientation::from_display_matrix(words))
}

impl AvFile {
    /// Opens `source` and decodes its first picture. `Ok(None)`: it opened
    /// but no picture decodes.
    pub(super) fn open(source: Input<'_>) -> Result<Option<Self>, OpenFailure> {
        init();
        let input = match source {
            Input::File(path) => ff::format::input(path).map_err(|_| OpenFailure::NotAVideo)?,
            Input::Camera(index) => {
                let v4l2 = camera_input_format().map_err(OpenFailure::Unavailable)?;
                let device = format!("/dev/video{index}");
                // 640x480 at 30 fps, as OpenCV's V4L2 reader asked (a camera keeps whatever
                // mode it was left in otherwise, often a large one at a few frames a second);
                // a camera that has no such mode is opened as it is
                let mut options = ff::Dictionary::new();
                options.set("video_size", "640x480");
                options.set("framerate", "30");
                let opened = ff::format::open_with(&device, &ff::Format::Input(v4l2), options).or_else(|_| {
                    let v4l2 = camera_input_format().map_err(|_| ff::Error::Bug)?;
                    ff::format::open_with(&device, &ff::Format::Input(v4l2), ff::Dictionary::new())
                });
                match opened {
                    Ok(ff::format::context::Context::Input(input)) => input,
                    Ok(_) => return Err(OpenFailure::Unavailable(format!("{device} is not an input"))),
                    Err(e) => return Err(OpenFailure::Unavailable(format!("{device}: {e}"))),
                }
            }
            Input::Url(url) => {
                let mut options = ff::Dictionary::new();
                // a network read that stalls this long is an error (the source is lost);
                // RTSP has its own socket option for it: `timeout` since FFmpeg 5
                // (libavformat 59), `stimeout` before (where `timeout` means listen)
                options.set("rw_timeout", STALL_TIMEOUT_US);
                if url.starts_with("rtsp:") || url.starts_with("rtsps:") {
                    // as OpenCV did: RTSP over TCP (no lost packets on a busy network)
                    options.set("rtsp_transport", "tcp");
                    let key = if ff::format::version() >> 16 >= 59 { "timeout" } else { "stimeout" };
                    options.set(key, STALL_TIMEOUT_US);
                }
                ff::format::input_with_dictionary(url, options).map_err(|e| OpenFailure::Unavailable(e.to_string()))?
            }
        };
        let stream = input.streams().best(ff::media::Type::Video).ok_or(OpenFailure::NoVideoTrack)?;
        let stream_index = stream.index();
        let time_base = stream.time_base();
        let time_base_s = rational_f64(time_base).unwrap_or(1.0 / 90_000.0);
        let start_ticks = match stream.start_time() {
            t if t == ff::ffi::AV_NOPTS_VALUE => 0,
            t => t,
        };
        // as OpenCV: the average rate, else FFmpeg's guess from the stream
        let fps = rational_f64(stream.avg_frame_rate())
            .or_else(|| rational_f64(stream.rate()))
            .filter(|f| PLAUSIBLE_FPS.contains(f));
        let duration_s = match stream.duration() {
            d if d > 0 && d != ff::ffi::AV_NOPTS_VALUE => Some(d as f64 * time_base_s),
            _ => (input.duration() > 0).then(|| input.duration() as f64 / f64::from(ff::ffi::AV_TIME_BASE)),
        };
        let frame_count_hint = match stream.frames() {
            n if n > 0 => Some(n as u64),
            _ => duration_s.zip(fps).map(|(d, f)| (d * f).round()).filter(|n| *n >= 1.0).map(|n| n as u64),
        };
        let display_orientation = stream
            .side_data()
            .find(|s| s.kind() == ff::codec::packet::side_data::Type::DisplayMatrix)
            .and_then(|s| matrix_orientation(s.data()));
        let mut context =
            ff::codec::context::Context::from_parameters(stream.parameters()).map_err(|_| OpenFailure::NoDecoder)?;
        // one thread: a decoding thread holds pictures of its own, and decoding
        // already runs beside the analysis (the reader decodes ahead on its own thread)
        context.set_threading(threading::Config { kind: threading::Type::Frame, count: 1, ..Default::default() });
        let decoder = context.decoder().video().map_err(|_| OpenFailure::NoDecoder)?;
        let mut file = Self {
            input,
            stream_index,
            decoder,
            time_base_s,
            start_ticks,
            fps,
            frame_count_hint,
            display_orientation,
            decoded: frame::Video::empty(),
            peeked: false,
            scaler: None,
            padded: Vec::new(),
            last_time_s: f64::NAN,
            input_ended: false,
            live: !matches!(source, Input::File(_)),
        };
        let mut failed = 0;
        if !file.receive(&mut failed, super::MAX_FAILED_READS) {
            return Ok(None);
        }
        file.peeked = true;
        Ok(Some(file))
    }

    /// Size of the decoded pictures, as stored (before any display rotation).
    pub(super) fn stored_size(&self) -> (u32, u32) {
        (self.decoded.width(), self.decoded.height())
    }

    /// The presentation time of the picture last handed out, seconds from
    /// the stream's start (NaN when it has none).
    pub(super) fn time_s(&self) -> f64 {
        self.last_time_s
    }

    /// Receives the next picture into `self.decoded`, feeding packets to the
    /// decoder as it needs them; false at the end. Packets that fail (read or
    /// decode) are counted in `failed`; after `max_failed` in a row the input
    /// counts as ended.
    fn receive(&mut self, failed: &mut u32, max_failed: u32) -> bool {
        loop {
            match self.decoder.receive_frame(&mut self.decoded) {
                Ok(()) => return true,
                Err(ff::Error::Eof) => return false,
                Err(ff::Error::Other { errno }) if errno == ff::util::error::EAGAIN => {}
                Err(_) => {
                    // a picture that failed to decode
                    *failed += 1;
                    if *failed > max_failed {
                        return false;
                    }
                    continue;
                }
            }
            if self.input_ended {
                return false;
            }
            let mut packet = ff::Packet::empty();
            match packet.read(&mut self.input) {
                Ok(()) if packet.stream() != self.stream_index => {}
                Ok(()) => {
                    if self.decoder.send_packet(&packet).is_err() {
                        *failed += 1;
                    }
                }
                Err(ff::Error::Eof) => self.end_input(),
                // a camera or network stream that fails to deliver (unplugged, the
                // network gone past its timeout) has ended: waiting out `max_failed`
                // more reads would hold a live session for minutes
                Err(_) if self.live => self.end_input(),
                Err(_) => {
                    *failed += 1;
                }
            }
            if *failed > max_failed {
                self.end_input();
            }
        }
    }

    fn end_input(&mut self) {
        if !self.input_ended {
            self.input_ended = true;
            let _ = self.decoder.send_eof();
        }
    }

    /// Reads the next picture into `out` as BGR (`CV_8UC3`) of `size`
    /// (stored orientation; `None`: the decoded size); false at the end.
    /// `failed` counts the packets that did not decode before it.
    pub(super) fn read(
        &mut self,
        out: &mut Mat,
        size: Option<(u32, u32)>,
        failed: &mut u32,
        max_failed: u32,
    ) -> Result<bool, String> {
        if !self.peeked && !self.receive(failed, max_failed) {
            return Ok(false);
        }
        self.peeked = false;
        self.last_time_s = match self.decoded.timestamp() {
            Some(t) => (t - self.start_ticks) as f64 * self.time_base_s,
            None => f64::NAN,
        };
        let converted = self.convert(out, size);
        // the picture goes back to the decoder's pool now, not when the next one
        // comes: the decoder then holds one picture fewer (12 MB at 3840x2160)
        // SAFETY: unreferences a frame this value owns; it is empty afterwards, as after `empty()`.
        unsafe { ff::ffi::av_frame_unref(self.decoded.as_mut_ptr()) };
        converted?;
        Ok(true)
    }

    /// Converts `self.decoded` to BGR of `size` into `out`.
    fn convert(&mut self, out: &mut Mat, size: Option<(u32, u32)>) -> Result<(), String> {
        let (src_w, src_h, format) = (self.decoded.width(), self.decoded.height(), self.decoded.format());
        let (dst_w, dst_h) = size.unwrap_or((src_w, src_h));
        let key = (format, src_w, src_h, dst_w, dst_h);
        if self.scaler.as_ref().map(|s| s.1) != Some(key) {
            // at the same size as OpenCV converts (bicubic); shrinking as the
            // resize after decoding did: bilinear to half the size, area beyond
            let flags = if (dst_w, dst_h) == (src_w, src_h) {
                scaling::Flags::BICUBIC
            } else if dst_w * 2 >= src_w {
                scaling::Flags::BILINEAR
            } else {
                scaling::Flags::AREA
            };
            let scaler = scaling::Context::get(format, src_w, src_h, Pixel::BGR24, dst_w, dst_h, flags)
                .map_err(|e| format!("cannot convert {format:?} {src_w}x{src_h} pictures: {e}"))?;
            self.scaler = Some((scaler, key));
        }
        let (scaler, _) = self.scaler.as_mut().expect("made above");
        if out.cols() != dst_w as i32 || out.rows() != dst_h as i32 || out.typ() != CV_8UC3 || !out.is_continuous() {
            *out = Mat::new_rows_cols_with_default(dst_h as i32, dst_w as i32, CV_8UC3, Scalar::all(0.0))
                .map_err(|e| e.to_string())?;
        }
        // straight into the frame's buffer when its rows are a whole number of 16
        // pixels (swscale's vector code converts 8 or 16 pixels at a time and rounds a
        // row down to what the stride holds); otherwise through a buffer whose rows
        // have room to spare, copied after
        let row_bytes = dst_w as usize * 3;
        let direct = dst_w % 16 == 0;
        let padded_stride = (row_bytes + 64).next_multiple_of(64);
        if !direct && self.padded.len() != padded_stride * dst_h as usize {
            self.padded = vec![0u8; padded_stride * dst_h as usize];
        }
        let (dst_ptr, dst_stride) = if direct {
            (out.data_bytes_mut().map_err(|e| e.to_string())?.as_mut_ptr(), row_bytes)
        } else {
            (self.padded.as_mut_ptr(), padded_stride)
        };
        let dst_planes: [*mut u8; 4] = [dst_ptr, std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut()];
        let dst_strides: [i32; 4] = [dst_stride as i32, 0, 0, 0];
        // SAFETY: the source planes and strides are the decoded picture's own, of the
        // size and format the scaler was made for (checked above); the destination is
        // one packed plane of dst_h rows of `dst_stride` bytes, each holding a row of
        // dst_w x 3 bytes, in a buffer of that size (the frame's, checked above, or
        // `self.padded`, sized above).
        let rows = unsafe {
            let src = self.decoded.as_ptr();
            ff::ffi::sws_scale(
                scaler.as_mut_ptr(),
                (*src).data.as_ptr() as *const *const u8,
                (*src).linesize.as_ptr(),
                0,
                src_h as i32,
                dst_planes.as_ptr(),
                dst_strides.as_ptr(),
            )
        };
        if !direct {
            let dst = out.data_bytes_mut().map_err(|e| e.to_string())?;
            for (dst_row, src_row) in dst.chunks_exact_mut(row_bytes).zip(self.padded.chunks_exact(padded_stride)) {
                dst_row.copy_from_slice(&src_row[..row_bytes]);
            }
        }
        if rows != dst_h as i32 {
            return Err(format!("conversion of a {src_w}x{src_h} picture failed ({rows})"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_matrices_read_as_ffmpeg_stores_them() {
        let m = |a: i32, b: i32, c: i32, d: i32| {
            let words = [a << 16, b << 16, 0, c << 16, d << 16, 0, 0, 0, 1 << 30];
            words.iter().flat_map(|w| w.to_ne_bytes()).collect::<Vec<u8>>()
        };
        assert_eq!(matrix_orientation(&m(1, 0, 0, 1)), Some(Orientation::UPRIGHT));
        assert_eq!(matrix_orientation(&m(0, 1, -1, 0)), Some(Orientation::from_matrix(0.0, 1.0, -1.0, 0.0)));
        assert_eq!(matrix_orientation(&m(-1, 0, 0, 1)).map(|o| o.mirrored()), Some(true));
        assert_eq!(matrix_orientation(&[0u8; 35]), None, "short side data");
    }
}
