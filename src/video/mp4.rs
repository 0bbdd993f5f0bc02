//! Reads the display orientation of the video track of an MP4/MOV file from
//! its track header (`moov/trak/tkhd` matrix).
//!
//! OpenCV's own handling of the rotation tag depends on its version (4.6, as
//! shipped by Debian 12, turns phone videos the wrong way, and none of them
//! mirror), so hinge reads the matrix itself and orients frames explicitly.
//!
//! The walker trusts nothing it reads: box sizes are checked against their
//! container with checked arithmetic, every step moves forward by at least one
//! box header, a size of 0 ("to the end of the file") is accepted at the top
//! level only, and the number of boxes looked at is capped, so that any file —
//! truncated, damaged or crafted — gives an answer or `None` in bounded time.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::orientation::Orientation;

/// Most boxes looked at in one file (a fragmented MP4 of an hour holds a few thousand).
const MAX_BOXES: u32 = 100_000;

/// Display orientation of the first video track, or `None` when the file is
/// not an MP4/MOV, is damaged where the walker reads, or has no video track.
pub fn display_orientation(path: &Path) -> Option<Orientation> {
    let mut f = std::fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    display_orientation_in(&mut std::io::BufReader::new(&mut f), len)
}

/// [`display_orientation`] of the first `len` bytes of `r`.
pub fn display_orientation_in<R: Read + Seek>(r: &mut R, len: u64) -> Option<Orientation> {
    let mut w = Walker { r, budget: MAX_BOXES };
    let moov = w.find(0, len, b"moov", true)?;
    let mut pos = moov.start;
    while pos < moov.end {
        let b = w.header(pos, moov.end, false)?;
        if &b.kind == b"trak" && w.is_video_trak(&b) {
            let tkhd = w.find(b.start, b.end, b"tkhd", false)?;
            return w.tkhd_orientation(&tkhd);
        }
        pos = b.end;
    }
    None
}

/// Whether an MP4/MOV file has a video track: `Some(false)` for one whose
/// tracks are all something else (an audio recording saved as `.mp4`),
/// `None` when the walker cannot tell (not an MP4/MOV, damaged, no track).
pub fn has_video_track(path: &Path) -> Option<bool> {
    let mut f = std::fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    has_video_track_in(&mut std::io::BufReader::new(&mut f), len)
}

/// [`has_video_track`] of the first `len` bytes of `r`.
pub fn has_video_track_in<R: Read + Seek>(r: &mut R, len: u64) -> Option<bool> {
    let mut w = Walker { r, budget: MAX_BOXES };
    let moov = w.find(0, len, b"moov", true)?;
    let mut pos = moov.start;
    let mut tracks = 0;
    while pos < moov.end {
        let b = w.header(pos, moov.end, false)?;
        if &b.kind == b"trak" {
            if w.is_video_trak(&b) {
                return Some(true);
            }
            tracks += 1;
        }
        pos = b.end;
    }
    (tracks > 0).then_some(false)
}

/// A box: its payload [start, end) and type.
#[derive(Debug, Clone, Copy, PartialEq)]
struct BoxAt {
    start: u64,
    end: u64,
    kind: [u8; 4],
}

struct Walker<'a, R> {
    r: &'a mut R,
    /// Boxes left to look at.
    budget: u32,
}

impl<R: Read + Seek> Walker<'_, R> {
    fn read_at(&mut self, pos: u64, buf: &mut [u8]) -> Option<()> {
        self.r.seek(SeekFrom::Start(pos)).ok()?;
        self.r.read_exact(buf).ok()
    }

    /// The box whose header starts at `pos` inside a container ending at
    /// `limit`; `None` when it does not fit or is malformed. The box always
    /// ends after `pos + 8`, so walking from box to box makes progress.
    fn header(&mut self, pos: u64, limit: u64, top_level: bool) -> Option<BoxAt> {
        self.budget = self.budget.checked_sub(1)?;
        if pos.checked_add(8)? > limit {
            return None;
        }
        let mut h = [0u8; 8];
        self.read_at(pos, &mut h)?;
        let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        let kind = [h[4], h[5], h[6], h[7]];
        let (size, header) = match size32 {
            1 => {
                if pos.checked_add(16)? > limit {
                    return None;
                }
                let mut b = [0u8; 8];
                self.read_at(pos + 8, &mut b)?;
                (u64::from_be_bytes(b), 16)
            }
            // "extends to the end of the file": only the last top-level box may say so
            0 if top_level => (limit - pos, 8),
            0 => return None,
            s => (u64::from(s), 8),
        };
        if size < header {
            return None;
        }
        let end = pos.checked_add(size)?;
        if end > limit {
            return None;
        }
        Some(BoxAt { start: pos + header, end, kind })
    }

    /// The first box of type `kind` directly inside [start, end).
    fn find(&mut self, start: u64, end: u64, kind: &[u8; 4], top_level: bool) -> Option<BoxAt> {
        let mut pos = start;
        while pos < end {
            let b = self.header(pos, end, top_level)?;
            if &b.kind == kind {
                return Some(b);
            }
            pos = b.end;
        }
        None
    }

    fn is_video_trak(&mut self, trak: &BoxAt) -> bool {
        (|| {
            let mdia = self.find(trak.start, trak.end, b"mdia", false)?;
            let hdlr = self.find(mdia.start, mdia.end, b"hdlr", false)?;
            // version/flags (4) + pre_defined (4) + handler_type (4)
            if hdlr.start.checked_add(12)? > hdlr.end {
                return None;
            }
            let mut t = [0u8; 4];
            self.read_at(hdlr.start + 8, &mut t)?;
            Some(&t == b"vide")
        })()
        .unwrap_or(false)
    }

    fn tkhd_orientation(&mut self, tkhd: &BoxAt) -> Option<Orientation> {
        let mut vf = [0u8; 1];
        if tkhd.start >= tkhd.end {
            return None;
        }
        self.read_at(tkhd.start, &mut vf)?;
        // version/flags, then times, track id, reserved, duration: 4 + 4 + 4 + 4 + 4 + 4 (version 0)
        // or 4 + 8 + 8 + 4 + 4 + 8 (version 1); then reserved (8), layer, group, volume, reserved (2 each)
        let matrix_offset: u64 =
            if vf[0] == 1 { 4 + 8 + 8 + 4 + 4 + 8 } else { 4 + 4 + 4 + 4 + 4 + 4 } + 8 + 2 + 2 + 2 + 2;
        let at = tkhd.start.checked_add(matrix_offset)?;
        if at.checked_add(36)? > tkhd.end {
            return None;
        }
        let mut m = [0u8; 36];
        self.read_at(at, &mut m)?;
        let words = std::array::from_fn(|i| i32::from_be_bytes([m[4 * i], m[4 * i + 1], m[4 * i + 2], m[4 * i + 3]]));
        Some(Orientation::from_display_matrix(words))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut v = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(payload);
        v
    }

    /// A version-0 `tkhd` with the matrix (a, b, c, d).
    fn tkhd(a: i32, b: i32, c: i32, d: i32) -> Vec<u8> {
        let mut p = vec![0u8; 40];
        for x in [a, b, 0, c, d, 0, 0, 0, 1 << 30].iter().map(|&v| if v == 1 << 30 { v } else { v * 65536 }) {
            p.extend_from_slice(&x.to_be_bytes());
        }
        p.extend_from_slice(&[0u8; 8]); // width, height
        bx(b"tkhd", &p)
    }

    fn hdlr(handler: &[u8; 4]) -> Vec<u8> {
        let mut p = vec![0u8; 8];
        p.extend_from_slice(handler);
        p.extend_from_slice(&[0u8; 13]);
        bx(b"hdlr", &p)
    }

    fn trak(handler: &[u8; 4], m: (i32, i32, i32, i32)) -> Vec<u8> {
        let mut p = tkhd(m.0, m.1, m.2, m.3);
        p.extend(bx(b"mdia", &hdlr(handler)));
        bx(b"trak", &p)
    }

    fn file(moov_payload: &[u8]) -> Vec<u8> {
        let mut f = bx(b"ftyp", b"isom\0\0\0\0");
        f.extend(bx(b"moov", moov_payload));
        f.extend(bx(b"mdat", &[0u8; 32]));
        f
    }

    /// Walks `bytes` on a thread, failing the test if the walk does not end within 10 s
    /// (release builds wrap on overflow, so a bad size shows as a hang, not a panic).
    fn walk(bytes: &[u8]) -> Option<Orientation> {
        let data = bytes.to_vec();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(display_orientation_in(&mut Cursor::new(&data), data.len() as u64));
        });
        match rx.recv_timeout(std::time::Duration::from_secs(10)) {
            Ok(got) => got,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("the box walker did not finish in 10 s"),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => panic!("the box walker panicked"),
        }
    }

    #[test]
    fn reads_the_video_track_matrix_of_a_crafted_file() {
        for o in Orientation::ALL {
            let mut moov = trak(b"soun", (1, 0, 0, 1));
            moov.extend(trak(b"vide", o.matrix()));
            assert_eq!(walk(&file(&moov)), Some(o));
        }
        assert_eq!(walk(&file(&trak(b"soun", (0, 1, -1, 0)))), None, "no video track");
    }

    #[test]
    fn tells_an_audio_only_file_from_a_video() {
        let has = |b: Vec<u8>| has_video_track_in(&mut Cursor::new(&b), b.len() as u64);
        assert_eq!(has(file(&trak(b"soun", (1, 0, 0, 1)))), Some(false), "audio only");
        let mut both = trak(b"soun", (1, 0, 0, 1));
        both.extend(trak(b"vide", (1, 0, 0, 1)));
        assert_eq!(has(file(&both)), Some(true));
        assert_eq!(has(file(&[])), None, "no track: cannot tell");
        assert_eq!(has(b"patient notes, not a video".to_vec()), None);
    }

    #[test]
    fn zero_sized_boxes_are_refused_inside_containers_and_run_to_the_end_on_top() {
        // a zero size inside moov would mean "to the end of the file": refused, no loop
        let mut moov = 0u32.to_be_bytes().to_vec();
        moov.extend_from_slice(b"trak");
        moov.extend(trak(b"vide", (0, 1, -1, 0)));
        assert_eq!(walk(&file(&moov)), None);
        // a top-level moov of size 0 runs to the end of the file (legal for the last box)
        let mut f = bx(b"ftyp", b"isom\0\0\0\0");
        f.extend_from_slice(&0u32.to_be_bytes());
        f.extend_from_slice(b"moov");
        f.extend(trak(b"vide", (0, 1, -1, 0)));
        assert_eq!(walk(&f), Some(Orientation::rotation_cw(90)));
    }

    #[test]
    fn sizes_below_the_header_are_refused() {
        for size in [2u32, 7] {
            let mut f = bx(b"ftyp", b"isom\0\0\0\0");
            f.extend_from_slice(&size.to_be_bytes());
            f.extend_from_slice(b"free");
            f.extend(bx(b"moov", &trak(b"vide", (0, 1, -1, 0))));
            assert_eq!(walk(&f), None, "size {size}");
        }
        // a 64-bit size smaller than its 16-byte header
        let mut f = 1u32.to_be_bytes().to_vec();
        f.extend_from_slice(b"free");
        f.extend_from_slice(&8u64.to_be_bytes());
        f.extend(bx(b"moov", &trak(b"vide", (0, 1, -1, 0))));
        assert_eq!(walk(&f), None);
    }

    #[test]
    fn a_64_bit_size_that_overflows_does_not_wrap_around() {
        // pos + size wraps to 0 in unchecked release arithmetic: the walk went back to the start forever
        let mut f = bx(b"ftyp", b"isom\0\0\0\0");
        let pos = f.len() as u64;
        f.extend_from_slice(&1u32.to_be_bytes());
        f.extend_from_slice(b"free");
        f.extend_from_slice(&(u64::MAX - pos + 1).to_be_bytes());
        f.extend(bx(b"moov", &trak(b"vide", (0, 1, -1, 0))));
        assert_eq!(walk(&f), None);
        // a 64-bit size that is fine is followed
        let mut g = bx(b"ftyp", b"isom\0\0\0\0");
        g.extend_from_slice(&1u32.to_be_bytes());
        g.extend_from_slice(b"free");
        g.extend_from_slice(&24u64.to_be_bytes());
        g.extend_from_slice(&[0u8; 8]);
        g.extend(bx(b"moov", &trak(b"vide", (-1, 0, 0, -1))));
        assert_eq!(walk(&g), Some(Orientation::rotation_cw(180)));
    }

    #[test]
    fn truncated_files_give_none() {
        let full = file(&trak(b"vide", (0, 1, -1, 0)));
        assert_eq!(walk(&full), Some(Orientation::rotation_cw(90)));
        for cut in 0..full.len() - 40 {
            // everything up to the end of the tkhd matrix is needed; no cut may panic
            let got = walk(&full[..cut]);
            assert!(got.is_none() || got == Some(Orientation::rotation_cw(90)), "cut {cut}: {got:?}");
        }
        // a box announcing more than its container holds
        let mut f = bx(b"ftyp", b"isom\0\0\0\0");
        f.extend_from_slice(&1000u32.to_be_bytes());
        f.extend_from_slice(b"moov");
        f.extend(trak(b"vide", (0, 1, -1, 0)));
        assert_eq!(walk(&f), None);
    }

    #[test]
    fn huge_nesting_and_box_floods_end_in_bounded_time() {
        // moov inside moov inside ... 100 000 deep: the walker does not descend into unknown boxes
        let inner = trak(b"vide", (0, 1, -1, 0));
        let depth = 100_000usize;
        let mut nested = Vec::with_capacity(depth * 8 + inner.len());
        for i in 0..depth {
            nested.extend_from_slice(&(((depth - i) * 8 + inner.len()) as u32).to_be_bytes());
            nested.extend_from_slice(b"moov");
        }
        nested.extend(inner);
        let t = std::time::Instant::now();
        assert_eq!(walk(&nested), None);
        // a flood of empty boxes ahead of moov stops at the box budget
        let mut f = Vec::new();
        for _ in 0..(MAX_BOXES as usize + 10) {
            f.extend(bx(b"free", &[]));
        }
        f.extend(bx(b"moov", &trak(b"vide", (0, 1, -1, 0))));
        assert_eq!(walk(&f), None);
        assert!(t.elapsed().as_secs() < 10, "{:?}", t.elapsed());
    }

    #[test]
    fn phone_sample_needs_a_quarter_turn_and_others_none() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert_eq!(
            display_orientation(&root.join("samples/dev_sessions/devs_02_phone_rotated.mp4")),
            Some(Orientation::rotation_cw(90))
        );
        assert_eq!(
            display_orientation(&root.join("samples/dev/dev_01_good_side_facing_left.mp4")),
            Some(Orientation::UPRIGHT)
        );
        assert_eq!(display_orientation(&root.join("Cargo.toml")), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Arbitrary bytes, alone or after a valid prefix: no panic, and an answer.
        #[test]
        fn never_panics_or_loops_on_arbitrary_bytes(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            prefix in proptest::prelude::any::<bool>(),
        ) {
            let mut data = if prefix { bx(b"ftyp", b"isom\0\0\0\0") } else { Vec::new() };
            data.extend_from_slice(&bytes);
            let _ = walk(&data);
        }

        /// Sizes and types drawn from the interesting ones, so that the boxes nest and chain.
        #[test]
        fn never_panics_or_loops_on_crafted_box_chains(
            boxes in proptest::collection::vec(
                (proptest::sample::select(vec![0u32, 1, 7, 8, 16, 24, 44, 92, 0xffff_fff0, u32::MAX]),
                 proptest::sample::select(vec![*b"moov", *b"trak", *b"mdia", *b"hdlr", *b"tkhd", *b"free"]),
                 proptest::prelude::any::<u64>()),
                0..40),
        ) {
            let mut data = Vec::new();
            for (size, kind, large) in boxes {
                data.extend_from_slice(&size.to_be_bytes());
                data.extend_from_slice(&kind);
                if size == 1 {
                    data.extend_from_slice(&large.to_be_bytes());
                }
            }
            let _ = walk(&data);
        }
    }
}
