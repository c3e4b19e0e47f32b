"""Stream ids, instances, streams and windowed views of them.

A ``Stream`` is a handle: it knows its channel, id and calculated intervals,
and every read goes through ``stream.window(interval)`` -> ``StreamView`` ->
the channel. Views expose fast paths (``count``, ``columns``, ``summary``) that
channels override with store-side implementations, so the GUI asks one API
whatever the store is.
"""
from __future__ import annotations

import importlib
import itertools
import json
import os
from collections import namedtuple
from datetime import datetime
from typing import Iterator

from .errors import StreamIdError, TimeError
from .time_interval import RelativeTimeInterval, TimeInterval, TimeIntervals, parse_time_tuple
from .utils import MAX_DATE, MIN_DATE, UTC, ensure_utc, utcnow

_META_VALUE_TYPES = (str, int, float, bool)


class StreamId:
    """A stream's name plus meta-data pairs; equal regardless of pair order.

    Meta-data values are kept as text (HyperStream's convention for dict
    meta-data), so ``house=1`` and ``house="1"`` name the same stream.
    """

    __slots__ = ("name", "meta_data", "_key", "_hash", "_text", "_str")

    def __init__(self, name: str, meta_data=None):
        if not isinstance(name, str) or not name.strip():
            raise StreamIdError(f"stream name must be non-empty text, got {name!r}")
        if meta_data is None:
            pairs = ()
        elif isinstance(meta_data, dict):
            pairs = tuple(meta_data.items())
        elif isinstance(meta_data, (list, tuple)):
            pairs = []
            for p in meta_data:
                if isinstance(p, dict) and len(p) == 1:  # [{"house": "1"}, ...]
                    p = next(iter(p.items()))
                if not isinstance(p, (list, tuple)) or len(p) != 2:
                    raise StreamIdError(f"meta-data of stream {name!r} must be (key, value) pairs, got {p!r}")
                pairs.append(tuple(p))
            pairs = tuple(pairs)
        else:
            raise StreamIdError(f"meta-data of stream {name!r} must be a dict or (key, value) pairs, "
                                f"got {type(meta_data).__name__} {meta_data!r}")
        clean = []
        seen = set()
        for k, v in pairs:
            if not isinstance(k, str) or not k:
                raise StreamIdError(f"meta-data key of stream {name!r} must be non-empty text, got {k!r}")
            if not isinstance(v, _META_VALUE_TYPES):
                raise StreamIdError(f"meta-data value {k}={v!r} of stream {name!r} must be text or a number")
            if k in seen:
                raise StreamIdError(f"meta-data key {k!r} appears twice in stream {name!r}")
            seen.add(k)
            clean.append((k, str(v)))
        self.name = name
        self.meta_data = tuple(clean)
        self._key = key = (name, tuple(sorted(clean)))
        self._hash = hash(key)          # ids are looked up in sets and dicts far more often than made
        self._text = self._str = None   # key and str(), made on first use (an id never changes)

    @classmethod
    def _stored(cls, name: str, pairs) -> "StreamId":
        """The id a store wrote from a checked StreamId (``pairs``: its ``[key, text]`` pairs in their order)."""
        obj = cls.__new__(cls)
        obj.name = name
        obj.meta_data = meta = tuple(map(tuple, pairs))
        obj._key = key = (name, tuple(sorted(meta)))
        obj._hash = hash(key)
        obj._text = obj._str = None
        return obj

    @classmethod
    def _many(cls, name: str, values) -> list | None:
        """Ids of ``name`` with each of ``values`` (tuples of ``(key, value)`` text pairs: a workflow node's plate
        values), their :attr:`key` made at once -- naming the 135,000 streams of a 100-home workflow costs a few
        microseconds each. None when a pair is not non-empty text or a key repeats (then make them one by one)."""
        name = cls(name).name   # checks the name
        enc = _encode_text
        head = "[" + enc(name) + ",["
        keys: dict = {}         # key -> its '["key",'
        out = []
        new = cls.__new__
        for pv in values:
            if type(pv) is not tuple:
                return None
            srt = tuple(sorted(pv))
            parts = []
            for p in srt:
                if type(p) is not tuple or len(p) != 2:
                    return None
                k, v = p
                if type(k) is not str or not k or type(v) is not str:
                    return None
                kt = keys.get(k)
                if kt is None:
                    kt = keys[k] = "[" + enc(k) + ","
                parts.append(kt + enc(v) + "]")
            if len(srt) > 1 and len(dict(srt)) != len(srt):
                return None
            obj = new(cls)
            obj.name = name
            obj.meta_data = pv
            obj._key = key = (name, srt)
            obj._hash = hash(key)
            obj._text = head + ",".join(parts) + "]]"
            obj._str = None
            out.append(obj)
        return out

    def __reduce__(self):
        # made afresh where it is unpickled: the hash of text differs between processes (PYTHONHASHSEED), so the
        # cached hash must never travel to a worker
        return StreamId._stored, (self.name, self.meta_data)

    @property
    def key(self) -> str:
        """Canonical text form (sorted meta-data): the primary key in the embedded store."""
        text = self._text
        if text is None:
            text = self._text = _KEY_JSON(self._key)   # [name, [[k, v], ...]]: tuples are written as lists
        return text

    @classmethod
    def from_key(cls, key: str) -> "StreamId":
        name, meta = json.loads(key)
        return cls(name, [tuple(p) for p in meta])

    def as_dict(self) -> dict:
        return {"name": self.name, "meta_data": dict(self.meta_data)}

    def as_raw(self) -> dict:
        """MongoDB form, as HyperStream writes it: ``{name, meta_data: [[k, v], ...]}``."""
        return {"name": self.name, "meta_data": [[k, v] for k, v in self.meta_data]}

    def __eq__(self, other):
        return isinstance(other, StreamId) and self._key == other._key

    def __hash__(self):
        return self._hash

    def __lt__(self, other):
        return self._key < other._key

    def holds(self, meta) -> bool:
        """Whether its meta-data hold every (key, value) pair of ``meta`` (and any others; values compared as
        text)."""
        have = dict(self.meta_data)
        return all(have.get(k) == str(v) for k, v in meta)

    def __repr__(self):
        return f"StreamId(name={self.name!r}, meta_data={dict(self.meta_data)!r})"

    def __str__(self):
        text = self._str
        if text is None:
            name = _quoted(self.name, ':[]"')
            if not self.meta_data:
                text = name
            else:
                items = (_quoted(k, _META_SPECIALS) + "=" + _quoted(v, _META_SPECIALS) for k, v in self.meta_data)
                text = name + ": [" + ", ".join(items) + "]"
            self._str = text
        return text


_META_SPECIALS = ',=[]"'
#: the store key's JSON (one encoder made once: ``json.dumps`` with separators makes one per call)
_KEY_JSON = json.JSONEncoder(separators=(",", ":")).encode
_encode_text = json.encoder.encode_basestring_ascii   # one JSON string as json.dumps writes it


def _quoted(text: str, specials: str) -> str:
    """``text`` as is, or JSON-quoted when it holds a character the text form uses as syntax."""
    if not text or text != text.strip() or any(c in specials for c in text):
        return json.dumps(text, ensure_ascii=False)
    return text


_DECODER = json.JSONDecoder()


def _read_token(text: str, i: int, stops: str) -> tuple[str, int]:
    while i < len(text) and text[i].isspace():
        i += 1
    if i < len(text) and text[i] == '"':
        value, end = _DECODER.raw_decode(text, i)
        return value, end
    j = i
    while j < len(text) and text[j] not in stops:
        j += 1
    return text[i:j].strip(), j


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _parse_stream_id_text(text: str) -> StreamId:
    bad = StreamIdError(f"cannot read stream id from {text!r}: use 'name' or 'name: [key=value, ...]'")
    try:
        name, i = _read_token(text, 0, ":")
        i = _skip_space(text, i)
        meta = []
        if i < len(text):
            if text[i] != ":":
                raise bad
            i = _skip_space(text, i + 1)
            if i >= len(text) or text[i] != "[":
                raise bad
            i += 1
            while True:
                i = _skip_space(text, i)
                if i < len(text) and text[i] == "]" and not meta:
                    break
                key, i = _read_token(text, i, "=,]")
                if i >= len(text) or text[i] != "=":
                    raise StreamIdError(f"meta-data item {key!r} in {text!r} is not key=value")
                value, i = _read_token(text, i + 1, ",]")
                meta.append((key, value))
                i = _skip_space(text, i)
                if i < len(text) and text[i] == ",":
                    i += 1
                    continue
                if i < len(text) and text[i] == "]":
                    break
                raise bad
            if _skip_space(text, i + 1) != len(text):
                raise bad
    except ValueError as e:
        if isinstance(e, StreamIdError):
            raise
        raise bad from None
    return StreamId(name, meta)


def get_stream_id(item) -> StreamId:
    """A StreamId from a StreamId, a ``str()`` form (``name: [k=v, ...]``) or a dict."""
    if isinstance(item, StreamId):
        return item
    if isinstance(item, str):
        return _parse_stream_id_text(item)
    if isinstance(item, dict):
        if "name" not in item:
            raise StreamIdError(f"stream id dict {item!r} has no 'name'")
        return StreamId(item["name"], item.get("meta_data") or None)
    raise StreamIdError(f"cannot read a stream id from {type(item).__name__} {item!r}")


class StreamInstance(namedtuple("StreamInstance", "timestamp value")):
    """One (timestamp, value) pair. The timestamp is aware UTC, ms precision, not in the future.

    Stores build instances from trusted data with ``StreamInstance._make``,
    which skips the checks. ``StreamInstance(...)`` runs the optional C accelerator when it is compiled
    (``SPEEDUPS`` below): the same results and errors, faster.
    """

    __slots__ = ()

    def __new__(cls, timestamp, value):
        global _past
        # fast path: already aware UTC, whole ms, and not after a time known to be past (no clock read); the C
        # accelerator (channels/_speedups.c, stream_instance_call) makes this same test: change both together
        if (timestamp.__class__ is datetime and timestamp.tzinfo is UTC and timestamp <= _past
                and not timestamp.microsecond % 1000):
            return _tuple_new(cls, (timestamp, value))
        ts = ensure_utc(timestamp, "instance timestamp")
        now = utcnow()
        if ts > now:
            raise TimeError(f"instance timestamp {ts.isoformat()} is in the future")
        _past = now
        return _tuple_new(cls, (ts, value))


#: a time that has passed (the last "now" a StreamInstance was checked against); only ever moves forward
_past = MIN_DATE
_tuple_new = tuple.__new__


def _load_speedups():
    """The optional C accelerator (channels/_speedups.c), or None: not compiled, or HSGUI_NO_SPEEDUPS=1."""
    if os.environ.get("HSGUI_NO_SPEEDUPS", "") not in ("", "0"):
        return None
    try:   # a compiled module, unknown to the import graph tests/test_import_cycles.py reads
        return importlib.import_module("._speedups", __package__)
    except ImportError:
        return None


# Calls of exactly StreamInstance take the C accelerator's copy of the fast path above when it is compiled; it
# reads _past from this module and leaves everything else (and every subclass) to __new__, so the rules stay here.
_speedups = _load_speedups()
if _speedups is not None:
    _speedups.install(StreamInstance, UTC, globals())
#: True when StreamInstance(...) runs the C accelerator (pure Python otherwise: same results, slower)
SPEEDUPS = _speedups is not None


class StreamMetaInstance(namedtuple("StreamMetaInstance", "stream_instance meta_data")):
    """A StreamInstance tagged with meta-data (used by splitting tools)."""

    __slots__ = ()


def as_interval(time_interval) -> TimeInterval:
    """A TimeInterval from a TimeInterval, a RelativeTimeInterval (relative to now), a (start, end) pair
    (see ``parse_time_tuple``), or None (all time)."""
    if time_interval is None:
        return TimeInterval.all_time()
    if isinstance(time_interval, TimeInterval):
        return time_interval
    if isinstance(time_interval, RelativeTimeInterval):
        return time_interval.absolute(utcnow())
    if isinstance(time_interval, (tuple, list)) and len(time_interval) == 2:
        iv = parse_time_tuple(*time_interval)
        return iv.absolute(utcnow()) if isinstance(iv, RelativeTimeInterval) else iv
    raise TimeError(f"cannot use {time_interval!r} as a time interval")


class Stream:
    """A stream of a channel: id, calculated intervals, and access to its data."""

    def __init__(self, channel, stream_id: StreamId, calculated_intervals=None, sandbox=None, stream_type=None,
                 last_updated: datetime | None = None):
        self.channel = channel
        self.stream_id = get_stream_id(stream_id)
        self.sandbox = sandbox
        self.stream_type = stream_type
        self.last_updated = last_updated
        self._calculated_intervals = TimeIntervals(calculated_intervals)

    @property
    def calculated_intervals(self) -> TimeIntervals:
        return self._calculated_intervals

    @calculated_intervals.setter
    def calculated_intervals(self, value):
        self._calculated_intervals = TimeIntervals(value)
        self.last_updated = utcnow()
        self.channel.calculated_intervals_changed(self)

    def set_calculated_intervals_silently(self, value):
        """Set without notifying the channel (the channel itself has already persisted them)."""
        self._calculated_intervals = TimeIntervals(value)

    @property
    def name(self) -> str:
        return self.stream_id.name

    def window(self, time_interval=None, force_calculation: bool = False) -> "StreamView":
        """A view of ``time_interval`` (a TimeInterval, a RelativeTimeInterval relative to now, or a
        ``(start, end)`` pair). Without one: the last calculated interval, as in HyperStream; all time when
        nothing has been calculated (HyperStream raises then)."""
        if time_interval is None and self._calculated_intervals:
            time_interval = self._calculated_intervals[-1]
        return StreamView(self, as_interval(time_interval), force_calculation)

    @property
    def writer(self):
        return self.channel.get_stream_writer(self)

    def purge(self):
        self.channel.purge_stream(self.stream_id)

    def __eq__(self, other):
        return isinstance(other, Stream) and self.channel is other.channel and self.stream_id == other.stream_id

    def __hash__(self):
        return hash((id(self.channel), self.stream_id))

    def __repr__(self):
        return f"Stream(channel={self.channel.channel_id!r}, stream_id={self.stream_id!r})"

    __str__ = lambda self: f"{self.channel.channel_id}/{self.stream_id}"


class StreamView:
    """The instances of a stream in ``(start, end]``, read lazily through the channel."""

    def __init__(self, stream: Stream, time_interval: TimeInterval, force_calculation: bool = False):
        self.stream = stream
        self.time_interval = time_interval
        self.force_calculation = force_calculation

    def __iter__(self) -> Iterator[StreamInstance]:
        return iter(self.stream.channel.get_results(self.stream, self.time_interval))

    iteritems = __iter__

    def items(self) -> list[StreamInstance]:
        return list(self)

    def first(self, default=None):
        return self.stream.channel.first_instance(self.stream, self.time_interval) or default

    def last(self, default=None):
        return self.stream.channel.last_instance(self.stream, self.time_interval) or default

    def head(self, n: int) -> list[StreamInstance]:
        return list(itertools.islice(self, n))

    def tail(self, n: int) -> list[StreamInstance]:
        from collections import deque
        return list(deque(self, maxlen=n))

    def islice(self, start, stop=None, step=None):
        return itertools.islice(self, start, stop, step)

    def timestamps(self) -> list[datetime]:
        return [i.timestamp for i in self]

    def values(self) -> list:
        return [i.value for i in self]

    def itertimestamps(self) -> Iterator[datetime]:
        return (i.timestamp for i in self)

    def itervalues(self) -> Iterator:
        return (i.value for i in self)

    def component(self, key) -> Iterator[StreamInstance]:
        """Instances whose dict value has ``key``, with the value replaced by ``value[key]``."""
        for ts, v in self:
            if isinstance(v, dict) and key in v:
                yield StreamInstance._make((ts, v[key]))

    def component_filter(self, key, values) -> Iterator[StreamInstance]:
        """Instances whose dict value has ``key`` with a value in ``values``."""
        allowed = set(values)
        for inst in self:
            v = inst.value
            if isinstance(v, dict) and v.get(key) in allowed:
                yield inst

    def delete_nones(self) -> Iterator[StreamInstance]:
        return (i for i in self if i.value is not None)

    def dict_iteritems(self, flat: bool = True) -> Iterator[dict]:
        return ({"timestamp": ts, "value": v} for ts, v in self)

    def dict_items(self, flat: bool = True) -> list[dict]:
        return list(self.dict_iteritems(flat))

    # -- fast paths (channels override the underlying methods) -------------
    def count(self) -> int:
        return self.stream.channel.count_instances(self.stream, self.time_interval)

    def columns(self, component=None):
        """``(epoch_ms int64, values float64)`` numpy arrays of the numeric instances."""
        return self.stream.channel.get_columns(self.stream, self.time_interval, component)

    def summary(self, buckets: int, component=None):
        """A :class:`channels.lod.Summary` of the view in ``buckets`` equal buckets."""
        return self.stream.channel.get_summary(self.stream, self.time_interval, buckets, component)

    def __len__(self):
        return self.count()

    def __repr__(self):
        return f"StreamView({self.stream!r}, {self.time_interval})"

    # -- notebooks (optional extra ``notebook``: pandas, pyarrow) -----------
    def _table(self):
        items = self.items()
        values = [i.value for i in items]
        if values and all(isinstance(v, dict) for v in values):
            keys = list(dict.fromkeys(k for v in values for k in v))
            return [i.timestamp for i in items], {str(k): [v.get(k) for v in values] for k in keys}
        return [i.timestamp for i in items], {"value": values}

    def to_pandas(self):
        """A pandas DataFrame: UTC ``timestamp`` index; a ``value`` column, or one column per key of dict values."""
        pd = _optional("pandas", "to_pandas")
        ts, cols = self._table()
        return pd.DataFrame(cols, index=pd.DatetimeIndex(ts, name="timestamp"))

    def to_arrow(self):
        """A pyarrow Table: ``timestamp`` (ms, UTC) and the columns of :meth:`to_pandas`."""
        pa = _optional("pyarrow", "to_arrow")
        ts, cols = self._table()
        return pa.table({"timestamp": pa.array(ts, type=pa.timestamp("ms", tz="UTC")), **cols})


def _optional(module: str, method: str):
    try:
        return __import__(module)
    except ImportError:
        raise ImportError(f"StreamView.{method}() needs {module}: pip install 'hyperstream-studio[notebook]' "
                          f"(or pip install {module})") from None


class StreamDict(dict):
    """``StreamId -> Stream``; also looked up by the text or dict form of an id."""

    def _k(self, key):
        return key if isinstance(key, StreamId) else get_stream_id(key)

    def __getitem__(self, key):
        return dict.__getitem__(self, self._k(key))

    def __setitem__(self, key, value):
        if not isinstance(value, Stream):
            raise TypeError(f"StreamDict values must be Stream, got {type(value).__name__}")
        dict.__setitem__(self, self._k(key), value)

    def __contains__(self, key):
        try:
            return dict.__contains__(self, self._k(key))
        except StreamIdError:
            return False

    def get(self, key, default=None):
        try:
            return dict.get(self, self._k(key), default)
        except StreamIdError:
            return default

    def __delitem__(self, key):
        dict.__delitem__(self, self._k(key))

    def pop(self, key, *default):
        return dict.pop(self, self._k(key), *default)


__all__ = ["StreamId", "get_stream_id", "as_interval", "StreamInstance", "StreamMetaInstance", "Stream", "StreamView",
           "StreamDict", "MIN_DATE", "MAX_DATE", "UTC"]
