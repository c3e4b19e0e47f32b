"""Pure-Python re-implementation of HyperStream's channel layer (no Qt, ever)."""
from .errors import *  # noqa: F401,F403
from .time_interval import MAX_DATE, MIN_DATE, UTC, RelativeTimeInterval, TimeInterval, TimeIntervals, parse_time_tuple
from .utils import utcnow, get_timedelta, to_ms, from_ms, ensure_utc, camel_case
from .stream import Stream, StreamDict, StreamId, StreamInstance, StreamMetaInstance, StreamView, get_stream_id
from .base_channel import BaseChannel
from .memory_channel import MemoryChannel, ReadOnlyMemoryChannel
from .file_channel import FileChannel, FileDateTimeVersion
from .module_channel import ModuleChannel
from .tool_channel import ToolChannel
from .tools import Tool, check_input_stream_count, RunRecord  # also installs the hyperstream.* import hook
from .database_channel import DatabaseChannel
from .assets_channel import AssetsChannel
from .assets_file_channel import AssetsFileChannel
from .config import Config, PluginConfig
from .channel_manager import ChannelManager, open_store
