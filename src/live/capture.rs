//! The capture side of live mode: a thread that reads frames as fast as the
//! source delivers them and keeps only the newest one. The processing side
//! takes the newest frame whenever it is free; frames it never took are
//! dropped and counted, never queued, so feedback is never behind.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::video::{Frame, VideoError, VideoSource};

/// A frame with the moment it was captured.
pub struct Captured {
    pub frame: Frame,
    pub captured_at: Instant,
}

/// Why capture ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureEnd {
    /// The file or stream ended normally.
    EndOfStream,
    /// The camera or stream stopped delivering frames or failed.
    Lost(String),
    /// Stopped on request (q/Esc, Ctrl-C).
    Stopped,
}

#[derive(Default)]
struct Slot {
    newest: Option<Captured>,
    captured: u64,
    dropped: u64,
    ended: Option<CaptureEnd>,
    stop: bool,
}

/// Shared newest-frame slot between the capture thread and the processing loop.
pub struct FrameSlot {
    slot: Mutex<Slot>,
    ready: Condvar,
}

impl FrameSlot {
    fn new() -> Arc<Self> {
        Arc::new(Self { slot: Mutex::new(Slot::default()), ready: Condvar::new() })
    }

    fn put(&self, c: Captured) -> bool {
        let mut s = self.slot.lock().expect("slot lock");
        if s.newest.replace(c).is_some() {
            s.dropped += 1;
        }
        s.captured += 1;
        self.ready.notify_one();
        !s.stop
    }

    fn end(&self, why: CaptureEnd) {
        // also from a crashing capture thread: a poisoned lock still holds the slot
        let mut s = self.slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        s.ended.get_or_insert(why);
        self.ready.notify_all();
    }

    /// Waits for the newest frame; `None` once capture has ended and no frame is left.
    pub fn take(&self, timeout: Duration) -> Option<Captured> {
        let mut s = self.slot.lock().expect("slot lock");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(c) = s.newest.take() {
                return Some(c);
            }
            if s.ended.is_some() {
                return None;
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            s = self.ready.wait_timeout(s, deadline - now).expect("slot lock").0;
        }
    }

    /// Asks the capture thread to stop.
    pub fn stop(&self) {
        let mut s = self.slot.lock().expect("slot lock");
        s.stop = true;
        self.ready.notify_all();
    }

    /// (frames captured, frames dropped, why capture ended if it did).
    pub fn stats(&self) -> (u64, u64, Option<CaptureEnd>) {
        let s = self.slot.lock().expect("slot lock");
        (s.captured, s.dropped, s.ended.clone())
    }

    fn stopping(&self) -> bool {
        self.slot.lock().expect("slot lock").stop
    }
}

/// Ends capture as lost if the capture thread unwinds (a crash of the
/// decoder), so that the processing side does not wait for frames forever.
struct EndOnPanic(Arc<FrameSlot>);

impl Drop for EndOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.end(CaptureEnd::Lost("the capture thread crashed".into()));
        }
    }
}

/// Starts the capture thread. With `realtime`, a file is paced at its own
/// frame rate (as a camera would deliver it).
/// A thread the system will not start ends the capture at once as lost
/// (`None` for the handle), not with a panic.
pub fn start(mut source: VideoSource, realtime: bool) -> (Arc<FrameSlot>, Option<JoinHandle<()>>) {
    let is_file = matches!(source.info().kind, crate::video::SourceKind::File(_));
    start_reading(move |f| source.read(f), is_file, realtime)
}

fn start_reading(
    mut read: impl FnMut(&mut Frame) -> Result<bool, VideoError> + Send + 'static,
    is_file: bool,
    realtime: bool,
) -> (Arc<FrameSlot>, Option<JoinHandle<()>>) {
    let slot = FrameSlot::new();
    let shared = Arc::clone(&slot);
    let spawned = std::thread::Builder::new().name("hinge-capture".into()).spawn(move || {
        let _end_on_panic = EndOnPanic(Arc::clone(&shared));
        let started = Instant::now();
        let mut first_time: Option<f64> = None;
        loop {
            if shared.stopping() {
                shared.end(CaptureEnd::Stopped);
                return;
            }
            let mut frame = Frame::default();
            match read(&mut frame) {
                Ok(true) => {}
                Ok(false) => {
                    shared.end(if is_file {
                        CaptureEnd::EndOfStream
                    } else {
                        CaptureEnd::Lost("no more frames".into())
                    });
                    return;
                }
                Err(e) => {
                    shared.end(CaptureEnd::Lost(e.to_string()));
                    return;
                }
            }
            if realtime {
                let t0 = *first_time.get_or_insert(frame.time_s);
                let due = Duration::from_secs_f64((frame.time_s - t0).max(0.0));
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
            if !shared.put(Captured { frame, captured_at: Instant::now() }) {
                shared.end(CaptureEnd::Stopped);
                return;
            }
        }
    });
    let handle = match spawned {
        Ok(h) => Some(h),
        Err(e) => {
            slot.end(CaptureEnd::Lost(format!("cannot start the capture thread: {e}")));
            None
        }
    };
    (slot, handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_keeps_only_the_newest_and_counts_drops() {
        let slot = FrameSlot::new();
        for i in 0..5 {
            let frame = Frame { index: i, ..Frame::default() };
            slot.put(Captured { frame, captured_at: Instant::now() });
        }
        let c = slot.take(Duration::from_millis(10)).unwrap();
        assert_eq!(c.frame.index, 4);
        assert_eq!(slot.stats().1, 4);
        assert!(slot.take(Duration::from_millis(10)).is_none(), "nothing new");
        slot.end(CaptureEnd::EndOfStream);
        assert!(slot.take(Duration::from_secs(10)).is_none(), "ended: returns at once");
    }

    #[test]
    fn a_crash_of_the_capture_thread_ends_capture_as_lost() {
        let mut n = 0;
        let (slot, handle) = start_reading(
            move |f| {
                n += 1;
                if n > 3 {
                    panic!("scripted decoder failure");
                }
                f.index = n;
                Ok(true)
            },
            true,
            false,
        );
        assert!(handle.expect("the capture thread started").join().is_err(), "the thread crashed");
        let (captured, _, ended) = slot.stats();
        assert_eq!(captured, 3);
        assert_eq!(ended, Some(CaptureEnd::Lost("the capture thread crashed".into())));
        assert!(slot.take(Duration::from_millis(10)).is_some(), "the newest frame is still there");
        assert!(slot.take(Duration::from_secs(10)).is_none(), "then capture has ended, no wait");
    }
}
