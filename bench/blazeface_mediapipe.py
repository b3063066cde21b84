#!/usr/bin/env python3
"""MediaPipe's own face detection (the `mediapipe` package's legacy
solution, 0.10.14, whose short-range model is the npm package's graph with
other metadata: 229,714 bytes against assets/blazeface's 229,032) on the
parity scenes, as
the fixture that Melodora's BlazeFace must reproduce:
crates/detector/tests/fixtures/blazeface/mediapipe_short.json
(per scene: [x, y, w, h, score] in pixels, best first).

The solution's full-range model is another file (the pruned
face_detection_full_range_sparse.tflite), so it is not compared here.

  bench/.venv/bin/pip install mediapipe==0.10.14
  bench/.venv/bin/python bench/blazeface_mediapipe.py
"""
import hashlib
import json
import pathlib

import mediapipe as mp
import numpy as np
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent
PARITY = ROOT / "crates/vision/tests/fixtures/parity"
OUT = ROOT / "crates/detector/tests/fixtures/blazeface/mediapipe_short.json"


def main():
    model = pathlib.Path(mp.__file__).parent / "modules/face_detection/face_detection_short_range.tflite"
    ours = ROOT / "assets/blazeface/face_detection_short_range.tflite"
    hashes = {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in
              (("mediapipe", model), ("vendored", ours))}
    manifest = json.loads((PARITY / "manifest.json").read_text())
    scenes = {}
    with mp.solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=0.5) as detector:
        for image in manifest["images"]:
            name = image["file"]
            pixels = np.asarray(Image.open(PARITY / "images" / name).convert("RGB"))
            height, width = pixels.shape[:2]
            found = detector.process(pixels).detections or []
            boxes = []
            for d in found:
                b = d.location_data.relative_bounding_box
                boxes.append([round(v, 3) for v in (b.xmin * width, b.ymin * height, b.width * width,
                                                    b.height * height, d.score[0])])
            scenes[name] = boxes
    OUT.write_text(json.dumps({"mediapipe": mp.__version__, "model": "face_detection_short_range.tflite",
                               "sha256": hashes, "min_score": 0.5, "scenes": scenes}, indent=1) + "\n")
    print(f"{sum(len(b) for b in scenes.values())} faces in {len(scenes)} images -> {OUT}")


if __name__ == "__main__":
    main()
