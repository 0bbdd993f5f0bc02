"""Extract the BlazePose .tflite files from the unpacked npm package @mediapipe/pose.

The three landmark models ship as plain files. The detector is hidden in the
emscripten asset bundle: pose_solution_packed_assets_loader.js lists
{filename: ".../pose_detection/pose_detection.tflite", start, end} and the
bytes [start:end) of pose_solution_packed_assets.data are that .tflite.
usage: python extract_tflite.py PACKAGE_DIR OUT_DIR NAME...
  NAME in pose_detection, pose_landmark_lite, pose_landmark_full, pose_landmark_heavy
Part of tools/models/convert.sh.
"""
import json, os, re, shutil, sys

if len(sys.argv) < 4:
    sys.exit(__doc__)
pkg, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(out, exist_ok=True)
for name in names:
    dst = os.path.join(out, name + ".tflite")
    if name == "pose_detection":
        js = open(os.path.join(pkg, "pose_solution_packed_assets_loader.js")).read()
        meta = json.loads(re.search(r'loadPackage\((\{"files".*?\})\)', js).group(1))
        hits = [f for f in meta["files"] if f["filename"].endswith("/pose_detection.tflite")]
        assert len(hits) == 1, meta["files"]
        with open(os.path.join(pkg, "pose_solution_packed_assets.data"), "rb") as fh:
            fh.seek(hits[0]["start"])
            data = fh.read(hits[0]["end"] - hits[0]["start"])
        assert data[4:8] == b"TFL3", "not a TFLite flatbuffer"
        with open(dst, "wb") as fh:
            fh.write(data)
    else:
        shutil.copyfile(os.path.join(pkg, name + ".tflite"), dst)
    print(f"  extracted {name}.tflite ({os.path.getsize(dst)} bytes)")
