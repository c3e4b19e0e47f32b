"""Built-in tool: uniform random numbers at a fixed stride."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from channels.columnar import Columns
from channels.errors import ToolParameterError
from channels.tools.functions import hashed_uniform
from channels.tools import TickTool
from channels.utils import MIN_DATE


class Uniform(TickTool):
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
        self._check_seed(seed)
        self._set_ticks(first, stride)

    def _tick_array(self, ms):
        values = self.low + (self.high - self.low) * hashed_uniform(self.seed, ms)
        return np.minimum(values, np.nextafter(float(self.high), float(self.low)))  # never == high

    def _tick_values(self, ms):
        return self._tick_array(ms).tolist()

    def _tick_columns(self, ms):
        return Columns(ms, "float", self._tick_array(ms))
