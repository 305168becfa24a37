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
    sample = ROOT / "tests/support/sample_plugin"
    sources = {str(path.relative_to(ROOT)) for path in sample.rglob("*.py") if "__pycache__" not in path.parts}
    assert sources >= {
        "tests/support/sample_plugin/setup.py",
        "tests/support/sample_plugin/im_sample_plugin/__init__.py",
        "tests/support/sample_plugin/im_sample_plugin/declarations.py",
        "tests/support/sample_plugin/im_sample_plugin/hookspecs.py",
        "tests/support/sample_plugin/im_sample_plugin/models.py",
        "tests/support/sample_plugin/im_sample_plugin/services.py",
        "tests/support/sample_plugin/im_sample_plugin/views.py",
        "tests/support/sample_plugin/im_sample_plugin/jobs.py",
        "tests/support/sample_plugin/im_sample_plugin/identity.py",
        "tests/support/sample_plugin/im_sample_plugin/cli.py",
        "tests/support/sample_plugin/im_sample_plugin/lifecycle.py",
        "tests/support/sample_plugin/tests/test_sample_author.py",
    }
    # Every file of the sample plugin, and the plugin that extends it through its own hook.
    assert {path for path, _ in blocks} == sources | {"tests/support/local_plugins/sample_extension.py"}
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


def _setting_rows(text: str, heading: str) -> list[str]:
    """The keys of the settings table under ``heading`` (up to the next heading)."""
    section = text.split(heading + "\n", 1)[1]
    section = re.split(r"^#{2,3} ", section, flags=re.M)[0]
    return re.findall(r"^\| `(interviewminds\.[^`]+)` \|", section, flags=re.M)


def test_operations_core_table_holds_only_core_settings():
    text = (ROOT / "docs/operations.md").read_text()
    listed = _setting_rows(text, "## Settings")
    assert sorted(listed) == sorted(PREFIX + s.name for s in CORE_SETTINGS)


def test_groq_plugin_settings_are_documented():
    from plugins.groq.config import SETTINGS

    prefix = PREFIX + "groq."
    operations = (ROOT / "docs/operations.md").read_text()
    rows = {line.split(" | ")[0][3:-1]: line for line in operations.splitlines() if line.startswith(f"| `{prefix}")}
    assert sorted(_setting_rows(operations, "### The groq plugin (`interviewminds.groq.*`)")) == \
        sorted(prefix + s.name for s in SETTINGS)
    page = (ROOT / "docs/groq.md").read_text()
    for setting in SETTINGS:
        assert f"`{setting.env_var(prefix)}`" in rows[prefix + setting.name]
        assert f"| `{setting.name}` |" in page, f"{setting.name} missing from docs/groq.md"
