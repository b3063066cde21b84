#!/usr/bin/env python3
"""What a device run brought back, measured here: one table to decide whether to ship.

Reads the folder that `training/device/run.sh`'s files came back to (logs.tar.gz, student-*.pt,
teacher-*.pt) and prints, in markdown:

1. each stage of the run from its logs: the probe's seconds an epoch (fused and looped), and for
   the teachers and the students the epochs the budget bought, the seconds an epoch, every
   member's best val accuracy and the fleet's best as an ensemble;
2. every student checkpoint exported to ONNX (export_onnx.py, which checks ONNX Runtime against
   PyTorch on val) and run through the product: `melodora eval` on val and `melodora bench
   --emotion` for its milliseconds a face on the direct engine, beside the shipped model's, timed in
   the same run on the same faces.

Nothing here replaces assets/emotion.onnx; the session that reads the table decides.

    python training/device/report.py F --melodora target/release/melodora [--cache CACHE]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

TRAINING = Path(__file__).resolve().parents[1]
REPO = TRAINING.parent


# run.sh's stages in the order they run; anything else after them.
STAGE_ORDER = ["probe-fused", "probe-loop", "teachers", "students"]


def histories(logs: Path) -> dict[str, list[dict]]:
    """Every run's per-epoch history in the logs, by run name, in the order the stages ran."""
    runs = {
        path.name.removesuffix(".history.jsonl"): [json.loads(line) for line in path.read_text().splitlines() if line]
        for path in logs.glob("*.history.jsonl")
    }
    rank = lambda name: (STAGE_ORDER.index(name) if name in STAGE_ORDER else len(STAGE_ORDER), name)  # noqa: E731
    return {name: runs[name] for name in sorted(runs, key=rank)}


def stage_rows(runs: dict[str, list[dict]]) -> list[str]:
    rows = ["| run | epochs | s an epoch (training, after the first) | best val per member | best ensemble (flip) |"]
    rows.append("|---|---|---|---|---|")
    for name, history in runs.items():
        paces = [entry["train_seconds"] for entry in history[1:]]
        pace = f"{sum(paces) / len(paces):.2f}" if paces else "-"
        evaluated = [entry for entry in history if "val_acc" in entry]
        if evaluated:
            members = len(evaluated[0]["val_acc"])
            best = ", ".join(f"{max(e['val_acc'][k] for e in evaluated) * 100:.2f}" for k in range(members))
            ensemble = f"{max(e['val_ensemble_flip_tta'] for e in evaluated) * 100:.2f}"
        else:
            best = ensemble = "-"
        rows.append(f"| {name} | {len(history)} | {pace} | {best} | {ensemble} |")
    return rows


def run_json(command: list[str]) -> dict:
    """A command's JSON output: all of it (export_onnx.py indents it), or its last line."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        return json.loads(done.stdout.strip().splitlines()[-1])


def val_faces(data: Path, count: int = 64) -> list[str]:
    """A fixed spread of val images over every class, for the latency runs."""
    files = sorted(str(p) for p in (data / "val").glob("*/*.jpg"))
    if not files:
        raise SystemExit(f"no val images under {data}")
    step = max(1, len(files) // count)
    return files[::step][:count]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path, help="where run.sh's files came back to")
    ap.add_argument("--melodora", type=Path, default=REPO / "target/release/melodora")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared/datasets/fer2013")
    ap.add_argument("--cache", type=Path, help="train.py's decoded-splits cache (made if missing)")
    args = ap.parse_args()
    if not args.melodora.exists():
        raise SystemExit(f"{args.melodora} not found: cargo build --release -p melodora")

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cache = args.cache or work / "cache"
        print(f"# Device run in {args.folder}\n")
        logs_archive = args.folder / "logs.tar.gz"
        if logs_archive.exists():
            with tarfile.open(logs_archive) as archive:
                archive.extractall(work, filter="data")
            print("## Stages (from the run's logs)\n")
            print("\n".join(stage_rows(histories(work / "logs"))) + "\n")
        else:
            print(f"{logs_archive} is missing: no stage table.\n")

        faces = val_faces(args.data)
        bench = [str(args.melodora), "bench", "--emotion", "--batch", "1", "--repeat", "21", "--json"]
        evaluate = [str(args.melodora), "eval", str(args.data / "val"), "--json"]
        rows = ["| model | val, PyTorch | val, `melodora eval` | ms a face (direct engine) |", "|---|---|---|---|"]
        shipped_eval = run_json(evaluate)
        shipped_ms = run_json(bench + faces)["median_ms_per_face"]
        rows.append(f"| the shipped model (embedded) | - | {shipped_eval['accuracy'] * 100:.2f} | {shipped_ms:.3f} |")
        for checkpoint in sorted(args.folder.glob("student-*.pt")):
            onnx = work / f"{checkpoint.stem}.onnx"
            exported = run_json(
                [sys.executable, str(TRAINING / "export_onnx.py"), "--checkpoint", str(checkpoint), "--out", str(onnx)]
                + ["--data", str(args.data), "--cache", str(cache)]
            )
            ours = run_json(evaluate + ["--model", str(onnx)])
            ms = run_json(bench + ["--model", str(onnx)] + faces)["median_ms_per_face"]
            rows.append(
                f"| {checkpoint.name} | {exported['val_acc_torch'] * 100:.2f} | {ours['accuracy'] * 100:.2f} | {ms:.3f} |"
            )
        print("## Students through the product (this machine, one run)\n")
        print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
