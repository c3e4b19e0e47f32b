"""One curve of a pane: a stream (or one component of it) drawn from summaries or raw points.

A curve re-reads as a job when its pane's view changes, drops late results of older
requests, and draws the min/max envelope, the mean (or raw) line, and breaks at
calculated-interval gaps. Raw points come with a coarser level around them
(``CurveData.surround``), drawn beyond the raw points' interval only: after a pan or
zoom-out the newly exposed strip shows it until the new raw points arrive.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QPainterPath
from PySide6.QtWidgets import (QGraphicsPathItem)

from channels.time_interval import TimeInterval

from hsgui.common.background import JobKind

from .plot_data import CurveData, read_curve

log = logging.getLogger(__name__)

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf"]
DEBOUNCE_MS = 100
MAX_DEFAULT_COMPONENTS = 8
EXTEND = 0.25          # fetch this fraction of the visible width beyond each side (smooth panning)
LEFT_AXIS_WIDTH = 60
SYMBOLS_BELOW = 150    # raw curves with fewer points also show point markers
MANY_CURVES = 12  # a drop of more streams than this (e.g. a whole channel) asks first

pg.setConfigOptions(antialias=False, background="w", foreground="k")


@dataclass
class CurveInfo:
    """What a user sees of one curve (for tests and the main window)."""

    stream: object
    component: object
    label: str
    kind: str
    mode: str | None
    points: int
    visible: bool
    pane: object   # the PlotPane showing it
    curve: "PlotCurve"


def same_stream(a, b) -> bool:
    return a.channel.channel_id == b.channel.channel_id and a.stream_id == b.stream_id


class PlotCurve(QObject):
    """One stream (or one numeric component of a dict stream) in one pane."""

    sigUpdated = Signal(object)

    def __init__(self, pane, stream, component, kind: str, colour: str, span: TimeInterval | None):
        super().__init__()
        self.pane = pane
        self.stream = stream
        self.component = component
        self.kind = kind
        self.colour = colour
        self.span = span
        self.data: CurveData | None = None
        self.runner = None       # the job runner of its reads (JobRunner.latest: only the newest one answers)
        self.read_job = None     # the newest read
        self.behind = False      # the view moved while a read was under way: ask again when it delivers
        self.error: str | None = None
        self.label = str(stream.stream_id) + (f" · {component}" if component is not None else "")
        # for the cursor read-out: name, meta-data values (which tell variants apart) and component
        meta = ", ".join(v for _k, v in stream.stream_id.meta_data)
        self.short_label = stream.stream_id.name + (f" [{meta}]" if meta else "") + \
            (f" · {component}" if component is not None else "")
        c = QColor(colour)
        env = QColor(c)
        env.setAlpha(90)
        if kind == "event":
            self.line = pg.PlotDataItem(name=self.label, pen=None, symbol="|", symbolSize=14,
                                        symbolPen=pg.mkPen(c), symbolBrush=pg.mkBrush(c))
        else:
            self.line = pg.PlotDataItem(name=self.label, pen=pg.mkPen(c, width=1), connect="finite")
        # the min/max envelope: every bucket's min..max (NaN = gap, so it breaks too)
        self.env_hi = pg.PlotCurveItem(pen=None, connect="finite")
        self.env_lo = pg.PlotCurveItem(pen=None, connect="finite")
        self.envelope = QGraphicsPathItem()   # one min-max segment per bucket (see envelope_path)
        self.envelope.setBrush(pg.mkBrush(None))
        self.envelope.setPen(pg.mkPen(env, width=1, cosmetic=True))
        self.envelope.setZValue(-1)
        # the coarser level beyond the raw points (mean line and min-max segments), lighter than the detail
        coarse = QColor(c)
        coarse.setAlpha(150)
        self.backdrop = pg.PlotCurveItem(pen=pg.mkPen(coarse, width=1), connect="finite")
        self.backdrop_env = QGraphicsPathItem()
        self.backdrop_env.setBrush(pg.mkBrush(None))
        self.backdrop_env.setPen(pg.mkPen(env, width=1, cosmetic=True))
        self.backdrop_env.setZValue(-1)
        pi = pane.plot_item
        for item in (self.env_hi, self.env_lo, self.line, self.backdrop):
            pi.addItem(item)
        for item in (self.envelope, self.backdrop_env):
            pi.addItem(item, ignoreBounds=True)   # env_hi/env_lo (no pen) and the backdrop line give y its bounds
        # legend clicks toggle the line; keep the envelope in step
        self.line.visibleChanged.connect(self._sync_visibility)
        self.axis = "left"

    def move_to_axis(self, axis: str) -> None:
        """Draw against the pane's left or right y axis (for a curve on another scale); the legend keeps it."""
        if axis == self.axis or axis not in ("left", "right"):
            return
        pi, right = self.pane.plot_item, self.pane.right_view()
        items = self._items()
        for item in items:
            (pi if self.axis == "left" else right).removeItem(item)
        self.axis = axis
        self.line.setLogMode(False, self.pane.axis_log(axis))
        for item in items:
            paths = item is self.envelope or item is self.backdrop_env
            if axis == "right":
                right.addItem(item, ignoreBounds=paths)
            else:
                pi.addItem(item, ignoreBounds=paths)
        if self.data is not None:
            self._draw()    # the backdrop is drawn in the axis' log scale or not
        if pi.legend is not None and axis == "right":
            pi.legend.addItem(self.line, self.label + "  (right axis)")
        elif pi.legend is not None:
            pi.legend.removeItem(self.line)
            pi.legend.addItem(self.line, self.label)
        self.pane.update_right_axis()

    def _items(self) -> tuple:
        return (self.env_hi, self.env_lo, self.line, self.envelope, self.backdrop, self.backdrop_env)

    # -- state ---------------------------------------------------------------
    @property
    def visible(self) -> bool:
        return self.line.isVisible()

    def set_visible(self, on: bool) -> None:
        self.line.setVisible(on)
        self._sync_visibility()

    def _sync_visibility(self):
        on = self.line.isVisible() and self.data is not None and self.data.mode == "summary"
        for item in (self.envelope, self.env_hi, self.env_lo):
            item.setVisible(on)
        coarse = self.line.isVisible() and self.data is not None and self.data.surround is not None
        for item in (self.backdrop, self.backdrop_env):
            item.setVisible(coarse)

    @property
    def points(self) -> int:
        return self.data.points if self.data is not None else 0

    def matches(self, stream, component) -> bool:
        return same_stream(self.stream, stream) and self.component == component

    # -- data ----------------------------------------------------------------
    def needs(self, interval: TimeInterval, buckets: int) -> bool:
        """Whether the data in hand cannot serve ``interval`` at ``buckets`` resolution."""
        d = self.data
        if d is None or d.interval.start > interval.start or d.interval.end < interval.end:
            return True
        if d.mode == "raw":
            return False
        have = d.interval.width.total_seconds() / max(d.buckets, 1)
        want = interval.width.total_seconds() / max(buckets, 1)
        return not (0.7 <= have / want <= 1.4)

    def request(self, runner, interval: TimeInterval, buckets: int) -> None:
        self.runner = runner
        self.read_job = runner.latest(self, f"plot {self.label}", read_curve, self.stream, self.component, self.kind,
                                      interval, buckets, kind=JobKind.READ, owner=self.line,
                                      on_result=self._on_data, on_error=self._on_error)

    @property
    def busy(self) -> bool:
        """Whether the latest request has not delivered yet (its result may still be queued)."""
        return self.runner is not None and self.runner.pending(self)

    def cancel(self) -> None:
        if self.runner is not None:
            self.runner.cancel_latest(self)

    def _on_data(self, data: CurveData):
        self.data = data
        self.error = None
        self._draw()
        self.sigUpdated.emit(self)

    def _on_error(self, msg):
        self.error = msg
        self.pane.area.sigStatus.emit(f"Could not read {self.label}: {msg}")

    def _draw(self, origin: float = 0.0):
        """Put the data in the items. ``origin`` (seconds) shifts the items' own x so they hold small numbers
        and places them at the origin instead — only for SVG export, whose 6 significant digits would collapse
        epoch seconds (~1.8e9); on screen the items keep view x, which the y auto-range of the visible part needs."""
        d = self.data
        for item in self._items():
            item.setPos(origin, 0.0)
        self._draw_backdrop(origin)
        x = d.x - origin
        if self.kind == "event":
            self.line.setData(x, d.y)
        else:
            few = d.mode == "raw" and d.points < SYMBOLS_BELOW
            self.line.setData(x, d.y, connect="finite", symbol="o" if few else None, symbolSize=4,
                              symbolPen=None, symbolBrush=pg.mkBrush(self.colour))
            if d.mode == "summary" and d.lo is not None:
                lo, hi = d.lo, d.hi
                if self.pane.axis_log(self.axis):   # the line's PlotDataItem logs itself; these items do not
                    with np.errstate(divide="ignore", invalid="ignore"):
                        lo = np.where(lo > 0, np.log10(np.where(lo > 0, lo, 1.0)), np.nan)
                        hi = np.where(hi > 0, np.log10(np.where(hi > 0, hi, 1.0)), np.nan)
                self.env_hi.setData(x, hi, connect="finite")
                self.env_lo.setData(x, lo, connect="finite")
                half = d.interval.width.total_seconds() / max(d.buckets, 1) / 2
                self.envelope.setPath(envelope_path(x, lo, hi, half))
            else:
                self.env_hi.setData([], [])
                self.env_lo.setData([], [])
                self.envelope.setPath(QPainterPath())
        self._sync_visibility()

    def _draw_backdrop(self, origin: float) -> None:
        """The coarser level that came with raw points, drawn only outside their interval (NaN inside)."""
        s = self.data.surround
        if s is None or len(s.x) == 0 or origin:   # a stand-in on screen only: an export shows the data fetched
            self.backdrop.setData([], [])
            self.backdrop_env.setPath(QPainterPath())
            return
        lo_t = self.data.interval.start.timestamp()
        hi_t = self.data.interval.end.timestamp()
        outside = (s.x < lo_t) | (s.x > hi_t)
        y = np.where(outside, s.y, np.nan)
        lo = np.where(outside, s.lo, np.nan)
        hi = np.where(outside, s.hi, np.nan)
        if self.pane.axis_log(self.axis):
            with np.errstate(divide="ignore", invalid="ignore"):
                y, lo, hi = (np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), np.nan) for v in (y, lo, hi))
        x = s.x - origin
        self.backdrop.setData(x, y, connect="finite")
        self.backdrop_env.setPath(envelope_path(x, lo, hi))

    def detach(self):
        self.cancel()
        pi = self.pane.plot_item
        if pi.legend is not None:
            pi.legend.removeItem(self.line)
        holder = pi if self.axis == "left" else self.pane.right_view()
        for item in self._items():
            holder.removeItem(item)

    # -- read-out ------------------------------------------------------------
    def value_at(self, x: float) -> str | None:
        """Text of the curve's value at time ``x`` (seconds), or None where it has none (beyond raw points: the
        coarser level drawn there)."""
        d = self.data
        if d is not None and d.surround is not None and not (
                d.interval.start.timestamp() <= x <= d.interval.end.timestamp()):
            d = d.surround
        if d is None or len(d.x) == 0:
            return None
        if d.mode == "summary":
            i = int(np.searchsorted(d.x, x))
            cands = [j for j in (i - 1, i) if 0 <= j < len(d.x)]
            if not cands:
                return None
            j = min(cands, key=lambda k: abs(d.x[k] - x))
            half = d.interval.width.total_seconds() / max(d.buckets, 1)
            if abs(d.x[j] - x) > half or not np.isfinite(d.y[j]):
                return None
            if d.labels is not None:
                return d.labels[j]
            if d.lo is not None and d.lo[j] != d.hi[j]:
                return f"{d.y[j]:.6g} ({d.lo[j]:.4g}…{d.hi[j]:.4g})"
            return f"{d.y[j]:.6g}"
        i = int(np.searchsorted(d.x, x, side="right")) - 1
        if i < 0 or not np.isfinite(d.y[i]):
            return None
        if d.labels is not None:
            return d.labels[i]
        if self.kind == "bool":
            return "true" if d.y[i] >= 0.5 else "false"
        return f"{d.y[i]:.6g}"


def envelope_path(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, half_width: float = 0.0) -> QPainterPath:
    """The min/max envelope as one vertical segment per non-empty bucket, from its minimum to its maximum.

    Buckets are about one per pixel, so the segments (drawn with a 1-px cosmetic pen) read as a band, and
    every bucket shows its full range at any width: a one-instance spike reaches its height (a polygon
    through the bucket centres drew it as a sliver that the rasteriser cut short). Strokes are also cheap to
    paint where a filled polygon of the same buckets took ~0.5 s per frame once zoomed in.
    ``half_width`` is unused (kept for callers)."""
    ok = np.isfinite(lo) & np.isfinite(hi)
    if not ok.any():
        return QPainterPath()
    xs = np.repeat(x[ok], 2)
    ys = np.column_stack([lo[ok], hi[ok]]).ravel()
    return pg.arrayToQPath(xs, ys, connect="pairs")
