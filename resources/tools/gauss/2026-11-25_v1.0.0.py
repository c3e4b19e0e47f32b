"""Built-in tool: Gaussian random numbers at a fixed stride."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from channels.columnar import Columns
from channels.errors import ToolParameterError
from channels.tools.functions import hashed_uniform
from channels.tools import TickTool
from channels.utils import MIN_DATE


class Gauss(TickTool):
    """Normally distributed numbers with mean ``mu`` and standard deviation ``sigma``, one per tick.

    Ticks are at ``first + k * stride``. The number at a tick depends only on ``seed`` and
    the tick's time, so the same seed gives the same stream however the interval is split.

    :param mu: Mean.
    :param sigma: Standard deviation (>= 0).
    :param seed: Random seed (a non-negative integer).
    :param stride: Time between values.
    :param first: Time of the first tick.
    """

    def __init__(self, mu: float = 0.0, sigma: float = 1.0, seed: int = 0, stride: timedelta = timedelta(seconds=1),
                 first: datetime = MIN_DATE):
        super().__init__(mu=mu, sigma=sigma, seed=seed, stride=stride, first=first)
        if not isinstance(sigma, (int, float)) or isinstance(sigma, bool) or sigma < 0:
            raise ToolParameterError("gauss", "sigma", f"must be a number >= 0, got {sigma!r}")
        if not isinstance(mu, (int, float)) or isinstance(mu, bool):
            raise ToolParameterError("gauss", "mu", f"must be a number, got {mu!r}")
        self._check_seed(seed)
        self._set_ticks(first, stride)

    def _tick_array(self, ms):
        u1 = 1.0 - hashed_uniform(self.seed, ms, lane=1)  # (0, 1]
        u2 = hashed_uniform(self.seed, ms, lane=2)
        z = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)  # Box-Muller
        return self.mu + self.sigma * z

    def _tick_values(self, ms):
        return self._tick_array(ms).tolist()

    def _tick_columns(self, ms):
        return Columns(ms, "float", self._tick_array(ms))
