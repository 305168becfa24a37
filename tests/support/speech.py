"""Synthetic test audio: espeak-ng speech, silence, noise, sines and mixtures, all as float32 numpy arrays.

Speech comes from the Debian ``espeak-ng`` binary (``espeak-ng -w out.wav``), so tests and
scripts/eval_audio.py measure the analyser on real formant speech with known speakers, pitches
and timings. Everything is deterministic: noise takes a seed, espeak-ng output is reproducible.
"""
from __future__ import annotations

import base64
import hashlib
import io
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 22050  # espeak-ng writes 22.05 kHz mono PCM16

SENTENCES = (
    "I would start by sorting the array and then scanning it once from left to right.",
    "The hash map gives constant time lookups, so the whole solution runs in linear time.",
    "For the edge cases I check an empty input and a list with a single element.",
    "Then I write a few unit tests to make sure the function returns the right answer.",
    "If the input is very large we could stream it instead of loading everything in memory.",
    "Recursion is elegant here but an explicit stack avoids overflowing on deep trees.",
)


@dataclass(frozen=True)
class Voice:
    """An espeak-ng voice: ``name`` for ``-v`` (e.g. ``en-us+f3``), ``pitch`` for ``-p`` (0-99), ``speed`` for ``-s`` (wpm)."""

    name: str = "en-us"
    pitch: int = 50
    speed: int = 160


LOW_MALE = Voice("en-us", pitch=20)        # about 80 Hz
MALE = Voice("en-us", pitch=50)            # about 105 Hz
HIGH_FEMALE = Voice("en-us+f3", pitch=80)  # about 285 Hz
FEMALE = Voice("en-us+f3", pitch=40)       # about 200 Hz


def espeak_binary() -> str:
    """Path of espeak-ng; a clear failure (not a skip) when it is missing."""
    path = shutil.which("espeak-ng")
    if path is None:
        raise RuntimeError("espeak-ng is required for the audio tests: apt-get install espeak-ng")
    return path


def synthesize(text: str, voice: Voice, directory: Path, *, ssml: bool = False) -> np.ndarray:
    """Speak ``text`` with ``voice`` into a WAV under ``directory`` and return its samples at RATE.

    With ``ssml`` the text is SSML (``espeak-ng -m``), e.g. ``<prosody pitch="+40%">`` for expressive speech.
    """
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / f"{voice.name}-{voice.pitch}-{voice.speed}-{hashlib.sha1(text.encode()).hexdigest()[:12]}.wav"
    if not out.exists():
        subprocess.run(
            [espeak_binary(), *(["-m"] if ssml else []), "-v", voice.name, "-p", str(voice.pitch), "-s", str(voice.speed), "-w", str(out), text],
            check=True, capture_output=True, timeout=30,
        )
    samples, rate = read_wav(out.read_bytes())
    assert rate == RATE, f"espeak-ng wrote {rate} Hz, expected {RATE}"
    return samples


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Mono PCM16 WAV bytes -> (float32 samples, rate)."""
    with wave.open(io.BytesIO(data)) as wav:
        pcm = wav.readframes(wav.getnframes())
        return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0, wav.getframerate()


def pcm16(samples: np.ndarray) -> bytes:
    """Float samples in [-1, 1] -> little-endian PCM16 bytes (values beyond the rails saturate)."""
    return (np.clip(samples, -1.0, 32767 / 32768) * 32768).astype("<i2").tobytes()


def wav_bytes(samples: np.ndarray, rate: int = RATE, channels: int = 1, sample_width: int = 2) -> bytes:
    """A WAV file in memory. ``samples`` may be interleaved when ``channels`` > 1."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(sample_width)
        wav.setframerate(rate)
        if sample_width == 2:
            wav.writeframes(pcm16(samples))
        else:  # 8-bit unsigned or 32-bit: only used to prove such files are rejected
            wav.writeframes(bytes(len(samples) * sample_width))
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def silence(seconds: float, rate: int = RATE) -> np.ndarray:
    return np.zeros(int(round(seconds * rate)), dtype=np.float32)


def white_noise(seconds: float, rms: float = 0.05, seed: int = 0, rate: int = RATE) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(round(seconds * rate))) * rms).astype(np.float32)


def pink_noise(seconds: float, rms: float = 0.05, seed: int = 0, rate: int = RATE) -> np.ndarray:
    """1/f noise: white noise shaped by 1/sqrt(f) in the frequency domain, scaled to ``rms``."""
    n = int(round(seconds * rate))
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / rate)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0
    noise = np.fft.irfft(spectrum, n)
    return (noise * rms / np.sqrt(np.mean(noise ** 2))).astype(np.float32)


def sine(seconds: float, frequency: float, amplitude: float, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(samples, dtype=np.float64) ** 2)))


def scale_to_rms(samples: np.ndarray, target: float) -> np.ndarray:
    return (samples * (target / max(rms(samples), 1e-12))).astype(np.float32)


def concat(*parts: np.ndarray, gap: float = 0.0, rate: int = RATE) -> np.ndarray:
    """Join clips end to end with ``gap`` seconds of silence between them (alternating turns)."""
    pieces = []
    for i, part in enumerate(parts):
        if i and gap:
            pieces.append(silence(gap, rate))
        pieces.append(part)
    return np.concatenate(pieces).astype(np.float32)


def overlay(a: np.ndarray, b: np.ndarray, ratio_db: float = 0.0, offset: float = 0.0, rate: int = RATE) -> np.ndarray:
    """``a`` plus ``b`` started ``offset`` s later, ``b`` scaled to ``ratio_db`` relative to ``a``'s RMS (overlapping speakers)."""
    start = int(round(offset * rate))
    b = scale_to_rms(b, rms(a) * 10 ** (ratio_db / 20))
    out = np.zeros(max(a.size, start + b.size), dtype=np.float32)
    out[:a.size] += a
    out[start:start + b.size] += b
    return out


def add_noise(signal: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``signal`` plus ``noise`` (tiled or cut to length) scaled so the signal-to-noise ratio is ``snr_db``."""
    reps = int(np.ceil(signal.size / noise.size))
    noise = np.tile(noise, reps)[:signal.size]
    return (signal + scale_to_rms(noise, rms(signal) / 10 ** (snr_db / 20))).astype(np.float32)


def normalise_peak(samples: np.ndarray, peak: float = 0.7) -> np.ndarray:
    return (samples * (peak / max(float(np.max(np.abs(samples))), 1e-12))).astype(np.float32)
