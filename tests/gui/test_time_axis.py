"""Time-axis tick labels never overlap, whatever the pane's width and the span shown (headless)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pyqtgraph as pg
import pytest
from PySide6.QtGui import QFontMetrics

from channels.utils import UTC
from hsgui.common.timefmt import datetime_to_seconds
from hsgui.plotting.time_axis import TimeAxisItem

GAP = 4   # pixels at least between two labels

START = datetime(2024, 9, 27, 7, 30, tzinfo=UTC)     # crosses month ends (Sep/Oct, Oct/Nov …)
SPANS = [timedelta(minutes=3), timedelta(hours=2), timedelta(hours=20), timedelta(days=3), timedelta(days=6),
         timedelta(days=9), timedelta(days=17), timedelta(days=40), timedelta(days=75), timedelta(days=200),
         timedelta(days=700), timedelta(days=365 * 9), timedelta(days=365 * 60)]
WIDTHS = [260, 420, 640, 900, 1500]


@pytest.fixture
def plot(qtbot):
    axis = TimeAxisItem(UTC)
    pw = pg.PlotWidget(axisItems={"bottom": axis})
    qtbot.addWidget(pw)
    pw.show()
    qtbot.waitExposed(pw)
    return pw, axis


def overlaps(axis) -> list[str]:
    fm = QFontMetrics(axis.label_font())
    drawn = axis.drawn_labels()
    bad = []
    for (x0, t0), (x1, t1) in zip(drawn, drawn[1:]):
        need = (fm.horizontalAdvance(t0) + fm.horizontalAdvance(t1)) / 2 + GAP
        if x1 - x0 < need:
            bad.append(f"{t0!r}@{x0:.0f} / {t1!r}@{x1:.0f} (need {need:.0f} px)")
    return bad


@pytest.mark.parametrize("width", WIDTHS)
def test_tick_labels_never_overlap(qtbot, plot, width):
    pw, axis = plot
    pw.resize(width, 220)
    problems = []
    for span in SPANS:
        for shift in (timedelta(0), span * 0.37):
            lo = datetime_to_seconds(START + shift)
            pw.setXRange(lo, lo + span.total_seconds(), padding=0)
            pw.grab()
            assert len(axis.drawn_labels()) >= 2 or width < 300, (span, axis.drawn_labels())
            problems += [f"{span} at {width}px: {b}" for b in overlaps(axis)]
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("hours", [8, 10, 14])
def test_a_narrow_pane_over_hours_has_a_label_every_few_hours(qtbot, plot, hours):
    """The labels stay apart without thinning to one: 10 h over 330 px showed '06:00' alone."""
    pw, axis = plot
    pw.resize(330 + 60, 200)
    start = datetime(2026, 12, 7, 1, 27, tzinfo=UTC)
    pw.setXRange(datetime_to_seconds(start), datetime_to_seconds(start + timedelta(hours=hours)), padding=0)
    qtbot.wait(20)
    pw.grab()
    labels = [t for _x, t in axis.drawn_labels()]
    assert len(labels) >= 3, labels
    assert overlaps(axis) == []
