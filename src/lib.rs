//! hinge — a computer-vision form checker for the hip hinge.
//!
//! The pipeline, one module per stage, data flowing one way:
//! [`video`] (frames) → [`pose`] (landmarks) → [`kinematics`] (angles) →
//! [`reps`] (repetitions) → [`faults`] (rules) → [`report`] (files); the
//! pipeline's result for one video is an [`analysis::Analysis`].
//! [`analyze`] runs the whole chain on one video.

// `!(x > t)` is used on purpose throughout: unlike `x <= t` it is also true for NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod analysis;
pub mod analyze;
pub mod batch;
pub mod bench;
pub mod config;
pub mod eval;
pub mod faults;
pub mod kinematics;
pub mod live;
pub mod memory;
pub mod pose;
pub mod report;
pub mod reps;
pub mod serve;
pub mod validate;
pub mod video;

pub use analyze::{analyze_file, Analysis, AnalyzeError};
pub use config::Config;
