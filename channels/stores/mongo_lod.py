"""Level of detail for the MongoDB store: the precomputed per-level aggregates in the side collections
``hsgui_lod`` / ``hsgui_lod_state`` (HyperStream's own collections untouched), kept by inserts and purges,
caught up when HyperStream appends or prepends, and the bucketed summaries answered from them.

A mixin of :class:`channels.stores.mongo_store.MongoStore` (it uses the store's collections, locks and
error handling); kept apart because it is a concept of its own, as long as the rest of the store.
"""
from __future__ import annotations


import itertools
import logging
from datetime import datetime

import numpy as np

from ..lod import Summary
from ..stream import StreamId
from ..utils import UTC, utcnow
from .codec import MONGO_TAG, decode_bson, dt_ms, ms_dt, numeric
from .lod_levels import LEVEL_WIDTHS_MS, LOD_MIN_INSTANCES, LOD_PER_BUCKET, Agg, assemble, choose_lod_level, summary_plan

log = logging.getLogger(__name__)
from .mongo_common import (LOD_VERSION, _BULK_CHUNK, _EMPTY, _NO_END, _NO_START, _PENDING_STALE_S, _aware, _date,
                           _merge_row, _num, _num_expr)


class MongoLevelOfDetail:
    """The level-of-detail part of MongoStore (see the module docstring)."""

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
