//! Reads the display rotation of the video track of an MP4/MOV file from
//! its track header (`moov/trak/tkhd` matrix).
//!
//! OpenCV's own handling of the rotation tag depends on its version (4.6, as
//! shipped by Debian 12, turns phone videos the wrong way), so hinge reads the
//! tag itself and rotates frames explicitly.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Clockwise rotation in degrees (0, 90, 180 or 270) needed to display the
/// video upright, or `None` when the file is not an MP4/MOV or has no video track.
pub fn display_rotation_cw_deg(path: &Path) -> Option<i32> {
    let mut f = std::fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    let moov = find_box(&mut f, 0, len, b"moov")?;
    let mut pos = moov.0;
    // iterate over the traks inside moov
    while pos < moov.1 {
        let (start, end, kind) = read_header(&mut f, pos, moov.1)?;
        if &kind == b"trak" && is_video_trak(&mut f, start, end) {
            let tkhd = find_box(&mut f, start, end, b"tkhd")?;
            return tkhd_rotation(&mut f, tkhd.0, tkhd.1);
        }
        pos = end;
    }
    None
}

/// Reads a box header at `pos`; returns (payload start, box end, type).
fn read_header(f: &mut std::fs::File, pos: u64, limit: u64) -> Option<(u64, u64, [u8; 4])> {
    if pos + 8 > limit {
        return None;
    }
    f.seek(SeekFrom::Start(pos)).ok()?;
    let mut h = [0u8; 8];
    f.read_exact(&mut h).ok()?;
    let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as u64;
    let kind = [h[4], h[5], h[6], h[7]];
    let (size, header) = match size32 {
        1 => {
            let mut b = [0u8; 8];
            f.read_exact(&mut b).ok()?;
            (u64::from_be_bytes(b), 16)
        }
        0 => (limit - pos, 8),
        s => (s, 8),
    };
    if size < header || pos + size > limit {
        return None;
    }
    Some((pos + header, pos + size, kind))
}

/// Finds the first box of type `kind` directly inside [start, end).
fn find_box(f: &mut std::fs::File, start: u64, end: u64, kind: &[u8; 4]) -> Option<(u64, u64)> {
    let mut pos = start;
    while pos < end {
        let (s, e, k) = read_header(f, pos, end)?;
        if &k == kind {
            return Some((s, e));
        }
        pos = e;
    }
    None
}

fn is_video_trak(f: &mut std::fs::File, start: u64, end: u64) -> bool {
    (|| {
        let mdia = find_box(f, start, end, b"mdia")?;
        let hdlr = find_box(f, mdia.0, mdia.1, b"hdlr")?;
        // version/flags (4) + pre_defined (4) + handler_type (4)
        f.seek(SeekFrom::Start(hdlr.0 + 8)).ok()?;
        let mut t = [0u8; 4];
        f.read_exact(&mut t).ok()?;
        Some(&t == b"vide")
    })()
    .unwrap_or(false)
}

fn tkhd_rotation(f: &mut std::fs::File, start: u64, end: u64) -> Option<i32> {
    f.seek(SeekFrom::Start(start)).ok()?;
    let mut vf = [0u8; 1];
    f.read_exact(&mut vf).ok()?;
    // version 0: 4 + 4 + 4 + 4 + 4 (times, id, reserved, duration) ; version 1: 8 + 8 + 4 + 4 + 8
    let matrix_offset = if vf[0] == 1 { 4 + 8 + 8 + 4 + 4 + 8 } else { 4 + 4 + 4 + 4 + 4 + 4 } + 8 + 2 + 2 + 2 + 2;
    if start + matrix_offset + 36 > end {
        return None;
    }
    f.seek(SeekFrom::Start(start + matrix_offset)).ok()?;
    let mut m = [0u8; 36];
    f.read_exact(&mut m).ok()?;
    let fixed = |i: usize| i32::from_be_bytes([m[4 * i], m[4 * i + 1], m[4 * i + 2], m[4 * i + 3]]) as f64 / 65536.0;
    Some(rotation_from_matrix(fixed(0), fixed(1)))
}

/// Clockwise display rotation from the first row (a, b) of the track matrix,
/// snapped to a multiple of 90°.
pub fn rotation_from_matrix(a: f64, b: f64) -> i32 {
    let deg = b.atan2(a).to_degrees();
    (((deg / 90.0).round() as i32 * 90) % 360 + 360) % 360
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_rows_map_to_clockwise_rotations() {
        assert_eq!(rotation_from_matrix(1.0, 0.0), 0);
        assert_eq!(rotation_from_matrix(0.0, 1.0), 90);
        assert_eq!(rotation_from_matrix(-1.0, 0.0), 180);
        assert_eq!(rotation_from_matrix(0.0, -1.0), 270);
    }

    #[test]
    fn phone_sample_needs_a_quarter_turn_and_others_none() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert_eq!(display_rotation_cw_deg(&root.join("samples/dev_sessions/devs_02_phone_rotated.mp4")), Some(90));
        assert_eq!(display_rotation_cw_deg(&root.join("samples/dev/dev_01_good_side_facing_left.mp4")), Some(0));
        assert_eq!(display_rotation_cw_deg(&root.join("Cargo.toml")), None);
    }
}
