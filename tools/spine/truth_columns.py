"""The truth the spine model learns, by column of the rendered footage's CSV (tools/synth/README.md): one list
read by train.py (its targets and auxiliary points) and by pack_footage.py (which columns the packed training
footage keeps). No third-party imports: the packer runs without torch or numpy."""

# (truth, output name): a truth column, or ("180-", left, right) for 180 minus the mean of two columns (the hip
# and knee angles as docs/metrics.md defines them and `hinge eval` scores them). The model's outputs are these
# names in this order (src/kinematics/spine_model.rs OUTPUTS), then their spreads in the same order.
TARGETS = [("lumbar_flexion_deg", "lumbar_flexion_deg"), ("pelvic_tilt_deg", "pelvic_tilt_deg"),
           ("ribcage_pelvis_deg", "rib_stack_deg"), ("hip_flexion_deg", "hip_flexion_deg"),
           ("trunk_incl_deg", "trunk_deg"),
           ("pelvis_pitch_deg", "pelvis_pitch_deg"), ("thorax_pitch_deg", "thorax_pitch_deg"),
           (("180-", "trunk_thigh_angle3d_L", "trunk_thigh_angle3d_R"), "hip_angle_deg"),
           (("180-", "knee_angle3d_L", "knee_angle3d_R"), "knee_flexion_deg")]

# Auxiliary targets: where the truth's spine joints, dorsal skin points and pelvis landmarks lie in the image
# (columns NAME_u, NAME_v); a pair is one point, the mean of the two (the ASIS and PSIS midpoints).
AUX_POINTS = (["j_spine05", "j_spine04", "j_spine03", "j_spine02", "j_spine01", "j_neck01"]
              + ["skin_spine05", "skin_spine04", "skin_spine03", "skin_spine02", "skin_spine01", "skin_neck01"]
              + [("bony_ASIS_L", "bony_ASIS_R"), ("bony_PSIS_L", "bony_PSIS_R")])


def training_columns():
    """Every CSV column train.py reads besides `frame`, in a fixed order."""
    cols = []
    for truth, _ in TARGETS:
        cols.extend(truth[1:] if isinstance(truth, tuple) else [truth])
    for p in AUX_POINTS:
        for name in (p if isinstance(p, tuple) else (p,)):
            cols.extend([name + "_u", name + "_v"])
    return cols
