"""Built-in tool: a named function applied to every instance."""
from __future__ import annotations

from channels.tools.functions import ElementFunctionName, get_function
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

    @check_input_stream_count(1)
    def _execute(self, sources, alignment_stream, interval):
        f = self._func
        for ts, value in sources[0].window(interval):
            out = f(value)
            if out is None and self.drop_none:
                continue
            yield StreamInstance._make((ts, out))
