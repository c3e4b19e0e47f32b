"""The HyperStream-flavoured classes and helpers behind the ``hyperstream.*`` stand-in.

Code written for HyperStream (plugin tools, scripts) gets these through
:mod:`channels.hyperstream.compat`. They differ from the ``channels``
classes only where HyperStream does:

* naive datetimes mean UTC (``TimeInterval``, ``StreamInstance``, the interval a
  tool is handed and the timestamps it yields); ``channels`` itself refuses them;
* ``RelativeTimeInterval.start`` / ``.end`` are seconds (floats);
* the tool bases run each missing interval in one piece (HyperStream tools may
  align on the interval start), drop instances outside the interval asked for
  (HyperStream writes them; we keep calculated intervals true and count them in
  the run record), and take HyperStream's plate-style signatures
  (:mod:`channels.tools.plates`);
* ``histogram`` / ``percentile`` compute what HyperStream's ``hyperstream.utils`` do.

Names of HyperStream's session, plates and workflows exist so that files import,
and raise :class:`NotSupportedError` when used.
"""
from __future__ import annotations

import math
import os
from datetime import datetime

from .. import stream as _stream
from .. import time_interval as _ti
from ..errors import ChannelsError
from ..utils import UTC
from ..tools import engine, plates


class NotSupportedError(ChannelsError, NotImplementedError):
    """A HyperStream feature this re-implementation does not offer (yet)."""


def as_utc(dt):
    """A naive datetime read as UTC (HyperStream's rule); anything else unchanged."""
    if isinstance(dt, datetime) and (dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None):
        return dt.replace(tzinfo=UTC)
    return dt


def is_naive(dt) -> bool:
    return dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None


def remove_microseconds(ts: datetime) -> datetime:
    """``ts`` truncated to milliseconds, in UTC (naive read as UTC)."""
    ts = as_utc(ts).astimezone(UTC)
    return ts.replace(microsecond=ts.microsecond - ts.microsecond % 1000)


class _SameAs(type):
    """Metaclass of the stand-in classes: ``isinstance(x, hyperstream.TimeInterval)`` is true for every
    ``channels`` TimeInterval too (tools check the values they read, which our channels made)."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, cls.__dict__.get("_same_as", cls.__mro__[1]))

    def __subclasscheck__(cls, sub):
        return issubclass(sub, cls.__dict__.get("_same_as", cls.__mro__[1]))


# -- time intervals ------------------------------------------------------------------------------------------
class TimeInterval(_ti.TimeInterval, metaclass=_SameAs):
    """HyperStream's TimeInterval: naive ends are UTC; ``start`` / ``end`` may be assigned."""

    __slots__ = ()

    def __init__(self, start, end):
        super().__init__(as_utc(start), as_utc(end))

    @property
    def start(self):
        return self._start

    @start.setter
    def start(self, value):
        _ti.TimeInterval.__init__(self, as_utc(value), self._end)

    @property
    def end(self):
        return self._end

    @end.setter
    def end(self, value):
        _ti.TimeInterval.__init__(self, self._start, as_utc(value))


class RelativeTimeInterval(_ti.RelativeTimeInterval, metaclass=_SameAs):
    """HyperStream's RelativeTimeInterval: ``start`` / ``end`` are offsets in seconds."""

    __slots__ = ()

    start = property(lambda self: self._start.total_seconds())
    end = property(lambda self: self._end.total_seconds())

    def absolute(self, reference):
        return super().absolute(as_utc(reference))


class TimeIntervals(_ti.TimeIntervals, metaclass=_SameAs):
    """HyperStream's TimeIntervals (pieces given as TimeIntervals or (start, end) pairs; naive means UTC)."""

    __slots__ = ()

    def __init__(self, intervals=None):
        items = []
        for v in intervals or ():
            if isinstance(v, (tuple, list)) and len(v) == 2:
                v = parse_time_tuple(*v)
            items.append(v)
        super().__init__(items)


def parse_time_tuple(start, end):
    """HyperStream's parse_time_tuple: naive datetimes are UTC; relative pairs give our RelativeTimeInterval."""
    iv = _ti.parse_time_tuple(as_utc(start), as_utc(end))
    if isinstance(iv, _ti.RelativeTimeInterval):
        return RelativeTimeInterval(iv._start, iv._end)
    return TimeInterval(iv.start, iv.end)


class _WorkInterval(TimeInterval):
    """The interval handed to a HyperStream tool's ``_execute``: a private copy; assigning naive ends means UTC."""

    __slots__ = ()
    _same_as = TimeInterval


# -- streams -------------------------------------------------------------------------------------------------
class StreamInstance(_stream.StreamInstance, metaclass=_SameAs):
    """HyperStream's StreamInstance: a naive timestamp is UTC."""

    __slots__ = ()

    def __new__(cls, timestamp, value):
        return _stream.StreamInstance.__new__(cls, as_utc(timestamp), value)


class StreamMetaInstance(_stream.StreamMetaInstance, metaclass=_SameAs):
    __slots__ = ()


class _AssetStreamType(type):
    def __instancecheck__(cls, obj):
        from ..assets_channel import AssetsChannel
        from ..assets_file_channel import AssetsFileChannel
        return isinstance(obj, _stream.Stream) and isinstance(getattr(obj, "channel", None),
                                                               (AssetsChannel, AssetsFileChannel))


class AssetStream(_stream.Stream, metaclass=_AssetStreamType):
    """``isinstance(s, AssetStream)`` is true for the streams of an assets channel (HyperStream's AssetStream)."""


#: HyperStream's DatabaseStream is a Stream of a database channel; every Stream here reads through its channel
DatabaseStream = _stream.Stream


class FrozenKeyDict(dict):
    """A dict whose keys, once set, keep their value: setting a different one raises KeyError
    (dict values are merged key by key, as HyperStream does)."""

    def __setitem__(self, key, value):
        if key in self:
            old = self[key]
            if isinstance(old, dict) and isinstance(value, dict):
                for k, v in value.items():
                    if k in old and old[k] != v:
                        raise KeyError(f"key {key} has already been set with value {old}, new value {value}")
                    old[k] = v
                return
            if old != value:
                raise KeyError(f"key {key} has already been set with value {old}, new value {value}")
            return
        dict.__setitem__(self, key, value)


class StreamInstanceCollection(FrozenKeyDict):
    """timestamp -> value, refusing a second, different value for a timestamp (HyperStream's collection)."""

    def append(self, instance):
        if not isinstance(instance, _stream.StreamInstance):
            raise ValueError(f"expected StreamInstance, got {type(instance).__name__}")
        self[instance.timestamp] = instance.value  # KeyError for a second, different value (as HyperStream)

    def extend(self, instances):
        for instance in instances:
            self.append(instance)


# -- tools ---------------------------------------------------------------------------------------------------
def _fix_item(item):
    """A yielded item with naive timestamps read as UTC."""
    if isinstance(item, _stream.StreamMetaInstance):
        inner = _fix_item(item.stream_instance)
        return item if inner is item.stream_instance else _stream.StreamMetaInstance(inner, item.meta_data)
    if isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], datetime) and is_naive(item[0]):
        return _stream.StreamInstance(as_utc(item[0]), item[1])
    return item


class _HyperStreamTool:
    """Mix-in of the stand-in tool bases: one piece per missing interval, drop (and count) instances outside
    it, naive datetimes are UTC."""

    chunkable = False
    out_of_interval = "drop"

    def _produce(self, sources, alignment_stream, interval):
        work = _WorkInterval(interval.start, interval.end)
        produced = super()._produce(sources, alignment_stream, work)
        return (_fix_item(item) for item in produced or ())


def _tool_class(name, base, **members):
    return type(name, (_HyperStreamTool, base), {"__module__": "hyperstream.tool",
                                                 "__doc__": f"HyperStream's {name} (see channels.hyperstream.names).",
                                                 **members})


def _aggregate_init(self, aggregation_meta_data, **kwargs):
    engine.Tool.__init__(self, aggregation_meta_data=aggregation_meta_data, **kwargs)


Tool = _tool_class("Tool", engine.Tool)
BaseTool = Tool
AggregateTool = _tool_class("AggregateTool", engine.AggregateTool, __init__=_aggregate_init)
MultiOutputTool = _tool_class("MultiOutputTool", plates.MultiOutputTool)
SelectorTool = _tool_class("SelectorTool", plates.SelectorTool)
PlateCreationTool = type("PlateCreationTool", (plates.PlateCreationTool,), {"__module__": "hyperstream.tool",
                                                                           "chunkable": False})


# -- statistics (hyperstream.utils) --------------------------------------------------------------------------
def _flatten(a):
    out = []
    for x in a:
        if isinstance(x, (list, tuple)):
            out.extend(_flatten(x))
        else:
            out.append(x)
    return out


def percentile(a, q):
    """The ``q``-th percentile(s) (0..100, a number or a list) of the flattened data ``a``, linearly
    interpolated; None for no data; a list when ``q`` is a list (HyperStream's ``percentile``)."""
    if isinstance(a, (int, float)):
        a = [a]
    if not a:
        return None
    if isinstance(q, (int, float)):
        qs = [q]
    elif isinstance(q, (tuple, list)):
        qs = list(q)
    else:
        raise ValueError(f"quantile type {type(q).__name__} not understood")
    if any(x < 0 or x > 100 for x in qs):
        raise ValueError("percentiles must be in the range [0, 100]")
    data = sorted(_flatten(a))
    out = []
    for x in qs:
        k = (len(data) - 1) * x / 100.0
        lo, hi = math.floor(k), math.ceil(k)
        out.append(float(data[int(k)]) if lo == hi else float(data[lo] * (hi - k) + data[hi] * (k - lo)))
    return out[0] if len(out) == 1 else out


def histogram(a, bins):
    """``(counts, bins)`` as HyperStream 0.3.8's ``histogram`` computes them: for edges b0 < b1 < ... < bn,
    counts[i] = #{b_i < x <= b_{i+1}} for i < n-2 and the last count is #{x >= b1} - #{x <= b_{n-1}}
    (HyperStream's formula, kept so results match; a single value is one datum)."""
    bins = list(bins)
    if any(b1 < b0 for b0, b1 in zip(bins, bins[1:])):
        raise ValueError("bins must increase monotonically.")
    try:
        data = sorted(a)
    except TypeError:
        data = [a]
    at_most = [sum(1 for x in data if x <= b) for b in bins[:-1]]
    tail = sum(1 for x in data if x >= bins[1]) if len(bins) > 1 else 0
    points = at_most + [tail]
    return [b - a_ for a_, b in zip(points, points[1:])], bins


# -- misc helpers (hyperstream.utils) ------------------------------------------------------------------------
def snake_to_camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def touch(full_name, times=None):
    with open(full_name, "a"):
        os.utime(full_name, times)


def handle_exception(exc_type, exc_value, exc_traceback):
    import logging
    logging.getLogger("hyperstream").error("uncaught exception", exc_info=(exc_type, exc_value, exc_traceback))


def _refuse_code(*_args, **_kwargs):
    raise NotSupportedError("func_dump/func_load (HyperStream's marshalled functions) are not supported: loading "
                            "code from data would run it; give the function by name instead")


func_dump = func_load = _refuse_code


def not_supported(name: str, what: str):
    """A class that imports fine and raises NotSupportedError naming ``what`` when used."""

    def __init__(self, *args, **kwargs):
        raise NotSupportedError(f"hyperstream.{name}: {what} are not supported by HyperStream Studio yet "
                                f"(run tools directly: tool.execute(sources, sink, interval))")

    return type(name, (), {"__init__": __init__, "__module__": "hyperstream",
                           "__doc__": f"Placeholder: {what} are not supported yet."})


UNSUPPORTED = {
    "HyperStream": "the HyperStream session object", "Client": "HyperStream's MongoDB client",
    "HyperStreamConfig": "HyperStream's config object (use channels.Config)", "OnlineEngine": "the online engine",
    "PlateManager": "plates", "Workflow": "workflows", "WorkflowManager": "workflows",
    "MetaDataTree": "meta-data trees (plates)", "HyperStreamLogger": "HyperStream's logger",
    "TypedBiDict": "HyperStream's internal containers", "TypedFrozenKeyDict": "HyperStream's internal containers",
    "ToolContainer": "HyperStream's internal containers", "PluginContainer": "HyperStream's internal containers",
    "PluginWrapper": "HyperStream's internal containers", "FactorContainer": "factors (workflows)",
}


class Singleton(type):
    """HyperStream's singleton metaclass."""

    _instances: dict = {}

    def __call__(cls, *args, **kwargs):
        if cls not in Singleton._instances:
            Singleton._instances[cls] = super().__call__(*args, **kwargs)
        return Singleton._instances[cls]


_ERROR_CLASSES: dict = {}


def error_classes():
    """HyperStream's error names: ours where one exists, otherwise ChannelsError subclasses made once."""
    if not _ERROR_CLASSES:
        _ERROR_CLASSES.update(_make_error_classes())
    return dict(_ERROR_CLASSES)


def _make_error_classes():
    from .. import errors
    ours = dict(StreamNotFoundError=errors.StreamNotFoundError, StreamAlreadyExistsError=errors.StreamAlreadyExistsError,
                ChannelNotFoundError=errors.ChannelNotFoundError,
                ChannelAlreadyExistsError=errors.ChannelAlreadyExistsError,
                MultipleStreamsFoundError=errors.MultipleStreamsFoundError, ToolNotFoundError=errors.ToolNotFoundError,
                ToolInitialisationError=errors.ToolInitialisationError,
                IncompatibleToolError=errors.ToolInitialisationError, ToolExecutionError=errors.ToolExecutionError,
                IncorrectToolError=errors.ToolInitialisationError, ConfigurationError=errors.ConfigError)
    for name in ("StreamDataNotAvailableError", "IncompatiblePlatesError", "PlateEmptyError", "PlateDefinitionError",
                 "PlateNotFoundError", "LinkageError", "FactorAlreadyExistsError", "NodeAlreadyExistsError",
                 "FactorDefinitionError", "NodeDefinitionError"):
        ours[name] = type(name, (ChannelsError,), {"__module__": "hyperstream.utils.errors"})
    return ours


__all__ = ["NotSupportedError", "TimeInterval", "TimeIntervals", "RelativeTimeInterval", "parse_time_tuple",
           "StreamInstance", "StreamMetaInstance", "AssetStream", "DatabaseStream", "StreamInstanceCollection",
           "FrozenKeyDict", "Tool", "BaseTool", "AggregateTool", "MultiOutputTool", "SelectorTool",
           "PlateCreationTool", "histogram", "percentile", "is_naive", "remove_microseconds", "as_utc",
           "snake_to_camel", "touch", "handle_exception", "func_dump", "func_load", "not_supported", "UNSUPPORTED",
           "Singleton", "error_classes"]
