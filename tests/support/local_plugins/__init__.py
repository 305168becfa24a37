"""Dotted-path plugins used by startup-failure tests (loaded as `tests.support.local_plugins.X`)."""
