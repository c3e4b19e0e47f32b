"""Opening a connection, the demo store on first start, and the connection-wide reads the window needs.

A MongoDB store opens with the timeouts written in its URI, else the store's
``DEFAULT_TIMEOUT_MS``. When one of them expires, the failure says which (in
words, with its value) and :func:`longer_timeouts` gives the URI to retry
with: the timeouts live in the URI, so a retry, the Recent list and the worker
processes all use the same ones.

Every function here that takes ``ctx`` first is a job body: it runs on a pool
thread (never on the GUI thread) and touches no widget. The demo store is built
into ``<store>.building`` and renamed into place only when it is complete, so an
interrupted first start never leaves a half-built store that later starts would
take for the real one.
"""
from __future__ import annotations

import logging
import os
import re
import time
from datetime import timedelta

from channels.errors import StoreError
from channels.time_interval import TimeInterval
from channels.utils import MAX_DATE, MIN_DATE, redact_uri, utcnow

log = logging.getLogger(__name__)


def is_mongo_uri(target: str) -> bool:
    return target.startswith("mongodb://") or target.startswith("mongodb+srv://")


# -- MongoDB timeouts ------------------------------------------------------------------------------------------
#: the two timeouts a reachable but slow server runs into, and what each one limits
TIMEOUTS = {"serverSelectionTimeoutMS": "server selection timeout",
            "connectTimeoutMS": "connect timeout"}
#: the timeouts a store uses when its URI names none (MongoStore's default)
DEFAULT_TIMEOUT_MS = 3000
#: what a retry "with longer timeouts" writes into the URI
LONGER_TIMEOUT_MS = 30000


def _uri_options(uri: str) -> tuple[str, list[str]]:
    """``(the URI up to its options, its option items)``, split as the driver does: hosts end at the first
    ``/``, options start at the ``?`` after it."""
    scheme, sep, rest = uri.partition("://")
    hosts, _, path = rest.partition("/")
    db, _, query = path.partition("?")
    return f"{scheme}{sep}{hosts}/{db}", [item for item in re.split(r"[&;]", query) if item]


def uri_timeouts(uri: str) -> dict[str, tuple[int, bool]]:
    """For each of :data:`TIMEOUTS`: ``(milliseconds, written in the URI)``; written options win over the
    default (names in any case, as the driver reads them)."""
    out = {name: (DEFAULT_TIMEOUT_MS, False) for name in TIMEOUTS}
    for item in _uri_options(uri)[1]:
        key, _, value = item.partition("=")
        for name in TIMEOUTS:
            if key.lower() == name.lower():
                try:
                    out[name] = (int(float(value)), True)
                except ValueError:
                    pass   # the driver names a malformed value when the store opens
    return out


def longer_timeouts(uri: str, ms: int = LONGER_TIMEOUT_MS) -> str | None:
    """``uri`` with each of :data:`TIMEOUTS` raised to at least ``ms`` (longer ones written in it are kept, other
    options stay as they are); None when they are all that long already."""
    current = uri_timeouts(uri)
    if all(value >= ms for value, _ in current.values()):
        return None
    base, items = _uri_options(uri)
    names = {name.lower() for name in TIMEOUTS}
    items = [item for item in items if item.partition("=")[0].lower() not in names]
    items += [f"{name}={max(ms, current[name][0])}" for name in TIMEOUTS]
    return base + "?" + "&".join(items)


def expired_timeout(message: str) -> str | None:
    """Which of :data:`TIMEOUTS` made a MongoDB store fail to open with ``message``, or None when it failed
    for another reason (refused, unknown host, wrong password ...: waiting longer would not help).

    The store reports the driver's server-selection failure as ``… (gave up after N s)``: with no server
    found at all, the server selection timeout expired; with the server's reply not in time (``no answer``,
    or the driver's ``operation cancelled`` for a check it abandoned), the connect timeout did."""
    if "gave up after" not in message:
        return None
    if "no answer" in message or "operation cancelled" in message:
        return "connectTimeoutMS"
    if "No servers found yet" in message:
        return "serverSelectionTimeoutMS"
    return None


def retry_target(target: str | None, message: str | None) -> str | None:
    """The target to retry a failed open of ``target`` with: its URI with longer timeouts when one expired
    (``message`` says), else None (waiting longer would not help, or the timeouts are that long already)."""
    if not target or not message or not is_mongo_uri(target) or expired_timeout(message) is None:
        return None
    return longer_timeouts(target)


def explain_timeout(message: str, uri: str) -> str:
    """``message`` and, when a timeout expired, which one, its value and what to do, in words."""
    name = expired_timeout(message)
    if name is None:
        return message
    ms, written = uri_timeouts(uri)[name]
    text = (f"{message}. The {TIMEOUTS[name]} expired ({name} = {ms / 1000:g} s, "
            f"{'written in the URI' if written else 'the default'}): the server may be reachable but slow")
    if longer_timeouts(uri) is not None:
        text += f"; retry with {LONGER_TIMEOUT_MS / 1000:g} s timeouts, or write longer ones in the URI"
    return text


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
        try:
            return ChannelManager.open(target)
        except StoreError as e:
            if not is_mongo_uri(target) or expired_timeout(str(e)) is None:
                raise
            raise StoreError(explain_timeout(str(e), target)) from None   # the store's error names no secret
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
    """The span of every calculated interval in the data channels whose streams are listed (in memory: no store
    reads, and a channel not listed yet is not listed here; :func:`open_ended_span` lists them in a job)."""
    spans = [sp for sp in (c.calculated_span() for c in manager.database_channels if c.listed) if sp is not None]
    if not spans:
        return None
    end = max(e for _s, e in spans)
    return TimeInterval(min(s for s, _e in spans), utcnow() if end == MAX_DATE else end)


def open_ended_span(ctx, manager, limit: int = 200) -> TimeInterval | None:
    """Job: where the store's data is when :func:`data_span` did not know: every data channel is listed here (a
    large one was not when the store opened), and their calculated span is the answer when there is one; else
    the span of the data of streams calculated "all up to" a time (assets) — :func:`data_span` cannot tell
    where their versions are without reading them. At most ``limit`` streams are read (first and last instance
    each)."""
    for channel in manager.database_channels:
        ctx.check()
        channel.streams   # noqa: B018 - lists it (read once, whoever else lists it meanwhile)
    span = data_span(manager)
    if span is not None:
        return span
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


def refresh_manager(ctx, manager, recent: bool = False):
    """Job: re-read the stream definitions of every channel (``recent``: only what was stamped since, see
    :meth:`ChannelManager.refresh`)."""
    manager.refresh(recent=recent)
