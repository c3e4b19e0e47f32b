"""Names and small helpers shared by the MongoDB store and its level-of-detail upkeep."""
from __future__ import annotations

import re

import logging
from datetime import datetime

import numpy as np

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
