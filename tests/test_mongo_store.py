"""MongoStore and HyperStream's own MongoDB layout, both ways; connection helpers and a dead server."""
from __future__ import annotations

import time
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
    assert sorted(db.list_collection_names()) == ["hsgui_tool_runs", "stream_definitions", "streams"]
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


def test_unreachable_server_is_a_clear_error_within_seconds():
    t = time.monotonic()
    with pytest.raises(StoreError) as ei:
        MongoStore.from_uri("mongodb://bob:hunter2@127.0.0.1:1/?serverSelectionTimeoutMS=1500")
    assert time.monotonic() - t < 10
    msg = str(ei.value)
    assert "127.0.0.1:1" in msg and "hunter2" not in msg

    t = time.monotonic()
    with pytest.raises(StoreError) as ei:
        MongoStore.from_config({"mongo": {"host": "127.0.0.1", "port": 1, "db": "hs", "tz_aware": True}},
                               server_selection_timeout_ms=1500)
    assert time.monotonic() - t < 10
    assert "127.0.0.1:1" in str(ei.value)


def test_failed_insert_many_is_rolled_back():
    """A write error part-way (a document another writer stored meanwhile) removes what this call inserted."""
    client = mongomock.MongoClient()
    store = MongoStore(client, db_name="x")
    sid = StreamId("s")
    store.insert(sid, [StreamInstance(T0 + timedelta(seconds=1), 1.0)])
    raw = client["x"].streams.find_one()["stream_id"]
    # sneak a conflicting document in after the duplicate check: simulate by patching find to see nothing
    real_find = store._streams.find

    def blind_find(q, *a, **kw):
        if isinstance(q.get("datetime"), dict) and "$in" in q["datetime"]:
            return real_find({"_id": None})
        return real_find(q, *a, **kw)

    store._streams.find = blind_find
    client["x"].streams.insert_one({"stream_id": raw, "datetime": NAIVE0 + timedelta(seconds=50), "value": 9})
    from channels.errors import DuplicateInstanceError
    with pytest.raises(DuplicateInstanceError):
        store.insert(sid, [StreamInstance(T0 + timedelta(seconds=k), float(k)) for k in range(2, 100)])
    store._streams.find = real_find
    assert store.count(sid, None, None) == 2  # the first instance and the sneaked-in one only
