"""Plans of the leave-bodies-out sets (issue 13): new random bodies, the new variants (floor lifts, rounded floor
lifts, independent pelvis/lumbar/thoracic motion, rib cage flared or closed, standing tilt habits, arms hanging
behind the back) next to the old ones, round-robin by body so that stopping early leaves a balanced set.

  python3 make_hinge_set.py PLAN [--out DIR] [--workers 1] [--fps N] [--bodies GLOB] [--dry] [--limit N]
                            [--stop-at UNIX_TIME]
--bodies GLOB renders only the clips of the bodies whose id matches (e.g. 'test_000[0-4]': the test plan's
trained bodies); the other clips are the same as in the whole plan.

PLAN  train2  bodies body_0100.. (seed base 21000), 40 bodies x 3 clips + 3 practice sets; never the box
      train3  bodies body_0140.. (seed base 22000), 100 bodies x 2 clips + 2 practice sets; never the box
      train4  bodies body_0240.. (seed base 23000), 100 bodies x 1 clip + 1 practice set, every body in a loose top
      test    bodies test_0000.. (seed base 40000), 10 bodies x 6 clips + 3 practice sets; box loads only here
      testloose  bodies test_0010.. (seed base 40500), 6 bodies x 3 clips + 1 practice set in loose tops (held out)
Bodies of the plans never overlap, nor with make_train.py (body_0000..0031, seeds 20000..) or footage/dev.
Output: DIR/{CLIP.mp4, CLIP.csv, CLIP.meta.json, configs/CLIP.json, manifest.json}; default
../../.work/synth/PLAN (ignored by git). Clips already rendered are skipped, so a run resumes.
"""
import os, random, sys
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import synth_common as sc

# loads of the training plans: no load, dumbbells or a kettlebell (the box only in the test plan)
TRAINING_LOADS = [None, None, "dumbbells", "kettlebell", None, "dumbbells", "kettlebell"]
PLANS = {
    "train2": dict(prefix="body_%04d", first=100, bodies=40, passes=3, seed0=21000, sessions=3,
                   loads=TRAINING_LOADS,
                   deck=(["floor_good"] * 4 + ["floor_rounded"] * 3 + ["spine_mix"] * 5 + ["ribs_flared"] * 2
                         + ["ribs_closed"] * 2 + ["good"] * 2 + ["rounded_lumbar"] * 2 + ["anterior_tilt"] * 2
                         + ["posterior_tilt"] * 2 + ["squat"] + ["load_far"] + ["idle_anterior"] + ["idle_posterior"])),
    # one clip per body first (pass-major order), so a run stopped early still gives the most bodies
    "train3": dict(prefix="body_%04d", first=140, bodies=100, passes=2, seed0=22000, sessions=2,
                   loads=TRAINING_LOADS,
                   deck=(["floor_good"] * 3 + ["floor_rounded"] * 3 + ["spine_mix"] * 4 + ["ribs_flared"] * 2
                         + ["ribs_closed"] * 2 + ["good"] * 2 + ["rounded_lumbar"] * 2 + ["anterior_tilt"] * 2
                         + ["posterior_tilt"] * 2 + ["squat"] + ["load_far"] + ["idle_anterior"] + ["idle_posterior"])),
    # loose tops (sweatshirts, hoodies over the waistband): the back's outline is fabric, as in real lifts
    "train4": dict(prefix="body_%04d", first=240, bodies=100, passes=1, seed0=23000, sessions=1,
                   loads=TRAINING_LOADS, loose=True,   # train3's deck with a third good hinge
                   deck=(["floor_good"] * 3 + ["floor_rounded"] * 3 + ["spine_mix"] * 4 + ["ribs_flared"] * 2
                         + ["ribs_closed"] * 2 + ["good"] * 3 + ["rounded_lumbar"] * 2 + ["anterior_tilt"] * 2
                         + ["posterior_tilt"] * 2 + ["squat"] + ["load_far"] + ["idle_anterior"] + ["idle_posterior"])),
    "test": dict(prefix="test_%04d", first=0, bodies=10, passes=6, seed0=40000, sessions=3,
                 loads=[None, None, "dumbbells", "kettlebell", "box", None, "kettlebell", "box"],
                 deck=(["good", "rounded_lumbar", "anterior_tilt", "posterior_tilt", "squat", "load_far", "floor_good",
                        "floor_rounded", "ribs_flared", "ribs_closed", "idle_anterior", "idle_posterior", "spine_mix",
                        "good", "rounded_lumbar", "floor_good", "floor_rounded", "posterior_tilt", "anterior_tilt", "squat",
                        "floor_good", "floor_rounded", "idle", "load_far"])),
}
PLANS["testloose"] = dict(PLANS["test"], first=10, bodies=6, passes=3, seed0=40500, sessions=1, loose=True)
CYCLING_PLANS = ("test", "testloose")
DARK_TOPS = ("black", "charcoal", "navy", "grey", "maroon", "olive")

SESSION_VARIANTS = ["good", "rounded_lumbar", "anterior_tilt", "posterior_tilt", "squat", "load_far", "floor_good",
                    "floor_rounded", "ribs_flared", "ribs_closed"]
NO_REPS = ("idle", "idle_anterior", "idle_posterior")


def dress_loose(body):
    """The body in a loose top (its own random stream, so the body itself is the one its seed gives): sleeves long
    (75 %) or short, 2-6 cm off the skin, smoothed over the lower back, the hem 4-13 cm below the waist; 40 % dark."""
    r = random.Random(body["body_seed"] + 777)
    long_sleeves = r.random() < 0.75
    body.update(sleeveless=False, long_sleeves=long_sleeves)
    body["loose_top"] = {"offset_m": round(r.uniform(0.02, 0.06), 3), "smooth": round(r.uniform(0.8, 0.95), 2),
                         "iterations": r.randint(8, 20), "hem_drop_m": round(r.uniform(0.04, 0.13), 3)}
    desc = body["clothing"]
    desc.update(sleeves="long" if long_sleeves else "short", fit="loose")
    if r.random() < 0.4:
        desc["top"] = r.choice(DARK_TOPS)
        body["colours"]["shirt"] = [round(min(1, x * r.uniform(0.85, 1.15)), 4) for x in sc.CLOTH[desc["top"]]]
    return body


def variant_deck(deck, n_bodies, passes, seed0):
    """Per pass a shuffled deck; a body gets no variant twice."""
    out = []
    for ps in range(passes):
        r = random.Random(seed0 + 50 + ps)
        d = deck * (n_bodies // len(deck) + 1)
        r.shuffle(d)
        d = d[:n_bodies]
        for i in range(n_bodies):
            seen = {out[q][i] for q in range(ps)}
            if d[i] in seen:
                j = next((j for j in range(n_bodies) if d[j] not in seen
                          and d[i] not in {out[q][j] for q in range(ps)}), None)
                if j is not None:
                    d[i], d[j] = d[j], d[i]
        out.append(d)
    return out


def make_configs(plan, out_dir, fps_override=None):
    """Clip configurations of a plan; `fps_override` renders every clip at that rate (training data needs no
    30 fps: neighbouring frames add little, and 10 fps takes about a third of the render time)."""
    pl = PLANS[plan]
    n, passes, seed0 = pl["bodies"], pl["passes"], pl["seed0"]
    bodies = [sc.make_body(pl["prefix"] % (pl["first"] + i), seed0 + i) for i in range(n)]
    if pl.get("loose"):
        bodies = [dress_loose(b) for b in bodies]
    decks = variant_deck(pl["deck"], n, passes, seed0)
    r0 = random.Random(seed0 + 7)
    session_at = {(r0.randrange(passes), r0.randrange(n)): fmt for fmt in ["land43", "port34", "port916"][:pl["sessions"]]}
    cfgs = []
    for ps in range(passes):
        for i in range(n):
            seed = seed0 + 1000 + 97 * i + 7919 * ps
            r = random.Random(seed)
            bucket = (i + ps) % 3
            view = [r.uniform(-8, 8), r.uniform(10, 45), -r.uniform(10, 45)][bucket]
            side = r.choice("LR")
            fu = r.random()
            fmt = "land43" if fu < 0.50 else ("port34" if fu < 0.93 else ("land169" if fu < 0.97 else "port916"))
            fps = 60 if r.random() < 0.05 else 30
            if fps_override:
                fps = fps_override
            load = r.choice(pl["loads"])
            sfmt = session_at.get((ps, i))
            body = bodies[i]
            if sfmt:
                vs = [r.choice(SESSION_VARIANTS) for _ in range(5)]
                vs[0] = "good"
                if load == "box":
                    load = None
                plan_reps = []
                for v in vs:
                    rp = {"variant": v, "params": sc.variant_params(v, r, load)}
                    rp.update(sc.rep_timing(r))
                    plan_reps.append(rp)
                params = {"lead_in": r.uniform(1.5, 2.2), "tail": 1.0, "sway": r.uniform(0.4, 0.7),
                          "sway2": r.uniform(0.2, 0.4), "tilt_ramp": 0.5, "arm_mode": "target"}
                cam = sc.camera(r, side, view, sfmt)
                clip = "%s_%03d_session_%s_%s_%s" % (plan, len(cfgs) + 1, body["body_id"], cam["kind"], load or "noload")
                cfgs.append(sc.clip_config(clip, out_dir, out_dir, "session", 5, seed, body, cam, sfmt, sc.scene(r), load,
                                           params, fps=fps, rep_plan=plan_reps, phone=sfmt == "port916"))
                continue
            # the test plans cycle through their deck (every card 2-3 times); the training plans draw per pass
            v = pl["deck"][(ps * n + i) % len(pl["deck"])] if plan in CYCLING_PLANS else decks[ps][i]
            if v in ("floor_good", "floor_rounded") and load == "dumbbells" and r.random() < 0.5:
                load = "kettlebell"       # floor lifts: mostly a bell (or a box in the test plan)
            p = sc.variant_params(v, r, load)
            reps = 0 if v in NO_REPS else 2
            if reps:
                p.update(sc.timing(r, reps))
            if load in (None, "dumbbells") and r.random() < 0.25:
                p["hand_fwd_stand"] = round(r.uniform(-0.12, -0.02), 3)   # arms hang behind: they cover the lower back
            cam = sc.camera(r, side, view, fmt)
            clip = "%s_%03d_%s_%s_%s_%s" % (plan, len(cfgs) + 1, v, body["body_id"], cam["kind"], load or "noload")
            cfgs.append(sc.clip_config(clip, out_dir, out_dir, v, reps, seed, body, cam, fmt, sc.scene(r), load, p, fps=fps))
    return cfgs


if __name__ == "__main__":
    a = sys.argv
    plan = a[1] if len(a) > 1 and not a[1].startswith("-") else sys.exit(__doc__)
    if plan not in PLANS:
        sys.exit("unknown plan %r (%s)" % (plan, " | ".join(PLANS)))
    out = os.path.abspath(a[a.index("--out") + 1]) if "--out" in a else os.path.abspath(
        os.path.join(HERE, "..", "..", ".work", "synth", plan))
    fps = None
    if "--fps" in a:
        arg = a[a.index("--fps") + 1] if a.index("--fps") + 1 < len(a) else ""
        if not arg.isdigit() or not 1 <= int(arg) <= 120:
            sys.exit("--fps: expected a frame rate from 1 to 120, got %r" % arg)
        fps = int(arg)
    cfgs = make_configs(plan, out, fps)
    if "--bodies" in a:
        import fnmatch
        pattern = a[a.index("--bodies") + 1] if a.index("--bodies") + 1 < len(a) else ""
        cfgs = [c for c in cfgs if fnmatch.fnmatchcase(c["character"]["body_id"], pattern)]
        if not cfgs:
            sys.exit("--bodies: no body of plan %s matches %r" % (plan, pattern))
    if "--limit" in a:
        cfgs = cfgs[:int(a[a.index("--limit") + 1])]
    if "--dry" in a:
        from collections import Counter
        for c in cfgs:
            print(c["clip"], c["width"], c["height"], c["fps"], c["object"], c["params"].get("hand_fwd_stand", ""))
        print(len(cfgs), Counter(c["variant"] for c in cfgs), Counter(c["object"] for c in cfgs))
        sys.exit(0)
    os.makedirs(out, exist_ok=True)
    stop = float(a[a.index("--stop-at") + 1]) if "--stop-at" in a else None
    sc.run_queue(cfgs, int(a[a.index("--workers") + 1]) if "--workers" in a else 1, stop_at=stop)
    import make_manifest_synth
    make_manifest_synth.main(out, plan)
