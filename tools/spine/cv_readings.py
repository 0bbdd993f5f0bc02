"""Writes the cross-validated spine readings that train.py saved (REPORT_cv.npz: per clip, frame and the
model's outputs for a body it never saw) as DIR/<clip>.spine_readings.csv, for
`hinge eval FOOTAGE --spine-readings DIR`: the fault rules then run on readings of unseen bodies, which is
how their thresholds are chosen (tools/spine/tune_faults.py) without scoring the model on its own training data.

  python3 tools/spine/cv_readings.py target/spine/report_cv.npz OUT_DIR
"""
import os, sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import NAMES, READ  # noqa: E402  (the model's output names, and which of them hinge reads)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    cv = np.load(sys.argv[1])
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for clip in cv.files:
        a = cv[clip]
        with open(os.path.join(out, clip + ".spine_readings.csv"), "w") as fh:
            fh.write(",".join(["frame"] + [NAMES[k] for k in READ]) + "\n")
            for row in a:
                fh.write("%d,%s\n" % (int(row[0]), ",".join("%.3f" % row[1 + k] for k in READ)))
    print("wrote %d clips to %s" % (len(cv.files), out))


if __name__ == "__main__":
    main()
