"""fer's own preprocessing for its emotion model, applied to an image-folder data set.

What fer 25.10.3 does (fer/fer.py, FER.detect_emotions with the Keras model,
use_tflite=False), for an already-cropped face:
  1. img = cv2.imread(path)                      (fer/utils.py load_image: BGR, 3 channels)
  2. gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
  3. face = cv2.resize(gray, (64, 64))           (default interpolation: INTER_LINEAR)
     64x64 is model.input_shape[1:3] of fer/data/emotion_model.hdf5
  4. x = face.astype(float32) / 255.0; x = (x - 0.5) * 2.0     -> [-1, 1]
  5. x = x[..., None]  (NHWC, one channel); output index i -> FER_LABELS[i]
     (FER._get_labels: angry, disgust, fear, happy, sad, surprise, neutral)

The face-detection, square-ing, 10-pixel offset and 40-pixel padding steps of
detect_emotions are skipped: the data set images are already cropped faces,
which is also what `melodora eval` assumes.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

FER_LABELS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".pgm"}


def fer_preprocess(path: Path, size: int = 64) -> np.ndarray:
    img = cv2.imread(str(path))
    if img is None:
        raise ValueError(f"cannot read {path}")
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    face = cv2.resize(gray, (size, size))
    x = face.astype("float32") / 255.0
    x = (x - 0.5) * 2.0
    return x[..., None]


def list_dataset(root: Path, limit_per_class: int | None = None) -> list[tuple[Path, int]]:
    """(path, fer label index) for every image under root/<label>/, sorted by label then name."""
    items: list[tuple[Path, int]] = []
    for idx, label in enumerate(FER_LABELS):
        d = root / label
        if not d.is_dir():
            continue
        files = sorted(p for p in d.iterdir() if p.suffix.lower() in IMAGE_EXTS)
        if limit_per_class is not None:
            files = files[:limit_per_class]
        items.extend((p, idx) for p in files)
    return items


def load_dataset(root: Path, limit_per_class: int | None = None):
    """Returns (x [N,64,64,1] float32, y [N] int64, paths)."""
    items = list_dataset(root, limit_per_class)
    if not items:
        raise SystemExit(f"no images under {root}/<{','.join(FER_LABELS)}>/")
    x = np.stack([fer_preprocess(p) for p, _ in items])
    y = np.array([i for _, i in items], dtype=np.int64)
    return x, y, [p for p, _ in items]
