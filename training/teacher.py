#!/usr/bin/env python3
"""Soft targets for knowledge distillation: an ensemble's class probabilities on the train split.

Averages the softmax of several trained checkpoints (each also on the horizontally flipped
image, and with --shift S on the image moved by S pixels up, down, left and right) over every
image of FER2013 `train`, and saves them as `probs` [N, 7] float32 in an
.npz, in the same image order that train.py uses. train.py --teacher FILE then fits a single
network to these targets, so the shipped model keeps one network's cost per face.

Example:
    python training/teacher.py --data ../shared/datasets/fer2013 --out RUN/teacher.npz \
        --checkpoint A/best.pt --checkpoint B/best.pt
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from train import load_split, model_from, normalise, read_checkpoint


def views(xb: torch.Tensor, shift: int) -> list[torch.Tensor]:
    """The batch, and with `shift` > 0 its copies moved by `shift` pixels (edges replicated)."""
    out = [xb]
    if shift > 0:
        s = shift
        padded = F.pad(xb, (s, s, s, s), mode="replicate")
        h, w = xb.shape[2], xb.shape[3]
        for dy, dx in ((0, s), (2 * s, s), (s, 0), (s, 2 * s)):
            out.append(padded[:, :, dy : dy + h, dx : dx + w])
    return out


@torch.no_grad()
def ensemble_probs(paths: list[Path], x: torch.Tensor, shift: int = 0, batch: int = 512) -> torch.Tensor:
    total = torch.zeros(len(x), 7)
    for path in paths:
        weights, config = read_checkpoint(path)
        model = model_from(config, weights)
        for i in range(0, len(x), batch):
            for view in views(normalise(x[i : i + batch]), shift):
                total[i : i + batch] += model(view).softmax(1) + model(torch.flip(view, dims=[3])).softmax(1)
        print(f"teacher {path}", flush=True)
    return total / total.sum(1, keepdim=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("../shared/datasets/fer2013"))
    ap.add_argument("--checkpoint", type=Path, action="append", required=True, help="a teacher (repeat)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--cache", type=Path, help="where train.py caches the decoded splits")
    ap.add_argument("--shift", type=int, default=0, help="also average over images moved by this many pixels")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cache = args.cache or args.out.parent / "cache"
    reports = {}
    for split in ("train", "val"):
        x, y = load_split(args.data, split, cache)
        probs = ensemble_probs(args.checkpoint, torch.from_numpy(x), args.shift)
        acc = (probs.argmax(1) == torch.from_numpy(y)).float().mean().item()
        reports[split] = (probs, acc)
        print(f"ensemble accuracy on {split}: {acc:.4f}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        args.out,
        probs=reports["train"][0].numpy().astype(np.float32),
        train_acc=reports["train"][1],
        val_acc=reports["val"][1],
        checkpoints=np.array([str(p) for p in args.checkpoint]),
        shift=args.shift,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
