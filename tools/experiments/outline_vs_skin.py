#!/usr/bin/env python3
"""How well does the back's outline that the spine model reads show the back? Two checks on rendered clips
whose truth has the dorsal skin points (../shared/footage/train: `skin_spine05..skin_neck01`, 2D):

1. position: on side views (where the dorsal midline is the silhouette's back edge) the distance, in image
   pixels, from the spine model's back-edge profile (the person mask, `hinge eval --dump-spine`) to the true
   skin points between the hips and the shoulders -- per clip the mean offset and the spread within the clip;
   next to it the same for the edge snapped to the strongest colour gradient of the frame within +-SNAP_PX of
   the mask's edge (does the picture give a sharper outline than the mask?);
2. shape: the outline's bend at depth (the quadratic term of the back edge between the hip and shoulder
   stations, in axis lengths) per variant over all the clips' bodies and views -- does it separate a rounded
   lower back from a neutral one across bodies?

An experiment, not part of hinge (docs/spine_model.md, "What was tried"). Needs numpy and opencv-python-headless.

  target/release/hinge eval ../shared/footage/train --dump-spine DUMP --mask-interval 0 --quiet
  python3 tools/experiments/outline_vs_skin.py DUMP ../shared/footage/train
"""
import csv, glob, os, sys
from collections import defaultdict

import cv2
import numpy as np

STATIONS = -0.6 + np.arange(64) * 1.9 / 63  # src/kinematics/spine_input.rs: PROFILE_FROM..PROFILE_TO
SKIN = ["skin_spine05", "skin_spine04", "skin_spine03", "skin_spine02", "skin_spine01", "skin_neck01"]
SNAP_PX = 6.0


def load(dump, clip):
    return {k: np.load(os.path.join(dump, "%s.spine_%s.npy" % (clip, k))) for k in ("frames", "profiles", "axes")}


def torso_frame(axes):
    hx, hy, sx, sy, dorsal = axes
    length = float(np.hypot(sx - hx, sy - hy))
    u = np.array([sx - hx, sy - hy]) / length
    n = dorsal * np.array([-u[1], u[0]])  # toward the back
    return np.array([hx, hy]), u, n, length


def sample(img, pts):
    """Bilinear colour samples of an image at float pixel points (N x 2)."""
    h, w = img.shape[:2]
    x = np.clip(pts[:, 0], 0, w - 1.001)
    y = np.clip(pts[:, 1], 0, h - 1.001)
    x0, y0 = x.astype(int), y.astype(int)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    return (img[y0, x0] * (1 - fx) * (1 - fy) + img[y0, x0 + 1] * fx * (1 - fy)
            + img[y0 + 1, x0] * (1 - fx) * fy + img[y0 + 1, x0 + 1] * fx * fy)


def snapped(img, centre, n, edge_px):
    """The strongest colour step along the normal within SNAP_PX of the mask's edge (pixels from the axis)."""
    r = edge_px + np.arange(-SNAP_PX, SNAP_PX + 1e-6, 0.5)
    colours = sample(img, centre[None, :] + r[:, None] * n[None, :])
    g = np.abs(np.diff(colours, axis=0)).max(axis=1)
    j = int(np.argmax(g))
    off = 0.0
    if 0 < j < len(g) - 1:
        a, b, c = g[j - 1], g[j], g[j + 1]
        if a - 2 * b + c != 0:
            off = 0.5 * (a - c) / (a - 2 * b + c)
    return r[0] + (j + 0.5 + off) * 0.5


def position(dump, footage, clip):
    d = load(dump, clip)
    rows = {int(r["frame"]): r for r in csv.DictReader(open(os.path.join(footage, clip + ".csv")))}
    cap, frames = cv2.VideoCapture(os.path.join(footage, clip + ".mp4")), []
    while True:
        ok, im = cap.read()
        if not ok:
            break
        frames.append(cv2.GaussianBlur(im.astype(np.float32), (0, 0), 0.8))
    mask_err, snap_err = [], []
    for k, f in enumerate(d["frames"]):
        row = rows.get(int(f))
        if row is None or int(f) >= len(frames):
            continue
        hip, u, n, length = torso_frame(d["axes"][k])
        back, found = d["profiles"][k, 0], d["profiles"][k, 2]
        for p in SKIN:
            q = np.array([float(row[p + "_u"]), float(row[p + "_v"])]) - hip
            s, dist = q @ u / length, q @ n
            i = int(np.interp(s, STATIONS, np.arange(64)))
            if not 0.0 <= s <= 1.0 or not (found[i] and found[min(i + 1, 63)]):
                continue
            edge_px = float(np.interp(s, STATIONS, back)) * length
            mask_err.append(edge_px - dist)
            snap_err.append(snapped(frames[int(f)], hip + s * length * u, n, edge_px) - dist)
    return np.array(mask_err), np.array(snap_err)


def bends(dump, footage, clip):
    """The back edge's bend (median) at depth -- the frames within 8 degrees of the deepest trunk lean -- and
    standing (trunk within 10 degrees of upright); None where the clip has no such frames."""
    d = load(dump, clip)
    rows = {int(r["frame"]): r for r in csv.DictReader(open(os.path.join(footage, clip + ".csv")))}
    pairs = []
    for k, f in enumerate(d["frames"]):
        row = rows.get(int(f))
        sel = (STATIONS >= 0.05) & (STATIONS <= 0.95) & (d["profiles"][k, 2] > 0)
        if row is None or sel.sum() < 20:
            continue
        pairs.append((float(row["trunk_incl_deg"]), np.polyfit(STATIONS[sel], d["profiles"][k, 0][sel], 2)[0]))
    if not pairs:
        return None, None
    a = np.array(pairs)
    standing = a[a[:, 0] < 10, 1]
    return float(np.median(a[a[:, 0] > a[:, 0].max() - 8, 1])), (float(np.median(standing)) if len(standing) else None)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    dump, footage = sys.argv[1:]
    clips = sorted(os.path.basename(p)[: -len(".spine_frames.npy")]
                   for p in glob.glob(os.path.join(dump, "*.spine_frames.npy")))
    if not clips:
        sys.exit("%s: no spine dumps (hinge eval --dump-spine)" % dump)
    print("1. back edge minus the true dorsal skin line, side views, pixels (mean; spread within the clip)")
    per = {"mask": [], "snapped": []}
    for clip in clips:
        if "_side_" not in clip:
            continue
        m, s = position(dump, footage, clip)
        if len(m) == 0:
            continue
        per["mask"].append((m.mean(), m.std()))
        per["snapped"].append((s.mean(), s.std()))
        print("  %-58s mask %5.2f (%4.2f)   snapped %5.2f (%4.2f)" % (clip[:58], m.mean(), m.std(), s.mean(), s.std()))
    for k, v in per.items():
        v = np.array(v)
        print("  %-8s %d clips: mean offset %.2f px, its SD across clips %.2f px, spread within a clip %.2f px"
              % (k, len(v), v[:, 0].mean(), v[:, 0].std(), v[:, 1].mean()))
    print("2. the back edge's bend at depth (quadratic term, axis lengths; < 0: bulging), by variant")
    by, side = defaultdict(list), []
    for clip in clips:
        variant = next((v for v in ("rounded_lumbar", "anterior_tilt", "posterior_tilt", "good", "load_far", "squat")
                        if "_%s_" % v in clip), None)
        depth, standing = bends(dump, footage, clip) if variant else (None, None)
        if depth is not None:
            by[variant].append(depth)
            if "_side_" in clip and standing is not None:
                side.append((variant, clip, depth, standing))
    for v, b in sorted(by.items()):
        print("  %-15s %2d clips: median %+.3f, range %+.3f .. %+.3f" % (v, len(b), np.median(b), min(b), max(b)))
    print("   side views, standing -> depth (change):")
    for v, clip, depth, standing in sorted(side):
        print("  %-15s %-50s %+.3f -> %+.3f (%+.3f)" % (v, clip[:50], standing, depth, depth - standing))


if __name__ == "__main__":
    main()
