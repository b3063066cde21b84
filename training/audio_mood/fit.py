#!/usr/bin/env python3
"""Fits Melodora's audio mood model over the standardised measures
`melodora hear --json` prints, on the 4-quadrant audio emotion set of
Panda, Malheiro & Paiva (IEEE TAFFC 2018): three ridge logistic
regressions, one for arousal (Q1+Q2 against Q3+Q4) and one for valence at
each level of arousal (Q1 against Q2 among excited songs, Q4 against Q3
among calm ones: what makes a loud song pleasant is not what makes a quiet
one so). A song's valence is the two valence answers weighted by how
excited it sounds, sharpened towards the likelier side (SIDE_SHARPNESS).

Only the clips whose numeric id is EVEN are read: the odd half is held out
for the final evaluation and this script refuses to look at it. It reports
10-fold cross-validation repeated 10 times (stratified by quadrant, seeded),
then fits on the whole even half and writes the model the audio crate ships
(crates/audio/src/mood_model.json). Needs numpy only (the 102 inputs,
measures and musicnn tags, made the pure-Python Newton steps of earlier
versions take hours); seeded: the same inputs give the same file.

    ls MER_audio_taffc_dataset/Q?/*.mp3 | awk -F/ '{id=substr($NF,3,10)+0} id%2==0' \\
        | xargs target/release/melodora hear --json > even.jsonl
    python3 training/audio_mood/fit.py even.jsonl MER_audio_taffc_dataset/panda_dataset_taffc_annotations.csv
"""
import argparse
import csv
import json
import math
import os
import random
import re

import numpy as np

FEATURES = None   # the names of `inputs` in `melodora hear --json`, in its order (set by load)
QUADRANTS = ["Q1", "Q2", "Q3", "Q4"]
L2 = float(os.environ.get("MOOD_L2", "4.0"))  # ridge penalty on the weights (not the bias), standardised units
FOLDS, REPEATS, SEED = 10, 10, 20261206
SIDE_SHARPNESS = 8  # as crates/audio/src/mood.rs: how firmly valence follows the likelier side of arousal
OUT = os.path.join(os.path.dirname(__file__), "../../crates/audio/src/mood_model.json")


def song_id(text):
    match = re.search(r"MT0*(\d+)", text)
    return int(match.group(1)) if match else None


def vector(record):
    """The measures the model reads, in the order `melodora hear` gives them."""
    global FEATURES
    names = [name for name, _ in record["inputs"]]
    if FEATURES is None:
        FEATURES = names
    if names != FEATURES:
        raise SystemExit(f"{record['path']}: its measures differ from the first file's")
    return [value for _, value in record["inputs"]]


def load(features_path, annotations_path):
    quadrant = {}
    with open(annotations_path, newline="") as handle:
        for row in csv.DictReader(handle):
            quadrant[row["Song"].strip()] = row["Quadrant"].strip()
    samples = []
    with open(features_path) as handle:
        for line in handle:
            record = json.loads(line)
            number = song_id(os.path.basename(record["path"]))
            if number is None or "error" in record:
                continue
            if number % 2:
                raise SystemExit(f"{record['path']}: an odd id, held out for the final evaluation; leave it out")
            label = quadrant.get("MT%010d" % number)
            if label in QUADRANTS:
                samples.append((number, vector(record), label))
    samples.sort()
    return samples


def standardise(rows):
    x = np.asarray(rows, dtype=np.float64)
    scales = x.std(axis=0)
    scales[scales == 0] = 1.0
    return x.mean(axis=0), scales


def z(rows, means, scales):
    return np.clip((np.asarray(rows, dtype=np.float64) - means) / scales, -5.0, 5.0)


def logistic(xs, ys):
    """Ridge logistic regression by Newton's method: (weights, bias)."""
    x = np.hstack([np.asarray(xs), np.ones((len(xs), 1))])
    y = np.asarray(ys, dtype=np.float64)
    d = x.shape[1] - 1
    ridge = np.eye(d + 1) * L2
    ridge[d, d] = 0.0  # the bias is not penalised
    w = np.zeros(d + 1)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-x @ w))
        grad = x.T @ (p - y) + ridge @ w
        hess = (x * (p * (1 - p))[:, None]).T @ x + ridge
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return w[:d], w[d]


def fit(train):
    means, scales = standardise([v for _, v, _ in train])
    xs = z([v for _, v, _ in train], means, scales)
    labels = np.array([q for _, _, q in train])
    excited = np.isin(labels, ["Q1", "Q2"])
    return {"means": means, "scales": scales,
            "arousal": logistic(xs, excited.astype(float)),
            "valence_excited": logistic(xs[excited], (labels[excited] == "Q1").astype(float)),
            "valence_calm": logistic(xs[~excited], (labels[~excited] == "Q4").astype(float))}


def axes(model, vectors):
    """(valence, arousal) of each row, each in [-1, 1], as the Rust estimator computes them."""
    x = z(vectors, model["means"], model["scales"])
    sigmoid = lambda axis: 1.0 / (1.0 + np.exp(-(x @ axis[0] + axis[1])))
    excited = sigmoid(model["arousal"])
    # The valence of the likelier side of arousal, blended only near the middle (mood.rs SIDE_SHARPNESS).
    up, down = excited ** SIDE_SHARPNESS, (1 - excited) ** SIDE_SHARPNESS
    side = np.where(up + down > 0, up / np.maximum(up + down, 1e-300), 0.5)
    pleasant = side * sigmoid(model["valence_excited"]) + (1 - side) * sigmoid(model["valence_calm"])
    return 2 * pleasant - 1, 2 * excited - 1


def predict(model, vectors):
    v, a = axes(model, vectors)
    names = {(True, True): "Q1", (False, True): "Q2", (False, False): "Q3", (True, False): "Q4"}
    return [names[(bool(vi >= 0), bool(ai >= 0))] for vi, ai in zip(v, a)]


def folds(samples, rng):
    """Stratified folds: each quadrant's songs dealt round the folds in a shuffled order."""
    assigned = [[] for _ in range(FOLDS)]
    for q in QUADRANTS:
        members = [s for s in samples if s[2] == q]
        rng.shuffle(members)
        for i, s in enumerate(members):
            assigned[i % FOLDS].append(s)
    return assigned


def report(pairs):
    confusion = {t: {p: 0 for p in QUADRANTS} for t in QUADRANTS}
    for truth, guess in pairs:
        confusion[truth][guess] += 1
    f1s = []
    for q in QUADRANTS:
        tp = confusion[q][q]
        fp = sum(confusion[t][q] for t in QUADRANTS if t != q)
        fn = sum(confusion[q][p] for p in QUADRANTS if p != q)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    aroused = lambda q: q in ("Q1", "Q2")
    pleasant = lambda q: q in ("Q1", "Q4")
    n = len(pairs)
    return {
        "macro_f1": sum(f1s) / 4,
        "f1": dict(zip(QUADRANTS, f1s)),
        "accuracy": sum(t == g for t, g in pairs) / n,
        "arousal_accuracy": sum(aroused(t) == aroused(g) for t, g in pairs) / n,
        "valence_accuracy": sum(pleasant(t) == pleasant(g) for t, g in pairs) / n,
        "confusion": confusion,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("features", help="melodora hear --json output for the even-id clips")
    parser.add_argument("annotations", help="panda_dataset_taffc_annotations.csv")
    parser.add_argument("--out", default=OUT, help="where the model goes (default: the audio crate's)")
    args = parser.parse_args()
    samples = load(args.features, args.annotations)
    counts = {q: sum(1 for s in samples if s[2] == q) for q in QUADRANTS}
    print(f"{len(samples)} even-id clips: {counts}")

    rng = random.Random(SEED)
    per_repeat = []
    pooled = []
    for _ in range(REPEATS):
        dealt = folds(samples, rng)
        pairs = []
        for k in range(FOLDS):
            train = [s for i, fold in enumerate(dealt) if i != k for s in fold]
            model = fit(train)
            pairs += list(zip([q for _, _, q in dealt[k]], predict(model, [v for _, v, _ in dealt[k]])))
        per_repeat.append(report(pairs))
        pooled += pairs
    mean = lambda key: sum(r[key] for r in per_repeat) / REPEATS
    spread = lambda key: math.sqrt(sum((r[key] - mean(key)) ** 2 for r in per_repeat) / REPEATS)
    print(f"{FOLDS}-fold cross-validation, repeated {REPEATS} times (mean ± sd over repeats):")
    for key in ["macro_f1", "accuracy", "arousal_accuracy", "valence_accuracy"]:
        print(f"  {key}: {mean(key):.3f} ± {spread(key):.3f}")
    total = report(pooled)
    print("  per-quadrant F1 (pooled):", {q: round(f, 3) for q, f in total["f1"].items()})
    print("  confusion (rows: truth, columns: estimate), pooled over repeats:")
    print("        " + "  ".join(f"{q:>5}" for q in QUADRANTS))
    for t in QUADRANTS:
        print(f"    {t}  " + "  ".join(f"{total['confusion'][t][p]:5d}" for p in QUADRANTS))

    model = fit(samples)
    print("weights on standardised measures (arousal; valence when excited; valence when calm):")
    for name, a, ve, vc in zip(FEATURES, model["arousal"][0], model["valence_excited"][0], model["valence_calm"][0]):
        print(f"  {name:20s} {a:+.3f} {ve:+.3f} {vc:+.3f}")
    out = {
        "about": f"Fitted by training/audio_mood/fit.py on the {len(samples)} even-id clips of Panda et al. (TAFFC 2018); "
                 f"{FOLDS}-fold CV x{REPEATS}: macro F1 {mean('macro_f1'):.3f}, arousal {mean('arousal_accuracy'):.3f}, "
                 f"valence {mean('valence_accuracy'):.3f}.",
        "features": FEATURES,
        "means": [round(float(m), 6) for m in model["means"]],
        "scales": [round(float(s), 6) for s in model["scales"]],
        **{axis: {"weights": [round(float(w), 6) for w in model[axis][0]], "bias": round(float(model[axis][1]), 6)}
           for axis in ("arousal", "valence_excited", "valence_calm")},
    }
    with open(args.out, "w") as handle:
        json.dump(out, handle, indent=2)
        handle.write("\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
