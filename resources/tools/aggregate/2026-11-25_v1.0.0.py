"""Built-in tool: a named aggregate function over the data inside each window."""
from __future__ import annotations

from channels.errors import IncorrectInputCountError
from channels.tools.functions import AggregateFunctionName, get_function
from channels.tools import Tool, apply_over_windows, windows_aggregate_columns


class Aggregate(Tool):
    """Applies a named aggregate function to the values of the input stream inside each window.

    Input stream 1 holds the data. The windows are the instances of the alignment stream
    (values are TimeIntervals, e.g. from ``sliding_window``), or of a second input stream
    when no alignment stream is given. One output instance per window, at the window
    instance's timestamp (the window end for ``sliding_window``), valued
    ``func(values in (window.start, window.end])``.

    :param func: Name of the aggregate function (mean, sum, min, max, median, std, var, count, first, last, range).
    :param include_empty: Also write windows whose result is None (e.g. the mean of an empty window).
    """

    #: the inputs are checked in ``_execute`` (two alternatives, so no ``check_input_stream_count``)
    inputs_doc = "1 data stream + windows as alignment stream, or 2 streams: data, windows"

    def __init__(self, func: AggregateFunctionName = "mean", include_empty: bool = False):
        super().__init__(func=func, include_empty=include_empty)
        self._func = get_function(func, "aggregate")

    def _execute_columns(self, sources, alignment_stream, interval):
        sources = sources or []
        if alignment_stream is not None and len(sources) == 1:
            data, windows = sources[0], alignment_stream
        elif alignment_stream is None and len(sources) == 2:
            data, windows = sources
        else:
            return None  # _execute raises the input error
        return windows_aggregate_columns(windows, data, interval, self._func, self.include_empty)

    def _execute(self, sources, alignment_stream, interval):
        sources = sources or []
        if alignment_stream is not None and len(sources) == 1:
            data, windows = sources[0], alignment_stream
        elif alignment_stream is None and len(sources) == 2:
            data, windows = sources
        else:
            raise IncorrectInputCountError(
                f"tool 'aggregate' expects 1 input stream plus an alignment (window) stream, or 2 input streams "
                f"(data, windows); got {len(sources)} input stream(s) and "
                f"{'an' if alignment_stream is not None else 'no'} alignment stream")
        yield from apply_over_windows(self.name, windows.window(interval), data, self._func, self.include_empty)
