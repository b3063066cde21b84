#!/usr/bin/env python3
"""Several EmotionNets, and optionally their mirror images, as one network with one ONNX graph.

Networks trained from different seeds make different mistakes; the average of their logits is
more accurate than any of them. Test-time flip averaging is folded in the same way: because
every layer of EmotionNet is left-right symmetric (3x3 convolutions padded by one, 2x2 pools on
even sizes, a global mean), running a network on the mirrored face is the same as running a
copy of it whose convolution kernels are mirrored. So the ensemble is plain branches from the
input, no Slice or Gather for the flip, and Melodora's direct engine runs it like any
branching CNN.

Logits are averaged without a vector-level concat: each branch turns its last map into class
scores with a 1x1 convolution (its linear head divided by the number of branches), the score
maps are added, and one global mean gives the logits, because the mean commutes with the
linear head.

    python training/ensemble.py --out RUN/ensemble.json --mirror A/best.pt B/best.pt
reports the val accuracy of every subset (to choose on val); export_onnx.py exports one.
"""
from __future__ import annotations

import argparse
import copy
import itertools
import json
from pathlib import Path

import torch
import torch.nn as nn

from train import EmotionNet, load_split, model_from, normalise, read_checkpoint


def mirrored(net: EmotionNet) -> EmotionNet:
    """A copy of `net` computing net(flip(x)) on x: every convolution kernel flipped left-right."""
    twin = copy.deepcopy(net)
    for module in twin.modules():
        if isinstance(module, nn.Conv2d):
            module.weight.data = torch.flip(module.weight.data, dims=[3])
    return twin


class Branch(nn.Module):
    """One network's features and its head as a 1x1 convolution, scaled by `share`."""

    def __init__(self, net: EmotionNet, share: float):
        super().__init__()
        self.features = net.features
        head = net.head
        self.scores = nn.Conv2d(head.in_features, head.out_features, 1)
        self.scores.weight.data = head.weight.data[:, :, None, None] * share
        self.scores.bias.data = head.bias.data * share

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scores(self.features(x))


class Ensemble(nn.Module):
    """The mean of its networks' logits (of each network and its mirror image with `mirror`)."""

    def __init__(self, nets: list[EmotionNet], mirror: bool):
        super().__init__()
        members = [twin for net in nets for twin in ([net, mirrored(net)] if mirror else [net])]
        self.branches = nn.ModuleList(Branch(net, 1.0 / len(members)) for net in members)
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        total = self.branches[0](x)
        for branch in self.branches[1:]:
            total = total + branch(x)
        return total.mean(dim=(2, 3))


def load_nets(paths: list[Path]) -> tuple[list[EmotionNet], dict]:
    """The networks in `paths` and the first one's config (all must share its normalisation)."""
    loaded = [read_checkpoint(p) for p in paths]
    config = loaded[0][1]
    for path, (_, other) in zip(paths, loaded):
        if (other["mean"], other["std"]) != (config["mean"], config["std"]):
            raise SystemExit(f"{path}: normalisation differs from {paths[0]}")
    return [model_from(cfg, weights) for weights, cfg in loaded], config


@torch.no_grad()
def logits_of(model: nn.Module, x: torch.Tensor, batch: int = 512) -> torch.Tensor:
    return torch.cat([model(normalise(x[i : i + batch])) for i in range(0, len(x), batch)])


@torch.no_grad()
def check_mirror_identity(net: EmotionNet, x: torch.Tensor) -> float:
    """Largest difference between net(flip(x)) and mirrored(net)(x), which should be ~0."""
    flipped = net(torch.flip(normalise(x), dims=[3]))
    return float((flipped - mirrored(net)(normalise(x))).abs().max())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", type=Path, nargs="+")
    ap.add_argument("--mirror", action="store_true", help="add each network's mirror image")
    ap.add_argument("--data", type=Path, default=Path("../shared/datasets/fer2013"))
    ap.add_argument("--cache", type=Path, required=True, help="where train.py caches the decoded splits")
    ap.add_argument("--out", type=Path, help="also write the report here as JSON")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    nets, _ = load_nets(args.checkpoints)
    xva, yva = load_split(args.data, "val", args.cache)
    x, y = torch.from_numpy(xva), torch.from_numpy(yva)
    mirror_diff = check_mirror_identity(nets[0], x[:64])
    if mirror_diff > 1e-3:
        raise SystemExit(f"mirrored network differs from the flipped input by {mirror_diff}")
    report = {"mirror_identity_max_diff": mirror_diff, "subsets": []}
    for k in range(1, len(nets) + 1):
        for subset in itertools.combinations(range(len(nets)), k):
            model = Ensemble([nets[i] for i in subset], args.mirror)
            acc = (logits_of(model, x).argmax(1) == y).float().mean().item()
            entry = {"checkpoints": [str(args.checkpoints[i]) for i in subset], "mirror": args.mirror, "val_acc": acc}
            report["subsets"].append(entry)
            print(json.dumps(entry), flush=True)
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
