"""Trains hinge's spine model: the back's edge profiles, a coarse torso mask crop and landmark scalars ->
lumbar flexion, pelvic tilt, rib stack, hip flexion, trunk (and two auxiliary pitches), and the hip and knee
angles of the joint centres; validated leave-bodies-out; exported to ONNX.

Inputs are what `hinge eval --mask-interval 0 --dump-spine DIR` writes for each clip (the exact tensors the
Rust side feeds the model), joined by frame index with the clip's truth CSV (rendered footage, tools/synth).

  python3 tools/spine/train.py --set NAME=FOOTAGE_DIR:DUMP_DIR [--set ...] --heldout NAME[,NAME] \\
      [--folds 5] [--epochs 30] [--out models/spine_back.onnx] [--report target/spine/report.json] [--cv-only]

Sets named in --heldout are never trained on or used to choose anything: they are scored by the final model
only (bodies never seen). Every other set is training data; its bodies are split into --folds groups for the
cross-validated figures (each body's frames are predicted by a model that never saw that body; the
predictions are saved next to the report for tuning the fault thresholds on unseen bodies). The shipped
model is the fold models together: the mean of their readings, and their spread, which says where a frame
is unlike what they were trained on. Everything is seeded and single-threaded, so the
same data gives the same file (its sha256 is printed; models/SHA256SUMS and src/kinematics/spine_model.rs
carry it).
"""
import argparse, csv, glob, hashlib, json, math, os, random, sys, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from truth_columns import AUX_POINTS, TARGETS  # noqa: E402  (one list, read by pack_footage.py too)

ROWS, COLS, NSCALAR, NPROF = 56, 48, 18, 64
# the targets (truth column, output name) and the auxiliary points: truth_columns.py, which the packer reads too
NAMES = [n for _, n in TARGETS]


class Group:
    """Targets learnt together by one ensemble; the groups share no weights, so adding a group leaves the
    others' members as they were. `reported`: its first targets are read by hinge (the rest only help
    training)."""

    def __init__(self, name, first, count, reported):
        self.name, self.columns, self.reported = name, slice(first, first + count), reported


# the back (lumbar, tilt, rib stack, hip flexion, trunk; two auxiliary pitches): byte for byte the members of the
# 358-body release; the joint-centre hip angle and knee flexion (hinge applies them, like the trunk, as corrections
# of its keypoint angles): a group of their own, because learnt with the back they moved its readings of real
# lifts (docs/spine_model.md)
GROUPS = [Group("back", 0, 7, 5), Group("joints", 7, 2, 2)]
# columns of TARGETS that hinge reads, in order
READ = [g.columns.start + k for g in GROUPS for k in range(g.reported)]
SEED = 1234
# Auxiliary targets (AUX_POINTS): where the truth's spine joints, dorsal skin points and pelvis landmarks lie in the
# torso frame of the input (along the hip->shoulder axis and toward the back, in axis lengths). Learning to place
# them ties the model's features to the anatomy under the outline (as spine keypoint models do) and helps
# it carry over to bodies it never saw.
NAUX = 2 * len(AUX_POINTS)


def truth_value(row, col):
    """A target's truth in one CSV row; NaN where the row lacks it."""
    try:
        if isinstance(col, tuple):
            return 180.0 - 0.5 * (float(row[col[1]]) + float(row[col[2]]))
        return float(row[col])
    except (KeyError, TypeError, ValueError):
        return math.nan


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# ------------------------------------------------------------------ data
def load_set_spec(spec):
    """A set given as NAME=FOOTAGE_DIR:DUMP_DIR (the command lines' `--set`): its name and clips."""
    name, rest = spec.split("=", 1)
    footage, dump = rest.split(":", 1)
    return name, load_set(name, footage, dump)


def load_set(name, footage, dump):
    """Frames of every clip of a set that has both a dump and a truth CSV."""
    clips = []
    for fpath in sorted(glob.glob(os.path.join(dump, "*.spine_frames.npy"))):
        clip = os.path.basename(fpath)[: -len(".spine_frames.npy")]
        truth_csv = os.path.join(footage, clip + ".csv")
        meta_path = os.path.join(footage, clip + ".meta.json")
        if not os.path.exists(truth_csv):
            continue
        meta = json.load(open(meta_path)) if os.path.exists(meta_path) else {}
        frames = np.load(fpath)
        if len(frames) == 0:
            continue
        arrays = {k: np.load(os.path.join(dump, clip + ".spine_%s.npy" % k))
                  for k in ("crops", "scalars", "profiles", "axes")}
        truth, pts = {}, {}
        with open(truth_csv) as fh:
            for row in csv.DictReader(fh):
                f = int(row["frame"])
                truth[f] = [truth_value(row, c) for c, _ in TARGETS]
                uv = []
                for p in AUX_POINTS:
                    names = p if isinstance(p, tuple) else (p,)
                    try:
                        uv.append((np.mean([float(row[n + "_u"]) for n in names]),
                                   np.mean([float(row[n + "_v"]) for n in names])))
                    except (KeyError, ValueError):
                        uv.append((math.nan, math.nan))
                pts[f] = uv
        keep = [k for k, f in enumerate(frames) if int(f) in truth]
        y = np.array([truth[int(frames[k])] for k in keep], dtype=np.float32)
        aux = np.full((len(keep), NAUX), np.nan, np.float32)
        for i, k in enumerate(keep):
            hx, hy, sx, sy, dorsal = arrays["axes"][k]
            ux, uy = sx - hx, sy - hy
            L = math.hypot(ux, uy)
            ux, uy = ux / L, uy / L
            nx, ny = -uy, ux
            for j, (u, v) in enumerate(pts[int(frames[k])]):
                aux[i, 2 * j] = ((u - hx) * ux + (v - hy) * uy) / L
                aux[i, 2 * j + 1] = dorsal * ((u - hx) * nx + (v - hy) * ny) / L
        body = meta.get("body_id") or "%s:%s" % (name, meta.get("character", "body"))
        clips.append(dict(set=name, clip=clip, body=body, variant=meta.get("variant", "?"),
                          load=meta.get("object"), view=(meta.get("camera") or {}).get("kind", "?"),
                          frames=frames[keep], crops=arrays["crops"][keep], scalars=arrays["scalars"][keep],
                          profiles=arrays["profiles"][keep], y=y, aux=aux))
    return clips


def stack(clips):
    inp = dict(crop=np.concatenate([c["crops"] for c in clips]).astype(np.float32) / 255.0,
               scalars=np.concatenate([c["scalars"] for c in clips]).astype(np.float32),
               profile=np.concatenate([c["profiles"] for c in clips]).astype(np.float32))
    y = np.concatenate([c["y"] for c in clips]).astype(np.float32)
    inp["aux"] = np.concatenate([c["aux"] for c in clips]).astype(np.float32)
    # every clip weighs the same whatever its length or frame rate
    w = np.concatenate([np.full(len(c["frames"]), 1.0 / len(c["frames"]), np.float32) for c in clips])
    return inp, y, w / w.mean()


# ------------------------------------------------------------------ model
class SpineNet(nn.Module):
    """The back's edge profiles (1D convolutions along the torso), a coarse view of the torso mask (2D
    convolutions) and the landmark scalars, joined by a small MLP; outputs in degrees."""

    def __init__(self, y_mean, y_std, width=16, use_crop=True):
        super().__init__()
        self.use_crop = use_crop
        self.prof = nn.Sequential(
            nn.Conv1d(4, 24, 5, padding=2), nn.ReLU(),
            nn.Conv1d(24, 32, 5, stride=2, padding=2), nn.ReLU(),                                  # 32
            nn.Conv1d(32, 32, 3, stride=2, padding=1), nn.ReLU())                                  # 16
        n = 32 * 16 + NSCALAR
        if use_crop:
            c1, c2 = width, 2 * width
            self.conv = nn.Sequential(
                nn.Conv2d(1, c1, 5, stride=2, padding=2), nn.BatchNorm2d(c1), nn.ReLU(),          # 28 x 24
                nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.BatchNorm2d(c2), nn.ReLU(),         # 14 x 12
                nn.MaxPool2d(2),                                                                  # 7 x 6
                nn.Conv2d(c2, 8, 1), nn.ReLU())
            n += 8 * 7 * 6
        self.shared = nn.Sequential(nn.Linear(n, 128), nn.ReLU(), nn.Dropout(0.1))
        self.head = nn.Sequential(nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, len(y_mean)))
        self.aux_head = nn.Linear(128, NAUX)
        self.register_buffer("y_mean", torch.tensor(y_mean, dtype=torch.float32))
        self.register_buffer("y_std", torch.tensor(y_std, dtype=torch.float32))

    def features(self, crop, scalars, profile):
        # profile distances are axis lengths (~0.1-0.5): scale them to unit size
        p = torch.cat([profile[:, :2] * 4.0, profile[:, 2:]], 1)
        parts = [self.prof(p).flatten(1), scalars]
        if self.use_crop:
            parts.insert(0, self.conv(crop).flatten(1))
        return self.shared(torch.cat(parts, 1))

    def forward_std(self, crop, scalars, profile):
        return self.head(self.features(crop, scalars, profile))

    def forward_train(self, crop, scalars, profile):
        h = self.features(crop, scalars, profile)
        return self.head(h), self.aux_head(h)

    def forward(self, crop, scalars, profile):
        return self.forward_std(crop, scalars, profile) * self.y_std + self.y_mean


# ------------------------------------------------------------------ augmentation
def augment(x, s, pr, g, loose_p=0.3):
    """x: (B,1,R,C) in 0..1; s: (B,NSCALAR); pr: (B,4,NPROF). Torso-axis jitter (landmark noise), loose
    clothing (hollows of the outline bridged, the outline pushed out), softer or harder mask edges,
    occluding blobs, noise on the scalars and the profiles."""
    b = x.shape[0]
    # axis jitter: small rotation, scale and shift of the crop's sampling grid
    ang = (torch.rand(b, generator=g) - 0.5) * 2 * math.radians(4)
    sc = 1 + (torch.rand(b, generator=g) - 0.5) * 2 * 0.06
    tx = (torch.rand(b, generator=g) - 0.5) * 2 * 0.04
    ty = (torch.rand(b, generator=g) - 0.5) * 2 * 0.04
    cos, sin = torch.cos(ang) * sc, torch.sin(ang) * sc
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    x = F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")
    # the profiles: the axis length mis-measured (all distances scaled) and shifted along the axis
    pr = pr.clone()
    k = 1 + (torch.rand(b, 1, generator=g) - 0.5) * 2 * 0.06
    pr[:, 0] = pr[:, 0] * k
    pr[:, 1] = pr[:, 1] * k
    shift = torch.randint(-1, 2, (b,), generator=g)
    for v in (-1, 1):
        m = shift == v
        if m.any():
            pr[m] = torch.roll(pr[m], v, dims=2)
    # loose clothing: the back's outline bridged over its hollows and pushed out a little
    m = torch.rand(b, generator=g) < loose_p
    if m.any():
        back = pr[m, 0:1]
        w = int(torch.randint(2, 6, (1,), generator=g)) * 2 + 1
        env = F.max_pool1d(back, w, 1, w // 2)
        env = F.avg_pool1d(env, 5, 1, 2, count_include_pad=False)
        present = pr[m, 2:3] > 0.5
        add = torch.rand(int(m.sum()), 1, 1, generator=g) * 0.04
        pr[m, 0:1] = torch.where(present, torch.maximum(back, env) + add, back)
        xm = x[m]
        kk = int(torch.randint(2, 4, (1,), generator=g)) * 2 + 1
        dil = F.max_pool2d(xm, kk, 1, kk // 2)
        ero = -F.max_pool2d(-dil, kk - 2, 1, (kk - 2) // 2)
        x = x.clone()
        x[m] = ero
    pr[:, :2] = pr[:, :2] + torch.randn(pr[:, :2].shape, generator=g) * 0.004 * pr[:, 2:]
    gam = torch.exp((torch.rand(b, 1, 1, 1, generator=g) - 0.5) * 1.0)
    x = x.clamp(0, 1) ** gam
    m = torch.rand(b, generator=g) < 0.2
    for i in torch.nonzero(m).flatten().tolist():
        h = int(torch.randint(4, 14, (1,), generator=g)); w = int(torch.randint(4, 12, (1,), generator=g))
        r = int(torch.randint(0, ROWS - h, (1,), generator=g)); c = int(torch.randint(0, COLS - w, (1,), generator=g))
        x[i, 0, r:r + h, c:c + w] = float(torch.rand(1, generator=g) < 0.5)
    s = s + torch.randn(s.shape, generator=g) * 0.02
    return x, s, pr


# ------------------------------------------------------------------ training
def train_model(inp, y, w, epochs, seed, reported, width=16, log_every=10, use_crop=True, loose_p=0.3,
                aux_weight=0.5):
    """One member: y holds its group's targets, of which the first `reported` count fully."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    ok = ~np.isnan(y)
    y_mean = np.array([np.mean(y[ok[:, k], k]) for k in range(y.shape[1])], np.float32)
    y_std = np.array([max(2.0, np.std(y[ok[:, k], k])) for k in range(y.shape[1])], np.float32)
    net = SpineNet(y_mean, y_std, width, use_crop)
    xt, st, pt = (torch.from_numpy(inp["crop"]).unsqueeze(1), torch.from_numpy(inp["scalars"]),
                  torch.from_numpy(inp["profile"]))
    yt = torch.from_numpy(np.nan_to_num((y - y_mean) / y_std))
    mt = torch.from_numpy(ok.astype(np.float32))
    aux = inp["aux"]
    aux_ok = ~np.isnan(aux)
    aux_mean = np.array([np.mean(aux[aux_ok[:, k], k]) if aux_ok[:, k].any() else 0.0 for k in range(NAUX)], np.float32)
    aux_std = np.array([max(0.02, np.std(aux[aux_ok[:, k], k])) if aux_ok[:, k].any() else 1.0 for k in range(NAUX)],
                       np.float32)
    at = torch.from_numpy(np.nan_to_num((aux - aux_mean) / aux_std))
    amt = torch.from_numpy(aux_ok.astype(np.float32))
    wt = torch.from_numpy(w)
    # the auxiliary pitches help the shared features; the metrics hinge reads count fully
    tw = torch.tensor([1.0] * reported + [0.3] * (y.shape[1] - reported))
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    n = len(xt)
    bs = 128
    steps = epochs * ((n + bs - 1) // bs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.15)
    for ep in range(epochs):
        net.train()
        perm = torch.randperm(n, generator=g)
        tot = 0.0
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            xb, sb, pb = augment(xt[idx], st[idx], pt[idx], g, loose_p)
            pred, pred_aux = net.forward_train(xb, sb, pb)
            l = F.smooth_l1_loss(pred, yt[idx], reduction="none", beta=0.5) * mt[idx] * tw
            la = F.smooth_l1_loss(pred_aux, at[idx], reduction="none", beta=0.5) * amt[idx]
            loss = ((l.sum(1) + aux_weight * la.mean(1) * reported) * wt[idx]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss.detach()) * len(idx)
        if log_every and (ep + 1) % log_every == 0:
            log("  epoch %d loss %.4f" % (ep + 1, tot / n))
    net.eval()
    return net


def predict(net, inp, columns):
    """Runs a model (one member or the ensemble) over inputs in batches of 512."""
    out = []
    n = len(inp["crop"])
    with torch.no_grad():
        for i in range(0, n, 512):
            out.append(net(torch.from_numpy(inp["crop"][i:i + 512]).unsqueeze(1),
                           torch.from_numpy(inp["scalars"][i:i + 512]),
                           torch.from_numpy(inp["profile"][i:i + 512])).numpy())
    return np.concatenate(out) if out else np.zeros((0, columns), np.float32)


_FOLD_JOB = {}


def _train_fold(k):
    """Fold k's model of every group, on one stacking of the bodies outside the fold."""
    j = _FOLD_JOB
    torch.set_num_threads(1)
    inp, y, w = stack([c for c in j["clips"] if j["fold_of"][c["body"]] != k])
    nets = []
    for group in GROUPS:
        nets.append(train_model(inp, y[:, group.columns], w, j["epochs"], SEED + k, group.reported, log_every=0,
                                **j["opts"]))
        log("%s fold %d trained" % (group.name, k + 1))
    return nets


def train_folds(clips, fold_of, folds, epochs, opts, jobs):
    """Per group, one model per fold, each on the bodies outside its fold and seeded by its fold number (every
    model seeds itself, so the order they train in does not change them). With jobs > 1 the folds train in that
    many processes at once (one thread each): the same models as one after the other, only sooner."""
    _FOLD_JOB.update(clips=clips, fold_of=fold_of, epochs=epochs, opts=opts)
    if jobs <= 1:
        by_fold = [_train_fold(k) for k in range(folds)]
    else:
        import multiprocessing as mp
        with mp.get_context("fork").Pool(min(jobs, folds)) as pool:
            by_fold = pool.map(_train_fold, range(folds), chunksize=1)
    return [list(nets) for nets in zip(*by_fold)]


def figures(y, p):
    """MAE, bias, SD of the error and the zero predictor's MAE per metric hinge reads."""
    out = {}
    for k in READ:
        ok = ~np.isnan(y[:, k])
        e = p[ok, k] - y[ok, k]
        out[NAMES[k]] = dict(n=int(ok.sum()), mae=float(np.mean(np.abs(e))), bias=float(np.mean(e)),
                                  sd=float(np.std(e)), zero_mae=float(np.mean(np.abs(y[ok, k]))))
    return out


def print_figures(title, fig):
    log(title)
    for k, v in fig.items():
        log("  %-20s MAE %5.2f  bias %+5.2f ± %5.2f   zero predictor %5.2f   (%d frames)"
            % (k, v["mae"], v["bias"], v["sd"], v["zero_mae"], v["n"]))


class Ensemble(nn.Module):
    """The cross-validation's fold models of every group together: per group the mean of its members'
    readings and their spread (standard deviation), which is large where the input is unlike anything the
    models saw (the frame does not show the back in a way they can read); all the groups' means, then all
    their spreads, in the order of TARGETS."""

    def __init__(self, members):
        super().__init__()
        self.groups = nn.ModuleList(nn.ModuleList(nets) for nets in members)

    def forward(self, crop, scalars, profile):
        means, spreads = [], []
        for nets in self.groups:
            out = torch.stack([n(crop, scalars, profile) for n in nets], 0)
            means.append(out.mean(0))
            spreads.append(out.std(0, unbiased=False) if len(nets) > 1 else torch.zeros_like(means[-1]))
        return torch.cat(means + spreads, 1)


def export_onnx(net, path):
    net.eval()
    args = (torch.zeros(1, 1, ROWS, COLS), torch.zeros(1, NSCALAR), torch.zeros(1, 4, NPROF))
    tmp = path + ".tmp"
    torch.onnx.export(net, args, tmp, input_names=["crop", "scalars", "profile"], output_names=["angles"],
                      dynamic_axes={"crop": {0: "n"}, "scalars": {0: "n"}, "profile": {0: "n"}, "angles": {0: "n"}},
                      opset_version=17, dynamo=False)
    import onnx
    m = onnx.load(tmp)
    m.producer_name, m.producer_version = "hinge tools/spine/train.py", "1"
    m.doc_string = ("hinge spine model: outputs " + ",".join(NAMES) + " (degrees, the fold models' mean), "
                    "then the same names' spread across the fold models")
    onnx.save(m, path)
    os.remove(tmp)
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", action="append", required=True, help="NAME=FOOTAGE_DIR:DUMP_DIR")
    ap.add_argument("--heldout", default="", help="comma-separated set names never trained on")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--out", default="models/spine_back.onnx")
    ap.add_argument("--report", default="target/spine/report.json")
    ap.add_argument("--cv-only", action="store_true")
    ap.add_argument("--no-cv", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=1, help="folds trained at once, in separate processes")
    ap.add_argument("--no-crop", action="store_true", help="profiles and scalars only")
    ap.add_argument("--loose", type=float, default=0.3, help="share of samples given loose-clothing outlines")
    ap.add_argument("--aux", type=float, default=0.0, help="weight of the spine-point targets (0: none)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.use_deterministic_algorithms(True)
    random.seed(SEED); np.random.seed(SEED)
    heldout = set(filter(None, a.heldout.split(",")))
    train_clips, test_clips = [], []
    for spec in a.set:
        name, cl = load_set_spec(spec)
        log("set %s: %d clips, %d frames, %d bodies" % (name, len(cl), sum(len(c["frames"]) for c in cl),
                                                      len({c["body"] for c in cl})))
        (test_clips if name in heldout else train_clips).extend(cl)
    train_bodies = sorted({c["body"] for c in train_clips})
    overlap = {c["body"] for c in test_clips} & set(train_bodies)
    if overlap:
        sys.exit("held-out bodies also in training: %s" % sorted(overlap))
    opts = dict(width=a.width, use_crop=not a.no_crop, loose_p=a.loose, aux_weight=a.aux)
    report = dict(targets=NAMES, groups={g.name: NAMES[g.columns] for g in GROUPS}, train_bodies=len(train_bodies),
                  train_clips=len(train_clips), train_frames=int(sum(len(c["frames"]) for c in train_clips)),
                  epochs=a.epochs, folds=a.folds, **opts)
    os.makedirs(os.path.dirname(a.report) or ".", exist_ok=True)
    # ---- leave-bodies-out cross-validation on the training bodies
    if not a.no_cv and a.folds > 1:
        r = random.Random(SEED)
        order = train_bodies[:]
        r.shuffle(order)
        fold_of = {b: i % a.folds for i, b in enumerate(order)}
        cv_pred = {}
        for k in range(a.folds):
            va = [c for c in train_clips if fold_of[c["body"]] == k]
            log("fold %d/%d: train %d clips, validate %d clips (%d bodies)" % (
                k + 1, a.folds, len(train_clips) - len(va), len(va), len({c["body"] for c in va})))
        members = train_folds(train_clips, fold_of, a.folds, a.epochs, opts, a.jobs)
        for c in train_clips:
            inp = stack([c])[0]
            cv_pred[c["clip"]] = np.concatenate(
                [predict(nets[fold_of[c["body"]]], inp, len(NAMES[g.columns])) for g, nets in zip(GROUPS, members)], 1)
        y = np.concatenate([c["y"] for c in train_clips])
        p = np.concatenate([cv_pred[c["clip"]] for c in train_clips])
        fig = figures(y, p)
        print_figures("cross-validated, bodies held out (%d bodies)" % len(train_bodies), fig)
        report["cv"] = fig
        report["cv_by_variant"] = {}
        for v in sorted({c["variant"] for c in train_clips}):
            cs = [c for c in train_clips if c["variant"] == v]
            report["cv_by_variant"][v] = figures(np.concatenate([c["y"] for c in cs]),
                                                 np.concatenate([cv_pred[c["clip"]] for c in cs]))
        np.savez_compressed(os.path.splitext(a.report)[0] + "_cv.npz",
                            **{c["clip"]: np.concatenate([c["frames"][:, None].astype(np.float32), cv_pred[c["clip"]]], 1)
                               for c in train_clips})
    if a.cv_only:
        json.dump(report, open(a.report, "w"), indent=1)
        return
    # ---- the shipped model: the fold models as an ensemble (or one model a group on every body without CV)
    if a.no_cv or a.folds < 2:
        log("one model a group on every training body: %d clips, %d bodies" % (len(train_clips), len(train_bodies)))
        inp, y, w = stack(train_clips)
        members = [[train_model(inp, y[:, g.columns], w, a.epochs, SEED, g.reported, **opts)] for g in GROUPS]
    ens = Ensemble(members).eval()
    if test_clips:
        inp, y, _ = stack(test_clips)
        pe = predict(ens, inp, 2 * len(TARGETS))
        fig = figures(y, pe[:, :len(TARGETS)])
        print_figures("held-out bodies (%d clips, %d bodies), ensembles of %d" % (
            len(test_clips), len({c["body"] for c in test_clips}), len(members[0])), fig)
        report["heldout"] = fig
        report["heldout_spread_p50_p95"] = {
            NAMES[k]: [float(np.percentile(pe[:, len(TARGETS) + k], q)) for q in (50, 95)] for k in READ}
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    sha = export_onnx(ens, a.out)
    report["sha256"] = sha
    log("wrote %s sha256 %s" % (a.out, sha))
    json.dump(report, open(a.report, "w"), indent=1)


if __name__ == "__main__":
    main()
