"""HyperStream's function-taking tools, for scripts that hand them a live function.

The built-in ``apply`` / ``sliding_apply`` take a function *by name* from the registry (so a run can
be recorded and repeated from a form). A HyperStream script hands them a Python function instead,
with HyperStream 0.3.8's calling convention; these classes do what HyperStream's own tools do then:

* ``apply(func, include_timestamps=False)``: ``func(value)`` (or ``func(timestamp, value)``) for every
  instance of the one source;
* ``sliding_apply(func)``: for every window instance of source 1 (a TimeInterval value), ``func`` gets an
  iterator over the StreamInstances of source 2 with ``window.start <= timestamp <= window.end``
  (HyperStream's closed window), at the window instance's timestamp.

Their parameters are exactly HyperStream's, so a committed workflow stores the same parameter list.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import timedelta

from ..errors import ToolParameterError
from ..time_interval import TimeInterval
from ..tools.engine import check_input_stream_count
from ..utils import MIN_DATE, to_ms
from .names import StreamInstance, Tool


def _check_callable(tool, func):
    if not callable(func):
        raise ToolParameterError(tool, "func", f"expected a function, got {func!r}")


_MS = timedelta(milliseconds=1)


class Apply(Tool):
    """HyperStream's ``apply`` with a live function."""

    def __init__(self, func, include_timestamps=False):
        _check_callable("apply", func)
        super().__init__(func=func, include_timestamps=include_timestamps)

    @check_input_stream_count(1)
    def _execute(self, sources, alignment_stream, interval):
        for t, d in sources[0].window(interval).items():
            yield StreamInstance(t, self.func(t, d) if self.include_timestamps else self.func(d))


class SlidingApply(Tool):
    """HyperStream's ``sliding_apply`` with a live function."""

    def __init__(self, func):
        _check_callable("sliding_apply", func)
        super().__init__(func=func)

    @check_input_stream_count(2)
    def _execute(self, sources, alignment_stream, interval):
        windows = list(sources[0].window(interval).items())
        if not windows:
            return
        bounds = [w for _t, w in windows if isinstance(w, TimeInterval)]
        if len(bounds) != len(windows):
            raise ToolParameterError("sliding_apply", "sources", "source 1 must hold windows (TimeInterval values, "
                                     "e.g. from sliding_window)")
        lo = min(w.start for w in bounds)
        hi = max(w.end for w in bounds)
        # [lo, hi]: the data stream's instances at the first window's start count too (closed windows)
        span = TimeInterval(lo - _MS, hi) if lo > MIN_DATE else TimeInterval(MIN_DATE, hi)
        data = [d for d in sources[1].window(span).items() if lo <= d.timestamp <= hi]
        ms = [to_ms(d.timestamp) for d in data]
        for t, w in windows:
            i, j = bisect_left(ms, to_ms(w.start)), bisect_right(ms, to_ms(w.end))
            yield StreamInstance(t, self.func(iter(data[i:j])))

#: tool name -> the class used when a script gives that tool a function
FUNCTION_TOOLS = {"apply": Apply, "sliding_apply": SlidingApply}

__all__ = ["Apply", "SlidingApply", "FUNCTION_TOOLS"]
