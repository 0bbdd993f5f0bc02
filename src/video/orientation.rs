//! How a decoded picture maps onto the display: one of the eight
//! orientations a video track's display matrix can hold (the four rotations,
//! each optionally mirrored — phones' front cameras write mirrored ones).

use opencv::core::{self as cvcore, Mat};
use opencv::prelude::*;

/// A display orientation: an optional transpose of the decoded picture
/// (swap of x and y), then optional horizontal and vertical flips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Orientation {
    /// Swap x and y first (the quarter turns).
    pub transpose: bool,
    /// Then mirror left-right.
    pub hflip: bool,
    /// Then mirror top-bottom.
    pub vflip: bool,
}

impl Orientation {
    /// The decoded picture is already upright.
    pub const UPRIGHT: Orientation = Orientation { transpose: false, hflip: false, vflip: false };

    /// All eight orientations.
    pub const ALL: [Orientation; 8] = {
        let mut all = [Orientation::UPRIGHT; 8];
        let mut i = 0;
        while i < 8 {
            all[i] = Orientation { transpose: i & 4 != 0, hflip: i & 1 != 0, vflip: i & 2 != 0 };
            i += 1;
        }
        all
    };

    /// The orientation of the 2x2 part of an ISO/QuickTime track matrix
    /// (`a b` / `c d`, a display point being `x' = a x + c y`, `y' = b x + d y`
    /// with y pointing down), snapped to the nearest of the eight.
    pub fn from_matrix(a: f64, b: f64, c: f64, d: f64) -> Orientation {
        let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
        let (a, b, c, d) = (finite(a), finite(b), finite(c), finite(d));
        if b.abs() + c.abs() > a.abs() + d.abs() {
            Orientation { transpose: true, hflip: c < 0.0, vflip: b < 0.0 }
        } else {
            Orientation { transpose: false, hflip: a < 0.0, vflip: d < 0.0 }
        }
    }

    /// The orientation of a whole display matrix as containers store it: nine
    /// 32-bit words `a b u c d v x y w`, `a b c d` in 16.16 fixed point (an
    /// MP4 track header holds them big-endian, FFmpeg's side data native-endian).
    pub fn from_display_matrix(words: [i32; 9]) -> Orientation {
        let fixed = |i: usize| words[i] as f64 / 65536.0;
        Orientation::from_matrix(fixed(0), fixed(1), fixed(3), fixed(4))
    }

    /// The 2x2 matrix part `(a, b, c, d)` (see [`Orientation::from_matrix`]).
    pub fn matrix(self) -> (i32, i32, i32, i32) {
        let s = |neg: bool| if neg { -1 } else { 1 };
        if self.transpose {
            (0, s(self.vflip), s(self.hflip), 0)
        } else {
            (s(self.hflip), 0, 0, s(self.vflip))
        }
    }

    /// A clockwise rotation by a multiple of 90°.
    pub fn rotation_cw(deg: i32) -> Orientation {
        match deg.rem_euclid(360) {
            90 => Orientation { transpose: true, hflip: true, vflip: false },
            180 => Orientation { transpose: false, hflip: true, vflip: true },
            270 => Orientation { transpose: true, hflip: false, vflip: true },
            _ => Orientation::UPRIGHT,
        }
    }

    /// Whether the display is a mirror image of the decoded picture.
    pub fn mirrored(self) -> bool {
        let (a, b, c, d) = self.matrix();
        a * d - b * c < 0
    }

    /// Clockwise rotation in degrees (0, 90, 180, 270) of the display: of the
    /// decoded picture, or of its left-right mirror image when [`mirrored`](Self::mirrored).
    pub fn rotation_cw_deg(self) -> i32 {
        let (a, b, _, _) = self.matrix();
        // a mirrored matrix is a rotation after a left-right flip: its first column negated
        let (a, b) = if self.mirrored() { (-a, -b) } else { (a, b) };
        match (a, b) {
            (0, 1) => 90,
            (-1, 0) => 180,
            (0, -1) => 270,
            _ => 0,
        }
    }

    /// Whether width and height swap.
    pub fn swaps_axes(self) -> bool {
        self.transpose
    }

    /// Writes `src` as displayed into `dst` (a copy when upright).
    pub fn apply(self, src: &Mat, dst: &mut Mat) -> opencv::Result<()> {
        match (self.transpose, self.hflip, self.vflip) {
            (false, false, false) => src.copy_to(dst),
            (false, true, false) => cvcore::flip(src, dst, 1),
            (false, false, true) => cvcore::flip(src, dst, 0),
            (false, true, true) => cvcore::rotate(src, dst, cvcore::ROTATE_180),
            (true, false, false) => cvcore::transpose(src, dst),
            (true, true, false) => cvcore::rotate(src, dst, cvcore::ROTATE_90_CLOCKWISE),
            (true, false, true) => cvcore::rotate(src, dst, cvcore::ROTATE_90_COUNTERCLOCKWISE),
            (true, true, true) => {
                let mut t = Mat::default();
                cvcore::transpose(src, &mut t)?;
                cvcore::flip(&t, dst, -1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opencv::core::{Scalar, CV_8UC1};

    #[test]
    fn matrices_round_trip_and_snap() {
        for o in Orientation::ALL {
            let (a, b, c, d) = o.matrix();
            assert_eq!(Orientation::from_matrix(a as f64, b as f64, c as f64, d as f64), o);
            // a slightly scaled, slightly off matrix snaps to the same one
            let n = |v: i32| v as f64 * 1.7 + 0.01;
            assert_eq!(Orientation::from_matrix(n(a), n(b), n(c), n(d)), o);
        }
        assert_eq!(Orientation::from_matrix(f64::NAN, 0.0, 0.0, f64::INFINITY), Orientation::UPRIGHT);
        assert_eq!(Orientation::from_matrix(0.0, 0.0, 0.0, 0.0), Orientation::UPRIGHT);
    }

    #[test]
    fn rotations_and_mirrors_are_named_as_players_do() {
        // CW 90: (x, y) -> (-y, x), the matrix phones write for a portrait recording
        assert_eq!(Orientation::from_matrix(0.0, 1.0, -1.0, 0.0), Orientation::rotation_cw(90));
        assert_eq!(Orientation::from_matrix(-1.0, 0.0, 0.0, -1.0), Orientation::rotation_cw(180));
        assert_eq!(Orientation::from_matrix(0.0, -1.0, 1.0, 0.0), Orientation::rotation_cw(270));
        for deg in [0, 90, 180, 270] {
            let o = Orientation::rotation_cw(deg);
            assert_eq!((o.rotation_cw_deg(), o.mirrored()), (deg, false));
        }
        let h = Orientation::from_matrix(-1.0, 0.0, 0.0, 1.0);
        assert_eq!((h.rotation_cw_deg(), h.mirrored()), (0, true));
        let v = Orientation::from_matrix(1.0, 0.0, 0.0, -1.0);
        assert_eq!((v.rotation_cw_deg(), v.mirrored()), (180, true));
        let t = Orientation::from_matrix(0.0, 1.0, 1.0, 0.0);
        assert_eq!(
            (t.rotation_cw_deg(), t.mirrored()),
            (270, true),
            "a left-right mirror turned a quarter counter-clockwise"
        );
        assert_eq!(Orientation::ALL.iter().filter(|o| o.mirrored()).count(), 4);
    }

    /// Where the marked top-left pixel of a 3x2 picture lands.
    fn corner_after(o: Orientation) -> (i32, i32, i32, i32) {
        let mut src = Mat::new_rows_cols_with_default(2, 3, CV_8UC1, Scalar::all(0.0)).unwrap();
        *src.at_2d_mut::<u8>(0, 0).unwrap() = 255;
        let mut dst = Mat::default();
        o.apply(&src, &mut dst).unwrap();
        let mut at = (-1, -1);
        for y in 0..dst.rows() {
            for x in 0..dst.cols() {
                if *dst.at_2d::<u8>(y, x).unwrap() == 255 {
                    at = (x, y);
                }
            }
        }
        (dst.cols(), dst.rows(), at.0, at.1)
    }

    #[test]
    fn apply_moves_pixels_as_the_matrix_says() {
        for o in Orientation::ALL {
            let (a, b, c, d) = o.matrix();
            // the picture's corners (0,0) (2,0) (0,1) mapped by the matrix, then shifted to the origin
            let map = |x: i32, y: i32| (a * x + c * y, b * x + d * y);
            let pts = [map(0, 0), map(2, 0), map(0, 1), map(2, 1)];
            let (minx, miny) = (pts.iter().map(|p| p.0).min().unwrap(), pts.iter().map(|p| p.1).min().unwrap());
            let (w, h) = if o.swaps_axes() { (2, 3) } else { (3, 2) };
            assert_eq!(corner_after(o), (w, h, -minx, -miny), "{o:?}");
        }
        assert_eq!(corner_after(Orientation::rotation_cw(90)), (2, 3, 1, 0), "top-left goes top-right");
    }
}
