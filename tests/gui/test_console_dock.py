"""The optional Python console dock: started on demand, the app's objects bound and kept current, typed code
runs; without the extra it says how to install it."""
from __future__ import annotations

import sys

import pytest
from hsgui_test_stores import HOUR, T0, make_sqlite_store
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from channels.stream import StreamId
from channels.time_interval import TimeInterval

pytest.importorskip("qtconsole")


@pytest.fixture
def window(make_main_window, tmp_path):
    return make_main_window(make_sqlite_store(tmp_path / "store.sqlite"), size=(1200, 850),
                            interval=TimeInterval(T0, T0 + 12 * HOUR))


def open_console(qtbot, w):
    action = next(a for a in w.menus["tools"].actions() if a.text() == "Python console")
    action.trigger()
    qtbot.waitUntil(lambda: w.console.started and w.docks["console"].isVisible(), timeout=10000)
    return w.console


def test_the_console_starts_on_demand_with_the_selected_stream_and_view(qtbot, window):
    assert not window.console.started                # nothing started for a console never opened
    console = open_console(qtbot, window)
    ns = console.namespace
    assert ns["manager"] is window.manager and ns["window"] is window and ns["stream"] is None
    sid = StreamId("temperature", {"house": 1, "resident": "alice"})
    assert window.tree.select_stream("mongo", sid)
    qtbot.waitUntil(lambda: ns["stream"] is not None, timeout=5000)
    assert ns["stream"].stream_id == sid and ns["view"].time_interval == TimeInterval(T0, T0 + 12 * HOUR)
    # opened from the menu, the console has the keyboard; typed as a user types it, with Enter
    control = console.widget._control
    qtbot.waitUntil(lambda: "In [1]:" in control.toPlainText(), timeout=10000)   # the prompt is up
    assert "Bound: manager, stream" in control.toPlainText()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is control, timeout=3000)
    qtbot.keyClicks(control, "n = view.count() + len(manager.channels)")
    qtbot.keyClick(control, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "n" in ns, timeout=10000)
    assert ns["n"] == 12 + len(window.manager.channels)
    # a new range re-binds the view
    window.picker.set_interval(TimeInterval(T0, T0 + 2 * HOUR), emit=True)
    qtbot.waitUntil(lambda: ns["view"].time_interval == TimeInterval(T0, T0 + 2 * HOUR), timeout=5000)
    console.execute("m = view.count()")
    qtbot.waitUntil(lambda: ns.get("m") == 2, timeout=10000)


def test_the_console_runs_a_hyperstream_script_unchanged(qtbot, window, tmp_path):
    script = tmp_path / "hs_script.py"
    script.write_text("import sys\nfrom hyperstream import TimeInterval\nfrom datetime import datetime\n"
                      "iv = TimeInterval(datetime(2024, 1, 1), datetime(2024, 1, 2))   # naive: UTC\n"
                      "open(sys.argv[1], 'w').write(iv.start.isoformat())\n")
    out = tmp_path / "out.txt"
    console = open_console(qtbot, window)
    console.execute(f"run_script({str(script)!r}, [{str(out)!r}])")
    qtbot.waitUntil(out.exists, timeout=10000)
    assert out.read_text() == "2024-01-01T00:00:00+00:00"
    assert "hyperstream" not in sys.modules          # the layer was there for the script only


def test_without_the_extra_the_dock_says_how_to_install_it(qtbot, window, monkeypatch):
    monkeypatch.setitem(sys.modules, "qtconsole", None)            # import qtconsole -> ImportError
    monkeypatch.setitem(sys.modules, "qtconsole.inprocess", None)
    action = next(a for a in window.menus["tools"].actions() if a.text() == "Python console")
    action.trigger()
    qtbot.waitUntil(lambda: window.console.hint is not None, timeout=5000)
    assert not window.console.started
    assert "pip install 'hyperstream-studio[console]'" in window.console.hint.text()
    assert window.docks["console"].isVisible()
