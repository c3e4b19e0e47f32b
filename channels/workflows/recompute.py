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

from ..changes import change_origin
from ..errors import CancelledError, ChannelsError
from ..time_interval import TimeIntervals
from ..tools.history import RunRecord
from ..tools.request import prepare_run, request_from_record
from .steps import step_request


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
    channel = manager.get_channel(plan.channel_id)
    written = 0
    for i, (iv, run) in enumerate(plan.parts):
        if cancel is not None and cancel.is_set():
            raise CancelledError(f"recompute of {plan.stream_id}: cancelled after {i} of {len(plan.parts)} intervals")
        try:   # everything the re-run needs is found before anything is purged
            prepared = (prepare_run(manager, request_from_record(manager, run, iv, newest=True))
                        if isinstance(run, RunRecord) else _from_step(manager, plan, run, iv))
        except ChannelsError as e:
            raise ChannelsError(f"cannot recompute {plan.stream_id} over {iv}: {e}") from None
        with change_origin(f"recompute {plan.stream_id}"):
            channel.purge_interval(plan.stream_id, iv)
        rec = prepared.run(cancel=cancel, progress=(lambda f, n, i=i: progress((i + f) / len(plan.parts), n))
                           if progress else None)
        written += rec.instances_written
    return written


def _from_step(manager, plan, step, interval):
    """A workflow step's factor (a plain Factor writing this stream), prepared to run over ``interval``."""
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
    return prepare_run(manager, step_request(step, interval), tool=tool_for(check))


__all__ = ["RecomputePlan", "recompute_plan", "recompute"]
