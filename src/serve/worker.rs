//! What the child process of an analysis (`hinge serve-worker`) does: the
//! batch's analysis of one video into a scratch folder, progress as JSON
//! lines on stdout, and `result.json` written last (its presence marks a
//! finished analysis).

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::batch::{analyze_video, Job, JobOutput, JobSettings, JobStage, VideoResult};
use crate::kinematics::spine_model::SpineReader;
use crate::pose::PoseEstimator;
use crate::report::{write_atomic, ReportError};

/// One progress report, one JSON object per line on the child's stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressLine {
    pub stage: JobStage,
    pub done: u64,
    pub total: Option<u64>,
}

/// The record's file name in the output folder.
pub const RESULT_FILE: &str = "result.json";

/// Analyses `video` into `out` (every output of `hinge analyze`, then
/// `result.json`; the outputs name the video `shown_as`, e.g. the name it was
/// uploaded under, rather than its stored path), reporting progress to `progress_to` at most once per
/// percent per stage. The record is returned whatever the video held; an
/// error means `result.json` could not be written.
pub fn run_job(
    video: &Path,
    shown_as: Option<&str>,
    out: &Path,
    estimator: &mut PoseEstimator,
    spine: &dyn SpineReader,
    settings: JobSettings,
    progress_to: &mut dyn Write,
) -> Result<VideoResult, ReportError> {
    crate::report::create_output_dir(out)?;
    let job = Job { path: video.to_path_buf(), meta: Default::default() };
    let mut last: Option<(JobStage, u64)> = None;
    let mut progress = |stage: JobStage, done: u64, total: Option<u64>| {
        let percent = total.filter(|t| *t > 0).map_or(done, |t| done * 100 / t);
        if last == Some((stage, percent)) {
            return;
        }
        last = Some((stage, percent));
        let line = serde_json::to_string(&ProgressLine { stage, done, total }).expect("progress serialises");
        // the server may have gone: progress is best effort, the result file is what counts
        let _ = writeln!(progress_to, "{line}").and_then(|_| progress_to.flush());
    };
    let result = analyze_video(
        &job,
        // stored as videos/<sha256>: the name is the hash, no need to read the whole file again
        JobOutput { dir: out, output_dir_rel: ".", shown_as, video_sha256: stored_sha256(video) },
        estimator,
        spine,
        settings,
        None, // the server stops a worker past its time limit by killing its process
        &mut progress,
    )
    .result;
    let json = serde_json::to_vec_pretty(&result).expect("result serialises");
    write_atomic(&out.join(RESULT_FILE), &json)?;
    Ok(result)
}

/// The sha256 a stored video's name is ([`super::store`] keeps videos as
/// `videos/<sha256>`); `None` for any other name.
fn stored_sha256(video: &Path) -> Option<&str> {
    video.file_name().and_then(|n| n.to_str()).filter(|n| super::store::is_sha256(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_stored_name_is_taken_as_the_hash() {
        let hash = "0123456789abcdef".repeat(4);
        let stored = Path::new("/data/videos").join(&hash);
        assert_eq!(stored_sha256(&stored), Some(hash.as_str()));
        assert_eq!(stored_sha256(Path::new("/clips/lift.mp4")), None);
        assert_eq!(stored_sha256(&Path::new("/data/videos").join(hash.to_uppercase())), None);
    }
}
