#!/usr/bin/env python3
"""Measure the proctoring audio analyser on a labelled batch of synthetic clips.

Builds clips with espeak-ng (tests/support/speech.py): single speakers at several voices,
pitches and speeds, two-speaker conversations (alternating turns and overlapping speech),
silence, white and pink noise, and speech in noise at several SNRs. Each clip is labelled
(speech present? more than one speaker?) and run through ``analyze_audio``; the script prints
accuracy, precision and recall of speech detection (``speechRatio > SPEECH_THRESHOLD``) and of
``multipleSpeakersSuspected``, the errors, and the analysis time.

    .venv/bin/python scripts/eval_audio.py [--verbose]

Results and method are written up in docs/proctoring-audio.md.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plugins.proctoring.audio import analyze_audio  # noqa: E402
from tests.support import speech as sp  # noqa: E402

SPEECH_THRESHOLD = 0.2  # a clip "has speech" when at least 20 % of its frames are speech

SINGLE_VOICES = [
    sp.Voice("en-us", 10), sp.Voice("en-us", 30), sp.Voice("en-us", 50), sp.Voice("en-us", 70),
    sp.Voice("en-us", 90), sp.Voice("en-us+f3", 20), sp.Voice("en-us+f3", 50), sp.Voice("en-us+f3", 80),
    sp.Voice("en-gb", 40), sp.Voice("en-us+m3", 50), sp.Voice("en-us+f2", 60),
    sp.Voice("en-us", 50, speed=120), sp.Voice("en-us+f3", 50, speed=220),
]
SPEAKER_PAIRS = [
    (sp.Voice("en-us", 20), sp.Voice("en-us+f3", 80)),
    (sp.Voice("en-us", 50), sp.Voice("en-us+f3", 40)),
    (sp.Voice("en-us", 30), sp.Voice("en-us+f3", 60)),
    (sp.Voice("en-gb", 40), sp.Voice("en-us+f2", 70)),
    (sp.Voice("en-us+m3", 30), sp.Voice("en-us+f3", 50)),
    (sp.Voice("en-us", 20), sp.Voice("en-us", 80)),
    (sp.Voice("en-us+f3", 10), sp.Voice("en-us+f3", 90)),
]
# Hard cases the pitch-based method is expected to get wrong some of the time:
# one speaker with wide, expressive intonation (SSML prosody), and two speakers of similar pitch.
EXPRESSIVE = [
    '<speak>Is this right? <prosody pitch="+40%" range="x-high">Wow, that is amazing!</prosody> '
    '<prosody pitch="-20%">Okay, let me think about it.</prosody></speak>',
    '<speak><prosody pitch="-30%">So the first step is easy.</prosody> '
    '<prosody pitch="+60%">But wait, what about negative numbers?</prosody> Right, we filter them.</speak>',
    '<speak><prosody range="x-high">I am really excited about this problem, it is a classic!</prosody> '
    '<prosody pitch="x-low">Although the naive version is slow.</prosody></speak>',
]
SIMILAR_PAIRS = [
    (sp.Voice("en-us", 50), sp.Voice("en-gb", 50)),
    (sp.Voice("en-us+f3", 50), sp.Voice("en-us+f2", 50)),
    (sp.Voice("en-us", 40), sp.Voice("en-us+m3", 60)),
]


@dataclass
class Clip:
    name: str
    samples: np.ndarray
    speech: bool
    multiple: bool


def build_batch(directory: Path) -> list[Clip]:
    """The labelled batch; deterministic (espeak-ng output and seeded noise)."""
    say = lambda text, voice: sp.synthesize(text, voice, directory)  # noqa: E731
    clips: list[Clip] = []
    for i, voice in enumerate(SINGLE_VOICES):
        one = say(sp.SENTENCES[i % len(sp.SENTENCES)], voice)
        clips.append(Clip(f"single {voice}", one, True, False))
    for i, voice in enumerate(SINGLE_VOICES[:6]):
        two = sp.concat(say(sp.SENTENCES[i % 6], voice), say(sp.SENTENCES[(i + 3) % 6], voice), gap=0.4)
        clips.append(Clip(f"single long {voice}", two, True, False))
    for i, (a, b) in enumerate(SPEAKER_PAIRS):
        first, second = say(sp.SENTENCES[i % 6], a), say(sp.SENTENCES[(i + 1) % 6], b)
        clips.append(Clip(f"turns {a.name}/{a.pitch} + {b.name}/{b.pitch}", sp.concat(first, second, gap=0.4), True, True))
        third = say(sp.SENTENCES[(i + 2) % 6], a)
        clips.append(Clip(f"turns x3 {a.name}/{a.pitch} + {b.name}/{b.pitch}", sp.concat(first, second, third, gap=0.3),
                          True, True))
        for ratio in (0.0, -6.0):
            mixed = sp.overlay(first, second, ratio_db=ratio, offset=0.5)
            clips.append(Clip(f"overlap {ratio:+.0f}dB {a.name}/{a.pitch} + {b.name}/{b.pitch}", mixed, True, True))
    for i, text in enumerate(EXPRESSIVE):
        for voice in (sp.Voice("en-us", 50), sp.Voice("en-us+f3", 50)):
            clips.append(Clip(f"hard: expressive single {voice.name}/{i}",
                              sp.synthesize(text, voice, directory, ssml=True), True, False))
    for i, (a, b) in enumerate(SIMILAR_PAIRS):
        pair = sp.concat(say(sp.SENTENCES[i], a), say(sp.SENTENCES[i + 1], b), gap=0.4)
        clips.append(Clip(f"hard: similar-pitch turns {a.name}/{a.pitch} + {b.name}/{b.pitch}", pair, True, True))
    for seconds in (1.0, 3.0):
        clips.append(Clip(f"silence {seconds}s", sp.silence(seconds), False, False))
    for seed, level in enumerate((0.005, 0.05, 0.3)):
        clips.append(Clip(f"white noise rms {level}", sp.white_noise(3.0, level, seed=seed), False, False))
        clips.append(Clip(f"pink noise rms {level}", sp.pink_noise(3.0, level, seed=seed), False, False))
    beep = sp.concat(*[sp.sine(0.3, 1000, 0.3)] * 5, gap=0.3)
    clips.append(Clip("hard: intermittent 1 kHz beeps", beep, False, False))
    t = np.arange(int(0.4 * sp.RATE)) / sp.RATE
    buzz = (0.1 * sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 20))).astype(np.float32)
    clips.append(Clip("hard: intermittent 150 Hz harmonic buzz", sp.concat(*[buzz] * 4, gap=0.3), False, False))
    clicks = sp.concat(*[sp.white_noise(0.02, 0.2, seed=k) for k in range(15)], gap=0.15)
    clips.append(Clip("keyboard-like clicks", clicks, False, False))
    clips.append(Clip("silence then noise burst", sp.concat(sp.silence(1.0), sp.white_noise(1.0, 0.1)), False, False))
    for i, snr in enumerate((20, 10, 5, 0)):
        voice = SINGLE_VOICES[(2 * i) % len(SINGLE_VOICES)]
        clean = say(sp.SENTENCES[i], voice)
        for kind, noise in (("white", sp.white_noise(2.0, seed=10 + i)), ("pink", sp.pink_noise(2.0, seed=20 + i))):
            clips.append(Clip(f"speech {voice.name}/{voice.pitch} + {kind} SNR {snr}dB",
                              sp.add_noise(clean, noise, snr), True, False))
    return clips


def scores(truth: list[bool], predicted: list[bool]) -> dict[str, float]:
    t, p = np.array(truth), np.array(predicted)
    tp, fp, fn = int(np.sum(t & p)), int(np.sum(~t & p)), int(np.sum(t & ~p))
    return {
        "n": len(t), "accuracy": float(np.mean(t == p)),
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "recall": tp / (tp + fn) if tp + fn else float("nan"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print every clip's result")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clips = build_batch(Path(tmp))
    results, seconds, elapsed = [], 0.0, 0.0
    for clip in clips:
        start = time.perf_counter()
        result = analyze_audio(clip.samples, sp.RATE)
        elapsed += time.perf_counter() - start
        seconds += clip.samples.size / sp.RATE
        results.append(result)
        has_speech = result["speechRatio"] > SPEECH_THRESHOLD
        wrong = has_speech != clip.speech or result["multipleSpeakersSuspected"] != clip.multiple
        if args.verbose or wrong:
            print(f"{'WRONG' if wrong else 'ok   '} {clip.name:55s} speech={result['speechRatio']:.2f} "
                  f"multi={result['multipleSpeakersSuspected']} clusters={result['speakerClusters']}")
    print(f"\n{len(clips)} clips, {seconds:.0f} s of audio, analysed at {1000 * elapsed / seconds:.1f} ms per audio second")
    for label, truth, predicted in (
        (f"speech detection (speechRatio > {SPEECH_THRESHOLD})", [c.speech for c in clips],
         [r["speechRatio"] > SPEECH_THRESHOLD for r in results]),
        ("multiple speakers (all clips)", [c.multiple for c in clips], [r["multipleSpeakersSuspected"] for r in results]),
        ("multiple speakers (alternating turns vs single voices)",
         [c.multiple for c in clips if c.name.startswith(("turns", "single"))],
         [r["multipleSpeakersSuspected"] for c, r in zip(clips, results) if c.name.startswith(("turns", "single"))]),
        ("multiple speakers (hard cases only)",
         [c.multiple for c in clips if c.name.startswith("hard")],
         [r["multipleSpeakersSuspected"] for c, r in zip(clips, results) if c.name.startswith("hard")]),
        ("multiple speakers (overlapping speech only, recall)",
         [c.multiple for c in clips if c.name.startswith("overlap")],
         [r["multipleSpeakersSuspected"] for c, r in zip(clips, results) if c.name.startswith("overlap")]),
    ):
        s = scores(truth, predicted)
        print(f"{label:58s} n={s['n']:3d} accuracy={s['accuracy']:.3f} precision={s['precision']:.3f} "
              f"recall={s['recall']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
