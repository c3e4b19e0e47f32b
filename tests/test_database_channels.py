"""DatabaseChannel, AssetsChannel and AssetsFileChannel over both stores."""
import os
import uuid
from datetime import datetime, timedelta

import pytest

from channels import (AssetsChannel, AssetsFileChannel, DatabaseChannel, DuplicateInstanceError, MIN_DATE,
                      ReadOnlyChannelError, StreamAlreadyExistsError, StreamId, StreamInstance, StreamNotFoundError,
                      TimeInterval, TimeIntervals, UTC)

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def t(seconds):
    return T0 + timedelta(seconds=seconds)


def _sqlite(tmp_path):
    from channels.stores.sqlite_store import SQLiteStore
    return SQLiteStore(str(tmp_path / "store.sqlite"))


def _mongomock(tmp_path):
    import mongomock
    from channels.stores.mongo_store import MongoStore
    client = mongomock.MongoClient()
    return MongoStore(client, db_name="hs_test")


def _real_mongo(tmp_path):
    uri = os.environ.get("HSGUI_TEST_MONGO_URI")
    if not uri:
        pytest.skip("HSGUI_TEST_MONGO_URI not set")
    import pymongo
    from channels.stores.mongo_store import MongoStore
    client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=3000)
    name = "hsgui_test_" + uuid.uuid4().hex[:8]
    store = MongoStore(client, db_name=name)
    store._test_cleanup = lambda: client.drop_database(name)
    return store


@pytest.fixture(params=[_sqlite, _mongomock, _real_mongo], ids=["sqlite", "mongomock", "mongo"])
def store_factory(request, tmp_path):
    made = []

    def make():
        s = request.param(tmp_path)
        made.append(s)
        return s

    yield make
    for s in made:
        cleanup = getattr(s, "_test_cleanup", None)
        if cleanup:
            cleanup()
        s.close()


def reopen(store_factory, store):
    """A second store object on the same database (a new session of the app)."""
    if type(store).__name__ == "MongoStore":
        return store  # same client/db: mongomock has no persistence between clients
    return store_factory()


def test_streams_data_and_calculated_intervals_persist(store_factory):
    store = store_factory()
    ch = DatabaseChannel("mongo", store)
    sid = StreamId("temperature", {"house": "1", "resident": "2"})
    s = ch.create_stream(sid)
    s.writer([StreamInstance(t(i), 20.0 + i) for i in range(1, 11)])
    s.calculated_intervals = TimeInterval(T0, t(10))

    ch2 = DatabaseChannel("mongo", reopen(store_factory, store))
    s2 = ch2[StreamId("temperature", {"resident": "2", "house": "1"})]
    assert s2.calculated_intervals == TimeIntervals([TimeInterval(T0, t(10))])
    view = s2.window(TimeInterval(t(2), t(5)))
    assert [i.value for i in view] == [23.0, 24.0, 25.0]
    assert view.count() == 3
    assert view.first() == StreamInstance(t(3), 23.0)
    assert view.last() == StreamInstance(t(5), 25.0)


def test_create_twice_and_missing_stream_errors_name_the_stream(store_factory):
    ch = DatabaseChannel("mongo", store_factory())
    ch.create_stream(StreamId("a"))
    with pytest.raises(StreamAlreadyExistsError, match="a"):
        ch.create_stream(StreamId("a"))
    with pytest.raises(StreamNotFoundError, match="nope"):
        ch.get_or_create_stream(StreamId("nope"), try_create=False)


def test_duplicate_with_different_value_writes_nothing_of_the_batch(store_factory):
    ch = DatabaseChannel("mongo", store_factory())
    s = ch.create_stream(StreamId("x"))
    s.writer([StreamInstance(t(1), 1.0), StreamInstance(t(2), 2.0)])
    s.writer([StreamInstance(t(2), 2.0)])  # same value: no-op
    with pytest.raises(DuplicateInstanceError) as e:
        s.writer([StreamInstance(t(3), 3.0), StreamInstance(t(2), 99.0), StreamInstance(t(4), 4.0)])
    assert "x" in str(e.value) and t(2).isoformat() in str(e.value)
    assert [i.value for i in s.window()] == [1.0, 2.0]


def test_write_chunk_commits_data_and_intervals_together(store_factory):
    store = store_factory()
    ch = DatabaseChannel("mongo", store)
    s = ch.create_stream(StreamId("derived"))
    ch.write_chunk(s, [StreamInstance(t(i), i) for i in range(1, 6)], TimeIntervals([TimeInterval(T0, t(5))]))
    bad = [StreamInstance(t(i), i) for i in range(6, 9)] + [StreamInstance(t(9), {1, 2})]  # a set cannot be stored
    with pytest.raises(Exception):
        ch.write_chunk(s, bad, s.calculated_intervals + TimeInterval(t(5), t(10)))
    assert s.calculated_intervals == TimeIntervals([TimeInterval(T0, t(5))])
    fresh = DatabaseChannel("mongo", reopen(store_factory, store))[StreamId("derived")]
    assert fresh.calculated_intervals == TimeIntervals([TimeInterval(T0, t(5))])
    assert fresh.window().count() == 5


def test_purge_interval_and_purge_with_definition(store_factory):
    store = store_factory()
    ch = DatabaseChannel("mongo", store)
    s = ch.create_stream(StreamId("p"))
    ch.write_chunk(s, [StreamInstance(t(i), i) for i in range(1, 11)], TimeInterval(T0, t(10)))
    assert ch.purge_interval(StreamId("p"), TimeInterval(t(3), t(6))) == 3
    assert [i.value for i in s.window(TimeInterval.all_time())] == [1, 2, 3, 7, 8, 9, 10]
    assert [i.value for i in s.window()] == [7, 8, 9, 10]  # no interval: the last calculated one (HyperStream's rule)
    assert s.calculated_intervals == TimeIntervals([TimeInterval(T0, t(3)), TimeInterval(t(6), t(10))])
    ch.purge_stream(StreamId("p"))
    assert s.window().count() == 0 and s.calculated_intervals.is_empty
    assert StreamId("p") in ch
    ch.purge_stream(StreamId("p"), remove_definition=True)
    assert StreamId("p") not in ch
    assert StreamId("p") not in DatabaseChannel("mongo", reopen(store_factory, store))


def test_channels_only_load_their_own_definitions(store_factory):
    store = store_factory()
    DatabaseChannel("mongo", store).create_stream(StreamId("in_mongo"))
    AssetsChannel("assets", store).create_stream(StreamId("in_assets"))
    assert [s.stream_id.name for s in DatabaseChannel("mongo", store)] == ["in_mongo"]
    assert [s.stream_id.name for s in AssetsChannel("assets", store)] == ["in_assets"]


class _CountingStore:
    """The store, counting how many definitions the channel reads through it."""

    def __init__(self, store):
        self._store, self.listed, self.read = store, 0, 0

    def list_definitions(self, *a, **k):
        out = self._store.list_definitions(*a, **k)
        self.listed += len(out)
        return out

    def get_definition(self, *a, **k):
        self.read += 1
        return self._store.get_definition(*a, **k)

    def __getattr__(self, name):
        return getattr(self._store, name)


def test_opening_a_channel_reads_definitions_only_when_needed(store_factory):
    store = store_factory()
    ch = DatabaseChannel("mongo", store)
    for i in range(50):
        ch.create_stream(StreamId("s", {"i": str(i)}))
    AssetsChannel("assets", store).create_stream(StreamId("elsewhere"))

    counting = _CountingStore(reopen(store_factory, store))
    opened = DatabaseChannel("mongo", counting)
    assert counting.listed == 0 and counting.read == 0          # opening reads no definition
    assert opened[StreamId("s", {"i": "7"})].stream_id == StreamId("s", {"i": "7"})
    assert StreamId("s", {"i": "8"}) in opened
    assert StreamId("elsewhere") not in opened                   # another channel's stream, by id too
    assert counting.listed == 0 and counting.read == 3           # one definition per lookup
    created_after = DatabaseChannel("mongo", store).create_stream(StreamId("new"))
    assert opened.get_or_create_stream(StreamId("new"), try_create=False).stream_id == created_after.stream_id
    assert len(opened) == 51 and counting.listed == 51           # listing reads the channel's definitions once
    assert opened[StreamId("s", {"i": "7"})] is opened.streams[StreamId("s", {"i": "7"})]
    reads = counting.read
    assert StreamId("s", {"i": "9"}) in opened and counting.read == reads   # then lookups are in memory


def test_streams_made_and_reread_together(store_factory):
    store = store_factory()
    first = DatabaseChannel("mongo", store)
    first.create_stream(StreamId("old"))
    counting = _CountingStore(reopen(store_factory, store))
    created = []
    counting.create_definitions = lambda defs: (created.append(len(defs)),
                                                counting._store.create_definitions(defs))
    ch = DatabaseChannel("mongo", counting)
    wanted = [StreamId("old"), StreamId("n", {"i": "1"}), StreamId("n", {"i": "2"})]
    got = ch.create_streams(wanted)
    assert [s.stream_id for s in got] == wanted and created == [2]     # the two missing ones, in one call
    assert {d.stream_id for d in store.list_definitions("mongo")} == set(wanted)
    # another connection computes one of them: re-reading brings its calculated intervals
    other = DatabaseChannel("mongo", store)[StreamId("n", {"i": "1"})]
    other.calculated_intervals = TimeIntervals([TimeInterval(T0, t(10))])
    ch.refresh_streams(wanted)
    assert ch[StreamId("n", {"i": "1"})].calculated_intervals == TimeIntervals([TimeInterval(T0, t(10))])
    assert got[1] is ch[StreamId("n", {"i": "1"})]


def test_assets_channel_versions_have_one_calculated_interval(store_factory):
    ch = AssetsChannel("assets", store_factory())
    sid = StreamId("houses")
    ch.write_to_stream(sid, StreamInstance(t(1), {"houses": [1]}))
    ch.write_to_stream(sid, [StreamInstance(t(5), {"houses": [1, 2]})])
    s = ch[sid]
    assert [i.value for i in s.window()] == [{"houses": [1]}, {"houses": [1, 2]}]
    assert s.calculated_intervals == TimeIntervals([TimeInterval(MIN_DATE, t(5))])
    before = datetime.now(UTC)
    ch.write_to_stream(sid, {"houses": [1, 2, 3]})  # a bare value is stamped now
    assert len(s.calculated_intervals) == 1
    assert s.window().last().value == {"houses": [1, 2, 3]}
    assert s.window().last().timestamp >= before.replace(microsecond=before.microsecond // 1000 * 1000)


def test_assets_file_channel_round_trips_and_reloads(tmp_path):
    ch = AssetsFileChannel("plugin_assets", str(tmp_path))
    sid = StreamId("workflow parameters", {"site": "a/b:c"})
    value = {"name": "Zoë ☃", "when": datetime(2020, 5, 1, 12, 30, 0, 123000, tzinfo=UTC),
             "list": [1, 2.5, True, None, "x"], "nested": {"k": {"deep": []}}}
    ch.write_to_stream(sid, StreamInstance(t(1), value))
    ch.write_to_stream(sid, StreamInstance(t(2), {"v": 2}))
    again = AssetsFileChannel("plugin_assets", str(tmp_path))
    s = again[sid]
    assert [i.value for i in s.window()] == [value, {"v": 2}]
    assert s.calculated_intervals == TimeIntervals([TimeInterval(MIN_DATE, t(2))])
    with pytest.raises(DuplicateInstanceError):
        again.write_to_stream(sid, StreamInstance(t(2), {"v": 3}))
    assert AssetsFileChannel("plugin_assets", str(tmp_path))[sid].window().last().value == {"v": 2}
    again.purge_interval(sid, TimeInterval(t(1), t(2)))
    assert [i.value for i in AssetsFileChannel("plugin_assets", str(tmp_path))[sid].window()] == [value]


def test_assets_file_channel_skips_unreadable_files_and_reports_them(tmp_path):
    ch = AssetsFileChannel("a", str(tmp_path))
    ch.write_to_stream(StreamId("s"), StreamInstance(t(1), [1, 2]))
    bad = tmp_path / "s" / "2024-03-01T000002.000Z.json"
    bad.write_text("{not json")
    again = AssetsFileChannel("a", str(tmp_path))
    assert [i.value for i in again[StreamId("s")].window()] == [[1, 2]]
    assert [p for p, _ in again.skipped] == [str(bad)]


def test_read_only_database_channel_refuses_writes(store_factory):
    class Frozen(DatabaseChannel):
        read_only = True

    store = store_factory()
    DatabaseChannel("mongo", store).create_stream(StreamId("z"))
    frozen = Frozen("mongo", store)
    with pytest.raises(ReadOnlyChannelError, match="mongo"):
        frozen[StreamId("z")].writer([StreamInstance(t(1), 1)])
    with pytest.raises(ReadOnlyChannelError):
        frozen.purge_stream(StreamId("z"))
