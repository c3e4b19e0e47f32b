"""One tool run asked for, as a value, and the one function that runs it.

Every way a tool runs outside a hand-written script goes through here: the Run Tool dialog, "Compute missing"
(re-run the run that made a stream over its gaps), "Recompute stale" (purge, then re-run what made an
interval) and a workflow's steps. A :class:`RunRequest` names the tool (name, version, tool channel,
parameters), the input, alignment and output streams by ``(channel id, StreamId)``, the interval and the chunk
length; :func:`run_request` loads the tool, resolves the streams and runs ``Tool.execute``, so what a run does
— only what the output is missing, only where its inputs are calculated (the rest in ``RunRecord.skipped``),
chunks committed with their calculated intervals, a run record — is the engine's, the same for all of them.

:func:`request_from_record` is "re-run this recorded run": the request a :class:`RunRecord` describes, over
another interval. :func:`prepare_run` does the loading and resolving alone, for a caller that must know the
run can start before it changes anything (Recompute purges only then).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from ..errors import ChannelsError, RunRequestError, StreamIdError
from ..stream import StreamId, get_stream_id
from ..time_interval import TimeInterval
from .loading import load_tool
from .plates import MultiOutputTool as PlateStyleTool, base_stream


def _bad(field, text) -> RunRequestError:
    return RunRequestError(field, f"run request: {field} {text}")


def _stream_ref(value, what) -> tuple:
    """``(channel id, StreamId)`` from a pair whose stream id may be a StreamId, its text or its dict."""
    if not isinstance(value, (tuple, list)) or len(value) != 2 or not isinstance(value[0], str) or not value[0]:
        raise _bad(what, f"must be a (channel id, stream id) pair, got {value!r}")
    sid = value[1]
    if type(sid) is not StreamId:
        try:
            sid = get_stream_id(sid)
        except StreamIdError as e:
            raise _bad(what, f"has no readable stream id: {e}") from None
    return value[0], sid


@dataclass(frozen=True)
class RunRequest:
    """One tool run: ``tool`` (name) with ``parameters`` from ``version`` (None: the newest) of ``tool_channel``
    (None: the first tool channel that has it), reading ``inputs`` (and ``alignment``, the alignment or
    splitting stream), writing ``output``, over ``interval``, in chunks of ``chunk`` (timedelta or seconds;
    None: the engine's default). Streams are ``(channel id, StreamId)`` pairs; a stream id may be given as its
    text. ``output_plate``, ``(meta_data_id, values)``: the run splits onto a plate — it writes ``output`` plus
    ``meta_data_id=value`` for each value, and ``output`` itself only holds what they have all calculated (it
    is removed after the run when it was made for it and holds no data), as a workflow's MultiOutputFactor does.

    Every field is checked when the request is made; a bad one raises :class:`RunRequestError` naming it.
    """

    tool: str
    output: tuple
    interval: TimeInterval
    parameters: Mapping = field(default_factory=dict, hash=False)
    version: str | None = None
    tool_channel: str | None = None
    inputs: tuple = ()
    alignment: tuple | None = None
    chunk: timedelta | float | None = None
    output_plate: tuple | None = None

    def __post_init__(self):
        if not isinstance(self.tool, str) or not self.tool.strip():
            raise _bad("tool", f"must be a tool name, got {self.tool!r}")
        set_ = object.__setattr__
        set_(self, "output", _stream_ref(self.output, "output"))
        if not isinstance(self.interval, TimeInterval):
            raise _bad("interval", f"must be a TimeInterval, got {type(self.interval).__name__} {self.interval!r}")
        if not isinstance(self.parameters, Mapping) or not all(isinstance(k, str) for k in self.parameters):
            raise _bad("parameters", f"must be a mapping of parameter names to values, got {self.parameters!r}")
        set_(self, "parameters", dict(self.parameters))
        for name in ("version", "tool_channel"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise _bad(name, f"must be text or None, got {value!r}")
        if isinstance(self.inputs, (str, bytes)) or not hasattr(self.inputs, "__iter__"):
            raise _bad("inputs", f"must be a sequence of (channel id, stream id) pairs, got {self.inputs!r}")
        set_(self, "inputs", tuple(_stream_ref(s, f"inputs[{i}]") for i, s in enumerate(self.inputs)))
        if self.alignment is not None:
            set_(self, "alignment", _stream_ref(self.alignment, "alignment"))
        chunk = self.chunk
        if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, (timedelta, int, float))
                                  or (chunk if isinstance(chunk, timedelta) else timedelta(seconds=chunk))
                                  <= timedelta(0)):
            raise _bad("chunk", f"must be a positive timedelta or seconds, or None, got {chunk!r}")
        if self.output_plate is not None:
            plate = self.output_plate
            if (not isinstance(plate, (tuple, list)) or len(plate) != 2 or not isinstance(plate[0], str)
                    or not plate[0] or isinstance(plate[1], str) or not hasattr(plate[1], "__iter__")):
                raise _bad("output_plate", f"must be (meta_data_id, values), got {plate!r}")
            set_(self, "output_plate", (plate[0], tuple(str(v) for v in plate[1])))


@dataclass
class PreparedRun:
    """A request with its tool loaded and its streams resolved: :meth:`run` starts it."""

    manager: object
    request: RunRequest
    tool: object
    sources: list
    alignment: object

    def run(self, *, progress=None, cancel=None, history=None):
        """Run the request (see :meth:`channels.tools.Tool.execute` for ``progress`` and ``cancel``); the run is
        recorded in ``history`` (default: the manager's run history). Returns the RunRecord."""
        req = self.request
        options = dict(progress=progress, cancel=cancel, chunk=req.chunk,
                       history=history if history is not None else self.manager.run_history)
        channel = self.manager.get_channel(req.output[0])
        if req.output_plate is None:
            sink = channel.get_or_create_stream(req.output[1])
            return self.tool.execute(self.sources, sink, req.interval, alignment_stream=self.alignment, **options)
        key, values = req.output_plate
        base_id = req.output[1]
        sinks = [channel.get_or_create_stream(StreamId(base_id.name, base_id.meta_data + ((key, v),)))
                 for v in values]
        base, created = base_stream(channel, base_id, sinks)
        try:
            if isinstance(self.tool, PlateStyleTool):
                return self.tool.execute(self.sources, base, req.interval, self.alignment, meta_data_id=key,
                                         output_plate_values=list(values), **options)
            return self.tool.execute(self.sources, base, req.interval, alignment_stream=self.alignment, **options)
        finally:
            if created and base.stream_id in channel and not base.window(TimeInterval.all_time()).count():
                channel.purge_stream(base.stream_id, remove_definition=True)


def input_streams(manager, request: RunRequest) -> tuple[list, object]:
    """The request's input streams and alignment stream (None) in ``manager``; a missing one raises
    :class:`RunRequestError` naming it."""
    def get(ref, what):
        try:
            stream = manager.get_channel(ref[0]).known_stream(ref[1])
        except ChannelsError as e:
            raise _bad(what, f"{ref[0]}/{ref[1]}: {e}") from None
        if stream is None:
            raise _bad(what, f"{ref[0]}/{ref[1]} does not exist")
        return stream
    sources = [get(ref, f"inputs[{i}]") for i, ref in enumerate(request.inputs)]
    return sources, (get(request.alignment, "alignment") if request.alignment is not None else None)


def prepare_run(manager, request: RunRequest, *, tool=None) -> PreparedRun:
    """Load the request's tool (unless ``tool``, a configured instance of it, is given: a workflow's factor
    loaded once for all its steps) and resolve its streams; nothing is written yet. Raises
    ToolNotFoundError / ToolInitialisationError / :class:`RunRequestError` naming what is wrong."""
    if not isinstance(request, RunRequest):
        raise TypeError(f"expected a RunRequest, got {type(request).__name__}")
    sources, alignment = input_streams(manager, request)
    manager.get_channel(request.output[0])   # an unknown output channel is an error before anything runs
    if tool is None:
        channel = (manager.get_channel(request.tool_channel) if request.tool_channel is not None
                   else manager.find_tool(request.tool, request.version)[0])
        tool = load_tool(channel, request.tool, request.parameters, request.version)
    return PreparedRun(manager, request, tool, sources, alignment)


def run_request(manager, request: RunRequest, *, tool=None, progress=None, cancel=None, history=None):
    """Run ``request`` in ``manager``; returns the RunRecord. See :func:`prepare_run` and :meth:`PreparedRun.run`."""
    return prepare_run(manager, request, tool=tool).run(progress=progress, cancel=cancel, history=history)


def request_from_record(manager, record, interval: TimeInterval | None = None, *, newest: bool = False,
                        chunk=None) -> RunRequest:
    """"Re-run this recorded run": the request ``record`` (a RunRecord) describes — its tool, version,
    parameters, inputs and output — over ``interval`` (default: the recorded one). ``newest``: the newest
    version of the tool instead of the recorded one. Raises ChannelsError saying which run cannot be re-run
    and why (a tool or version removed since, a record without an output)."""
    what = (f"cannot re-run the run of tool {record.tool!r}"
            + (f" v{record.tool_version}" if record.tool_version else "")
            + (f" that wrote {record.output_channel}/{record.output_stream}" if record.output_stream else "")
            + (f" (started {record.started_at.isoformat()})" if record.started_at else ""))
    version = None if newest else (record.tool_version or None)
    try:
        channel, tv = manager.find_tool(record.tool, version)
        if interval is None and record.interval is None:
            raise _bad("interval", "is not recorded; give one")
        return RunRequest(
            tool=record.tool, version=str(tv.version), tool_channel=channel.channel_id,
            parameters=dict(record.parameters or {}),
            inputs=tuple(zip(record.input_channels or (), record.input_streams or ())),
            alignment=((record.alignment_channel, record.alignment_stream)
                       if record.alignment_stream and record.alignment_channel else None),
            output=(record.output_channel, record.output_stream),
            interval=interval if interval is not None else record.interval, chunk=chunk)
    except ChannelsError as e:
        raise RunRequestError(getattr(e, "field", "tool"), f"{what}: {e}") from None


__all__ = ["RunRequest", "PreparedRun", "run_request", "prepare_run", "request_from_record", "input_streams"]
