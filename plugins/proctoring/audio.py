"""Proctoring audio: decode a posted clip, then measure loudness, speech activity, pitch and speakers.

Two public functions, both pure (no I/O, no globals that change):

* :func:`decode_audio` turns the JSON payload of ``POST /api/proctoring/audio`` into mono
  float32 samples, rejecting bad input with :class:`AudioError` (which carries an HTTP status).
* :func:`analyze_audio` measures a decoded clip and returns a JSON-ready dict.

The method, every threshold and the measured accuracy are documented in docs/proctoring-audio.md.
"""
from __future__ import annotations

import base64
import binascii
import io
import math
import re
import wave
from collections.abc import Mapping

from core.lazy import lazy_module

np = lazy_module("numpy")  # imported on first use: most processes never need it

from core.errors import GradedInputError

SUPPORTED_SAMPLE_RATES = frozenset({8000, 16000, 22050, 24000, 32000, 44100, 48000})
SUPPORTED_CHANNELS = frozenset({1, 2})
MIN_SECONDS = 0.1

# --- analysis constants (see docs/proctoring-audio.md) --------------------------------------
ANALYSIS_RATE = 16000          # every clip is resampled to this rate before analysis
HOP = 160                      # 10 ms between frames
FRAME = 512                    # 32 ms frames for energy and spectrum
DB_FLOOR = -120.0              # dBFS values are clamped here (digital silence reads -120)
CLIP_LEVEL = 0.999             # |sample| at or above this is at the rails (within ~33 LSB of PCM16 full scale)...
CLIP_RUN = 3                   # ...and counts as clipped inside a run of >= 3 such samples
CLIPPED_RATIO = 0.001          # clip flag when >= 0.1 % of samples are clipped
NOISE_FLOOR_PERCENTILE = 10    # noise floor = 10th percentile of frame energies
ENERGY_MARGIN_DB = 3.0         # a speech frame is >= 3 dB above the noise floor...
ABSOLUTE_MIN_DB = -60.0        # ...and above -60 dBFS
SPEECH_BAND_HZ = (300.0, 3400.0)
MIN_BAND_RATIO = 0.30          # >= 30 % of the spectral power in the telephone speech band
MAX_FLATNESS = 0.50            # spectral flatness (Wiener entropy) of voiced speech is low...
MIN_FLATNESS = 1e-6            # ...but not as low as a pure tone or a synthetic buzz (beeps, alarms)
PITCH_MIN_HZ = 60.0
PITCH_MAX_HZ = 400.0
YIN_WINDOW = 320               # 20 ms integration window of the YIN difference function
YIN_THRESHOLD = 0.15           # first dip of the normalised difference below this is the period
VOICED_APERIODICITY = 0.30     # a frame is voiced when its best dip is below this
GAP_FILL_FRAMES = 15           # unvoiced gaps up to 150 ms inside speech count as speech
EDGE_FRAMES = 3                # segments grow 30 ms each side (onsets, final consonants)
MIN_SEGMENT_CORE = 5           # a segment needs >= 50 ms of voiced core frames
MIN_UNIT_FRAMES = 5            # a voiced run needs >= 50 ms to give a pitch for clustering
MIN_UNITS = 4                  # speaker clustering needs >= 4 voiced runs
MIN_CLUSTER_UNITS = 2          # ...and >= 2 runs in each cluster
MIN_CLUSTER_SHARE = 0.20       # each cluster holds >= 20 % of the voiced frames
MIN_CENTRE_RATIO = 1.30        # cluster centres differ by >= 30 % (about 4.5 semitones)
MIN_SEPARATION = 4.0           # centre distance / pooled within-cluster std, in log-pitch

_DATA_URL = re.compile(r"^data:[\w.+/-]*(?:;[\w.+-]+=[\w.+-]+)*;base64,", re.IGNORECASE)


class AudioError(GradedInputError):
    """Bad audio input: 400, or 413 when it is too long or too large."""


# --- decoding ---------------------------------------------------------------------------------

def decode_audio(payload: Mapping, *, max_bytes: int = 10 * 1024 * 1024,
                 max_seconds: float = 120) -> tuple[np.ndarray, int]:
    """Decode ``{"audioData": base64 WAV}`` or ``{"audioData": base64 PCM16 LE, "sampleRate", "channels"}``.

    Returns ``(samples, sample_rate)``: mono float32 in [-1, 1] (channels are averaged).
    A ``data:`` URL prefix is accepted. For a WAV the header is authoritative; a ``sampleRate``
    or ``channels`` given beside it must agree with the header or the clip is rejected.
    Raises :class:`AudioError` with status 413 for a clip over ``max_bytes`` or ``max_seconds``
    and 400 for everything else that is wrong.
    """
    if not isinstance(payload, Mapping):
        raise AudioError("audio payload must be a JSON object")
    text = payload.get("audioData")
    if not isinstance(text, str) or not text.strip():
        raise AudioError("audioData is required: base64-encoded WAV (PCM16) or raw PCM16")
    raw = _decode_base64(text, max_bytes)
    if raw[:4] == b"RIFF" and raw[8:12] == b"WAVE":
        pcm, rate, channels = _read_wav(raw, payload)
    else:
        pcm, rate, channels = _read_raw_pcm(raw, payload)
    frames = len(pcm) // (2 * channels)
    if frames == 0:
        raise AudioError("audio contains no samples")
    seconds = frames / rate
    if seconds > max_seconds:
        raise AudioError(f"audio is {seconds:.1f} s long; the limit is {max_seconds:g} s", 413)
    if seconds < MIN_SECONDS:
        raise AudioError(f"audio is {seconds * 1000:.0f} ms long; at least {MIN_SECONDS * 1000:.0f} ms is needed")
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1, dtype=np.float32)
    return samples, rate


def _decode_base64(text: str, max_bytes: int) -> bytes:
    text = _DATA_URL.sub("", text.strip(), count=1)
    if text[:5].lower() == "data:":
        raise AudioError("audioData data: URL must be base64-encoded")
    text = "".join(text.split())
    # Refuse before decoding: base64 is 4 characters per 3 bytes.
    if len(text) // 4 * 3 > max_bytes + 2:
        raise AudioError(f"audio is larger than {max_bytes} bytes", 413)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise AudioError("audioData is not valid base64") from None
    if not raw:
        raise AudioError("audio is empty")
    if len(raw) > max_bytes:
        raise AudioError(f"audio is larger than {max_bytes} bytes", 413)
    return raw


def _check_rate(rate) -> int:
    if isinstance(rate, bool) or not isinstance(rate, int) or rate not in SUPPORTED_SAMPLE_RATES:
        allowed = ", ".join(str(r) for r in sorted(SUPPORTED_SAMPLE_RATES))
        raise AudioError(f"unsupported sampleRate {rate!r}; use one of {allowed}")
    return rate


def _check_channels(channels) -> int:
    if isinstance(channels, bool) or not isinstance(channels, int) or channels not in SUPPORTED_CHANNELS:
        raise AudioError(f"unsupported channels {channels!r}; use 1 or 2")
    return channels


def _read_wav(raw: bytes, payload: Mapping) -> tuple[bytes, int, int]:
    try:
        with wave.open(io.BytesIO(raw), "rb") as wav:
            width, rate, channels = wav.getsampwidth(), wav.getframerate(), wav.getnchannels()
            if width != 2:
                raise AudioError(f"WAV must be PCM 16-bit; this one is {8 * width}-bit")
            pcm = wav.readframes(wav.getnframes())
    except wave.Error as exc:
        if str(exc).startswith("unknown format"):
            raise AudioError("WAV must be PCM 16-bit; this one uses another encoding") from None
        raise AudioError(f"corrupt WAV: {exc}") from None
    except (EOFError, ValueError, OverflowError) as exc:
        # The stdlib reader raises these for truncated or inconsistent headers.
        if isinstance(exc, AudioError):
            raise
        raise AudioError("corrupt WAV: truncated or inconsistent header") from None
    _check_rate(rate)
    _check_channels(channels)
    for key, actual in (("sampleRate", rate), ("channels", channels)):
        given = payload.get(key)
        if given is not None and (isinstance(given, bool) or given != actual):
            raise AudioError(f"{key} {given!r} does not match the WAV header ({actual})")
    if len(pcm) % (2 * channels):
        raise AudioError("corrupt WAV: data ends in the middle of a sample frame")
    return pcm, rate, channels


def _read_raw_pcm(raw: bytes, payload: Mapping) -> tuple[bytes, int, int]:
    if payload.get("sampleRate") is None:
        raise AudioError("sampleRate is required for raw PCM16 audio (or send a WAV file)")
    rate = _check_rate(payload.get("sampleRate"))
    channels = _check_channels(payload.get("channels", 1))
    if len(raw) % 2:
        raise AudioError("raw PCM16 audio must have an even number of bytes")
    if len(raw) % (2 * channels):
        raise AudioError(f"raw PCM16 audio length is not a whole number of {channels}-channel frames")
    return raw, rate, channels


# --- analysis ---------------------------------------------------------------------------------

def analyze_audio(samples: np.ndarray, sample_rate: int) -> dict:
    """Measure a mono clip: loudness, clipping, speech activity, pitch and suspected extra speakers.

    ``samples`` are floats in [-1, 1] at ``sample_rate`` Hz (as returned by :func:`decode_audio`).
    Every value in the result is a plain int, float, bool, list or dict.
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise AudioError("samples must be a non-empty 1-D array")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
        raise AudioError(f"invalid sample rate {sample_rate!r}")
    if not np.all(np.isfinite(x)):
        raise AudioError("samples contain NaN or infinity")

    clipped_ratio = _clipped_ratio(x)
    y = _resample(x, sample_rate, ANALYSIS_RATE)
    frames = _frame_features(y)
    floor_db = float(np.percentile(frames["db"], NOISE_FLOOR_PERCENTILE))
    speech, voiced = _speech_mask(frames, floor_db)
    segments = _runs(speech)
    f0 = _smooth_pitch(frames["f0"], voiced & speech)
    pitch = f0[voiced & speech]
    units = _voiced_units(f0, voiced & speech)
    multiple, centres = _speaker_clusters(units)

    return {
        "durationSeconds": round(x.size / sample_rate, 3),
        "loudnessDbfs": _db(math.sqrt(float(np.mean(x * x)))),
        "peakDbfs": _db(float(np.max(np.abs(x)))),
        "noiseFloorDbfs": round(max(floor_db, DB_FLOOR), 1),
        "clipping": {"ratio": round(clipped_ratio, 5), "clipped": clipped_ratio >= CLIPPED_RATIO},
        "speechRatio": round(float(speech.mean()), 3),
        "voicedSegments": len(segments),
        "pitch": _pitch_stats(pitch),
        "multipleSpeakersSuspected": multiple,
        "speakerClusters": centres,
    }


def _db(amplitude: float) -> float:
    """Amplitude relative to full scale (1.0) in dB, clamped at DB_FLOOR. A full-scale sine is -3 dBFS."""
    if amplitude <= 0:
        return DB_FLOOR
    return round(max(20 * math.log10(amplitude), DB_FLOOR), 1)


def _clipped_ratio(x: np.ndarray) -> float:
    """Share of samples sitting at the rails in runs of CLIP_RUN or more (a pure peak is not clipping)."""
    hot = np.concatenate(([0], (x >= CLIP_LEVEL).astype(np.int8) - (x <= -CLIP_LEVEL).astype(np.int8), [0]))
    clipped = 0
    for sign in (1, -1):
        edges = np.diff((hot == sign).astype(np.int8))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        lengths = ends - starts
        clipped += int(lengths[lengths >= CLIP_RUN].sum())
    return clipped / x.size


def _resample(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Band-limited resampling by FFT truncation or zero-padding (an ideal low-pass, no aliasing).

    The input is zero-padded to a length whose FFT and inverse FFT both factor into small
    primes, so a two-minute clip at an awkward length still resamples in well under a second.
    """
    if rate == target:
        return x
    g = math.gcd(rate, target)
    up, down = target // g, rate // g
    m = _next_smooth(-(-x.size // down))
    spectrum = np.fft.rfft(x, down * m)
    n_out = up * m
    keep = min(spectrum.size, n_out // 2 + 1)
    out = np.zeros(n_out // 2 + 1, dtype=complex)
    out[:keep] = spectrum[:keep]
    y = np.fft.irfft(out, n_out) * (up / down)
    return y[:max(1, round(x.size * up / down))]


def _next_smooth(n: int) -> int:
    """Smallest 2^a * 3^b * 5^c >= n."""
    best = 1 << max(0, (n - 1).bit_length())
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            candidate = p35
            while candidate < n:
                candidate *= 2
            best = min(best, candidate)
            p35 *= 3
        p5 *= 5
    return best


def _frame_features(y: np.ndarray, chunk: int = 2000) -> dict[str, np.ndarray]:
    """Per-frame energy (dBFS), speech-band power ratio, spectral flatness, YIN pitch and aperiodicity."""
    tau_min = int(ANALYSIS_RATE / PITCH_MAX_HZ)
    tau_max = int(math.ceil(ANALYSIS_RATE / PITCH_MIN_HZ))
    span = max(FRAME, YIN_WINDOW + tau_max + 1)
    n_frames = max(1, (y.size - FRAME) // HOP + 1)
    padded = np.concatenate([y, np.zeros(span)])
    window = np.hanning(FRAME)
    freqs = np.fft.rfftfreq(FRAME, 1 / ANALYSIS_RATE)
    band = (freqs >= SPEECH_BAND_HZ[0]) & (freqs <= SPEECH_BAND_HZ[1])
    nfft = 1 << (span + YIN_WINDOW).bit_length()
    out = {k: np.empty(n_frames) for k in ("db", "band", "flatness", "f0", "aperiodicity")}

    for start in range(0, n_frames, chunk):  # chunks bound memory on two-minute clips
        idx = np.arange(start, min(n_frames, start + chunk))
        block = np.lib.stride_tricks.sliding_window_view(padded, span)[idx * HOP]
        frame = block[:, :FRAME]
        rms = np.sqrt(np.mean(frame * frame, axis=1))
        out["db"][idx] = 20 * np.log10(np.maximum(rms, 10 ** (DB_FLOOR / 20)))
        power = np.abs(np.fft.rfft(frame * window, axis=1)) ** 2 + 1e-20
        power = power[:, 1:]  # drop DC
        out["band"][idx] = power[:, band[1:]].sum(axis=1) / power.sum(axis=1)
        out["flatness"][idx] = np.exp(np.mean(np.log(power), axis=1)) / np.mean(power, axis=1)
        f0, aperiodicity = _yin(block, nfft, tau_min, tau_max)
        out["f0"][idx], out["aperiodicity"][idx] = f0, aperiodicity
    return out


def _yin(block: np.ndarray, nfft: int, tau_min: int, tau_max: int) -> tuple[np.ndarray, np.ndarray]:
    """YIN (de Cheveigne & Kawahara 2002) on each row: pitch in Hz and the dip depth (0 = periodic)."""
    w = YIN_WINDOW
    spec_full = np.fft.rfft(block, nfft, axis=1)
    spec_head = np.fft.rfft(block[:, :w], nfft, axis=1)
    corr = np.fft.irfft(np.conj(spec_head) * spec_full, nfft, axis=1)[:, :tau_max + 1]
    sq = np.concatenate([np.zeros((block.shape[0], 1)), np.cumsum(block * block, axis=1)], axis=1)
    taus = np.arange(tau_max + 1)
    energy = sq[:, taus + w] - sq[:, taus]            # sum of x^2 over [tau, tau + w)
    diff = energy[:, :1] + energy - 2 * corr           # d(tau)
    diff[:, 0] = 0
    cumulative = np.cumsum(diff[:, 1:], axis=1)
    cmnd = np.ones_like(diff)
    cmnd[:, 1:] = diff[:, 1:] * taus[1:] / np.maximum(cumulative, 1e-12)  # d'(tau)
    search = cmnd[:, tau_min:tau_max]
    rows = np.arange(block.shape[0])

    below = search < YIN_THRESHOLD
    first = np.where(below.any(axis=1), below.argmax(axis=1), search.argmin(axis=1))
    # Walk down to the bottom of the first dip below the threshold.
    for _ in range(search.shape[1]):
        nxt = np.minimum(first + 1, search.shape[1] - 1)
        step = search[rows, nxt] < search[rows, first]
        if not step.any():
            break
        first = np.where(step, nxt, first)
    tau = first + tau_min
    # Parabolic interpolation around the dip for sub-sample precision.
    left = cmnd[rows, np.maximum(tau - 1, 1)]
    mid = cmnd[rows, tau]
    right = cmnd[rows, np.minimum(tau + 1, tau_max)]
    denom = left - 2 * mid + right
    shift = np.where(np.abs(denom) > 1e-12, 0.5 * (left - right) / np.where(denom == 0, 1, denom), 0.0)
    shift = np.clip(shift, -1, 1)
    return ANALYSIS_RATE / (tau + shift), mid


def _speech_mask(frames: dict[str, np.ndarray], floor_db: float) -> tuple[np.ndarray, np.ndarray]:
    """Speech frames: loud enough, periodic and speech-shaped, with short gaps filled and edges grown."""
    loud = (frames["db"] >= floor_db + ENERGY_MARGIN_DB) & (frames["db"] >= ABSOLUTE_MIN_DB)
    # A dip at the edge of the lag range is a search-limit artefact, not a period.
    voiced = (frames["aperiodicity"] < VOICED_APERIODICITY) & (frames["f0"] > PITCH_MIN_HZ * 1.02) \
        & (frames["f0"] < PITCH_MAX_HZ * 0.98)
    speechlike = (frames["band"] >= MIN_BAND_RATIO) & (frames["flatness"] <= MAX_FLATNESS) \
        & (frames["flatness"] >= MIN_FLATNESS)
    core = loud & voiced & speechlike
    mask = core.copy()
    runs = _runs(core)
    for (_, end), (start, _) in zip(runs, runs[1:]):
        if start - end <= GAP_FILL_FRAMES:
            mask[end:start] = True
    grown = np.zeros_like(mask)
    for start, end in _runs(mask):
        if core[start:end].sum() >= MIN_SEGMENT_CORE:
            grown[max(0, start - EDGE_FRAMES):min(mask.size, end + EDGE_FRAMES)] = True
    return grown, core


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open [start, end) index ranges of the True runs in a boolean array."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def _smooth_pitch(f0: np.ndarray, voiced: np.ndarray, width: int = 5) -> np.ndarray:
    """Median-filter the pitch inside each voiced run, removing isolated octave jumps."""
    out = f0.copy()
    half = width // 2
    for start, end in _runs(voiced):
        if end - start >= width:
            padded = np.pad(f0[start:end], half, mode="edge")
            out[start:end] = np.median(np.lib.stride_tricks.sliding_window_view(padded, width), axis=1)
    return out


def _voiced_units(f0: np.ndarray, voiced: np.ndarray) -> list[tuple[float, int]]:
    """(median log2 pitch, frame count) of each voiced run long enough to trust: roughly one per syllable."""
    return [(float(np.median(np.log2(f0[s:e]))), e - s)
            for s, e in _runs(voiced) if e - s >= MIN_UNIT_FRAMES]


def _speaker_clusters(units: list[tuple[float, int]]) -> tuple[bool, list[float]]:
    """Weighted 1-D 2-means on per-run log pitch; two speakers when the clusters are far apart and both sizeable."""
    if not units:
        return False, []
    values = np.array([u[0] for u in units])
    weights = np.array([u[1] for u in units], dtype=float)
    single = [round(float(2 ** np.average(values, weights=weights)), 1)]
    if len(units) < MIN_UNITS:
        return False, single
    order = np.argsort(values)
    v, w = values[order], weights[order]
    best = None
    for k in range(1, v.size):  # in 1-D the optimal 2-means split is a cut of the sorted values
        groups = [(v[:k], w[:k]), (v[k:], w[k:])]
        means = [np.average(g, weights=gw) for g, gw in groups]
        sse = sum(float(np.sum(gw * (g - m) ** 2)) for (g, gw), m in zip(groups, means))
        if best is None or sse < best[0]:
            best = (sse, k, means)
    sse, k, (low, high) = best
    pooled_std = math.sqrt(sse / w.sum())
    share = min(w[:k].sum(), w[k:].sum()) / w.sum()
    separated = (
        min(k, v.size - k) >= MIN_CLUSTER_UNITS
        and share >= MIN_CLUSTER_SHARE
        and 2 ** (high - low) >= MIN_CENTRE_RATIO
        and (high - low) >= MIN_SEPARATION * pooled_std
    )
    if not separated:
        return False, single
    return True, [round(float(2 ** low), 1), round(float(2 ** high), 1)]


def _pitch_stats(f0: np.ndarray) -> dict:
    """Summary of the pitch track over voiced speech frames (all null when nothing is voiced)."""
    if f0.size == 0:
        return {"meanHz": None, "medianHz": None, "stdHz": None, "minHz": None, "maxHz": None}
    return {
        "meanHz": round(float(f0.mean()), 1),
        "medianHz": round(float(np.median(f0)), 1),
        "stdHz": round(float(f0.std()), 1),
        "minHz": round(float(f0.min()), 1),
        "maxHz": round(float(f0.max()), 1),
    }
