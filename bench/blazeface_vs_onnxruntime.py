#!/usr/bin/env python3
"""BlazeFace's network alone, side by side: Melodora's compiled graph
(crates/detector/examples/blazeface_graph_time.rs) against ONNX Runtime
running the same model converted to ONNX (tflite2onnx, the converted file
kept in a temporary folder only), one thread each, pinned to the same CPU,
on the same input tensors (the parity scenes, resized to the model's input
and scaled to [-1, 1] as the detector feeds them). Both outputs are checked
against LiteRT's (the model's own runtime) before anything is timed.

  bench/.venv/bin/python bench/blazeface_vs_onnxruntime.py [RUNS]

Needs the bench venv (bench/setup_env.sh) and cargo (it builds the example).
"""
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
import tflite2onnx
from ai_edge_litert.interpreter import Interpreter
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCENES = sorted((ROOT / "crates/vision/tests/fixtures/parity/images").glob("scene_0[12358]*.png"))
MODELS = {"short": ROOT / "assets/blazeface/face_detection_short_range.tflite",
          "full": ROOT / "assets/blazeface/face_detection_full_range.tflite"}
# LiteRT against either engine, on outputs of order 1-100 (box offsets in
# input pixels, logits): float sums in another order.
TOLERANCE = 2e-3


def example_binary():
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    subprocess.run(["cargo", "build", "--release", "--locked", "-q", "-p", "melodora-detector",
                    "--example", "blazeface_graph_time"], cwd=ROOT, check=True)
    return target / "release/examples/blazeface_graph_time"


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    cpu = str(os.cpu_count() - 1)
    ours_bin = example_binary()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        for name, model in MODELS.items():
            onnx_path = tmp / f"{name}.onnx"
            tflite2onnx.convert(str(model), str(onnx_path))
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
            feed = session.get_inputs()[0].name
            litert = Interpreter(model_path=str(model), num_threads=1)
            litert.allocate_tensors()
            spec = litert.get_input_details()[0]
            _, height, width, _ = spec["shape"]
            ours_ms, theirs_ms, worst = [], [], 0.0
            for scene in SCENES:
                pixels = np.asarray(Image.open(scene).convert("RGB").resize((width, height), Image.BILINEAR))
                x = (pixels.astype(np.float32) / 127.5 - 1.0)[None]
                litert.set_tensor(spec["index"], x)
                litert.invoke()
                reference = np.concatenate([litert.get_tensor(o["index"]).ravel()
                                            for o in litert.get_output_details()])
                (tmp / "in.f32").write_bytes(x.astype("<f4").tobytes())
                ms = subprocess.run(["taskset", "-c", cpu, str(ours_bin), str(model), str(tmp / "in.f32"),
                                     str(tmp / "out.f32"), str(runs)], check=True, capture_output=True,
                                    text=True).stdout
                ours_ms.append(float(ms))
                ours_out = np.frombuffer((tmp / "out.f32").read_bytes(), dtype="<f4")
                nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
                theirs_out = np.concatenate([o.ravel() for o in session.run(None, {feed: nchw})])
                worst = max(worst, float(np.abs(ours_out - reference).max()),
                            float(np.abs(theirs_out - reference).max()))
                os.sched_setaffinity(0, {int(cpu)})
                for _ in range(runs // 10):
                    session.run(None, {feed: nchw})
                times = []
                for _ in range(runs):
                    start = time.perf_counter()
                    session.run(None, {feed: nchw})
                    times.append((time.perf_counter() - start) * 1e3)
                theirs_ms.append(statistics.median(times))
                os.sched_setaffinity(0, set(range(os.cpu_count())))
            if worst > TOLERANCE:
                sys.exit(f"{name} range: outputs differ from LiteRT's by {worst} (> {TOLERANCE})")
            ours, theirs = statistics.mean(ours_ms), statistics.mean(theirs_ms)
            print(f"BlazeFace {name} range {width}x{height}, the network alone, one thread, mean of per-scene "
                  f"medians over {len(SCENES)} scenes (outputs within {worst:.1e} of LiteRT's):")
            print(f"  Melodora (compiled graph): {ours:.2f} ms")
            print(f"  ONNX Runtime {ort.__version__} (tflite2onnx {tflite2onnx.__version__}): {theirs:.2f} ms")
            print(f"  ratio: {theirs / ours:.2f}x (above 1: Melodora faster)")


if __name__ == "__main__":
    main()
