"""Orphans of the MongoDB store: documents of a failed batch that could not be removed again.

Before a batch that adds calculated intervals is written, a note of its document ids goes to
``hsgui_pending_batches`` (an extra collection); it is deleted once the batch and its intervals are
committed, or the batch removed again. If the write fails and removing the part written fails too, the
error says how many documents may remain outside the calculated intervals, and the note stays. The next
write that changes the stream's calculated intervals (through any store object: at once in this process,
after ``orphan_after_s`` in others, as a live writer's note is younger) first deletes the noted documents
outside the stream's calculated intervals, so ``count()`` and reads agree with the calculated intervals.
Writes without calculated intervals (``Stream.writer``, HyperStream's own) are never noted nor removed.
Reading never cleans (it sends no write: a read-only user can browse).

:class:`MongoOrphans` is owned by :class:`channels.stores.mongo_store.MongoStore`, which calls it under its
batch lock; it works on the store's :class:`~channels.stores.mongo_common.MongoCollections` and drops the
aggregates of a stream it removed documents from through the store's
:class:`~channels.stores.mongo_lod.MongoLevelOfDetail`.
"""
from __future__ import annotations

import logging

from ..utils import utcnow
from .mongo_common import PENDING, _IN_CHUNK, _aware, _date, _short, parse_intervals

log = logging.getLogger(__name__)


class MongoOrphans:
    """Pending-batch notes and the removal of abandoned batches; see the module docstring."""

    #: a note written by another store object is taken as abandoned after this long (seconds)
    after_s = 600.0

    def __init__(self, collections, stream_ids, lod):
        self._c = collections
        self._ids = stream_ids
        self._lod = lod
        self._own: set = set()  # tokens of notes whose batch this store object could not remove again

    _NOTE_IDS = 50_000

    def note(self, stream_id, raw, ids) -> str:
        """Write the pending-batch note(s) of a batch about to be written; return its token."""
        from bson import ObjectId
        token = str(ObjectId())
        now = _date(utcnow(), "now")
        notes = [{"token": token, "key": stream_id.key, "stream_id": raw, "at": now,
                  "ids": ids[c:c + self._NOTE_IDS]} for c in range(0, len(ids), self._NOTE_IDS)]
        with self._c.errors(f"writing to stream {stream_id} (noting the batch in {PENDING})"):
            self._c.pending.insert_many(notes, ordered=True)
        return token

    def drop_note(self, token) -> None:
        try:
            self._c.pending.delete_many({"token": token})
        except Exception as e:  # noqa: BLE001 - a note left behind is cleaned later; never fail a committed batch
            log.warning("MongoDB %s: could not remove the note of a committed batch from %s: %s", self._c.where,
                        PENDING, _short(e))

    def keep(self, token) -> None:
        """A batch of this store object could not be removed again: its note is cleaned by the next
        :meth:`clean` of the stream, however young."""
        if token is not None:
            self._own.add(token)

    def clean(self, stream_id) -> None:
        """Delete the noted documents of the stream's abandoned batches that lie outside its calculated
        intervals, and drop the notes (a write to the stream is about to happen: never called by a read)."""
        key = stream_id.key
        try:
            notes = list(self._c.pending.find({"key": key}, {"token": 1, "at": 1}))
        except Exception as e:  # noqa: BLE001 - the write must not fail on this
            log.debug("MongoDB %s: could not read %s: %s", self._c.where, PENDING, e)
            return
        if not notes:
            return
        now = utcnow()
        for token in sorted({n["token"] for n in notes}):
            at = _aware(next(n for n in notes if n["token"] == token).get("at"))
            if token not in self._own and at is not None and (now - at).total_seconds() < self.after_s:
                continue  # maybe a writer still at work
            try:
                self._remove(token, stream_id)
            except Exception as e:  # noqa: BLE001 - say so, keep the note
                log.warning("MongoDB %s: stream %s: could not remove the documents of an abandoned batch: %s",
                            self._c.where, stream_id, _short(e))

    def _remove(self, token, stream_id) -> None:
        # the intervals as they are now
        doc = self._c.definitions.find_one({"stream_id": self._ids.known(stream_id) or stream_id.as_raw()},
                                           {"calculated_intervals": 1})
        calc = parse_intervals(self._c.where, stream_id, (doc or {}).get("calculated_intervals"))
        removed = 0
        for note in self._c.pending.find({"token": token}, {"ids": 1}):
            ids = list(note.get("ids") or [])
            for c in range(0, len(ids), _IN_CHUNK):
                docs = list(self._c.streams.find({"_id": {"$in": ids[c:c + _IN_CHUNK]}}, {"datetime": 1}))
                out = [d["_id"] for d in docs if _aware(d["datetime"]) not in calc]
                if out:
                    removed += self._c.streams.delete_many({"_id": {"$in": out}}).deleted_count
        if removed:
            self._lod.drop(stream_id.key)  # the aggregates counted them: rebuilt on demand
            log.warning("MongoDB %s: stream %s: removed %d document(s) of an earlier batch whose write failed "
                        "(they lay outside the calculated intervals)", self._c.where, stream_id, removed)
        self._c.pending.delete_many({"token": token})
        self._own.discard(token)
