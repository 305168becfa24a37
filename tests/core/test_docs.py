"""Docs kept honest: the plugin guide embeds the sample plugin verbatim and lists every hook;
the operations page lists every core setting with its env var and default."""
import inspect
import re
from pathlib import Path

from core import hookspecs
from core.core_settings import CORE_SETTINGS
from core.settings import PREFIX

ROOT = Path(__file__).resolve().parents[2]


def test_plugin_guide_embeds_the_sample_plugin_files_verbatim():
    text = (ROOT / "docs/plugins.md").read_text()
    blocks = re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```\n", text, flags=re.S)
    assert {path for path, _ in blocks} == {
        "tests/support/sample_plugin/setup.py",
        "tests/support/sample_plugin/im_sample_plugin/__init__.py",
        "tests/support/sample_plugin/tests/test_sample_author.py",
    }
    for path, content in blocks:
        assert content == (ROOT / path).read_text(), f"docs/plugins.md is out of date for {path}"


def test_plugin_guide_lists_every_hook():
    text = (ROOT / "docs/plugins.md").read_text()
    specs = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
             if name.startswith("interviewminds_")]
    assert specs
    for name in specs:
        assert f"`{name}(" in text, f"{name} missing from docs/plugins.md"
        assert getattr(hookspecs, name).__doc__, f"{name} has no docstring"


def test_operations_lists_every_core_setting():
    text = (ROOT / "docs/operations.md").read_text()
    for setting in CORE_SETTINGS:
        row = next((line for line in text.splitlines() if line.startswith(f"| `{PREFIX}{setting.name}` |")), None)
        assert row, f"{PREFIX}{setting.name} missing from docs/operations.md"
        assert f"`{setting.env_var(PREFIX)}`" in row
