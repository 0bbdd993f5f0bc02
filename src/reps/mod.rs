//! Repetition segmentation: standing → descending → bottom → ascending.
//!
//! Works on the movement depth — the hip angle above the person's standing
//! baseline — with hysteresis (a rep starts above `start_deg` and ends below
//! `end_deg`), a minimum peak depth and a minimum duration, so jitter never
//! counts as a rep and an idle clip has none. It is streaming: frames are
//! pushed one at a time and a rep is reported as soon as it ends, so the live
//! and the file path share it.

use serde::Serialize;

use crate::config::RepConfig;

/// Phase of the movement in one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Standing,
    Descending,
    Bottom,
    Ascending,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Standing => "standing",
            Phase::Descending => "descending",
            Phase::Bottom => "bottom",
            Phase::Ascending => "ascending",
        }
    }
}

/// One completed repetition (frame indices are inclusive).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rep {
    /// 1-based repetition number.
    pub index: usize,
    pub start_frame: u64,
    pub bottom_start_frame: u64,
    /// Frame of the deepest point.
    pub bottom_frame: u64,
    pub bottom_end_frame: u64,
    pub end_frame: u64,
    pub start_s: f64,
    pub bottom_s: f64,
    pub end_s: f64,
    /// Peak depth (hip angle above standing), °.
    pub peak_depth_deg: f64,
}

impl Rep {
    /// Phase of `frame` if it lies inside this rep.
    pub fn phase_of(&self, frame: u64) -> Option<Phase> {
        if frame < self.start_frame || frame > self.end_frame {
            None
        } else if frame < self.bottom_start_frame {
            Some(Phase::Descending)
        } else if frame <= self.bottom_end_frame {
            Some(Phase::Bottom)
        } else {
            Some(Phase::Ascending)
        }
    }

    pub fn contains(&self, frame: u64) -> bool {
        (self.start_frame..=self.end_frame).contains(&frame)
    }
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    frame: u64,
    time_s: f64,
    depth_deg: f64,
}

/// Streaming repetition detector.
#[derive(Debug, Clone)]
pub struct RepSegmenter {
    config: RepConfig,
    /// Last frame seen at standing depth.
    last_low: Option<Sample>,
    /// Samples of the rep in progress (from its start).
    current: Vec<Sample>,
    count: usize,
}

impl RepSegmenter {
    pub fn new(config: RepConfig) -> Self {
        Self { config, last_low: None, current: Vec::new(), count: 0 }
    }

    /// True while a repetition is in progress.
    pub fn in_rep(&self) -> bool {
        !self.current.is_empty()
    }

    /// Reps completed so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Pushes one frame's depth (hip angle above standing, °); `None` when
    /// it could not be measured. Returns a rep when one just ended.
    pub fn push(&mut self, frame: u64, time_s: f64, depth_deg: Option<f64>) -> Option<Rep> {
        let depth_deg = depth_deg.filter(|d| d.is_finite())?;
        let s = Sample { frame, time_s, depth_deg };
        if self.current.is_empty() {
            if depth_deg < self.config.end_deg {
                self.last_low = Some(s);
            } else if depth_deg >= self.config.start_deg {
                // the rep began when the person left standing depth
                let start = self.last_low.unwrap_or(s);
                self.current.push(start);
                if start.frame != s.frame {
                    self.current.push(s);
                }
            }
            return None;
        }
        self.current.push(s);
        if depth_deg < self.config.end_deg {
            self.last_low = Some(s);
            return self.close();
        }
        None
    }

    /// Ends the stream: a rep still in progress counts if it reached depth
    /// and came at least half-way back up.
    pub fn finish(&mut self) -> Option<Rep> {
        let peak = self.current.iter().map(|s| s.depth_deg).fold(f64::NEG_INFINITY, f64::max);
        let last = self.current.last()?.depth_deg;
        if last <= peak * 0.5 {
            self.close()
        } else {
            self.current.clear();
            None
        }
    }

    fn close(&mut self) -> Option<Rep> {
        let samples = std::mem::take(&mut self.current);
        let (first, last) = (samples.first()?, samples.last()?);
        let (peak_i, peak) = samples.iter().enumerate().max_by(|a, b| a.1.depth_deg.total_cmp(&b.1.depth_deg))?;
        if peak.depth_deg < self.config.min_depth_deg || last.time_s - first.time_s < self.config.min_duration_s {
            return None;
        }
        let level = self.config.bottom_fraction * peak.depth_deg;
        let mut b0 = peak_i;
        while b0 > 0 && samples[b0 - 1].depth_deg >= level {
            b0 -= 1;
        }
        let mut b1 = peak_i;
        while b1 + 1 < samples.len() && samples[b1 + 1].depth_deg >= level {
            b1 += 1;
        }
        self.count += 1;
        Some(Rep {
            index: self.count,
            start_frame: first.frame,
            bottom_start_frame: samples[b0].frame,
            bottom_frame: peak.frame,
            bottom_end_frame: samples[b1].frame,
            end_frame: last.frame,
            start_s: first.time_s,
            bottom_s: peak.time_s,
            end_s: last.time_s,
            peak_depth_deg: peak.depth_deg,
        })
    }
}

/// Segments a whole series at once (offline use of [`RepSegmenter`]).
pub fn segment(config: &RepConfig, samples: impl IntoIterator<Item = (u64, f64, Option<f64>)>) -> Vec<Rep> {
    let mut seg = RepSegmenter::new(config.clone());
    let mut reps: Vec<Rep> = samples.into_iter().filter_map(|(f, t, d)| seg.push(f, t, d)).collect();
    reps.extend(seg.finish());
    reps
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hinge_series(reps: usize, depth: f64, noise: f64) -> Vec<(u64, f64, Option<f64>)> {
        // 0.5 s standing, then reps of 2 s (1 s down, 1 s up), 0.5 s standing between
        let fps = 30.0;
        let mut out = Vec::new();
        let mut f = 0u64;
        let mut push = |d: f64, out: &mut Vec<_>| {
            let jitter = noise * ((f as f64) * 12.9898).sin();
            out.push((f, f as f64 / fps, Some(d + jitter)));
            f += 1;
        };
        for _ in 0..15 {
            push(0.0, &mut out);
        }
        for _ in 0..reps {
            for i in 0..60 {
                let phase = i as f64 / 60.0 * std::f64::consts::PI;
                push(depth * phase.sin(), &mut out);
            }
            for _ in 0..15 {
                push(0.0, &mut out);
            }
        }
        out
    }

    #[test]
    fn counts_clean_reps_with_phases_in_order() {
        let reps = segment(&RepConfig::default(), hinge_series(3, 80.0, 0.0));
        assert_eq!(reps.len(), 3);
        for (i, r) in reps.iter().enumerate() {
            assert_eq!(r.index, i + 1);
            assert!(r.start_frame < r.bottom_start_frame && r.bottom_start_frame <= r.bottom_frame);
            assert!(r.bottom_frame <= r.bottom_end_frame && r.bottom_end_frame < r.end_frame);
            assert!((r.peak_depth_deg - 80.0).abs() < 1.0);
            assert_eq!(r.phase_of(r.bottom_frame), Some(Phase::Bottom));
            assert_eq!(r.phase_of(r.start_frame + 1), Some(Phase::Descending));
        }
    }

    #[test]
    fn standing_jitter_and_shallow_bows_are_not_reps() {
        assert!(segment(&RepConfig::default(), hinge_series(0, 0.0, 6.0)).is_empty());
        assert!(segment(&RepConfig::default(), hinge_series(2, 20.0, 0.0)).is_empty());
    }

    #[test]
    fn missing_frames_do_not_split_a_rep() {
        let mut s = hinge_series(1, 70.0, 0.0);
        for x in s.iter_mut().skip(30).take(10) {
            x.2 = None;
        }
        assert_eq!(segment(&RepConfig::default(), s).len(), 1);
    }

    proptest! {
        #[test]
        fn jitter_never_double_counts(n in 1usize..5, depth in 40f64..100.0, noise in 0f64..3.0) {
            let reps = segment(&RepConfig::default(), hinge_series(n, depth, noise));
            prop_assert_eq!(reps.len(), n);
        }
    }
}
