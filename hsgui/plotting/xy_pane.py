"""An XY pane: one stream's values against another's, paired on time, over the plot area's time range.

Each X instance is paired with the latest Y instance at or before it (:func:`.xy_data.align`); the pairing
runs as a job on every range change (the previous one is cancelled, a late result of an older request is
dropped). The header says how many points were paired and how many X instances found no Y; hovering a
point reads out its time and both values.
"""
from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from channels.utils import from_ms
from hsgui.common.background import JobKind
from hsgui.common.timefmt import format_time, to_zone

from .curve import LEFT_AXIS_WIDTH, PALETTE
from .plot_widget import FocusPlotWidget
from .xy_data import MAX_POINTS, read_xy

#: a hovered point is read out when the mouse is this close to it (pixels)
HOVER_PX = 12


def side_label(stream, component) -> str:
    return str(stream.stream_id) + (f" · {component}" if component is not None else "")


class XYPane(QWidget):
    """Y against X, aligned on time; see the module docstring."""

    kind = "xy"

    def __init__(self, area, x_stream, x_component, y_stream, y_component, colour: str | None = None):
        super().__init__()
        self.area = area
        self.x_stream, self.x_component = x_stream, x_component
        self.y_stream, self.y_component = y_stream, y_component
        self.x_components: list = []
        self.y_components: list = []
        self.colour = colour or PALETTE[0]
        self.log_x = self.log_y = False
        self.runner = None           # the job runner of its reads (JobRunner.latest: only the newest one answers)
        self.requested = None        # the time range of the last read (PlotArea.request_xy)
        self.result = None           # the last XYRead drawn
        self.error: str | None = None
        self._shown = (np.empty(0), np.empty(0), np.empty(0))   # drawn x, y (view coordinates) and t (ms)

        self.plot_widget = FocusPlotWidget()
        self.plot_item = self.plot_widget.getPlotItem()
        self.view_box = self.plot_item.getViewBox()
        self.plot_item.showGrid(x=True, y=True, alpha=0.25)
        self.plot_item.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        brush = pg.mkColor(self.colour)
        brush.setAlpha(150)
        self.scatter = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(brush))
        self.plot_item.addItem(self.scatter)
        self.marker = pg.ScatterPlotItem(size=11, pen=pg.mkPen("#000000", width=1.5), brush=None)
        self.marker.setZValue(10)
        self.plot_item.addItem(self.marker, ignoreBounds=True)

        self.title = QLabel()
        self.title.setTextFormat(Qt.RichText)
        self.title.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.count_label = QLabel()
        self.count_label.setStyleSheet("color: #555;")
        self.readout = QLabel()
        self.readout.setTextFormat(Qt.RichText)
        self.readout.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        swap = QToolButton(text="Swap X/Y")
        swap.setToolTip("Plot X against Y instead")
        swap.clicked.connect(self.swap)
        self.options_button = QToolButton(text="Options", popupMode=QToolButton.InstantPopup)
        self.options_menu = QMenu(self.options_button)
        self.options_menu.aboutToShow.connect(self._fill_options_menu)
        self.options_button.setMenu(self.options_menu)
        export = QToolButton(text="Export")
        export.setToolTip("Save this pane as PNG or SVG")
        export.clicked.connect(self._ask_export)
        self.maximise_button = QToolButton(text="⤢")
        self.maximise_button.setToolTip("Maximise this pane (again: show all panes)")
        self.maximise_button.clicked.connect(lambda: area.toggle_maximise(self))
        self.close_button = QToolButton(text="✕")
        self.close_button.setToolTip("Remove this XY pane")
        self.close_button.clicked.connect(lambda: area.remove_xy_pane(self))
        head = QHBoxLayout()
        head.setContentsMargins(4, 0, 4, 0)
        head.addWidget(QLabel("<b>XY</b>"))
        head.addWidget(self.title, 1)
        buttons = (swap, self.options_button, export, self.maximise_button, self.close_button)
        for b in buttons:
            b.setAutoRaise(True)
            head.addWidget(b)
        self.plot_widget.set_header_buttons(buttons)   # one Tab stop: the plot; the Menu key offers these
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(head)
        info = QHBoxLayout()
        info.setContentsMargins(4, 0, 4, 0)
        info.setSpacing(16)
        info.addWidget(self.count_label)
        info.addWidget(self.readout, 1)
        lay.addLayout(info)
        lay.addWidget(self.plot_widget, 1)
        self.plot_widget.scene().sigMouseMoved.connect(self._on_mouse)
        self._update_labels()

    # -- what it shows ---------------------------------------------------------------------------------------
    @property
    def x_label(self) -> str:
        return side_label(self.x_stream, self.x_component)

    @property
    def y_label(self) -> str:
        return side_label(self.y_stream, self.y_component)

    def _update_labels(self) -> None:
        self.title.setText(f"<span style='color:{self.colour}'>■</span> Y {html.escape(self.y_label)} "
                           f"<span style='color:#777'>against</span> X {html.escape(self.x_label)}")
        self.plot_item.setLabel("bottom", self.x_label + (" (log)" if self.log_x else ""))
        self.plot_item.setLabel("left", self.y_label + (" (log)" if self.log_y else ""))

    def uses(self, stream) -> bool:
        key = (stream.channel.channel_id, stream.stream_id)
        return any((s.channel.channel_id, s.stream_id) == key for s in (self.x_stream, self.y_stream))

    def set_components(self, x_component=..., y_component=...) -> None:
        """Pick the dict component of either side (``...``: unchanged) and re-read."""
        if x_component is not ...:
            self.x_component = x_component
        if y_component is not ...:
            self.y_component = y_component
        self._update_labels()
        self.area.request_xy(self)

    def swap(self) -> None:
        self.x_stream, self.y_stream = self.y_stream, self.x_stream
        self.x_component, self.y_component = self.y_component, self.x_component
        self.x_components, self.y_components = self.y_components, self.x_components
        self.log_x, self.log_y = self.log_y, self.log_x
        self.plot_item.setLogMode(x=self.log_x, y=self.log_y)
        self._update_labels()
        self.area.request_xy(self)

    # -- options (kept in workspaces) ------------------------------------------------------------------------
    def options(self) -> dict:
        return {"log_x": self.log_x, "log_y": self.log_y, "colour": self.colour}

    def set_options(self, opts: dict) -> None:
        self.set_log(bool(opts.get("log_x", False)), bool(opts.get("log_y", False)))

    def set_log(self, log_x: bool, log_y: bool) -> None:
        """Log-scale either axis; points with a value <= 0 on a log axis are left out (and counted)."""
        self.log_x, self.log_y = log_x, log_y
        self.plot_item.setLogMode(x=log_x, y=log_y)
        self._update_labels()
        if self.result is not None:
            self._draw()

    def _fill_options_menu(self):
        m = self.options_menu
        m.clear()
        a = m.addAction("Log-scale x")
        a.setCheckable(True)
        a.setChecked(self.log_x)
        a.toggled.connect(lambda on: self.set_log(on, self.log_y))
        a = m.addAction("Log-scale y")
        a.setCheckable(True)
        a.setChecked(self.log_y)
        a.toggled.connect(lambda on: self.set_log(self.log_x, on))
        for role, comps, current in (("X", self.x_components, self.x_component),
                                     ("Y", self.y_components, self.y_component)):
            if not comps:
                continue
            sub = m.addMenu(f"{role} component")
            group = QActionGroup(sub)
            for comp in comps:
                a = sub.addAction(str(comp))
                a.setCheckable(True)
                a.setChecked(comp == current)
                group.addAction(a)
                if role == "X":
                    a.triggered.connect(lambda _on=False, c=comp: self.set_components(x_component=c))
                else:
                    a.triggered.connect(lambda _on=False, c=comp: self.set_components(y_component=c))

    # -- reading ---------------------------------------------------------------------------------------------
    def request(self, runner, interval) -> None:
        if self.result is None:
            self.count_label.setText("reading…")
        known = None if self.result is None else (self.x_components, self.y_components)   # probed once
        self.runner = runner
        runner.latest(self, f"XY {self.y_label} against {self.x_label}", read_xy, self.x_stream, self.x_component,
                      self.y_stream, self.y_component, interval, MAX_POINTS, known, kind=JobKind.READ, owner=self,
                      on_result=self._on_data, on_error=self._on_error)

    @property
    def busy(self) -> bool:
        return self.runner is not None and self.runner.pending(self)

    def cancel(self) -> None:
        if self.runner is not None:
            self.runner.cancel_latest(self)

    def _on_error(self, msg):
        self.error = msg
        self.count_label.setText("cannot plot")
        self.readout.setText(f"<span style='color:#c62828'>{html.escape(msg)}</span>")
        self.area.sigStatus.emit(f"XY pane: {msg}")

    def _on_data(self, result):
        self.error = None
        self.result = result
        self.x_component, self.y_component = result.x_component, result.y_component
        self.x_components, self.y_components = result.x_components, result.y_components
        self._update_labels()
        self._draw()

    def _draw(self) -> None:
        r = self.result
        x, y, t = r.pairs.x, r.pairs.y, r.pairs.t
        keep = np.ones(len(x), dtype=bool)
        if self.log_x:
            keep &= x > 0
        if self.log_y:
            keep &= y > 0
        hidden = int(len(x) - np.count_nonzero(keep))
        x, y, t = x[keep], y[keep], t[keep]
        # the view's own coordinates: log10 on a log axis (the scatter is drawn in view coordinates)
        vx = np.log10(x) if self.log_x else x
        vy = np.log10(y) if self.log_y else y
        self._shown = (vx, vy, t)
        self.scatter.setData(vx, vy)
        self.marker.setData([], [])
        parts = [f"{r.paired:,} point{'s' if r.paired != 1 else ''}"]
        if r.pairs.dropped:
            parts.append(f"{r.pairs.dropped:,} X without a Y")
        if r.stride > 1:
            parts.append(f"1 in {r.stride} drawn")
        if hidden:
            parts.append(f"{hidden:,} ≤ 0 not on the log axis")
        self.count_label.setText(" · ".join(parts))
        if len(r.pairs.x) and not len(x):
            self.readout.setText("<span style='color:#c62828'>Every value is ≤ 0: a log axis cannot show "
                                 "them (Options › turn off log scale)</span>")
        elif not r.paired:
            self.readout.setText("<span style='color:#777'>No X instance in this time range has a Y "
                                 "instance at or just before it</span>")
        else:
            self.readout.setText("<span style='color:#777'>hover a point for its time and values</span>")
        self.view_box.autoRange()

    # -- hover -----------------------------------------------------------------------------------------------
    def point_near(self, scene_pos):
        """Index (into the drawn points) of the point within HOVER_PX of ``scene_pos``, or None."""
        vx, vy, _t = self._shown
        if not len(vx) or not self.view_box.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.view_box.mapSceneToView(scene_pos)
        sx, sy = self.view_box.viewPixelSize()
        if not sx or not sy:
            return None
        d2 = ((vx - p.x()) / sx) ** 2 + ((vy - p.y()) / sy) ** 2
        i = int(np.argmin(d2))
        return i if d2[i] <= HOVER_PX ** 2 else None

    def _on_mouse(self, scene_pos):
        i = self.point_near(scene_pos)
        if i is None:
            self.marker.setData([], [])
            return
        vx, vy, _t = self._shown
        self.marker.setData([vx[i]], [vy[i]])
        self.readout.setText(self.describe_point(i))

    def describe_point(self, i: int) -> str:
        vx, vy, t = self._shown
        x = 10 ** vx[i] if self.log_x else vx[i]
        y = 10 ** vy[i] if self.log_y else vy[i]
        tz = self.area.time_zone()
        when = from_ms(int(t[i]))
        return (f"{format_time(when, tz, with_ms=True)} {to_zone(when, tz).strftime('%Z')} &nbsp; "
                f"X <b>{x:.6g}</b> &nbsp; Y <b>{y:.6g}</b>")

    # -- export ----------------------------------------------------------------------------------------------
    def _ask_export(self):
        path, _ = QFileDialog.getSaveFileName(self, "Export XY pane", "xy.png", "PNG (*.png);;SVG (*.svg)")
        if path:
            self.area.export_image_asking(self, path)

    def detach(self) -> None:
        self.cancel()
