#!/usr/bin/env python3
"""Int8 (static QDQ) quantization of BlazePose full landmark model, pruned of the
segmentation output, with calibration/evaluation on realistic person crops.

Reproducible: fixed clip split, fixed (evenly spaced) frame selection, seeded
crop jitter.  Needs numpy, opencv (cv2), onnx, onnxruntime (tested: onnx 1.23.2,
onnxruntime 1.31.1, opencv-python-headless 4.10, numpy 2.4) -- e.g.
a virtualenv with `pip install onnx==1.23.2 onnxruntime==1.31.1 opencv-python-headless numpy`.

An experiment, not part of hinge: it measured that int8 does not pay here (README, Speed:
the whole-graph candidates are 1.5-1.8x faster but move landmarks ~5 crop px; the only
accurate subset is slower than fp32). Kept so the result can be reproduced.

Steps (all sub-commands accept --work DIR, default target/q8 in the repository):
  crops   : run `hinge analyze` on every clip (if DIR/ana/<clip>/frames.csv is
            missing), build 256x256 person crops like hinge's ROI
            (centre mid-hip, side = s * max|landmark - mid-hip|, s in [2.3, 3.0],
            rotated so that mid-hip -> mid-shoulder points up), save
            DIR/calib.npy and DIR/eval.npy (float32 NHWC RGB in [0,1]).
  quant   : prune (drop Identity_2 segmentation), pre-process, and quantize
            the candidates listed in CANDIDATES (or --only NAME ...).
  eval    : accuracy + speed of every built candidate vs the fp32 pruned graph.
  all     : crops + quant + eval; copies the chosen candidate to --out.

Example:
  python tools/experiments/quantize_lean.py all --model models/pose_landmark_full.onnx \
      --hinge target/release/hinge
"""
import argparse, csv, glob, hashlib, json, math, os, shutil, subprocess, sys, time

import numpy as np

LMK = 256
BODY = 33
NAMES = ["nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
         "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
         "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
         "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
         "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
         "left_foot_index", "right_foot_index"]

# the repository root (this file is tools/experiments/quantize_lean.py)
MAIN = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CALIB_CLIPS = [f"{MAIN}/samples/dev/dev_0{i}_*.mp4" for i in range(1, 7)] + \
    [f"{MAIN}/tests/fixtures/real/pose2sim_single_cam01_portrait60.mp4"]
EVAL_CLIPS = [f"{MAIN}/samples/dev/dev_0{i}_*.mp4" for i in range(7, 10)] + \
    [f"{MAIN}/samples/dev/dev_1{i}_*.mp4" for i in range(0, 3)] + \
    [f"{MAIN}/samples/dev_sessions/*.mp4",
     f"{MAIN}/tests/fixtures/real/pose2sim_multi_cam01_portrait60.mp4",
     f"{MAIN}/tests/fixtures/real/sports2d_demo_outdoor_two_people.mp4"]
PER_CLIP = 50          # evenly spaced crops per clip (and per person track)
CALIB_STRIDE = 50      # calibration batches (memory bound for histogram calibrators)
OUTPUTS = ["Identity", "Identity_1", "Identity_3", "Identity_4"]


def expand(patterns):
    out = []
    for p in patterns:
        out += sorted(glob.glob(p))
    return out


# ----------------------------------------------------------------------------- crops
def analyze(hinge, clip, ana_dir):
    d = os.path.join(ana_dir, os.path.splitext(os.path.basename(clip))[0])
    f = os.path.join(d, "frames.csv")
    if not os.path.exists(f):
        subprocess.run([hinge, "analyze", clip, "--out", d, "--no-video", "--no-html", "-q"], check=True)
    return f


def read_frames(csv_path):
    rows = []
    with open(csv_path) as fh:
        for r in csv.DictReader(fh):
            try:
                xy = np.array([[float(r[f"{n}_x"]), float(r[f"{n}_y"])] for n in NAMES])
            except (ValueError, KeyError):
                continue
            if np.all(np.isfinite(xy)):
                rows.append((int(r["frame"]), int(r.get("person") or 1), xy))
    return rows


def crop_params(xy, rng):
    hip = (xy[23] + xy[24]) / 2
    sho = (xy[11] + xy[12]) / 2
    r = np.max(np.hypot(*(xy - hip).T))
    side = r * rng.uniform(2.3, 3.0)
    centre = hip + rng.normal(0, 0.03 * r, 2)
    v = sho - hip
    rot = math.pi / 2 - math.atan2(-v[1], v[0]) + rng.normal(0, math.radians(5))
    return centre, side, rot


def warp(img, centre, side, rot):
    import cv2
    c, s = math.cos(rot), math.sin(rot)
    k = LMK / side
    # crop q = R(-rot) (p - centre) * k + 128
    A = np.array([[c, s], [-s, c]]) * k
    b = np.array([LMK / 2, LMK / 2]) - A @ centre
    M = np.hstack([A, b[:, None]]).astype(np.float64)
    return cv2.warpAffine(img, M, (LMK, LMK), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), M


def build_crops(clips, hinge, ana_dir, seed):
    import cv2
    crops, meta = [], []
    for ci, clip in enumerate(clips):
        rows = read_frames(analyze(hinge, clip, ana_dir))
        by_person = {}
        for fr, p, xy in rows:
            by_person.setdefault(p, []).append((fr, xy))
        want = {}
        for p, lst in by_person.items():
            lst.sort(key=lambda t: t[0])
            idx = np.unique(np.linspace(0, len(lst) - 1, min(PER_CLIP, len(lst))).round().astype(int))
            for i in idx:
                want.setdefault(lst[i][0], []).append((p, lst[i][1]))
        rng = np.random.default_rng(seed * 1000 + ci)
        cap = cv2.VideoCapture(clip)  # default CAP_PROP_ORIENTATION_AUTO: same display orientation as hinge
        fr = -1
        last = max(want) if want else -1
        while fr < last:
            ok, bgr = cap.read()
            if not ok:
                break
            fr += 1
            for p, xy in want.get(fr, []):
                centre, side, rot = crop_params(xy, rng)
                t, M = warp(bgr, centre, side, rot)
                crops.append(cv2.cvtColor(t, cv2.COLOR_BGR2RGB))
                pts = (M[:, :2] @ xy.T).T + M[:, 2]
                meta.append(dict(clip=os.path.basename(clip), frame=fr, person=p, lm_crop=pts.tolist()))
        print(f"  {os.path.basename(clip)}: {sum(1 for m in meta if m['clip'] == os.path.basename(clip))} crops",
              flush=True)
    return np.stack(crops), meta


def cmd_crops(a):
    os.makedirs(a.work, exist_ok=True)
    ana = os.path.join(a.work, "ana")
    for name, pats, seed in (("calib", CALIB_CLIPS, 1), ("eval", EVAL_CLIPS, 2)):
        clips = expand(pats)
        print(f"{name}: {len(clips)} clips", flush=True)
        c, meta = build_crops(clips, a.hinge, ana, seed)
        np.save(os.path.join(a.work, f"{name}.npy"), c)  # uint8 RGB
        json.dump(meta, open(os.path.join(a.work, f"{name}_meta.json"), "w"))
        print(f"{name}: {len(c)} crops, sha256 {hashlib.sha256(c.tobytes()).hexdigest()[:16]}", flush=True)


def load_crops(work, name):
    return np.load(os.path.join(work, f"{name}.npy")).astype(np.float32) / 255.0


# ----------------------------------------------------------------------------- quant
def prune(src, dst):
    import onnx
    from onnx import utils
    utils.extract_model(src, dst, ["input_1"], OUTPUTS)


def head_nodes(model_path):
    """First conv + the convs (and anything between them and the output) that
    produce Identity / Identity_1 / Identity_3 / Identity_4."""
    import onnx
    m = onnx.load(model_path)
    prod = {o: n for n in m.graph.node for o in n.output}
    first_conv = next(n.name for n in m.graph.node if n.op_type == "Conv")
    heads = {}
    for out in OUTPUTS:
        name, t = [], out
        while t in prod:
            n = prod[t]
            name.append(n.name)
            if n.op_type == "Conv":
                break
            t = n.input[0]
        heads[out] = name
    return first_conv, heads


def backbone_1x1(model_path):
    import onnx
    from onnx import numpy_helper
    m = onnx.load(model_path)
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    res = []
    for n in m.graph.node:
        if n.op_type == "Conv" and n.input[1] in init:
            w = init[n.input[1]]
            g = next((a.i for a in n.attribute if a.name == "group"), 1)
            if w.shape[2:] == (1, 1) and g == 1:
                res.append(n.name)
    return res


CANDIDATES = {
    # name: (activation, calib method, exclusion, extra)
    "u8_minmax":            ("u8", "minmax", "none", {}),
    "u8_pct9999":           ("u8", "pct", "none", {}),
    "u8_entropy":           ("u8", "entropy", "none", {}),
    "u8_minmax_xhead":      ("u8", "minmax", "head", {}),
    "s8_minmax_xhead":      ("s8", "minmax", "head", {}),
    "u8_minmax_1x1only":    ("u8", "minmax", "1x1only", {}),
    # found by ablation (ablate.py): only the stride-4/8 backbone convs tolerate int8
    "u8_minmax_conv10_30":  ("u8", "minmax", "range:10:30", {}),
    "u8_minmax_conv10_40":  ("u8", "minmax", "range:10:40", {}),
}


class Reader:
    def __init__(self, x):
        self.x, self.start, self.end = x, 0, len(x)
        self.i = 0

    def __len__(self):
        return len(self.x)

    def set_range(self, start_index, end_index):
        self.start, self.end, self.i = start_index, end_index, start_index

    def get_next(self):
        if self.i >= self.end:
            return None
        v = {"input_1": self.x[self.i][None]}
        self.i += 1
        return v

    def rewind(self):
        self.i = self.start


def quantize_one(name, pre, out, calib):
    from onnxruntime.quantization import (quantize_static, QuantFormat, QuantType, CalibrationMethod)
    act, meth, excl, extra = CANDIDATES[name]
    first_conv, heads = head_nodes(pre)
    exclude, include = [], None
    if excl in ("head", "1x1only"):
        exclude = [first_conv] + [n for v in heads.values() for n in v]
    if excl == "1x1only":
        include = [n for n in backbone_1x1(pre) if n not in exclude]
    op_types = None
    if excl.startswith("range:"):
        import onnx
        lo, hi = map(int, excl.split(":")[1:])
        convs = [nd.name for nd in onnx.load(pre).graph.node if nd.op_type == "Conv"]
        include = [c for c in convs[lo:hi] if c != first_conv and not any(c in v for v in heads.values())]
        op_types = ["Conv"]
    n = len(calib) // CALIB_STRIDE * CALIB_STRIDE
    eo = {"ActivationSymmetric": act == "s8", "WeightSymmetric": True,
          "CalibStridedMinMax": CALIB_STRIDE}
    if meth == "pct":
        eo["CalibPercentile"] = 99.99
    eo.update(extra)
    cm = {"minmax": CalibrationMethod.MinMax, "pct": CalibrationMethod.Percentile,
          "entropy": CalibrationMethod.Entropy}[meth]
    t = time.time()
    quantize_static(pre, out, Reader(calib[:n]), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8 if act == "u8" else QuantType.QInt8,
                    weight_type=QuantType.QInt8, calibrate_method=cm,
                    nodes_to_exclude=exclude, nodes_to_quantize=include, op_types_to_quantize=op_types,
                    extra_options=eo)
    print(f"  {name}: {time.time() - t:.0f}s, excluded {len(exclude)} nodes"
          + (f", quantizing only {len(include)} convs" if include else ""), flush=True)


def prepare(a):
    os.makedirs(os.path.join(a.work, "models"), exist_ok=True)
    pruned = os.path.join(a.work, "models", "fp32_pruned.onnx")
    pre = os.path.join(a.work, "models", "fp32_pruned_pre.onnx")
    if not os.path.exists(pre):
        from onnxruntime.quantization.shape_inference import quant_pre_process
        prune(a.model, pruned)
        quant_pre_process(pruned, pre, skip_symbolic_shape=True)
    return pruned, pre


def cmd_quant(a):
    pruned, pre = prepare(a)
    calib = load_crops(a.work, "calib")
    print(f"calibration crops: {len(calib)}", flush=True)
    for name in (a.only or CANDIDATES):
        out = os.path.join(a.work, "models", f"{name}.onnx")
        if os.path.exists(out) and not a.force:
            continue
        quantize_one(name, pre, out, calib)


# ----------------------------------------------------------------------------- eval
def session(path, threads=2):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def run_all(sess, x):
    outs = [sess.run(OUTPUTS, {"input_1": xi[None]}) for xi in x]
    return [np.concatenate([o[k] for o in outs]) for k in range(len(OUTPUTS))]


def sigmoid(v):
    return 1 / (1 + np.exp(-np.clip(v, -80, 80)))


def refine(lm, heat, kernel=7, min_conf=0.5):
    """MediaPipe RefineLandmarksFromHeatmap (as in hinge / the recipe pipeline)."""
    xy = lm[:, :BODY, :2].copy() / LMK
    n, hh, hw, _ = heat.shape
    off = (kernel - 1) // 2
    for i in range(n):
        for k in range(BODY):
            cc, rr = int(xy[i, k, 0] * hw), int(xy[i, k, 1] * hh)
            if not (0 <= cc < hw and 0 <= rr < hh):
                continue
            r0, r1, c0, c1 = max(0, rr - off), min(hh, rr + off + 1), max(0, cc - off), min(hw, cc + off + 1)
            conf = sigmoid(heat[i, r0:r1, c0:c1, k])
            if conf.max() >= min_conf and conf.sum() > 0:
                R, C = np.mgrid[r0:r1, c0:c1]
                xy[i, k] = [(C * conf).sum() / hw / conf.sum(), (R * conf).sum() / hh / conf.sum()]
    return xy * LMK


def compare(ref, out, groups):
    lr, pr, hr, wr = ref
    lq, pq, hq, wq = out
    lr, lq = lr.reshape(-1, 39, 5), lq.reshape(-1, 39, 5)
    vis = lr[:, :BODY, 3] > 0
    d = np.hypot(*(lr[:, :BODY, :2] - lq[:, :BODY, :2]).transpose(2, 0, 1))
    dr = np.hypot(*(refine(lr, hr) - refine(lq, hq)).transpose(2, 0, 1))
    hm_r = hr[..., :BODY].reshape(len(hr), -1, BODY).argmax(1)
    hm_q = hq[..., :BODY].reshape(len(hq), -1, BODY).argmax(1)
    ry, rx, qy, qx = hm_r // 64, hm_r % 64, hm_q // 64, hm_q % 64
    cheb = np.maximum(abs(ry - qy), abs(rx - qx))
    wd = np.linalg.norm((wr - wq).reshape(-1, 39, 3)[:, :BODY], axis=2) * 1000
    res = dict(
        n_crops=int(len(lr)), n_lm=int(vis.sum()),
        med_px=float(np.median(d[vis])), p95_px=float(np.percentile(d[vis], 95)), max_px=float(d[vis].max()),
        med_px_all33=float(np.median(d)), p95_px_all33=float(np.percentile(d, 95)),
        med_px_refined=float(np.median(dr[vis])), p95_px_refined=float(np.percentile(dr[vis], 95)),
        max_dpres=float(np.abs(pr - pq).max()),
        pres_cross=int(((pr > 0.5) != (pq > 0.5)).sum()),
        vis_cross=int(((lr[:, :BODY, 3] > 0) != (lq[:, :BODY, 3] > 0)).sum()),
        med_world_mm=float(np.median(wd)), p95_world_mm=float(np.percentile(wd, 95)),
        hm_argmax_eq=float((cheb[vis] == 0).mean()), hm_argmax_le1=float((cheb[vis] <= 1).mean()),
    )
    per = {}
    for g in sorted(set(groups)):
        m = np.array([x == g for x in groups])
        per[g] = (round(float(np.median(d[m][vis[m]])), 3), round(float(np.percentile(d[m][vis[m]], 95)), 3))
    res["per_clip_med_p95"] = per
    return res


def bench(sess, x, runs=40, reps=5):
    feeds = [{"input_1": xi[None]} for xi in x[:8]]
    for i in range(20):
        sess.run(OUTPUTS, feeds[i % len(feeds)])
    best = 1e9
    for _ in range(reps):
        t = time.perf_counter()
        for i in range(runs):
            sess.run(OUTPUTS, feeds[i % len(feeds)])
        best = min(best, (time.perf_counter() - t) / runs * 1e3)
    return best


def cmd_eval(a):
    pruned, pre = prepare(a)
    x = load_crops(a.work, "eval")
    groups = [m["clip"].split("_")[0] + "_" + m["clip"].split("_")[1] for m in
              json.load(open(os.path.join(a.work, "eval_meta.json")))]
    names = ["fp32_pruned"] + [n for n in (a.only or CANDIDATES)
                               if os.path.exists(os.path.join(a.work, "models", f"{n}.onnx"))]
    path = lambda n: pruned if n == "fp32_pruned" else os.path.join(a.work, "models", f"{n}.onnx")
    ref = run_all(session(pruned), x)
    # sanity: fp32 vs hinge's own landmarks projected into the crop
    meta = json.load(open(os.path.join(a.work, "eval_meta.json")))
    lmc = np.array([m["lm_crop"] for m in meta])
    dd = np.hypot(*(ref[0].reshape(-1, 39, 5)[:, :BODY, :2] - lmc).transpose(2, 0, 1))
    print(f"sanity: fp32 raw landmarks vs hinge frames.csv (in crop px): median {np.median(dd):.2f}", flush=True)
    results = {}
    for n in names:
        if n != "fp32_pruned":
            results[n] = compare(ref, run_all(session(path(n)), x), groups)
    # timing: interleave candidates, fp32 measured in the same run
    timing = {n: [] for n in names}
    for rnd in range(a.timing_rounds):
        for n in names:
            s = session(path(n))
            timing[n].append(bench(s, x))
            del s
    t32 = min(timing["fp32_pruned"])
    print(f"\n{'candidate':22s} {'ms':>6s} {'x':>5s} {'med':>6s} {'p95':>6s} {'max':>6s} {'medR':>6s} {'p95R':>6s} "
          f"{'dPres':>7s} {'cross':>5s} {'visX':>5s} {'wld mm':>7s} {'hm=':>5s} {'hm<=1':>5s}  ok")
    print(f"{'fp32_pruned':22s} {t32:6.2f} {1:5.2f}")
    summary = {"fp32_pruned": {"ms": t32, "ms_all": timing["fp32_pruned"]}}
    for n in names[1:]:
        r = results[n]
        ms = min(timing[n])
        ok_acc = r["med_px"] <= 0.5 and r["p95_px"] <= 1.5 and r["pres_cross"] == 0
        ok_spd = t32 / ms >= 1.3
        r.update(ms=ms, ms_all=timing[n], speedup=t32 / ms, ok_acc=ok_acc, ok_speed=ok_spd)
        summary[n] = r
        print(f"{n:22s} {ms:6.2f} {t32 / ms:5.2f} {r['med_px']:6.3f} {r['p95_px']:6.3f} {r['max_px']:6.2f} "
              f"{r['med_px_refined']:6.3f} {r['p95_px_refined']:6.3f} {r['max_dpres']:7.4f} {r['pres_cross']:5d} "
              f"{r['vis_cross']:5d} {r['med_world_mm']:7.2f} {r['hm_argmax_eq']:5.3f} {r['hm_argmax_le1']:5.3f}  "
              f"{'ACC' if ok_acc else '---'}/{'SPD' if ok_spd else '---'}", flush=True)
    json.dump(summary, open(os.path.join(a.work, "results.json"), "w"), indent=1)
    for n in names[1:]:
        print(n, "per-clip (median, p95) px:", summary[n]["per_clip_med_p95"])
    good = [n for n in names[1:] if summary[n]["ok_acc"] and summary[n]["ok_speed"]]
    return summary, good


def cmd_all(a):
    cmd_crops(a)
    cmd_quant(a)
    summary, good = cmd_eval(a)
    if not good:
        print("\nNo candidate meets both bars.")
        return
    best = min(good, key=lambda n: summary[n]["ms"])
    src = os.path.join(a.work, "models", f"{best}.onnx")
    shutil.copyfile(src, a.out)
    print(f"\nchosen: {best} -> {a.out}  sha256 {hashlib.sha256(open(a.out, 'rb').read()).hexdigest()}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cmd", choices=["crops", "quant", "eval", "all"])
    p.add_argument("--model", default=f"{MAIN}/models/pose_landmark_full.onnx")
    p.add_argument("--hinge", default=f"{MAIN}/target/release/hinge")
    p.add_argument("--work", default=os.path.join(MAIN, "target", "q8"))
    p.add_argument("--out", default=os.path.join(MAIN, "target", "q8", "pose_landmark_full_lean_int8.onnx"))
    p.add_argument("--only", nargs="*", help="candidate names (default: all)")
    p.add_argument("--force", action="store_true", help="re-quantize existing candidates")
    p.add_argument("--timing-rounds", type=int, default=2, help="interleaved timing rounds (best taken)")
    a = p.parse_args()
    {"crops": cmd_crops, "quant": cmd_quant, "eval": cmd_eval, "all": cmd_all}[a.cmd](a)


if __name__ == "__main__":
    main()
