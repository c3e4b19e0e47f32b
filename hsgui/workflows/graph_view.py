"""The workflow graph in a QGraphicsView: nodes (streams over plates) coloured by what is computed,
factors (tools) as dark boxes, edges left to right; hover for details, click to act, wheel to zoom."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (QGraphicsItem, QGraphicsPathItem, QGraphicsRectItem, QGraphicsScene,
                               QGraphicsSimpleTextItem, QGraphicsView)

from .graph_layout import GraphLayout
from .status import ALL, NONE, PART, STALE

STATE_COLOURS = {ALL: "#81c784", PART: "#ffcc80", NONE: "#eeeeee", STALE: "#ce93d8"}
STATE_TEXT = {ALL: "all calculated", PART: "partly calculated", NONE: "nothing calculated", STALE: "stale"}
NODE_W, NODE_H = 150.0, 34.0
FACTOR_W, FACTOR_H = 112.0, 26.0


class _Box(QGraphicsRectItem):
    def __init__(self, view, key, kind, rect):
        super().__init__(rect)
        self.view, self.key, self.kind = view, key, kind
        self.setAcceptHoverEvents(True)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def mousePressEvent(self, event):
        super().mousePressEvent(event)
        self.view.vertexClicked.emit(self.key)

    def mouseDoubleClickEvent(self, event):
        self.view.vertexActivated.emit(self.key)


class WorkflowGraphView(QGraphicsView):
    """Draws a :class:`GraphLayout`; :meth:`set_states` recolours nodes without a new layout."""

    vertexClicked = Signal(str)      # vertex key ("node:<name>" / "factor:<i>")
    vertexActivated = Signal(str)    # double click

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.boxes: dict[str, _Box] = {}
        self.blocked: dict = {}       # factor index -> reasons it cannot run
        self.layout_: GraphLayout | None = None
        self.auto_fit = True   # fit the graph to the view on resize until the user zooms

    def set_layout(self, layout: GraphLayout | None) -> None:
        scene = self.scene()
        scene.clear()
        self.boxes = {}
        self.layout_ = layout
        if layout is None:
            return
        font = QFont()
        font.setPointSizeF(8.5)
        for v in layout.vertices.values():
            w, h = (NODE_W, NODE_H) if v.kind == "node" else (FACTOR_W, FACTOR_H)
            box = _Box(self, v.key, v.kind, QRectF(-w / 2, -h / 2, w, h))
            box.setPos(v.x, v.y)
            if v.kind == "node":
                box.setBrush(QBrush(QColor(STATE_COLOURS[NONE])))
                box.setPen(QPen(QColor("#616161"), 1.2))
            else:
                box.setBrush(QBrush(QColor("#37474f")))
                box.setPen(QPen(QColor("#263238"), 1.0))
            text = QGraphicsSimpleTextItem(_elide(v.label, 24 if v.kind == "node" else 18), box)
            text.setFont(font)
            text.setBrush(QBrush(QColor("#212121" if v.kind == "node" else "#ffffff")))
            r = text.boundingRect()
            text.setPos(-r.width() / 2, -r.height() / 2)
            box.setToolTip(v.label)
            box.setZValue(2)
            scene.addItem(box)
            self.boxes[v.key] = box
        for e in layout.edges:
            a, b = layout.vertices.get(e.source), layout.vertices.get(e.target)
            if a is None or b is None:
                continue
            aw = (NODE_W if a.kind == "node" else FACTOR_W) / 2
            bw = (NODE_W if b.kind == "node" else FACTOR_W) / 2
            p0, p1 = QPointF(a.x + aw, a.y), QPointF(b.x - bw, b.y)
            path = QPainterPath(p0)
            dx = max(30.0, (p1.x() - p0.x()) / 2)
            path.cubicTo(QPointF(p0.x() + dx, p0.y()), QPointF(p1.x() - dx, p1.y()), p1)
            item = QGraphicsPathItem(path)
            pen = QPen(QColor("#78909c"), 1.4)
            if e.role in ("alignment", "splitting"):
                pen.setStyle(Qt.PenStyle.DashLine)
            item.setPen(pen)
            item.setToolTip(e.role)
            item.setZValue(1)
            scene.addItem(item)
            head = QPainterPath(p1)
            head.lineTo(p1 + QPointF(-7, -4))
            head.lineTo(p1 + QPointF(-7, 4))
            head.closeSubpath()
            arrow = scene.addPath(head, QPen(Qt.PenStyle.NoPen), QBrush(QColor("#78909c")))
            arrow.setZValue(1)
        scene.setSceneRect(scene.itemsBoundingRect().adjusted(-20, -20, 20, 20))

    def set_states(self, states: dict) -> None:
        """``{node name: NodeStatus}``: fill colour by state, tooltip with the per-stream lines."""
        for key, box in self.boxes.items():
            if box.kind != "node":
                continue
            st = states.get(key.split(":", 1)[1])
            if st is None:
                continue
            box.setBrush(QBrush(QColor(STATE_COLOURS[st.state])))
            box.setPen(QPen(QColor("#6a1b9a" if st.state == STALE else "#616161"), 2.0 if st.state == STALE else 1.2))
            title = self.layout_.vertices[key].label if self.layout_ else key
            box.setToolTip(f"<b>{title}</b>: {STATE_TEXT[st.state]}<br>" + "<br>".join(st.lines[:20])
                           + (f"<br>… and {len(st.lines) - 20} more" if len(st.lines) > 20 else ""))

    def set_blocked(self, blocked: dict) -> None:
        """``{factor index: [reasons]}``: factors that cannot run get a red border, a ⚠ and the reasons as
        their tooltip; the others look as usual."""
        self.blocked = dict(blocked)
        for key, box in self.boxes.items():
            if box.kind != "factor":
                continue
            reasons = blocked.get(int(key.split(":", 1)[1]))
            label = self.layout_.vertices[key].label if self.layout_ else key
            text = next((c for c in box.childItems() if isinstance(c, QGraphicsSimpleTextItem)), None)
            if text is not None:
                text.setText(_elide(("⚠ " if reasons else "") + label, 18))
                r = text.boundingRect()
                text.setPos(-r.width() / 2, -r.height() / 2)
            box.setPen(QPen(QColor("#e53935"), 2.5) if reasons else QPen(QColor("#263238"), 1.0))
            box.setToolTip(f"<b>{label}</b>: cannot run<br>" + "<br>".join(reasons) if reasons else label)

    def state_of(self, node_name: str) -> str | None:
        box = self.boxes.get(f"node:{node_name}")
        if box is None:
            return None
        colour = box.brush().color().name()
        return next((s for s, c in STATE_COLOURS.items() if QColor(c).name() == colour), None)

    def fit(self) -> None:
        self.auto_fit = True
        self._fit()

    #: fitting never shrinks the graph below this scale: labels stay readable, a big graph scrolls instead
    MIN_FIT_SCALE = 0.6

    def _fit(self) -> None:
        if self.scene().items():
            self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
            scale = self.transform().m11()
            if scale > 1.0 or scale < self.MIN_FIT_SCALE:  # never blow small graphs up, nor shrink big ones away
                self.resetTransform()
                if scale < self.MIN_FIT_SCALE:
                    self.scale(self.MIN_FIT_SCALE, self.MIN_FIT_SCALE)
                    self.centerOn(self.scene().sceneRect().left(), self.scene().sceneRect().center().y())

    def wheelEvent(self, event):
        factor = 1.15 if event.angleDelta().y() > 0 else 1 / 1.15
        self.auto_fit = False
        self.scale(factor, factor)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if self.auto_fit:
            self._fit()


def _elide(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


__all__ = ["WorkflowGraphView", "STATE_COLOURS", "STATE_TEXT"]
