"""Issue 27: bad workspace files in the window and on the command line — one clear message naming the file
or field, and nothing changed (no half-restored window, no workspace left pending for another store)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import pytz

from channels.stream import StreamId
from channels.time_interval import TimeInterval
from hsgui.common.background import JobState

from hsgui_test_stores import HOUR, T0, make_sqlite_store
from test_workspaces import build_state, curves_seen


@pytest.fixture
def store_file(tmp_path):
    return make_sqlite_store(tmp_path / "store.sqlite")


def _good_doc(store=None):
    return {"format": "hsgui-workspace", "version": 1, "store": store,
            "time_range": {"start": "2024-03-01T00:00:00+00:00", "end": "2024-03-02T00:00:00+00:00"},
            "zone": "Europe/Paris",
            "panes": [{"curves": [{"channel": "mongo", "stream": {"name": "temperature",
                                                                  "meta_data": [["house", "1"], ["resident", "alice"]]},
                                   "component": None, "colour": "#1f77b4", "visible": True}],
                       "options": {"log_y": False}}]}


def _state(w):
    return (curves_seen(w), w.picker.interval(), str(w.picker.time_zone()), len(w.plot_area.panes))


@pytest.mark.parametrize("case, expected", [
    ("random_bytes", "not a workspace file (not UTF-8 text"),
    ("meta_object", "panes[0].curves[0].stream.meta_data[0]: expected a value that is text or a number"),
    ("options_type", "panes[0].options.log_y: expected true or false, got 'maybe'"),
])
def test_bad_workspace_is_one_message_and_the_window_is_unchanged(qtbot, tmp_path, store_file, case, expected, make_main_window):
    w = make_main_window(store_file, size=(1300, 850))
    build_state(qtbot, w)
    before = _state(w)
    path = tmp_path / f"{case}.hsgui.json"
    if case == "random_bytes":
        path.write_bytes(bytes(range(256)) * 7 + b"\x80\xff" * 50)
    else:
        doc = _good_doc(store_file)
        if case == "meta_object":
            doc["panes"][0]["curves"][0]["stream"]["meta_data"] = [["house", {"number": 1}]]
        else:
            doc["panes"][0]["options"]["log_y"] = "maybe"
        path.write_text(json.dumps(doc))
    assert w.workspaces.open(str(path)) is None
    assert expected in w.error_bar.text() and path.name in w.error_bar.text()
    assert _state(w) == before                                  # nothing cleared, nothing half-restored
    assert w.workspaces.pending is None


def test_random_bytes_on_the_command_line_exit_code_and_no_traceback(tmp_path):
    bad = tmp_path / "random.json"
    bad.write_bytes(os.urandom(4096).replace(b"{", b"").replace(b"\n", b"") + b"\xff\xfe")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, "-m", "hsgui", "--workspace", str(bad), "--screenshot",
                        str(tmp_path / "x.png")], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "random.json" in r.stderr and "not a workspace file" in r.stderr
    assert "Traceback" not in r.stderr and "UnicodeDecodeError" not in r.stderr


def test_a_workspace_whose_store_failed_to_open_is_not_applied_to_the_next_store(qtbot, tmp_path, store_file,
                                                                                 make_main_window):
    w = make_main_window(store_file, size=(1300, 850))
    other = make_sqlite_store(tmp_path / "other.sqlite")
    w.picker.set_time_zone(pytz.timezone("UTC"))
    iv = TimeInterval(T0, T0 + 5 * HOUR)
    w.picker.set_interval(iv, emit=True)
    ws = tmp_path / "ws.json"
    ws.write_text(json.dumps(_good_doc(str(tmp_path / "gone" / "missing.sqlite"))))
    w.workspaces.open(str(ws))
    qtbot.waitUntil(lambda: w.state.opening is None, timeout=15000)
    qtbot.waitUntil(lambda: w.workspaces.pending is None, timeout=5000)   # dropped with the failed open
    assert "does not exist" in w.error_bar.text()
    job = w.open_target(other)
    qtbot.waitUntil(lambda: job.is_finished and w.state.opening is None, timeout=15000)
    assert job.state == JobState.DONE and w.target == other
    qtbot.wait(100)
    assert str(w.picker.time_zone()) == "UTC"                                   # not the workspace's zone
    shown = w.picker.interval()                                                 # nor its range
    assert (shown.start.isoformat(), shown.end.isoformat()) != ("2024-03-01T00:00:00+00:00",
                                                                "2024-03-02T00:00:00+00:00")
    assert not w.plot_area.curves()


def test_a_pending_workspace_is_applied_to_the_store_it_waited_for(qtbot, tmp_path, store_file, make_main_window):
    w = make_main_window(store_file, size=(1300, 850))
    other = make_sqlite_store(tmp_path / "other.sqlite")
    ws = tmp_path / "ws.json"
    ws.write_text(json.dumps(_good_doc(other)))
    w.workspaces.open(str(ws))
    qtbot.waitUntil(lambda: w.state.opening is None and w.target == other, timeout=15000)
    qtbot.waitUntil(lambda: str(w.picker.time_zone()) == "Europe/Paris", timeout=5000)
    qtbot.waitUntil(lambda: len(w.plot_area.curves()) == 1, timeout=10000)
    assert w.plot_area.curves()[0].stream.stream_id == StreamId("temperature", {"house": 1, "resident": "alice"})
