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
    HyperStream Studio's tool-run history (an extra collection HyperStream ignores), see
    :mod:`channels.stores.mongo_runs`.
``hsgui_changes``
    The change log, see :mod:`channels.stores.mongo_changes`.
``hsgui_lod`` and ``hsgui_lod_state``
    Precomputed level-of-detail aggregates, see :mod:`channels.stores.mongo_lod`.
``hsgui_pending_batches``
    Notes of batches being written, see :mod:`channels.stores.mongo_orphans`.

Opening and reading write nothing
---------------------------------
Opening a database, listing, reading, counting and summarising send no write command (no ``createIndexes``,
no insert, update or delete, no orphan clean-up), so a read-only user can browse, plot and export. The store's
first write makes the missing indexes (once per store object, see :mod:`channels.stores.mongo_indexes`);
:meth:`MongoStore.missing_indexes` lists the ones that would help with their cost, and
:meth:`MongoStore.create_indexes` makes them when the user agrees. From the first write (or
``create_indexes``) on, :attr:`MongoStore.writes_allowed` is true and summaries also keep the level-of-detail
aggregates (catch up, rebuild); before, they use current aggregates or the pipeline.

Parts
-----
The store owns one :class:`~channels.stores.mongo_common.MongoCollections` (database, collections, error
words) and :class:`~channels.stores.mongo_common.MongoStreamIds` (which raw ``stream_id`` stands for a
StreamId: MongoDB compares embedded documents in field order, and HyperStream may have written meta-data pairs
in another order), and the parts that work on them: :class:`~channels.stores.mongo_indexes.MongoIndexes`,
:class:`~channels.stores.mongo_lod.MongoLevelOfDetail`, :class:`~channels.stores.mongo_changes.MongoChangeLog`
and :class:`~channels.stores.mongo_orphans.MongoOrphans`; columnar reads are functions in
:mod:`channels.stores.mongo_columnar`.

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

Reads against writes: MongoDB without a replica set has no snapshot reads, so a
count or summary racing an ``insert_many`` could see part of a batch. Within
one process the store serialises its batch writes (``insert``, ``purge``) with
its multi-document reads (``count``, ``first``/``last``, ``columns``,
``summary``) by a lock, so those never see half a batch written through this
store object. Writes by other processes (or other store objects) are not
covered: that would need a replica set and snapshot sessions.
"""
from __future__ import annotations


import logging
import random
import threading
import time
from datetime import datetime
from typing import Iterator, Sequence

import numpy as np

from ..errors import (ConfigError, DuplicateInstanceError, StoreError, StreamAlreadyExistsError, StreamIdError,
                      StreamNotFoundError, TimeError, ValueEncodingError)
from ..changes import PURGE, WRITE
from ..lod import Summary
from ..stream import StreamId, StreamInstance
from ..time_interval import TimeIntervals
from ..config import check_mongo_options, check_mongo_uri
from ..utils import redact_uri, scrub_secrets, uri_secrets, utcnow
from .base import (UPDATABLE_FIELDS, Committed, Store, StreamDefinition, check_collection, check_not_future,
                   interval_changes, merge_intervals)
from .codec import decode_bson, dt_ms, encode_bson, ms_dt, values_equal
from .mongo_changes import MongoChangeLog
from .mongo_columnar import numeric_docs, typed_component_columns
from .mongo_common import (CHANGES, LOD, LOD_STATE, _IN_CHUNK, _NO_END, _NO_START, MongoCollections,  # noqa: F401
                           MongoStreamIds, _aware, _date, _is_mongomock, _short, _where, parse_intervals)
from .mongo_indexes import IndexOffer, MongoIndexes
from .mongo_lod import MongoLevelOfDetail
from .mongo_orphans import MongoOrphans
from .mongo_runs import MongoRuns

log = logging.getLogger(__name__)


class MongoStore(Store):
    """HyperStream's MongoDB layout through pymongo (works on a real server and on mongomock).

    ``client_or_uri`` is a ``pymongo.MongoClient`` (or mongomock's) or a
    ``mongodb://`` URI. A URI gets a ``server_selection_timeout_ms`` so an
    unreachable server is a StoreError (naming the host, password redacted)
    in seconds; a given client is pinged once with the client's own settings.
    """

    keeps_changes = True
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
        #: serialises batch writes with multi-document reads (see "Reads against writes" above)
        self._batch_lock = threading.RLock()
        self._channel_of: dict[StreamId, str] = {}
        try:
            if not self._mock:
                client.admin.command("ping")
            self.db = client[self.db_name]
        except PyMongoError as e:
            self.close()
            # not chained: the driver's own message (in a traceback) may quote the URI as given
            raise StoreError(f"cannot reach MongoDB {where} (database {self.db_name!r}): {_short(e)}") from None
        self._c = MongoCollections(self.db, where, self._mock)
        self._ids = MongoStreamIds()
        self._indexes = MongoIndexes(self._c)
        self._lod = MongoLevelOfDetail(self._c, self._ids, self._indexes)
        self._changes = MongoChangeLog(self._c, self._ids, self._indexes)
        self._runs = MongoRuns(self._c, self._indexes)
        self._orphans = MongoOrphans(self._c, self._ids, self._lod)
        self._write_lock = threading.Lock()
        self._writes_allowed = False

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

    # -- writing, and the indexes (see "Opening and reading write nothing") ----------------------------------
    @property
    def writes_allowed(self) -> bool:
        """False after opening: the store sends no write command. True once it has written (or made its
        indexes): summaries then also keep the level-of-detail aggregates."""
        return self._writes_allowed

    def _begin_write(self) -> None:
        """Every method that writes calls this first: the first call makes the missing indexes of ``streams``
        and ``stream_definitions`` (once per store object, other threads wait for it)."""
        if self._writes_allowed:
            return
        with self._write_lock:
            if not self._writes_allowed:
                self._indexes.ensure_core()
                self._writes_allowed = True

    def missing_indexes(self) -> list[IndexOffer]:
        """The indexes that would make reading faster and are not there, each with its cost (the collection's
        document count) -- to offer them to the user. Reads only (listIndexes, a count): a read-only user may ask."""
        return self._indexes.missing()

    def create_indexes(self) -> list[IndexOffer]:
        """Make the indexes :meth:`missing_indexes` lists (the user agreed); return them. Building an index on a
        large collection takes the server a while. A StoreError names an index the server refused (e.g. for a
        read-only user). Counts as the store's first write (see :attr:`writes_allowed`)."""
        made = self._indexes.create()
        with self._write_lock:
            self._writes_allowed = True
        return made

    @property
    def lod_rebuild_min(self) -> int:
        """A stream without current aggregates is rebuilt by ``summary()`` when it has more instances than this
        (only once the store writes)."""
        return self._lod.rebuild_min

    @lod_rebuild_min.setter
    def lod_rebuild_min(self, n: int) -> None:
        self._lod.rebuild_min = int(n)

    @property
    def orphan_after_s(self) -> float:
        """A pending-batch note written by another store object is taken as abandoned after this long."""
        return self._orphans.after_s

    @orphan_after_s.setter
    def orphan_after_s(self, seconds: float) -> None:
        self._orphans.after_s = float(seconds)

    def close(self) -> None:
        if getattr(self, "_own_client", False):
            try:
                self.client.close()
            except Exception as e:  # noqa: BLE001 - closing must not fail the caller (app shutdown)
                log.warning("closing the MongoDB client failed: %s", e)

    def _errors(self, what: str):
        return self._c.errors(what)

    def _raw_for_write(self, stream_id: StreamId) -> dict:
        raw = self._ids.known(stream_id)
        if raw is not None:
            return raw
        if self.get_definition(stream_id) is not None:
            return self._ids.known(stream_id)
        doc = self._c.streams.find_one({"stream_id": {"$in": self._ids.candidates(stream_id)}}, {"stream_id": 1})
        if doc is not None:
            self._ids.remember(stream_id, doc["stream_id"])
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
        self._ids.remember(sid, raw)
        if doc.get("channel_id") is not None:
            self._channel_of[sid] = doc.get("channel_id")
        ivs = parse_intervals(self._where, sid, doc.get("calculated_intervals"))
        return StreamDefinition(sid, doc.get("channel_id"), ivs, _aware(doc.get("last_updated")),
                                _aware(doc.get("last_accessed")), doc.get("sandbox"), doc.get("stream_type"))

    def list_definitions(self, channel_id: str | None = None,
                         updated_since: datetime | None = None) -> list[StreamDefinition]:
        query = {} if channel_id is None else {"channel_id": channel_id}
        if updated_since is not None:
            query["last_updated"] = {"$gt": updated_since}
        with self._errors("listing stream definitions"):
            docs = list(self._c.definitions.find(query, {"_id": 0}))
        out = [d for d in map(self._definition, docs) if d is not None]
        out.sort(key=lambda d: d.stream_id)
        return out

    def definitions_named(self, channel_id: str, name: str, meta=()) -> list[StreamDefinition]:
        """See :meth:`Store.definitions_named` (one query by ``stream_id.name``; ``meta`` compared here, as
        HyperStream's documents may hold meta-data values that are not text)."""
        with self._errors(f"reading the definitions of the streams called {name!r}"):
            docs = list(self._c.definitions.find({"channel_id": channel_id, "stream_id.name": str(name)}, {"_id": 0}))
        out = [d for d in map(self._definition, docs)
               if d is not None and d.stream_id.name == name and d.stream_id.holds(meta)]
        out.sort(key=lambda d: d.stream_id)
        return out

    def channel_ids(self) -> set[str]:
        with self._errors("listing channel ids"):
            return {c for c in self._c.definitions.distinct("channel_id") if isinstance(c, str)}

    def count_definitions(self, channel_id: str | None = None) -> int:
        with self._errors("counting stream definitions"):
            return self._c.definitions.count_documents({} if channel_id is None else {"channel_id": channel_id})

    def get_definition(self, stream_id: StreamId) -> StreamDefinition | None:
        with self._errors(f"reading the definition of {stream_id}"):
            doc = self._c.definitions.find_one({"stream_id": {"$in": self._ids.candidates(stream_id)}}, {"_id": 0})
            if doc is None:  # e.g. numbers as meta-data values: compare ids in Python
                for d in self._c.definitions.find({"stream_id.name": stream_id.name}, {"_id": 0}):
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
        raw = self._ids.known(sid) or sid.as_raw()
        doc = {"stream_id": raw}
        if definition.stream_type is not None:
            doc["stream_type"] = definition.stream_type
        doc.update({"channel_id": definition.channel_id,
                    "last_updated": _date(definition.last_updated, "last_updated"),
                    "last_accessed": _date(definition.last_accessed, "last_accessed"),
                    "calculated_intervals": self._intervals(definition.calculated_intervals),
                    "sandbox": definition.sandbox})
        try:
            self._begin_write()
            with self._errors(f"creating stream {sid}"):
                self._c.definitions.insert_one(doc)
        except StoreError as e:
            if isinstance(e.__cause__, DuplicateKeyError):
                raise StreamAlreadyExistsError(sid, definition.channel_id) from None
            raise
        self._ids.remember(sid, raw)
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
        self._begin_write()
        with self._errors(f"updating stream {stream_id}"):
            res = self._c.definitions.update_one({"stream_id": self._ids.known(stream_id)}, {"$set": sets})
        if res.matched_count == 0:
            raise StreamNotFoundError(stream_id)

    def delete_definition(self, stream_id: StreamId) -> None:
        """Remove the definition only; the instances stay until purged (as in HyperStream)."""
        if self.get_definition(stream_id) is None:
            return
        self._begin_write()
        with self._errors(f"deleting stream {stream_id}"):
            self._c.definitions.delete_one({"stream_id": self._ids.known(stream_id)})

    def _change_intervals(self, stream_id, ivs):
        """The stream's calculated intervals become ``ivs = (set, add, remove)`` applied to the stored value, by
        a compare-and-swap loop (see the module docstring); returns what was stored (None: nothing to change)."""
        set_to, add, remove = ivs
        if set_to is None and add is None and remove is None:
            return None
        raw = self._ids.known(stream_id)
        if raw is None:
            if self.get_definition(stream_id) is None:
                raise StreamNotFoundError(stream_id)
            raw = self._ids.known(stream_id)
        self._begin_write()
        with self._errors(f"updating the calculated intervals of {stream_id}"):
            for attempt in range(self.cas_attempts):
                doc = self._c.definitions.find_one({"stream_id": raw}, {"_id": 1, "calculated_intervals": 1})
                if doc is None:
                    raise StreamNotFoundError(stream_id)
                present = "calculated_intervals" in doc
                stored = doc.get("calculated_intervals")
                base = set_to if set_to is not None else parse_intervals(self._where, stream_id, stored)
                new = merge_intervals(base, add, remove)
                cond = {"_id": doc["_id"],
                        "calculated_intervals": stored if present else {"$exists": False}}
                res = self._c.definitions.update_one(cond, {"$set": {"calculated_intervals": self._intervals(new),
                                                                     "last_updated": _date(utcnow(), "now")}})
                if res.matched_count:
                    return new
                time.sleep(min(0.2, 0.001 * (2 ** min(attempt, 8))) * random.random())
        raise StoreError(f"MongoDB {self._where}: the calculated intervals of stream {stream_id} changed under "
                         f"this write {self.cas_attempts} times in a row; they were not updated (the data of this "
                         f"batch is written); try again")

    # -- instances ---------------------------------------------------------------------------------------------
    def _prepare_write(self, stream_id: StreamId, changes_intervals: bool) -> None:
        """Before a batch's first write command (under the batch lock): the store's first write makes the indexes;
        a write of calculated intervals first removes the stream's abandoned orphans (see
        :mod:`channels.stores.mongo_orphans`)."""
        self._begin_write()
        if changes_intervals:
            self._orphans.clean(stream_id)

    def insert(self, stream_id: StreamId, instances: Sequence[StreamInstance],
               calculated_intervals: TimeIntervals | None = None, *, add_intervals=None,
               remove_intervals=None) -> int:
        ivs = interval_changes(calculated_intervals, add_intervals, remove_intervals)
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
            self._prepare_write(stream_id, changes_intervals)
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
        self._prepare_write(stream_id, changes_intervals)
        with self._errors(f"writing to stream {stream_id}"):
            raw = self._raw_for_write(stream_id)
            # duplicates against the stored instances
            last = self._c.streams.find_one({"stream_id": raw}, {"datetime": 1}, sort=[("datetime", -1)])
            firstdoc = self._c.streams.find_one({"stream_id": raw}, {"datetime": 1}, sort=[("datetime", 1)])
            lo, hi = ms[keep[0]], ms[keep[-1]]
            if last is not None and not (lo > dt_ms(_aware(last["datetime"])) or
                                         hi < dt_ms(_aware(firstdoc["datetime"]))):
                stored = {}
                for c in range(0, len(keep), _IN_CHUNK):
                    dates = [ms_dt(ms[i]) for i in keep[c:c + _IN_CHUNK]]
                    for d in self._c.streams.find({"stream_id": raw, "datetime": {"$in": dates}},
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
            token = self._orphans.note(stream_id, raw, [d["_id"] for d in docs])
        if docs:
            prev = (None if firstdoc is None else dt_ms(_aware(firstdoc["datetime"])),
                    None if last is None else dt_ms(_aware(last["datetime"])))
            claim = self._lod.claim(stream_id.key, *prev) if last is not None else None
            try:
                self._c.streams.insert_many(docs, ordered=True)
            except (BulkWriteError, PyMongoError) as e:
                inserted = e.details.get("nInserted") if isinstance(e, BulkWriteError) else None
                left = self._rollback([d["_id"] for d in docs])
                self._lod.release(claim)
                if left is not None:
                    self._orphans.keep(token)
                    n_left = left if inserted is None else min(left, int(inserted))
                    raise StoreError(
                        f"MongoDB {self._where}: writing to stream {stream_id} failed: {_short(e)}; removing the "
                        f"part written failed: {'up to ' if inserted is None else ''}{n_left} documents of this "
                        f"batch may remain outside the calculated intervals"
                        + (" (the next write of calculated intervals to this stream removes them)" if token
                           else "")) from e
                if token is not None:
                    self._orphans.drop_note(token)
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
                self._changes.record(stream_id, raw, min(w) - 1, max(w), WRITE, self._channel_id(stream_id))
            except PyMongoError as e:
                left = self._rollback([d["_id"] for d in docs])
                self._lod.release(claim)
                if left is not None:
                    self._orphans.keep(token)
                    raise StoreError(f"MongoDB {self._where}: writing to stream {stream_id} failed: could not "
                                     f"record the change in {CHANGES} ({_short(e)}); removing the part written "
                                     f"failed: up to {left} documents of this batch may remain outside the "
                                     f"calculated intervals") from e
                if token is not None:
                    self._orphans.drop_note(token)
                raise StoreError(f"MongoDB {self._where}: writing to stream {stream_id} failed: could not record "
                                 f"the change in {CHANGES} (the batch was removed again): {_short(e)}") from e
            self._lod.after_insert(stream_id, raw, claim, prev[1] is None, [ms[i] for i in keep],
                                   [values[i] for i in keep])
        self._ids.remember(stream_id, raw)
        try:
            stored = self._change_intervals(stream_id, ivs)
        except BaseException:
            self._orphans.keep(token)  # the data is in, its intervals are not: the next such write removes it
            raise
        if token is not None:
            self._orphans.drop_note(token)
        return Committed(len(docs), stored)

    def _rollback(self, ids):
        """Delete a half-written batch again; None when done, else how many of ``ids`` may remain."""
        done = 0
        try:
            for c in range(0, len(ids), _IN_CHUNK):
                self._c.streams.delete_many({"_id": {"$in": ids[c:c + _IN_CHUNK]}})
                done = c + len(ids[c:c + _IN_CHUNK])
        except Exception as e:  # noqa: BLE001 - report the original error, log this one
            log.error("MongoDB %s: could not remove a half-written batch: %s", self._where, e)
            return len(ids) - done
        return None

    def read(self, stream_id: StreamId, start: datetime | None, end: datetime | None) -> Iterator[StreamInstance]:
        q = self._ids.filter(stream_id, start, end)
        return self._read(stream_id, q)

    def _read(self, stream_id, q):
        make = StreamInstance._make
        with self._errors(f"reading stream {stream_id}"):
            cur = self._c.streams.find(q, {"_id": 0, "datetime": 1, "value": 1}).sort("datetime", 1).batch_size(10_000)
            for d in cur:
                yield make((_aware(d["datetime"]), decode_bson(d.get("value"))))

    def count(self, stream_id: StreamId, start: datetime | None, end: datetime | None) -> int:
        with self._batch_lock:
            return self._count_locked(stream_id, start, end)

    def _count_locked(self, stream_id: StreamId, start: datetime | None, end: datetime | None) -> int:
        with self._errors(f"counting stream {stream_id}"):
            return self._c.streams.count_documents(self._ids.filter(stream_id, start, end))

    def _one(self, stream_id, start, end, direction):
        with self._errors(f"reading stream {stream_id}"):
            d = self._c.streams.find_one(self._ids.filter(stream_id, start, end), {"_id": 0, "datetime": 1, "value": 1},
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
        ivs = interval_changes(calculated_intervals, add_intervals, remove_intervals)
        with self._batch_lock:
            return self._purge_locked(stream_id, start, end, ivs)

    def _purge_locked(self, stream_id: StreamId, start, end, ivs) -> int:
        changes_intervals = any(x is not None for x in ivs)
        if changes_intervals and self.get_definition(stream_id) is None:
            raise StreamNotFoundError(stream_id)
        self._prepare_write(stream_id, changes_intervals)
        whole = start is None and end is None
        claim = None
        if not whole:
            claim = self._lod.claim_current(stream_id)
        change_id = None
        try:
            with self._errors(f"purging stream {stream_id}"):
                q = self._ids.filter(stream_id, start, end)
                f = self._c.streams.find_one(q, {"_id": 0, "datetime": 1, "stream_id": 1}, sort=[("datetime", 1)])
                if f is not None:
                    l_ = self._c.streams.find_one(q, {"_id": 0, "datetime": 1}, sort=[("datetime", -1)])
                    # the purged interval; an open end: the data's
                    lo_ms = dt_ms(_aware(f["datetime"])) - 1 if start is None else dt_ms(_date(start, "start"))
                    hi_ms = dt_ms(_aware(l_["datetime"])) if end is None else dt_ms(_date(end, "end"))
                    change_id = self._changes.record(stream_id, f["stream_id"], lo_ms, hi_ms, PURGE,
                                                     self._channel_id(stream_id))
                try:
                    n = self._c.streams.delete_many(q).deleted_count
                except Exception:
                    if change_id is not None:
                        self._changes.remove(change_id)
                    raise
        except StoreError:
            self._lod.release(claim)
            raise
        if whole:
            self._lod.drop(stream_id.key)
        elif claim is not None:
            lo = _NO_START if start is None else dt_ms(_date(start, "start"))
            hi = _NO_END if end is None else dt_ms(_date(end, "end"))
            self._lod.after_purge(stream_id, claim, n, lo, hi)
        return Committed(n, self._change_intervals(stream_id, ivs))

    def columns(self, stream_id: StreamId, start, end, component: str | None = None):
        with self._batch_lock:
            return self._columns_locked(stream_id, start, end, component=component)

    def _columns_locked(self, stream_id: StreamId, start, end, component: str | None = None):
        """``(ms int64, values float64)`` of the instances with a numeric value (or ``value[component]``)."""
        ms, nums = numeric_docs(self._c, self._ids, stream_id, start, end, component)
        keep = [i for i, x in enumerate(nums) if x is not None]
        return (np.array([ms[i] for i in keep], dtype=np.int64),
                np.array([nums[i] for i in keep], dtype=np.float64))

    def summary(self, stream_id: StreamId, start: datetime, end: datetime, buckets: int,
                component: str | None = None) -> Summary:
        with self._batch_lock:
            return self._summary_locked(stream_id, start, end, buckets, component=component)

    def _summary_locked(self, stream_id: StreamId, start: datetime, end: datetime, buckets: int,
                        component: str | None = None) -> Summary:
        """See :meth:`channels.stores.mongo_lod.MongoLevelOfDetail.summary`: aggregates kept up to date only once
        the store writes (see :attr:`writes_allowed`)."""
        return self._lod.summary(stream_id, start, end, buckets, component, may_write=self._writes_allowed)

    def typed_component_columns(self, stream_id, start, end, key):
        """See :func:`channels.stores.mongo_columnar.typed_component_columns`."""
        with self._batch_lock:
            return typed_component_columns(self._c, self._ids, stream_id, start, end, key)

    def rebuild_lod(self, stream_id: StreamId):
        """(Re)compute the stream's level-of-detail aggregates from its instances (a write); the new state (None
        for a small stream). See :meth:`channels.stores.mongo_lod.MongoLevelOfDetail.rebuild`."""
        with self._batch_lock:
            self._begin_write()
            return self._lod.rebuild(stream_id)

    # -- change log ---------------------------------------------------------------------------------------------
    def _channel_id(self, stream_id):
        """The channel of the stream's definition (None without one), for its change-log documents."""
        channel_id = self._channel_of.get(stream_id)
        if channel_id is None and stream_id not in self._channel_of:
            d = self.get_definition(stream_id)
            channel_id = d.channel_id if d is not None else None
        return channel_id

    def list_changes(self, stream_id: StreamId | None = None, since: datetime | None = None,
                     channel_id: str | None = None) -> list:
        """See :meth:`Store.list_changes` (reads ``hsgui_changes``; never creates it)."""
        return self._changes.read(stream_id, since, channel_id)

    def inserted_after(self, stream_id: StreamId, start, end, after: datetime):
        """See :meth:`channels.stores.mongo_changes.MongoChangeLog.inserted_after`."""
        return self._changes.inserted_after(stream_id, start, end, after)

    def newest_changes(self, channel_id: str | None = None) -> dict:
        """See :meth:`channels.stores.mongo_changes.MongoChangeLog.newest`."""
        return self._changes.newest(channel_id)

    def newest_insert_time(self, stream_id: StreamId, start, end) -> datetime | None:
        """See :meth:`channels.stores.mongo_changes.MongoChangeLog.newest_insert_time`."""
        return self._changes.newest_insert_time(stream_id, start, end)

    # -- tool-run history --------------------------------------------------------------------------------------
    def record_run(self, run: dict) -> None:
        """See :meth:`channels.stores.mongo_runs.MongoRuns.record`."""
        if not isinstance(run, dict):
            raise ValueEncodingError(f"a run record must be a dict, got {type(run).__name__}")
        self._begin_write()
        with self._errors("recording a tool run"):
            self._runs.record(run)

    def list_runs(self, limit: int | None = None) -> list[dict]:
        with self._errors("listing tool runs"):
            return self._runs.list(limit)

    def run_summary(self) -> dict:
        """See :meth:`channels.stores.mongo_runs.MongoRuns.summary`."""
        with self._errors("reading the run summary"):
            return self._runs.summary()

    def runs_of(self, streams, role: str | None = None) -> list[dict]:
        """See :meth:`channels.stores.mongo_runs.MongoRuns.runs_of`."""
        with self._errors("listing tool runs"):
            return self._runs.runs_of(streams, role)

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
        self._begin_write()
        with self._errors(f"writing {collection}"):
            result = self.db[collection].insert_many(docs, ordered=True)
            if len(result.inserted_ids) != len(docs):  # pragma: no cover - insert_many raises before this
                self.db[collection].delete_many({"_id": {"$in": list(result.inserted_ids)}})
                raise StoreError(f"writing {collection}: only {len(result.inserted_ids)} of {len(docs)} written")

    def delete_documents(self, collection: str, match: dict) -> int:
        check_collection(collection)
        self._begin_write()
        with self._errors(f"deleting from {collection}"):
            return self.db[collection].delete_many(dict(match)).deleted_count

    def __repr__(self):
        return f"MongoStore({self._where!r}, db_name={self.db_name!r})"


__all__ = ["IndexOffer", "MongoStore", "redact_uri"]
