"""Times the official MediaPipe Pose (legacy solution, 0.10.14) on video clips, for the
comparison in scripts/bench_vs_mediapipe.sh.

For each clip: decode every frame first (timed separately), then run
mp.solutions.pose.Pose(static_image_mode=False, model_complexity=C, smooth_landmarks=True)
on the decoded frames in order (timed). Prints one line per clip:
    <clip> <frames> <decode_s> <inference_s>
usage: python tools/bench_mediapipe.py [--complexity 1] CLIP...
"""
import sys
import time

import cv2
import mediapipe as mp


def main(argv):
    complexity = 1
    if argv and argv[0] == "--complexity":
        complexity = int(argv[1])
        argv = argv[2:]
    for clip in argv:
        t0 = time.perf_counter()
        cap = cv2.VideoCapture(clip)
        frames = []
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        decode_s = time.perf_counter() - t0
        with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=complexity, smooth_landmarks=True,
                                    enable_segmentation=False) as pose:
            pose.process(frames[0])  # graph start-up, not timed (hinge's model loading is not timed either)
            t1 = time.perf_counter()
            for f in frames:
                pose.process(f)
            inference_s = time.perf_counter() - t1
        print(clip, len(frames), f"{decode_s:.4f}", f"{inference_s:.4f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
