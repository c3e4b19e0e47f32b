"""Run records: what ran, on what, over which interval, and how it ended; where they are kept.

A :class:`RunRecord` is JSON-only in its ``to_dict`` form, so both stores can
keep it (``store.record_run``) and the app can show and repeat it.
"""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from ..errors import StreamIdError
from ..stream import get_stream_id
from ..time_interval import TimeInterval, TimeIntervals
from ..utils import UTC, parse_datetime

# -- run records ------------------------------------------------------------------------------
def _iso(dt):
    return dt.isoformat() if isinstance(dt, datetime) else None


def _from_iso(text):
    return _parse_iso(text) if text else None


@lru_cache(maxsize=1 << 16)
def _parse_iso(text: str) -> datetime:
    """``parse_datetime`` of a record's time (parsed once: the runs of a workflow share their intervals); the
    UTC form records are written in is read directly."""
    if text.endswith("+00:00"):
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            return parse_datetime(text)
        return dt.replace(tzinfo=UTC, microsecond=dt.microsecond - dt.microsecond % 1000)
    return parse_datetime(text)


@dataclass
class RunRecord:
    """One tool run: what ran, on what, over which interval, and how it ended."""

    id: str
    tool: str
    parameters: dict
    output_stream: str | None
    output_channel: str | None
    interval: TimeInterval | None
    started_at: datetime
    tool_version: str | None = None
    tool_source: str | None = None
    input_streams: list = field(default_factory=list)   # str(StreamId) per input
    input_channels: list = field(default_factory=list)  # channel id per input
    alignment_stream: str | None = None
    alignment_channel: str | None = None
    instances_written: int = 0
    duration_s: float = 0.0
    outcome: str = "running"  # "ok", "error", "cancelled" once finished
    error: str | None = None
    computed: TimeIntervals = field(default_factory=TimeIntervals)  # what this run committed
    chunks: int = 0
    dropped_instances: int = 0  # instances the tool yielded outside the interval asked for (tools that drop them)
    #: parts of the interval asked for that this run did not compute because an input is not calculated there:
    #: ``[{"start": iso, "end": iso, "input": str(StreamId), "reason": text}, ...]`` (JSON-only)
    skipped: list = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-only form (times as ISO text)."""
        d = {f: getattr(self, f) for f in self.__dataclass_fields__}
        d["interval"] = ({"start": _iso(self.interval.start), "end": _iso(self.interval.end)}
                         if self.interval is not None else None)
        d["started_at"] = _iso(self.started_at)
        d["computed"] = [{"start": _iso(iv.start), "end": _iso(iv.end)} for iv in self.computed]
        from .params import to_jsonable   # the parameter machinery, when a run is recorded (not when a store opens)
        d["parameters"] = to_jsonable(self.parameters)
        d["input_streams"] = list(map(str, self.input_streams))
        d["input_channels"] = list(map(str, self.input_channels))
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "RunRecord":
        d = dict(d)
        iv = d.get("interval")
        interval = TimeInterval(_from_iso(iv["start"]), _from_iso(iv["end"])) if iv else None
        computed = TimeIntervals([TimeInterval(_from_iso(c["start"]), _from_iso(c["end"]))
                                  for c in d.get("computed") or []])
        names = {f for f in cls.__dataclass_fields__}
        kwargs = {k: v for k, v in d.items() if k in names}
        kwargs.update(interval=interval, computed=computed, started_at=_from_iso(d.get("started_at")),
                      input_streams=list(d.get("input_streams") or []),
                      input_channels=list(d.get("input_channels") or []),
                      parameters=dict(d.get("parameters") or {}))
        return cls(**kwargs)

    def describe(self) -> str:
        """One line for a log or jobs panel."""
        what = f"{self.tool}" + (f" v{self.tool_version}" if self.tool_version else "")
        text = (f"{what} -> {self.output_channel}/{self.output_stream} over {self.interval}: {self.outcome}, "
                f"{self.instances_written} instances in {self.duration_s:.2f} s")
        if self.skipped:
            text += f"; skipped {len(self.skipped)} part(s) where an input is not calculated"
        return text + (f" ({self.error})" if self.error else "")


def _counts(run: dict) -> bool:
    """A run that ended ok and committed something: what lineage is made of."""
    return run.get("outcome") == "ok" and bool(run.get("computed"))


def _reads(run: dict) -> list:
    """``[(channel_id, StreamId.key)]`` a run (dict form) read, its alignment stream included (records name
    streams by their text, in the order their meta-data was given; the key is the same for equal ids)."""
    pairs = list(zip(run.get("input_channels") or (), run.get("input_streams") or ()))
    if run.get("alignment_stream") and run.get("alignment_channel"):
        pairs.append((run["alignment_channel"], run["alignment_stream"]))
    out = []
    for c, text in pairs:
        key = stream_key(text) if c is not None else None
        if key is not None:
            out.append((str(c), key))
    return out


@lru_cache(maxsize=1 << 18)
def stream_key(text) -> str | None:
    """``StreamId.key`` of a stream's text form (None: not a stream id)."""
    try:
        return get_stream_id(text).key
    except (StreamIdError, TypeError, ValueError):
        return None


#: roles of a stream in a run (see :func:`run_streams`)
WROTE, READ = "wrote", "read"


def run_streams(run: dict) -> set:
    """``{(channel_id, StreamId.key, WROTE or READ)}`` of a run (dict form), if it counts for lineage (else
    empty)."""
    if not _counts(run):
        return set()
    out = {(c, k, READ) for c, k in _reads(run)}
    key = stream_key(run.get("output_stream")) if run.get("output_channel") is not None else None
    if key is not None:
        out.add((str(run["output_channel"]), key, WROTE))
    return out


def wanted_streams(streams, role=None) -> set:
    """What :func:`run_streams` holds for ``streams`` ((channel_id, StreamId) pairs) in ``role`` (None: both)."""
    roles = (WROTE, READ) if role is None else (role,)
    if not set(roles) <= {WROTE, READ}:
        raise ValueError(f"a run's role for a stream is {WROTE!r} or {READ!r}, got {role!r}")
    return {(str(c), sid.key, r) for c, sid in streams for r in roles}


def summarise_run_dicts(runs) -> dict:
    """The store form of a :class:`RunSummary` of ``runs`` (``RunRecord.to_dict`` dicts): ``{"reads":
    {(channel_id, StreamId.key): oldest started_at}, "tools": {(tool, version)}}``."""
    reads, tools = {}, set()
    for run in runs:
        if not _counts(run) or not run.get("started_at"):
            continue
        started = _from_iso(run["started_at"])
        tools.add((run.get("tool"), run.get("tool_version")))
        for key in _reads(run):
            if key not in reads or started < reads[key]:
                reads[key] = started
    return {"reads": reads, "tools": tools}


@dataclass
class RunSummary:
    """What a first look at a run history needs without reading its records: of the runs that ended ok and
    committed something, when the oldest one reading each stream started, and every tool version they ran."""

    reads: dict      # (channel_id, StreamId.key) -> oldest started_at of a run reading it
    tools: set       # (tool name, tool version)

    @classmethod
    def from_store(cls, summary: dict) -> "RunSummary":
        return cls(dict(summary["reads"]), set(summary["tools"]))

    @classmethod
    def of(cls, runs) -> "RunSummary":
        return cls.from_store(summarise_run_dicts(r.to_dict() for r in runs))

    def add(self, runs) -> None:
        """Take in runs recorded since."""
        more = RunSummary.of(runs)
        self.tools |= more.tools
        for key, at in more.reads.items():
            if key not in self.reads or at < self.reads[key]:
                self.reads[key] = at


class RunHistory:
    """Where runs are recorded: ``record(run)`` and ``list(limit=None)`` (newest first); ``summary()``."""

    def record(self, run: RunRecord) -> None:
        raise NotImplementedError

    def list(self, limit: int | None = None) -> list[RunRecord]:
        raise NotImplementedError

    def summary(self) -> RunSummary:
        """See :class:`RunSummary` (here from every record)."""
        return RunSummary.of(self.list())


class MemoryRunHistory(RunHistory):
    """Runs kept in memory (the newest ``max_records``)."""

    def __init__(self, max_records: int | None = 10000):
        self._runs: deque = deque(maxlen=max_records)
        self._lock = threading.Lock()

    def record(self, run: RunRecord) -> None:
        with self._lock:
            self._runs.append(RunRecord.from_dict(run.to_dict()))  # a snapshot, detached from the caller

    def list(self, limit: int | None = None) -> list[RunRecord]:
        with self._lock:
            runs = list(reversed(self._runs))
        return runs if limit is None else runs[:limit]

    def clear(self) -> None:
        with self._lock:
            self._runs.clear()


class StoreRunHistory(RunHistory):
    """Runs kept in a store (``store.record_run(dict)`` / ``store.list_runs(limit)``)."""

    def __init__(self, store):
        self.store = store

    def record(self, run: RunRecord) -> None:
        self.store.record_run(run.to_dict())

    def list(self, limit: int | None = None) -> list[RunRecord]:
        return [RunRecord.from_dict(d) for d in self.store.list_runs(limit)]

    def summary(self) -> RunSummary:
        """Kept by the store as runs are recorded (see ``store.run_summary``), not read from every record."""
        return RunSummary.from_store(self.store.run_summary())

    def runs_of(self, streams, role: str | None = None) -> list[RunRecord]:
        """The runs that ended ok, committed something and wrote (``role`` WROTE) or read (READ; None: either)
        one of ``streams`` ((channel_id, StreamId) pairs), newest first: read through the store's index by
        stream (a history in memory has none: lineage reads it whole)."""
        return [RunRecord.from_dict(d) for d in self.store.runs_of(streams, role)]


_default_history: RunHistory = MemoryRunHistory()


def get_default_history() -> RunHistory:
    """The history runs are recorded in when ``execute`` is given none."""
    return _default_history


def set_default_history(history: RunHistory) -> None:
    global _default_history
    if not isinstance(history, RunHistory) and not (hasattr(history, "record") and hasattr(history, "list")):
        raise TypeError(f"expected a RunHistory, got {type(history).__name__}")
    _default_history = history



__all__ = ["RunRecord", "RunHistory", "RunSummary", "MemoryRunHistory", "StoreRunHistory", "get_default_history",
           "set_default_history", "run_streams", "summarise_run_dicts", "wanted_streams", "WROTE", "READ"]
