"""Assets: static inputs (house/resident lists, workflow parameters, ...) kept as streams.

Each instance of an asset stream is one version of a structured value. An asset
stream has at most one calculated interval: ``(MIN_DATE, newest version]``.
"""
from __future__ import annotations

from .database_channel import DatabaseChannel
from .stream import StreamInstance, get_stream_id
from .time_interval import TimeInterval, TimeIntervals
from .utils import MIN_DATE, utcnow


def as_asset_instances(data) -> list[StreamInstance]:
    """A value, a StreamInstance, or a list of them -> StreamInstances (a bare value is stamped now)."""
    if isinstance(data, StreamInstance):
        return [data]
    if isinstance(data, list) and data and all(isinstance(d, StreamInstance) for d in data):
        return data
    return [StreamInstance(utcnow(), data)]


def asset_interval(instances, current: TimeIntervals) -> TimeIntervals:
    newest = max(i.timestamp for i in instances)
    if current and current.end >= newest:
        return TimeIntervals([TimeInterval(MIN_DATE, current.end)])
    return TimeIntervals([TimeInterval(MIN_DATE, newest)])


class AssetsChannel(DatabaseChannel):
    """Database channel for static assets and user input data."""

    holds_assets = True

    def write_to_stream(self, stream_id, data, sandbox=None):
        """Write a new version (or versions) of an asset; creates the stream if needed."""
        stream = self.get_or_create_stream(get_stream_id(stream_id))
        instances = as_asset_instances(data)
        self.write_chunk(stream, instances, asset_interval(instances, stream.calculated_intervals))
        return stream
