#!/usr/bin/env python3
"""Checks of fleet.py: the fused fleet is exactly its members, and a run's files are train.py's.

Runs on the CPU in about a minute, and on a GPU too (training/device/run.sh runs it first, so a
lent machine's time is not spent on a fleet that is wrong there):

    python training/test_fleet.py          # or: python -m pytest training/test_fleet.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from fleet import FleetTeacher, FusedFleet, LoopFleet, mix  # noqa: E402
from train import EmotionNet, OnlineTeacher, model_from, read_checkpoint  # noqa: E402

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
# Exact comparisons in fp32: no TF32 (on by default for cuDNN convolutions on recent GPUs, where
# it rounds products to 10 bits of mantissa).
torch.backends.cudnn.allow_tf32 = False
torch.backends.cuda.matmul.allow_tf32 = False
WIDTHS = (4, 8, 8, 16)


def no_autocast():
    return torch.autocast(device_type=DEVICE, enabled=False)


def with_trained_statistics(fleet: torch.nn.Module, members: int) -> torch.nn.Module:
    """Batch-norm running statistics that are not the identity, so that eval mode tests them."""
    fleet.train()
    with torch.no_grad():
        for _ in range(3):
            fleet(torch.randn(8, members, 48, 48, device=DEVICE) * 2 + 0.5)
    return fleet.eval()


def members_of(fleet, members: int) -> list[EmotionNet]:
    nets = []
    for k in range(members):
        net = EmotionNet(WIDTHS).to(DEVICE)
        net.load_state_dict(fleet.member_state(k))
        nets.append(net.eval())
    return nets


def test_each_member_is_an_emotion_net():
    torch.manual_seed(0)
    for kind in (FusedFleet, LoopFleet):
        fleet = with_trained_statistics(kind(3, WIDTHS).to(DEVICE), 3)
        x = torch.randn(5, 3, 48, 48, device=DEVICE)
        with torch.no_grad():
            out = fleet(x)
            for k, net in enumerate(members_of(fleet, 3)):
                torch.testing.assert_close(out[k], net(x[:, k : k + 1]), rtol=1e-4, atol=1e-5)


def test_load_member_round_trips():
    torch.manual_seed(1)
    source = with_trained_statistics(EmotionNet(WIDTHS).to(DEVICE), 1).state_dict()
    for kind in (FusedFleet, LoopFleet):
        fleet = kind(3, WIDTHS).to(DEVICE)
        before = fleet.member_state(0)
        fleet.load_member(1, source)
        for name, tensor in fleet.member_state(1).items():
            torch.testing.assert_close(tensor, source[name].cpu(), rtol=0, atol=0)
        for name, tensor in fleet.member_state(0).items():  # the other members are untouched
            if tensor.dim() > 0:
                torch.testing.assert_close(tensor, before[name], rtol=0, atol=0)


def test_a_training_step_is_each_members_own():
    """One SGD step of the fleet (train mode: batch statistics, dropout off) moves every member
    exactly as a step of that member alone on its own images would."""
    torch.manual_seed(2)
    members = 3
    fleet = FusedFleet(members, WIDTHS, dropout=0.0).to(DEVICE)
    nets = [EmotionNet(WIDTHS, dropout=0.0).to(DEVICE) for _ in range(members)]
    for k, net in enumerate(nets):
        net.load_state_dict(fleet.member_state(k))
    x = torch.randn(6, members, 48, 48, device=DEVICE)
    y = torch.randint(0, 7, (members, 6), device=DEVICE)
    sgd = {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 5e-4}
    opt = torch.optim.SGD(fleet.parameters(), **sgd)
    loss = sum(torch.nn.functional.cross_entropy(out, y[k]) for k, out in enumerate(fleet(x)))
    loss.backward()
    opt.step()
    for k, net in enumerate(nets):
        opt_k = torch.optim.SGD(net.parameters(), **sgd)
        torch.nn.functional.cross_entropy(net(x[:, k : k + 1]), y[k]).backward()
        opt_k.step()
        for name, tensor in fleet.member_state(k).items():
            torch.testing.assert_close(tensor, net.state_dict()[name].cpu(), rtol=1e-4, atol=1e-5)


def test_fleet_teacher_matches_train_py_teacher():
    torch.manual_seed(3)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, widths in enumerate((WIDTHS, WIDTHS, (4, 4, 8, 8))):
            net = with_trained_statistics(EmotionNet(widths).to(DEVICE), 1)
            path = Path(tmp) / f"t{i}.pt"
            torch.save({"model": net.state_dict(), "config": {"widths": list(widths), "dropout": 0.4}}, path)
            paths.append(path)
        x = torch.randn(4, 1, 48, 48, device=DEVICE)
        ours = FleetTeacher(paths, DEVICE, no_autocast).probs(x)
        theirs = OnlineTeacher(paths, DEVICE, no_autocast).probs(x)
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)


def test_mix_keeps_the_share_it_reports():
    """On flat images (image i all of value i), a mixed image's mean is keep * own + (1 - keep) *
    partner, for CutMix and for mixup."""
    gen = torch.Generator(device=DEVICE).manual_seed(4)
    values = torch.arange(1.0, 9.0, device=DEVICE).view(2, 4, 1, 1)
    x = values.expand(2, 4, 48, 48).contiguous()
    for cutmix, mixup in ((1.0, 0.0), (0.0, 1.0), (0.5, 0.5), (0.0, 0.0)):
        mixed, keep = mix(x, cutmix, mixup, gen)
        partner = torch.roll(values, 1, dims=1).view(2, 4)
        expected = keep * values.view(2, 4) + (1 - keep) * partner
        torch.testing.assert_close(mixed.mean((2, 3)), expected, rtol=1e-5, atol=1e-5)
        if cutmix == mixup == 0:
            assert torch.equal(keep, torch.ones_like(keep))
        else:
            assert (keep < 1).any(), f"nothing mixed at cutmix {cutmix}, mixup {mixup}"


def fake_dataset(cache: Path) -> None:
    """A decoded-splits cache as train.load_split writes it: random faces, random labels."""
    rng = np.random.default_rng(5)
    cache.mkdir(parents=True)
    for split, n in (("train", 256), ("val", 64)):
        x = rng.integers(0, 256, (n, 48, 48), dtype=np.uint8)
        np.savez(cache / f"fer2013_{split}.npz", x=x, y=rng.integers(0, 7, n))


def run_fleet(*args: str) -> str:
    fleet = Path(__file__).parent / "fleet.py"
    done = subprocess.run([sys.executable, str(fleet), *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_run_writes_train_py_checkpoints_and_resumes():
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        fake_dataset(root / "cache")
        common = ["--data", str(root / "none"), "--cache", str(root / "cache"), "--widths", "4,8,8,8", "--batch", "32"]
        teachers = root / "teachers"
        out = run_fleet(
            *common, "--run", str(teachers), "--members", "2", "--epochs", "2", "--cutmix", "0.3", "--mixup", "0.2"
        )
        assert '"epoch": 2' in out, out
        for k in (1, 2):
            weights, config = read_checkpoint(teachers / f"member-{k}" / "best.pt")
            net = model_from(config, weights)
            assert net(torch.zeros(1, 1, 48, 48)).shape == (1, 7)
        out = run_fleet(*common, "--run", str(teachers), "--members", "2", "--epochs", "3")
        assert "resumed at epoch 2" in out and '"epoch": 3' in out, out
        assert len((teachers / "history.jsonl").read_text().splitlines()) == 3
        students = root / "students"
        nets = [arg for k in (1, 2) for arg in ("--teacher-net", str(teachers / f"member-{k}" / "last.pt"))]
        start = teachers / "member-1" / "last.pt"
        inits = ["--init", "none", "--init", str(start)]
        run_fleet(*common, "--run", str(students), "--members", "2", "--epochs", "1", "--fleet", "loop", *inits, *nets)
        weights, config = read_checkpoint(students / "member-2" / "last.pt")
        assert config["teacher_net"] and model_from(config, weights) is not None
        started, _ = read_checkpoint(start)

        def moved(k: int) -> float:
            weights, _ = read_checkpoint(students / f"member-{k}" / "last.pt")
            return (weights["head.bias"] - started["head.bias"]).abs().max().item()

        assert moved(2) < moved(1), "the member started from a checkpoint should stay near it"


def main() -> int:
    tests = [value for name, value in globals().items() if name.startswith("test_")]
    for test in tests:
        test()
        print(f"ok {test.__name__} ({DEVICE})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
