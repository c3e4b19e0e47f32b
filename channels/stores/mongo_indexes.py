"""The indexes of the MongoDB store, and when they are made.

Opening and reading a database send no write command (``createIndexes`` included), so a read-only user can
browse, plot and export, and a slow server is never asked to build an index because someone looked at it.
Indexes are made:

* HyperStream's own (``streams``: unique ``(stream_id, datetime)`` and ``stream_id``; ``stream_definitions``:
  unique ``stream_id``) by the store's first write (:meth:`MongoIndexes.ensure_core`, once per store object);
* the app's side collections' (``hsgui_lod``, ``hsgui_lod_state``, ``hsgui_changes``, ``hsgui_tool_runs``) with
  their collection,
  by the first write to it (:meth:`MongoIndexes.ensure`);
* or when the user agrees: :meth:`MongoIndexes.missing` lists the indexes that would help, each with the
  collection's document count as its cost, and :meth:`MongoIndexes.create` makes them.

An index counts as there when one with the same keys exists, whatever its name or options (HyperStream's, or
one a database administrator made).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from .mongo_common import CHANGES, DEFINITIONS, LOD, LOD_STATE, RUNS, STREAMS, _short

log = logging.getLogger(__name__)

#: HyperStream's collections: their indexes are made by the store's first write
CORE = (STREAMS, DEFINITIONS)

#: (collection, keys, unique, what it speeds up)
INDEXES = (
    (STREAMS, (("stream_id", 1), ("datetime", 1)), True, "reading a stream's instances in time order"),
    (STREAMS, (("stream_id", 1),), False, "finding a stream's instances"),
    (DEFINITIONS, (("stream_id", 1),), True, "finding a stream's definition"),
    (LOD, (("key", 1), ("comp", 1), ("level", 1), ("bucket", 1)), True, "overviews from the summaries"),
    (LOD_STATE, (("key", 1),), True, "overviews from the summaries"),
    (CHANGES, (("key", 1), ("at", 1)), False, "a stream's change log"),
    (CHANGES, (("at", 1),), False, "the change log since a time"),
    (RUNS, (("lineage.streams", 1),), False, "a stream's lineage"),
)


@dataclass(frozen=True)
class IndexOffer:
    """An index that would help: on ``collection``, over ``keys`` (``(field, 1)`` pairs), ``unique`` or not;
    ``documents`` is the collection's document count (estimated), the cost of building it; ``purpose`` says
    what it speeds up."""

    collection: str
    keys: tuple
    unique: bool
    documents: int
    purpose: str

    @property
    def title(self) -> str:
        """e.g. ``unique index on streams (stream_id, datetime)``"""
        fields = ", ".join(k for k, _ in self.keys)
        return f"{'unique ' if self.unique else ''}index on {self.collection} ({fields})"

    def __str__(self) -> str:
        return f"{self.title}: {self.purpose}; {self.documents:,} documents to index"


def _same_keys(index_key, keys) -> bool:
    try:
        return [(str(k), int(v)) for k, v in index_key] == [(k, int(v)) for k, v in keys]
    except (TypeError, ValueError):  # a text or 2dsphere index: not one of ours
        return False


class MongoIndexes:
    """The store's indexes on one database (see the module docstring); safe to use from several threads."""

    def __init__(self, collections):
        self._c = collections
        self._lock = threading.Lock()
        self._made: set[str] = set()  # collections whose indexes this object has made (or found there)

    def _specs(self, collection: str):
        return [(keys, unique) for name, keys, unique, _ in INDEXES if name == collection]

    def ensure(self, collection: str) -> None:
        """Make the indexes of ``collection`` unless this object did already (a write is about to use it).

        A server that refuses one (no permission, an equivalent index with other options) is logged and the
        write goes on; other pymongo errors (the server went away) are raised to the write."""
        if collection in self._made:
            return
        from pymongo.errors import OperationFailure

        with self._lock:
            if collection in self._made:
                return
            coll = self._c.db[collection]
            for keys, unique in self._specs(collection):
                try:
                    coll.create_index(list(keys), unique=True) if unique else coll.create_index(list(keys))
                except OperationFailure as e:
                    log.info("MongoDB %s: index %s on %s not created: %s", self._c.where, list(keys), collection,
                             _short(e))
            self._made.add(collection)

    def ensure_core(self) -> None:
        """Make HyperStream's own indexes (the store's first write); a StoreError if the server cannot be used."""
        if all(c in self._made for c in CORE):
            return
        with self._c.errors("creating the indexes of streams and stream_definitions"):
            for collection in CORE:
                self.ensure(collection)

    def missing(self) -> list[IndexOffer]:
        """The indexes that would help and are not there (read only: ``listCollections``, ``listIndexes`` and
        a count per collection). The app's side collections are listed only when they exist."""
        c = self._c
        out = []
        with c.errors("listing indexes"):
            existing = set(c.db.list_collection_names())
            counts: dict[str, int] = {}
            for name, keys, unique, purpose in INDEXES:
                if name not in CORE and name not in existing:
                    continue  # made with its indexes by the first write to it
                have = c.db[name].index_information().values() if name in existing else ()
                if any(_same_keys(info.get("key", ()), keys) for info in have):
                    continue
                if name not in counts:
                    counts[name] = c.db[name].estimated_document_count() if name in existing else 0
                out.append(IndexOffer(name, keys, unique, counts[name], purpose))
        return out

    def create(self) -> list[IndexOffer]:
        """Make every index :meth:`missing` lists; return them. A StoreError names the index the server refused
        and why (e.g. a read-only user); the ones made before it stay."""
        from pymongo.errors import PyMongoError

        made = []
        for offer in self.missing():
            coll = self._c.db[offer.collection]
            try:
                if offer.unique:
                    coll.create_index(list(offer.keys), unique=True)
                else:
                    coll.create_index(list(offer.keys))
            except PyMongoError as e:
                from ..errors import StoreError
                raise StoreError(f"MongoDB {self._c.where} (database {self._c.db_name!r}): creating the "
                                 f"{offer.title} failed: {_short(e)}") from e
            made.append(offer)
        with self._lock:
            self._made.update(CORE)
        return made


__all__ = ["INDEXES", "IndexOffer", "MongoIndexes"]
