//! Small, tested geometry helpers for 2D/3D angles.

use std::ops::{Add, Sub};

/// A 2D vector / point (pixels, y down).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct V2 {
    pub x: f64,
    pub y: f64,
}

impl V2 {
    pub const fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }
    pub fn scale(self, k: f64) -> V2 {
        V2::new(self.x * k, self.y * k)
    }
    pub fn dot(self, o: V2) -> f64 {
        self.x * o.x + self.y * o.y
    }
    pub fn cross(self, o: V2) -> f64 {
        self.x * o.y - self.y * o.x
    }
    pub fn norm(self) -> f64 {
        self.x.hypot(self.y)
    }
    pub fn midpoint(self, o: V2) -> V2 {
        V2::new((self.x + o.x) / 2.0, (self.y + o.y) / 2.0)
    }
    pub fn is_finite(self) -> bool {
        self.x.is_finite() && self.y.is_finite()
    }
}

impl std::ops::Add for V2 {
    type Output = V2;
    fn add(self, o: V2) -> V2 {
        V2::new(self.x + o.x, self.y + o.y)
    }
}

impl std::ops::Sub for V2 {
    type Output = V2;
    fn sub(self, o: V2) -> V2 {
        V2::new(self.x - o.x, self.y - o.y)
    }
}

/// A 3D vector.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct V3 {
    pub x: f64,
    pub y: f64,
    pub z: f64,
}

impl V3 {
    pub const fn new(x: f64, y: f64, z: f64) -> Self {
        Self { x, y, z }
    }
    pub fn scale(self, k: f64) -> V3 {
        V3::new(self.x * k, self.y * k, self.z * k)
    }
    pub fn dot(self, o: V3) -> f64 {
        self.x * o.x + self.y * o.y + self.z * o.z
    }
    pub fn cross(self, o: V3) -> V3 {
        V3::new(self.y * o.z - self.z * o.y, self.z * o.x - self.x * o.z, self.x * o.y - self.y * o.x)
    }
    pub fn norm(self) -> f64 {
        self.dot(self).sqrt()
    }
    pub fn midpoint(self, o: V3) -> V3 {
        self.add(o).scale(0.5)
    }
    pub fn normalized(self) -> Option<V3> {
        let n = self.norm();
        (n > 1e-12 && n.is_finite()).then(|| self.scale(1.0 / n))
    }
    pub fn is_finite(self) -> bool {
        self.x.is_finite() && self.y.is_finite() && self.z.is_finite()
    }
}

impl std::ops::Add for V3 {
    type Output = V3;
    fn add(self, o: V3) -> V3 {
        V3::new(self.x + o.x, self.y + o.y, self.z + o.z)
    }
}

impl std::ops::Sub for V3 {
    type Output = V3;
    fn sub(self, o: V3) -> V3 {
        V3::new(self.x - o.x, self.y - o.y, self.z - o.z)
    }
}

/// Unsigned angle in degrees between two 2D vectors; `None` if either is
/// zero-length or not finite.
///
/// ```
/// use hinge::kinematics::geometry::{angle_between_deg, V2};
/// let a = angle_between_deg(V2::new(1.0, 0.0), V2::new(0.0, 1.0)).unwrap();
/// assert!((a - 90.0).abs() < 1e-9);
/// assert!(angle_between_deg(V2::new(0.0, 0.0), V2::new(1.0, 0.0)).is_none());
/// ```
pub fn angle_between_deg(a: V2, b: V2) -> Option<f64> {
    let (na, nb) = (a.norm(), b.norm());
    if !(na > 1e-9 && nb > 1e-9 && a.is_finite() && b.is_finite()) {
        return None;
    }
    Some(a.cross(b).abs().atan2(a.dot(b)).to_degrees())
}

/// Unsigned angle in degrees between two 3D vectors.
pub fn angle_between3_deg(a: V3, b: V3) -> Option<f64> {
    let (na, nb) = (a.norm(), b.norm());
    if !(na > 1e-12 && nb > 1e-12 && a.is_finite() && b.is_finite()) {
        return None;
    }
    Some(a.cross(b).norm().atan2(a.dot(b)).to_degrees())
}

/// Interior angle at `b` of the chain a–b–c, in degrees (180 = straight).
pub fn joint_angle_deg(a: V2, b: V2, c: V2) -> Option<f64> {
    angle_between_deg(a.sub(b), c.sub(b))
}

/// Interior angle at `b` of the 3D chain a–b–c, in degrees.
pub fn joint_angle3_deg(a: V3, b: V3, c: V3) -> Option<f64> {
    angle_between3_deg(a.sub(b), c.sub(b))
}

/// Signed inclination from image vertical (up) of the vector `v`, in degrees,
/// positive when it leans toward `forward_x` (+1 = image right, -1 = left).
///
/// ```
/// use hinge::kinematics::geometry::{inclination_from_vertical_deg, V2};
/// // leaning 45° to the right in the image, person facing right: +45
/// let d = inclination_from_vertical_deg(V2::new(1.0, -1.0), 1.0).unwrap();
/// assert!((d - 45.0).abs() < 1e-9);
/// ```
pub fn inclination_from_vertical_deg(v: V2, forward_x: f64) -> Option<f64> {
    if !(v.norm() > 1e-9) || !v.is_finite() {
        return None;
    }
    // up is -y in image coordinates
    Some((v.x * forward_x.signum()).atan2(-v.y).to_degrees())
}

/// Wraps degrees into (-180, 180].
pub fn wrap_deg(a: f64) -> f64 {
    let mut r = a % 360.0;
    if r <= -180.0 {
        r += 360.0;
    } else if r > 180.0 {
        r -= 360.0;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn straight_and_right_angles() {
        let a = V2::new(0.0, 0.0);
        let b = V2::new(0.0, 10.0);
        assert!((joint_angle_deg(a, b, V2::new(0.0, 20.0)).unwrap() - 180.0).abs() < 1e-9);
        assert!((joint_angle_deg(a, b, V2::new(10.0, 10.0)).unwrap() - 90.0).abs() < 1e-9);
        assert!(joint_angle_deg(a, a, b).is_none(), "zero-length segment");
        assert!(joint_angle_deg(V2::new(f64::NAN, 0.0), b, a).is_none(), "NaN input");
    }

    #[test]
    fn inclination_sign_follows_facing() {
        let lean_left = V2::new(-1.0, -1.0);
        assert!((inclination_from_vertical_deg(lean_left, -1.0).unwrap() - 45.0).abs() < 1e-9);
        assert!((inclination_from_vertical_deg(lean_left, 1.0).unwrap() + 45.0).abs() < 1e-9);
        assert!(inclination_from_vertical_deg(V2::new(0.0, 0.0), 1.0).is_none());
    }

    proptest! {
        #[test]
        fn joint_angle_is_rotation_invariant(ax in -100f64..100.0, ay in -100f64..100.0, cx in -100f64..100.0,
                                             cy in -100f64..100.0, rot in -3.2f64..3.2, tx in -50f64..50.0) {
            let (a, b, c) = (V2::new(ax, ay), V2::new(1.0, 2.0), V2::new(cx, cy));
            prop_assume!(a.sub(b).norm() > 1e-3 && c.sub(b).norm() > 1e-3);
            let r = |p: V2| V2::new(p.x * rot.cos() - p.y * rot.sin() + tx, p.x * rot.sin() + p.y * rot.cos());
            let before = joint_angle_deg(a, b, c).unwrap();
            let after = joint_angle_deg(r(a), r(b), r(c)).unwrap();
            prop_assert!((before - after).abs() < 1e-6);
            prop_assert!((0.0..=180.0).contains(&before));
        }

        #[test]
        fn joint_angle_is_mirror_invariant(ax in -100f64..100.0, ay in -100f64..100.0, cx in -100f64..100.0, cy in -100f64..100.0) {
            let (a, b, c) = (V2::new(ax, ay), V2::new(0.0, 0.0), V2::new(cx, cy));
            prop_assume!(a.norm() > 1e-3 && c.norm() > 1e-3);
            let m = |p: V2| V2::new(-p.x, p.y);
            prop_assert!((joint_angle_deg(a, b, c).unwrap() - joint_angle_deg(m(a), m(b), m(c)).unwrap()).abs() < 1e-6);
        }

        #[test]
        fn mirrored_inclination_with_mirrored_facing_is_equal(x in -100f64..100.0, y in -100f64..100.0) {
            prop_assume!(x.hypot(y) > 1e-3);
            let a = inclination_from_vertical_deg(V2::new(x, y), 1.0).unwrap();
            let b = inclination_from_vertical_deg(V2::new(-x, y), -1.0).unwrap();
            prop_assert!((a - b).abs() < 1e-9);
        }

        #[test]
        fn angle3_matches_angle2_in_plane(ax in -100f64..100.0, ay in -100f64..100.0, cx in -100f64..100.0, cy in -100f64..100.0) {
            prop_assume!(ax.hypot(ay) > 1e-3 && cx.hypot(cy) > 1e-3);
            let a2 = angle_between_deg(V2::new(ax, ay), V2::new(cx, cy)).unwrap();
            let a3 = angle_between3_deg(V3::new(ax, ay, 0.0), V3::new(cx, cy, 0.0)).unwrap();
            prop_assert!((a2 - a3).abs() < 1e-6);
        }

        #[test]
        fn wrap_is_in_range(a in -1e4f64..1e4) {
            let w = wrap_deg(a);
            prop_assert!(w > -180.0 - 1e-9 && w <= 180.0 + 1e-9);
            prop_assert!(((w - a) / 360.0 - ((w - a) / 360.0).round()).abs() < 1e-6);
        }
    }
}
