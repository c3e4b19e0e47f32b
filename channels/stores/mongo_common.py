"""Names, small helpers and the shared objects (:class:`MongoCollections`, :class:`MongoStreamIds`) of the MongoDB
store and its parts."""
from __future__ import annotations

import itertools
import logging
import re
import threading
from datetime import datetime

import numpy as np

from ..time_interval import TimeInterval, TimeIntervals
from ..utils import UTC, ensure_utc, redact_text

log = logging.getLogger(__name__)

STREAMS = "streams"
DEFINITIONS = "stream_definitions"
RUNS = "hsgui_tool_runs"
LOD = "hsgui_lod"
LOD_STATE = "hsgui_lod_state"
CHANGES = "hsgui_changes"
#: write-ahead notes of batches whose calculated intervals are not committed yet (see MongoStore, "Orphans")
PENDING = "hsgui_pending_batches"
LOD_VERSION = 1
_PENDING_STALE_S = 600  # a write that claimed the aggregates this long ago and never released them has died
_BULK_CHUNK = 5_000
_NO_START, _NO_END = -(2 ** 62), 2 ** 62  # unbounded ends of a range, in epoch ms
_EMPTY = {"empty": True}  # _lod_for_summary: the stream has no instances
_IN_CHUNK = 10_000
_NUMERIC_TYPES = (int, float)


_ERRNO_WORDS = (("Connection refused", "the server refused the connection (is MongoDB running on that port?)"),
                ("Name or service not known", "unknown host name"),
                ("Temporary failure in name resolution", "the host name could not be looked up"),
                ("No route to host", "no route to that host"),
                ("Network is unreachable", "the network is unreachable"),
                ("timed out", "no answer"))


def _short(e: Exception) -> str:
    """A pymongo error in words: ``host:port: what went wrong (gave up after N s)``, without the topology
    dump, the socket options or errno numbers; password redacted."""
    text = str(e).split(", Topology Description:", 1)[0]
    timeout = re.search(r",?\s*Timeout: ([\d.]+)s", text)
    text = re.sub(r",?\s*Timeout: [\d.]+s", "", text)
    text = re.sub(r"\s*\(configured timeouts:[^)]*\)", "", text)
    for raw, words in _ERRNO_WORDS:
        text = re.sub(r"(\[Errno -?\d+\]\s*)?" + re.escape(raw), words, text)
    if timeout:
        text += f" (gave up after {float(timeout.group(1)):g} s)"
    return redact_text(text)


def _aware(dt):
    if dt is None:
        return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _date(dt: datetime | None, what: str):
    """Aware UTC datetime truncated to ms (what BSON can hold), for queries and documents."""
    return None if dt is None else ensure_utc(dt, what)


def _num(x) -> float:
    """A float of a number MongoDB returned (int, float, Int64, Decimal128); NaN for None."""
    if x is None:
        return float("nan")
    return float(x) if isinstance(x, _NUMERIC_TYPES) else float(str(x))


def _num_expr(field: str) -> dict:
    """Aggregation expression: the number a value counts as (bools as 0/1), null for NaN and non-numbers."""
    return {"$switch": {"branches": [
        {"case": {"$and": [{"$isNumber": field}, {"$gte": [field, float("-inf")]},
                           {"$lte": [field, float("inf")]}]}, "then": field},
        {"case": {"$in": [field, [True, False]]}, "then": {"$cond": [field, 1, 0]}}],
        "default": None}}


def _merge_row(rows: dict, k: tuple, r: list) -> None:
    """Merge an aggregate row ``[n, nn, s, mn, mx, f, l]`` into ``rows[k]``."""
    o = rows.get(k)
    if o is None:
        rows[k] = r
        return
    o[0] += r[0]
    o[1] += r[1]
    o[2] += r[2]
    o[3], o[4] = float(np.fmin(o[3], r[3])), float(np.fmax(o[4], r[4]))
    o[5], o[6] = min(o[5], r[5]), max(o[6], r[6])


def _is_mongomock(client) -> bool:
    return type(client).__module__.split(".", 1)[0] == "mongomock"


def _where(client, fallback: str = "") -> str:
    if fallback:
        return fallback
    if _is_mongomock(client):
        return "mongomock"
    try:
        servers = client.topology_description.server_descriptions()
        return ", ".join(f"{h}:{p}" for h, p in servers) or "MongoDB"
    except Exception:  # noqa: BLE001 - only for a message
        return "MongoDB"


class MongoErrors:
    """Turn pymongo errors into StoreError naming the server (password redacted), the database and the action."""

    def __init__(self, where: str, db_name: str, what: str):
        self.where, self.db_name, self.what = where, db_name, what

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        from pymongo.errors import PyMongoError

        if exc is not None and isinstance(exc, PyMongoError):
            from ..errors import StoreError
            raise StoreError(f"MongoDB {self.where} (database {self.db_name!r}): {self.what} failed: "
                             f"{_short(exc)}") from exc
        return False


class MongoCollections:
    """The database a store works on: its collections by role, where it is (for messages) and whether it is
    mongomock. The store and each of its parts hold the same one object."""

    def __init__(self, db, where: str, mock: bool):
        self.db = db
        self.db_name = db.name
        self.where = where
        self.mock = mock
        self.streams = db[STREAMS]
        self.definitions = db[DEFINITIONS]
        self.runs = db[RUNS]
        self.lod = db[LOD]
        self.lod_state = db[LOD_STATE]
        self.changes = db[CHANGES]
        self.pending = db[PENDING]

    def errors(self, what: str) -> MongoErrors:
        """A context that turns a pymongo error inside it into a StoreError saying ``what`` failed."""
        return MongoErrors(self.where, self.db_name, what)


class MongoStreamIds:
    """Which raw ``stream_id`` documents stand for a StreamId.

    MongoDB compares embedded documents field by field *in order*, and HyperStream may have written meta-data
    pairs in another order (or with numbers where we keep text). So the exact raw id of every definition or
    instance read is remembered and queried with; for a stream not seen yet the queries try our
    ``StreamId.as_raw()`` form plus the other pair orders (all of them for up to three pairs), which the
    ``stream_id`` index answers directly.
    """

    def __init__(self):
        self._raw: dict = {}
        self._lock = threading.Lock()

    def remember(self, stream_id, raw: dict) -> None:
        with self._lock:
            self._raw[stream_id] = raw

    def known(self, stream_id) -> dict | None:
        """The raw id seen for the stream, or None."""
        return self._raw.get(stream_id)

    def candidates(self, stream_id) -> list[dict]:
        raw = self._raw.get(stream_id)
        if raw is not None:
            return [raw]
        pairs = list(stream_id.meta_data)
        out = [stream_id.as_raw()]
        orders = itertools.permutations(pairs) if len(pairs) <= 3 else [tuple(sorted(pairs))]
        for o in orders:
            r = {"name": stream_id.name, "meta_data": [[k, v] for k, v in o]}
            if r not in out:
                out.append(r)
        return out

    def filter(self, stream_id, start=None, end=None) -> dict:
        """The ``streams`` query of the stream's instances in ``(start, end]`` (None: unbounded)."""
        c = self.candidates(stream_id)
        q = {"stream_id": c[0] if len(c) == 1 else {"$in": c}}
        rng = {}
        if start is not None:
            rng["$gt"] = _date(start, "start")
        if end is not None:
            rng["$lte"] = _date(end, "end")
        if rng:
            q["datetime"] = rng
        return q


def parse_intervals(where: str, stream_id, stored) -> TimeIntervals:
    """Calculated intervals as stored in a definition; a malformed one is dropped (logged)."""
    ivs = []
    for iv in stored or []:
        try:
            ivs.append(TimeInterval(_aware(iv["start"]), _aware(iv["end"])))
        except Exception as e:  # noqa: BLE001 - a malformed interval must not hide the stream
            log.warning("MongoDB %s: stream %s: ignoring calculated interval %r: %s", where, stream_id, iv, e)
    return TimeIntervals(ivs)
