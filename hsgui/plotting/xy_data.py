"""Pairing two streams on time for an XY pane. Pure numpy; runs inside jobs, no widgets here.

Each X instance is paired with the latest Y instance at or before its timestamp,
provided that Y is no older than ``tolerance`` (default: the median spacing of Y,
so equal timestamps always pair). X instances with no such Y, or whose X or Y
value is NaN, are dropped and counted.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from channels.time_interval import TimeInterval
from channels.utils import MIN_DATE, to_ms


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


#: at most this many points are drawn (a larger pairing is thinned by a stride and says so)
MAX_POINTS = 50_000


@dataclass(frozen=True)
class XYRead:
    """What an XY pane draws: the pairs (``t`` in epoch ms), thinned to ``stride``, and the components used."""

    pairs: XYPairs
    paired: int            # before thinning
    stride: int
    x_component: object
    y_component: object
    x_components: list
    y_components: list


def _numeric_side(ctx, role: str, stream, component):
    """``(component, components)`` of one side: a dict stream without a component takes its first numeric one;
    a stream of text or events is refused with a message naming it."""
    from .plot_data import probe_stream
    probe = probe_stream(ctx, stream)
    comps = list(probe.components) if probe.kind == "dict" else []
    if probe.kind == "dict":
        if component is None:
            if not comps:
                raise ValueError(f"{role}: {stream.stream_id} holds dicts without numeric values; an XY pane "
                                 f"needs numbers")
            component = comps[0]
    elif probe.kind == "event":
        raise ValueError(f"{role}: {stream.stream_id} holds text or events, not numbers; an XY pane needs numbers")
    else:
        component = None
    return component, comps


def _with_the_one_before(stream, component, interval, ms, values):
    """``ms, values`` with the stream's last numeric instance before the interval prepended (if any)."""
    if interval.start <= MIN_DATE:
        return ms, values
    last = stream.window(TimeInterval(MIN_DATE, interval.start)).last()
    v = None if last is None else last.value
    if component is not None:
        v = v.get(component) if isinstance(v, dict) else None
    if not isinstance(v, (int, float)):
        return ms, values
    return np.concatenate(([to_ms(last.timestamp)], ms)), np.concatenate(([float(v)], values))


def read_xy(ctx, x_stream, x_component, y_stream, y_component, interval, max_points: int = MAX_POINTS,
            components=None) -> XYRead:
    """A job: both streams' numeric columns over ``interval``, paired on time (:func:`align`), at most
    ``max_points`` of them kept (every ``stride``-th). ``components``: the (X, Y) numeric component lists an
    earlier read found — given, the streams are not probed again (a re-read per range change needs no probe)."""
    if components is None:
        x_component, x_comps = _numeric_side(ctx, "X", x_stream, x_component)
        ctx.check()
        y_component, y_comps = _numeric_side(ctx, "Y", y_stream, y_component)
        ctx.check()
    else:
        x_comps, y_comps = components
    xms, xv = x_stream.window(interval).columns(x_component)
    ctx.check()
    yms, yv = y_stream.window(interval).columns(y_component)
    yms, yv = _with_the_one_before(y_stream, y_component, interval, yms, yv)   # the first X may pair with it
    ctx.check()
    # Y's own spacing says how old a Y may be; with a single Y in hand, X's spacing stands in for it
    tolerance = median_spacing(yms) if yms.size >= 2 else median_spacing(xms)
    pairs = align(xms, xv, yms, yv, tolerance)
    paired = pairs.paired
    stride = max(1, -(-paired // max_points))
    if stride > 1:
        pairs = XYPairs(pairs.t[::stride], pairs.x[::stride], pairs.y[::stride], pairs.dropped)
    return XYRead(pairs, paired, stride, x_component, y_component, x_comps, y_comps)
