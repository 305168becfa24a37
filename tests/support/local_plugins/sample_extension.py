"""Extends the sample plugin through its own hook; it needs ``sample`` enabled too:
``interviewminds.plugins = sample tests.support.local_plugins.sample_extension``."""
from core import hookimpl


@hookimpl
def sample_decorate_greeting(greeting):
    return f"{greeting}, from the extension"
