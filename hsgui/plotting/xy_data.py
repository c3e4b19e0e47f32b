"""Pairing two streams on time for an XY pane. Pure numpy; runs inside jobs, no widgets here.

Each X instance is paired with the latest Y instance at or before its timestamp,
provided that Y is no older than ``tolerance`` (default: the median spacing of Y,
so equal timestamps always pair). X instances with no such Y, or whose X or Y
value is NaN, are dropped and counted.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class XYPairs:
    """The aligned points: ``x[i]`` and ``y[i]`` were read at (or, for Y, just before) ``t[i]``."""

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    dropped: int

    @property
    def paired(self) -> int:
        return int(self.x.size)


def median_spacing(times) -> float:
    """Median gap between consecutive timestamps; 0.0 for fewer than two."""
    t = np.asarray(times, dtype=np.float64)
    if t.size < 2:
        return 0.0
    return float(np.median(np.diff(np.sort(t))))


def _column(name: str, values) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def align(x_times, x_values, y_times, y_values, tolerance: float | None = None) -> XYPairs:
    """Pair X with the latest Y at or before each X timestamp, within ``tolerance`` (same unit as the times)."""
    xt, xv = _column("x_times", x_times), _column("x_values", x_values)
    yt, yv = _column("y_times", y_times), _column("y_values", y_values)
    if xt.size != xv.size:
        raise ValueError(f"x_times has {xt.size} entries but x_values has {xv.size}")
    if yt.size != yv.size:
        raise ValueError(f"y_times has {yt.size} entries but y_values has {yv.size}")
    if tolerance is None:
        tolerance = median_spacing(yt)
    if tolerance < 0 or np.isnan(tolerance):
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    empty = np.empty(0, dtype=np.float64)
    if xt.size == 0 or yt.size == 0:
        return XYPairs(empty, empty, empty, int(xt.size))
    if np.any(np.diff(yt) < 0):
        order = np.argsort(yt, kind="stable")
        yt, yv = yt[order], yv[order]
    idx = np.searchsorted(yt, xt, side="right") - 1
    ok = idx >= 0
    safe = np.where(ok, idx, 0)
    ok &= (xt - yt[safe]) <= tolerance
    yy = yv[safe]
    ok &= ~np.isnan(xv) & ~np.isnan(yy)
    return XYPairs(xt[ok], xv[ok], yy[ok], int(xt.size - np.count_nonzero(ok)))
