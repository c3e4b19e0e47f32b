"""Plot panes: stacked, x-linked time plots of streams, drawn at the pane's level of detail.

Each curve asks the store for no more than it can show: a bucketed summary
(min/max envelope + mean) sized to the pane's pixel width over the visible
range, or the raw points when the range holds few enough. Every read runs as
a job; range changes are debounced, the previous job of a curve is cancelled
and a late result of an older request is dropped (sequence number).

Range sync without loops: :meth:`PlotArea.set_interval` moves the panes and
records the interval; the debounced range handler emits ``sigRangeChanged``
only when the view differs from the last interval it knows, so a programmatic
move never echoes back.
"""
from __future__ import annotations

import csv
import html
import logging
import os
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401 - registers the exporters
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QPainterPath
from PySide6.QtWidgets import (QFileDialog, QGraphicsPathItem, QHBoxLayout, QLabel, QMenu, QMessageBox, QSizePolicy,
                               QSplitter, QToolBar, QToolButton, QVBoxLayout, QWidget)

from channels.time_interval import TimeInterval
from channels.utils import UTC, from_ms

from .mime import streams_from_mime
from .plot_data import CurveData, boundaries_of, probe_stream, query_curve, read_for_csv
from .svg_export import export_svg
from .plot_time import (TimeAxisItem, datetime_to_seconds, format_time, interval_from_seconds,
                        seconds_to_datetime, to_zone, zone_name)

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
    pane: "PlotPane"
    curve: "PlotCurve"


def _same_stream(a, b) -> bool:
    return a.channel.channel_id == b.channel.channel_id and a.stream_id == b.stream_id


class PlotCurve(QObject):
    """One stream (or one numeric component of a dict stream) in one pane."""

    sigUpdated = Signal(object)

    def __init__(self, pane: "PlotPane", stream, component, kind: str, colour: str, span: TimeInterval | None):
        super().__init__()
        self.pane = pane
        self.stream = stream
        self.component = component
        self.kind = kind
        self.colour = colour
        self.span = span
        self.data: CurveData | None = None
        self.job = None
        self.seq = 0
        self.pending = False
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
        # the min/max envelope: the area between the buckets' maxima and minima (NaN = gap, so it breaks too)
        self.env_hi = pg.PlotCurveItem(pen=None, connect="finite")
        self.env_lo = pg.PlotCurveItem(pen=None, connect="finite")
        self.envelope = QGraphicsPathItem()
        self.envelope.setBrush(pg.mkBrush(env))
        self.envelope.setPen(pg.mkPen(None))
        self.envelope.setZValue(-1)
        pi = pane.plot_item
        for item in (self.env_hi, self.env_lo, self.line):
            pi.addItem(item)
        pi.addItem(self.envelope, ignoreBounds=True)  # env_hi/env_lo (no pen) give the y-range its bounds
        # legend clicks toggle the line; keep the envelope in step
        self.line.visibleChanged.connect(self._sync_visibility)

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

    @property
    def points(self) -> int:
        return self.data.points if self.data is not None else 0

    def matches(self, stream, component) -> bool:
        return _same_stream(self.stream, stream) and self.component == component

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
        if self.job is not None:
            self.job.cancel()
        self.seq += 1
        seq = self.seq
        self.pending = True
        self.job = runner.submit(f"plot {self.label}", query_curve, self.stream, self.component, self.kind,
                                 interval, buckets, boundaries_of(self.stream.calculated_intervals),
                                 on_result=lambda d, s=seq: self._on_data(s, d),
                                 on_error=lambda msg, s=seq: self._on_error(s, msg),
                                 on_cancel=lambda s=seq: self._on_cancel(s))

    @property
    def busy(self) -> bool:
        """Whether the latest request has not delivered yet (its result may still be queued)."""
        return self.pending

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
        self.seq += 1
        self.pending = False

    def _on_cancel(self, seq):
        if seq == self.seq:
            self.pending = False

    def _on_data(self, seq, data: CurveData):
        if seq != self.seq:
            return  # a newer request is on its way
        self.pending = False
        self.data = data
        self.error = None
        self._draw()
        self.sigUpdated.emit(self)

    def _on_error(self, seq, msg):
        if seq != self.seq:
            return
        self.pending = False
        self.error = msg
        self.pane.area.sigStatus.emit(f"Could not read {self.label}: {msg}")

    def _draw(self, origin: float = 0.0):
        """Put the data in the items. ``origin`` (seconds) shifts the items' own x so they hold small numbers
        and places them at the origin instead — only for SVG export, whose 6 significant digits would collapse
        epoch seconds (~1.8e9); on screen the items keep view x, which the y auto-range of the visible part needs."""
        d = self.data
        for item in (self.line, self.env_hi, self.env_lo, self.envelope):
            item.setPos(origin, 0.0)
        x = d.x - origin
        if self.kind == "event":
            self.line.setData(x, d.y)
        else:
            few = d.mode == "raw" and d.points < SYMBOLS_BELOW
            self.line.setData(x, d.y, connect="finite", symbol="o" if few else None, symbolSize=4,
                              symbolPen=None, symbolBrush=pg.mkBrush(self.colour))
            if d.mode == "summary" and d.lo is not None:
                self.env_hi.setData(x, d.hi, connect="finite")
                self.env_lo.setData(x, d.lo, connect="finite")
                half = d.interval.width.total_seconds() / max(d.buckets, 1) / 2
                self.envelope.setPath(envelope_path(x, d.lo, d.hi, half))
            else:
                self.env_hi.setData([], [])
                self.env_lo.setData([], [])
                self.envelope.setPath(QPainterPath())
        self._sync_visibility()

    def detach(self):
        self.cancel()
        pi = self.pane.plot_item
        if pi.legend is not None:
            pi.legend.removeItem(self.line)
        for item in (self.line, self.envelope, self.env_hi, self.env_lo):
            pi.removeItem(item)

    # -- read-out ------------------------------------------------------------
    def value_at(self, x: float) -> str | None:
        """Text of the curve's value at time ``x`` (seconds), or None where it has none."""
        d = self.data
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


def envelope_path(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, half_width: float) -> QPainterPath:
    """The area between the buckets' maxima and minima: one polygon per run of non-empty buckets."""
    path = QPainterPath()
    idx = np.flatnonzero(np.isfinite(lo) & np.isfinite(hi))
    if len(idx) == 0:
        return path
    for run in np.split(idx, np.flatnonzero(np.diff(idx) != 1) + 1):
        xs, top, bottom = x[run], hi[run], lo[run]
        if len(run) == 1:  # a lone bucket: as wide as the bucket
            xs = np.array([xs[0] - half_width, xs[0] + half_width])
            top, bottom = np.repeat(top, 2), np.repeat(bottom, 2)
        path.addPath(pg.arrayToQPath(np.concatenate([xs, xs[::-1]]), np.concatenate([top, bottom[::-1]])))
        path.closeSubpath()
    return path


class _DropPlotWidget(pg.PlotWidget):
    """A PlotWidget that accepts streams dragged from the tree."""

    def __init__(self, pane: "PlotPane", **kwargs):
        super().__init__(**kwargs)
        self.pane = pane
        self.setAcceptDrops(True)

    def dragEnterEvent(self, ev):
        if streams_from_mime(ev.mimeData()):
            ev.acceptProposedAction()
        else:
            ev.ignore()

    dragMoveEvent = dragEnterEvent

    def dropEvent(self, ev):
        items = streams_from_mime(ev.mimeData())
        if not items:
            ev.ignore()
            return
        ev.acceptProposedAction()
        self.pane.area.add_dropped(items, self.pane)


class PlotPane(QWidget):
    """One plot with a header (curves menu, fit, export, close) and a value read-out."""

    def __init__(self, area: "PlotArea"):
        super().__init__()
        self.area = area
        self.curves: list[PlotCurve] = []
        self.axis = TimeAxisItem(area.time_zone())
        self.plot_widget = _DropPlotWidget(self, axisItems={"bottom": self.axis})
        self.plot_item = self.plot_widget.getPlotItem()
        self.view_box = self.plot_item.getViewBox()
        self.plot_item.showGrid(x=True, y=True, alpha=0.25)
        # one fixed y-axis width for every pane, so linked panes show exactly the same time range
        self.plot_item.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        self.plot_item.addLegend(offset=(8, 8), labelTextSize="8pt", brush=pg.mkBrush(255, 255, 255, 200))  # readable over curves
        self.plot_item.setClipToView(False)
        self.view_box.setMouseEnabled(x=True, y=False)
        self.view_box.enableAutoRange(axis="y")
        self.view_box.setAutoVisible(y=True)
        self.view_box.disableAutoRange(axis="x")
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#555555", style=Qt.DashLine))
        self.cursor.setVisible(False)
        self.plot_item.addItem(self.cursor, ignoreBounds=True)

        self.readout = QLabel()
        self.readout.setTextFormat(Qt.RichText)
        self.readout.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.readout.setWordWrap(True)
        self.curves_button = QToolButton(text="Curves", popupMode=QToolButton.InstantPopup)
        self.curves_menu = QMenu(self.curves_button)
        self.curves_menu.aboutToShow.connect(self._fill_curves_menu)
        self.curves_button.setMenu(self.curves_menu)
        self.export_button = QToolButton(text="Export", popupMode=QToolButton.InstantPopup)
        em = QMenu(self.export_button)
        em.addAction("Pane as PNG…", lambda: self._ask_export("png"))
        em.addAction("Pane as SVG…", lambda: self._ask_export("svg"))
        self.export_button.setMenu(em)
        fit = QToolButton(text="Fit")
        fit.setToolTip("Fit the time range to the data of every pane")
        fit.clicked.connect(area.fit_to_data)
        close = QToolButton(text="✕")
        close.setToolTip("Remove this pane")
        close.clicked.connect(lambda: area.remove_pane(self))
        head = QHBoxLayout()
        head.setContentsMargins(4, 0, 4, 0)
        head.addWidget(self.readout, 1)
        for b in (self.curves_button, fit, self.export_button, close):
            b.setAutoRaise(True)
            head.addWidget(b)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(head)
        lay.addWidget(self.plot_widget, 1)
        self.plot_widget.scene().sigMouseMoved.connect(self._on_mouse)
        self.show_cursor(None)

    # -- geometry ------------------------------------------------------------
    def pixel_width(self) -> int:
        w = int(self.view_box.width())
        return w if w >= 50 else 800

    def x_range(self) -> tuple[float, float]:
        return tuple(self.view_box.viewRange()[0])

    # -- cursor --------------------------------------------------------------
    def _on_mouse(self, pos):
        if self.view_box.sceneBoundingRect().contains(pos):
            self.area.set_cursor(self.view_box.mapSceneToView(pos).x())

    def show_cursor(self, x: float | None):
        tz = self.area.time_zone()
        if x is None:
            self.cursor.setVisible(False)
            self.readout.setText(f"<span style='color:#777'>times in {zone_name(tz)}</span>")
            return
        self.cursor.setPos(x)
        self.cursor.setVisible(True)
        t = seconds_to_datetime(x)
        parts = [f"{format_time(t, tz, with_ms=True)} {to_zone(t, tz).strftime('%Z')}"]
        for c in self.curves:
            if not c.visible:
                continue
            v = c.value_at(x)
            parts.append(f"<span style='color:{c.colour}'>■ {html.escape(c.short_label)}</span> "
                         f"{html.escape(v) if v is not None else '–'}")
        self.readout.setText("&nbsp;&nbsp; ".join(parts))  # breakable: the label wraps when a pane has many curves

    def update_category_axis(self):
        """A pane of event streams only labels its y levels with the states' text."""
        axis = self.plot_item.getAxis("left")
        events = [c for c in self.curves if c.kind == "event"]
        cats = next((c.data.categories for c in events if c.data is not None and c.data.categories), None)
        if events and len(events) == len(self.curves) and cats:
            axis.setTicks([[(float(i), t if len(t) <= 12 else t[:11] + "…") for i, t in enumerate(cats)]])
        else:
            axis.setTicks(None)

    # -- menus ---------------------------------------------------------------
    def _fill_curves_menu(self):
        m = self.curves_menu
        m.clear()
        if not self.curves:
            m.addAction("(drop a stream here)").setEnabled(False)
        streams = []
        for c in self.curves:
            if not any(_same_stream(c.stream, s) for s in streams):
                streams.append(c.stream)
        for s in streams:
            for c in [c for c in self.curves if _same_stream(c.stream, s)]:
                sub = m.addMenu(c.label)
                a = sub.addAction("Show")
                a.setCheckable(True)
                a.setChecked(c.visible)
                a.toggled.connect(c.set_visible)
                sub.addAction("Export visible data as CSV…", lambda c=c: self._ask_csv(c))
                sub.addAction("Remove", lambda c=c: self.remove_curve(c))
            comps = self.area.components_of(s)
            if comps:
                sub = m.addMenu(f"{s.stream_id} — components")
                for comp in comps:
                    a = sub.addAction(str(comp))
                    a.setCheckable(True)
                    a.setChecked(any(c.matches(s, comp) for c in self.curves))
                    a.toggled.connect(lambda on, s=s, comp=comp: self.area.toggle_component(s, comp, on, self))

    def _ask_export(self, fmt):
        path, _ = QFileDialog.getSaveFileName(self, "Export pane", f"plot.{fmt}", f"{fmt.upper()} (*.{fmt})")
        if path:
            self.area.export_image(self, path)

    def _ask_csv(self, curve):
        path, _ = QFileDialog.getSaveFileName(self, "Export visible data", "curve.csv", "CSV (*.csv)")
        if path:
            self.area.export_curve_csv(curve, path)

    # -- curves --------------------------------------------------------------
    def add_curve(self, stream, component, kind, span) -> PlotCurve:
        used = {c.colour for c in self.curves}
        colour = next((p for p in PALETTE if p not in used), PALETTE[len(self.curves) % len(PALETTE)])
        curve = PlotCurve(self, stream, component, kind, colour, span)
        curve.sigUpdated.connect(self.area._on_curve_updated)
        self.curves.append(curve)
        return curve

    def remove_curve(self, curve: PlotCurve):
        if curve in self.curves:
            self.curves.remove(curve)
            curve.detach()

    def find(self, stream, component) -> PlotCurve | None:
        return next((c for c in self.curves if c.matches(stream, component)), None)


class PlotArea(QWidget):
    """Several stacked, x-linked plot panes; see the module docstring for the range protocol."""

    sigRangeChanged = Signal(object)    # TimeInterval, after a user zoom/pan/fit (debounced)
    sigCurveUpdated = Signal(object)    # PlotCurve, whenever a curve drew new data
    sigStatus = Signal(str)             # a message for the status bar / log

    def __init__(self, runner, resolve_stream, parent=None):
        super().__init__(parent)
        self.runner = runner
        self.resolve_stream = resolve_stream
        self.panes: list[PlotPane] = []
        self._interval: TimeInterval | None = None
        self._tz = UTC
        self._probes: dict = {}       # (channel_id, StreamId) -> Probe
        self._cursor_x: float | None = None
        self._force = False
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self._on_range_settled)

        bar = QToolBar()
        bar.setToolButtonStyle(Qt.ToolButtonTextOnly)
        bar.addAction("Add pane", self.add_pane)
        bar.addAction("Fit to data", self.fit_to_data)
        self.cursor_action = QAction("Cursor", self, checkable=True, checked=True)
        self.cursor_action.toggled.connect(lambda on: self.set_cursor(self._cursor_x if on else None))
        bar.addAction(self.cursor_action)
        self.splitter = QSplitter(Qt.Vertical)
        self.splitter.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(bar)
        lay.addWidget(self.splitter, 1)
        self.setAcceptDrops(True)
        self.add_pane()

    # -- panes ---------------------------------------------------------------
    def add_pane(self) -> PlotPane:
        pane = PlotPane(self)
        if self.panes:
            pane.plot_item.setXLink(self.panes[0].plot_item)
        elif self._interval is not None:
            self._apply_view(self._interval, pane)
        self.panes.append(pane)
        self.splitter.addWidget(pane)
        pane.view_box.sigXRangeChanged.connect(self._on_view_range_changed)
        pane.view_box.sigResized.connect(self._on_view_range_changed)
        return pane

    def remove_pane(self, pane: PlotPane) -> None:
        if pane not in self.panes:
            return
        for c in list(pane.curves):
            pane.remove_curve(c)
        was_master = pane is self.panes[0]
        self.panes.remove(pane)
        if was_master and self.panes:
            x0, x1 = pane.x_range()
            master = self.panes[0]
            master.plot_item.setXLink(None)
            for p in self.panes[1:]:
                p.plot_item.setXLink(master.plot_item)
            master.view_box.setXRange(x0, x1, padding=0)
        pane.setParent(None)
        pane.deleteLater()

    def clear(self) -> None:
        """Remove every curve and every pane but one."""
        for pane in list(self.panes[1:]):
            self.remove_pane(pane)
        if not self.panes:
            self.add_pane()
        for c in list(self.panes[0].curves):
            self.panes[0].remove_curve(c)

    # -- streams -------------------------------------------------------------
    def add_dropped(self, items, pane=None):
        if len(items) > MANY_CURVES and QMessageBox.question(
                self, "Plot many streams", f"Plot {len(items)} streams in one pane?") != QMessageBox.StandardButton.Yes:
            return
        for channel_id, stream_id in items:
            try:
                stream = self.resolve_stream(channel_id, stream_id)
            except Exception as exc:  # noqa: BLE001 - an unknown stream is a message, not a crash
                self.sigStatus.emit(f"Cannot plot {channel_id}/{stream_id}: {exc}")
                continue
            if stream is None:
                self.sigStatus.emit(f"Cannot plot {channel_id}/{stream_id}: no such stream")
                continue
            self.add_stream(stream, pane=pane)

    def dragEnterEvent(self, ev):
        if streams_from_mime(ev.mimeData()):
            ev.acceptProposedAction()

    def dropEvent(self, ev):
        items = streams_from_mime(ev.mimeData())
        if items:
            ev.acceptProposedAction()
            self.add_dropped(items, self.panes[0] if self.panes else None)

    @staticmethod
    def _key(stream):
        return (stream.channel.channel_id, stream.stream_id)

    def add_stream(self, stream, component=None, pane: PlotPane | None = None):
        """Add ``stream`` (or one component of it) to ``pane`` (default: the first pane).

        The stream's kind is learned first by a small sampling job; a dict
        stream with no component given gets one curve per numeric component
        (the others can be switched on in the pane's Curves menu). Returns the
        probe job, or None when the stream was probed before.
        """
        if pane is None or pane not in self.panes:
            pane = self.panes[0] if self.panes else self.add_pane()
        probe = self._probes.get(self._key(stream))
        if probe is not None:
            self._place(stream, component, pane, probe)
            return None
        return self.runner.submit(f"inspect {stream.stream_id}", probe_stream, stream,
                                  on_result=lambda p: self._on_probe(stream, component, pane, p),
                                  on_error=lambda msg: self.sigStatus.emit(f"Cannot plot {stream}: {msg}"))

    def _on_probe(self, stream, component, pane, probe):
        self._probes[self._key(stream)] = probe
        if pane not in self.panes:
            pane = self.panes[0] if self.panes else self.add_pane()
        self._place(stream, component, pane, probe)

    def _place(self, stream, component, pane, probe):
        if probe.kind == "dict":
            if component is not None:
                comps = [component]
            else:
                comps = probe.components[:MAX_DEFAULT_COMPONENTS]
            specs = [(c, "number") for c in comps] or [(None, "event")]
        else:
            specs = [(component if probe.kind == "dict" else None, probe.kind if probe.kind != "empty" else "number")]
        new = []
        for comp, kind in specs:
            if pane.find(stream, comp) is None:
                new.append(pane.add_curve(stream, comp, kind, probe.span))
        if not new:
            return
        if self._interval is None:
            if probe.span is not None:
                self._fit([probe.span], emit=True)
            return
        self._request(new, force=True)

    def components_of(self, stream) -> list:
        """Numeric components a dict stream offers (empty for other streams or before it was inspected)."""
        probe = self._probes.get(self._key(stream))
        return list(probe.components) if probe is not None and probe.kind == "dict" else []

    def toggle_component(self, stream, component, on: bool, pane: PlotPane | None = None):
        pane = pane or (self.panes[0] if self.panes else self.add_pane())
        existing = pane.find(stream, component)
        if on and existing is None:
            self.add_stream(stream, component, pane)
        elif not on and existing is not None:
            pane.remove_curve(existing)

    def remove_stream(self, stream):
        for pane in self.panes:
            for c in [c for c in pane.curves if _same_stream(c.stream, stream)]:
                pane.remove_curve(c)

    def refresh_stream(self, stream):
        """Re-read a stream's curves (after a tool run or a purge changed its data)."""
        self._probes.pop(self._key(stream), None)
        curves = [c for p in self.panes for c in p.curves if _same_stream(c.stream, stream)]
        self._request(curves, force=True)

    def refresh(self):
        self._request(self._all_curves(), force=True)

    def curves(self) -> list[CurveInfo]:
        return [CurveInfo(c.stream, c.component, c.label, c.kind, c.data.mode if c.data else None, c.points,
                          c.visible, p, c) for p in self.panes for c in p.curves]

    def _all_curves(self):
        return [c for p in self.panes for c in p.curves]

    @property
    def busy(self) -> bool:
        """Whether any curve still waits for data."""
        return any(c.busy for c in self._all_curves())

    # -- range ---------------------------------------------------------------
    def interval(self) -> TimeInterval | None:
        """The visible time range (None until a range was set or data was fitted)."""
        if self._interval is None or not self.panes:
            return self._interval
        return interval_from_seconds(*self.panes[0].x_range()) or self._interval

    def set_interval(self, iv: TimeInterval) -> None:
        """Move every pane to ``iv`` and re-read; never emits ``sigRangeChanged``."""
        self._interval = iv
        self._force = True
        if self.panes:
            self._apply_view(iv, self.panes[0])
        self._debounce.start()

    def _apply_view(self, iv: TimeInterval, pane: PlotPane):
        pane.view_box.setXRange(datetime_to_seconds(iv.start), datetime_to_seconds(iv.end), padding=0)

    def fit_to_data(self) -> None:
        """Show the whole data span of every plotted stream (and autoscale y)."""
        spans = [c.span for c in self._all_curves() if c.span is not None]
        if spans:
            self._fit(spans, emit=True)
        for p in self.panes:
            p.view_box.enableAutoRange(axis="y")

    def _fit(self, spans, emit: bool):
        start = min(s.start for s in spans)
        end = max(s.end for s in spans)
        pad = max((end - start) * 0.02, timedelta(seconds=1))
        iv = interval_from_seconds(datetime_to_seconds(start - pad), datetime_to_seconds(end + pad))
        self.set_interval(iv)
        if emit:
            self.sigRangeChanged.emit(iv)

    def _on_view_range_changed(self, *args):
        self._debounce.start()

    def _on_range_settled(self):
        if not self.panes:
            return
        iv = interval_from_seconds(*self.panes[0].x_range())
        if iv is None:
            return
        known = self._interval
        force, self._force = self._force, False
        if known is None or abs((iv.start - known.start).total_seconds()) > 0.001 or \
                abs((iv.end - known.end).total_seconds()) > 0.001:
            self._interval = iv
            self.sigRangeChanged.emit(iv)
        self._request(self._all_curves(), force=force)

    def _request(self, curves, force: bool = False):
        if not self.panes or self._interval is None:
            return
        x0, x1 = self.panes[0].x_range()
        w = (x1 - x0) * EXTEND
        ext = interval_from_seconds(x0 - w, x1 + w)
        if ext is None:
            return
        for c in curves:
            width = c.pane.pixel_width()
            buckets = max(1, int(width * (1 + 2 * EXTEND)))
            if force or c.needs(ext, buckets):
                c.request(self.runner, ext, buckets)

    def _on_curve_updated(self, curve):
        curve.pane.update_category_axis()
        if self._cursor_x is not None:
            curve.pane.show_cursor(self._cursor_x)
        self.sigCurveUpdated.emit(curve)

    # -- cursor and time zone ------------------------------------------------
    def set_cursor(self, x: float | None) -> None:
        """Put the shared time cursor at ``x`` (epoch seconds) in every pane; None hides it."""
        if not self.cursor_action.isChecked():
            x = None
        self._cursor_x = x if x is not None else self._cursor_x
        for p in self.panes:
            p.show_cursor(x)

    def time_zone(self):
        return self._tz

    def set_time_zone(self, tz) -> None:
        """Label times in ``tz``; the data and the interval stay as they are."""
        self._tz = tz
        for p in self.panes:
            p.axis.set_time_zone(tz)
            p.show_cursor(self._cursor_x if self.cursor_action.isChecked() else None)

    # -- export --------------------------------------------------------------
    def export_image(self, pane: PlotPane, path: str) -> str:
        """Write the pane as PNG (or SVG when ``path`` ends in .svg)."""
        if str(path).lower().endswith(".svg"):
            vb = pane.view_box
            auto = list(vb.state["autoRange"])
            vb.disableAutoRange()  # the shifted items must not move the view while the SVG is written
            try:
                for c in pane.curves:
                    if c.data is not None and len(c.data.x):
                        c._draw(origin=float(np.floor(c.data.x[0])))
                export_svg(pane.plot_item, str(path))
            finally:
                for c in pane.curves:
                    if c.data is not None:
                        c._draw()
                vb.enableAutoRange(x=auto[0], y=auto[1])
        else:
            exp = pg.exporters.ImageExporter(pane.plot_item)
            exp.parameters()["width"] = max(int(pane.plot_item.width()), 400)
            exp.export(str(path))
        self.sigStatus.emit(f"Saved {path}")
        return str(path)

    def export_curve_csv(self, curve, path: str):
        """Write the instances of ``curve`` in the visible range to ``path`` (a job; returns it)."""
        curve = curve.curve if isinstance(curve, CurveInfo) else curve
        iv = self.interval()
        tz = self._tz
        header = ["time", "epoch_ms", curve.component if curve.component is not None else "value"]

        def work(ctx):
            rows = read_for_csv(ctx, curve.stream, curve.component, curve.kind, iv)
            tmp = path + ".part"  # written whole, then renamed: a failure never leaves half a file at ``path``
            try:
                with open(tmp, "w", newline="", encoding="utf-8") as fh:
                    w = csv.writer(fh)
                    w.writerow(header)
                    for i, (ms, v) in enumerate(rows):
                        if i % 50_000 == 0:
                            ctx.check()
                        w.writerow([from_ms(ms).astimezone(tz).isoformat(timespec="milliseconds"), ms, v])
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
            return len(rows)

        return self.runner.submit(f"export {curve.label}", work, kind="export", owner=self,
                                  on_result=lambda n: self.sigStatus.emit(f"Wrote {n} rows to {path}"),
                                  on_error=lambda msg: self.sigStatus.emit(f"Export failed: {msg}"))
