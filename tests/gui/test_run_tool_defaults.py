"""The Run Tool dialog as a new user meets it: it opens runnable, says which interval it chose, keeps its
layout still when problems come and go, lists every problem, and speaks in the user's units."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import Qt

from channels.channel_manager import ChannelManager
from channels.stream import StreamId, StreamInstance
from channels.time_interval import TimeInterval
from channels.utils import UTC, utcnow
from hsgui.compute.run_tool_dialog import RunToolDialog

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def manager():
    m = ChannelManager()
    s = m.channels["memory"].create_stream(StreamId("temperature"))
    m.channels["memory"].write_chunk(s, [StreamInstance(T0 + timedelta(minutes=i + 1), 20.0 + i)
                                         for i in range(120)], TimeInterval(T0, T0 + timedelta(hours=2)))
    yield m
    m.close()


def dialog(qtbot, manager, runner, tool, interval, inputs=()):
    dlg = RunToolDialog(manager, runner, None, "tools", tool, None, interval, UTC, inputs)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def test_a_visible_range_ending_in_the_future_opens_runnable(qtbot, manager, runner):
    now = utcnow()
    dlg = dialog(qtbot, manager, runner, "clock", TimeInterval(now - timedelta(hours=23), now + timedelta(hours=1)))
    iv = dlg.interval_edit.interval()
    assert iv.end <= utcnow() and abs(iv.start - (now - timedelta(hours=23))) < timedelta(seconds=1)
    assert dlg.run_button.isEnabled(), dlg.problems
    assert "in the future" not in dlg.problems_label.text()
    assert "end clipped to now" in dlg.interval_note.text()


def test_inputs_calculated_span_bounds_the_default_interval(qtbot, manager, runner):
    now = utcnow()
    dlg = dialog(qtbot, manager, runner, "aggregate", TimeInterval(now - timedelta(days=1), now + timedelta(hours=1)),
                 inputs=[("memory", StreamId("temperature"))])
    # the visible range holds none of the input: the input's whole calculated span is used, and said so
    assert dlg.interval_edit.interval() == TimeInterval(T0, T0 + timedelta(hours=2))
    assert "whole calculated span" in dlg.interval_note.text()
    dlg2 = dialog(qtbot, manager, runner, "aggregate", TimeInterval(T0 - timedelta(hours=1), T0 + timedelta(hours=1)),
                  inputs=[("memory", StreamId("temperature"))])
    assert dlg2.interval_edit.interval() == TimeInterval(T0, T0 + timedelta(hours=1))
    assert "start moved to where the inputs begin" in dlg2.interval_note.text()


def test_problems_all_listed_in_words_and_the_layout_does_not_jump(qtbot, manager, runner):
    dlg = dialog(qtbot, manager, runner, "sliding_window", TimeInterval(T0, T0 + timedelta(hours=1)))
    qtbot.wait(50)
    run_geom = dlg.run_button.geometry()
    params_geom = dlg.params_box.geometry()
    assert dlg.run_button.isEnabled(), dlg.problems
    lower = dlg.form.editor("lower")
    lower.setFocus()
    lower.selectAll()
    qtbot.keyClicks(lower, "10s")                       # above upper (0): the tool refuses it
    end = dlg.interval_edit.end_edit
    end.setFocus()
    end.selectAll()
    qtbot.keyClicks(end, "2024-01-01 99:00")            # not a time
    qtbot.wait(50)
    text = dlg.problems_label.text()
    assert "parameter lower: must be below upper (0 s), got 10 s" in text
    assert "datetime.timedelta" not in text
    assert "end '2024-01-01 99:00'" in text                  # both problems at once
    assert not dlg.run_button.isEnabled()
    assert dlg.run_button.geometry() == run_geom and dlg.params_box.geometry() == params_geom
    end.selectAll()
    qtbot.keyClicks(end, "2024-01-01 01:00:00")
    lower.selectAll()
    qtbot.keyClicks(lower, "-60s")
    qtbot.wait(50)
    assert dlg.run_button.isEnabled(), dlg.problems
    assert dlg.run_button.geometry() == run_geom and dlg.params_box.geometry() == params_geom


def test_the_interval_note_goes_when_the_user_types_another_interval(qtbot, manager, runner):
    dlg = dialog(qtbot, manager, runner, "aggregate", TimeInterval(T0 - timedelta(hours=1), T0 + timedelta(hours=1)),
                 inputs=[("memory", StreamId("temperature"))])
    assert not dlg.interval_note.isHidden() and dlg.interval_note.text().startswith("Interval: the visible plot range")
    end = dlg.interval_edit.end_edit
    end.setFocus()
    qtbot.keyClick(end, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(end, "2024-01-01 00:30:00")
    assert dlg.interval_edit.interval() == TimeInterval(T0, T0 + timedelta(minutes=30))
    assert dlg.interval_note.isHidden() or dlg.interval_note.text() == ""
