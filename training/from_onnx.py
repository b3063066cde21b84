#!/usr/bin/env python3
"""Recover a trainable EmotionNet checkpoint from an exported ONNX file (e.g. assets/emotion.onnx).

Training runs live outside the repository and may be lost with the machine; the shipped ONNX
file is then the only copy of the shipped weights. The exporter folded every batch norm into
its convolution (a weight and a bias), so this script rebuilds train.py's EmotionNet around the
folded weights: each convolution keeps the folded kernel, and its batch norm is set to the
population statistics of that kernel's output on train images, with the scale and shift that
make the layer compute exactly the folded function again. The network is then the shipped
model, both in eval mode (exact) and in train mode (batch statistics close to the population's),
so it can be fine-tuned, souped or distilled like any checkpoint of train.py.

    python training/from_onnx.py --onnx assets/emotion.onnx --out RUN/shipped/best.pt
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

from train import LABELS, MEAN, STD, EmotionNet, load_split, normalise
from soup import accuracy


def folded_layers(path: Path) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray, np.ndarray]:
    """The (kernel, bias) of every Conv in graph order, and the classifier's weight and bias."""
    graph = onnx.load(str(path)).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    convs, head = [], None
    for node in graph.node:
        if node.op_type == "Conv":
            if len(node.input) != 3:
                raise SystemExit(f"{path}: Conv {node.name} has no folded bias; not an exported EmotionNet")
            convs.append((init[node.input[1]], init[node.input[2]]))
        elif node.op_type == "Gemm":
            weight, bias = init[node.input[1]], init[node.input[2]]
            transposed = any(a.name == "transB" and a.i == 1 for a in node.attribute)
            head = (weight if transposed else weight.T, bias)
    if head is None or not convs:
        raise SystemExit(f"{path}: expected Conv layers and a Gemm classifier (an exported EmotionNet)")
    return convs, head[0], head[1]


def identity_batch_norm(bn: nn.BatchNorm2d, shift: torch.Tensor) -> None:
    """A batch norm that, in eval mode, only adds `shift`."""
    bn.running_mean.zero_()
    bn.running_var.fill_(1.0 - bn.eps)
    bn.weight.data.fill_(1.0)
    bn.bias.data.copy_(shift)


@torch.no_grad()
def rebuild(path: Path, x_train: torch.Tensor, images: int) -> tuple[EmotionNet, list[int]]:
    convs, head_w, head_b = folded_layers(path)
    widths = [w.shape[0] for w, _ in convs[::2]]
    model = EmotionNet(tuple(widths)).eval()
    blocks = [m for m in model.features if isinstance(m, nn.Sequential)]
    if len(blocks) != len(convs):
        raise SystemExit(f"{path}: {len(convs)} convolutions do not fit EmotionNet widths {widths}")
    biases = []
    for block, (kernel, bias) in zip(blocks, convs):
        conv, bn = block[0], block[1]
        if tuple(conv.weight.shape) != kernel.shape:
            raise SystemExit(f"{path}: kernel {kernel.shape} where EmotionNet has {tuple(conv.weight.shape)}")
        conv.weight.data.copy_(torch.from_numpy(kernel))
        biases.append(torch.from_numpy(bias))
        identity_batch_norm(bn, biases[-1])
    model.head.weight.data.copy_(torch.from_numpy(np.ascontiguousarray(head_w)))
    model.head.bias.data.copy_(torch.from_numpy(head_b))

    # Population statistics of each convolution's output (the model is exact in eval mode, so
    # every layer sees the inputs the shipped model gives it).
    sums = [torch.zeros(w.shape[0], dtype=torch.float64) for w, _ in convs]
    squares = [torch.zeros_like(s) for s in sums]
    counts = [0] * len(sums)

    def hook(i):
        def record(_module, _inputs, out):
            z = out.double()
            sums[i] += z.sum(dim=(0, 2, 3))
            squares[i] += (z * z).sum(dim=(0, 2, 3))
            counts[i] += z.shape[0] * z.shape[2] * z.shape[3]
        return record

    handles = [block[0].register_forward_hook(hook(i)) for i, block in enumerate(blocks)]
    order = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(0))[:images]
    for i in range(0, len(order), 256):
        model(normalise(x_train[order[i : i + 256]]))
    for h in handles:
        h.remove()

    for i, block in enumerate(blocks):
        n = counts[i]
        mean = sums[i] / n
        var = (squares[i] / n - mean * mean).clamp_min(0)
        bn = block[1]
        bn.running_mean.copy_(mean.float())
        bn.running_var.copy_(var.float())
        bn.weight.data.copy_(torch.sqrt(var + bn.eps).float())
        bn.bias.data.copy_((mean + biases[i].double()).float())
    return model, widths


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnx", type=Path, default=Path("assets/emotion.onnx"))
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=Path("../shared/datasets/fer2013"))
    ap.add_argument("--cache", type=Path, help="where train.py caches the decoded splits")
    ap.add_argument("--images", type=int, default=8192, help="train images for the statistics")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cache = args.cache or args.out.parent.parent / "cache"
    xtr, _ = load_split(args.data, "train", cache)
    xva, yva = load_split(args.data, "val", cache)
    model, widths = rebuild(args.onnx, torch.from_numpy(xtr), args.images)
    acc = accuracy(model, torch.from_numpy(xva), torch.from_numpy(yva))
    config = {
        "widths": widths,
        "dropout": model.dropout.p,
        "mean": MEAN,
        "std": STD,
        "labels": LABELS,
        "params": sum(p.numel() for p in model.parameters()),
        "from_onnx": str(args.onnx),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model.state_dict(), "config": config, "val": {"acc": acc}}, args.out)
    print(json.dumps({"out": str(args.out), "val_acc": acc, "widths": widths}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
