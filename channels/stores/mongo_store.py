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
``hsgui_changes``
    The change log (:mod:`channels.changes`, an extra collection HyperStream ignores, created with its
    indexes on the first change only): ``{key: StreamId.key, stream_id: <raw>, channel_id, start, end, at,
    kind, by}`` per batch, written right after the batch's instances (a failure removes the batch again,
    as a failed ``insert_many`` does); a purge records its change first and removes it if the delete fails.
    Writes by programs that keep no change log (HyperStream itself, a user's pymongo script) are still
    visible through the instances' ObjectId times: :meth:`MongoStore.inserted_after`.
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

Calculated intervals under concurrency: ``add_intervals`` / ``remove_intervals`` are merged with the
stored value by a compare-and-swap loop on the definition document: read ``calculated_intervals``, compute
``(stored - remove) + add``, and ``update_one`` with a filter that requires ``calculated_intervals`` to
still equal exactly what was read; if another writer (any process, HyperStream itself included) changed it
in between, nothing is updated and the loop reads again. The value itself is the version, so the layout
stays HyperStream's (no extra field, no per-piece documents HyperStream would not read) and a writer that
does not take part (HyperStream) still makes the loop retry rather than be overwritten. The intervals are
changed after the data is written (insert) and after it is deleted (purge). Within one process
the store's batch lock serialises a batch and its interval update with other batches; between processes
the compare-and-swap guarantees no piece is lost, while data and intervals of one batch are two steps (no
multi-document transactions without a replica set).

Orphans: before a batch that adds calculated intervals is written, a note of its document ids goes to
``hsgui_pending_batches`` (an extra collection); it is deleted once the batch and its intervals are
committed, or the batch removed again. If the write fails and removing the part written fails too, the
error says how many documents may remain outside the calculated intervals, and the note stays: the next
time the stream's definition is read (the next open) -- at once in this process, after
``orphan_after_s`` in others (a live writer's note is younger) -- the noted documents outside the
stream's calculated intervals are deleted, so ``count()`` and reads agree with the calculated intervals.
Writes without calculated intervals (``Stream.writer``, HyperStream's own) are never noted nor removed.

Reads against writes: MongoDB without a replica set has no snapshot reads, so a
count or summary racing an ``insert_many`` could see part of a batch. Within
one process the store serialises its batch writes (``insert``, ``purge``) with
its multi-document reads (``count``, ``first``/``last``, ``columns``,
``summary``) by a lock, so those never see half a batch written through this
store object. Writes by other processes (or other store objects) are not
covered: that would need a replica set and snapshot sessions.
"""
from __future__ import annotations


import itertools
import logging
import random
import threading
import time
from datetime import datetime
from typing import Iterator, Sequence

import numpy as np

from ..errors import (ConfigError, DuplicateInstanceError, StoreError, StreamAlreadyExistsError, StreamIdError,
                      StreamNotFoundError, TimeError, ValueEncodingError)
from ..changes import PURGE, WRITE, Change, current_origin
from ..lod import Summary, bucket_edges, summarise_arrays
from ..stream import StreamId, StreamInstance
from ..time_interval import TimeInterval, TimeIntervals
from ..config import check_mongo_options, check_mongo_uri
from ..utils import UTC, ensure_utc, redact_uri, scrub_secrets, uri_secrets, utcnow  # noqa: F401 - redact_uri re-exported
from .base import (UPDATABLE_FIELDS, Committed, Store, StreamDefinition, check_collection, check_not_future,
                   intervals_arg, merge_intervals)
from .codec import MONGO_TAG, decode_bson, dt_ms, encode_bson, ms_dt, numeric, values_equal
from .lod_levels import assemble

log = logging.getLogger(__name__)

from .mongo_common import (CHANGES, DEFINITIONS, LOD, LOD_STATE, PENDING, RUNS, STREAMS, _EMPTY, _IN_CHUNK, _NO_END, _NO_START,
                           _NUMERIC_TYPES, _aware, _date, _is_mongomock, _short, _where)
from .mongo_columnar import MongoColumnar
from .mongo_lod import MongoLevelOfDetail


class MongoStore(MongoColumnar, MongoLevelOfDetail, Store):
    """HyperStream's MongoDB layout through pymongo (works on a real server and on mongomock).

    ``client_or_uri`` is a ``pymongo.MongoClient`` (or mongomock's) or a
    ``mongodb://`` URI. A URI gets a ``server_selection_timeout_ms`` so an
    unreachable server is a StoreError (naming the host, password redacted)
    in seconds; a given client is pinged once with the client's own settings.
    """

    #: a stream without current aggregates is rebuilt by ``summary()`` when it has more instances than this
    lod_rebuild_min = 10_000
    keeps_changes = True
    #: a pending-batch note (see "Orphans") written by another process is taken as abandoned after this long
    orphan_after_s = 600.0
    #: compare-and-swap attempts on a definition's calculated intervals before giving up with a StoreError
    cas_attempts = 64

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
            check_mongo_uri(uri)   # a malformed URI: ConfigError naming the problem, the URI redacted
            try:
                client = cls(uri, **opts)
            except (PyMongoError, ValueError, TypeError, OSError) as e:
                # the driver's words may quote a piece of the URI: scrubbed, and not chained (a traceback
                # would show the original)
                raise StoreError(f"cannot connect to MongoDB {where}: {scrub_secrets(_short(e), uri)}") from None
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
        self._changes_indexed = False
        self._channel_of: dict[StreamId, str] = {}
        #: tokens of pending-batch notes whose batch this store object could not remove again (see "Orphans")
        self._orphan_tokens: set = set()
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
            self._changes = self.db[CHANGES]
            self._pending = self.db[PENDING]
        except PyMongoError as e:
            self.close()
            # not chained: the driver's own message (in a traceback) may quote the URI as given
            raise StoreError(f"cannot reach MongoDB {where} (database {self.db_name!r}): {_short(e)}") from None
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
        check_mongo_options(mongo)
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
        secrets = [str(password)] if password else []
        secrets += uri_secrets(host) if isinstance(host, str) else []

        def scrub(e):
            text = scrub_secrets(_short(e), host if isinstance(host, str) else "")
            for piece in secrets:
                text = text.replace(piece, "***")
            return text
        try:
            client = cls_(host=host, port=port, **kwargs)
        except (ConfigurationError, TypeError, ValueError, OSError) as e:
            raise ConfigError(f"bad MongoDB configuration for {where}: {scrub(e)}") from None
        except PyMongoError as e:
            raise StoreError(f"cannot connect to MongoDB {where}: {scrub(e)}") from None
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
                raise StoreError(f"cannot use MongoDB {self._where} (database {self.db_name!r}): {_short(e)}") from e

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
        if doc.get("channel_id") is not None:
            self._channel_of[sid] = doc.get("channel_id")
        ivs = []
        for iv in doc.get("calculated_intervals") or []:
            try:
                ivs.append(TimeInterval(_aware(iv["start"]), _aware(iv["end"])))
            except Exception as e:  # noqa: BLE001 - a malformed interval must not hide the stream
                log.warning("MongoDB %s: stream %s: ignoring calculated interval %r: %s", self._where, sid, iv, e)
        return StreamDefinition(sid, doc.get("channel_id"), TimeIntervals(ivs), _aware(doc.get("last_updated")),
                                _aware(doc.get("last_accessed")), doc.get("sandbox"), doc.get("stream_type"))

    def list_definitions(self, channel_id: str | None = None,
                         updated_since: datetime | None = None) -> list[StreamDefinition]:
        query = {} if channel_id is None else {"channel_id": channel_id}
        if updated_since is not None:
            query["last_updated"] = {"$gt": updated_since}
        with self._errors("listing stream definitions"):
            docs = list(self._defs.find(query, {"_id": 0}))
        out = [d for d in map(self._definition, docs) if d is not None]
        self._clean_orphans({d.stream_id.key: d for d in out})
        out.sort(key=lambda d: d.stream_id)
        return out

    def channel_ids(self) -> set[str]:
        with self._errors("listing channel ids"):
            return {c for c in self._defs.distinct("channel_id") if isinstance(c, str)}

    def count_definitions(self, channel_id: str | None = None) -> int:
        with self._errors("counting stream definitions"):
            return self._defs.count_documents({} if channel_id is None else {"channel_id": channel_id})

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
        if doc is None:
            return None
        d = self._definition(doc)
        if d is not None:
            self._clean_orphans({d.stream_id.key: d})
        return d

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
        self._channel_of[sid] = definition.channel_id

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

    def _parse_intervals(self, stream_id, stored) -> TimeIntervals:
        ivs = []
        for iv in stored or []:
            try:
                ivs.append(TimeInterval(_aware(iv["start"]), _aware(iv["end"])))
            except Exception as e:  # noqa: BLE001 - a malformed interval is dropped (as when reading)
                log.warning("MongoDB %s: stream %s: dropping calculated interval %r: %s", self._where, stream_id,
                            iv, e)
        return TimeIntervals(ivs)

    @staticmethod
    def _ivs(calculated_intervals, add_intervals, remove_intervals):
        add, remove = intervals_arg(add_intervals, remove_intervals)
        return (None if calculated_intervals is None else TimeIntervals(calculated_intervals)), add, remove

    def _change_intervals(self, stream_id, ivs):
        """The stream's calculated intervals become ``ivs = (set, add, remove)`` applied to the stored value, by
        a compare-and-swap loop (see the module docstring); returns what was stored (None: nothing to change)."""
        set_to, add, remove = ivs
        if set_to is None and add is None and remove is None:
            return None
        raw = self._raw_ids.get(stream_id)
        if raw is None:
            if self.get_definition(stream_id) is None:
                raise StreamNotFoundError(stream_id)
            raw = self._raw_ids[stream_id]
        with self._errors(f"updating the calculated intervals of {stream_id}"):
            for attempt in range(self.cas_attempts):
                doc = self._defs.find_one({"stream_id": raw}, {"_id": 1, "calculated_intervals": 1})
                if doc is None:
                    raise StreamNotFoundError(stream_id)
                present = "calculated_intervals" in doc
                stored = doc.get("calculated_intervals")
                base = set_to if set_to is not None else self._parse_intervals(stream_id, stored)
                new = merge_intervals(base, add, remove)
                cond = {"_id": doc["_id"],
                        "calculated_intervals": stored if present else {"$exists": False}}
                res = self._defs.update_one(cond, {"$set": {"calculated_intervals": self._intervals(new),
                                                            "last_updated": _date(utcnow(), "now")}})
                if res.matched_count:
                    return new
                time.sleep(min(0.2, 0.001 * (2 ** min(attempt, 8))) * random.random())
        raise StoreError(f"MongoDB {self._where}: the calculated intervals of stream {stream_id} changed under "
                         f"this write {self.cas_attempts} times in a row; they were not updated (the data of this "
                         f"batch is written); try again")

    # -- orphans (see the module docstring) --------------------------------------------------------------------
    _NOTE_IDS = 50_000

    def _note_batch(self, stream_id, raw, ids) -> str:
        """Write the pending-batch note(s) of a batch about to be written; return its token."""
        from bson import ObjectId
        token = str(ObjectId())
        now = _date(utcnow(), "now")
        notes = [{"token": token, "key": stream_id.key, "stream_id": raw, "at": now,
                  "ids": ids[c:c + self._NOTE_IDS]} for c in range(0, len(ids), self._NOTE_IDS)]
        with self._errors(f"writing to stream {stream_id} (noting the batch in {PENDING})"):
            self._pending.insert_many(notes, ordered=True)
        return token

    def _drop_note(self, token) -> None:
        try:
            self._pending.delete_many({"token": token})
        except Exception as e:  # noqa: BLE001 - a note left behind is cleaned later; never fail a committed batch
            log.warning("MongoDB %s: could not remove the note of a committed batch from %s: %s", self._where,
                        PENDING, _short(e))

    def _clean_orphans(self, defs: dict) -> None:
        """Delete the noted documents of abandoned batches of streams in ``defs`` (key -> StreamDefinition) that
        lie outside the stream's calculated intervals; drop the notes."""
        try:
            notes = list(self._pending.find({"key": {"$in": list(defs)}}, {"token": 1, "key": 1, "at": 1}))
        except Exception as e:  # noqa: BLE001 - reading the definitions must not fail on this
            log.debug("MongoDB %s: could not read %s: %s", self._where, PENDING, e)
            return
        if not notes:
            return
        now = utcnow()
        for token in sorted({n["token"] for n in notes}):
            mine = [n for n in notes if n["token"] == token]
            at = _aware(mine[0].get("at"))
            if token not in self._orphan_tokens and at is not None and \
                    (now - at).total_seconds() < self.orphan_after_s:
                continue  # maybe a writer still at work
            key = mine[0]["key"]
            try:
                self._remove_orphans(token, key, defs[key])
            except Exception as e:  # noqa: BLE001 - e.g. a read-only user: say so, keep the note
                log.warning("MongoDB %s: stream %s: could not remove the documents of an abandoned batch: %s",
                            self._where, defs[key].stream_id, _short(e))

    def _remove_orphans(self, token, key, definition) -> None:
        with self._batch_lock:
            # read again under the lock: the intervals as they are now
            doc = self._defs.find_one({"stream_id": self._raw_ids.get(definition.stream_id)
                                       or definition.stream_id.as_raw()}, {"calculated_intervals": 1})
            calc = self._parse_intervals(definition.stream_id, (doc or {}).get("calculated_intervals"))
            removed = 0
            for note in self._pending.find({"token": token}, {"ids": 1}):
                ids = list(note.get("ids") or [])
                for c in range(0, len(ids), _IN_CHUNK):
                    docs = list(self._streams.find({"_id": {"$in": ids[c:c + _IN_CHUNK]}}, {"datetime": 1}))
                    out = [d["_id"] for d in docs if _aware(d["datetime"]) not in calc]
                    if out:
                        removed += self._streams.delete_many({"_id": {"$in": out}}).deleted_count
            if removed:
                self._lod_drop(key)  # the aggregates counted them: rebuilt on demand
                log.warning("MongoDB %s: stream %s: removed %d document(s) of an earlier batch whose write failed "
                            "(they lay outside the calculated intervals)", self._where, definition.stream_id,
                            removed)
            self._pending.delete_many({"token": token})
            self._orphan_tokens.discard(token)

    # -- instances ---------------------------------------------------------------------------------------------
    def insert(self, stream_id: StreamId, instances: Sequence[StreamInstance],
               calculated_intervals: TimeIntervals | None = None, *, add_intervals=None,
               remove_intervals=None) -> int:
        ivs = self._ivs(calculated_intervals, add_intervals, remove_intervals)
        with self._batch_lock:
            return self._insert_locked(stream_id, instances, ivs)

    def _insert_locked(self, stream_id: StreamId, instances: Sequence[StreamInstance], ivs) -> int:
        """See :meth:`Store.insert` and the module docstring on atomicity (best-effort without a replica set)."""
        from bson import ObjectId
        from pymongo.errors import BulkWriteError, PyMongoError

        instances = list(instances)
        changes_intervals = any(x is not None for x in ivs)
        if changes_intervals and self.get_definition(stream_id) is None:
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
            return Committed(0, self._change_intervals(stream_id, ivs))
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
        token = None
        if docs and ivs[1] is not None and not ivs[1].is_empty:  # a calculated write: note it first (orphans)
            token = self._note_batch(stream_id, raw, [d["_id"] for d in docs])
        if docs:
            prev = (None if firstdoc is None else dt_ms(_aware(firstdoc["datetime"])),
                    None if last is None else dt_ms(_aware(last["datetime"])))
            claim = self._lod_claim(stream_id.key, *prev) if last is not None else None
            try:
                self._streams.insert_many(docs, ordered=True)
            except (BulkWriteError, PyMongoError) as e:
                inserted = e.details.get("nInserted") if isinstance(e, BulkWriteError) else None
                left = self._rollback([d["_id"] for d in docs])
                self._lod_release(claim)
                if left is not None:
                    self._keep_orphans(token)
                    n_left = left if inserted is None else min(left, int(inserted))
                    raise StoreError(
                        f"MongoDB {self._where}: writing to stream {stream_id} failed: {_short(e)}; removing the "
                        f"part written failed: {'up to ' if inserted is None else ''}{n_left} documents of this "
                        f"batch may remain outside the calculated intervals"
                        + (" (they are removed when the stream is next opened)" if token else "")) from e
                if token is not None:
                    self._drop_note(token)
                if isinstance(e, BulkWriteError) and any(err.get("code") == 11000
                                                         for err in e.details.get("writeErrors", [])):
                    err = e.details["writeErrors"][0]
                    op = err.get("op") or {}
                    when = op.get("datetime")
                    raise DuplicateInstanceError(stream_id, _aware(when) if when else ms_dt(lo), None,
                                                 decode_bson(op.get("value"))) from e
                raise StoreError(f"MongoDB {self._where}: writing to stream {stream_id} failed "
                                 f"(the part written was removed again): {e}") from e
            w = [ms[i] for i in keep]
            try:
                self._record_change(stream_id, raw, min(w) - 1, max(w), WRITE)
            except PyMongoError as e:
                left = self._rollback([d["_id"] for d in docs])
                self._lod_release(claim)
                if left is not None:
                    self._keep_orphans(token)
                    raise StoreError(f"MongoDB {self._where}: writing to stream {stream_id} failed: could not "
                                     f"record the change in {CHANGES} ({_short(e)}); removing the part written "
                                     f"failed: up to {left} documents of this batch may remain outside the "
                                     f"calculated intervals") from e
                if token is not None:
                    self._drop_note(token)
                raise StoreError(f"MongoDB {self._where}: writing to stream {stream_id} failed: could not record "
                                 f"the change in {CHANGES} (the batch was removed again): {_short(e)}") from e
            self._lod_after_insert(stream_id, raw, claim, prev[1] is None, [ms[i] for i in keep],
                                   [values[i] for i in keep])
        self._remember(stream_id, raw)
        try:
            stored = self._change_intervals(stream_id, ivs)
        except BaseException:
            self._keep_orphans(token)  # the data is in, its intervals are not: the next open removes it
            raise
        if token is not None:
            self._drop_note(token)
        return Committed(len(docs), stored)

    def _keep_orphans(self, token) -> None:
        if token is not None:
            self._orphan_tokens.add(token)

    def _rollback(self, ids):
        """Delete a half-written batch again; None when done, else how many of ``ids`` may remain."""
        done = 0
        try:
            for c in range(0, len(ids), _IN_CHUNK):
                self._streams.delete_many({"_id": {"$in": ids[c:c + _IN_CHUNK]}})
                done = c + len(ids[c:c + _IN_CHUNK])
        except Exception as e:  # noqa: BLE001 - report the original error, log this one
            log.error("MongoDB %s: could not remove a half-written batch: %s", self._where, e)
            return len(ids) - done
        return None

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
              calculated_intervals: TimeIntervals | None = None, *, add_intervals=None,
              remove_intervals=None) -> int:
        ivs = self._ivs(calculated_intervals, add_intervals, remove_intervals)
        with self._batch_lock:
            return self._purge_locked(stream_id, start, end, ivs)

    def _purge_locked(self, stream_id: StreamId, start, end, ivs) -> int:
        if any(x is not None for x in ivs) and self.get_definition(stream_id) is None:
            raise StreamNotFoundError(stream_id)
        whole = start is None and end is None
        claim = None
        if not whole:
            claim = self._lod_claim_current(stream_id)
        change_id = None
        try:
            with self._errors(f"purging stream {stream_id}"):
                q = self._filter(stream_id, start, end)
                f = self._streams.find_one(q, {"_id": 0, "datetime": 1, "stream_id": 1}, sort=[("datetime", 1)])
                if f is not None:
                    l_ = self._streams.find_one(q, {"_id": 0, "datetime": 1}, sort=[("datetime", -1)])
                    # the purged interval; an open end: the data's
                    lo_ms = dt_ms(_aware(f["datetime"])) - 1 if start is None else dt_ms(_date(start, "start"))
                    hi_ms = dt_ms(_aware(l_["datetime"])) if end is None else dt_ms(_date(end, "end"))
                    change_id = self._record_change(stream_id, f["stream_id"], lo_ms, hi_ms, PURGE)
                try:
                    n = self._streams.delete_many(q).deleted_count
                except Exception:
                    if change_id is not None:
                        self._changes.delete_one({"_id": change_id})
                    raise
        except StoreError:
            self._lod_release(claim)
            raise
        if whole:
            self._lod_drop(stream_id.key)
        elif claim is not None:
            lo = _NO_START if start is None else dt_ms(_date(start, "start"))
            hi = _NO_END if end is None else dt_ms(_date(end, "end"))
            self._lod_after_purge(stream_id, claim, n, lo, hi)
        return Committed(n, self._change_intervals(stream_id, ivs))

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

    # -- change log ---------------------------------------------------------------------------------------------
    def _record_change(self, stream_id: StreamId, raw: dict, lo_ms: int, hi_ms: int, kind: str):
        """Insert one change document (indexes created with the first); returns its ``_id``."""
        from bson import ObjectId
        from pymongo.errors import OperationFailure

        if not self._changes_indexed:
            for keys in ([("key", 1), ("at", 1)], [("at", 1)]):
                try:
                    self._changes.create_index(keys)
                except OperationFailure as e:
                    log.info("MongoDB %s: index %s on %s not created: %s", self._where, keys, CHANGES, e)
            self._changes_indexed = True
        channel_id = self._channel_of.get(stream_id)
        if channel_id is None and stream_id not in self._channel_of:
            d = self.get_definition(stream_id)
            channel_id = d.channel_id if d is not None else None
        doc = {"_id": ObjectId(), "key": stream_id.key, "stream_id": raw, "channel_id": channel_id,
               "start": ms_dt(lo_ms), "end": ms_dt(hi_ms), "at": _date(utcnow(), "now"), "kind": kind,
               "by": current_origin(kind)}
        self._changes.insert_one(doc)
        return doc["_id"]

    def list_changes(self, stream_id: StreamId | None = None, since: datetime | None = None,
                     channel_id: str | None = None) -> list[Change]:
        """See :meth:`Store.list_changes` (reads ``hsgui_changes``; never creates it)."""
        q: dict = {}
        if stream_id is not None:
            q["key"] = stream_id.key
        if since is not None:
            q["at"] = {"$gt": _date(since, "since")}
        if channel_id is not None:
            q["channel_id"] = channel_id
        out, ids = [], {}
        with self._errors("listing changes"):
            for i, d in enumerate(self._changes.find(q).sort([("at", 1), ("_id", 1)])):
                try:
                    sid = stream_id or ids.get(d["key"]) or ids.setdefault(d["key"], StreamId.from_key(d["key"]))
                    iv = TimeInterval._trusted(_aware(d["start"]), _aware(d["end"]))
                except (KeyError, TypeError, ValueError, StreamIdError) as e:
                    log.warning("MongoDB %s: skipping unreadable %s document %r: %s", self._where, CHANGES,
                                d.get("_id"), e)
                    continue
                out.append(Change(d.get("channel_id"), sid, iv, _aware(d["at"]), d.get("kind", WRITE),
                                  d.get("by", "?"), i))
        return out

    def inserted_after(self, stream_id: StreamId, start, end, after: datetime):
        """See :meth:`Store.inserted_after`: instances whose ObjectId was made in a whole second after the one
        of ``after`` (ObjectIds keep seconds; what was inserted later within that same second is not seen)."""
        from bson import ObjectId
        from datetime import timedelta

        q = self._filter(stream_id, start, end)
        floor = ensure_utc(after, "after").replace(microsecond=0) + timedelta(seconds=1)
        q["_id"] = {"$gt": ObjectId.from_datetime(floor)}
        with self._errors(f"reading stream {stream_id}"):
            f = self._streams.find_one(q, {"_id": 0, "datetime": 1}, sort=[("datetime", 1)])
            if f is None:
                return None
            l_ = self._streams.find_one(q, {"_id": 0, "datetime": 1}, sort=[("datetime", -1)])
        return TimeInterval(ms_dt(dt_ms(_aware(f["datetime"])) - 1), _aware(l_["datetime"]))

    def newest_insert_time(self, stream_id: StreamId, start, end) -> datetime | None:
        """See :meth:`Store.newest_insert_time`: the newest ObjectId time (whole seconds) in ``(start, end]``."""
        with self._errors(f"reading stream {stream_id}"):
            d = self._streams.find_one(self._filter(stream_id, start, end), {"_id": 1}, sort=[("_id", -1)])
        if d is None or not hasattr(d["_id"], "generation_time"):
            return None
        return _aware(d["_id"].generation_time)

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
