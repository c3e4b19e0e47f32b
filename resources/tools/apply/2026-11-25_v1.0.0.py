"""Built-in tool: a named function applied to every instance."""
from __future__ import annotations

from channels.tools.functions import ElementFunctionName, get_function
import numpy as np

from channels.columnar import Columns
from channels.stream import StreamInstance
from channels.tools import Tool, check_input_stream_count


class Apply(Tool):
    """Applies a named per-instance function to each value of the input stream (same timestamps).

    :param func: Name of the function (abs, negate, square, sqrt, log, exp, round, identity, to_float, ...).
    :param drop_none: Skip instances whose result is None (e.g. sqrt of a negative or of text).
    """

    def __init__(self, func: ElementFunctionName = "identity", drop_none: bool = True):
        super().__init__(func=func, drop_none=drop_none)
        self._func = get_function(func, "element")

    def _execute_columns(self, sources, alignment_stream, interval):
        if not sources or len(sources) != 1:
            return None  # _execute raises the input-count error
        cols = sources[0].channel.get_typed_columns(sources[0], interval)
        if cols is None:
            return None
        if cols.kind == "datetime" and self._func.name == "epoch_seconds":
            # exactly timedelta.total_seconds(): float(microseconds) / 1e6
            return Columns(cols.ms, "float", (cols.values * 1000).astype(np.float64) / 1e6)
        if cols.kind != "float":
            return None
        f = self._func
        out = [f(v) for v in cols.values.tolist()]
        ms = cols.ms
        if any(v is None for v in out):
            if not self.drop_none:
                return None
            keep = np.array([v is not None for v in out], dtype=bool)
            ms = ms[keep]
            out = [v for v in out if v is not None]
        if any(type(v) is not float for v in out):
            return None
        return Columns(ms, "float", np.array(out, dtype=np.float64))

    @check_input_stream_count(1)
    def _execute(self, sources, alignment_stream, interval):
        f = self._func
        for ts, value in sources[0].window(interval):
            out = f(value)
            if out is None and self.drop_none:
                continue
            yield StreamInstance._make((ts, out))
