"""Typing and pasting times wherever a time is asked: the shared editor, the picker, the Run Tool
interval and the parameter form — driven with real key events."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import QDate, QDateTime, Qt, QTime
from PySide6.QtGui import QGuiApplication

from channels.time_interval import TimeInterval
from channels.tools.params import parameter_specs
from channels.utils import MIN_DATE, UTC
from hsgui.compute.param_form import MIN_DATE_TEXT, ParameterForm
from hsgui.compute.stream_inputs import IntervalEdit
from hsgui.forms.datetime_edit import DateTimeEdit
from hsgui.plotting.time_range import TimeRangePicker

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def retype(qtbot, edit, text, enter=True):
    """Select all, type ``text`` key by key, press Enter: what a user does."""
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(edit, text)
    if enter:
        qtbot.keyClick(edit, Qt.Key.Key_Return)


@pytest.fixture
def edit(qtbot):
    e = DateTimeEdit()
    qtbot.addWidget(e)
    e.show()
    e.setDateTime(QDateTime(QDate(2024, 3, 1), QTime(0, 0, 0, 999)))
    return e


def test_typing_a_full_time_is_exactly_that_time(qtbot, edit):
    assert edit.text() == "2024-03-01 00:00:00.999"          # milliseconds are shown, never hidden
    retype(qtbot, edit, "2024-03-02 06:00:00")
    assert edit.dateTime().toString("yyyy-MM-dd HH:mm:ss.zzz") == "2024-03-02 06:00:00.000"
    retype(qtbot, edit, "2024-03-03 09:17:05.25")
    assert edit.dateTime().toString("yyyy-MM-dd HH:mm:ss.zzz") == "2024-03-03 09:17:05.250"
    assert edit.text() == "2024-03-03 09:17:05.250"


def test_pasting_and_bad_text(qtbot, edit):
    QGuiApplication.clipboard().setText("2024-03-02T06:30:00")
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert edit.dateTime().toString("yyyy-MM-dd HH:mm:ss") == "2024-03-02 06:30:00"
    retype(qtbot, edit, "2024-02-30 06:00:00")
    assert not edit.is_valid() and "not a date" in edit.toolTip()
    assert edit.text() == "2024-02-30 06:00:00"                # the text stays for the user to fix


def test_arrow_keys_step_the_part_under_the_cursor(qtbot, edit):
    retype(qtbot, edit, "2024-03-02 06:00:00")
    edit.setCursorPosition(15)                                  # in the minutes
    qtbot.keyClick(edit, Qt.Key.Key_Up)
    assert edit.text() == "2024-03-02 06:01:00"
    edit.setCursorPosition(6)                                   # in the month
    qtbot.keyClick(edit, Qt.Key.Key_Down)
    assert edit.text() == "2024-02-02 06:01:00"


def test_picker_typing_replaces_hidden_milliseconds_and_keeps_minutes(qtbot):
    picker = TimeRangePicker(interval=TimeInterval(T0 + timedelta(milliseconds=999), T0 + timedelta(days=3)))
    qtbot.addWidget(picker)
    picker.show()
    with qtbot.waitSignal(picker.sigRangeChanged) as sig:
        retype(qtbot, picker.start_edit, "2024-03-02 06:00:00")
    assert sig.args[0].start == datetime(2024, 3, 2, 6, 0, 0, tzinfo=UTC)     # exactly .000
    with qtbot.waitSignal(picker.sigRangeChanged) as sig:
        retype(qtbot, picker.end_edit, "2024-03-03 09:45:00")
    assert sig.args[0].end == datetime(2024, 3, 3, 9, 45, tzinfo=UTC)        # minutes kept as typed
    # a text that is not a time is refused with a reason, the range stays
    retype(qtbot, picker.end_edit, "2024-03-03 25:00:00")
    assert picker.interval().end == datetime(2024, 3, 3, 9, 45, tzinfo=UTC)
    assert "not a time of day" in picker.end_edit.toolTip()


def test_picker_zone_box_completes_a_typed_prefix(qtbot):
    picker = TimeRangePicker(interval=TimeInterval(T0, T0 + timedelta(hours=6)))
    qtbot.addWidget(picker)
    picker.show()
    line = picker.zone_combo.lineEdit()
    line.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, "Europe/Berl")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    assert str(picker.time_zone()) == "Europe/Berlin"
    assert "Unknown" not in (picker.balloon.text() if hasattr(picker.balloon, "text") else "")


def test_interval_edit_uses_what_is_typed(qtbot):
    w = IntervalEdit(UTC)
    qtbot.addWidget(w)
    w.show()
    w.set_interval(TimeInterval(T0 + timedelta(milliseconds=999), T0 + timedelta(days=1)))
    retype(qtbot, w.start_edit, "2024-03-01 06:00:00")
    retype(qtbot, w.end_edit, "2024-03-01 18:30:00")
    assert w.interval() == TimeInterval(datetime(2024, 3, 1, 6, tzinfo=UTC), datetime(2024, 3, 1, 18, 30, tzinfo=UTC))
    retype(qtbot, w.end_edit, "tomorrow")
    with pytest.raises(ValueError, match="end 'tomorrow'"):
        w.interval()


class Clockish:
    """Like the clock tool: ``first`` defaults to MIN_DATE."""

    def __init__(self, first: datetime = MIN_DATE, stride: float = 1.0):
        self.first, self.stride = first, stride


def test_min_date_parameter_can_be_typed_over(qtbot):
    form = ParameterForm(parameter_specs(Clockish), tz=UTC, tool_name="clockish")
    qtbot.addWidget(form)
    form.show()
    ed = form.editor("first")
    assert ed.text() == MIN_DATE_TEXT and form.values()["first"] == MIN_DATE
    qtbot.mouseClick(ed, Qt.MouseButton.LeftButton)
    assert ed.selectedText() == MIN_DATE_TEXT            # a click selects the "beginning" state
    qtbot.keyClicks(ed, "2024-03-02 06:00:00")           # typing replaces it
    assert form.values()["first"] == datetime(2024, 3, 2, 6, tzinfo=UTC)
    retype(qtbot, ed, "2024-03-02 6:xx")
    assert "first" in form.errors()
    qtbot.keyClick(ed, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(ed, Qt.Key.Key_Delete)                 # empty: back to the beginning
    assert form.values()["first"] == MIN_DATE and not form.errors()


def test_restored_last_24_h_is_the_last_24_h_up_to_now(qtbot, make_main_window):
    import json
    from channels.utils import utcnow
    from hsgui.workspace.controller import last_workspace_path
    w = make_main_window(persist=True)
    qtbot.mouseClick(w.picker.preset_buttons["24 h"], Qt.MouseButton.LeftButton)
    assert w.picker.last_preset == timedelta(hours=24)
    w.close()
    # a day later the saved window is old; the restored one ends now
    with open(last_workspace_path()) as f:
        doc = json.load(f)
    assert doc["time_range"]["last_seconds"] == 24 * 3600
    doc["time_range"]["start"] = (utcnow() - timedelta(days=2)).isoformat()
    doc["time_range"]["end"] = (utcnow() - timedelta(days=1)).isoformat()
    with open(last_workspace_path(), "w") as f:
        json.dump(doc, f)
    w2 = make_main_window(restore=True, persist=True, shown=False)
    iv = w2.picker.interval()
    assert abs((utcnow() - iv.end).total_seconds()) < 60 and iv.width == timedelta(hours=24)
    assert w2.picker.last_preset == timedelta(hours=24)
    # a fixed window the user typed stays fixed
    retype(qtbot, w2.picker.start_edit, "2024-03-01 00:00:00")
    assert w2.picker.last_preset is None
    w2.close()
    assert w2.workspaces.read(last_workspace_path()).start == T0


def test_asset_form_times_are_typed_the_same_way(qtbot):
    from hsgui.forms.value_form import AssetValueForm
    form = AssetValueForm()
    qtbot.addWidget(form)
    form.show()
    form.set_value({"when": datetime(2024, 2, 1, 9, 0, 0, 500000, tzinfo=UTC)}, None)
    ed = form.value_editor(("when",))
    assert isinstance(ed, DateTimeEdit) and ed.text() == "2024-02-01 09:00:00.500"
    retype(qtbot, ed, "2024-03-02 06:00:00")
    assert form.value() == {"when": datetime(2024, 3, 2, 6, tzinfo=UTC)}
