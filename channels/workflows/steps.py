"""A workflow step (a factor at one plate value) and how one step runs, whichever engine runs it.

Shared by :mod:`.execution` (planning, the run) and :mod:`.engines` (where steps run), so neither imports the
other's internals.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ChannelsError, RunRequestError
from ..tools.request import RunRequest, prepare_run
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


def step_request(step, interval, chunk=None):
    """The tool run of ``step`` over ``interval`` as a :class:`~channels.tools.request.RunRequest`: a MultiOutputFactor
    splits onto its output plate (``meta_data_id`` and the values under the step's plate value)."""
    spec = step.factor.tool
    plate = ((step.meta_data_id, step.output_values) if step.factor.factor_type == "MultiOutputFactor" else None)
    return RunRequest(spec.name, step.sink, interval, inputs=step.sources, alignment=step.alignment, chunk=chunk,
                      output_plate=plate)


def run_step(manager, workflow, step, tool, interval, prog, cancel, chunk, history=None):
    """Run ``step`` with ``tool`` (its factor's configured tool, loaded once per run) through
    :func:`~channels.tools.request.run_request`, recorded in ``history`` (default: the manager's); a missing input
    names the workflow and factor."""
    try:
        prepared = prepare_run(manager, step_request(step, interval, chunk), tool=tool)
    except RunRequestError as e:
        raise WorkflowExecutionError(f"workflow {workflow.workflow_id!r}, factor {step.factor.tool.name!r}: "
                                     f"{e}") from None
    return prepared.run(progress=prog, cancel=cancel, history=history)


def input_stream(manager, channel_id, stream_id, workflow, spec):
    try:
        channel = manager.get_channel(channel_id)
    except ChannelsError as e:
        raise WorkflowExecutionError(f"workflow {workflow.workflow_id!r}, factor {spec.name!r}: {e}") from None
    stream = channel.known_stream(stream_id)
    if stream is None:
        raise WorkflowExecutionError(f"workflow {workflow.workflow_id!r}, factor {spec.name!r}: input "
                                     f"{channel_id}/{stream_id} does not exist")
    return stream


__all__ = ["Step", "WorkflowExecutionError", "run_step", "step_request", "input_stream", "pv_text"]
