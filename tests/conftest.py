"""Fixtures for the whole suite come from core.testing (private Redis and FerretDB per session)."""
pytest_plugins = ["core.testing"]
