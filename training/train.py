#!/usr/bin/env python3
"""Train Melodora's default emotion model on FER2013 (train split), selecting on val.

A compact VGG-style CNN (4 blocks of 2 conv3x3+BN+ReLU, 32->256 channels, global average
pooling, dropout, linear) on 48x48 grayscale faces, trained with SGD+Nesterov, a cosine
learning-rate schedule with warm-up, label smoothing and batch-level augmentation (random
affine: shift, scale, rotation, horizontal flip; random erasing). Mixed precision (bf16
autocast) runs on CPUs with AMX/AVX-512-BF16 and on GPUs alike.

Checkpoints every epoch to RUN_DIR/last.pt (model, optimiser, scheduler, RNG states, history)
and keeps the best-by-val-accuracy weights in RUN_DIR/best.pt; rerunning the same command
resumes from last.pt. Only `train` is used for fitting and only `val` for model selection.

With --teacher FILE it learns by knowledge distillation: the loss mixes the label-smoothed
cross-entropy with the KL divergence to an ensemble's soft targets on the same training images
(FILE from training/teacher.py), so one network learns what several agree on. With --init CKPT it
fine-tunes CKPT that way; without, it trains a fresh network on them ("born-again").

Example (the command that produced the shipped model is in assets/MODEL_CARD.md):
    python training/train.py --data ../shared/datasets/fer2013 --run training/runs/vgg32 --epochs 40
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

LABELS = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
SIZE = 48
# Input normalisation, declared in the exported model's description:
# x = (pixel / 255 - MEAN) / STD.
MEAN = 0.5
STD = 0.25


def load_split(root: Path, split: str, cache_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """All images of a split as uint8 [N, 48, 48] plus int64 labels, cached as .npz."""
    cache = cache_dir / f"fer2013_{split}.npz"
    if cache.exists():
        d = np.load(cache)
        return d["x"], d["y"]
    xs, ys = [], []
    for label, name in enumerate(LABELS):
        files = sorted((root / split / name).glob("*.jpg"))
        if not files:
            raise SystemExit(f"no images in {root / split / name}")
        for f in files:
            img = Image.open(f).convert("L")
            if img.size != (SIZE, SIZE):
                img = img.resize((SIZE, SIZE), Image.BILINEAR)
            xs.append(np.asarray(img, dtype=np.uint8))
            ys.append(label)
    x, y = np.stack(xs), np.asarray(ys, dtype=np.int64)
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.savez(cache, x=x, y=y)
    return x, y


def conv_bn(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class EmotionNet(nn.Module):
    """VGG-style: [conv-bn-relu x2, maxpool] x4, global average pool, dropout, linear."""

    def __init__(self, widths=(32, 64, 128, 256), dropout: float = 0.4, classes: int = 7):
        super().__init__()
        layers, cin = [], 1
        for w in widths:
            layers += [conv_bn(cin, w), conv_bn(w, w), nn.MaxPool2d(2)]
            cin = w
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(cin, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = x.mean(dim=(2, 3))
        return self.head(self.dropout(x))


def read_checkpoint(path: Path) -> tuple[dict, dict]:
    """A checkpoint's weights and its run's config (best.pt carries it; last.pt has the run's
    config.json beside it)."""
    ck = torch.load(path, map_location="cpu", weights_only=False)
    config = ck.get("config") or json.loads((path.parent / "config.json").read_text())
    return ck["model"], config


def model_from(config: dict, weights: dict) -> EmotionNet:
    """The network `config` describes, holding `weights`, in eval mode."""
    model = EmotionNet(tuple(config["widths"]), config["dropout"])
    model.load_state_dict(weights)
    return model.eval()


def normalise(x_uint8: torch.Tensor) -> torch.Tensor:
    """uint8 [N,48,48] -> float [N,1,48,48] normalised as declared in the model description."""
    return ((x_uint8.float() / 255.0 - MEAN) / STD).unsqueeze(1)


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random affine (shift +-10%, scale 0.85-1.15, rotation +-12 deg, h-flip) and random erasing."""
    n = x.shape[0]
    u = lambda lo, hi: torch.rand(n, generator=gen) * (hi - lo) + lo  # noqa: E731
    angle = u(-12, 12) * math.pi / 180
    scale = u(0.85, 1.15)
    flip = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    tx, ty = u(-0.1, 0.1) * 2, u(-0.1, 0.1) * 2
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos * flip, -sin, tx], 1), torch.stack([sin * flip, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    # Random erasing of one rectangle in half of the images.
    erase = torch.rand(n, generator=gen) < 0.5
    h = (u(0.1, 0.4) * SIZE).long()
    w = (u(0.1, 0.4) * SIZE).long()
    y0 = (torch.rand(n, generator=gen) * (SIZE - h)).long()
    x0 = (torch.rand(n, generator=gen) * (SIZE - w)).long()
    rows = torch.arange(SIZE).view(1, SIZE, 1)
    cols = torch.arange(SIZE).view(1, 1, SIZE)
    in_rows = (rows >= y0.view(-1, 1, 1)) & (rows < (y0 + h).view(-1, 1, 1))
    in_cols = (cols >= x0.view(-1, 1, 1)) & (cols < (x0 + w).view(-1, 1, 1))
    mask = in_rows & in_cols & erase.view(-1, 1, 1)
    return x.masked_fill(mask.unsqueeze(1), 0.0)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, autocast, batch: int = 512) -> dict:
    model.eval()
    logits, logits_flip = [], []
    for i in range(0, len(x), batch):
        xb = normalise(x[i : i + batch])
        with autocast():
            logits.append(model(xb).float())
            logits_flip.append(model(torch.flip(xb, dims=[3])).float())
    p = torch.cat(logits).softmax(1)
    pf = (p + torch.cat(logits_flip).softmax(1)) / 2
    return {
        "acc": (p.argmax(1) == y).float().mean().item(),
        "acc_flip_tta": (pf.argmax(1) == y).float().mean().item(),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("../shared/datasets/fer2013"))
    ap.add_argument("--run", type=Path, required=True, help="run directory (checkpoints, history)")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--wd", type=float, default=5e-4)
    ap.add_argument("--smoothing", type=float, default=0.1)
    ap.add_argument("--widths", default="32,64,128,256")
    ap.add_argument("--dropout", type=float, default=0.4)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-bf16", action="store_true", help="train in fp32")
    ap.add_argument("--limit", type=int, default=0, help="use only N training images (smoke tests)")
    ap.add_argument("--init", type=Path, help="start from this checkpoint's weights (fine-tuning)")
    ap.add_argument("--teacher", type=Path, help="soft targets from training/teacher.py (distillation)")
    ap.add_argument("--kd-weight", type=float, default=0.7, help="share of the distillation loss")
    ap.add_argument("--kd-temp", type=float, default=2.0, help="distillation temperature")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    args.run.mkdir(parents=True, exist_ok=True)
    cache = args.run.parent / "cache"
    xtr, ytr = load_split(args.data, "train", cache)
    xva, yva = load_split(args.data, "val", cache)
    if args.limit:
        xtr, ytr = xtr[: args.limit], ytr[: args.limit]
    xtr, ytr = torch.from_numpy(xtr), torch.from_numpy(ytr)
    teacher = None
    if args.teacher:
        teacher = torch.from_numpy(np.load(args.teacher)["probs"])[: len(xtr)]
        if len(teacher) != len(xtr):
            raise SystemExit(f"{args.teacher} has {len(teacher)} targets for {len(xtr)} training images")
        # Soften the ensemble's probabilities to the distillation temperature.
        teacher = teacher.clamp_min(1e-8).pow(1.0 / args.kd_temp)
        teacher = teacher / teacher.sum(1, keepdim=True)
    xva, yva = torch.from_numpy(xva), torch.from_numpy(yva)
    print(f"train {len(xtr)}  val {len(xva)}  device {device}  threads {args.threads}", flush=True)

    widths = tuple(int(w) for w in args.widths.split(","))
    model = EmotionNet(widths, args.dropout).to(memory_format=torch.channels_last)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=args.wd)
    steps_per_epoch = len(xtr) // args.batch
    total = steps_per_epoch * args.epochs
    warmup = steps_per_epoch

    def lr_at(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    use_bf16 = not args.no_bf16

    def autocast():
        return torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=use_bf16)

    gen = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    state = {"epoch": 0, "best_acc": 0.0, "history": []}
    last = args.run / "last.pt"
    if args.init and not last.exists():
        model.load_state_dict(torch.load(args.init, weights_only=False)["model"])
        print(f"initialised from {args.init}", flush=True)
    if last.exists():
        ck = torch.load(last, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        sched.load_state_dict(ck["sched"])
        gen.set_state(ck["gen"])
        torch.set_rng_state(ck["torch_rng"])
        state = ck["state"]
        print(f"resumed at epoch {state['epoch']} (best val {state['best_acc']:.4f})", flush=True)
    config = vars(args) | {"widths": list(widths), "params": params, "mean": MEAN, "std": STD, "labels": LABELS}
    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in config.items()}
    (args.run / "config.json").write_text(json.dumps(config, indent=2))

    loss_fn = nn.CrossEntropyLoss(label_smoothing=args.smoothing)
    for epoch in range(state["epoch"], args.epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(len(xtr), generator=gen)
        seen, loss_sum, correct = 0, 0.0, 0
        for s in range(steps_per_epoch):
            idx = perm[s * args.batch : (s + 1) * args.batch]
            xb = augment(normalise(xtr[idx]), gen).contiguous(memory_format=torch.channels_last)
            yb = ytr[idx]
            with autocast():
                out = model(xb)
                loss = loss_fn(out.float(), yb)
                if teacher is not None:
                    t = args.kd_temp
                    log_student = F.log_softmax(out.float() / t, dim=1)
                    kd = F.kl_div(log_student, teacher[idx], reduction="batchmean") * t * t
                    loss = (1 - args.kd_weight) * loss + args.kd_weight * kd
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            seen += len(idx)
            loss_sum += loss.item() * len(idx)
            correct += (out.argmax(1) == yb).sum().item()
        val = evaluate(model, xva, yva, autocast)
        entry = {
            "epoch": epoch + 1,
            "train_loss": loss_sum / seen,
            "train_acc": correct / seen,
            "val_acc": val["acc"],
            "val_acc_flip_tta": val["acc_flip_tta"],
            "lr": sched.get_last_lr()[0],
            "seconds": time.time() - t0,
        }
        state["history"].append(entry)
        state["epoch"] = epoch + 1
        print(json.dumps(entry), flush=True)
        if val["acc"] > state["best_acc"]:
            state["best_acc"] = val["acc"]
            torch.save({"model": model.state_dict(), "config": config, "epoch": epoch + 1, "val": val}, args.run / "best.pt")
        ck = {
            "model": model.state_dict(),
            "opt": opt.state_dict(),
            "sched": sched.state_dict(),
            "gen": gen.get_state(),
            "torch_rng": torch.get_rng_state(),
            "state": state,
        }
        torch.save(ck, args.run / "last.pt.tmp")
        os.replace(args.run / "last.pt.tmp", last)
    print(f"done: best val accuracy {state['best_acc']:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
