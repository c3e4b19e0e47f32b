"""Pure-Python re-implementation of HyperStream's channel layer (no Qt, ever).

Every name below is importable from ``channels`` as it always was; each module is imported when one of its
names is first asked for (:mod:`channels._lazy`), so ``import channels`` (and with it any ``channels.*``
import) costs only the error classes. It also installs the ``hyperstream.*`` stand-in as the context plugin
code loads in (:mod:`channels.plugin_names`), whichever ``channels`` module is imported first.
"""
from . import errors as _errors, plugin_names as _plugin_names
from ._lazy import lazy_attributes as _lazy_attributes
from .errors import *  # noqa: F401,F403


def _hyperstream_names():
    """The ``hyperstream.*`` stand-in while plugin code loads (see :mod:`channels.plugin_names`); imported the
    first time plugin code loads."""
    from .hyperstream.compat import hyperstream_names
    return hyperstream_names()


_plugin_names.install(_hyperstream_names)

_EXPORTS = {
    ".time_interval": ("MAX_DATE", "MIN_DATE", "UTC", "RelativeTimeInterval", "TimeInterval", "TimeIntervals",
                       "parse_time_tuple"),
    ".utils": ("utcnow", "get_timedelta", "to_ms", "from_ms", "ensure_utc", "camel_case"),
    ".stream": ("Stream", "StreamDict", "StreamId", "StreamInstance", "StreamMetaInstance", "StreamView",
                "get_stream_id"),
    ".base_channel": ("BaseChannel",),
    ".memory_channel": ("MemoryChannel", "ReadOnlyMemoryChannel"),
    ".file_channel": ("FileChannel", "FileDateTimeVersion"),
    ".module_channel": ("ModuleChannel",),
    ".tool_channel": ("ToolChannel",),
    ".tools": ("Tool", "check_input_stream_count", "RunRecord"),
    ".database_channel": ("DatabaseChannel",),
    ".assets_channel": ("AssetsChannel",),
    ".assets_file_channel": ("AssetsFileChannel",),
    ".config": ("Config", "PluginConfig"),
    ".channel_manager": ("ChannelManager", "open_store"),
}
__getattr__, __dir__, _names = _lazy_attributes(__name__, _EXPORTS)
__all__ = [n for n, v in vars(_errors).items() if isinstance(v, type) and issubclass(v, Exception)] + _names
