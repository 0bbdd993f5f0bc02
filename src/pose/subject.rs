//! Keeping the same person: after the tracked subject is lost, which new
//! detection (if any) is the subject again rather than a bystander.
//!
//! Rule: right after a loss, a detection near where the subject was is the
//! subject; one far away is someone else, and is remembered as a bystander
//! (and followed) so that it cannot take over later. A detection that no
//! bystander explains is accepted once the subject has been gone for a short
//! while (people do move). After `forget_after_s` without the subject, the
//! memory is cleared and the most confident detection wins.

use super::roi::PointPx;

/// Tuning of the subject lock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SubjectLockConfig {
    /// Seconds after a loss during which the subject is looked for specifically.
    pub forget_after_s: f64,
    /// Seconds after a loss after which a detection unexplained by known
    /// bystanders is accepted wherever it is.
    pub settle_s: f64,
    /// Radius (in body sizes) around the last position counted as "near",
    /// growing by `growth_per_s` body sizes per second since the loss.
    pub near_body_sizes: f32,
    pub growth_per_s: f32,
}

impl Default for SubjectLockConfig {
    fn default() -> Self {
        Self { forget_after_s: 2.0, settle_s: 0.3, near_body_sizes: 0.5, growth_per_s: 1.0 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Seen {
    hip: PointPx,
    time_s: f64,
    body_px: f32,
}

/// Remembers the subject and bystanders between detections.
#[derive(Debug, Clone, Default)]
pub struct SubjectLock {
    config: SubjectLockConfig,
    subject: Option<Seen>,
    bystanders: Vec<Seen>,
}

impl SubjectLock {
    pub fn new(config: SubjectLockConfig) -> Self {
        Self { config, subject: None, bystanders: Vec::new() }
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        self.subject = None;
        self.bystanders.clear();
    }

    /// Records where the tracked subject is (hip centre) and its size in pixels.
    pub fn seen(&mut self, hip: PointPx, body_px: f32, time_s: f64) {
        self.subject = Some(Seen { hip, time_s, body_px });
    }

    /// Chooses among detections (hip centre, body size in px), sorted best
    /// first; returns the index of the subject, or `None` when none is.
    pub fn choose(&mut self, candidates: &[(PointPx, f32)], time_s: f64) -> Option<usize> {
        let Some(subject) = self.subject.filter(|s| time_s - s.time_s <= self.config.forget_after_s) else {
            self.bystanders.clear();
            return (!candidates.is_empty()).then_some(0);
        };
        let dt = (time_s - subject.time_s).max(0.0) as f32;
        let radius = subject.body_px * (self.config.near_body_sizes + self.config.growth_per_s * dt);
        let near = candidates
            .iter()
            .enumerate()
            .filter(|(_, (p, _))| p.distance(subject.hip) <= radius)
            .min_by(|a, b| a.1 .0.distance(subject.hip).total_cmp(&b.1 .0.distance(subject.hip)));
        if let Some((i, _)) = near {
            return Some(i);
        }
        let mut unexplained = None;
        for (i, &(p, size)) in candidates.iter().enumerate() {
            let known = self
                .bystanders
                .iter_mut()
                .find(|b| p.distance(b.hip) <= b.body_px * self.config.near_body_sizes.max(0.5));
            match known {
                Some(b) => *b = Seen { hip: p, time_s, body_px: size },
                None if unexplained.is_none() && f64::from(dt) >= self.config.settle_s => unexplained = Some(i),
                None => self.bystanders.push(Seen { hip: p, time_s, body_px: size }),
            }
        }
        unexplained
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(x: f32, y: f32) -> PointPx {
        PointPx::new(x, y)
    }

    #[test]
    fn first_detection_wins_without_history() {
        let mut lock = SubjectLock::default();
        assert_eq!(lock.choose(&[(p(10.0, 10.0), 100.0), (p(500.0, 10.0), 100.0)], 0.0), Some(0));
        assert_eq!(lock.choose(&[], 0.0), None);
    }

    #[test]
    fn nearby_detection_is_the_subject_even_if_less_confident() {
        let mut lock = SubjectLock::default();
        lock.seen(p(500.0, 300.0), 200.0, 1.0);
        assert_eq!(lock.choose(&[(p(100.0, 300.0), 200.0), (p(520.0, 310.0), 200.0)], 1.03), Some(1));
    }

    #[test]
    fn bystander_does_not_take_over_and_subject_is_found_again() {
        let mut lock = SubjectLock::default();
        lock.seen(p(800.0, 300.0), 200.0, 5.0);
        // subject lost mid-jump; only a bystander far away is visible for a second
        for k in 1..30 {
            let t = 5.0 + k as f64 / 30.0;
            assert_eq!(lock.choose(&[(p(330.0 - k as f32 * 5.0, 740.0), 200.0)], t), None, "frame {k}");
        }
        // the subject lands elsewhere; the bystander is still around
        let t = 6.1;
        assert_eq!(lock.choose(&[(p(180.0, 740.0), 200.0), (p(1100.0, 750.0), 200.0)], t), Some(1));
    }

    #[test]
    fn after_the_memory_expires_the_best_detection_wins() {
        let mut lock = SubjectLock::default();
        lock.seen(p(800.0, 300.0), 200.0, 0.0);
        assert_eq!(lock.choose(&[(p(100.0, 700.0), 200.0)], 0.05), None);
        assert_eq!(lock.choose(&[(p(100.0, 700.0), 200.0)], 3.0), Some(0));
    }
}
