"""Running a workflow over a time interval: its factors in dependency order, each tool once per
plate value of its sink node.

For a factor whose sink node is on plates, each plate value ``pv`` of the sink gives one tool run:
the sink is the sink node's stream of ``pv``; the sources are, for every source node, its streams
whose plate value agrees with ``pv`` (the same value, a value of a parent plate — a house's stream
for each of its residents — or, for a sink on fewer plates, every finer value under ``pv``: the
residents of a house aggregated into the house). A node on no plates has one stream, used by every
plate value. The alignment node must be on no plates (as in HyperStream).

Each run is an ordinary ``Tool.execute``: only what the sink is missing is computed, in chunks,
each chunk's data and calculated intervals committed together, recorded in the run history. So an
interrupted workflow leaves every stream consistent with its calculated intervals, and running it
again continues where it stopped.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import CancelledError, ChannelsError
from ..time_interval import TimeInterval
from .definitions import FactorDefinition, WorkflowDefinition
from .model import WorkflowModel


class WorkflowExecutionError(ChannelsError):
    """A factor that cannot run (unsupported type, stored code, unknown tool or channel)."""


@dataclass
class Step:
    """One tool run of a workflow: a factor at one plate value of its sink."""

    factor: FactorDefinition
    plate_value: tuple
    sources: list            # [(channel_id, StreamId)]
    sink: tuple              # (channel_id, StreamId)
    alignment: tuple | None  # (channel_id, StreamId) | None


@dataclass
class WorkflowRun:
    workflow_id: str
    interval: TimeInterval
    records: list = field(default_factory=list)     # RunRecord of every step that ran
    outcome: str = "running"                          # ok / error / cancelled
    error: str | None = None

    @property
    def instances_written(self) -> int:
        return sum(r.instances_written for r in self.records)


def _compatible(a: tuple, b: tuple) -> bool:
    """Plate values that agree on shared meta-data, one containing the other."""
    da, db = dict(a), dict(b)
    shared = set(da) & set(db)
    if any(da[k] != db[k] for k in shared):
        return False
    return shared == set(da) or shared == set(db)


def plan(model: WorkflowModel, workflow: WorkflowDefinition) -> list[Step]:
    """Every step of ``workflow``, in the order they run; raises WorkflowExecutionError naming the factor
    that cannot run."""
    steps = []
    for f in workflow.factor_order():
        where = f"workflow {workflow.workflow_id!r}, factor {f.tool.name!r}"
        if f.factor_type != "Factor":
            raise WorkflowExecutionError(f"{where}: {f.factor_type} factors (splitting onto a new plate) are not "
                                         f"supported yet")
        if f.tool.code_parameters:
            raise WorkflowExecutionError(f"{where}: parameter{'s' if len(f.tool.code_parameters) > 1 else ''} "
                                         f"{', '.join(f.tool.code_parameters)} hold Python code stored in the "
                                         f"database; it is never run from here")
        if len(f.sinks) != 1:
            raise WorkflowExecutionError(f"{where}: a factor needs exactly one sink node, has {len(f.sinks)}")
        sink_node = workflow.nodes[f.sinks[0]]
        sink_streams = model.node_streams(sink_node)
        source_streams = [(workflow.nodes[s], model.node_streams(workflow.nodes[s])) for s in f.sources]
        alignment = None
        if f.alignment_node:
            an = workflow.nodes[f.alignment_node]
            a_streams = model.node_streams(an)
            if len(a_streams) != 1:
                raise WorkflowExecutionError(f"{where}: alignment node {an.stream_name!r} is on plates "
                                             f"{an.plate_ids}; only alignment nodes on no plate are supported")
            alignment = (an.channel_id, next(iter(a_streams.values())))
        for pv, sink_id in sink_streams.items():
            sources = []
            for node, streams in source_streams:
                sources += [(node.channel_id, sid) for spv, sid in streams.items() if _compatible(spv, pv)]
            steps.append(Step(f, pv, sources, (sink_node.channel_id, sink_id), alignment))
    return steps


def run_workflow(manager, model: WorkflowModel, workflow: WorkflowDefinition, interval: TimeInterval, *,
                 progress=None, cancel=None, chunk=None) -> WorkflowRun:
    """Run every step of ``workflow`` over ``interval``.

    :param progress: ``progress(fraction, text)``: after every committed chunk of every step
    :param cancel: object with ``is_set()``; checked between chunks (a cancel raises CancelledError
        after recording the outcome; everything committed so far stays, consistent)
    """
    from ..tools import load_tool

    steps = plan(model, workflow)
    result = WorkflowRun(workflow.workflow_id, interval)
    report = progress or (lambda f, text: None)
    tools = {}
    try:
        for i, step in enumerate(steps):
            if cancel is not None and cancel.is_set():
                raise CancelledError(f"workflow {workflow.workflow_id!r} cancelled before {step.factor.tool.name}")
            spec = step.factor.tool
            key = (spec.name, spec.version)
            if key not in tools:
                channel, _tv = _find_tool(manager, spec)
                tools[key] = (channel, spec.version if _has_version(channel, spec) else None)
            channel, version = tools[key]
            tool = load_tool(channel, spec.name, dict(spec.parameters), version, coerce=True)
            sink_channel = manager.get_channel(step.sink[0])
            sink = sink_channel.get_or_create_stream(step.sink[1])
            sources = [_stream(manager, cid, sid, workflow, spec) for cid, sid in step.sources]
            alignment = _stream(manager, *step.alignment, workflow, spec) if step.alignment else None
            label = f"{spec.name} → {step.sink[1]}"

            def prog(fraction, _written, i=i, label=label):
                report((i + fraction) / len(steps), f"step {i + 1}/{len(steps)}: {label}")

            report(i / len(steps), f"step {i + 1}/{len(steps)}: {label}")
            result.records.append(tool.execute(sources, sink, interval, alignment_stream=alignment, progress=prog,
                                               cancel=cancel, chunk=chunk, history=manager.run_history))
        result.outcome = "ok"
        report(1.0, f"{len(steps)} steps, {result.instances_written:,} instances written")
        return result
    except CancelledError as e:
        result.outcome, result.error = "cancelled", str(e)
        raise
    except BaseException as e:
        result.outcome, result.error = "error", f"{type(e).__name__}: {e}"
        raise


def _find_tool(manager, spec):
    try:
        return manager.find_tool(spec.name, None)
    except ChannelsError as e:
        raise WorkflowExecutionError(f"tool {spec.name!r}: {e}") from None


def _has_version(channel, spec) -> bool:
    if not spec.version:
        return False
    return any(str(v.version) == spec.version for v in channel.list_tools().get(spec.name, []))


def _stream(manager, channel_id, stream_id, workflow, spec):
    try:
        channel = manager.get_channel(channel_id)
    except ChannelsError as e:
        raise WorkflowExecutionError(f"workflow {workflow.workflow_id!r}, factor {spec.name!r}: {e}") from None
    stream = channel.streams.get(stream_id)
    if stream is None:
        raise WorkflowExecutionError(f"workflow {workflow.workflow_id!r}, factor {spec.name!r}: input "
                                     f"{channel_id}/{stream_id} does not exist")
    return stream


__all__ = ["plan", "run_workflow", "Step", "WorkflowRun", "WorkflowExecutionError"]
