"""Level of detail for the MongoDB store: the precomputed per-level aggregates in the side collections
``hsgui_lod`` / ``hsgui_lod_state`` (HyperStream's own collections untouched), kept by inserts and purges,
caught up when HyperStream appends or prepends, and the bucketed summaries answered from them or, without
current aggregates, by an aggregation pipeline on the server.

:class:`MongoLevelOfDetail` is owned by :class:`channels.stores.mongo_store.MongoStore` and works on the
store's :class:`~channels.stores.mongo_common.MongoCollections` and
:class:`~channels.stores.mongo_common.MongoStreamIds`. The store calls :meth:`~MongoLevelOfDetail.claim` /
:meth:`~MongoLevelOfDetail.after_insert` around an insert, :meth:`~MongoLevelOfDetail.claim_current` /
:meth:`~MongoLevelOfDetail.after_purge` around a purge, :meth:`~MongoLevelOfDetail.drop` when a stream's
aggregates cannot be trusted, and :meth:`~MongoLevelOfDetail.summary` to answer.

Reading writes nothing until the store writes: ``summary(..., may_write=False)`` answers from aggregates only
when they are current, else by the pipeline; it never builds, catches up or drops aggregates (a read-only user
can plot; see :mod:`channels.stores.mongo_indexes`).

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
  detected, and added to the aggregates incrementally (reading only them; until the store writes, the
  pipeline answers instead);
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

Aggregates that are missing or stale are rebuilt by ``summary()`` (once the store writes) when the
stream has more than ``lod_rebuild_min`` (10,000) instances (one bounded
``count_documents(limit=...)`` decides); smaller streams use the pipeline,
which is cheap for them. ``rebuild_lod`` runs two aggregation passes on the
server (values; ``$objectToArray`` components) grouped by the finest level's
bucket and derives the coarser levels in numpy; its finest level follows
from the mean instance spacing (a batch uses the median, as SQLite does).
Concurrent writers are safe against each other through the claim, but a
rebuild racing with an insert into the middle of the stream can miss it (no
multi-document transactions): best effort, like ``insert`` itself.
"""
from __future__ import annotations

import itertools
import logging
from datetime import datetime

import numpy as np

from ..errors import TimeError
from ..lod import Summary, bucket_edges, summarise_arrays
from ..stream import StreamId
from ..utils import UTC, utcnow
from .codec import MONGO_TAG, decode_bson, dt_ms, ms_dt, numeric
from .lod_levels import (LEVEL_WIDTHS_MS, LOD_MIN_INSTANCES, LOD_PER_BUCKET, Agg, assemble, choose_lod_level,
                         summary_plan)
from .mongo_columnar import numeric_docs
from .mongo_common import (LOD, LOD_STATE, LOD_VERSION, _BULK_CHUNK, _EMPTY, _NO_END, _NO_START, _NUMERIC_TYPES,
                           _PENDING_STALE_S, _aware, _date, _merge_row, _num, _num_expr)

log = logging.getLogger(__name__)


class MongoLevelOfDetail:
    """The level-of-detail part of a MongoStore (see the module docstring)."""

    #: a stream without current aggregates is rebuilt by ``summary()`` (when it may write) above this many instances
    rebuild_min = 10_000

    def __init__(self, collections, stream_ids, indexes):
        self._c = collections
        self._ids = stream_ids
        self._indexes = indexes
        # mongomock's bulk_write does not take the UpdateOne of pymongo >= 4.9 (``sort``): merge in Python there
        self.bulk_upserts = not collections.mock

    def _ensure_indexes(self) -> None:
        """Made with the first aggregate write, so a store that never needs them adds no collections."""
        self._indexes.ensure(LOD)
        self._indexes.ensure(LOD_STATE)

    def ends(self, stream_id) -> tuple:
        """``(first_ms, last_ms)`` of the stream (``None`` when empty): two index seeks."""
        q = self._ids.filter(stream_id)
        f = self._c.streams.find_one(q, {"_id": 0, "datetime": 1}, sort=[("datetime", 1)])
        if f is None:
            return None, None
        l_ = self._c.streams.find_one(q, {"_id": 0, "datetime": 1}, sort=[("datetime", -1)])
        return dt_ms(_aware(f["datetime"])), dt_ms(_aware(l_["datetime"]))

    def claim(self, key: str, first_ms, last_ms):
        """Atomically mark the stream's aggregates as being changed, if they are current for a stream whose
        first/last instances are ``first_ms``/``last_ms`` and nobody else is changing them; the state or None."""
        from pymongo import ReturnDocument

        if first_ms is None:
            return None
        return self._c.lod_state.find_one_and_update(
            {"key": key, "version": LOD_VERSION, "pending": 0, "first_ms": first_ms, "last_ms": last_ms,
             "level": {"$ne": None}},
            {"$inc": {"pending": 1}, "$set": {"pending_at": _date(utcnow(), "now")}},
            return_document=ReturnDocument.AFTER)

    def claim_current(self, stream_id):
        first_ms, last_ms = self.ends(stream_id)
        claim = self.claim(stream_id.key, first_ms, last_ms)
        if claim is None:
            self.drop(stream_id.key, only_if_exists=True)
        return claim

    def release(self, claim, dn: int = 0, first_ms=None, last_ms=None) -> None:
        """End a claim; ``first_ms``/``last_ms`` given = the stream's new ends (``None`` = unchanged)."""
        if claim is None:
            return
        upd = {"$inc": {"pending": -1, "n": int(dn)}}
        if first_ms is not None:
            upd["$set"] = {"first_ms": int(first_ms), "last_ms": int(last_ms)}
        try:
            self._c.lod_state.update_one({"key": claim["key"], "epoch": claim["epoch"]}, upd)
        except Exception as e:  # noqa: BLE001 - the data write stands; the aggregates stay marked as stale
            log.warning("MongoDB %s: level-of-detail state of %s not updated: %s", self._c.where, claim["key"], e)

    def drop(self, key: str, only_if_exists: bool = False) -> None:
        """Forget the stream's aggregates (state first, so nobody reads half-deleted aggregates as current)."""
        try:
            if only_if_exists and self._c.lod_state.find_one({"key": key}, {"_id": 1}) is None:
                return
            self._c.lod_state.delete_many({"key": key})
            self._c.lod.delete_many({"key": key})
        except Exception as e:  # noqa: BLE001 - logged; a stale state is caught by the checks in summary()
            log.warning("MongoDB %s: level-of-detail aggregates of %s not removed: %s", self._c.where, key, e)

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

    def _add(self, key: str, level: int, series) -> None:
        """Merge the aggregates of sorted instances into the stored ones ($inc / $min / $max upserts)."""
        rows = []
        for comp, ms, vals in series:
            if len(ms):
                rows.extend(self._levels_rows(comp, level, Agg.from_instances(ms, vals, LEVEL_WIDTHS_MS[level])))
        if not rows:
            return
        self._ensure_indexes()
        if self.bulk_upserts:
            from pymongo import UpdateOne

            ops = []
            for comp, k, b, n, nn, s_, mn, mx, f, l_ in rows:
                upd = {"$inc": {"n": n, "nn": nn, "s": s_}, "$min": {"f": f}, "$max": {"l": l_}}
                if nn:  # never $min/$max a NaN: MongoDB orders NaN below every number
                    upd["$min"]["mn"] = mn
                    upd["$max"]["mx"] = mx
                ops.append(UpdateOne({"key": key, "comp": comp, "level": k, "bucket": b}, upd, upsert=True))
            for c in range(0, len(ops), _BULK_CHUNK):
                self._c.lod.bulk_write(ops[c:c + _BULK_CHUNK], ordered=False)
            return
        # mongomock: read the touched rows, merge in Python, write them back
        groups: dict[tuple, list] = {}
        for r in rows:
            groups.setdefault((r[0], r[1]), []).append(r)
        for (comp, k), rs in groups.items():
            wanted = {r[2] for r in rs}
            old = {d["bucket"]: d for d in self._c.lod.find(
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
                self._c.lod.delete_many({"_id": {"$in": [o["_id"] for o in old.values()]}})
            self._c.lod.insert_many(docs)

    def _new_state(self, key: str, level: int, n: int, first_ms: int, last_ms: int) -> dict:
        from bson import ObjectId

        self._ensure_indexes()
        state = {"key": key, "version": LOD_VERSION, "epoch": ObjectId(), "level": int(level), "n": int(n),
                 "first_ms": int(first_ms), "last_ms": int(last_ms), "pending": 0, "pending_at": None}
        self._c.lod_state.replace_one({"key": key}, state, upsert=True)
        return state

    def after_insert(self, stream_id, raw, claim, was_empty: bool, w_ms: list, w_values: list) -> None:
        """Keep the aggregates current after ``insert_many`` wrote ``w_ms``/``w_values`` (best effort)."""
        key = stream_id.key
        try:
            if claim is not None:
                self._add(key, claim["level"], self._lod_series(w_ms, w_values))
                first_ms, last_ms = min(claim["first_ms"], min(w_ms)), max(claim["last_ms"], max(w_ms))
                self.release(claim, len(w_ms), first_ms, last_ms)
                return
            self.drop(key, only_if_exists=True)  # stale or contended: never add to aggregates we cannot trust
            if was_empty:
                if len(w_ms) >= LOD_MIN_INSTANCES:  # a new stream: build from the batch itself
                    series = self._lod_series(w_ms, w_values)
                    level = choose_lod_level(series[0][1])
                    self.drop(key)  # rows a crashed earlier build may have left
                    self._add(key, level, series)
                    self._new_state(key, level, len(w_ms), series[0][1][0], series[0][1][-1])
                return
            total = self._c.streams.count_documents({"stream_id": raw}, limit=self.rebuild_min + 1)
            if LOD_MIN_INSTANCES <= total <= self.rebuild_min:
                self.rebuild(stream_id)  # bounded: at most lod_rebuild_min instances
            # larger streams are rebuilt by the next summary()
        except Exception as e:  # noqa: BLE001 - the data is written; summary() falls back to the pipeline
            log.warning("MongoDB %s: level-of-detail aggregates of %s not updated (%s); they are rebuilt when "
                        "needed", self._c.where, stream_id, e)
            self.drop(key)

    def after_purge(self, stream_id, claim, deleted: int, lo: int, hi: int) -> None:
        """Recompute the level buckets that ``(lo, hi]`` cut; delete those it covers (best effort)."""
        key = stream_id.key
        try:
            if deleted:
                level = claim["level"]
                for k in range(level, len(LEVEL_WIDTHS_MS)):
                    w = LEVEL_WIDTHS_MS[k]
                    a, b = -(-lo // w), hi // w  # buckets a .. b-1 lie wholly inside (lo, hi]
                    if a < b:
                        self._c.lod.delete_many({"key": key, "level": k, "bucket": {"$gte": a, "$lt": b}})
                    cut = {lo // w} if lo % w and lo > _NO_START else set()
                    if hi % w and hi < _NO_END:
                        cut.add((hi - 1) // w)
                    for j in sorted(cut):
                        self._c.lod.delete_many({"key": key, "level": k, "bucket": j})
                        rows = []
                        if k == level:
                            ms, vals = self._raw_values(stream_id, j * w, (j + 1) * w)
                            for comp, cms, cv in self._lod_series(ms, vals):
                                if len(cms):
                                    rows.extend(self._agg_rows(comp, k, Agg.from_instances(cms, cv, w)))
                        else:
                            r = w // LEVEL_WIDTHS_MS[k - 1]
                            by_comp: dict[str, list] = {}
                            for d in self._c.lod.find({"key": key, "level": k - 1,
                                                     "bucket": {"$gte": j * r, "$lt": (j + 1) * r}}):
                                by_comp.setdefault(d["comp"], []).append(d)
                            for comp, ds in by_comp.items():
                                agg = self._agg_from_docs(ds).coarser(LEVEL_WIDTHS_MS[k - 1], w)
                                rows.extend(self._agg_rows(comp, k, agg))
                        if rows:
                            self._c.lod.insert_many([self._row_doc(key, r_) for r_ in rows])
            first_ms, last_ms = self.ends(stream_id)
            if first_ms is None:
                self.drop(key)
                return
            self.release(claim, -deleted, first_ms, last_ms)
        except Exception as e:  # noqa: BLE001 - the data is deleted; drop what may now be wrong
            log.warning("MongoDB %s: level-of-detail aggregates of %s not updated after a purge (%s); they are "
                        "rebuilt when needed", self._c.where, stream_id, e)
            self.drop(key)

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
        q = self._ids.filter(stream_id, None if lo <= _NO_START else ms_dt(lo), None if hi >= _NO_END else ms_dt(hi))
        for d in self._c.streams.find(q, {"_id": 0, "datetime": 1, "value": 1}).sort("datetime", 1).batch_size(10_000):
            ms.append(dt_ms(_aware(d["datetime"])))
            vals.append(decode_bson(d.get("value")))
        return ms, vals

    def summary(self, stream_id: StreamId, start: datetime, end: datetime, buckets: int,
                component: str | None = None, *, may_write: bool) -> Summary:
        """Bucketed summary from the precomputed aggregates when they are current, else by
        :meth:`pipeline_summary`. With ``may_write`` it first brings them up to date (catching up with
        instances others appended, rebuilding a large stream's); without, it sends no write."""
        s_dt, e_dt = _date(start, "summary start"), _date(end, "summary end")
        if s_dt is None or e_dt is None:
            raise TimeError("a summary needs both a start and an end time")
        s_ms, e_ms = dt_ms(s_dt), dt_ms(e_dt)
        edges = bucket_edges(s_ms, e_ms, int(buckets))
        state = None if component == "" else self._state_for_summary(stream_id, may_write)
        if state is _EMPTY:
            return assemble(s_ms, e_ms, edges, [], [])
        if state is not None:
            return self._summary_from_aggregates(stream_id, state, s_ms, e_ms, edges, component)
        return self.pipeline_summary(stream_id, start, end, buckets, component)

    def pipeline_summary(self, stream_id: StreamId, start: datetime, end: datetime, buckets: int,
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
            ms, nums = numeric_docs(self._c, self._ids, stream_id, start, end, component)
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
        x = {"$subtract": ["$datetime", s_dt.replace(tzinfo=None) if self._c.mock else s_dt]}
        a = {"$subtract": [{"$multiply": [x, buckets]}, 1]}
        idx = {"$floor": {"$add": [{"$divide": [{"$subtract": [a, {"$mod": [a, span]}]}, span]}, 0.5]}}
        pipeline = [
            {"$match": self._ids.filter(stream_id, start, end)},
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
        with self._c.errors(f"summarising stream {stream_id}"):
            for g in self._c.streams.aggregate(pipeline, allowDiskUse=True) if not self._c.mock else \
                    self._c.streams.aggregate(pipeline):
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

    def _state_for_summary(self, stream_id, may_write: bool):
        """The stream's aggregate state if the aggregates are current (with ``may_write``: after catching up with
        instances appended/prepended by others, or rebuilding a large stream); None to use the pipeline;
        ``_EMPTY`` for a stream without instances."""
        key = stream_id.key
        with self._c.errors(f"summarising stream {stream_id}"):
            st = self._c.lod_state.find_one({"key": key})
            first_ms, last_ms = self.ends(stream_id)
            usable = st is not None and st.get("version") == LOD_VERSION and st.get("level") is not None
            if usable and not st.get("pending"):
                if (first_ms, last_ms) == (st["first_ms"], st["last_ms"]):
                    return st
                if may_write and first_ms is not None and first_ms <= st["first_ms"] and last_ms >= st["last_ms"]:
                    caught = self._catch_up(stream_id, st, first_ms, last_ms)
                    if caught is not None:
                        return caught
            if usable and st.get("pending"):
                at = _aware(st.get("pending_at"))
                if at is not None and (utcnow() - at).total_seconds() < _PENDING_STALE_S:
                    return None  # a write is changing them right now
            if first_ms is None:  # no instances at all: nothing to summarise
                if st is not None and may_write:
                    self.drop(key)
                return _EMPTY
            if may_write and self._c.streams.count_documents(self._ids.filter(stream_id), limit=self.rebuild_min + 1) \
                    > self.rebuild_min:
                return self.rebuild(stream_id)
            return None

    def _catch_up(self, stream_id, st, first_ms: int, last_ms: int):
        """Add the instances others wrote before ``st.first_ms`` / after ``st.last_ms``; the new state or None."""
        claim = self.claim(stream_id.key, st["first_ms"], st["last_ms"])
        if claim is None:
            return None
        try:
            ms, vals = self._raw_values(stream_id, _NO_START, st["first_ms"] - 1)
            ms2, vals2 = self._raw_values(stream_id, st["last_ms"], _NO_END)
            ms += ms2
            vals += vals2
            self._add(stream_id.key, claim["level"], self._lod_series(ms, vals))
        except Exception:
            self.drop(stream_id.key)
            raise
        self.release(claim, len(ms), first_ms, last_ms)
        return self._c.lod_state.find_one({"key": stream_id.key, "epoch": claim["epoch"], "pending": 0,
                                         "first_ms": first_ms, "last_ms": last_ms})

    def rebuild(self, stream_id: StreamId):
        """(Re)compute the stream's aggregates from its instances; the new state (None for a small stream).

        Two aggregation passes on the server group the instances by the finest kept level's bucket: the values
        themselves, and the numeric top-level components of dict values (``$objectToArray``); the rare
        values HyperStream Studio stores tagged (ints beyond int64, dicts with keys MongoDB cannot hold) are
        added from a query of their own. Coarser levels are derived in numpy. The finest level follows
        from the mean spacing (``count``, first and last instance), not the median used for a batch.
        """
        key = stream_id.key
        with self._c.errors(f"rebuilding the level-of-detail aggregates of {stream_id}"):
            self.drop(key)
            q = self._ids.filter(stream_id)
            n = self._c.streams.count_documents(q)
            first_ms, last_ms = self.ends(stream_id)
            if n < LOD_MIN_INSTANCES or first_ms is None:
                return None
            spacing = (last_ms - first_ms) / max(n - 1, 1)
            level = next((k for k, w in enumerate(LEVEL_WIDTHS_MS) if w >= LOD_PER_BUCKET * spacing),
                         len(LEVEL_WIDTHS_MS) - 1)
            w = LEVEL_WIDTHS_MS[level]
            epoch = datetime(1970, 1, 1) if self._c.mock else datetime(1970, 1, 1, tzinfo=UTC)
            bucket = {"$floor": {"$divide": [{"$subtract": [{"$subtract": ["$datetime", epoch]}, 1]}, w]}}
            group = {"n": {"$sum": 1}, "nn": {"$sum": {"$cond": [{"$eq": ["$num", None]}, 0, 1]}},
                     "s": {"$sum": "$num"}, "mn": {"$min": "$num"}, "mx": {"$max": "$num"},
                     "f": {"$min": "$datetime"}, "l": {"$max": "$datetime"}}
            opts = {} if self._c.mock else {"allowDiskUse": True}
            rows: dict[tuple, list] = {}

            def put(comp, g):
                nn = int(g["nn"])
                rows[(comp, int(g["_id"]["b"]) if isinstance(g["_id"], dict) else int(g["_id"]))] = [
                    int(g["n"]), nn, _num(g["s"]) if nn else 0.0, _num(g["mn"]) if nn else np.nan,
                    _num(g["mx"]) if nn else np.nan, dt_ms(_aware(g["f"])), dt_ms(_aware(g["l"]))]

            for g in self._c.streams.aggregate([
                    {"$match": q},
                    {"$project": {"_id": 0, "datetime": 1, "b": bucket, "num": _num_expr("$value")}},
                    {"$group": {"_id": "$b", **group}}], **opts):
                put("", g)
            for g in self._c.streams.aggregate([
                    {"$match": {**q, "value": {"$type": "object"}, f"value.{MONGO_TAG}": {"$exists": False}}},
                    {"$project": {"_id": 0, "datetime": 1, "b": bucket, "kv": {  # $type matches arrays of objects too
                        "$cond": [{"$isArray": "$value"}, [], {"$objectToArray": "$value"}]}}},
                    {"$unwind": "$kv"},
                    {"$project": {"datetime": 1, "b": 1, "k": "$kv.k", "num": _num_expr("$kv.v")}},
                    {"$match": {"num": {"$ne": None}, "k": {"$ne": ""}}},
                    {"$group": {"_id": {"c": "$k", "b": "$b"}, **group}}], **opts):
                put(str(g["_id"]["c"]), g)
            # tagged values: ints beyond int64 count as numbers, escaped dicts have components
            for d in self._c.streams.find({**q, f"value.{MONGO_TAG}": {"$in": ["int", "dict"]}},
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
            self._ensure_indexes()
            for c in range(0, len(docs), _BULK_CHUNK):
                self._c.lod.insert_many(docs[c:c + _BULK_CHUNK], ordered=False)
            # the ends the aggregates cover: later writes by others then show as appends/prepends
            n_agg = sum(r[1] for r in values)
            return self._new_state(key, level, n_agg, min(r[6] for r in values), max(r[7] for r in values))

    def _summary_from_aggregates(self, stream_id, state, s_ms, e_ms, edges, component) -> Summary:
        key, level = stream_id.key, state["level"]
        comps = [""] if component is None else ["", str(component)]
        parts_count, parts_stats = [], []
        nan = float("nan")
        with self._c.errors(f"summarising stream {stream_id}"):
            for piece in summary_plan(edges, level):
                if piece[0] == "lod":
                    _, k, b0, b1 = piece
                    cnt, sts = [], []
                    for d in self._c.lod.find({"key": key, "comp": comps[0] if len(comps) == 1 else {"$in": comps},
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
                ms, nums = numeric_docs(self._c, self._ids, stream_id, ms_dt(lo), ms_dt(hi), component)
                if ms:
                    ts = np.array(ms, dtype=np.float64)
                    v = np.array([nan if x is None else x for x in nums], dtype=np.float64)
                    parts_count.append(np.column_stack((np.ones(len(ts)), ts, ts)))
                    isnum = ~np.isnan(v)
                    parts_stats.append(np.column_stack((ts, isnum, np.where(isnum, v, 0.0), v, v)))
        return assemble(s_ms, e_ms, edges, parts_count, parts_stats)
