"""Unsaved asset edits survive tree rebuilds, are asked about before another asset replaces them, and are
re-applied on the newest version by Reload after a refused save."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from channels.stream import StreamId, StreamInstance
from channels.time_interval import TimeInterval
from hsgui.assets.editor import AssetEditor
from hsgui.forms.value_diff import merge_edits

from hsgui_test_stores import HOUR, T0, make_sqlite_store
from test_asset_editor import open_editor, type_into


@pytest.fixture
def window(make_main_window, tmp_path):
    return make_main_window(make_sqlite_store(tmp_path / "store.sqlite"), interval=TimeInterval(T0, T0 + 48 * HOUR))


def _select_houses(qtbot, window):
    ed = window.asset_editor
    with qtbot.waitSignal(ed.sigLoaded, timeout=10000):
        assert window.tree.select_stream("assets", StreamId("houses"))
    return ed


def test_unsaved_edits_in_the_asset_dock_survive_a_refresh_and_a_new_stream(qtbot, window):
    ed = _select_houses(qtbot, window)
    type_into(qtbot, ed.form.value_editor(("1", 0)), "carol")
    assert ed.has_unsaved_changes
    # a new stream appears (as a tool run makes one), then File > Refresh rebuilds the tree
    window.manager.get_channel("mongo").get_or_create_stream(StreamId("brand_new"))
    window.qt_actions.bound["file.refresh"].trigger()
    qtbot.waitUntil(lambda: not window.features["browse"].refreshing, timeout=10000)
    qtbot.waitUntil(lambda: window.tree.model.find_index("mongo", StreamId("brand_new")).isValid(), timeout=10000)
    # the tree lost its current row in the rebuild; the user selects the asset again
    assert window.tree.select_stream("assets", StreamId("houses"))
    qtbot.wait(200)
    assert ed.form.value_editor(("1", 0)).text() == "carol"
    assert ed.has_unsaved_changes and ed.revert_button.isEnabled()
    # the 30 s auto-refresh too
    window.features["browse"].refresh(auto=True)
    qtbot.waitUntil(lambda: not window.features["browse"].refreshing, timeout=10000)
    assert ed.form.value()["1"][0] == "carol"


def test_selecting_another_asset_asks_before_discarding_edits(qtbot, window, monkeypatch):
    window.manager.get_channel("assets").write_to_stream(StreamId("other"), StreamInstance(T0, {"a": 1}))
    window.tree.model.reload()
    qtbot.waitUntil(lambda: window.tree.model.find_index("assets", StreamId("other")).isValid(), timeout=10000)
    ed = _select_houses(qtbot, window)
    type_into(qtbot, ed.form.value_editor(("1", 0)), "carol")
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Cancel)
    window.tree.select_stream("assets", StreamId("other"))
    assert asked and "houses" in asked[0]
    assert ed.stream.stream_id == StreamId("houses") and ed.form.value()["1"][0] == "carol"
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window.tree.select_stream("assets", StreamId("houses"))
    with qtbot.waitSignal(ed.sigLoaded, timeout=10000):
        window.tree.select_stream("assets", StreamId("other"))
    assert ed.stream.stream_id == StreamId("other")


def test_reload_after_a_refused_save_reapplies_the_edits_on_the_newer_version(qtbot, runner, tmp_path):
    from channels import AssetsChannel
    from channels.stores.sqlite_store import SQLiteStore
    ch = AssetsChannel("assets", SQLiteStore(str(tmp_path / "s.sqlite")))
    ch.write_to_stream("p", StreamInstance(T0, {"x": 1, "y": 1, "z": 1}))
    editor = open_editor(qtbot, runner, ch, "p")
    assert isinstance(editor, AssetEditor)
    type_into(qtbot, editor.form.value_editor(("x",)), "5")
    type_into(qtbot, editor.form.value_editor(("z",)), "7")
    ch.write_to_stream("p", {"x": 1, "y": 2, "z": 3})  # someone else saves first
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(editor.sigFailed, timeout=5000):
        qtbot.mouseClick(editor.confirm_dialog.ok_button, Qt.MouseButton.LeftButton)
    assert "Reload" in editor.status_label.text()
    assert editor.reload_button.isEnabled()
    with qtbot.waitSignal(editor.sigLoaded, timeout=5000):
        qtbot.mouseClick(editor.reload_button, Qt.MouseButton.LeftButton)
    # their y=2 is taken, the user's x=5 kept; z was changed by both: the user's 7 kept and named
    assert editor.form.value() == {"x": 5, "y": 2, "z": 7}
    assert editor.history_list.count() == 2
    assert "your edits are applied" in editor.status_label.text() and "z" in editor.status_label.text()
    with qtbot.waitSignals([editor.sigSaved, editor.sigLoaded], timeout=5000, order="strict"):
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(editor.confirm_dialog.ok_button, Qt.MouseButton.LeftButton)
    assert [v.value for v in ch["p"].window(TimeInterval.all_time()).items()][-1] == {"x": 5, "y": 2, "z": 7}
    ch.store.close()


def test_merge_edits_by_key():
    base = {"a": 1, "b": 1, "gone": 1, "list": [1]}
    mine = {"a": 2, "b": 1, "list": [1], "new": 0}
    theirs = {"a": 1, "b": 3, "gone": 1, "list": [1, 2], "theirs": 9}
    merged, conflicts = merge_edits(base, mine, theirs)
    assert merged == {"a": 2, "b": 3, "list": [1, 2], "theirs": 9, "new": 0} and conflicts == []
    assert merge_edits({"a": 1}, {"a": 2}, {"a": 3}) == ({"a": 2}, [("a",)])
