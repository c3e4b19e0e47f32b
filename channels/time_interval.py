"""Half-open time intervals ``(start, end]`` and disjoint sets of them.

``TimeIntervals`` is the bookkeeping behind "what has been calculated": tools
compute ``requested - calculated`` and extend ``calculated`` by what they
finished, so union and difference must be exact for every arrangement.
"""
from __future__ import annotations

from bisect import bisect_left
from datetime import datetime, timedelta
from typing import Iterable

from .errors import TimeError
from .utils import MAX_DATE, MIN_DATE, UTC, ensure_utc, format_duration, get_timedelta, parse_datetime, utcnow


def _shift(dt: datetime, delta: timedelta, what: str) -> datetime:
    """``dt + delta``; a TimeError naming both when the result is outside 0001-01-01 .. 9999-12-31."""
    try:
        return dt + delta
    except OverflowError:
        sign = "-" if delta < timedelta(0) else "+"
        raise TimeError(f"{what} {dt.isoformat()} {sign} {format_duration(abs(delta))} is outside the range of "
                        f"times ({MIN_DATE.isoformat()} to {MAX_DATE.isoformat()})") from None


class TimeInterval:
    """The half-open interval ``(start, end]`` of aware UTC datetimes; ``start < end``."""

    __slots__ = ("_start", "_end")

    def __init__(self, start: datetime, end: datetime):
        start = ensure_utc(start, "interval start")
        end = ensure_utc(end, "interval end")
        if start >= end:
            raise TimeError(f"interval end {end.isoformat()} must be after start {start.isoformat()}")
        self._start = start
        self._end = end

    @classmethod
    def _trusted(cls, start, end) -> "TimeInterval":
        obj = cls.__new__(cls)
        obj._start = start
        obj._end = end
        return obj

    @classmethod
    def all_time(cls) -> "TimeInterval":
        return cls(MIN_DATE, MAX_DATE)

    @classmethod
    def up_to_now(cls) -> "TimeInterval":
        return cls(MIN_DATE, utcnow())

    @classmethod
    def now_minus(cls, weeks=0, days=0, hours=0, minutes=0, seconds=0, milliseconds=0) -> "TimeInterval":
        now = utcnow()
        delta = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds,
                          milliseconds=milliseconds)
        return cls(_shift(now, -delta, "now"), now)

    start = property(lambda self: self._start)
    end = property(lambda self: self._end)

    @property
    def width(self) -> timedelta:
        return self._end - self._start

    def __contains__(self, item) -> bool:
        if isinstance(item, TimeInterval):
            return self._start <= item._start and item._end <= self._end
        if isinstance(item, datetime):
            item = ensure_utc(item, "timestamp")
            return self._start < item <= self._end
        raise TypeError(f"cannot test whether {type(item).__name__} is in a TimeInterval")

    def overlaps(self, other: "TimeInterval") -> bool:
        return self._start < other._end and other._start < self._end

    def intersection(self, other: "TimeInterval") -> "TimeInterval | None":
        s, e = max(self._start, other._start), min(self._end, other._end)
        return TimeInterval._trusted(s, e) if s < e else None

    def __eq__(self, other):
        if not isinstance(other, TimeInterval):
            return NotImplemented
        return self._start == other._start and self._end == other._end

    def __hash__(self):
        return hash((self._start, self._end))

    def __lt__(self, other):
        if not isinstance(other, TimeInterval):
            return NotImplemented
        return (self._start, self._end) < (other._start, other._end)

    def __add__(self, other):
        """``interval + timedelta``: shifted; ``interval + RelativeTimeInterval`` (or a ``(start, end)`` pair of
        offsets): each end moved by its offset, as HyperStream's tools use it; otherwise the union."""
        if isinstance(other, timedelta):
            return TimeInterval(_shift(self._start, other, "interval start"), _shift(self._end, other, "interval end"))
        if isinstance(other, (tuple, list)) and len(other) == 2 and all(_is_relative(v) for v in other):
            other = RelativeTimeInterval(*other)
        if isinstance(other, RelativeTimeInterval):
            return TimeInterval(_shift(self._start, other._start, "interval start"),
                                _shift(self._end, other._end, "interval end"))
        return TimeIntervals([self]) + other

    def __sub__(self, other):
        if isinstance(other, timedelta):
            return TimeInterval(_shift(self._start, -other, "interval start"), _shift(self._end, -other, "interval end"))
        return TimeIntervals([self]) - other

    def __iter__(self):  # allows ``start, end = interval``
        yield self._start
        yield self._end

    def __getitem__(self, i):
        """``interval[0]`` is the start, ``interval[1]`` the end (HyperStream's TimeInterval is a 2-tuple)."""
        return (self._start, self._end)[i]

    def __len__(self):
        return 2

    def to_tuple(self) -> tuple:
        return self._start, self._end

    def to_dict(self) -> dict:
        return {"start": self._start, "end": self._end}

    def __repr__(self):
        return f"TimeInterval(start={self._start!r}, end={self._end!r})"

    def __str__(self):
        return f"({_fmt(self._start)}, {_fmt(self._end)}]"


def _fmt(dt: datetime) -> str:
    if dt == MIN_DATE:
        return "MIN_DATE"
    if dt == MAX_DATE:
        return "MAX_DATE"
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + (f".{dt.microsecond // 1000:03d}" if dt.microsecond else "") + "Z"


def _as_interval_list(value) -> list[TimeInterval]:
    if value is None:
        return []
    if isinstance(value, TimeIntervals):
        return list(value._items)
    if isinstance(value, TimeInterval):
        return [value]
    if isinstance(value, dict) and "start" in value and "end" in value:
        return [TimeInterval(value["start"], value["end"])]
    if isinstance(value, (list, tuple)):
        if len(value) == 2 and all(isinstance(v, datetime) for v in value):
            return [TimeInterval(*value)]
        out = []
        for item in value:
            out.extend(_as_interval_list(item))
        return out
    raise TimeError(f"cannot read {type(value).__name__} {value!r} as time intervals")


class TimeIntervals:
    """A set of disjoint, non-touching ``TimeInterval``s kept sorted.

    Adjacent intervals (one's end is the next one's start) merge, because under
    ``(start, end]`` semantics they cover a contiguous range.
    """

    __slots__ = ("_items",)

    def __init__(self, intervals: Iterable | None = None):
        if type(intervals) is TimeIntervals:   # already normalised, and never changed in place: share its list
            self._items: list[TimeInterval] = intervals._items
            return
        self._items = self._normalise(_as_interval_list(intervals))

    @staticmethod
    def _normalise(items: list[TimeInterval]) -> list[TimeInterval]:
        if not items:
            return []
        items = sorted(items, key=lambda iv: iv._start)
        out = [items[0]]
        for iv in items[1:]:
            last = out[-1]
            if iv._start <= last._end:
                if iv._end > last._end:
                    out[-1] = TimeInterval._trusted(last._start, iv._end)
            else:
                out.append(iv)
        return out

    @classmethod
    def _from_sorted(cls, items):
        obj = cls.__new__(cls)
        obj._items = items
        return obj

    # -- set algebra -------------------------------------------------------
    def __add__(self, other) -> "TimeIntervals":
        return TimeIntervals._from_sorted(self._normalise(self._items + _as_interval_list(other)))

    __or__ = __add__

    def __sub__(self, other) -> "TimeIntervals":
        result = list(self._items)
        for cut in TimeIntervals(other)._items:
            nxt = []
            for iv in result:
                if not iv.overlaps(cut):
                    nxt.append(iv)
                    continue
                if iv._start < cut._start:
                    nxt.append(TimeInterval._trusted(iv._start, cut._start))
                if cut._end < iv._end:
                    nxt.append(TimeInterval._trusted(cut._end, iv._end))
            result = nxt
        return TimeIntervals._from_sorted(result)

    def __and__(self, other) -> "TimeIntervals":
        out = []
        for a in self._items:
            for b in TimeIntervals(other)._items:
                c = a.intersection(b)
                if c is not None:
                    out.append(c)
        return TimeIntervals(out)

    intersection = __and__

    def __contains__(self, item) -> bool:
        if isinstance(item, datetime):
            item = ensure_utc(item, "timestamp")
            i = bisect_left([iv._end for iv in self._items], item)
            return i < len(self._items) and item in self._items[i]
        if isinstance(item, TimeInterval):
            return any(item in iv for iv in self._items)
        raise TypeError(f"cannot test whether {type(item).__name__} is in TimeIntervals")

    # -- properties ---------------------------------------------------------
    @property
    def is_empty(self) -> bool:
        return not self._items

    @property
    def start(self) -> datetime | None:
        return self._items[0]._start if self._items else None

    @property
    def end(self) -> datetime | None:
        return self._items[-1]._end if self._items else None

    @property
    def span(self) -> TimeInterval | None:
        return TimeInterval._trusted(self.start, self.end) if self._items else None

    @property
    def total_width(self) -> timedelta:
        return sum((iv.width for iv in self._items), timedelta(0))

    def gaps(self, within: TimeInterval | None = None) -> "TimeIntervals":
        """The parts of ``within`` (default: the span) not covered."""
        within = within or self.span
        return TimeIntervals([within]) - self if within else TimeIntervals()

    def __iter__(self):
        return iter(self._items)

    # -- HyperStream's list-of-pieces API -------------------------------------
    @property
    def intervals(self) -> list[TimeInterval]:
        """The pieces, in order (a copy; assign a list to replace them)."""
        return list(self._items)

    @intervals.setter
    def intervals(self, value):
        self._items = self._normalise(_as_interval_list(value))

    def split(self, points) -> None:
        """Cut the pieces at each of ``points`` that lies strictly inside one (in place, as HyperStream does).

        The set covered is unchanged; the result keeps touching pieces apart until :meth:`compress`
        or any set operation merges them again."""
        cuts = sorted({ensure_utc(p, "split point") for p in points})
        out = []
        for iv in self._items:
            s = iv._start
            for p in cuts:
                if s < p < iv._end:
                    out.append(TimeInterval._trusted(s, p))
                    s = p
            out.append(TimeInterval._trusted(s, iv._end))
        self._items = out

    def compress(self) -> None:
        """Merge touching pieces again (in place)."""
        self._items = self._normalise(self._items)

    def __len__(self):
        return len(self._items)

    def __getitem__(self, i):
        return self._items[i]

    def __bool__(self):
        return bool(self._items)

    def __eq__(self, other):
        if isinstance(other, TimeIntervals):
            return self._items == other._items
        if isinstance(other, (list, tuple, TimeInterval)):
            return self._items == TimeIntervals(other)._items
        return NotImplemented

    def __hash__(self):
        return hash(tuple(self._items))

    def to_list(self) -> list[dict]:
        """The stored form: ``[{"start": dt, "end": dt}, ...]`` (HyperStream's layout)."""
        return [iv.to_dict() for iv in self._items]

    def describe(self) -> str:
        """Short text for a tree column, e.g. '3 intervals, 12 d'."""
        if not self._items:
            return "none"
        n = len(self._items)
        return f"{n} interval{'s' if n != 1 else ''}, {format_duration(self.total_width)}"

    def __repr__(self):
        return f"TimeIntervals({self._items!r})"

    def __str__(self):
        return "TimeIntervals([" + ", ".join(str(iv) for iv in self._items) + "])"


class RelativeTimeInterval:
    """Offsets ``(start, end]`` relative to a reference time (seconds or timedelta)."""

    __slots__ = ("_start", "_end")

    def __init__(self, start, end):
        self._start = get_timedelta(start)
        self._end = get_timedelta(end)
        if self._start >= self._end:
            raise TimeError(f"relative interval end {self._end} must be after start {self._start}")

    start = property(lambda self: self._start)
    end = property(lambda self: self._end)

    @property
    def width(self) -> timedelta:
        return self._end - self._start

    @property
    def start_seconds(self) -> float:
        """The start offset in seconds (what HyperStream's ``RelativeTimeInterval.start`` gives)."""
        return self._start.total_seconds()

    @property
    def end_seconds(self) -> float:
        return self._end.total_seconds()

    def to_tuple(self) -> tuple:
        return self._start, self._end

    def absolute(self, reference: datetime) -> TimeInterval:
        reference = ensure_utc(reference, "reference time")
        return TimeInterval(_shift(reference, self._start, "reference time"),
                            _shift(reference, self._end, "reference time"))

    def __eq__(self, other):
        return isinstance(other, RelativeTimeInterval) and (self._start, self._end) == (other._start, other._end)

    def __hash__(self):
        return hash((self._start, self._end))

    def __repr__(self):
        return f"RelativeTimeInterval(start={self._start!r}, end={self._end!r})"

    def __str__(self):
        return f"({self._start}, {self._end}]"


def _is_relative(v) -> bool:
    return isinstance(v, (int, float, timedelta)) and not isinstance(v, bool)


def _absolute(v, what) -> datetime:
    if isinstance(v, str):
        return parse_datetime(v)
    return ensure_utc(v, what)


def parse_time_tuple(start, end):
    """Build an interval from two ends given as datetimes, ISO strings, seconds or timedeltas.

    Both absolute -> ``TimeInterval``; both relative -> ``RelativeTimeInterval``;
    one of each -> ``TimeInterval`` with the relative end taken from the absolute one.
    ``None`` start means ``MIN_DATE``; ``None`` end means now. ISO text without
    an offset is read as UTC.
    """
    if start is None:
        start = MIN_DATE
    if end is None:
        end = utcnow()
    if isinstance(start, str) and not _looks_like_date(start):
        start = get_timedelta(start)
    if isinstance(end, str) and not _looks_like_date(end):
        end = get_timedelta(end)
    rs, re_ = _is_relative(start), _is_relative(end)
    if rs and re_:
        return RelativeTimeInterval(start, end)
    if rs:
        e = _absolute(end, "interval end")
        return TimeInterval(_shift(e, get_timedelta(start), "interval end"), e)
    if re_:
        s = _absolute(start, "interval start")
        return TimeInterval(s, _shift(s, get_timedelta(end), "interval start"))
    return TimeInterval(_absolute(start, "interval start"), _absolute(end, "interval end"))


def _looks_like_date(text: str) -> bool:
    t = text.strip()
    return len(t) >= 8 and t[:4].isdigit() and t[4] == "-"


__all__ = ["TimeInterval", "TimeIntervals", "RelativeTimeInterval", "parse_time_tuple", "MIN_DATE", "MAX_DATE",
           "UTC"]
