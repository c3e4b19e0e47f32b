"""Opening a connection, the demo store on first start, and the connection-wide reads the window needs.

Every function here that takes ``ctx`` first is a job body: it runs on a pool
thread (never on the GUI thread) and touches no widget. The demo store is built
into ``<store>.building`` and renamed into place only when it is complete, so an
interrupted first start never leaves a half-built store that later starts would
take for the real one.
"""
from __future__ import annotations

import logging
import os
import time
from datetime import timedelta

from channels.errors import StoreError
from channels.time_interval import TimeInterval
from channels.utils import MAX_DATE, MIN_DATE, redact_uri, utcnow

log = logging.getLogger(__name__)


def is_mongo_uri(target: str) -> bool:
    return target.startswith("mongodb://") or target.startswith("mongodb+srv://")


def redact_target(target: str) -> str:
    """A connection target as it may be shown or saved: URIs lose their password."""
    return redact_uri(target) if is_mongo_uri(target) else target


def _remove_sqlite(path: str) -> None:
    for p in (path, path + "-wal", path + "-shm", path + "-journal"):
        if os.path.exists(p):
            os.remove(p)


def build_demo_file(path: str, ctx=None) -> None:
    """Create the demo store at ``path`` (built next to it, renamed when complete)."""
    from channels.channel_manager import ChannelManager
    from resources.demo import build_demo_store
    building = path + ".building"
    _remove_sqlite(building)
    manager = ChannelManager.open(building)
    ok = False
    try:
        build_demo_store(manager,
                         progress=(lambda f, text="": ctx.report(f, text)) if ctx is not None else None,
                         cancel=ctx.cancel_event if ctx is not None else None)
        ok = True
    finally:
        manager.close()
        if not ok:
            _remove_sqlite(building)
    os.replace(building, path)
    for ext in ("-wal", "-shm"):
        _remove_sqlite(building + ext) if os.path.exists(building + ext) else None


def open_connection(ctx, target: str | None, create: bool = False, demo: bool = False):
    """Job: a ChannelManager for ``target`` (SQLite file, mongodb:// URI or HyperStream config .json).

    A missing SQLite file is an error unless ``create`` (empty store) or
    ``demo`` (demo store) is set.
    """
    from channels.channel_manager import ChannelManager
    if not target:
        raise StoreError("no store given: choose File ▸ Connect…")
    if is_mongo_uri(target) or target.lower().endswith(".json"):
        if target.lower().endswith(".json") and not os.path.isfile(target):
            raise StoreError(f"config file {target} does not exist")
        return ChannelManager.open(target)
    path = os.path.abspath(os.path.expanduser(target))
    if os.path.isdir(path):
        raise StoreError(f"{path} is a folder, not a store file")
    if not os.path.exists(path):
        if demo:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            t0 = time.perf_counter()
            build_demo_file(path, ctx)
            log.info("demo store created at %s in %.1f s", path, time.perf_counter() - t0)
        elif create:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        else:
            raise StoreError(f"store file {path} does not exist (use File ▸ Connect… ▸ New to create one)")
    ctx.check()
    return ChannelManager.open(path)


def data_span(manager) -> TimeInterval | None:
    """The span of every calculated interval in the data channels (in memory; no store reads)."""
    starts, ends = [], []
    for channel in manager.database_channels:
        for stream in list(channel.streams.values()):
            ci = stream.calculated_intervals
            if ci and ci.start != MIN_DATE:
                starts.append(ci.start)
                ends.append(ci.end if ci.end != MAX_DATE else utcnow())
    if not starts:
        return None
    return TimeInterval(min(starts), max(ends))


def open_ended_span(ctx, manager, limit: int = 200) -> TimeInterval | None:
    """Job: the span of the data of streams calculated "all up to" a time (assets), for a store that has no
    other data — :func:`data_span` cannot tell where their versions are without reading them. At most
    ``limit`` streams are read (first and last instance each)."""
    span = None
    n = 0
    for channel in manager.database_channels:
        for stream in list(channel.streams.values()):
            ci = stream.calculated_intervals
            if not ci or ci.start != MIN_DATE:
                continue
            n += 1
            if n > limit:
                return span
            ctx.check()
            s = stream_span(ctx, stream)
            if s is not None:
                span = s if span is None else TimeInterval(min(span.start, s.start), max(span.end, s.end))
    return span


def stream_span(ctx, stream) -> TimeInterval | None:
    """(first instance - 1 ms, last instance]: the interval that holds all of the stream's data."""
    view = stream.window(TimeInterval(MIN_DATE, MAX_DATE))
    first, last = view.first(), view.last()
    if first is None:
        return None
    return TimeInterval(first.timestamp - timedelta(milliseconds=1), last.timestamp)


#: how long closing a store waits, at most, for its cancelled jobs to end (a job that ignores its cancel for
#: longer meets a closed store; being cancelled, it answers nothing)
CLOSE_WAIT_S = 30.0


def close_manager(ctx, manager, jobs, wait_s: float = CLOSE_WAIT_S):
    """Job: wait for ``jobs`` — the cancelled jobs that used ``manager`` (``JobRunner.cancel_store_jobs``) —
    to end, then close it."""
    deadline = time.monotonic() + wait_s
    for j in jobs:
        if not j.wait(max(0.0, deadline - time.monotonic())):
            log.warning("closing %s while the job %r still runs", type(manager).__name__, j.title)
    manager.close()


def refresh_manager(ctx, manager):
    """Job: re-read the stream definitions of every channel."""
    manager.refresh()
