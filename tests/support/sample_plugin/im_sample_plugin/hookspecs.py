"""The sample plugin's own hook: other plugins implement it with ``@core.hookimpl``."""
from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("interviewminds")


@hookspec
def sample_decorate_greeting(greeting):
    """Return the greeting to show instead of ``greeting``, or None to leave it.

    Used by ``GET /api/sample/echo`` and ``sampleGreeting``. Every implementation is applied in
    load order (the ini's), each to the previous one's result.
    """
