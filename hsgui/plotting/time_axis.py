"""A date axis that labels ticks in a chosen time zone.

pyqtgraph's ``DateAxisItem`` formats ticks with one fixed offset (or the
machine's local zone); :class:`TimeAxisItem` instead formats every tick in a
pytz zone, so a range that crosses a daylight-saving change is labelled right.

Labels never overlap: the tick density is chosen for the widest label a level
draws (a day label carries its month: "29 Oct"), and when a finer level's label
would still touch one already placed (the month "Nov" next to "03 Nov") it is
left out — coarser levels first, so the month stays.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pyqtgraph as pg
from PySide6.QtGui import QFont

from pyqtgraph.graphicsItems import DateAxisItem as _date_axis

from channels.utils import UTC

LABEL_GAP = 6   # pixels kept free between two tick labels


#: hours at 1, 3 or 6 h steps (pyqtgraph's level jumps from 1 h to 6 h: 10 h over 330 px showed one label)
_DAY_HOUR = _date_axis.ZoomLevel([
    _date_axis.TickSpec(_date_axis.DAY_SPACING, _date_axis.makeSStepper(_date_axis.DAY_SPACING), "%a %d"),
    _date_axis.TickSpec(_date_axis.HOUR_SPACING, _date_axis.makeSStepper(_date_axis.HOUR_SPACING), "%H:%M",
                        autoSkip=[1, 3, 6])], "MMM 00")

#: the widest label a zoom level draws here, where it is wider than pyqtgraph's example text for the level
_WIDEST = {id(_date_axis.MONTH_DAY_ZOOM_LEVEL): "00 MMM",       # a day label with its month: "29 Oct"
           id(_DAY_HOUR): "MMM 00",                             # "Wed 29"
           id(_date_axis.HOUR_MINUTE_ZOOM_LEVEL): "MMM 00"}


class TimeAxisItem(pg.DateAxisItem):
    """A bottom axis of epoch seconds whose tick labels are in a pytz zone."""

    def __init__(self, tz=UTC, **kwargs):
        super().__init__(orientation="bottom", utcOffset=0, **kwargs)
        self.zoomLevels = {k: (_DAY_HOUR if level is _date_axis.DAY_HOUR_ZOOM_LEVEL else level)
                           for k, level in self.zoomLevels.items()}
        self.tz = tz

    def set_time_zone(self, tz) -> None:
        self.tz = tz
        self.picture = None  # force the ticks to be regenerated
        self.update()

    def _offset_at(self, x: float) -> int:
        try:
            dt = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=x)
            return int(dt.astimezone(self.tz).utcoffset().total_seconds())
        except (OverflowError, ValueError):
            return 0

    def setZoomLevelForDensity(self, density):
        """pyqtgraph's choice of zoom level, but ticks spaced for the widest label the level draws."""
        super().setZoomLevelForDensity(density)
        widest = _WIDEST.get(id(self.zoomLevel))
        if widest is not None:
            self.minSpacing = density * (self.fontMetrics.boundingRect(widest).width() + 10)

    def generateDrawSpecs(self, p):
        specs = super().generateDrawSpecs(p)
        self._font = QFont(p.font())
        if specs is None:
            self._drawn = []
            return specs
        axis_spec, tick_specs, text_specs = specs
        text_specs = without_overlaps(text_specs, LABEL_GAP)
        self._drawn = [(rect.center().x(), text) for rect, _f, text in text_specs]
        return axis_spec, tick_specs, text_specs

    def drawn_labels(self) -> list[tuple[float, str]]:
        """The tick labels of the last paint: ``(centre x in the axis' pixels, text)``, left to right."""
        return sorted(getattr(self, "_drawn", []))

    def label_font(self) -> QFont:
        """The font the tick labels were last painted with."""
        return getattr(self, "_font", QFont())

    def tickValues(self, minVal, maxVal, size):
        # place day/month ticks at midnight in the zone of the middle of the view
        self.utcOffset = -self._offset_at((minVal + maxVal) / 2.0)
        return super().tickValues(minVal, maxVal, size)

    def tickStrings(self, values, scale, spacing):
        spec = next((s for s in self.zoomLevel.tickSpecs if s.spacing == spacing), None)
        fmt = spec.format if spec is not None else "%Y-%m-%d %H:%M"
        out = []
        # day-level ticks ("%d", "%a %d") carry no month: add it to the first label and wherever the month changes,
        # so a multi-day view reads "03 Mar … 08 … 02 Apr", not bare "03", "08"
        day_only = "%d" in fmt and not any(c in fmt for c in ("%b", "%m", "%B", "%Y", "%H"))
        month_shown = None
        for v in values:
            try:
                dt = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=float(v))).astimezone(self.tz)
                s = dt.strftime(fmt)
            except (OverflowError, ValueError):
                out.append("")
                continue
            if day_only and (dt.year, dt.month) != month_shown:
                month_shown = (dt.year, dt.month)
                s += dt.strftime(" %b")
            if "%f" in fmt:
                s = s[:-3]
            elif "%Y" in fmt:
                s = s.lstrip("0")
            out.append(s)
        return out


def without_overlaps(text_specs, gap: float) -> list:
    """``text_specs`` (``(QRectF, flags, text)``, coarser levels first, as pyqtgraph lists them) without each
    label that would come closer than ``gap`` pixels to one kept before it."""
    kept, spans = [], []
    for spec in text_specs:
        rect = spec[0]
        x0, x1 = rect.left() - gap / 2, rect.right() + gap / 2
        if all(x1 <= a or x0 >= b for a, b in spans):
            kept.append(spec)
            spans.append((x0, x1))
    return kept
