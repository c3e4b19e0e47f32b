"""The workflow graph in a QGraphicsView: nodes (streams over plates) coloured by what is computed,
factors (tools) as dark boxes, edges left to right; hover for details, click to act, wheel to zoom.

Made to stay readable at the size of real deployments (111 nodes, 76 factors):

* **Fit** shows the whole graph, however small that makes it (the wheel zooms in from there);
* a node's name is wrapped at its ``_`` onto two lines, its plates on a line of their own; a label that still
  does not fit is cut with "…" and the full name and plates are the first line of its tooltip;
* **selecting** a vertex (a click) emphasises what it is computed from (blue) and what is computed from it
  (orange), transitively, and dims the rest; a click on the background clears it;
* :meth:`WorkflowGraphView.set_search` highlights the vertices whose name contains the text and dims the rest;
  :meth:`~WorkflowGraphView.centre_on_first_match` selects and centres the first one;
* a vertex feeding more than :data:`FAN_LIMIT` factors (the window streams every aggregate reads) does not draw
  one long edge to each — they would merge into one grey bundle — but a small tag naming it at each factor it
  feeds, and a "→ n" badge on itself; its edges are drawn when it or one of those factors is selected;
  other edges leave and enter their boxes at ports spread over the box's side, not at one point;
* grouped by plate, each group's band gets a labelled frame.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSimpleTextItem, QGraphicsView

from .graph_layout import GraphLayout
from .status import ALL, NONE, PART, STALE

STATE_COLOURS = {ALL: "#81c784", PART: "#ffcc80", NONE: "#eeeeee", STALE: "#ce93d8"}
STATE_TEXT = {ALL: "all calculated", PART: "partly calculated", NONE: "nothing calculated", STALE: "stale"}
NODE_W, NODE_H = 158.0, 40.0
FACTOR_W, FACTOR_H = 112.0, 26.0
#: a vertex with more outgoing edges than this gets tags at its targets instead of long edges
FAN_LIMIT = 6
#: how long one slice of making a graph's items may take (a slice ends after the item that passes it)
BUILD_SLICE_S = 0.004
DIM = 0.15
EDGE = "#78909c"
UP, DOWN, MATCH, SELECTED = "#1565c0", "#ef6c00", "#fbc02d", "#0d47a1"
#: (pen colour as rgba, pen width, lit) of an emphasised vertex
_EMPHASIS = {c: (QColor(c).rgba(), w, True) for c, w in ((SELECTED, 3.0), (UP, 2.4), (DOWN, 2.4), (MATCH, 3.0))}


#: the item data slot holding a box's vertex key
KEY = 0


class WorkflowGraphView(QGraphicsView):
    """Draws a :class:`GraphLayout`; :meth:`set_states` recolours nodes without a new layout."""

    vertexClicked = Signal(str)      # vertex key ("node:<name>" / "factor:<i>")
    vertexActivated = Signal(str)    # double click
    selectionChanged = Signal(str)   # the selected vertex key, "" when none
    graphReady = Signal()            # the graph given to show_layout is drawn, complete

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.boxes: dict = {}                 # vertex key -> its box (a QGraphicsRectItem)
        self.texts: dict[str, list] = {}      # vertex key -> its label lines as drawn
        self.edge_items: list = []            # (Edge, path item, arrow item, fanned)
        self.edge_looks: list = []            # (colour, on the selection's path, lit) each edge shows
        self.tags: dict = {}                  # (source key, target key) -> tag item, for fanned-out edges
        self.frames: dict = {}                # group key -> frame item
        self.blocked: dict = {}       # factor index -> reasons it cannot run
        self.states: dict = {}        # node name -> NodeStatus shown (given to set_states)
        self._builder: _Builder | None = None   # the graph being made (show_layout), shown when complete
        self._build_timer = QTimer(self, interval=0)
        self._build_timer.timeout.connect(self._build_step)
        self.layout_: GraphLayout | None = None
        self.selected: str = ""
        self.search_text: str = ""
        self.auto_fit = True   # fit the graph to the view on resize until the user zooms

    # -- building -------------------------------------------------------------------------------------------
    def set_layout(self, layout: GraphLayout | None) -> None:
        """Draw ``layout`` now (all of it before returning; :meth:`show_layout` draws it across event-loop
        passes)."""
        self.show_layout(layout)
        self.finish_building()

    def show_layout(self, layout: GraphLayout | None, keep: bool = False) -> None:
        """Draw ``layout`` in slices of at most :data:`BUILD_SLICE_S` between events, into a scene that is not on
        show; it replaces the graph shown when complete (:attr:`building` is False again, :attr:`graphReady` is
        emitted). The 111-node graph is ~1,000 items: made in one go they held the event loop ~20 ms of CPU,
        several times that on a loaded machine. ``keep``: the same workflow drawn anew (grouped otherwise) —
        its colours, blocked factors and selection stay; else they are those of the new graph (none yet)."""
        if self._builder is not None:   # a graph still being made is not wanted any more
            self._builder.scene.deleteLater()
        self._builder = None
        self._build_timer.stop()
        if not keep:
            self.states, self.blocked, self.selected = {}, {}, ""
        if layout is None:
            self._show(_Builder(self, None))
            return
        self._builder = _Builder(self, layout)
        self._build_timer.start()

    @property
    def building(self) -> bool:
        """A graph given to :meth:`show_layout` is still being made (the one shown is the previous one)."""
        return self._builder is not None

    def finish_building(self) -> None:
        """Make the rest of the graph being built now and show it."""
        while self._builder is not None:
            self._build_step(budget=None)

    def _build_step(self, budget=BUILD_SLICE_S) -> None:
        builder = self._builder
        if builder is None:
            self._build_timer.stop()
            return
        if not builder.advance(budget):
            return
        self._builder = None
        self._build_timer.stop()
        self._show(builder)

    def _show(self, built: _Builder) -> None:
        """Put a complete graph on show, with the colours, marks and emphasis it should have."""
        old = self.scene()
        self.boxes, self.texts, self.edge_items, self.edge_looks, self.tags, self.frames = (
            built.boxes, built.texts, built.edge_items, built.edge_looks, built.tags, built.frames)
        self.layout_ = built.layout
        self.setScene(built.scene)
        old.deleteLater()   # its items go in a later pass of the event loop
        if self.selected not in self.boxes:
            self.selected = ""
        if self.states:
            self.set_states(self.states, emphasis=False)
        if self.blocked:
            self.set_blocked(self.blocked, emphasis=False)
        self._apply_emphasis()
        self.graphReady.emit()

    def _title(self, key) -> str:
        return _title(self.layout_, key)

    # -- colours and marks ----------------------------------------------------------------------------------
    def set_states(self, states: dict, emphasis: bool = True) -> None:
        """``{node name: NodeStatus}``: fill colour by state, tooltip with a summary (counts, worst streams). A
        node whose state and summary are what it shows already is not touched (no repaint: a running workflow's
        refresh changes a few nodes of a hundred). While a graph is being built, it gets them when complete."""
        self.states = states
        if self._builder is not None:
            return
        changed = False
        for key, box in self.boxes.items():
            if box.kind != "node":
                continue
            st = states.get(key.split(":", 1)[1])
            if st is None:
                continue
            tip = (f"<b>{self._title(key)}</b>: {STATE_TEXT[st.state]}<br>" + "<br>".join(st.lines[:12])
                   + (f"<br>… and {len(st.lines) - 12} more lines" if len(st.lines) > 12 else ""))
            if box.shown == (st.state, tip):
                continue
            box.shown = (st.state, tip)
            box.setBrush(QBrush(QColor(STATE_COLOURS[st.state])))
            _set_base_pen(box, QPen(QColor("#6a1b9a" if st.state == STALE else "#616161"),
                                    2.0 if st.state == STALE else 1.2))
            box.setToolTip(tip)
            changed = True
        if changed and emphasis:
            self._apply_emphasis()

    def set_blocked(self, blocked: dict, emphasis: bool = True) -> None:
        """``{factor index: [reasons]}``: factors that cannot run get a red border, a ⚠ and the reasons as
        their tooltip; the others look as usual. A factor whose reasons are those it shows already is not touched
        (a refresh of the checks changes a few factors of 76, if any). While a graph is being built, it gets them
        when complete."""
        self.blocked = dict(blocked)
        if self._builder is not None:
            return
        fm = None
        for key, box in self.boxes.items():
            if box.kind != "factor":
                continue
            reasons = tuple(blocked.get(int(key.split(":", 1)[1])) or ())
            if box.reasons == reasons:
                continue
            box.reasons = reasons
            label = self.layout_.vertices[key].label if self.layout_ else key
            text = next((c for c in box.childItems() if isinstance(c, QGraphicsSimpleTextItem)), None)
            if text is not None:
                fm = fm or QFontMetricsF(text.font())
                shown = _fit_line(("⚠ " if reasons else "") + label, fm, FACTOR_W - 8)
                text.setText(shown)
                self.texts[key] = [shown]
                r = text.boundingRect()
                text.setPos(-r.width() / 2, -r.height() / 2)
            _set_base_pen(box, QPen(QColor("#e53935"), 2.5) if reasons else QPen(QColor("#263238"), 1.0))
            box.setToolTip(f"<b>{label}</b>: cannot run<br>" + "<br>".join(reasons) if reasons else label)
        if emphasis:
            self._apply_emphasis()

    def state_of(self, node_name: str) -> str | None:
        box = self.boxes.get(f"node:{node_name}")
        if box is None:
            return None
        colour = box.brush().color().name()
        return next((s for s, c in STATE_COLOURS.items() if QColor(c).name() == colour), None)

    # -- selection and search -----------------------------------------------------------------------------------
    def select_vertex(self, key: str) -> None:
        """Emphasise ``key``, what it is computed from and what is computed from it; dim the rest ("" clears)."""
        key = key if key in self.boxes else ""
        if key != self.selected:
            self.selected = key
            self._apply_emphasis()
            self.selectionChanged.emit(key)

    def set_search(self, text: str) -> list:
        """Highlight the vertices whose name contains ``text`` and dim the others; return their keys."""
        self.search_text = text
        self._apply_emphasis()
        return self.matches()

    def matches(self) -> list:
        return self.layout_.matching(self.search_text) if self.layout_ is not None else []

    def centre_on_first_match(self) -> str:
        """Select the first vertex matching the search and centre the view on it; its key ("" when none)."""
        hits = self.matches()
        if not hits:
            return ""
        self.auto_fit = False
        box = self.boxes[hits[0]]
        if self.transform().m11() < 0.6:   # a fitted big graph is too small to read the match: zoom in on it
            self.resetTransform()
            self.scale(0.9, 0.9)
        self.centerOn(box)
        self.select_vertex(hits[0])
        self.vertexClicked.emit(hits[0])
        return hits[0]

    def look(self, key: str) -> str:
        """What a vertex looks like now: "selected", "upstream", "downstream", "match", "dimmed" or "normal"
        (read back from the drawn item)."""
        box = self.boxes[key]
        if box.opacity() < 0.5:
            return "dimmed"
        colour = box.pen().color().name()
        return {QColor(SELECTED).name(): "selected", QColor(UP).name(): "upstream", QColor(DOWN).name(): "downstream",
                QColor(MATCH).name(): "match"}.get(colour, "normal")

    def _apply_emphasis(self) -> None:
        if self.layout_ is None:
            return
        sel = self.selected
        up = self.layout_.upstream(sel) if sel else set()
        down = self.layout_.downstream(sel) if sel else set()
        hits = set(self.matches()) if self.search_text.strip() else set()
        focus = bool(sel) or bool(self.search_text.strip())
        # each item is set only when its look changes: setting a pen or an opacity repaints the item, and a
        # refresh or a click changes a few of the graph's hundreds of items. A look is compared as plain values
        # (no pen made per item and pass: ~1,000 calls into Qt, each of which waits for the GIL while a job runs)
        for key, box in self.boxes.items():
            if key == sel:
                look = _EMPHASIS[SELECTED]
            elif key in up:
                look = _EMPHASIS[UP]
            elif key in down:
                look = _EMPHASIS[DOWN]
            elif key in hits:
                look = _EMPHASIS[MATCH]
            else:
                look = box.base_look + (not focus,)
            if box.emphasis != look:
                box.emphasis = look
                box.setPen(QPen(QColor.fromRgba(look[0]), look[1]) if look[:2] != box.base_look
                           else QPen(box.base_pen))
                box.setOpacity(1.0 if look[2] else DIM)
        for i, (e, item, arrow, fanned) in enumerate(self.edge_items):
            s, t = e.source, e.target
            on_up = sel and (t == sel or t in up) and (s in up)
            on_down = sel and (s == sel or s in down) and (t in down)
            on_path = bool(on_up or on_down)
            colour = UP if on_up else DOWN if on_down else EDGE
            lit = on_path or (not focus) or (not sel and (s in hits or t in hits))
            tag_lit = (not focus or t in hits or t == sel or t in up or t in down) if fanned else None
            look = (colour, on_path, lit, tag_lit)
            old = self.edge_looks[i]
            if old == look:
                continue
            self.edge_looks[i] = look
            if old[:3] != look[:3]:
                pen = QPen(item.pen())
                pen.setColor(QColor(colour))
                pen.setWidthF(2.2 if on_path else 1.4)
                item.setPen(pen)
                arrow.setBrush(QBrush(QColor(colour)))
                for it in (item, arrow):
                    it.setOpacity(1.0 if lit else DIM)
                    it.setZValue(2 if on_path else 1)
            if fanned:   # a fanned-out edge is drawn in full only when it lies on the selection's path
                item.setVisible(on_path)
                arrow.setVisible(on_path)
                tag = self.tags.get((s, t))
                if tag is not None:
                    tag.setVisible(not on_path)
                    tag.setOpacity(1.0 if tag_lit else DIM)

    # -- view -----------------------------------------------------------------------------------------------------
    def fit(self) -> None:
        self.auto_fit = True
        self._fit()

    def _fit(self) -> None:
        """The whole graph in view (small graphs are not blown up past 1:1)."""
        if self.scene().items():
            self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
            if self.transform().m11() > 1.0:
                self.resetTransform()
                self.centerOn(self.scene().sceneRect().center())

    def visible_scene_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def vertex_at(self, pos) -> str:
        """The key of the box under ``pos`` (viewport coordinates), or ""."""
        return next((item.data(KEY) for item in self.items(pos) if item.data(KEY)), "")

    def mousePressEvent(self, event):
        # the items are Qt's own (made by the scene: painting them never calls into Python); a click on a box
        # selects its vertex here, and a click on the background clears the selection
        if event.button() == Qt.MouseButton.LeftButton:
            pos = event.position().toPoint()
            key = self.vertex_at(pos)
            if key:
                self.select_vertex(key)
                self.vertexClicked.emit(key)
                event.accept()
                return
            if not isinstance(self.itemAt(pos), QGraphicsSimpleTextItem):
                self.select_vertex("")
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event):
        key = self.vertex_at(event.position().toPoint())
        if key:
            self.vertexActivated.emit(key)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def wheelEvent(self, event):
        factor = 1.15 if event.angleDelta().y() > 0 else 1 / 1.15
        self.auto_fit = False
        self.scale(factor, factor)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if self.auto_fit:
            self._fit()


def _title(layout, key) -> str:
    v = layout.vertices[key]
    if v.kind == "factor":
        return v.label
    return f"{v.name} [{v.group}]" if v.name else v.label


class _Builder:
    """The items of one layout (None: an empty graph), made a few at a time (:meth:`advance`) in a scene of their
    own: frames, then the boxes with their labels, then the edges."""

    def __init__(self, view, layout):
        self.view, self.layout = view, layout
        self.scene = QGraphicsScene(view)
        self.scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.boxes, self.texts, self.edge_items, self.edge_looks, self.tags, self.frames = {}, {}, [], [], {}, {}
        self._steps = self._make() if layout is not None else iter(())

    def advance(self, budget) -> bool:
        """Make items until ``budget`` seconds have passed (None: all of them); True when the graph is complete."""
        end = None if budget is None else time.perf_counter() + budget
        for _ in self._steps:
            if end is not None and time.perf_counter() >= end:
                return False
        return True

    def _make(self):
        layout, scene = self.layout, self.scene
        font = QFont()
        font.setPointSizeF(8.5)
        small = QFont(font)
        small.setPointSizeF(7.0)
        bold = QFont(font)
        bold.setBold(True)
        fm, fm_small = QFontMetricsF(font), QFontMetricsF(small)
        for g in (layout.groups or {}).values():
            frame = scene.addRect(QRectF(g.left, g.top, g.right - g.left, g.bottom - g.top),
                                  QPen(QColor("#90a4ae"), 1.0, Qt.PenStyle.DashLine), QBrush(QColor(236, 239, 241, 90)))
            frame.setZValue(0)
            title = scene.addSimpleText(f"{g.key}  ({g.count} node{'s' if g.count != 1 else ''})", bold)
            title.setParentItem(frame)
            title.setBrush(QBrush(QColor("#455a64")))
            title.setPos(g.left + 6, g.top + 2)
            frame.setToolTip(f"plate group {g.key}: {g.count} nodes")
            self.frames[g.key] = frame
        yield
        for v in layout.vertices.values():
            self._box(v, font, small, fm, fm_small)
            yield
        yield from self._edges(small)
        scene.setSceneRect(scene.itemsBoundingRect().adjusted(-20, -20, 20, 20))

    def _box(self, v, font, small, fm, fm_small) -> None:
        if v.kind == "node":
            lines = _wrap(v.name or v.label, fm, NODE_W - 10)
            plates = _fit_line(v.group, fm_small, NODE_W - 10)
            h = max(NODE_H, 10 + 13 * len(lines) + 11)
            w = NODE_W
        else:
            lines, plates = [_fit_line(v.label, fm, FACTOR_W - 8)], None
            w, h = FACTOR_W, FACTOR_H
        box = self.scene.addRect(QRectF(-w / 2, -h / 2, w, h))
        box.key, box.kind = v.key, v.kind
        box.shown = None       # (state, tooltip) a node shows
        box.reasons = ()       # why a factor cannot run, as shown (none)
        box.setData(KEY, v.key)
        box.setAcceptHoverEvents(True)
        box.setCursor(Qt.CursorShape.PointingHandCursor)
        box.setPos(v.x, v.y)
        if v.kind == "node":
            box.setBrush(QBrush(QColor(STATE_COLOURS[NONE])))
            _set_base_pen(box, QPen(QColor("#616161"), 1.2))
        else:
            box.setBrush(QBrush(QColor("#37474f")))
            _set_base_pen(box, QPen(QColor("#263238"), 1.0))
        box.setPen(box.base_pen)
        box.emphasis = box.base_look + (True,)
        drawn = []
        total = 13 * len(lines) + (11 if plates else 0)
        y = -total / 2
        for line in lines:
            text = self.scene.addSimpleText(line, font)
            text.setParentItem(box)
            text.setBrush(QBrush(QColor("#212121" if v.kind == "node" else "#ffffff")))
            text.setPos(-fm.horizontalAdvance(line) / 2, y - 1)
            y += 13
            drawn.append(line)
        if plates:
            text = self.scene.addSimpleText(plates, small)
            text.setParentItem(box)
            text.setBrush(QBrush(QColor("#546e7a")))
            text.setPos(-fm_small.horizontalAdvance(plates) / 2, y - 1)
            drawn.append(plates)
        self.texts[v.key] = drawn
        box.setToolTip(_title(self.layout, v.key))
        box.setZValue(3)
        self.boxes[v.key] = box

    def _edges(self, small):
        layout, scene = self.layout, self.scene
        outs, ins = {}, {}
        for e in layout.edges:
            if e.source in layout.vertices and e.target in layout.vertices:
                outs.setdefault(e.source, []).append(e)
                ins.setdefault(e.target, []).append(e)
        y_of = lambda k: layout.vertices[k].y  # noqa: E731
        port_out, port_in = {}, {}
        for key, es in outs.items():
            es.sort(key=lambda e: y_of(e.target))
            for i, e in enumerate(es):
                port_out[id(e)] = self._port(key, i, len(es))
        for key, es in ins.items():
            es.sort(key=lambda e: y_of(e.source))
            for i, e in enumerate(es):
                port_in[id(e)] = self._port(key, i, len(es))
        yield
        for key, es in outs.items():
            fanned = len(es) > FAN_LIMIT
            if fanned:
                box = self.boxes[key]
                badge = scene.addSimpleText(f"→ {len(es)}", small)
                badge.setParentItem(box)
                badge.setBrush(QBrush(QColor("#00695c")))
                badge.setPos(box.rect().right() + 3, -7)
                badge.setToolTip(f"feeds {len(es)} factors: select it to see every edge")
            for e in es:
                a, b = layout.vertices[e.source], layout.vertices[e.target]
                aw = (NODE_W if a.kind == "node" else FACTOR_W) / 2
                bw = (NODE_W if b.kind == "node" else FACTOR_W) / 2
                p0 = QPointF(a.x + aw, a.y + port_out[id(e)])
                p1 = QPointF(b.x - bw, b.y + port_in[id(e)])
                path = QPainterPath(p0)
                dx = max(30.0, (p1.x() - p0.x()) / 2)
                path.cubicTo(QPointF(p0.x() + dx, p0.y()), QPointF(p1.x() - dx, p1.y()), p1)
                pen = QPen(QColor(EDGE), 1.4)
                if e.role in ("alignment", "splitting"):
                    pen.setStyle(Qt.PenStyle.DashLine)
                item = scene.addPath(path, pen)
                item.setToolTip(f"{e.role}: {_title(layout, e.source)} → {_title(layout, e.target)}")
                item.setZValue(1)
                head = QPainterPath(p1)
                head.lineTo(p1 + QPointF(-7, -4))
                head.lineTo(p1 + QPointF(-7, 4))
                head.closeSubpath()
                arrow = scene.addPath(head, QPen(Qt.PenStyle.NoPen), QBrush(QColor(EDGE)))
                arrow.setZValue(1)
                if fanned:
                    item.setVisible(False)
                    arrow.setVisible(False)
                    tag = scene.addSimpleText(f"◂ {a.name or a.label}", small)
                    tag.setBrush(QBrush(QColor("#00695c")))
                    r = tag.boundingRect()
                    tag.setPos(p1.x() - r.width() - 4, p1.y() - r.height() / 2)
                    tag.setToolTip(f"{e.role} input {_title(layout, e.source)} (it feeds {len(es)} factors: select "
                                   f"it to see every edge)")
                    tag.setZValue(2)
                    self.tags[(e.source, e.target)] = tag
                self.edge_items.append((e, item, arrow, fanned))
                self.edge_looks.append((EDGE, False, True, True if fanned else None))
                yield

    def _port(self, key, i, n) -> float:
        """Vertical offset of the i-th of n edges on one side of a box: spread over the side, never one point."""
        if n <= 1:
            return 0.0
        h = self.boxes[key].rect().height() - 8
        step = min(6.0, h / (n - 1))
        return (i - (n - 1) / 2) * step


def _set_base_pen(box, pen: QPen) -> None:
    """A box's own border (what it shows when not emphasised), and that border's look as plain values."""
    box.base_pen = pen
    box.base_look = (pen.color().rgba(), pen.widthF())


def _fit_line(text: str, fm: QFontMetricsF, width: float) -> str:
    """``text`` if it fits ``width``, else cut with "…" (the full text is in the tooltip)."""
    if fm.horizontalAdvance(text) <= width:
        return text
    return fm.elidedText(text, Qt.TextElideMode.ElideRight, width)


def _wrap(name: str, fm: QFontMetricsF, width: float) -> list:
    """A name on one line, or on two broken after an ``_`` (the first break that lets both halves fit best)."""
    if fm.horizontalAdvance(name) <= width:
        return [name]
    cuts = [i + 1 for i, ch in enumerate(name) if ch in "_-." and 0 < i < len(name) - 1]
    best = None
    for c in cuts:
        a, b = name[:c], name[c:]
        worst = max(fm.horizontalAdvance(a), fm.horizontalAdvance(b))
        if best is None or worst < best[0]:
            best = (worst, a, b)
    if best is None:
        return [_fit_line(name, fm, width)]
    return [_fit_line(best[1], fm, width), _fit_line(best[2], fm, width)]


__all__ = ["WorkflowGraphView", "STATE_COLOURS", "STATE_TEXT", "FAN_LIMIT"]
