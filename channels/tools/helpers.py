"""Building blocks for tool implementations: ticks of source tools, durations in ms, windowed apply."""
from __future__ import annotations

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

    @check_input_stream_count(0)
    def _execute(self, sources, alignment_stream, interval):
        ticks = tick_range(self._first, self._stride_ms, interval)
        if not ticks:
            return
        values = self._tick_values(np.arange(ticks.start, ticks.stop, ticks.step, dtype=np.int64))
        for t, v in zip(ticks, values):
            yield StreamInstance._make((from_ms(t), v))


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



__all__ = ["tick_range", "stride_ms", "TickTool", "apply_over_windows"]
