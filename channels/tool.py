"""Tools and the engine that runs them.

A tool subclasses :class:`Tool`: parameters go through ``__init__`` (annotated,
with defaults, passed on with ``super().__init__(a=a, b=b)`` as in HyperStream)
and ``_execute(sources, alignment_stream, interval)`` yields StreamInstances.

``Tool.execute(sources, sink, interval, ...)`` is the one engine:

1. refuses a read-only sink, an interval ending after the sink channel's
   ``up_to_timestamp`` or in the future, and missing input streams;
2. computes only ``TimeIntervals([interval]) - sink.calculated_intervals``,
   split into chunks (default: 1/20 of the missing span, at least 1 s);
3. per chunk, runs ``_execute`` on a private copy of the chunk interval,
   checks every instance lies inside the chunk, and commits data and
   calculated intervals together with ``sink.channel.write_chunk``;
4. calls ``progress(fraction_done, instances_written)`` after each chunk and
   checks ``cancel.is_set()`` between chunks (and every few thousand
   instances inside one; an unfinished chunk is dropped, never half-written);
5. records the run — ok, error or cancelled — as a :class:`RunRecord` in a
   :class:`RunHistory`.

Multi-output tools (e.g. ``splitter``) yield :class:`StreamMetaInstance`
``(instance, meta)`` where ``meta`` is a ``(key, value)`` pair, a list of
pairs or a dict. Such an instance goes to the *sibling* stream of the sink in
the same channel whose id is the sink's id plus that meta-data
(``sink: [a=1]`` + ``(room, kitchen)`` -> ``sink: [a=1, room=kitchen]``),
created on demand. Siblings' calculated intervals follow the sink's: the
sink's calculated intervals record what the tool has computed, and every
sibling of a meta key the run produced is marked calculated over them too.
Per chunk the siblings are committed first and the sink last, so after an
interruption each stream's data agrees with its own calculated intervals.

Importing this module installs :func:`channels.hyperstream_compat.hyperstream_names`
as ``ToolChannel.import_hook`` so HyperStream plugin files import unchanged.
"""
from __future__ import annotations

import functools
from bisect import bisect_right
import logging
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from .errors import (CancelledError, IncorrectInputCountError, ReadOnlyChannelError, ToolExecutionError,
                     ToolInitialisationError, ToolParameterError)
from .stream import Stream, StreamId, StreamInstance, StreamMetaInstance
from .time_interval import TimeInterval, TimeIntervals
from .tool_params import coerce_parameters, to_jsonable
from .utils import UTC, ensure_utc, from_ms, get_timedelta, parse_datetime, to_ms, utcnow

log = logging.getLogger(__name__)

#: default number of chunks a run is split into (each at least MIN_CHUNK long)
DEFAULT_CHUNKS = 20
MIN_CHUNK = timedelta(seconds=1)
#: while a chunk is being computed, the cancel flag is also checked every this many instances
CANCEL_CHECK_EVERY = 4096


def camel_to_snake(name: str) -> str:
    """``SlidingWindow`` -> ``sliding_window``."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


# -- decorator ----------------------------------------------------------------------------------
def check_input_stream_count(expected_count):
    """Decorator for ``_execute``: raise IncorrectInputCountError unless exactly ``expected_count``
    input streams are given (``None``: any number). The check runs when ``_execute`` is called."""

    def decorator(func):
        @functools.wraps(func)
        def wrapper(self, *args, **kwargs):
            sources = kwargs["sources"] if "sources" in kwargs else (args[0] if args else None)
            given = len(sources) if sources else 0
            if expected_count is not None and given != expected_count:
                name = getattr(self, "name", type(self).__name__)
                raise IncorrectInputCountError(
                    f"tool {name!r} expects {expected_count} input stream{'s' if expected_count != 1 else ''}, "
                    f"got {given}")
            return func(self, *args, **kwargs)
        wrapper.expected_input_count = expected_count
        return wrapper
    return decorator


class _WorkInterval(TimeInterval):
    """The private copy of a chunk interval handed to ``_execute``.

    HyperStream tools sometimes assign ``interval.start = ...``; on this copy
    that is allowed and affects nothing outside the one ``_execute`` call.
    """

    __slots__ = ()

    @property
    def start(self):
        return self._start

    @start.setter
    def start(self, value):
        self._start = ensure_utc(value, "interval start")

    @property
    def end(self):
        return self._end

    @end.setter
    def end(self, value):
        self._end = ensure_utc(value, "interval end")


# -- run records ------------------------------------------------------------------------------
def _iso(dt):
    return dt.isoformat() if isinstance(dt, datetime) else None


def _from_iso(text):
    return parse_datetime(text) if text else None


@dataclass
class RunRecord:
    """One tool run: what ran, on what, over which interval, and how it ended."""

    id: str
    tool: str
    parameters: dict
    output_stream: str | None
    output_channel: str | None
    interval: TimeInterval | None
    started_at: datetime
    tool_version: str | None = None
    tool_source: str | None = None
    input_streams: list = field(default_factory=list)   # str(StreamId) per input
    input_channels: list = field(default_factory=list)  # channel id per input
    alignment_stream: str | None = None
    alignment_channel: str | None = None
    instances_written: int = 0
    duration_s: float = 0.0
    outcome: str = "running"  # "ok", "error", "cancelled" once finished
    error: str | None = None
    computed: TimeIntervals = field(default_factory=TimeIntervals)  # what this run committed
    chunks: int = 0

    def to_dict(self) -> dict:
        """JSON-only form (times as ISO text)."""
        d = {f: getattr(self, f) for f in self.__dataclass_fields__}
        d["interval"] = ({"start": _iso(self.interval.start), "end": _iso(self.interval.end)}
                         if self.interval is not None else None)
        d["started_at"] = _iso(self.started_at)
        d["computed"] = [{"start": _iso(iv.start), "end": _iso(iv.end)} for iv in self.computed]
        d["parameters"] = to_jsonable(self.parameters)
        d["input_streams"] = list(map(str, self.input_streams))
        d["input_channels"] = list(map(str, self.input_channels))
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "RunRecord":
        d = dict(d)
        iv = d.get("interval")
        interval = TimeInterval(_from_iso(iv["start"]), _from_iso(iv["end"])) if iv else None
        computed = TimeIntervals([TimeInterval(_from_iso(c["start"]), _from_iso(c["end"]))
                                  for c in d.get("computed") or []])
        names = {f for f in cls.__dataclass_fields__}
        kwargs = {k: v for k, v in d.items() if k in names}
        kwargs.update(interval=interval, computed=computed, started_at=_from_iso(d.get("started_at")),
                      input_streams=list(d.get("input_streams") or []),
                      input_channels=list(d.get("input_channels") or []),
                      parameters=dict(d.get("parameters") or {}))
        return cls(**kwargs)

    def describe(self) -> str:
        """One line for a log or jobs panel."""
        what = f"{self.tool}" + (f" v{self.tool_version}" if self.tool_version else "")
        text = (f"{what} -> {self.output_channel}/{self.output_stream} over {self.interval}: {self.outcome}, "
                f"{self.instances_written} instances in {self.duration_s:.2f} s")
        return text + (f" ({self.error})" if self.error else "")


class RunHistory:
    """Where runs are recorded: ``record(run)`` and ``list(limit=None)`` (newest first)."""

    def record(self, run: RunRecord) -> None:
        raise NotImplementedError

    def list(self, limit: int | None = None) -> list[RunRecord]:
        raise NotImplementedError


class MemoryRunHistory(RunHistory):
    """Runs kept in memory (the newest ``max_records``)."""

    def __init__(self, max_records: int | None = 10000):
        self._runs: deque = deque(maxlen=max_records)
        self._lock = threading.Lock()

    def record(self, run: RunRecord) -> None:
        with self._lock:
            self._runs.append(RunRecord.from_dict(run.to_dict()))  # a snapshot, detached from the caller

    def list(self, limit: int | None = None) -> list[RunRecord]:
        with self._lock:
            runs = list(reversed(self._runs))
        return runs if limit is None else runs[:limit]

    def clear(self) -> None:
        with self._lock:
            self._runs.clear()


class StoreRunHistory(RunHistory):
    """Runs kept in a store (``store.record_run(dict)`` / ``store.list_runs(limit)``)."""

    def __init__(self, store):
        self.store = store

    def record(self, run: RunRecord) -> None:
        self.store.record_run(run.to_dict())

    def list(self, limit: int | None = None) -> list[RunRecord]:
        return [RunRecord.from_dict(d) for d in self.store.list_runs(limit)]


_default_history: RunHistory = MemoryRunHistory()


def get_default_history() -> RunHistory:
    """The history runs are recorded in when ``execute`` is given none."""
    return _default_history


def set_default_history(history: RunHistory) -> None:
    global _default_history
    if not isinstance(history, RunHistory) and not (hasattr(history, "record") and hasattr(history, "list")):
        raise TypeError(f"expected a RunHistory, got {type(history).__name__}")
    _default_history = history


# -- the tool base class --------------------------------------------------------------------------------
def _stream_label(s):
    if isinstance(s, Stream):
        return str(s.stream_id), getattr(s.channel, "channel_id", None)
    return (None if s is None else repr(s)), None


def _normalise_meta(meta, tool_name):
    if isinstance(meta, dict):
        pairs = list(meta.items())
    elif isinstance(meta, (tuple, list)) and len(meta) == 2 and isinstance(meta[0], str):
        pairs = [tuple(meta)]
    elif isinstance(meta, (tuple, list)):
        pairs = [tuple(p) for p in meta]
    else:
        raise ToolExecutionError(f"tool {tool_name!r} yielded meta-data {meta!r}: expected a (key, value) pair, "
                                 f"a list of pairs or a dict")
    return tuple((str(k), str(v)) for k, v in pairs)


class Tool:
    """Base class of tools (HyperStream's shape).

    Subclasses call ``super().__init__(**parameters)``; each parameter becomes
    an attribute and is remembered in :attr:`parameters` exactly as given, so
    the run can be recorded and repeated.
    """

    #: what to do with an instance outside the chunk being computed: "error" or "drop" (logged)
    out_of_interval = "error"

    #: whether the engine may split a missing interval into chunks by default. True only for tools whose
    #: output does not depend on where a chunk starts (the built-ins); tools written for HyperStream
    #: (``hyperstream.tool.Tool``) are False, and then run each missing interval in one piece.
    chunkable = True

    #: a short human description of the input streams, e.g. "1 or more streams sharing timestamps", shown
    #: by the Run Tool dialog for tools whose ``_execute`` declares no count with
    #: :func:`check_input_stream_count` (because they accept alternatives). Documentation only: such tools
    #: check their inputs themselves when they run. None: nothing to say.
    inputs_doc: str | None = None

    #: set by :func:`load_tool` for tools loaded from a ToolChannel
    tool_version: str | None = None
    tool_source: str | None = None
    tool_channel: str | None = None

    def __init__(self, **kwargs):
        self._parameters = dict(kwargs)
        for k, v in kwargs.items():
            if isinstance(getattr(type(self), k, None), property):
                raise ToolInitialisationError(f"tool {type(self).__name__}: parameter {k!r} clashes with the "
                                              f"Tool attribute of that name; rename the parameter")
            setattr(self, k, v)

    # -- identity ----------------------------------------------------------------
    @property
    def name(self) -> str:
        """Snake-case class name: ``SlidingWindow`` -> ``sliding_window``."""
        return camel_to_snake(type(self).__name__)

    @property
    def parameters(self) -> dict:
        """The parameters as given to ``__init__`` (a copy)."""
        return dict(getattr(self, "_parameters", {}))

    @property
    def parameters_dict(self) -> dict:
        """Same as :attr:`parameters` (HyperStream's name)."""
        return self.parameters

    def _key(self):
        return type(self), repr(sorted((k, repr(v)) for k, v in self.parameters.items()))

    def __eq__(self, other):
        return isinstance(other, Tool) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.parameters.items())
        return f"{type(self).__name__}({args})"

    def __str__(self):
        args = ", ".join(f"{k}={v}" for k, v in self.parameters.items())
        return f"{self.name}({args})"

    def message(self, interval) -> str:
        return f"{type(self).__name__} running from {interval.start} to {interval.end}"

    # -- computing ------------------------------------------------------------------
    def _execute(self, sources, alignment_stream, interval):
        """Yield the StreamInstances of ``interval`` (``(start, end]``). Must not yield outside it."""
        raise NotImplementedError(f"tool {self.name!r} does not implement _execute")

    def execute(self, sources, sink, interval, alignment_stream=None, *, progress=None, cancel=None, chunk=None,
                history=None) -> RunRecord:
        """Compute the parts of ``interval`` the sink has not calculated yet; return the run's record.

        :param sources: input streams (list of Stream; None for none)
        :param sink: the output Stream
        :param interval: the TimeInterval wanted (never modified)
        :param alignment_stream: optional alignment/window stream handed to ``_execute``
        :param progress: ``progress(fraction_done, instances_written)`` called after each committed chunk
        :param cancel: object with ``is_set()`` (e.g. threading.Event); checked between chunks
        :param chunk: chunk length (timedelta or seconds); default 1/20 of the missing span, >= 1 s
        :param history: RunHistory to record the run in (default: :func:`get_default_history`)
        :raises CancelledError: when cancelled (finished chunks stay committed)
        """
        sources = list(sources) if sources else []
        run = self._new_record(sources, sink, interval, alignment_stream)
        t0 = time.perf_counter()
        try:
            if cancel is not None and not callable(getattr(cancel, "is_set", None)):
                raise ToolExecutionError(f"tool {self.name!r}: cancel must have an is_set() method "
                                         f"(e.g. threading.Event), got {cancel!r}")
            self._run(sources, sink, interval, alignment_stream, progress, cancel, chunk, run)
            run.outcome = "ok"
        except CancelledError as e:
            run.outcome = "cancelled"
            run.error = str(e)
            raise
        except BaseException as e:
            run.outcome = "error"
            run.error = f"{type(e).__name__}: {e}"
            raise
        finally:
            run.duration_s = time.perf_counter() - t0
            hist = history if history is not None else _default_history
            try:
                hist.record(run)
            except Exception:  # never hide the run's own outcome behind a history failure
                log.exception("could not record tool run %s", run.id)
        return run

    def _new_record(self, sources, sink, interval, alignment_stream) -> RunRecord:
        out_id, out_ch = _stream_label(sink)
        al_id, al_ch = _stream_label(alignment_stream) if alignment_stream is not None else (None, None)
        labels = [_stream_label(s) for s in sources]
        return RunRecord(
            id=uuid.uuid4().hex, tool=self.name, parameters=to_jsonable(self.parameters),
            tool_version=getattr(self, "tool_version", None), tool_source=getattr(self, "tool_source", None),
            input_streams=[str(a) for a, _ in labels], input_channels=[str(b) for _, b in labels],
            alignment_stream=al_id, alignment_channel=al_ch, output_stream=out_id, output_channel=out_ch,
            interval=(TimeInterval._trusted(interval.start, interval.end)
                      if isinstance(interval, TimeInterval) else None),
            started_at=utcnow())

    # -- the engine -----------------------------------------------------------------
    def _check_request(self, sources, sink, interval, alignment_stream):
        if not isinstance(interval, TimeInterval):
            raise ToolExecutionError(f"tool {self.name!r}: interval must be a TimeInterval, "
                                     f"got {type(interval).__name__} {interval!r}")
        if not isinstance(sink, Stream):
            raise ToolExecutionError(f"tool {self.name!r}: the output (sink) must be a Stream, got {sink!r}")
        channel = sink.channel
        if getattr(channel, "read_only", False):
            raise ReadOnlyChannelError(f"tool {self.name!r} cannot write to {sink.stream_id}: channel "
                                       f"{channel.channel_id!r} is read-only")
        if sink.stream_id not in channel.streams:
            raise ToolExecutionError(f"tool {self.name!r}: output stream {sink.stream_id} does not exist in "
                                     f"channel {channel.channel_id!r}")
        up_to = channel.up_to_timestamp
        if interval.end > up_to:
            raise ToolExecutionError(f"tool {self.name!r}: interval end {interval.end.isoformat()} is after "
                                     f"{up_to.isoformat()}, the time channel {channel.channel_id!r} is available up to")
        now = utcnow()
        if interval.end > now:
            raise ToolExecutionError(f"tool {self.name!r}: interval end {interval.end.isoformat()} is in the "
                                     f"future (now is {now.isoformat()}); results cannot be computed for it yet")
        for i, s in enumerate(sources):
            self._check_input(s, f"input stream #{i + 1}")
        if alignment_stream is not None:
            self._check_input(alignment_stream, "alignment stream")

    def _check_input(self, s, what):
        if s is None:
            raise ToolExecutionError(f"tool {self.name!r}: {what} is missing (None)")
        if not isinstance(s, Stream):
            raise ToolExecutionError(f"tool {self.name!r}: {what} must be a Stream, got {type(s).__name__} {s!r}")
        if s.stream_id not in s.channel.streams:
            raise ToolExecutionError(f"tool {self.name!r}: {what} {s.stream_id} does not exist in channel "
                                     f"{s.channel.channel_id!r}")

    def _chunk_length(self, chunk, total: timedelta) -> timedelta:
        if chunk is None and not self.chunkable:
            length = total  # each missing interval in one piece
        elif chunk is None:
            length = max(total / DEFAULT_CHUNKS, MIN_CHUNK)
        else:
            if isinstance(chunk, bool) or not isinstance(chunk, (timedelta, int, float)):
                raise ToolExecutionError(f"chunk must be a timedelta or seconds, got {chunk!r}")
            length = chunk if isinstance(chunk, timedelta) else timedelta(seconds=chunk)
            if length < timedelta(milliseconds=1):
                raise ToolExecutionError(f"chunk must be at least 1 ms, got {length}")
        return length - timedelta(microseconds=length.microseconds % 1000)

    @staticmethod
    def _split(missing: TimeIntervals, length: timedelta):
        for part in missing:
            s = part.start
            while s < part.end:
                e = part.end if part.end - s <= length else s + length
                yield TimeInterval._trusted(s, e)
                s = e

    def _run(self, sources, sink, interval, alignment_stream, progress, cancel, chunk, run):
        self._check_request(sources, sink, interval, alignment_stream)
        missing = TimeIntervals([TimeInterval._trusted(interval.start, interval.end)]) - sink.calculated_intervals
        total = missing.total_width
        if missing.is_empty:
            if progress is not None:
                progress(1.0, 0)
            return
        length = self._chunk_length(chunk, total)
        done = timedelta(0)
        meta_keys: set = set()
        siblings: dict = {}
        for piece in self._split(missing, length):
            if cancel is not None and cancel.is_set():
                raise CancelledError(f"run of tool {self.name!r} on {sink.stream_id} cancelled; "
                                     f"{run.chunks} chunk(s) with {run.instances_written} instances committed")
            plain, meta = self._compute_chunk(sources, sink, piece, alignment_stream, cancel, run)
            written = self._commit(sink, piece, plain, meta, meta_keys, siblings)
            run.instances_written += written
            run.chunks += 1
            run.computed = run.computed + piece
            done += piece.width
            if progress is not None:
                progress(1.0 if done >= total else done / total, run.instances_written)

    def _compute_chunk(self, sources, sink, piece, alignment_stream, cancel, run):
        start, end = piece.start, piece.end
        work = _WorkInterval._trusted(start, end)
        plain: list = []
        meta: dict = {}
        dropped = 0
        n = 0
        try:
            produced = self._execute(sources=sources, alignment_stream=alignment_stream, interval=work)
            for inst in produced or ():
                n += 1
                if cancel is not None and n % CANCEL_CHECK_EVERY == 0 and cancel.is_set():
                    raise CancelledError(f"run of tool {self.name!r} on {sink.stream_id} cancelled while computing "
                                         f"{piece} (not committed); {run.chunks} chunk(s) with "
                                         f"{run.instances_written} instances committed")
                target = plain
                if isinstance(inst, StreamMetaInstance):
                    key = _normalise_meta(inst.meta_data, self.name)
                    target = meta.setdefault(key, [])
                    inst = inst.stream_instance
                if type(inst) is not StreamInstance:
                    if not isinstance(inst, (tuple, list)) or len(inst) != 2:
                        raise ToolExecutionError(f"tool {self.name!r} yielded {inst!r}: expected a StreamInstance "
                                                 f"(timestamp, value)")
                    inst = StreamInstance(*inst)
                ts = inst.timestamp
                if ts.tzinfo is not UTC or ts.microsecond % 1000:
                    inst = StreamInstance(ts, inst.value)
                    ts = inst.timestamp
                if not (start < ts <= end):
                    if self.out_of_interval == "drop":
                        dropped += 1
                        continue
                    raise ToolExecutionError(
                        f"tool {self.name!r} yielded an instance at {ts.isoformat()}, outside the interval "
                        f"{piece} it was asked to compute (instances must satisfy start < timestamp <= end)")
                target.append(inst)
        except (ToolExecutionError, CancelledError):
            raise
        except Exception as e:  # tool code (or a read it made) failed: name the tool, stream and chunk
            raise ToolExecutionError(f"tool {self.name!r} failed computing {sink.stream_id} over {piece}: "
                                     f"{type(e).__name__}: {e}") from e
        if dropped:
            log.warning("tool %s: dropped %d instance(s) outside %s", self.name, dropped, piece)
        return plain, meta

    def _commit(self, sink, piece, plain, meta, meta_keys, siblings) -> int:
        channel = sink.channel
        written = 0
        if meta:
            base_meta = tuple(sink.stream_id.meta_data)
            base_keys = {k for k, _ in base_meta}
            for pairs in meta:
                clash = [k for k, _ in pairs if k in base_keys]
                if clash:
                    raise ToolExecutionError(f"tool {self.name!r} yielded meta-data {clash[0]!r}, which the output "
                                             f"stream {sink.stream_id} already has")
                meta_keys.update(k for k, _ in pairs)
            for pairs in meta:
                sid = StreamId(sink.stream_id.name, base_meta + pairs)
                if sid not in siblings:
                    siblings[sid] = channel.get_or_create_stream(sid)
        if meta_keys:
            # existing siblings from earlier runs with the same meta key(s) follow the sink too
            base_meta = dict(sink.stream_id.meta_data)
            for sid, stream in list(channel.streams.items()):
                if sid in siblings or sid.name != sink.stream_id.name:
                    continue
                md = dict(sid.meta_data)
                extra = set(md) - set(base_meta)
                if extra and extra <= meta_keys and all(md.get(k) == v for k, v in base_meta.items()):
                    siblings[sid] = stream
        by_sid = {StreamId(sink.stream_id.name, tuple(sink.stream_id.meta_data) + pairs): insts
                  for pairs, insts in meta.items()}
        sink_calc = sink.calculated_intervals
        for sid, stream in siblings.items():
            insts = by_sid.get(sid, [])
            channel.write_chunk(stream, insts, stream.calculated_intervals + sink_calc + piece)
            written += len(insts)
        channel.write_chunk(sink, plain, sink_calc + piece)
        return written + len(plain)


class MultiOutputTool(Tool):
    """A tool whose ``_execute`` yields StreamMetaInstances (see the module docstring for how they are written)."""


class AggregateTool(Tool):
    """HyperStream's name for tools that aggregate several input streams; runs like any other tool here."""


class SelectorTool(Tool):
    """HyperStream's name for tools that select among input streams; runs like any other tool here."""


# -- helpers for tool implementations ------------------------------------------------------------------------
def tick_range(first: datetime, stride_ms: int, interval) -> range:
    """Epoch-ms of the ticks ``first + k * stride`` (k >= 0) with ``start < tick <= end``."""
    f, a, b = to_ms(first), to_ms(interval.start), to_ms(interval.end)
    if b < f:
        return range(0)
    k0 = 0 if a < f else (a - f) // stride_ms + 1
    k1 = (b - f) // stride_ms
    return range(f + k0 * stride_ms, f + k1 * stride_ms + 1, stride_ms)


def stride_ms(tool_name: str, parameter: str, value) -> int:
    """A positive duration parameter in whole milliseconds (ToolParameterError otherwise)."""
    from .errors import TimeError
    try:
        td = get_timedelta(value)
    except TimeError as e:
        raise ToolParameterError(tool_name, parameter, str(e)) from None
    ms = int(round(td.total_seconds() * 1000))
    if ms < 1:
        raise ToolParameterError(tool_name, parameter, f"must be a positive duration of at least 1 ms, got {value!r}")
    return ms


class TickTool(Tool):
    """Base of the source tools (no inputs) that write one instance per tick ``first + k * stride``.

    Subclasses call :meth:`_set_ticks` (and :meth:`_check_seed` when random) in
    ``__init__`` and implement :meth:`_tick_values`, which maps the ticks of a
    chunk (epoch-ms int64 array) to their values — vectorised, and a function
    of the tick time only, so results do not depend on how a run is chunked.
    """

    def _set_ticks(self, first, stride) -> None:
        from .errors import TimeError
        try:
            self._first = ensure_utc(first, "first")
        except TimeError as e:
            raise ToolParameterError(self.name, "first", str(e)) from None
        self._stride_ms = stride_ms(self.name, "stride", stride)

    def _check_seed(self, seed) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ToolParameterError(self.name, "seed", f"must be a non-negative integer, got {seed!r}")

    def _tick_values(self, ms: np.ndarray) -> list:
        raise NotImplementedError

    @check_input_stream_count(0)
    def _execute(self, sources, alignment_stream, interval):
        ticks = tick_range(self._first, self._stride_ms, interval)
        if not ticks:
            return
        values = self._tick_values(np.arange(ticks.start, ticks.stop, ticks.step, dtype=np.int64))
        for t, v in zip(ticks, values):
            yield StreamInstance._make((from_ms(t), v))


def apply_over_windows(tool_name: str, windows, data_stream, func, include_empty: bool = False):
    """Yield ``(window timestamp, func(values of data_stream inside the window))`` for each window instance.

    ``windows`` are StreamInstances whose values are TimeIntervals (e.g. from ``sliding_window``);
    the data of all windows is read in one go and located by bisection. Results that are None
    are skipped unless ``include_empty``.
    """
    windows = list(windows)
    if not windows:
        return
    for ts, w in windows:
        if not isinstance(w, TimeInterval):
            raise ToolExecutionError(f"tool {tool_name!r}: window instance at {ts.isoformat()} has value {w!r}; "
                                     f"expected a TimeInterval (e.g. from the sliding_window tool)")
    lo = min(w.start for _, w in windows)
    hi = max(w.end for _, w in windows)
    data = data_stream.window(TimeInterval._trusted(lo, hi)).items()
    ms = [to_ms(d.timestamp) for d in data]
    vals = [d.value for d in data]
    for ts, w in windows:
        i = bisect_right(ms, to_ms(w.start))
        j = bisect_right(ms, to_ms(w.end))
        v = func(vals[i:j])
        if v is None and not include_empty:
            continue
        yield StreamInstance._make((ts, v))


# -- loading tools from tool channels ------------------------------------------------------------------------
def load_tool(tool_channel, name: str, parameters: dict | None = None, version=None, coerce: bool = True) -> Tool:
    """An instance of tool ``name`` from ``tool_channel``, with ``tool_version``/``tool_source``/``tool_channel`` set.

    With ``coerce`` (default), ``parameters`` may be form text; they are converted
    with :func:`channels.tool_params.coerce_parameters` first.
    """
    tv = tool_channel.find_tool_version(name, version)
    cls = tool_channel.get_tool_class(name, version)
    params = coerce_parameters(cls, parameters or {}) if coerce else dict(parameters or {})
    try:
        tool = cls(**params)
    except (ToolParameterError, ToolInitialisationError):
        raise
    except Exception as e:
        raise ToolInitialisationError(f"tool {name!r} v{tv.version} ({tv.path}) could not be created with "
                                      f"{to_jsonable(params)!r}: {type(e).__name__}: {e}") from e
    tool.tool_version = str(tv.version)
    tool.tool_source = tv.path
    tool.tool_channel = tool_channel.channel_id
    return tool


@dataclass
class ToolInfo:
    """One tool version found in a tool channel, with its class or the error that stopped it loading."""

    name: str
    version: str
    path: str
    channel_id: str
    tool_class: type | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def scan_tools(tool_channel, all_versions: bool = False) -> list[ToolInfo]:
    """Import every tool of ``tool_channel`` (newest version of each, or all); a file that fails to
    import is reported in its ToolInfo (``error`` names the path) and does not stop the others."""
    out = []
    for name, versions in tool_channel.list_tools().items():
        for tv in (versions if all_versions else versions[-1:]):
            info = ToolInfo(name, str(tv.version), tv.path, tv.channel_id)
            try:
                info.tool_class = tool_channel.get_tool_class(name, tv.version)
            except Exception as e:
                info.error = str(e) if str(e) and tv.path in str(e) else f"{tv.path}: {type(e).__name__}: {e}"
            out.append(info)
    return out


def _install_import_hook():
    from .hyperstream_compat import hyperstream_names
    from .tool_channel import ToolChannel
    ToolChannel.import_hook = staticmethod(hyperstream_names)


_install_import_hook()

__all__ = ["Tool", "MultiOutputTool", "AggregateTool", "SelectorTool", "check_input_stream_count", "RunRecord",
           "RunHistory", "MemoryRunHistory", "StoreRunHistory", "get_default_history", "set_default_history",
           "load_tool", "scan_tools", "ToolInfo", "camel_to_snake", "tick_range", "stride_ms",
           "apply_over_windows"]
