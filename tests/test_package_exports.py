"""``import channels`` is cheap (start-up, issue 25): the public names of ``channels``, ``channels.tools`` and
``channels.workflows`` are imported when first asked for, and each is the object its own module defines."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import channels
import channels.tools
import channels.workflows

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (channels, channels.tools, channels.workflows)


def _fresh(code: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_a_light_module_of_channels_loads_none_of_the_heavy_ones():
    shown = _fresh("import json, sys\nimport channels.utils, channels.time_interval, channels.errors\n"
                   "print(json.dumps(sorted(sys.modules)))")
    heavy = ("channels.tools", "channels.tools.engine", "channels.workflows", "channels.hyperstream",
             "channels.channel_manager", "channels.memory_channel", "channels.tool_channel", "semantic_version")
    assert [m for m in heavy if m in shown] == []


def test_a_name_asked_for_in_a_fresh_process_is_the_object_its_module_defines():
    shown = _fresh("""
import json
import channels
from channels import ChannelManager, Tool
import channels.channel_manager, channels.tools.engine
from channels.workflows import LineageTracker
import channels.workflows.lineage_tracker
from channels.workflows.recompute import recompute_plan    # module recompute, imported before its function is
from channels.workflows import recompute
print(json.dumps({"manager": ChannelManager is channels.channel_manager.ChannelManager,
                  "tool": Tool is channels.tools.engine.Tool,
                  "tracker": LineageTracker is channels.workflows.lineage_tracker.LineageTracker,
                  "attribute": channels.workflows.lineage_tracker.LineageTracker is channels.workflows.LineageTracker,
                  "function": callable(recompute) and recompute.__name__ == "recompute",
                  "sub_module": channels.hyperstream.compat.__name__}))   # a sub-module by attribute, never imported
""")
    assert shown == {"manager": True, "tool": True, "tracker": True, "attribute": True, "function": True,
                     "sub_module": "channels.hyperstream.compat"}


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_star_import_and_dir_offer_every_public_name(package):
    namespace: dict = {}
    exec(f"from {package.__name__} import *", namespace)
    assert sorted(n for n in namespace if n != "__builtins__") == sorted(package.__all__)
    assert all(namespace[n] is getattr(package, n) for n in package.__all__)
    assert set(package.__all__) <= set(dir(package))


def test_channels_offers_its_classes_errors_and_time_helpers():
    from channels.channel_manager import open_store
    from channels.errors import StreamNotFoundError
    from channels.time_interval import MIN_DATE, TimeInterval
    from channels.tools.history import RunRecord
    assert {"ChannelManager", "ToolChannel", "MemoryChannel", "StreamNotFoundError", "TimeInterval", "MIN_DATE",
            "RunRecord", "utcnow"} <= set(channels.__all__)
    assert (channels.open_store, channels.StreamNotFoundError, channels.MIN_DATE, channels.TimeInterval,
            channels.RunRecord) == (open_store, StreamNotFoundError, MIN_DATE, TimeInterval, RunRecord)


def test_a_name_that_does_not_exist_is_an_attribute_error_naming_it():
    with pytest.raises(AttributeError, match="'channels' has no attribute 'NoSuchChannel'"):
        channels.NoSuchChannel  # noqa: B018
    with pytest.raises(ImportError, match="NoSuchTool"):
        from channels.tools import NoSuchTool  # noqa: F401
