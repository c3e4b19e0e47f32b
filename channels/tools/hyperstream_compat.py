"""Let plugin tool files written for HyperStream import unchanged.

``with hyperstream_names(): ...`` — while the block runs, and only when the
real ``hyperstream`` package is not importable, light-weight modules
``hyperstream``, ``hyperstream.tool``, ``hyperstream.stream``,
``hyperstream.utils`` (+ ``hyperstream.utils.time_utils``, ``.errors``),
``hyperstream.time_interval`` and ``hyperstream.channels`` stand in
``sys.modules``, mapping HyperStream's names onto this package's classes.
Afterwards ``sys.modules`` is restored exactly (entries that existed before
get their old value back; the others are removed). Nested use is fine.

What a plugin file binds at import (``from hyperstream.tool import Tool``)
stays bound, so its classes keep working after the block.

Not provided: plates, workflows, the HyperStream session object and the
plate-based ``MultiOutputTool._execute(source, splitting_stream, interval,
meta_data_id, output_plate_values)`` signature; a multi-output plugin must
yield StreamMetaInstances from ``_execute(sources, alignment_stream, interval)``.

``channels.tools`` installs this as ``ToolChannel.import_hook`` when imported.
"""
from __future__ import annotations

import importlib.util
import sys
import threading
import types
from contextlib import contextmanager

_lock = threading.RLock()
_depth = 0
_saved: dict | None = None
_MISSING = object()

MODULE_NAMES = ("hyperstream", "hyperstream.tool", "hyperstream.stream", "hyperstream.utils",
                "hyperstream.utils.time_utils", "hyperstream.utils.errors", "hyperstream.utils.decorators",
                "hyperstream.utils.containers", "hyperstream.time_interval", "hyperstream.channels")


def real_hyperstream_available() -> bool:
    """True when a real ``hyperstream`` package can be imported (then no fakes are installed)."""
    mod = sys.modules.get("hyperstream")
    if mod is not None:
        return not getattr(mod, "__hyperstream_studio_fake__", False)
    try:
        return importlib.util.find_spec("hyperstream") is not None
    except (ImportError, ValueError):
        return False


class Printable:
    """Stub of HyperStream's ``Printable`` mix-in (repr from the instance's public attributes)."""

    def __repr__(self):
        attrs = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({attrs})"

    __str__ = __repr__


class Hashable:
    """Stub of HyperStream's ``Hashable`` mix-in."""

    def __hash__(self):
        return hash(repr(self))


def _passthrough_decorator(*args, **_kwargs):
    """HyperStream's ``timeit`` / ``check_output_format(...)`` / ``check_tool_defined``: no-ops here."""
    if len(args) == 1 and callable(args[0]) and not _kwargs:
        return args[0]
    return lambda func: func


class StreamNotAvailableError(Exception):
    def __init__(self, up_to_timestamp=None):
        super().__init__(f"stream not available after {up_to_timestamp}")


def _build_modules() -> dict[str, types.ModuleType]:
    from .. import base_channel, errors, memory_channel, stream, time_interval, utils
    from . import engine, functions

    def module(name, doc, **attrs):
        m = types.ModuleType(name, doc)
        m.__hyperstream_studio_fake__ = True
        m.__dict__.update(attrs)
        return m

    def _reconstruct_interval(experiment_id):
        """``"<start ms>-<end ms>"`` -> TimeInterval (HyperStream's experiment-id form)."""
        start, end = str(experiment_id).split("-")
        return time_interval.TimeInterval(utils.from_ms(int(start)), utils.from_ms(int(end)))

    def _experiment_id(interval):
        return f"{utils.to_ms(interval.start)}-{utils.to_ms(interval.end)}"

    def _duration2str(x):
        minutes, seconds = divmod(x.total_seconds(), 60)
        return f"{int(minutes)} min {int(seconds)} sec"

    time_names = dict(MIN_DATE=utils.MIN_DATE, MAX_DATE=utils.MAX_DATE, UTC=utils.UTC, utcnow=utils.utcnow,
                      get_timedelta=utils.get_timedelta, parse_time_tuple=time_interval.parse_time_tuple,
                      unix_time_miliseconds=lambda dt: utils.to_ms(dt), unix_time_milliseconds=utils.to_ms,
                      datetime_from_ms=utils.from_ms,
                      unix2datetime=lambda u: utils.from_ms(round(u)),           # HyperStream: u in ms
                      datetime2unix=lambda dt: utils.to_ms(dt) / 1000.0,         # HyperStream: seconds
                      construct_experiment_id=_experiment_id, duration2str=_duration2str)
    error_names = dict(StreamNotAvailableError=StreamNotAvailableError,
                       IncorrectToolError=errors.ToolInitialisationError,
                       ToolExecutionError=errors.ToolExecutionError, ToolNotFoundError=errors.ToolNotFoundError,
                       StreamNotFoundError=errors.StreamNotFoundError,
                       StreamAlreadyExistsError=errors.StreamAlreadyExistsError,
                       ChannelNotFoundError=errors.ChannelNotFoundError,
                       ChannelAlreadyExistsError=errors.ChannelAlreadyExistsError,
                       MultipleStreamsFoundError=errors.MultipleStreamsFoundError,
                       ToolInitialisationError=errors.ToolInitialisationError,
                       IncompatibleToolError=errors.ToolInitialisationError,
                       ConfigurationError=errors.ConfigError)
    ti = dict(TimeInterval=time_interval.TimeInterval, TimeIntervals=time_interval.TimeIntervals,
              RelativeTimeInterval=time_interval.RelativeTimeInterval,
              parse_time_tuple=time_interval.parse_time_tuple, MIN_DATE=utils.MIN_DATE, MAX_DATE=utils.MAX_DATE)
    st = dict(StreamInstance=stream.StreamInstance, StreamMetaInstance=stream.StreamMetaInstance,
              StreamId=stream.StreamId, Stream=stream.Stream, StreamView=stream.StreamView,
              StreamDict=stream.StreamDict, get_stream_id=stream.get_stream_id)
    # HyperStream tools may align their output on ``interval.start`` (its own sliding_window does), so a
    # plugin tool runs each missing interval as one piece unless a chunk length is asked for explicitly.
    tl = {name: type(name, (getattr(engine, name),), {"chunkable": False, "__module__": "hyperstream.tool"})
          for name in ("Tool", "MultiOutputTool", "AggregateTool", "SelectorTool")}
    tl["check_input_stream_count"] = engine.check_input_stream_count
    decorator_names = dict(timeit=_passthrough_decorator, check_output_format=_passthrough_decorator,
                           check_tool_defined=_passthrough_decorator,
                           check_input_stream_count=engine.check_input_stream_count)

    time_utils = module("hyperstream.utils.time_utils", "HyperStream Studio stand-in", **time_names)
    errs = module("hyperstream.utils.errors", "HyperStream Studio stand-in", **error_names)
    decorators = module("hyperstream.utils.decorators", "HyperStream Studio stand-in", **decorator_names)
    containers = module("hyperstream.utils.containers", "HyperStream Studio stand-in", Printable=Printable,
                        Hashable=Hashable)
    hs_utils = module("hyperstream.utils", "HyperStream Studio stand-in", Printable=Printable, Hashable=Hashable,
                      camel_to_snake=engine.camel_to_snake, time_utils=time_utils, errors=errs,
                      decorators=decorators, containers=containers,
                      reconstruct_interval=_reconstruct_interval, **{**time_names, **error_names, **decorator_names})
    hs_utils.__path__ = []
    hs_ti = module("hyperstream.time_interval", "HyperStream Studio stand-in", **ti)
    hs_stream = module("hyperstream.stream", "HyperStream Studio stand-in", **st)
    hs_tool = module("hyperstream.tool", "HyperStream Studio stand-in", **tl)
    hs_channels = module("hyperstream.channels", "HyperStream Studio stand-in", BaseChannel=base_channel.BaseChannel,
                         MemoryChannel=memory_channel.MemoryChannel,
                         ReadOnlyMemoryChannel=memory_channel.ReadOnlyMemoryChannel)
    hs_channels.__path__ = []
    root_names = dict(time_names)
    root_names.update(ti)
    root_names.update(st)
    root_names.update(tl)
    root = module("hyperstream", "HyperStream Studio stand-in for HyperStream's public names",
                  tool=hs_tool, stream=hs_stream, utils=hs_utils, time_interval=hs_ti, channels=hs_channels,
                  functions=functions, **root_names)
    root.__path__ = []
    root.__version__ = "0.3.8-hyperstream-studio"
    return {"hyperstream": root, "hyperstream.tool": hs_tool, "hyperstream.stream": hs_stream,
            "hyperstream.utils": hs_utils, "hyperstream.utils.time_utils": time_utils,
            "hyperstream.utils.errors": errs, "hyperstream.utils.decorators": decorators,
            "hyperstream.utils.containers": containers, "hyperstream.time_interval": hs_ti,
            "hyperstream.channels": hs_channels}


@contextmanager
def hyperstream_names():
    """Provide ``hyperstream.*`` names while the block runs (unless the real package is importable)."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            if real_hyperstream_available():
                _saved = None
            else:
                fakes = _build_modules()
                _saved = {name: sys.modules.get(name, _MISSING) for name in sys.modules
                          if name == "hyperstream" or name.startswith("hyperstream.")}
                _saved.update({name: sys.modules.get(name, _MISSING) for name in fakes})
                sys.modules.update(fakes)
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                for name, old in _saved.items():
                    if old is _MISSING:
                        sys.modules.pop(name, None)
                    else:
                        sys.modules[name] = old
                # sub-modules a plugin imported from the fakes' namespace, e.g. hyperstream.foo (failed or not)
                for name in [n for n in sys.modules if n == "hyperstream" or n.startswith("hyperstream.")]:
                    if name not in _saved:
                        sys.modules.pop(name, None)
                _saved = None


__all__ = ["hyperstream_names", "real_hyperstream_available", "MODULE_NAMES", "Printable", "Hashable"]
