#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets (README.md, "Fuzzing").

  mp4_boxes:   MP4/MOV box trees built here byte by byte (every display matrix,
               version-1 track headers, 64-bit and to-the-end sizes, audio-only),
               plus the box trees of the repository's sample clips and of a few
               tiny clips FFmpeg writes (MOV, fragmented MP4, rotation tags),
               each with the media data cut out (only the boxes matter).
  config_toml: the TOML examples of docs/*.md, one file per table and a few
               edge cases (each key once, NaN, unknown keys, wrong types).

Usage: python3 fuzz/make_seeds.py [OUT_DIR]   (default tests/fixtures/fuzz)
Files are named seed-*; nothing else in OUT_DIR is touched. Needs ffmpeg on the
PATH for the FFmpeg-written seeds (skipped, with a line saying so, without it).
"""

import re
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload) + 8) + kind + payload


def box64(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I", 1) + kind + struct.pack(">Q", len(payload) + 16) + payload


def tkhd(matrix, version=0) -> bytes:
    """A track header with the 2x2 matrix part (a, b, c, d), in whole units."""
    a, b, c, d = (v * 65536 for v in matrix)
    times = 8 + 8 + 4 + 4 + 8 if version == 1 else 4 + 4 + 4 + 4 + 4
    head = bytes([version, 0, 0, 3]) + bytes(times) + bytes(8 + 2 + 2 + 2 + 2)
    m = struct.pack(">9i", a, b, 0, c, d, 0, 0, 0, 1 << 30)
    return box(b"tkhd", head + m + struct.pack(">II", 64 << 16, 48 << 16))


def hdlr(handler: bytes) -> bytes:
    return box(b"hdlr", bytes(8) + handler + bytes(12) + b"h\0")


def trak(handler: bytes, matrix, version=0) -> bytes:
    return box(b"trak", tkhd(matrix, version) + box(b"mdia", box(b"mdhd", bytes(24)) + hdlr(handler)))


def mp4(moov_payload: bytes, ftyp=b"isom") -> bytes:
    return box(b"ftyp", ftyp + bytes(4) + b"isomiso2mp41") + box(b"moov", moov_payload) + box(b"mdat", bytes(16))


# the eight display matrices: four rotations, each optionally mirrored
MATRICES = {
    "r0": (1, 0, 0, 1),
    "r90": (0, 1, -1, 0),
    "r180": (-1, 0, 0, -1),
    "r270": (0, -1, 1, 0),
    "m0": (-1, 0, 0, 1),
    "m90": (0, 1, 1, 0),
    "m180": (1, 0, 0, -1),
    "m270": (0, -1, -1, 0),
}


def crafted_mp4():
    out = {}
    for name, m in MATRICES.items():
        out[f"crafted-{name}"] = mp4(trak(b"vide", m))
    out["crafted-v1-tkhd"] = mp4(trak(b"vide", MATRICES["r90"], version=1))
    out["crafted-audio-then-video"] = mp4(trak(b"soun", (1, 0, 0, 1)) + trak(b"vide", MATRICES["r270"]))
    out["crafted-audio-only"] = mp4(trak(b"soun", (1, 0, 0, 1)))
    out["crafted-no-trak"] = mp4(box(b"mvhd", bytes(100)))
    out["crafted-64bit-sizes"] = box64(b"ftyp", b"qt  " + bytes(4)) + box64(b"moov", trak(b"vide", MATRICES["r180"]))
    out["crafted-moov-to-end"] = box(b"ftyp", b"isom" + bytes(4)) + struct.pack(">I", 0) + b"moov" + trak(
        b"vide", MATRICES["m90"]
    )
    out["crafted-free-before-moov"] = box(b"ftyp", b"isom" + bytes(4)) + box(b"free", bytes(24)) + box(
        b"moov", box(b"udta", bytes(12)) + trak(b"vide", MATRICES["r90"])
    )
    return out


def strip_mdat(data: bytes) -> bytes:
    """The top-level boxes of a file with every `mdat` emptied (sizes kept consistent)."""
    out, pos = b"", 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        elif size == 0:
            size = len(data) - pos
        if size < header:
            break
        out += box(b"mdat") if kind == b"mdat" else data[pos : pos + size]
        pos += size
    return out


def sample_mp4():
    out = {}
    for rel in ["samples/dev/dev_01_good_side_facing_left.mp4", "samples/dev_sessions/devs_02_phone_rotated.mp4"]:
        out["sample-" + Path(rel).stem] = strip_mdat((ROOT / rel).read_bytes())
    return out


def ffmpeg_mp4():
    if shutil.which("ffmpeg") is None:
        print("make_seeds: no ffmpeg on the PATH, FFmpeg-written seeds skipped", file=sys.stderr)
        return {}
    clips = {
        "ffmpeg-mov": ([], "mov"),
        "ffmpeg-fragmented": (["-movflags", "+frag_keyframe+empty_moov"], "mp4"),
        "ffmpeg-rotate90": (["-metadata:s:v:0", "rotate=90"], "mp4"),
        "ffmpeg-with-audio": (["-f", "lavfi", "-i", "sine=duration=0.4", "-shortest"], "mp4"),
    }
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (extra, ext) in clips.items():
            path = Path(tmp) / f"{name}.{ext}"
            cmd = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=32x24:rate=5:duration=0.4"]
            cmd += extra + ["-pix_fmt", "yuv420p", str(path)]
            subprocess.run(cmd, check=True)
            out[name] = strip_mdat(path.read_bytes())
    return out


def doc_tomls():
    out = {}
    for doc in sorted((ROOT / "docs").glob("*.md")):
        blocks = re.findall(r"```toml\n(.*?)```", doc.read_text(), flags=re.S)
        for i, text in enumerate(blocks):
            out[f"doc-{doc.stem}-{i}"] = text.encode()
    return out


def crafted_tomls():
    return {
        "edge-empty": b"",
        "edge-reps-all": b"""[reps]
start_deg = 15.0
start_rise_deg = 15.0
start_still_deg = 3.0
end_deg = 8.0
return_share = 0.7
min_depth_deg = 30.0
min_duration_s = 0.6
bottom_fraction = 0.9
baseline_window_s = 0.5
""",
        "edge-faults-all": b"""[faults]
rounded_lumbar_change_deg = 12.0
rounded_lumbar_deg = 32.0
anterior_tilt_deg = 10.0
posterior_tilt_deg = -10.0
arched_lumbar_deg = -6.0
anterior_habit_deg = 10.0
posterior_habit_deg = -10.0
arched_habit_deg = -8.0
ribs_not_stacked_deg = 10.0
squat_ssi = 28.0
load_far_cm = 29.0
depth_share = 0.3
min_fault_s = 0.15
min_standing_s = 0.5
""",
        "edge-report-all": """[report]
title = "Hüftbeuge-Bericht"
good_rep = "gut"
practise = "Üben"
trunk_label = "Rumpf"
hip_label = "Hüfte"
knee_label = "Knie"
rep_label = "Wdh"

[report.colors]
good = "#2e7d32"
fault = "#c62828"
threshold = "#9e9e9e"

[report.fault_labels]
rounded_lumbar = "runder Rücken"
load_far = 'Last weit weg'

[report.cues]
squat_pattern = \"\"\"Hüfte nach hinten\"\"\"

[report.phases]
standing = "Stand"
bottom = "unten"
""".encode(),
        "edge-nan": b"[faults]\nrounded_lumbar_deg = nan\nposterior_tilt_deg = -inf\n",
        "edge-unknown-key": b"[report.cues]\nrounded_lumbr = \"x\"\n",
        "edge-wrong-type": b"[reps]\nstart_deg = \"15\"\nmin_duration_s = -1\n",
        "edge-inline-tables": b"reps = { start_deg = 12.0, end_deg = 5e0 }\nfaults = { squat_ssi = 3_0.0 }\n",
    }


def write(dir_: Path, files: dict, ext: str):
    dir_.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (dir_ / f"seed-{name}.{ext}").write_bytes(data)
    print(f"make_seeds: {len(files)} seeds in {dir_}")


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests/fixtures/fuzz"
    write(out / "mp4_boxes", {**crafted_mp4(), **sample_mp4(), **ffmpeg_mp4()}, "mp4")
    write(out / "config_toml", {**doc_tomls(), **crafted_tomls()}, "toml")


if __name__ == "__main__":
    main()
