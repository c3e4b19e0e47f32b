"""Time zones for display and the one way every widget writes times, intervals and coverage.

Stored data is always UTC; a zone only changes how times are shown and typed.
Pure Python (pytz, no Qt), so every feature formats the same way and it can be
tested without a display.
"""
from __future__ import annotations

import os
import re
import time
from datetime import datetime, timedelta

import pytz

from channels.time_interval import TimeInterval
from channels.utils import MAX_DATE, MIN_DATE, UTC, ensure_utc, format_duration, from_ms, utcnow

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


def describe_coverage(intervals, tz=UTC, short: bool = False) -> str:
    """'3 intervals, 12 d'; intervals open to the beginning of time read 'all up to <date>' (in ``tz``;
    ``short``: the compact date of :func:`short_time`, for the tree's narrow column)."""
    if not intervals:
        return "none"
    if intervals.start == MIN_DATE:
        text = "all up to " + (short_time(intervals.end, tz) if short else format_time(intervals.end, tz)[:16])
        return text if len(intervals) == 1 else f"{len(intervals)} intervals, {text}"
    return intervals.describe()


def short_time(dt: datetime | None, tz=UTC) -> str:
    """'11-25 02:13' within the current year, '2024-11-25' otherwise (the full time is in the tooltip)."""
    if dt is None:
        return ""
    text = format_time(dt, tz)
    if dt == MAX_DATE or text[:4] != format_time(utcnow(), tz)[:4]:
        return text[:10]
    return text[5:16]


_TIMEDELTA_REPR = re.compile(r"datetime\.timedelta\(([^()]*)\)")
_DATETIME_REPR = re.compile(r"datetime\.datetime\(([\d, ]+)(?:, tzinfo=[^()]*(?:\([^()]*\))?)?\)")


def humanise_reprs(text: str) -> str:
    """Python reprs in a message in a user's words: ``datetime.timedelta(seconds=10)`` -> ``10 s``,
    ``datetime.datetime(2024, 3, 1, 6, 0, tzinfo=…)`` -> ``2024-03-01 06:00:00``."""
    def td(m):
        args, kw = [], {}
        try:
            for part in filter(None, (p.strip() for p in m.group(1).split(","))):
                if "=" in part:
                    k, v = part.split("=", 1)
                    kw[k.strip()] = float(v)
                else:
                    args.append(float(part))
            seconds = timedelta(*args, **kw).total_seconds()
        except (TypeError, ValueError):
            return m.group(0)
        return f"{seconds:g} s" if abs(seconds) < 120 else format_duration(timedelta(seconds=seconds))

    def dt(m):
        try:
            parts = [int(p) for p in m.group(1).split(",") if p.strip()]
            return datetime(*parts).strftime("%Y-%m-%d %H:%M:%S")
        except (TypeError, ValueError):
            return m.group(0)

    return _DATETIME_REPR.sub(dt, _TIMEDELTA_REPR.sub(td, text))


_ISO = re.compile(r"\b(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)(Z|[+-]\d{2}:\d{2})")


def readable_times(text: str, tz=UTC) -> str:
    """``text`` with every ISO timestamp (``2024-03-01T01:00:00.000+00:00``, as the channel layer's messages
    write them) rewritten in the one format the editors show (``2024-03-01 02:00:00`` in ``tz``, milliseconds
    when not zero), so an error names a time the way the form next to it does."""
    def repl(m):
        try:
            dt = datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}{'+00:00' if m.group(3) == 'Z' else m.group(3)}")
        except ValueError:
            return m.group(0)
        return format_time(dt, tz, None)
    return _ISO.sub(repl, text) if text else text
