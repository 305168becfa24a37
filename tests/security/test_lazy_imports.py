"""Building an app is cheap: OpenCV and NumPy load only when a request needs them (issue 17,
finding 12). A web process, a worker or a CLI command that never analyses a frame, audio or a
multimodal payload does not pay their import (about 0.1 s of the 1 s an app takes to build)."""
import json
import subprocess
import sys
from pathlib import Path

from core.lazy import LazyModule, lazy_module

ROOT = Path(__file__).resolve().parents[2]

BUILD = """
import json, sys
from core.app import build_config
build_config({"interviewminds.plugins": "interviews proctoring multimodal webhooks groq",
              "interviewminds.env": "test", "interviewminds.auth.dev": "true",
              "interviewminds.var_dir": sys.argv[1], "interviewminds.webhooks.encryption_key": sys.argv[2],
              "interviewminds.mongo.uri": "mongodb://127.0.0.1:1/x", "interviewminds.mongo.timeout_ms": "100",
              "interviewminds.redis.url": "redis://127.0.0.1:1/0", "interviewminds.redis.timeout": "0.1"},
             environ={}).commit()
print(json.dumps(sorted(name for name in ("cv2", "numpy") if name in sys.modules)))
"""


def test_building_an_app_with_every_plugin_imports_neither_opencv_nor_numpy(tmp_path):
    from plugins.webhooks.secrets import SecretBox

    result = subprocess.run([sys.executable, "-c", BUILD, str(tmp_path), SecretBox.generate_key()], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_a_lazy_module_imports_on_first_use():
    code = ("import sys; from core.lazy import lazy_module; m = lazy_module('colorsys'); "
            "before = 'colorsys' in sys.modules; value = m.rgb_to_hsv(1.0, 0.0, 0.0); "
            "print(before, 'colorsys' in sys.modules, value == (0.0, 1.0, 1.0))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["False", "True", "True"], result.stderr
    assert lazy_module("json") is json  # already imported: the module itself
    assert isinstance(lazy_module("some.module.nobody.imported"), LazyModule)
