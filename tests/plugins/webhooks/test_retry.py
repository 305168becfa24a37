"""plugins.webhooks.retry: schedule, jitter, Retry-After and outcome rules."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from plugins.webhooks.retry import (
    DEFAULT_SCHEDULE,
    MAX_RETRY_AFTER,
    Outcome,
    classify,
    next_delay,
    parse_retry_after,
    parse_schedule,
    retry_delay,
)

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


class Extreme:
    """An rng that always draws the lowest (or highest) value of the range."""

    def __init__(self, high: bool):
        self.high = high

    def uniform(self, a, b):
        return b if self.high else a


def test_default_schedule_matches_the_issue():
    assert DEFAULT_SCHEDULE == parse_schedule("5s,5m,30m,2h,5h,10h,10h")
    assert DEFAULT_SCHEDULE == (5, 300, 1800, 7200, 18000, 36000, 36000)


@pytest.mark.parametrize(
    "text,expected",
    [("5", (5,)), (" 1s , 2m ", (1, 120)), ("1d,0s", (86400, 0)), ("3H,4M", (10800, 240))],
)
def test_parse_schedule(text, expected):
    assert parse_schedule(text) == expected


@pytest.mark.parametrize("text", ["", " ", "5x", "-5s", "1.5h", "5s,,5s", "s"])
def test_parse_schedule_rejects_bad_steps(text):
    with pytest.raises(ValueError, match="retry schedule"):
        parse_schedule(text)


def test_next_delay_follows_the_schedule_without_jitter():
    delays = [next_delay(n, jitter=0) for n in range(1, 9)]
    assert delays == [5, 300, 1800, 7200, 18000, 36000, 36000, None]


@pytest.mark.parametrize("attempt", range(1, 8))
def test_jitter_stays_within_bounds(attempt):
    base = DEFAULT_SCHEDULE[attempt - 1]
    assert next_delay(attempt, rng=Extreme(False)) == pytest.approx(base * 0.8)
    assert next_delay(attempt, rng=Extreme(True)) == pytest.approx(base * 1.2)
    rng = random.Random(attempt)
    for _ in range(50):
        assert base * 0.8 <= next_delay(attempt, rng=rng) <= base * 1.2


def test_jitter_spreads_retries():
    rng = random.Random(7)
    assert len({round(next_delay(2, rng=rng), 6) for _ in range(20)}) > 10


def test_custom_schedule_and_exhaustion():
    assert next_delay(1, schedule=(1, 2), jitter=0) == 1
    assert next_delay(2, schedule=(1, 2), jitter=0) == 2
    assert next_delay(3, schedule=(1, 2), jitter=0) is None


@pytest.mark.parametrize("kwargs", [{"attempt_number": 0}, {"attempt_number": 1, "jitter": 1.0},
                                    {"attempt_number": 1, "jitter": -0.1}])
def test_next_delay_rejects_bad_arguments(kwargs):
    attempt = kwargs.pop("attempt_number")
    with pytest.raises(ValueError):
        next_delay(attempt, **kwargs)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 7 ", 7.0),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        ("Fri, 01 May 2026 12:01:00 GMT", 60.0),
        (format_datetime(NOW - timedelta(hours=1), usegmt=True), 0.0),  # past: now
        ("999999999", MAX_RETRY_AFTER),  # capped
        (format_datetime(NOW + timedelta(days=30), usegmt=True), MAX_RETRY_AFTER),
        (None, None),
        ("", None),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
    ],
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, NOW) == expected


def test_parse_retry_after_custom_cap():
    assert parse_retry_after("600", NOW, cap=60) == 60


@pytest.mark.parametrize(
    "status,error,retry_after,expected",
    [
        (200, None, None, Outcome.SUCCESS),
        (204, None, None, Outcome.SUCCESS),
        (299, None, None, Outcome.SUCCESS),
        (410, None, None, Outcome.DISABLE),
        (429, None, 3.0, Outcome.RETRY_AFTER),
        (503, None, 0.0, Outcome.RETRY_AFTER),
        (429, None, None, Outcome.RETRY),  # no usable Retry-After: the schedule decides
        (503, None, None, Outcome.RETRY),
        (500, None, 3.0, Outcome.RETRY),  # Retry-After only counts on 429/503
        (302, None, None, Outcome.RETRY),  # redirects are not followed, not success
        (404, None, None, Outcome.RETRY),
        (400, None, None, Outcome.RETRY),
        (None, "timed out after 15s", None, Outcome.RETRY),
        (None, "destination blocked", None, Outcome.RETRY),
    ],
)
def test_classify(status, error, retry_after, expected):
    assert classify(status, error, retry_after) is expected


def test_classify_needs_a_status_or_an_error():
    with pytest.raises(ValueError):
        classify(None, None)


def test_retry_delay_rules():
    no_jitter = {"jitter": 0}
    assert retry_delay(Outcome.SUCCESS, 1, **no_jitter) is None
    assert retry_delay(Outcome.DISABLE, 1, **no_jitter) is None
    assert retry_delay(Outcome.RETRY, 1, **no_jitter) == 5
    # Retry-After is a floor: a longer one wins, a shorter one never undercuts the schedule.
    assert retry_delay(Outcome.RETRY_AFTER, 1, 120.0, **no_jitter) == 120
    assert retry_delay(Outcome.RETRY_AFTER, 3, 120.0, **no_jitter) == 1800
    assert retry_delay(Outcome.RETRY_AFTER, 1, 0.0, **no_jitter) == 5
    # The schedule still bounds the number of attempts.
    assert retry_delay(Outcome.RETRY_AFTER, 8, 120.0, **no_jitter) is None
    assert retry_delay(Outcome.RETRY, 2, schedule=(1, 2), **no_jitter) == 2
    assert retry_delay(Outcome.RETRY, 3, schedule=(1, 2), **no_jitter) is None
