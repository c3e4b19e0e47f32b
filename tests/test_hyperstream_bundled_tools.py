"""HyperStream 0.3.8's own tools folder, used as a plugin folder: every tool loads; outputs match the original.

Runs only where the original is installed (``/tmp/venvhs``, built by ``../shared/peer/setup.sh``).
"""
import json
import os
import subprocess
import sys

import pytest

import channels.tools  # noqa: F401
from channels import ToolChannel
from channels.tools import scan_tools
from channels.utils import utcnow

HS_TOOLS = "/tmp/venvhs/lib/python3.11/site-packages/hyperstream/tools"
HS_PYTHON = "/tmp/venvhs/bin/python"
HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "peer"))

needs_original = pytest.mark.skipif(not os.path.isdir(HS_TOOLS) or not os.path.exists(HS_PYTHON),
                                    reason="the original HyperStream 0.3.8 is not installed at /tmp/venvhs")


@needs_original
def test_all_50_bundled_tools_load():
    infos = scan_tools(ToolChannel("hs_tools", HS_TOOLS, up_to_timestamp=utcnow()))
    assert len(infos) == 50
    assert [(i.name, i.error) for i in infos if not i.ok] == []
    assert not [m for m in sys.modules if m == "hyperstream" or m.startswith("hyperstream.")]


@needs_original
@pytest.mark.skipif(not os.path.exists(os.path.join(PEER, "hs_compat.py")), reason="no ../shared/peer/hs_compat.py")
def test_bundled_tools_give_the_same_output_as_the_original(tmp_path):
    out = tmp_path / "cmp.json"
    proc = subprocess.run([sys.executable, os.path.join(HERE, "..", "bench", "compare_hyperstream_tools.py"),
                           "--json", str(out)], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, HS_PEER=PEER))
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(out.read_text())["summary"]
    same = set(summary["same"])
    # the splitter family, stream_broadcaster and the selectors run with the output plate as meta-data values
    assert {"splitter", "splitter_of_dict", "splitter_of_list", "splitter_with_unlist", "splitter_from_stream",
            "stream_broadcaster", "asset_splitter", "index_of", "index_of_by_stream", "plate_sink"} <= same
    assert {"clock", "apply", "sliding_window", "sliding_apply", "relative_window", "aggregate",
            "meta_instance", "asset_plate_generator", "histogram_from_list"} <= same
    assert summary["error_here"] == [] and summary["error_in_hyperstream"] == []
    # differences on purpose (see README "Coming from HyperStream"): HyperStream's percentile() divides the
    # tool's own list of percentiles by 100 on every call; its `TimeInterval in TimeInterval` excludes a
    # piece that starts where the interval starts
    assert set(summary["diff"]) <= {"percentiles_from_list", "splitter_time_aware", "splitter_time_aware_from_stream"}
    assert len(same) >= 42
