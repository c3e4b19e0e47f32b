"""Built-in tool: a clock that ticks at a fixed stride."""
from __future__ import annotations

from datetime import datetime, timedelta

from channels.columnar import Columns
from channels.tools import TickTool
from channels.utils import MIN_DATE, from_ms


class Clock(TickTool):
    """Ticks every ``stride`` from ``first``; each instance's value is its own timestamp (as in HyperStream).

    Ticks are at ``first + k * stride`` for k = 0, 1, 2, ...; those inside the requested
    interval ``(start, end]`` are produced. No input streams.

    :param first: Time of the first tick (UTC).
    :param stride: Time between ticks (seconds, or text such as '1s', '5m').
    """

    def __init__(self, first: datetime = MIN_DATE, stride: timedelta = timedelta(seconds=1)):
        super().__init__(first=first, stride=stride)
        self._set_ticks(first, stride)

    def _tick_values(self, ms):
        return [from_ms(t) for t in ms.tolist()]

    def _tick_columns(self, ms):
        return Columns(ms, "datetime", ms)
