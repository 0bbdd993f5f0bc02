"""Render one hip-hinge clip with exact per-frame ground truth.

Run:  xvfb-run -a -s "-screen 0 1280x1024x24" blender -b -P render_hinge.py -- CLIP.json
CLIP.json keys: see make_sets.py (clip, out_dir, variant, character, camera,
scene, reps, seed, fps, width, height, object).
Writes OUT/CLIP.mp4, OUT/CLIP.csv and OUT/CLIP.meta.json (frames are kept in a
temp folder and removed unless keep_frames is set).

Session mode (variant "session", see make_sessions.py): CLIP.json has "rep_plan", a list of
reps, each {"variant", "params" (motion params of that rep), "t_desc", "t_bottom", "t_asc",
"pause"}; params "lead_in" (standing calibration, s), "tail" (final standing, s) and "sway".
The clip is lead-in standing, then the reps (each with its own variant, separated by their
standing pauses), then the tail.  Tilt faults are faded in on the descent and out on the
ascent, so standing is neutral between reps.  Extra CSV columns: rep (1-based, empty outside
reps) and rep_variant; meta.json gets reps_detail.
Phone mode ("phone_rotated": true): frames are rendered upright (e.g. 720x1280) and the mp4
stores them rotated to landscape (1280x720) with a display-matrix rotation tag (90 deg
clockwise, like a phone's portrait recording); 2D truth stays in upright display pixels.
"""
import sys, os, json, math, time, random, csv, shutil, subprocess
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpy
from mathutils import Vector, Matrix, Quaternion, Euler
from bpy_extras.object_utils import world_to_camera_view
import mh_character as mc
import phone_video

argv = sys.argv[sys.argv.index("--") + 1:]
CFG = json.load(open(argv[0]))
T0 = time.time()
rng = random.Random(CFG["seed"])
FPS = CFG.get("fps", 30)
W, H = CFG["width"], CFG["height"]

bpy.ops.wm.read_factory_settings(use_empty=True)
scene = bpy.context.scene
obj, arm, info = mc.build_character(CFG["character"])
bones = arm.data.bones
pbs = arm.pose.bones
REST = {b.name: b.matrix_local.to_3x3() for b in bones}
REST_INV = {k: v.inverted() for k, v in REST.items()}
PARENT = {b.name: (b.parent.name if b.parent else None) for b in bones}
ORDER = [b.name for b in bones]  # parents precede children in Blender's list? ensure:
def _depth(n):
    d = 0
    while PARENT[n]:
        n = PARENT[n]; d += 1
    return d
ORDER.sort(key=_depth)


def Rx(deg):
    return Matrix.Rotation(math.radians(deg), 3, "X")


# ----------------------------------------------------------------- landmarks
bco = info["bco"]; o2n = info["old2new"]; vg = info["vgroups"]
body_idx = [i for i in mc._ranges(vg["body"])]
mesh_co = {i: obj.data.vertices[o2n[i]].co.copy() for i in body_idx}
hb = bones["head"].head_local


def side_pts(sign):
    # ear: most lateral head vertices in the ear band
    band = [i for i in body_idx if hb.z + 0.015 < mesh_co[i].z < hb.z + 0.10 and abs(mesh_co[i].y - hb.y) < 0.06]
    band.sort(key=lambda i: -sign * mesh_co[i].x)
    ear = sum((mesh_co[i] for i in band[:12]), Vector()) / 12
    fb = bones["foot.L" if sign > 0 else "foot.R"].head_local
    foot = [i for i in body_idx if mesh_co[i].z < 0.07 and abs(mesh_co[i].x - fb.x) < 0.08]
    heel = max(foot, key=lambda i: mesh_co[i].y)
    toe = min(foot, key=lambda i: mesh_co[i].y)
    eye_ids = mc._ranges(vg["helper-l-eye" if sign > 0 else "helper-r-eye"])
    eye = sum((bco[i] for i in eye_ids), Vector()) / len(eye_ids)
    s = "L" if sign > 0 else "R"
    return {
        "ear_" + s: ("head", ear),
        "eye_" + s: ("head", eye),
        "shoulder_" + s: ("upperarm01." + s, bones["upperarm01." + s].head_local.copy()),
        "elbow_" + s: ("lowerarm01." + s, bones["lowerarm01." + s].head_local.copy()),
        "wrist_" + s: ("wrist." + s, bones["wrist." + s].head_local.copy()),
        "hip_" + s: ("upperleg01." + s, bones["upperleg01." + s].head_local.copy()),
        "knee_" + s: ("lowerleg01." + s, bones["lowerleg01." + s].head_local.copy()),
        "ankle_" + s: ("foot." + s, bones["foot." + s].head_local.copy()),
        "heel_" + s: ("foot." + s, mesh_co[heel].copy()),
        "toe_" + s: ("foot." + s, mesh_co[toe].copy()),
    }


nose_i = min((i for i in body_idx if hb.z < mesh_co[i].z < hb.z + 0.12), key=lambda i: mesh_co[i].y)
LM = {"nose": ("head", mesh_co[nose_i].copy())}
LM.update(side_pts(+1)); LM.update(side_pts(-1))
LM["neck_base"] = ("spine01", bones["neck01"].head_local.copy())
LM["pelvis_mid"] = ("root", bones["root"].tail_local.copy())
LM["L1_T12"] = ("spine04", bones["spine04"].head_local.copy())
LM_NAMES = ["nose", "eye_L", "eye_R", "ear_L", "ear_R", "shoulder_L", "shoulder_R", "elbow_L", "elbow_R",
            "wrist_L", "wrist_R", "hip_L", "hip_R", "knee_L", "knee_R", "ankle_L", "ankle_R",
            "heel_L", "heel_R", "toe_L", "toe_R", "neck_base", "pelvis_mid", "L1_T12"]

# ------------------------------------------------------------- motion model
V = CFG["variant"]
P = CFG.get("params", {})


def smooth(x):
    x = min(1.0, max(0.0, x))
    return 0.5 - 0.5 * math.cos(math.pi * x)


SESSION = CFG.get("rep_plan") if V == "session" else None
# standing-only clips (no reps); idle_anterior / idle_posterior hold a pelvic tilt habit
IDLE_VARIANTS = ("idle", "idle_anterior", "idle_posterior")
ROUNDED_VARIANTS = ("rounded_lumbar", "floor_rounded")
RIB_VARIANTS = ("ribs_flared", "ribs_closed")


def build_timeline():
    """Return list of (t_start, t_end, phase) segments and total duration.
    Also fills SEG_REP (segment index -> 0-based rep index or None)."""
    segs = []
    t = P.get("lead_in", 0.4)
    segs.append((0.0, t, "standing")); SEG_REP.append(None)
    if V == "wiggle":
        dur = P.get("duration", 6.0)
        SEG_REP[:] = [None]
        return [(0.0, dur, "moving")], dur
    if V in IDLE_VARIANTS:
        dur = P.get("duration", 4.5)
        SEG_REP[:] = [None]
        return [(0.0, dur, "standing")], dur
    if SESSION:
        for r, rp in enumerate(SESSION):
            d, b, a = rp["t_desc"], rp["t_bottom"], rp["t_asc"]
            s_ = rp["pause"] if r < len(SESSION) - 1 else P.get("tail", 1.5)
            segs += [(t, t + d, "descending"), (t + d, t + d + b, "bottom"), (t + d + b, t + d + b + a, "ascending")]
            SEG_REP.extend([r, r, r])
            t += d + b + a
            segs.append((t, t + s_, "standing")); SEG_REP.append(None); t += s_
        return segs, t
    for r in range(CFG["reps"]):
        jit = lambda a: a * (1 + rng.uniform(-0.08, 0.08))
        d, b, a, s = jit(P["t_desc"]), jit(P["t_bottom"]), jit(P["t_asc"]), jit(P["t_stand"])
        segs += [(t, t + d, "descending"), (t + d, t + d + b, "bottom"), (t + d + b, t + d + b + a, "ascending")]
        SEG_REP.extend([r, r, r])
        t += d + b + a
        segs.append((t, t + s, "standing")); SEG_REP.append(None); t += s
    return segs, t


SEG_REP = []
SEGS, DUR = build_timeline()
NF = int(round(DUR * FPS))


def wiggle_path(name, t, lo, hi):
    """A smooth random course of channel `name` over time within lo..hi (wiggle clips): three sinusoids of
    0.06-0.4 Hz with phases and weights from the clip's params, squashed into the range."""
    comp = P["paths"][name]
    x = sum(a * math.sin(2 * math.pi * f * t + ph) for a, f, ph in comp) / max(1e-6, sum(abs(a) for a, _, _ in comp))
    return lo + (hi - lo) * (0.5 + 0.5 * x)


def depth_at(t):
    """(depth 0..1, phase, segment index)."""
    if V == "wiggle":
        # hinge depth wanders between standing and the bottom, resting at both ends now and then
        h = min(1.0, max(0.0, wiggle_path("h", t, -0.25, 1.2)))
        return h, ("standing" if h < 0.02 else "moving"), 0
    for k, (a, b, ph) in enumerate(SEGS):
        if a <= t < b or (k == len(SEGS) - 1 and t >= b):
            if ph == "standing":
                return 0.0, ph, k
            if ph == "bottom":
                return 1.0, ph, k
            x = (t - a) / (b - a)
            return ((smooth(x), ph) if ph == "descending" else (1 - smooth(x), ph)) + (k,)
    return 0.0, "standing", len(SEGS) - 1


def posture(h, t, V=V, RP=None):
    """Sagittal world pitch angles (deg, + = segment top rotates toward facing
    direction) for each segment, plus truth bookkeeping.  V/RP: variant and motion
    params of the current rep (session clips); default: the clip's."""
    RP = P if RP is None else RP
    # session clips: tilt faults are introduced during the descent and released on the ascent
    g = smooth(h / P.get("tilt_ramp", 0.5)) if SESSION else 1.0
    T = RP.get("trunk", 65.0)           # trunk (thorax) target at bottom, deg from neutral
    sway = P.get("sway", 0.6) * math.sin(2 * math.pi * t / 3.7 + 1.3)
    if P.get("sway2"):   # slower second component (session clips: natural standing sway)
        sway += P["sway2"] * math.sin(2 * math.pi * t / 7.9 + 0.4)
    thigh = -RP.get("thigh", 12.0) * h
    shank = RP.get("shank", 9.0) * h
    L = 0.0; thor = 0.0; tilt = 0.0; flare = 0.0
    if V in ("good", "load_far"):
        L = RP.get("lumbar_noise", 0.0) * h
    elif V == "rounded_lumbar":
        L = RP["lumbar_max"] * (h ** 1.4)
        thor = RP.get("thoracic_max", 8.0) * h
        tilt = -(L + thor) * RP.get("pelvis_lag", 0.85)   # pelvis stops rotating: posterior relative to neutral
    elif V == "anterior_tilt":
        tilt = (RP["tilt"] + RP.get("tilt_extra", 4.0) * h) * g
        flare = (RP.get("flare", 7.0) + 2.0 * h) * g
        L = -(tilt + flare)                                 # lumbar extension (arched), ribs flared
    elif V == "posterior_tilt":
        tilt = -(RP["tilt"] + RP.get("tilt_extra", 3.0) * h) * g
        L = -tilt + RP.get("lumbar_extra", 5.0) * h         # flattened lumbar
    elif V == "squat":
        pass
    elif V == "idle":
        h = 0.0
    # ---- variants added for the leave-bodies-out training set (tools/synth/README.md)
    elif V == "floor_good":            # hinge from the floor: knees bent far, hips back, spine neutral
        L = RP.get("lumbar_noise", 0.0) * h
    elif V == "floor_rounded":         # the same lift with the lower back rounding at depth
        L = RP["lumbar_max"] * (h ** 1.4)
        thor = RP.get("thoracic_max", 8.0) * h
        tilt = -(L + thor) * RP.get("pelvis_lag", 0.85)
    elif V in ("idle_anterior", "idle_posterior"):   # standing with a tilt habit, no reps
        h = 0.0
        if V == "idle_anterior":
            tilt = RP["tilt"]
            flare = RP.get("flare", 7.0)
            L = -(tilt + flare)
        else:
            tilt = -RP["tilt"]
            L = -tilt
    elif V in RIB_VARIANTS:           # rib cage off the pelvis through the thoracic spine; lumbar and pelvis neutral
        L = RP.get("lumbar_noise", 0.0) * h
        thor = RP["thoracic0"] + RP["thoracic_max"] * h
        flare = RP.get("flare_max", 0.0) * h
    elif V == "wiggle":                # every spine and pelvis channel on its own smooth course (training bank)
        tilt = wiggle_path("tilt", t, *RP["tilt_range"])
        thor = wiggle_path("thor", t, *RP["thor_range"])
        flare = wiggle_path("flare", t, 0.0, RP["flare_max"])
        eps = wiggle_path("eps", t, -RP["lumbar_noise"], RP["lumbar_noise"])
        if RP["lumbar_free"]:          # lumbar spine independent of the pelvis
            L = wiggle_path("lumbar", t, *RP["lumbar_range"])
        else:                          # the chest kept near its hinge path: the lumbar spine takes up the pelvis
            L = -RP["lumbar_per_tilt"] * tilt - 0.85 * thor - RP["lumbar_per_flare"] * flare + eps
    elif V == "spine_mix":             # pelvis, lumbar and thoracic spine each on their own course (metrics only)
        tilt = RP["tilt0"] + RP["tilt1"] * h
        L = RP["lumbar0"] + RP["lumbar1"] * (h ** 1.4)
        thor = RP["thoracic0"] + RP["thoracic1"] * h
        flare = RP.get("flare1", 0.0) * h
    # pelvis world pitch: neutral hinge component + fault tilt
    neutral_pelvis = T * h
    pelvis = neutral_pelvis + tilt + 0.5 * sway
    ribs = pelvis + L                                    # thorax base after the lumbar segments
    thorax = ribs + thor
    head_rel = -RP.get("head_up", 12.0) * h               # mild cervical extension to look ahead
    return dict(pelvis=pelvis, neutral_pelvis=neutral_pelvis, tilt=tilt, lumbar=L, thoracic=thor,
                flare=flare, thigh=thigh + 0.3 * sway, shank=shank, head_rel=head_rel)


# arms: rest directions
def bone_dir(n):
    b = bones[n]
    return (b.tail_local - b.head_local).normalized()


def rot_between(a, b):
    return a.rotation_difference(b).to_matrix()


ARM_OUT = P.get("arm_out", 0.10)


def set_pose(ps, h, arm_w=None):
    Wd = {}
    Wd["root"] = Rx(ps["pelvis"])
    Wd["pelvis.L"] = Wd["pelvis.R"] = Wd["root"]
    a = ps["lumbar"]
    Wd["spine05"] = Rx(ps["pelvis"] + 0.55 * a)
    Wd["spine04"] = Rx(ps["pelvis"] + a)
    Wd["spine03"] = Rx(ps["pelvis"] + a + 0.45 * ps["thoracic"])
    Wd["spine02"] = Rx(ps["pelvis"] + a + 0.85 * ps["thoracic"] - 0.4 * ps["flare"])
    Wd["spine01"] = Rx(ps["pelvis"] + a + ps["thoracic"] - 0.7 * ps["flare"])
    th = ps["pelvis"] + a + ps["thoracic"] - 0.7 * ps["flare"] + 1.6 * ps["flare"]  # neck re-levels the gaze
    Wd["neck01"] = Rx(th + 0.3 * ps["head_rel"])
    Wd["neck02"] = Rx(th + 0.6 * ps["head_rel"])
    Wd["neck03"] = Rx(th + 0.8 * ps["head_rel"])
    Wd["head"] = Rx(th + ps["head_rel"])
    for s, sg in (("L", 1), ("R", -1)):
        Wd["upperleg01." + s] = Wd["upperleg02." + s] = Rx(ps["thigh"])
        Wd["lowerleg01." + s] = Wd["lowerleg02." + s] = Rx(ps["shank"])
        Wd["foot." + s] = Matrix.Identity(3)
        # arms hang (gravity) slightly forward and out; elbows slightly bent
        up_t = Vector((sg * ARM_OUT, -0.03 - 0.08 * h, -1)).normalized()
        Wd["upperarm01." + s] = Wd["upperarm02." + s] = rot_between(bone_dir("upperarm01." + s), up_t)
        lo_t = Vector((sg * ARM_OUT * 0.5, -0.12 - 0.05 * h, -1)).normalized()
        Rl = rot_between(bone_dir("lowerarm01." + s), lo_t)
        Wd["lowerarm01." + s] = Wd["lowerarm02." + s] = Rl
        Wd["wrist." + s] = Rl
    if arm_w:
        Wd.update(arm_w)
    # propagate to every bone
    Wfull = {}
    for n in ORDER:
        p = PARENT[n]
        Wfull[n] = Wd.get(n, Wfull[p] if p else Matrix.Identity(3))
    for n in ORDER:
        p = PARENT[n]
        Wp = Wfull[p] if p else Matrix.Identity(3)
        Lm = REST_INV[n] @ Wp.inverted() @ Wfull[n] @ REST[n]
        q = Lm.to_quaternion()
        pb = pbs[n]
        pb.rotation_quaternion = q
    # finger curl (about each finger bone's local X); sign chosen by test render
    curl = P.get("finger_curl", 35.0)
    for n in ORDER:
        if n.startswith("finger") and not n.startswith("finger1"):
            seg = int(n.split("-")[1][0])
            ang = math.radians(curl * (1.0 if seg == 1 else 1.2))
            pbs[n].rotation_quaternion = pbs[n].rotation_quaternion @ Quaternion((1, 0, 0), ang * CFG.get("curl_sign", 1))
    return Wfull


# ---------------------------------------------------------------- scene
def look_at(ob, pos, tgt):
    ob.location = pos
    ob.rotation_euler = (Vector(tgt) - Vector(pos)).to_track_quat("-Z", "Y").to_euler()


def build_scene():
    sc = CFG["scene"]
    world = bpy.data.worlds.new("world"); scene.world = world; world.use_nodes = True
    bg = world.node_tree.nodes["Background"]
    bg.inputs[0].default_value = (*sc["sky"], 1); bg.inputs[1].default_value = sc.get("ambient", 0.7)
    # floor
    bpy.ops.mesh.primitive_plane_add(size=30, location=(0, 0, 0)); floor = bpy.context.object
    floor.data.materials.append(tex_mat("floor", sc["floor"], sc.get("floor_tex", "noise"), sc.get("floor_scale", 6.0)))
    # back wall(s): placed behind the subject as seen from the camera
    cam_dir = Vector(CFG["camera"]["dir"]).normalized()
    wall_d = sc.get("wall_dist", 2.6)
    wl = -cam_dir * wall_d
    bpy.ops.mesh.primitive_plane_add(size=30, location=(wl.x, wl.y, 0))
    wall = bpy.context.object
    wall.rotation_euler = (math.pi / 2, 0, math.atan2(cam_dir.y, cam_dir.x) + math.pi / 2)
    wall.data.materials.append(tex_mat("wall", sc["wall"], sc.get("wall_tex", "noise"), sc.get("wall_scale", 3.0)))
    # props: a few boxes/benches for clutter
    for k in range(sc.get("props", 2)):
        side = rng.choice([-1, 1])
        perp = Vector((-cam_dir.y, cam_dir.x, 0))
        c = wl * rng.uniform(0.55, 0.85) + perp * side * rng.uniform(1.0, 2.2)
        sx, sy, sz = rng.uniform(0.2, 0.6), rng.uniform(0.2, 0.5), rng.uniform(0.2, 0.9)
        bpy.ops.mesh.primitive_cube_add(size=1, location=(c.x, c.y, sz / 2))
        bx = bpy.context.object; bx.scale = (sx, sy, sz); bx.rotation_euler.z = rng.uniform(0, 3.14)
        bx.data.materials.append(plain_mat("prop%d" % k, [rng.uniform(0.1, 0.7) for _ in range(3)], 0.6))
    if sc.get("mat", True):
        bpy.ops.mesh.primitive_plane_add(size=1, location=(0, -0.1, 0.004))
        m = bpy.context.object; m.scale = (0.75, 1.05, 1)
        m.data.materials.append(plain_mat("mat", sc.get("mat_col", (0.15, 0.15, 0.17)), 0.9))
    # lights
    sun = bpy.data.objects.new("key", bpy.data.lights.new("key", "SUN")); scene.collection.objects.link(sun)
    sun.data.energy = sc.get("sun", 3.0); sun.data.angle = math.radians(sc.get("sun_soft", 8))
    sun.rotation_euler = Euler((math.radians(sc.get("sun_elev", 40)), 0, math.radians(sc.get("sun_azim", 30))))
    sun.data.color = sc.get("sun_col", (1, 0.97, 0.92))
    if CFG.get("shadow_cascades"):
        sun.data.shadow_cascade_count = CFG["shadow_cascades"]
        sun.data.shadow_cascade_max_distance = CFG.get("shadow_max_dist", 12.0)
    area = bpy.data.objects.new("fill", bpy.data.lights.new("fill", "AREA")); scene.collection.objects.link(area)
    area.data.energy = sc.get("fill", 250); area.data.size = 2.5
    area.data.use_shadow = False
    fp = cam_dir * 3 + Vector((0, 0, 2.2)) + Vector((-cam_dir.y, cam_dir.x, 0)) * rng.uniform(-1.5, 1.5)
    look_at(area, fp, (0, 0, 1.0))


def plain_mat(name, rgb, rough):
    m = bpy.data.materials.new(name); m.use_nodes = True
    b = m.node_tree.nodes["Principled BSDF"]
    b.inputs["Base Color"].default_value = (*rgb, 1); b.inputs["Roughness"].default_value = rough
    return m


def tex_mat(name, rgb, kind, scale):
    m = plain_mat(name, rgb, 0.8)
    nt = m.node_tree; b = nt.nodes["Principled BSDF"]
    ramp = nt.nodes.new("ShaderNodeValToRGB")
    c1 = [max(0, x * 0.75) for x in rgb]; c2 = [min(1, x * 1.15) for x in rgb]
    ramp.color_ramp.elements[0].color = (*c1, 1); ramp.color_ramp.elements[1].color = (*c2, 1)
    if kind == "checker":
        tx = nt.nodes.new("ShaderNodeTexChecker"); tx.inputs["Scale"].default_value = scale
        tx.inputs["Color1"].default_value = (*c1, 1); tx.inputs["Color2"].default_value = (*c2, 1)
        nt.links.new(tx.outputs["Color"], b.inputs["Base Color"]); return m
    if kind == "wood":
        tx = nt.nodes.new("ShaderNodeTexWave"); tx.inputs["Scale"].default_value = scale
        tx.inputs["Distortion"].default_value = 6.0
    elif kind == "brick":
        tx = nt.nodes.new("ShaderNodeTexBrick"); tx.inputs["Scale"].default_value = scale
        tx.inputs["Color1"].default_value = (*c1, 1); tx.inputs["Color2"].default_value = (*c2, 1)
        tx.inputs["Mortar"].default_value = (0.8, 0.8, 0.78, 1)
        nt.links.new(tx.outputs["Color"], b.inputs["Base Color"]); return m
    else:
        tx = nt.nodes.new("ShaderNodeTexNoise"); tx.inputs["Scale"].default_value = scale
        tx.inputs["Detail"].default_value = 4.0
    nt.links.new(tx.outputs["Fac"], ramp.inputs["Fac"])
    nt.links.new(ramp.outputs["Color"], b.inputs["Base Color"])
    return m


def add_dumbbells():
    out = []
    for s in ("L", "R"):
        mat = plain_mat("db", CFG.get("object_col", (0.05, 0.05, 0.06)), 0.35)
        parts = []
        bpy.ops.mesh.primitive_cylinder_add(vertices=16, radius=0.016, depth=0.15, location=(0, 0, 0))
        parts.append(bpy.context.object)
        for z in (-0.1, 0.1):
            bpy.ops.mesh.primitive_cylinder_add(vertices=6, radius=0.06, depth=0.06, location=(0, 0, z))
            parts.append(bpy.context.object)
        for p in parts:
            p.data.materials.append(mat)
            p.select_set(True)
        bpy.context.view_layer.objects.active = parts[0]
        bpy.ops.object.join()
        db = bpy.context.object; db.name = "dumbbell_" + s
        out.append((s, db))
    return out


# ---------------------------------------------------------------- camera
cam = bpy.data.objects.new("cam", bpy.data.cameras.new("cam")); scene.collection.objects.link(cam)
scene.camera = cam
C = CFG["camera"]
BODY_H = max(v.co.z for v in obj.data.vertices)
CAM_RES = dict(C)
if C.get("auto_frame"):   # synth configs: lens/target scaled with the body's stature (reference 1.70 m)
    _sc = BODY_H / 1.70
    CAM_RES["lens"] = round(C["lens"] / _sc, 3)
    CAM_RES["target_z"] = round(C["target_z"] * _sc, 3)
    CAM_RES["height"] = round(C["height"], 3)
cam.data.lens = CAM_RES["lens"]; cam.data.sensor_width = 36; cam.data.sensor_fit = "AUTO"
cdir = Vector(C["dir"]).normalized()
cam_pos = Vector((0, C.get("target_y", 0.15), 0)) + cdir * C["dist"] + Vector((0, 0, CAM_RES["height"]))
look_at(cam, cam_pos, (0, C.get("target_y", 0.15), CAM_RES["target_z"]))
if C.get("roll_deg"):
    cam.rotation_euler = (cam.rotation_euler.to_quaternion() @ Quaternion((0, 0, 1), math.radians(C["roll_deg"]))).to_euler()
build_scene()

scene.render.resolution_x = W; scene.render.resolution_y = H; scene.render.resolution_percentage = 100
scene.render.fps = FPS
scene.render.engine = "BLENDER_EEVEE"
ee = scene.eevee
ee.taa_render_samples = CFG.get("samples", 4)
ee.use_soft_shadows = CFG.get("soft_shadows", False)
ee.shadow_cascade_size = CFG.get("shadow_cascade_size", "1024"); ee.shadow_cube_size = "512"
ee.use_gtao = CFG.get("gtao", False); ee.gtao_distance = 0.3
scene.view_settings.view_transform = "Filmic"
scene.view_settings.look = CFG["scene"].get("look", "Medium Contrast")
scene.view_settings.exposure = CFG["scene"].get("exposure", 0.0)

# ---------------------------------------------------------------- animate + GT
obj_ref = Vector((0, 0, 0))
ankle_rest = (bones["foot.L"].head_local + bones["foot.R"].head_local) / 2
dbs = add_dumbbells() if CFG.get("object") == "dumbbells" else []

# ============================================================ synth extensions (shared/synth)
# Everything below is inactive for old configs (params.arm_mode absent -> "hang", object none/dumbbells),
# except the extra truth columns that are appended after the old ones.
ARM_MODE = P.get("arm_mode", "hang")
LOAD = CFG.get("object")
SIDES = (("L", 1), ("R", -1))
SH_REST = {s: bones["upperarm01." + s].head_local.copy() for s, _ in SIDES}
EL_REST = {s: bones["lowerarm01." + s].head_local.copy() for s, _ in SIDES}
GR_REST = {s: (bones["finger2-1." + s].head_local + bones["finger5-1." + s].head_local) / 2 for s, _ in SIDES}
L_UP = {s: (EL_REST[s] - SH_REST[s]).length for s, _ in SIDES}
L_LO = {s: (GR_REST[s] - EL_REST[s]).length for s, _ in SIDES}

# rest-body measures (armature space = world at rest; subject faces -Y)
_ARMB = ("upperarm", "lowerarm", "wrist", "finger", "metacarpal", "shoulder", "clavicle")
_vgn = {g.index: g.name for g in obj.vertex_groups}
_trunk_leg = []
for v in obj.data.vertices:
    if v.groups:
        gmax = max(v.groups, key=lambda g: g.weight)
        if not _vgn[gmax.group].startswith(_ARMB):
            _trunk_leg.append(v.co)
_hipz = bones["upperleg01.L"].head_local.z
_kneez = bones["lowerleg01.L"].head_local.z
_ank_y = ankle_rest.y
HIP_HW = max(abs(c.x) for c in _trunk_leg if _hipz - 0.15 < c.z < _hipz + 0.10)
THIGH_FRONT = _ank_y - min(c.y for c in _trunk_leg if _kneez + 0.15 < c.z < _hipz - 0.05)
BELLY_FRONT = _ank_y - min(c.y for c in _trunk_leg if _hipz - 0.05 < c.z < _hipz + 0.30 and abs(c.x) < 0.15)
SH_FWD0 = _ank_y - (SH_REST["L"].y + SH_REST["R"].y) / 2
BODY_MEAS = {"height_m": round(BODY_H, 4), "hip_half_width_m": round(HIP_HW, 4), "thigh_front_fwd_m": round(THIGH_FRONT, 4),
             "belly_front_fwd_m": round(BELLY_FRONT, 4), "shoulder_fwd_m": round(SH_FWD0, 4),
             "arm_len_m": round(L_UP["L"] + L_LO["L"], 4)}

# hand placement rule (arm_mode "target"): grip point (knuckle midpoint) of each hand at lateral +-HX,
# hand_fwd(h) metres in front of the ankle midpoint, at a shoulder-to-grip distance of reach(h) * arm length;
# 2-bone IK with the elbow bending backward/outward.
if LOAD == "kettlebell":
    HX = P.get("hand_x", 0.045)
    F0 = P.get("hand_fwd_stand", max(SH_FWD0 + 0.05, BELLY_FRONT + 0.06, THIGH_FRONT + 0.11))
    R0, RD = P.get("reach_stand", 0.985), P.get("reach_depth", 0.985)
elif LOAD == "box":
    BOX = P.get("box_dims", [0.40, 0.25, 0.30])
    HX = P.get("hand_x", BOX[0] / 2 + 0.015)
    F0 = P.get("hand_fwd_stand", max(0.22, BELLY_FRONT + BOX[1] / 2 + 0.03, THIGH_FRONT + BOX[1] / 2 + 0.03))
    R0, RD = P.get("reach_stand", 0.80), P.get("reach_depth", 0.90)
else:
    HX = P.get("hand_x", max(abs(SH_REST["L"].x) + (0.05 if LOAD == "dumbbells" else 0.03),
                             HIP_HW + (0.075 if LOAD == "dumbbells" else 0.035)))
    F0 = P.get("hand_fwd_stand", SH_FWD0 + 0.03)
    R0, RD = P.get("reach_stand", 0.985), P.get("reach_depth", 0.985)
FD = P.get("hand_fwd_depth", 0.10)


def arm_targets(h, ank, V_=None, RP=None):
    RP = P if RP is None else RP
    fd = RP.get("hand_fwd_depth", FD)
    if P.get("hand_path") == "early":   # reach the bottom placement by half depth (box: keeps load_far 0 in normal reps)
        f = fd + (F0 - fd) * (1 - smooth(min(1.0, h / 0.5)))
    else:
        f = F0 + (fd - F0) * h
    if V == "wiggle":                   # the hands wander forward and back as well
        f += wiggle_path("hand", T_NOW[0], -0.06, 0.12) * h
    reach = R0 + (RP.get("reach_depth", RD) - R0) * h
    out = {}
    for s, sg in SIDES:
        S = pbs["upperarm01." + s].head.copy()
        Ltot = (L_UP[s] + L_LO[s]) * reach
        d = Vector((sg * HX - S.x, (ank.y - f) - S.y, 0.0))
        if d.length > 0.97 * Ltot:
            d = d * (0.97 * Ltot / d.length)
        d.z = -math.sqrt(max(1e-6, Ltot ** 2 - d.x ** 2 - d.y ** 2))
        T = S + d
        a, b, dd = L_UP[s], L_LO[s], d.length
        ca = max(-1.0, min(1.0, (a * a + dd * dd - b * b) / (2 * a * dd)))
        n = d.normalized()
        pole = Vector((sg * 0.35, 1.0, 0.0))
        perp = (pole - n * pole.dot(n)).normalized()
        E = S + n * a * ca + perp * a * math.sqrt(1 - ca * ca)
        Wu = rot_between((EL_REST[s] - SH_REST[s]).normalized(), (E - S).normalized())
        Wl = rot_between((GR_REST[s] - EL_REST[s]).normalized(), (T - E).normalized())
        for bn in ("upperarm01.", "upperarm02."):
            out[bn + s] = Wu
        for bn in ("lowerarm01.", "lowerarm02.", "wrist."):
            out[bn + s] = Wl
    return out


def add_kettlebell():
    mat = plain_mat("kb", CFG.get("object_col", (0.04, 0.04, 0.045)), 0.45)
    parts = []
    bpy.ops.mesh.primitive_uv_sphere_add(segments=20, ring_count=12, radius=0.09, location=(0, 0, -0.19))
    bell = bpy.context.object; bell.scale = (1, 1, 0.92); parts.append(bell)
    bpy.ops.mesh.primitive_torus_add(major_radius=0.065, minor_radius=0.012, major_segments=20, minor_segments=8,
                                     location=(0, 0, -0.07), rotation=(math.pi / 2, 0, 0))
    parts.append(bpy.context.object)
    for q in parts:
        q.data.materials.append(mat); q.select_set(True)
    bpy.context.view_layer.objects.active = parts[0]
    bpy.ops.object.join()
    o = bpy.context.object; o.name = "kettlebell"
    o.data.transform(o.matrix_basis); o.matrix_basis = Matrix.Identity(4)   # origin = grip point
    return o


def add_box():
    bx, by, bz = P.get("box_dims", [0.40, 0.25, 0.30])
    bpy.ops.mesh.primitive_cube_add(size=1, location=(0, 0, 0))
    o = bpy.context.object; o.scale = (bx, by, bz); o.name = "box"
    o.data.transform(o.matrix_basis); o.matrix_basis = Matrix.Identity(4)
    o.data.materials.append(tex_mat("boxmat", CFG.get("object_col", (0.55, 0.42, 0.28)), "noise", 12.0))
    return o


LOAD_OBJ = add_kettlebell() if LOAD == "kettlebell" else (add_box() if LOAD == "box" else None)
# object origin relative to the grip midpoint (knuckles sit ~3-4 cm above the palm's grip line)
LOAD_OFFSET = Vector({"kettlebell": (0, 0, -0.035), "box": (0, 0, -0.045)}.get(LOAD, (0, 0, 0)))


def grip_world(s):
    return arm.matrix_world @ ((pbs["finger2-1." + s].head + pbs["finger5-1." + s].head) / 2)


def rig_point(bn, p):
    pb = pbs[bn]
    return arm.matrix_world @ (pb.matrix @ bones[bn].matrix_local.inverted() @ p)


SPINE_CHAIN = [b for b in ("spine05", "spine04", "spine03", "spine02", "spine01", "neck01", "neck02", "neck03", "head") if b in bones]
# dorsal skin points: per spine-chain level, the midline (|x|<2 mm) body vertex behind the joint whose rest height
# is closest to the joint's rest height (ties: most posterior)
_mid = [i for i in body_idx if abs(mesh_co[i].x) < 0.002]
DORSAL_IDS = {}
for b in SPINE_CHAIN:
    jp = bones[b].head_local
    cand = [i for i in _mid if mesh_co[i].y > jp.y + 0.02]
    DORSAL_IDS[b] = min(cand, key=lambda i: (round(abs(mesh_co[i].z - jp.z), 3), -mesh_co[i].y))
# pelvis bony landmarks as fixed base-mesh vertex ids (chosen on base.obj: nearest skin vertex to
# ASIS ~ hip joint centre + (1.5 cm lateral, 7 cm anterior, 7.5 cm up); PSIS ~ (4.2 cm from midline, posterior skin,
# hip joint centre + 11 cm up)); left = +X
PELVIS_IDS = {"ASIS_L": 10947, "ASIS_R": 4318, "PSIS_L": 11008, "PSIS_R": 4390}
NEW_PTS = (["grip_L", "grip_R", "hands_mid"] + ["j_" + b for b in SPINE_CHAIN] + ["skin_" + b for b in SPINE_CHAIN]
           + list(PELVIS_IDS) + ["bony_" + k for k in PELVIS_IDS])
_NV = len(obj.data.vertices)


def skin_points():
    dg = bpy.context.evaluated_depsgraph_get()
    oe = obj.evaluated_get(dg)
    me_ = oe.to_mesh()
    assert len(me_.vertices) == _NV, "evaluated mesh topology differs (subsurf in viewport?)"
    mw = obj.matrix_world
    out = {}
    for b in SPINE_CHAIN:
        out["skin_" + b] = mw @ me_.vertices[o2n[DORSAL_IDS[b]]].co
    for k, i in PELVIS_IDS.items():
        out[k] = mw @ me_.vertices[o2n[i]].co
    oe.to_mesh_clear()
    return out

rows = []
frames_dir = os.path.join(CFG["out_dir"], "_frames_" + CFG["clip"])
os.makedirs(frames_dir, exist_ok=True)


def lm_world(name):
    bn, p = LM[name]
    pb = pbs[bn]
    return arm.matrix_world @ (pb.matrix @ bones[bn].matrix_local.inverted() @ p)


def sag_pitch(v):
    """Pitch of a 3D vector from world vertical in the sagittal (Y-Z) plane,
    + when the top of the vector points toward the subject's front (-Y)."""
    return math.degrees(math.atan2(-v.y, v.z))


def ang3(a, b, c):
    u = a - b; w = c - b
    return math.degrees(u.angle(w))


def ang2(a, b, c):
    u = (a[0] - b[0], a[1] - b[1]); w = (c[0] - b[0], c[1] - b[1])
    nu = math.hypot(*u); nw = math.hypot(*w)
    if nu < 1e-9 or nw < 1e-9:
        return float("nan")
    cs = max(-1, min(1, (u[0] * w[0] + u[1] * w[1]) / (nu * nw)))
    return math.degrees(math.acos(cs))


flags_cfg = CFG.get("flags", {})
T_NOW = [0.0]                           # the frame's time, for the wiggle clips' arm courses
for f in range(NF):
    t = f / FPS
    T_NOW[0] = t
    h, phase, seg_k = depth_at(t)
    rep_i = SEG_REP[seg_k]
    if SESSION and rep_i is not None:
        RV = SESSION[rep_i]["variant"]
        ps = posture(h, t, RV, SESSION[rep_i]["params"])
    else:
        RV = None if SESSION else V
        ps = posture(h, t)
    set_pose(ps, h)
    arm.location = (0, 0, 0)
    bpy.context.view_layer.update()
    ank = (pbs["foot.L"].head + pbs["foot.R"].head) / 2
    if ARM_MODE == "target":
        _rp = SESSION[rep_i]["params"] if (SESSION and rep_i is not None) else None
        set_pose(ps, h, arm_targets(h, ank, RP=_rp))
        bpy.context.view_layer.update()
    arm.location = ankle_rest - ank
    bpy.context.view_layer.update()
    if LOAD_OBJ is not None:
        LOAD_OBJ.location = (grip_world("L") + grip_world("R")) / 2 + LOAD_OFFSET
        LOAD_OBJ.keyframe_insert("location", frame=f + 1)
    if f == 0 and dbs:
        for s, db in dbs:
            # grip: between the knuckles of fingers 2 and 5, moved toward the palm
            k2 = arm.matrix_world @ pbs["finger2-1." + s].head
            k5 = arm.matrix_world @ pbs["finger5-1." + s].head
            wr = arm.matrix_world @ pbs["wrist." + s].head
            mid = (k2 + k5) / 2
            axis = (k2 - k5).normalized()
            centre = mid + (mid - wr).normalized() * 0.01 + Vector((0, 0, -0.005))
            db.matrix_world = Matrix.Translation(centre) @ Vector((0, 0, 1)).rotation_difference(axis).to_matrix().to_4x4()
            mw = db.matrix_world.copy()
            db.parent = arm; db.parent_type = "BONE"; db.parent_bone = "wrist." + s
            bpy.context.view_layer.update()
            db.matrix_world = mw
    for n in ORDER:
        pbs[n].keyframe_insert("rotation_quaternion", frame=f + 1)
    arm.keyframe_insert("location", frame=f + 1)
    # ---- ground truth
    P3 = {n: lm_world(n) for n in LM_NAMES}
    mid = lambda a, b: (P3[a] + P3[b]) / 2
    sh_m, hip_m, kn_m, an_m = mid("shoulder_L", "shoulder_R"), mid("hip_L", "hip_R"), mid("knee_L", "knee_R"), mid("ankle_L", "ankle_R")
    row = {"frame": f, "time_s": round(t, 4), "phase": phase, "hinge_depth": round(h, 4)}
    row["trunk_incl_deg"] = sag_pitch(sh_m - hip_m)
    row["trunk_incl_3d_deg"] = math.degrees((sh_m - hip_m).angle(Vector((0, 0, 1))))
    row["thorax_pitch_deg"] = ps["pelvis"] + ps["lumbar"] + 0.85 * ps["thoracic"] - 0.4 * ps["flare"]
    row["pelvis_pitch_deg"] = ps["pelvis"]
    row["pelvic_tilt_deg"] = ps["tilt"]
    row["lumbar_flexion_deg"] = ps["lumbar"]
    row["thoracic_flexion_deg"] = (ps["thoracic"] - 0.7 * ps["flare"])
    row["ribcage_pelvis_deg"] = row["thorax_pitch_deg"] - ps["pelvis"]
    row["hip_flexion_deg"] = ps["pelvis"] - ps["thigh"]
    row["knee_flexion_deg"] = ps["shank"] - ps["thigh"]
    row["thigh_incl_deg"] = -ps["thigh"]
    row["shank_incl_deg"] = ps["shank"]
    for s in ("L", "R"):
        row["trunk_thigh_angle3d_" + s] = ang3(P3["shoulder_" + s], P3["hip_" + s], P3["knee_" + s])
        row["knee_angle3d_" + s] = ang3(P3["hip_" + s], P3["knee_" + s], P3["ankle_" + s])
    # 2D projection
    P2 = {}
    for n in LM_NAMES:
        x, y, z = world_to_camera_view(scene, cam, P3[n])
        P2[n] = (x * W, (1 - y) * H, z)
    for n in LM_NAMES:
        row[n + "_u"] = P2[n][0]; row[n + "_v"] = P2[n][1]; row[n + "_depth"] = P2[n][2]
    for n in LM_NAMES:
        p = P3[n]
        row[n + "_X"] = p.x; row[n + "_Y"] = p.y; row[n + "_Z"] = p.z
    near = "L" if P2["hip_L"][2] < P2["hip_R"][2] else "R"
    row["near_side"] = near
    face = 1.0 if (P2["toe_" + near][0] - P2["heel_" + near][0]) > 0 else -1.0
    row["facing_image"] = "right" if face > 0 else "left"

    def two_d(sfx, sh, hp, kn, an):
        row["trunk2d_deg_" + sfx] = math.degrees(math.atan2(face * (sh[0] - hp[0]), hp[1] - sh[1]))
        row["hip2d_deg_" + sfx] = ang2(sh, hp, kn)
        row["knee2d_deg_" + sfx] = ang2(hp, kn, an)
    for s in ("L", "R"):
        two_d(s, P2["shoulder_" + s], P2["hip_" + s], P2["knee_" + s], P2["ankle_" + s])
    avg = lambda a, b: ((P2[a][0] + P2[b][0]) / 2, (P2[a][1] + P2[b][1]) / 2)
    two_d("mid", avg("shoulder_L", "shoulder_R"), avg("hip_L", "hip_R"), avg("knee_L", "knee_R"), avg("ankle_L", "ankle_R"))
    # labels (intended faults)
    # (session clips: RV is the variant of the current rep, None between reps)
    row["rounded_lumbar"] = int(RV in ROUNDED_VARIANTS and ps["lumbar"] >= flags_cfg.get("lumbar_thr", 10.0))
    row["anterior_tilt"] = int(RV in ("anterior_tilt", "idle_anterior") and ps["tilt"] >= flags_cfg.get("tilt_thr", 8.0))
    row["posterior_tilt"] = int(RV in ("posterior_tilt", "idle_posterior") and ps["tilt"] <= -flags_cfg.get("tilt_thr", 8.0))
    row["squat_pattern"] = int(RV == "squat" and phase != "standing" and ps["shank"] - ps["thigh"] >= flags_cfg.get("knee_thr", 45.0))
    # rep bookkeeping (new columns, appended last so existing column positions are unchanged)
    row["rep"] = rep_i + 1 if rep_i is not None else ""
    row["rep_variant"] = (RV if SESSION else V) if rep_i is not None else ""
    # ---- synth truth (appended after all older columns)
    Q3 = {"grip_L": grip_world("L"), "grip_R": grip_world("R")}
    Q3["hands_mid"] = (Q3["grip_L"] + Q3["grip_R"]) / 2
    for b in SPINE_CHAIN:
        Q3["j_" + b] = rig_point(b, bones[b].head_local)
    Q3.update(skin_points())
    for k, i in PELVIS_IDS.items():   # same vertices' rest positions carried rigidly by the pelvis (root) bone
        Q3["bony_" + k] = rig_point("root", mesh_co[i])
    for n in NEW_PTS:
        p = Q3[n]
        x, y, z = world_to_camera_view(scene, cam, p)
        row[n + "_X"] = p.x; row[n + "_Y"] = p.y; row[n + "_Z"] = p.z
        row[n + "_u"] = x * W; row[n + "_v"] = (1 - y) * H; row[n + "_depth"] = z
    hm = Q3["hands_mid"]
    row["hands_ankle_fwd_m"] = an_m.y - hm.y
    row["hands_hip_fwd_m"] = hip_m.y - hm.y
    am = (Q3["ASIS_L"] + Q3["ASIS_R"]) / 2; pm = (Q3["PSIS_L"] + Q3["PSIS_R"]) / 2
    row["asis_psis_pitch_deg"] = math.degrees(math.atan2(pm.z - am.z, pm.y - am.y))
    am = (Q3["bony_ASIS_L"] + Q3["bony_ASIS_R"]) / 2; pm = (Q3["bony_PSIS_L"] + Q3["bony_PSIS_R"]) / 2
    row["bony_asis_psis_pitch_deg"] = math.degrees(math.atan2(pm.z - am.z, pm.y - am.y))
    row["load_far"] = int(h >= flags_cfg.get("load_far_depth", 0.5) and row["hands_ankle_fwd_m"] > flags_cfg.get("load_far_m", 0.25))
    # (appended after the synth truth) rib cage not stacked: the rib-variants' thoracic part beyond the threshold
    row["ribs_not_stacked"] = int(RV in RIB_VARIANTS and abs(row["ribcage_pelvis_deg"] - ps["lumbar"])
                                  >= flags_cfg.get("ribs_thr", 10.0))
    rows.append(row)

T_ANIM = time.time() - T0
scene.frame_start = 1; scene.frame_end = NF
scene.render.image_settings.file_format = "PNG"
scene.render.image_settings.color_mode = "RGB"
scene.render.filepath = os.path.join(frames_dir, "f_")
if CFG.get("save_blend"):
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(CFG["out_dir"], CFG["clip"] + ".blend"))
if CFG.get("max_frames"):
    scene.frame_end = min(NF, CFG["max_frames"])
if CFG.get("still_frames"):
    for fr in CFG["still_frames"]:
        scene.frame_set(fr)
        scene.render.filepath = os.path.join(CFG["out_dir"], "%s_still_%04d.png" % (CFG["clip"], fr))
        bpy.ops.render.render(write_still=True)
    if CFG.get("still_truth"):   # also write the truth CSV (checks of the 2D columns on stills)
        with open(os.path.join(CFG["out_dir"], CFG["clip"] + ".csv"), "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0].keys()))
            w.writeheader()
            for r in rows:
                w.writerow({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()})
    sys.exit(0)
t1 = time.time()
_tf = [time.time()]
def _post(sc, *a):
    _tf.append(time.time())
bpy.app.handlers.render_post.append(_post)
bpy.ops.render.render(animation=True)
print("PER_FRAME", [round(b - a, 2) for a, b in zip(_tf[:-1], _tf[1:])][:12])
T_RENDER = time.time() - t1

# ---------------------------------------------------------------- outputs
out_mp4 = os.path.join(CFG["out_dir"], CFG["clip"] + ".mp4")
frame_pat = os.path.join(frames_dir, "f_%04d.png")
if CFG.get("phone_rotated"):
    ROT = phone_video.encode_rotated(frame_pat, out_mp4, FPS, CFG.get("crf", 24))
else:
    ROT = None
    cmd = ["ffmpeg", "-y", "-loglevel", "error", "-framerate", str(FPS), "-start_number", "1",
           "-i", frame_pat, "-c:v", "libx264", "-preset", "slow",
           "-crf", str(CFG.get("crf", 24)), "-pix_fmt", "yuv420p", "-movflags", "+faststart", out_mp4]
    subprocess.run(cmd, check=True)
cols = list(rows[0].keys())
with open(os.path.join(CFG["out_dir"], CFG["clip"] + ".csv"), "w", newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=cols)
    w.writeheader()
    for r in rows:
        w.writerow({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()})
meta = {k: CFG[k] for k in ("clip", "variant", "reps", "seed", "camera", "object", "width", "height") if k in CFG}
meta.update(character=CFG["character"]["name"], n_frames=NF, fps=FPS, duration_s=NF / FPS,
            params=P, segments=SEGS, render_seconds=round(T_RENDER, 1), anim_seconds=round(T_ANIM, 1),
            mp4_bytes=os.path.getsize(out_mp4), scene=CFG["scene"])
ch = CFG["character"]
meta.update(body_id=ch.get("body_id", ch["name"]), body={k: v for k, v in ch.items() if k not in ("colours",) and not k.startswith("_")},
            body_measures=BODY_MEAS, camera_resolved=CAM_RES, arm_mode=ARM_MODE,
            hand_rule={"hand_x": HX, "hand_fwd_stand": F0, "hand_fwd_depth": FD, "reach_stand": R0, "reach_depth": RD},
            dorsal_vertex_ids={b: DORSAL_IDS[b] for b in SPINE_CHAIN}, pelvis_vertex_ids=PELVIS_IDS,
            load={"type": LOAD, "offset_from_hands_mid": list(LOAD_OFFSET),
                  "dims_m": (P.get("box_dims", [0.40, 0.25, 0.30]) if LOAD == "box" else
                             {"kettlebell": [0.18, 0.18, 0.28], "dumbbells": [0.12, 0.12, 0.26]}.get(LOAD))},
            label_rules={"load_far": "hinge_depth >= %.2f and hands_ankle_fwd_m > %.2f" % (
                flags_cfg.get("load_far_depth", 0.5), flags_cfg.get("load_far_m", 0.25))},
            fault_set=sorted({c for c in ("rounded_lumbar", "anterior_tilt", "posterior_tilt", "squat_pattern", "load_far",
                                          "ribs_not_stacked")
                              if any(r_[c] for r_ in rows)}))
if ROT:
    meta["phone_rotated"] = ROT
if SESSION:
    meta["reps"] = len(SESSION)
    meta["rep_variants"] = [rp["variant"] for rp in SESSION]
    FAULT = {"good": "none", "squat": "squat_pattern", "load_far": "load_far", "floor_good": "none",
             "floor_rounded": "rounded_lumbar", "ribs_flared": "ribs_not_stacked", "ribs_closed": "ribs_not_stacked"}
    det = []
    for r, rp in enumerate(SESSION):
        ks = [k for k, x in enumerate(SEG_REP) if x == r]
        (t0, _, _), (tb0, tb1, _), (_, t1, _) = SEGS[ks[0]], SEGS[ks[1]], SEGS[ks[2]]
        fr = [x["frame"] for x in rows if x["rep"] == r + 1]
        fb = [x["frame"] for x in rows if x["rep"] == r + 1 and x["phase"] == "bottom"]
        lab = rp["variant"] if rp["variant"] not in FAULT else FAULT[rp["variant"]]
        nlab = sum(x[lab] for x in rows if x["rep"] == r + 1) if lab != "none" else 0
        det.append({"rep": r + 1, "variant": rp["variant"], "expected_fault": lab,
                    "start_s": round(t0, 4), "bottom_s": round((tb0 + tb1) / 2, 4),
                    "bottom_start_s": round(tb0, 4), "bottom_end_s": round(tb1, 4), "end_s": round(t1, 4),
                    "start_frame": fr[0], "end_frame": fr[-1],
                    "bottom_frame": (fb[len(fb) // 2] if fb else max(fr, key=lambda k: rows[k]["hinge_depth"])),
                    "label_frames": nlab, "pause_after_s": round(rp["pause"], 4) if r < len(SESSION) - 1 else None,
                    "params": rp["params"]})
    meta["reps_detail"] = det
    meta["lead_in_s"] = SEGS[0][1]
    meta["tail_s"] = round(SEGS[-1][1] - SEGS[-1][0], 4)
json.dump(meta, open(os.path.join(CFG["out_dir"], CFG["clip"] + ".meta.json"), "w"), indent=1)
if not CFG.get("keep_frames"):
    shutil.rmtree(frames_dir)
print("CLIP_DONE", CFG["clip"], NF, "frames", "anim %.1fs render %.1fs" % (T_ANIM, T_RENDER), os.path.getsize(out_mp4))
