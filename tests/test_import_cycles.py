"""No import cycles anywhere in channels, hsgui or resources (function-level imports included).

The layer contracts in pyproject.toml catch arrows between layers; a cycle inside one layer
(two modules of one feature importing each other, or a lazy import inside a function that
points back) is caught here, from the same import graph import-linter uses (grimp).
"""
from __future__ import annotations

import grimp

PACKAGES = ("channels", "hsgui", "resources")


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (or a module importing itself), sorted."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):  # iterative Tarjan: the graph has a few hundred modules, recursion would do, but keep it safe
        work = [(v, iter(sorted(edges.get(v, ()))))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        while work:
            node, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                    break
                if w in on_stack:
                    low[node] = min(low[node], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == node:
                            break
                    if len(comp) > 1 or node in edges.get(node, ()):
                        out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(out)


def import_edges() -> dict[str, set[str]]:
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False, cache_dir=None)
    return {m: {t for t in graph.find_modules_directly_imported_by(m) if t.split(".")[0] in PACKAGES}
            for m in graph.modules if m.split(".")[0] in PACKAGES}


def test_no_import_cycles():
    edges = import_edges()
    assert "hsgui.main_window" in edges and "channels.tools.engine" in edges  # the graph is the real one
    cycles = find_cycles(edges)
    assert cycles == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_cycle_finder_finds_cycles():
    # the check above must be able to fail: a two-module cycle, a longer one, a self-import, and a clean chain
    edges = {"a": {"b"}, "b": {"a", "c"}, "c": {"d"}, "d": set(),
             "x": {"y"}, "y": {"z"}, "z": {"x"}, "s": {"s"}}
    assert find_cycles(edges) == [["a", "b"], ["s"], ["x", "y", "z"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
