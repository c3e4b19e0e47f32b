"""One plot pane: a pyqtgraph plot with the zone-aware time axis, a legend, a cursor read-out
and stream drops; holds its curves.
"""
from __future__ import annotations

import html
import logging

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QMenu, QSizePolicy,
                               QToolButton, QVBoxLayout, QWidget)


from hsgui.common.mime import streams_from_mime
from hsgui.common.timefmt import (format_time, seconds_to_datetime,
                                  to_zone, zone_name)

from .plot_widget import FocusPlotWidget
from .time_axis import TimeAxisItem

from .curve import LEFT_AXIS_WIDTH, PALETTE, PlotCurve, same_stream

log = logging.getLogger(__name__)


class _DropPlotWidget(FocusPlotWidget):
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

    def leaveEvent(self, ev):
        self.pane.area.clear_cursor()     # the pointer left the pane: no crosshair or read-out stays behind
        super().leaveEvent(ev)


class PlotPane(QWidget):
    """One plot with a header (curves menu, fit, export, close) and a value read-out."""

    def __init__(self, area):  # the PlotArea it belongs to
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
        self.plot_item.addLegend(offset=(8, 8), labelTextSize="8pt", brush=pg.mkBrush(255, 255, 255, 200),
                                 colCount=4)
        self.legend_inside = True
        self.set_legend_inside(False)   # above the data by default: a legend inside covers curves
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
        em.addAction("Visible data of every curve as CSV (aligned columns)…", self._ask_pane_csv)
        self.export_button.setMenu(em)
        self._right: pg.ViewBox | None = None
        self.log_y = False
        self.log_right = False
        self.ref_value: float | None = None
        self.ref_line: pg.InfiniteLine | None = None
        self.options_button = QToolButton(text="Options", popupMode=QToolButton.InstantPopup)
        self.options_menu = QMenu(self.options_button)
        self.options_menu.aboutToShow.connect(self._fill_options_menu)
        self.options_button.setMenu(self.options_menu)
        fit = QToolButton(text="Fit")
        fit.setToolTip("Fit the time range to the data of every pane")
        fit.clicked.connect(area.fit_to_data)
        self.maximise_button = QToolButton(text="⤢")
        self.maximise_button.setToolTip("Maximise this pane (again: show all panes) — Ctrl+M")
        self.maximise_button.clicked.connect(lambda: area.toggle_maximise(self))
        close = QToolButton(text="✕")
        close.setToolTip("Remove this pane")
        close.clicked.connect(lambda: area.remove_pane(self))
        self.current_mark = QLabel("▶")
        self.current_mark.setToolTip("The selected pane: new plots go here (click a pane to select it)")
        self.current_mark.setStyleSheet("color: #1565c0;")
        self.current_mark.setVisible(False)
        head = QHBoxLayout()
        head.setContentsMargins(4, 0, 4, 0)
        head.addWidget(self.current_mark)
        head.addWidget(self.readout, 1)
        buttons = (self.curves_button, self.options_button, fit, self.export_button, self.maximise_button, close)
        for b in buttons:
            b.setAutoRaise(True)
            head.addWidget(b)
        self.plot_widget.set_header_buttons(buttons)   # one Tab stop: the plot; the Menu key offers these
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(head)
        lay.addWidget(self.plot_widget, 1)
        self.plot_widget.scene().sigMouseMoved.connect(self._on_mouse)
        self.plot_widget.scene().sigMouseClicked.connect(lambda _ev: area.set_current_pane(self))
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
        else:                            # over an axis or the legend row: not at a time of the plot
            self.area.clear_cursor()

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

    def set_legend_inside(self, inside: bool) -> None:
        """The legend over the data (top left, draggable) or in the title row above the plot, which these
        panes leave empty (never covers data)."""
        if inside == self.legend_inside:
            return
        self.legend_inside = inside
        legend = self.plot_item.legend
        if inside:
            legend.opts["offset"] = (8, 8)
            legend.setColumnCount(1)
            legend.setParentItem(self.view_box)
        else:
            legend.opts["offset"] = (LEFT_AXIS_WIDTH, 1)
            legend.setColumnCount(4)
            legend.setParentItem(self.plot_item)
        self.fit_legend_row()

    def fit_legend_row(self) -> None:
        """Make the title row as tall as the legend above the plot (nothing when it is inside or empty)."""
        legend = self.plot_item.legend
        legend.updateSize()
        h = 0 if self.legend_inside or not legend.items else int(legend.boundingRect().height()) + 2
        legend.setVisible(bool(legend.items))   # an empty legend box would cover the plot's top-left corner
        self.plot_item.titleLabel.setMaximumHeight(h)
        self.plot_item.layout.setRowFixedHeight(0, h)

    # -- second y axis -------------------------------------------------------
    def right_view(self) -> pg.ViewBox:
        """The view box of the right y axis (made on first use), x-linked to the pane, its own y auto-range."""
        if self._right is None:
            pi = self.plot_item
            vb = self._right = pg.ViewBox()
            vb.setMouseEnabled(x=True, y=False)
            pi.scene().addItem(vb)
            pi.getAxis("right").linkToView(vb)
            vb.setXLink(pi)
            vb.enableAutoRange(axis="y")
            vb.setAutoVisible(y=True)
            sync = lambda *_: vb.setGeometry(pi.vb.sceneBoundingRect())  # noqa: E731
            pi.vb.sigResized.connect(sync)
            sync()
        return self._right

    def update_right_axis(self) -> None:
        """Show the right axis while a curve uses it."""
        on = any(c.axis == "right" for c in self.curves)
        self.plot_item.showAxis("right", on)
        if on:
            self.plot_item.getAxis("right").setWidth(LEFT_AXIS_WIDTH)

    # -- plot options (kept in workspaces) ----------------------------------
    def options(self) -> dict:
        return {"log_y": self.log_y, "log_right": self.log_right, "reference_line": self.ref_value,
                "legend_inside": self.legend_inside}

    def set_options(self, opts: dict) -> None:
        self.set_log_y(bool(opts.get("log_y", False)))
        self.set_log_right(bool(opts.get("log_right", False)))
        ref = opts.get("reference_line")
        self.set_reference_line(float(ref) if isinstance(ref, (int, float)) and not isinstance(ref, bool) else None)
        self.set_legend_inside(bool(opts.get("legend_inside", False)))

    def set_log_y(self, on: bool) -> None:
        """Log-scale y: values <= 0 are left out (a log axis cannot show them)."""
        if on == self.log_y:
            return
        self.log_y = on
        self.plot_item.setLogMode(x=False, y=on)
        for c in self.curves:
            if c.data is not None:
                c._draw()
        self.set_reference_line(self.ref_value)

    def axis_log(self, axis: str) -> bool:
        """Whether the ``"left"`` or ``"right"`` y axis is log-scaled."""
        return self.log_right if axis == "right" else self.log_y

    def set_log_right(self, on: bool) -> None:
        """Log-scale the right y axis; its curves' values <= 0 are left out, as on the left."""
        if on == self.log_right:
            return
        self.log_right = on
        self.right_view()
        self.plot_item.getAxis("right").setLogMode(False, on)
        for c in self.curves:
            if c.axis == "right":
                c.line.setLogMode(False, on)
                if c.data is not None:
                    c._draw()

    def set_reference_line(self, value: float | None) -> None:
        """A horizontal line at ``value`` (a threshold, a set point); None removes it. Drag it to move it."""
        if self.ref_line is not None:
            self.plot_item.removeItem(self.ref_line)
            self.ref_line = None
        self.ref_value = value
        if value is None:
            return
        import math
        if self.log_y and value <= 0:
            return   # not on a log axis; kept in the options for when the axis is linear again
        pos = math.log10(value) if self.log_y else value
        self.ref_line = pg.InfiniteLine(pos=pos, angle=0, movable=True, pen=pg.mkPen("#c62828", width=1,
                                                                                      style=Qt.DashLine),
                                        label=f"{value:.6g}", labelOpts={"position": 0.02, "color": "#c62828"})
        self.ref_line.sigPositionChangeFinished.connect(self._ref_moved)
        self.plot_item.addItem(self.ref_line, ignoreBounds=False)

    def _ref_moved(self, line):
        y = line.value()
        self.ref_value = 10 ** y if self.log_y else y
        line.label.setFormat(f"{self.ref_value:.6g}")

    def _ask_reference_line(self):
        from PySide6.QtWidgets import QInputDialog
        value, ok = QInputDialog.getDouble(self, "Reference line", "Horizontal line at y =",
                                           self.ref_value if self.ref_value is not None else 0.0, -1e300, 1e300, 6)
        if ok:
            self.set_reference_line(value)

    def _fill_options_menu(self):
        m = self.options_menu
        m.clear()
        a = m.addAction("Log-scale y")
        a.setCheckable(True)
        a.setChecked(self.log_y)
        a.toggled.connect(self.set_log_y)
        a = m.addAction("Log-scale right y")
        a.setCheckable(True)
        a.setChecked(self.log_right)
        a.toggled.connect(self.set_log_right)
        m.addAction("Reference line…", self._ask_reference_line)
        a = m.addAction("Remove reference line", lambda: self.set_reference_line(None))
        a.setEnabled(self.ref_value is not None)

    # -- menus ---------------------------------------------------------------
    def _fill_curves_menu(self):
        m = self.curves_menu
        m.clear()
        a = m.addAction("Legend inside the plot (drag to move)")
        a.setCheckable(True)
        a.setChecked(self.legend_inside)
        a.toggled.connect(self.set_legend_inside)
        m.addSeparator()
        if not self.curves:
            m.addAction("(drop a stream here)").setEnabled(False)
        streams = []
        for c in self.curves:
            if not any(same_stream(c.stream, s) for s in streams):
                streams.append(c.stream)
        self._fill_xy_menu(m)
        for s in streams:
            for c in [c for c in self.curves if same_stream(c.stream, s)]:
                sub = m.addMenu(c.label)
                a = sub.addAction("Show")
                a.setCheckable(True)
                a.setChecked(c.visible)
                a.toggled.connect(c.set_visible)
                a = sub.addAction("On the right axis")
                a.setCheckable(True)
                a.setChecked(c.axis == "right")
                a.toggled.connect(lambda on, c=c: c.move_to_axis("right" if on else "left"))
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

    def _fill_xy_menu(self, m):
        """"XY pane of…": any two of this pane's curves (the first few), one against the other."""
        curves = self.curves[:5]
        if len(curves) < 2:
            return
        sub = m.addMenu("New XY pane of…")
        for y in curves:
            for x in curves:
                if x is not y:
                    sub.addAction(f"{y.short_label} against {x.short_label}",
                                  lambda x=x, y=y: self.area.add_xy_pane(x.stream, y.stream, x.component,
                                                                         y.component))
        m.addSeparator()

    def _ask_export(self, fmt):
        path, _ = QFileDialog.getSaveFileName(self, "Export pane", f"plot.{fmt}", f"{fmt.upper()} (*.{fmt})")
        if path:
            self.area.export_image_asking(self, path)

    def _ask_pane_csv(self):
        path, _ = QFileDialog.getSaveFileName(self, "Export visible data", "pane.csv", "CSV (*.csv)")
        if path:
            self.area.export_pane_csv(self, path)

    def _ask_csv(self, curve):
        path, _ = QFileDialog.getSaveFileName(self, "Export visible data", "curve.csv", "CSV (*.csv)")
        if path:
            self.area.export_curve_csv(curve, path)

    # -- curves --------------------------------------------------------------
    def add_curve(self, stream, component, kind, span, colour: str | None = None) -> PlotCurve:
        used = {c.colour for c in self.curves}
        colour = colour or next((p for p in PALETTE if p not in used), PALETTE[len(self.curves) % len(PALETTE)])
        curve = PlotCurve(self, stream, component, kind, colour, span)
        curve.sigUpdated.connect(self.area._on_curve_updated)
        self.curves.append(curve)
        self.fit_legend_row()
        return curve

    def remove_curve(self, curve: PlotCurve):
        if curve in self.curves:
            self.curves.remove(curve)
            curve.detach()
            self.show_cursor(self.area.cursor_x_in_view())   # its name leaves the read-out now, not on the next mouse move
            self.fit_legend_row()
            self.update_right_axis()

    def find(self, stream, component) -> PlotCurve | None:
        return next((c for c in self.curves if c.matches(stream, component)), None)
