"""Lineage and stale marks for every stream, from the run records (no workflow needed).

HyperStream keeps no back-reference from a stream to the tool that made it (its issue #10); the
run history does: every ``Tool.execute`` records tool, version, parameters, input streams, output
stream and what it computed. From that:

* :func:`lineage` — the runs that wrote a stream (upstream: their inputs) and the runs that read it
  (downstream: their outputs);
* stale intervals of a stream — parts of what a run computed that no longer follow from its inputs:
  a newer version of the tool exists (the whole of what the run computed); an asset it read has a
  version newer than the run (the whole); an input stream was written again, by a later run, inside
  what this run computed (that overlap). Staleness flows downstream: what was computed from a stale
  interval is stale too.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import semantic_version

from ..errors import StreamIdError
from ..stream import get_stream_id
from ..time_interval import TimeIntervals


@dataclass
class StaleReason:
    intervals: TimeIntervals
    reason: str
    run_id: str


@dataclass
class Lineage:
    channel_id: str
    stream_id: object
    writers: list = field(default_factory=list)      # RunRecord (ok) that wrote the stream, oldest first
    readers: list = field(default_factory=list)      # RunRecord (ok) that read it, oldest first
    stale: list = field(default_factory=list)        # StaleReason

    @property
    def upstream(self) -> list[tuple[str, object]]:
        """(channel_id, StreamId) of every input of every writer (in first-seen order)."""
        return _unique((c, s) for r in self.writers for c, s in _inputs(r))

    @property
    def downstream(self) -> list[tuple[str, object]]:
        return _unique((r.output_channel, _sid(r.output_stream)) for r in self.readers if r.output_stream)

    @property
    def stale_intervals(self) -> TimeIntervals:
        out = TimeIntervals()
        for s in self.stale:
            out = out + s.intervals
        return out


def _unique(pairs):
    out = []
    for p in pairs:
        if p[1] is not None and p not in out:
            out.append(p)
    return out


def _sid(text):
    try:
        return get_stream_id(text)
    except (StreamIdError, TypeError, ValueError):
        return None


def _inputs(run):
    pairs = list(zip(run.input_channels, run.input_streams))
    if run.alignment_stream and run.alignment_channel:
        pairs.append((run.alignment_channel, run.alignment_stream))
    return [(c, _sid(s)) for c, s in pairs]


class LineageIndex:
    """Run records indexed by the streams they wrote and read; answers lineage and staleness."""

    def __init__(self, runs, newest_tool_version=None, asset_updated=None):
        """
        :param runs: RunRecords (any order)
        :param newest_tool_version: ``(tool name) -> version text | None`` (None: don't check tool versions)
        :param asset_updated: ``(channel_id, StreamId) -> datetime | None``: when an asset input last got a
            version (None for streams that are not assets)
        """
        self.runs = sorted((r for r in runs if r.outcome == "ok" and not r.computed.is_empty),
                           key=lambda r: r.started_at)
        self.newest_tool_version = newest_tool_version
        self.asset_updated = asset_updated
        self._writers, self._readers = {}, {}
        for r in self.runs:
            out = (r.output_channel, _sid(r.output_stream))
            self._writers.setdefault(out, []).append(r)
            for inp in _inputs(r):
                self._readers.setdefault(inp, []).append(r)
        self._stale_cache = {}

    def lineage(self, channel_id, stream_id) -> Lineage:
        key = (channel_id, stream_id)
        lin = Lineage(channel_id, stream_id, list(self._writers.get(key, [])), list(self._readers.get(key, [])))
        lin.stale = self.stale(channel_id, stream_id)
        return lin

    def stale(self, channel_id, stream_id, _seen=None) -> list[StaleReason]:
        key = (channel_id, stream_id)
        if key in self._stale_cache:
            return self._stale_cache[key]
        seen = set() if _seen is None else _seen
        if key in seen:  # a stream that (indirectly) reads itself: stop
            return []
        seen.add(key)
        out = []
        for r in self._writers.get(key, []):
            newest = self.newest_tool_version(r.tool) if self.newest_tool_version else None
            if newest and r.tool_version and _newer(newest, r.tool_version):
                out.append(StaleReason(r.computed, f"tool {r.tool} has a newer version {newest} than the run's "
                                                   f"{r.tool_version}", r.id))
            for inp in _inputs(r):
                if inp[1] is None:
                    continue
                updated = self.asset_updated(*inp) if self.asset_updated else None
                if updated is not None and updated > r.started_at:
                    out.append(StaleReason(r.computed, f"asset {inp[1]} has a version newer than the run "
                                                       f"({updated.isoformat()})", r.id))
                for later in self._writers.get(inp, []):
                    if later.started_at > r.started_at:
                        overlap = later.computed & r.computed
                        if not overlap.is_empty:
                            out.append(StaleReason(overlap, f"input {inp[1]} was written again (run {later.id[:8]}, "
                                                            f"{later.tool}) inside what this run computed", r.id))
                for upstream in self.stale(*inp, _seen=seen):
                    overlap = upstream.intervals & r.computed
                    if not overlap.is_empty:
                        out.append(StaleReason(overlap, f"input {inp[1]} is stale there ({upstream.reason})", r.id))
        # a later run of this stream's own tool over the same part recomputed it: not stale any more
        fresh = []
        for s in out:
            later = [w for w in self._writers.get(key, []) if w.started_at > _run(self, s.run_id).started_at]
            remaining = s.intervals
            for w in later:
                if not _still_stale_for(self, w, s):
                    remaining = remaining - w.computed
            if not remaining.is_empty:
                fresh.append(StaleReason(remaining, s.reason, s.run_id))
        self._stale_cache[key] = fresh
        return fresh


def _run(index, run_id):
    return next(r for r in index.runs if r.id == run_id)


def _still_stale_for(index, later_run, reason) -> bool:
    """A later run recomputed the part unless the reason applies to it too (same old tool version)."""
    if reason.reason.startswith("tool ") and index.newest_tool_version:
        newest = index.newest_tool_version(later_run.tool)
        return bool(newest and later_run.tool_version and _newer(newest, later_run.tool_version))
    return False


def _newer(a: str, b: str) -> bool:
    try:
        return semantic_version.Version.coerce(a) > semantic_version.Version.coerce(b)
    except ValueError:
        return False


def lineage_index(manager) -> LineageIndex:
    """A LineageIndex over ``manager``'s run history, with its tool channels and assets for the checks."""
    from ..assets_channel import AssetsChannel
    from ..assets_file_channel import AssetsFileChannel

    def newest(name):
        versions = []
        for ch in manager.tool_channels:
            versions += [str(v.version) for v in ch.list_tools().get(name, [])]
        return max(versions, key=semantic_version.Version.coerce) if versions else None

    def asset_updated(channel_id, stream_id):
        try:
            channel = manager.get_channel(channel_id)
        except Exception:  # noqa: BLE001 - a channel of an old run may be gone
            return None
        if not isinstance(channel, (AssetsChannel, AssetsFileChannel)):
            return None
        stream = channel.streams.get(stream_id)
        last = stream.window().last() if stream is not None else None
        return last.timestamp if last is not None else None

    return LineageIndex(manager.run_history.list(), newest, asset_updated)


__all__ = ["Lineage", "LineageIndex", "StaleReason", "lineage_index"]
