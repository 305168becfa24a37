"""Health checks that fail in the two ways a check can: raising and hanging."""
import time

from core import hookimpl


def _raises():
    raise RuntimeError("boom")


def _hangs():
    time.sleep(5)
    return "ok"


@hookimpl
def interviewminds_health_checks(settings):
    return {"raises": _raises, "hangs": _hangs}
