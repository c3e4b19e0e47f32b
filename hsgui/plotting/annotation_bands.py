"""Annotations drawn on a time pane: a translucent band per range, a line per instant, each with its label;
hovering shows label and note. Also the pane's two ways of asking for a new annotation: Shift+drag selects a
range, and the context menu's "Annotate the visible range…" / "Mark an instant here…".

The items are in view coordinates (epoch seconds), so they follow zoom and pan like the curves; they are not
movable (editing happens in the Annotations dock) and never count for auto-range. The pane does not know
this module: :class:`PaneAnnotations` attaches itself to a pane (``PlotArea.add_pane`` does it).
"""
from __future__ import annotations

import html

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QToolTip

from hsgui.common.timefmt import datetime_to_seconds, seconds_to_datetime

DEFAULT_COLOUR = "#7e57c2"
BAND_ALPHA = 40
#: at most this many annotations are drawn on a pane (the Annotations dock lists them all)
MAX_BANDS = 500


def _colour(a) -> QColor:
    c = QColor(a.colour or DEFAULT_COLOUR)
    return c if c.isValid() else QColor(DEFAULT_COLOUR)


class PaneAnnotations:
    """The annotation items of one pane and its gestures; ``request(start, end)`` is called when the user asks
    for a new annotation (``start`` None: an instant at ``end``)."""

    def __init__(self, pane, request):
        self.pane = pane
        self.request = request
        self.annotations: list = []
        self.items: list = []          # (annotation, graphics item), in the order drawn
        self._selecting: pg.LinearRegionItem | None = None
        self._drag_x0: float | None = None
        self._menu_x: float | None = None
        vb = pane.view_box
        self._drag = vb.mouseDragEvent
        vb.mouseDragEvent = self._mouse_drag        # pyqtgraph dispatches drags by attribute: Shift+drag is ours
        self._raise_menu = vb.raiseContextMenu
        vb.raiseContextMenu = self._context_menu
        vb.menu.addSeparator()
        self.annotate_action = vb.menu.addAction("Annotate the visible range…", self._annotate_view)
        self.instant_action = vb.menu.addAction("Mark an instant here…", self._annotate_instant)
        pane.plot_widget.scene().sigMouseMoved.connect(self._hover)
        pane.annotation_bands = self

    # -- drawing -----------------------------------------------------------------------------------
    def set_annotations(self, annotations) -> None:
        """Replace what is drawn by ``annotations`` (a list of :class:`channels.annotations.Annotation`)."""
        for _a, item in self.items:
            self.pane.plot_item.removeItem(item)
        self.items = []
        self.annotations = list(annotations)[:MAX_BANDS]
        for i, a in enumerate(self.annotations):
            self.items.append((a, self._make_item(a, 0.95 - 0.09 * (i % 4))))   # staggered: neighbours' labels

    def _make_item(self, a, height: float):
        colour = _colour(a)
        tip = self.tooltip(a)
        end = datetime_to_seconds(a.end)
        line_colour = QColor(colour)
        line_colour.setAlpha(200)
        if a.start is None:
            item = pg.InfiniteLine(pos=end, angle=90, movable=False, pen=pg.mkPen(line_colour, width=2),
                                   label=a.label, labelOpts={"position": height, "color": colour.darker(130),
                                                             "anchors": [(0, 0), (0, 0)]})
        else:
            fill = QColor(colour)
            fill.setAlpha(BAND_ALPHA)
            item = pg.LinearRegionItem(values=(datetime_to_seconds(a.start), end), orientation="vertical",
                                       movable=False, brush=pg.mkBrush(fill),
                                       pen=pg.mkPen(line_colour, width=1))
            pg.InfLineLabel(item.lines[0], text=a.label, position=height, anchors=[(0, 0), (0, 0)],
                            color=colour.darker(130))
        item.setZValue(-20)      # under the curves
        item.setToolTip(tip)
        self.pane.plot_item.addItem(item, ignoreBounds=True)
        return item

    @staticmethod
    def tooltip(a) -> str:
        text = f"<b>{html.escape(a.label)}</b>"
        if a.note:
            text += "<br>" + html.escape(a.note).replace("\n", "<br>")
        return text

    def region_of(self, a) -> tuple[float, float] | float:
        """What is drawn for ``a``: ``(x0, x1)`` of its band or ``x`` of its line (epoch seconds)."""
        for b, item in self.items:
            if b == a:
                return item.getRegion() if isinstance(item, pg.LinearRegionItem) else item.value()
        raise KeyError(a)

    def at(self, x: float) -> list:
        """The annotations drawn at ``x`` (bands containing it, lines within 3 pixels)."""
        px = self._seconds_per_pixel()
        out = []
        for a, item in self.items:
            if isinstance(item, pg.LinearRegionItem):
                x0, x1 = item.getRegion()
                if x0 <= x <= x1:
                    out.append(a)
            elif abs(item.value() - x) <= 3 * px:
                out.append(a)
        return out

    def _seconds_per_pixel(self) -> float:
        x0, x1 = self.pane.x_range()
        return (x1 - x0) / max(1.0, float(self.pane.view_box.width()))

    def _hover(self, pos):
        vb = self.pane.view_box
        if not self.items or not vb.sceneBoundingRect().contains(pos):
            return
        found = self.at(vb.mapSceneToView(pos).x())
        if found:
            view = self.pane.plot_widget
            QToolTip.showText(view.mapToGlobal(view.mapFromScene(pos)),
                              "<br>".join(self.tooltip(a) for a in found[:5]), view)
        elif QToolTip.isVisible():
            QToolTip.hideText()

    # -- gestures ----------------------------------------------------------------------------------
    def _mouse_drag(self, ev, axis=None):
        shift = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if ev.button() != Qt.MouseButton.LeftButton or (not shift and self._selecting is None):
            return self._drag(ev, axis) if axis is not None else self._drag(ev)
        ev.accept()
        vb = self.pane.view_box
        x = vb.mapSceneToView(ev.scenePos()).x()
        if ev.isStart() or self._selecting is None:
            self._drag_x0 = vb.mapSceneToView(ev.buttonDownScenePos()).x()
            self._selecting = pg.LinearRegionItem(values=(self._drag_x0, x), movable=False,
                                                  brush=pg.mkBrush(21, 101, 192, 50))
            self.pane.plot_item.addItem(self._selecting, ignoreBounds=True)
        self._selecting.setRegion(sorted((self._drag_x0, x)))
        if ev.isFinish():
            x0, x1 = sorted((self._drag_x0, x))
            self.pane.plot_item.removeItem(self._selecting)
            self._selecting = None
            if x1 > x0:
                self.request(seconds_to_datetime(x0), seconds_to_datetime(x1))

    def _context_menu(self, ev):
        self._menu_x = self.pane.view_box.mapSceneToView(ev.scenePos()).x()
        return self._raise_menu(ev)

    def _annotate_view(self):
        x0, x1 = self.pane.x_range()
        self.request(seconds_to_datetime(x0), seconds_to_datetime(x1))

    def _annotate_instant(self):
        x = self._menu_x
        if x is None:
            x0, x1 = self.pane.x_range()
            x = (x0 + x1) / 2
        self.request(None, seconds_to_datetime(x))
