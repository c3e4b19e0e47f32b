"""Building blocks for tool implementations: ticks of source tools, durations in ms, windowed apply."""
from __future__ import annotations

import math
from bisect import bisect_right
from datetime import datetime

import numpy as np

from ..errors import TimeError, ToolExecutionError, ToolParameterError
from ..stream import StreamInstance
from ..time_interval import TimeInterval
from ..utils import ensure_utc, from_ms, get_timedelta, to_ms
from .engine import Tool, check_input_stream_count

# -- helpers for tool implementations ------------------------------------------------------------------------
def tick_range(first: datetime, stride_ms: int, interval) -> range:
    """Epoch-ms of the ticks ``first + k * stride`` (k >= 0) with ``start < tick <= end``."""
    f, a, b = to_ms(first), to_ms(interval.start), to_ms(interval.end)
    if b < f:
        return range(0)
    k0 = 0 if a < f else (a - f) // stride_ms + 1
    k1 = (b - f) // stride_ms
    return range(f + k0 * stride_ms, f + k1 * stride_ms + 1, stride_ms)


def stride_ms(tool_name: str, parameter: str, value) -> int:
    """A positive duration parameter in whole milliseconds (ToolParameterError otherwise)."""
    try:
        td = get_timedelta(value)
    except TimeError as e:
        raise ToolParameterError(tool_name, parameter, str(e)) from None
    ms = int(round(td.total_seconds() * 1000))
    if ms < 1:
        raise ToolParameterError(tool_name, parameter, f"must be a positive duration of at least 1 ms, got {value!r}")
    return ms


class TickTool(Tool):
    """Base of the source tools (no inputs) that write one instance per tick ``first + k * stride``.

    Subclasses call :meth:`_set_ticks` (and :meth:`_check_seed` when random) in
    ``__init__`` and implement :meth:`_tick_values`, which maps the ticks of a
    chunk (epoch-ms int64 array) to their values — vectorised, and a function
    of the tick time only, so results do not depend on how a run is chunked.
    """

    def _set_ticks(self, first, stride) -> None:
        try:
            self._first = ensure_utc(first, "first")
        except TimeError as e:
            raise ToolParameterError(self.name, "first", str(e)) from None
        self._stride_ms = stride_ms(self.name, "stride", stride)

    def _check_seed(self, seed) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ToolParameterError(self.name, "seed", f"must be a non-negative integer, got {seed!r}")

    def _tick_values(self, ms: np.ndarray) -> list:
        raise NotImplementedError

    def _tick_columns(self, ms: np.ndarray):
        """Columnar :meth:`_tick_values`: a Columns of the ticks, or None (then ``_execute`` runs)."""
        return None

    def _execute_columns(self, sources, alignment_stream, interval):
        if sources:
            return None  # let _execute raise the input-count error
        return self._tick_columns(tick_ms(self._first, self._stride_ms, interval))

    @check_input_stream_count(0)
    def _execute(self, sources, alignment_stream, interval):
        ticks = tick_range(self._first, self._stride_ms, interval)
        if not ticks:
            return
        values = self._tick_values(np.arange(ticks.start, ticks.stop, ticks.step, dtype=np.int64))
        for t, v in zip(ticks, values):
            yield StreamInstance._make((from_ms(t), v))


def tick_ms(first: datetime, stride_ms_: int, interval) -> np.ndarray:
    """:func:`tick_range` as an int64 array."""
    r = tick_range(first, stride_ms_, interval)
    return np.arange(r.start, r.stop, r.step, dtype=np.int64) if r else np.zeros(0, np.int64)


#: registry functions the columnar aggregate computes itself on datetime data (float data: the function is
#: called on each window's list of floats, so results are those of the instance path by construction)
_DT_AGGREGATES = ("mean", "min", "max", "first", "last")


#: for float windows without NaN, what the registry functions compute once their numeric filter has kept every
#: value (see channels.tools.functions: mean = fsum / n, sum = fsum, min/max); None for an empty window
_FLOAT_AGGREGATES = {
    "mean": lambda xs: math.fsum(xs) / len(xs),
    "sum": math.fsum,
    "min": min,
    "max": max,
}


def aggregate_columns(windows, data, func, include_empty: bool = False):
    """Columnar :func:`apply_over_windows` for a registry function: ``windows`` interval Columns, ``data``
    Columns; returns Columns of the results, or None when this cannot be done column-wise with results equal
    to the instance path (the engine then runs ``_execute``)."""
    from ..columnar import Columns
    if windows is None or data is None or windows.kind != "interval" or data.kind not in ("float", "datetime"):
        return None
    i = np.searchsorted(data.ms, windows.starts, side="right")
    j = np.searchsorted(data.ms, windows.values, side="right")
    name = getattr(func, "name", None)
    if data.kind == "datetime":
        if name not in _DT_AGGREGATES:
            return None
        empty = j <= i
        if include_empty and empty.any():
            return None  # None values are not a datetime column
        keep = ~empty
        out_ms, i, j = windows.ms[keep], i[keep], j[keep]
        v = data.values
        if len(i) == 0:
            res = np.zeros(0, np.int64)
        elif name == "first":
            res = v[i]
        elif name == "last":
            res = v[j - 1]
        elif name in ("min", "max"):
            red = np.minimum if name == "min" else np.maximum
            res = np.array([red.reduce(v[a:b]) for a, b in zip(i.tolist(), j.tolist())], dtype=np.int64)
        else:  # mean, rounded as the registry does: (2 * sum + n) // (2 * n), exactly, relative to an offset
            base = int(v[0])
            c = np.concatenate(([0], np.cumsum(v - base)))
            s_, n_ = c[j] - c[i], (j - i)
            res = base + (2 * s_ + n_) // (2 * n_)
        return Columns(out_ms, "datetime", res)
    vals = data.values.tolist()
    fast = _FLOAT_AGGREGATES.get(name) if not np.isnan(data.values).any() else None
    if fast is not None:  # no NaN: the registry function's own arithmetic on the window's floats, minus its filtering
        res = [fast(vals[a:b]) if b > a else None for a, b in zip(i.tolist(), j.tolist())]
    else:
        res = [func(vals[a:b]) for a, b in zip(i.tolist(), j.tolist())]
    out_ms = windows.ms
    if any(r is None for r in res):
        if include_empty:
            return None
        sel = np.array([r is not None for r in res], dtype=bool)
        out_ms = out_ms[sel]
        res = [r for r in res if r is not None]
    if any(type(r) is not float for r in res):
        return None
    return Columns(out_ms, "float", np.array(res, dtype=np.float64))


def windows_aggregate_columns(windows_stream, data_stream, interval, func, include_empty: bool = False):
    """The columnar path of window tools: read the windows of ``interval`` and the data they cover as Columns
    (None if either channel cannot) and run :func:`aggregate_columns`."""
    from ..columnar import Columns
    wins = windows_stream.channel.get_typed_columns(windows_stream, interval)
    if wins is None or wins.kind != "interval" and len(wins):
        return None
    if len(wins) == 0:
        return Columns(np.zeros(0, np.int64), "float", np.zeros(0))
    lo, hi = int(wins.starts.min()), int(wins.values.max())
    data = data_stream.channel.get_typed_columns(data_stream, TimeInterval._trusted(from_ms(lo), from_ms(hi)))
    return aggregate_columns(wins, data, func, include_empty)


def apply_over_windows(tool_name: str, windows, data_stream, func, include_empty: bool = False):
    """Yield ``(window timestamp, func(values of data_stream inside the window))`` for each window instance.

    ``windows`` are StreamInstances whose values are TimeIntervals (e.g. from ``sliding_window``);
    the data of all windows is read in one go and located by bisection. Results that are None
    are skipped unless ``include_empty``.
    """
    windows = list(windows)
    if not windows:
        return
    for ts, w in windows:
        if not isinstance(w, TimeInterval):
            raise ToolExecutionError(f"tool {tool_name!r}: window instance at {ts.isoformat()} has value {w!r}; "
                                     f"expected a TimeInterval (e.g. from the sliding_window tool)")
    lo = min(w.start for _, w in windows)
    hi = max(w.end for _, w in windows)
    data = data_stream.window(TimeInterval._trusted(lo, hi)).items()
    ms = [to_ms(d.timestamp) for d in data]
    vals = [d.value for d in data]
    for ts, w in windows:
        i = bisect_right(ms, to_ms(w.start))
        j = bisect_right(ms, to_ms(w.end))
        v = func(vals[i:j])
        if v is None and not include_empty:
            continue
        yield StreamInstance._make((ts, v))



__all__ = ["tick_range", "tick_ms", "stride_ms", "TickTool", "apply_over_windows", "aggregate_columns",
           "windows_aggregate_columns"]
