"""Importing a file from the app: dropped on the window or through File › Import…; preview, detected time
column, chosen columns and meta-data, a background import with progress, cancel, and a report."""
from __future__ import annotations

import os
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from channels import StreamId, TimeInterval, TimeIntervals, UTC
from hsgui.importing.import_dialog import ImportDialog

pytest.importorskip("pyarrow")
T0 = datetime(2024, 3, 1, tzinfo=UTC)


@pytest.fixture
def window(make_main_window, tmp_path):
    return make_main_window(tmp_path / "s.sqlite")


def _csv(tmp_path, rows=None):
    lines = ["time,temp,hum,note"] + (rows or [
        "2024-03-01 00:00:01,20.5,40,ok", "2024-03-01 00:00:02,21.0", "2024-03-01 00:00:03,x,41,bad",
        "2024-03-01 00:00:04,22.0,42,ok", "2024-03-01 00:00:05,22.5,43,ok", "2024-03-01 00:00:06,23.0,44,ok"])
    p = tmp_path / "readings.csv"
    p.write_text("\n".join(lines) + "\n")
    return str(p)


def _drop(window, path):
    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(path)])
    pos = QPointF(window.width() / 2, window.height() / 2)
    enter = QDragEnterEvent(QPoint(int(pos.x()), int(pos.y())), Qt.DropAction.CopyAction, md,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, md, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)


def _dialog(window):
    return next(d for d in window._dialogs if isinstance(d, ImportDialog))


def test_dropped_csv_opens_the_dialog_and_imports_with_a_report(qtbot, window, tmp_path):
    _drop(window, _csv(tmp_path))
    dlg = _dialog(window)
    qtbot.waitUntil(lambda: dlg.preview is not None, timeout=10000)
    assert dlg.time_combo.currentText() == "time" and dlg.table.rowCount() == 6  # the short row shown, marked
    assert dlg.value_columns() == ["temp", "hum"]  # numeric ones ticked; text ones offered, not ticked
    dlg.meta.add_pair("house", "1")
    qtbot.keyClicks(dlg.name_edit, "sensor")
    assert "sensor_temp: [house=1]" in dlg.target_label.text()
    qtbot.mouseClick(dlg.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.report is not None, timeout=15000)
    text = dlg.result.toPlainText()
    assert "line 3: 2 fields where the header has 4" in text and "line 4: column 'temp': 'x' is not a number" in text
    db = window.manager.get_channel("mongo")
    temp = db[StreamId("sensor_temp", {"house": "1"})]
    assert temp.window().values() == [20.5, 22.0, 22.5, 23.0]
    qtbot.waitUntil(lambda: window.tree.model.find_index("mongo", temp.stream_id).isValid(), timeout=10000)


def test_file_import_menu_and_stop_keep_calculated_intervals_true(qtbot, window, tmp_path, monkeypatch):
    import channels.importing as imp
    monkeypatch.setattr(imp, "CSV_BLOCK_BYTES", 1 << 14)
    rows = [f"{(T0 + timedelta(seconds=i)).isoformat()},{i}" for i in range(1, 150_001)]
    path = str(tmp_path / "long.csv")
    (tmp_path / "long.csv").write_text("time,v\n" + "\n".join(rows) + "\n")
    window.qt_actions.bound["file.import"].trigger()   # what Ctrl+I and File › Import… run
    dlg = _dialog(window)
    dlg.set_path(path)
    qtbot.waitUntil(lambda: dlg.import_button.isEnabled(), timeout=10000)
    job = dlg.start_import()
    qtbot.waitUntil(lambda: job.fraction > 0, timeout=15000)
    qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)   # "Stop"
    qtbot.waitUntil(lambda: "Import stopped" in dlg.result.toPlainText(), timeout=15000)
    stream = window.manager.get_channel("mongo")[StreamId("v")]
    items = stream.window().items()
    assert 0 < len(items) < 150_000
    assert stream.calculated_intervals == TimeIntervals([TimeInterval(items[0].timestamp - timedelta(milliseconds=1),
                                                                      items[-1].timestamp)])
    assert dlg.cancel_button.text() == "Close"


def _opened(qtbot, window):
    window.qt_actions.bound["file.import"].trigger()
    dlg = _dialog(window)
    dlg.activateWindow()
    qtbot.waitExposed(dlg)
    return dlg


def _retype(qtbot, field, text):
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(field, Qt.Key.Key_Delete)
    qtbot.keyClicks(field, text)


def test_the_file_field_takes_typing_and_pasting_and_names_a_wrong_path(qtbot, window, tmp_path):
    good = _csv(tmp_path)
    dlg = _opened(qtbot, window)
    qtbot.waitUntil(lambda: dlg.focusWidget() is dlg.path_edit)
    _retype(qtbot, dlg.path_edit, str(tmp_path / "nothing_here.csv"))
    qtbot.keyClick(dlg.path_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "does not exist" in dlg.target_label.text(), timeout=10000)
    assert "nothing_here.csv does not exist" in dlg.target_label.text() and not dlg.import_button.isEnabled()
    _retype(qtbot, dlg.path_edit, str(tmp_path))
    qtbot.waitUntil(lambda: "is a folder, not a file" in dlg.target_label.text(), timeout=10000)
    _retype(qtbot, dlg.path_edit, good)                  # typed: read when typing pauses
    qtbot.waitUntil(lambda: dlg.preview is not None, timeout=10000)
    assert dlg.preview.path == good and dlg.import_button.isEnabled()
    QApplication.clipboard().setText(str(tmp_path / "pasted.csv"))
    (tmp_path / "pasted.csv").write_text("time,p\n2024-03-01 00:00:01,1\n")
    qtbot.keyClick(dlg.path_edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(dlg.path_edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert not dlg.import_button.isEnabled()             # Enter now must not import the previous file
    qtbot.waitUntil(lambda: dlg.preview is not None and dlg.preview.path.endswith("pasted.csv"), timeout=10000)
    assert dlg.value_columns() == ["p"]


def test_preview_numbers_rows_by_file_line_and_shows_ragged_rows_with_the_reason(qtbot, window, tmp_path):
    dlg = _opened(qtbot, window)
    dlg.set_path(_csv(tmp_path))
    qtbot.waitUntil(lambda: dlg.preview is not None, timeout=10000)
    assert dlg.table.rowCount() == 6
    assert [dlg.table.verticalHeaderItem(r).text() for r in range(6)] == ["2", "3", "4", "5", "6", "7"]
    assert dlg.table.item(1, 1).text() == "21.0" and "2 fields where the header has 4" in dlg.table.item(1, 0).toolTip()
    assert dlg.preview_note.isVisible() and dlg.preview_note.text() == \
        "Not imported: line 3: 2 fields where the header has 4"


def _import(qtbot, dlg, path):
    dlg.set_path(path)
    qtbot.waitUntil(lambda: dlg.import_button.isEnabled(), timeout=10000)
    qtbot.mouseClick(dlg.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.report is not None, timeout=15000)


def test_a_new_file_clears_the_report_of_the_previous_one(qtbot, window, tmp_path):
    dlg = _opened(qtbot, window)
    _import(qtbot, dlg, _csv(tmp_path))
    assert dlg.result.isVisible() and "readings.csv" in dlg.result.toPlainText()
    other = tmp_path / "other.csv"
    other.write_text("time,p\n2024-03-01 00:00:01,1\n")
    dlg.set_path(str(other))
    assert not dlg.result.isVisible() and dlg.result.toPlainText() == "" and dlg.report is None
    qtbot.waitUntil(lambda: dlg.preview is not None, timeout=10000)
    assert not dlg.result.isVisible()


def test_importing_the_same_file_again_reports_nothing_new(qtbot, window, tmp_path):
    dlg = _opened(qtbot, window)
    path = _csv(tmp_path)
    _import(qtbot, dlg, path)
    _import(qtbot, dlg, path)
    assert dlg.report.instances_written == 0
    assert "0 new instances" in dlg.result.toPlainText() and "8 already stored" in dlg.result.toPlainText()


def test_a_prefix_ending_in_an_underscore_names_the_streams_once(qtbot, window, tmp_path):
    dlg = _opened(qtbot, window)
    dlg.set_path(_csv(tmp_path))
    qtbot.waitUntil(lambda: dlg.preview is not None, timeout=10000)
    qtbot.keyClicks(dlg.name_edit, "site_")
    assert "site_temp" in dlg.target_label.text() and "site__" not in dlg.target_label.text()


def _choose_button(dlg):
    from PySide6.QtWidgets import QPushButton
    return next(b for b in dlg.findChildren(QPushButton) if b.text() == "Choose…")


def test_the_file_chooser_opens_in_the_home_folder_then_in_the_last_one(qtbot, window, tmp_path, monkeypatch):
    from hsgui import settings as hs_settings
    from hsgui.importing import import_dialog
    hs_settings.settings().remove("folders/import")
    asked = []
    chosen = _csv(tmp_path)

    def fake_open(parent, title, folder, filters):
        asked.append(folder)
        return chosen, filters
    monkeypatch.setattr(import_dialog.QFileDialog, "getOpenFileName", staticmethod(fake_open))
    dlg = _opened(qtbot, window)
    qtbot.mouseClick(_choose_button(dlg), Qt.MouseButton.LeftButton)
    assert asked == [os.path.expanduser("~")]
    qtbot.waitUntil(lambda: dlg.preview is not None, timeout=10000)
    dlg.close()
    again = _opened(qtbot, window)                       # a new dialog remembers the folder
    qtbot.mouseClick(_choose_button(again), Qt.MouseButton.LeftButton)
    assert asked[1] == str(tmp_path)
