"""Channels whose data lives in memory.

Each stream's data is kept sorted (parallel lists of epoch-ms, datetimes and
values), so a window read is two bisections plus a slice — O(log n + k) —
instead of sorting the stream on every call. Columnar writes appended after
everything stored stay columns until something reads instances; plot reads
(numeric windows, summaries) and reads of a part of such a stream never make
the instances of all of it.
"""
from __future__ import annotations

import math
import threading
from bisect import bisect_right
from datetime import datetime
from itertools import islice
from operator import itemgetter, lt as _lt

import numpy as np

from .base_channel import BaseChannel
from .columnar import Columns, can_concat, check_arrays, columns_from_instances, concat_columns
from .errors import DuplicateInstanceError, ReadOnlyChannelError, StreamAlreadyExistsError, StreamNotFoundError
from .lod import Blocks, numeric_or_nan, summarise_arrays, summarise_with_blocks
from .stream import Stream, StreamInstance, as_interval, get_stream_id
from .time_interval import TimeInterval, TimeIntervals
from .utils import MIN_DATE, UTC, ensure_utc, to_ms, utcnow, from_ms
from .changes import PURGE, WRITE, MemoryChangeLog, change_origin, current_origin

from datetime import timedelta as _td
_ONE_MS = _td(milliseconds=1)


def same_value(a, b) -> bool:
    if a == b:
        return True
    return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)


def _ms_array(timestamps) -> np.ndarray:
    """Epoch ms (int64) of aware datetimes, with C-level maps."""
    from .columnar import _ms_of
    return _ms_of(timestamps)


class _Series:
    """Sorted data of one stream.

    ``ts`` (the instances' datetimes, for bisection) and ``insts`` (ready-made StreamInstances, so reads are
    slices) are parallel lists; numeric columns are built lazily and cached.
    """

    __slots__ = ("_ts", "_insts", "_pending", "_num_cache", "version", "rewrites")

    def __init__(self):
        self._ts: list = []                # aware UTC datetimes, sorted, unique
        self._insts: list = []             # ready-made StreamInstances (immutable), so reads are slices
        self._pending: list = []           # Columns appended by columnar writes, not yet made instances
        self._num_cache: dict = {}
        self.version = 0                   # bumped by every change of the data (see numeric_window)
        self.rewrites = 0                  # bumped by every change other than an append (see numeric_window)

    def _invalidate(self) -> None:
        self._num_cache.clear()
        self.version += 1

    def _flush(self) -> None:
        """Make the instances of the pending columnar batches (on the first read that needs instances)."""
        pending, self._pending = self._pending, []
        for cols in pending:
            insts = cols.instances()
            self._ts.extend(map(_first, insts))
            self._insts.extend(insts)

    @property
    def ts(self) -> list:
        if self._pending:
            self._flush()
        return self._ts

    @property
    def insts(self) -> list:
        if self._pending:
            self._flush()
        return self._insts

    def last_ms(self):
        """Epoch ms of the last instance, None when empty (without making pending instances)."""
        if self._pending:
            return int(self._pending[-1].ms[-1])
        return to_ms(self._ts[-1]) if self._ts else None

    def first_ms(self):
        """Epoch ms of the first instance, None when empty (without making pending instances)."""
        if self._ts:
            return to_ms(self._ts[0])
        return int(self._pending[0].ms[0]) if self._pending else None

    def append_columns(self, cols) -> bool:
        """Append a Columns batch lazily if it lies after everything stored; False if it does not."""
        last = self.last_ms()
        if last is not None and not cols.ms[0] > last:
            return False
        # the whole series as one Columns, while every batch so far was columnar and of one kind: records under
        # their own key (readers of typed columns take floats, ints, datetimes and intervals only)
        key = _RECORDS if cols.kind == "record" else _TYPED
        prev = self._num_cache.get(key) if last is not None else None
        self._invalidate()
        if last is None:
            self._num_cache[key] = cols
        elif prev is not None and can_concat(prev, cols):
            self._num_cache[key] = concat_columns(prev, cols)
        self._pending.append(cols)
        return True

    def columns_only(self):
        """The whole series as one Columns while it holds nothing but columnar batches not made instances yet
        (see :meth:`append_columns`), else None: reads of a part of it then make the instances of that part
        only, never of the whole (10,000,000 of them took 5 s and 1.4 GB)."""
        if not self._pending or self._ts:
            return None
        cols = self._num_cache.get(_RECORDS if self._pending[0].kind == "record" else _TYPED)
        if cols is None or len(cols) != sum(map(len, self._pending)):
            return None
        return cols

    def numeric_columns(self, component):
        """``(ms, float64 values)`` of the whole series straight from the columns its columnar writes kept (see
        :meth:`append_columns`), without making an instance; None when they hold no numbers for ``component``
        (then the numbers come from the instances). Same numbers as :func:`numeric_or_nan` of the values."""
        if component is None:
            cols = self._num_cache.get(_TYPED)
            if cols is None or cols.kind not in ("float", "int"):
                return None
            return cols.ms, cols.values.astype(np.float64, copy=False)
        rec = self._num_cache.get(_RECORDS)
        if rec is None or rec.names is None or component not in rec.names:
            return None
        return rec.ms, rec.values[rec.names.index(component)].astype(np.float64, copy=False)

    @property
    def ms(self) -> list:
        """Epoch ms of the instances (built on demand)."""
        return _ms_array(self.ts).tolist()

    def bounds(self, interval: TimeInterval) -> tuple[int, int]:
        return bisect_right(self.ts, interval.start), bisect_right(self.ts, interval.end)

    def fast_rows(self, instances):
        """The batch as ``(timestamps, instances)`` when it can be appended as is, else None.

        That is: every item a StreamInstance (validated when it was made), timestamps strictly increasing and
        after the last stored one. Checked with C-level maps, no per-instance Python code.
        """
        if not instances or set(map(type, instances)) != _SI_TYPES:
            return None
        tss = list(map(_first, instances))
        if len(tss) > 1 and not all(map(_lt, tss, islice(tss, 1, None))):
            return None
        if self.ts and not tss[0] > self.ts[-1]:
            return None
        return tss

    def prepare(self, stream_id, instances) -> list[tuple]:
        """Validate a batch; return the rows ``(timestamp, instance)`` that are new, sorted. Raises before
        anything changes."""
        rows = {}
        for inst in instances:
            if not isinstance(inst, StreamInstance):
                if not isinstance(inst, (tuple, list)) or len(inst) != 2:
                    raise TypeError(f"stream {stream_id}: expected StreamInstance or (timestamp, value), got {inst!r}")
                inst = StreamInstance(*inst)
            ts = inst.timestamp
            if ts.tzinfo is not UTC or ts.microsecond % 1000:  # e.g. made with StreamInstance._make
                inst = StreamInstance(ts, inst.value)
                ts = inst.timestamp
            prev = rows.get(ts)
            if prev is not None and not same_value(prev[1].value, inst.value):
                raise DuplicateInstanceError(stream_id, inst.timestamp, prev[1].value, inst.value)
            rows[ts] = (ts, inst)
        new = []
        for ts in sorted(rows):
            i = bisect_right(self.ts, ts)
            if i and self.ts[i - 1] == ts:
                old, inst = self.insts[i - 1], rows[ts][1]
                if not same_value(old.value, inst.value):
                    raise DuplicateInstanceError(stream_id, inst.timestamp, old.value, inst.value)
                continue
            new.append(rows[ts])
        return new

    def append(self, tss, instances) -> None:
        """Append a batch :meth:`fast_rows` accepted."""
        self._invalidate()
        self.ts.extend(tss)
        self._insts.extend(instances)

    def apply(self, rows) -> None:
        if not rows:
            return
        self._invalidate()
        if not self.ts or rows[0][0] > self.ts[-1]:
            self.ts.extend(r[0] for r in rows)
            self.insts.extend(r[1] for r in rows)
            return
        self.rewrites += 1
        for ts, inst in rows:
            i = bisect_right(self.ts, ts)
            self.ts.insert(i, ts)
            self.insts.insert(i, inst)

    def delete(self, lo: int, hi: int) -> int:
        if hi <= lo:
            return 0
        self._invalidate()
        self.rewrites += 1
        del self.ts[lo:hi], self.insts[lo:hi]
        return hi - lo

# Converting a million instances to arrays takes ~0.35 s. A C-level map over a list never gives the GIL back
# (no bytecode runs), so a worker does it in steps of this many: each ~1 ms of C (more when the instances are
# cold in the cache), between which the GUI thread takes the GIL. At 16,384 a step held it ~4 ms on a quiet
# machine, and a paint that needs the GIL many times could wait that long each time.
NUMERIC_STEP = 4096
_PLAIN_NUMBERS = {float, int, bool}


def _ms_in_steps(timestamps: list, n: int) -> np.ndarray:
    """Epoch ms of the first ``n`` datetimes of ``timestamps``, a piece of :data:`NUMERIC_STEP` at a time."""
    out = np.empty(n, dtype=np.int64)
    for a in range(0, n, NUMERIC_STEP):
        chunk = timestamps[a:min(n, a + NUMERIC_STEP)]
        out[a:a + len(chunk)] = _ms_array(chunk)
    return out


def _values_in_steps(insts: list, n: int, component) -> np.ndarray:
    """The numbers of the first ``n`` instances of ``insts`` (NaN where not numeric), a piece at a time: a piece
    of plain floats, ints and bools (the usual case) with C-level maps, any other with :func:`numeric_or_nan`."""
    out = np.empty(n, dtype=np.float64)
    for a in range(0, n, NUMERIC_STEP):
        chunk = insts[a:min(n, a + NUMERIC_STEP)]
        k = len(chunk)
        vals = list(map(_second, chunk))
        if component is None and set(map(type, vals)) <= _PLAIN_NUMBERS:
            out[a:a + k] = np.fromiter(vals, dtype=np.float64, count=k)
        else:
            out[a:a + k] = np.fromiter((numeric_or_nan(v, component) for v in vals), dtype=np.float64, count=k)
    return out


def _slice_in_steps(items: list, lo: int, hi: int) -> list:
    """``items[lo:hi]``, copied a piece of :data:`NUMERIC_STEP` at a time: one slice of a million references
    held the GIL for 6-11 ms (a reference count touched per item), the GUI thread waiting meanwhile."""
    if hi - lo <= NUMERIC_STEP:
        return items[lo:hi]
    out = [None] * (hi - lo)
    for a in range(lo, hi, NUMERIC_STEP):
        b = min(hi, a + NUMERIC_STEP)
        out[a - lo:b - lo] = items[a:b]
    return out


_SI_TYPES = {StreamInstance}
_TYPED = "\0typed"
_RECORDS = "\0records"
_MISSING = object()
_first = itemgetter(0)
_second = itemgetter(1)


class _SeriesChannel(BaseChannel):
    """Shared storage and fast reads of the memory channels."""

    def __init__(self, channel_id, **kwargs):
        super().__init__(channel_id, **kwargs)
        self.data: dict = {}
        self._lock = threading.RLock()

    @property
    def _calc_lock(self):  # interval changes and data changes under one lock
        return self._lock

    def _series(self, stream: Stream) -> _Series:
        s = self.data.get(stream.stream_id)
        if s is None:
            if stream.stream_id not in self.streams:
                raise StreamNotFoundError(stream.stream_id, self.channel_id)
            s = self.data[stream.stream_id] = _Series()
        return s

    @staticmethod
    def _part(s: _Series, time_interval: TimeInterval):
        """``(columns, lo, hi)`` of ``time_interval`` in a series that is only columns (:meth:`_Series.columns_only`),
        else None."""
        cols = s.columns_only()
        if cols is None:
            return None
        lo, hi = np.searchsorted(cols.ms, [to_ms(time_interval.start), to_ms(time_interval.end)], side="right")
        return cols, int(lo), int(hi)

    def get_results(self, stream, time_interval):
        time_interval = as_interval(time_interval)
        with self._lock:
            s = self._series(stream)
            part = self._part(s, time_interval)
            if part is not None and (part[2] - part[1]) * 4 < len(part[0]):   # a part: its instances only
                return part[0].slice(part[1], part[2]).instances()
            lo, hi = s.bounds(time_interval)                                  # most of it: made once, kept
            return _slice_in_steps(s.insts, lo, hi)

    def count_instances(self, stream, time_interval):
        time_interval = as_interval(time_interval)
        with self._lock:
            s = self._series(stream)
            part = self._part(s, time_interval)
            lo, hi = part[1:] if part is not None else s.bounds(time_interval)
            return hi - lo

    def _one(self, stream, time_interval, last: bool):
        time_interval = as_interval(time_interval)
        with self._lock:
            s = self._series(stream)
            part = self._part(s, time_interval)
            if part is not None:
                cols, lo, hi = part
                i = hi - 1 if last else lo
                return cols.slice(i, i + 1).instances()[0] if hi > lo else None
            lo, hi = s.bounds(time_interval)
            if hi <= lo:
                return None
            return s.insts[hi - 1] if last else s.insts[lo]

    def first_instance(self, stream, time_interval):
        return self._one(stream, time_interval, last=False)

    def last_instance(self, stream, time_interval):
        return self._one(stream, time_interval, last=True)

    def numeric_window(self, stream, time_interval, component=None):
        """``(ms, values)`` arrays of the instances in ``time_interval`` (NaN = not numeric), from the series'
        cached arrays.

        Building that cache for a large series takes a while, so it is built *outside* the lock (writers and
        other readers go on meanwhile), from the series' own lists a piece at a time — never from a copy: a
        list of millions of references is traversed by every young garbage collection while it lives (a
        322 ms GUI stall at 10 M instances). What was there when it began is what it reads: the first ``n``
        items, which appends leave as they are. It is cached only if the series did not change meanwhile; if
        something other than an append changed it, the arrays are built again under the lock.
        """
        time_interval = as_interval(time_interval)
        with self._lock:
            s = self._series(stream)
            cached = s._num_cache.get(component)
            if cached is None:
                cached = s.numeric_columns(component)
                if cached is not None:
                    s._num_cache[component] = cached
            if cached is not None:
                lo, hi = np.searchsorted(cached[0], [to_ms(time_interval.start), to_ms(time_interval.end)],
                                         side="right")
                return cached[0][lo:hi], cached[1][lo:hi]
            lo, hi = s.bounds(time_interval)
            version, rewrites, ms = s.version, s.rewrites, s._num_cache.get("\0ms")
            ts, insts = s.ts, s.insts
            n = len(insts)
        if ms is None:
            ms = _ms_in_steps(ts, n)
        vals = _values_in_steps(insts, n, component)
        with self._lock:
            if s.version == version and self.data.get(stream.stream_id) is s:
                ms = s._num_cache.setdefault("\0ms", ms)
                s._num_cache.setdefault(component, (ms, vals))
            elif s.rewrites != rewrites:
                n = len(s.insts)    # not only appended to meanwhile: the arrays of the series as it is now
                ms, vals = _ms_in_steps(s.ts, n), _values_in_steps(s.insts, n, component)
                lo, hi = s.bounds(time_interval)
        return ms[lo:hi], vals[lo:hi]

    def get_columns(self, stream, time_interval, component=None):
        ms, vals = self.numeric_window(stream, time_interval, component)
        keep = ~np.isnan(vals)
        return ms[keep], vals[keep]

    def get_summary(self, stream, time_interval, buckets, component=None):
        """From the series' cached arrays and their :class:`channels.lod.Blocks` (built once per series state,
        outside the lock like the arrays): a summary of millions of instances reads ~1/64 of them."""
        time_interval = as_interval(time_interval)
        s_ms, e_ms = to_ms(time_interval.start), to_ms(time_interval.end)
        ms, vals = self.numeric_window(stream, time_interval, component)
        key = ("\0blocks", component)
        with self._lock:
            s = self._series(stream)
            version, cached, entry = s.version, s._num_cache.get(component), s._num_cache.get(key)
        if cached is None or not np.may_share_memory(cached[1], vals):   # the series changed meanwhile
            return summarise_arrays(ms, vals, s_ms, e_ms, buckets)
        if entry is None or entry[0] is not cached[1]:
            entry = (cached[1], Blocks(cached[1]))
            with self._lock:
                if s.version == version and self.data.get(stream.stream_id) is s:
                    s._num_cache[key] = entry
        return summarise_with_blocks(cached[0], cached[1], entry[1], s_ms, e_ms, buckets)

    def get_typed_columns(self, stream, time_interval):
        """See :meth:`BaseChannel.get_typed_columns` (built once per series state, then sliced)."""
        time_interval = as_interval(time_interval)
        with self._lock:
            s = self._series(stream)
            if _TYPED not in s._num_cache:
                s._num_cache[_TYPED] = columns_from_instances(s.insts)
            cols = s._num_cache[_TYPED]
            if cols is None:
                return None
            lo, hi = np.searchsorted(cols.ms, [to_ms(time_interval.start), to_ms(time_interval.end)], side="right")
            return cols.slice(int(lo), int(hi))

    def get_typed_component_columns(self, stream, time_interval, key):
        """See :meth:`BaseChannel.get_typed_component_columns`: from the series' record columns when it was
        written by columnar record batches (no Python per instance), else from its values."""
        time_interval = as_interval(time_interval)
        lo_ms, hi_ms = to_ms(time_interval.start), to_ms(time_interval.end)
        with self._lock:
            s = self._series(stream)
            rec = s._num_cache.get(_RECORDS)
            if rec is not None and rec.names is not None:
                lo, hi = np.searchsorted(rec.ms, [lo_ms, hi_ms], side="right")
                if key not in rec.names:
                    return Columns(np.zeros(0, np.int64), "float", np.zeros(0))
                arr = rec.values[rec.names.index(key)][lo:hi]
                return Columns(rec.ms[lo:hi], "float" if arr.dtype == np.float64 else "int", arr)
            lo, hi = s.bounds(time_interval)
            ts, insts = s.ts[lo:hi], s.insts[lo:hi]
        miss = _MISSING
        comp = [v[key] if isinstance(v, dict) and key in v else miss for _, v in insts]
        sel = [j for j, c in enumerate(comp) if c is not miss]
        vals = [comp[j] for j in sel]
        cols = columns_from_instances([(ts[j], c) for j, c in zip(sel, vals)])
        return cols if cols is not None and cols.kind in ("float", "int") else None

    def write_columns_chunk(self, stream, columns, calculated_intervals=None, *, add_intervals=None) -> int:
        """Write a Columns batch. Appended after everything stored, it is kept as columns and made instances
        only when something reads instances; otherwise it is written as instances."""
        with self._lock:
            s = self._series(stream)
            if len(columns):
                check_arrays(stream.stream_id, columns.ms, np.zeros(len(columns)))
            add, remove = self._interval_change(stream, calculated_intervals, add_intervals)
            if not len(columns) or not s.append_columns(columns):
                return self._write(stream, columns.instances(), add_intervals=add, remove_intervals=remove)
            self._changed(stream.stream_id, from_ms(int(columns.ms[0]) - 1), from_ms(int(columns.ms[-1])), WRITE)
            self._apply_interval_change(stream, add, remove)
            return len(columns)

    def _write(self, stream: Stream, instances, calculated_intervals=None, *, add_intervals=None,
               remove_intervals=None) -> int:
        if not isinstance(instances, list):
            instances = list(instances)
        with self._lock:
            s = self._series(stream)
            tss = s.fast_rows(instances)
            if tss is not None:
                s.append(tss, instances)
                n = len(tss)
                span = (tss[0], tss[-1]) if n else None
            else:
                rows = s.prepare(stream.stream_id, instances)
                s.apply(rows)
                n = len(rows)
                span = (rows[0][0], rows[-1][0]) if n else None
            if span is not None:
                self._changed(stream.stream_id, span[0] - _ONE_MS, span[1], WRITE)
            if calculated_intervals is not None:  # under the lock: the copy it is compared with is current
                add, remove = self._interval_change(stream, calculated_intervals, None)
                add_intervals = add if add_intervals is None else TimeIntervals(add_intervals) + (add if add is not None else TimeIntervals())
                remove_intervals = remove if remove_intervals is None else remove_intervals
            self._apply_interval_change(stream, add_intervals, remove_intervals)
            return n

    def _changed(self, stream_id, start, end, kind) -> None:
        log_ = getattr(self, "changes", None)
        if log_ is not None:
            log_.record(self.channel_id, stream_id, TimeInterval._trusted(start, end), kind, current_origin(kind),
                        utcnow())

    @property
    def non_empty_streams(self) -> list:
        return [sid for sid, s in self.data.items() if s.last_ms() is not None]


class MemoryChannel(_SeriesChannel):
    """Channel whose data lives in memory."""

    supports_columns = True
    keeps_changes = True

    def __init__(self, channel_id):
        super().__init__(channel_id, can_calc=True, can_create=True)
        self.changes = MemoryChangeLog()

    def list_changes(self, stream_id=None, since=None) -> list:
        return self.changes.list(None if stream_id is None else get_stream_id(stream_id), since)

    def create_stream(self, stream_id, sandbox=None) -> Stream:
        stream_id = get_stream_id(stream_id)
        if stream_id in self.streams:
            raise StreamAlreadyExistsError(stream_id, self.channel_id)
        stream = Stream(self, stream_id, sandbox=sandbox)
        self.streams[stream_id] = stream
        self.data[stream_id] = _Series()
        return stream

    def get_stream_writer(self, stream):
        def writer(document_collection):
            return self._write(stream, document_collection)
        return writer

    def write_chunk(self, stream, instances, calculated_intervals=None, *, add_intervals=None):
        return self._write(stream, instances, calculated_intervals, add_intervals=add_intervals)

    def insert_arrays(self, stream, ms, values, calculated_intervals=None, *, add_intervals=None) -> int:
        """See :meth:`BaseChannel.insert_arrays` (validated with vectorised checks; kept as columns when it comes
        after everything stored — plotting it then never makes an instance — else stored as instances)."""
        ms, values = check_arrays(stream.stream_id, ms, values)
        return self.write_columns_chunk(stream, Columns(ms, "float", values), calculated_intervals,
                                        add_intervals=add_intervals)

    def purge_stream(self, stream_id, remove_definition=False, sandbox=None):
        stream_id = get_stream_id(stream_id)
        with self._lock:
            stream = self[stream_id]
            old = self.data.get(stream_id)
            if old is not None and old.last_ms() is not None:     # (a columnar series is not made instances)
                with change_origin("purge definition" if remove_definition else "purge stream", override=False):
                    self._changed(stream_id, from_ms(old.first_ms()) - _ONE_MS, from_ms(old.last_ms()), PURGE)
            self.data[stream_id] = _Series()
            stream.calculated_intervals = TimeIntervals()
            if remove_definition:
                del self.streams[stream_id]
                del self.data[stream_id]

    def purge_interval(self, stream_id, time_interval):
        time_interval = as_interval(time_interval)
        with self._lock:
            stream = self[stream_id]
            s = self._series(stream)
            lo, hi = s.bounds(time_interval)
            if hi > lo:
                self._changed(stream.stream_id, time_interval.start, time_interval.end, PURGE)  # the purged interval
            n = s.delete(lo, hi)
            stream.calculated_intervals = stream.calculated_intervals - time_interval
            return n

    def purge_all(self, remove_definitions=False):
        for sid in list(self.streams):
            self.purge_stream(sid, remove_definition=remove_definitions)

    def check_calculation_times(self) -> list:
        """Stream ids with instances outside their calculated intervals (empty when consistent)."""
        bad = []
        for sid, stream in self.streams.items():
            s = self.data.get(sid)
            if s and s.insts and stream.calculated_intervals:
                if any(i.timestamp not in stream.calculated_intervals for i in (s.insts[0], s.insts[-1])):
                    bad.append(sid)
        return bad

    def update_streams(self, up_to_timestamp):
        """Memory streams are written directly; nothing to update."""


class ReadOnlyMemoryChannel(_SeriesChannel):
    """A read-only set of memory streams that subclasses fill in ``update_streams``.

    ``update_state(t)`` brings the channel up to date at ``t``: afterwards every
    stream is calculated from ``MIN_DATE`` up to ``t`` exactly.
    """

    read_only = True

    def __init__(self, channel_id, up_to_timestamp=MIN_DATE):
        super().__init__(channel_id, can_calc=False, can_create=False)
        self.up_to_timestamp = MIN_DATE
        up_to_timestamp = ensure_utc(up_to_timestamp, "up_to_timestamp")
        if up_to_timestamp > MIN_DATE:
            self.update_state(up_to_timestamp)

    def create_stream(self, stream_id, sandbox=None):
        raise ReadOnlyChannelError(f"channel {self.channel_id!r} is read-only: cannot create stream "
                                   f"{get_stream_id(stream_id)}")

    def get_stream_writer(self, stream):
        raise ReadOnlyChannelError(f"channel {self.channel_id!r} is read-only: cannot write to {stream.stream_id}")

    def purge_stream(self, stream_id, remove_definition=False, sandbox=None):
        raise ReadOnlyChannelError(f"channel {self.channel_id!r} is read-only: cannot purge {stream_id}")

    def purge_interval(self, stream_id, time_interval):
        self.purge_stream(stream_id)

    def update_state(self, up_to_timestamp):
        up_to_timestamp = ensure_utc(up_to_timestamp, "up_to_timestamp")
        with self._lock:
            self.update_streams(up_to_timestamp)
            self.up_to_timestamp = up_to_timestamp
            if up_to_timestamp > MIN_DATE:
                for stream in self.streams.values():
                    stream.set_calculated_intervals_silently(TimeInterval(MIN_DATE, up_to_timestamp))

    def _add_instances(self, stream_id, instances, replace: bool = False) -> Stream:
        """For subclasses' ``update_streams``: create the stream if needed and add (or replace) its instances."""
        stream_id = get_stream_id(stream_id)
        stream = self.streams.get(stream_id)
        if stream is None:
            stream = self.streams[stream_id] = Stream(self, stream_id)
        if replace or stream_id not in self.data:
            self.data[stream_id] = _Series()
        self._write(stream, instances)
        return stream

    def update_streams(self, up_to_timestamp):
        raise NotImplementedError(f"{type(self).__name__} must implement update_streams")
