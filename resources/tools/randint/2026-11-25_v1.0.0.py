"""Built-in tool: random integers at a fixed stride."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from channels.columnar import INT64_MAX, INT64_MIN, Columns
from channels.errors import ToolParameterError
from channels.tools.functions import hashed_uniform
from channels.tools import TickTool
from channels.utils import MIN_DATE


class Randint(TickTool):
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
        self._check_seed(seed)
        self._set_ticks(first, stride)

    def _tick_values(self, ms):
        n = self.high - self.low + 1
        idx = np.minimum((hashed_uniform(self.seed, ms) * n).astype(np.int64), n - 1)
        return (self.low + idx).tolist()

    def _tick_columns(self, ms):
        if not (INT64_MIN <= self.low and self.high <= INT64_MAX and self.high - self.low < INT64_MAX):
            return None  # beyond int64: the instance path (and its error)
        n = self.high - self.low + 1
        idx = np.minimum((hashed_uniform(self.seed, ms) * n).astype(np.int64), n - 1)
        return Columns(ms, "int", self.low + idx)  # the arithmetic of _tick_values, kept as int64
