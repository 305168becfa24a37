"""Temporal confirmation: N of the last M frames, in Redis (shared by app instances) and over stored series."""
from __future__ import annotations

import base64
import threading
from pathlib import Path

import pytest
import redis

from plugins.proctoring.temporal import FrameWindow, confirm_series, confirmed

# Sessions here use made-up interview ids, without the interviews plugin: the operator's opt-in
# first-claim mode (docs/proctoring.md, "Session ownership").
STANDALONE = "proctoring.standalone_sessions"

DATA = Path(__file__).resolve().parents[2] / "data" / "proctoring"
URL = "/api/proctoring/frame"
NO_FACE = base64.b64encode((DATA / "empty_coffee.jpg").read_bytes()).decode()
CLEAN = base64.b64encode((DATA / "clean_astronaut_02.jpg").read_bytes()).decode()


def test_confirmed_counts_each_violation_once_per_frame():
    window = [["no_face"], ["no_face", "no_face"], ["low_light"], ["no_face", "low_light"]]
    assert confirmed(window, 3) == [{"type": "no_face", "frames": 3}]
    assert confirmed(window, 2) == [{"type": "low_light", "frames": 2}, {"type": "no_face", "frames": 3}]


def test_confirm_series_needs_n_of_the_last_m_frames():
    series = [["a"], [], ["a"], [], ["a"], [], [], ["a"]]
    result = confirm_series(series, required=3, size=5)
    # Only frame 4's last five frames (0-4) hold three "a"; later windows hold two.
    assert [("a" in s) for s in result] == [False, False, False, False, True, False, False, False]


def test_confirm_series_is_monotonic_in_added_violations():
    import random

    rng = random.Random(7)
    for _ in range(200):
        series = [set(rng.sample(["a", "b"], rng.randint(0, 2))) for _ in range(rng.randint(1, 15))]
        before = confirm_series(series, 2, 4)
        index = rng.randrange(len(series))
        more = [set(s) for s in series]
        more[index].add(rng.choice(["a", "b"]))
        after = confirm_series(more, 2, 4)
        assert all(b <= a for b, a in zip(before, after))
        inserted = series[:index] + [{"a", "b"}] + series[index:]
        after_insert = confirm_series(inserted, 2, 4)
        shifted = after_insert[:index] + after_insert[index + 1:]
        assert all(b <= a for b, a in zip(before, shifted))


def test_window_is_refused_when_n_exceeds_m(redis_url):
    with pytest.raises(ValueError, match="required <= size"):
        FrameWindow(redis.Redis.from_url(redis_url), required=6, size=5, ttl=60)


def test_confirmation_is_shared_by_two_app_instances(make_app):
    """Frames of one interview alternate between two app instances; the window is one."""
    settings = {"ratelimit.enabled": "false", STANDALONE: "true"}
    first = make_app(plugins=["proctoring"], **settings)
    second = make_app(plugins=["proctoring"], **settings)
    headers = first.auth("cand-t", "candidate")

    def post(app, frame):
        return app.post_json(URL, {"frameData": frame, "interviewId": "iv-shared"}, headers=headers).json

    steps = [(first, NO_FACE), (second, NO_FACE), (first, CLEAN), (second, NO_FACE),
             (first, CLEAN), (second, CLEAN), (first, CLEAN)]
    seen = [post(app, frame) for app, frame in steps]
    alerts = [[a["type"] for a in r["confirmedAlerts"]] for r in seen]
    # The raw finding is per frame; the alert appears only once 3 of the last 5 frames show it.
    assert [r["violations"] for r in seen] == [["no_face"], ["no_face"], [], ["no_face"], [], [], []]
    assert alerts == [[], [], [], ["no_face"], ["no_face"], [], []]
    assert seen[3]["confirmedAlerts"] == [{"type": "no_face", "frames": 3, "window": 4}]
    assert [r["window"]["frames"] for r in seen] == [1, 2, 3, 4, 5, 5, 5]


def test_interviews_have_separate_windows(make_app):
    app = make_app(plugins=["proctoring"], **{STANDALONE: "true", "proctoring.temporal.required": "2",
                                               "proctoring.temporal.window": "3"})
    headers = app.auth("cand-s", "candidate")
    for interview in ("iv-x", "iv-y"):
        first = app.post_json(URL, {"frameData": NO_FACE, "interviewId": interview}, headers=headers).json
        assert first["confirmedAlerts"] == [] and first["window"] == {"frames": 1, "size": 3, "required": 2}
    second = app.post_json(URL, {"frameData": NO_FACE, "interviewId": "iv-x"}, headers=headers).json
    assert [a["type"] for a in second["confirmedAlerts"]] == ["no_face"]


def test_concurrent_pushes_from_separate_connections_keep_a_consistent_window(redis_url):
    """Each push sees its own frame in a window of at most M frames, whatever the interleaving."""
    size, pushes, errors = 5, 40, []

    def worker(tag):
        # required=1: every frame in the window shows up as an alert, so the window is visible.
        window = FrameWindow(redis.Redis.from_url(redis_url), required=1, size=size, ttl=60)
        for i in range(pushes):
            result = window.push("iv-race", [f"{tag}{i}"])
            names = [alert["type"] for alert in result["confirmedAlerts"]]
            if f"{tag}{i}" not in names or len(names) > size or result["window"]["frames"] > size:
                errors.append(result)

    threads = [threading.Thread(target=worker, args=(tag,)) for tag in "pq"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    client = redis.Redis.from_url(redis_url)
    assert client.llen("proctoring:window:iv-race") == size
    assert 0 < client.ttl("proctoring:window:iv-race") <= 60
