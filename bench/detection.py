"""Face detection recall and false positives, per subset, for each detector.

The project's own detection benchmark (issue 38): scenes made here from
FER2013 val faces (../shared) pasted on the photographic backgrounds of the
parity fixtures (crates/vision/tests/fixtures/parity/images/noface_*.png),
1 or 2 faces a scene, in subsets:

  frontal   upright faces 123-300 px tall in the 640 px wide scene: "webcam
            distance" as the issue measures it (at least 80 px in a 416 px
            wide photo)
  small     upright faces 74-123 px (48-80 px in a 416 px wide photo: the
            issue's second count, faces across a room)
  rotated   frontal faces turned in the image plane by 15-45 degrees
  dim       frontal faces in a scene darkened to a quarter, with sensor noise
  turned    faces squeezed across to 60 % (a stand-in for a head turned
            aside: FER has no profile views to paste)

Each detector (`melodora detect --no-emotion --json --detector D`) is run
on every scene; a face counts as found when a box overlaps it by IoU >= 0.5,
the box taken as the emotion network frames it (a CNN detector's box 10 %
larger on every side, CNN_BOX_FRAMING; a Haar box as it is), each box
matching one face at most. Boxes matching no face are false positives.

    python bench/detection.py [--scenes 60] [--seed 1] [--json OUT]

Needs numpy and Pillow (bench/setup_env.sh) and target/release/melodora
(MELODORA_BIN to use another). The FER faces are not committed, nor are
the scenes (they are made in a temporary folder and removed).
"""

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
VAL = ROOT.parent / "shared/datasets/fer2013/val"
BACKGROUNDS = sorted(
    p
    for p in (ROOT / "crates/vision/tests/fixtures/parity/images").glob("noface_*.png")
    if p.stem in {"noface_coffee", "noface_chelsea_cat", "noface_coins", "noface_page",
                  "noface_rocket_640x480", "noface_hubble_gray_640x480", "noface_brick_texture"}
)
DETECTORS = ["haar", "blazeface", "blazeface-full"]
SUBSETS = ["frontal", "small", "rotated", "dim", "turned"]
# A CNN detector's box, as the emotion network frames it (vision::pipeline::CNN_BOX_FRAMING).
CNN_BOX_FRAMING = 0.1


def faces(rng):
    """Every val face's path, shuffled."""
    paths = sorted(VAL.glob("*/*.jpg"))
    rng.shuffle(paths)
    return paths


def paste(scene, face, box, angle):
    """Pastes `face` (gray PIL image) into `scene` (numpy, gray) at `box`
    (x, y, w, h), turned by `angle` degrees about its centre; the corners
    the turn uncovers keep the background."""
    x, y, w, h = box
    face = face.resize((w, h), Image.BICUBIC)
    mask = Image.new("L", (w, h), 255)
    if angle:
        face = face.rotate(angle, resample=Image.BICUBIC, expand=True)
        mask = mask.rotate(angle, resample=Image.BICUBIC, expand=True)
    fw, fh = face.size
    left, top = x + w // 2 - fw // 2, y + h // 2 - fh // 2
    region = scene[top : top + fh, left : left + fw].astype(np.float32)
    alpha = np.asarray(mask, np.float32)[: region.shape[0], : region.shape[1]] / 255
    pixels = np.asarray(face, np.float32)[: region.shape[0], : region.shape[1]]
    scene[top : top + fh, left : left + fw] = (alpha * pixels + (1 - alpha) * region).round().astype(np.uint8)


def make_scene(rng, subset, pool):
    background = Image.open(rng.choice(BACKGROUNDS)).convert("L")
    background = ImageOps.fit(background, (640, 480))
    scene = np.asarray(background, np.uint8).copy()
    count = rng.randint(1, 2)
    boxes = []
    for _ in range(count):
        side = rng.randint(74, 122) if subset == "small" else rng.randint(123, 300)
        width = int(side * 0.6) if subset == "turned" else side
        angle = rng.choice([-1, 1]) * rng.uniform(15, 45) if subset == "rotated" else 0.0
        # The turned square's reach, kept inside the frame and apart from the others.
        reach = int(side * (abs(math.cos(math.radians(angle))) + abs(math.sin(math.radians(angle))))) + 2
        for _ in range(50):
            cx = rng.randint(reach // 2, 640 - reach // 2 - 1)
            cy = rng.randint(reach // 2, 480 - reach // 2 - 1)
            box = (cx - width // 2, cy - side // 2, width, side)
            far = all(abs(cx - (b[0] + b[2] / 2)) > (reach + b[3]) / 2 * 1.1
                      or abs(cy - (b[1] + b[3] / 2)) > (reach + b[3]) / 2 * 1.1 for b, _ in boxes)
            if far:
                break
        else:
            continue
        face = Image.open(pool.pop()).convert("L")
        paste(scene, face, box, angle)
        boxes.append((box, angle))
    if subset == "dim":
        noise = np.random.default_rng(rng.randrange(2**32)).normal(0, 3, scene.shape)
        scene = (scene.astype(np.float32) * 0.25 + noise).clip(0, 255).round().astype(np.uint8)
    return scene, [b for b, _ in boxes]


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = min(ax + aw, bx + bw) - max(ax, bx)
    h = min(ay + ah, by + bh) - max(ay, by)
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / (aw * ah + bw * bh - inter)


def framed(face, detector):
    box = (face["x"], face["y"], face["w"], face["h"])
    if detector == "haar":
        return box
    x, y, w, h = box
    return (x - w * CNN_BOX_FRAMING, y - h * CNN_BOX_FRAMING, w * (1 + 2 * CNN_BOX_FRAMING), h * (1 + 2 * CNN_BOX_FRAMING))


def score(truths, found, detector):
    """(faces found, false positives) in one scene: greedy matching by IoU."""
    boxes = [framed(f, detector) for f in found]
    pairs = sorted(((iou(t, b), i, j) for i, t in enumerate(truths) for j, b in enumerate(boxes)), reverse=True)
    used_t, used_b = set(), set()
    for overlap, i, j in pairs:
        if overlap < 0.5:
            break
        if i not in used_t and j not in used_b:
            used_t.add(i)
            used_b.add(j)
    return len(used_t), len(boxes) - len(used_b)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenes", type=int, default=60, help="scenes per subset")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args()
    binary = os.environ.get("MELODORA_BIN", str(ROOT / "target/release/melodora"))
    rng = random.Random(args.seed)
    pool = faces(rng)
    results = {}
    with tempfile.TemporaryDirectory(prefix="melodora-detection-") as work:
        scenes = {}
        for subset in SUBSETS:
            for n in range(args.scenes):
                image, truths = make_scene(rng, subset, pool)
                path = Path(work) / f"{subset}_{n:03d}.png"
                Image.fromarray(image).save(path)
                scenes[str(path)] = (subset, truths)
        for detector in DETECTORS:
            out = subprocess.run(
                [binary, "detect", "--no-emotion", "--json", "--threads", "1", "--detector", detector, *scenes],
                check=True, capture_output=True, text=True).stdout
            tally = {s: [0, 0, 0, 0] for s in SUBSETS}  # faces, found, false positives, scenes
            for line in out.splitlines():
                record = json.loads(line)
                subset, truths = scenes[record["image"]]
                found, false = score(truths, record["faces"], detector)
                t = tally[subset]
                t[0] += len(truths)
                t[1] += found
                t[2] += false
                t[3] += 1
            results[detector] = {s: {"faces": t[0], "recall": t[1] / t[0], "false_per_image": t[2] / t[3]}
                                 for s, t in tally.items()}
    print(f"{args.scenes} scenes a subset (seed {args.seed}): recall at IoU >= 0.5 / false positives per image")
    print("| detector | " + " | ".join(SUBSETS) + " |")
    print("|---|" + "---:|" * len(SUBSETS))
    for detector, by_subset in results.items():
        cells = [f"{r['recall']:.2f} / {r['false_per_image']:.2f}" for r in by_subset.values()]
        print(f"| {detector} | " + " | ".join(cells) + " |")
    faces_count = {s: r["faces"] for s, r in results[DETECTORS[0]].items()}
    print("faces per subset:", faces_count)
    if args.json:
        args.json.write_text(json.dumps({"seed": args.seed, "scenes": args.scenes, "results": results}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
