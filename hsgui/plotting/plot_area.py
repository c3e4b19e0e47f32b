"""The plot area: stacked, x-linked panes of time plots, drawn at each pane's level of detail.

Curves are :mod:`.curve`, panes :mod:`.pane`; this module owns the panes, the shared range
and the exports.

Each curve asks the store for no more than it can show: a bucketed summary
(min/max envelope + mean) sized to the pane's pixel width over the visible
range (and :data:`~.curve.EXTEND` of it each side), or the raw points when the
range holds few enough. Every read runs as a job. The curves follow the view
while it moves: the first change of a gesture asks at once (on the next pass
of the event loop), and while a curve's read is under way further changes
only mark it; when the read delivers (drawn at once), the curve asks again if
the view has moved beyond what it holds — one read in flight per curve, the
newest range next, so detail follows a zoom or pan within about one read of
its end. A newer request supersedes an older one (``JobRunner.latest``).

Range sync without loops: :meth:`PlotArea.set_interval` moves the panes and
records the interval; the debounced range handler emits ``sigRangeChanged``
only when the view differs from the last interval it knows, so a programmatic
move never echoes back.
"""
from __future__ import annotations

import csv
import logging
import os
from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QFrame, QMessageBox, QScrollArea, QSplitter, QToolBar, QVBoxLayout, QWidget)

from channels.time_interval import TimeInterval
from channels.utils import UTC, from_ms

from hsgui.common.background import JobKind
from hsgui.common.mime import streams_from_mime
from hsgui.common.timefmt import (datetime_to_seconds, interval_from_seconds)

from .plot_data import align_columns, probe_stream, read_for_csv
from .svg_export import export_svg
from .curve import DEBOUNCE_MS, EXTEND, MANY_CURVES, MAX_DEFAULT_COMPONENTS, CurveInfo, same_stream
from .pane import PlotPane
from .annotation_bands import PaneAnnotations

if TYPE_CHECKING:     # XY panes and the PNG export are imported when first used, not on the app's start
    from .xy_pane import XYPane

log = logging.getLogger(__name__)


class PlotArea(QWidget):
    """Several stacked, x-linked plot panes; see the module docstring for the range protocol."""

    sigRangeChanged = Signal(object)    # TimeInterval, after a user zoom/pan/fit (debounced)
    sigCurveUpdated = Signal(object)    # PlotCurve, whenever a curve drew new data
    sigStatus = Signal(str)             # a message for the status bar / log
    sigAnnotateRequested = Signal(object, object)   # start (None: an instant), end: a pane asked to annotate

    def __init__(self, runner, resolve_stream, parent=None):
        super().__init__(parent)
        self.runner = runner
        self.resolve_stream = resolve_stream
        self.panes: list[PlotPane] = []
        self.xy_panes: list[XYPane] = []    # one stream against another (no time axis; not x-linked)
        self.current_pane: PlotPane | None = None   # where new plots go (the last pane clicked or added)
        self._interval: TimeInterval | None = None
        self._tz = UTC
        self._probes: dict = {}       # (channel_id, StreamId) -> Probe
        self._cursor_x: float | None = None
        self._annotations: list = []  # drawn on every pane (annotation_bands)
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self._on_range_settled)
        self._follow = QTimer(self, singleShot=True, interval=0)   # the curves follow the moving view
        self._follow.timeout.connect(self._follow_view)

        bar = QToolBar()
        bar.setToolButtonStyle(Qt.ToolButtonTextOnly)
        bar.addAction("Add pane", self.add_pane)
        bar.addAction("Fit to data", self.fit_to_data)
        bar.addAction("Export all panes…", self._ask_export_all)
        self.cursor_action = QAction("Cursor", self, checkable=True, checked=True)
        self.cursor_action.toggled.connect(lambda on: self.set_cursor(self._cursor_x if on else None))
        bar.addAction(self.cursor_action)
        self.splitter = QSplitter(Qt.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(6)      # a handle one can find: drag it to resize the panes
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(bar)
        # the panes scroll when they do not fit: the area's minimum height stays one pane's, however many
        # panes there are, so adding panes never squeezes the window's docks (each pane keeps a readable height)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.splitter)
        lay.addWidget(self.scroll, 1)
        self.setAcceptDrops(True)
        self.add_pane()

    # -- panes ---------------------------------------------------------------
    def add_pane(self) -> PlotPane:
        pane = PlotPane(self)
        if self.panes:
            pane.plot_item.setXLink(self.panes[0].plot_item)
        elif self._interval is not None:
            self._apply_view(self._interval, pane)
        self._tab_after_last_pane(pane)
        self.panes.append(pane)
        self.splitter.addWidget(pane)
        self.show_all_panes()
        self.set_current_pane(pane)
        pane.view_box.sigXRangeChanged.connect(self._on_view_range_changed)
        pane.view_box.sigResized.connect(self._on_view_range_changed)
        PaneAnnotations(pane, self.sigAnnotateRequested.emit).set_annotations(self._annotations)
        return pane

    def _tab_after_last_pane(self, pane) -> None:
        """Tab goes from pane to pane, top to bottom: the new pane's plot comes right after the last one's."""
        shown = sorted(self.panes + self.xy_panes, key=self.splitter.indexOf)
        if shown:
            pane.setParent(self.splitter)     # in the window first: Tab order links widgets of one window
            QWidget.setTabOrder(shown[-1].plot_widget, pane.plot_widget)

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
        if self.current_pane is pane or self.current_pane not in self.panes:
            self.set_current_pane(self.panes[-1] if self.panes else None)
        if all(p.isHidden() for p in self.panes):
            self.show_all_panes()

    def set_current_pane(self, pane) -> None:
        """Select the pane new plots go to (marked in its header when there are several)."""
        self.current_pane = pane if pane in self.panes else None
        for p in self.panes:
            p.current_mark.setVisible(p is self.current_pane and len(self.panes) > 1)

    def toggle_maximise(self, pane=None) -> None:
        """Show only ``pane`` (default: the selected one), or all panes again if one is maximised."""
        pane = pane or self.current_pane or (self.panes[0] if self.panes else None)
        if pane is None:
            return
        if any(p.isHidden() for p in self.panes + self.xy_panes):
            self.show_all_panes()
            return
        for p in self.panes + self.xy_panes:
            p.setVisible(p is pane)
        pane.maximise_button.setText("⤡")
        if pane in self.panes:            # an XY pane never takes new time curves
            self.set_current_pane(pane)

    def show_all_panes(self) -> None:
        for p in self.panes + self.xy_panes:
            p.setVisible(True)
            p.maximise_button.setText("⤢")

    # -- XY panes ------------------------------------------------------------
    def add_xy_pane(self, x_stream, y_stream, x_component=None, y_component=None, options: dict | None = None,
                    colour: str | None = None) -> XYPane:
        """A pane of ``y_stream`` against ``x_stream`` (a dict stream without a component: its first numeric
        one), paired on time over the visible range and re-read when it changes."""
        from .xy_pane import XYPane
        pane = XYPane(self, x_stream, x_component, y_stream, y_component, colour=colour)
        if options:
            pane.set_options(options)
        self._tab_after_last_pane(pane)
        self.xy_panes.append(pane)
        self.splitter.addWidget(pane)
        self.show_all_panes()
        self.request_xy(pane)
        return pane

    def remove_xy_pane(self, pane: XYPane) -> None:
        if pane not in self.xy_panes:
            return
        pane.detach()
        self.xy_panes.remove(pane)
        pane.setParent(None)
        pane.deleteLater()
        if all(p.isHidden() for p in self.panes + self.xy_panes):
            self.show_all_panes()

    def request_xy(self, pane: XYPane) -> None:
        """Re-read ``pane`` over the visible range (all time before any range is known)."""
        iv = self.interval() or TimeInterval.all_time()
        pane.requested = iv
        pane.request(self.runner, iv)

    def clear(self) -> None:
        """Remove every curve and every pane but one."""
        for pane in list(self.panes[1:]):
            self.remove_pane(pane)
        if not self.panes:
            self.add_pane()
        for c in list(self.panes[0].curves):
            self.panes[0].remove_curve(c)
        for xy in list(self.xy_panes):
            self.remove_xy_pane(xy)
        self._probes.clear()       # they describe streams of a store that may be gone
        self._cursor_x = None
        self.panes[0].show_cursor(None)

    def set_annotations(self, annotations) -> None:
        """Draw ``annotations`` (:class:`channels.annotations.Annotation`) on every pane, and on panes added
        later."""
        self._annotations = list(annotations)
        for p in self.panes:
            bands = getattr(p, "annotation_bands", None)   # panes without a time axis have none
            if bands is not None:
                bands.set_annotations(self._annotations)

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

    # -- workspace state (plain dicts: the shell owns the document) ------------
    def pane_states(self) -> list[dict]:
        """Every pane, top to bottom: ``{"kind": "time", "curves": [{channel, name, meta_data, component, colour,
        visible, axis}], "options": {…}}``; an XY pane is ``"kind": "xy"`` with its X then its Y as curves."""
        def curve(stream, component, colour, visible=True, axis="left"):
            return {"channel": stream.channel.channel_id, "name": stream.stream_id.name,
                    "meta_data": [list(p) for p in stream.stream_id.meta_data], "component": component,
                    "colour": colour, "visible": visible, "axis": axis}

        out = []
        for pane in sorted(self.panes + self.xy_panes, key=self.splitter.indexOf):
            if pane in self.xy_panes:
                out.append({"kind": "xy", "curves": [curve(pane.x_stream, pane.x_component, pane.colour),
                                                     curve(pane.y_stream, pane.y_component, pane.colour)],
                            "options": pane.options()})
            else:
                out.append({"kind": "time", "curves": [curve(c.stream, c.component, c.colour, c.visible, c.axis)
                                                       for c in pane.curves], "options": pane.options()})
        return out

    def restore_panes(self, states: list[dict]) -> list[str]:
        """Replace the panes by ``states`` (as :meth:`pane_states` gives them); returns the labels of the
        curves whose streams no longer exist (the rest is shown)."""
        from channels.stream import StreamId
        self.clear()
        missing = []

        def resolve(c):
            sid = StreamId(c["name"], [tuple(p) for p in c.get("meta_data", [])])
            try:
                stream = self.resolve_stream(c["channel"], sid)
            except Exception:  # noqa: BLE001 - an unknown channel or stream: reported, the rest opens
                stream = None
            if stream is None:
                missing.append(f"{c['channel']}/{sid}" + (f" · {c['component']}" if c.get("component") else ""))
            return stream

        first_time_pane_used = False
        for state in states or [{}]:
            if state.get("kind") == "xy":
                sides = [resolve(c) for c in state.get("curves", [])]
                if len(sides) == 2 and None not in sides:
                    cx, cy = state["curves"]
                    self.add_xy_pane(sides[0], sides[1], cx.get("component"), cy.get("component"),
                                     options=state.get("options") or {}, colour=cx.get("colour"))
                continue
            pane = self.panes[0] if not first_time_pane_used else self.add_pane()
            first_time_pane_used = True
            pane.set_options(state.get("options") or {})
            items = [(stream, c.get("component"), {"colour": c.get("colour"), "visible": c.get("visible", True),
                                                   "axis": c.get("axis", "left")})
                     for c in state.get("curves", []) if (stream := resolve(c)) is not None]
            self._add_in_order(pane, items)
        return missing

    def _add_in_order(self, pane, items) -> None:
        """Add ``items`` (stream, component, style) to ``pane`` in their order: the streams not inspected yet are
        inspected in one job, then all are placed — a restored pane lists its curves as they were saved."""
        todo = list({self._key(s): s for s, _c, _st in items if self._key(s) not in self._probes}.values())

        def place(probes):
            for stream, probe in zip(todo, probes):
                if probe is not None:
                    self._probes[self._key(stream)] = probe
            if pane not in self.panes:
                return
            for stream, comp, style in items:
                probe = self._probes.get(self._key(stream))
                if probe is not None:
                    self._place(stream, comp, pane, probe, style)

        def inspect_all(ctx):
            out = []
            for stream in todo:
                ctx.check()
                try:
                    out.append(probe_stream(ctx, stream))
                except Exception as e:  # noqa: BLE001 - one unreadable stream: said, the others are placed
                    self.sigStatus.emit(f"Cannot plot {stream}: {e}")
                    out.append(None)
            return out

        if not todo:
            place([])
        else:
            self.runner.submit(f"inspect {len(todo)} stream{'s' if len(todo) != 1 else ''}", inspect_all,
                               on_result=place, owner=self)

    def add_stream(self, stream, component=None, pane: PlotPane | None = None, style: dict | None = None):
        """Add ``stream`` (or one component of it) to ``pane`` (default: the selected pane).

        The stream's kind is learned first by a small sampling job; a dict
        stream with no component given gets one curve per numeric component
        (the others can be switched on in the pane's Curves menu). Returns the
        probe job, or None when the stream was probed before.
        """
        if pane is None or pane not in self.panes:
            pane = self.current_pane if self.current_pane in self.panes else (self.panes[0] if self.panes
                                                                               else self.add_pane())
        probe = self._probes.get(self._key(stream))
        if probe is not None:
            self._place(stream, component, pane, probe, style)
            return None
        return self.runner.submit(f"inspect {stream.stream_id}", probe_stream, stream,
                                  on_result=lambda p: self._on_probe(stream, component, pane, p, style),
                                  on_error=lambda msg: self.sigStatus.emit(f"Cannot plot {stream}: {msg}"))

    def _on_probe(self, stream, component, pane, probe, style=None):
        self._probes[self._key(stream)] = probe
        if pane not in self.panes:
            pane = self.panes[0] if self.panes else self.add_pane()
        self._place(stream, component, pane, probe, style)

    def _place(self, stream, component, pane, probe, style=None):
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
                curve = pane.add_curve(stream, comp, kind, probe.span, colour=(style or {}).get("colour"))
                if style is not None and not style.get("visible", True):
                    curve.set_visible(False)
                if style is not None and style.get("axis") == "right":
                    curve.move_to_axis("right")
                new.append(curve)
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
            for c in [c for c in pane.curves if same_stream(c.stream, stream)]:
                pane.remove_curve(c)

    def refresh_stream(self, stream):
        """Re-read a stream's curves (after a tool run or a purge changed its data)."""
        self._probes.pop(self._key(stream), None)
        curves = [c for p in self.panes for c in p.curves if same_stream(c.stream, stream)]
        self._request(curves, force=True)
        for xy in self.xy_panes:
            if xy.uses(stream):
                self.request_xy(xy)

    def refresh(self):
        self._request(self._all_curves(), force=True)
        for xy in self.xy_panes:
            self.request_xy(xy)

    def curves(self) -> list[CurveInfo]:
        return [CurveInfo(c.stream, c.component, c.label, c.kind, c.data.mode if c.data else None, c.points,
                          c.visible, p, c) for p in self.panes for c in p.curves]

    def _all_curves(self):
        return [c for p in self.panes for c in p.curves]

    @property
    def busy(self) -> bool:
        """Whether any curve or XY pane still waits for data, or a range change is about to re-read them."""
        return (self._debounce.isActive() or self._follow.isActive() or any(c.busy for c in self._all_curves())
                or any(xy.busy for xy in self.xy_panes))

    # -- range ---------------------------------------------------------------
    def interval(self) -> TimeInterval | None:
        """The visible time range (None until a range was set or data was fitted)."""
        if self._interval is None or not self.panes:
            return self._interval
        return interval_from_seconds(*self.panes[0].x_range()) or self._interval

    def set_interval(self, iv: TimeInterval) -> None:
        """Move every pane to ``iv`` and re-read now; never emits ``sigRangeChanged``."""
        self._interval = iv
        if self.panes:
            self._apply_view(iv, self.panes[0])
        self._request(self._all_curves(), force=True)
        for xy in self.xy_panes:
            self.request_xy(xy)
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
        if not self._follow.isActive():
            self._follow.start()

    def _follow_view(self):
        """The view moved: curves whose data no longer serves it ask for the new range, unless their read is under
        way (they ask when it delivers: :meth:`_on_curve_updated`)."""
        self._request(self._all_curves(), follow=True)

    def _on_range_settled(self):
        if not self.panes:
            return
        iv = interval_from_seconds(*self.panes[0].x_range())
        if iv is None:
            return
        known = self._interval
        if known is None:
            # the view's own default range (the epoch's first second) is no range the user chose: the first
            # comes from set_interval or from fitting the first stream placed
            return
        if abs((iv.start - known.start).total_seconds()) > 0.001 or \
                abs((iv.end - known.end).total_seconds()) > 0.001:
            self._interval = iv
            self.sigRangeChanged.emit(iv)
        x = self.cursor_x_in_view()
        for p in self.panes:      # a cursor time the view no longer shows leaves the read-out
            p.show_cursor(x)
        self._request(self._all_curves(), follow=True)
        for xy in self.xy_panes:
            if xy.requested != self.interval():
                self.request_xy(xy)

    def _request(self, curves, force: bool = False, follow: bool = False):
        """Ask ``curves`` for the visible range widened by EXTEND each side, at one bucket per pixel: all of them
        (``force``), or those whose data does not serve it — with ``follow``, not those whose read is under way."""
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
            if follow and c.busy:
                c.behind = True        # asked again when its read delivers (if it still needs to)
                continue
            c.behind = False
            if force or c.needs(ext, buckets):
                c.request(self.runner, ext, buckets)

    def _on_curve_updated(self, curve):
        curve.pane.update_category_axis()
        curve.pane.show_cursor(self.cursor_x_in_view())
        self.sigCurveUpdated.emit(curve)
        if curve.behind and curve.pane in self.panes and curve in curve.pane.curves:
            self._request([curve], follow=True)    # the view moved on while it read

    # -- cursor and time zone ------------------------------------------------
    def set_cursor(self, x: float | None) -> None:
        """Put the shared time cursor at ``x`` (epoch seconds) in every pane; None hides it."""
        if not self.cursor_action.isChecked():
            x = None
        self._cursor_x = x if x is not None else self._cursor_x
        for p in self.panes:
            p.show_cursor(x)

    def clear_cursor(self) -> None:
        """The pointer left the plots: hide the cursor and forget its time, so no later redraw brings it back."""
        self._cursor_x = None
        for p in self.panes:
            p.show_cursor(None)

    def cursor_x_in_view(self) -> float | None:
        """The cursor's time if it is on and inside the visible range, else None."""
        x = self._cursor_x
        if x is None or not self.cursor_action.isChecked() or not self.panes:
            return None
        x0, x1 = self.panes[0].x_range()
        return x if x0 <= x <= x1 else None

    def time_zone(self):
        return self._tz

    def set_time_zone(self, tz) -> None:
        """Label times in ``tz``; the data and the interval stay as they are."""
        self._tz = tz
        for p in self.panes:
            p.axis.set_time_zone(tz)
            p.show_cursor(self.cursor_x_in_view())

    # -- export --------------------------------------------------------------
    def _ask_export_all(self):
        from PySide6.QtWidgets import QFileDialog
        path, _ = QFileDialog.getSaveFileName(self, "Export all panes", "plots.png", "PNG (*.png);;SVG (*.svg)")
        if not path:
            return
        size = {}
        if not path.lower().endswith(".svg"):
            size = self.ask_png_size(self.splitter)
            if size is None:
                return
        try:
            self.export_all(path, **size)
        except (OSError, ValueError) as e:
            self.sigStatus.emit(f"Export failed: {e}")

    def export_image_asking(self, pane, path: str) -> None:
        """A pane's Export: a PNG's size and DPI asked first (:meth:`ask_png_size`); a failure is a message."""
        size = {}
        if not path.lower().endswith(".svg"):
            size = self.ask_png_size(pane.plot_widget)
            if size is None:
                return
        try:
            self.export_image(pane, path, **size)
        except (OSError, ValueError) as e:
            self.sigStatus.emit(f"Export failed: {e}")

    def ask_png_size(self, widget) -> dict | None:
        """Ask for a PNG's width and DPI (:class:`PngSizeDialog`); None when cancelled."""
        from .png_export import PngSizeDialog
        dlg = PngSizeDialog(widget.width(), widget.height(), self)
        if dlg.exec() != PngSizeDialog.DialogCode.Accepted:
            return None
        width, dpi = dlg.size()
        return {"width": width, "dpi": dpi}

    def export_image(self, pane: PlotPane, path: str, width: int | None = None, dpi: int | None = None) -> str:
        """Write the pane as PNG (or SVG when ``path`` ends in .svg); a PNG ``width`` pixels wide (default: as on
        screen, the height in proportion) with ``dpi`` in the file (default 96)."""
        if str(path).lower().endswith(".svg"):
            vb = pane.view_box
            auto = list(vb.state["autoRange"])
            vb.disableAutoRange()  # the shifted items must not move the view while the SVG is written
            try:
                for c in getattr(pane, "curves", ()):   # an XY pane has no time curves
                    if c.data is not None and len(c.data.x):
                        c._draw(origin=float(np.floor(c.data.x[0])))
                export_svg(pane.plot_item, str(path))
            finally:
                for c in getattr(pane, "curves", ()):
                    if c.data is not None:
                        c._draw()
                vb.enableAutoRange(x=auto[0], y=auto[1])
        else:
            from .png_export import render_png
            render_png(pane.plot_widget, str(path), width, dpi)
        self.sigStatus.emit(f"Saved {path}")
        return str(path)

    def export_all(self, path: str, width: int | None = None, dpi: int | None = None) -> str:
        """Every visible pane (time and XY), stacked as on screen, in one PNG ``width`` pixels wide (default: as
        on screen) with ``dpi`` in the file — or one SVG when ``path`` ends in .svg (each pane's vector drawing
        placed at its height on the page)."""
        if not str(path).lower().endswith(".svg"):
            from .png_export import render_png
            render_png(self.splitter, str(path), width, dpi)
            self.sigStatus.emit(f"Saved {path}")
            return str(path)
        import re
        import tempfile
        from xml.dom import minidom
        panes = [p for p in sorted(self.panes + self.xy_panes, key=self.splitter.indexOf) if p.isVisible()]
        doc = minidom.Document()
        root = doc.createElement("svg")
        root.setAttribute("version", "1.2")
        root.setAttribute("baseProfile", "tiny")
        root.setAttribute("xmlns", "http://www.w3.org/2000/svg")
        root.setAttribute("xmlns:xlink", "http://www.w3.org/1999/xlink")
        doc.appendChild(root)
        y = width = 0.0
        with tempfile.TemporaryDirectory() as tmp:
            for i, pane in enumerate(panes):
                part = os.path.join(tmp, f"pane{i}.svg")
                self.export_image(pane, part)
                with open(part, encoding="utf-8") as fh:     # each pane's ids (clip paths) made its own
                    text = re.sub(r'(id="|url\(#|href="#)', rf"\1p{i}_", fh.read())
                sub = minidom.parseString(text.encode("utf-8")).documentElement
                w, h = (float(v) for v in sub.getAttribute("viewBox").split()[2:4])   # pyqtgraph: a viewBox only
                top = y + pane.plot_widget.mapTo(pane, pane.plot_widget.rect().topLeft()).y()  # below its header
                group = doc.createElement("g")              # SVG Tiny (Qt, many viewers) has no nested <svg>
                group.setAttribute("transform", f"translate(0,{top:g})")
                for node in list(sub.childNodes):
                    if getattr(node, "tagName", None) not in ("title", "desc"):
                        group.appendChild(doc.importNode(node, True))
                root.appendChild(group)
                y, width = top + h, max(width, w)
        root.setAttribute("width", f"{width:g}")
        root.setAttribute("height", f"{y:g}")
        root.setAttribute("viewBox", f"0 0 {width:g} {y:g}")
        tmp_path = str(path) + ".part"     # written whole, then renamed
        try:
            with open(tmp_path, "w", encoding="utf-8") as fh:
                doc.writexml(fh, encoding="utf-8")
            os.replace(tmp_path, path)
        finally:
            if os.path.exists(tmp_path):
                os.remove(tmp_path)
        self.sigStatus.emit(f"Saved {path}")
        return str(path)

    def export_pane_csv(self, pane: PlotPane, path: str):
        """Every curve of ``pane`` over the visible range as aligned columns (one row per timestamp any of them
        has; empty where a curve has no instance then). A job; returns it."""
        curves = list(pane.curves)
        iv = self.interval()
        tz = self._tz
        header = ["time", "epoch_ms"] + [c.short_label for c in curves]

        def work(ctx):
            cols = [read_for_csv(ctx, c.stream, c.component, c.kind, iv) for c in curves]
            rows = align_columns(cols)
            tmp = path + ".part"
            try:
                with open(tmp, "w", newline="", encoding="utf-8") as fh:
                    w = csv.writer(fh)
                    w.writerow(header)
                    for i, (ms, vals) in enumerate(rows):
                        if i % 50_000 == 0:
                            ctx.check()
                        w.writerow([from_ms(ms).astimezone(tz).isoformat(timespec="milliseconds"), ms]
                                   + ["" if v is None else v for v in vals])
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
            return len(rows)

        return self.runner.submit(f"export pane ({len(curves)} curves)", work, kind=JobKind.EXPORT, owner=self,
                                  on_result=lambda n: self.sigStatus.emit(f"Wrote {n} rows to {path}"),
                                  on_error=lambda msg: self.sigStatus.emit(f"Export failed: {msg}"))

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

        return self.runner.submit(f"export {curve.label}", work, kind=JobKind.EXPORT, owner=self,
                                  on_result=lambda n: self.sigStatus.emit(f"Wrote {n} rows to {path}"),
                                  on_error=lambda msg: self.sigStatus.emit(f"Export failed: {msg}"))
