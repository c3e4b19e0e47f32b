"""The abstract channel: a named collection of streams and the way to read/write them.

Concrete channels implement ``create_stream``, ``get_results``,
``get_stream_writer``, ``purge_stream`` and ``update_streams``; the fast paths
(``count_instances``, ``first_instance``, ``last_instance``, ``get_columns``,
``get_summary``) have generic versions here built on ``get_results`` and are
overridden where the data lives somewhere smarter.
"""
from __future__ import annotations

import logging
import threading
from typing import Iterable

import numpy as np

from .changes import newest_of
from .errors import MultipleStreamsFoundError, ReadOnlyChannelError, StreamIdError, StreamNotFoundError, TimeError
from .lod import numeric_or_nan, summarise_arrays
from .stream import Stream, StreamDict, StreamInstance, get_stream_id
from .time_interval import TimeInterval, TimeIntervals
from .utils import MAX_DATE, MIN_DATE, to_ms

log = logging.getLogger(__name__)


class BaseChannel:
    """Abstract base class for channels."""

    #: read-only channels refuse create/write/purge
    read_only = False
    #: whether the tool engine may run tools' columnar variant with this channel's streams as inputs and sink
    #: (``get_typed_columns`` / ``write_columns_chunk`` below; the defaults go through instances)
    supports_columns = False
    #: whether this channel's streams are static assets: as a tool's input such a stream counts as calculated at
    #: any time (its newest version holds until replaced), so a run is never limited by its calculated intervals
    holds_assets = False
    #: whether :attr:`streams` is in memory already (a channel that reads its definitions on first need says
    #: False until it has: then listing its streams reads every definition, a job's work on a large store)
    listed = True

    def __init__(self, channel_id: str, can_calc: bool = False, can_create: bool = False, calc_agent=None):
        if not isinstance(channel_id, str) or not channel_id:
            raise ValueError(f"channel id must be non-empty text, got {channel_id!r}")
        self.channel_id = channel_id
        self.can_calc = can_calc
        self.can_create = can_create
        self.calc_agent = calc_agent
        self.streams = StreamDict()
        self.up_to_timestamp = MAX_DATE

    # -- stream lookup -------------------------------------------------------
    def create_stream(self, stream_id, sandbox=None) -> Stream:
        raise NotImplementedError

    def known_stream(self, stream_id) -> Stream | None:
        """The stream ``stream_id``, or None when the channel has no such stream (the one lookup by id: a
        channel that loads its streams on first need reads only this one)."""
        return self.streams.get(get_stream_id(stream_id))

    def calculated_span(self) -> tuple | None:
        """``(first start, last end)`` of the calculated intervals of the channel's streams, leaving out those
        calculated from the beginning of time (assets: "all up to" a time); the end is ``MAX_DATE`` when one is
        open-ended. None when no stream has such an interval. Lists the streams (see :attr:`listed`); a pass
        over 136,000 streams takes ~30 ms."""
        lo = hi = None
        for stream in list(self.streams.values()):
            items = stream._calculated_intervals._items
            if items:
                start = items[0]._start
                if start == MIN_DATE:
                    continue
                end = items[-1]._end
                if lo is None or start < lo:
                    lo = start
                if hi is None or end > hi:
                    hi = end
        return None if lo is None else (lo, hi)

    def count_streams(self) -> int:
        """How many streams the channel has (a channel not :attr:`listed` yet counts them without listing)."""
        return len(self.streams)

    def get_or_create_stream(self, stream_id, try_create: bool = True) -> Stream:
        stream_id = get_stream_id(stream_id)
        stream = self.known_stream(stream_id)
        if stream is not None:
            return stream
        if not try_create:
            raise StreamNotFoundError(stream_id, self.channel_id)
        return self.create_stream(stream_id)

    def streams_named(self, name: str, meta=()) -> list[Stream]:
        """The streams called ``name`` whose meta-data hold every (key, value) pair of ``meta`` (and any others),
        e.g. the siblings a splitter's step looks for."""
        return [stream for sid, stream in list(self.streams.items()) if sid.name == name and sid.holds(meta)]

    def find_streams(self, **kwargs) -> list[Stream]:
        """Streams whose name equals ``name=`` (if given) and whose meta-data has every other key=value."""
        name = kwargs.pop("name", None)
        return [stream for sid, stream in self.streams.items()
                if (name is None or sid.name == name) and sid.holds(kwargs.items())]

    def find_stream(self, **kwargs) -> Stream:
        query = ", ".join(f"{k}={v}" for k, v in kwargs.items()) or "(no criteria)"
        found = self.find_streams(**kwargs)
        if not found:
            raise StreamNotFoundError(f"matching {query}", self.channel_id)
        if len(found) > 1:
            raise MultipleStreamsFoundError(query, [s.stream_id for s in found])
        return found[0]

    def __getitem__(self, stream_id) -> Stream:
        sid = get_stream_id(stream_id)
        stream = self.known_stream(sid)
        if stream is None:
            raise StreamNotFoundError(sid, self.channel_id)
        return stream

    def __contains__(self, stream_id) -> bool:
        try:
            return self.known_stream(stream_id) is not None
        except StreamIdError:
            return False

    def __iter__(self):
        return iter(list(self.streams.values()))

    def __len__(self):
        return len(self.streams)

    # -- reading -------------------------------------------------------------
    def get_results(self, stream: Stream, time_interval: TimeInterval) -> Iterable[StreamInstance]:
        raise NotImplementedError

    def count_instances(self, stream: Stream, time_interval: TimeInterval) -> int:
        return sum(1 for _ in self.get_results(stream, time_interval))

    def first_instance(self, stream: Stream, time_interval: TimeInterval):
        for inst in self.get_results(stream, time_interval):
            return inst
        return None

    def last_instance(self, stream: Stream, time_interval: TimeInterval):
        last = None
        for last in self.get_results(stream, time_interval):
            pass
        return last

    def get_columns(self, stream: Stream, time_interval: TimeInterval, component=None):
        ms, vals = [], []
        for ts, v in self.get_results(stream, time_interval):
            f = numeric_or_nan(v, component)
            if f == f:
                ms.append(to_ms(ts))
                vals.append(f)
        return np.asarray(ms, dtype=np.int64), np.asarray(vals, dtype=np.float64)

    def get_summary(self, stream: Stream, time_interval: TimeInterval, buckets: int, component=None):
        ms, vals = [], []
        for ts, v in self.get_results(stream, time_interval):
            ms.append(to_ms(ts))
            vals.append(numeric_or_nan(v, component))
        return summarise_arrays(np.asarray(ms, dtype=np.int64), np.asarray(vals, dtype=np.float64),
                                to_ms(time_interval.start), to_ms(time_interval.end), buckets)

    # -- writing -------------------------------------------------------------
    def get_stream_writer(self, stream: Stream):
        raise NotImplementedError

    def write_chunk(self, stream: Stream, instances: list[StreamInstance], calculated_intervals=None, *,
                    add_intervals=None) -> None:
        """Write instances and mark the piece they compute calculated, as one step.

        ``add_intervals`` is the piece this batch computed: it is added to the stream's calculated intervals
        as they are *stored* (merged inside the store's transaction where there is one), so concurrent writers
        and purgers never lose or resurrect each other's pieces. ``calculated_intervals`` (the older form) is
        the whole value the caller wants; what differs from the channel's copy is what is added/removed.
        Channels backed by a transactional store override this to commit both
        in one transaction; the default writes first, then records the intervals,
        so a failed write never marks anything calculated.
        """
        self._check_writable()
        add, remove = self._interval_change(stream, calculated_intervals, add_intervals)
        if instances:
            self.get_stream_writer(stream)(instances)
        self._apply_interval_change(stream, add, remove)

    @staticmethod
    def _interval_change(stream: Stream, calculated_intervals, add_intervals):
        """``(add, remove)`` pieces (TimeIntervals or None) for a write given the older whole-value form
        and/or the piece to add; see :meth:`write_chunk`."""
        add = None if add_intervals is None else TimeIntervals(add_intervals)
        remove = None
        if calculated_intervals is not None:
            wanted = TimeIntervals(calculated_intervals)
            mine = stream.calculated_intervals
            extra = wanted - mine
            add = extra if add is None else add + extra
            gone = mine - wanted
            remove = None if gone.is_empty else gone
        return add, remove

    _calc_lock_guard = threading.Lock()

    @property
    def _calc_lock(self):
        lock = self.__dict__.get("_calc_lock_")
        if lock is None:
            with BaseChannel._calc_lock_guard:
                lock = self.__dict__.setdefault("_calc_lock_", threading.RLock())
        return lock

    def _apply_interval_change(self, stream: Stream, add, remove) -> None:
        """Channels without a store transaction: ``(current - remove) + add`` under the channel's lock."""
        if add is None and remove is None:
            return
        with self._calc_lock:
            ci = stream.calculated_intervals
            if remove is not None:
                ci = ci - remove
            if add is not None:
                ci = ci + add
            stream.calculated_intervals = ci

    def insert_arrays(self, stream: Stream, ms, values, calculated_intervals=None, *, add_intervals=None) -> int:
        """Columnar write: ``ms`` epoch-ms int64 and ``values`` float64 arrays (see
        :func:`channels.columnar.check_arrays` for what is accepted). Same rules as instance writes (same value:
        no-op; different value: DuplicateInstanceError; nothing half-written); with ``calculated_intervals``
        (or the piece ``add_intervals``) the stream's calculated intervals change in the same step, as
        :meth:`write_chunk` does.
        Returns how many instances were new (when the channel can tell; else the batch length)."""
        from .columnar import check_arrays, instances_from_arrays
        self._check_writable()
        ms, values = check_arrays(stream.stream_id, ms, values)
        insts = instances_from_arrays(ms, values)
        if calculated_intervals is None and add_intervals is None:
            n = self.get_stream_writer(stream)(insts)
        else:
            n = self.write_chunk(stream, insts, calculated_intervals, add_intervals=add_intervals)
        return n if isinstance(n, int) else len(insts)

    def get_typed_columns(self, stream: Stream, time_interval: TimeInterval):
        """The instances in the interval as :class:`channels.columnar.Columns`, or None when their values are
        not all floats, all datetimes or all TimeIntervals."""
        from .columnar import columns_from_instances
        return columns_from_instances(list(self.get_results(stream, time_interval)))

    def get_typed_component_columns(self, stream: Stream, time_interval: TimeInterval, key):
        """``value[key]`` of the instances in the interval whose dict value has ``key`` (others skipped, as
        :meth:`StreamView.component` does), as float or int :class:`channels.columnar.Columns`; None when the
        channel cannot tell them exactly without reading instances (the default) or they are not all floats or
        all ints."""
        return None

    def write_columns_chunk(self, stream: Stream, columns, calculated_intervals=None, *, add_intervals=None) -> int:
        """:meth:`write_chunk` of a :class:`channels.columnar.Columns` batch."""
        insts = columns.instances()
        self.write_chunk(stream, insts, calculated_intervals, add_intervals=add_intervals)
        return len(insts)

    def calculated_intervals_changed(self, stream: Stream) -> None:
        """Hook: persist ``stream.calculated_intervals`` (no-op for in-memory channels)."""

    def _check_writable(self):
        if self.read_only:
            raise ReadOnlyChannelError(f"channel {self.channel_id!r} is read-only")

    # -- change log (channels.changes) ---------------------------------------------------------------
    #: True when every write and purge of this channel's streams is recorded as a Change
    keeps_changes = False

    def list_changes(self, stream_id=None, since=None) -> list:
        """The :class:`channels.changes.Change` s of one stream (or all of this channel's), after ``since``."""
        return []

    def newest_changes(self) -> dict:
        """``{StreamId: time of its newest change}`` of every stream of this channel with a recorded change."""
        return newest_of(self.list_changes())

    # -- purging ---------------------------------------------------------------
    def purge_stream(self, stream_id, remove_definition: bool = False, sandbox=None) -> None:
        raise NotImplementedError

    def purge_interval(self, stream_id, time_interval: TimeInterval) -> int:
        """Delete the instances in ``(start, end]`` and remove that interval from the calculated intervals."""
        raise NotImplementedError

    def purge_node(self, node_id: str, remove_definition: bool = False, sandbox=None) -> None:
        """Purge every stream whose name is ``node_id`` (a node = one name, all meta-data variants)."""
        self._check_writable()
        from .changes import change_origin
        with change_origin(f"purge node {node_id}", override=False):
            self._purge_node(node_id, remove_definition, sandbox)

    def _purge_node(self, node_id, remove_definition, sandbox):
        for stream in [s for s in self.streams.values() if s.stream_id.name == node_id]:
            self.purge_stream(stream.stream_id, remove_definition=remove_definition, sandbox=sandbox)

    # -- computing ---------------------------------------------------------------
    def execute_tool(self, stream: Stream, interval: TimeInterval, **run_options):
        """Run the stream's tool (``stream.tool`` over ``stream.input_streams``) over the missing parts of ``interval``."""
        tool = getattr(stream, "tool", None)
        if tool is None:
            raise ValueError(f"stream {stream.stream_id} has no tool to execute")
        if interval.end > self.up_to_timestamp:
            raise TimeError(f"channel {self.channel_id!r} is not available after {self.up_to_timestamp.isoformat()}; "
                            f"cannot compute up to {interval.end.isoformat()}")
        return tool.execute(getattr(stream, "input_streams", None) or [], stream, interval,
                            alignment_stream=getattr(stream, "alignment_stream", None), **run_options)

    def update_streams(self, up_to_timestamp) -> None:
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(channel_id={self.channel_id!r}, streams={len(self.streams)})"

    __str__ = __repr__


__all__ = ["BaseChannel", "MIN_DATE", "MAX_DATE", "TimeIntervals"]
