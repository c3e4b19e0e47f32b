"""The tool-run history of the MongoDB store: ``hsgui_tool_runs`` (a collection of the app's own, HyperStream
ignores it), one document per run: ``{recorded_at, record, lineage}``.

``record`` is the run record (:meth:`channels.tools.history.RunRecord.to_dict`, BSON-encoded); ``lineage``
holds what lineage asks of it without decoding it: for a run that ended ok and committed something
``{streams: [{c: channel_id, k: StreamId.key, r: "wrote"/"read"}, ...], started: datetime, tool, version}``,
else ``{}``. The summary of the history (:meth:`Store.run_summary`) is one aggregation over these fields, one
stream's runs (:meth:`Store.runs_of`) one query on the index over ``lineage.streams`` (made by the first run
recorded). Documents an earlier version wrote have no ``lineage``: they are decoded and summarised here.
:class:`MongoRuns` is owned by :class:`channels.stores.mongo_store.MongoStore`.
"""
from __future__ import annotations

from ..tools.history import run_streams, summarise_run_dicts, wanted_streams, _from_iso
from ..utils import utcnow
from .codec import decode_bson, encode_bson
from .mongo_common import RUNS, _aware, _date

_ORDER = [("recorded_at", -1), ("_id", -1)]


def lineage_fields(run: dict) -> dict:
    """The ``lineage`` field of a run's document (see the module docstring)."""
    streams = run_streams(run)
    if not streams:
        return {}
    return {"streams": [{"c": c, "k": k, "r": r} for c, k, r in sorted(streams)],
            "started": _date(_from_iso(run["started_at"]), "started_at"),
            "tool": run.get("tool"), "version": run.get("tool_version")}


class MongoRuns:
    """Records and lists the runs of one database; see the module docstring."""

    def __init__(self, collections, indexes):
        self._c = collections
        self._indexes = indexes

    def record(self, run: dict) -> None:
        """Insert one run's document (the write has begun: see ``MongoStore._begin_write``)."""
        doc = {"recorded_at": _date(utcnow(), "now"), "record": encode_bson(run), "lineage": lineage_fields(run)}
        self._indexes.ensure(RUNS)
        self._c.runs.insert_one(doc)

    def list(self, limit: int | None = None) -> list[dict]:
        cur = self._c.runs.find({}, {"_id": 0, "record": 1}).sort(_ORDER)
        if limit is not None:
            cur = cur.limit(int(limit))
        return [decode_bson(d["record"]) for d in cur]

    def summary(self) -> dict:
        """See :meth:`Store.run_summary`."""
        runs = self._c.runs
        reads = {}
        for d in runs.aggregate([{"$match": {"lineage.streams.r": "read"}}, {"$unwind": "$lineage.streams"},
                                 {"$match": {"lineage.streams.r": "read"}},
                                 {"$group": {"_id": {"c": "$lineage.streams.c", "k": "$lineage.streams.k"},
                                             "at": {"$min": "$lineage.started"}}}]):
            reads[(d["_id"]["c"], d["_id"]["k"])] = _aware(d["at"])
        tools = {(d["_id"]["t"], d["_id"]["v"]) for d in runs.aggregate([
            {"$match": {"lineage.tool": {"$exists": True}}},
            {"$group": {"_id": {"t": "$lineage.tool", "v": "$lineage.version"}}}])}
        out = {"reads": reads, "tools": tools}
        earlier = summarise_run_dicts(decode_bson(d["record"]) for d in runs.find({"lineage": {"$exists": False}},
                                                                                   {"_id": 0, "record": 1}))
        out["tools"] |= earlier["tools"]
        for key, at in earlier["reads"].items():
            if key not in reads or at < reads[key]:
                reads[key] = at
        return out

    def runs_of(self, streams, role: str | None = None) -> list[dict]:
        """See :meth:`Store.runs_of`."""
        wanted = wanted_streams(streams, role)
        q = {"$or": [{"lineage.streams": {"c": c, "k": k, "r": r}} for c, k, r in sorted(wanted)]}
        out = [(d["recorded_at"], d["_id"], decode_bson(d["record"])) for d in self._c.runs.find(q)] if wanted else []
        for d in self._c.runs.find({"lineage": {"$exists": False}}):
            run = decode_bson(d["record"])
            if wanted.intersection(run_streams(run)):
                out.append((d["recorded_at"], d["_id"], run))
        out.sort(key=lambda t: (t[0], t[1]), reverse=True)
        return [run for _at, _id, run in out]


__all__ = ["MongoRuns", "lineage_fields"]
