"""Annotations drawn on a time pane: a translucent band per range, a line per instant, each with its label;
hovering shows label and note. Also the pane's two ways of asking for a new annotation: Shift+drag selects a
range, and the context menu's "Annotate the visible range…" / "Mark an instant here…".

The bands and lines are in view coordinates (epoch seconds), so they follow zoom and pan like the curves; they
are not movable (editing happens in the Annotations dock) and never count for auto-range. The labels are laid
out in pixels after every zoom, pan or resize (:func:`layout_labels`): a label starts at its band's left edge or
the pane's, whichever is further right (a band that began before the visible range keeps its label readable,
never cut to its tail), takes the first of a few rows where it touches no other label, is shortened with "…"
only where the pane ends, and is left out when no row has room (hovering the band still shows it). The pane
does not know this module: :class:`PaneAnnotations` attaches itself to a pane (``PlotArea.add_pane`` does it).
"""
from __future__ import annotations

import html

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF
from PySide6.QtWidgets import QApplication, QGraphicsRectItem, QGraphicsSimpleTextItem, QToolTip

from hsgui.common.timefmt import datetime_to_seconds, seconds_to_datetime

DEFAULT_COLOUR = "#7e57c2"
BAND_ALPHA = 40
#: at most this many annotations are drawn on a pane (the Annotations dock lists them all)
MAX_BANDS = 500
LABEL_ROWS = 4       # label rows at the top of a pane
LABEL_GAP = 6        # pixels between two labels of a row
LABEL_PAD = 3        # pixels between a band's (or the pane's) left edge and its label
MIN_LABEL_PX = 28    # a label shortened below this is left out instead


def layout_labels(entries, width: float, rows: int = LABEL_ROWS, gap: float = LABEL_GAP,
                  pad: float = LABEL_PAD, min_width: float = MIN_LABEL_PX) -> dict:
    """Where each label goes: ``entries`` are ``(key, left, right, text_width)`` in pixels of a pane ``width``
    wide (``right`` None for an instant); returns ``{key: (row, x, label_width)}`` for the labels shown.

    A label starts ``pad`` right of ``max(left, 0)``, goes in the first row whose labels end ``gap`` before
    it, and is as wide as its text or the room left to the pane's right edge; labels of annotations out of
    view, without room, or that fit no row are not in the answer."""
    ends = [float("-inf")] * rows
    out = {}
    for key, left, right, text_width in sorted(entries, key=lambda e: e[1]):
        if left > width or (right if right is not None else left) < 0:
            continue
        x = max(left, 0.0) + pad
        room = width - x
        w = min(text_width, room)
        if w < min(text_width, min_width):
            continue
        row = next((r for r in range(rows) if ends[r] + gap <= x), None)
        if row is None:
            continue
        ends[row] = x + w
        out[key] = (row, x, w)
    return out


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
        self._labels: dict = {}        # id(annotation) -> its label item (in the view box's pixels)
        self._shown: list = []
        self._font = QApplication.font()
        self._font.setPointSizeF(max(7.0, self._font.pointSizeF() * 0.9))
        vb = pane.view_box
        vb.sigRangeChanged.connect(lambda *_: self.layout_labels())
        vb.sigResized.connect(lambda *_: self.layout_labels())
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
        for label in self._labels.values():
            label.setParentItem(None)
            if label.scene() is not None:
                label.scene().removeItem(label)
        self._labels = {}
        self.annotations = list(annotations)[:MAX_BANDS]
        for a in self.annotations:
            self.items.append((a, self._make_item(a)))
        self.layout_labels()

    def _make_item(self, a):
        colour = _colour(a)
        tip = self.tooltip(a)
        end = datetime_to_seconds(a.end)
        line_colour = QColor(colour)
        line_colour.setAlpha(200)
        if a.start is None:
            item = pg.InfiniteLine(pos=end, angle=90, movable=False, pen=pg.mkPen(line_colour, width=2))
        else:
            fill = QColor(colour)
            fill.setAlpha(BAND_ALPHA)
            item = pg.LinearRegionItem(values=(datetime_to_seconds(a.start), end), orientation="vertical",
                                       movable=False, brush=pg.mkBrush(fill),
                                       pen=pg.mkPen(line_colour, width=1))
        item.setZValue(-20)      # under the curves
        item.setToolTip(tip)
        self.pane.plot_item.addItem(item, ignoreBounds=True)
        return item

    # -- labels ------------------------------------------------------------------------------------------
    def _label_item(self, a) -> QGraphicsRectItem:
        """A label on a light background, in the view box's pixels (made on first use, kept per annotation)."""
        item = self._labels.get(id(a))
        if item is None:
            item = QGraphicsRectItem(self.pane.view_box)
            item.setPen(pg.mkPen(None))
            item.setBrush(pg.mkBrush(255, 255, 255, 190))
            item.setZValue(5)
            text = QGraphicsSimpleTextItem(item)
            text.setBrush(pg.mkBrush(_colour(a).darker(130)))
            text.setFont(self._font)
            item.setToolTip(self.tooltip(a))
            self._labels[id(a)] = item
        return item

    def layout_labels(self) -> None:
        """Place every label for the visible range and the pane's size (see :func:`layout_labels`)."""
        vb = self.pane.view_box
        width, height = float(vb.width()), float(vb.height())
        x0, x1 = self.pane.x_range()
        scale = width / (x1 - x0) if x1 > x0 else 0.0
        fm = QFontMetricsF(self._font)
        line = fm.height()
        rows = max(0, min(LABEL_ROWS, int((height - 2) // (line + 1))))
        entries = []
        for a, item in self.items:
            if isinstance(item, pg.LinearRegionItem):
                r0, r1 = item.getRegion()
                entries.append((id(a), (r0 - x0) * scale, (r1 - x0) * scale, fm.horizontalAdvance(a.label)))
            else:
                entries.append((id(a), (item.value() - x0) * scale, None, fm.horizontalAdvance(a.label)))
        placed = layout_labels(entries, width, rows) if scale > 0 else {}
        self._shown = []
        keep = set()
        for a, _item in self.items:
            spot = placed.get(id(a))
            if spot is None:
                continue
            row, x, w = spot
            label = self._label_item(a)
            text = fm.elidedText(a.label, Qt.TextElideMode.ElideRight, w + 0.5)
            label.childItems()[0].setText(text)
            rect = QRectF(x, 2 + row * (line + 1), fm.horizontalAdvance(text), line)
            label.setRect(QRectF(0, 0, rect.width(), rect.height()))
            label.setPos(rect.topLeft())
            label.setVisible(True)
            keep.add(id(a))
            self._shown.append((a, text, rect))
        for key, label in list(self._labels.items()):
            if key not in keep:
                label.setVisible(False)

    def shown_labels(self) -> list:
        """The labels on the pane now: ``(annotation, text shown, QRectF in the view box's pixels)``."""
        return list(self._shown)

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
