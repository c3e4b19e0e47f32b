"""The min/max envelope of a summarised curve shows every bucket's full range, a one-instance spike included."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from PySide6.QtCore import QPointF

from channels.memory_channel import MemoryChannel
from channels.stream import StreamInstance
from channels.utils import UTC
from hsgui.common.background import JobRunner
from hsgui.plotting.plot_area import PlotArea

T0 = datetime(2024, 3, 1, tzinfo=UTC)
N = 300_000
SPIKE = 42.5


def test_a_one_instance_spike_is_drawn_to_its_full_height(qtbot):
    ch = MemoryChannel("mem")
    rng = np.random.default_rng(3)
    values = (rng.random(N) * 2.0).tolist()
    values[123_457] = SPIKE
    ch.create_stream("spiky").writer([StreamInstance._make((T0 + timedelta(seconds=i + 1), v))
                                      for i, v in enumerate(values)])
    runner = JobRunner()
    area = PlotArea(runner, lambda cid, sid: ch[sid])
    qtbot.addWidget(area)
    area.resize(900, 600)
    area.show()
    qtbot.waitExposed(area)
    try:
        area.add_stream(ch["spiky"])
        qtbot.waitUntil(lambda: bool(area.curves()) and area.curves()[0].mode == "summary" and not area.busy
                        and not area._debounce.isActive(), timeout=10000)
        curve = area.curves()[0].curve
        d = curve.data
        assert np.nanmax(d.hi) == SPIKE
        j = int(np.nanargmax(d.hi))
        half = d.interval.width.total_seconds() / d.buckets / 2
        path = curve.envelope.path()
        assert path.boundingRect().bottom() >= SPIKE   # item coordinates: y up
        # the spike's bucket is drawn from its minimum to its maximum
        pts = [(path.elementAt(i).x, path.elementAt(i).y) for i in range(path.elementCount())]
        spans = [(pts[i][1], pts[i + 1][1]) for i in range(0, len(pts) - 1, 2)
                 if abs(pts[i][0] - d.x[j]) < half and pts[i][0] == pts[i + 1][0]]
        assert (d.lo[j], SPIKE) in spans
        # and the rendered pane shows envelope colour up at the spike's height
        pane = area.panes[0]
        vb = pane.view_box
        top = vb.mapViewToScene(QPointF(d.x[j], SPIKE))
        view = pane.plot_widget if hasattr(pane, "plot_widget") else pane
        img = view.grab().toImage()
        px = view.mapFromScene(top) if hasattr(view, "mapFromScene") else top.toPoint()
        colours = {img.pixelColor(px.x() + dx, px.y() + dy).name()
                   for dx in (-1, 0, 1) for dy in (0, 1, 2)}
        assert colours - {"#ffffff"}, colours
    finally:
        area.close()
        assert runner.shutdown(10000)


def test_the_legend_sits_above_the_data_and_can_go_inside(qtbot):
    ch = MemoryChannel("mem")
    for name in ("temperature", "humidity"):
        ch.create_stream(name).writer([StreamInstance._make((T0 + timedelta(hours=i + 1), float(i % 7)))
                                       for i in range(40)])
    runner = JobRunner()
    area = PlotArea(runner, lambda cid, sid: ch[sid])
    qtbot.addWidget(area)
    area.resize(800, 400)
    area.show()
    qtbot.waitExposed(area)
    try:
        for name in ("temperature", "humidity"):
            area.add_stream(ch[name])
        qtbot.waitUntil(lambda: len(area.curves()) == 2 and not area.busy, timeout=5000)
        pane = area.panes[0]
        legend = pane.plot_item.legend
        data_rect = pane.view_box.sceneBoundingRect()
        qtbot.waitUntil(lambda: legend.sceneBoundingRect().height() > 0, timeout=3000)
        assert legend.isVisible() and len(legend.items) == 2
        assert not legend.sceneBoundingRect().intersects(data_rect)      # never covers a curve
        assert legend.sceneBoundingRect().bottom() <= data_rect.top() + 1
        pane._fill_curves_menu()
        toggle = next(a for a in pane.curves_menu.actions() if a.text().startswith("Legend inside"))
        toggle.trigger()
        qtbot.wait(50)
        assert pane.legend_inside and pane.view_box.sceneBoundingRect().contains(legend.sceneBoundingRect())
    finally:
        area.close()
        assert runner.shutdown(10000)
