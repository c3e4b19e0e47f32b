"""The MongoDB store, in exactly HyperStream's own layout (so an existing HyperStream database opens unchanged).

Collections
-----------
``streams``
    one document per instance, as HyperStream writes it::

        {stream_id: {name, meta_data: [[k, v], ...]}, stream_type?, datetime: <date>, value: <any>}

    unique index ``(stream_id, datetime)``, index ``stream_id``.
``stream_definitions``
    ``{stream_id: {...}, stream_type?, channel_id, last_updated, last_accessed,
    calculated_intervals: [{start, end}, ...], sandbox}``, unique index ``stream_id``.
``hsgui_tool_runs``
    HyperStream Studio's tool-run history (an extra collection HyperStream ignores).
``hsgui_lod`` and ``hsgui_lod_state``
    Precomputed level-of-detail aggregates (extra collections HyperStream
    ignores; created on the first aggregate write), see below.

Level of detail
---------------
``hsgui_lod`` holds ``{key: StreamId.key, comp, level, bucket, n, nn, s, mn, mx,
f, l}`` (unique index ``(key, comp, level, bucket)``) with the same levels,
bucket rule and numpy arithmetic as the SQLite store
(:mod:`channels.stores.lod_levels`): ``comp`` is ``""`` for the value itself and
the name of every numeric top-level component of dict values otherwise (the
component ``""`` itself is summarised by the pipeline); ``mn``/``mx`` are
absent while a bucket has no number; ``f``/``l`` are epoch ms.
``hsgui_lod_state`` holds per stream ``{key, version, epoch, level, n,
first_ms, last_ms, pending, pending_at}``: the finest kept level, the
instances and the first/last instance time the aggregates cover, and how many
writers are changing them right now. Streams get aggregates once they reach
``LOD_MIN_INSTANCES`` instances. ``summary()`` is then answered as in SQLite
(whole level buckets plus the ragged ends from the instances: O(buckets +
levels), same exactness bound), otherwise by the aggregation pipeline.

Maintenance: ``insert`` claims the state (an atomic compare-and-set on
``first_ms``/``last_ms`` = the stream's ends it just read and ``pending == 0``,
incrementing ``pending``), writes the instances, upserts the batch's
aggregates (``$inc`` n/nn/s, ``$min`` mn/f, ``$max`` mx/l; NaN never sent) and
releases the claim (``pending`` back, ``n``/ends updated). ``purge`` of a
range recomputes only the (at most two per level) level buckets it cuts and
deletes those it covers; purging everything deletes the stream's aggregates.
A failed or contended maintenance step deletes the stream's aggregates (they
are rebuilt) rather than leave ones that cannot be trusted.

Writes by others (HyperStream writes ``streams`` directly), checked by every
``summary()`` with two index seeks (the stream's first and last instance):

* instances appended after ``last_ms`` or prepended before ``first_ms``:
  detected, and added to the aggregates incrementally (reading only them);
* deletions at either end (the first or last instance changed) or of the whole
  stream: detected; the aggregates are dropped or rebuilt;
* a writer that died between claim and release: ``pending`` stays set;
  the pipeline answers until the claim is ``_PENDING_STALE_S`` old, then the
  aggregates are rebuilt;
* NOT detected: changes strictly between the first and last instance the
  aggregates cover (an insert, delete or rewrite in the middle, or a deletion
  at the end followed by appends past the old end). After such writes call
  :meth:`MongoStore.rebuild_lod` (counting the range to compare with ``n``
  would make every summary O(n) on MongoDB, so it is not done).

Aggregates that are missing or stale are rebuilt by ``summary()`` when the
stream has more than ``lod_rebuild_min`` (10,000) instances (one bounded
``count_documents(limit=...)`` decides); smaller streams use the pipeline,
which is cheap for them. ``rebuild_lod`` runs two aggregation passes on the
server (values; ``$objectToArray`` components) grouped by the finest level's
bucket and derives the coarser levels in numpy; its finest level follows
from the mean instance spacing (a batch uses the median, as SQLite does).
Concurrent writers are safe against each other through the claim, but a
rebuild racing with an insert into the middle of the stream can miss it (no
multi-document transactions): best effort, like ``insert`` itself.

MongoDB compares embedded documents field by field *in order*, and HyperStream
may have written meta-data pairs in another order (or with numbers where we
keep text). So the store remembers the exact raw ``stream_id`` of every
definition it reads and queries with that; for a stream it has not seen it
tries our ``StreamId.as_raw()`` form plus the other pair orders (all of them
for up to three pairs), which the ``stream_id`` index answers directly.

Values are stored BSON-native (see :mod:`channels.stores.codec`); datetimes
come back aware UTC whatever ``tz_aware`` the client has.

Atomicity: without a replica set there are no multi-document transactions, so
``insert`` is made atomic *best-effort*: the whole batch is validated and
checked for duplicates first (one ``$in`` query over its datetimes, chunked
for very large batches), then written with one ``insert_many``; if that fails
part-way, the documents it did insert are deleted again before the error is
raised. Calculated intervals are written after the data (so they never claim
data that is not there).

Reads against writes: MongoDB without a replica set has no snapshot reads, so a
count or summary racing an ``insert_many`` could see part of a batch. Within
one process the store serialises its batch writes (``insert``, ``purge``) with
its multi-document reads (``count``, ``first``/``last``, ``columns``,
``summary``) by a lock, so those never see half a batch written through this
store object. Writes by other processes (or other store objects) are not
covered: that would need a replica set and snapshot sessions.
"""
from __future__ import annotations

import re

import itertools
import logging
import threading
from datetime import datetime
from typing import Iterator, Sequence

import numpy as np

from ..errors import (ConfigError, DuplicateInstanceError, StoreError, StreamAlreadyExistsError, StreamIdError,
                      StreamNotFoundError, TimeError, ValueEncodingError)
from ..lod import Summary, bucket_edges, summarise_arrays
from ..stream import StreamId, StreamInstance
from ..time_interval import TimeInterval, TimeIntervals
from ..utils import UTC, ensure_utc, redact_uri, utcnow  # noqa: F401 - redact_uri re-exported
from .base import UPDATABLE_FIELDS, Store, StreamDefinition, check_collection, check_not_future
from .codec import MONGO_TAG, decode_bson, dt_ms, encode_bson, ms_dt, numeric, values_equal
from .lod_levels import LEVEL_WIDTHS_MS, LOD_MIN_INSTANCES, LOD_PER_BUCKET, Agg, assemble, choose_lod_level, summary_plan

log = logging.getLogger(__name__)

STREAMS = "streams"
DEFINITIONS = "stream_definitions"
RUNS = "hsgui_tool_runs"
LOD = "hsgui_lod"
LOD_STATE = "hsgui_lod_state"
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
    return redact_uri(text)


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


class MongoStore(Store):
    """HyperStream's MongoDB layout through pymongo (works on a real server and on mongomock).

    ``client_or_uri`` is a ``pymongo.MongoClient`` (or mongomock's) or a
    ``mongodb://`` URI. A URI gets a ``server_selection_timeout_ms`` so an
    unreachable server is a StoreError (naming the host, password redacted)
    in seconds; a given client is pinged once with the client's own settings.
    """

    #: a stream without current aggregates is rebuilt by ``summary()`` when it has more instances than this
    lod_rebuild_min = 10_000

    def __init__(self, client_or_uri, db_name: str | None = "hyperstream", server_selection_timeout_ms: int = 3000,
                 *, _where_text: str = "", _client_class=None):
        import pymongo
        from pymongo.errors import PyMongoError

        self._own_client = isinstance(client_or_uri, str)
        if self._own_client:
            uri = client_or_uri
            where = _where_text or redact_uri(uri)
            cls = _client_class or pymongo.MongoClient
            opts = {}  # options written in the URI win
            if "serverselectiontimeoutms" not in uri.lower():
                opts["serverSelectionTimeoutMS"] = int(server_selection_timeout_ms)
            if "connecttimeoutms" not in uri.lower():
                opts["connectTimeoutMS"] = int(server_selection_timeout_ms)
            try:
                client = cls(uri, **opts)
            except PyMongoError as e:
                raise StoreError(f"cannot connect to MongoDB {where}: {e}") from e
            if db_name is None:
                try:
                    db_name = client.get_default_database().name
                except Exception:  # noqa: BLE001 - no database in the URI
                    db_name = "hyperstream"
        else:
            client = client_or_uri
            where = _where(client, _where_text)
        self.client = client
        self.db_name = db_name or "hyperstream"
        self._where = where
        self._mock = _is_mongomock(client)
        self.description = f"MongoDB {where} / {self.db_name}" + (" (mongomock)" if self._mock and
                                                                   where != "mongomock" else "")
        self._raw_ids: dict[StreamId, dict] = {}
        self._lock = threading.Lock()
        #: serialises batch writes with multi-document reads (see "Reads against writes" above)
        self._batch_lock = threading.RLock()
        self._lod_indexed = False
        # mongomock's bulk_write does not take the UpdateOne of pymongo >= 4.9 (``sort``): merge in Python there
        self._bulk_upserts = not self._mock
        try:
            if not self._mock:
                client.admin.command("ping")
            self.db = client[self.db_name]
            self._streams = self.db[STREAMS]
            self._defs = self.db[DEFINITIONS]
            self._runs = self.db[RUNS]
            self._lod = self.db[LOD]
            self._lod_state = self.db[LOD_STATE]
        except PyMongoError as e:
            self.close()
            raise StoreError(f"cannot reach MongoDB {where} (database {self.db_name!r}): {_short(e)}") from e
        self._ensure_indexes()

    # -- construction helpers ---------------------------------------------------------------------------------
    @classmethod
    def from_uri(cls, uri: str, db: str | None = None, server_selection_timeout_ms: int = 3000,
                 client_class=None) -> "MongoStore":
        """A store on ``uri``; the database is ``db``, else the URI's, else ``hyperstream``."""
        return cls(uri, db_name=db, server_selection_timeout_ms=server_selection_timeout_ms,
                   _client_class=client_class)

    @classmethod
    def from_config(cls, config: dict, server_selection_timeout_ms: int = 3000, client_class=None) -> "MongoStore":
        """A store from HyperStream's configuration: ``{"mongo": {"host", "port", "db", "tz_aware", ...}}``.

        Understood keys: ``host`` (a name or a ``mongodb://`` URI), ``port``,
        ``db``, ``tz_aware``, ``username``, ``password``,
        ``authentication_database`` (or ``authSource``); any other key is
        handed to ``MongoClient`` as an option. The inner ``mongo`` dict may be
        given directly too.
        """
        import pymongo
        from pymongo.errors import ConfigurationError, PyMongoError

        if not isinstance(config, dict):
            raise ConfigError(f"the MongoDB configuration must be a dict, got {type(config).__name__}")
        mongo = config.get("mongo", config if "host" in config or "db" in config else None)
        if not isinstance(mongo, dict):
            raise ConfigError("the configuration has no 'mongo' section (expected {'mongo': {'host', 'port', 'db'}})")
        mongo = dict(mongo)
        host = mongo.pop("host", "localhost")
        port = mongo.pop("port", None)
        db = mongo.pop("db", None)
        if db is not None and not isinstance(db, str):
            raise ConfigError(f"mongo.db must be text, got {db!r}")
        if port is not None:
            try:
                port = int(port)
            except (TypeError, ValueError):
                raise ConfigError(f"mongo.port must be a number, got {port!r}") from None
        kwargs = {}
        if "tz_aware" in mongo:
            kwargs["tz_aware"] = bool(mongo.pop("tz_aware"))
        user = mongo.pop("username", None)
        password = mongo.pop("password", None)
        auth_db = mongo.pop("authentication_database", None) or mongo.pop("authSource", None)
        if user:
            kwargs["username"] = user
            if password is not None:
                kwargs["password"] = password
            if auth_db:
                kwargs["authSource"] = auth_db
        kwargs.update(mongo)
        kwargs.setdefault("serverSelectionTimeoutMS", int(server_selection_timeout_ms))
        kwargs.setdefault("connectTimeoutMS", int(server_selection_timeout_ms))
        where = redact_uri(str(host)) + (f":{port}" if port and "://" not in str(host) else "")
        if user and "://" not in str(host):
            where = f"{user}@{where}"
        cls_ = client_class or pymongo.MongoClient
        try:
            client = cls_(host=host, port=port, **kwargs)
        except (ConfigurationError, TypeError) as e:
            raise ConfigError(f"bad MongoDB configuration for {where}: {e}") from e
        except PyMongoError as e:
            raise StoreError(f"cannot connect to MongoDB {where}: {e}") from e
        try:
            store = cls(client, db_name=db or "hyperstream", _where_text=where)
        except StoreError:
            client.close()
            raise
        store._own_client = True
        return store

    def _ensure_indexes(self) -> None:
        from pymongo.errors import OperationFailure, PyMongoError

        specs = [(self._streams, [("stream_id", 1), ("datetime", 1)], True),
                 (self._streams, [("stream_id", 1)], False),
                 (self._defs, [("stream_id", 1)], True)]
        for coll, keys, unique in specs:
            try:
                coll.create_index(keys, unique=unique) if unique else coll.create_index(keys)
            except OperationFailure as e:  # an equivalent index under another name/options, or no permission
                log.info("MongoDB %s: index %s on %s not created: %s", self._where, keys, coll.name, e)
            except PyMongoError as e:
                raise StoreError(f"cannot use MongoDB {self._where} (database {self.db_name!r}): {e}") from e

    def close(self) -> None:
        if getattr(self, "_own_client", False):
            try:
                self.client.close()
            except Exception as e:  # noqa: BLE001 - closing must not fail the caller (app shutdown)
                log.warning("closing the MongoDB client failed: %s", e)

    def _errors(self, what: str):
        return _MongoErrors(self, what)

    # -- stream ids --------------------------------------------------------------------------------------------
    def _remember(self, stream_id: StreamId, raw: dict) -> None:
        with self._lock:
            self._raw_ids[stream_id] = raw

    def _candidates(self, stream_id: StreamId) -> list[dict]:
        raw = self._raw_ids.get(stream_id)
        if raw is not None:
            return [raw]
        pairs = list(stream_id.meta_data)
        out = [stream_id.as_raw()]
        if len(pairs) <= 3:
            orders = itertools.permutations(pairs)
        else:
            orders = [tuple(sorted(pairs))]
        for o in orders:
            r = {"name": stream_id.name, "meta_data": [[k, v] for k, v in o]}
            if r not in out:
                out.append(r)
        return out

    def _filter(self, stream_id: StreamId, start=None, end=None) -> dict:
        c = self._candidates(stream_id)
        q = {"stream_id": c[0] if len(c) == 1 else {"$in": c}}
        rng = {}
        if start is not None:
            rng["$gt"] = _date(start, "start")
        if end is not None:
            rng["$lte"] = _date(end, "end")
        if rng:
            q["datetime"] = rng
        return q

    def _raw_for_write(self, stream_id: StreamId) -> dict:
        raw = self._raw_ids.get(stream_id)
        if raw is not None:
            return raw
        if self.get_definition(stream_id) is not None:
            return self._raw_ids[stream_id]
        doc = self._streams.find_one({"stream_id": {"$in": self._candidates(stream_id)}}, {"stream_id": 1})
        if doc is not None:
            self._remember(stream_id, doc["stream_id"])
            return doc["stream_id"]
        return stream_id.as_raw()

    # -- definitions -------------------------------------------------------------------------------------------
    def _definition(self, doc) -> StreamDefinition | None:
        raw = doc.get("stream_id")
        try:
            sid = StreamId(raw["name"], raw.get("meta_data") or None)
        except (StreamIdError, KeyError, TypeError) as e:
            log.warning("MongoDB %s: skipping stream definition with unreadable stream id %r: %s", self._where, raw, e)
            return None
        self._remember(sid, raw)
        ivs = []
        for iv in doc.get("calculated_intervals") or []:
            try:
                ivs.append(TimeInterval(_aware(iv["start"]), _aware(iv["end"])))
            except Exception as e:  # noqa: BLE001 - a malformed interval must not hide the stream
                log.warning("MongoDB %s: stream %s: ignoring calculated interval %r: %s", self._where, sid, iv, e)
        return StreamDefinition(sid, doc.get("channel_id"), TimeIntervals(ivs), _aware(doc.get("last_updated")),
                                _aware(doc.get("last_accessed")), doc.get("sandbox"), doc.get("stream_type"))

    def list_definitions(self, channel_id: str | None = None) -> list[StreamDefinition]:
        with self._errors("listing stream definitions"):
            docs = list(self._defs.find({} if channel_id is None else {"channel_id": channel_id}, {"_id": 0}))
        out = [d for d in map(self._definition, docs) if d is not None]
        out.sort(key=lambda d: d.stream_id)
        return out

    def get_definition(self, stream_id: StreamId) -> StreamDefinition | None:
        with self._errors(f"reading the definition of {stream_id}"):
            doc = self._defs.find_one({"stream_id": {"$in": self._candidates(stream_id)}}, {"_id": 0})
            if doc is None:  # e.g. numbers as meta-data values: compare ids in Python
                for d in self._defs.find({"stream_id.name": stream_id.name}, {"_id": 0}):
                    try:
                        if StreamId(d["stream_id"]["name"], d["stream_id"].get("meta_data") or None) == stream_id:
                            doc = d
                            break
                    except (StreamIdError, KeyError, TypeError):
                        continue
        return None if doc is None else self._definition(doc)

    def create_definition(self, definition: StreamDefinition) -> None:
        from pymongo.errors import DuplicateKeyError

        sid = definition.stream_id
        if self.get_definition(sid) is not None:
            raise StreamAlreadyExistsError(sid, definition.channel_id)
        raw = self._raw_ids.get(sid) or sid.as_raw()
        doc = {"stream_id": raw}
        if definition.stream_type is not None:
            doc["stream_type"] = definition.stream_type
        doc.update({"channel_id": definition.channel_id,
                    "last_updated": _date(definition.last_updated, "last_updated"),
                    "last_accessed": _date(definition.last_accessed, "last_accessed"),
                    "calculated_intervals": self._intervals(definition.calculated_intervals),
                    "sandbox": definition.sandbox})
        try:
            with self._errors(f"creating stream {sid}"):
                self._defs.insert_one(doc)
        except StoreError as e:
            if isinstance(e.__cause__, DuplicateKeyError):
                raise StreamAlreadyExistsError(sid, definition.channel_id) from None
            raise
        self._remember(sid, raw)

    @staticmethod
    def _intervals(intervals) -> list[dict]:
        return [{"start": _date(iv.start, "interval start"), "end": _date(iv.end, "interval end")}
                for iv in TimeIntervals(intervals)]

    def update_definition(self, stream_id: StreamId, **fields) -> None:
        bad = set(fields) - set(UPDATABLE_FIELDS)
        if bad:
            raise StoreError(f"cannot update {', '.join(sorted(bad))} of stream {stream_id}: "
                             f"updatable fields are {', '.join(UPDATABLE_FIELDS)}")
        if self.get_definition(stream_id) is None:
            raise StreamNotFoundError(stream_id)
        sets = {}
        for k, v in fields.items():
            if k == "calculated_intervals":
                v = self._intervals(v)
            elif k in ("last_updated", "last_accessed"):
                v = _date(v, k)
            sets[k] = v
        if not sets:
            return
        with self._errors(f"updating stream {stream_id}"):
            res = self._defs.update_one({"stream_id": self._raw_ids[stream_id]}, {"$set": sets})
        if res.matched_count == 0:
            raise StreamNotFoundError(stream_id)

    def delete_definition(self, stream_id: StreamId) -> None:
        """Remove the definition only; the instances stay until purged (as in HyperStream)."""
        if self.get_definition(stream_id) is None:
            return
        with self._errors(f"deleting stream {stream_id}"):
            self._defs.delete_one({"stream_id": self._raw_ids[stream_id]})

    def _set_intervals(self, stream_id, intervals):
        with self._errors(f"updating the calculated intervals of {stream_id}"):
            res = self._defs.update_one({"stream_id": self._raw_ids[stream_id]},
                                        {"$set": {"calculated_intervals": self._intervals(intervals),
                                                  "last_updated": _date(utcnow(), "now")}})
        if res.matched_count == 0:
            raise StreamNotFoundError(stream_id)

    # -- instances ---------------------------------------------------------------------------------------------
    def insert(self, stream_id: StreamId, instances: Sequence[StreamInstance],
               calculated_intervals: TimeIntervals | None = None) -> int:
        with self._batch_lock:
            return self._insert_locked(stream_id, instances, calculated_intervals=calculated_intervals)

    def _insert_locked(self, stream_id: StreamId, instances: Sequence[StreamInstance],
               calculated_intervals: TimeIntervals | None = None) -> int:
        """See :meth:`Store.insert` and the module docstring on atomicity (best-effort without a replica set)."""
        from bson import ObjectId
        from pymongo.errors import BulkWriteError, PyMongoError

        instances = list(instances)
        if calculated_intervals is not None and self.get_definition(stream_id) is None:
            raise StreamNotFoundError(stream_id)
        # validate and encode everything first
        ms, values, encoded = [], [], []
        for i, inst in enumerate(instances):
            try:
                ts, value = inst
            except (TypeError, ValueError):
                raise TimeError(f"item {i} of the batch for stream {stream_id} is not a (timestamp, value) "
                                f"pair: {inst!r}") from None
            if not isinstance(ts, datetime):
                raise TimeError(f"item {i} of the batch for stream {stream_id}: timestamp {ts!r} is not a datetime")
            try:
                ms.append(dt_ms(ts))
                encoded.append(encode_bson(value))
            except ValueEncodingError as e:
                raise ValueEncodingError(f"stream {stream_id}, instance {i} at {ts.isoformat()}: {e}; "
                                         f"nothing of this batch was written") from None
            values.append(value)
        if not instances:
            if calculated_intervals is not None:
                self._set_intervals(stream_id, calculated_intervals)
            return 0
        check_not_future(stream_id, max(ms))
        # duplicates within the batch
        order = sorted(range(len(ms)), key=ms.__getitem__)
        keep, first_of = [], {}
        for i in order:
            t = ms[i]
            j = first_of.get(t)
            if j is None:
                first_of[t] = i
                keep.append(i)
            elif not values_equal(values[j], values[i]):
                raise DuplicateInstanceError(stream_id, ms_dt(t), values[j], values[i])
        with self._errors(f"writing to stream {stream_id}"):
            raw = self._raw_for_write(stream_id)
            # duplicates against the stored instances
            last = self._streams.find_one({"stream_id": raw}, {"datetime": 1}, sort=[("datetime", -1)])
            firstdoc = self._streams.find_one({"stream_id": raw}, {"datetime": 1}, sort=[("datetime", 1)])
            lo, hi = ms[keep[0]], ms[keep[-1]]
            if last is not None and not (lo > dt_ms(_aware(last["datetime"])) or
                                         hi < dt_ms(_aware(firstdoc["datetime"]))):
                stored = {}
                for c in range(0, len(keep), _IN_CHUNK):
                    dates = [ms_dt(ms[i]) for i in keep[c:c + _IN_CHUNK]]
                    for d in self._streams.find({"stream_id": raw, "datetime": {"$in": dates}},
                                                {"datetime": 1, "value": 1}):
                        stored[dt_ms(_aware(d["datetime"]))] = d.get("value")
                if stored:
                    fresh = []
                    for i in keep:
                        if ms[i] in stored:
                            old = decode_bson(stored[ms[i]])
                            if not values_equal(old, values[i]):
                                raise DuplicateInstanceError(stream_id, ms_dt(ms[i]), old, values[i])
                        else:
                            fresh.append(i)
                    keep = fresh
            docs = [{"_id": ObjectId(), "stream_id": raw, "datetime": ms_dt(ms[i]), "value": encoded[i]}
                    for i in keep]
        if docs:
            prev = (None if firstdoc is None else dt_ms(_aware(firstdoc["datetime"])),
                    None if last is None else dt_ms(_aware(last["datetime"])))
            claim = self._lod_claim(stream_id.key, *prev) if last is not None else None
            try:
                self._streams.insert_many(docs, ordered=True)
            except (BulkWriteError, PyMongoError) as e:
                self._rollback([d["_id"] for d in docs])
                self._lod_release(claim)
                if isinstance(e, BulkWriteError) and any(err.get("code") == 11000
                                                         for err in e.details.get("writeErrors", [])):
                    err = e.details["writeErrors"][0]
                    op = err.get("op") or {}
                    when = op.get("datetime")
                    raise DuplicateInstanceError(stream_id, _aware(when) if when else ms_dt(lo), None,
                                                 decode_bson(op.get("value"))) from e
                raise StoreError(f"MongoDB {self._where}: writing to stream {stream_id} failed "
                                 f"(the part written was removed again): {e}") from e
            self._lod_after_insert(stream_id, raw, claim, prev[1] is None, [ms[i] for i in keep],
                                   [values[i] for i in keep])
        self._remember(stream_id, raw)
        if calculated_intervals is not None:
            self._set_intervals(stream_id, calculated_intervals)
        return len(docs)

    def _rollback(self, ids) -> None:
        try:
            for c in range(0, len(ids), _IN_CHUNK):
                self._streams.delete_many({"_id": {"$in": ids[c:c + _IN_CHUNK]}})
        except Exception as e:  # noqa: BLE001 - report the original error, log this one
            log.error("MongoDB %s: could not remove a half-written batch: %s", self._where, e)

    def read(self, stream_id: StreamId, start: datetime | None, end: datetime | None) -> Iterator[StreamInstance]:
        q = self._filter(stream_id, start, end)
        return self._read(stream_id, q)

    def _read(self, stream_id, q):
        make = StreamInstance._make
        with self._errors(f"reading stream {stream_id}"):
            cur = self._streams.find(q, {"_id": 0, "datetime": 1, "value": 1}).sort("datetime", 1).batch_size(10_000)
            for d in cur:
                yield make((_aware(d["datetime"]), decode_bson(d.get("value"))))

    def count(self, stream_id: StreamId, start: datetime | None, end: datetime | None) -> int:
        with self._batch_lock:
            return self._count_locked(stream_id, start, end)

    def _count_locked(self, stream_id: StreamId, start: datetime | None, end: datetime | None) -> int:
        with self._errors(f"counting stream {stream_id}"):
            return self._streams.count_documents(self._filter(stream_id, start, end))

    def _one(self, stream_id, start, end, direction):
        with self._errors(f"reading stream {stream_id}"):
            d = self._streams.find_one(self._filter(stream_id, start, end), {"_id": 0, "datetime": 1, "value": 1},
                                       sort=[("datetime", direction)])
        if d is None:
            return None
        return StreamInstance._make((_aware(d["datetime"]), decode_bson(d.get("value"))))

    def first(self, stream_id: StreamId, start=None, end=None) -> StreamInstance | None:
        with self._batch_lock:
            return self._first_locked(stream_id, start=start, end=end)

    def _first_locked(self, stream_id: StreamId, start=None, end=None) -> StreamInstance | None:
        return self._one(stream_id, start, end, 1)

    def last(self, stream_id: StreamId, start=None, end=None) -> StreamInstance | None:
        with self._batch_lock:
            return self._last_locked(stream_id, start=start, end=end)

    def _last_locked(self, stream_id: StreamId, start=None, end=None) -> StreamInstance | None:
        return self._one(stream_id, start, end, -1)

    def purge(self, stream_id: StreamId, start: datetime | None = None, end: datetime | None = None,
              calculated_intervals: TimeIntervals | None = None) -> int:
        with self._batch_lock:
            return self._purge_locked(stream_id, start=start, end=end, calculated_intervals=calculated_intervals)

    def _purge_locked(self, stream_id: StreamId, start: datetime | None = None, end: datetime | None = None,
              calculated_intervals: TimeIntervals | None = None) -> int:
        if calculated_intervals is not None and self.get_definition(stream_id) is None:
            raise StreamNotFoundError(stream_id)
        whole = start is None and end is None
        claim = None
        if not whole:
            claim = self._lod_claim_current(stream_id)
        try:
            with self._errors(f"purging stream {stream_id}"):
                n = self._streams.delete_many(self._filter(stream_id, start, end)).deleted_count
        except StoreError:
            self._lod_release(claim)
            raise
        if whole:
            self._lod_drop(stream_id.key)
        elif claim is not None:
            lo = _NO_START if start is None else dt_ms(_date(start, "start"))
            hi = _NO_END if end is None else dt_ms(_date(end, "end"))
            self._lod_after_purge(stream_id, claim, n, lo, hi)
        if calculated_intervals is not None:
            self._set_intervals(stream_id, calculated_intervals)
        return n

    def _numeric_docs(self, stream_id, start, end, component):
        """``(ms list, float-or-None list)`` of every instance in range, in time order."""
        ms, nums = [], []
        with self._errors(f"reading stream {stream_id}"):
            cur = self._streams.find(self._filter(stream_id, start, end), {"_id": 0, "datetime": 1, "value": 1})
            for d in cur.sort("datetime", 1).batch_size(10_000):
                v = d.get("value")
                if component is not None:
                    if isinstance(v, dict):
                        if MONGO_TAG in v:
                            v = decode_bson(v)
                        v = v.get(component) if isinstance(v, dict) else None
                    else:
                        v = None
                elif isinstance(v, dict) and MONGO_TAG in v:  # an int beyond int64 is a number too
                    v = decode_bson(v)
                ms.append(dt_ms(_aware(d["datetime"])))
                nums.append(numeric(v))
        return ms, nums

    def columns(self, stream_id: StreamId, start, end, component: str | None = None):
        with self._batch_lock:
            return self._columns_locked(stream_id, start, end, component=component)

    def _columns_locked(self, stream_id: StreamId, start, end, component: str | None = None):
        """``(ms int64, values float64)`` of the instances with a numeric value (or ``value[component]``)."""
        ms, nums = self._numeric_docs(stream_id, start, end, component)
        keep = [i for i, x in enumerate(nums) if x is not None]
        return (np.array([ms[i] for i in keep], dtype=np.int64),
                np.array([nums[i] for i in keep], dtype=np.float64))

    def summary(self, stream_id: StreamId, start: datetime, end: datetime, buckets: int,
                component: str | None = None) -> Summary:
        with self._batch_lock:
            return self._summary_locked(stream_id, start, end, buckets, component=component)

    def _summary_locked(self, stream_id: StreamId, start: datetime, end: datetime, buckets: int,
                component: str | None = None) -> Summary:
        """Bucketed summary from the precomputed aggregates when they are current (see "Level of detail"
        in the module docstring), else by :meth:`_summary_pipeline`."""
        s_dt, e_dt = _date(start, "summary start"), _date(end, "summary end")
        if s_dt is None or e_dt is None:
            raise TimeError("a summary needs both a start and an end time")
        s_ms, e_ms = dt_ms(s_dt), dt_ms(e_dt)
        edges = bucket_edges(s_ms, e_ms, int(buckets))
        state = None if component == "" else self._lod_for_summary(stream_id)
        if state is _EMPTY:
            return assemble(s_ms, e_ms, edges, [], [])
        if state is not None:
            return self._summary_from_lod(stream_id, state, s_ms, e_ms, edges, component)
        return self._summary_pipeline(stream_id, start, end, buckets, component)

    def _summary_pipeline(self, stream_id: StreamId, start: datetime, end: datetime, buckets: int,
                          component: str | None = None) -> Summary:
        """Bucketed summary by an aggregation pipeline on the server.

        ``$match`` on the range, bucket index ``floor((ms - start) * buckets - 1) / width)``
        computed exactly with ``$subtract``/``$multiply``/``$mod``/``$divide``,
        numbers picked with ``$isNumber`` (MongoDB >= 4.4; bools as 0/1, NaN left
        out), then ``$group``. This is O(instances in range) on MongoDB: the
        fallback for streams without current precomputed aggregates.
        A component name MongoDB cannot use as a field path (``$``-prefixed, with
        ``.``) is summarised from ``columns()``-style reads in numpy instead.
        """
        s_dt, e_dt = _date(start, "summary start"), _date(end, "summary end")
        if s_dt is None or e_dt is None:
            raise TimeError("a summary needs both a start and an end time")
        s_ms, e_ms = dt_ms(s_dt), dt_ms(e_dt)
        edges = bucket_edges(s_ms, e_ms, int(buckets))
        buckets = int(buckets)
        if component is not None and (component.startswith("$") or "." in component or not component):
            ms, nums = self._numeric_docs(stream_id, start, end, component)
            vals = np.array([np.nan if x is None else x for x in nums], dtype=np.float64)
            return summarise_arrays(np.array(ms, dtype=np.int64), vals, s_ms, e_ms, buckets)
        span = e_ms - s_ms
        field = "$value" if component is None else f"$value.{component}"
        num = {"$switch": {"branches": [
            {"case": {"$and": [{"$isNumber": field}, {"$gte": [field, float("-inf")]},
                               {"$lte": [field, float("inf")]}]}, "then": field},
            {"case": {"$in": [field, [True, False]]}, "then": {"$cond": [field, 1, 0]}}],
            "default": None}}
        # mongomock keeps dates naive and cannot subtract an aware one; pymongo sends either as UTC
        x = {"$subtract": ["$datetime", s_dt.replace(tzinfo=None) if self._mock else s_dt]}
        a = {"$subtract": [{"$multiply": [x, buckets]}, 1]}
        idx = {"$floor": {"$add": [{"$divide": [{"$subtract": [a, {"$mod": [a, span]}]}, span]}, 0.5]}}
        pipeline = [
            {"$match": self._filter(stream_id, start, end)},
            {"$project": {"_id": 0, "datetime": 1, "num": num, "idx": idx}},
            {"$group": {"_id": "$idx", "n": {"$sum": 1},
                        "nn": {"$sum": {"$cond": [{"$eq": ["$num", None]}, 0, 1]}},
                        "s": {"$sum": "$num"}, "mn": {"$min": "$num"}, "mx": {"$max": "$num"},
                        "f": {"$min": "$datetime"}, "l": {"$max": "$datetime"}}},
        ]
        count = np.zeros(buckets, np.int64)
        mn = np.full(buckets, np.nan)
        mx = np.full(buckets, np.nan)
        mean = np.full(buckets, np.nan)
        first = np.full(buckets, -1, np.int64)
        last = np.full(buckets, -1, np.int64)
        with self._errors(f"summarising stream {stream_id}"):
            for g in self._streams.aggregate(pipeline, allowDiskUse=True) if not self._mock else \
                    self._streams.aggregate(pipeline):
                i = int(g["_id"])
                if not 0 <= i < buckets:
                    continue
                count[i] = int(g["n"])
                first[i] = dt_ms(_aware(g["f"]))
                last[i] = dt_ms(_aware(g["l"]))
                nn = int(g["nn"])
                if nn:
                    mn[i] = float(str(g["mn"])) if not isinstance(g["mn"], _NUMERIC_TYPES) else float(g["mn"])
                    mx[i] = float(str(g["mx"])) if not isinstance(g["mx"], _NUMERIC_TYPES) else float(g["mx"])
                    s = g["s"]
                    s = float(str(s)) if not isinstance(s, _NUMERIC_TYPES) else float(s)
                    mean[i] = s / nn
        return Summary(s_ms, e_ms, edges, count, mn, mx, mean, first, last)

    # -- level of detail ---------------------------------------------------------------------------------------
    def _ensure_lod_indexes(self) -> None:
        """Created on the first aggregate write only, so a store that never needs them adds no collections."""
        if self._lod_indexed:
            return
        from pymongo.errors import OperationFailure

        for coll, keys in ((self._lod, [("key", 1), ("comp", 1), ("level", 1), ("bucket", 1)]),
                           (self._lod_state, [("key", 1)])):
            try:
                coll.create_index(keys, unique=True)
            except OperationFailure as e:
                log.info("MongoDB %s: index %s on %s not created: %s", self._where, keys, coll.name, e)
        self._lod_indexed = True

    def _ends(self, stream_id) -> tuple:
        """``(first_ms, last_ms)`` of the stream (``None`` when empty): two index seeks."""
        q = self._filter(stream_id)
        f = self._streams.find_one(q, {"_id": 0, "datetime": 1}, sort=[("datetime", 1)])
        if f is None:
            return None, None
        l_ = self._streams.find_one(q, {"_id": 0, "datetime": 1}, sort=[("datetime", -1)])
        return dt_ms(_aware(f["datetime"])), dt_ms(_aware(l_["datetime"]))

    def _lod_claim(self, key: str, first_ms, last_ms):
        """Atomically mark the stream's aggregates as being changed, if they are current for a stream whose
        first/last instances are ``first_ms``/``last_ms`` and nobody else is changing them; the state or None."""
        from pymongo import ReturnDocument

        if first_ms is None:
            return None
        return self._lod_state.find_one_and_update(
            {"key": key, "version": LOD_VERSION, "pending": 0, "first_ms": first_ms, "last_ms": last_ms,
             "level": {"$ne": None}},
            {"$inc": {"pending": 1}, "$set": {"pending_at": _date(utcnow(), "now")}},
            return_document=ReturnDocument.AFTER)

    def _lod_claim_current(self, stream_id):
        first_ms, last_ms = self._ends(stream_id)
        claim = self._lod_claim(stream_id.key, first_ms, last_ms)
        if claim is None:
            self._lod_drop(stream_id.key, only_if_exists=True)
        return claim

    def _lod_release(self, claim, dn: int = 0, first_ms=None, last_ms=None) -> None:
        """End a claim; ``first_ms``/``last_ms`` given = the stream's new ends (``None`` = unchanged)."""
        if claim is None:
            return
        upd = {"$inc": {"pending": -1, "n": int(dn)}}
        if first_ms is not None:
            upd["$set"] = {"first_ms": int(first_ms), "last_ms": int(last_ms)}
        try:
            self._lod_state.update_one({"key": claim["key"], "epoch": claim["epoch"]}, upd)
        except Exception as e:  # noqa: BLE001 - the data write stands; the aggregates stay marked as stale
            log.warning("MongoDB %s: level-of-detail state of %s not updated: %s", self._where, claim["key"], e)

    def _lod_drop(self, key: str, only_if_exists: bool = False) -> None:
        """Forget the stream's aggregates (state first, so nobody reads half-deleted aggregates as current)."""
        try:
            if only_if_exists and self._lod_state.find_one({"key": key}, {"_id": 1}) is None:
                return
            self._lod_state.delete_many({"key": key})
            self._lod.delete_many({"key": key})
        except Exception as e:  # noqa: BLE001 - logged; a stale state is caught by the checks in summary()
            log.warning("MongoDB %s: level-of-detail aggregates of %s not removed: %s", self._where, key, e)

    @staticmethod
    def _lod_series(ms_list, values) -> list[tuple]:
        """``[(comp, ms int64 sorted, values float64)]``: the values themselves (comp "") and every numeric
        top-level component of dict values (NaN = not numeric; components keep only their numeric values)."""
        ms = np.asarray(ms_list, dtype=np.int64)
        order = None if len(ms) < 2 or (np.diff(ms) > 0).all() else np.argsort(ms, kind="stable")
        nums = np.array([np.nan if x is None else x for x in map(numeric, values)], dtype=np.float64)
        comps: dict[str, tuple[list, list]] = {}
        for t, v in zip(ms_list, values):
            if type(v) is dict:
                for k, cv in v.items():
                    f = numeric(cv)
                    if f is not None and k != "":  # "" is the value itself; that component uses the pipeline
                        e = comps.get(k)
                        if e is None:
                            e = comps[k] = ([], [])
                        e[0].append(t)
                        e[1].append(f)
        if order is not None:
            ms, nums = ms[order], nums[order]
        out = [("", ms, nums)]
        for k, (cms, cv) in comps.items():
            a, v = np.array(cms, dtype=np.int64), np.array(cv, dtype=np.float64)
            o = np.argsort(a, kind="stable")
            out.append((str(k), a[o], v[o]))
        return out

    @staticmethod
    def _agg_rows(comp: str, level: int, agg: Agg) -> list[tuple]:
        return list(zip(itertools.repeat(comp), itertools.repeat(level), agg.bucket.tolist(), agg.n.tolist(),
                        agg.nn.tolist(), agg.s.tolist(), agg.mn.tolist(), agg.mx.tolist(), agg.f.tolist(),
                        agg.l.tolist()))

    def _levels_rows(self, comp: str, level: int, agg: Agg) -> list[tuple]:
        """Rows of ``agg`` (at ``level``) and of every coarser level."""
        rows = self._agg_rows(comp, level, agg)
        for k in range(level + 1, len(LEVEL_WIDTHS_MS)):
            agg = agg.coarser(LEVEL_WIDTHS_MS[k - 1], LEVEL_WIDTHS_MS[k])
            rows.extend(self._agg_rows(comp, k, agg))
        return rows

    def _add_lod(self, key: str, level: int, series) -> None:
        """Merge the aggregates of sorted instances into the stored ones ($inc / $min / $max upserts)."""
        rows = []
        for comp, ms, vals in series:
            if len(ms):
                rows.extend(self._levels_rows(comp, level, Agg.from_instances(ms, vals, LEVEL_WIDTHS_MS[level])))
        if not rows:
            return
        self._ensure_lod_indexes()
        if self._bulk_upserts:
            from pymongo import UpdateOne

            ops = []
            for comp, k, b, n, nn, s_, mn, mx, f, l_ in rows:
                upd = {"$inc": {"n": n, "nn": nn, "s": s_}, "$min": {"f": f}, "$max": {"l": l_}}
                if nn:  # never $min/$max a NaN: MongoDB orders NaN below every number
                    upd["$min"]["mn"] = mn
                    upd["$max"]["mx"] = mx
                ops.append(UpdateOne({"key": key, "comp": comp, "level": k, "bucket": b}, upd, upsert=True))
            for c in range(0, len(ops), _BULK_CHUNK):
                self._lod.bulk_write(ops[c:c + _BULK_CHUNK], ordered=False)
            return
        # mongomock: read the touched rows, merge in Python, write them back
        groups: dict[tuple, list] = {}
        for r in rows:
            groups.setdefault((r[0], r[1]), []).append(r)
        for (comp, k), rs in groups.items():
            wanted = {r[2] for r in rs}
            old = {d["bucket"]: d for d in self._lod.find(
                {"key": key, "comp": comp, "level": k, "bucket": {"$gte": rs[0][2], "$lte": rs[-1][2]}})
                if d["bucket"] in wanted}
            docs = []
            for _, _, b, n, nn, s_, mn, mx, f, l_ in rs:
                d = {"key": key, "comp": comp, "level": k, "bucket": b, "n": n, "nn": nn, "s": s_, "f": f, "l": l_}
                if nn:
                    d["mn"], d["mx"] = mn, mx
                o = old.get(b)
                if o is not None:
                    d["n"] += o["n"]
                    d["nn"] += o["nn"]
                    d["s"] += o["s"]
                    d["f"], d["l"] = min(f, o["f"]), max(l_, o["l"])
                    for fld, pick in (("mn", min), ("mx", max)):
                        if fld in o:
                            d[fld] = pick(d[fld], o[fld]) if fld in d else o[fld]
                docs.append(d)
            if old:
                self._lod.delete_many({"_id": {"$in": [o["_id"] for o in old.values()]}})
            self._lod.insert_many(docs)

    def _lod_new_state(self, key: str, level: int, n: int, first_ms: int, last_ms: int) -> dict:
        from bson import ObjectId

        self._ensure_lod_indexes()
        state = {"key": key, "version": LOD_VERSION, "epoch": ObjectId(), "level": int(level), "n": int(n),
                 "first_ms": int(first_ms), "last_ms": int(last_ms), "pending": 0, "pending_at": None}
        self._lod_state.replace_one({"key": key}, state, upsert=True)
        return state

    def _lod_after_insert(self, stream_id, raw, claim, was_empty: bool, w_ms: list, w_values: list) -> None:
        """Keep the aggregates current after ``insert_many`` wrote ``w_ms``/``w_values`` (best effort)."""
        key = stream_id.key
        try:
            if claim is not None:
                self._add_lod(key, claim["level"], self._lod_series(w_ms, w_values))
                first_ms, last_ms = min(claim["first_ms"], min(w_ms)), max(claim["last_ms"], max(w_ms))
                self._lod_release(claim, len(w_ms), first_ms, last_ms)
                return
            self._lod_drop(key, only_if_exists=True)  # stale or contended: never add to aggregates we cannot trust
            if was_empty:
                if len(w_ms) >= LOD_MIN_INSTANCES:  # a new stream: build from the batch itself
                    series = self._lod_series(w_ms, w_values)
                    level = choose_lod_level(series[0][1])
                    self._lod_drop(key)  # rows a crashed earlier build may have left
                    self._add_lod(key, level, series)
                    self._lod_new_state(key, level, len(w_ms), series[0][1][0], series[0][1][-1])
                return
            total = self._streams.count_documents({"stream_id": raw}, limit=self.lod_rebuild_min + 1)
            if LOD_MIN_INSTANCES <= total <= self.lod_rebuild_min:
                self.rebuild_lod(stream_id)  # bounded: at most lod_rebuild_min instances
            # larger streams are rebuilt by the next summary()
        except Exception as e:  # noqa: BLE001 - the data is written; summary() falls back to the pipeline
            log.warning("MongoDB %s: level-of-detail aggregates of %s not updated (%s); they are rebuilt when "
                        "needed", self._where, stream_id, e)
            self._lod_drop(key)

    def _lod_after_purge(self, stream_id, claim, deleted: int, lo: int, hi: int) -> None:
        """Recompute the level buckets that ``(lo, hi]`` cut; delete those it covers (best effort)."""
        key = stream_id.key
        try:
            if deleted:
                level = claim["level"]
                for k in range(level, len(LEVEL_WIDTHS_MS)):
                    w = LEVEL_WIDTHS_MS[k]
                    a, b = -(-lo // w), hi // w  # buckets a .. b-1 lie wholly inside (lo, hi]
                    if a < b:
                        self._lod.delete_many({"key": key, "level": k, "bucket": {"$gte": a, "$lt": b}})
                    cut = {lo // w} if lo % w and lo > _NO_START else set()
                    if hi % w and hi < _NO_END:
                        cut.add((hi - 1) // w)
                    for j in sorted(cut):
                        self._lod.delete_many({"key": key, "level": k, "bucket": j})
                        rows = []
                        if k == level:
                            ms, vals = self._raw_values(stream_id, j * w, (j + 1) * w)
                            for comp, cms, cv in self._lod_series(ms, vals):
                                if len(cms):
                                    rows.extend(self._agg_rows(comp, k, Agg.from_instances(cms, cv, w)))
                        else:
                            r = w // LEVEL_WIDTHS_MS[k - 1]
                            by_comp: dict[str, list] = {}
                            for d in self._lod.find({"key": key, "level": k - 1,
                                                     "bucket": {"$gte": j * r, "$lt": (j + 1) * r}}):
                                by_comp.setdefault(d["comp"], []).append(d)
                            for comp, ds in by_comp.items():
                                agg = self._agg_from_docs(ds).coarser(LEVEL_WIDTHS_MS[k - 1], w)
                                rows.extend(self._agg_rows(comp, k, agg))
                        if rows:
                            self._lod.insert_many([self._row_doc(key, r_) for r_ in rows])
            first_ms, last_ms = self._ends(stream_id)
            if first_ms is None:
                self._lod_drop(key)
                return
            self._lod_release(claim, -deleted, first_ms, last_ms)
        except Exception as e:  # noqa: BLE001 - the data is deleted; drop what may now be wrong
            log.warning("MongoDB %s: level-of-detail aggregates of %s not updated after a purge (%s); they are "
                        "rebuilt when needed", self._where, stream_id, e)
            self._lod_drop(key)

    @staticmethod
    def _row_doc(key, row) -> dict:
        comp, k, b, n, nn, s_, mn, mx, f, l_ = row
        d = {"key": key, "comp": comp, "level": k, "bucket": b, "n": n, "nn": nn, "s": s_, "f": f, "l": l_}
        if nn:
            d["mn"], d["mx"] = mn, mx
        return d

    @staticmethod
    def _agg_from_docs(docs) -> Agg:
        docs = sorted(docs, key=lambda d: d["bucket"])
        nan = float("nan")
        return Agg(np.array([d["bucket"] for d in docs], np.int64), np.array([d["n"] for d in docs], np.int64),
                   np.array([d["nn"] for d in docs], np.int64), np.array([_num(d.get("s")) for d in docs]),
                   np.array([_num(d.get("mn", nan)) for d in docs]), np.array([_num(d.get("mx", nan)) for d in docs]),
                   np.array([d["f"] for d in docs], np.int64), np.array([d["l"] for d in docs], np.int64))

    def _raw_values(self, stream_id, lo: int, hi: int):
        """``(ms list, value list)`` of the instances in ``(lo, hi]`` (epoch ms), decoded, in time order."""
        ms, vals = [], []
        q = self._filter(stream_id, None if lo <= _NO_START else ms_dt(lo), None if hi >= _NO_END else ms_dt(hi))
        for d in self._streams.find(q, {"_id": 0, "datetime": 1, "value": 1}).sort("datetime", 1).batch_size(10_000):
            ms.append(dt_ms(_aware(d["datetime"])))
            vals.append(decode_bson(d.get("value")))
        return ms, vals

    def _lod_for_summary(self, stream_id):
        """The stream's aggregate state if the aggregates are current (after catching up with instances
        appended/prepended by others, or rebuilding a large stream); None to use the pipeline."""
        key = stream_id.key
        with self._errors(f"summarising stream {stream_id}"):
            st = self._lod_state.find_one({"key": key})
            first_ms, last_ms = self._ends(stream_id)
            usable = st is not None and st.get("version") == LOD_VERSION and st.get("level") is not None
            if usable and not st.get("pending"):
                if (first_ms, last_ms) == (st["first_ms"], st["last_ms"]):
                    return st
                if first_ms is not None and first_ms <= st["first_ms"] and last_ms >= st["last_ms"]:
                    caught = self._lod_catch_up(stream_id, st, first_ms, last_ms)
                    if caught is not None:
                        return caught
            if usable and st.get("pending"):
                at = _aware(st.get("pending_at"))
                if at is not None and (utcnow() - at).total_seconds() < _PENDING_STALE_S:
                    return None  # a write is changing them right now
            if first_ms is None:  # no instances at all: nothing to summarise
                if st is not None:
                    self._lod_drop(key)
                return _EMPTY
            if self._streams.count_documents(self._filter(stream_id), limit=self.lod_rebuild_min + 1) \
                    > self.lod_rebuild_min:
                return self.rebuild_lod(stream_id)
            return None

    def _lod_catch_up(self, stream_id, st, first_ms: int, last_ms: int):
        """Add the instances others wrote before ``st.first_ms`` / after ``st.last_ms``; the new state or None."""
        claim = self._lod_claim(stream_id.key, st["first_ms"], st["last_ms"])
        if claim is None:
            return None
        try:
            ms, vals = self._raw_values(stream_id, _NO_START, st["first_ms"] - 1)
            ms2, vals2 = self._raw_values(stream_id, st["last_ms"], _NO_END)
            ms += ms2
            vals += vals2
            self._add_lod(stream_id.key, claim["level"], self._lod_series(ms, vals))
        except Exception:
            self._lod_drop(stream_id.key)
            raise
        self._lod_release(claim, len(ms), first_ms, last_ms)
        return self._lod_state.find_one({"key": stream_id.key, "epoch": claim["epoch"], "pending": 0,
                                         "first_ms": first_ms, "last_ms": last_ms})

    def rebuild_lod(self, stream_id: StreamId):
        """(Re)compute the stream's aggregates from its instances; the new state (None for a small stream).

        Two aggregation passes on the server group the instances by the finest kept level's bucket: the values
        themselves, and the numeric top-level components of dict values (``$objectToArray``); the rare
        values HyperStream Studio stores tagged (ints beyond int64, dicts with keys MongoDB cannot hold) are
        added from a query of their own. Coarser levels are derived in numpy. The finest level follows
        from the mean spacing (``count``, first and last instance), not the median used for a batch.
        """
        key = stream_id.key
        with self._errors(f"rebuilding the level-of-detail aggregates of {stream_id}"):
            self._lod_drop(key)
            q = self._filter(stream_id)
            n = self._streams.count_documents(q)
            first_ms, last_ms = self._ends(stream_id)
            if n < LOD_MIN_INSTANCES or first_ms is None:
                return None
            spacing = (last_ms - first_ms) / max(n - 1, 1)
            level = next((k for k, w in enumerate(LEVEL_WIDTHS_MS) if w >= LOD_PER_BUCKET * spacing),
                         len(LEVEL_WIDTHS_MS) - 1)
            w = LEVEL_WIDTHS_MS[level]
            epoch = datetime(1970, 1, 1) if self._mock else datetime(1970, 1, 1, tzinfo=UTC)
            bucket = {"$floor": {"$divide": [{"$subtract": [{"$subtract": ["$datetime", epoch]}, 1]}, w]}}
            group = {"n": {"$sum": 1}, "nn": {"$sum": {"$cond": [{"$eq": ["$num", None]}, 0, 1]}},
                     "s": {"$sum": "$num"}, "mn": {"$min": "$num"}, "mx": {"$max": "$num"},
                     "f": {"$min": "$datetime"}, "l": {"$max": "$datetime"}}
            opts = {} if self._mock else {"allowDiskUse": True}
            rows: dict[tuple, list] = {}

            def put(comp, g):
                nn = int(g["nn"])
                rows[(comp, int(g["_id"]["b"]) if isinstance(g["_id"], dict) else int(g["_id"]))] = [
                    int(g["n"]), nn, _num(g["s"]) if nn else 0.0, _num(g["mn"]) if nn else np.nan,
                    _num(g["mx"]) if nn else np.nan, dt_ms(_aware(g["f"])), dt_ms(_aware(g["l"]))]

            for g in self._streams.aggregate([
                    {"$match": q},
                    {"$project": {"_id": 0, "datetime": 1, "b": bucket, "num": _num_expr("$value")}},
                    {"$group": {"_id": "$b", **group}}], **opts):
                put("", g)
            for g in self._streams.aggregate([
                    {"$match": {**q, "value": {"$type": "object"}, f"value.{MONGO_TAG}": {"$exists": False}}},
                    {"$project": {"_id": 0, "datetime": 1, "b": bucket, "kv": {  # $type matches arrays of objects too
                        "$cond": [{"$isArray": "$value"}, [], {"$objectToArray": "$value"}]}}},
                    {"$unwind": "$kv"},
                    {"$project": {"datetime": 1, "b": 1, "k": "$kv.k", "num": _num_expr("$kv.v")}},
                    {"$match": {"num": {"$ne": None}, "k": {"$ne": ""}}},
                    {"$group": {"_id": {"c": "$k", "b": "$b"}, **group}}], **opts):
                put(str(g["_id"]["c"]), g)
            # tagged values: ints beyond int64 count as numbers, escaped dicts have components
            for d in self._streams.find({**q, f"value.{MONGO_TAG}": {"$in": ["int", "dict"]}},
                                        {"_id": 0, "datetime": 1, "value": 1}):
                t = dt_ms(_aware(d["datetime"]))
                b = (t - 1) // w
                v = decode_bson(d["value"])
                if isinstance(v, dict):
                    for k, cv in v.items():
                        x = numeric(cv)
                        if x is not None and k != "":
                            _merge_row(rows, (str(k), b), [1, 1, x, x, x, t, t])
                else:
                    x = numeric(v)
                    r = rows.get(("", b))
                    if x is not None and r is not None:
                        r[1] += 1
                        r[2] += x
                        r[3], r[4] = np.fmin(r[3], x), np.fmax(r[4], x)
            by_comp: dict[str, list] = {}
            for (comp, b), r in rows.items():
                by_comp.setdefault(comp, []).append((b, *r))
            docs = []
            for comp, rs in by_comp.items():
                rs.sort()
                a = np.array(rs, dtype=np.float64)
                agg = Agg(a[:, 0].astype(np.int64), a[:, 1].astype(np.int64), a[:, 2].astype(np.int64), a[:, 3],
                          a[:, 4], a[:, 5], a[:, 6].astype(np.int64), a[:, 7].astype(np.int64))
                docs.extend(self._row_doc(key, r_) for r_ in self._levels_rows(comp, level, agg))
            values = by_comp.get("")
            if not values:
                return None
            self._ensure_lod_indexes()
            for c in range(0, len(docs), _BULK_CHUNK):
                self._lod.insert_many(docs[c:c + _BULK_CHUNK], ordered=False)
            # the ends the aggregates cover: later writes by others then show as appends/prepends
            n_agg = sum(r[1] for r in values)
            return self._lod_new_state(key, level, n_agg, min(r[6] for r in values), max(r[7] for r in values))

    def _summary_from_lod(self, stream_id, state, s_ms, e_ms, edges, component) -> Summary:
        key, level = stream_id.key, state["level"]
        comps = [""] if component is None else ["", str(component)]
        parts_count, parts_stats = [], []
        nan = float("nan")
        with self._errors(f"summarising stream {stream_id}"):
            for piece in summary_plan(edges, level):
                if piece[0] == "lod":
                    _, k, b0, b1 = piece
                    cnt, sts = [], []
                    for d in self._lod.find({"key": key, "comp": comps[0] if len(comps) == 1 else {"$in": comps},
                                             "level": k, "bucket": {"$gte": b0, "$lte": b1}},
                                            {"_id": 0, "comp": 1, "n": 1, "nn": 1, "s": 1, "mn": 1, "mx": 1,
                                             "f": 1, "l": 1}):
                        if d["comp"] == "":
                            cnt.append((d["n"], d["f"], d["l"]))
                        if d["comp"] == comps[-1]:
                            sts.append((d["f"], d["nn"], _num(d.get("s")), _num(d.get("mn", nan)),
                                        _num(d.get("mx", nan))))
                    if cnt:
                        parts_count.append(np.array(cnt, dtype=np.float64))
                    if sts:
                        parts_stats.append(np.array(sts, dtype=np.float64))
                    continue
                _, lo, hi = piece
                ms, nums = self._numeric_docs(stream_id, ms_dt(lo), ms_dt(hi), component)
                if ms:
                    ts = np.array(ms, dtype=np.float64)
                    v = np.array([nan if x is None else x for x in nums], dtype=np.float64)
                    parts_count.append(np.column_stack((np.ones(len(ts)), ts, ts)))
                    isnum = ~np.isnan(v)
                    parts_stats.append(np.column_stack((ts, isnum, np.where(isnum, v, 0.0), v, v)))
        return assemble(s_ms, e_ms, edges, parts_count, parts_stats)

    # -- tool-run history --------------------------------------------------------------------------------------
    def record_run(self, run: dict) -> None:
        if not isinstance(run, dict):
            raise ValueEncodingError(f"a run record must be a dict, got {type(run).__name__}")
        doc = {"recorded_at": _date(utcnow(), "now"), "record": encode_bson(run)}
        with self._errors("recording a tool run"):
            self._runs.insert_one(doc)

    def list_runs(self, limit: int | None = None) -> list[dict]:
        with self._errors("listing tool runs"):
            cur = self._runs.find({}, {"_id": 0, "record": 1}).sort([("recorded_at", -1), ("_id", -1)])
            if limit is not None:
                cur = cur.limit(int(limit))
            return [decode_bson(d["record"]) for d in cur]

    # -- HyperStream's meta_data / plate_definitions / workflow_definitions / workflow_status -----------------
    def list_documents(self, collection: str) -> list[dict]:
        check_collection(collection)
        with self._errors(f"reading {collection}"):
            return [d for d in self.db[collection].find({}, {"_id": 0}).sort([("_id", 1)])]

    def insert_documents(self, collection: str, documents: list[dict]) -> None:
        check_collection(collection)
        docs = []
        for d in documents:
            if not isinstance(d, dict):
                raise ValueEncodingError(f"a {collection} document must be a dict, got {type(d).__name__}")
            docs.append({k: v for k, v in d.items() if k != "_id"})
        if not docs:
            return
        with self._errors(f"writing {collection}"):
            result = self.db[collection].insert_many(docs, ordered=True)
            if len(result.inserted_ids) != len(docs):  # pragma: no cover - insert_many raises before this
                self.db[collection].delete_many({"_id": {"$in": list(result.inserted_ids)}})
                raise StoreError(f"writing {collection}: only {len(result.inserted_ids)} of {len(docs)} written")

    def delete_documents(self, collection: str, match: dict) -> int:
        check_collection(collection)
        with self._errors(f"deleting from {collection}"):
            return self.db[collection].delete_many(dict(match)).deleted_count

    def __repr__(self):
        return f"MongoStore({self._where!r}, db_name={self.db_name!r})"


class _MongoErrors:
    """Turn pymongo errors into StoreError naming the server (password redacted) and the action."""

    def __init__(self, store: MongoStore, what: str):
        self.store = store
        self.what = what

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        from pymongo.errors import PyMongoError

        if exc is not None and isinstance(exc, PyMongoError):
            raise StoreError(f"MongoDB {self.store._where} (database {self.store.db_name!r}): {self.what} failed: "
                             f"{_short(exc)}") from exc
        return False


__all__ = ["MongoStore", "redact_uri"]
