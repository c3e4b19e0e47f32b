"""Left-to-right layered layout of a workflow graph (pure Python, no Qt).

Vertices are the workflow's nodes (streams over plates) and factors (tools); edges run from each
source node (and the alignment/splitting node) to its factor and from the factor to its sink. A
vertex's layer is the length of the longest path reaching it, so data flows left to right; within a
layer vertices are ordered by the mean row of their predecessors (a few sweeps of the barycentre
heuristic), which keeps crossings low; inputs sit just left of their first consumer for the tens of vertices workflows have.
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


@dataclass
class Edge:
    source: str
    target: str
    role: str          # "source", "sink", "alignment", "splitting"


@dataclass
class GraphLayout:
    vertices: dict     # key -> Vertex
    edges: list

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


def layout_workflow(workflow) -> GraphLayout:
    vertices = {}
    for name, node in workflow.nodes.items():
        plates = f" [{', '.join(node.plate_ids)}]" if node.plate_ids else ""
        vertices[node_key(name)] = Vertex(node_key(name), "node", name + plates)
    edges = []
    for i, f in enumerate(workflow.factors):
        fk = factor_key(i)
        vertices[fk] = Vertex(fk, "factor", f.tool.name)
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
    return GraphLayout(vertices, edges)


__all__ = ["layout_workflow", "GraphLayout", "Vertex", "Edge", "node_key", "factor_key", "LAYER_GAP", "ROW_GAP"]
