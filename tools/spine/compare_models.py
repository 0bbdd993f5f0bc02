#!/usr/bin/env python3
"""Compares a rebuilt spine model with the shipped one on the held-out bodies' inputs.

A rebuild on another CPU is not the same file: PyTorch's kernels (its own, MKL's and oneDNN's) and ONNX
Runtime's, which write the training inputs, pick their vector instructions from the CPU, and the last bits
they change grow through training (docs/spine_model.md, "Reproducing it"). So `build.sh` asks whether the
rebuild is the same *model*: every output of both files on every held-out frame, the per-frame difference
(median, 95th percentile, largest) and each file's error against the rendered truth.

  python3 tools/spine/compare_models.py SHIPPED.onnx REBUILT.onnx --set NAME=FOOTAGE_DIR:DUMP_DIR ...

Needs onnxruntime (PyPI) beside train.py's torch and numpy.
"""

import argparse
import os
import sys

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402  (train.py's loading and stacking of the inputs, so both sides read the same tensors)


def run(path, inp):
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = dict(crop=inp["crop"][:, None], scalars=inp["scalars"], profile=inp["profile"])
    out = [session.run(None, {k: v[i:i + 512] for k, v in feeds.items()})[0] for i in range(0, len(inp["crop"]), 512)]
    return np.concatenate(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("shipped")
    ap.add_argument("rebuilt")
    ap.add_argument("--set", action="append", required=True, help="NAME=FOOTAGE_DIR:DUMP_DIR (held-out bodies)")
    a = ap.parse_args()
    clips = []
    for spec in a.set:
        clips += train.load_set_spec(spec)[1]
    if not clips:
        sys.exit("compare_models: no clips with inputs in %s" % ", ".join(a.set))
    inp, y, _ = train.stack(clips)
    shipped, rebuilt = run(a.shipped, inp), run(a.rebuilt, inp)
    fig_shipped, fig_rebuilt = train.figures(y, shipped), train.figures(y, rebuilt)
    print("%d held-out frames (%d clips, %d bodies); the outputs hinge reads, in degrees" % (
        len(y), len(clips), len({c["body"] for c in clips})))
    print("%-20s %28s %26s" % ("", "|shipped - rebuilt| per frame", "MAE vs truth"))
    print("%-20s %8s %8s %8s %12s %12s" % ("output", "median", "p95", "max", "shipped", "rebuilt"))
    for k in train.READ:
        name = train.NAMES[k]
        d = np.abs(shipped[:, k] - rebuilt[:, k])
        print("%-20s %8.2f %8.2f %8.2f %12.2f %12.2f" % (
            name, np.median(d), np.percentile(d, 95), d.max(), fig_shipped[name]["mae"], fig_rebuilt[name]["mae"]))


if __name__ == "__main__":
    main()
