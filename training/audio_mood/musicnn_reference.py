#!/usr/bin/env python3
"""Writes crates/audio/tests/fixtures/musicnn_reference.json: what musicnn's
own code (TensorFlow, and librosa for the spectrogram) answers on inputs the
Rust tests can make themselves, so `melodora_audio::tagger` is checked
against the reference without shipping any audio:

- `patch`: the 50 tag probabilities of MSD_musicnn for one synthetic
  log-mel patch (`synthetic_patch` below; the Rust test builds the same);
- `mel`: librosa's log-mel frames (musicnn's settings) of a synthetic
  16 kHz signal (`synthetic_signal`), which the Rust test computes at
  16 kHz and at 22.05 kHz.

Needs tensorflow, tf_keras, librosa and the musicnn wheel's checkpoint:

    python3 -m venv /tmp/tfv && /tmp/tfv/bin/pip install tensorflow-cpu tf_keras librosa
    pip download --no-deps musicnn==0.1.0 -d /tmp/mn && python3 -m zipfile -e /tmp/mn/musicnn-0.1.0-py3-none-any.whl /tmp/mn/wheel
    TF_USE_LEGACY_KERAS=1 /tmp/tfv/bin/python training/audio_mood/musicnn_reference.py /tmp/mn/wheel
"""
import json
import math
import os
import sys

import numpy as np


def synthetic_patch():
    """187 x 96 log-mel values in musicnn's range (0 to about 4)."""
    t = np.arange(187, dtype=np.float64)[:, None]
    f = np.arange(96, dtype=np.float64)[None, :]
    value = 1.8 + 1.2 * np.sin(0.37 * t + 0.11 * f) * np.cos(0.013 * f * t) + 0.6 * np.cos(0.05 * f) - 0.004 * f
    return value.astype(np.float32)


def synthetic_signal(rate, seconds=2.0):
    """Two tones, a rising sweep and a pulse train, sampled at `rate`."""
    n = np.arange(int(rate * seconds), dtype=np.float64)
    t = n / rate
    sweep = 0.15 * np.sin(2 * math.pi * (200 * t + 900 * t * t))
    pulses = 0.3 * (np.sin(2 * math.pi * 2 * t) > 0.95)
    return (0.3 * np.sin(2 * math.pi * 440 * t) + 0.2 * np.sin(2 * math.pi * 2345.6 * t) + sweep + pulses).astype(np.float32)


def main():
    wheel = sys.argv[1]
    sys.path.insert(0, wheel)
    import librosa
    import tensorflow as tf
    tf.compat.v1.disable_eager_execution()
    from musicnn import models

    x = tf.compat.v1.placeholder(tf.float32, [None, 187, 96])
    training = tf.compat.v1.placeholder(tf.bool)
    with tf.name_scope("model"):
        logits = models.define_model(x, training, "MSD_musicnn", 50)[0]
    session = tf.compat.v1.Session()
    tf.compat.v1.train.Saver().restore(session, os.path.join(wheel, "musicnn", "MSD_musicnn") + "/")
    tags = session.run(tf.nn.sigmoid(logits), {x: synthetic_patch()[None], training: False})[0]

    signal = synthetic_signal(16000)
    mel = librosa.feature.melspectrogram(y=signal, sr=16000, hop_length=256, n_fft=512, n_mels=96, pad_mode="reflect").T
    mel = np.log10(10000 * mel + 1)
    frames = [5, 40, 90]
    out = {
        "about": "musicnn MSD_musicnn (TensorFlow) and librosa " + librosa.__version__ + ", by training/audio_mood/musicnn_reference.py",
        "patch_tags": [round(float(v), 7) for v in tags],
        "mel_frames": frames,
        "mel": [[round(float(v), 5) for v in mel[i]] for i in frames],
    }
    path = os.path.join(os.path.dirname(__file__), "../../crates/audio/tests/fixtures/musicnn_reference.json")
    with open(path, "w") as handle:
        json.dump(out, handle)
        handle.write("\n")
    print("wrote", path, "frames:", mel.shape[0])


if __name__ == "__main__":
    main()
