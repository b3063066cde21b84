#!/usr/bin/env python3
"""Average the weights of checkpoints of one network (a "model soup") into one checkpoint.

Checkpoints that share a training trajectory (e.g. a model and the same model fine-tuned by
distillation) sit in one basin of the loss, so the average of their weights is a model of its
own, often better than either, at one network's cost per face. Batch-norm statistics are then
re-estimated on train images (averaged weights change every layer's activations). The output
has train.py's checkpoint format, for export_onnx.py.

Example:
    python training/soup.py --out SOUP/best.pt RUN_A/best.pt RUN_B/best.pt
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from train import EmotionNet, load_split, model_from, normalise, read_checkpoint


def average(states: list[dict]) -> dict:
    keys = states[0].keys()
    if any(s.keys() != keys for s in states):
        raise SystemExit("checkpoints are of different networks")
    out = {}
    for name in keys:
        tensors = [s[name] for s in states]
        if tensors[0].is_floating_point():
            out[name] = sum(t.float() for t in tensors) / len(tensors)
        else:  # e.g. BatchNorm's num_batches_tracked
            out[name] = tensors[0]
    return out


@torch.no_grad()
def reestimate_batch_norm(model: EmotionNet, x: torch.Tensor, images: int, batch: int = 256) -> None:
    """Running mean/variance of every BatchNorm recomputed as a plain average over `images`."""
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # cumulative average
    model.train()
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:images]
    for i in range(0, len(order), batch):
        model(normalise(x[order[i : i + batch]]))
    model.eval()


@torch.no_grad()
def accuracy(model: EmotionNet, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    logits = torch.cat([model(normalise(x[i : i + 512])) for i in range(0, len(x), 512)])
    return (logits.argmax(1) == y).float().mean().item()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", type=Path, nargs="+")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=Path("../shared/datasets/fer2013"))
    ap.add_argument("--cache", type=Path, help="where train.py caches the decoded splits")
    ap.add_argument("--bn-images", type=int, default=8192, help="train images for batch-norm statistics")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    loaded = [read_checkpoint(p) for p in args.checkpoints]
    config = loaded[0][1]
    model = model_from(config, average([weights for weights, _ in loaded]))
    cache = args.cache or args.out.parent / "cache"
    xtr, _ = load_split(args.data, "train", cache)
    xva, yva = load_split(args.data, "val", cache)
    reestimate_batch_norm(model, torch.from_numpy(xtr), args.bn_images)
    acc = accuracy(model, torch.from_numpy(xva), torch.from_numpy(yva))
    print(json.dumps({"val_acc": acc, "checkpoints": [str(p) for p in args.checkpoints]}), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    config = config | {"soup": [str(p) for p in args.checkpoints]}
    torch.save({"model": model.state_dict(), "config": config, "val": {"acc": acc}}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
