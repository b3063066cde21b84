#!/usr/bin/env python3
"""TFLite's own answers for BlazeFace, as fixtures for Melodora's runs of it.

For each model in assets/blazeface/ and each scene below (the Haar parity
scenes: FER2013 val faces composed on photographs), resizes the scene to the
model's input (Pillow, bilinear), runs TFLite's runtime (LiteRT, in the
bench venv: bench/requirements.txt) on it with MediaPipe's normalisation
(x / 127.5 - 1, float32) and writes, under
crates/detector/tests/fixtures/blazeface/:

  <scene>_<side>.png        the resized input, exactly as fed
  <scene>_<side>.f32        the raw outputs: the regressors ([anchors, 16])
                            then the scores ([anchors, 1]), float32 LE
  reference.json            versions, shapes, and which file is which

The Rust tests (crates/detector/tests/blazeface_reference.rs) read the PNG,
normalise it the same way and compare their outputs with these.

  bench/.venv/bin/python bench/blazeface_reference.py
"""
import json
import pathlib

import numpy as np
from PIL import Image
from ai_edge_litert import interpreter as litert
import ai_edge_litert

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCENES = ROOT / "crates/vision/tests/fixtures/parity/images"
OUT = ROOT / "crates/detector/tests/fixtures/blazeface"
MODELS = {
    "face_detection_short_range.tflite": "short",
    "face_detection_full_range.tflite": "full",
}
CASES = ["scene_02_one_face", "scene_05_three_faces"]


def run(model_path, image):
    net = litert.Interpreter(model_path=str(model_path), num_threads=1)
    net.allocate_tensors()
    [inp] = net.get_input_details()
    x = np.asarray(image, dtype=np.float32)[None] / np.float32(127.5) - np.float32(1.0)
    net.set_tensor(inp["index"], x.astype(np.float32))
    net.invoke()
    outputs = sorted(net.get_output_details(), key=lambda d: -d["shape"][-1])
    return [net.get_tensor(d["index"]).astype("<f4") for d in outputs]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    index = {"litert": ai_edge_litert.__version__, "normalise": "x / 127.5 - 1", "cases": []}
    for model, name in MODELS.items():
        path = ROOT / "assets/blazeface" / model
        net = litert.Interpreter(model_path=str(path))
        side = int(net.get_input_details()[0]["shape"][1])
        for scene in CASES:
            image = Image.open(SCENES / f"{scene}.png").convert("RGB").resize((side, side), Image.BILINEAR)
            stem = f"{scene}_{side}"
            image.save(OUT / f"{stem}.png")
            regressors, scores = run(path, image)
            (OUT / f"{stem}.f32").write_bytes(regressors.tobytes() + scores.tobytes())
            index["cases"].append({
                "model": model, "input": f"{stem}.png", "outputs": f"{stem}.f32",
                "regressors": list(regressors.shape), "scores": list(scores.shape),
                "best_score_logit": float(scores.max()),
            })
            print(f"{name} {scene}: regressors {regressors.shape}, best score logit {scores.max():.3f}")
    (OUT / "reference.json").write_text(json.dumps(index, indent=2) + "\n")


if __name__ == "__main__":
    main()
