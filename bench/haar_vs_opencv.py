#!/usr/bin/env python3
"""Side-by-side speed benchmark: OpenCV detectMultiScale vs Melodora's Haar detector.

For each parameter set (default (1.1, 5) and (1.3, 5)) and each image:
  * OpenCV: in-process, cv2.setNumThreads(1), on the already decoded gray
    image (same loading as bench/opencv_reference.py), 1 warm-up then the
    median of --repeat timed calls;
  * Melodora: one process per parameter set,
        melodora bench --threads T --repeat R --scale-factor F \
                 --min-neighbors N --json IMAGE...
    which prints one JSON object per line
        {"image": PATH, "width": W, "height": H, "median_ms": M, "faces": K}
    (median detection time, decode excluded).

Prints a markdown table per parameter set (image, OpenCV ms, Melodora ms,
ratio OpenCV/Melodora, faces both) with the median and geometric-mean ratio,
and flags images where the face counts disagree (exit status 2 if any do).

Default images: the parity fixtures that are exactly 640x480.
Default binary: target/release/melodora (build with `cargo build --release`).

Examples
  python bench/haar_vs_opencv.py
  python bench/haar_vs_opencv.py --threads 2 --opencv-threads2
  python bench/haar_vs_opencv.py --opencv-only img1.png img2.png
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
PARITY_IMAGES = REPO / "crates" / "vision" / "tests" / "fixtures" / "parity" / "images"
CASCADE = "haarcascade_frontalface_default.xml"


def load_gray(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise SystemExit(f"cannot read {path}")
    if img.ndim == 2:
        return img
    code = cv2.COLOR_BGRA2GRAY if img.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(img, code)


def default_images() -> list[Path]:
    out = []
    for p in sorted(PARITY_IMAGES.glob("*.png")):
        img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
        if img is not None and img.shape[1] == 640 and img.shape[0] == 480:
            out.append(p)
    return out


def find_cascade(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    local = REPO / "crates" / "vision" / "tests" / "fixtures" / "cascades" / CASCADE
    return local if local.exists() else Path(cv2.data.haarcascades) / CASCADE


def time_opencv(cc, gray, sf, mn, repeat, threads):
    cv2.setNumThreads(threads)
    faces = cc.detectMultiScale(gray, scaleFactor=sf, minNeighbors=mn)  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        faces = cc.detectMultiScale(gray, scaleFactor=sf, minNeighbors=mn)
        times.append((time.perf_counter() - t0) * 1000.0)
    cv2.setNumThreads(1)
    return statistics.median(times), len(faces)


def run_melodora(binary: Path, images, sf, mn, repeat, threads, timeout):
    cmd = [str(binary), "bench", "--threads", str(threads), "--repeat", str(repeat),
           "--scale-factor", str(sf), "--min-neighbors", str(mn), "--json", *map(str, images)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        print(f"warning: melodora binary not found at {binary} (cargo build --release?)", file=sys.stderr)
        return None
    except subprocess.TimeoutExpired:
        print(f"warning: melodora timed out after {timeout}s: {' '.join(cmd[:10])} ...", file=sys.stderr)
        return None
    if proc.returncode != 0:
        print(f"warning: melodora exited with {proc.returncode}:\n{proc.stderr.strip()[-2000:]}", file=sys.stderr)
        return None
    res = {}
    for line in proc.stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            print(f"warning: unparsable line from melodora: {line[:200]}", file=sys.stderr)
            continue
        key = os.path.realpath(obj.get("image", ""))
        res[key] = obj
    return res


def fmt(v, nd=1):
    return "—" if v is None else f"{v:.{nd}f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("images", nargs="*", type=Path, help="images (default: 640x480 parity fixtures)")
    ap.add_argument("--melodora", type=Path, default=REPO / "target" / "release" / "melodora")
    ap.add_argument("--repeat", "-r", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1, help="threads passed to melodora (OpenCV stays at 1)")
    ap.add_argument("--opencv-threads2", action="store_true",
                    help="also time OpenCV with setNumThreads(2), for reference")
    ap.add_argument("--params", default="1.1:5,1.3:5", help="comma list of scale_factor:min_neighbors")
    ap.add_argument("--cascade", help="cascade XML (default: fixtures/cascades copy, else cv2.data)")
    ap.add_argument("--opencv-only", action="store_true", help="do not run melodora")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per melodora invocation")
    ap.add_argument("--json-out", type=Path, help="also write all measurements as JSON here")
    args = ap.parse_args()

    cv2.setNumThreads(1)
    cv2.ocl.setUseOpenCL(False)
    images = [p.resolve() for p in args.images] if args.images else default_images()
    if not images:
        raise SystemExit("no images (run bench/make_parity_fixtures.py, or pass paths)")
    params = [(float(a), int(b)) for a, b in (p.split(":") for p in args.params.split(","))]
    cascade = find_cascade(args.cascade)
    cc = cv2.CascadeClassifier(str(cascade))
    if cc.empty():
        raise SystemExit(f"OpenCV cannot load {cascade}")
    grays = {p: load_gray(p) for p in images}
    if not args.opencv_only and not args.melodora.exists():
        print(f"warning: {args.melodora} does not exist; OpenCV column only", file=sys.stderr)

    cpu = os.cpu_count()
    print(f"# Haar face detection: OpenCV {cv2.__version__} vs Melodora\n")
    print(f"cascade `{cascade.name}`, {len(images)} images, median of {args.repeat} runs after 1 warm-up, "
          f"OpenCV 1 thread, Melodora --threads {args.threads}, {cpu} CPUs\n")

    all_out = {"opencv_version": cv2.__version__, "cascade": cascade.name, "repeat": args.repeat,
               "melodora_threads": args.threads, "params": []}
    any_disagree = False
    for sf, mn in params:
        mel = None
        if not args.opencv_only and args.melodora.exists():
            mel = run_melodora(args.melodora, images, sf, mn, args.repeat, args.threads, args.timeout)

        rows = []
        for p in images:
            ocv_ms, ocv_n = time_opencv(cc, grays[p], sf, mn, args.repeat, 1)
            ocv2_ms = time_opencv(cc, grays[p], sf, mn, args.repeat, 2)[0] if args.opencv_threads2 else None
            m = (mel or {}).get(os.path.realpath(p))
            mel_ms = float(m["median_ms"]) if m else None
            mel_n = int(m["faces"]) if m else None
            if m and (m.get("width"), m.get("height")) != (grays[p].shape[1], grays[p].shape[0]):
                print(f"warning: size mismatch for {p.name}: melodora {m.get('width')}x{m.get('height')}",
                      file=sys.stderr)
            rows.append({"image": p.name, "opencv_ms": ocv_ms, "opencv2_ms": ocv2_ms, "melodora_ms": mel_ms,
                         "opencv_faces": ocv_n, "melodora_faces": mel_n,
                         "ratio": (ocv_ms / mel_ms) if mel_ms else None})

        print(f"## scale_factor {sf}, min_neighbors {mn}\n")
        hdr = "| image | OpenCV ms |" + (" OpenCV 2T ms |" if args.opencv_threads2 else "") + \
              f" Melodora ms ({args.threads}T) | ratio OpenCV/Melodora | faces OpenCV/Melodora |"
        print(hdr)
        print("|" + "---|" * (hdr.count("|") - 1))
        disagree = []
        for r in rows:
            faces = f"{r['opencv_faces']}/{'—' if r['melodora_faces'] is None else r['melodora_faces']}"
            if r["melodora_faces"] is not None and r["melodora_faces"] != r["opencv_faces"]:
                faces += " **≠**"
                disagree.append(r["image"])
            print(f"| {r['image']} | {fmt(r['opencv_ms'])} |"
                  + (f" {fmt(r['opencv2_ms'])} |" if args.opencv_threads2 else "")
                  + f" {fmt(r['melodora_ms'])} | {fmt(r['ratio'], 2)} | {faces} |")
        ratios = [r["ratio"] for r in rows if r["ratio"]]
        ocv_total = sum(r["opencv_ms"] for r in rows)
        print()
        print(f"OpenCV median {statistics.median(r['opencv_ms'] for r in rows):.1f} ms/image "
              f"(total {ocv_total:.0f} ms)")
        summary = {"scale_factor": sf, "min_neighbors": mn, "rows": rows}
        if ratios:
            med = statistics.median(ratios)
            geo = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
            summary.update(median_ratio=med, geomean_ratio=geo)
            print(f"Melodora median {statistics.median(r['melodora_ms'] for r in rows if r['melodora_ms']):.1f} "
                  f"ms/image; ratio OpenCV/Melodora (>1 = Melodora faster): median {med:.2f}, "
                  f"geometric mean {geo:.2f} over {len(ratios)} images")
        elif not args.opencv_only:
            print("no Melodora results")
        if disagree:
            any_disagree = True
            print(f"\n**face count disagreements ({len(disagree)}):** {', '.join(disagree)}")
        elif ratios:
            print("face counts agree on all images")
        print()
        all_out["params"].append(summary)

    if args.json_out:
        args.json_out.write_text(json.dumps(all_out, indent=1) + "\n")
    return 2 if any_disagree else 0


if __name__ == "__main__":
    sys.exit(main())
