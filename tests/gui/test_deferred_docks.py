"""Start-up (issue 25): the window comes up without what its first paint does not need — docks behind other
tabs are built when first shown, dialogs' modules load when first opened — and each deferred piece, once
asked for, shows what one built at start would."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import hsgui
from channels.channel_manager import ChannelManager
from channels.time_interval import TimeInterval
from channels.tools.history import RunRecord
from hsgui_test_stores import HOUR, T0, make_sqlite_store

ROOT = Path(hsgui.__file__).resolve().parent.parent

#: modules the start path must not import: the deferred docks' and dialogs' own, and heavy libraries only a
#: later command needs (imports, notebooks, workflow engines, stored-code decompilers, MongoDB, the console)
NOT_AT_START = (
    "hsgui.assets.editor", "hsgui.assets.dialogs", "hsgui.forms.value_form", "hsgui.compute.tools_dock",
    "hsgui.compute.run_history", "hsgui.compute.run_tool_dialog", "hsgui.compute.purge_dialog",
    "hsgui.compute.compute_missing_dialog", "hsgui.compute.dialog_text", "hsgui.annotations.dialog",
    "hsgui.importing.import_dialog", "hsgui.workspace.snippet",
    "hsgui.plotting.xy_pane", "hsgui.plotting.png_export", "pyqtgraph.exporters", "superqt", "qtpy",
    "pyarrow", "pandas", "dask", "distributed", "xdis", "uncompyle6", "decompyle3", "depyf", "pymongo",
    "qtconsole", "IPython",
    # the Workflows, Meta-data and Lineage docks (built when first shown), HyperStream's API (the console binds
    # run_script when it starts), the tool machinery and the workflow engines
    "hsgui.workflows.workflows_dock", "hsgui.workflows.graph_view", "hsgui.workflows.graph_layout",
    "hsgui.workflows.status", "hsgui.workflows.meta_data_dock", "hsgui.workflows.lineage_view",
    "channels.hyperstream", "channels.tools.engine", "channels.tools.params", "channels.tools.request",
    "channels.tools.loading", "channels.workflows.execution", "channels.workflows.lineage",
    "channels.workflows.model",
)

START = r"""
import json, sys, time
from hsgui.app import create_application
from hsgui.main_window import MainWindow
app = create_application()
w = MainWindow(restore=False)
w.persist = False
w.show()
w.open_target(sys.argv[1], create=True)
deadline = time.monotonic() + 60
while w.state.manager is None and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.01)
app.processEvents()
print(json.dumps({"connected": w.state.manager is not None, "docks": sorted(w.docks),
                  "imported": sorted(m for m in json.loads(sys.argv[2]) if m in sys.modules)}))
w.close()
"""


def test_the_window_comes_up_connected_without_the_modules_it_defers(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path),
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    out = subprocess.run([sys.executable, "-c", START, str(tmp_path / "store.sqlite"), json.dumps(NOT_AT_START)],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    shown = json.loads(out.stdout.strip().splitlines()[-1])
    assert shown["connected"]
    assert {"asset", "tools", "runs", "annotations", "console"} <= set(shown["docks"])   # every dock is there
    assert shown["imported"] == []


@pytest.fixture
def store_file(tmp_path):
    """The shared test store with one recorded run of the clock."""
    path = make_sqlite_store(tmp_path / "store.sqlite")
    manager = ChannelManager.open(path)
    try:
        manager.run_history.record(RunRecord(id="run-1", tool="clock", parameters={"stride": 60.0},
                                             output_stream="ticks", output_channel="mongo",
                                             interval=TimeInterval(T0, T0 + HOUR), started_at=T0, outcome="ok"))
    finally:
        manager.close()
    return path


def _tool_names(tools_dock) -> set[str]:
    return {name for _channel, name in tools_dock.visible_tools()}


def test_a_dock_first_opened_from_the_view_menu_shows_the_current_connection(qtbot, make_main_window, store_file):
    w = make_main_window(store_file)
    toggle = w.docks["tools"].toggleViewAction()
    assert toggle in w.menus["view"].actions()          # listed in View from the start, under its title
    assert toggle.text() == "Tools"
    w.docks["tools"].hide()
    toggle.trigger()                                    # View › Tools
    qtbot.waitUntil(lambda: w.docks["tools"].isVisible())
    assert "clock" in _tool_names(w.tools_dock)          # the connection made before the dock was built
    w.show_dock("runs")
    qtbot.waitUntil(lambda: w.run_history.status_label.text() == "1 runs")
    assert [r.id for r in w.run_history.records] == ["run-1"]


def test_a_dock_built_late_follows_the_next_connection(qtbot, make_main_window, store_file, tmp_path):
    w = make_main_window(store_file)
    w.show_dock("tools")
    assert "clock" in _tool_names(w.tools_dock)
    empty = ChannelManager.open(str(tmp_path / "other.sqlite"))
    w.set_manager(empty, str(tmp_path / "other.sqlite"))
    assert _tool_names(w.tools_dock) == _tool_names_of(empty)


def _tool_names_of(manager) -> set[str]:
    return {name for channel in manager.tool_channels for name in channel.list_tools()}


def test_a_workspace_that_shows_a_deferred_dock_brings_it_back_built(qtbot, make_main_window, store_file, tmp_path):
    w = make_main_window(store_file)
    w.show_dock("tools")
    w.show_dock("asset")
    path = tmp_path / "ws.json"
    w.workspaces.save(str(path))
    w2 = make_main_window(store_file)
    w2.workspaces.open(str(path))
    qtbot.waitUntil(lambda: w2.docks["tools"].isVisible() and w2.docks["asset"].isVisible())
    assert w2.tools_dock.isVisible() and "clock" in _tool_names(w2.tools_dock)
    assert w2.asset_editor.isVisible() and w2.asset_editor.title_label.text() == "No asset selected"


def test_the_first_store_with_workflows_brings_up_their_dock_and_one_without_leaves_it_unbuilt(
        qtbot, make_main_window, store_file):
    w = make_main_window(store_file)                   # no workflows
    qtbot.waitUntil(lambda: not w.busy())
    assert w.features["workflows"].workflows_dock.if_built() is None
    demo = make_main_window(demo=True)
    workflows = demo.features["workflows"].workflows_dock
    qtbot.waitUntil(lambda: workflows.if_built() is not None and workflows.if_built().graph_shown(), timeout=20000)
    assert demo.workflows.combo.count() >= 1 and demo.workflows.isVisible()
