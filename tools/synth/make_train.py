"""TRAIN plan (developers' training set): fresh random bodies body_0000.. (seeds base 20000), 3 clips per body
in round-robin order (pass 1 = one clip for every body, pass 2 = a second clip with a different view, ...),
so that stopping early still leaves >= 2 clips for many bodies. Every clip 2 reps (idle: none); a few
practice-set sessions (5 reps, per-rep variants). Loads none / dumbbells / kettlebell (never the box: held-out only).

python3 make_train.py [--workers 2] [--dry] [--bodies 32] [--passes 3] [--stop-at UNIX_TIME] [--limit N]
Output: shared/footage/train/{CLIP.mp4, CLIP.csv, CLIP.meta.json, configs/CLIP.json, manifest.json}
(TRAIN_DIR overrides the folder). The manifest is rewritten at the end from the files present.
"""
import os, random, sys
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import synth_common as sc

OUT = os.path.abspath(os.environ.get("TRAIN_DIR", os.path.join(HERE, "..", "..", ".work", "synth", "train")))
REL = "shared/footage/train"
SEED0 = 20000
DECK = (["good"] * 4 + ["rounded_lumbar"] * 4 + ["anterior_tilt"] * 3 + ["posterior_tilt"] * 3 + ["squat"] * 2
        + ["load_far"] * 3 + ["idle"])      # 20 cards: ~5 % idle


def variant_deck(n_bodies, passes):
    """Per pass a shuffled balanced deck; a body never gets the same variant twice in a row."""
    out = []
    for ps in range(passes):
        r = random.Random(SEED0 + 50 + ps)
        deck = DECK * (n_bodies // len(DECK) + 1)
        r.shuffle(deck)
        deck = deck[:n_bodies]
        if ps:
            for i in range(n_bodies):
                if deck[i] == out[ps - 1][i]:
                    j = next((j for j in range(n_bodies) if deck[j] != deck[i] and deck[i] != out[ps - 1][j]
                              and deck[j] != out[ps - 1][i]), None)
                    if j is not None:
                        deck[i], deck[j] = deck[j], deck[i]
        out.append(deck)
    return out
LOADS = [None, None, "dumbbells", "kettlebell", None, "dumbbells", "kettlebell"]
SESSION_AT = {(0, 5): "land43", (1, 17): "port34", (2, 28): "land43", (2, 8): "port916", (2, 25): "land43"}   # (pass, body) -> format


def make_configs(n_bodies=32, passes=3):
    cfgs = []
    B = [sc.make_body("body_%04d" % i, SEED0 + i) for i in range(n_bodies)]
    VD = variant_deck(n_bodies, passes)
    for ps in range(passes):
        for i in range(n_bodies):
            seed = SEED0 + 1000 + 97 * i + 7919 * ps
            r = random.Random(seed)
            # view bucket differs between a body's clips: side / front-oblique / back-oblique
            bucket = (i + ps) % 3
            view = [r.uniform(-8, 8), r.uniform(10, 45), -r.uniform(10, 45)][bucket]
            side = r.choice("LR")
            fu = r.random()
            fmt = "land43" if fu < 0.50 else ("port34" if fu < 0.93 else ("land169" if fu < 0.97 else "port916"))
            fps = 60 if r.random() < 0.04 else 30
            load = r.choice(LOADS)
            sfmt = SESSION_AT.get((ps, i))
            if sfmt:
                vs = [r.choice(["good", "rounded_lumbar", "anterior_tilt", "posterior_tilt", "squat", "load_far"]) for _ in range(5)]
                vs[0] = "good"
                plan = []
                for v in vs:
                    rp = {"variant": v, "params": sc.variant_params(v, r, load)}
                    rp.update(sc.rep_timing(r))
                    plan.append(rp)
                params = {"lead_in": r.uniform(1.5, 2.2), "tail": 1.0, "sway": r.uniform(0.4, 0.7), "sway2": r.uniform(0.2, 0.4),
                          "tilt_ramp": 0.5, "arm_mode": "target"}
                cam = sc.camera(r, side, view, sfmt)
                phone = sfmt == "port916"
                clip = "train_%03d_session_%s_%s_%s" % (len(cfgs) + 1, B[i]["body_id"], cam["kind"], load or "noload")
                cfgs.append(sc.clip_config(clip, OUT, REL, "session", 5, seed, B[i], cam, sfmt, sc.scene(r), load, params,
                                           rep_plan=plan, phone=phone))
                continue
            v = VD[ps][i]
            reps = 0 if v == "idle" else 2
            p = sc.variant_params(v, r, load)
            if v != "idle":
                p.update(sc.timing(r, reps))
            cam = sc.camera(r, side, view, fmt)
            clip = "train_%03d_%s_%s_%s_%s" % (len(cfgs) + 1, v, B[i]["body_id"], cam["kind"], load or "noload")
            cfgs.append(sc.clip_config(clip, OUT, REL, v, reps, seed, B[i], cam, fmt, sc.scene(r), load, p, fps=fps))
    return cfgs


if __name__ == "__main__":
    a = sys.argv
    nb = int(a[a.index("--bodies") + 1]) if "--bodies" in a else 32
    npass = int(a[a.index("--passes") + 1]) if "--passes" in a else 3
    cfgs = make_configs(nb, npass)
    if "--limit" in a:
        cfgs = cfgs[:int(a[a.index("--limit") + 1])]
    if "--dry" in a:
        from collections import Counter
        for c in cfgs:
            print(c["clip"], c["width"], c["height"], c["fps"], c["camera"]["height"], c["object"])
        print(Counter(c["variant"] for c in cfgs), Counter(c["object"] for c in cfgs), Counter(c["format"] for c in cfgs))
        sys.exit(0)
    stop = float(a[a.index("--stop-at") + 1]) if "--stop-at" in a else None
    sc.run_queue(cfgs, int(a[a.index("--workers") + 1]) if "--workers" in a else 2, stop_at=stop)
    import make_manifest_synth
    make_manifest_synth.main(OUT, "train")
