//! Decoding ahead of the reader on its own thread, through a bounded
//! channel; frame buffers travel back to the decoder to be reused.

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use opencv::core::Mat;

use super::{Decoder, Frame, VideoError, VideoInfo};

pub(super) struct Prefetch {
    info: VideoInfo,
    frames: Receiver<Result<Frame, VideoError>>,
    recycle: SyncSender<Mat>,
    thread: Option<JoinHandle<()>>,
    done: bool,
}

impl Prefetch {
    pub(super) fn start(mut decoder: Box<Decoder>, depth: usize) -> Self {
        let info = decoder.info.clone();
        let (tx, frames) = mpsc::sync_channel::<Result<Frame, VideoError>>(depth);
        let (recycle, reuse) = mpsc::sync_channel::<Mat>(depth + 2);
        let thread = std::thread::Builder::new()
            .name("hinge-decode".into())
            .spawn(move || loop {
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
            })
            .expect("spawn decode thread");
        Self { info, frames, recycle, thread: Some(thread), done: false }
    }

    pub(super) fn info(&self) -> &VideoInfo {
        &self.info
    }

    pub(super) fn read(&mut self, frame: &mut Frame) -> Result<bool, VideoError> {
        if self.done {
            return Ok(false);
        }
        match self.frames.recv() {
            Ok(Ok(next)) => {
                let old = std::mem::replace(frame, next);
                let _ = self.recycle.try_send(old.image);
                Ok(true)
            }
            Ok(Err(e)) => {
                self.done = true;
                Err(e)
            }
            Err(_) => {
                self.done = true;
                Ok(false)
            }
        }
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        // unblock the decoder (its send fails once the receiver is gone), then wait for it
        let (_, dead) = mpsc::sync_channel(0);
        drop(std::mem::replace(&mut self.frames, dead));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::video::{Frame, VideoSource};

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
