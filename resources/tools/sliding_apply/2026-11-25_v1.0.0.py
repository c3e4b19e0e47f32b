"""Built-in tool: HyperStream's sliding_apply with a named function."""
from __future__ import annotations

from channels.tools.functions import AggregateFunctionName, get_function
from channels.tools import Tool, apply_over_windows, check_input_stream_count, windows_aggregate_columns


class SlidingApply(Tool):
    """Applies a named aggregate function to the instances of input stream 2 inside each window of input stream 1.

    As HyperStream's ``sliding_apply``: input stream 1 holds the windows (TimeInterval values, e.g.
    from ``sliding_window``), input stream 2 the data. One output instance per window, at the
    window instance's timestamp.

    :param func: Name of the aggregate function (mean, sum, min, max, median, std, var, count, first, last, range).
    :param include_empty: Also write windows whose result is None.
    """

    def __init__(self, func: AggregateFunctionName = "mean", include_empty: bool = False):
        super().__init__(func=func, include_empty=include_empty)
        self._func = get_function(func, "aggregate")

    def _execute_columns(self, sources, alignment_stream, interval):
        if not sources or len(sources) != 2:
            return None  # _execute raises the input-count error
        windows, data = sources
        return windows_aggregate_columns(windows, data, interval, self._func, self.include_empty)

    @check_input_stream_count(2)
    def _execute(self, sources, alignment_stream, interval):
        windows, data = sources
        yield from apply_over_windows(self.name, windows.window(interval), data, self._func, self.include_empty)
