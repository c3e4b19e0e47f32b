"""Issue 22: lineage from every write, for every stream.

The change log (every insert and purge records a Change with its batch, on SQLite and MongoDB, across
processes), staleness from it (exact overlap, cause named, downstream, cleared by recompute exactly), MongoDB
writes that keep no change log (ObjectId times), lineage of streams HyperStream computed (from the stored
workflow definitions), and browsing that writes nothing."""
from __future__ import annotations

import copy
import json
import os
import struct
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from channels import ChannelManager, StreamId, StreamInstance, TimeInterval, TimeIntervals, UTC
from channels.changes import change_origin
from channels.stores.mongo_store import MongoStore
from channels.stores.sqlite_store import SQLiteStore
from channels.tools.engine import Tool
from channels.utils import utcnow
from channels.workflows import lineage_index, recompute, recompute_plan
from channels.workflows.lineage import ASSET, CHANGE, INSERT, UPSTREAM
from hs_fixtures import bson_values, scale_tool_source

from stores_fixtures import store  # noqa: F401 - the parametrised store fixture

T0 = datetime(2024, 3, 1, tzinfo=UTC)
IV = TimeInterval(T0, T0 + timedelta(hours=1))
RAW, DOUBLED, TRIPLED = StreamId("raw", {"house": "1"}), StreamId("doubled", {"house": "1"}), StreamId("tripled")
FIXTURE = Path(__file__).parent / "data" / "hyperstream_workflow_db.json"
WORKTREE = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scale_tools(tmp_path_factory):
    """A tool folder holding ``scale`` (so recompute can find it, as it finds any tool of a run)."""
    root = tmp_path_factory.mktemp("tools")
    (root / "scale").mkdir()
    (root / "scale" / "2024-01-01_v1.0.0.py").write_text(scale_tool_source())
    return root


def _manager(store, tools):
    from channels.tool_channel import ToolChannel
    manager = ChannelManager(store)
    manager.add_channel(ToolChannel("test_tools", str(tools), up_to_timestamp=utcnow()))
    return manager


def _pipeline(manager, channel_id="mongo"):
    """raw (every 10 s over IV) -> doubled -> tripled, each a recorded run over IV."""
    ch = manager.get_channel(channel_id)
    raw = ch.get_or_create_stream(RAW)
    ch.write_chunk(raw, [StreamInstance(T0 + timedelta(seconds=10 * k), float(k)) for k in range(1, 361)],
                   TimeIntervals([IV]))
    doubled, tripled = ch.get_or_create_stream(DOUBLED), ch.get_or_create_stream(TRIPLED)
    if "test_tools" in manager.channels:
        manager.get_tool("scale", {"factor": 2.0}).execute([raw], doubled, IV, history=manager.run_history)
        manager.get_tool("scale", {"factor": 3.0}).execute([doubled], tripled, IV, history=manager.run_history)
    else:
        _Scale(2.0).execute([raw], doubled, IV, history=manager.run_history)
        _Scale(3.0).execute([doubled], tripled, IV, history=manager.run_history)
    _tick()
    return ch, raw, doubled, tripled


class _Scale(Tool):
    name = "scale"

    def __init__(self, factor: float = 2.0):
        super().__init__(factor=factor)

    def _execute(self, sources, alignment_stream, interval):
        for ts, v in sources[0].window(interval).items():
            yield StreamInstance(ts, v * self.factor)


def _tick():
    """Let the clock pass the millisecond of what was just done (changes and runs are stamped in ms; a change
    in the same millisecond as a run's start counts as before it)."""
    t = utcnow()
    while utcnow() <= t:
        time.sleep(0.001)


def _at(minutes, seconds=5):
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def _point(t):
    """The interval a one-instance write at ``t`` changed."""
    return TimeIntervals([TimeInterval(t - timedelta(milliseconds=1), t)])


# -- the change log ---------------------------------------------------------------------------------------------

def test_every_write_path_records_one_change_per_batch(store, tmp_path):  # noqa: F811
    manager = ChannelManager(store)
    ch, raw, doubled, _ = _pipeline(manager)
    changes = store.list_changes(RAW)
    assert len(changes) == 1 and changes[0].kind == "write" and changes[0].by == "write"
    assert changes[0].channel_id == "mongo" and changes[0].interval == TimeInterval(
        T0 + timedelta(seconds=10, milliseconds=-1), IV.end)
    runs = {r.output_stream: r for r in manager.run_history.list()}
    assert {c.by for c in store.list_changes(DOUBLED)} == {f"run {runs[str(DOUBLED)].id} scale"}
    before = utcnow() - timedelta(milliseconds=1)
    raw.writer([StreamInstance(_at(5), 1.0)])                       # Stream.writer
    raw.writer([StreamInstance(_at(5), 1.0)])                       # the same again: no change
    ch.insert_arrays(raw, [int((_at(6) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1000)], [2.0])
    with change_origin("import x.csv"):
        ch.write_chunk(raw, [StreamInstance(_at(7), 3.0)], raw.calculated_intervals)
    ch.purge_interval(RAW, TimeInterval(_at(50, 0), _at(51, 0)))
    ch.purge_interval(RAW, TimeInterval(T0 - timedelta(days=2), T0 - timedelta(days=1)))  # nothing there: no change
    got = [(c.kind, c.by, c.interval) for c in store.list_changes(RAW, since=before)]
    assert got == [("write", "write", _point(_at(5))[0]), ("write", "write", _point(_at(6))[0]),
                   ("write", "import x.csv", _point(_at(7))[0]),
                   ("purge", "purge", TimeInterval(_at(50, 0), _at(51, 0)))]
    ch.purge_stream(DOUBLED, remove_definition=True)
    last = store.list_changes(DOUBLED)[-1]
    assert (last.kind, last.by, last.channel_id) == ("purge", "purge definition", "mongo")
    assert {c.stream_id for c in store.list_changes(channel_id="mongo")} == {RAW, DOUBLED, TRIPLED}
    assert store.list_changes(StreamId("never_written")) == []


def test_a_failed_batch_records_no_change(store):  # noqa: F811
    manager = ChannelManager(store)
    ch = manager.get_channel("mongo")
    raw = ch.get_or_create_stream(RAW)
    raw.writer([StreamInstance(_at(1), 1.0)])
    with pytest.raises(Exception, match="raw"):
        raw.writer([StreamInstance(_at(2), 2.0), StreamInstance(_at(1), 5.0)])  # conflicts: nothing written
    assert len(store.list_changes(RAW)) == 1


# -- staleness from changes -----------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["writer", "write_chunk"])
def test_a_direct_correction_marks_exactly_the_overlap_naming_its_cause(store, how):  # noqa: F811
    manager = ChannelManager(store)
    ch, raw, doubled, tripled = _pipeline(manager)
    assert lineage_index(manager).lineage("mongo", DOUBLED).stale == []
    t = _at(20)
    before = utcnow()
    if how == "writer":
        raw.writer([StreamInstance(t, 99.0)])
    else:
        ch.write_chunk(raw, [StreamInstance(t, 99.0)], raw.calculated_intervals)
    index = lineage_index(manager)
    lin = index.lineage("mongo", DOUBLED)
    assert lin.stale_intervals == _point(t)
    (reason,) = lin.stale
    assert reason.kind == CHANGE and reason.input == ("mongo", RAW) and reason.by == "write"
    assert reason.at >= before.replace(microsecond=before.microsecond // 1000 * 1000)
    assert reason.change.interval == _point(t)[0]
    assert "raw" in reason.reason and "written again" in reason.reason and "by write" in reason.reason
    assert t.isoformat() in reason.reason
    down = index.lineage("mongo", TRIPLED)  # downstream of a stale interval is stale there
    assert down.stale_intervals == _point(t) and down.stale[0].kind == UPSTREAM
    assert down.stale[0].input == ("mongo", DOUBLED) and down.stale[0].cause is reason
    assert lineage_index(manager).lineage("mongo", RAW).stale == []


def test_a_purge_of_an_input_inside_the_computed_part_marks_it_stale(store):  # noqa: F811
    manager = ChannelManager(store)
    ch, raw, _, _ = _pipeline(manager)
    part = TimeInterval(_at(30, 0), _at(40, 0))
    ch.purge_interval(RAW, part)
    lin = lineage_index(manager).lineage("mongo", DOUBLED)
    assert lin.stale_intervals == TimeIntervals([part])
    assert lin.stale[0].kind == CHANGE and lin.stale[0].change.kind == "purge" and "was purged" in lin.stale[0].reason
    assert lineage_index(manager).lineage("mongo", TRIPLED).stale_intervals == TimeIntervals([part])


def test_an_import_marks_it_stale_naming_the_file(store, tmp_path):  # noqa: F811
    from channels.importing import ImportSpec, import_file
    manager = ChannelManager(store)
    ch, raw, _, _ = _pipeline(manager)
    path = tmp_path / "fix.csv"
    path.write_text(f"time,raw\n{_at(10).isoformat()},5.5\n{_at(12).isoformat()},6.5\n")
    import_file(ch, ImportSpec(str(path), "time", ["raw"], meta_data=(("house", "1"),)))
    lin = lineage_index(manager).lineage("mongo", DOUBLED)
    assert lin.stale_intervals == TimeIntervals([TimeInterval(_at(10) - timedelta(milliseconds=1), _at(12))])
    assert lin.stale[0].by == "import fix.csv" and "import fix.csv" in lin.stale[0].reason


def test_a_write_outside_what_was_computed_marks_nothing(store):  # noqa: F811
    manager = ChannelManager(store)
    ch, raw, _, _ = _pipeline(manager)
    raw.writer([StreamInstance(IV.end + timedelta(minutes=5), 1.0)])
    raw.writer([StreamInstance(T0 - timedelta(minutes=5), 1.0)])  # (a batch's change spans first to last timestamp)
    index = lineage_index(manager)
    assert index.lineage("mongo", DOUBLED).stale == [] and index.lineage("mongo", TRIPLED).stale == []


def test_a_runs_own_writes_and_earlier_writes_are_not_changes_of_its_input(store):  # noqa: F811
    manager = ChannelManager(store)
    ch = manager.get_channel("mongo")
    raw = ch.get_or_create_stream(RAW)
    raw.writer([StreamInstance(_at(1), 1.0)])
    # a tool whose output is also its input: its own writes do not make it stale
    loop = ch.get_or_create_stream(StreamId("loop"))
    loop.writer([StreamInstance(_at(2), 1.0)])
    _Scale(1.0).execute([loop], loop, IV, history=manager.run_history)
    assert lineage_index(manager).lineage("mongo", StreamId("loop")).stale == []


def test_recompute_clears_exactly_what_it_recomputed_and_nothing_else(store, scale_tools):  # noqa: F811
    manager = _manager(store, scale_tools)
    ch, raw, doubled, tripled = _pipeline(manager)
    t = _at(20)
    raw.writer([StreamInstance(t, 99.0)])
    lin = lineage_index(manager).lineage("mongo", DOUBLED)
    plan = recompute_plan(manager, lin)
    assert plan.intervals == _point(t) and plan.instances == 0  # nothing computed at that new time yet
    assert recompute(manager, plan) == 1
    _tick()
    assert dict(doubled.window(TimeInterval(t - timedelta(seconds=1), t)).items()) == {t: 198.0}
    assert doubled.calculated_intervals == TimeIntervals([IV])
    index = lineage_index(manager)
    assert index.lineage("mongo", DOUBLED).stale == []            # its own recompute does not re-stale it
    down = index.lineage("mongo", TRIPLED)                         # what was computed from it there still is
    assert down.stale_intervals == _point(t) and down.stale[0].kind == CHANGE
    assert down.stale[0].by.startswith("run ") and down.stale[0].input == ("mongo", DOUBLED)
    assert recompute(manager, recompute_plan(manager, down)) == 1
    _tick()
    assert dict(tripled.window(TimeInterval(t - timedelta(seconds=1), t)).items()) == {t: 594.0}
    index = lineage_index(manager)
    assert index.lineage("mongo", TRIPLED).stale == [] and index.lineage("mongo", DOUBLED).stale == []


def test_asset_version_after_the_run_makes_the_whole_run_stale(store):  # noqa: F811
    manager = ChannelManager(store)
    assets = manager.get_channel("assets")
    assets.write_to_stream(StreamId("gain"), StreamInstance(T0, 2.0))
    out = manager.get_channel("mongo").get_or_create_stream(StreamId("scaled_gain"))
    _tick()
    _Scale(1.0).execute([assets[StreamId("gain")]], out, IV, history=manager.run_history)
    _tick()
    assert lineage_index(manager).lineage("mongo", StreamId("scaled_gain")).stale == []
    assets.write_to_stream(StreamId("gain"), 3.0)
    lin = lineage_index(manager).lineage("mongo", StreamId("scaled_gain"))
    assert lin.stale_intervals == TimeIntervals([IV]) and lin.stale[0].kind == ASSET


def test_memory_channels_keep_changes_too():
    manager = ChannelManager()
    ch, raw, _, _ = _pipeline(manager, "memory")
    raw.writer([StreamInstance(_at(20), 99.0)])
    assert lineage_index(manager).lineage("memory", DOUBLED).stale_intervals == _point(_at(20))


# -- several processes ------------------------------------------------------------------------------------------

_WRITER = textwrap.dedent("""
    import sys
    from datetime import datetime, timedelta
    from channels import StreamId, StreamInstance, UTC
    from channels.changes import change_origin
    from channels.database_channel import DatabaseChannel
    from channels.stores.sqlite_store import SQLiteStore
    path, who, minute = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = SQLiteStore(path)
    ch = DatabaseChannel("mongo", store)
    with change_origin(who):
        ch[StreamId("raw", {"house": "1"})].writer(
            [StreamInstance(datetime(2024, 3, 1, tzinfo=UTC) + timedelta(minutes=minute, seconds=5), 7.0)])
    store.close()
""")


def test_changes_from_two_other_processes_are_seen_by_a_third(tmp_path):
    path = tmp_path / "shared.sqlite"
    store = SQLiteStore(path)
    manager = ChannelManager(store)
    _pipeline(manager)
    manager.close() if hasattr(manager, "close") else store.close()
    env = dict(os.environ, PYTHONPATH=str(WORKTREE) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(path), who, str(minute)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for who, minute in (("process A", 15), ("process B", 45))]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    third = ChannelManager(SQLiteStore(path))  # a new session, as a third process would open it
    lin = lineage_index(third).lineage("mongo", DOUBLED)
    assert lin.stale_intervals == _point(_at(15)) + _point(_at(45))
    assert {s.by for s in lin.stale} == {"process A", "process B"}
    assert lineage_index(third).lineage("mongo", TRIPLED).stale_intervals == _point(_at(15)) + _point(_at(45))
    third.close() if hasattr(third, "close") else None


# -- browsing writes nothing ------------------------------------------------------------------------------------

def _browse(manager):
    index = lineage_index(manager)
    for ch in list(manager.channels.values()):
        for sid, stream in list(getattr(ch, "streams", {}).items()):
            if getattr(ch, "store", None) is None:
                continue
            list(stream.window(IV).items())
            stream.window(IV).count()
            index.lineage(ch.channel_id, sid)
            ch.list_changes(sid)


def test_browsing_an_sqlite_store_writes_nothing(tmp_path):
    path = tmp_path / "s.sqlite"
    store = SQLiteStore(path)
    manager = ChannelManager(store)
    _pipeline(manager)
    manager.get_channel("mongo")[RAW].writer([StreamInstance(_at(20), 99.0)])
    store.close()
    before = path.read_bytes()
    store = SQLiteStore(path)
    manager = ChannelManager(store)
    _browse(manager)
    assert lineage_index(manager).lineage("mongo", DOUBLED).stale  # it did look
    assert store._db.con().total_changes == 0
    store.close()
    assert path.read_bytes() == before


def _hyperstream_db(channel_id="hs"):
    """What HyperStream 0.3.8 wrote (tests/data, bench/hs_workflow_fixture.py), computed into a MongoDB channel
    by HyperStream itself: instances with ObjectIds of an hour ago, definitions, no run records, no change log."""
    mongomock = pytest.importorskip("mongomock")
    from bson import ObjectId
    data = json.loads(FIXTURE.read_text())
    client = mongomock.MongoClient(tz_aware=True)
    db = client["hyperstream"]
    docs = bson_values(copy.deepcopy(data["documents"]))
    for wf in docs["workflow_definitions"]:
        for node in wf["nodes"]:
            node["channel_id"] = channel_id
    for name, d in docs.items():
        if d:
            db[name].insert_many(d)
    interval = TimeInterval(datetime.fromisoformat(data["interval"][0]), datetime.fromisoformat(data["interval"][1]))
    made = int((utcnow() - timedelta(hours=1)).timestamp())
    n = 0
    for key, rows in data["results"].items():
        name, _, meta = key.partition("|")
        raw = {"name": name, "meta_data": [p.split("=", 1) for p in meta.split(",") if p]}
        db.stream_definitions.insert_one({
            "stream_id": raw, "channel_id": channel_id, "stream_type": "StreamInstance", "sandbox": None,
            "last_updated": datetime.fromtimestamp(made, UTC), "last_accessed": datetime.fromtimestamp(made, UTC),
            "calculated_intervals": [{"start": interval.start, "end": interval.end}]})
        for ts, v in rows:
            n += 1
            db.streams.insert_one({"_id": ObjectId(struct.pack(">I", made) + n.to_bytes(8, "big")), "stream_id": raw,
                                   "datetime": datetime.fromisoformat(ts), "value": bson_values(v)})
    return client, db, interval


def test_browsing_mongodb_creates_no_collection_and_writes_no_document():
    client, db, _ = _hyperstream_db()
    names = sorted(db.list_collection_names())
    counts = {c: db[c].count_documents({}) for c in names}
    manager = ChannelManager(MongoStore(client, db_name="hyperstream"))
    _browse(manager)
    assert sorted(db.list_collection_names()) == names and "hsgui_changes" not in names
    assert {c: db[c].count_documents({}) for c in names} == counts


def test_hyperstream_computed_workflow_has_lineage_from_its_definition_and_sees_direct_inserts():
    from bson import ObjectId
    client, db, interval = _hyperstream_db()
    manager = ChannelManager(MongoStore(client, db_name="hyperstream"))
    merged1, merged2 = StreamId("house_merged", {"house": "1"}), StreamId("house_merged", {"house": "2"})
    ticks1 = StreamId("house_ticks", {"house": "1"})
    lin = lineage_index(manager).lineage("hs", merged1)
    assert lin.writers == [] and [s.factor.tool.name for s in lin.steps] == ["aligned_merge"]
    assert lin.upstream == [("hs", ticks1)] and lin.stale == []
    assert [c.part for c in lin.computations] == [TimeIntervals([interval])]
    assert lin.computations[0].at is not None and lin.computations[0].at < utcnow() - timedelta(minutes=50)
    assert [p for p in lineage_index(manager).lineage("hs", ticks1).downstream] == [("hs", merged1)]
    # a user's pymongo script corrects one tick of house 1, inside what house_merged was computed from
    t = interval.start + timedelta(minutes=7, seconds=30)
    db.streams.insert_one({"_id": ObjectId(), "stream_id": {"name": "house_ticks", "meta_data": [["house", "1"]]},
                           "datetime": t.replace(tzinfo=None), "value": 1})
    index = lineage_index(manager)
    lin = index.lineage("hs", merged1)
    assert lin.stale_intervals == _point(t)
    assert lin.stale[0].kind == INSERT and lin.stale[0].input == ("hs", ticks1) and "ObjectId" in lin.stale[0].reason
    assert index.lineage("hs", merged2).stale == []
    assert "hsgui_changes" not in db.list_collection_names()  # answering it wrote nothing


def test_hyperstream_computed_stream_is_recomputed_from_its_step_on_request(tmp_path):
    from bson import ObjectId
    client, db, interval = _hyperstream_db()
    manager = ChannelManager(MongoStore(client, db_name="hyperstream"))
    merged1 = StreamId("house_merged", {"house": "1"})
    t = interval.start + timedelta(minutes=7, seconds=30)
    db.streams.insert_one({"_id": ObjectId(), "stream_id": {"name": "house_ticks", "meta_data": [["house", "1"]]},
                           "datetime": t.replace(tzinfo=None), "value": 1})
    plan = recompute_plan(manager, lineage_index(manager).lineage("hs", merged1))
    assert plan.intervals == _point(t)
    recompute(manager, plan)
    assert lineage_index(manager).lineage("hs", merged1).stale == []
