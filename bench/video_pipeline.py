#!/usr/bin/env python3
"""The full video pipeline side by side: OpenCV + ONNX Runtime vs `melodora bench --video`.

1. Makes (or reuses) a 640x480, 30 fps, 10 s Y4M clip: two FER2013 val faces (upscaled to
   130 and 110 px) drifting slowly over a scikit-image photo background, deterministic.
2. Reference, on the same decoded frames, one thread: OpenCV 4 `detectMultiScale` (1.1, 5) on
   every frame, each face cropped, resized to the model's input and classified with ONNX Runtime
   (one intra-op thread) on the same ONNX file, all faces of a frame in one batch.
3. Melodora: `melodora bench --video clip.y4m --threads 1 --json` (full scans, then tracking).

Decoding is excluded on both sides. Prints frames per second and per-stage milliseconds.

    python bench/video_pipeline.py [--melodora target/release/melodora] [--model assets/emotion.onnx]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
W, H, FPS, SECONDS = 640, 480, 30, 10


def fer_face(emotion: str, index: int) -> np.ndarray:
    files = sorted((REPO.parent / "shared/datasets/fer2013/val" / emotion).glob("*.jpg"))
    return cv2.imread(str(files[index]), cv2.IMREAD_GRAYSCALE)


def background() -> np.ndarray:
    import skimage.data as skd

    coffee = cv2.cvtColor(skd.coffee(), cv2.COLOR_RGB2GRAY)
    return cv2.resize(coffee, (W, H), interpolation=cv2.INTER_AREA)


def make_clip(path: Path) -> None:
    """Two faces on a photo, moving a few pixels per frame along smooth paths."""
    bg = background()
    faces = [
        (cv2.resize(fer_face("happy", 3), (130, 130), interpolation=cv2.INTER_CUBIC), (120, 140), (60, 30)),
        (cv2.resize(fer_face("neutral", 5), (110, 110), interpolation=cv2.INTER_CUBIC), (400, 200), (50, 40)),
    ]
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{W} H{H} F{FPS}:1 Ip A1:1 Cmono\n".encode())
        for t in range(FPS * SECONDS):
            frame = bg.copy()
            for face, (x0, y0), (ax, ay) in faces:
                x = int(x0 + ax * np.sin(t / 40))
                y = int(y0 + ay * np.sin(t / 55))
                s = face.shape[0]
                frame[y:y + s, x:x + s] = face
            out.write(b"FRAME\n")
            out.write(frame.tobytes())


def read_y4m_mono(path: Path) -> list[np.ndarray]:
    data = path.read_bytes()
    header, rest = data.split(b"\n", 1)
    tags = dict((t[:1].decode(), t[1:].decode()) for t in header.split()[1:])
    w, h = int(tags["W"]), int(tags["H"])
    frames, pos = [], 0
    while pos < len(rest):
        pos = rest.index(b"\n", pos) + 1
        frames.append(np.frombuffer(rest, np.uint8, w * h, pos).reshape(h, w))
        pos += w * h
    return frames


def description(model: Path) -> dict:
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(model)).metadata_props}
    return json.loads(meta["melodora"])


def reference(frames: list[np.ndarray], model: Path, cascade: str) -> dict:
    import onnxruntime as ort

    cv2.setNumThreads(1)
    desc = description(model)
    w, h = desc["input"]["width"], desc["input"]["height"]
    norm = desc.get("normalization", {})
    scale, mean, std = norm.get("scale", 255.0), norm.get("mean", 0.0), norm.get("std", 1.0)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    session = ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    classifier = cv2.CascadeClassifier(cascade)
    detect = classify = 0.0
    faces_found = 0
    start = time.perf_counter()
    for frame in frames:
        t0 = time.perf_counter()
        boxes = classifier.detectMultiScale(frame, 1.1, 5)
        t1 = time.perf_counter()
        if len(boxes):
            crops = [cv2.resize(frame[y:y + bh, x:x + bw], (w, h), interpolation=cv2.INTER_LINEAR) for x, y, bw, bh in boxes]
            x = ((np.stack(crops).astype(np.float32) / scale - mean) / std)[:, None]
            session.run(None, {name: x})
        t2 = time.perf_counter()
        detect += t1 - t0
        classify += t2 - t1
        faces_found += len(boxes)
    total = time.perf_counter() - start
    n = len(frames)
    return {"mode": "OpenCV + ONNX Runtime", "frames": n, "fps": n / total, "detect_ms": detect * 1e3 / n,
            "classify_ms": classify * 1e3 / n, "total_ms": total * 1e3 / n, "faces": faces_found}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--melodora", type=Path, default=REPO / "target/release/melodora")
    ap.add_argument("--model", type=Path, default=REPO / "assets/emotion.onnx")
    ap.add_argument("--clip", type=Path, default=REPO / "bench/out/clip.y4m")
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args()

    args.clip.parent.mkdir(parents=True, exist_ok=True)
    if not args.clip.exists():
        make_clip(args.clip)
    frames = read_y4m_mono(args.clip)
    cascade = str(REPO / "assets/haarcascade_frontalface_default.xml")
    if not Path(cascade).exists():
        cascade = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
    rows = [reference(frames, args.model, cascade)]
    out = subprocess.run([str(args.melodora), "bench", "--video", str(args.clip), "--threads", "1",
                          "--frames", str(len(frames)), "--model", str(args.model), "--json"],
                         check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        row = json.loads(line)
        row["mode"] = "Melodora, " + row["mode"]
        rows.append(row)
    ref_fps = rows[0]["fps"]
    print(f"clip: {args.clip} ({len(frames)} frames of {W}x{H}); decode excluded; 1 thread")
    print(f"{'pipeline':<34}{'fps':>8}{'detect ms':>11}{'classify ms':>13}{'total ms':>10}{'faces':>7}{'vs ref':>8}")
    for r in rows:
        print(f"{r['mode']:<34}{r['fps']:>8.1f}{r['detect_ms']:>11.2f}{r['classify_ms']:>13.2f}"
              f"{r['total_ms']:>10.2f}{r['faces']:>7}{r['fps'] / ref_fps:>7.2f}x")
    if args.json_out:
        args.json_out.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
