"""The one store interface that DatabaseChannel/AssetsChannel stand on.

Two implementations: ``SQLiteStore`` (embedded default, one file) and
``MongoStore`` (HyperStream's own MongoDB layout). Both pass the same contract
tests (tests/test_store_contract.py).

Conventions
-----------
* Stream ids are :class:`channels.stream.StreamId`; times are aware UTC
  datetimes (ms precision) at this interface, epoch milliseconds inside.
* Ranges are half-open ``(start, end]``; ``start``/``end`` may be ``None`` for
  unbounded.
* Every method that changes data is atomic: it either fully happens or not at
  all. ``insert`` and ``purge`` change the stream's calculated intervals in the
  same transaction, so data and bookkeeping never disagree: with
  ``add_intervals`` / ``remove_intervals`` the store reads the stored intervals
  and writes ``(stored - remove) + add`` inside that transaction (so concurrent
  writers and purgers, in any process, never lose each other's pieces), and
  returns a :class:`Committed` count carrying the intervals it stored. The older
  ``calculated_intervals=`` sets them to exactly that value (last writer wins).
* Store objects are safe to use from several threads (the embedded store keeps
  one connection per thread).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Iterator, Sequence

from ..lod import Summary
from ..stream import StreamId, StreamInstance
from ..time_interval import TimeIntervals


@dataclass
class StreamDefinition:
    stream_id: StreamId
    channel_id: str
    calculated_intervals: TimeIntervals = field(default_factory=TimeIntervals)
    last_updated: datetime | None = None
    last_accessed: datetime | None = None
    sandbox: str | None = None
    stream_type: str | None = None

    def replace(self, **changes) -> "StreamDefinition":
        return replace(self, **changes)


class Committed(int):
    """The count an ``insert``/``purge`` returns (instances new / deleted), with ``calculated_intervals``: the
    stream's calculated intervals as stored by that same transaction (None when the call did not change them).

    A write queued in a :meth:`Store.write_group` is not committed yet: its count is the instances given (at
    most that many will be new), ``calculated_intervals`` is None and ``when_stored(callback)`` gives
    ``callback`` the :class:`Committed` of the write once the group committed it (None if it was not written).
    Outside a group ``when_stored`` is None."""

    calculated_intervals: TimeIntervals | None
    when_stored = None

    def __new__(cls, n: int, calculated_intervals: TimeIntervals | None = None):
        self = super().__new__(cls, n)
        self.calculated_intervals = calculated_intervals
        return self

    @classmethod
    def queued(cls, n: int, when_stored) -> "Committed":
        self = cls(n)
        self.when_stored = when_stored
        return self


class NoWriteGroup:
    """What :meth:`Store.write_group` gives on a store without write groups: every write commits by itself, so
    none is ever queued (``owner`` and ``on_failure`` are kept for the caller; ``failures`` stays empty)."""

    owner = None
    on_failure = None
    commits = 0

    def __init__(self):
        self.failures: dict = {}

    def pending(self, key=None) -> bool:
        return False

    def flush(self) -> None:
        pass


def merge_intervals(stored: TimeIntervals, add=None, remove=None) -> TimeIntervals:
    """``(stored - remove) + add``: what a store writes for ``add_intervals`` / ``remove_intervals``."""
    out = TimeIntervals(stored)
    if remove is not None:
        out = out - TimeIntervals(remove)
    if add is not None:
        out = out + TimeIntervals(add)
    return out


def intervals_arg(add, remove):
    """``add_intervals``/``remove_intervals`` as TimeIntervals (or None), checked before any write."""
    return (None if add is None else TimeIntervals(add)), (None if remove is None else TimeIntervals(remove))


def interval_changes(calculated_intervals, add_intervals, remove_intervals) -> tuple:
    """A write's change of the calculated intervals as ``(set_to, add, remove)`` TimeIntervals (or None each),
    checked before any write; all three None: the write leaves them alone."""
    add, remove = intervals_arg(add_intervals, remove_intervals)
    return (None if calculated_intervals is None else TimeIntervals(calculated_intervals)), add, remove


UPDATABLE_FIELDS = ("calculated_intervals", "last_updated", "last_accessed", "sandbox", "stream_type")


#: HyperStream 0.3.8's collections for the meta-data tree, plates and workflows (its MongoDB names)
DOCUMENT_COLLECTIONS = ("meta_data", "plate_definitions", "workflow_definitions", "workflow_status")

#: the app's own records beside them (never HyperStream's documents): function bindings of stored code
APP_COLLECTIONS = ("hsgui_code_bindings",)


def check_collection(collection: str) -> None:
    if collection not in DOCUMENT_COLLECTIONS + APP_COLLECTIONS:
        from ..errors import StoreError
        raise StoreError(f"unknown document collection {collection!r}; expected one of "
                         f"{', '.join(DOCUMENT_COLLECTIONS + APP_COLLECTIONS)}")


class Store(ABC):
    """Persistent stream definitions, instances, summaries and tool-run history."""

    #: short text shown in the GUI, e.g. "SQLite /home/u/.local/share/hsgui/store.sqlite"
    description: str = ""

    # -- write groups ----------------------------------------------------------------------------------------
    def write_group(self, max_instances: int | None = None):
        """A context manager: the data writes (``insert*``) and run records this thread makes inside it may be
        queued and committed together, in one transaction, when it ends (or once they hold ``max_instances``
        instances). A write queued so answers a :class:`Committed` with ``when_stored`` (see there). Reads and
        other changes of a stream with queued writes commit the group first, so the thread reads what it wrote.
        A queued write that fails does not undo the others: it is kept in the group's ``failures`` by the
        group's ``owner`` when it was queued. This default queues nothing (a :class:`NoWriteGroup`)."""
        from contextlib import nullcontext
        return nullcontext(NoWriteGroup())

    # -- definitions -------------------------------------------------------
    @abstractmethod
    def list_definitions(self, channel_id: str | None = None,
                         updated_since: datetime | None = None) -> list[StreamDefinition]:
        """Definitions (of one channel), or only those whose ``last_updated`` is after ``updated_since`` (a
        caller that keeps them, e.g. the workflow colouring, re-reads what changed, not all 135,000)."""

    def definitions_named(self, channel_id: str, name: str, meta=()) -> list[StreamDefinition]:
        """The definitions of ``channel_id``'s streams called ``name`` whose meta-data hold every pair of ``meta``
        (and any others). A store with an index by name reads only those (a splitter's step looks for its
        siblings so: its cost must not grow with the store); this default lists the channel."""
        return [d for d in self.list_definitions(channel_id) if d.stream_id.name == name and d.stream_id.holds(meta)]

    def channel_ids(self) -> set[str]:
        """The channel ids that have stream definitions (without reading every definition)."""
        return {d.channel_id for d in self.list_definitions()}

    def count_definitions(self, channel_id: str | None = None) -> int:
        """How many definitions (of one channel) exist: a caller keeping them sees removals by the count."""
        return len(self.list_definitions(channel_id))

    def calculated_by_key(self, channel_id: str, updated_since: datetime | None = None) -> dict:
        """``{StreamId.key: (calculated TimeIntervals, last_updated epoch ms | None)}`` of one channel's streams
        (only those updated after ``updated_since`` if given): what colouring a workflow reads of 135,000
        definitions, without an object per definition where the store can. Streams with the same intervals may
        share one TimeIntervals: readers never change it."""
        from ..utils import to_ms
        return {d.stream_id.key: (d.calculated_intervals, None if d.last_updated is None else to_ms(d.last_updated))
                for d in self.list_definitions(channel_id, updated_since=updated_since)}

    @abstractmethod
    def get_definition(self, stream_id: StreamId) -> StreamDefinition | None: ...

    def get_definitions(self, stream_ids) -> dict:
        """``{StreamId: StreamDefinition}`` of those of ``stream_ids`` that exist (one read where the store can)."""
        out = {}
        for sid in stream_ids:
            d = self.get_definition(sid)
            if d is not None:
                out[sid] = d
        return out

    @abstractmethod
    def create_definition(self, definition: StreamDefinition) -> None:
        """Raise StreamAlreadyExistsError if the id exists."""

    def create_definitions(self, definitions) -> None:
        """Create several definitions (the embedded store: in one transaction, none of them if one exists);
        StreamAlreadyExistsError names one that exists."""
        for d in definitions:
            self.create_definition(d)

    @abstractmethod
    def update_definition(self, stream_id: StreamId, **fields) -> None:
        """Change any of UPDATABLE_FIELDS; StreamNotFoundError if missing."""

    @abstractmethod
    def delete_definition(self, stream_id: StreamId) -> None: ...

    # -- instances ---------------------------------------------------------
    @abstractmethod
    def insert(self, stream_id: StreamId, instances: Sequence[StreamInstance],
               calculated_intervals: TimeIntervals | None = None, *, add_intervals=None,
               remove_intervals=None) -> int:
        """Write a batch atomically; return how many instances were new (a :class:`Committed`).

        Same timestamp + equal value = no-op; same timestamp + different value
        (already stored, or twice within the batch) = DuplicateInstanceError
        naming stream and timestamp, and nothing of the batch is written.
        If ``calculated_intervals`` is given, the definition's intervals are set
        to it in the same transaction. With ``add_intervals`` / ``remove_intervals`` they become
        ``(stored - remove) + add``, the stored value read in that transaction; the result's
        ``calculated_intervals`` is what was stored. Either needs the stream's definition
        (StreamNotFoundError otherwise, nothing written).
        """

    def insert_arrays(self, stream_id: StreamId, ms, values, calculated_intervals: TimeIntervals | None = None, *,
                      add_intervals=None, remove_intervals=None) -> int:
        """Columnar :meth:`insert`: ``ms`` epoch-ms int64 and ``values`` float64 arrays of the same length.

        Timestamps must be strictly increasing within the batch (see :func:`channels.columnar.check_arrays`);
        the duplicate/conflict rules, atomicity and ``calculated_intervals`` are those of :meth:`insert`.
        This default goes through :meth:`insert`; stores override it with a path without per-instance objects.
        """
        from ..columnar import check_arrays, instances_from_arrays
        ms, values = check_arrays(stream_id, ms, values)
        return self.insert(stream_id, instances_from_arrays(ms, values), calculated_intervals=calculated_intervals,
                           add_intervals=add_intervals, remove_intervals=remove_intervals)

    @abstractmethod
    def read(self, stream_id: StreamId, start: datetime | None, end: datetime | None) -> Iterator[StreamInstance]:
        """Instances in ``(start, end]`` in time order."""

    @abstractmethod
    def count(self, stream_id: StreamId, start: datetime | None, end: datetime | None) -> int: ...

    @abstractmethod
    def first(self, stream_id: StreamId, start=None, end=None) -> StreamInstance | None: ...

    @abstractmethod
    def last(self, stream_id: StreamId, start=None, end=None) -> StreamInstance | None: ...

    @abstractmethod
    def purge(self, stream_id: StreamId, start: datetime | None = None, end: datetime | None = None,
              calculated_intervals: TimeIntervals | None = None, *, add_intervals=None,
              remove_intervals=None) -> int:
        """Delete instances in ``(start, end]`` (all when both None); return the count deleted (a
        :class:`Committed`). The calculated intervals change as for :meth:`insert`, in the same transaction."""

    @abstractmethod
    def columns(self, stream_id: StreamId, start, end, component: str | None = None):
        """``(ms int64 ndarray, values float64 ndarray)`` of numeric values (or of ``value[component]``)."""

    @abstractmethod
    def summary(self, stream_id: StreamId, start: datetime, end: datetime, buckets: int,
                component: str | None = None) -> Summary:
        """Bucketed summary computed in the store; cost independent of stream length."""

    # -- tool-run history ----------------------------------------------------
    @abstractmethod
    def record_run(self, run: dict) -> None:
        """Append one JSON-like run record (see channels.tools.RunRecord.to_dict)."""

    def record_runs(self, runs: list) -> None:
        """Append several run records in this order (the embedded store: in one transaction)."""
        for run in runs:
            self.record_run(run)

    @abstractmethod
    def list_runs(self, limit: int | None = None) -> list[dict]:
        """Run records, newest first."""

    def run_summary(self) -> dict:
        """What a first look at the run history needs (see :class:`channels.tools.history.RunSummary`):
        ``{"reads": {(channel_id, StreamId.key): oldest started_at}, "tools": {(tool, version)}}`` of
        the runs that ended ok and committed something. Here from every record; a store may keep it."""
        from ..tools.history import summarise_run_dicts
        return summarise_run_dicts(self.list_runs())

    def runs_of(self, streams, role: str | None = None) -> list[dict]:
        """Run records that ended ok, committed something and wrote (``role`` "wrote") or read ("read"; None:
        either) one of ``streams`` ((channel_id, StreamId) pairs), newest first: one stream's lineage. Here from
        every record; a store may index them."""
        from ..tools.history import run_streams, wanted_streams
        wanted = wanted_streams(streams, role)
        return [r for r in self.list_runs() if wanted.intersection(run_streams(r))]

    # -- change log (see channels.changes) -------------------------------------------------------------------
    #: True when every insert/purge through this store records a Change in the batch's transaction
    keeps_changes: bool = False

    def list_changes(self, stream_id: StreamId | None = None, since: datetime | None = None,
                     channel_id: str | None = None) -> list:
        """The recorded :class:`channels.changes.Change` s, oldest first: of one stream, after ``since``
        (strictly), of one channel. Reading never writes."""
        return []

    def newest_changes(self, channel_id: str | None = None) -> dict:
        """``{StreamId: time of its newest recorded change}`` (of one channel's streams): what a first look at the
        change log needs, without reading it whole."""
        from ..changes import newest_of
        return newest_of(self.list_changes(channel_id=channel_id))

    def newest_change_ms(self, channel_id: str | None = None) -> dict:
        """``{StreamId.key: epoch ms of its newest recorded change}``: :meth:`newest_changes` without an id and a
        datetime per stream where the store can (a first look at 130,000 streams compares them as numbers)."""
        from ..utils import to_ms
        return {sid.key: to_ms(at) for sid, at in self.newest_changes(channel_id).items()}

    def inserted_after(self, stream_id: StreamId, start, end, after: datetime):
        """Instances in ``(start, end]`` this store can tell were inserted after ``after`` whoever inserted them
        (MongoDB: ObjectId times, whole seconds): a TimeInterval covering their timestamps, or None. Stores that
        cannot tell answer None."""
        return None

    def newest_insert_time(self, stream_id: StreamId, start, end) -> datetime | None:
        """When the newest instance in ``(start, end]`` was inserted, if the store can tell (MongoDB); else None."""
        return None

    # -- HyperStream's meta-data, plate and workflow collections ----------------------------------
    def list_documents(self, collection: str) -> list[dict]:
        """Every document of one of :data:`DOCUMENT_COLLECTIONS`, in stored order, without ``_id``.

        On MongoDB these are HyperStream's own collections, read as they are (never modified by reading).
        """
        raise NotImplementedError(f"{type(self).__name__} keeps no {collection!r} documents")

    def insert_documents(self, collection: str, documents: list[dict]) -> None:
        """Append documents (all or none)."""
        raise NotImplementedError(f"{type(self).__name__} keeps no {collection!r} documents")

    def delete_documents(self, collection: str, match: dict) -> int:
        """Delete the documents whose fields equal every item of ``match``; return how many."""
        raise NotImplementedError(f"{type(self).__name__} keeps no {collection!r} documents")

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def check_not_future(stream_id, latest_ms: int) -> None:
    """Stores refuse instances stamped after now (the same rule as StreamInstance), naming stream and time."""
    from ..errors import TimeError
    from ..utils import from_ms, to_ms, utcnow
    if latest_ms > to_ms(utcnow()):
        raise TimeError(f"stream {stream_id}: instance timestamp {from_ms(latest_ms).isoformat()} is in the future; "
                        f"nothing of this batch was written")

