"""The plot area under the pointer and the keyboard: the cursor read-out follows the pointer and leaves with it;
a pane is one Tab stop and shows that it has the focus (headless, real mouse and key events)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget

from channels.memory_channel import MemoryChannel
from channels.stream import StreamInstance
from channels.time_interval import TimeInterval
from channels.utils import UTC
from hsgui.plotting.plot_area import PlotArea

T0 = datetime(2024, 3, 1, tzinfo=UTC)


@pytest.fixture
def channel():
    ch = MemoryChannel("mem")
    ch.create_stream("small").writer([StreamInstance._make((T0 + timedelta(hours=i + 1), float(i)))
                                      for i in range(40)])
    return ch


@pytest.fixture
def window(qtbot, runner, channel):
    """A line edit, the plot area, a line edit: what comes before and after the plots in a Tab walk."""
    w = QWidget()
    lay = QVBoxLayout(w)
    w.before, w.after = QLineEdit("before"), QLineEdit("after")
    w.area = PlotArea(runner, lambda cid, sid: channel[sid])
    lay.addWidget(w.before)
    lay.addWidget(w.area, 1)
    lay.addWidget(w.after)
    qtbot.addWidget(w)
    w.resize(900, 600)
    w.show()
    qtbot.waitExposed(w)
    w.area.set_interval(TimeInterval(T0, T0 + timedelta(hours=40)))
    w.area.add_stream(channel["small"])
    qtbot.waitUntil(lambda: bool(w.area.curves()) and w.area.curves()[0].mode is not None and not w.area.busy,
                    timeout=5000)
    return w


def plot_point(pane, fx=0.5, fy=0.5) -> QPoint:
    """A point inside the pane's data area, in its plot widget's viewport coordinates."""
    r = pane.view_box.sceneBoundingRect()
    view = pane.plot_widget
    return view.mapFromScene(r.left() + r.width() * fx, r.top() + r.height() * fy)


def test_the_read_out_and_crosshair_leave_with_the_pointer(qtbot, window):
    pane = window.area.panes[0]
    qtbot.mouseMove(pane.plot_widget.viewport(), plot_point(pane))
    qtbot.waitUntil(lambda: pane.cursor.isVisible(), timeout=2000)
    assert "small</span>" in pane.readout.text()
    qtbot.mouseMove(window.after, QPoint(5, 5))          # the pointer leaves the pane
    qtbot.waitUntil(lambda: not pane.cursor.isVisible(), timeout=2000)
    assert "small</span>" not in pane.readout.text()
    window.area.refresh()                                # a redraw does not bring it back
    qtbot.waitUntil(lambda: not window.area.busy, timeout=5000)
    qtbot.wait(50)
    assert not pane.cursor.isVisible() and "small</span>" not in pane.readout.text()
