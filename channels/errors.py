"""One exception class per failure kind, each message naming the thing that failed.

All derive from :class:`ChannelsError` so callers (the GUI) can catch the family
in one place and show the message as it is.
"""


class ChannelsError(Exception):
    """Base class of every error raised deliberately by the channel library."""


class TimeError(ChannelsError, ValueError):
    """A timestamp or interval is malformed (naive, in the future, end before start, ...)."""


class StreamIdError(ChannelsError, ValueError):
    """A stream id or its meta-data is malformed."""


class StreamNotFoundError(ChannelsError, KeyError):
    def __init__(self, stream_id, channel_id=None):
        self.stream_id = stream_id
        self.channel_id = channel_id
        where = f" in channel {channel_id!r}" if channel_id else ""
        super().__init__(f"stream {stream_id} not found{where}")

    def __str__(self):
        return self.args[0]


class StreamAlreadyExistsError(ChannelsError):
    def __init__(self, stream_id, channel_id=None):
        self.stream_id = stream_id
        where = f" in channel {channel_id!r}" if channel_id else ""
        super().__init__(f"stream {stream_id} already exists{where}")


class MultipleStreamsFoundError(ChannelsError):
    def __init__(self, query, found):
        self.found = list(found)
        names = ", ".join(str(s) for s in self.found[:5])
        more = "" if len(self.found) <= 5 else f" and {len(self.found) - 5} more"
        super().__init__(f"{len(self.found)} streams match {query}: {names}{more}")


class ChannelNotFoundError(ChannelsError, KeyError):
    def __init__(self, channel_id, known=()):
        self.channel_id = channel_id
        hint = f" (known channels: {', '.join(sorted(known))})" if known else ""
        super().__init__(f"channel {channel_id!r} not found{hint}")

    def __str__(self):
        return self.args[0]


class ChannelAlreadyExistsError(ChannelsError):
    """A channel id is registered twice in one channel manager."""


class ReadOnlyChannelError(ChannelsError):
    """A write, create or purge was attempted on a read-only channel."""


class DuplicateInstanceError(ChannelsError, ValueError):
    """An instance with the same (stream, timestamp) exists with a different value."""

    def __init__(self, stream_id, timestamp, old=None, new=None):
        self.stream_id = stream_id
        self.timestamp = timestamp
        super().__init__(
            f"stream {stream_id} already has a different value at {timestamp.isoformat()}"
            f" (stored {old!r}, new {new!r}); nothing of this batch was written"
        )


class ValueEncodingError(ChannelsError, TypeError):
    """A value cannot be stored (not JSON-like, datetime or TimeInterval)."""


class FileNameError(ChannelsError, ValueError):
    """A file name is not of the form <timestamp>_v<semver>.<ext>."""


class ToolNotFoundError(ChannelsError, KeyError):
    def __init__(self, name, version=None, detail=""):
        self.name = name
        self.version = version
        v = f" version {version}" if version else ""
        super().__init__(f"tool {name!r}{v} not found{(': ' + detail) if detail else ''}")

    def __str__(self):
        return self.args[0]


class ToolInitialisationError(ChannelsError):
    """A tool could not be constructed (bad parameters, import failure)."""


class ToolParameterError(ToolInitialisationError, ValueError):
    """A tool parameter has the wrong type or value; the message names the parameter."""

    def __init__(self, tool, parameter, message):
        self.tool = tool
        self.parameter = parameter
        super().__init__(f"{tool}: parameter {parameter!r}: {message}")


class ToolExecutionError(ChannelsError):
    """A tool failed while running, or a run request was refused."""


class RunRequestError(ToolExecutionError, ValueError):
    """A run request that cannot run as asked (:class:`channels.tools.RunRequest`); ``field`` names the field that
    is wrong (``tool``, ``output``, ``inputs[1]``, ``interval``, ...)."""

    def __init__(self, field, message):
        self.field = field
        super().__init__(message)


class IncorrectInputCountError(ToolExecutionError, ValueError):
    """A tool was given the wrong number of input streams."""


class CancelledError(ChannelsError):
    """A run or purge was cancelled by the user; what was finished stays consistent."""


class StoreError(ChannelsError):
    """The store cannot be opened or used (corrupt file, newer schema, unreachable server)."""


class ConfigError(ChannelsError, ValueError):
    """A configuration file is malformed; the message names the key."""
