"""Annotation labels on a pane: readable from their first letter, never on top of each other, never past the
pane's edge — whatever the range and the pane's width (headless)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from channels.annotations import Annotation
from channels.time_interval import TimeInterval
from channels.utils import UTC
from hsgui.plotting.plot_area import PlotArea

T0 = datetime(2024, 3, 1, tzinfo=UTC)
H = timedelta(hours=1)

ANNOTATIONS = [
    Annotation(T0 + 30 * H, "Heating serviced", start=T0 - 10 * H, note="new pump"),    # began before the view
    Annotation(T0 + 20 * H, "Boiler check", start=T0 + 2 * H),
    Annotation(T0 + 4 * H, "Window left open in the kitchen"),
    Annotation(T0 + 4 * H + timedelta(minutes=20), "Door open"),
    Annotation(T0 + 5 * H, "Guests"),
    Annotation(T0 + 5 * H + timedelta(minutes=10), "Oven on"),
    Annotation(T0 + 5 * H + timedelta(minutes=30), "Thermostat 23 °C"),
    Annotation(T0 + 44 * H, "Sensor battery changed on the landing"),                  # near the right edge
]


@pytest.fixture
def area(qtbot, runner):
    a = PlotArea(runner, lambda cid, sid: None)
    qtbot.addWidget(a)
    a.show()
    qtbot.waitExposed(a)
    a.set_annotations(ANNOTATIONS)
    return a


def check(pane):
    bands = pane.annotation_bands
    shown = bands.shown_labels()
    vb = pane.view_box
    for a, text, rect in shown:
        head = text[:-1] if text.endswith("…") else text
        assert a.label.startswith(head) and len(head) >= 2, (a.label, text)        # never a tail like 'ced'
        assert rect.left() >= 0 and rect.right() <= vb.width() + 0.5 and rect.bottom() <= vb.height(), \
            (text, rect, vb.width())
    for i, (a, _t, r) in enumerate(shown):
        for b, _u, q in shown[i + 1:]:
            assert not r.intersects(q), (a.label, r, b.label, q)
    return {a.label: text for a, text, _r in shown}


@pytest.mark.parametrize("width", [380, 700, 1200])
def test_labels_stay_readable_apart_and_inside_the_pane(qtbot, area, width):
    area.resize(width, 420)
    pane = area.panes[0]
    for hours in (3, 12, 46, 24 * 9):
        area.set_interval(TimeInterval(T0, T0 + hours * H))
        qtbot.wait(10)
        texts = check(pane)
        assert texts.get("Heating serviced") == "Heating serviced"   # its band began before the view: label at the edge
    area.set_interval(TimeInterval(T0, T0 + 46 * H))
    qtbot.wait(10)
    texts = check(pane)
    assert "Boiler check" in texts
