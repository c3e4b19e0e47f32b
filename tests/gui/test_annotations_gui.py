"""Annotations in the window: the dock, the bands on every pane, and the stream a tool reads."""
from __future__ import annotations

import pytest
from hsgui_test_stores import HOUR, T0, make_sqlite_store, memory_manager
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QToolTip

from channels.annotations import AnnotationSet, annotation_stream_id
from channels.channel_manager import ChannelManager
from channels.time_interval import TimeInterval
from hsgui.annotations.dock import COL_LABEL, COL_TIME
from hsgui.common.timefmt import datetime_to_seconds

DAY = TimeInterval(T0, T0 + 24 * HOUR)


@pytest.fixture
def window(make_main_window):
    return make_main_window(size=(1300, 850))


def connect(qtbot, window, target):
    job = window.open_target(target)
    qtbot.waitUntil(lambda: job.is_finished and window.state.opening is None, timeout=15000)
    window.picker.set_interval(DAY, emit=True)
    window.docks["annotations"].show()
    window.docks["annotations"].raise_()
    dock = window.annotations
    qtbot.waitUntil(lambda: not [j for j in window.runner.active if j.title == "Read annotations"], timeout=5000)
    return dock


def in_store(window):
    return AnnotationSet(window.manager.channels["mongo"]).list()


def bands(window):
    """Per pane: [(label, region or x)] as drawn."""
    return [[(a.label, p.annotation_bands.region_of(a)) for a, _item in p.annotation_bands.items]
            for p in window.plot_area.panes]


def retype(qtbot, edit, text):
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, text)


def when_dialog(qtbot, dock, fill):
    """Run ``fill(dialog)`` as soon as the dock's dialog is open (it runs modal)."""
    def later():
        dlg = getattr(dock, "dialog", None)
        if dlg is None or not dlg.isVisible():
            QTimer.singleShot(20, later)
            return
        fill(dlg)
    dock.dialog = None
    QTimer.singleShot(20, later)


def test_add_from_the_dock_writes_an_instance_and_draws_a_band_on_every_pane(qtbot, window, tmp_path):
    dock = connect(qtbot, window, make_sqlite_store(tmp_path / "s.sqlite"))
    window.plot_area.add_pane()
    assert "No annotations yet" in dock.message.text()

    def fill(dlg):
        qtbot.keyClicks(dlg.label_edit, "door left open")
        dlg.note_edit.setPlainText("checked by Bob")
        qtbot.keyClick(dlg.label_edit, Qt.Key.Key_Return)
    when_dialog(qtbot, dock, fill)
    qtbot.mouseClick(dock.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(dock.shown()) == 1, timeout=5000)

    # in the store: an ordinary instance of the annotations stream, as a tool reads it
    stream = window.manager.channels["mongo"][annotation_stream_id()]
    insts = stream.window(TimeInterval.all_time()).items()
    assert [i.timestamp for i in insts] == [DAY.end]
    assert insts[0].value["label"] == "door left open" and insts[0].value["start"] == DAY.start
    assert insts[0].value["note"] == "checked by Bob"
    assert dock.list.topLevelItem(0).text(COL_TIME) == "2024-03-01 00:00:00 – 2024-03-02 00:00:00"
    # a band on every pane, over exactly the annotation's range; a pane added later gets it too
    window.plot_area.add_pane()
    want = (datetime_to_seconds(DAY.start), datetime_to_seconds(DAY.end))
    qtbot.waitUntil(lambda: bands(window) == [[("door left open", pytest.approx(want))]] * 3, timeout=3000)


def test_edit_label_in_place_with_f2_and_enter(qtbot, window, tmp_path):
    path = make_sqlite_store(tmp_path / "s.sqlite")
    m = ChannelManager.open(path)
    AnnotationSet(m.channels["mongo"]).add("typo", T0 + 5 * HOUR, start=T0 + 2 * HOUR)
    m.close()
    dock = connect(qtbot, window, path)
    qtbot.waitUntil(lambda: [a.label for a in dock.shown()] == ["typo"], timeout=5000)
    dock.list.setFocus()
    dock.list.setCurrentItem(dock.list.topLevelItem(0), COL_LABEL)
    qtbot.keyClick(dock.list, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert editor is not dock.list
    editor.selectAll()
    qtbot.keyClicks(editor, "door open")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: [a.label for a in in_store(window)] == ["door open"], timeout=5000)
    qtbot.waitUntil(lambda: [a.label for a in dock.shown()] == ["door open"], timeout=5000)
    qtbot.waitUntil(lambda: bands(window)[0][0][0] == "door open", timeout=3000)
    assert in_store(window)[0].start == T0 + 2 * HOUR      # only the label changed


def test_edit_dialog_changes_range_and_refuses_end_before_start(qtbot, window, tmp_path):
    path = make_sqlite_store(tmp_path / "s.sqlite")
    m = ChannelManager.open(path)
    AnnotationSet(m.channels["mongo"]).add("shift", T0 + 5 * HOUR, start=T0 + 2 * HOUR)
    m.close()
    dock = connect(qtbot, window, path)
    qtbot.waitUntil(lambda: len(dock.shown()) == 1, timeout=5000)
    dock.list.setCurrentItem(dock.list.topLevelItem(0))
    seen = {}

    def fill(dlg):
        retype(qtbot, dlg.start_edit, "2024-03-01 09:00:00")        # after the end: said, not written
        qtbot.keyClick(dlg.label_edit, Qt.Key.Key_Return)
        seen["error"] = dlg.error_label.text()
        assert dlg.isVisible()
        retype(qtbot, dlg.start_edit, "2024-03-01 01:00:00")
        retype(qtbot, dlg.end_edit, "2024-03-01 03:00:00")
        qtbot.keyClick(dlg.label_edit, Qt.Key.Key_Return)
    when_dialog(qtbot, dock, fill)
    qtbot.mouseClick(dock.edit_button, Qt.MouseButton.LeftButton)
    assert "not before its end" in seen["error"] and "2024-03-01 09:00:00" in seen["error"]
    qtbot.waitUntil(lambda: [a.interval for a in in_store(window)] == [TimeInterval(T0 + HOUR, T0 + 3 * HOUR)],
                    timeout=5000)
    qtbot.waitUntil(lambda: dock.list.topLevelItem(0).text(COL_TIME) == "2024-03-01 01:00:00 – 03:00:00",
                    timeout=5000)


def test_delete_key_removes_it_everywhere_and_undo_brings_it_back(qtbot, window, tmp_path):
    path = make_sqlite_store(tmp_path / "s.sqlite")
    m = ChannelManager.open(path)
    AnnotationSet(m.channels["mongo"]).add("keep", T0 + 3 * HOUR)
    AnnotationSet(m.channels["mongo"]).add("remove me", T0 + 6 * HOUR, start=T0 + 4 * HOUR, colour="#e53935")
    m.close()
    dock = connect(qtbot, window, path)
    window.plot_area.add_pane()
    qtbot.waitUntil(lambda: len(dock.shown()) == 2 and all(len(p) == 2 for p in bands(window)), timeout=5000)
    dock.list.setFocus()
    dock.list.setCurrentItem(dock.list.topLevelItem(1))
    qtbot.keyClick(dock.list, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: [a.label for a in dock.shown()] == ["keep"], timeout=5000)
    assert [a.label for a in in_store(window)] == ["keep"]
    qtbot.waitUntil(lambda: [[b[0] for b in p] for p in bands(window)] == [["keep"], ["keep"]], timeout=3000)
    assert dock.undo_button.isVisible() and "remove me" in dock.message.text()
    qtbot.keyClick(dock.list, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: [a.label for a in in_store(window)] == ["keep", "remove me"], timeout=5000)
    assert in_store(window)[1].colour == "#e53935"
    qtbot.waitUntil(lambda: len(dock.shown()) == 2, timeout=5000)


def test_double_click_jumps_the_plots_to_the_annotation(qtbot, window, tmp_path):
    path = make_sqlite_store(tmp_path / "s.sqlite")
    m = ChannelManager.open(path)
    AnnotationSet(m.channels["mongo"]).add("night", T0 + 40 * HOUR, start=T0 + 30 * HOUR)
    m.close()
    dock = connect(qtbot, window, path)
    dock.scope_box.setCurrentText("All")                      # outside the visible day
    qtbot.waitUntil(lambda: len(dock.shown()) == 1, timeout=5000)
    item = dock.list.topLevelItem(0)
    rect = dock.list.visualItemRect(item)
    qtbot.mouseClick(dock.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(dock.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    want = TimeInterval(T0 + 29 * HOUR, T0 + 41 * HOUR)         # the range and a tenth of it either side
    assert window.picker.interval() == want
    qtbot.waitUntil(lambda: window.plot_area.interval() == want, timeout=3000)


def test_switching_stores_shows_the_other_stores_annotations(qtbot, window, tmp_path):
    first, second = make_sqlite_store(tmp_path / "a.sqlite"), make_sqlite_store(tmp_path / "b.sqlite")
    for path, label in ((first, "from a"), (second, "from b")):
        m = ChannelManager.open(path)
        AnnotationSet(m.channels["mongo"]).add(label, T0 + 3 * HOUR)
        m.close()
    dock = connect(qtbot, window, first)
    qtbot.waitUntil(lambda: [a.label for a in dock.shown()] == ["from a"], timeout=5000)
    dock = connect(qtbot, window, second)
    qtbot.waitUntil(lambda: [a.label for a in dock.shown()] == ["from b"], timeout=5000)
    qtbot.waitUntil(lambda: [[b[0] for b in p] for p in bands(window)] == [["from b"]], timeout=3000)


def test_a_store_without_a_database_channel_or_read_only_says_why(qtbot, window, tmp_path):
    manager, _made = memory_manager()
    window.set_manager(manager)
    dock = window.annotations
    assert "no database channel" in dock.message.text()
    assert not dock.add_button.isEnabled()
    window.plot_area.panes[0].annotation_bands.request(None, T0 + HOUR)   # a pane's request: no crash, a word
    assert "no database channel" in dock.message.text()

    path = make_sqlite_store(tmp_path / "s.sqlite")
    m = ChannelManager.open(path)
    AnnotationSet(m.channels["mongo"]).add("seen", T0 + 3 * HOUR)
    m.channels["mongo"].read_only = True
    window.set_manager(m)
    qtbot.waitUntil(lambda: [a.label for a in dock.shown()] == ["seen"], timeout=5000)
    assert "read-only" in dock.message.text()
    assert not dock.add_button.isEnabled()
    dock.list.setFocus()
    dock.list.setCurrentItem(dock.list.topLevelItem(0))
    qtbot.keyClick(dock.list, Qt.Key.Key_Delete)
    assert [a.label for a in AnnotationSet(m.channels["mongo"]).list()] == ["seen"]


def _drag(widget, a: QPoint, b: QPoint, modifiers):
    """A real mouse drag (press, moves with the button held, release) on ``widget``."""
    left = Qt.MouseButton.LeftButton
    QApplication.sendEvent(widget, QMouseEvent(QEvent.Type.MouseButtonPress, QPointF(a), widget.mapToGlobal(QPointF(a)),
                                               left, left, modifiers))
    for i in range(1, 11):
        p = QPointF(a + (b - a) * (i / 10))
        QApplication.sendEvent(widget, QMouseEvent(QEvent.Type.MouseMove, p, widget.mapToGlobal(p), Qt.MouseButton.NoButton,
                                                   left, modifiers))
    QApplication.sendEvent(widget, QMouseEvent(QEvent.Type.MouseButtonRelease, QPointF(b), widget.mapToGlobal(QPointF(b)),
                                               left, Qt.MouseButton.NoButton, modifiers))


def test_shift_drag_on_a_pane_annotates_that_range_and_hover_shows_the_label(qtbot, window, tmp_path):
    dock = connect(qtbot, window, make_sqlite_store(tmp_path / "s.sqlite"))
    pane = window.plot_area.panes[0]
    qtbot.waitUntil(lambda: window.plot_area.interval() == DAY, timeout=3000)
    vb, view = pane.view_box, pane.plot_widget

    def to_widget(t):
        scene = vb.mapViewToScene(QPointF(datetime_to_seconds(t), 0.5))
        return view.mapFromScene(scene)

    a, b = to_widget(T0 + 6 * HOUR), to_widget(T0 + 12 * HOUR)
    seen = {}

    def fill(dlg):
        seen["start"], seen["end"] = dlg.start_edit.text(), dlg.end_edit.text()
        qtbot.keyClicks(dlg.label_edit, "cooking")
        dlg.note_edit.setPlainText("oven on")
        qtbot.keyClick(dlg.label_edit, Qt.Key.Key_Return)
    when_dialog(qtbot, dock, fill)
    _drag(view.viewport(), a, b, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: [x.label for x in in_store(window)] == ["cooking"], timeout=5000)
    got = in_store(window)[0]
    # where the mouse went, to the pixel (a pixel is ~1.5 min here)
    assert abs((got.start - (T0 + 6 * HOUR)).total_seconds()) < 300
    assert abs((got.end - (T0 + 12 * HOUR)).total_seconds()) < 300
    assert seen["start"].startswith("2024-03-01 0") and seen["end"].startswith("2024-03-01 1")
    assert window.plot_area.interval() == DAY                 # the drag did not pan the view
    # hovering the band shows its label and note
    qtbot.waitUntil(lambda: len(pane.annotation_bands.items) == 1, timeout=3000)
    mid = to_widget(T0 + 9 * HOUR)
    qtbot.mouseMove(view.viewport(), mid)
    qtbot.waitUntil(lambda: "cooking" in QToolTip.text() and "oven on" in QToolTip.text(), timeout=3000)


def test_pane_menu_annotate_uses_the_visible_range(qtbot, window, tmp_path):
    dock = connect(qtbot, window, make_sqlite_store(tmp_path / "s.sqlite"))
    pane = window.plot_area.panes[0]
    qtbot.waitUntil(lambda: window.plot_area.interval() == DAY, timeout=3000)

    def fill(dlg):
        qtbot.keyClicks(dlg.label_edit, "whole day")
        qtbot.keyClick(dlg.label_edit, Qt.Key.Key_Return)
    when_dialog(qtbot, dock, fill)
    assert pane.annotation_bands.annotate_action in pane.view_box.menu.actions()
    pane.annotation_bands.annotate_action.trigger()
    qtbot.waitUntil(lambda: [x.interval for x in in_store(window)] == [DAY], timeout=5000)


@pytest.mark.skipif(not __import__("os").environ.get("HSGUI_SCREENSHOTS"),
                    reason="set HSGUI_SCREENSHOTS=dir to write screenshots")
def test_screenshot(qtbot, make_main_window):
    """docs/plot_annotations.png: the demo store's annotations as bands on two panes and in the dock."""
    import os
    from datetime import timedelta

    from channels.stream import StreamId
    w = make_main_window(demo=True, size=(1500, 950))
    db = w.manager.get_channel("mongo")
    end = db[StreamId("temperature", {"house": 1, "resident": "alice"})].calculated_intervals.end
    w.picker.set_interval(TimeInterval(end - timedelta(days=7), end), emit=True)
    w.plot_streams([db[StreamId("temperature", {"house": 1, "resident": "alice"})]])
    qtbot.waitUntil(lambda: len(w.plot_area.curves()) == 1 and not w.plot_area.busy, timeout=20000)
    pane = w.plot_area.add_pane()
    w.plot_area.add_stream(db[StreamId("humidity", {"house": 2, "resident": "bob"})], pane=pane)
    qtbot.waitUntil(lambda: len(w.plot_area.curves()) == 2 and not w.plot_area.busy, timeout=20000)
    w.docks["annotations"].show()
    w.docks["annotations"].raise_()
    w.docks["instances"].raise_()
    w.resizeDocks([w.docks["instances"]], [170], Qt.Orientation.Vertical)
    qtbot.waitUntil(lambda: len(w.annotations.shown()) == 3 and
                    all(len(p.annotation_bands.items) == 3 for p in w.plot_area.panes), timeout=10000)
    qtbot.wait(300)
    assert w.grab().save(os.path.join(os.environ["HSGUI_SCREENSHOTS"], "plot_annotations.png"))
