"""Recompute exactly the stale intervals of a stream: purge them, then re-run what made them.

Each stale interval came from one recorded run or, for a stream HyperStream computed, one workflow step (see
:mod:`.lineage`); it is purged (data and calculated intervals together) and that run's tool — its newest
version — runs again with the run's parameters and inputs (or the step's factor with its sources) over just
that interval. Purge and re-run go interval by interval, so an interruption leaves each interval either as it
was or recomputed. The re-run is a new computation, newer than every change it was stale from, so exactly the
recomputed intervals stop being stale; its writes are changes of this stream only (its downstream becomes
stale there, as it should).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ChannelsError
from ..stream import get_stream_id
from ..time_interval import TimeIntervals


@dataclass
class RecomputePlan:
    channel_id: str
    stream_id: object
    parts: list        # (TimeInterval, RunRecord | Step): purge and re-run
    instances: int     # how many instances the purge deletes

    @property
    def intervals(self) -> TimeIntervals:
        return TimeIntervals([iv for iv, _ in self.parts])


def recompute_plan(manager, lineage) -> RecomputePlan:
    """What "Recompute stale" will do for ``lineage`` (a Lineage with stale marks); counts what it deletes."""
    stream = manager.get_channel(lineage.channel_id)[lineage.stream_id]
    runs = {r.id: r for r in lineage.writers}
    parts, covered = [], TimeIntervals()
    for reason in lineage.stale:
        run = runs.get(reason.run_id) if reason.run_id is not None else getattr(reason, "step", None)
        if run is None:
            continue
        for iv in reason.intervals - covered:
            parts.append((iv, run))
        covered = covered + reason.intervals
    n = sum(stream.window(iv).count() for iv, _ in parts)
    return RecomputePlan(lineage.channel_id, lineage.stream_id, parts, n)


def recompute(manager, plan: RecomputePlan, progress=None, cancel=None) -> int:
    """Carry out ``plan``; returns the instances written. Raises ChannelsError naming a missing input."""
    from ..changes import change_origin
    channel = manager.get_channel(plan.channel_id)
    sink = channel[plan.stream_id]
    written = 0
    for i, (iv, run) in enumerate(plan.parts):
        if cancel is not None and cancel.is_set():
            from ..errors import CancelledError
            raise CancelledError(f"recompute of {plan.stream_id}: cancelled after {i} of {len(plan.parts)} intervals")
        try:
            tool, sources, alignment = (_from_run(manager, run) if hasattr(run, "input_streams")
                                        else _from_step(manager, plan, run))
        except ChannelsError as e:
            raise ChannelsError(f"cannot recompute {plan.stream_id} over {iv}: {e}") from None
        with change_origin(f"recompute {plan.stream_id}"):
            channel.purge_interval(plan.stream_id, iv)
        rec = tool.execute(sources, sink, iv, alignment_stream=alignment, cancel=cancel, history=manager.run_history,
                           progress=(lambda f, n, i=i: progress((i + f) / len(plan.parts), n)) if progress else None)
        written += rec.instances_written
    return written


def _from_run(manager, run):
    from ..tools import load_tool
    sources = [manager.get_channel(c)[get_stream_id(s)] for c, s in zip(run.input_channels, run.input_streams)]
    alignment = (manager.get_channel(run.alignment_channel)[get_stream_id(run.alignment_stream)]
                 if run.alignment_stream and run.alignment_channel else None)
    tool_channel, _tv = manager.find_tool(run.tool)
    return load_tool(tool_channel, run.tool, dict(run.parameters)), sources, alignment


def _from_step(manager, plan, step):
    """A workflow step's factor (a plain Factor writing this stream) as a tool run over its sources."""
    from .code_params import FactorCheck, resolve_tool, tool_for
    f = step.factor
    if f.factor_type != "Factor" or step.sink != (plan.channel_id, plan.stream_id):
        raise ChannelsError(f"it was computed by a {f.factor_type} of tool {f.tool.name}, which is recomputed by "
                            f"running its workflow, not stream by stream")
    if f.tool_instance is None and f.tool.code_parameters:
        raise ChannelsError(f"its factor ({f.tool.name}) has parameter(s) {', '.join(f.tool.code_parameters)} stored "
                            f"as code; run its workflow (binding them or allowing that code) to recompute it")
    check = FactorCheck(0, f)
    if f.tool_instance is None:
        check.tool = resolve_tool(manager, f, set())
    tool = tool_for(check)
    sources = [manager.get_channel(c)[s] for c, s in step.sources]
    alignment = manager.get_channel(step.alignment[0])[step.alignment[1]] if step.alignment else None
    return tool, sources, alignment


__all__ = ["RecomputePlan", "recompute_plan", "recompute"]
