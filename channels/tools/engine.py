"""Tools and the engine that runs them.

A tool subclasses :class:`Tool`: parameters go through ``__init__`` (annotated,
with defaults, passed on with ``super().__init__(a=a, b=b)`` as in HyperStream)
and ``_execute(sources, alignment_stream, interval)`` yields StreamInstances.

``Tool.execute(sources, sink, interval, ...)`` is the one engine:

1. refuses a read-only sink, an interval ending after the sink channel's
   ``up_to_timestamp`` or in the future, and missing input streams;
2. computes only ``TimeIntervals([interval]) - sink.calculated_intervals``,
   limited to where every input (and the alignment stream) is calculated -- an
   input with no calculated intervals at all counts as calculated from its first
   to its last instance; what is left out is recorded in ``RunRecord.skipped``
   with the input and the reason, and logged (tools without inputs compute the
   whole interval) -- split into chunks (default: the first 1/20 of the missing span, at least
   1 s; a chunk that took under ``GROW_BELOW_S`` doubles the next one, so a
   fast tool commits a day in ~5 chunks instead of 20, a slow one keeps 1/20);
3. per chunk, runs ``_execute`` on a private copy of the chunk interval,
   checks every instance lies inside the chunk, and commits data and the
   chunk's interval together with ``sink.channel.write_chunk(...,
   add_intervals=chunk)`` (the store adds it to the stored intervals in the
   same transaction, so concurrent runs never lose each other's chunks);
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

Run records live in :mod:`channels.tools.history`; helpers for writing tools
in :mod:`channels.tools.helpers`; loading from tool channels in
:mod:`channels.tools.loading`.
"""
from __future__ import annotations

import functools
import logging
import re
import time
import uuid
from datetime import timedelta


from ..errors import (CancelledError, IncorrectInputCountError, ReadOnlyChannelError, ToolExecutionError,
                     ToolInitialisationError)
from ..stream import Stream, StreamId, StreamInstance, StreamMetaInstance
from ..time_interval import TimeInterval, TimeIntervals
from ..changes import change_origin, run_origin
from .history import RunRecord, get_default_history
from .params import to_jsonable
from ..utils import MAX_DATE, MIN_DATE, UTC, ensure_utc, utcnow

log = logging.getLogger(__name__)

#: default number of chunks a run is split into (each at least MIN_CHUNK long)
DEFAULT_CHUNKS = 20
MIN_CHUNK = timedelta(seconds=1)
#: with the default chunking, a chunk computed and committed faster than this doubles the next chunk's length
#: (progress and cancel stay at least this frequent for any tool; per-chunk overhead stops dominating fast ones)
GROW_BELOW_S = 0.025
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

    def _produce(self, sources, alignment_stream, interval):
        """The engine's one call into tool code: ``_execute(sources, alignment_stream, interval)``.

        Tools with another ``_execute`` signature (HyperStream's plate-style tools,
        :mod:`channels.tools.plates`) override this adapter."""
        return self._execute(sources=sources, alignment_stream=alignment_stream, interval=interval)

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
            with change_origin(run_origin(run.id, self.name)):  # the change log names this run as the writer
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
            hist = history if history is not None else get_default_history()
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
        if sink.stream_id not in channel:
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
        if s.stream_id not in s.channel:
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
    def _split(missing: TimeIntervals, length: timedelta, grow=None):
        """The chunks of ``missing``, in order; ``grow()`` (if given) is asked after each chunk whether the
        next may be twice as long."""
        for part in missing:
            s = part.start
            while s < part.end:
                e = part.end if part.end - s <= length else s + length
                yield TimeInterval._trusted(s, e)
                s = e
                if grow is not None and grow():
                    length *= 2

    @staticmethod
    def _input_available(s, wanted: TimeIntervals):
        """Where input ``s`` counts as calculated (within ``wanted``) and, for the rest, why not."""
        ci = s.calculated_intervals
        if ci:
            return ci, f"input {s.stream_id} is not calculated there"
        everything = TimeInterval._trusted(MIN_DATE, MAX_DATE)
        first = s.channel.first_instance(s, everything)
        if first is None:
            return TimeIntervals(), f"input {s.stream_id} has no calculated intervals and no data"
        last = s.channel.last_instance(s, everything)
        avail = TimeIntervals([TimeInterval._trusted(max(MIN_DATE, first.timestamp - timedelta(milliseconds=1)),
                                                     last.timestamp)])
        return avail, (f"input {s.stream_id} has no calculated intervals and no data there (it counts as "
                       f"calculated from its first to its last instance)")

    def _limit_to_inputs(self, sources, alignment_stream, missing: TimeIntervals, run) -> TimeIntervals:
        """``missing`` limited to where every input is calculated; the rest goes to ``run.skipped``."""
        inputs = [s for s in list(sources) + ([alignment_stream] if alignment_stream is not None else [])
                  if not getattr(s.channel, "holds_assets", False)]
        if not inputs or missing.is_empty:
            return missing
        todo = missing
        for s in inputs:
            avail, reason = self._input_available(s, missing)
            gap = missing - avail
            for iv in gap:
                run.skipped.append({"start": iv.start.isoformat(), "end": iv.end.isoformat(),
                                    "input": str(s.stream_id), "reason": reason})
            todo = todo - gap
        if run.skipped:
            left = missing - todo
            log.info("tool %s -> %s: not computing %s of the %s asked for: %s", self.name, run.output_stream,
                     ", ".join(str(iv) for iv in left), ", ".join(str(iv) for iv in missing),
                     "; ".join(f"{d['reason']} ({d['start']} .. {d['end']})" for d in run.skipped))
        return todo

    def _run(self, sources, sink, interval, alignment_stream, progress, cancel, chunk, run):
        self._check_request(sources, sink, interval, alignment_stream)
        missing = TimeIntervals([TimeInterval._trusted(interval.start, interval.end)]) - sink.calculated_intervals
        missing = self._limit_to_inputs(sources, alignment_stream, missing, run)
        total = missing.total_width
        if missing.is_empty:
            if progress is not None:
                progress(1.0, 0)
            return
        length = self._chunk_length(chunk, total)
        adaptive = chunk is None and self.chunkable
        if adaptive and getattr(self, "_learned_chunk", None):
            # the same tool object run again (a workflow's steps of one factor): start where the last run's
            # chunks had grown to, instead of at 1/20 again -- fewer commits for the same progress and cancel
            length = max(length, self._learned_chunk)
        done = timedelta(0)
        columnar = self._columnar_possible(sources, sink, alignment_stream)
        meta_keys: set = set()
        siblings: dict = {}
        started = [time.perf_counter()]
        grown = [length]

        def grow():  # default chunking only: a quick chunk doubles the next one
            now = time.perf_counter()
            quick = now - started[0] < GROW_BELOW_S
            started[0] = now
            grown[0] = min(grown[0] * 2, total) if quick else max(length, grown[0] / 2)
            self._learned_chunk = grown[0]
            return quick
        for piece in self._split(missing, length, grow if adaptive else None):
            if cancel is not None and cancel.is_set():
                raise CancelledError(f"run of tool {self.name!r} on {sink.stream_id} cancelled; "
                                     f"{run.chunks} chunk(s) with {run.instances_written} instances committed")
            cols = self._compute_columns_chunk(sources, sink, piece, alignment_stream) if columnar else None
            if cols is not None:
                written = self._commit_columns(sink, piece, cols)
            else:
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
            produced = self._produce(sources, alignment_stream, work)
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
            if not run.dropped_instances:  # one warning per run; the run record keeps the count
                log.warning("tool %s: dropped instance(s) outside the interval it was asked to compute (first in "
                            "%s); the run record counts them", self.name, piece)
            run.dropped_instances += dropped
        return plain, meta

    def _commit(self, sink, piece, plain, meta, meta_keys, siblings) -> int:
        channel = sink.channel
        written = 0
        known_keys = len(meta_keys)
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
        if len(meta_keys) > known_keys:
            # existing siblings from earlier runs with the same meta key(s) follow the sink too (looked for when
            # the run first yields a key: ``siblings`` keeps them for its later chunks)
            base_meta = dict(sink.stream_id.meta_data)
            for stream in channel.streams_named(sink.stream_id.name, sink.stream_id.meta_data):
                sid = stream.stream_id
                if sid in siblings:
                    continue
                md = dict(sid.meta_data)
                extra = set(md) - set(base_meta)
                if extra and extra <= meta_keys and all(md.get(k) == v for k, v in base_meta.items()):
                    siblings[sid] = stream
        by_sid = {StreamId(sink.stream_id.name, tuple(sink.stream_id.meta_data) + pairs): insts
                  for pairs, insts in meta.items()}
        follow = sink.calculated_intervals + piece  # siblings follow the sink
        for sid, stream in siblings.items():
            insts = by_sid.get(sid, [])
            channel.write_chunk(stream, insts, add_intervals=follow)
            written += len(insts)
        channel.write_chunk(sink, plain, add_intervals=TimeIntervals([piece]))
        return written + len(plain)

    # -- the columnar path -------------------------------------------------------------------------------------
    # A tool may implement ``_execute_columns(sources, alignment_stream, interval)`` returning a
    # :class:`channels.columnar.Columns` (arrays in, arrays out) or None to decline (then ``_execute`` runs).
    # The engine tries it only when the tool has it, ``use_columns`` is true, and the sink's channel and every
    # input's channel have ``supports_columns``; results must equal those of ``_execute`` exactly.
    use_columns = True

    def _execute_columns(self, sources, alignment_stream, interval):
        """Columnar variant of ``_execute``: a :class:`channels.columnar.Columns` of the interval, or None."""
        return None

    def _columnar_possible(self, sources, sink, alignment_stream) -> bool:
        if not self.use_columns or type(self)._execute_columns is Tool._execute_columns:
            return False
        streams = list(sources) + ([alignment_stream] if alignment_stream is not None else []) + [sink]
        return all(getattr(s.channel, "supports_columns", False) for s in streams)

    def _compute_columns_chunk(self, sources, sink, piece, alignment_stream):
        work = _WorkInterval._trusted(piece.start, piece.end)
        try:
            cols = self._execute_columns(sources=sources, alignment_stream=alignment_stream, interval=work)
        except (ToolExecutionError, CancelledError):
            raise
        except Exception as e:
            raise ToolExecutionError(f"tool {self.name!r} failed computing {sink.stream_id} over {piece}: "
                                     f"{type(e).__name__}: {e}") from e
        if cols is None:
            return None
        from ..utils import to_ms
        lo, hi = to_ms(piece.start), to_ms(piece.end)
        inside = (cols.ms > lo) & (cols.ms <= hi)
        if not inside.all():
            if self.out_of_interval != "drop":
                bad = int(cols.ms[~inside][0])
                from ..utils import from_ms
                raise ToolExecutionError(
                    f"tool {self.name!r} yielded an instance at {from_ms(bad).isoformat()}, outside the interval "
                    f"{piece} it was asked to compute (instances must satisfy start < timestamp <= end)")
            log.warning("tool %s: dropped %d instance(s) outside %s", self.name, int((~inside).sum()), piece)
            cols = cols.select(inside)
        return cols

    def _commit_columns(self, sink, piece, cols) -> int:
        sink.channel.write_columns_chunk(sink, cols, add_intervals=TimeIntervals([piece]))
        return len(cols)


class MultiOutputTool(Tool):
    """A tool whose ``_execute`` yields StreamMetaInstances (see the module docstring for how they are written)."""


class AggregateTool(Tool):
    """HyperStream's name for tools that aggregate several input streams; runs like any other tool here."""


class SelectorTool(Tool):
    """HyperStream's name for tools that select among input streams; runs like any other tool here."""



__all__ = ["Tool", "MultiOutputTool", "AggregateTool", "SelectorTool", "check_input_stream_count", "camel_to_snake",
           "DEFAULT_CHUNKS", "MIN_CHUNK"]
