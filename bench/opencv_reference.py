#!/usr/bin/env python3
"""Produce OpenCV reference detections for the Haar cascade parity tests.

For every PNG in crates/vision/tests/fixtures/parity/images/ this runs
cv2.CascadeClassifier.detectMultiScale (single thread) for a fixed list of
(cascade, scale_factor, min_neighbors, min_size, max_size) runs and writes
crates/vision/tests/fixtures/parity/expected.json.

It also
  * copies the cascade XML files it used, byte for byte, from
    cv2.data.haarcascades into crates/vision/tests/fixtures/cascades/;
  * converts haarcascade_frontalface_default.xml (new "opencv-cascade-classifier"
    format) into the OLD "opencv-haar-classifier" format, saves it as
    cascades/frontalface_default_oldformat.xml and checks that OpenCV gives
    identical boxes with it;
  * re-runs the default cascade at (1.1, 5) with 2 threads and checks the
    result equals the 1-thread result;
  * checks the 8-bit BGR->gray conversion against the fixed-point formula
    gray = (3735*B + 19235*G + 9798*R + 16384) >> 15
    (exhaustively over all 2^24 colours; OpenCV 4.14 uses 15-bit coefficients,
    the often-quoted 14-bit 1868/9617/4899 differs on ~0.26% of colours).

Image loading: cv2.imread(IMREAD_UNCHANGED); 1-channel PNGs are used as is,
3-channel ones go through cv2.cvtColor(COLOR_BGR2GRAY) (identical to
IMREAD_COLOR + BGR2GRAY, which is asserted), 4-channel ones through
COLOR_BGRA2GRAY (none are generated).

Box order inside each list is OpenCV's output order; compare as multisets.
min_size / max_size 0 mean "not set" (OpenCV's Size()).

Usage:  python bench/opencv_reference.py [--fixtures DIR] [--cascades-out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FIXTURES = REPO / "crates" / "vision" / "tests" / "fixtures" / "parity"
DEFAULT_CASCADES_OUT = REPO / "crates" / "vision" / "tests" / "fixtures" / "cascades"

FACE = "haarcascade_frontalface_default.xml"
ALT2 = "haarcascade_frontalface_alt2.xml"
EYE = "haarcascade_eye_tree_eyeglasses.xml"
PLATE = "haarcascade_license_plate_rus_16stages.xml"  # OpenCV spells it "license"
OLDFORMAT_NAME = "frontalface_default_oldformat.xml"

# (cascade, scale_factor, min_neighbors, min_size, max_size, scope)
# scope "all" = every fixture image, "faces" = only images with a human face
RUNS = [
    (FACE, 1.1, 5, 0, 0, "all"),
    (FACE, 1.3, 5, 0, 0, "all"),
    (FACE, 1.1, 0, 0, 0, "all"),
    (FACE, 1.3, 0, 0, 0, "all"),
    (FACE, 1.2, 3, 60, 300, "all"),
    (ALT2, 1.1, 5, 0, 0, "all"),
    (ALT2, 1.1, 0, 0, 0, "all"),
    (EYE, 1.1, 3, 0, 0, "faces"),
    (EYE, 1.2, 0, 0, 0, "faces"),
    (PLATE, 1.1, 0, 0, 0, "all"),
    (PLATE, 1.1, 3, 0, 0, "all"),
]


def sha256_file(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


# --------------------------------------------------------------------------
# image loading
# --------------------------------------------------------------------------

def load_gray(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise SystemExit(f"cannot read {path}")
    if img.dtype != np.uint8:
        raise SystemExit(f"{path}: expected 8-bit image, got {img.dtype}")
    if img.ndim == 2:
        return img
    if img.shape[2] == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2GRAY)
    raise SystemExit(f"{path}: unsupported channel count {img.shape}")


def check_gray_formula_exhaustive() -> bool:
    """BGR2GRAY of every 8-bit colour against the 15-bit fixed-point formula."""
    v = np.arange(1 << 24, dtype=np.uint32)
    img = np.stack([(v >> 16) & 255, (v >> 8) & 255, v & 255], -1).astype(np.uint8).reshape(4096, 4096, 3)
    got = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    b, g, r = (img[:, :, i].astype(np.int64) for i in range(3))
    want = ((3735 * b + 19235 * g + 9798 * r + 16384) >> 15).astype(np.uint8)
    n = int(np.count_nonzero(got != want))
    if n:
        print(f"WARNING: BGR2GRAY differs from (3735,19235,9798)>>15 on {n} of 2^24 colours", file=sys.stderr)
    return n == 0


def check_gray_conversion(path: Path, gray: np.ndarray) -> None:
    """IMREAD_COLOR+BGR2GRAY must equal our route, and BGR2GRAY must match
    the documented fixed-point formula (the Rust side implements that)."""
    col = cv2.imread(str(path), cv2.IMREAD_COLOR)
    via_color = cv2.cvtColor(col, cv2.COLOR_BGR2GRAY)
    if not np.array_equal(via_color, gray):
        print(f"WARNING: {path.name}: IMREAD_COLOR+BGR2GRAY differs from IMREAD_UNCHANGED route", file=sys.stderr)
    b, g, r = (col[:, :, i].astype(np.int64) for i in range(3))
    fixed = ((3735 * b + 19235 * g + 9798 * r + 16384) >> 15).astype(np.uint8)
    if not np.array_equal(fixed, via_color):
        n = int(np.count_nonzero(fixed != via_color))
        print(f"WARNING: {path.name}: BGR2GRAY differs from fixed-point formula at {n} pixels", file=sys.stderr)


# --------------------------------------------------------------------------
# new -> old cascade format converter
# --------------------------------------------------------------------------

def _txt(el, tag):
    node = el.find(tag)
    if node is None or node.text is None:
        raise ValueError(f"missing <{tag}>")
    return node.text.strip()


def convert_to_old_format(src: Path, dst: Path, top_name: str) -> None:
    """Rewrite a new-format HAAR/BOOST cascade ("opencv-cascade-classifier")
    into the old "opencv-haar-classifier" layout (as used by
    haarcascade_license_plate_rus_16stages.xml).  Numbers are copied as the
    exact text tokens of the source file, so no precision is lost.

    New format weak classifier: internalNodes = n x (left right featureIdx
    threshold), left/right > 0 index another internal node, <= 0 index leaf
    -value in leafValues.  Old format: a tree is a list of nodes, each with
    <feature>, <threshold> and either <left_val>/<right_val> (leaf) or
    <left_node>/<right_node> (index of a node of the same tree)."""
    root = ET.parse(src).getroot()
    casc = root[0]
    if casc.get("type_id") != "opencv-cascade-classifier":
        raise ValueError(f"{src}: not a new-format cascade")
    if _txt(casc, "stageType") != "BOOST" or _txt(casc, "featureType") != "HAAR":
        raise ValueError("only BOOST/HAAR cascades can be converted")
    width, height = _txt(casc, "width"), _txt(casc, "height")

    features = []
    for f in casc.find("features"):
        rects = [r.text.strip() for r in f.find("rects")]
        tilted = f.find("tilted")
        features.append((rects, tilted.text.strip() if tilted is not None else "0"))

    out = ['<?xml version="1.0"?>', "<opencv_storage>",
           f"<!-- Converted by bench/opencv_reference.py from {src.name} (new format) to the old "
           f"opencv-haar-classifier format, window size = {width}x{height} -->",
           f'<{top_name} type_id="opencv-haar-classifier">',
           "  <size>", f"    {width} {height}</size>", "  <stages>"]
    stages = list(casc.find("stages"))
    for si, st in enumerate(stages):
        out += ["    <_>", f"      <!-- stage {si} -->", "      <trees>"]
        for ti, wc in enumerate(st.find("weakClassifiers")):
            nodes = _txt(wc, "internalNodes").split()
            leaves = _txt(wc, "leafValues").split()
            if len(nodes) % 4:
                raise ValueError("internalNodes not a multiple of 4 (categorical features?)")
            out += ["        <_>", f"          <!-- tree {ti} -->"]
            n_nodes = len(nodes) // 4
            for ni in range(n_nodes):
                left, right, fidx, thr = nodes[4 * ni:4 * ni + 4]
                rects, tilted = features[int(fidx)]
                out += ["          <_>", f"            <!-- {'root node' if ni == 0 else f'node {ni}'} -->",
                        "            <feature>", "              <rects>"]
                for i, r in enumerate(rects):
                    out += ["                <_>", f"                  {r}</_>" + ("</rects>" if i == len(rects) - 1 else "")]
                out += [f"              <tilted>{tilted}</tilted></feature>",
                        f"            <threshold>{thr}</threshold>"]
                for side, v in (("left", int(left)), ("right", int(right))):
                    if v > 0:
                        out.append(f"            <{side}_node>{v}</{side}_node>")
                    else:
                        out.append(f"            <{side}_val>{leaves[-v]}</{side}_val>")
                out[-1] += "</_>"
            out[-1] += "</_>"
        out[-1] += "</trees>"
        out += [f"      <stage_threshold>{_txt(st, 'stageThreshold')}</stage_threshold>",
                f"      <parent>{si - 1}</parent>", "      <next>-1</next></_>"]
    out[-1] += "</stages></" + top_name + ">"
    out.append("</opencv_storage>")
    dst.write_text("\n".join(out) + "\n")


# --------------------------------------------------------------------------
# detection helpers
# --------------------------------------------------------------------------

def detect(cc, gray, sf, mn, mins, maxs):
    kw = {}
    if mins:
        kw["minSize"] = (mins, mins)
    if maxs:
        kw["maxSize"] = (maxs, maxs)
    r = cc.detectMultiScale(gray, scaleFactor=sf, minNeighbors=mn, **kw)
    return [[int(v) for v in box] for box in r]


def load_cascade(path: Path):
    cc = cv2.CascadeClassifier(str(path))
    if cc.empty():
        raise SystemExit(f"OpenCV failed to load cascade {path}")
    return cc


def write_expected(path: Path, doc: dict) -> None:
    """Pretty JSON with one line per image (keeps diffs readable)."""
    head = {k: v for k, v in doc.items() if k != "runs"}
    lines = ["{"]
    for k, v in head.items():
        lines.append(f"  {json.dumps(k)}: {json.dumps(v, sort_keys=True)},")
    lines.append('  "runs": [')
    for ri, run in enumerate(doc["runs"]):
        lines.append("    {")
        for k, v in run.items():
            if k == "boxes":
                continue
            lines.append(f"      {json.dumps(k)}: {json.dumps(v)},")
        lines.append('      "boxes": {')
        items = list(run["boxes"].items())
        for ii, (name, boxes) in enumerate(items):
            comma = "," if ii < len(items) - 1 else ""
            lines.append(f"        {json.dumps(name)}: {json.dumps(boxes, separators=(',', ':'))}{comma}")
        lines.append("      }")
        lines.append("    }" + ("," if ri < len(doc["runs"]) - 1 else ""))
    lines.append("  ]")
    lines.append("}")
    path.write_text("\n".join(lines) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    ap.add_argument("--cascades-out", type=Path, default=DEFAULT_CASCADES_OUT)
    ap.add_argument("--max-json-mb", type=float, default=3.0,
                    help="drop the (1.3, 0) raw run if expected.json would exceed this")
    args = ap.parse_args()

    cv2.setNumThreads(1)
    cv2.ocl.setUseOpenCL(False)
    src_dir = Path(cv2.data.haarcascades)
    img_dir = args.fixtures / "images"
    files = sorted(img_dir.glob("*.png"))
    if not files:
        raise SystemExit(f"no PNGs in {img_dir}; run bench/make_parity_fixtures.py first")

    manifest_path = args.fixtures / "manifest.json"
    has_faces = {}
    if manifest_path.exists():
        for e in json.loads(manifest_path.read_text())["images"]:
            has_faces[e["file"]] = bool(e["has_faces"])
    for f in files:
        if f.name not in has_faces:  # fallback on naming convention
            has_faces[f.name] = f.name.startswith(("photo_", "scene_"))

    print(f"OpenCV {cv2.__version__}, {len(files)} images, cascades from {src_dir}")
    gray_formula_ok = check_gray_formula_exhaustive()
    grays = {}
    for f in files:
        grays[f.name] = load_gray(f)
        check_gray_conversion(f, grays[f.name])

    # ---- copy cascades ------------------------------------------------------
    args.cascades_out.mkdir(parents=True, exist_ok=True)
    used = sorted({r[0] for r in RUNS})
    cascade_sha = {}
    for name in used:
        shutil.copyfile(src_dir / name, args.cascades_out / name)
        cascade_sha[name] = sha256_file(args.cascades_out / name)
    cascades = {name: load_cascade(args.cascades_out / name) for name in used}

    # ---- runs -------------------------------------------------------------
    runs = []
    for (cname, sf, mn, mins, maxs, scope) in RUNS:
        t0 = time.perf_counter()
        boxes = {}
        for name in sorted(grays):
            if scope == "faces" and not has_faces[name]:
                continue
            boxes[name] = detect(cascades[cname], grays[name], sf, mn, mins, maxs)
        dt = time.perf_counter() - t0
        total = sum(len(b) for b in boxes.values())
        worst = max(boxes.items(), key=lambda kv: len(kv[1]))
        print(f"  {cname} sf={sf} mn={mn} min={mins} max={maxs} [{scope}]: {len(boxes)} images, "
              f"{total} boxes (max {len(worst[1])} in {worst[0]}), {dt:.1f}s")
        if len(worst[1]) > 2000:
            print(f"    note: raw list with {len(worst[1])} boxes for {worst[0]}")
        runs.append({"cascade": cname, "scale_factor": sf, "min_neighbors": mn, "min_size": mins,
                     "max_size": maxs, "images": scope, "boxes": boxes})

    doc = {
        "opencv_version": cv2.__version__,
        "generated_by": "bench/opencv_reference.py",
        "gray_conversion": "cv2.imread(IMREAD_UNCHANGED); 3-channel: COLOR_BGR2GRAY = "
                           "(3735*B + 19235*G + 9798*R + 16384) >> 15 (verified on all 2^24 colours); "
                           "1-channel used as is",
        "gray_formula_verified": gray_formula_ok,
        "threads": 1,
        "note": "boxes are [x, y, w, h] in OpenCV output order (compare as multisets); "
                "min_size/max_size 0 = unset; 'images' = 'faces' means only images with has_faces "
                "in manifest.json were run",
        "cascade_sha256": cascade_sha,
        "runs": runs,
    }
    out = args.fixtures / "expected.json"
    write_expected(out, doc)
    size_mb = out.stat().st_size / 1e6
    if size_mb > args.max_json_mb:
        print(f"expected.json is {size_mb:.2f} MB > {args.max_json_mb} MB: dropping the (1.3, 0) raw run")
        doc["runs"] = [r for r in runs if not (r["cascade"] == FACE and r["scale_factor"] == 1.3
                                               and r["min_neighbors"] == 0)]
        write_expected(out, doc)
        size_mb = out.stat().st_size / 1e6
    json.loads(out.read_text())  # sanity: valid JSON
    print(f"wrote {out} ({size_mb:.2f} MB)")

    # ---- 2-thread determinism check -----------------------------------------
    ref = runs[0]
    assert ref["cascade"] == FACE and ref["scale_factor"] == 1.1 and ref["min_neighbors"] == 5
    cv2.setNumThreads(2)
    mismatch_set, mismatch_order = [], []
    for name, g in grays.items():
        b2 = detect(cascades[FACE], g, 1.1, 5, 0, 0)
        if sorted(b2) != sorted(ref["boxes"][name]):
            mismatch_set.append(name)
        elif b2 != ref["boxes"][name]:
            mismatch_order.append(name)
    cv2.setNumThreads(1)
    if mismatch_set:
        print(f"WARNING: 2-thread result differs from 1-thread on {len(mismatch_set)} images: {mismatch_set}")
    else:
        print("2-thread (1.1, 5) default-cascade run: identical box sets to 1 thread"
              + (f" (order differs on {mismatch_order})" if mismatch_order else " (same order too)"))

    # ---- old-format conversion check --------------------------------------
    old_path = args.cascades_out / OLDFORMAT_NAME
    convert_to_old_format(src_dir / FACE, old_path, "haarcascade_frontalface_default")
    old_cc = cv2.CascadeClassifier(str(old_path))
    if old_cc.empty():
        print(f"OLD FORMAT: OpenCV REJECTED {old_path}")
        return 1
    raw = next(r for r in runs if r["cascade"] == FACE and r["scale_factor"] == 1.1 and r["min_neighbors"] == 0)
    ok = True
    for mn, run in ((5, ref), (0, raw)):
        diff = [name for name, g in grays.items() if detect(old_cc, g, 1.1, mn, 0, 0) != run["boxes"][name]]
        n_boxes = sum(len(v) for v in run["boxes"].values())
        if diff:
            ok = False
            print(f"OLD FORMAT (1.1, {mn}): loaded, but boxes differ from the new-format file on "
                  f"{len(diff)} images: {diff}")
        else:
            print(f"OLD FORMAT (1.1, {mn}): {old_path.name} loaded by OpenCV, identical boxes (same order) "
                  f"on all {len(grays)} images ({n_boxes} boxes)")
    if not ok:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
