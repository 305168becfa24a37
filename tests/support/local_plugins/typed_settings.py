"""Declares typed settings, for unknown-key and bad-type tests."""
from core import Setting, hookimpl


@hookimpl
def interviewminds_settings():
    return [Setting("window", int, 10, "Frames in the window.", minimum=1),
            Setting("ratio", float, 0.5, "A ratio.")]
