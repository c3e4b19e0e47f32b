"""A channel whose streams live in a persistent store (embedded SQLite or MongoDB).

Stream definitions are loaded on first need, so opening a store of 100,000s of streams reads none of them:
a lookup by id (``channel[sid]``, ``sid in channel``, ``get_or_create_stream``) reads that one definition
until the channel has loaded them all; anything that lists the streams (``channel.streams``, iterating,
``len``, ``find_streams``) loads them all once (:meth:`DatabaseChannel.refresh` reloads them). Every change of
data or calculated intervals goes straight to the store; data and intervals that belong together are committed
in one store transaction.
"""
from __future__ import annotations

import functools
import threading
from datetime import timedelta

from .base_channel import BaseChannel
from .changes import change_origin
from .errors import StreamAlreadyExistsError
from .stores.base import Store, StreamDefinition, merge_intervals
from .stream import Stream, StreamInstance, as_interval, get_stream_id
from .time_interval import TimeIntervals
from .utils import utcnow


def _validated(instances):
    out = []
    for inst in instances:
        if not isinstance(inst, StreamInstance):
            if not isinstance(inst, (tuple, list)) or len(inst) != 2:
                raise TypeError(f"expected StreamInstance or (timestamp, value), got {inst!r}")
            inst = StreamInstance(*inst)
        out.append(inst)
    return out


class DatabaseChannel(BaseChannel):
    """Data stored in and read from a :class:`channels.stores.base.Store`."""

    supports_columns = True

    def __init__(self, channel_id, store: Store):
        super().__init__(channel_id, can_calc=True, can_create=True)
        if store is None:
            raise ValueError(f"channel {channel_id!r} needs a store")
        self.store = store
        self._lock = threading.RLock()         # held briefly: the stream dict and one definition read at a time
        self._listing = threading.RLock()      # held by the one thread reading every definition (others wait)
        self._loaded = False   # True once every definition of the channel has been read
        self._touched: set | None = None       # while a listing reads: streams changed meanwhile (those win)

    # -- definitions -----------------------------------------------------------
    @property
    def streams(self):
        """Every stream of the channel (``StreamId -> Stream``); the first use reads all their definitions."""
        if not self._loaded:
            with self._listing:
                if not self._loaded:   # another thread may have read them meanwhile
                    self.refresh()
        return self._streams

    @streams.setter
    def streams(self, value):
        self._streams = value

    @property
    def listed(self) -> bool:
        """Whether every definition has been read (then :attr:`streams` reads nothing)."""
        return self._loaded

    def count_streams(self) -> int:
        """How many streams the channel has: one count in the store until its definitions are read."""
        return len(self._streams) if self._loaded else self.store.count_definitions(self.channel_id)

    def known_stream(self, stream_id) -> Stream | None:
        """The stream ``stream_id``, or None when the channel has no such stream; before the channel has loaded
        every definition, this reads that one definition only."""
        stream_id = get_stream_id(stream_id)
        if self._loaded:
            return self._streams.get(stream_id)
        with self._lock:
            stream = self._streams.get(stream_id)
            if stream is None and not self._loaded:
                d = self.store.get_definition(stream_id)
                if d is not None and d.channel_id == self.channel_id:
                    stream = self._put(stream_id, self._stream_from(d))
            return stream

    def streams_named(self, name: str, meta=()) -> list[Stream]:
        """See :meth:`BaseChannel.streams_named`: their definitions alone are read (the store's index by name),
        never every definition of the channel, so a splitter's step costs the same in a store of 10 or 100 homes.
        The streams the channel holds are the ones given (they carry this process's writes)."""
        defs = self.store.definitions_named(self.channel_id, name, meta)
        out = []
        with self._lock:
            for d in defs:
                stream = self._streams.get(d.stream_id)
                out.append(self._put(d.stream_id, self._stream_from(d)) if stream is None else stream)
        return out

    def _stream_from(self, d: StreamDefinition) -> Stream:
        return Stream(self, d.stream_id, d.calculated_intervals, sandbox=d.sandbox, stream_type=d.stream_type,
                      last_updated=d.last_updated)

    def _put(self, stream_id, stream: Stream) -> Stream:
        """(Under the lock) ``stream`` is the channel's ``stream_id`` now."""
        self._streams[stream_id] = stream
        if self._touched is not None:
            self._touched.add(stream_id)
        return stream

    def _drop(self, stream_id) -> None:
        """(Under the lock) the channel has no ``stream_id`` any more."""
        self._streams.pop(stream_id, None)
        if self._touched is not None:
            self._touched.add(stream_id)

    def refresh(self) -> None:
        """Reload stream definitions from the store (picks up streams other processes created or removed).

        The first listing reads the store without holding the channel's lock (on a large store that takes
        seconds): a lookup by id, a write or a purge meanwhile does not wait for it. It only adds the streams
        the channel does not hold yet (those it holds were read or made since, no older than the listing) and
        none that was made or removed while it read."""
        with self._listing:
            if not self._loaded:
                self._first_listing()
                return
            with self._lock:
                streams = self._streams
                defs = {d.stream_id: d for d in self.store.list_definitions(self.channel_id)}
                for sid in [s for s in streams if s not in defs]:
                    del streams[sid]
                for sid, d in defs.items():
                    stream = streams.get(sid)
                    if stream is None:
                        streams[sid] = self._stream_from(d)
                    else:
                        stream.set_calculated_intervals_silently(d.calculated_intervals)
                        stream.last_updated = d.last_updated

    #: definitions stamped this long before the newest one held are read again by :meth:`refresh_recent` (a
    #: writer stamps ``last_updated`` just before it commits)
    REREAD = timedelta(seconds=2)

    def refresh_recent(self) -> None:
        """A cheap :meth:`refresh` for a periodic look at a large store: the definitions stamped since the newest
        one the channel holds, and a count of them all — the whole channel is read again only when the count
        differs (streams came unstamped or went). A channel not listed yet is left alone. Changes to calculated
        intervals that another program made without stamping ``last_updated`` show at the next :meth:`refresh`."""
        if not self._loaded:
            return
        with self._listing:
            stamps = [s.last_updated for s in list(self._streams.values()) if s.last_updated is not None]
            if not stamps:
                self.refresh()
                return
            defs = self.store.list_definitions(self.channel_id, updated_since=max(stamps) - self.REREAD)
            count = self.store.count_definitions(self.channel_id)
            with self._lock:
                for d in defs:
                    stream = self._streams.get(d.stream_id)
                    if stream is None:
                        self._streams[d.stream_id] = self._stream_from(d)
                    else:
                        stream.set_calculated_intervals_silently(d.calculated_intervals)
                        stream.last_updated = d.last_updated
                whole = len(self._streams) != count
            if whole:
                self.refresh()

    def _first_listing(self) -> None:
        with self._lock:
            self._touched = set()
        try:
            defs = self.store.list_definitions(self.channel_id)
        except BaseException:
            with self._lock:
                self._touched = None
            raise
        with self._lock:
            touched, self._touched = self._touched, None
            streams = self._streams
            for d in defs:
                sid = d.stream_id
                if sid not in streams and sid not in touched:
                    streams[sid] = self._stream_from(d)
            self._loaded = True

    def refresh_stream(self, stream_id) -> Stream | None:
        """Re-read one stream's definition (another process may have created it or computed more of it);
        None when the store has no such stream."""
        stream_id = get_stream_id(stream_id)
        d = self.store.get_definition(stream_id)
        with self._lock:
            stream = self._streams.get(stream_id)
            if d is None or d.channel_id != self.channel_id:
                self._drop(stream_id)
                return None
            if stream is None:
                stream = self._put(stream_id, self._stream_from(d))
            else:
                stream.set_calculated_intervals_silently(d.calculated_intervals)
                stream.last_updated = d.last_updated
            return stream

    def refresh_streams(self, stream_ids) -> None:
        """:meth:`refresh_stream` of several streams with one store read. Before the channel has loaded every
        definition, only those it has read so far are read again (the others are read when first needed)."""
        ids = [get_stream_id(s) for s in stream_ids]
        if not self._loaded:
            ids = [sid for sid in ids if sid in self._streams]
        if not ids:
            return
        defs = self.store.get_definitions(ids)
        with self._lock:
            for sid in ids:
                d = defs.get(sid)
                stream = self._streams.get(sid)
                if d is None or d.channel_id != self.channel_id:
                    self._drop(sid)
                elif stream is None:
                    self._put(sid, self._stream_from(d))
                else:
                    stream.set_calculated_intervals_silently(d.calculated_intervals)
                    stream.last_updated = d.last_updated

    def create_streams(self, stream_ids) -> list[Stream]:
        """The streams ``stream_ids``, those that do not exist yet created together (one store transaction where
        the store has them), e.g. the outputs of a batch of workflow steps."""
        ids = [get_stream_id(s) for s in stream_ids]
        with self._lock:
            unknown = [sid for sid in ids if sid not in self._streams]
            if unknown and not self._loaded:
                for sid, d in self.store.get_definitions(unknown).items():
                    if d.channel_id == self.channel_id:
                        self._put(sid, self._stream_from(d))
            missing = list(dict.fromkeys(sid for sid in ids if sid not in self._streams))
            if missing:
                now = utcnow()
                defs = [StreamDefinition(sid, self.channel_id, TimeIntervals(), last_updated=now, last_accessed=now)
                        for sid in missing]
                self.store.create_definitions(defs)
                for d in defs:
                    self._put(d.stream_id, self._stream_from(d))
            return [self._streams[sid] for sid in ids]

    def create_stream(self, stream_id, sandbox=None) -> Stream:
        stream_id = get_stream_id(stream_id)
        with self._lock:
            if self.known_stream(stream_id) is not None:
                raise StreamAlreadyExistsError(stream_id, self.channel_id)
            now = utcnow()
            d = StreamDefinition(stream_id, self.channel_id, TimeIntervals(), last_updated=now, last_accessed=now,
                                 sandbox=sandbox)
            self.store.create_definition(d)
            return self._put(stream_id, self._stream_from(d))

    def _stored(self, stream, committed, add=None, remove=None) -> None:
        """Refresh the channel's copy from what the store's transaction stored (a :class:`Committed`). A write
        queued in the store's write group (``add``/``remove``: its change of the intervals) changes the copy now
        as the store will, and the copy becomes what the store stored once the group commits."""
        when_stored = getattr(committed, "when_stored", None)
        if when_stored is not None:
            if add is not None or remove is not None:
                stream.set_calculated_intervals_silently(merge_intervals(stream.calculated_intervals, add, remove))
                stream.last_updated = utcnow()
            when_stored(functools.partial(self._group_stored, stream))
            return
        ci = getattr(committed, "calculated_intervals", None)
        if ci is not None:
            stream.set_calculated_intervals_silently(ci)
            stream.last_updated = utcnow()

    def _group_stored(self, stream, committed) -> None:
        if committed is None:   # the group could not write it: the copy becomes what the store holds
            self.refresh_stream(stream.stream_id)
        else:
            self._stored(stream, committed)

    def calculated_intervals_changed(self, stream):
        self.store.update_definition(stream.stream_id, calculated_intervals=stream.calculated_intervals,
                                     last_updated=stream.last_updated or utcnow())

    # -- reading ---------------------------------------------------------------
    def get_results(self, stream, time_interval):
        time_interval = as_interval(time_interval)
        return self.store.read(stream.stream_id, time_interval.start, time_interval.end)

    def count_instances(self, stream, time_interval):
        return self.store.count(stream.stream_id, time_interval.start, time_interval.end)

    def first_instance(self, stream, time_interval):
        return self.store.first(stream.stream_id, time_interval.start, time_interval.end)

    def last_instance(self, stream, time_interval):
        return self.store.last(stream.stream_id, time_interval.start, time_interval.end)

    def get_columns(self, stream, time_interval, component=None):
        return self.store.columns(stream.stream_id, time_interval.start, time_interval.end, component)

    def get_summary(self, stream, time_interval, buckets, component=None):
        return self.store.summary(stream.stream_id, time_interval.start, time_interval.end, buckets, component)

    # -- writing ---------------------------------------------------------------
    def get_stream_writer(self, stream):
        self._check_writable()

        def writer(document_collection):
            return self.store.insert(stream.stream_id, _validated(document_collection))
        return writer

    def write_chunk(self, stream, instances, calculated_intervals=None, *, add_intervals=None):
        """See :meth:`BaseChannel.write_chunk`: data and the interval piece in one store transaction, where the
        store merges the piece with the stored intervals; the stream's copy becomes what the store stored."""
        self._check_writable()
        add, remove = self._interval_change(stream, calculated_intervals, add_intervals)
        n = self.store.insert(stream.stream_id, _validated(instances), add_intervals=add, remove_intervals=remove)
        self._stored(stream, n, add, remove)
        return n

    def insert_arrays(self, stream, ms, values, calculated_intervals=None, *, add_intervals=None) -> int:
        """See :meth:`BaseChannel.insert_arrays`: straight to the store's columnar write, one transaction."""
        self._check_writable()
        add, remove = self._interval_change(stream, calculated_intervals, add_intervals)
        n = self.store.insert_arrays(stream.stream_id, ms, values, add_intervals=add, remove_intervals=remove)
        self._stored(stream, n, add, remove)
        return n

    def get_typed_columns(self, stream, time_interval):
        typed = getattr(self.store, "typed_columns", None)
        if typed is None:
            return super().get_typed_columns(stream, time_interval)
        return typed(stream.stream_id, time_interval.start, time_interval.end)

    def get_typed_component_columns(self, stream, time_interval, key):
        typed = getattr(self.store, "typed_component_columns", None)
        if typed is None:
            return None
        time_interval = as_interval(time_interval)
        return typed(stream.stream_id, time_interval.start, time_interval.end, key)

    def write_columns_chunk(self, stream, columns, calculated_intervals=None, *, add_intervals=None) -> int:
        self._check_writable()
        insert = getattr(self.store, "insert_columns", None)
        if insert is None:
            return super().write_columns_chunk(stream, columns, calculated_intervals, add_intervals=add_intervals)
        add, remove = self._interval_change(stream, calculated_intervals, add_intervals)
        n = insert(stream.stream_id, columns, add_intervals=add, remove_intervals=remove)
        self._stored(stream, n, add, remove)
        return n

    # -- change log ------------------------------------------------------------
    @property
    def keeps_changes(self):
        return bool(getattr(self.store, "keeps_changes", False))

    def list_changes(self, stream_id=None, since=None) -> list:
        """Recorded in the store with the data (so other processes' changes too); see :mod:`channels.changes`."""
        if stream_id is not None:
            return self.store.list_changes(get_stream_id(stream_id), since=since)
        return self.store.list_changes(since=since, channel_id=self.channel_id)

    def newest_changes(self) -> dict:
        """One store call (the store keeps the change log indexed by stream)."""
        return self.store.newest_changes(channel_id=self.channel_id)

    # -- purging ---------------------------------------------------------------
    def purge_stream(self, stream_id, remove_definition=False, sandbox=None):
        self._check_writable()
        stream = self[stream_id]
        with self._lock, change_origin("purge definition" if remove_definition else "purge stream", override=False):
            self._stored(stream, self.store.purge(stream.stream_id, calculated_intervals=TimeIntervals()))
            stream.set_calculated_intervals_silently(TimeIntervals())
            if remove_definition:
                self.store.delete_definition(stream.stream_id)
                self._drop(stream.stream_id)

    def purge_interval(self, stream_id, time_interval, calculated_intervals=None):
        """Delete the instances in ``(start, end]``; the stream's calculated intervals lose that interval (taken
        from the stored value inside the store's transaction), or become ``calculated_intervals`` when given
        (user data such as annotations stays calculated where one was deleted: what differs from the channel's
        copy is added/removed), in the same store transaction."""
        self._check_writable()
        time_interval = as_interval(time_interval)
        stream = self[stream_id]
        if calculated_intervals is None:
            add, remove = None, TimeIntervals([time_interval])
        else:
            add, remove = self._interval_change(stream, calculated_intervals, None)
            if add is None and remove is None:
                add = TimeIntervals()  # still answer with (and refresh to) what is stored
        n = self.store.purge(stream.stream_id, time_interval.start, time_interval.end, add_intervals=add,
                             remove_intervals=remove)
        self._stored(stream, n)
        return n

    def update_streams(self, up_to_timestamp):
        self.refresh()
