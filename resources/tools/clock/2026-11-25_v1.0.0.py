"""Built-in tool: a clock that ticks at a fixed stride."""
from __future__ import annotations

from datetime import datetime, timedelta

from channels.errors import TimeError, ToolParameterError
from channels.stream import StreamInstance
from channels.tool import Tool, check_input_stream_count, stride_ms, tick_range
from channels.utils import MIN_DATE, ensure_utc, from_ms


class Clock(Tool):
    """Ticks every ``stride`` from ``first``; each instance's value is its own timestamp (as in HyperStream).

    Ticks are at ``first + k * stride`` for k = 0, 1, 2, ...; those inside the requested
    interval ``(start, end]`` are produced. No input streams.

    :param first: Time of the first tick (UTC).
    :param stride: Time between ticks (seconds, or text such as '1s', '5m').
    """

    def __init__(self, first: datetime = MIN_DATE, stride: timedelta = timedelta(seconds=1)):
        super().__init__(first=first, stride=stride)
        try:
            self._first = ensure_utc(first, "first")
        except TimeError as e:
            raise ToolParameterError("clock", "first", str(e)) from None
        self._stride_ms = stride_ms("clock", "stride", stride)

    @check_input_stream_count(0)
    def _execute(self, sources, alignment_stream, interval):
        for ms in tick_range(self._first, self._stride_ms, interval):
            t = from_ms(ms)
            yield StreamInstance._make((t, t))
