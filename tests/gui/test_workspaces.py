"""Workspaces: save the working state, open it again (also after streams went away), and the document's
validation."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import pytz
from PySide6.QtGui import QColor

from channels.stream import StreamId
from channels.time_interval import TimeInterval
from hsgui.workspace.doc import WorkspaceError, parse_workspace, to_json, WorkspaceDoc
from hsgui.workspace.controller import last_workspace_path, recent_workspaces

from hsgui_test_stores import HOUR, T0, make_sqlite_store

DOCS = os.environ.get("HSGUI_SCREENSHOTS")


@pytest.fixture
def store_file(tmp_path):
    return make_sqlite_store(tmp_path / "store.sqlite")


def curves_seen(w):
    return [(p_i, c.stream.channel.channel_id, c.stream.stream_id, c.component, c.curve.colour, c.visible)
            for p_i, pane in enumerate(w.plot_area.panes) for c in
            [ci for ci in w.plot_area.curves() if ci.pane is pane]]


def build_state(qtbot, w):
    db = w.manager.get_channel("mongo")
    alice = db[StreamId("temperature", {"house": 1, "resident": "alice"})]
    env = db[StreamId("environment", {"house": 1})]
    w.plot_streams([alice])
    w.plot_streams([env], new_pane=True)
    qtbot.waitUntil(lambda: len(w.plot_area.panes) == 2 and len(w.plot_area.curves()) >= 3, timeout=10000)
    env_curves = [c for c in w.plot_area.curves() if c.stream.stream_id.name == "environment"]
    env_curves[0].curve.set_visible(False)                      # hidden in the Curves menu
    w.picker.set_time_zone(pytz.timezone("Asia/Kolkata"))
    w.picker.set_interval(TimeInterval(T0 + HOUR, T0 + 30 * HOUR), emit=True)
    w.docks["log"].hide()
    return curves_seen(w)


def test_a_saved_workspace_opens_with_panes_curves_range_zone_and_layout(qtbot, make_main_window, tmp_path,
                                                                         store_file):
    w = make_main_window(store_file, size=(1300, 850))
    seen = build_state(qtbot, w)
    path = str(tmp_path / "ws.json")
    w.workspaces.save(path)
    doc = json.loads(open(path).read())
    assert doc["store"] == store_file and doc["zone"] == "Asia/Kolkata" and len(doc["panes"]) == 2
    assert recent_workspaces()[0] == path
    w.close()

    w2 = make_main_window(store_file, size=(1300, 850))
    assert len(w2.plot_area.panes) == 1 and not w2.plot_area.curves()
    with qtbot.waitSignal(w2.workspaces.sigApplied, timeout=10000) as applied:
        w2.workspaces.open(path)
    assert applied.args[0] == []
    qtbot.waitUntil(lambda: len(curves_seen(w2)) == len(seen), timeout=10000)
    assert sorted(curves_seen(w2), key=str) == sorted(seen, key=str)   # stream, component, colour, visibility
    assert str(w2.picker.time_zone()) == "Asia/Kolkata"
    assert w2.picker.interval() == TimeInterval(T0 + HOUR, T0 + 30 * HOUR)
    assert w2.docks["log"].isHidden()
    if DOCS:
        qtbot.waitUntil(lambda: not w2.plot_area.busy, timeout=10000)
        qtbot.wait(300)
        w2.grab().scaled(1100, 720).save(os.path.join(DOCS, "workspace_reopened.png"))


def test_a_workspace_naming_missing_streams_opens_the_rest_and_says_which(qtbot, make_main_window, tmp_path,
                                                                          store_file):
    w = make_main_window(store_file, size=(1300, 850))
    seen = build_state(qtbot, w)
    path = str(tmp_path / "ws.json")
    w.workspaces.save(path)
    w.manager.get_channel("mongo").purge_stream(StreamId("environment", {"house": 1}), remove_definition=True)
    w.workspaces.open(path)
    qtbot.waitUntil(lambda: len(w.plot_area.curves()) == 1, timeout=10000)
    assert w.workspaces.missing and all("environment" in m for m in w.workspaces.missing)
    text = w.error_bar.text()
    assert "no longer exist" in text and "environment" in text
    assert curves_seen(w)[0] == seen[0]


def test_a_workspace_on_another_store_opens_that_store(qtbot, make_main_window, tmp_path, store_file):
    w = make_main_window(store_file, size=(1300, 850))
    build_state(qtbot, w)
    path = str(tmp_path / "ws.json")
    w.workspaces.save(path)
    w.close()
    other = make_sqlite_store(tmp_path / "other.sqlite")
    w2 = make_main_window(other, size=(1300, 850))
    with qtbot.waitSignal(w2.workspaces.sigApplied, timeout=15000):
        w2.workspaces.open(path)
    assert w2.target == store_file and len(w2.plot_area.panes) == 2


def test_the_last_workspace_is_kept_on_quit(qtbot, make_main_window, tmp_path, store_file):
    w = make_main_window(store_file, size=(1300, 850))
    build_state(qtbot, w)
    w.persist = True
    w.close()
    doc = parse_workspace(open(last_workspace_path()).read())
    assert doc.store == store_file and len(doc.panes) == 2 and doc.zone == "Asia/Kolkata"
    os.remove(last_workspace_path())


def test_command_line_opens_a_workspace(qtbot, make_main_window, tmp_path, store_file):
    w = make_main_window(store_file, size=(1300, 850))
    build_state(qtbot, w)
    path = str(tmp_path / "ws.json")
    w.workspaces.save(path)
    w.close()
    png = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, "-m", "hsgui", "--workspace", path, "--screenshot", str(png)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr          # 2 would mean an error was shown (e.g. missing streams)
    assert png.exists() and png.stat().st_size > 10_000
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "hsgui-workspace", "version": 1, "panes": [{"curves": [{"channel": 3}]}]}')
    r = subprocess.run([sys.executable, "-m", "hsgui", "--workspace", str(bad), "--screenshot", str(png)],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "panes[0].curves[0].channel: expected a channel id, got 3" in r.stderr


def test_workspace_document_validation_names_the_bad_field():
    good = {"format": "hsgui-workspace", "version": 1, "store": "mongodb://ann:hunter2@db:27017/hs",
            "time_range": {"start": "2024-03-01T00:00:00+00:00", "end": "2024-03-02T00:00:00+00:00"},
            "zone": "UTC", "panes": [{"curves": [{"channel": "mongo", "stream": {"name": "t", "meta_data": [["h", 1]]},
                                                  "component": None, "colour": "#1f77b4", "visible": True}]}]}
    doc = parse_workspace(json.dumps(good))
    assert doc.store == "mongodb://ann:***@db:27017/hs"                       # never a password
    assert "hunter2" not in to_json(WorkspaceDoc(store="mongodb://ann:hunter2@db:27017/hs"))
    assert parse_workspace(to_json(doc)) == doc
    cases = [
        (lambda d: d["panes"][0]["curves"][0].update(colour="blue?"),
         "panes[0].curves[0].colour: expected a colour like '#1f77b4', got 'blue?'"),
        (lambda d: d["panes"][0]["curves"][0]["stream"].update(name=""), "panes[0].curves[0].stream.name"),
        (lambda d: d["panes"][0]["curves"][0]["stream"].update(meta_data=[["h"]]),
         "panes[0].curves[0].stream.meta_data[0]: expected a [key, value] pair"),
        (lambda d: d["time_range"].update(start="yesterday"), "time_range.start: expected an ISO date-time"),
        (lambda d: d["time_range"].update(start="2024-03-01T00:00:00"), "time_range.start: expected a date-time "
                                                                         "with its UTC offset"),
        (lambda d: d["time_range"].update(end="2024-02-01T00:00:00+00:00"), "time_range: end"),
        (lambda d: d.update(version=99), "version: expected 1..1, got 99"),
        (lambda d: d.update(format="other"), "format"),
        (lambda d: d["panes"][0]["curves"][0].update(visible="yes"), "panes[0].curves[0].visible: expected true"),
        (lambda d: d["panes"][0].update(kind="pie"), "panes[0].kind: expected 'time' or 'xy', got 'pie'"),
        (lambda d: d["panes"][0].update(kind="xy"), "panes[0].curves: expected two streams (X, then Y) for an XY pane"),
    ]
    for change, message in cases:
        d = json.loads(json.dumps(good))
        change(d)
        with pytest.raises(WorkspaceError) as e:
            parse_workspace(json.dumps(d))
        assert message in str(e.value), (message, str(e.value))
    with pytest.raises(WorkspaceError, match="invalid JSON at line 1"):
        parse_workspace('{"format": ')
