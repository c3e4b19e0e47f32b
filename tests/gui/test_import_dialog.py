"""Importing a file from the app: dropped on the window or through File › Import…; preview, detected time
column, chosen columns and meta-data, a background import with progress, cancel, and a report."""
from __future__ import annotations

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
    assert dlg.time_combo.currentText() == "time" and dlg.table.rowCount() == 5  # the short row is not a row
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
