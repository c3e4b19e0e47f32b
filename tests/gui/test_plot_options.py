"""Per-pane plot options: log-scale y, a horizontal reference line; both kept in workspaces."""
from __future__ import annotations

import math
import os
from datetime import datetime, timedelta

import numpy as np
import pytest
from PySide6.QtWidgets import QInputDialog

from channels.memory_channel import MemoryChannel
from channels.stream import StreamInstance
from channels.utils import UTC
from hsgui.common.background import JobRunner
from hsgui.plotting.plot_area import PlotArea

T0 = datetime(2024, 3, 1, tzinfo=UTC)
DOCS = os.environ.get("HSGUI_SCREENSHOTS")


@pytest.fixture
def area(qtbot):
    ch = MemoryChannel("mem")
    ch.create_stream("growth").writer([StreamInstance._make((T0 + timedelta(minutes=i + 1), 1.5 ** (i / 2000)))
                                       for i in range(20_000)])
    runner = JobRunner()
    a = PlotArea(runner, lambda cid, sid: ch[sid])
    a.channel = ch
    qtbot.addWidget(a)
    a.resize(900, 500)
    a.show()
    qtbot.waitExposed(a)
    a.add_stream(ch["growth"])
    qtbot.waitUntil(lambda: bool(a.curves()) and a.curves()[0].mode == "summary" and not a.busy, timeout=10000)
    yield a
    a.close()
    assert runner.shutdown(10000)


def action(menu, text):
    menu.aboutToShow.emit()
    return next(a for a in menu.actions() if a.text().startswith(text))


def test_log_scale_y_from_the_options_menu(qtbot, area):
    pane = area.panes[0]
    d = area.curves()[0].curve.data
    top = float(np.nanmax(d.hi))
    action(pane.options_menu, "Log-scale y").trigger()
    assert pane.log_y and pane.plot_item.getAxis("left").logMode
    # the view spans the log of the values; the envelope is drawn in the same log units
    qtbot.waitUntil(lambda: pane.view_box.viewRange()[1][1] < 1.2 * math.log10(top), timeout=3000)
    _x, hi = area.curves()[0].curve.env_hi.getData()
    assert np.nanmax(hi) == pytest.approx(math.log10(top))
    assert pane.view_box.viewRange()[1][1] >= math.log10(top) - 0.01
    action(pane.options_menu, "Log-scale y").trigger()
    assert not pane.log_y
    _x, hi = area.curves()[0].curve.env_hi.getData()
    assert np.nanmax(hi) == pytest.approx(top)


def test_reference_line_is_drawn_and_kept_in_the_pane_state(qtbot, area, monkeypatch):
    pane = area.panes[0]
    monkeypatch.setattr(QInputDialog, "getDouble", lambda *a, **k: (100.0, True))
    action(pane.options_menu, "Reference line…").trigger()
    assert pane.ref_line is not None and pane.ref_line.value() == 100.0
    assert pane.ref_line in pane.plot_item.items
    pane.set_log_y(True)
    assert pane.ref_line.value() == pytest.approx(2.0)         # on the log axis at log10(100)
    state = area.pane_states()
    assert state[0]["options"] == {"log_y": True, "log_right": False, "reference_line": 100.0,
                                  "legend_inside": False}
    area.restore_panes([{"curves": state[0]["curves"], "options": {"log_y": False, "reference_line": 5.0}}])
    pane = area.panes[0]
    assert not pane.log_y and pane.ref_line.value() == 5.0
    action(pane.options_menu, "Remove reference line").trigger()
    assert pane.ref_line is None and pane.options()["reference_line"] is None


def test_a_curve_of_another_scale_goes_on_the_right_axis(qtbot, area):
    ch = area.channel
    ch.create_stream("small").writer([StreamInstance._make((T0 + timedelta(minutes=10 * (i + 1)), 0.5 + 0.3 * math.sin(i / 40)))
                                      for i in range(1000)])
    area.add_stream(ch["small"])
    qtbot.waitUntil(lambda: len(area.curves()) == 2 and not area.busy, timeout=10000)
    pane = area.panes[0]
    small = next(c for c in pane.curves if c.stream.stream_id.name == "small")
    pane.curves_menu.aboutToShow.emit()
    sub = next(a.menu() for a in pane.curves_menu.actions() if a.menu() and a.text().startswith("small"))
    next(a for a in sub.actions() if a.text() == "On the right axis").trigger()
    assert small.axis == "right" and pane.plot_item.getAxis("right").isVisible()
    right = pane.right_view()
    assert small.line in right.addedItems and small.line not in pane.plot_item.items
    # each axis fits its own curves: the right one the small values, the left one the big ones
    qtbot.waitUntil(lambda: right.viewRange()[1][1] < 3 and pane.view_box.viewRange()[1][1] > 20, timeout=5000)
    assert any("right axis" in label.text for _s, label in pane.plot_item.legend.items)
    assert [c["axis"] for c in area.pane_states()[0]["curves"]] == ["left", "right"]
    if DOCS:
        qtbot.wait(300)
        area.grab().save(os.path.join(DOCS, "plot_second_axis.png"))
    # and back
    small.move_to_axis("left")
    assert small.line in pane.plot_item.items and not pane.plot_item.getAxis("right").isVisible()


def test_log_scale_on_the_right_axis_is_drawn_and_kept_in_the_pane_state(qtbot, area):
    pane = area.panes[0]
    curve = area.curves()[0].curve
    curve.move_to_axis("right")
    top = float(np.nanmax(curve.data.hi))
    action(pane.options_menu, "Log-scale right y").trigger()
    assert pane.log_right and not pane.log_y
    assert pane.plot_item.getAxis("right").logMode and not pane.plot_item.getAxis("left").logMode
    _x, hi = curve.env_hi.getData()
    assert np.nanmax(hi) == pytest.approx(math.log10(top))
    _x, y = curve.line.getData()
    assert np.nanmax(y) <= math.log10(top) + 1e-9
    state = area.pane_states()
    assert state[0]["options"]["log_right"] is True
    area.restore_panes([{"curves": state[0]["curves"], "options": state[0]["options"]}])
    assert area.panes[0].log_right and area.panes[0].plot_item.getAxis("right").logMode
    qtbot.waitUntil(lambda: bool(area.panes[0].curves) and not area.busy, timeout=10000)
    restored = area.panes[0].curves[0]
    assert restored.axis == "right" and restored.line.opts["logMode"][1]
    area.restore_panes([{"curves": state[0]["curves"], "options": {"log_y": True}}])   # an older file
    assert not area.panes[0].log_right
