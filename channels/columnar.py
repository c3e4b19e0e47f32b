"""Columnar batches: epoch-ms timestamps and float64 values as numpy arrays, without StreamInstance objects.

``check_arrays`` validates a batch for ``insert_arrays`` (stores and channels) with vectorised checks and
clear errors: both arrays one-dimensional and of the same length, integer timestamps strictly increasing
(no duplicates, no disorder within the batch), inside ``MIN_DATE .. MAX_DATE`` and not in the future, values
numeric.

``instances_from_arrays`` turns such a batch into StreamInstances (trusted: already validated).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from itertools import repeat
from operator import floordiv, sub

import numpy as np

from .errors import TimeError, ValueEncodingError
from .utils import EPOCH, MAX_DATE, MIN_DATE, from_ms, to_ms, utcnow

MIN_MS = to_ms(MIN_DATE)
MAX_MS = to_ms(MAX_DATE)


def check_arrays(stream_id, ms, values):
    """``(ms int64 ndarray, values float64 ndarray)`` of a valid columnar batch for ``stream_id``; raise otherwise."""
    where = f"stream {stream_id}"
    ms_a = np.asarray(ms)
    v_a = np.asarray(values)
    if ms_a.ndim != 1 or v_a.ndim != 1:
        raise ValueEncodingError(f"{where}: insert_arrays needs one-dimensional arrays, got timestamps of shape "
                                 f"{ms_a.shape} and values of shape {v_a.shape}; nothing was written")
    if len(ms_a) != len(v_a):
        raise ValueEncodingError(f"{where}: insert_arrays got {len(ms_a)} timestamps but {len(v_a)} values "
                                 f"(arrays of different lengths); nothing was written")
    if len(ms_a) and ms_a.dtype.kind not in "iu":
        raise TimeError(f"{where}: timestamps must be an integer array of epoch milliseconds, got dtype "
                        f"{ms_a.dtype}; nothing was written")
    if len(v_a) and (v_a.dtype.kind not in "iuf" or v_a.dtype == np.float16):
        raise ValueEncodingError(f"{where}: values must be a numeric array (converted to float64), got dtype "
                                 f"{v_a.dtype}; nothing was written")
    ms_a = np.ascontiguousarray(ms_a, dtype=np.int64)
    v_a = np.ascontiguousarray(v_a, dtype=np.float64)
    n = len(ms_a)
    if n == 0:
        return ms_a, v_a
    if n > 1:
        d = np.diff(ms_a)
        bad = np.flatnonzero(d <= 0)
        if len(bad):
            i = int(bad[0]) + 1
            what = "a duplicate timestamp" if d[bad[0]] == 0 else "a timestamp before the previous one"
            raise TimeError(f"{where}: item {i} of the batch has {what} ({_iso(ms_a[i])} after "
                            f"{_iso(ms_a[i - 1])}); insert_arrays needs strictly increasing timestamps; "
                            f"nothing was written")
    lo, hi = int(ms_a[0]), int(ms_a[-1])
    if lo < MIN_MS or hi > MAX_MS:
        bad_ms = lo if lo < MIN_MS else hi
        raise TimeError(f"{where}: timestamp {bad_ms} ms is outside the representable range "
                        f"{MIN_DATE.isoformat()} .. {MAX_DATE.isoformat()}; nothing was written")
    if hi > to_ms(utcnow()):
        raise TimeError(f"{where}: instance timestamp {from_ms(hi).isoformat()} is in the future; "
                        f"nothing of this batch was written")
    return ms_a, v_a


def _iso(ms) -> str:
    try:
        return from_ms(int(ms)).isoformat()
    except (OverflowError, ValueError):
        return f"{int(ms)} ms"


def instances_from_arrays(ms, values) -> list:
    """StreamInstances of a validated batch (no per-instance checks)."""
    from .stream import StreamInstance
    new, si, add, td = tuple.__new__, StreamInstance, EPOCH.__add__, timedelta
    return [new(si, (add(td(0, 0, 0, t)), v)) for t, v in zip(ms.tolist(), values.tolist())]


__all__ = ["check_arrays", "instances_from_arrays", "MIN_MS", "MAX_MS"]


# -- typed columns (the columnar path of tools) -------------------------------------------------------------------
KINDS = ("float", "datetime", "interval", "int", "record")
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1


class Columns:
    """A batch of instances as arrays: ``ms`` (int64 epoch ms, strictly increasing) and the values by ``kind``.

    * ``"float"``: ``values`` float64 -- each value a Python float;
    * ``"int"``: ``values`` int64 -- each value a Python int;
    * ``"datetime"``: ``values`` int64 epoch ms -- each value an aware UTC datetime;
    * ``"interval"``: ``starts`` and ``values`` int64 epoch ms -- each value ``TimeInterval(start, end)`` with
      ``end = values``;
    * ``"record"``: ``values`` a tuple of float64/int64 arrays, one per field -- each value the dict
      ``{names[i]: values[i][k]}``, or the list ``[values[0][k], values[1][k], ...]`` when ``names`` is None.
    """

    __slots__ = ("ms", "kind", "values", "starts", "names")

    def __init__(self, ms, kind: str, values, starts=None, names=None):
        if kind not in KINDS:
            raise ValueError(f"column kind must be one of {', '.join(KINDS)}, got {kind!r}")
        self.ms = np.asarray(ms, dtype=np.int64)
        self.kind = kind
        self.names = None
        if kind == "record":
            fields = tuple(np.asarray(a) for a in values)
            if not fields or any(a.dtype not in (np.float64, np.int64) for a in fields):
                raise ValueError("record columns need one or more float64/int64 arrays")
            if names is not None:
                names = tuple(names)
                if len(names) != len(fields):
                    raise ValueError(f"record columns have {len(fields)} fields but {len(names)} names")
            self.values, self.names = fields, names
            if any(len(a) != len(self.ms) for a in fields):
                raise ValueError("columns of different lengths")
            self.starts = None
            return
        self.values = np.asarray(values, dtype=np.float64 if kind == "float" else np.int64)
        self.starts = None if starts is None else np.asarray(starts, dtype=np.int64)
        if len(self.values) != len(self.ms) or (kind == "interval" and (self.starts is None or
                                                                        len(self.starts) != len(self.ms))):
            raise ValueError("columns of different lengths")

    def __len__(self):
        return len(self.ms)

    def _take(self, key) -> "Columns":
        if self.kind == "record":
            return Columns(self.ms[key], "record", [a[key] for a in self.values], names=self.names)
        return Columns(self.ms[key], self.kind, self.values[key], None if self.starts is None else self.starts[key])

    def slice(self, i: int, j: int) -> "Columns":
        return self._take(slice(i, j))

    def select(self, mask) -> "Columns":
        return self._take(mask)

    def python_values(self) -> list:
        """The values as the Python objects the instances hold."""
        if self.kind in ("float", "int"):
            return self.values.tolist()
        if self.kind == "datetime":
            return _datetimes(self.values)
        if self.kind == "record":
            rows = zip(*[a.tolist() for a in self.values])
            if self.names is None:
                return list(map(list, rows))
            names = self.names
            return [dict(zip(names, r)) for r in rows]
        from .time_interval import TimeInterval
        make = TimeInterval._trusted
        return [make(a, b) for a, b in zip(_datetimes(self.starts), _datetimes(self.values))]

    def instances(self) -> list:
        """StreamInstances (trusted: no per-instance checks)."""
        from .stream import StreamInstance
        new, si = tuple.__new__, StreamInstance
        ts = _datetimes(self.ms)
        if self.kind == "datetime" and np.array_equal(self.ms, self.values):
            return [new(si, (t, t)) for t in ts]  # e.g. a clock: the value is the timestamp itself
        return [new(si, p) for p in zip(ts, self.python_values())]

    def __repr__(self):
        return f"Columns({len(self)} {self.kind} instances)"


def _datetimes(ms) -> list:
    add, td = EPOCH.__add__, timedelta
    return [add(td(0, 0, 0, t)) for t in ms.tolist()]


def columns_from_instances(instances):
    """Columns of StreamInstances whose values are all floats, all ints within int64, all aware datetimes or all
    TimeIntervals; None otherwise (e.g. mixed types, bools, dicts)."""
    from .time_interval import TimeInterval
    n = len(instances)
    ts = [i[0] for i in instances]
    vals = [i[1] for i in instances]
    types = set(map(type, vals))
    ms = _ms_of(ts)
    if n == 0:
        return Columns(ms, "float", np.zeros(0))
    if types == {float}:
        return Columns(ms, "float", np.fromiter(vals, dtype=np.float64, count=n))
    if types == {int}:
        if min(vals) < INT64_MIN or max(vals) > INT64_MAX:
            return None
        return Columns(ms, "int", np.fromiter(vals, dtype=np.int64, count=n))
    if types == {datetime}:
        if any(v.tzinfo is None for v in vals):
            return None
        same = vals[0] is ts[0] and all(map(_is, vals, ts))  # a clock: values are the timestamps
        return Columns(ms, "datetime", ms if same else _ms_of(vals))
    if len(types) == 1 and issubclass(next(iter(types)), TimeInterval):
        return Columns(ms, "interval", _ms_of([v.end for v in vals]), _ms_of([v.start for v in vals]))
    return None


def _is(a, b):
    return a is b


def _ms_of(datetimes) -> np.ndarray:
    """Epoch ms of aware datetimes (C-level maps: subtract the epoch, floor-divide by 1 ms)."""
    return np.fromiter(map(floordiv, map(sub, datetimes, repeat(EPOCH)), repeat(_ONE_MS)), dtype=np.int64,
                       count=len(datetimes))


_ONE_MS = timedelta(milliseconds=1)


def can_concat(a: Columns, b: Columns) -> bool:
    """True when ``b`` can follow ``a`` in one Columns (same kind; records: same names and field types)."""
    if a.kind != b.kind:
        return False
    if a.kind != "record":
        return True
    return a.names == b.names and [x.dtype for x in a.values] == [y.dtype for y in b.values]


def concat_columns(a: Columns, b: Columns) -> Columns:
    """``a`` then ``b`` (see :func:`can_concat`)."""
    ms = np.concatenate((a.ms, b.ms))
    if a.kind == "record":
        return Columns(ms, "record", [np.concatenate(p) for p in zip(a.values, b.values)], names=a.names)
    return Columns(ms, a.kind, np.concatenate((a.values, b.values)),
                   None if a.starts is None else np.concatenate((a.starts, b.starts)))


__all__ += ["Columns", "columns_from_instances", "concat_columns", "can_concat", "KINDS"]
