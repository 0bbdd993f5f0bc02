#!/usr/bin/env python3
"""Reference 2-D pose landmarks from the official MediaPipe legacy Pose solution.

Used to make the fixtures in tests/fixtures/mediapipe/, against which the Rust
port of BlazePose is checked for agreement. This is a development tool only: it
needs the `mediapipe` Python package (made with mediapipe 0.10.14; see
tools/make_mediapipe_fixtures.sh, which sets up a throwaway venv for it).

Usage:
    python tools/mediapipe_reference.py VIDEO OUT.csv [--no-smooth] [--complexity 1]

Every frame of VIDEO is decoded in order with cv2.VideoCapture. Rotation
metadata (phone videos) is applied by OpenCV (CAP_PROP_ORIENTATION_AUTO, on by
default since OpenCV 4.5 and set explicitly here), so frames are upright. Each
frame is converted BGR->RGB and passed to

    mp.solutions.pose.Pose(static_image_mode=False, model_complexity=C,
                           smooth_landmarks=not --no-smooth,
                           enable_segmentation=False,
                           min_detection_confidence=0.5,
                           min_tracking_confidence=0.5)

The CSV has one row per decoded frame:

    frame,person,<name>_x,<name>_y,<name>_vis   (x 33 landmarks, BlazePose order)

x, y are pixels of the upright frame (landmark.x * W, landmark.y * H), rounded to
2 decimals; vis is the landmark visibility, rounded to 3 decimals. person is 1
when a pose was found, else 0 with the landmark cells left empty.

Frame count, frames with a person, wall time and frames/s (decode + inference)
are printed to stderr.
"""

import argparse
import csv
import sys
import time

# The 33 BlazePose landmarks, in MediaPipe's index order.
LANDMARK_NAMES = [
    "nose",
    "left_eye_inner", "left_eye", "left_eye_outer",
    "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear",
    "mouth_left", "mouth_right",
    "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow",
    "left_wrist", "right_wrist",
    "left_pinky", "right_pinky",
    "left_index", "right_index",
    "left_thumb", "right_thumb",
    "left_hip", "right_hip",
    "left_knee", "right_knee",
    "left_ankle", "right_ankle",
    "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
]


def header():
    cols = ["frame", "person"]
    for name in LANDMARK_NAMES:
        cols += [f"{name}_x", f"{name}_y", f"{name}_vis"]
    return cols


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Run MediaPipe legacy Pose on every frame of a video and write landmarks as CSV.")
    p.add_argument("video", help="input video file")
    p.add_argument("out_csv", help="output CSV path")
    p.add_argument("--no-smooth", action="store_true",
                   help="disable MediaPipe's landmark smoothing (smooth_landmarks=False)")
    p.add_argument("--complexity", type=int, default=1, choices=[0, 1, 2],
                   help="model_complexity: 0 lite, 1 full (default), 2 heavy")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)

    import cv2
    import mediapipe as mp

    # Sanity check of our own name table against MediaPipe's enum.
    enum_names = [lm.name.lower() for lm in mp.solutions.pose.PoseLandmark]
    if enum_names != LANDMARK_NAMES:
        sys.exit(f"landmark order mismatch with mediapipe: {enum_names}")

    cap = cv2.VideoCapture(args.video)
    if not cap.isOpened():
        sys.exit(f"cannot open video: {args.video}")
    # Apply the container's rotation tag so frames are upright (OpenCV's default,
    # made explicit here so the fixtures do not depend on it).
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    rotation = cap.get(cv2.CAP_PROP_ORIENTATION_META)
    declared_frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))

    pose = mp.solutions.pose.Pose(
        static_image_mode=False,
        model_complexity=args.complexity,
        smooth_landmarks=not args.no_smooth,
        enable_segmentation=False,
        min_detection_confidence=0.5,
        min_tracking_confidence=0.5,
    )

    n_frames = 0
    n_person = 0
    frame_size = None
    t0 = time.perf_counter()
    with open(args.out_csv, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header())
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            h, w = bgr.shape[:2]
            if frame_size is None:
                frame_size = (w, h)
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            result = pose.process(rgb)
            row = [n_frames]
            if result.pose_landmarks is None:
                row.append(0)
                row += [""] * (3 * len(LANDMARK_NAMES))
            else:
                n_person += 1
                row.append(1)
                for lm in result.pose_landmarks.landmark:
                    row += [f"{lm.x * w:.2f}", f"{lm.y * h:.2f}", f"{lm.visibility:.3f}"]
            writer.writerow(row)
            n_frames += 1
    wall = time.perf_counter() - t0
    pose.close()
    cap.release()

    fps = n_frames / wall if wall > 0 else float("nan")
    w, h = frame_size if frame_size else (0, 0)
    print(
        f"{args.video}: {n_frames} frames ({declared_frames} declared), {w}x{h} upright "
        f"(rotation tag {rotation:g} deg), {n_person} with a person, "
        f"{wall:.2f} s, {fps:.1f} frames/s "
        f"(complexity {args.complexity}, smooth {'off' if args.no_smooth else 'on'})",
        file=sys.stderr,
    )
    if n_frames == 0:
        sys.exit("no frames decoded")


if __name__ == "__main__":
    main()
