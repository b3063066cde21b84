#!/usr/bin/env python3
"""Write assets/MODEL_CARD.md for the shipped emotion model from measured numbers only.

Inputs: the training run (config.json, last.pt history), the ONNX file, the JSON printed by
`melodora eval ../shared/datasets/fer2013/val --json` (so the card matches what the binary
prints), and optionally the latency table printed by bench/emotion_vs_onnxruntime.py.

    python training/model_card.py --run RUN --onnx assets/emotion.onnx --eval eval.json \
        [--latency latency.md] [--command "..."] > assets/MODEL_CARD.md
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--onnx", type=Path, required=True)
    ap.add_argument("--eval", type=Path, required=True, help="melodora eval --json output")
    ap.add_argument("--latency", type=Path, help="bench/emotion_vs_onnxruntime.py output (markdown)")
    ap.add_argument("--command", action="append", default=[], help="training command(s) as run")
    args = ap.parse_args()

    cfg = json.loads((args.run / "config.json").read_text())
    ck = torch.load(args.run / "last.pt", map_location="cpu", weights_only=False)
    history = ck["state"]["history"]
    best = max(history, key=lambda h: h["val_acc"])
    ev = json.loads(args.eval.read_text())
    n, acc = ev["n"], ev["accuracy"]
    correct = round(acc * n)
    labels = ev["labels"]
    size = args.onnx.stat().st_size

    out = []
    p = out.append
    p("# Model card: Melodora default emotion model\n")
    p(f"File: `assets/{args.onnx.name}` ({size / 1e6:.1f} MB, ONNX opset 17), embedded in the `melodora` binary.\n")
    p("## Result\n")
    p(f"**Val accuracy (FER2013 PublicTest, `melodora eval`): {acc * 100:.2f} % ({correct} of {n} images).**\n")
    p(f"Training-time selection metric on the same split (PyTorch): {best['val_acc'] * 100:.2f} % at epoch "
      f"{best['epoch']}; with horizontal-flip test-time averaging {best['val_acc_flip_tta'] * 100:.2f} % "
      "(not used by the binary).\n")
    p("The held-out FER2013 PrivateTest split was never used.\n")
    p("### Per class (val)\n")
    p("| class | precision | recall | F1 | support |\n|---|---|---|---|---|")
    for label in labels:
        m = ev["per_class"][label]
        p(f"| {label} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |")
    p("\n### Confusion matrix (val; rows true, columns predicted)\n")
    p("| | " + " | ".join(labels) + " |\n|---|" + "---|" * len(labels))
    for label, row in zip(labels, ev["confusion"]):
        p(f"| **{label}** | " + " | ".join(str(c) for c in row) + " |")
    p("\n## Architecture\n")
    w = cfg["widths"]
    p(f"VGG-style CNN on 48x48 gray faces: 4 blocks of [conv3x3-BN-ReLU] x2 + max-pool, widths {w}, "
      f"global average pooling, dropout {cfg['dropout']}, linear to 7 classes. {cfg['params']:,} parameters.\n")
    p("Input description (embedded in the ONNX metadata under `melodora`): 48x48, 1 channel, NCHW, "
      f"x = (pixel / 255 - {cfg['mean']}) / {cfg['std']}; outputs logits in the order "
      f"{', '.join(cfg['labels'])}.\n")
    p("## Training\n")
    p(f"Data: `../shared/datasets/fer2013/train` (28,709 images) for fitting, `val` (3,589) for selection only. "
      f"SGD (momentum 0.9, Nesterov), batch {cfg['batch']}, peak LR {cfg['lr']}, weight decay {cfg['wd']}, "
      f"1 warm-up epoch then cosine decay, label smoothing {cfg['smoothing']}, bf16 autocast. Augmentation per "
      "batch: random affine (shift ±10 %, scale 0.85-1.15, rotation ±12°, horizontal flip) and random erasing. "
      "No class re-weighting (disgust is 1.5 % of train), so disgust recall is low.\n")
    p(f"Epochs: {len(history)} on the 2-core CPU machine (no GPU was available), "
      f"{sum(h['seconds'] for h in history) / 60:.0f} minutes in total.\n")
    p("Command(s), from the repository root:\n")
    p("```sh")
    p("python3 -m venv .venv-train && .venv-train/bin/pip install torch torchvision onnx onnxruntime pillow numpy")
    for c in args.command or [f"python training/train.py --run RUN --epochs {cfg['epochs']}"]:
        p(c)
    p("python training/export_onnx.py --checkpoint RUN/best.pt --out assets/emotion.onnx")
    p("```\n")
    p("Training checkpoints every epoch (`RUN/last.pt`) and resumes from it when rerun.\n")
    p("### History\n")
    p("| epoch | train loss | train acc | val acc | val acc (flip TTA) | seconds |\n|---|---|---|---|---|---|")
    for h in history:
        p(f"| {h['epoch']} | {h['train_loss']:.3f} | {h['train_acc']:.3f} | {h['val_acc']:.4f} | "
          f"{h['val_acc_flip_tta']:.4f} | {h['seconds']:.0f} |")
    if args.latency:
        p("\n## Latency (one core)\n")
        p(args.latency.read_text().strip())
    p("\n## Licence of the data\n")
    p("FER2013 (Goodfellow et al., 2013), released for research by the ICML 2013 challenge organisers; the "
      "images are not redistributed here. The model weights are derived from it; check the data's terms "
      "before commercial use.")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
