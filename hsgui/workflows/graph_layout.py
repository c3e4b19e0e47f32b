"""Left-to-right layered layout of a workflow graph (pure Python, no Qt).

Vertices are the workflow's nodes (streams over plates) and factors (tools); edges run from each
source node (and the alignment/splitting node) to its factor and from the factor to its sink. A
vertex's layer is the length of the longest path reaching it, so data flows left to right; within a
layer vertices are ordered by the mean row of their predecessors (a few sweeps of the barycentre
heuristic), which keeps crossings low; inputs sit just left of their first consumer for the tens of vertices workflows have.

Grouped by plate (``group_by_plate=True``), each node belongs to the group of its plates (a factor to its sink's)
and every group gets a horizontal band of its own, bands ordered by where their vertices sat ungrouped; a
group's frame (:attr:`GraphLayout.groups`) is the box round its band's vertices. :meth:`GraphLayout.upstream` and
:meth:`~GraphLayout.downstream` are what a vertex reads and what reads it, transitively.
"""
from __future__ import annotations

from dataclasses import dataclass

LAYER_GAP = 190.0     # horizontal distance between layers
ROW_GAP = 64.0        # vertical distance between rows


@dataclass
class Vertex:
    key: str           # "node:<stream name>" or "factor:<index>"
    kind: str          # "node" or "factor"
    label: str
    layer: int = 0
    row: float = 0.0
    x: float = 0.0
    y: float = 0.0
    group: str = ""    # the plates of a node ("H.W × H.APs", "no plate"); a factor's: its sink's
    name: str = ""     # a node's stream name / a factor's tool name (what search matches)


@dataclass
class Edge:
    source: str
    target: str
    role: str          # "source", "sink", "alignment", "splitting"


@dataclass
class Group:
    key: str           # the plates, as text
    left: float
    top: float
    right: float
    bottom: float
    count: int         # nodes in it


@dataclass
class GraphLayout:
    vertices: dict     # key -> Vertex
    edges: list
    groups: dict = None   # group key -> Group, when grouped by plate

    def _walk(self, key, forward: bool) -> set:
        nxt: dict = {}
        for e in self.edges:
            a, b = (e.source, e.target) if forward else (e.target, e.source)
            nxt.setdefault(a, []).append(b)
        out, todo = set(), list(nxt.get(key, ()))
        while todo:
            k = todo.pop()
            if k not in out:
                out.add(k)
                todo.extend(nxt.get(k, ()))
        out.discard(key)
        return out

    def upstream(self, key: str) -> set:
        """Every vertex ``key`` is computed from (transitively)."""
        return self._walk(key, forward=False)

    def downstream(self, key: str) -> set:
        """Every vertex computed from ``key`` (transitively)."""
        return self._walk(key, forward=True)

    def matching(self, text: str) -> list:
        """Keys of the vertices whose name contains ``text`` (any case), top to bottom, left to right."""
        t = text.strip().lower()
        if not t:
            return []
        hits = [v for v in self.vertices.values() if t in (v.name or v.label).lower()]
        hits.sort(key=lambda v: (v.kind != "node", v.x, v.y))
        return [v.key for v in hits]

    @property
    def width(self) -> float:
        return max((v.x for v in self.vertices.values()), default=0.0)

    @property
    def height(self) -> float:
        return max((v.y for v in self.vertices.values()), default=0.0)


def node_key(stream_name: str) -> str:
    return f"node:{stream_name}"


def factor_key(index: int) -> str:
    return f"factor:{index}"


def plates_text(plate_ids) -> str:
    return " × ".join(plate_ids) if plate_ids else "no plate"


def layout_workflow(workflow, group_by_plate: bool = False) -> GraphLayout:
    vertices = {}
    for name, node in workflow.nodes.items():
        plates = f" [{', '.join(node.plate_ids)}]" if node.plate_ids else ""
        vertices[node_key(name)] = Vertex(node_key(name), "node", name + plates, group=plates_text(node.plate_ids),
                                          name=name)
    edges = []
    for i, f in enumerate(workflow.factors):
        fk = factor_key(i)
        sink = workflow.nodes.get(f.sinks[0]) if f.sinks else None
        vertices[fk] = Vertex(fk, "factor", f.tool.name, group=plates_text(sink.plate_ids) if sink else "no plate",
                              name=f.tool.name)
        for s in f.sources:
            edges.append(Edge(node_key(s), fk, "source"))
        if f.alignment_node:
            edges.append(Edge(node_key(f.alignment_node), fk, "alignment"))
        if f.splitting_node:
            edges.append(Edge(node_key(f.splitting_node), fk, "splitting"))
        for s in f.sinks:
            edges.append(Edge(fk, node_key(s), "sink"))
    preds = {k: [] for k in vertices}
    for e in edges:
        if e.source in vertices and e.target in vertices:
            preds[e.target].append(e.source)
    # longest-path layers (cycles, which a valid workflow has none of, are cut where they close)
    layer, visiting = {}, set()

    def depth(k):
        if k in layer:
            return layer[k]
        if k in visiting:
            return 0
        visiting.add(k)
        d = max((depth(p) + 1 for p in preds[k]), default=0)
        visiting.discard(k)
        layer[k] = d
        return d

    for k in vertices:
        depth(k)
    # vertices nothing flows into (input streams, source tools) sit just left of their first consumer,
    # so their edges do not run across the layers in between
    succs = {k: [] for k in vertices}
    for e in edges:
        if e.source in vertices and e.target in vertices:
            succs[e.source].append(e.target)
    for k in vertices:
        if not preds[k] and succs[k]:
            layer[k] = max(layer[k], min(layer[t] for t in succs[k]) - 1)
    layers: dict[int, list[str]] = {}
    for k in vertices:  # stored order first, so an unconnected graph keeps the order it was written in
        layers.setdefault(layer[k], []).append(k)
    rows = {}
    for d in sorted(layers):
        for r, k in enumerate(layers[d]):
            rows[k] = float(r)
    for _sweep in range(4):
        for d in sorted(layers)[1:]:
            def bary(k):
                ps = [rows[p] for p in preds[k]]
                return sum(ps) / len(ps) if ps else rows[k]
            layers[d].sort(key=lambda k: (bary(k), rows[k]))
            for r, k in enumerate(layers[d]):
                rows[k] = float(r)
    tallest = max((len(v) for v in layers.values()), default=1)
    for d, keys in layers.items():
        offset = (tallest - len(keys)) / 2.0  # centre short layers
        for r, k in enumerate(keys):
            v = vertices[k]
            v.layer, v.row = d, r + offset
            v.x, v.y = d * LAYER_GAP, (r + offset) * ROW_GAP
    if not group_by_plate:
        return GraphLayout(vertices, edges)
    return _group(vertices, edges, layers)


GROUP_GAP = 1.2    # rows between two groups' bands
FRAME_PAD = (100.0, 40.0)   # a frame's margin round its vertices' centres (x, y)


def _group(vertices, edges, layers) -> GraphLayout:
    """Re-place the rows so that each plate group has a band of its own (bands in the order their vertices sat)."""
    members: dict = {}
    for v in vertices.values():
        members.setdefault(v.group, []).append(v)
    order = sorted(members, key=lambda g: sum(v.row for v in members[g]) / len(members[g]))
    top, groups = 0.0, {}
    for g in order:
        per_layer: dict = {}
        for v in sorted(members[g], key=lambda v: v.row):
            per_layer.setdefault(v.layer, []).append(v)
        height = max(len(vs) for vs in per_layer.values())
        for vs in per_layer.values():
            offset = (height - len(vs)) / 2.0
            for r, v in enumerate(vs):
                v.row = top + offset + r
                v.y = v.row * ROW_GAP
        xs = [v.x for v in members[g]]
        groups[g] = Group(g, min(xs) - FRAME_PAD[0], top * ROW_GAP - FRAME_PAD[1], max(xs) + FRAME_PAD[0],
                          (top + height - 1) * ROW_GAP + FRAME_PAD[1] * 0.6,
                          sum(1 for v in members[g] if v.kind == "node"))
        top += height + GROUP_GAP
    return GraphLayout(vertices, edges, groups)


__all__ = ["layout_workflow", "GraphLayout", "Group", "plates_text", "Vertex", "Edge", "node_key", "factor_key", "LAYER_GAP", "ROW_GAP"]
