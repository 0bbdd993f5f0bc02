//! Repetition segmentation: standing → descending → bottom → ascending.
//!
//! Works on the movement depth — the hip angle above the person's standing
//! baseline — with hysteresis (a rep starts above `start_deg` and ends below
//! `end_deg`), a minimum peak depth and a minimum duration, so jitter never
//! counts as a rep and an idle clip has none. It is streaming: frames are
//! pushed one at a time and a rep is reported as soon as it ends, so the live
//! and the file path share it.

use serde::Serialize;

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

/// Repetition segmentation settings (`[reps]` of the configuration file).
///
/// A rep is found on the movement depth, the hip angle above the standing
/// baseline: it starts when the depth has risen `start_rise_deg` above the
/// lowest point since the last rep (and is at least `start_deg`) — from the
/// last frame within `start_still_deg` of that point, where the descent
/// began — and it is over once the person has come `return_share` of the way
/// back from its deepest point toward where it started (or below `end_deg`).
/// Judging the return against each rep's own range, not one absolute level,
/// keeps quick sets apart where the person never stands fully up between reps.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepConfig {
    /// Depth (hip angle above standing) a rep must reach to start, °. Above
    /// normal sway (~5°) so that standing jitter never starts a rep.
    pub start_deg: f64,
    /// Rise above the lowest depth since the last rep that starts a rep, °.
    pub start_rise_deg: f64,
    /// Depth within which the person still counts as at the lowest point
    /// before a rep, °: the rep starts at the last frame this close to it,
    /// when the descent began, not wherever standing jitter was lowest.
    pub start_still_deg: f64,
    /// Depth below which a rep is always over (back to standing), °.
    pub end_deg: f64,
    /// Share of the way back from the deepest point to the rep's starting
    /// depth after which the rep is over (0.7: 70 % of the way up).
    pub return_share: f64,
    /// Smallest depth range (deepest point above the starting depth) that
    /// counts as a repetition, °. A hinge to mid-shin flexes the hip 40–90°;
    /// 30° excludes bows, reaching and shifting the weight.
    pub min_depth_deg: f64,
    /// Shortest repetition, s (faster is jitter or a stumble).
    pub min_duration_s: f64,
    /// Share of the peak depth above which the person is "at the bottom".
    pub bottom_fraction: f64,
    /// Seconds of standing used for the baseline at the start.
    pub baseline_window_s: f64,
}

impl Default for RepConfig {
    fn default() -> Self {
        Self {
            start_deg: 15.0,
            start_rise_deg: 15.0,
            start_still_deg: 3.0,
            end_deg: 8.0,
            return_share: 0.7,
            min_depth_deg: 30.0,
            min_duration_s: 0.6,
            bottom_fraction: 0.9,
            baseline_window_s: 0.5,
        }
    }
}

impl RepConfig {
    /// Checks every value: finite, in range and consistent.
    pub fn validate(&self) -> Result<(), String> {
        use crate::validate::range;
        range("reps.start_deg", self.start_deg, 1.0, 90.0)?;
        range("reps.start_rise_deg", self.start_rise_deg, 1.0, 90.0)?;
        range("reps.start_still_deg", self.start_still_deg, 0.0, 90.0)?;
        range("reps.end_deg", self.end_deg, 0.0, 90.0)?;
        range("reps.return_share", self.return_share, 0.05, 1.0)?;
        range("reps.min_depth_deg", self.min_depth_deg, 1.0, 180.0)?;
        range("reps.min_duration_s", self.min_duration_s, 0.01, 10.0)?;
        range("reps.bottom_fraction", self.bottom_fraction, 0.01, 0.99)?;
        range("reps.baseline_window_s", self.baseline_window_s, 0.01, 30.0)?;
        if !(self.end_deg < self.start_deg && self.start_deg <= self.min_depth_deg) {
            return Err(format!(
                "reps: need end_deg < start_deg <= min_depth_deg (got {}, {}, {})",
                self.end_deg, self.start_deg, self.min_depth_deg
            ));
        }
        if self.start_still_deg >= self.start_rise_deg {
            return Err(format!(
                "reps: need start_still_deg < start_rise_deg (got {}, {})",
                self.start_still_deg, self.start_rise_deg
            ));
        }
        Ok(())
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
    /// Samples since the lowest point after the last rep (the lowest first).
    since_low: Vec<Sample>,
    /// Samples of the rep in progress (from its start).
    current: Vec<Sample>,
    count: usize,
}

impl RepSegmenter {
    pub fn new(config: RepConfig) -> Self {
        Self { config, since_low: Vec::new(), current: Vec::new(), count: 0 }
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
            // the lowest point since the last rep (the latest of equal ones)
            match self.since_low.first() {
                Some(low) if depth_deg > low.depth_deg => self.since_low.push(s),
                _ => {
                    self.since_low.clear();
                    self.since_low.push(s);
                }
            }
            let low = self.since_low[0].depth_deg;
            if depth_deg >= self.config.start_deg && depth_deg - low >= self.config.start_rise_deg {
                // the rep began when the person left the lowest point: the last
                // frame still within `start_still_deg` of it
                let still = low + self.config.start_still_deg;
                // (the low itself, first, always qualifies: the fallback is never taken)
                let left = self.since_low.iter().rposition(|x| x.depth_deg <= still).unwrap_or(0);
                self.current = self.since_low.split_off(left);
                self.since_low.clear();
            }
            return None;
        }
        self.current.push(s);
        let base = self.current[0].depth_deg;
        let peak = self.current.iter().map(|x| x.depth_deg).fold(f64::NEG_INFINITY, f64::max);
        let back = base + (peak - base) * (1.0 - self.config.return_share);
        if depth_deg < self.config.end_deg || (peak - base >= self.config.min_depth_deg && depth_deg <= back) {
            self.since_low = vec![s];
            return self.close();
        }
        None
    }

    /// Ends the stream: a rep still in progress counts if it reached depth
    /// and came at least half-way back up.
    pub fn finish(&mut self) -> Option<Rep> {
        let base = self.current.first()?.depth_deg;
        let peak = self.current.iter().map(|s| s.depth_deg).fold(f64::NEG_INFINITY, f64::max);
        let last = self.current.last()?.depth_deg;
        if last <= base + (peak - base) * 0.5 {
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
        let range = peak.depth_deg - first.depth_deg;
        if range < self.config.min_depth_deg || last.time_s - first.time_s < self.config.min_duration_s {
            return None;
        }
        let level = first.depth_deg + self.config.bottom_fraction * range;
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

    /// Reps of `depth` that come back only to `valley` between them (a quick set).
    fn quick_set(reps: usize, depth: f64, valley: f64) -> Vec<(u64, f64, Option<f64>)> {
        let mut out = Vec::new();
        let mut f = 0u64;
        for _ in 0..20 {
            out.push((f, f as f64 / 60.0, Some(0.0)));
            f += 1;
        }
        for r in 0..reps {
            let floor = if r == 0 { 0.0 } else { valley };
            for i in 0..100 {
                let x = (std::f64::consts::PI * i as f64 / 100.0).sin();
                let lo = if i < 50 { floor } else { valley };
                out.push((f, f as f64 / 60.0, Some(lo + (depth - lo) * x)));
                f += 1;
            }
        }
        // the last one goes back to standing, then the load is put down and the clip ends at the bottom
        for i in 0..40 {
            out.push((f, f as f64 / 60.0, Some(valley * (1.0 - i as f64 / 40.0))));
            f += 1;
        }
        for i in 0..60 {
            out.push((f, f as f64 / 60.0, Some(depth * i as f64 / 60.0)));
            f += 1;
        }
        out
    }

    #[test]
    fn quick_sets_that_never_stand_fully_up_count_every_rep() {
        let reps = segment(&RepConfig::default(), quick_set(10, 110.0, 18.0));
        assert_eq!(reps.len(), 10, "{reps:?}");
        assert!(reps.windows(2).all(|w| w[0].end_frame < w[1].start_frame + 1));
        // the final descent without a way back up is not a rep
        assert!(reps.last().unwrap().end_s < 17.5);
    }

    #[test]
    fn config_values_are_checked() {
        assert!(RepConfig::default().validate().is_ok());
        for bad in [
            RepConfig { start_deg: f64::NAN, ..Default::default() },
            RepConfig { return_share: 1.5, ..Default::default() },
            RepConfig { min_duration_s: -1.0, ..Default::default() },
            RepConfig { end_deg: 20.0, ..Default::default() },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }

    proptest! {
        /// A rep starts when the descent begins (within the jitter), not
        /// wherever standing sway happened to be lowest since the last rep.
        /// With jitter of up to ±2.5° the last frame within 3° of the lowest
        /// can sit a few frames before the onset (where the jitter last dipped),
        /// which the bound allows; past that the pause itself is noise.
        #[test]
        fn a_rep_starts_where_the_descent_begins(n in 1usize..5, depth in 40f64..100.0, noise in 0f64..2.5) {
            let reps = segment(&RepConfig::default(), hinge_series(n, depth, noise));
            prop_assert_eq!(reps.len(), n);
            for (k, r) in reps.iter().enumerate() {
                let onset = 15 + 75 * k as u64;
                prop_assert!(r.start_frame + 5 >= onset && r.start_frame <= onset + 1, "rep {} starts at {}, onset {}", k + 1, r.start_frame, onset);
            }
        }

        #[test]
        fn jitter_never_double_counts(n in 1usize..5, depth in 40f64..100.0, noise in 0f64..3.0) {
            let reps = segment(&RepConfig::default(), hinge_series(n, depth, noise));
            prop_assert_eq!(reps.len(), n);
        }
    }
}
