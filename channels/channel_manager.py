"""The channel manager: every channel of one connection, by id.

Channels (HyperStream's ids where they exist):

* ``memory``   – MemoryChannel (scratch, not persisted)
* ``mongo``    – DatabaseChannel on the store (HyperStream's id for its database
  channel; we keep it on the embedded store too, so definitions stay portable)
* ``assets``   – AssetsChannel on the store
* any other channel id found in the store's definitions – a DatabaseChannel
* ``tools``    – ToolChannel over the built-in tool folder. ``channels`` does not know where
  that is: the app ships it and registers it as the entry point ``tools`` of the group
  ``hyperstream_studio.tool_folders`` (see :func:`registered_tool_folders`), or the caller
  hands a folder in with ``builtin_tools=PATH``.
* ``<prefix>_tools`` / ``<prefix>_assets`` – per configured plugin
* ``tools_<folder>`` – extra tool folders from config
"""
from __future__ import annotations

import logging
import os

from .assets_channel import AssetsChannel
from .base_channel import BaseChannel
from .config import Config
from .database_channel import DatabaseChannel
from .errors import ChannelAlreadyExistsError, ChannelNotFoundError, TimeError, ToolNotFoundError
from .memory_channel import MemoryChannel
from .stores.base import Store
from .tool_channel import ToolChannel, ToolVersion
from .utils import utcnow

log = logging.getLogger(__name__)


#: a store channel with at most this many streams is listed when the store opens (~10 ms per 1,000 definitions);
#: a larger one on first need (whatever lists it: the app does so in a job, after it shows the store)
LIST_WITH_OPEN = 5_000

#: entry-point group under which installed packages register tool folders (name -> a str path, or a
#: callable returning one); the entry named ``tools`` becomes the ``tools`` channel
TOOL_FOLDER_GROUP = "hyperstream_studio.tool_folders"


def registered_tool_folders() -> dict[str, str]:
    """Tool folders registered by installed packages (entry points of :data:`TOOL_FOLDER_GROUP`).

    A registration that cannot be loaded is logged and left out, so one broken package does not
    stop the others.
    """
    from importlib.metadata import entry_points
    out = {}
    for ep in entry_points(group=TOOL_FOLDER_GROUP):
        try:
            target = ep.load()
            out[ep.name] = str(target() if callable(target) else target)
        except Exception as e:  # noqa: BLE001 - a third-party registration may fail in any way
            log.warning("tool folder %r (%s) could not be loaded: %s", ep.name, ep.value, e)
    return out


def builtin_tools_path() -> str | None:
    """The folder of the built-in tools as registered by the app (None when nothing registered one)."""
    return registered_tool_folders().get("tools")


def open_store(target: str | None = None, config: Config | None = None) -> Store:
    """Open a store from a file path, a ``mongodb://`` URI, or a Config."""
    if config is not None and target is None:
        if config.mongo_uri:
            target = config.mongo_uri
        elif config.mongo is not None:
            from .stores.mongo_store import MongoStore
            return MongoStore.from_config({"mongo": config.mongo})
        else:
            target = config.sqlite_path
    if not target:
        raise ValueError("no store given: pass a SQLite file path or a mongodb:// URI")
    if target.startswith("mongodb://") or target.startswith("mongodb+srv://"):
        from .stores.mongo_store import MongoStore
        return MongoStore.from_uri(target)
    from .stores.sqlite_store import SQLiteStore
    return SQLiteStore(target)


class ChannelManager:
    """Holds the channels of one connection and opens them from a store and config."""

    def __init__(self, store: Store | None = None, config: Config | None = None,
                 builtin_tools: bool | str = True):
        """``builtin_tools``: True for the registered built-in folder (:func:`builtin_tools_path`),
        a folder path, or False for none."""
        self.store = store
        self.config = config or Config()
        self.open_target: str | None = None   # set by open(): how another process opens the same store
        self.channels: dict[str, BaseChannel] = {}
        self.load_errors: list[tuple[str, str]] = []  # (path or channel, message)
        self.add_channel(MemoryChannel("memory"))
        if store is not None:
            self.add_channel(DatabaseChannel("mongo", store))
            self.add_channel(AssetsChannel("assets", store))
            for cid in sorted(store.channel_ids() - set(self.channels)):
                self.add_channel(DatabaseChannel(cid, store))
        now = utcnow()
        builtin = builtin_tools_path() if builtin_tools is True else (builtin_tools or None)
        if builtin:
            self._add_tools("tools", builtin, now)
        for path in self.config.tool_paths:
            self._add_tools("tools_" + os.path.basename(path.rstrip(os.sep)), path, now)
        for plugin in self.config.plugins:
            if plugin.channel_names:
                self._add_plugin_channels(plugin)
            if plugin.has_tools:
                # HyperStream runs from the project folder (the config file's), where plugins import each
                # other as ``plugins.<name>...``; put it and the plugin folder on sys.path while importing
                project = os.path.dirname(os.path.abspath(self.config.source)) if self.config.source else None
                self._add_tools(f"{plugin.channel_id_prefix}_tools", os.path.join(plugin.path, "tools"), now,
                                sys_path=tuple(p for p in (project, plugin.path) if p))
            if plugin.has_assets:
                from .assets_file_channel import AssetsFileChannel
                folder = os.path.join(plugin.path, "assets")
                try:
                    self.add_channel(AssetsFileChannel(f"{plugin.channel_id_prefix}_assets", folder))
                except (OSError, ValueError) as e:
                    self._load_error(folder, e)
        self.run_history = self._make_history()

    @classmethod
    def open(cls, target: str | None = None, config: Config | None = None) -> "ChannelManager":
        """Open ``target`` (SQLite path, mongodb:// URI or a config .json file) with its channels."""
        opened = target
        if target and target.endswith(".json") and config is None:
            config = Config.load(target)
            target = None
        manager = cls(open_store(target, config), config)
        #: how another process opens the same store (in memory only, never written: a URI may hold a password)
        manager.open_target = opened
        try:
            manager.list_small_channels()
        except BaseException:
            manager.close()
            raise
        return manager

    def list_small_channels(self, limit: int | None = None) -> None:
        """Read the definitions of every store channel of at most ``limit`` (:data:`LIST_WITH_OPEN`) streams, one
        count each: a small channel is then listed in memory, a large one (136,000 streams at 100 homes) is
        read on first need (see :class:`DatabaseChannel`)."""
        limit = LIST_WITH_OPEN if limit is None else limit
        for channel in self.database_channels:
            if not channel.listed and channel.count_streams() <= limit:
                channel.refresh()

    def _make_history(self):
        from .tools.history import MemoryRunHistory, StoreRunHistory
        return StoreRunHistory(self.store) if self.store is not None else MemoryRunHistory()

    def _load_error(self, where, error):
        log.warning("could not load %s: %s", where, error)
        self.load_errors.append((str(where), str(error)))

    def _plugin_sys_path(self, plugin) -> tuple:
        project = os.path.dirname(os.path.abspath(self.config.source)) if self.config.source else None
        return tuple(p for p in (project, plugin.path) if p)

    def _add_plugin_channels(self, plugin) -> None:
        """The channels a plugin names in ``channel_names`` (HyperStream's rule: module
        ``<path>/channels/<name>.py``, class ``<Name>`` in CamelCase, id = the name up to its first ``_``).
        One that cannot be loaded is recorded in :attr:`load_errors` (and logged) and does not stop the others."""
        from .module_channel import import_module_file
        from .plugin_names import plugin_names
        from .utils import camel_case
        for name in plugin.channel_names:
            path = os.path.join(plugin.path, "channels", name + ".py")
            where = f"channel {name!r} of plugin {plugin.channel_id_prefix!r} ({path})"
            try:
                if not os.path.isfile(path):
                    raise FileNotFoundError(f"no module file {path}")
                module = import_module_file(path, plugin_names, self._plugin_sys_path(plugin))
                cls_name = camel_case(name)
                cls = getattr(module, cls_name, None)
                if cls is None:
                    raise AttributeError(f"{path} defines no class {cls_name!r}")
                channel_id = name.split("_")[0]
                try:
                    channel = cls(channel_id, up_to_timestamp=None)
                except (TypeError, TimeError):
                    channel = cls(channel_id)
                if not isinstance(channel, BaseChannel):
                    raise TypeError(f"{cls_name} is not a channel class (it does not derive from BaseChannel)")
                self.add_channel(channel)
            except Exception as e:  # noqa: BLE001 - plugin code may fail in any way; report it, load the rest
                self._load_error(where, f"not loaded: {type(e).__name__}: {e}")

    def _add_tools(self, channel_id, path, up_to, sys_path=()):
        try:
            channel = ToolChannel(channel_id, path, up_to_timestamp=up_to)
        except (OSError, ValueError) as e:
            self._load_error(path, e)
            return
        channel.sys_path = sys_path
        for full, reason in channel.skipped:
            self.load_errors.append((full, reason))
        self.add_channel(channel)

    # -- access ------------------------------------------------------------------
    def add_channel(self, channel: BaseChannel) -> None:
        if channel.channel_id in self.channels:
            raise ChannelAlreadyExistsError(f"channel {channel.channel_id!r} is already registered")
        self.channels[channel.channel_id] = channel

    def get_channel(self, channel_id: str) -> BaseChannel:
        try:
            return self.channels[channel_id]
        except KeyError:
            raise ChannelNotFoundError(channel_id, self.channels) from None

    __getitem__ = get_channel

    def __contains__(self, channel_id):
        return channel_id in self.channels

    def __iter__(self):
        return iter(list(self.channels.values()))

    def __len__(self):
        return len(self.channels)

    @property
    def memory(self) -> MemoryChannel:
        return self.channels["memory"]

    # -- HyperStream's ChannelManager API: channels by attribute and as a mapping, tools by name ---------
    def __getattr__(self, name):
        """``manager.mongo``, ``manager.assets``, ``manager.tools``, ``manager.<plugin>_tools`` …: the channel
        of that id (HyperStream's attribute access)."""
        if name.startswith("_"):
            raise AttributeError(name)
        channels = self.__dict__.get("channels") or {}
        if name in channels:
            return channels[name]
        raise AttributeError(f"{type(self).__name__} has no attribute or channel {name!r} "
                             f"(channels: {', '.join(sorted(channels))})")

    def keys(self) -> list[str]:
        return list(self.channels)

    def values(self) -> list[BaseChannel]:
        return list(self.channels.values())

    def items(self) -> list[tuple[str, BaseChannel]]:
        return list(self.channels.items())

    def get_tool_class(self, name: str, version=None):
        """The class of tool ``name`` (newest version unless one is asked for) from the first tool channel
        that has it."""
        channel, tv = self.find_tool(name, version)
        return channel.get_tool_class(name, tv.version)

    def get_tool(self, name: str, parameters: dict | None = None, version=None):
        """An instance of tool ``name`` made with ``parameters`` (HyperStream's ``get_tool``); its
        ``tool_version`` / ``tool_source`` / ``tool_channel`` say where it came from."""
        from .tools.loading import load_tool
        channel, tv = self.find_tool(name, version)
        return load_tool(channel, name, parameters, tv.version, coerce=False)

    @property
    def tool_channels(self) -> list[ToolChannel]:
        return [c for c in self if isinstance(c, ToolChannel)]

    @property
    def asset_channels(self) -> list[BaseChannel]:
        from .assets_file_channel import AssetsFileChannel
        return [c for c in self if isinstance(c, (AssetsChannel, AssetsFileChannel))]

    @property
    def database_channels(self) -> list[DatabaseChannel]:
        return [c for c in self if isinstance(c, DatabaseChannel)]

    @property
    def writable_channels(self) -> list[BaseChannel]:
        return [c for c in self if not c.read_only]

    def find_tool(self, name: str, version=None) -> tuple[ToolChannel, ToolVersion]:
        """The tool channel holding ``name`` (built-in first, then plugins) and the chosen version."""
        for channel in self.tool_channels:
            try:
                return channel, channel.find_tool_version(name, version)
            except ToolNotFoundError:
                continue
        raise ToolNotFoundError(name, version, detail=f"searched {', '.join(c.channel_id for c in self.tool_channels)}")

    def refresh(self, recent: bool = False) -> None:
        """Re-read stream definitions and tool folders (other processes may have changed them). ``recent``: a
        periodic look — only the definitions stamped since the newest one a listed channel holds (and a count;
        the whole channel when it differs), nothing of a channel not listed yet (see
        :meth:`DatabaseChannel.refresh_recent`)."""
        now = utcnow()
        for channel in self:
            if isinstance(channel, DatabaseChannel):
                channel.refresh_recent() if recent else channel.refresh()
            elif channel.read_only and hasattr(channel, "update_state"):
                channel.update_state(now)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
