#!/usr/bin/env python3
"""Per-face latency of an emotion ONNX model: ONNX Runtime (1 intra-op thread) vs Melodora.

All run the same ONNX file on the same FER2013 val faces, batch sizes 1 and 8, in one run of
this script. ONNX Runtime is timed in-process on the preprocessed tensor; Melodora with
`melodora bench --emotion --batch B --json` (classification only, decode excluded), once with
the engine it picks for the model (the direct engine for the CNN layers it knows) and once with
`MELODORA_ENGINE=tract`.

    python bench/emotion_vs_onnxruntime.py [--model assets/emotion.onnx] [--melodora target/release/melodora]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

REPO = Path(__file__).resolve().parents[1]


def description(model: Path) -> dict:
    import onnx

    sidecar = Path(str(model) + ".json")
    if sidecar.exists():
        return json.loads(sidecar.read_text())
    meta = {p.key: p.value for p in onnx.load(str(model)).metadata_props}
    return json.loads(meta["melodora"])


def tensor(files: list[Path], desc: dict) -> np.ndarray:
    w, h = desc["input"]["width"], desc["input"]["height"]
    n = desc.get("normalization", {})
    scale, mean, std = n.get("scale", 255.0), n.get("mean", 0.0), n.get("std", 1.0)
    imgs = [np.asarray(Image.open(f).convert("L").resize((w, h), Image.BILINEAR), dtype=np.float32) for f in files]
    x = (np.stack(imgs) / scale - mean) / std
    if desc["input"].get("layout", "NCHW") == "NHWC":
        return x[..., None].astype(np.float32)
    return x[:, None].astype(np.float32)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=REPO / "assets/emotion.onnx")
    ap.add_argument("--melodora", type=Path, default=REPO / "target/release/melodora")
    ap.add_argument("--faces", type=int, default=64, help="how many val faces to time on")
    ap.add_argument("--repeat", type=int, default=21)
    args = ap.parse_args()

    val = REPO.parent / "shared/datasets/fer2013/val"
    files = sorted(val.glob("*/*.jpg"))[:: max(1, 3589 // args.faces)][: args.faces]
    desc = description(args.model)
    x = tensor(files, desc)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(args.model), so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name

    print(f"# Emotion model latency: ONNX Runtime {ort.__version__} (1 thread) vs Melodora\n")
    print(f"model `{args.model.name}`, {len(files)} FER2013 val faces, median of {args.repeat} runs per batch\n")
    print("| batch | ONNX Runtime ms/face | Melodora ms/face (engine) | ratio ORT/Melodora | Melodora on tract ms/face | ratio ORT/tract |")
    print("|---|---|---|---|---|---|")
    for batch in (1, 8):
        per_batch = []
        for i in range(0, len(files) - batch + 1, batch):
            xb = x[i : i + batch]
            sess.run(None, {name: xb})
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                sess.run(None, {name: xb})
                times.append((time.perf_counter() - t) * 1e3)
            per_batch.append(statistics.median(times))
        ort_ms = statistics.median(per_batch) / batch
        cmd = [str(args.melodora), "bench", "--emotion", "--batch", str(batch), "--repeat", str(args.repeat), "--json"]
        if args.model.resolve() != (REPO / "assets/emotion.onnx").resolve():
            cmd += ["--model", str(args.model)]
        runs = {}
        for engine in ("", "tract"):
            env = dict(os.environ, MELODORA_ENGINE=engine)
            out = subprocess.run(cmd + [str(f) for f in files], check=True, capture_output=True, text=True, env=env).stdout
            runs[engine] = json.loads(out.strip().splitlines()[-1])
        mel, tract = runs[""], runs["tract"]
        mel_ms, tract_ms = mel["median_ms_per_face"], tract["median_ms_per_face"]
        print(
            f"| {batch} | {ort_ms:.3f} | {mel_ms:.3f} ({mel['engine']}) | {ort_ms / mel_ms:.2f} "
            f"| {tract_ms:.3f} | {ort_ms / tract_ms:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
