"""MongoStore and HyperStream's own MongoDB layout, both ways; connection helpers and a dead server."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

mongomock = pytest.importorskip("mongomock")

from channels.errors import StoreError  # noqa: E402
from channels.lod import summarise_arrays  # noqa: E402
from channels.stores.base import StreamDefinition  # noqa: E402
from channels.stores.mongo_store import MongoStore, redact_uri  # noqa: E402
from channels.stream import StreamId, StreamInstance  # noqa: E402
from channels.time_interval import TimeInterval, TimeIntervals  # noqa: E402
from channels.utils import UTC, from_ms, to_ms  # noqa: E402

NAIVE0 = datetime(2016, 4, 28, 20, 0, 0)  # what pymongo returns without tz_aware: naive UTC
T0 = NAIVE0.replace(tzinfo=UTC)
HS_RAW = {"name": "environmental", "meta_data": [["uid", "5"], ["house", "1"]]}  # not in sorted order
HS_ID = StreamId("environmental", {"house": "1", "uid": "5"})


def _hyperstream_db():
    """A database written the way HyperStream 0.3 writes it (raw documents, naive datetimes)."""
    client = mongomock.MongoClient()
    db = client["hyperstream"]
    db.streams.create_index([("stream_id", 1), ("datetime", 1)], unique=True)
    db.streams.create_index([("stream_id", 1)])
    db.stream_definitions.create_index([("stream_id", 1)], unique=True)
    docs = []
    for i in range(300):
        value = {"temperature": 20.0 + (i % 7), "humidity": 40 + i % 11, "light": "on" if i % 2 else "off"}
        if i % 50 == 0:
            value = None
        docs.append({"stream_id": HS_RAW, "datetime": NAIVE0 + timedelta(seconds=10 * (i + 1)), "value": value})
    db.streams.insert_many(docs)
    db.streams.insert_one({"stream_id": {"name": "count", "meta_data": [["house", 1]]}, "stream_type": "StreamInstance",
                           "datetime": NAIVE0 + timedelta(seconds=1), "value": 7})
    db.stream_definitions.insert_one({
        "stream_id": HS_RAW, "stream_type": "StreamInstance", "channel_id": "mongo",
        "last_updated": NAIVE0 + timedelta(days=1), "last_accessed": NAIVE0 + timedelta(days=2),
        "calculated_intervals": [{"start": NAIVE0, "end": NAIVE0 + timedelta(seconds=3000)}],
        "sandbox": None})
    db.stream_definitions.insert_one({
        "stream_id": {"name": "count", "meta_data": [["house", 1]]}, "channel_id": "mongo",
        "last_updated": NAIVE0, "last_accessed": NAIVE0, "calculated_intervals": [], "sandbox": "sb1"})
    return client, docs


def test_opens_a_database_written_by_hyperstream():
    client, docs = _hyperstream_db()
    store = MongoStore(client, db_name="hyperstream")
    defs = {d.stream_id: d for d in store.list_definitions()}
    assert set(defs) == {HS_ID, StreamId("count", {"house": "1"})}
    d = defs[HS_ID]
    assert d.channel_id == "mongo" and d.stream_type == "StreamInstance" and d.sandbox is None
    assert d.calculated_intervals == TimeIntervals([TimeInterval(T0, T0 + timedelta(seconds=3000))])
    assert d.last_updated == T0 + timedelta(days=1) and d.last_updated.utcoffset() == timedelta(0)
    assert [x.stream_id for x in store.list_definitions("mongo")] == sorted(defs)

    # our id (sorted meta-data) finds HyperStream's documents (other order)
    assert store.count(HS_ID, None, None) == 300
    got = list(store.read(HS_ID, T0, T0 + timedelta(seconds=100)))
    assert [i.timestamp for i in got] == [T0 + timedelta(seconds=10 * (k + 1)) for k in range(10)]
    assert got[0].value is None and got[1].value == {"temperature": 21.0, "humidity": 41, "light": "on"}
    assert got[0].timestamp.tzinfo is not None
    assert store.last(HS_ID).timestamp == T0 + timedelta(seconds=3000)
    # numbers as meta-data values, as HyperStream may write them
    count_id = StreamId("count", {"house": 1})
    assert store.get_definition(count_id).sandbox == "sb1"
    assert [i.value for i in store.read(count_id, None, None)] == [7]

    # summaries and columns of components
    ms = np.array([to_ms(doc["datetime"].replace(tzinfo=UTC)) for doc in docs])
    temp = np.array([doc["value"]["temperature"] if doc["value"] else np.nan for doc in docs])
    want = summarise_arrays(ms, temp, to_ms(T0), to_ms(T0) + 3_000_000, 30)
    got = store.summary(HS_ID, T0, T0 + timedelta(seconds=3000), 30, component="temperature")
    np.testing.assert_array_equal(got.count, want.count)
    np.testing.assert_array_equal(got.min, want.min)
    np.testing.assert_allclose(got.mean, want.mean, equal_nan=True)
    np.testing.assert_array_equal(got.first_ms, want.first_ms)
    cms, cvals = store.columns(HS_ID, None, None, component="humidity")
    assert len(cms) == 294 and cvals[0] == 41.0 and cms[0] == to_ms(T0) + 20_000

    # writing into HyperStream's stream keeps HyperStream's raw id, so HyperStream sees the new data
    assert store.insert(HS_ID, [StreamInstance(T0 + timedelta(seconds=5000), {"temperature": 1.5})],
                        calculated_intervals=TimeIntervals([TimeInterval(T0, T0 + timedelta(seconds=5000))])) == 1
    db = client["hyperstream"]
    assert db.streams.count_documents({"stream_id": HS_RAW}) == 301
    assert db.stream_definitions.find_one({"stream_id": HS_RAW})["calculated_intervals"] == [
        {"start": NAIVE0, "end": NAIVE0 + timedelta(seconds=5000)}]
    assert db.stream_definitions.count_documents({}) == 2


def test_writes_exactly_hyperstreams_layout():
    client = mongomock.MongoClient()
    store = MongoStore(client, db_name="hs")
    sid = StreamId("kitchen", [("house", "1"), ("area", "k")])
    ivs = TimeIntervals([TimeInterval(T0, T0 + timedelta(hours=1))])
    store.create_definition(StreamDefinition(sid, "mongo", calculated_intervals=ivs, last_updated=T0,
                                             last_accessed=T0, stream_type="StreamInstance"))
    store.create_definition(StreamDefinition(StreamId("plain"), "mongo"))
    iv_value = TimeInterval(T0, T0 + timedelta(days=1))
    store.insert(sid, [StreamInstance(T0 + timedelta(seconds=1), 1.5),
                       StreamInstance(T0 + timedelta(seconds=2), {"a": [1, 2], "when": T0}),
                       StreamInstance(T0 + timedelta(seconds=3), iv_value)])
    db = client["hs"]
    raw = {"name": "kitchen", "meta_data": [["house", "1"], ["area", "k"]]}
    docs = list(db.streams.find({}).sort("datetime", 1))
    assert [sorted(d) for d in docs] == [["_id", "datetime", "stream_id", "value"]] * 3
    assert all(list(d["stream_id"]) == ["name", "meta_data"] and d["stream_id"] == raw for d in docs)
    assert [d["datetime"] for d in docs] == [NAIVE0 + timedelta(seconds=k) for k in (1, 2, 3)]
    assert docs[0]["value"] == 1.5
    assert docs[1]["value"] == {"a": [1, 2], "when": NAIVE0}  # BSON-native, datetime as a BSON date
    assert docs[2]["value"] == {"__hs_type__": "TimeInterval", "start": NAIVE0, "end": NAIVE0 + timedelta(days=1)}
    d = db.stream_definitions.find_one({"stream_id": raw})
    assert sorted(d) == sorted(["_id", "stream_id", "stream_type", "channel_id", "last_updated", "last_accessed",
                                "calculated_intervals", "sandbox"])
    assert d["channel_id"] == "mongo" and d["stream_type"] == "StreamInstance" and d["sandbox"] is None
    assert d["calculated_intervals"] == [{"start": NAIVE0, "end": NAIVE0 + timedelta(hours=1)}]
    assert d["last_updated"] == NAIVE0
    plain = db.stream_definitions.find_one({"stream_id": {"name": "plain", "meta_data": []}})
    assert "stream_type" not in plain
    stream_idx = {tuple(v["key"]): v.get("unique", False) for v in db.streams.index_information().values()}
    assert stream_idx[(("stream_id", 1), ("datetime", 1))] is True
    assert (("stream_id", 1),) in stream_idx
    def_idx = {tuple(v["key"]): v.get("unique", False) for v in db.stream_definitions.index_information().values()}
    assert def_idx[(("stream_id", 1),)] is True
    # the run history lives in its own collection
    store.record_run({"tool": "clock"})
    assert db.hsgui_tool_runs.count_documents({}) == 1
    # and the change log (issue 22) in its own: one document per batch, naming the stream, its channel and the span
    assert sorted(db.list_collection_names()) == ["hsgui_changes", "hsgui_tool_runs", "stream_definitions", "streams"]
    change = db.hsgui_changes.find_one({})
    assert change["stream_id"] == raw and change["channel_id"] == "mongo" and change["kind"] == "write"
    assert (change["start"], change["end"]) == (NAIVE0 + timedelta(seconds=1, milliseconds=-1),
                                                NAIVE0 + timedelta(seconds=3))
    # and reading back gives the values written
    assert [i.value for i in store.read(sid, None, None)] == [1.5, {"a": [1, 2], "when": T0}, iv_value]


def test_tz_aware_client_gives_the_same_results():
    client = mongomock.MongoClient(tz_aware=True)
    store = MongoStore(client, db_name="x")
    sid = StreamId("s")
    store.insert(sid, [StreamInstance(T0 + timedelta(seconds=k), k) for k in range(1, 4)])
    got = list(store.read(sid, T0, None))
    assert [i.timestamp for i in got] == [T0 + timedelta(seconds=k) for k in range(1, 4)]
    assert all(i.timestamp.utcoffset() == timedelta(0) for i in got)


def test_from_config_and_from_uri():
    store = MongoStore.from_config({"mongo": {"host": "localhost", "port": 27017, "db": "hs_cfg", "tz_aware": True}},
                                   client_class=mongomock.MongoClient)
    assert store.db_name == "hs_cfg"
    assert "localhost:27017" in store.description
    sid = StreamId("s", {"a": "1"})
    store.insert(sid, [StreamInstance(T0 + timedelta(seconds=1), 1.0)])
    assert store.client["hs_cfg"].streams.count_documents({}) == 1
    assert store.first(sid).timestamp == T0 + timedelta(seconds=1)
    store.close()

    store = MongoStore.from_config({"mongo": {"host": "localhost", "port": 27017, "db": "h", "username": "bob",
                                              "password": "s3cret"}}, client_class=mongomock.MongoClient)
    assert "s3cret" not in store.description and "bob" in store.description

    store = MongoStore.from_uri("mongodb://alice:pw@localhost:27017/fromuri", client_class=mongomock.MongoClient)
    assert store.db_name == "fromuri"
    assert "pw" not in store.description and "alice" in store.description
    store = MongoStore.from_uri("mongodb://localhost:27017/fromuri", db="override",
                                client_class=mongomock.MongoClient)
    assert store.db_name == "override"


@pytest.mark.parametrize("uri, expected", [
    ("mongodb://user:secret@host:27017/db?authSource=admin", "mongodb://user:***@host:27017/db?authSource=admin"),
    ("mongodb+srv://u:p%40ss@cluster.example.net/", "mongodb+srv://u:***@cluster.example.net/"),
    ("mongodb://h1:1,h2:2/?replicaSet=rs", "mongodb://h1:1,h2:2/?replicaSet=rs"),
    ("mongodb://onlyuser@host/", "mongodb://onlyuser@host/"),
    ("mongodb://host/?tlsCertificateKeyFilePassword=abc&x=1", "mongodb://host/?tlsCertificateKeyFilePassword=***&x=1"),
])
def test_redact_uri(uri, expected):
    assert redact_uri(uri) == expected


def test_unreachable_server_is_a_clear_error_naming_it_without_the_password():
    # how long until it is reported: bench/bench_connect_failures.py
    with pytest.raises(StoreError) as ei:
        MongoStore.from_uri("mongodb://bob:hunter2@127.0.0.1:1/?serverSelectionTimeoutMS=1500")
    msg = str(ei.value)
    assert "127.0.0.1:1" in msg and "hunter2" not in msg

    with pytest.raises(StoreError) as ei:
        MongoStore.from_config({"mongo": {"host": "127.0.0.1", "port": 1, "db": "hs", "tz_aware": True}},
                               server_selection_timeout_ms=1500)
    assert "127.0.0.1:1" in str(ei.value)


def test_failed_insert_many_is_rolled_back():
    """A write error part-way (a document another writer stored meanwhile) removes what this call inserted."""
    client = mongomock.MongoClient()
    store = MongoStore(client, db_name="x")
    sid = StreamId("s")
    store.insert(sid, [StreamInstance(T0 + timedelta(seconds=1), 1.0)])
    raw = client["x"].streams.find_one()["stream_id"]
    # sneak a conflicting document in after the duplicate check: simulate by patching find to see nothing
    real_find = store._c.streams.find

    def blind_find(q, *a, **kw):
        if isinstance(q.get("datetime"), dict) and "$in" in q["datetime"]:
            return real_find({"_id": None})
        return real_find(q, *a, **kw)

    store._c.streams.find = blind_find
    client["x"].streams.insert_one({"stream_id": raw, "datetime": NAIVE0 + timedelta(seconds=50), "value": 9})
    from channels.errors import DuplicateInstanceError
    with pytest.raises(DuplicateInstanceError):
        store.insert(sid, [StreamInstance(T0 + timedelta(seconds=k), float(k)) for k in range(2, 100)])
    store._c.streams.find = real_find
    assert store.count(sid, None, None) == 2  # the first instance and the sneaked-in one only


# -- precomputed level-of-detail aggregates (hsgui_lod / hsgui_lod_state) ----------------------------------------

from channels.stores.mongo_store import LOD, LOD_STATE  # noqa: E402
from test_store_contract import SID, T0 as CT0, _assert_summary_equal, _oracle, _random_stream  # noqa: E402

HOUR = 3_600_000
_ALIGNED = [(0, 6 * HOUR, 1), (0, 6 * HOUR, 6), (0, 6 * HOUR, 24), (-HOUR, 7 * HOUR, 8), (HOUR, 2 * HOUR, 4),
            (0, 6 * HOUR, 360), (5_000, 65_000, 1000)]


def _no_pipeline(store):
    """Make the O(n) aggregation pipeline on ``streams`` fail, so a passing summary proves the fast path."""
    def boom(*a, **kw):
        raise AssertionError("the aggregation pipeline over streams was used")
    store._c.streams.aggregate = boom


def _check(store, data, component=None, cases=_ALIGNED):
    s0 = to_ms(CT0)
    for lo, hi, b in cases:
        got = store.summary(SID, from_ms(s0 + lo), from_ms(s0 + hi), b, component=component)
        _assert_summary_equal(got, _oracle(data, s0 + lo, s0 + hi, b, component))


def _lod_store(batches=((0, 300), (700, 1000), (300, 700)), n=1000, seed=11):
    client = mongomock.MongoClient()
    store = MongoStore(client, db_name="lod")
    data = _random_stream(n, seed=seed)
    for a, b in batches:
        store.insert(SID, data[a:b])
    return client, store, data


def _state(client):
    return client["lod"][LOD_STATE].find_one({"key": SID.key})


def test_lod_summary_uses_aggregates_and_equals_reference():
    client, store, data = _lod_store()
    st = _state(client)
    assert st is not None and st["n"] == 1000 and st["pending"] == 0 and st["level"] is not None
    assert client["lod"][LOD].count_documents({"key": SID.key, "comp": "power"}) > 0
    _no_pipeline(store)
    for component in (None, "power", "flag", "state", "missing"):
        _check(store, data, component)
    # arbitrary (unaligned) ranges: exact cover, so the total always equals count()
    rng = np.random.default_rng(3)
    s0 = to_ms(CT0)
    for _ in range(12):
        lo = int(rng.integers(s0 - HOUR, s0 + 4 * HOUR))
        hi = lo + int(rng.integers(1, 8 * HOUR))
        b = int(rng.choice([1, 3, 7, 50, 333]))
        got = store.summary(SID, from_ms(lo), from_ms(hi), b)
        assert got.total == store.count(SID, from_ms(lo), from_ms(hi)) == _oracle(data, lo, hi, b).total


def test_lod_small_stream_keeps_to_the_pipeline_and_adds_no_collections():
    client = mongomock.MongoClient()
    store = MongoStore(client, db_name="lod")
    data, more = _random_stream(500, seed=2)[:100], _random_stream(500, seed=2)[100:]
    store.insert(SID, data)
    assert LOD not in client["lod"].list_collection_names()
    _check(store, data, None, _ALIGNED[:3])
    # growing past the threshold builds the aggregates from the (still small) stream
    store.insert(SID, more)
    assert _state(client)["n"] == store.count(SID, None, None) == 500
    _no_pipeline(store)
    _check(store, data + more)


def test_lod_purge_range_and_all():
    client, store, data = _lod_store()
    _no_pipeline(store)
    s0 = to_ms(CT0)
    for lo, hi in ((1_234_567, 9_000_123), (-HOUR, 600_000), (5 * HOUR + 1_111, None)):
        store.purge(SID, from_ms(s0 + lo), None if hi is None else from_ms(s0 + hi))
        data = [i for i in data if not (s0 + lo < to_ms(i.timestamp) <= (s0 + hi if hi else 2 ** 62))]
        assert store.count(SID, None, None) == len(data) == _state(client)["n"]
        _check(store, data)
        _check(store, data, "power", _ALIGNED[:4])
    store.purge(SID)
    assert _state(client) is None and client["lod"][LOD].count_documents({"key": SID.key}) == 0
    assert store.summary(SID, CT0, from_ms(s0 + HOUR), 10).total == 0
    store.insert(SID, data)  # and it is built again
    assert _state(client)["n"] == len(data)
    _check(store, data)


def test_lod_catches_up_with_instances_hyperstream_appended():
    client, store, data = _lod_store(batches=((0, 800),))
    raw = client["lod"].streams.find_one()["stream_id"]
    # HyperStream writes documents directly (naive UTC datetimes), after our last instance and before our first
    extra = [{"stream_id": raw, "datetime": i.timestamp.replace(tzinfo=None), "value": i.value} for i in data[800:]]
    early = StreamInstance(from_ms(to_ms(data[0].timestamp) - 5_000), 1234.5)
    extra.append({"stream_id": raw, "datetime": early.timestamp.replace(tzinfo=None), "value": early.value})
    client["lod"].streams.insert_many(extra)
    _no_pipeline(store)
    everything = [early] + data
    _check(store, everything)
    _check(store, everything, "power")
    st = _state(client)
    assert st["n"] == 1001 and st["first_ms"] == to_ms(early.timestamp) and st["last_ms"] == to_ms(data[-1].timestamp)
    # and our own inserts continue incrementally from there
    later = StreamInstance(from_ms(to_ms(data[-1].timestamp) + 1), 7.0)
    store.insert(SID, [later])
    assert _state(client)["n"] == 1002
    _check(store, everything + [later], None, _ALIGNED[:3])


def test_lod_stale_aggregates_fall_back_or_rebuild():
    client, store, data = _lod_store()
    epoch = _state(client)["epoch"]
    # HyperStream deletes the last instances: detected (the last instance changed)
    last_ms = [to_ms(i.timestamp) for i in data[-3:]]
    client["lod"].streams.delete_many({"datetime": {"$in": [from_ms(m).replace(tzinfo=None) for m in last_ms]}})
    kept = data[:-3]
    calls = []
    real = store._c.streams.aggregate

    def counting(*a, **kw):
        calls.append(a)
        return real(*a, **kw)
    store._c.streams.aggregate = counting
    _check(store, kept, None, _ALIGNED[:2])  # a small stream: the pipeline, aggregates left alone
    assert calls and _state(client)["epoch"] == epoch
    calls.clear()
    store.lod_rebuild_min = 500  # "large": rebuilt once (two passes), then the aggregates answer
    _check(store, kept)
    _check(store, kept, "power")
    _check(store, kept, "flag")
    st = _state(client)
    assert st["epoch"] != epoch and st["n"] == len(kept) == store.count(SID, None, None)
    assert len(calls) == 2
    # a writer that died between claiming and releasing the aggregates: pipeline until the claim is old
    client["lod"][LOD_STATE].update_one({"key": SID.key}, {"$set": {"pending": 1,
                                                                   "pending_at": datetime.utcnow()}})
    calls.clear()
    _check(store, kept, None, _ALIGNED[:1])
    assert len(calls) == 1
    client["lod"][LOD_STATE].update_one({"key": SID.key}, {"$set": {"pending_at": datetime(2000, 1, 1)}})
    calls.clear()
    _check(store, kept, None, _ALIGNED[:2])
    assert len(calls) == 2 and _state(client)["pending"] == 0  # rebuilt


def test_lod_rebuild_of_a_hyperstream_database():
    client, docs = _hyperstream_db()
    store = MongoStore(client, db_name="hyperstream")
    store.lod_rebuild_min = 100
    ms = np.array([to_ms(doc["datetime"].replace(tzinfo=UTC)) for doc in docs])
    temp = np.array([doc["value"]["temperature"] if doc["value"] else np.nan for doc in docs])
    want = summarise_arrays(ms, temp, to_ms(T0), to_ms(T0) + 3_000_000, 30)
    got = store.summary(HS_ID, T0, T0 + timedelta(seconds=3000), 30, component="temperature")
    assert LOD_STATE not in client["hyperstream"].list_collection_names()  # reading built nothing (the pipeline)
    np.testing.assert_array_equal(got.count, want.count)
    store.create_indexes()  # the user agreed to writes: from now on summaries keep the aggregates
    got = store.summary(HS_ID, T0, T0 + timedelta(seconds=3000), 30, component="temperature")
    assert client["hyperstream"][LOD_STATE].find_one({"key": HS_ID.key})["n"] == 300
    real = store._c.streams.aggregate
    _no_pipeline(store)
    got = store.summary(HS_ID, T0, T0 + timedelta(seconds=3000), 30, component="temperature")
    np.testing.assert_array_equal(got.count, want.count)
    np.testing.assert_array_equal(got.min, want.min)
    np.testing.assert_array_equal(got.max, want.max)
    np.testing.assert_allclose(got.mean, want.mean, equal_nan=True)
    np.testing.assert_array_equal(got.first_ms, want.first_ms)
    store._c.streams.aggregate = real
    assert store.rebuild_lod(HS_ID)["n"] == 300
    # tagged values: an escaped dict's components, an int beyond int64
    store.insert(HS_ID, [StreamInstance(T0 + timedelta(seconds=3001), {"a.b": 1, "temperature": 99.0}),
                         StreamInstance(T0 + timedelta(seconds=3002), 2 ** 70)])
    store.rebuild_lod(HS_ID)
    got = store.summary(HS_ID, T0 + timedelta(seconds=3000), T0 + timedelta(seconds=3010), 1, component="temperature")
    assert got.count[0] == 2 and got.max[0] == 99.0
    got = store.summary(HS_ID, T0 + timedelta(seconds=3000), T0 + timedelta(seconds=3010), 1)
    assert got.count[0] == 2 and got.max[0] == float(2 ** 70)
    _no_pipeline(store)  # the same from whole level buckets
    got = store.summary(HS_ID, T0, T0 + timedelta(hours=2), 2, component="temperature")
    assert got.total == 302 and np.nanmax(got.max) == 99.0
    got = store.summary(HS_ID, T0, T0 + timedelta(hours=2), 2)
    assert got.total == 302 and np.nanmax(got.max) == float(2 ** 70)


def test_lod_upserts_for_a_real_server():
    """The $inc/$min/$max upserts a real server gets (mongomock's bulk_write cannot take them: applied one by one)."""
    client = mongomock.MongoClient()
    store = MongoStore(client, db_name="lod")
    store._lod.bulk_upserts = True
    sent = []

    def bulk_write(ops, ordered=True):
        for op in ops:
            sent.append(op)
            store._c.lod.update_one(op._filter, op._doc, upsert=op._upsert)
    store._c.lod.bulk_write = bulk_write
    data = _random_stream(1000, seed=11)
    for a, b in ((0, 300), (700, 1000), (300, 700)):
        store.insert(SID, data[a:b])
    assert sent and all(set(op._doc) <= {"$inc", "$min", "$max"} for op in sent)
    assert not any("mn" in op._doc["$min"] for op in sent if op._doc["$inc"]["nn"] == 0)
    _no_pipeline(store)
    _check(store, data)
    _check(store, data, "power")
