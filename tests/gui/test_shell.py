"""The shell: one evented state every view follows, one action registry for menus/keys/context menus/Help, and
what the issue-26 defects it fixes look like to a user (restored range, reconnect, store switch, Ctrl+. in a
dialog)."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from channels.channel_manager import ChannelManager
from channels.stream import StreamId, StreamInstance
from channels.time_interval import TimeInterval
from hsgui.actions import Action, ActionRegistry, Context
from hsgui.state import AppState

from hsgui_test_stores import HOUR, T0, make_sqlite_store


def _shown_ranges(w) -> dict:
    """The range every view of the window shows now."""
    return {"state": w.state.interval, "picker": w.picker.interval(), "plots": w.plot_area.interval(),
            "inspector": w.inspector.interval, "instances": w.instances.model.interval,
            "workflows": w.workflows.interval, "annotations": w.annotations.interval}


def _same_everywhere(w, iv=None) -> bool:
    shown = _shown_ranges(w)
    want = iv if iv is not None else shown["state"]
    return all(v == want for v in shown.values())


def _retype(qtbot, edit, text):
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


@pytest.fixture
def store_file(tmp_path):
    return make_sqlite_store(tmp_path / "store.sqlite")


def test_every_view_shows_the_same_range_whichever_widget_changed_it(qtbot, make_main_window, store_file):
    w = make_main_window(store_file, interval=TimeInterval(T0, T0 + 48 * HOUR))
    w.state.current_stream = w.manager.get_channel("mongo")[StreamId("events")]
    w.plot_streams([w.state.current_stream])
    qtbot.waitUntil(lambda: len(w.plot_area.curves()) == 1 and not w.plot_area.busy, timeout=10000)
    assert _same_everywhere(w, TimeInterval(T0, T0 + 48 * HOUR))
    # a zoom in the plot (what the mouse wheel does): the picker and every dock follow — the Workflows dock too
    vb = w.plot_area.panes[0].view_box
    vb.scaleBy((0.5, 1), center=QPointF(vb.viewRange()[0][0] + 3600 * 12, 0))
    qtbot.waitUntil(lambda: w.state.interval != TimeInterval(T0, T0 + 48 * HOUR) and _same_everywhere(w),
                    timeout=5000)
    assert w.state.interval.width < timedelta(hours=30)
    # a typed range
    _retype(qtbot, w.picker.start_edit, "2024-03-01 00:00:00")
    _retype(qtbot, w.picker.end_edit, "2024-03-01 06:00:00")
    qtbot.waitUntil(lambda: _same_everywhere(w) and w.state.interval.end == T0 + 6 * HOUR, timeout=5000)
    # a preset
    qtbot.mouseClick(w.picker.preset_buttons["24 h"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _same_everywhere(w) and w.state.interval.width == timedelta(hours=24), timeout=5000)
    assert w.state.range_preset == timedelta(hours=24)
    # a workspace opened
    doc = w.workspaces.capture()
    doc.start, doc.end, doc.last_seconds = T0 + 2 * HOUR, T0 + 5 * HOUR, None
    w.workspaces.apply(doc)
    qtbot.waitUntil(lambda: _same_everywhere(w, TimeInterval(T0 + 2 * HOUR, T0 + 5 * HOUR)), timeout=5000)


def test_a_restored_range_is_the_one_the_workflows_dock_colours_and_runs(qtbot, make_main_window, store_file):
    """Issue 26 item 1: restored at start, untouched, the range reaches the Workflows dock."""
    first = make_main_window(store_file, persist=True, interval=TimeInterval(T0 + HOUR, T0 + 7 * HOUR))
    first.close()
    w = make_main_window(restore=True)
    restored = TimeInterval(T0 + HOUR, T0 + 7 * HOUR)
    assert w.state.interval == restored
    assert w.workflows.interval == restored and _same_everywhere(w, restored)
    # the store it shows opens after, with data there: the range stays what was restored
    w.open_target(store_file)
    qtbot.waitUntil(lambda: w.manager is not None, timeout=15000)
    qtbot.wait(100)
    assert w.workflows.interval == restored and _same_everywhere(w, restored)


def test_the_state_emits_only_on_a_real_change():
    state = AppState()
    seen = []
    state.events.interval.connect(seen.append)
    iv = TimeInterval(T0, T0 + HOUR)
    state.interval = iv
    state.interval = TimeInterval(T0, T0 + HOUR)      # equal: no echo
    state.interval = TimeInterval(T0, T0 + 2 * HOUR)
    assert seen == [iv, TimeInterval(T0, T0 + 2 * HOUR)]


def test_the_registry_refuses_a_second_action_or_key_and_a_bad_menu_by_name():
    reg = ActionRegistry()
    reg.add("a.one", "One", lambda ctx: 1, menu="file", shortcut="Ctrl+K")
    with pytest.raises(ValueError, match="'a.one' is registered twice"):
        reg.add("a.one", "Again", lambda ctx: 2)
    with pytest.raises(ValueError, match=r"shortcut ctrl\+k of 'a.two' is already 'a.one'|shortcut Ctrl\+k"):
        reg.add("a.two", "Two", lambda ctx: 2, shortcut="ctrl+k")
    with pytest.raises(ValueError, match="unknown menu 'edit'"):
        Action("a.three", "Three", lambda ctx: 3, menu="edit")
    with pytest.raises(ValueError, match="unknown context-menu scope 'pane'"):
        Action("a.four", "Four", lambda ctx: 4, scopes=("pane",))
    assert reg.trigger("a.one") == 1 and reg.keys() == [("Ctrl+K", "One")]


def test_the_streams_menu_comes_from_the_registry_with_keys_shown(qtbot, make_main_window, store_file):
    w = make_main_window(store_file)
    events = w.manager.get_channel("mongo")[StreamId("events")]
    menu = w.tree.build_context_menu([events])
    entries = {a.text(): a for a in menu.actions() if a.text()}
    for name in ("Plot", "Plot in new pane", "Show instances", "Purge…", "Copy stream id", "Copy as Python",
                 "Compute with…", "Compute missing…"):
        assert name in entries, sorted(entries)
    assert entries["Plot"].shortcut().toString() == "Ctrl+P"               # the key shows in the menu
    assert entries["Plot in new pane"].shortcut().toString() == "Ctrl+Shift+P"
    entries["Plot"].trigger()
    qtbot.waitUntil(lambda: [c.stream for c in w.plot_area.curves()] == [events], timeout=10000)
    two = [events, w.manager.get_channel("mongo")[StreamId("hourly_mean", {"house": 1})]]
    texts = [a.text() for a in w.tree.build_context_menu(two).actions()]
    assert "Plot 2 streams" in texts and "Purge 2 streams…" in texts and "Show instances" not in texts
    assert any(t.startswith("XY pane: hourly_mean against events") for t in texts)
    # an asset channel row: its own entry after what applies to its streams
    assets = w.manager.get_channel("assets")
    texts = [a.text() for a in w.tree.build_context_menu(list(assets.streams.values()), assets).actions()]
    assert "New asset stream…" in texts and "Edit asset…" in texts


def test_ctrl_period_cancels_the_newest_job_while_a_dialog_has_the_focus(qtbot, make_main_window, store_file):
    """Issue 26 item 8."""
    w = make_main_window(store_file, active=True)
    gate = threading.Event()

    def slow(ctx):
        while not ctx.cancel_event.is_set() and not gate.wait(0.02):
            pass
        ctx.check()

    job = w.runner.submit("slow thing", slow, kind="tool")
    qtbot.waitUntil(lambda: job.started_at is not None, timeout=5000)
    dlg = w.features["compute"].open_run_dialog("tools", "clock")
    dlg.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dlg, timeout=3000)
    qtbot.keyClick(QApplication.focusWidget() or dlg, Qt.Key.Key_Period, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: job.is_finished, timeout=5000)
    assert job.state.name == "CANCELLED"
    gate.set()


def test_reconnecting_keeps_the_panes_whose_streams_are_there(qtbot, make_main_window, store_file, tmp_path):
    """Issue 26 item 3: a reconnect (same store, or another with some of the streams) keeps the layout."""
    w = make_main_window(store_file, interval=TimeInterval(T0, T0 + 48 * HOUR))
    mongo = w.manager.get_channel("mongo")
    w.plot_streams([mongo[StreamId("events")]])
    w.plot_streams([mongo[StreamId("hourly_mean", {"house": 1})]], new_pane=True)
    qtbot.waitUntil(lambda: len(w.plot_area.curves()) == 2, timeout=10000)
    w.set_manager(ChannelManager.open(store_file), store_file)
    qtbot.waitUntil(lambda: len(w.plot_area.panes) == 2 and len(w.plot_area.curves()) == 2, timeout=10000)
    assert all(c.stream.channel is w.manager.get_channel("mongo") for c in w.plot_area.curves())   # the new ones
    # a store with only one of them: that one stays, the other is named
    other = ChannelManager.open(str(tmp_path / "other.sqlite"))
    ch = other.channels["mongo"]
    ch.write_chunk(ch.create_stream(StreamId("events")), [StreamInstance(T0 + HOUR, "x")],
                   TimeInterval(T0, T0 + 2 * HOUR))
    w.set_manager(other, str(tmp_path / "other.sqlite"))
    qtbot.waitUntil(lambda: [c.stream.stream_id for c in w.plot_area.curves()] == [StreamId("events")],
                    timeout=10000)
    assert "hourly_mean" in w.statusBar().currentMessage()


def test_the_range_moves_to_a_new_store_whose_data_it_does_not_show(qtbot, make_main_window, store_file, tmp_path):
    """Issue 26 item 9: a store whose data lies elsewhere does not leave every plot empty."""
    w = make_main_window(store_file, interval=TimeInterval(T0, T0 + 48 * HOUR))
    path = str(tmp_path / "2017.sqlite")
    m = ChannelManager.open(path)
    t2017 = T0.replace(year=2017)
    ch = m.channels["mongo"]
    ch.write_chunk(ch.create_stream(StreamId("old")), [StreamInstance(t2017 + HOUR * i, float(i)) for i in range(1, 49)],
                   TimeInterval(t2017, t2017 + 48 * HOUR))
    m.close()
    job = w.open_target(path)
    qtbot.waitUntil(lambda: job.is_finished and w.manager is not None and w.target == path, timeout=15000)
    qtbot.waitUntil(lambda: w.state.interval.end == t2017 + 48 * HOUR, timeout=5000)
    assert w.state.interval.start <= t2017 + 2 * HOUR and _same_everywhere(w)
    # back to the first store: its data is not in 2017 either, so the range follows again
    job = w.open_target(store_file)
    qtbot.waitUntil(lambda: job.is_finished and w.target == store_file, timeout=15000)
    qtbot.waitUntil(lambda: w.state.interval.start.year == 2024, timeout=5000)


def test_an_open_workspace_waits_for_its_store_then_sets_range_zone_and_panes(qtbot, make_main_window, store_file,
                                                                              tmp_path):
    w = make_main_window(store_file, interval=TimeInterval(T0, T0 + 48 * HOUR))
    w.plot_streams([w.manager.get_channel("mongo")[StreamId("events")]])
    qtbot.waitUntil(lambda: len(w.plot_area.curves()) == 1, timeout=10000)
    w.state.time_zone = __import__("pytz").timezone("Asia/Kolkata")
    path = tmp_path / "ws.json"
    w.workspaces.save(str(path))
    saved = json.loads(path.read_text())
    assert saved["zone"] == "Asia/Kolkata" and saved["time_range"]["start"].startswith("2024-03-01")
    w2 = make_main_window()
    w2.workspaces.open(str(path))
    qtbot.waitUntil(lambda: w2.manager is not None and len(w2.plot_area.curves()) == 1, timeout=15000)
    assert str(w2.state.time_zone) == "Asia/Kolkata" and str(w2.picker.time_zone()) == "Asia/Kolkata"
    assert _same_everywhere(w2, TimeInterval(T0, T0 + 48 * HOUR))


def test_features_add_docks_and_actions_through_the_shell_only(make_main_window):
    w = make_main_window(shown=False)
    ids = {a.id for a in w.actions}
    for expected in ("file.connect", "file.import", "file.refresh", "file.save_workspace", "plot.plot",
                     "tools.run", "jobs.cancel", "help.keys", "compute.missing", "assets.edit"):
        assert expected in ids
    with pytest.raises(ValueError, match="a dock named 'streams' exists already"):
        w.add_dock("streams", "Again", w.tree)
    assert w.context().streams == [] and isinstance(w.context(), Context)


def test_a_reopened_workspace_lists_each_panes_curves_in_the_saved_order(qtbot, make_main_window, store_file,
                                                                          tmp_path, monkeypatch):
    """Issue 26 item 16 — even when the first stream is the slowest to inspect."""
    import time
    from hsgui.plotting import plot_area
    w = make_main_window(store_file, interval=TimeInterval(T0, T0 + 48 * HOUR))
    mongo = w.manager.get_channel("mongo")
    order = [mongo[StreamId("temperature", {"house": h, "resident": r})] for h, r in
             ((2, "bob"), (1, "alice"), (2, "alice"), (1, "bob"))]
    for s in order:
        w.plot_streams([s])
        qtbot.waitUntil(lambda s=s: s in [c.stream for c in w.plot_area.curves()], timeout=10000)
    path = tmp_path / "ws.json"
    w.workspaces.save(str(path))
    real = plot_area.probe_stream

    def slow_for_the_first(ctx, stream):
        if stream.stream_id == order[0].stream_id:
            time.sleep(0.4)
        return real(ctx, stream)

    monkeypatch.setattr(plot_area, "probe_stream", slow_for_the_first)
    w2 = make_main_window()
    w2.workspaces.open(str(path))
    qtbot.waitUntil(lambda: len(w2.plot_area.curves()) == 4, timeout=15000)
    assert [c.stream.stream_id for c in w2.plot_area.curves()] == [s.stream_id for s in order]


def test_the_default_window_gives_the_plots_the_most_room(qtbot, make_main_window):
    """Issue 26 item 18: at the default 1400 × 900 the plot area is the widest part, not a 380 px strip."""
    w = make_main_window(size=(1400, 900))
    qtbot.wait(50)
    assert w.plot_area.width() >= 650, (w.plot_area.width(), w.docks["streams"].width(), w.docks["inspector"].width())
    assert w.plot_area.width() > w.docks["streams"].width() and w.plot_area.width() > w.docks["inspector"].width()


def test_a_database_without_indexes_is_offered_them_and_nothing_is_written_before(qtbot, make_main_window):
    """Issue 26 item 6: opening a HyperStream database writes nothing; the indexes are offered, made on Yes."""
    mongomock = pytest.importorskip("mongomock")
    from datetime import datetime
    from channels.stores.mongo_store import MongoStore
    client = mongomock.MongoClient()
    db = client["hyperstream"]
    sid = {"name": "raw", "meta_data": []}
    db.streams.insert_many([{"stream_id": sid, "datetime": datetime(2024, 3, 1, 0, 0, i + 1), "value": float(i)}
                            for i in range(50)])
    db.stream_definitions.insert_one({"stream_id": sid, "stream_type": "StreamInstance", "channel_id": "mongo",
                                      "calculated_intervals": [{"start": datetime(2024, 3, 1),
                                                                "end": datetime(2024, 3, 1, 0, 1)}]})
    before = {n: sorted(db[n].index_information()) for n in ("streams", "stream_definitions")}
    store = MongoStore(client, db_name="hyperstream")
    w = make_main_window(manager=ChannelManager(store))
    qtbot.waitUntil(lambda: w.offer_bar.isVisible(), timeout=10000)
    assert "index" in w.offer_bar.label.text() and w.offer_bar.accept_button.text() == "Create indexes"
    assert {n: sorted(db[n].index_information()) for n in before} == before     # browsing wrote no index
    qtbot.mouseClick(w.offer_bar.accept_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Created" in w.statusBar().currentMessage(), timeout=10000)
    assert not store.missing_indexes()


def test_a_failed_test_connection_is_said_in_the_dialog_not_in_the_error_bar(qtbot, make_main_window, store_file):
    from hsgui.connection.dialog import ConnectDialog
    w = make_main_window(store_file)
    dlg = ConnectDialog(w.runner, None, w)
    qtbot.addWidget(dlg)
    dlg.tabs.setCurrentIndex(1)
    dlg.uri_edit.setText("mongodb://127.0.0.1:9/hyperstream?serverSelectionTimeoutMS=300&connectTimeoutMS=300")
    job = dlg.test_connection()
    qtbot.waitUntil(lambda: job.is_finished, timeout=10000)
    qtbot.waitUntil(lambda: "cannot reach" in dlg.test_label.text(), timeout=5000)
    qtbot.wait(100)
    assert w.error_bar.text() == ""
