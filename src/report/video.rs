//! `annotated.mp4`: the input video with what the analysis found drawn on
//! it, and the key frames of report.html — one second decoding pass.
//!
//! Everything drawn comes from the [`Analysis`]: landmarks, metrics, phase,
//! rep and faults of each frame. The back contour is the analysis's dorsal
//! outline (`FrameFeatures::dorsal`, sagittal coordinates relative to
//! mid-hip in hip–shoulder lengths) mapped back to frame pixels.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use opencv::core::{Mat, Point, Rect, Scalar, Size, Vector};
use opencv::imgproc;
use opencv::prelude::*;

use super::atomic::{cause_of_incomplete_file, commit_temp_file, NoSpace};
use super::style::{rgb, ReportStyle};
use super::text::{self, TextPainter};
use super::ReportError;
use crate::analysis::{Analysis, FrameRecord};
use crate::faults::Fault;
use crate::kinematics::sagittal::MAX_CORRECTED_OBLIQUITY_DEG;
use crate::pose::landmarks::{Landmark, SKELETON_EDGES};
use crate::video::{Frame, VideoSource};

/// What the drawing pass produced.
#[derive(Debug, Default)]
pub struct Rendered {
    /// The annotated video, when asked for.
    pub video: Option<PathBuf>,
    /// Frames written to the video.
    pub frames_written: u64,
    /// Annotated key frames as JPEG, by frame index.
    pub key_frames: BTreeMap<u64, Vec<u8>>,
    /// Time spent drawing and encoding (decoding excluded).
    pub draw: Duration,
    /// Time of the whole pass.
    pub total: Duration,
}

/// Longest side of a key-frame image in report.html, pixels.
pub const KEY_FRAME_MAX_SIDE: i32 = 480;
/// JPEG quality of key frames.
pub const KEY_FRAME_JPEG_QUALITY: u8 = 80;
/// Longest short side of the annotated video, pixels: larger inputs (phone
/// video, 1080p and up) are scaled down to 720p before drawing. The overlay
/// reads the same, and encoding 1080x1920 cost ~25 ms a frame on 2 cores,
/// twice the whole analysis; at 720x1280 it is under half that.
pub const ANNOTATED_MAX_SHORT_SIDE_PX: u32 = 720;
/// Landmarks less visible than this are not drawn.
const MIN_DRAW_VISIBILITY: f32 = 0.2;

/// Decodes `video_path` again and draws every frame: writes `out_video`
/// (when given) and keeps the frames `key_frames` as JPEG.
pub fn render(
    a: &Analysis,
    style: &ReportStyle,
    video_path: &Path,
    out_video: Option<&Path>,
    key_frames: &[u64],
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<Rendered, ReportError> {
    let started = Instant::now();
    let render_err = |reason: String| ReportError::Render { path: video_path.to_path_buf(), reason };
    let source = VideoSource::open_file(video_path).map_err(|e| render_err(e.to_string()))?;
    let info = source.info().clone();
    let (out_w, out_h) = annotated_size(info.width, info.height);
    let zoom = out_w as f64 / info.width.max(1) as f64;
    // frames are scaled to the annotated size right after decoding, on the decode thread:
    // no full-size frame (24 MB at 4K) waits in the queue
    let mut source = source.with_frame_size(out_w, out_h).prefetch(2);
    let total = Some(a.frames.len() as u64);
    let mut writer = None;
    let mut tmp = None;
    if let Some(out) = out_video {
        let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|source| ReportError::Write { path: dir.to_path_buf(), source })?;
        // the container is chosen by the extension: keep .mp4 on the temporary file
        let t = super::atomic::temp_path_keeping_extension(out);
        writer = Some(
            Encoder::open(&t, out_w as i32, out_h as i32, info.fps)
                .map_err(|reason| ReportError::Render { path: out.to_path_buf(), reason })?,
        );
        tmp = Some(t);
    }
    let painter = Painter::new(a, style, out_w, out_h);
    let mut rendered = Rendered::default();
    let mut frame = Frame::default();
    let mut scaled = Mat::default();
    let mut done = 0u64;
    let result = (|| -> Result<(), ReportError> {
        loop {
            if !source.read(&mut frame).map_err(|e| render_err(e.to_string()))? {
                break;
            }
            let t0 = Instant::now();
            let record = a.frames.binary_search_by_key(&frame.index, |f| f.index).ok().map(|k| &a.frames[k]);
            let decoded = (frame.image.cols() as u32, frame.image.rows() as u32);
            let image = if decoded == (out_w, out_h) {
                &mut frame.image
            } else {
                let size = Size::new(out_w as i32, out_h as i32);
                // bilinear is enough up to 2x (and INTER_AREA is slow at ratios like 1.5);
                // beyond, it would skip pixels: area averaging
                let interpolation = if zoom >= 0.5 { imgproc::INTER_LINEAR } else { imgproc::INTER_AREA };
                imgproc::resize(&frame.image, &mut scaled, size, 0.0, 0.0, interpolation)
                    .map_err(|e| render_err(e.to_string()))?;
                &mut scaled
            };
            let record = record.map(|r| zoomed(r, zoom));
            painter.draw(image, record.as_deref()).map_err(|e| render_err(e.to_string()))?;
            if let Some(w) = writer.as_mut() {
                w.write(image).map_err(render_err)?;
                rendered.frames_written += 1;
            }
            if key_frames.contains(&frame.index) {
                rendered.key_frames.insert(frame.index, jpeg(image).map_err(render_err)?);
            }
            rendered.draw += t0.elapsed();
            done += 1;
            progress(done, total);
        }
        Ok(())
    })();
    if let Some(w) = writer {
        let released = w.finish();
        let tmp = tmp.expect("temporary file with a writer");
        let out = out_video.expect("writer only with an output");
        // a full disk is the disk's fault, not the video's: say so (FFmpeg writes the file)
        let encoder_err = |reason: String| match NoSpace::in_ffmpeg_message(&reason) {
            Some(no_space) => ReportError::Write { path: out.to_path_buf(), source: no_space.io_error() },
            None => ReportError::Render { path: video_path.to_path_buf(), reason },
        };
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            // the encoder's own message says more than a broken pipe
            return Err(match released {
                Err(reason) => encoder_err(reason),
                Ok(()) => e,
            });
        }
        // FFmpeg 5 exits 0 even when its writes failed (a full disk): a finished MP4 has its index
        let complete = |()| match crate::video::mp4::has_video_track(&tmp) {
            Some(true) => Ok(()),
            _ => Err(ReportError::Write { path: out.to_path_buf(), source: cause_of_incomplete_file(&tmp) }),
        };
        let committed = released.map_err(encoder_err).and_then(complete).and_then(|()| {
            // flushed to the disk before it takes the final name, like every other output
            std::fs::File::open(&tmp)
                .and_then(|f| f.sync_all())
                .and_then(|()| commit_temp_file(&tmp, out))
                .map_err(|source| ReportError::Write { path: out.to_path_buf(), source })
        });
        if let Err(e) = committed {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        rendered.video = Some(out.to_path_buf());
    } else {
        result?;
    }
    rendered.total = started.elapsed();
    Ok(rendered)
}

/// Size of the annotated video for an upright input of `width` x `height`:
/// the same, or scaled to [`ANNOTATED_MAX_SHORT_SIDE_PX`] on the short side
/// (aspect kept, sides even for 4:2:0).
pub fn annotated_size(width: u32, height: u32) -> (u32, u32) {
    let short = width.min(height);
    if short <= ANNOTATED_MAX_SHORT_SIDE_PX {
        return (width, height);
    }
    let f = ANNOTATED_MAX_SHORT_SIDE_PX as f64 / short as f64;
    let even = |v: u32| (((v as f64 * f) / 2.0).round() as u32 * 2).max(2);
    (even(width), even(height))
}

/// A frame's record with its landmarks scaled by `zoom` (frame pixels of the
/// annotated video); everything else drawn derives from them.
fn zoomed(r: &FrameRecord, zoom: f64) -> std::borrow::Cow<'_, FrameRecord> {
    if zoom == 1.0 {
        return std::borrow::Cow::Borrowed(r);
    }
    let mut z = r.clone();
    if let Some(lms) = z.landmarks.as_mut() {
        for l in lms.iter_mut() {
            l.x_px = (l.x_px as f64 * zoom) as f32;
            l.y_px = (l.y_px as f64 * zoom) as f32;
        }
    }
    std::borrow::Cow::Owned(z)
}

/// H.264 encoder: the `ffmpeg` program (x264 `veryfast`, several times
/// faster than OpenCV's default settings, `+faststart` for playback while
/// downloading; scripts/setup.sh installs it). Frames of even
/// size go down the pipe as YUV 4:2:0, converted by OpenCV (BT.601 limited
/// range, what ffmpeg's own conversion gives to within 1 level): half the
/// bytes of BGR, and the conversion off the encoder's critical path.
enum Encoder {
    Pipe {
        child: std::process::Child,
        stdin: Option<std::process::ChildStdin>,
        frame_bytes: usize,
        /// Conversion buffer when frames are sent as yuv420p.
        yuv: Option<Mat>,
    },
}

/// x264 preset of the `ffmpeg` encoder.
pub const X264_PRESET: &str = "veryfast";
/// x264 constant rate factor (quality; lower is better, 23 is x264's default).
pub const X264_CRF: &str = "23";

impl Encoder {
    fn open(path: &Path, width: i32, height: i32, fps: f64) -> Result<Encoder, String> {
        use std::process::{Command, Stdio};
        let yuv = width % 2 == 0 && height % 2 == 0;
        let spawned = Command::new(std::env::var_os("HINGE_FFMPEG").unwrap_or_else(|| "ffmpeg".into()))
            .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "rawvideo"])
            .args(["-pix_fmt", if yuv { "yuv420p" } else { "bgr24" }])
            .args(["-s", &format!("{width}x{height}"), "-r", &fps_arg(fps), "-i", "-", "-an"])
            .args(["-c:v", "libx264", "-preset", X264_PRESET, "-crf", X264_CRF, "-pix_fmt", "yuv420p"])
            .args(["-movflags", "+faststart"])
            .arg(path)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        match spawned {
            Ok(mut child) => {
                let stdin = child.stdin.take();
                let frame_bytes = if yuv { width * height * 3 / 2 } else { width * height * 3 } as usize;
                Ok(Encoder::Pipe { child, stdin, frame_bytes, yuv: yuv.then(Mat::default) })
            }
            Err(e) => Err(format!(
                "no H.264 encoder: cannot run `{}` ({e}; install FFmpeg, e.g. scripts/setup.sh)",
                std::env::var_os("HINGE_FFMPEG").unwrap_or_else(|| "ffmpeg".into()).to_string_lossy()
            )),
        }
    }

    fn write(&mut self, image: &Mat) -> Result<(), String> {
        match self {
            Encoder::Pipe { stdin, frame_bytes, yuv, .. } => {
                use std::io::Write;
                let image = match yuv {
                    Some(buf) => {
                        imgproc::cvt_color_def(image, buf, imgproc::COLOR_BGR2YUV_I420).map_err(|e| e.to_string())?;
                        &*buf
                    }
                    None => image,
                };
                let bytes = if image.is_continuous() { image.data_bytes().map_err(|e| e.to_string())? } else { &[] };
                if bytes.len() != *frame_bytes {
                    return Err(format!("frame of {} bytes, expected {frame_bytes}", bytes.len()));
                }
                stdin.as_mut().expect("open until finish").write_all(bytes).map_err(|e| format!("ffmpeg: {e}"))
            }
        }
    }

    fn finish(self) -> Result<(), String> {
        match self {
            Encoder::Pipe { child, stdin, .. } => {
                drop(stdin);
                let out = child.wait_with_output().map_err(|e| format!("ffmpeg: {e}"))?;
                if out.status.success() {
                    Ok(())
                } else {
                    Err(format!("ffmpeg failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim()))
                }
            }
        }
    }
}

/// Frame rate for ffmpeg: exact for NTSC rates (30000/1001 ...).
fn fps_arg(fps: f64) -> String {
    for base in [24.0, 30.0, 60.0, 120.0] {
        let ntsc = base * 1000.0 / 1001.0;
        if (fps - ntsc).abs() < 1e-3 {
            return format!("{}/1001", base as u32 * 1000);
        }
    }
    if (fps - fps.round()).abs() < 1e-6 {
        format!("{}", fps.round() as u64)
    } else {
        format!("{fps}")
    }
}

/// A frame as JPEG, scaled down to [`KEY_FRAME_MAX_SIDE`].
fn jpeg(image: &Mat) -> Result<Vec<u8>, String> {
    let (w, h) = (image.cols(), image.rows());
    let side = w.max(h);
    let mut small = Mat::default();
    let img = if side > KEY_FRAME_MAX_SIDE {
        let f = KEY_FRAME_MAX_SIDE as f64 / side as f64;
        imgproc::resize(image, &mut small, Size::new(0, 0), f, f, imgproc::INTER_AREA).map_err(|e| e.to_string())?;
        &small
    } else {
        image
    };
    let mut rgb = Mat::default();
    imgproc::cvt_color_def(img, &mut rgb, imgproc::COLOR_BGR2RGB).map_err(|e| e.to_string())?;
    let pixels = rgb.data_bytes().map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, KEY_FRAME_JPEG_QUALITY)
        .encode(pixels, rgb.cols() as u32, rgb.rows() as u32, image::ExtendedColorType::Rgb8)
        .map_err(|e| e.to_string())?;
    Ok(buf)
}

fn bgr(hex: &str) -> Scalar {
    let (r, g, b) = rgb(hex);
    Scalar::new(b as f64, g as f64, r as f64, 0.0)
}

/// Everything that does not change from frame to frame.
struct Painter<'a> {
    a: &'a Analysis,
    style: &'a ReportStyle,
    /// Pixel scale: 1 for a 480-pixel short side.
    scale: f64,
    reps: usize,
    skeleton: Scalar,
    joints: Scalar,
    text: Scalar,
    panel: Scalar,
    good: Scalar,
    fault: Scalar,
    warning: Scalar,
    arched: Scalar,
    text_painter: TextPainter,
}

const BLACK: Scalar = Scalar::new(0.0, 0.0, 0.0, 0.0);

impl<'a> Painter<'a> {
    /// A painter for frames of `width` x `height` pixels.
    fn new(a: &'a Analysis, style: &'a ReportStyle, width: u32, height: u32) -> Self {
        let c = &style.colors;
        let short = width.min(height).max(1) as f64;
        Painter {
            a,
            style,
            scale: (short / 480.0).max(0.5),
            reps: a.reps.len(),
            skeleton: bgr(&c.skeleton),
            joints: bgr(&c.joints),
            text: bgr(&c.text),
            panel: bgr(&c.panel),
            good: bgr(&c.good),
            fault: bgr(&c.fault),
            warning: bgr(&c.warning),
            arched: bgr(&c.arched),
            text_painter: TextPainter::default(),
        }
    }

    fn px(&self, v: f64) -> i32 {
        (v * self.scale).round().max(1.0) as i32
    }

    fn draw(&self, img: &mut Mat, f: Option<&FrameRecord>) -> opencv::Result<()> {
        if let Some(f) = f {
            if let Some(lms) = &f.landmarks {
                self.back_contour(img, f, lms)?;
                self.skeleton(img, lms)?;
                self.angles(img, f, lms)?;
            }
        }
        self.status_bar(img, f)?;
        if let Some(f) = f {
            if !f.faults.is_empty() {
                self.fault_banner(img, f)?;
            }
        }
        Ok(())
    }

    fn skeleton(&self, img: &mut Mat, lms: &[Landmark]) -> opencv::Result<()> {
        let pt = |l: &Landmark| Point::new(l.x_px.round() as i32, l.y_px.round() as i32);
        let ok = |l: &Landmark| l.visibility >= MIN_DRAW_VISIBILITY && l.x_px.is_finite() && l.y_px.is_finite();
        let t = self.px(3.0);
        for (i, j) in SKELETON_EDGES {
            let (a, b) = (&lms[i], &lms[j]);
            if i < 11 || !ok(a) || !ok(b) {
                continue; // face edges clutter a side view
            }
            imgproc::line(img, pt(a), pt(b), BLACK, t + 2, imgproc::LINE_AA, 0)?;
            imgproc::line(img, pt(a), pt(b), self.skeleton, t, imgproc::LINE_AA, 0)?;
        }
        let r = self.px(4.0);
        for l in lms.iter().skip(11).filter(|l| ok(l)) {
            imgproc::circle(img, pt(l), r, BLACK, -1, imgproc::LINE_AA, 0)?;
            imgproc::circle(img, pt(l), (r - 1).max(1), self.joints, -1, imgproc::LINE_AA, 0)?;
        }
        // the head as one dot (nose)
        if ok(&lms[0]) {
            imgproc::circle(img, pt(&lms[0]), r + 1, self.joints, -1, imgproc::LINE_AA, 0)?;
        }
        Ok(())
    }

    /// Colour of the back contour: the frame's back fault, else neutral.
    fn back_colour(&self, f: &FrameRecord) -> Scalar {
        if f.faults.contains(Fault::RoundedLumbar) {
            self.fault
        } else if f.faults.contains(Fault::AnteriorTilt) {
            self.arched
        } else if f.faults.contains(Fault::PosteriorTilt) || f.faults.contains(Fault::RibsNotStacked) {
            self.warning
        } else {
            self.good
        }
    }

    fn back_contour(&self, img: &mut Mat, f: &FrameRecord, lms: &[Landmark]) -> opencv::Result<()> {
        let pts = back_contour_px(self.a, f, lms);
        if pts.len() < 2 {
            return Ok(());
        }
        let poly: Vector<Point> = pts.iter().map(|p| Point::new(p.0.round() as i32, p.1.round() as i32)).collect();
        let polys = Vector::<Vector<Point>>::from_iter([poly]);
        let t = self.px(6.0);
        imgproc::polylines(img, &polys, false, BLACK, t + 2, imgproc::LINE_AA, 0)?;
        imgproc::polylines(img, &polys, false, self.back_colour(f), t, imgproc::LINE_AA, 0)?;
        Ok(())
    }

    fn angles(&self, img: &mut Mat, f: &FrameRecord, lms: &[Landmark]) -> opencv::Result<()> {
        let fwd = self.a.facing.map(|x| x.forward_x()).unwrap_or(1.0);
        let mid =
            |i: usize, j: usize| ((lms[i].x_px + lms[j].x_px) as f64 / 2.0, (lms[i].y_px + lms[j].y_px) as f64 / 2.0);
        let m = &f.metrics;
        let s = &self.style;
        let gap = 14.0 * self.scale;
        // trunk ahead of the shoulders, hip behind the hips, knee ahead of the knees
        let items = [
            (&s.trunk_label, m.trunk_deg, mid(11, 12), fwd),
            (&s.hip_label, m.hip_angle_deg, mid(23, 24), -fwd),
            (&s.knee_label, m.knee_flexion_deg, mid(25, 26), fwd),
        ];
        for (label, v, (x, y), dir) in items {
            let Some(v) = v else { continue };
            let text = format!("{} {:.0}\u{b0}", label, v);
            self.label(img, &text, (x + dir * gap, y), dir < 0.0, 0.75)?;
        }
        Ok(())
    }

    /// Text with a dark outline at `at` (left end, or right end when
    /// `right_aligned`), vertically centred, kept inside the frame. `°` is drawn as a ring.
    fn label(&self, img: &mut Mat, text: &str, at: (f64, f64), right_aligned: bool, size: f64) -> opencv::Result<()> {
        let fs = size * self.scale;
        let th = self.px(2.0);
        let (w, h) = text::size(text, fs, th)?;
        let mut x = if right_aligned { at.0 - w as f64 } else { at.0 };
        let mut y = at.1 + h as f64 / 2.0;
        x = x.clamp(2.0, (img.cols() - w - 2).max(2) as f64);
        y = y.clamp(h as f64 + 2.0, (img.rows() - 2) as f64);
        self.text_painter.draw(img, text, Point::new(x as i32, y as i32), fs, th, self.text, true)
    }

    /// Top bar: rep counter, phase, time.
    fn status_bar(&self, img: &mut Mat, f: Option<&FrameRecord>) -> opencv::Result<()> {
        let fs = 0.8 * self.scale;
        let th = self.px(2.0);
        let (_, h) = text::size("Rep 0/0", fs, th)?;
        let pad = self.px(8.0);
        let bar_h = h + 2 * pad;
        blend_rect(img, Rect::new(0, 0, img.cols(), bar_h), self.panel, 0.75)?;
        let s = &self.style;
        let rep = match f.and_then(|f| f.rep) {
            Some(r) => format!("{} {}/{}", s.rep_label, r, self.reps),
            None => format!("{}s: {}", s.rep_label, self.reps),
        };
        let rep_colour = match f.and_then(|f| f.rep).and_then(|r| self.a.reps.iter().find(|x| x.index == r)) {
            Some(r) if !r.faults.is_empty() => self.fault,
            Some(_) => self.good,
            None => self.text,
        };
        // the rep counter on a tag in the rep's verdict colour
        if rep_colour != self.text {
            let (rw, _) = text::size(&rep, fs, th)?;
            imgproc::rectangle(
                img,
                Rect::new(pad / 2, pad / 2, rw + pad, h + pad),
                rep_colour,
                -1,
                imgproc::LINE_8,
                0,
            )?;
        }
        self.text_painter.draw(img, &rep, Point::new(pad, pad + h), fs, th, self.text, false)?;
        if let Some(p) = f.and_then(|f| f.phase) {
            let text = s.phase(p.name()).to_string();
            let (w, _) = text::size(&text, fs, th)?;
            let x = (img.cols() - w) / 2;
            let (rw, _) = text::size(&rep, fs, th)?;
            self.text_painter.draw(img, &text, Point::new(x.max(pad + rw + pad), pad + h), fs, th, self.text, false)?;
        }
        if let Some(f) = f {
            let t = format!("{:.1}s", f.time_s);
            let (w, _) = text::size(&t, 0.6 * self.scale, self.px(1.0))?;
            self.text_painter.draw(
                img,
                &t,
                Point::new(img.cols() - w - pad, pad + h),
                0.6 * self.scale,
                self.px(1.0),
                self.text,
                false,
            )?;
        }
        Ok(())
    }

    /// Bottom banner while a fault holds: what it is and the cue.
    fn fault_banner(&self, img: &mut Mat, f: &FrameRecord) -> opencv::Result<()> {
        let s = &self.style;
        let names: Vec<&str> = f.faults.iter().map(|x| s.fault_label(x.name())).collect();
        let title = names.join(" + ");
        let cue = f.faults.iter().next().map(|x| s.cue(x.name())).unwrap_or("");
        let pad = self.px(8.0);
        let avail = (img.cols() - 2 * pad).max(10);
        // shrink to fit the width
        let fit = |text: &str, size: f64, th: i32| -> opencv::Result<f64> {
            let (w, _) = text::size(text, size, th)?;
            Ok(if w > avail { size * avail as f64 / w as f64 } else { size })
        };
        let th1 = self.px(2.0);
        let fs1 = fit(&title, 0.8 * self.scale, th1)?;
        let th2 = self.px(1.5);
        let fs2 = fit(cue, 0.65 * self.scale, th2)?;
        let (_, h1) = text::size(&title, fs1, th1)?;
        let (_, h2) = text::size(if cue.is_empty() { "x" } else { cue }, fs2, th2)?;
        let lines_h = if cue.is_empty() { h1 } else { h1 + pad + h2 };
        let bh = lines_h + 2 * pad + pad / 2;
        let y0 = img.rows() - bh;
        blend_rect(img, Rect::new(0, y0, img.cols(), bh), self.fault, 0.8)?;
        self.text_painter.draw(img, &title, Point::new(pad, y0 + pad + h1), fs1, th1, self.text, false)?;
        if !cue.is_empty() {
            self.text_painter.draw(img, cue, Point::new(pad, y0 + pad + h1 + pad + h2), fs2, th2, self.text, false)?;
        }
        Ok(())
    }
}

/// Fills `r` with `colour` at opacity `alpha` (the video shows through).
fn blend_rect(img: &mut Mat, r: Rect, colour: Scalar, alpha: f64) -> opencv::Result<()> {
    let r = r & Rect::new(0, 0, img.cols(), img.rows());
    if r.width <= 0 || r.height <= 0 {
        return Ok(());
    }
    let mut roi = Mat::roi_mut(img, r)?;
    let under = roi.try_clone()?;
    let solid = Mat::new_size_with_default(r.size(), under.typ(), colour)?;
    opencv::core::add_weighted(&under, 1.0 - alpha, &solid, alpha, 0.0, &mut roi, -1)?;
    Ok(())
}

/// The back contour of a frame in frame pixels, from its dorsal outline
/// (sagittal, relative to mid-hip, in hip–shoulder lengths): the inverse of
/// the mapping the kinematics used (mid-hip origin, mid-shoulder axis length,
/// facing and obliquity of the clip). Empty without an outline.
pub fn back_contour_px(a: &Analysis, f: &FrameRecord, lms: &[Landmark]) -> Vec<(f64, f64)> {
    let Some(view) = a.clip_view.as_ref() else { return Vec::new() };
    if f.features.dorsal.len() < 2 {
        return Vec::new();
    }
    let mid = |i: usize, j: usize| ((lms[i].x_px + lms[j].x_px) as f64 / 2.0, (lms[i].y_px + lms[j].y_px) as f64 / 2.0);
    let hip = mid(23, 24);
    let sh = mid(11, 12);
    let l = (sh.0 - hip.0).hypot(sh.1 - hip.1);
    if !(l.is_finite() && l > 1.0) {
        return Vec::new();
    }
    let c = view.obliquity_deg.clamp(0.0, MAX_CORRECTED_OBLIQUITY_DEG).to_radians().cos();
    let fx = view.facing.forward_x();
    f.features.dorsal.iter().map(|&(_, fwd, up)| (hip.0 + fwd * c * fx * l, hip.1 - up * l)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_inputs_are_annotated_at_720p() {
        assert_eq!(annotated_size(640, 480), (640, 480));
        assert_eq!(annotated_size(720, 1280), (720, 1280));
        assert_eq!(annotated_size(1080, 1920), (720, 1280));
        assert_eq!(annotated_size(3840, 2160), (1280, 720));
        assert_eq!(annotated_size(1081, 1921), (720, 1280), "even sides");
    }

    #[test]
    fn fps_arguments_are_exact() {
        assert_eq!(fps_arg(30.0), "30");
        assert_eq!(fps_arg(30000.0 / 1001.0), "30000/1001");
        assert_eq!(fps_arg(60000.0 / 1001.0), "60000/1001");
        assert_eq!(fps_arg(12.5), "12.5");
    }
}
