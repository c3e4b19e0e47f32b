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

Every public name of HyperStream 0.3.8's ``hyperstream``, ``hyperstream.utils``,
``hyperstream.stream``, ``hyperstream.tool``, ``hyperstream.time_interval`` and
``hyperstream.channels`` is offered (the classes are in :mod:`channels.hyperstream.names`;
plate-style tools in :mod:`channels.tools.plates`). The session object, plates
and workflows import but raise ``NotSupportedError`` when used.

``import channels`` installs this as the context plugin code loads in (:mod:`channels.plugin_names`).
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
                "hyperstream.utils.containers", "hyperstream.utils.misc", "hyperstream.utils.serialization",
                "hyperstream.utils.statistics", "hyperstream.time_interval", "hyperstream.channels") + tuple(
    "hyperstream.channels." + m for m in ("base_channel", "memory_channel", "tool_channel", "file_channel",
                                          "module_channel", "database_channel", "assets_channel",
                                          "assets_file_channel"))


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


#: names the stand-in offers that live above it (HyperStream's session objects, for a script run on this layer):
#: registered by their own module with :func:`register_name`, so this module never imports them (no import cycle)
_REGISTERED: dict[str, object] = {}


def register_name(name: str, obj) -> None:
    """Offer ``obj`` as ``hyperstream.<name>`` to a script run on this layer
    (:func:`channels.hyperstream.run_script`)."""
    _REGISTERED[name] = obj


def _build_modules(script: bool = False) -> dict[str, types.ModuleType]:
    import collections
    import datetime as _dt

    from .. import base_channel, memory_channel, stream, utils
    from .. import assets_channel, assets_file_channel, database_channel, file_channel, module_channel, tool_channel
    from ..channel_manager import ChannelManager
    from ..tools import engine, functions
    from . import names as hs

    def module(name, doc, **attrs):
        m = types.ModuleType(name, doc)
        m.__hyperstream_studio_fake__ = True
        m.__dict__.update(attrs)
        return m

    def _reconstruct_interval(experiment_id):
        """``"<start ms>-<end ms>"`` -> TimeInterval (HyperStream's experiment-id form)."""
        start, end = str(experiment_id).split("-")
        return hs.TimeInterval(utils.from_ms(int(float(start))), utils.from_ms(int(float(end))))

    def _experiment_id(interval):
        return f"{utils.to_ms(hs.as_utc(interval.start))}-{utils.to_ms(hs.as_utc(interval.end))}"

    def _duration2str(x):
        minutes, seconds = divmod(x.total_seconds(), 60)
        return f"{int(minutes)} min {int(seconds)} sec"

    def _unix_ms(dt):
        return utils.to_ms(hs.as_utc(dt))

    time_names = dict(MIN_DATE=utils.MIN_DATE, MAX_DATE=utils.MAX_DATE, UTC=utils.UTC, utcnow=utils.utcnow,
                      get_timedelta=utils.get_timedelta, parse_time_tuple=hs.parse_time_tuple,
                      unix_time_miliseconds=_unix_ms, unix_time_milliseconds=_unix_ms,
                      datetime_from_ms=utils.from_ms, is_naive=hs.is_naive, remove_microseconds=hs.remove_microseconds,
                      unix2datetime=lambda u: utils.from_ms(round(u)),           # HyperStream: u in ms
                      datetime2unix=lambda dt: (hs.as_utc(dt) - utils.EPOCH).total_seconds(),  # seconds
                      construct_experiment_id=_experiment_id, reconstruct_interval=_reconstruct_interval,
                      duration2str=_duration2str)
    error_names = dict(hs.error_classes(), StreamNotAvailableError=StreamNotAvailableError,
                       handle_exception=hs.handle_exception)
    placeholders = {name: hs.not_supported(name, what) for name, what in hs.UNSUPPORTED.items()}
    container_names = dict(Printable=Printable, Hashable=Hashable, FrozenKeyDict=hs.FrozenKeyDict,
                           Singleton=hs.Singleton,
                           **{k: placeholders[k] for k in ("MetaDataTree", "TypedBiDict", "TypedFrozenKeyDict",
                                                           "ToolContainer", "PluginContainer", "PluginWrapper",
                                                           "FactorContainer")})
    ti = dict(TimeInterval=hs.TimeInterval, TimeIntervals=hs.TimeIntervals,
              RelativeTimeInterval=hs.RelativeTimeInterval, parse_time_tuple=hs.parse_time_tuple,
              MIN_DATE=utils.MIN_DATE, MAX_DATE=utils.MAX_DATE, UTC=utils.UTC, utcnow=utils.utcnow,
              get_timedelta=utils.get_timedelta, is_naive=hs.is_naive, remove_microseconds=hs.remove_microseconds,
              Printable=Printable, date=_dt.date, datetime=_dt.datetime, timedelta=_dt.timedelta,
              namedtuple=collections.namedtuple, profile=lambda f: f)
    st = dict(StreamInstance=hs.StreamInstance, StreamMetaInstance=hs.StreamMetaInstance,
              StreamId=stream.StreamId, Stream=stream.Stream, StreamView=stream.StreamView,
              DatabaseStream=hs.DatabaseStream, AssetStream=hs.AssetStream, StreamDict=stream.StreamDict,
              StreamInstanceCollection=hs.StreamInstanceCollection, get_stream_id=stream.get_stream_id)
    # HyperStream tools may align their output on ``interval.start`` (its own sliding_window does), so a
    # plugin tool runs each missing interval as one piece unless a chunk length is asked for explicitly.
    tl = dict(Tool=hs.Tool, BaseTool=hs.BaseTool, MultiOutputTool=hs.MultiOutputTool, AggregateTool=hs.AggregateTool,
              SelectorTool=hs.SelectorTool, PlateCreationTool=hs.PlateCreationTool,
              check_input_stream_count=engine.check_input_stream_count)
    decorator_names = dict(timeit=_passthrough_decorator, check_output_format=_passthrough_decorator,
                           check_tool_defined=_passthrough_decorator,
                           check_input_stream_count=engine.check_input_stream_count)
    misc_names = dict(camel_to_snake=engine.camel_to_snake, snake_to_camel=hs.snake_to_camel, touch=hs.touch)
    stats = dict(histogram=hs.histogram, percentile=hs.percentile)
    ch = dict(BaseChannel=base_channel.BaseChannel, MemoryChannel=memory_channel.MemoryChannel,
              ReadOnlyMemoryChannel=memory_channel.ReadOnlyMemoryChannel, ToolChannel=tool_channel.ToolChannel,
              FileChannel=file_channel.FileChannel, ModuleChannel=module_channel.ModuleChannel,
              DatabaseChannel=database_channel.DatabaseChannel, AssetsChannel=assets_channel.AssetsChannel,
              AssetsFileChannel=assets_file_channel.AssetsFileChannel, ChannelManager=ChannelManager)

    doc = "HyperStream Studio stand-in"
    time_utils = module("hyperstream.utils.time_utils", doc, **time_names)
    errs = module("hyperstream.utils.errors", doc, **error_names)
    decorators = module("hyperstream.utils.decorators", doc, **decorator_names)
    containers = module("hyperstream.utils.containers", doc, **container_names)
    misc = module("hyperstream.utils.misc", doc, **misc_names)
    serialization = module("hyperstream.utils.serialization", doc, func_dump=hs.func_dump, func_load=hs.func_load)
    statistics = module("hyperstream.utils.statistics", doc, **stats)
    hs_utils = module("hyperstream.utils", doc, time_utils=time_utils, errors=errs, decorators=decorators,
                      containers=containers, misc=misc, serialization=serialization, statistics=statistics,
                      HyperStreamLogger=placeholders["HyperStreamLogger"], func_dump=hs.func_dump,
                      func_load=hs.func_load,
                      **{**time_names, **error_names, **decorator_names, **container_names, **misc_names, **stats})
    hs_utils.__path__ = []
    hs_ti = module("hyperstream.time_interval", doc, **ti)
    hs_stream = module("hyperstream.stream", doc, **st)
    hs_stream.__path__ = []
    hs_tool = module("hyperstream.tool", doc, **tl)
    hs_tool.__path__ = []
    hs_channels = module("hyperstream.channels", doc, **ch)
    hs_channels.__path__ = []
    root_names = {k: v for k, v in {**time_names, **error_names}.items()}
    root_names.update(ti)
    root_names.update(st)
    root_names.update(tl)
    # a script run on this layer gets the session objects (registered by channels.hyperstream.session); a
    # plugin file being loaded gets placeholders: a tool file opening a session of its own (a store from the
    # current directory's config) inside the app would be wrong
    root_names.update({k: (_REGISTERED.get(k) if script else None) or placeholders.get(k) for k in (
        "HyperStream", "Client", "HyperStreamConfig", "OnlineEngine", "PlateManager", "Workflow", "WorkflowManager")})
    root_names["ChannelManager"] = ChannelManager
    root = module("hyperstream", "HyperStream Studio stand-in for HyperStream's public names",
                  tool=hs_tool, stream=hs_stream, utils=hs_utils, time_interval=hs_ti, channels=hs_channels,
                  functions=functions, NotSupportedError=hs.NotSupportedError, **root_names)
    root.__path__ = []
    root.__version__ = "0.3.8-hyperstream-studio"
    mods = {"hyperstream": root, "hyperstream.tool": hs_tool, "hyperstream.stream": hs_stream,
            "hyperstream.utils": hs_utils, "hyperstream.utils.time_utils": time_utils,
            "hyperstream.utils.errors": errs, "hyperstream.utils.decorators": decorators,
            "hyperstream.utils.containers": containers, "hyperstream.utils.misc": misc,
            "hyperstream.utils.serialization": serialization, "hyperstream.utils.statistics": statistics,
            "hyperstream.time_interval": hs_ti, "hyperstream.channels": hs_channels}
    # hyperstream.channels.<module>: plugin channel files import their base class from there
    for mod_name in MODULE_NAMES:
        if mod_name.startswith("hyperstream.channels."):
            short = mod_name.rsplit(".", 1)[1]
            sub = module(mod_name, doc, **{k: v for k, v in ch.items() if v.__module__.endswith("." + short)})
            sub.__dict__.update(UTC=utils.UTC, MIN_DATE=utils.MIN_DATE, MAX_DATE=utils.MAX_DATE, utcnow=utils.utcnow)
            mods[mod_name] = sub
            setattr(hs_channels, short, sub)
    assert set(mods) == set(MODULE_NAMES)
    return mods


@contextmanager
def hyperstream_names(force: bool = False):
    """Provide ``hyperstream.*`` names while the block runs (unless the real package is importable and
    ``force`` is false: ``force=True`` shadows a real HyperStream too, for a script run on this layer)."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            if real_hyperstream_available() and not force:
                _saved = None
            else:
                fakes = _build_modules(script=force)
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
