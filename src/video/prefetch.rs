//! Decoding ahead of the reader on its own thread, through a bounded
//! channel; frame buffers travel back to the decoder to be reused.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use opencv::core::Mat;

use super::{Decoder, Frame, VideoError, VideoInfo};

/// What the decode thread reads frames from.
pub(super) trait ReadFrames: Send + 'static {
    /// Reads the next frame; false at the end.
    fn read(&mut self, frame: &mut Frame) -> Result<bool, VideoError>;
}

impl ReadFrames for Box<Decoder> {
    fn read(&mut self, frame: &mut Frame) -> Result<bool, VideoError> {
        Decoder::read(self, frame)
    }
}

pub(super) struct Prefetch {
    info: VideoInfo,
    frame_scale: f64,
    frames: Receiver<Result<Frame, VideoError>>,
    recycle: SyncSender<Mat>,
    thread: Option<JoinHandle<()>>,
    /// Frames handed to the reader so far.
    delivered: u64,
    done: bool,
    /// Set from outside to end reading early.
    stop: Option<Arc<AtomicBool>>,
}

/// How often a reader waiting for the decode thread looks at its stop flag.
const STOP_POLL: Duration = Duration::from_millis(50);

impl Prefetch {
    pub(super) fn start(decoder: Box<Decoder>, depth: usize) -> Self {
        let info = decoder.info.clone();
        let frame_scale = decoder.frame_scale();
        let mut p = Self::start_with(decoder, info, depth);
        p.frame_scale = frame_scale;
        p
    }

    pub(super) fn frame_scale(&self) -> f64 {
        self.frame_scale
    }

    fn start_with(mut decoder: impl ReadFrames, info: VideoInfo, depth: usize) -> Self {
        let (tx, frames) = mpsc::sync_channel::<Result<Frame, VideoError>>(depth);
        let (recycle, reuse) = mpsc::sync_channel::<Mat>(depth + 2);
        // a thread the system will not start (out of threads or memory) is a read error, not a panic
        let failed = tx.clone();
        let spawned = std::thread::Builder::new().name("hinge-decode".into()).spawn(move || loop {
            let mut f = Frame { image: reuse.try_recv().unwrap_or_default(), ..Frame::default() };
            match decoder.read(&mut f) {
                Ok(true) => {
                    if tx.send(Ok(f)).is_err() {
                        return; // reader gone
                    }
                }
                Ok(false) => return,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            }
        });
        let thread = match spawned {
            Ok(t) => Some(t),
            Err(e) => {
                let reason = format!("cannot start a decoding thread: {e}");
                let _ = failed.try_send(Err(VideoError::Decode { source_name: info.name(), frame: 0, reason }));
                None
            }
        };
        // only the thread may hold the sender: its end is the end of the video
        drop(failed);
        Self { info, frame_scale: 1.0, frames, recycle, thread, delivered: 0, done: false, stop: None }
    }

    /// Reads end with [`VideoError::Stopped`] once `stop` is set, even while
    /// the decode thread is stuck in a read.
    pub(super) fn stop_when(&mut self, stop: Option<Arc<AtomicBool>>) {
        self.stop = stop;
    }

    fn stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst))
    }

    /// The next message of the decode thread; `None` when stopped first.
    fn next(&self) -> Option<Result<Result<Frame, VideoError>, ()>> {
        if self.stop.is_none() {
            return Some(self.frames.recv().map_err(|_| ()));
        }
        loop {
            if self.stopped() {
                return None;
            }
            match self.frames.recv_timeout(STOP_POLL) {
                Ok(m) => return Some(Ok(m)),
                Err(RecvTimeoutError::Disconnected) => return Some(Err(())),
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    }

    pub(super) fn info(&self) -> &VideoInfo {
        &self.info
    }

    pub(super) fn read(&mut self, frame: &mut Frame) -> Result<bool, VideoError> {
        if self.done {
            return Ok(false);
        }
        let Some(message) = self.next() else {
            self.done = true;
            return Err(VideoError::Stopped { source_name: self.info.name() });
        };
        match message {
            Ok(Ok(next)) => {
                let old = std::mem::replace(frame, next);
                let _ = self.recycle.try_send(old.image);
                self.delivered += 1;
                Ok(true)
            }
            Ok(Err(e)) => {
                self.done = true;
                Err(e)
            }
            Err(_) => {
                // the decoder hung up: the end of the video, unless its thread crashed
                self.done = true;
                match self.thread.take().map(JoinHandle::join) {
                    Some(Err(panic)) => Err(VideoError::Decode {
                        source_name: self.info.name(),
                        frame: self.delivered,
                        reason: format!("the decoder crashed: {}", panic_message(panic.as_ref())),
                    }),
                    _ => Ok(false),
                }
            }
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(s), _) => s.to_string(),
        (_, Some(s)) => s.clone(),
        _ => "panic".to_string(),
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        // unblock the decoder (its send fails once the receiver is gone), then wait for it
        let (_, dead) = mpsc::sync_channel(0);
        drop(std::mem::replace(&mut self.frames, dead));
        // once stopped, the decoder may be stuck in a read that never returns (a stalled
        // pipe): leave it; it ends by itself when the read returns and its send fails
        if self.stopped() {
            return;
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Prefetch, ReadFrames};
    use crate::video::{Frame, SourceKind, VideoError, VideoInfo, VideoSource};

    /// Gives `frames` frames, then panics (or ends when `crash` is false).
    struct Scripted {
        frames: u64,
        given: u64,
        crash: bool,
    }

    impl ReadFrames for Scripted {
        fn read(&mut self, frame: &mut Frame) -> Result<bool, VideoError> {
            if self.given < self.frames {
                frame.index = self.given;
                self.given += 1;
                return Ok(true);
            }
            if self.crash {
                panic!("scripted decoder failure");
            }
            Ok(false)
        }
    }

    fn info() -> VideoInfo {
        VideoInfo {
            kind: SourceKind::Stream("scripted".into()),
            width: 2,
            height: 2,
            fps: 30.0,
            frame_count_hint: None,
            rotation_deg: 0,
            mirrored: false,
        }
    }

    #[test]
    fn a_crash_of_the_decode_thread_is_an_error_not_the_end() {
        let mut p = Prefetch::start_with(Scripted { frames: 3, given: 0, crash: true }, info(), 2);
        let mut f = Frame::default();
        for i in 0..3 {
            assert!(p.read(&mut f).unwrap());
            assert_eq!(f.index, i);
        }
        let err = p.read(&mut f).expect_err("a crashed decoder is an error, not the end of the video");
        let msg = err.to_string();
        assert_eq!(msg, "scripted: decoding failed at frame 3: the decoder crashed: scripted decoder failure");
        assert!(!p.read(&mut f).unwrap(), "then the source is finished");
        // a decoder that ends normally still ends
        let mut q = Prefetch::start_with(Scripted { frames: 1, given: 0, crash: false }, info(), 2);
        assert!(q.read(&mut f).unwrap());
        assert!(!q.read(&mut f).unwrap());
    }

    /// Gives one frame, then blocks in its next read until `release` is dropped.
    struct Stalls {
        given: bool,
        release: std::sync::mpsc::Receiver<()>,
    }

    impl ReadFrames for Stalls {
        fn read(&mut self, frame: &mut Frame) -> Result<bool, VideoError> {
            if !self.given {
                self.given = true;
                frame.index = 0;
                return Ok(true);
            }
            let _ = self.release.recv();
            Ok(false)
        }
    }

    #[test]
    fn a_stop_ends_a_read_stuck_on_a_stalled_decoder_and_drop_does_not_wait() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        let (keep, release) = std::sync::mpsc::channel::<()>();
        let mut p = Prefetch::start_with(Stalls { given: false, release }, info(), 2);
        let stop = Arc::new(AtomicBool::new(false));
        p.stop_when(Some(Arc::clone(&stop)));
        let mut f = Frame::default();
        assert!(p.read(&mut f).unwrap());
        let flag = Arc::clone(&stop);
        let setter = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(200));
            flag.store(true, Ordering::SeqCst);
        });
        let started = std::time::Instant::now();
        let err = p.read(&mut f).expect_err("stopped while the decoder is stuck");
        assert!(matches!(err, VideoError::Stopped { .. }), "{err}");
        assert_eq!(err.to_string(), "scripted: stopped before its end");
        drop(p);
        assert!(started.elapsed().as_secs() < 5, "the stuck decoder was waited for");
        setter.join().unwrap();
        drop(keep);
    }

    #[test]
    fn prefetched_frames_match_direct_decoding() {
        let clip =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/dev/dev_12_idle_side_facing_right.mp4");
        let mut direct = VideoSource::open_file(&clip).unwrap();
        let mut ahead = VideoSource::open_file(&clip).unwrap().prefetch(3);
        assert_eq!(direct.info(), ahead.info());
        let (mut a, mut b) = (Frame::default(), Frame::default());
        let mut n = 0;
        while direct.read(&mut a).unwrap() {
            assert!(ahead.read(&mut b).unwrap());
            assert_eq!((a.index, a.time_s), (b.index, b.time_s));
            let diff =
                opencv::core::norm2(&a.image, &b.image, opencv::core::NORM_INF, &opencv::core::no_array()).unwrap();
            assert_eq!(diff, 0.0, "frame {n}");
            n += 1;
        }
        assert!(!ahead.read(&mut b).unwrap());
        assert!(n > 100);
        // dropping a source mid-stream stops its thread
        let mut early = VideoSource::open_file(&clip).unwrap().prefetch(2);
        assert!(early.read(&mut b).unwrap());
        drop(early);
    }
}
