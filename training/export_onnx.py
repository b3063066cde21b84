#!/usr/bin/env python3
"""Export a trained EmotionNet checkpoint, or an ensemble of several, to ONNX with its Melodora
description embedded.

The description (input size, layout, normalisation, label order, output kind) is stored as
JSON in the ONNX metadata under the key "melodora", so `melodora` needs no sidecar for it.
The exported graph is checked against PyTorch with ONNX Runtime on real validation images.

    python training/export_onnx.py --checkpoint RUN/best.pt --out assets/emotion.onnx

With several checkpoints and/or --mirror the graph is training/ensemble.py's Ensemble: the mean
of the networks' logits (and of their mirror images'), still one input and one output.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from ensemble import Ensemble, load_nets
from train import LABELS, SIZE, load_split, normalise


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, nargs="+", required=True)
    ap.add_argument("--mirror", action="store_true", help="average each network with its mirror image")
    ap.add_argument("--out", type=Path, default=Path("assets/emotion.onnx"))
    ap.add_argument("--data", type=Path, default=Path("../shared/datasets/fer2013"))
    ap.add_argument("--cache", type=Path, default=None, help="dataset cache dir (default: next to the run)")
    ap.add_argument("--name", default="melodora-vgg-fer2013")
    args = ap.parse_args()

    nets, cfg = load_nets(args.checkpoint)
    model = nets[0] if len(nets) == 1 and not args.mirror else Ensemble(nets, args.mirror)

    description = {
        "name": args.name,
        "input": {"width": SIZE, "height": SIZE, "channels": 1, "layout": "NCHW"},
        "normalization": {"scale": 255.0, "mean": cfg["mean"], "std": cfg["std"]},
        "labels": LABELS,
        "output": "logits",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(1, 1, SIZE, SIZE)
    torch.onnx.export(
        model,
        dummy,
        str(args.out),
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
        opset_version=17,
        dynamo=False,
    )
    proto = onnx.load(str(args.out))
    entry = proto.metadata_props.add()
    entry.key = "melodora"
    entry.value = json.dumps(description)
    proto.producer_name = "melodora training/export_onnx.py"
    onnx.checker.check_model(proto)
    onnx.save(proto, str(args.out))

    cache = args.cache or args.checkpoint[0].parent.parent / "cache"
    xva, yva = load_split(args.data, "val", cache)
    x = normalise(torch.from_numpy(xva))
    with torch.no_grad():
        ref = torch.cat([model(x[i : i + 512]) for i in range(0, len(x), 512)]).numpy()
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(args.out), so, providers=["CPUExecutionProvider"])
    got = np.concatenate([sess.run(None, {"input": x[i : i + 512].numpy()})[0] for i in range(0, len(x), 512)])
    diff = float(np.abs(ref - got).max())
    acc_torch = float((ref.argmax(1) == yva).mean())
    acc_ort = float((got.argmax(1) == yva).mean())
    size = args.out.stat().st_size
    print(json.dumps({
        "out": str(args.out),
        "bytes": size,
        "params": sum(p.numel() for p in model.parameters()),
        "max_abs_diff_torch_vs_ort": diff,
        "val_acc_torch": acc_torch,
        "val_acc_onnxruntime": acc_ort,
    }, indent=2))
    if diff > 1e-3:
        raise SystemExit(f"ONNX output differs from PyTorch by {diff}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
