"""The workflow graph layout (pure Python): data flows left to right, nothing overlaps, big graphs stay
compact enough to read."""
from __future__ import annotations

import random

from channels.workflows import FactorDefinition, NodeDefinition, ToolSpec, WorkflowDefinition
from hsgui.workflows.graph_layout import LAYER_GAP, layout_workflow


def _random_workflow(n_nodes=50, seed=4):
    rnd = random.Random(seed)
    nodes = {f"s{i:02d}": NodeDefinition(f"s{i:02d}", ["H.R"] if i % 3 else [], "mongo") for i in range(n_nodes)}
    factors = []
    for i in range(5, n_nodes):
        srcs = rnd.sample([f"s{j:02d}" for j in range(max(0, i - 8), i)], k=2)
        factors.append(FactorDefinition(ToolSpec("apply", None, {}), "Factor", srcs, [f"s{i:02d}"],
                                        alignment_node=f"s{rnd.randrange(0, 5):02d}" if i % 7 == 0 else None))
    return WorkflowDefinition("big", "big", "", nodes, factors)


def test_every_edge_points_right_and_no_two_vertices_overlap():
    wf = _random_workflow()
    g = layout_workflow(wf)
    assert len(g.vertices) == 50 + 45
    for e in g.edges:
        assert g.vertices[e.source].x < g.vertices[e.target].x, e
    positions = [(v.x, v.y) for v in g.vertices.values()]
    assert len(set(positions)) == len(positions)


def test_inputs_sit_next_to_their_first_consumer():
    wf = WorkflowDefinition("w", "w", "", {n: NodeDefinition(n, [], "m") for n in ("raw", "a", "b", "late_input")},
                            [FactorDefinition(ToolSpec("f", None, {}), "Factor", ["raw"], ["a"]),
                             FactorDefinition(ToolSpec("g", None, {}), "Factor", ["a", "late_input"], ["b"])])
    g = layout_workflow(wf)
    x = {k.split(":", 1)[1] if k.startswith("node:") else k: v.x for k, v in g.vertices.items()}
    assert x["raw"] == 0 and x["a"] == 2 * LAYER_GAP and x["b"] == 4 * LAYER_GAP
    assert x["late_input"] == x["a"]  # not at the far left, where its edge would cross two layers
