"""Opening and reading a MongoDB database send no write command (createIndexes included), so a read-only user
can browse, plot and export (issue 26 item 6); the first write makes the indexes, once; the missing ones are
offered with their cost.

Every write command the store sends is recorded: on mongomock by wrapping the write methods of its collections
and databases, on a real server (``HSGUI_TEST_MONGO_URI``) by pymongo's command monitoring.
"""
from __future__ import annotations

import os
import threading
import uuid
from datetime import datetime, timedelta

import numpy as np
import pytest

mongomock = pytest.importorskip("mongomock")

from bson import ObjectId  # noqa: E402

from channels import ChannelManager  # noqa: E402
from channels.errors import StoreError  # noqa: E402
from channels.stores.mongo_store import MongoStore  # noqa: E402
from channels.stream import StreamId, StreamInstance  # noqa: E402
from channels.time_interval import TimeInterval, TimeIntervals  # noqa: E402
from channels.utils import UTC  # noqa: E402

NAIVE0 = datetime(2016, 4, 28, 20, 0, 0)
T0 = NAIVE0.replace(tzinfo=UTC)
HS_RAW = {"name": "environmental", "meta_data": [["uid", "5"], ["house", "1"]]}
HS_ID = StreamId("environmental", {"house": "1", "uid": "5"})
APP_ID = StreamId("power", {"house": "2"})  # written by the app earlier: it has aggregates and a change log
CALC = TimeInterval(T0, T0 + timedelta(seconds=3000))
ORPHAN_AT = NAIVE0 + timedelta(seconds=4000)  # a document of a failed batch, outside the calculated intervals

_MOCK_WRITES = {
    mongomock.collection.Collection: ("insert_one", "insert_many", "update_one", "update_many", "replace_one",
                                      "delete_one", "delete_many", "find_one_and_update", "find_one_and_replace",
                                      "find_one_and_delete", "bulk_write", "create_index", "create_indexes", "drop",
                                      "drop_index", "drop_indexes", "rename"),
    mongomock.database.Database: ("create_collection", "drop_collection", "rename_collection", "command"),
}
_WRITE_COMMANDS = {"insert", "update", "delete", "findAndModify", "createIndexes", "create", "drop",
                   "dropIndexes", "dropDatabase", "renameCollection", "collMod", "bulkWrite"}


class _Server:
    """A database on mongomock or a real server, a client whose write commands are recorded (``writes``: the
    command or method name and the collection), and an unrecorded client to set the database up with."""

    def __init__(self, kind: str, monkeypatch):
        self.writes: list[tuple[str, str]] = []
        self.db_name = f"hsgui_ro_{uuid.uuid4().hex[:10]}"
        if kind == "mongomock":
            self.setup_client = self.client = mongomock.MongoClient()
            self._wrap_mongomock(monkeypatch)
        else:
            uri = os.environ.get("HSGUI_TEST_MONGO_URI")
            if not uri:
                pytest.skip("set HSGUI_TEST_MONGO_URI to run these tests against a real MongoDB server")
            import pymongo
            from pymongo import monitoring

            writes = self.writes

            class Listener(monitoring.CommandListener):
                def started(self, event):
                    if event.command_name in _WRITE_COMMANDS:
                        writes.append((event.command_name, str(event.command.get(event.command_name))))

                def succeeded(self, event):
                    pass

                def failed(self, event):
                    pass

            self.setup_client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=3000)
            self.client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=3000, event_listeners=[Listener()])
        self.recording = False

    def _wrap_mongomock(self, monkeypatch):
        server = self

        def wrap(cls, name):
            real = getattr(cls, name)

            def recorded(obj, *a, **kw):
                if server.recording:
                    what = a[0] if name == "command" and a else getattr(obj, "name", "?")
                    server.writes.append((name, str(what)))
                return real(obj, *a, **kw)
            monkeypatch.setattr(cls, name, recorded)

        for cls, names in _MOCK_WRITES.items():
            for name in names:
                wrap(cls, name)

    def record(self):
        self.writes.clear()
        self.recording = True  # (the real server's listener records the recorded client only, always)

    def close(self):
        self.setup_client.drop_database(self.db_name)
        if self.client is not self.setup_client:
            self.client.close()
            self.setup_client.close()


@pytest.fixture(params=["mongomock", "mongo"])
def server(request, monkeypatch):
    s = _Server(request.param, monkeypatch)
    yield s
    s.close()


def _populate(server):
    """A HyperStream database as HyperStream leaves it, without its indexes, plus a stream the app wrote earlier
    (with level-of-detail aggregates and change log) and the note of a batch whose removal failed."""
    db = server.setup_client[server.db_name]
    docs = [{"stream_id": HS_RAW, "datetime": NAIVE0 + timedelta(seconds=10 * (i + 1)),
             "value": {"temperature": 20.0 + i % 7, "light": "on" if i % 2 else "off"}} for i in range(300)]
    db.streams.insert_many(docs)
    orphan = db.streams.insert_one({"stream_id": HS_RAW, "datetime": ORPHAN_AT, "value": {"temperature": 99.0}})
    db.stream_definitions.insert_one({
        "stream_id": HS_RAW, "stream_type": "StreamInstance", "channel_id": "mongo", "sandbox": None,
        "last_updated": NAIVE0, "last_accessed": NAIVE0,
        "calculated_intervals": [{"start": NAIVE0, "end": NAIVE0 + timedelta(seconds=3000)}]})
    db.hsgui_pending_batches.insert_one({"token": str(ObjectId()), "key": HS_ID.key, "stream_id": HS_RAW,
                                         "at": NAIVE0, "ids": [orphan.inserted_id]})
    from channels.stores.base import StreamDefinition
    writer = MongoStore(server.setup_client, db_name=server.db_name)
    writer.create_definition(StreamDefinition(APP_ID, "mongo"))
    writer.insert(APP_ID, [StreamInstance(T0 + timedelta(seconds=i + 1), float(i)) for i in range(500)],
                  add_intervals=TimeIntervals([TimeInterval(T0, T0 + timedelta(seconds=500))]))
    writer.record_run({"tool": "clock"})
    for name in ("streams", "stream_definitions"):  # HyperStream's indexes are what this is about
        db[name].drop_indexes()
    return db


def _browse(store):
    """Everything the app does to open, list, plot and export."""
    out = {"defs": store.list_definitions(), "channels": store.channel_ids(), "n": store.count_definitions(),
           "def": store.get_definition(HS_ID), "missing": store.missing_indexes()}
    for sid in (HS_ID, APP_ID, StreamId("nowhere")):
        out[sid, "read"] = list(store.read(sid, None, None))
        out[sid, "count"] = store.count(sid, None, None)
        out[sid, "first"], out[sid, "last"] = store.first(sid), store.last(sid)
        out[sid, "columns"] = store.columns(sid, None, None)
        out[sid, "summary"] = store.summary(sid, T0, T0 + timedelta(hours=2), 12)
        out[sid, "changes"] = store.list_changes(sid)
        out[sid, "after"] = store.inserted_after(sid, None, None, T0)
        out[sid, "newest"] = store.newest_insert_time(sid, None, None)
    out["component"] = store.summary(HS_ID, T0, T0 + timedelta(hours=1), 6, component="temperature")
    out["typed"] = store.typed_component_columns(HS_ID, None, None, "temperature")
    out["runs"] = store.list_runs()
    for collection in ("meta_data", "plate_definitions", "workflow_definitions", "workflow_status"):
        out[collection] = store.list_documents(collection)
    manager = ChannelManager(store, builtin_tools=False)  # the channel layer on top, as the app opens it
    ch = manager.get_channel("mongo")
    for sid, stream in list(ch.streams.items()):
        list(stream.window(CALC).items())
        stream.window(CALC).count()
        ch.list_changes(sid)
    return out


def test_opening_and_reading_send_no_write_command(server):
    db = _populate(server)
    names = sorted(db.list_collection_names())
    server.record()
    store = MongoStore(server.client, db_name=server.db_name)
    got = _browse(store)
    assert server.writes == []
    assert not store.writes_allowed
    assert sorted(db.list_collection_names()) == names
    # and it did read: the HyperStream stream, the app's stream from its aggregates, the orphan still there
    assert got[HS_ID, "count"] == 301 and got[APP_ID, "count"] == 500
    assert got[APP_ID, "summary"].total == 500 and got["component"].total == 300
    assert len(got[APP_ID, "changes"]) == 1 and got["runs"] == [{"tool": "clock"}]
    assert db.hsgui_pending_batches.count_documents({}) == 1
    # the indexes that would help, with their cost
    offers = {(o.collection, tuple(k for k, _ in o.keys)): o for o in got["missing"]}
    assert set(offers) == {("streams", ("stream_id", "datetime")), ("streams", ("stream_id",)),
                           ("stream_definitions", ("stream_id",))}
    assert offers["streams", ("stream_id", "datetime")].unique
    assert offers["streams", ("stream_id",)].documents == 801
    assert "801 documents" in str(offers["streams", ("stream_id",)])


def test_the_first_write_makes_the_indexes_once_and_removes_orphans(server):
    db = _populate(server)
    server.record()
    store = MongoStore(server.client, db_name=server.db_name)
    _browse(store)
    assert server.writes == []
    store.insert(HS_ID, [StreamInstance(T0 + timedelta(seconds=3001), {"temperature": 1.0})],
                 add_intervals=TimeIntervals([TimeInterval(CALC.end, CALC.end + timedelta(seconds=1))]))
    made = [w for w in server.writes if w[0] in ("create_index", "createIndexes")]
    assert {w[1] for w in made} >= {"streams", "stream_definitions"}
    assert store.writes_allowed and store.missing_indexes() == []
    assert db.streams.count_documents({"datetime": ORPHAN_AT}) == 0  # the abandoned batch, removed by a write
    assert db.hsgui_pending_batches.count_documents({}) == 0
    server.writes.clear()
    store.insert(HS_ID, [StreamInstance(T0 + timedelta(seconds=3002), {"temperature": 2.0})])
    assert not [w for w in server.writes if w[0] in ("create_index", "createIndexes")]
    assert store.count(HS_ID, None, None) == 302


def test_first_writes_from_several_threads_make_each_index_once(server):
    _populate(server)
    server.record()
    store = MongoStore(server.client, db_name=server.db_name)
    barrier = threading.Barrier(4)
    errors = []

    def write(k):
        try:
            barrier.wait()
            store.insert(StreamId("threads", {"k": str(k)}), [StreamInstance(T0 + timedelta(seconds=1), float(k))])
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    core = [w for w in server.writes if w[0] in ("create_index", "createIndexes")
            and w[1] in ("streams", "stream_definitions")]
    assert len(core) == 3  # streams: two, stream_definitions: one


def test_create_indexes_makes_the_offered_ones(server):
    _populate(server)
    store = MongoStore(server.client, db_name=server.db_name)
    offered = store.missing_indexes()
    assert len(offered) == 3
    assert store.create_indexes() == offered
    assert store.missing_indexes() == [] and store.writes_allowed
    assert store.create_indexes() == []


def test_a_refused_index_is_a_clear_error_and_does_not_stop_a_write(monkeypatch):
    from pymongo.errors import OperationFailure

    client = mongomock.MongoClient()
    store = MongoStore(client, db_name="ro")

    def refuse(self, *a, **kw):
        raise OperationFailure("not authorized on ro to execute command { createIndexes: ... }", code=13)
    monkeypatch.setattr(mongomock.collection.Collection, "create_index", refuse)
    with pytest.raises(StoreError) as ei:
        store.create_indexes()
    assert "creating the unique index on streams (stream_id, datetime)" in str(ei.value)
    assert "not authorized" in str(ei.value)
    assert store.insert(HS_ID, [StreamInstance(T0, 1.0)]) == 1  # logged; the write itself goes on
    np.testing.assert_array_equal(store.columns(HS_ID, None, None)[1], [1.0])
