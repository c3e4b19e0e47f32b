"""Built-in tool: uniform random numbers at a fixed stride."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from channels.errors import TimeError, ToolParameterError
from channels.functions import hashed_uniform
from channels.stream import StreamInstance
from channels.tool import Tool, check_input_stream_count, stride_ms, tick_range
from channels.utils import MIN_DATE, ensure_utc, from_ms


class Uniform(Tool):
    """Uniformly distributed numbers in ``[low, high)``, one per tick.

    Ticks are at ``first + k * stride``. The number at a tick depends only on ``seed`` and
    the tick's time, so the same seed gives the same stream however the interval is split.

    :param low: Lower bound (included).
    :param high: Upper bound (excluded); must be above low.
    :param seed: Random seed (a non-negative integer).
    :param stride: Time between values.
    :param first: Time of the first tick.
    """

    def __init__(self, low: float = 0.0, high: float = 1.0, seed: int = 0, stride: timedelta = timedelta(seconds=1),
                 first: datetime = MIN_DATE):
        super().__init__(low=low, high=high, seed=seed, stride=stride, first=first)
        for name, v in (("low", low), ("high", high)):
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise ToolParameterError("uniform", name, f"must be a number, got {v!r}")
        if not high > low:
            raise ToolParameterError("uniform", "high", f"must be above low ({low!r}), got {high!r}")
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ToolParameterError("uniform", "seed", f"must be a non-negative integer, got {seed!r}")
        try:
            self._first = ensure_utc(first, "first")
        except TimeError as e:
            raise ToolParameterError("uniform", "first", str(e)) from None
        self._stride_ms = stride_ms("uniform", "stride", stride)

    @check_input_stream_count(0)
    def _execute(self, sources, alignment_stream, interval):
        ticks = tick_range(self._first, self._stride_ms, interval)
        if not ticks:
            return
        ms = np.arange(ticks.start, ticks.stop, ticks.step, dtype=np.int64)
        values = self.low + (self.high - self.low) * hashed_uniform(self.seed, ms)
        values = np.minimum(values, np.nextafter(float(self.high), float(self.low))).tolist()  # never == high
        for t, v in zip(ticks, values):
            yield StreamInstance._make((from_ms(t), v))
