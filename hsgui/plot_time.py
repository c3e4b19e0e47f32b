"""Time zones for display, and a date axis that labels ticks in a chosen zone.

Stored data is always UTC; a zone only changes how times are shown and typed.
pyqtgraph's ``DateAxisItem`` formats ticks with one fixed offset (or the
machine's local zone); :class:`TimeAxisItem` instead formats every tick in a
pytz zone, so a range that crosses a daylight-saving change is labelled right.
"""
from __future__ import annotations

import os
import time
from datetime import datetime, timedelta

import pyqtgraph as pg
import pytz

from channels.time_interval import TimeInterval
from channels.utils import UTC, ensure_utc, from_ms

# pyqtgraph's date axis refuses values outside these (years 1 .. 9999)
MIN_X = -62135596800.0
MAX_X = 253370764800.0


def local_zone():
    """The machine's zone as a pytz zone (by name when it can be found, else a fixed offset)."""
    names = [os.environ.get("TZ", "").lstrip(":")]
    try:
        with open("/etc/timezone", encoding="utf-8") as fh:
            names.append(fh.read().strip())
    except OSError:
        pass
    try:
        link = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in link:
            names.append(link.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in names:
        if name:
            try:
                return pytz.timezone(name)
            except pytz.UnknownTimeZoneError:
                continue
    return pytz.FixedOffset(time.localtime().tm_gmtoff // 60)


def zone_name(tz) -> str:
    """``"UTC"``, ``"Europe/London"``, or ``"UTC+05:30"`` for a fixed offset."""
    name = getattr(tz, "zone", None)
    if name:
        return name
    off = tz.utcoffset(datetime(2000, 1, 1))
    minutes = int(off.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def to_zone(dt: datetime, tz) -> datetime:
    """An aware UTC datetime shown in ``tz`` (clamped at the ends of the calendar)."""
    try:
        return dt.astimezone(tz)
    except OverflowError:
        return dt


def from_wall_clock(naive: datetime, tz) -> datetime:
    """The UTC instant of a wall-clock time typed in ``tz`` (a DST gap or overlap resolves to standard time)."""
    try:
        local = tz.localize(naive, is_dst=False) if hasattr(tz, "localize") else naive.replace(tzinfo=tz)
        return ensure_utc(local.astimezone(UTC))
    except OverflowError:
        return ensure_utc(naive.replace(tzinfo=UTC))


def seconds_to_datetime(x: float) -> datetime:
    return from_ms(int(round(x * 1000.0)))


def datetime_to_seconds(dt: datetime) -> float:
    return (dt - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()


def interval_from_seconds(x0: float, x1: float) -> TimeInterval | None:
    """The TimeInterval of an x range (epoch seconds), clamped to the calendar; None if empty."""
    x0, x1 = max(MIN_X, min(MAX_X, x0)), max(MIN_X, min(MAX_X, x1))
    a, b = int(round(x0 * 1000.0)), int(round(x1 * 1000.0))
    if b <= a:
        return None
    return TimeInterval(from_ms(a), from_ms(b))


def as_zone(tz):
    """A pytz zone from a zone, its name, or None (UTC)."""
    return pytz.timezone(tz) if isinstance(tz, str) else (tz or UTC)


def format_time(dt: datetime | None, tz, with_ms: bool | None = False) -> str:
    """``YYYY-mm-dd HH:MM:SS`` in ``tz`` (never overflows at the ends of the calendar); milliseconds always
    (``with_ms=True``), never (False) or only when not zero (None). ``None`` -> ``""``."""
    if dt is None:
        return ""
    local = to_zone(dt, tz)
    text = local.strftime("%Y-%m-%d %H:%M:%S")
    if with_ms or (with_ms is None and local.microsecond):
        text += f".{local.microsecond // 1000:03d}"
    return text


def format_interval(iv, tz) -> str:
    """``(start, end]`` in ``tz``."""
    return f"({format_time(iv.start, tz, None)}, {format_time(iv.end, tz, None)}]"


def format_intervals(ivs, tz, limit: int = 4) -> str:
    items = list(ivs)
    text = ", ".join(format_interval(iv, tz) for iv in items[:limit])
    if len(items) > limit:
        text += f" and {len(items) - limit} more"
    return text or "nothing"


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
        for v in values:
            try:
                dt = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=float(v))).astimezone(self.tz)
                s = dt.strftime(fmt)
            except (OverflowError, ValueError):
                out.append("")
                continue
            if "%f" in fmt:
                s = s[:-3]
            elif "%Y" in fmt:
                s = s.lstrip("0")
            out.append(s)
        return out
