"""POST /api/proctoring/audio over HTTP: espeak-ng speech analysed and stored; bad audio gets 4xx, never 500."""
from __future__ import annotations

import numpy as np
import pytest

from plugins.proctoring.models import ProctoringAudioClip
from tests.support import speech as sp

# Sessions here use made-up interview ids, without the interviews plugin: the operator's opt-in
# first-claim mode (docs/proctoring.md, "Session ownership").
STANDALONE = "proctoring.standalone_sessions"

URL = "/api/proctoring/audio"


@pytest.fixture(scope="module")
def conversation(tmp_path_factory):
    directory = tmp_path_factory.mktemp("speech")
    low = sp.synthesize(sp.SENTENCES[0], sp.LOW_MALE, directory)
    high = sp.synthesize(sp.SENTENCES[1], sp.HIGH_FEMALE, directory)
    low2 = sp.synthesize(sp.SENTENCES[2], sp.LOW_MALE, directory)
    high2 = sp.synthesize(sp.SENTENCES[3], sp.HIGH_FEMALE, directory)
    return sp.concat(low, high, low2, high2, gap=0.4)


@pytest.fixture
def app(make_app):
    return make_app(plugins=["proctoring"], **{"ratelimit.enabled": "false", "proctoring.audio.max_seconds": "30",
                                                STANDALONE: "true"})


@pytest.fixture
def candidate(app):
    return app.auth("cand-a", "candidate")


def test_two_voice_wav_is_analysed_and_stored(app, candidate, conversation):
    body = {"audioData": sp.b64(sp.wav_bytes(conversation)), "interviewId": "iv-audio"}
    result = app.post_json(URL, body, headers=candidate).json
    assert result["multipleSpeakersSuspected"] is True
    assert result["speechRatio"] > 0.5 and result["pitch"]["meanHz"] is not None
    stored = ProctoringAudioClip.objects.get(interview_id="iv-audio")
    assert stored.multiple_speakers is True and stored.duration_seconds == pytest.approx(result["durationSeconds"])


def test_raw_pcm_with_a_sample_rate_is_accepted(app, candidate):
    silence = sp.silence(0.5, rate=16000)
    result = app.post_json(URL, {"audioData": sp.b64(sp.pcm16(silence)), "sampleRate": 16000}, headers=candidate).json
    assert result["speechRatio"] == 0 and result["multipleSpeakersSuspected"] is False
    assert ProctoringAudioClip.objects.count() == 0  # no interviewId: nothing stored


TONE = sp.sine(0.5, 220.0, 0.3, rate=16000)


@pytest.mark.parametrize("case,body,status,word", [
    ("empty audioData", {"audioData": ""}, 400, "audiodata"),
    ("empty WAV", {"audioData": sp.b64(sp.wav_bytes(np.zeros(0, np.float32), rate=16000))}, 400, "no samples"),
    ("too short", {"audioData": sp.b64(sp.wav_bytes(TONE[:100], rate=16000))}, 400, "ms long"),
    ("non-base64", {"audioData": "not base64 at all!!", "sampleRate": 16000}, 400, "base64"),
    ("unsupported sample rate", {"audioData": sp.b64(sp.pcm16(TONE)), "sampleRate": 12345}, 400, "samplerate"),
    ("zero sample rate", {"audioData": sp.b64(sp.pcm16(TONE)), "sampleRate": 0}, 400, "samplerate"),
    ("sample rate as a string", {"audioData": sp.b64(sp.pcm16(TONE)), "sampleRate": "16000"}, 400, "samplerate"),
    ("sample rate as a float", {"audioData": sp.b64(sp.pcm16(TONE)), "sampleRate": 16000.5}, 400, "samplerate"),
    ("sample rate as a list", {"audioData": sp.b64(sp.pcm16(TONE)), "sampleRate": [16000]}, 400, "samplerate"),
    ("channels as an object", {"audioData": sp.b64(sp.pcm16(TONE)), "sampleRate": 16000, "channels": {"n": 1}},
     400, "channels"),
    ("WAV at an unsupported rate", {"audioData": sp.b64(sp.wav_bytes(TONE, rate=11025))}, 400, "samplerate"),
    ("rate disagreeing with the WAV", {"audioData": sp.b64(sp.wav_bytes(TONE, rate=16000)), "sampleRate": 48000},
     400, "does not match"),
    ("raw PCM without a rate", {"audioData": sp.b64(sp.pcm16(TONE))}, 400, "samplerate"),
    ("8-bit WAV", {"audioData": sp.b64(sp.wav_bytes(TONE, rate=16000, sample_width=1))}, 400, "16-bit"),
    ("truncated WAV", {"audioData": sp.b64(sp.wav_bytes(TONE, rate=16000)[:30])}, 400, "wav"),
    ("bad channels", {"audioData": sp.b64(sp.pcm16(TONE)), "sampleRate": 16000, "channels": 3}, 400, "channels"),
    ("audioData a number", {"audioData": 5}, 400, "audiodata"),
    ("too long", {"audioData": sp.b64(sp.pcm16(sp.silence(31, rate=8000))), "sampleRate": 8000}, 413, "limit"),
    ("unknown field", {"audioData": sp.b64(sp.pcm16(TONE)), "sampleRate": 16000, "volume": 3}, 400, "volume"),
])
def test_bad_audio_gets_4xx_with_a_reason(app, candidate, case, body, status, word):
    response = app.post_json(URL, body, headers=candidate, expect_errors=True)
    assert response.status_int == status, response.text
    assert word in response.json["error"].lower(), response.json
