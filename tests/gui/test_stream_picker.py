"""The stream picker from the keyboard: the Streams filter's syntax, Up/Down and Enter, no silent close."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from channels.stream import StreamId
from hsgui.compute.stream_inputs import StreamPickerDialog

from hsgui_test_stores import memory_manager


@pytest.fixture
def picker(qtbot):
    manager, _made = memory_manager()
    p = StreamPickerDialog(manager)
    qtbot.addWidget(p)
    p.show()
    p.filter_edit.setFocus()
    return p


def test_key_value_globs_like_the_streams_filter(qtbot, picker):
    qtbot.keyClicks(picker.filter_edit, "temp* house=2")
    got = [picker.proxy.index(r, 0).data() for r in range(picker.proxy.rowCount())]
    assert got == ["memory / temperature: [house=2, resident=alice]", "memory / temperature: [house=2, resident=bob]"]
    assert picker.count_label.text() == "2 of 7 streams"


def test_enter_takes_the_first_match(qtbot, picker):
    qtbot.keyClicks(picker.filter_edit, "resident=bob house=1")
    qtbot.keyClick(picker.filter_edit, Qt.Key.Key_Return)
    assert picker.result() == picker.DialogCode.Accepted and not picker.isVisible()
    assert picker.selected() == [("memory", StreamId("temperature", {"house": 1, "resident": "bob"}))]


def test_down_then_enter_takes_the_highlighted_match(qtbot, picker):
    qtbot.keyClicks(picker.filter_edit, "temperature")
    qtbot.keyClick(picker.filter_edit, Qt.Key.Key_Down)
    qtbot.keyClick(picker.filter_edit, Qt.Key.Key_Down)
    qtbot.keyClick(picker.filter_edit, Qt.Key.Key_Return)
    assert not picker.isVisible()
    assert picker.selected() == [("memory", StreamId("temperature", {"house": 1, "resident": "bob"}))]


def test_enter_with_no_match_says_so_and_stays_open(qtbot, picker):
    qtbot.keyClicks(picker.filter_edit, "house=9")
    qtbot.keyClick(picker.filter_edit, Qt.Key.Key_Return)
    assert picker.isVisible()
    assert picker.count_label.text() == "No stream matches the search."
