"""A date axis that labels ticks in a chosen time zone.

pyqtgraph's ``DateAxisItem`` formats ticks with one fixed offset (or the
machine's local zone); :class:`TimeAxisItem` instead formats every tick in a
pytz zone, so a range that crosses a daylight-saving change is labelled right.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pyqtgraph as pg

from channels.utils import UTC


class TimeAxisItem(pg.DateAxisItem):
    """A bottom axis of epoch seconds whose tick labels are in a pytz zone."""

    def __init__(self, tz=UTC, **kwargs):
        super().__init__(orientation="bottom", utcOffset=0, **kwargs)
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
