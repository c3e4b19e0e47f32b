"""The change log: one record per batch that changed a stream's data, kept with the data it describes.

Every insert that added instances (any path: instances, arrays, columns, a tool chunk, an import, a stream's
``writer``) and every purge that deleted some records a :class:`Change` in the same store transaction as the
data (SQLite: table ``changes``; MongoDB: collection ``hsgui_changes``, written right after the batch), so
lineage can tell which derived intervals were computed from data that has changed since.

What wrote a batch (``by``) comes from :func:`change_origin`, set around the work by whoever starts it
(the tool engine: ``"run <id> <tool>"``; the importer: ``"import <file>"``; a recompute ...); without one a
store records ``"write"`` or ``"purge"``. It is a context variable: it follows the code that sets it on
its thread (and its asyncio tasks), not other threads.
"""
from __future__ import annotations

import contextvars
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from .stream import StreamId
from .time_interval import TimeInterval

WRITE, PURGE = "write", "purge"

_origin: contextvars.ContextVar = contextvars.ContextVar("channels_change_origin", default=None)


@dataclass(frozen=True)
class Change:
    """One batch that changed a stream: ``interval`` is ``(start, end]`` covering the timestamps written, or the
    interval purged (an open end of a purge: the purged data's first/last timestamp)."""

    channel_id: str | None
    stream_id: StreamId
    interval: TimeInterval
    at: datetime          # aware UTC, ms
    kind: str             # "write" / "purge"
    by: str               # "run <id> <tool>", "import <file>", "write", "purge", ...
    seq: int = 0          # order among changes recorded at the same ms (store row order)

    def describe(self) -> str:
        what = "written" if self.kind == WRITE else "purged"
        by = self.by
        if by.startswith("run ") and len(by.split(" ")) >= 3:  # "run <32 hex> tool" -> "run <8 hex> tool"
            _, rid, tool = by.split(" ", 2)
            by = f"run {rid[:8]} {tool}"
        return f"{what} at {self.at.isoformat()} by {by}"


def newest_of(changes) -> dict:
    """``{StreamId: time of its newest change}`` of ``changes``."""
    out: dict = {}
    for c in changes:
        if c.stream_id not in out or c.at > out[c.stream_id]:
            out[c.stream_id] = c.at
    return out


@contextmanager
def change_origin(text: str, override: bool = True):
    """Label the changes made inside the block (``override=False``: only when no label is set yet)."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"a change origin must be non-empty text, got {text!r}")
    if not override and _origin.get() is not None:
        yield
        return
    token = _origin.set(text)
    try:
        yield
    finally:
        _origin.reset(token)


def current_origin(default: str) -> str:
    """The label set by :func:`change_origin`, else ``default``."""
    return _origin.get() or default


def run_origin(run_id: str, tool: str) -> str:
    return f"run {run_id} {tool}"


class MemoryChangeLog:
    """Changes of channels without a store (memory channels): kept in this process only."""

    def __init__(self, max_records: int = 1_000_000):
        self._changes: list[Change] = []
        self._by_stream: dict = {}
        self._lock = threading.Lock()
        self._max = max_records
        self._seq = 0

    def record(self, channel_id, stream_id, interval, kind, by, at) -> None:
        with self._lock:
            self._seq += 1
            c = Change(channel_id, stream_id, interval, at, kind, by, self._seq)
            self._changes.append(c)
            self._by_stream.setdefault(stream_id, []).append(c)
            if len(self._changes) > self._max:  # forget the oldest half
                self._changes = self._changes[len(self._changes) // 2:]
                keep = {id(c) for c in self._changes}
                self._by_stream = {k: [c for c in v if id(c) in keep] for k, v in self._by_stream.items()}

    def list(self, stream_id=None, since=None) -> list[Change]:
        with self._lock:
            src = self._changes if stream_id is None else list(self._by_stream.get(stream_id, ()))
        return [c for c in src if since is None or c.at > since]


__all__ = ["Change", "change_origin", "newest_of", "current_origin", "run_origin", "MemoryChangeLog", "WRITE", "PURGE"]
