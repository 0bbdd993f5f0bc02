//! One place for every threshold: a typed configuration with documented
//! defaults, overridable by a TOML file (`--config FILE.toml`).
//!
//! ```
//! let cfg = hinge::config::Config::from_toml_str("[reps]\nmin_depth_deg = 25.0\n").unwrap();
//! assert_eq!(cfg.reps.min_depth_deg, 25.0);
//! assert_eq!(cfg.reps.start_deg, hinge::config::Config::default().reps.start_deg);
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Errors reading a configuration file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{}: cannot read config: {error}", .path.display())]
    Read { path: PathBuf, error: std::io::Error },
    /// The file is not valid TOML or has unknown keys / wrong types.
    #[error("{}: invalid config: {reason}", .path.display())]
    Parse { path: PathBuf, reason: String },
    /// A value is out of its allowed range.
    #[error("invalid config value: {0}")]
    Invalid(String),
}

/// Repetition segmentation (on the hip angle, relative to standing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepConfig {
    /// Depth (hip angle above standing) at which a rep is considered started, °.
    /// Above normal sway (~5°) so that standing jitter never starts a rep.
    pub start_deg: f64,
    /// Depth below which the person is back to standing, °. The gap to
    /// `start_deg` is the hysteresis that prevents double counts.
    pub end_deg: f64,
    /// Smallest peak depth that counts as a repetition, °. A hip hinge to
    /// mid-thigh flexes the hip 40–90°; 30° excludes bows and reaching.
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
            end_deg: 8.0,
            min_depth_deg: 30.0,
            min_duration_s: 0.6,
            bottom_fraction: 0.9,
            baseline_window_s: 0.5,
        }
    }
}

/// Fault thresholds. Rationale in `docs/config.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Lumbar flexion at depth above which the back counts as rounded, °.
    /// A neutral lordosis is ~40–50° of extension; a posterior tilt flattens
    /// it by ~15–20°; rounding is bending beyond that flat back.
    pub rounded_lumbar_deg: f64,
    /// Anterior pelvic tilt (beyond a neutral hinge) above which the pelvis counts as tipped forward, °.
    pub anterior_tilt_deg: f64,
    /// Posterior pelvic tilt (negative) below which the pelvis counts as tucked, °.
    pub posterior_tilt_deg: f64,
    /// Rib-cage-to-pelvis angle beyond which the ribs are not stacked, ° (either
    /// sign), when no lumbar or pelvic fault explains it.
    pub ribs_not_stacked_deg: f64,
    /// Knee flexion at depth above which the movement is a squat, °.
    pub squat_knee_deg: f64,
    /// Stoop-squat index below which the movement is squat-like.
    pub squat_ssi: f64,
    /// Horizontal distance of the hands from the mid-foot at depth, in thigh
    /// lengths, beyond which the load is far (hands hanging under the shoulders
    /// of a deep hinge are ~0.6–1.0 thigh lengths ahead of the mid-foot).
    pub load_far_thigh_lengths: f64,
    /// Share of a rep's hip-angle range, from its peak, that counts as "at depth" for the verdict.
    pub depth_share: f64,
    /// Shortest time a fault must hold, frame by frame, for its frame range to be reported, s.
    pub min_fault_s: f64,
    /// Shortest time a fault must hold while standing to be reported for the clip, s.
    pub min_standing_fault_s: f64,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            rounded_lumbar_deg: 20.0,
            anterior_tilt_deg: 10.0,
            posterior_tilt_deg: -10.0,
            ribs_not_stacked_deg: 15.0,
            squat_knee_deg: 60.0,
            squat_ssi: 30.0,
            load_far_thigh_lengths: 1.3,
            depth_share: 0.3,
            min_fault_s: 0.15,
            min_standing_fault_s: 0.5,
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub reps: RepConfig,
    pub faults: FaultConfig,
    /// Colours and wording of the report and the annotated video (`[report]`, docs/report.md).
    pub report: crate::report::style::ReportStyle,
}

impl Config {
    /// Parses TOML; missing keys keep their defaults, unknown keys are errors.
    pub fn from_toml_str(s: &str) -> Result<Self, String> {
        let mut cfg: Config = toml::from_str(s).map_err(|e| e.to_string())?;
        cfg.report.fill_missing();
        cfg.validate().map_err(|e| e.to_string())?;
        cfg.report.validate().map_err(|e| e.to_string())?;
        Ok(cfg)
    }

    /// Reads a TOML file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|error| ConfigError::Read { path: path.to_path_buf(), error })?;
        Self::from_toml_str(&text).map_err(|reason| ConfigError::Parse { path: path.to_path_buf(), reason })
    }

    /// Checks that values are consistent.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let r = &self.reps;
        if !(r.end_deg < r.start_deg && r.start_deg <= r.min_depth_deg) {
            return Err(ConfigError::Invalid(format!(
                "reps: need end_deg < start_deg <= min_depth_deg (got {}, {}, {})",
                r.end_deg, r.start_deg, r.min_depth_deg
            )));
        }
        if !(0.0 < r.bottom_fraction && r.bottom_fraction < 1.0) {
            return Err(ConfigError::Invalid("reps.bottom_fraction must be between 0 and 1".into()));
        }
        if !(0.0 < self.faults.depth_share && self.faults.depth_share <= 1.0) {
            return Err(ConfigError::Invalid("faults.depth_share must be in (0, 1]".into()));
        }
        if self.faults.anterior_tilt_deg <= 0.0 {
            return Err(ConfigError::Invalid("faults.anterior_tilt_deg must be positive".into()));
        }
        if self.faults.posterior_tilt_deg >= 0.0 {
            return Err(ConfigError::Invalid("faults.posterior_tilt_deg must be negative".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_bad_ranges_are_rejected() {
        assert!(Config::from_toml_str("[reps]\nstart_degs = 3\n").is_err());
        assert!(Config::from_toml_str("[reps]\nstart_deg = 40.0\n").is_err());
        assert!(Config::from_toml_str("[faults]\nposterior_tilt_deg = 5.0\n").is_err());
        assert_eq!(Config::from_toml_str("").unwrap(), Config::default());
    }
}
