"""The change log of the MongoDB store (:mod:`channels.changes`), and what the instances' ObjectIds tell.

``hsgui_changes`` (an extra collection HyperStream ignores, made with its indexes by the first change only)
holds ``{key: StreamId.key, stream_id: <raw>, channel_id, start, end, at,
kind, by}`` per batch, written right after the batch's instances (a failure removes the batch again,
as a failed ``insert_many`` does); a purge records its change first and removes it if the delete fails.
Writes by programs that keep no change log (HyperStream itself, a user's pymongo script) are still
visible through the instances' ObjectId times: :meth:`MongoStore.inserted_after`.

:class:`MongoChangeLog` is owned by :class:`channels.stores.mongo_store.MongoStore` and works on the store's
:class:`~channels.stores.mongo_common.MongoCollections` and :class:`~channels.stores.mongo_common.MongoStreamIds`.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from ..changes import WRITE, Change, current_origin
from ..errors import StreamIdError
from ..stream import StreamId
from ..time_interval import TimeInterval
from ..utils import ensure_utc, utcnow
from .codec import dt_ms, ms_dt
from .mongo_common import CHANGES, _aware, _date

log = logging.getLogger(__name__)


class MongoChangeLog:
    """Records and lists the changes of one database; see the module docstring."""

    def __init__(self, collections, stream_ids, indexes):
        self._c = collections
        self._ids = stream_ids
        self._indexes = indexes

    def record(self, stream_id: StreamId, raw: dict, lo_ms: int, hi_ms: int, kind: str, channel_id):
        """Insert one change document (the collection and its indexes made with the first); returns its ``_id``."""
        from bson import ObjectId

        self._indexes.ensure(CHANGES)
        doc = {"_id": ObjectId(), "key": stream_id.key, "stream_id": raw, "channel_id": channel_id,
               "start": ms_dt(lo_ms), "end": ms_dt(hi_ms), "at": _date(utcnow(), "now"), "kind": kind,
               "by": current_origin(kind)}
        self._c.changes.insert_one(doc)
        return doc["_id"]

    def remove(self, change_id) -> None:
        """Take back a recorded change (its batch failed)."""
        self._c.changes.delete_one({"_id": change_id})

    def read(self, stream_id: StreamId | None = None, since: datetime | None = None,
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
        with self._c.errors("listing changes"):
            for i, d in enumerate(self._c.changes.find(q).sort([("at", 1), ("_id", 1)])):
                try:
                    sid = stream_id or ids.get(d["key"]) or ids.setdefault(d["key"], StreamId.from_key(d["key"]))
                    iv = TimeInterval._trusted(_aware(d["start"]), _aware(d["end"]))
                except (KeyError, TypeError, ValueError, StreamIdError) as e:
                    log.warning("MongoDB %s: skipping unreadable %s document %r: %s", self._c.where, CHANGES,
                                d.get("_id"), e)
                    continue
                out.append(Change(d.get("channel_id"), sid, iv, _aware(d["at"]), d.get("kind", WRITE),
                                  d.get("by", "?"), i))
        return out

    def newest(self, channel_id: str | None = None) -> dict:
        """See :meth:`Store.newest_changes`: one grouping of ``hsgui_changes`` in the server."""
        pipeline = ([{"$match": {"channel_id": channel_id}}] if channel_id is not None else []) + \
            [{"$group": {"_id": "$key", "at": {"$max": "$at"}}}]
        out = {}
        with self._c.errors("listing changes"):
            for d in self._c.changes.aggregate(pipeline):
                try:
                    out[StreamId.from_key(d["_id"])] = _aware(d["at"])
                except (KeyError, TypeError, ValueError, StreamIdError) as e:
                    log.warning("MongoDB %s: skipping unreadable %s key %r: %s", self._c.where, CHANGES,
                                d.get("_id"), e)
        return out

    def inserted_after(self, stream_id: StreamId, start, end, after: datetime):
        """See :meth:`Store.inserted_after`: instances whose ObjectId was made in a whole second after the one
        of ``after`` (ObjectIds keep seconds; what was inserted later within that same second is not seen)."""
        from bson import ObjectId

        q = self._ids.filter(stream_id, start, end)
        floor = ensure_utc(after, "after").replace(microsecond=0) + timedelta(seconds=1)
        q["_id"] = {"$gt": ObjectId.from_datetime(floor)}
        with self._c.errors(f"reading stream {stream_id}"):
            f = self._c.streams.find_one(q, {"_id": 0, "datetime": 1}, sort=[("datetime", 1)])
            if f is None:
                return None
            l_ = self._c.streams.find_one(q, {"_id": 0, "datetime": 1}, sort=[("datetime", -1)])
        return TimeInterval(ms_dt(dt_ms(_aware(f["datetime"])) - 1), _aware(l_["datetime"]))

    def newest_insert_time(self, stream_id: StreamId, start, end) -> datetime | None:
        """See :meth:`Store.newest_insert_time`: the newest ObjectId time (whole seconds) in ``(start, end]``."""
        with self._c.errors(f"reading stream {stream_id}"):
            d = self._c.streams.find_one(self._ids.filter(stream_id, start, end), {"_id": 1}, sort=[("_id", -1)])
        if d is None or not hasattr(d["_id"], "generation_time"):
            return None
        return _aware(d["_id"].generation_time)
