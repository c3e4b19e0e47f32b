"""A workflow step (a factor at one plate value) and how one step runs, whichever engine runs it.

Shared by :mod:`.execution` (planning, the run) and :mod:`.engines` (where steps run), so neither imports the
other's internals.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ChannelsError
from .definitions import FactorDefinition


class WorkflowExecutionError(ChannelsError):
    """A factor that cannot run (stored code, unknown tool or channel, plates that do not fit its type)."""


@dataclass
class Step:
    """One tool run of a workflow: a factor at one plate value."""

    factor: FactorDefinition
    plate_value: tuple
    sources: list            # [(channel_id, StreamId)]
    sink: tuple | None       # (channel_id, StreamId); for a MultiOutputFactor the stream the sinks split from
    alignment: tuple | None  # (channel_id, StreamId) | None: the alignment or splitting stream
    sinks: list = field(default_factory=list)      # MultiOutputFactor: [(channel_id, StreamId)] it writes
    meta_data_id: str | None = None                # MultiOutputFactor / NodeCreationFactor: the output key
    output_values: list = field(default_factory=list)   # MultiOutputFactor: output plate values under pv

    @property
    def stored_code(self) -> list:
        """Parameters of this step's factor that HyperStream stored as Python code (none for a script's
        live tool)."""
        return [] if self.factor.tool_instance is not None else list(self.factor.tool.code_parameters)


def pv_text(pv) -> str:
    return ", ".join(f"{k}={v}" for k, v in pv) or "no plate"


def run_step(manager, workflow, step, tool, interval, prog, cancel, chunk):
    from ..tools.plates import MultiOutputTool as PlateStyleTool, base_stream
    spec = step.factor.tool
    sources = [input_stream(manager, cid, sid, workflow, spec) for cid, sid in step.sources]
    alignment = input_stream(manager, *step.alignment, workflow, spec) if step.alignment else None
    options = dict(progress=prog, cancel=cancel, chunk=chunk, history=manager.run_history)
    channel = manager.get_channel(step.sink[0])
    if step.factor.factor_type == "Factor":
        sink = channel.get_or_create_stream(step.sink[1])
        return tool.execute(sources, sink, interval, alignment_stream=alignment, **options)
    # MultiOutputFactor: the sink node's streams under this plate value split from one base stream, which
    # holds what they have all calculated and is removed again when it holds no data of its own
    sinks = [channel.get_or_create_stream(sid) for _cid, sid in step.sinks]
    base, created = base_stream(channel, step.sink[1], sinks)
    try:
        if isinstance(tool, PlateStyleTool):
            return tool.execute(sources, base, interval, alignment, meta_data_id=step.meta_data_id,
                                output_plate_values=list(step.output_values), **options)
        return tool.execute(sources, base, interval, alignment_stream=alignment, **options)
    finally:
        from ..time_interval import TimeInterval as _TI
        if created and base.stream_id in channel.streams and not base.window(_TI.all_time()).count():
            channel.purge_stream(base.stream_id, remove_definition=True)


def input_stream(manager, channel_id, stream_id, workflow, spec):
    try:
        channel = manager.get_channel(channel_id)
    except ChannelsError as e:
        raise WorkflowExecutionError(f"workflow {workflow.workflow_id!r}, factor {spec.name!r}: {e}") from None
    stream = channel.streams.get(stream_id)
    if stream is None:
        raise WorkflowExecutionError(f"workflow {workflow.workflow_id!r}, factor {spec.name!r}: input "
                                     f"{channel_id}/{stream_id} does not exist")
    return stream


__all__ = ["Step", "WorkflowExecutionError", "run_step", "input_stream", "pv_text"]
