#!/usr/bin/env python3
"""Copy a train.py checkpoint as weights and config alone, optionally in bf16.

last.pt also holds the optimiser, schedule and RNG states (for resuming); a run that is only to
be exported, souped or used as a teacher needs none of that. Files that come back from a lent
GPU machine are limited in size, and a wide teacher fits in bf16. The output is read like any
best.pt (train.read_checkpoint); weights in bf16 are cast back to fp32 when loaded.

    python training/slim_checkpoint.py [--bf16] RUN/last.pt OUT.pt
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from train import read_checkpoint


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--bf16", action="store_true", help="store floating-point weights in bf16")
    args = ap.parse_args()
    weights, config = read_checkpoint(args.checkpoint)
    if args.bf16:
        weights = {k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in weights.items()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": weights, "config": config, "source": str(args.checkpoint)}, args.out)
    print(f"{args.out}: {args.out.stat().st_size} bytes", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
