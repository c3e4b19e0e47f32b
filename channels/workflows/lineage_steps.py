"""The workflow steps lineage needs (what no run record covers), planned per factor when a question first needs
them: a stream's writing steps plan only the factors writing its node, so neither the first colouring of a
100-home graph nor one stream's lineage plans the 77,000 steps of the whole workflow (issue 23).

:class:`StepIndex` answers ``writers(key)`` and ``readers(key)`` for a ``(channel_id, StreamId)`` in the order an
eager plan gives (workflow, factor in dependency order, plate value); :meth:`StepIndex.maybe_changed` finds, from
each stream's newest change, the factors whose steps may have read a change after their output was written,
without planning the others.
"""
from __future__ import annotations

import logging
import threading
from operator import itemgetter

log = logging.getLogger(__name__)


def step_inputs(step):
    return list(step.sources) + ([step.alignment] if step.alignment else [])


def step_outputs(step):
    return list(step.sinks) if step.sinks else ([step.sink] if step.sink else [])


def _index(steps) -> tuple[dict, dict, list]:
    writers, readers = {}, {}
    for st in steps:
        for out in step_outputs(st):
            writers.setdefault(out, []).append(st)
        for inp in step_inputs(st):
            readers.setdefault(inp, []).append(st)
    return writers, readers, steps


class StepIndex:
    """Workflow steps by the streams they write and read: given (``steps``: indexed at once) or planned from
    ``model`` one factor at a time, when a stream of a node the factor writes or reads is first asked about."""

    def __init__(self, steps=None, model=None):
        self.model = model
        self._lock = threading.RLock()
        self.factors: list = []              # (workflow, factor), in plan order
        self._planned: dict = {}             # factor number -> (writers, readers, steps) of its steps
        self._writing: dict = {}             # (channel_id, stream name) -> numbers of the factors writing its node
        self._reading: dict = {}             # ... reading it (sources, alignment, splitting)
        if steps is not None:                # the steps as given: one pseudo-factor planned already
            self.factors.append((None, None))
            self._planned[0] = _index(steps)
            for key in self._planned[0][0]:
                self._writing.setdefault((key[0], _name(key[1])), [0])
            for key in self._planned[0][1]:
                self._reading.setdefault((key[0], _name(key[1])), [0])
            return
        for wf in (model.workflows.values() if model is not None else ()):
            try:
                factors = wf.factor_order()
            except Exception as e:  # noqa: BLE001 - the other workflows still count
                log.warning("lineage: workflow %s: %s", wf.workflow_id, e)
                continue
            for f in factors:
                i = len(self.factors)
                self.factors.append((wf, f))
                for node_id in f.sinks:
                    self._add(self._writing, wf, node_id, i)
                for node_id in list(f.sources) + [f.alignment_node, f.splitting_node]:
                    self._add(self._reading, wf, node_id, i)

    @staticmethod
    def _add(by_node, wf, node_id, i) -> None:
        node = wf.nodes.get(node_id) if node_id else None
        if node is not None:
            numbers = by_node.setdefault((node.channel_id, node.stream_name), [])
            if i not in numbers:
                numbers.append(i)

    def planned(self, i: int) -> tuple[dict, dict, list]:
        """``({output: [Step]}, {input: [Step]}, [Step])`` of factor ``i``'s steps, planned once (a factor that
        cannot be planned, e.g. stored code until plan marks it, is logged and has none)."""
        got = self._planned.get(i)
        if got is not None:
            return got
        with self._lock:
            got = self._planned.get(i)
            if got is None:
                got = self._planned[i] = _index(self._plan(*self.factors[i]))
        return got

    def _plan(self, wf, f) -> list:
        from .execution import plan_factor
        from .steps import WorkflowExecutionError
        try:
            return plan_factor(self.model, wf, f)
        except WorkflowExecutionError as e:
            log.info("lineage: workflow %s, factor %s skipped: %s", wf.workflow_id, f.tool.name, e)
        except Exception as e:  # noqa: BLE001 - a malformed factor hides only itself
            log.warning("lineage: workflow %s, factor %s skipped: %s", wf.workflow_id, f.tool.name, e)
        return []

    def writers(self, key) -> list:
        """The steps writing ``key`` ((channel_id, StreamId))."""
        return self._of(self._writing, 0, key)

    def readers(self, key) -> list:
        """The steps reading ``key``."""
        return self._of(self._reading, 1, key)

    def _of(self, by_node, role, key) -> list:
        if key[1] is None:
            return []
        out = []
        for i in by_node.get((key[0], key[1].name), ()):
            out += self.planned(i)[role].get(key, ())
        return out

    def outputs(self) -> set:
        """Every step's output (plans every factor)."""
        return {out for i in range(len(self.factors)) for out in self.planned(i)[0]}

    def writer_factors(self, channel_id, stream_name) -> list:
        """Numbers of the factors writing the node of that channel and stream name."""
        return list(self._writing.get((channel_id, stream_name), ()))

    def maybe_changed(self, changed: dict, definition, always) -> list:
        """Numbers of the factors whose steps may hold an output written before one of its inputs' newest change
        (a superset: those are then checked step by step). ``changed``: ``{(channel_id, StreamId.key): epoch ms
        of its newest change}``; ``definition(channel_id, StreamId) -> (calculated intervals, last_updated ms
        | None) | None``; ``always(factor number) -> bool``: the factor's steps are checked whenever an input
        changed (a store that tells insert times, an outdated tool version).

        A plain factor's step reads, of each source node, streams that agree with its plate value on the meta-data
        keys the two nodes share (the same value, a coarser one it lies under, or every finer one under it):
        the newest change among the source streams with those values bounds what the step read. Without a
        model (steps given) every factor with a changed input is checked."""
        if not changed:
            return []
        model = self.model
        changes: dict = {}   # id(node) -> [(plate value as a dict, newest change)] of its changed streams
        grouped: dict = {}   # (id(node), shared keys) -> (key getter, {values: newest change}, wild, newest)
        out = []
        for i, (wf, f) in enumerate(self.factors):
            if wf is None:
                out.append(i)
                continue
            try:
                inputs = [wf.nodes[n] for n in list(f.sources) + [f.alignment_node, f.splitting_node] if n]
                sink = wf.nodes[f.sinks[0]] if len(f.sinks) == 1 else None
                sink_streams = model.node_streams(sink) if sink is not None else {}
                sink_keys = frozenset(k for pv in list(sink_streams)[:1] for k, _v in pv)
                groups = [self._grouped(grouped, changes, node, sink_keys, changed) for node in inputs]
            except Exception:  # noqa: BLE001 - planning it reports why (or finds no step)
                out.append(i)
                continue
            groups = [g for g in groups if g[3] is not None]
            if not groups:
                continue   # no input changed
            if f.factor_type != "Factor" or sink is None or always(i):
                out.append(i)
                continue
            top = max(g[3] for g in groups)
            for pv, sid in sink_streams.items():
                d = definition(sink.channel_id, sid)
                if d is None or d[1] is None or d[1] >= top:
                    continue
                if _bound(groups, dict(pv)) > d[1]:
                    out.append(i)
                    break
        return out

    def _grouped(self, grouped, changes, node, sink_keys, changed):
        """``(key getter, {values on the shared keys: newest change}, newest of those lacking a shared key,
        newest change overall)`` of ``node``'s streams."""
        streams = self.model.node_streams(node)
        keys = tuple(sorted(frozenset(k for pv in list(streams)[:1] for k, _v in pv) & sink_keys))
        memo = grouped.get((id(node), keys))
        if memo is not None:
            return memo
        got = changes.get(id(node))
        if got is None:
            cid = node.channel_id
            got = changes[id(node)] = [(dict(pv), at) for pv, sid in streams.items()
                                       for at in (changed.get((cid, sid.key)),) if at is not None]
        by_values, wild, newest = {}, -1, None
        getter = itemgetter(*keys) if keys else None
        for values, at in got:
            if newest is None or at > newest:
                newest = at
            if getter is None:
                continue
            try:
                v = getter(values)
            except KeyError:   # lacks a shared key: agrees with every value
                wild = max(wild, at)
                continue
            if by_values.get(v, -1) < at:
                by_values[v] = at
        grouped[(id(node), keys)] = memo = (getter, by_values, wild, newest)
        return memo


def _bound(groups, values) -> int:
    """The newest change a sink stream with plate value ``values`` may have read (-1: none)."""
    bound = -1
    for getter, by_values, wild, newest in groups:
        if getter is None:
            at = newest
        else:
            try:
                at = max(by_values.get(getter(values), -1), wild)
            except KeyError:   # the sink lacks a shared key: bounded by every stream
                at = newest
        if at > bound:
            bound = at
    return bound


def _name(sid):
    return getattr(sid, "name", None)


__all__ = ["StepIndex", "step_inputs", "step_outputs"]
