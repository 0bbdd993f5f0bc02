"""Optional check: compare every ONNX output with the original TFLite model
(ai-edge-litert interpreter) on identical inputs and print the max abs diff.
Inputs, in each model's own range ([-1,1] detector, [0,1] landmark models):
seeded uniform noise and a smooth synthetic gradient image (no external images). Fails (exit 1) on a shape mismatch,
a non-finite value, or a diff above --tol (default 1e-3, relative to the
output's value range, at least 1).
usage: python verify_onnx.py TFLITE_DIR ONNX_DIR NAME... [--tol T]
Part of tools/models/convert.sh (adapted from the shared BlazePose recipe).
"""
import sys
import numpy as np
import onnxruntime as ort
from ai_edge_litert.interpreter import Interpreter

args = sys.argv[1:]
tol = 1e-3
if "--tol" in args:
    i = args.index("--tol"); tol = float(args[i + 1]); del args[i:i + 2]
if len(args) < 3:
    sys.exit(__doc__)
tdir, odir, names = args[0], args[1], args[2:]
rng = np.random.default_rng(0)
bad = 0
for name in names:
    it = Interpreter(model_path=f"{tdir}/{name}.tflite"); it.allocate_tensors()
    ind = it.get_input_details()[0]; outd = it.get_output_details()
    so = ort.SessionOptions(); so.intra_op_num_threads = 1
    sess = ort.InferenceSession(f"{odir}/{name}.onnx", so, providers=["CPUExecutionProvider"])
    shape = ind["shape"]; h, w = shape[1:3]
    yy, xx = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing="ij")
    grad = np.stack([xx, yy, 0.5 + 0.5 * np.sin(6 * xx * yy)], -1)[None].astype(np.float32)
    # each model only on its own input range: detector [-1,1], landmark models [0,1]
    if name == "pose_detection":
        inputs = {"uniform[-1,1]": rng.uniform(-1, 1, shape).astype(np.float32),
                  "gradient[-1,1]": grad * 2 - 1}
    else:
        inputs = {"uniform[0,1]": rng.uniform(0, 1, shape).astype(np.float32),
                  "gradient[0,1]": grad}
    for iname, x in inputs.items():
        it.set_tensor(ind["index"], x); it.invoke()
        ref = {d["name"]: it.get_tensor(d["index"]).copy() for d in outd}
        got = dict(zip([o.name for o in sess.get_outputs()],
                       sess.run(None, {sess.get_inputs()[0].name: x})))
        parts = []
        for k, v in ref.items():
            g = got[k]
            if g.shape != v.shape:
                print(f"FAIL {name} {k}: shape {g.shape} != {v.shape}"); bad += 1; continue
            d = float(np.abs(g - v).max())
            lim = tol * max(1.0, float(v.max() - v.min()))
            ok = np.isfinite(g).all() and d <= lim
            bad += not ok
            parts.append(f"{k}{list(v.shape)} maxabs={d:.1e} (range {v.min():.3g}..{v.max():.3g})"
                         f"{'' if ok else ' FAIL'}")
        print(f"  {name:20s} {iname:15s} " + "; ".join(parts))
print("verify: ok" if bad == 0 else f"verify: {bad} FAILED")
sys.exit(1 if bad else 0)
