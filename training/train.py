#!/usr/bin/env python3
"""Train Melodora's default emotion model on FER2013 (train split), selecting on val.

A compact VGG-style CNN (4 blocks of 2 conv3x3+BN+ReLU, 32->256 channels, global average
pooling, dropout, linear) on 48x48 grayscale faces, trained with SGD+Nesterov, a cosine
learning-rate schedule with warm-up, label smoothing and batch-level augmentation (random
affine: shift, scale, rotation, horizontal flip; random erasing). Mixed precision (bf16
autocast) runs on CPUs with AMX/AVX-512-BF16 and on GPUs alike.

Checkpoints every epoch (--checkpoint-every N: every N epochs, for a GPU, where an epoch takes
about as long as writing a wide network's state) to RUN_DIR/last.pt (model, optimiser,
scheduler, RNG states, history) and keeps the best-by-val-accuracy weights in RUN_DIR/best.pt;
rerunning the same command resumes from last.pt. Only `train` is used for fitting and only `val`
for model selection.

With --teacher FILE it learns by knowledge distillation: the loss mixes the label-smoothed
cross-entropy with the KL divergence to an ensemble's soft targets on the same training images
(FILE from training/teacher.py), so one network learns what several agree on. With --init CKPT it
fine-tunes CKPT that way; without, it trains a fresh network on them ("born-again").

With --teacher-net CKPT (repeatable) the targets are computed online instead: the teachers (and
their mirror images) see the very augmented batch the student sees, every step. Fixed targets
from teacher.py are the teachers' view of the clean training images, which they have nearly
memorised; online targets are their view of a new image each time, which is what lets a student
match a stronger teacher (Beyer et al., "Knowledge distillation: a good teacher is patient and
consistent", 2022). It costs the teachers' forward passes, so it is meant for a GPU.

A CUDA GPU is used when present: the splits, the model and the augmentation all live on it.
--time-budget S times the warm-up epoch (after its first steps, which pay for start-up) and,
if --epochs would not end within S seconds, shortens the run to what fits; the cosine schedule
starts after the warm-up epoch, so this is the same as having asked for that many epochs. It is
for a machine lent for a fixed time.

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
    """Random affine (shift +-10%, scale 0.85-1.15, rotation +-12 deg, h-flip) and random erasing.

    The random draws come from `gen` on its own device: a CPU generator (train.py's) makes a run
    the same on any device, a generator on the GPU (fleet.py's) keeps the host out of the step.
    The images stay on their own device."""
    n = x.shape[0]
    rand = lambda: torch.rand(n, generator=gen, device=gen.device).to(x.device)  # noqa: E731
    u = lambda lo, hi: rand() * (hi - lo) + lo  # noqa: E731
    angle = u(-12, 12) * math.pi / 180
    scale = u(0.85, 1.15)
    flip = torch.where(rand() < 0.5, -1.0, 1.0)
    tx, ty = u(-0.1, 0.1) * 2, u(-0.1, 0.1) * 2
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos * flip, -sin, tx], 1), torch.stack([sin * flip, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    # Random erasing of one rectangle in half of the images.
    erase = rand() < 0.5
    h = (u(0.1, 0.4) * SIZE).long()
    w = (u(0.1, 0.4) * SIZE).long()
    y0 = (u(0, 1) * (SIZE - h)).long()
    x0 = (u(0, 1) * (SIZE - w)).long()
    rows = torch.arange(SIZE, device=x.device).view(1, SIZE, 1)
    cols = torch.arange(SIZE, device=x.device).view(1, 1, SIZE)
    in_rows = (rows >= y0.view(-1, 1, 1)) & (rows < (y0 + h).view(-1, 1, 1))
    in_cols = (cols >= x0.view(-1, 1, 1)) & (cols < (x0 + w).view(-1, 1, 1))
    mask = in_rows & in_cols & erase.view(-1, 1, 1)
    return x.masked_fill(mask.unsqueeze(1), 0.0)


def soften(probs: torch.Tensor, temperature: float) -> torch.Tensor:
    """Class probabilities raised to 1/T and renormalised: the distribution the teacher's logits
    would give at temperature T."""
    probs = probs.clamp_min(1e-8).pow(1.0 / temperature)
    return probs / probs.sum(1, keepdim=True)


class OnlineTeacher:
    """Networks whose mean class probabilities, with each one's mirror image, are the student's
    targets on exactly the images the student is shown."""

    def __init__(self, paths: list[Path], device: str, autocast):
        self.nets = []
        for path in paths:
            weights, config = read_checkpoint(path)
            self.nets.append(model_from(config, weights).to(device, memory_format=torch.channels_last))
        self.autocast = autocast

    @torch.no_grad()
    def probs(self, xb: torch.Tensor) -> torch.Tensor:
        total = 0.0
        with self.autocast():
            for net in self.nets:
                total = total + net(xb).float().softmax(1) + net(torch.flip(xb, dims=[3])).float().softmax(1)
        return total / (2 * len(self.nets))


def epochs_within(budget_s: float, spent_s: float, epoch_s: float, epochs: int) -> int:
    """How many epochs fit in `budget_s` seconds when the first took `spent_s` and each further
    one takes `epoch_s` (at least 2: the warm-up epoch and one of the cosine schedule), never
    more than `epochs`."""
    return min(epochs, max(2, 1 + int((budget_s - spent_s) // epoch_s)))


def synchronize(device: str) -> None:
    """Wait for the GPU's queued work, so that a wall-clock reading means what it says."""
    if device == "cuda":
        torch.cuda.synchronize()


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
    ap.add_argument("--time-budget", type=float, default=0, help="seconds: shorten --epochs to what fits")
    ap.add_argument("--checkpoint-every", type=int, default=1, help="write last.pt every N epochs (and at the end)")
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
    ap.add_argument("--teacher-net", type=Path, action="append", help="a teacher run online (repeat)")
    ap.add_argument("--kd-weight", type=float, default=0.7, help="share of the distillation loss")
    ap.add_argument("--kd-temp", type=float, default=2.0, help="distillation temperature")
    args = ap.parse_args()
    if args.teacher and args.teacher_net:
        raise SystemExit("--teacher and --teacher-net are two ways to distil: choose one")

    torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cudnn.benchmark = True
    args.run.mkdir(parents=True, exist_ok=True)
    cache = args.run.parent / "cache"
    xtr, ytr = load_split(args.data, "train", cache)
    xva, yva = load_split(args.data, "val", cache)
    if args.limit:
        xtr, ytr = xtr[: args.limit], ytr[: args.limit]
    use_bf16 = not args.no_bf16

    def autocast():
        return torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=use_bf16)

    fixed_targets, online = None, None
    if args.teacher:
        fixed_targets = torch.from_numpy(np.load(args.teacher)["probs"])[: len(xtr)]
        if len(fixed_targets) != len(xtr):
            raise SystemExit(f"{args.teacher} has {len(fixed_targets)} targets for {len(xtr)} training images")
        fixed_targets = soften(fixed_targets, args.kd_temp).to(device)
    if args.teacher_net:
        online = OnlineTeacher(args.teacher_net, device, autocast)
    xtr, ytr = torch.from_numpy(xtr).to(device), torch.from_numpy(ytr).to(device)
    xva, yva = torch.from_numpy(xva).to(device), torch.from_numpy(yva).to(device)
    print(f"train {len(xtr)}  val {len(xva)}  device {device}  threads {args.threads}", flush=True)

    widths = tuple(int(w) for w in args.widths.split(","))
    model = EmotionNet(widths, args.dropout).to(device, memory_format=torch.channels_last)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=args.wd)
    steps_per_epoch = len(xtr) // args.batch
    if steps_per_epoch == 0:
        raise SystemExit(f"{len(xtr)} training images make no batch of {args.batch}")
    epochs = args.epochs  # may shrink: a resumed or a timed run's length
    warmup = steps_per_epoch

    def lr_at(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        total = steps_per_epoch * epochs
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    gen = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    state = {"epoch": 0, "best_acc": 0.0, "history": []}
    last = args.run / "last.pt"
    if args.init and not last.exists():
        model.load_state_dict(torch.load(args.init, map_location=device, weights_only=False)["model"])
        print(f"initialised from {args.init}", flush=True)
    if last.exists():
        ck = torch.load(last, map_location=device, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        sched.load_state_dict(ck["sched"])
        gen.set_state(ck["gen"])
        torch.set_rng_state(ck["torch_rng"])
        state = ck["state"]
        if "budget_epochs" in state:
            epochs = min(epochs, state["budget_epochs"])
        print(f"resumed at epoch {state['epoch']} (best val {state['best_acc']:.4f})", flush=True)
    config = vars(args) | {"widths": list(widths), "params": params, "mean": MEAN, "std": STD, "labels": LABELS}
    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in config.items()}
    config["teacher_net"] = [str(p) for p in args.teacher_net or []]
    (args.run / "config.json").write_text(json.dumps(config, indent=2))

    loss_fn = nn.CrossEntropyLoss(label_smoothing=args.smoothing)
    # The warm-up epoch is timed from this step on (earlier steps pay for start-up).
    pace_from = min(20, steps_per_epoch // 4)
    while state["epoch"] < epochs:
        epoch = state["epoch"]
        model.train()
        t0 = time.time()
        perm = torch.randperm(len(xtr), generator=gen).to(device)
        seen = 0
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        for s in range(steps_per_epoch):
            if s == pace_from:
                synchronize(device)
                t_pace = time.time()
            idx = perm[s * args.batch : (s + 1) * args.batch]
            xb = augment(normalise(xtr[idx]), gen).contiguous(memory_format=torch.channels_last)
            yb = ytr[idx]
            targets = fixed_targets[idx] if fixed_targets is not None else None
            if online is not None:
                targets = soften(online.probs(xb), args.kd_temp)
            with autocast():
                out = model(xb)
                loss = loss_fn(out.float(), yb)
                if targets is not None:
                    t = args.kd_temp
                    log_student = F.log_softmax(out.float() / t, dim=1)
                    kd = F.kl_div(log_student, targets, reduction="batchmean") * t * t
                    loss = (1 - args.kd_weight) * loss + args.kd_weight * kd
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            seen += len(idx)
            loss_sum += loss.detach() * len(idx)
            correct += (out.argmax(1) == yb).sum()
        synchronize(device)
        t_trained = time.time()
        val = evaluate(model, xva, yva, autocast)
        entry = {
            "epoch": epoch + 1,
            "train_loss": loss_sum.item() / seen,
            "train_acc": correct.item() / seen,
            "val_acc": val["acc"],
            "val_acc_flip_tta": val["acc_flip_tta"],
            "lr": sched.get_last_lr()[0],
            "seconds": time.time() - t0,
        }
        state["history"].append(entry)
        state["epoch"] = epoch + 1
        print(json.dumps(entry), flush=True)
        if args.time_budget and epoch == 0:
            pace = (t_trained - t_pace) / (steps_per_epoch - pace_from)
            epoch_s = pace * steps_per_epoch + (time.time() - t_trained)
            fit = epochs_within(args.time_budget, entry["seconds"], epoch_s, epochs)
            if fit < epochs:
                print(f"time budget {args.time_budget:g} s at {epoch_s:.2f} s an epoch: {fit} epochs instead of {epochs}", flush=True)
                epochs, state["budget_epochs"] = fit, fit
        if val["acc"] > state["best_acc"]:
            state["best_acc"] = val["acc"]
            torch.save({"model": model.state_dict(), "config": config, "epoch": epoch + 1, "val": val}, args.run / "best.pt")
        if state["epoch"] % max(1, args.checkpoint_every) == 0 or state["epoch"] == epochs:
            save_resumable(args.run, model, opt, sched, gen, state)
    print(f"done: best val accuracy {state['best_acc']:.4f}", flush=True)
    return 0


def save_resumable(run: Path, model: nn.Module, opt, sched, gen: torch.Generator, state: dict) -> None:
    """RUN/last.pt with everything a rerun needs to go on exactly (written whole, then renamed)."""
    ck = {
        "model": model.state_dict(),
        "opt": opt.state_dict(),
        "sched": sched.state_dict(),
        "gen": gen.get_state(),
        "torch_rng": torch.get_rng_state(),
        "state": state,
    }
    torch.save(ck, run / "last.pt.tmp")
    os.replace(run / "last.pt.tmp", run / "last.pt")


if __name__ == "__main__":
    raise SystemExit(main())
