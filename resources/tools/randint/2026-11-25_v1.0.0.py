"""Built-in tool: random integers at a fixed stride."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from channels.errors import TimeError, ToolParameterError
from channels.functions import hashed_uniform
from channels.stream import StreamInstance
from channels.tool import Tool, check_input_stream_count, stride_ms, tick_range
from channels.utils import MIN_DATE, ensure_utc, from_ms


class Randint(Tool):
    """Uniformly distributed integers from ``low`` to ``high`` inclusive, one per tick.

    Ticks are at ``first + k * stride``. The number at a tick depends only on ``seed`` and
    the tick's time, so the same seed gives the same stream however the interval is split.

    :param low: Smallest value (included).
    :param high: Largest value (included); must be >= low.
    :param seed: Random seed (a non-negative integer).
    :param stride: Time between values.
    :param first: Time of the first tick.
    """

    def __init__(self, low: int = 0, high: int = 9, seed: int = 0, stride: timedelta = timedelta(seconds=1),
                 first: datetime = MIN_DATE):
        super().__init__(low=low, high=high, seed=seed, stride=stride, first=first)
        for name, v in (("low", low), ("high", high)):
            if not isinstance(v, int) or isinstance(v, bool):
                raise ToolParameterError("randint", name, f"must be an integer, got {v!r}")
        if high < low:
            raise ToolParameterError("randint", "high", f"must be >= low ({low!r}), got {high!r}")
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ToolParameterError("randint", "seed", f"must be a non-negative integer, got {seed!r}")
        try:
            self._first = ensure_utc(first, "first")
        except TimeError as e:
            raise ToolParameterError("randint", "first", str(e)) from None
        self._stride_ms = stride_ms("randint", "stride", stride)

    @check_input_stream_count(0)
    def _execute(self, sources, alignment_stream, interval):
        ticks = tick_range(self._first, self._stride_ms, interval)
        if not ticks:
            return
        ms = np.arange(ticks.start, ticks.stop, ticks.step, dtype=np.int64)
        n = self.high - self.low + 1
        idx = np.minimum((hashed_uniform(self.seed, ms) * n).astype(np.int64), n - 1)
        for t, v in zip(ticks, (self.low + idx).tolist()):
            yield StreamInstance._make((from_ms(t), int(v)))
