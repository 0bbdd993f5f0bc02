"""Generators shared by the synth plans (make_train.py and any other plan):
random bodies, clothing, cameras, scenes, motion parameters, and a 2-worker render queue.

Everything is drawn from random.Random(seed), so a plan is reproducible from its seed base.
Body ids are stable: the same (prefix, index, seed) always gives the same body.
"""
import json, math, os, random, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor

SYNTH = os.path.dirname(os.path.abspath(__file__))

# ------------------------------------------------------------------ bodies
SKIN = [(0.78, 0.56, 0.46), (0.66, 0.46, 0.36), (0.52, 0.34, 0.25), (0.38, 0.23, 0.15),
        (0.24, 0.14, 0.09), (0.14, 0.075, 0.05), (0.075, 0.04, 0.027)]        # light -> dark (linear RGB albedo)
HAIR = {"black": (0.02, 0.018, 0.016), "dark_brown": (0.06, 0.04, 0.025), "brown": (0.16, 0.09, 0.05),
        "blonde": (0.55, 0.42, 0.22), "red": (0.35, 0.10, 0.04), "grey": (0.45, 0.44, 0.42), "white": (0.72, 0.72, 0.70)}
CLOTH = {"black": (0.03, 0.03, 0.035), "charcoal": (0.12, 0.12, 0.13), "grey": (0.35, 0.35, 0.37),
         "heather": (0.55, 0.55, 0.56), "white": (0.85, 0.85, 0.83), "navy": (0.04, 0.07, 0.22),
         "blue": (0.10, 0.25, 0.60), "teal": (0.05, 0.35, 0.35), "green": (0.12, 0.35, 0.12),
         "olive": (0.25, 0.27, 0.10), "red": (0.60, 0.08, 0.08), "maroon": (0.30, 0.04, 0.07),
         "pink": (0.80, 0.35, 0.45), "purple": (0.30, 0.12, 0.45), "orange": (0.80, 0.35, 0.06),
         "mustard": (0.65, 0.50, 0.10), "beige": (0.65, 0.55, 0.42), "lilac": (0.55, 0.45, 0.70)}
SHOES = {"white": (0.85, 0.85, 0.85), "black": (0.04, 0.04, 0.04), "grey": (0.4, 0.4, 0.42), "red": (0.7, 0.12, 0.1),
         "blue": (0.1, 0.2, 0.6), "pink": (0.8, 0.4, 0.5), "neon": (0.6, 0.8, 0.1)}


def age_years_to_macro(y):
    """MakeHuman age macro: 0.1875 = 11 y, 0.5 = 25 y, 1.0 = 90 y (linear in between)."""
    if y >= 25:
        return 0.5 + 0.5 * (y - 25) / 65.0
    return 0.1875 + 0.3125 * (y - 11) / 14.0


def _jit(r, c, a=0.12):
    return [round(min(1.0, max(0.0, x * r.uniform(1 - a, 1 + a))), 4) for x in c]


def _weight_bin(r):
    """slim / average / heavy / very heavy (MakeHuman weight macro 0..1, 0.5 = average BMI)."""
    u = r.random()
    if u < 0.20:
        return r.uniform(0.10, 0.38)
    if u < 0.58:
        return r.uniform(0.38, 0.62)
    if u < 0.86:
        return r.uniform(0.62, 0.85)
    return r.uniform(0.85, 1.0)


def clothing(r, female, age_years):
    top = r.choice(list(CLOTH)); bottom = r.choice(["black", "black", "charcoal", "navy", "grey", "heather", "olive",
                                                    "maroon", "blue", "purple", "teal", "beige"])
    while bottom == top:
        bottom = r.choice(list(CLOTH))
    sl = r.random()
    sleeves = "none" if sl < (0.3 if female else 0.2) else ("short" if sl < 0.75 else "long")
    bt = r.random()
    if female:
        bottoms = "leggings" if bt < 0.45 else ("capri" if bt < 0.6 else ("mid_shorts" if bt < 0.8 else
                  ("short_shorts" if bt < 0.9 else "long_pants")))
    else:
        bottoms = "mid_shorts" if bt < 0.45 else ("long_pants" if bt < 0.75 else ("short_shorts" if bt < 0.85 else "capri"))
    c = {"sleeveless": sleeves == "none", "long_sleeves": sleeves == "long",
         "long_pants": bottoms in ("leggings", "capri", "long_pants"), "full_length": bottoms in ("leggings", "long_pants"),
         "mid_shorts": bottoms != "short_shorts", "socks": r.random() < 0.7,
         "sock_top": round(r.uniform(0.10, 0.17), 3), "shoe_top": round(r.uniform(0.075, 0.095), 3),
         "waist_offset": round(r.uniform(-0.01, 0.06), 3)}
    desc = {"top": top, "sleeves": sleeves, "bottoms": bottoms, "bottom_colour": bottom}
    return c, top, bottom, desc


def stature_to_height(s, female):
    """Approximate inverse of the MakeHuman height macro -> stature (m) of these bodies."""
    c, up, down = (1.62, 1.2, 0.7) if female else (1.75, 1.4, 0.8)
    h = 0.5 + (s - c) / up if s >= c else 0.5 - (c - s) / down
    return min(0.97, max(0.03, h))


def extra_targets(weight, belly, female):
    """Local fat targets on top of the (mild) MakeHuman weight macro: heavy bodies get waist/hip/thigh/arm/neck
    girth and torso depth, slim bodies lose some; `belly` drives the stomach-pregnant target (postpartum belly)."""
    t = {}
    fat = max(0.0, weight - 0.55) / 0.45
    if fat > 0:
        for n, k in (("torso/measure-waist-circ-incr", 0.9), ("torso/measure-hips-circ-incr", 0.6 if female else 0.4),
                     ("torso/torso-scale-depth-incr", 0.35), ("legs/l-upperleg-fat-incr", 0.8), ("legs/r-upperleg-fat-incr", 0.8),
                     ("arms/l-upperarm-fat-incr", 0.7), ("arms/r-upperarm-fat-incr", 0.7), ("neck/measure-neck-circ-incr", 0.4),
                     ("buttocks/buttocks-volume-incr", 0.4 if female else 0.2)):
            t[n] = round(k * fat, 3)
    slim = max(0.0, 0.4 - weight) / 0.3
    if slim > 0:
        for n, k in (("torso/measure-waist-circ-decr", 0.5), ("legs/l-upperleg-fat-decr", 0.4), ("legs/r-upperleg-fat-decr", 0.4)):
            t[n] = round(k * slim, 3)
    if belly > 0:
        t["stomach/stomach-pregnant-incr"] = round(belly, 3)
    return t


def make_body(body_id, seed, **over):
    """A random MakeHuman body + clothing.  `over` fixes any field (e.g. gender=0, weight=0.9, age_years=60).
    Distribution: ~60 % female; age 20-60 (MakeHuman age targets young/old interpolated); weight slim..very heavy;
    muscle, height, proportions, breast size/firmness (female), postpartum belly (stomach-pregnant target, some women)."""
    r = random.Random(seed)
    female = over.pop("female", r.random() < 0.6)
    gender = r.uniform(0.0, 0.12) if female else r.uniform(0.88, 1.0)
    age_years = r.triangular(20, 60, 31)
    weight = _weight_bin(r)
    muscle = min(0.9, max(0.1, r.gauss(0.5 - 0.15 * max(0, weight - 0.6) - 0.003 * max(0, age_years - 40), 0.13)))
    height = min(0.97, max(0.03, r.gauss(0.5, 0.22)))
    proportions = r.uniform(0.3, 0.95)
    cupsize = r.uniform(0.3, 0.9) if female else 0.5
    firmness = r.uniform(0.15, 0.7) if female else 0.5
    belly = (r.uniform(0.08, 0.32) if (female and r.random() < 0.4) else 0.0)   # postpartum belly (stomach-pregnant target)
    if not female and weight > 0.7 and r.random() < 0.6:     # the male macro alone gives little belly
        belly = r.uniform(0.1, 0.35)
    tone = min(6.0, max(0.0, r.gauss(2.6, 1.8)))
    asian_u = r.uniform(0, 0.6)
    vals = dict(gender=gender, age_years=age_years, weight=weight, muscle=muscle, height=height, proportions=proportions,
                cupsize=cupsize, firmness=firmness, belly=belly, tone=tone)
    # stature: drawn in metres from a separate stream (keeps every other draw unchanged) and mapped to the MakeHuman
    # height macro (rough fit measured on rendered bodies: female 0.5 ~ 1.62 m, male 0.5 ~ 1.75 m; maxheight side
    # ~1.2 / 1.4 m per unit, minheight side ~0.7 / 0.8 m per unit). The raw macro spans ~1.25-2.4 m, far too wide.
    rs = random.Random(seed * 7 + 12345)
    fem_ = over.get("gender", gender) < 0.5
    stature = (min(1.82, max(1.48, rs.gauss(1.63, 0.07))) if fem_ else min(1.96, max(1.60, rs.gauss(1.76, 0.075))))
    stature = over.pop("stature", stature)
    if "height" not in over:
        height = stature_to_height(stature, fem_)
    vals["height"] = height
    vals.update(over)
    vals["stature_target"] = stature if "height" not in over else None
    race_dark = vals["tone"] / 6.0
    race = {"african": round(max(0.0, race_dark - 0.2) * 1.2, 3), "asian": round(asian_u * (1 - race_dark), 3)}
    race["caucasian"] = round(max(0.0, 1 - race["african"] - race["asian"]), 3)
    tot = sum(race.values()); race = {k: round(v / tot, 3) for k, v in race.items()}
    vals.setdefault("race", race)
    female = vals["gender"] < 0.5
    lo = int(vals["tone"]); fr = vals["tone"] - lo; hi = min(6, lo + 1)
    skin = [SKIN[lo][k] * (1 - fr) + SKIN[hi][k] * fr for k in range(3)]
    skin = _jit(r, skin, 0.06)
    ay = vals["age_years"]
    hcol = r.choice(["black", "dark_brown", "brown", "brown", "blonde", "red"] if vals["tone"] < 3.5 else ["black", "black", "dark_brown"])
    if ay > 45 and r.random() < (ay - 40) / 30:
        hcol = r.choice(["grey", "white", "grey"])
    bald = (not female) and r.random() < (0.1 + 0.01 * max(0, ay - 30))
    cl, top, bottom, desc = clothing(r, female, ay)
    shoe = r.choice(list(SHOES))
    sockc = r.choice(["white", "white", "black", "grey"])
    spec = {"name": body_id, "body_id": body_id, "body_seed": seed,
            "gender": round(vals["gender"], 4), "age": round(age_years_to_macro(ay), 4), "age_years": round(ay, 1),
            "muscle": round(vals["muscle"], 4), "weight": round(vals["weight"], 4), "height": round(vals["height"], 4),
            "stature_target_m": (round(vals["stature_target"], 3) if vals["stature_target"] else None),
            "proportions": round(vals["proportions"], 4), "cupsize": round(vals["cupsize"], 4) if female else 0.5,
            "firmness": round(vals["firmness"], 4) if female else 0.5, "race": vals["race"], "skin_tone": round(vals["tone"], 2),
            "extra_targets": extra_targets(vals["weight"], vals["belly"], female),
            "weight_scale": {"maxweight": 2.0, "minweight": 1.5}, "subsurf": 0, "hair": not bald, "hairline_y": round(r.uniform(-0.01, 0.015), 4), "clothing": desc,
            "colours": {"skin": skin, "shirt": _jit(r, CLOTH[top]), "shorts": _jit(r, CLOTH[bottom]),
                        "shoe": _jit(r, SHOES[shoe]), "hair": _jit(r, HAIR[hcol]), "sock": _jit(r, SHOES[sockc], 0.05)}}
    spec.update(cl)
    return spec


# ------------------------------------------------------------------ motion
def variant_params(v, r, load=None):
    """Motion parameters (new synth ranges: hips travel back with soft knees, hands stay near the shins
    unless the variant is load_far).  hand_fwd_depth = hands' midpoint in front of the ankle midpoint at the bottom."""
    near = {"kettlebell": (0.08, 0.17), "box": (0.19, 0.225)}.get(load, (0.04, 0.16))
    far = {"box": (0.34, 0.42)}.get(load, (0.31, 0.45))
    if v == "good":
        p = {"trunk": r.uniform(55, 74), "thigh": r.uniform(15, 24), "shank": r.uniform(2, 7), "lumbar_noise": r.uniform(-2, 3)}
    elif v == "load_far":
        p = {"trunk": r.uniform(58, 76), "thigh": r.uniform(12, 20), "shank": r.uniform(3, 8), "lumbar_noise": r.uniform(-2, 3)}
    elif v == "rounded_lumbar":
        p = {"trunk": r.uniform(60, 76), "thigh": r.uniform(12, 20), "shank": r.uniform(3, 8),
             "lumbar_max": r.uniform(25, 42), "thoracic_max": r.uniform(6, 12), "pelvis_lag": r.uniform(0.7, 0.9)}
    elif v == "anterior_tilt":
        p = {"trunk": r.uniform(52, 70), "thigh": r.uniform(15, 24), "shank": r.uniform(2, 7),
             "tilt": r.uniform(12, 18), "tilt_extra": r.uniform(2, 6), "flare": r.uniform(6, 10)}
    elif v == "posterior_tilt":
        p = {"trunk": r.uniform(42, 56), "thigh": r.uniform(12, 19), "shank": r.uniform(4, 9),
             "tilt": r.uniform(10, 15), "tilt_extra": r.uniform(2, 5), "lumbar_extra": r.uniform(3, 7)}
    elif v == "squat":
        p = {"trunk": r.uniform(25, 38), "thigh": r.uniform(70, 88), "shank": r.uniform(28, 36), "head_up": 5.0}
        near = (near[0] + 0.06, near[1] + 0.06) if load != "box" else near
        if load == "kettlebell":
            p["reach_depth"] = 0.9      # keep the bell off the floor at the bottom of a squat
    elif v == "idle":
        return {"duration": r.uniform(3.6, 4.2), "sway": r.uniform(0.8, 1.5), "arm_mode": "target", "hand_fwd_depth": 0.1}
    # ---- variants added for the leave-bodies-out set (make_hinge_set.py)
    elif v in ("idle_anterior", "idle_posterior"):
        p = {"duration": r.uniform(3.6, 4.2), "sway": r.uniform(0.8, 1.5), "arm_mode": "target", "hand_fwd_depth": 0.1,
             "tilt": r.uniform(10, 18)}
        if v == "idle_anterior":
            p["flare"] = r.uniform(4, 9)
        return p
    elif v == "floor_good":      # deadlift from the floor: knees 60-100 deg, hips back, trunk 40-62 deg, spine neutral
        p = {"trunk": r.uniform(40, 62), "thigh": r.uniform(38, 62), "shank": r.uniform(16, 32),
             "lumbar_noise": r.uniform(-3, 3), "head_up": r.uniform(8, 16)}
    elif v == "floor_rounded":   # the same lift, lower back rounding at depth
        p = {"trunk": r.uniform(45, 66), "thigh": r.uniform(36, 58), "shank": r.uniform(14, 30),
             "lumbar_max": r.uniform(22, 42), "thoracic_max": r.uniform(5, 12), "pelvis_lag": r.uniform(0.6, 0.9)}
    elif v in ("ribs_flared", "ribs_closed"):   # thoracic extension (chest up, ribs flared) / flexion (collapsed)
        sgn = -1.0 if v == "ribs_flared" else 1.0
        p = {"trunk": r.uniform(50, 72), "thigh": r.uniform(14, 24), "shank": r.uniform(2, 8), "lumbar_noise": r.uniform(-2, 2),
             "thoracic0": sgn * r.uniform(0, 6), "thoracic_max": sgn * r.uniform(14, 26),
             "flare_max": r.uniform(4, 10) if v == "ribs_flared" else 0.0}
    elif v == "wiggle":          # training bank: smooth random courses of every channel (10 fps, 3.5-4.5 s)
        def path():
            return [[round(r.uniform(0.4, 1.0), 3), round(r.uniform(0.06, 0.4), 3), round(r.uniform(0, 6.283), 3)]
                    for _ in range(3)]
        p = {"trunk": r.uniform(35, 80), "thigh": r.choice([r.uniform(10, 25), r.uniform(25, 65)]),
             "shank": r.uniform(2, 30), "head_up": r.uniform(4, 16), "duration": r.uniform(3.5, 4.5),
             "tilt_range": sorted([r.uniform(-42, -5), r.uniform(0, 22)]), "thor_range": sorted([r.uniform(-20, 0), r.uniform(0, 18)]),
             "flare_max": r.uniform(0, 12), "lumbar_noise": r.uniform(1, 6), "lumbar_free": r.random() < 0.25,
             "lumbar_range": sorted([r.uniform(-34, 0), r.uniform(0, 42)]), "lumbar_per_tilt": r.uniform(0.85, 1.2),
             "lumbar_per_flare": r.uniform(0.6, 1.1),
             "paths": {k: path() for k in ("h", "tilt", "thor", "flare", "eps", "lumbar", "hand")},
             "sway": r.uniform(0.3, 1.0), "hand_fwd_depth": r.uniform(0.03, 0.40), "arm_mode": "target"}
        return p
    elif v == "spine_mix":       # pelvis, lumbar and thoracic spine drawn independently (standing and at depth)
        p = {"trunk": r.uniform(40, 74), "thigh": r.uniform(12, 50), "shank": r.uniform(2, 26),
             "tilt0": r.uniform(-14, 14), "tilt1": r.uniform(-16, 12),
             "lumbar1": r.uniform(-14, 36), "thoracic0": r.uniform(-8, 8), "thoracic1": r.uniform(-16, 18),
             "flare1": r.uniform(0, 8)}
        # standing: the lumbar spine partly compensates the pelvis so that the chest stays near upright
        p["lumbar0"] = round(-r.uniform(0.3, 1.0) * p["tilt0"] + r.uniform(-8, 8), 3)
    else:
        raise ValueError(v)
    p["hand_fwd_depth"] = r.uniform(*(far if v == "load_far" else near))
    p["arm_mode"] = "target"
    if load == "box":
        p["hand_path"] = "early"
    return p


def timing(r, reps):
    return {"t_desc": r.uniform(0.8, 1.0), "t_bottom": r.uniform(0.15, 0.3), "t_asc": r.uniform(0.7, 0.9),
            "t_stand": r.uniform(0.2, 0.35), "lead_in": r.uniform(0.3, 0.5)}


def rep_timing(r):
    return {"t_desc": r.uniform(0.9, 1.15), "t_bottom": r.uniform(0.15, 0.3), "t_asc": r.uniform(0.8, 1.0),
            "pause": r.uniform(0.8, 1.4)}


# ------------------------------------------------------------------ camera
def camera(r, side, view_deg, fmt, height=None, dist=None, roll=None):
    """side 'L' (camera on the subject's left, subject faces image-left) or 'R'; view_deg in [-45, 45]:
    + = toward the subject's front (front-oblique), - = toward the back (back-oblique), 0 = true side.
    fmt: 'land43' 640x480 | 'port34' 480x640 | 'land169' 1280x720 | 'port916' 720x1280."""
    az = -view_deg if side == "L" else 180.0 + view_deg
    d = dist if dist is not None else r.uniform(2.9, 4.4)
    # lens per metre of distance so that a 1.70 m person fills a similar part of the frame (scaled by stature at render)
    k = {"land43": r.uniform(10.4, 11.8), "port34": r.uniform(12.6, 14.0), "land169": r.uniform(7.9, 8.9),
         "port916": r.uniform(11.6, 12.6)}[fmt]
    if abs(view_deg) > 25:      # obliques: body is wider in the image at the bottom -> a little wider lens
        k *= 0.95
    h = height if height is not None else r.uniform(0.5, 1.5)
    ro = roll if roll is not None else r.uniform(-3, 3)
    return {"kind": "%s_%s_%d" % ("side" if abs(view_deg) < 8 else ("front_oblique" if view_deg > 0 else "back_oblique"),
                                   side, round(abs(view_deg))),
            "side": side, "view_deg": round(view_deg, 2), "azimuth_deg": round(az, 2),
            "dir": [math.cos(math.radians(az)), math.sin(math.radians(az)), 0.0],
            "dist": round(d, 3), "height": round(h, 3), "target_z": round(r.uniform(0.78, 0.92), 3),
            "target_y": round(r.uniform(-0.25, -0.08), 3), "lens": round(d * k, 2), "roll_deg": round(ro, 2),
            "auto_frame": True}


FORMATS = {"land43": (640, 480), "port34": (480, 640), "land169": (1280, 720), "port916": (720, 1280)}


def scene(r, dim=None):
    walls = [((0.75, 0.72, 0.65), "noise"), ((0.55, 0.6, 0.68), "noise"), ((0.7, 0.7, 0.72), "checker"),
             ((0.62, 0.55, 0.48), "noise"), ((0.62, 0.3, 0.22), "brick"), ((0.85, 0.85, 0.82), "noise"),
             ((0.3, 0.38, 0.32), "noise"), ((0.5, 0.48, 0.45), "brick"), ((0.9, 0.88, 0.8), "noise"),
             ((0.45, 0.5, 0.58), "noise"), ((0.8, 0.7, 0.6), "checker"), ((0.25, 0.25, 0.28), "noise")]
    floors = [((0.45, 0.35, 0.25), "wood"), ((0.3, 0.3, 0.32), "noise"), ((0.5, 0.42, 0.3), "wood"),
              ((0.2, 0.22, 0.25), "noise"), ((0.6, 0.55, 0.5), "checker"), ((0.35, 0.25, 0.18), "wood"),
              ((0.55, 0.5, 0.45), "noise"), ((0.15, 0.3, 0.2), "noise")]
    wc, wt = r.choice(walls); fc, ft = r.choice(floors)
    dim = (r.random() < 0.3) if dim is None else dim
    jit = lambda c: [round(min(1, max(0, x * r.uniform(0.85, 1.15))), 4) for x in c]
    warm = r.uniform(0, 1)
    sc = {"sky": jit((0.6, 0.65, 0.7)), "wall": jit(wc), "wall_tex": wt,
          "wall_scale": round(r.uniform(22, 32) if wt == "brick" else r.uniform(2, 6), 2),
          "floor": jit(fc), "floor_tex": ft, "floor_scale": round(r.uniform(3, 8), 2),
          "wall_dist": round(r.uniform(1.8, 3.4), 2), "props": r.randint(0, 4), "mat": r.random() < 0.6,
          "mat_col": jit(r.choice([(0.15, 0.15, 0.17), (0.4, 0.1, 0.35), (0.1, 0.3, 0.4), (0.45, 0.45, 0.4)])),
          "sun_elev": round(r.uniform(25, 65), 1), "sun_azim": round(r.uniform(-150, 150), 1),
          "sun_soft": round(r.uniform(3, 20), 1),
          "sun_col": [1.0, round(0.93 + 0.05 * (1 - warm), 3), round(0.8 + 0.17 * (1 - warm), 3)], "dim": dim}
    if dim:
        sc.update(ambient=round(r.uniform(0.12, 0.35), 2), sun=round(r.uniform(0.4, 1.3), 2), fill=round(r.uniform(25, 110), 1),
                  exposure=round(r.uniform(-0.7, -0.1), 2))
    else:
        sc.update(ambient=round(r.uniform(0.45, 1.0), 2), sun=round(r.uniform(1.8, 4.5), 2), fill=round(r.uniform(100, 400), 1),
                  exposure=round(r.uniform(-0.3, 0.3), 2))
    sc["look"] = r.choice(["Medium Contrast", "Medium Contrast", "Medium Low Contrast", "Medium High Contrast"])
    return sc


# ------------------------------------------------------------------ configs + queue
def clip_config(clip, out_dir, rel_dir, variant, reps, seed, body, cam, fmt, sc, load, params, fps=30,
                rep_plan=None, phone=False, extra=None):
    w, h = FORMATS[fmt]
    cfg = {"clip": clip, "out_dir": out_dir, "rel_dir": rel_dir, "variant": variant, "reps": reps, "seed": seed,
           "fps": fps, "width": w, "height": h, "format": fmt, "params": params, "character": body, "camera": cam,
           "scene": sc, "object": load, "object_col": None, "samples": 1, "crf": 23, "curl_sign": 1,
           "phone_rotated": phone, "flags": {"load_far_m": 0.25, "load_far_depth": 0.5}}
    if rep_plan:
        cfg["rep_plan"] = rep_plan
    if extra:
        cfg.update(extra)
    if cfg["object_col"] is None:
        cfg.pop("object_col")
    return cfg


def render_one(cfg, log_dir=None):
    d = cfg["out_dir"]
    os.makedirs(os.path.join(d, "configs"), exist_ok=True)
    saved = dict(cfg, out_dir=cfg.get("rel_dir", d))
    json.dump(saved, open(os.path.join(d, "configs", cfg["clip"] + ".json"), "w"), indent=1)
    if os.path.exists(os.path.join(d, cfg["clip"] + ".mp4")) and not cfg.get("still_frames"):
        return cfg["clip"], "exists", 0.0
    p = os.path.join(d, "_cfg_" + cfg["clip"] + ".json")
    json.dump(cfg, open(p, "w"), indent=1)
    t = time.time()
    logp = os.path.join(log_dir or d, "_log_" + cfg["clip"] + ".txt")
    with open(logp, "w") as log:
        rc = subprocess.call(["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", "blender", "-b", "--python-exit-code", "1", "-P",
                              os.path.join(SYNTH, "render_hinge.py"), "--", p], stdout=log, stderr=subprocess.STDOUT)
    if rc == 0:
        os.remove(p)
        if not log_dir:
            os.remove(logp)
    else:   # keep the log; remove partial outputs so the manifest matches the files
        for ext in (".mp4", ".csv", ".meta.json"):
            q = os.path.join(d, cfg["clip"] + ext)
            if os.path.exists(q):
                os.remove(q)
    return cfg["clip"], "rc=%d" % rc, time.time() - t


def run_queue(cfgs, workers=2, stop_at=None, log=print):
    """stop_at: unix time after which no new render is started."""
    def job(c):
        if stop_at and time.time() > stop_at:
            return c["clip"], "skipped (time)", 0.0
        return render_one(c)
    with ThreadPoolExecutor(workers) as ex:
        for clip, st, dt in ex.map(job, cfgs):
            log("%s %s %s %.0fs" % (time.strftime("%H:%M:%S"), clip, st, dt))
