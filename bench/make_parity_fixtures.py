#!/usr/bin/env python3
"""Generate the image fixtures for the Haar cascade parity tests.

Writes lossless PNGs (never JPEG: decoders differ) into
crates/vision/tests/fixtures/parity/images/ plus a manifest.json next to the
images folder describing every image (kind, whether it contains a human face,
the boxes of the faces pasted into composed scenes, provenance).

Everything is deterministic: a fixed seed drives every random choice and the
FER2013 file list is sorted before sampling.

Sources
  * real photos bundled with scikit-image (only the ones that load offline);
  * composed 640x480 scenes: FER2013 validation faces (48x48 gray, from
    ../shared/datasets/fer2013/val/<emotion>/) upscaled with INTER_CUBIC and
    pasted on backgrounds cut from scikit-image photos/textures;
  * synthetic no-face images (flat, gradients, noise, stripes, checkerboard)
    and two edge-case sizes (smaller than / equal to the 24x24 window).

Usage:  python bench/make_parity_fixtures.py [--out DIR] [--fer DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "crates" / "vision" / "tests" / "fixtures" / "parity"
DEFAULT_FER = REPO.parent / "shared" / "datasets" / "fer2013" / "val"
SEED = 20240611
W, H = 640, 480
EMOTIONS = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]


# --------------------------------------------------------------------------
# scikit-image sources (offline only)
# --------------------------------------------------------------------------

def load_skimage(name: str):
    """Return an RGB or gray uint8 array from skimage.data, or None when that
    image is not bundled with the installed wheel (would need a download)."""
    import skimage.data as skd

    fn = getattr(skd, name, None)
    if fn is None:
        return None
    try:
        img = fn()
    except Exception as exc:  # needs pooch / network -> skip
        print(f"  skip skimage.data.{name}: {type(exc).__name__}", file=sys.stderr)
        return None
    if isinstance(img, tuple):
        img = img[0]
    img = np.asarray(img)
    if img.dtype == bool:
        img = img.astype(np.uint8) * 255
    elif img.dtype != np.uint8:
        img = np.clip(np.round(img.astype(np.float64) * 255.0), 0, 255).astype(np.uint8)
    if img.ndim == 3 and img.shape[2] == 4:
        img = img[:, :, :3]
    return np.ascontiguousarray(img)


def to_gray(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img


def to_rgb(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB) if img.ndim == 2 else img


def crop_resize(img: np.ndarray, w: int, h: int, rng: random.Random, min_frac: float = 0.55) -> np.ndarray:
    """Random crop with aspect w:h covering >= min_frac of the limiting side,
    resized to exactly w x h."""
    ih, iw = img.shape[:2]
    aspect = w / h
    max_cw = min(iw, int(ih * aspect))
    cw = rng.randint(max(8, int(max_cw * min_frac)), max_cw)
    ch = max(1, min(ih, int(round(cw / aspect))))
    x0 = rng.randint(0, iw - cw)
    y0 = rng.randint(0, ih - ch)
    crop = img[y0:y0 + ch, x0:x0 + cw]
    interp = cv2.INTER_AREA if cw > w else cv2.INTER_LINEAR
    return cv2.resize(crop, (w, h), interpolation=interp)


# --------------------------------------------------------------------------
# FER faces
# --------------------------------------------------------------------------

class FacePool:
    def __init__(self, fer_dir: Path, rng: random.Random):
        self.files = {}
        for emo in EMOTIONS:
            files = sorted((fer_dir / emo).glob("*.jpg"))
            if not files:
                raise SystemExit(f"no FER images in {fer_dir / emo}")
            # One face per emotion, reused across scenes: the repository may
            # hold only a handful of FER images (see ../shared/README.md).
            self.files[emo] = [rng.choice(files)]
        self.rng = rng
        self.next_emo = 0
        self.used: set[Path] = set()

    def take(self):
        emo = EMOTIONS[self.next_emo % len(EMOTIONS)]
        self.next_emo += 1
        f = self.rng.choice(self.files[emo])
        self.used.add(f)
        img = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise SystemExit(f"cannot read {f}")
        return emo, f, img


def feather_mask(size: int) -> np.ndarray:
    """Alpha in [0,1]: 1 inside, linear ramp over the outer ~6% of the crop so
    the pasted square has no hard edge."""
    ramp = max(2, size // 16)
    d = np.arange(size, dtype=np.float32)
    edge = np.minimum(d, size - 1 - d)
    a1 = np.clip((edge + 1) / (ramp + 1), 0.0, 1.0)
    return np.outer(a1, a1)


def paste(canvas: np.ndarray, face: np.ndarray, x: int, y: int) -> None:
    """Alpha-blend `face` (gray or RGB, same channel count as canvas) at (x,y);
    parts outside the canvas are clipped."""
    s = face.shape[0]
    ch, cw = canvas.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(cw, x + s), min(ch, y + s)
    if x0 >= x1 or y0 >= y1:
        return
    a = feather_mask(s)[y0 - y:y1 - y, x0 - x:x1 - x]
    f = face[y0 - y:y1 - y, x0 - x:x1 - x].astype(np.float32)
    c = canvas[y0:y1, x0:x1].astype(np.float32)
    if canvas.ndim == 3:
        a = a[:, :, None]
    canvas[y0:y1, x0:x1] = np.clip(np.round(a * f + (1 - a) * c), 0, 255).astype(np.uint8)


def prep_face(img48: np.ndarray, size: int, rng: random.Random, colour: bool,
              contrast: tuple[float, float] = (0.85, 1.15), bright: tuple[int, int] = (-20, 20)) -> np.ndarray:
    face = cv2.resize(img48, (size, size), interpolation=cv2.INTER_CUBIC)
    if rng.random() < 0.3:
        face = np.ascontiguousarray(face[:, ::-1])
    alpha = rng.uniform(*contrast)
    beta = rng.randint(*bright)
    face = np.clip(face.astype(np.float32) * alpha + beta, 0, 255).astype(np.uint8)
    if colour:
        tint = np.array([1.10, 0.93, 0.80], np.float32)  # skin-ish, RGB order
        face = np.clip(face[:, :, None].astype(np.float32) * tint, 0, 255).astype(np.uint8)
    return face


def place_faces(sizes, rng: random.Random, w: int, h: int, fixed=None, margin_frac=0.15, tries=4000):
    """Rejection-sample non-overlapping positions. `fixed` maps index -> (x,y)."""
    fixed = fixed or {}
    boxes = []
    for i, s in enumerate(sizes):
        if i in fixed:
            boxes.append((fixed[i][0], fixed[i][1], s))
            continue
        for _ in range(tries):
            x = rng.randint(0, max(0, w - s))
            y = rng.randint(0, max(0, h - s))
            ok = True
            for (bx, by, bs) in boxes:
                m = int(margin_frac * max(s, bs))
                if x < bx + bs + m and bx < x + s + m and y < by + bs + m and by < y + s + m:
                    ok = False
                    break
            if ok:
                boxes.append((x, y, s))
                break
        else:
            raise RuntimeError(f"could not place face {i} of sizes {sizes}")
    return boxes


# --------------------------------------------------------------------------
# synthetic images
# --------------------------------------------------------------------------

def synth_images(rng_np: np.random.Generator):
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    out = {}
    out["noface_flat_gray_640x480.png"] = (np.full((H, W), 128, np.uint8), "flat 128")
    out["noface_flat_white_640x480.png"] = (np.full((H, W), 255, np.uint8),
                                            "flat 255 (squared integral exceeds i32 over the full image)")
    out["noface_gradient_horizontal_640x480.png"] = (
        np.round(xx * 255.0 / (W - 1)).astype(np.uint8), "horizontal ramp 0..255")
    r = np.sqrt((xx - W / 2) ** 2 + (yy - H / 2) ** 2)
    out["noface_gradient_radial_640x480.png"] = (
        np.clip(255 - r * 255.0 / r.max(), 0, 255).round().astype(np.uint8), "radial ramp")
    out["noface_noise_uniform_320x240.png"] = (
        rng_np.integers(0, 256, size=(240, 320), dtype=np.uint8), "uniform noise, seeded")
    out["noface_checkerboard_640x480.png"] = (
        (((xx // 20).astype(int) + (yy // 20).astype(int)) % 2 * 200 + 28).astype(np.uint8),
        "20 px checkerboard 28/228")
    stripes = 127.5 + 100 * np.sin(2 * np.pi * (xx * 0.8 + yy * 0.6) / 37.0)
    out["noface_stripes_sine_640x480.png"] = (np.round(stripes).astype(np.uint8), "diagonal sine stripes")
    return out


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="parity fixture folder (images/ goes inside)")
    ap.add_argument("--fer", type=Path, default=DEFAULT_FER, help="FER2013 val folder with <emotion>/*.jpg")
    ap.add_argument("--keep", action="store_true", help="do not delete existing PNGs first")
    args = ap.parse_args()

    img_dir = args.out / "images"
    if img_dir.exists() and not args.keep:
        for p in img_dir.glob("*.png"):
            p.unlink()
    img_dir.mkdir(parents=True, exist_ok=True)

    rng = random.Random(SEED)
    rng_np = np.random.default_rng(SEED)
    manifest = []

    def save(name: str, img: np.ndarray, kind: str, has_faces: bool, source: str, faces=None):
        path = img_dir / name
        bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if img.ndim == 3 else img
        if not cv2.imwrite(str(path), bgr, [cv2.IMWRITE_PNG_COMPRESSION, 9]):
            raise SystemExit(f"failed to write {path}")
        entry = {"file": name, "kind": kind, "width": int(img.shape[1]), "height": int(img.shape[0]),
                 "channels": 3 if img.ndim == 3 else 1, "has_faces": has_faces, "source": source,
                 "sha256_pixels": hashlib.sha256(np.ascontiguousarray(bgr).tobytes()).hexdigest()}
        if faces is not None:
            entry["pasted_faces"] = faces
        manifest.append(entry)

    # ---------------- real photos --------------------------------------
    srcs = {}
    for n in ["astronaut", "camera", "coffee", "chelsea", "rocket", "coins", "moon", "page", "text", "clock",
              "brick", "grass", "gravel", "hubble_deep_field", "immunohistochemistry", "retina", "cell",
              "stereo_motorcycle", "colorwheel", "lfw_subset"]:
        im = load_skimage(n)
        if im is not None:
            srcs[n] = im
    print(f"scikit-image sources available offline: {sorted(srcs)}")

    def have(*names):
        return all(n in srcs for n in names)

    if have("astronaut"):
        a = srcs["astronaut"]
        save("photo_astronaut.png", a, "photo", True, "skimage astronaut, RGB 512x512 as shipped")
        # 4:3 crop of the top of the image, upscaled to 640x480, gray
        a43 = cv2.resize(to_gray(a[0:384, 0:512]), (W, H), interpolation=cv2.INTER_LINEAR)
        save("photo_astronaut_gray_640x480.png", a43, "photo", True,
             "skimage astronaut rows 0..384, gray, resized to 640x480 (INTER_LINEAR)")
        # off-centre colour crop containing the face, resized to 640x480
        ac = cv2.resize(a[30:330, 60:460], (W, H), interpolation=cv2.INTER_LINEAR)
        save("photo_astronaut_face_crop_640x480.png", ac, "photo", True,
             "skimage astronaut [30:330, 60:460], RGB, resized to 640x480")
        small = cv2.resize(to_gray(a), (256, 256), interpolation=cv2.INTER_AREA)
        save("photo_astronaut_small_256.png", small, "photo", True,
             "skimage astronaut gray, INTER_AREA to 256x256 (face ~48 px)")
    if have("camera"):
        save("photo_camera.png", srcs["camera"], "photo", True, "skimage camera (cameraman, gray 512x512)")
    if have("lfw_subset"):
        lfw = srcs["lfw_subset"]  # first 100 are faces (25x25)
        grid = np.zeros((H, W), np.uint8)
        faces = []
        idx = rng.sample(range(100), 12)
        for k, i in enumerate(idx):
            s = 120
            f = cv2.resize(lfw[i], (s, s), interpolation=cv2.INTER_CUBIC)
            r, c = divmod(k, 4)
            x, y = 20 + c * 155, 20 + r * 155
            grid[y:y + s, x:x + s] = f
            faces.append([x, y, s, s])
        save("photo_lfw_faces_grid_640x480.png", grid, "photo", True,
             "12 skimage lfw_subset faces (25x25) upscaled INTER_CUBIC to 120 px in a 4x3 grid", faces)
    if have("coffee"):
        save("noface_coffee.png", srcs["coffee"], "photo", False, "skimage coffee, RGB 600x400 as shipped")
    if have("chelsea"):
        save("noface_chelsea_cat.png", srcs["chelsea"], "photo", False,
             "skimage chelsea (cat), RGB 451x300 as shipped (odd width)")
    if have("rocket"):
        r = srcs["rocket"]  # 427x640
        save("noface_rocket_640x480.png", cv2.resize(r[:, 35:604], (W, H), interpolation=cv2.INTER_LINEAR),
             "photo", False, "skimage rocket cropped to 4:3, RGB, resized to 640x480")
    if have("coins"):
        save("noface_coins.png", srcs["coins"], "photo", False,
             "skimage coins gray 384x303 (known false positives for the frontal face cascade)")
    if have("hubble_deep_field"):
        save("noface_hubble_gray_640x480.png",
             cv2.resize(to_gray(srcs["hubble_deep_field"])[100:850, 0:1000], (W, H), interpolation=cv2.INTER_AREA),
             "photo", False, "skimage hubble_deep_field gray, crop, INTER_AREA to 640x480")
    if have("page"):
        save("noface_page.png", srcs["page"], "photo", False, "skimage page (text) gray 384x191")
    if have("brick"):
        save("noface_brick_texture.png", srcs["brick"], "texture", False, "skimage brick gray 512x512")

    # ---------------- synthetic no-face & edge cases -------------------
    for name, (img, desc) in synth_images(rng_np).items():
        save(name, img, "synthetic", False, desc)

    pool = FacePool(args.fer, rng)
    tiny = rng_np.integers(0, 256, size=(16, 20), dtype=np.uint8)
    save("edge_tiny_20x16.png", tiny, "edge", False, "20x16 noise: smaller than the 24x24 window -> no scan")
    emo, f, f48 = pool.take()
    save("edge_window_24x24_face.png", cv2.resize(f48, (24, 24), interpolation=cv2.INTER_AREA), "edge", True,
         f"FER {emo}/{f.name} downscaled to exactly the 24x24 window (one scan position at scale 1)",
         [[0, 0, 24, 24]])

    # ---------------- composed scenes ----------------------------------
    bg_gray_srcs = [n for n in ["coffee", "brick", "rocket", "moon", "clock", "grass", "hubble_deep_field", "coins",
                                "page", "gravel", "immunohistochemistry", "cell", "stereo_motorcycle", "retina",
                                "text", "chelsea"] if n in srcs]
    bg_col_srcs = [n for n in ["coffee", "rocket", "immunohistochemistry", "stereo_motorcycle", "hubble_deep_field",
                               "retina", "colorwheel"] if n in srcs]
    if not bg_gray_srcs or not bg_col_srcs:
        raise SystemExit("no scikit-image backgrounds available")

    # (name, n_faces or explicit sizes, colour, bg, special)
    specs = [
        ("scene_01_one_face_large", [240], False, "coffee", None),
        ("scene_02_one_face", [150], False, "brick", None),
        ("scene_03_two_faces", [130, 170], False, "rocket", None),
        ("scene_04_two_faces", [110, 200], False, "moon", None),
        ("scene_05_three_faces", [100, 140, 120], False, "clock", None),
        ("scene_06_three_faces", [160, 95, 125], False, "grass", None),
        ("scene_07_four_faces", [100, 110, 95, 130], False, "hubble_deep_field", None),
        ("scene_08_four_faces", [120, 90, 105, 100], False, "coins", None),
        ("scene_09_face_top_left_border", [180], False, "gravel", "top_left"),
        ("scene_10_face_right_border", [200, 110], False, "cell", "right"),
        ("scene_11_faces_bottom_corners", [140, 150], False, "stereo_motorcycle", "bottom_corners"),
        ("scene_12_face_cut_by_border", [220, 120], False, "text", "cut"),
        ("scene_13_small_faces", [44, 52, 40, 58, 48], False, "brick", None),
        ("scene_14_small_and_large_faces", [50, 60, 42, 230], False, "moon", None),
        ("scene_15_mixed_sizes", [90, 260], False, "immunohistochemistry", None),
        ("scene_16_one_face_low_contrast", [190], False, "clock", "low_contrast"),
        ("scene_17_two_faces_bright", [150, 140], False, "page", "bright"),
        ("scene_18_three_faces_retina", [115, 135, 100], False, "retina", None),
        ("scene_19_one_face_flat_bg", [170], False, "flat", None),
        ("scene_20_two_faces_gradient_bg", [125, 185], False, "gradient", None),
        ("scene_21_color_one_face", [210], True, "coffee", None),
        ("scene_22_color_two_faces", [140, 120], True, "rocket", None),
        ("scene_23_color_three_faces", [100, 150, 115], True, "immunohistochemistry", None),
        ("scene_24_color_four_faces_border", [95, 120, 105, 140], True, "stereo_motorcycle", "top_left"),
        ("scene_25_odd_size_517x333_two_faces", [100, 130], False, "chelsea", "odd"),
    ]
    for name, sizes, colour, bg, special in specs:
        w, h = (517, 333) if special == "odd" else (W, H)
        if bg == "flat":
            canvas = np.full((h, w), 96, np.uint8)
        elif bg == "gradient":
            canvas = np.tile(np.linspace(30, 220, w).round().astype(np.uint8), (h, 1))
        else:
            src = srcs[bg] if bg in srcs else srcs[rng.choice(bg_col_srcs if colour else bg_gray_srcs)]
            canvas = crop_resize(to_rgb(src) if colour else to_gray(src), w, h, rng)
        canvas = np.ascontiguousarray(canvas)

        fixed = {}
        if special == "top_left":
            fixed[0] = (rng.randint(0, 3), rng.randint(0, 3))
        elif special == "right":
            fixed[0] = (w - sizes[0] - rng.randint(0, 2), rng.randint(40, h - sizes[0] - 40))
        elif special == "bottom_corners":
            fixed[0] = (rng.randint(0, 2), h - sizes[0] - rng.randint(0, 2))
            fixed[1] = (w - sizes[1] - rng.randint(0, 2), h - sizes[1] - rng.randint(0, 2))
        elif special == "cut":
            fixed[0] = (-sizes[0] // 3, rng.randint(60, h - sizes[0] - 20))  # one third outside on the left
        boxes = place_faces(sizes, rng, w, h, fixed)

        faces_meta = []
        for (x, y, s) in boxes:
            emo, f, f48 = pool.take()
            contrast, bright = (0.85, 1.15), (-20, 20)
            if special == "low_contrast":
                contrast, bright = (0.35, 0.45), (40, 60)
            elif special == "bright":
                contrast, bright = (0.9, 1.0), (50, 70)
            face = prep_face(f48, s, rng, colour, contrast, bright)
            paste(canvas, face, x, y)
            faces_meta.append({"box": [x, y, s, s], "emotion": emo, "fer_file": f"val/{emo}/{f.name}"})
        desc = (f"{'RGB' if colour else 'gray'} {w}x{h}; background {bg}; {len(boxes)} FER faces upscaled "
                f"INTER_CUBIC, feathered paste" + (f"; {special}" if special else ""))
        save(f"{name}.png", canvas, "scene", True, desc, faces_meta)

    manifest.sort(key=lambda e: e["file"])
    (args.out / "manifest.json").write_text(json.dumps(
        {"generated_by": "bench/make_parity_fixtures.py", "seed": SEED,
         "note": "pasted_faces boxes are where FER crops were pasted, not detector ground truth; "
                 "has_faces marks images containing at least one human face",
         "images": manifest}, indent=1) + "\n")

    total = sum((img_dir / e["file"]).stat().st_size for e in manifest)
    n_scene = sum(e["kind"] == "scene" for e in manifest)
    print(f"wrote {len(manifest)} images ({n_scene} scenes) to {img_dir}, {total / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
