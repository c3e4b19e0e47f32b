"""The plotting feature: the plot area and the time-range picker follow the state and write it (a zoom, a typed
range, a preset all end up in ``state.interval``), and the plot commands — Plot (Ctrl+P), Plot in new pane
(Ctrl+Shift+P), XY pane, New pane (Ctrl+N), Maximise (Ctrl+M), Fit (Ctrl+0), Back/Forward (Alt+Left/Right).

On a new connection the panes whose streams exist there are kept (the others are named in the status bar),
and the range moves to the new store's data when it showed none of it.
"""
from __future__ import annotations

import logging
from datetime import timedelta

import shiboken6
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDockWidget, QFrame, QHBoxLayout, QLabel, QMessageBox, QPushButton

from channels.time_interval import TimeInterval
from channels.utils import MAX_DATE, MIN_DATE, utcnow
from hsgui.actions import Context
from hsgui.common.background import JobKind
from hsgui.common.connection import data_span, open_ended_span, stream_span
from hsgui.plotting.plot_area import MANY_CURVES
from hsgui.shell import follow

log = logging.getLogger(__name__)
#: with this many panes or more the bottom docks give the plots room, down to this height
MANY_PANES = 3
BOTTOM_WHEN_MANY_PANES = 150
#: a new store's first range: its last week of data
FIRST_RANGE = timedelta(days=7)


class OfferBar(QFrame):
    """A one-line offer above the plots ("… differs from … — Move to a new pane"); never modal."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setStyleSheet("OfferBar { background: #e8f0fe; border: 1px solid #a8c0e8; }")
        self.label = QLabel("", self)
        self.label.setWordWrap(True)
        self.accept_button = QPushButton("Move to a new pane", self)
        self.keep_button = QPushButton("Keep", self)
        self.keep_button.setFlat(True)
        self.keep_button.clicked.connect(self.hide)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 2, 4, 2)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.accept_button)
        lay.addWidget(self.keep_button)
        self._action = None
        self.accept_button.clicked.connect(self._accept)
        self.hide()

    def offer(self, text: str, action, button: str = "Move to a new pane") -> None:
        self.label.setText(text)
        self.accept_button.setText(button)
        self._action = action
        self.show()

    def _accept(self):
        self.hide()
        if self._action is not None:
            action, self._action = self._action, None
            action()


class Plotting(QObject):
    def __init__(self, shell, picker, offer_bar):
        super().__init__(shell.widget)
        self.shell = shell
        self.plots = shell.plots
        self.picker = picker
        self.offer_bar = offer_bar
        self._manager = None
        state = shell.state
        picker.sigRangeChanged.connect(self._picked)
        picker.sigTimeZoneChanged.connect(lambda tz: setattr(state, "time_zone", tz))
        # a refused entry (e.g. end before start) also shows in the status bar
        picker.sigError.connect(lambda text: shell.show_status(text, 10000) if text else shell.show_status("", 1))
        self.plots.sigRangeChanged.connect(self._zoomed)
        self.plots.sigStatus.connect(lambda text: shell.show_status(text, 8000))
        follow(self, state, "interval", self._show_interval)
        follow(self, state, "range_preset", self._show_preset)
        follow(self, state, "time_zone", self._show_zone)
        follow(self, state, "manager", self._connected)
        follow(self, state, "current_stream", self._show_spans)
        shell.runner.jobFinished.connect(self._job_finished)

    # -- the range and the zone ----------------------------------------------------------------
    def _picked(self, iv):
        state = self.shell.state
        state.interval = iv
        state.range_preset = self.picker.last_preset

    def _zoomed(self, iv):
        if iv is None:
            return
        if self.picker.is_live() and utcnow() - iv.end > timedelta(seconds=5):
            self.picker.set_live(False)  # the user zoomed or panned away from "now": stop following it
        self.shell.state.range_preset = None
        self.shell.state.interval = iv

    def _show_interval(self, iv):
        if iv is None:
            return
        self.picker.set_interval(iv)
        if self.plots.interval() != iv:
            self.plots.set_interval(iv)

    def _show_preset(self, preset):
        self.picker.last_preset = preset

    def _show_zone(self, tz):
        self.picker.set_time_zone(tz, emit=False)
        self.plots.set_time_zone(tz)

    # -- a new connection --------------------------------------------------------------------------
    def _connected(self, manager):
        old, self._manager = self._manager, manager
        panes = self.plots.pane_states() if old is not None and manager is not None else []
        self.plots.clear()
        self.offer_bar.hide()
        if manager is None:
            return
        if panes:
            missing = self.plots.restore_panes(panes)
            if missing:
                self.shell.show_status(f"Not in this store, left out of the plots: {'; '.join(missing[:4])}"
                                       + (" …" if len(missing) > 4 else ""), 15000)
        span = data_span(manager)
        self.picker.set_data_span(span)
        if span is not None:
            self._range_for(span)
        else:
            # only assets (calculated "all up to" a time): find where their versions are, in a job
            self.shell.runner.submit("Span of the asset streams", open_ended_span, manager, kind=JobKind.READ,
                                     owner=self, on_result=lambda sp, m=manager: self._open_ended_span(m, sp))

    def _range_for(self, span):
        """Show the new store's last week of data unless the range shows some of it already."""
        iv = self.shell.state.interval
        if iv is not None and iv.start < span.end and span.start < iv.end:
            return
        start = max(span.start, span.end - FIRST_RANGE)
        self.shell.state.range_preset = None
        self.shell.state.interval = TimeInterval(start, span.end)

    def _open_ended_span(self, manager, span):
        if manager is not self.shell.state.manager or span is None:
            return
        self.picker.set_data_span(span)
        self._range_for(span)

    def _show_spans(self, stream):
        """Feed the picker's "All" and "Calc" presets: the selected stream's data span and calculated span."""
        runner = self.shell.runner
        manager = self.shell.state.manager
        if stream is None:
            runner.cancel_latest("selection span")
            self.picker.set_data_span(data_span(manager) if manager is not None else None)
            self.picker.set_calculated_span(None)
            return
        ci = stream.calculated_intervals
        self.picker.set_calculated_span(ci.span if ci and ci.start != MIN_DATE and ci.end != MAX_DATE else None)
        runner.latest("selection span", f"Span of {stream.stream_id}", stream_span, stream, kind=JobKind.READ,
                      owner=self, on_result=self.picker.set_data_span)

    def _job_finished(self, job):
        if not job.kind.writes_data or self.shell.state.manager is None:
            return
        for s in {c.stream for c in self.plots.curves()}:
            try:
                if s.channel.known_stream(s.stream_id) is not None:  # reads one definition, never lists
                    self.plots.refresh_stream(s)
                else:  # purged with its definition: its curves go
                    self.plots.remove_stream(s)
            except Exception:  # noqa: BLE001 - a plot glitch must not stop the other curves refreshing
                log.exception("plot refresh failed")

    # -- commands ------------------------------------------------------------------------------------
    def plot(self, streams, new_pane: bool = False):
        """Plot ``streams`` in the selected pane (or a new one). When the pane already shows other
        streams, offer to move the new ones to a pane of their own (their units may differ)."""
        if not streams:
            self.shell.show_status("Select a stream in the Streams dock first", 5000)
            return None
        if len(streams) > MANY_CURVES and QMessageBox.question(
                self.shell.widget, "Plot many streams",
                f"Plot {len(streams)} streams?") != QMessageBox.StandardButton.Yes:
            return None
        plots = self.plots
        pane = self.new_pane() if new_pane else plots.current_pane
        if pane is None or pane not in plots.panes:
            pane = plots.panes[0] if plots.panes else self.new_pane()
        names = {c.stream.stream_id.name for c in pane.curves}
        for s in streams:
            plots.add_stream(s, pane=pane)
        new_names = sorted({s.stream_id.name for s in streams} - names)
        if names and new_names:
            shown = ", ".join(sorted(names))
            self.offer_bar.offer(
                f"{', '.join(new_names)} went into the pane with {shown} — on another scale it may flatten them.",
                lambda: self._move_to_new_pane(streams, pane))
        else:
            self.offer_bar.hide()
        return pane

    def _move_to_new_pane(self, streams, pane):
        if not shiboken6.isValid(pane) or pane not in self.plots.panes:
            return
        for s in streams:
            for c in [c for c in pane.curves if c.stream is s]:
                pane.remove_curve(c)
        self.plot(streams, new_pane=True)

    def new_pane(self):
        pane = self.plots.add_pane()
        self._give_plots_room()
        return pane

    def plot_xy(self, x_stream, y_stream):
        """A new XY pane of ``y_stream`` against ``x_stream`` over the visible range."""
        pane = self.plots.add_xy_pane(x_stream, y_stream)
        self._give_plots_room()
        return pane

    def _give_plots_room(self):
        """With three panes or more the bottom docks shrink, so each pane stays tall enough to read."""
        if len(self.plots.panes) < MANY_PANES:
            return
        w = self.shell.widget
        bottom = [d for d in w.findChildren(QDockWidget) if d.isVisible() and not d.isFloating()
                  and not d.visibleRegion().isEmpty()        # the tab shown, not one behind it
                  and w.dockWidgetArea(d) == Qt.DockWidgetArea.BottomDockWidgetArea]
        if bottom and bottom[0].height() > BOTTOM_WHEN_MANY_PANES:
            w.resizeDocks(bottom[:1], [BOTTOM_WHEN_MANY_PANES], Qt.Orientation.Vertical)

    def back(self, _ctx=None):
        self.picker.back()

    def forward(self, _ctx=None):
        self.picker.forward()


def _xy_text(ctx: Context) -> str:
    x, y = ctx.streams
    return f"XY pane: {y.stream_id.name} against {x.stream_id.name}"


def install(shell, picker, offer_bar) -> Plotting:
    p = Plotting(shell, picker, offer_bar)
    add = shell.actions.add
    add("plot.plot", lambda ctx: "Plot" + (f" {len(ctx.streams)} streams" if len(ctx.streams) > 1 else ""),
        lambda ctx: p.plot(ctx.streams), menu="view", order=200, shortcut="Ctrl+P", scopes=("streams",),
        tip="Plot the selected streams (in the selected pane)")
    add("plot.new_pane_with", "Plot in new pane", lambda ctx: p.plot(ctx.streams, new_pane=True), menu="view",
        order=210, shortcut="Ctrl+Shift+P", scopes=("streams",),
        tip="Plot the selected streams in a new pane: a stream on another scale does not flatten the others")
    add("plot.xy", _xy_text, lambda ctx: p.plot_xy(*ctx.streams), scopes=("streams",), order=220,
        when=lambda ctx: len(ctx.streams) == 2,
        tip="The second selected stream's values against the first's, paired on time")
    add("plot.new_pane", "New pane", lambda ctx: p.new_pane(), menu="view", order=300, shortcut="Ctrl+N",
        tip="Add an empty plot pane")
    add("plot.maximise", "Maximise pane", lambda ctx: p.plots.toggle_maximise(), menu="view", order=310,
        shortcut="Ctrl+M", tip="Maximise the selected pane / show all panes again")
    add("plot.fit", "Fit to data", lambda ctx: p.plots.fit_to_data(), menu="view", order=320, shortcut="Ctrl+0",
        tip="Fit the time range to the plotted data")
    add("range.back", "Back", p.back, menu="view", order=400, shortcut="Alt+Left",
        tip="Back to the previous time range")
    add("range.forward", "Forward", p.forward, menu="view", order=410, shortcut="Alt+Right",
        tip="Forward to the next time range")
    return p


__all__ = ["OfferBar", "Plotting", "install", "MANY_PANES", "BOTTOM_WHEN_MANY_PANES"]
