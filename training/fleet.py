#!/usr/bin/env python3
"""Train a fleet of networks at once, in one process, with the whole step on the GPU.

train.py on an H200 kept the GPU mostly waiting (issue 25): 224 small steps an epoch, random
draws on the host, and three processes time-sharing the device. Here:

- the K members of a fleet are one network: every convolution is grouped (K groups), every
  batch norm per channel, the heads one batched matrix product (`FusedFleet`), so each layer of
  the K networks is one kernel launch of K times the work. `--fleet loop` runs the K networks one
  after the other in the same step instead, for comparison (`LoopFleet`);
- every member still sees its own shuffle of the training set and its own augmentation of it
  (train.augment, its random draws generated on the GPU), unless `--same-batch`;
- batches are large (512) and the peak learning rate scales with them (linear rule from 128);
  the learning rate warms up over `--warmup` epochs, then follows a cosine;
- `--compile` runs the fleet through torch.compile (falls back to eager if compiling fails);
- CutMix and mixup (`--cutmix P`, `--mixup P`: the share of images mixed with another of the
  same member's batch, the mixing ratio uniform, i.e. Beta(1,1)) on top of train.augment;
- `--teacher-net` distils online, as in train.py, but the teachers run as fused fleets too (one
  per width), on the students' batch and its mirror image.

Each member's best weights by val accuracy are written in train.py's checkpoint format
(RUN/member-K/best.pt with its config), so export_onnx.py, ensemble.py, teacher.py and
slim_checkpoint.py take them as they are; RUN/last.pt holds the whole fleet with its optimiser,
schedule and generator for resuming; RUN/history.jsonl has one line an epoch with every member's
and the fleet ensemble's val accuracy, and the epoch's seconds (training and evaluation).

    python training/fleet.py --data ../shared/datasets/fer2013 --run RUN --members 4 \
        --widths 64,128,256,512 --epochs 300 --time-budget 300 --compile

`python training/test_fleet.py` checks, on the CPU or a GPU, that the fused fleet is exactly its
members, and that a short run writes checkpoints train.py's tools read.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from train import (
    LABELS,
    MEAN,
    SIZE,
    STD,
    EmotionNet,
    augment,
    epochs_within,
    load_split,
    normalise,
    read_checkpoint,
    save_resumable,
    soften,
    synchronize,
)

# The batch the learning rates of train.py were tuned at; --lr is given for it and scaled.
BASE_BATCH = 128


def grouped_conv_bn(members: int, cin: int, cout: int) -> nn.Sequential:
    """conv_bn of train.py for `members` networks at once: member k reads input channels
    k*cin..(k+1)*cin and writes output channels k*cout..(k+1)*cout."""
    return nn.Sequential(
        nn.Conv2d(members * cin, members * cout, 3, padding=1, bias=False, groups=members),
        nn.BatchNorm2d(members * cout),
        nn.ReLU(inplace=True),
    )


class FusedFleet(nn.Module):
    """`members` EmotionNets of the same widths as one network. Input [B, K, 48, 48]: channel k is
    member k's image; output [K, B, classes]. The layers keep EmotionNet's names and order, and
    the convolutions' initialisation (fan-in is per group), so member k's slice of every tensor
    is an EmotionNet's state (`member_state`, `load_member`)."""

    def __init__(self, members: int, widths=(32, 64, 128, 256), dropout: float = 0.4, classes: int = 7):
        super().__init__()
        self.members, self.widths, self.classes = members, tuple(widths), classes
        layers, cin = [], 1
        for w in widths:
            layers += [grouped_conv_bn(members, cin, w), grouped_conv_bn(members, w, w), nn.MaxPool2d(2)]
            cin = w
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        # nn.Linear's initialisation, member by member.
        bound = 1 / math.sqrt(cin)
        self.head_weight = nn.Parameter(torch.empty(members, cin, classes).uniform_(-bound, bound))
        self.head_bias = nn.Parameter(torch.empty(members, classes).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.dropout(self.features(x).mean(dim=(2, 3)))
        features = features.view(x.shape[0], self.members, -1)
        return torch.einsum("bkc,kcn->kbn", features, self.head_weight) + self.head_bias[:, None, :]

    def member_state(self, k: int) -> dict[str, torch.Tensor]:
        """Member k as an EmotionNet state dict (copies, on the CPU)."""
        out = {}
        for name, tensor in self.features.state_dict().items():
            out[f"features.{name}"] = tensor if tensor.dim() == 0 else tensor.chunk(self.members)[k]
        out["head.weight"] = self.head_weight[k].t()
        out["head.bias"] = self.head_bias[k]
        return {name: t.detach().clone().cpu() for name, t in out.items()}

    @torch.no_grad()
    def load_member(self, k: int, weights: dict[str, torch.Tensor]) -> None:
        """Make member k the EmotionNet whose state is `weights` (of the fleet's widths)."""
        for name, tensor in self.features.state_dict().items():
            source = weights[f"features.{name}"]
            if tensor.dim() == 0:
                tensor.copy_(source)
            else:
                tensor.chunk(self.members)[k].copy_(source)
        self.head_weight[k].copy_(weights["head.weight"].t())
        self.head_bias[k].copy_(weights["head.bias"])


class LoopFleet(nn.Module):
    """The same contract as FusedFleet, as K separate EmotionNets run one after the other."""

    def __init__(self, members: int, widths=(32, 64, 128, 256), dropout: float = 0.4, classes: int = 7):
        super().__init__()
        self.members, self.widths, self.classes = members, tuple(widths), classes
        self.nets = nn.ModuleList(EmotionNet(widths, dropout, classes) for _ in range(members))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([net(x[:, k : k + 1]) for k, net in enumerate(self.nets)])

    def member_state(self, k: int) -> dict[str, torch.Tensor]:
        return {name: t.detach().clone().cpu() for name, t in self.nets[k].state_dict().items()}

    def load_member(self, k: int, weights: dict[str, torch.Tensor]) -> None:
        self.nets[k].load_state_dict(weights)


FLEETS = {"fused": FusedFleet, "loop": LoopFleet}


def as_members(x: torch.Tensor, members: int) -> torch.Tensor:
    """Normalised images [N, 1, 48, 48] -> the same image for every member, [N, K, 48, 48]."""
    return x.expand(-1, members, -1, -1).contiguous(memory_format=torch.channels_last)


class FleetTeacher:
    """Teachers (train.py checkpoints, any widths) as fused fleets, one per width: the mean of
    their class probabilities on a batch and on its mirror image."""

    def __init__(self, paths: list[Path], device: str, autocast):
        by_widths: dict[tuple, list[tuple[dict, dict]]] = {}
        for path in paths:
            weights, config = read_checkpoint(path)
            weights = {k: v.float() for k, v in weights.items()}  # slim bf16 teachers
            by_widths.setdefault(tuple(config["widths"]), []).append((weights, config))
        self.fleets = []
        for widths, nets in by_widths.items():
            fleet = FusedFleet(len(nets), widths, nets[0][1]["dropout"])
            for k, (weights, _) in enumerate(nets):
                fleet.load_member(k, weights)
            self.fleets.append(fleet.to(device, memory_format=torch.channels_last).eval())
        self.count = len(paths)
        self.autocast = autocast

    @torch.no_grad()
    def probs(self, x: torch.Tensor) -> torch.Tensor:
        """x [N, 1, 48, 48] normalised -> [N, classes]."""
        total = 0.0
        with self.autocast():
            for fleet in self.fleets:
                for view in (x, torch.flip(x, dims=[3])):
                    total = total + fleet(as_members(view, fleet.members)).float().softmax(2).sum(0)
        return total / (2 * self.count)


def mix(x: torch.Tensor, cutmix: float, mixup: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """CutMix and mixup within each member's batch. x [K, B, 48, 48]; each image is mixed with
    the next one of its member's batch (batches are shuffled, so that is a random partner).
    A share `cutmix` of images get a box of the partner pasted in, a share `mixup` of the rest a
    blend; the ratio is uniform (Beta(1,1), the papers' usual choice). Returns the mixed images
    and `keep` [K, B]: the share of each image that is still its own (1 for unmixed ones), the
    weight of its own label in the loss (the partner's label gets 1 - keep)."""
    k, b = x.shape[:2]
    device = x.device
    rand = lambda: torch.rand(k, b, generator=gen, device=gen.device).to(device)  # noqa: E731
    partner = torch.roll(x, 1, dims=1)
    ratio, choice = rand(), rand()
    use_cut = choice < cutmix
    use_mix = (choice >= cutmix) & (choice < cutmix + mixup)
    # CutMix: a box of side sqrt(1 - ratio) of the image, centred anywhere, clipped.
    side = torch.sqrt(1 - ratio) * SIZE
    cy, cx = rand() * SIZE, rand() * SIZE
    y0, y1 = ((cy - side / 2).clamp(0, SIZE).round(), (cy + side / 2).clamp(0, SIZE).round())
    x0, x1 = ((cx - side / 2).clamp(0, SIZE).round(), (cx + side / 2).clamp(0, SIZE).round())
    grid = torch.arange(SIZE, device=device, dtype=x.dtype)
    rows = (grid >= y0[..., None]) & (grid < y1[..., None])
    cols = (grid >= x0[..., None]) & (grid < x1[..., None])
    box = rows[..., :, None] & cols[..., None, :] & use_cut[..., None, None]
    pasted_share = box.flatten(2).float().mean(2)
    blended = torch.where(use_mix, ratio, torch.ones_like(ratio))
    w = blended[..., None, None]
    x = torch.where(box, partner, w * x + (1 - w) * partner)
    keep = torch.where(use_cut, 1 - pasted_share, blended)
    return x, keep


def member_inits(inits: list[str] | None, members: int) -> list[Path | None]:
    """--init as one start per member: None for a fresh one."""
    inits = inits or ["none"]
    if len(inits) == 1:
        inits = inits * members
    if len(inits) != members:
        raise SystemExit(f"--init given {len(inits)} times for {members} members: give it once, or once per member")
    return [None if init == "none" else Path(init) for init in inits]


def fleet_config(args: argparse.Namespace, widths: tuple, params: int) -> dict:
    config = vars(args) | {"widths": list(widths), "params": params, "mean": MEAN, "std": STD, "labels": LABELS}
    config["teacher_net"] = [str(p) for p in args.teacher_net or []]
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in config.items()}


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, autocast, batch: int = 1024) -> dict:
    """Every member's val accuracy (plain and with flip averaging) and the fleet's as an ensemble
    (mean probabilities, with flips)."""
    model.eval()
    probs, probs_flip = [], []
    for i in range(0, len(x), batch):
        xb = normalise(x[i : i + batch])
        with autocast():
            probs.append(model(as_members(xb, model.members)).float().softmax(2))
            probs_flip.append(model(as_members(torch.flip(xb, dims=[3]), model.members)).float().softmax(2))
    p, pf = torch.cat(probs, 1), torch.cat(probs_flip, 1)
    tta = (p + pf) / 2
    accuracy = lambda q: (q.argmax(-1) == y).float().mean(-1)  # noqa: E731
    return {
        "acc": accuracy(p).tolist(),
        "acc_flip_tta": accuracy(tta).tolist(),
        "ensemble_flip_tta": accuracy(tta.mean(0)).item(),
    }


def compiled(model: nn.Module, mode: str):
    """torch.compile(model) when asked for and available, else the model itself."""
    if mode == "none":
        return model
    try:
        return torch.compile(model, mode=None if mode == "default" else mode)
    except Exception as error:  # noqa: BLE001 - any failure to compile leaves eager mode
        print(f"torch.compile unavailable ({error}); running eagerly", flush=True)
        return model


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("../shared/datasets/fer2013"))
    ap.add_argument("--run", type=Path, required=True, help="run directory (checkpoints, history)")
    ap.add_argument("--cache", type=Path, help="decoded splits (default RUN/../cache)")
    ap.add_argument("--members", type=int, default=4)
    ap.add_argument("--fleet", choices=sorted(FLEETS), default="fused")
    ap.add_argument("--widths", default="64,128,256,512")
    ap.add_argument("--dropout", type=float, default=0.4)
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=3, help="epochs of linear warm-up")
    ap.add_argument("--time-budget", type=float, default=0, help="seconds: shorten --epochs to what fits")
    ap.add_argument("--checkpoint-every", type=int, default=25)
    ap.add_argument("--eval-every", type=int, default=1)
    ap.add_argument("--batch", type=int, default=512, help="per member")
    ap.add_argument("--lr", type=float, default=0.05, help=f"peak learning rate at batch {BASE_BATCH}, scaled")
    ap.add_argument("--wd", type=float, default=5e-4)
    ap.add_argument("--smoothing", type=float, default=0.1)
    ap.add_argument("--cutmix", type=float, default=0.0, help="share of images given CutMix")
    ap.add_argument("--mixup", type=float, default=0.0, help="share of images given mixup")
    ap.add_argument("--same-batch", action="store_true", help="every member sees the same images")
    ap.add_argument("--compile", default="none", choices=["none", "default", "reduce-overhead", "max-autotune"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--no-bf16", action="store_true", help="train in fp32")
    ap.add_argument("--limit", type=int, default=0, help="use only N training images, of every class (smoke tests)")
    ap.add_argument(
        "--init",
        action="append",
        help="start from this checkpoint's weights: once for every member, or once per member ('none': fresh)",
    )
    ap.add_argument("--teacher-net", type=Path, action="append", help="a teacher run online (repeat)")
    ap.add_argument("--kd-weight", type=float, default=0.7, help="share of the distillation loss")
    ap.add_argument("--kd-temp", type=float, default=2.0, help="distillation temperature")
    return ap.parse_args()


def main() -> int:
    args = parse_args()
    torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cudnn.benchmark = True
    torch.set_float32_matmul_precision("high")  # TF32 where anything runs outside bf16 autocast
    args.run.mkdir(parents=True, exist_ok=True)
    cache = args.cache or args.run.parent / "cache"
    xtr, ytr = load_split(args.data, "train", cache)
    xva, yva = load_split(args.data, "val", cache)
    if args.limit:  # every class: the splits are stored class by class
        every = max(1, len(xtr) // args.limit)
        xtr, ytr = xtr[::every][: args.limit], ytr[::every][: args.limit]
    use_bf16 = not args.no_bf16

    def autocast():
        return torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=use_bf16)

    teacher = FleetTeacher(args.teacher_net, device, autocast) if args.teacher_net else None
    same_batch = args.same_batch or teacher is not None  # the teachers' work is then done once
    xtr, ytr = torch.from_numpy(xtr).to(device), torch.from_numpy(ytr).to(device)
    xva, yva = torch.from_numpy(xva).to(device), torch.from_numpy(yva).to(device)
    members = args.members
    print(f"train {len(xtr)}  val {len(xva)}  device {device}  members {members} ({args.fleet})", flush=True)

    widths = tuple(int(w) for w in args.widths.split(","))
    torch.manual_seed(args.seed)
    model = FLEETS[args.fleet](members, widths, args.dropout)
    for k, init in enumerate(member_inits(args.init, members)):
        if init is not None:
            weights, init_config = read_checkpoint(init)
            if tuple(init_config["widths"]) != widths:
                raise SystemExit(f"--init {init} has widths {init_config['widths']}, the fleet {list(widths)}")
            model.load_member(k, {name: t.float() for name, t in weights.items()})
    model = model.to(device, memory_format=torch.channels_last)
    params = sum(p.numel() for p in model.parameters()) // members
    lr = args.lr * args.batch / BASE_BATCH
    opt = torch.optim.SGD(
        model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=args.wd, fused=device == "cuda"
    )
    steps_per_epoch = len(xtr) // args.batch
    if steps_per_epoch == 0:
        raise SystemExit(f"{len(xtr)} training images make no batch of {args.batch}")
    epochs = args.epochs
    warmup = steps_per_epoch * max(1, args.warmup)

    def lr_at(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        total = steps_per_epoch * epochs
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    gen = torch.Generator(device=device).manual_seed(args.seed)
    state = {"epoch": 0, "best_acc": [0.0] * members, "history": []}
    last = args.run / "last.pt"
    if last.exists():
        ck = torch.load(last, map_location=device, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        sched.load_state_dict(ck["sched"])
        gen.set_state(ck["gen"].cpu())
        state = ck["state"]
        if "budget_epochs" in state:
            epochs = min(epochs, state["budget_epochs"])
        print(f"resumed at epoch {state['epoch']} (best val {state['best_acc']})", flush=True)
    config = fleet_config(args, widths, params)
    (args.run / "config.json").write_text(json.dumps(config, indent=2))
    step_model = compiled(model, args.compile)

    views = 1 if same_batch else members  # distinct augmented batches a step

    def train_step(idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One optimiser step on the images idx [views, B]: the loss and the correct count."""
        images = augment(normalise(xtr[idx.flatten()]), gen).view(views, -1, SIZE, SIZE)
        labels = ytr[idx]
        keep = torch.ones(labels.shape, device=device)
        if args.cutmix or args.mixup:
            images, keep = mix(images, args.cutmix, args.mixup, gen)
        targets = soften(teacher.probs(images[0].unsqueeze(1)), args.kd_temp) if teacher else None
        images, labels, keep = (t.expand(members, *t.shape[1:]) for t in (images, labels, keep))
        batch = images.transpose(0, 1).contiguous(memory_format=torch.channels_last)  # [B, K, 48, 48]
        with autocast():
            logits = step_model(batch).float()  # [K, B, classes]
        flat = logits.flatten(0, 1)

        def cross_entropy(target: torch.Tensor) -> torch.Tensor:
            return F.cross_entropy(flat, target.flatten(), label_smoothing=args.smoothing, reduction="none")

        own, partner = cross_entropy(labels), cross_entropy(torch.roll(labels, 1, dims=1))
        loss = (keep.flatten() * own + (1 - keep.flatten()) * partner).mean() * members  # members' means, summed
        if targets is not None:
            t = args.kd_temp
            kd = F.kl_div(F.log_softmax(logits / t, dim=2), targets.expand(members, -1, -1), reduction="none")
            loss = (1 - args.kd_weight) * loss + args.kd_weight * kd.sum(2).mean(1).sum() * t * t
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        return loss.detach(), (logits.argmax(2) == labels).sum().detach()

    history_file = args.run / "history.jsonl"
    pace_from = min(20, steps_per_epoch // 4)
    while state["epoch"] < epochs:
        epoch = state["epoch"]
        model.train()
        t0 = time.time()
        perm = torch.rand(views, len(xtr), generator=gen, device=device).argsort(1)
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        for s in range(steps_per_epoch):
            if s == pace_from:
                synchronize(device)
                t_pace = time.time()
            idx = perm[:, s * args.batch : (s + 1) * args.batch]
            try:
                loss, right = train_step(idx)
            except Exception as error:  # noqa: BLE001 - a compiled step that fails runs eagerly
                if step_model is model:
                    raise
                print(f"compiled step failed ({type(error).__name__}: {error}); running eagerly", flush=True)
                step_model = model
                loss, right = train_step(idx)
            loss_sum += loss
            correct += right
        synchronize(device)
        t_trained = time.time()
        seen = steps_per_epoch * args.batch
        entry = {
            "epoch": epoch + 1,
            "train_loss": loss_sum.item() / steps_per_epoch / members,
            "train_acc": correct.item() / seen / members,
            "lr": sched.get_last_lr()[0],
            "train_seconds": t_trained - t0,
        }
        evaluated = (epoch + 1) % max(1, args.eval_every) == 0 or epoch + 1 >= epochs
        if evaluated:
            entry |= {"val_" + name: value for name, value in evaluate(model, xva, yva, autocast).items()}
        entry["seconds"] = time.time() - t0
        state["history"].append(entry)
        state["epoch"] = epoch + 1
        print(json.dumps(entry), flush=True)
        with history_file.open("a") as f:
            f.write(json.dumps(entry) + "\n")
        if args.time_budget and epoch == 0:
            pace = (t_trained - t_pace) / (steps_per_epoch - pace_from)
            epoch_s = pace * steps_per_epoch + (entry["seconds"] - (t_trained - t0))
            fit = epochs_within(args.time_budget, entry["seconds"], epoch_s, epochs)
            if fit < epochs:
                print(
                    f"time budget {args.time_budget:g} s at {epoch_s:.2f} s an epoch: {fit} epochs instead of {epochs}",
                    flush=True,
                )
                epochs, state["budget_epochs"] = fit, fit
        if evaluated:
            for k, acc in enumerate(entry["val_acc"]):
                if acc > state["best_acc"][k]:
                    state["best_acc"][k] = acc
                    member_dir = args.run / f"member-{k + 1}"
                    member_dir.mkdir(exist_ok=True)
                    val = {"acc": acc, "acc_flip_tta": entry["val_acc_flip_tta"][k]}
                    best = {"model": model.member_state(k), "config": config, "epoch": epoch + 1, "val": val}
                    torch.save(best, member_dir / "best.pt")
        if state["epoch"] % max(1, args.checkpoint_every) == 0 or state["epoch"] == epochs:
            save_resumable(args.run, model, opt, sched, gen, state)
    for k in range(members):
        member_dir = args.run / f"member-{k + 1}"
        member_dir.mkdir(exist_ok=True)
        torch.save({"model": model.member_state(k), "config": config, "epoch": state["epoch"]}, member_dir / "last.pt")
    paces = [entry["train_seconds"] for entry in state["history"][1:]]
    pace = f"{sum(paces) / len(paces):.2f} s" if paces else "-"
    best = ", ".join(f"{acc:.4f}" for acc in state["best_acc"])
    print(
        f"done: {state['epoch']} epochs, {pace} an epoch's training after the first, best val accuracy {best}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
