"""Meta-data tree, plates and workflows: HyperStream's collections on both stores, plate resolution,
workflow execution (compared with HyperStream 0.3.8's own execution of the same workflow), lineage
and stale marks."""
from __future__ import annotations

import copy
import json
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from channels import ChannelManager, StreamId, StreamInstance, TimeInterval, TimeIntervals, UTC
from channels.errors import CancelledError
from channels.stores.mongo_store import MongoStore
from channels.workflows import (FactorDefinition, MetaDataError, MetaDataItem, MetaDataTree, NodeDefinition,
                                PlateDefinition, PlateError, ToolSpec, WorkflowDefinition, WorkflowDefinitionError,
                                WorkflowExecutionError, add_meta_data, add_plates, add_workflow, lineage_index,
                                load_model, plan, resolve_plates, run_workflow)

from hs_fixtures import load_into
from stores_fixtures import store  # noqa: F401 - the parametrised store fixture

FIXTURE = Path(__file__).parent / "data" / "hyperstream_workflow_db.json"
T0 = datetime(2024, 3, 1, tzinfo=UTC)


@pytest.fixture
def hyperstream_db():
    """A mongomock database holding what HyperStream 0.3.8 itself wrote (bench/hs_workflow_fixture.py)."""
    mongomock = pytest.importorskip("mongomock")
    data = json.loads(FIXTURE.read_text())
    client = mongomock.MongoClient(tz_aware=True)
    load_into(client, data["documents"])
    yield client, data
    client.close()


def _tree():
    return MetaDataTree([MetaDataItem("resident", "alice", "house_1"), MetaDataItem("house", "1"),
                         MetaDataItem("resident", "bob", "house_1"), MetaDataItem("house", "2"),
                         MetaDataItem("resident", "carol", "house_2"), MetaDataItem("wearable", "A",
                                                                                     "house_1.resident_alice")])


# -- meta-data and plates ---------------------------------------------------------------------------------------

def test_meta_data_identifiers_follow_hyperstream_and_items_load_in_any_order():
    tree = _tree()
    assert [i.identifier for i in tree] == ["house_1", "house_1.resident_alice", "house_1.resident_alice.wearable_A",
                                            "house_1.resident_bob", "house_2", "house_2.resident_carol"]
    assert tree.path(tree["house_1.resident_alice.wearable_A"]) == (("house", "1"), ("resident", "alice"),
                                                                     ("wearable", "A"))


def test_meta_data_errors_name_the_item():
    with pytest.raises(MetaDataError, match="house_9"):
        MetaDataTree([MetaDataItem("resident", "x", "house_9")])
    with pytest.raises(MetaDataError, match="house_1 already exists"):
        MetaDataTree([MetaDataItem("house", "1"), MetaDataItem("house", "1")])


def test_plates_resolve_nested_values_complement_and_selection():
    tree = _tree()
    plates = resolve_plates([PlateDefinition("H.R", "resident", values=[], complement=True, parent_plate="H1"),
                             PlateDefinition("H1", "house", values=["1"]),
                             PlateDefinition("R", "resident", values=["bob"], complement=True),
                             PlateDefinition("ALL", "resident", values=[], complement=True)], tree)
    assert plates["H1"].values == [(("house", "1"),)]
    assert plates["H.R"].values == [(("house", "1"), ("resident", "alice")), (("house", "1"), ("resident", "bob"))]
    assert plates["H.R"].parent is plates["H1"]
    assert plates["R"].values == [(("house", "1"), ("resident", "alice")), (("house", "2"), ("resident", "carol"))]
    assert len(plates["ALL"].values) == 3


def test_plate_errors_name_the_plate():
    tree = _tree()
    with pytest.raises(PlateError, match="'H' selects nothing"):
        resolve_plates([PlateDefinition("H", "house")], tree)
    with pytest.raises(PlateError, match="'X' has parent plate 'NOPE'"):
        resolve_plates([PlateDefinition("X", "house", complement=True, parent_plate="NOPE")], tree)


# -- stores --------------------------------------------------------------------------------------------------------

def test_documents_round_trip_on_every_store(store):  # noqa: F811
    add_meta_data(store, [MetaDataItem("house", "1"), MetaDataItem("resident", "alice", "house_1")])
    add_plates(store, [PlateDefinition("H", "house", "houses", [], True),
                       PlateDefinition("H.R", "resident", "", [], True, "H")])
    wf = WorkflowDefinition("wf", "W", "d", {"t": NodeDefinition("t", ["H.R"], "memory")},
                            [FactorDefinition(ToolSpec("clock", "1.0.0", {"stride": 60.0}), "Factor", [], ["t"])])
    add_workflow(store, wf)
    model = load_model(store)
    assert model.errors == []
    assert model.plates["H.R"].values == [(("house", "1"), ("resident", "alice"))]
    got = model.workflows["wf"]
    assert got.nodes["t"].plate_ids == ["H.R"] and got.factors[0].tool.parameters == {"stride": 60.0}
    assert model.status["wf"]["requested_intervals"] == []
    with pytest.raises(Exception, match="already exists"):
        add_workflow(store, wf)
    with pytest.raises(MetaDataError, match="house_7"):
        add_meta_data(store, [MetaDataItem("resident", "zed", "house_7")])
    assert len(store.list_documents("meta_data")) == 2  # the refused batch wrote nothing


def test_hyperstream_database_opens_unchanged_and_shows_everything(hyperstream_db):
    client, data = hyperstream_db
    db = client["hyperstream"]
    before = {c: copy.deepcopy(list(db[c].find({}))) for c in data["documents"]}
    store = MongoStore(client, db_name="hyperstream")
    manager = ChannelManager(store)
    model = load_model(store)
    assert model.errors == []
    assert sorted(i.identifier for i in model.tree) == sorted(
        ["house_1", "house_2"] + [f"house_{h}.resident_{r}" for h in (1, 2) for r in ("alice", "bob")])
    assert set(model.plates) == {"H", "H.R"} and len(model.plates["H.R"].values) == 4
    wf = model.workflows["fixture_wf"]
    assert list(wf.nodes) == ["house_ticks", "house_merged", "resident_ticks", "windows_10min"]
    assert [f.tool.name for f in wf.factors] == ["clock", "aligned_merge", "clock", "sliding_window"]
    assert wf.owner == "peer"
    assert {c: list(db[c].find({})) for c in data["documents"]} == before  # opening wrote nothing
    manager.close()


def test_workflow_execution_matches_hyperstreams_own(hyperstream_db):
    client, data = hyperstream_db
    store = MongoStore(client, db_name="hyperstream")
    manager = ChannelManager(store)
    model = load_model(store)
    interval = TimeInterval(datetime.fromisoformat(data["interval"][0]), datetime.fromisoformat(data["interval"][1]))
    result = run_workflow(manager, model, model.workflows["fixture_wf"], interval)
    assert result.outcome == "ok" and len(result.records) == 2 + 2 + 4 + 1
    memory = manager.get_channel("memory")
    ours = {}
    for sid, stream in memory.streams.items():
        key = sid.name + "|" + ",".join(f"{k}={v}" for k, v in sorted(dict(sid.meta_data).items()))
        rows = []
        for ts, v in stream.window(interval).items():
            if isinstance(v, TimeInterval):
                v = [v.start.isoformat(), v.end.isoformat()]
            elif isinstance(v, dict):
                v = {k: {"$date": x.isoformat()} if isinstance(x, datetime) else x for k, x in v.items()}
            elif isinstance(v, datetime):
                v = {"$date": v.isoformat()}
            rows.append([ts.isoformat(), v])
        ours[key] = rows
    assert ours == data["results"]
    manager.close()


# -- execution on our own stores -------------------------------------------------------------------------------------



def _demo_like_model():
    """A model in memory: houses 1, 2 with residents; a source stream per resident; aggregate per house."""
    from channels.workflows.model import WorkflowModel
    tree = MetaDataTree([MetaDataItem("house", "1"), MetaDataItem("house", "2"),
                         MetaDataItem("resident", "a", "house_1"), MetaDataItem("resident", "b", "house_1"),
                         MetaDataItem("resident", "c", "house_2")])
    defs = [PlateDefinition("H", "house", complement=True), PlateDefinition("H.R", "resident", complement=True,
                                                                            parent_plate="H")]
    nodes = {n.stream_name: n for n in [NodeDefinition("ticks", ["H.R"], "memory"),
                                        NodeDefinition("windows", [], "memory"),
                                        NodeDefinition("count_per_resident", ["H.R"], "memory"),
                                        NodeDefinition("merged_per_house", ["H"], "memory")]}
    factors = [  # stored out of order on purpose: the windows are made by the last factor
        FactorDefinition(ToolSpec("aggregate", None, {"func": "count"}), "Factor", ["ticks"], ["count_per_resident"],
                         alignment_node="windows"),
        FactorDefinition(ToolSpec("clock", None, {"stride": 10.0, "first": T0}), "Factor", [], ["ticks"]),
        FactorDefinition(ToolSpec("aligned_merge", None, {}), "Factor", ["count_per_resident"], ["merged_per_house"]),
        FactorDefinition(ToolSpec("sliding_window", None, {"first": T0, "lower": -60.0, "upper": 0.0,
                                                           "increment": 60.0}), "Factor", [], ["windows"]),
    ]
    wf = WorkflowDefinition("wf", "W", "", nodes, factors)
    return WorkflowModel(tree, defs, resolve_plates(defs, tree), {"wf": wf}), wf


def test_plan_orders_factors_and_picks_streams_by_plate_value():
    model, wf = _demo_like_model()
    steps = plan(model, wf)
    assert [s.factor.tool.name for s in steps] == ["clock"] * 3 + ["sliding_window"] + ["aggregate"] * 3 + \
        ["aligned_merge"] * 2
    agg = steps[4]
    assert agg.sink == ("memory", StreamId("count_per_resident", {"house": "1", "resident": "a"}))
    assert agg.sources == [("memory", StreamId("ticks", {"house": "1", "resident": "a"}))]
    assert agg.alignment == ("memory", StreamId("windows"))
    house1 = steps[7]  # a house's sink reads every resident of that house
    assert house1.sink[1] == StreamId("merged_per_house", {"house": "1"})
    assert [s[1] for s in house1.sources] == [StreamId("count_per_resident", {"house": "1", "resident": r})
                                              for r in ("a", "b")]


def test_run_workflow_computes_each_plate_value_and_only_what_is_missing():
    model, wf = _demo_like_model()
    manager = ChannelManager(builtin_tools=True)
    iv = TimeInterval(T0, T0 + timedelta(minutes=10))
    progress = []
    result = run_workflow(manager, model, wf, iv, progress=lambda f, t: progress.append(f))
    assert result.outcome == "ok" and len(result.records) == 9
    mem = manager.get_channel("memory")
    counts = mem[StreamId("count_per_resident", {"house": "2", "resident": "c"})].window(iv).values()
    assert counts == [6] * 10  # 10 one-minute windows of 6 ticks at 10 s
    merged = mem[StreamId("merged_per_house", {"house": "1"})].window(iv).items()
    assert len(merged) == 10 and len(merged[0].value) == 2
    assert progress[-1] == 1.0 and progress == sorted(progress)
    again = run_workflow(manager, model, wf, iv)
    assert again.instances_written == 0  # nothing missing the second time


def test_cancelled_workflow_leaves_streams_consistent_and_resumes():
    model, wf = _demo_like_model()
    manager = ChannelManager()
    iv = TimeInterval(T0, T0 + timedelta(hours=2))
    cancel = threading.Event()
    seen = []

    def progress(f, text):
        seen.append(text)
        if len(seen) == 12:
            cancel.set()

    with pytest.raises(CancelledError):
        run_workflow(manager, model, wf, iv, progress=progress, cancel=cancel, chunk=timedelta(minutes=10))
    mem = manager.get_channel("memory")
    for stream in mem.streams.values():
        data = stream.window(TimeInterval(T0 - timedelta(days=1), T0 + timedelta(days=1))).items()
        calc = stream.calculated_intervals
        assert all(any(ts in c for c in calc) for ts, _ in data), stream.stream_id  # no data outside calculated
    result = run_workflow(manager, model, wf, iv)
    assert result.outcome == "ok"
    full = mem[StreamId("count_per_resident", {"house": "1", "resident": "b"})]
    assert full.calculated_intervals == TimeIntervals([iv]) and len(full.window(iv).items()) == 120


def test_factors_that_cannot_run_are_refused_with_the_reason():
    model, wf = _demo_like_model()
    bad = copy.deepcopy(wf)
    bad.factors[0].tool.code_parameters = ["func"]
    # planning shows every step and marks those whose factor carries stored code; running refuses them
    steps = plan(model, bad)
    assert len(steps) == len(plan(model, wf)) and {tuple(s.stored_code) for s in steps if s.factor is bad.factors[0]} \
        == {("func",)}
    with pytest.raises(WorkflowExecutionError, match="'func' holds Python code stored in the database"):
        run_workflow(ChannelManager(), model, bad, TimeInterval(T0, T0 + timedelta(minutes=5)))
    bad = copy.deepcopy(wf)
    bad.factors[0].factor_type = "MultiOutputFactor"  # its sink is on the same plates as its source
    with pytest.raises(WorkflowExecutionError, match="must be on exactly one plate more than the source"):
        plan(model, bad)
    with pytest.raises(WorkflowDefinitionError, match="node 'nope' is not a node"):
        WorkflowDefinition.from_document({"workflow_id": "x", "nodes": [], "factors": [
            {"tool": {"name": "clock"}, "factor_type": "Factor", "sources": [], "sinks": ["nope"]}]})


# -- lineage and stale marks -----------------------------------------------------------------------------------------

def test_lineage_upstream_downstream_and_stale_marks():
    model, wf = _demo_like_model()
    manager = ChannelManager()
    iv = TimeInterval(T0, T0 + timedelta(minutes=30))
    run_workflow(manager, model, wf, iv)
    count_a = StreamId("count_per_resident", {"house": "1", "resident": "a"})
    lin = lineage_index(manager).lineage("memory", count_a)
    assert lin.upstream == [("memory", StreamId("ticks", {"house": "1", "resident": "a"})),
                            ("memory", StreamId("windows"))]
    assert lin.downstream == [("memory", StreamId("merged_per_house", {"house": "1"}))]
    assert lin.stale == []
    # the ticks of resident a are recomputed inside what the count was computed from: the count and, downstream,
    # the house's merge become stale exactly there
    mem = manager.get_channel("memory")
    ticks = mem[StreamId("ticks", {"house": "1", "resident": "a"})]
    part = TimeInterval(T0 + timedelta(minutes=10), T0 + timedelta(minutes=20))
    mem.purge_interval(ticks.stream_id, part)
    from channels.tools import load_tool
    load_tool(manager.get_channel("tools"), "clock", {"stride": 10.0, "first": T0}).execute(
        [], ticks, part, history=manager.run_history)
    index = lineage_index(manager)
    stale = index.lineage("memory", count_a)
    assert stale.stale_intervals == TimeIntervals([part])
    assert "was written again" in stale.stale[0].reason
    house = index.lineage("memory", StreamId("merged_per_house", {"house": "1"}))
    assert house.stale_intervals == TimeIntervals([part]) and "is stale there" in house.stale[0].reason
    other = index.lineage("memory", StreamId("count_per_resident", {"house": "1", "resident": "b"}))
    assert other.stale == []


def test_stale_when_an_asset_input_has_a_newer_version(tmp_path):
    from channels.stores.sqlite_store import SQLiteStore
    store = SQLiteStore(tmp_path / "s.sqlite")
    manager = ChannelManager(store)
    assets = manager.get_channel("assets")
    assets.write_to_stream(StreamId("offset"), StreamInstance(T0, {"v": 1}))
    src = assets[StreamId("offset")]
    sink = manager.get_channel("mongo").get_or_create_stream(StreamId("copy"))
    from channels.tools import load_tool
    iv = TimeInterval(T0 - timedelta(seconds=1), T0 + timedelta(hours=1))
    load_tool(manager.get_channel("tools"), "aligned_merge", {}).execute([src], sink, iv,
                                                                         history=manager.run_history)
    assert lineage_index(manager).lineage("mongo", StreamId("copy")).stale == []
    import time
    time.sleep(0.01)
    from channels.utils import utcnow
    assets.write_to_stream(StreamId("offset"), StreamInstance(utcnow(), {"v": 2}))
    stale = lineage_index(manager).lineage("mongo", StreamId("copy"))
    assert stale.stale_intervals == TimeIntervals([iv]) and "asset offset has a version newer" in stale.stale[0].reason
    manager.close()


def test_recompute_stale_purges_and_recomputes_exactly_the_stale_interval():
    from channels.tools import load_tool
    from channels.workflows import recompute, recompute_plan
    model, wf = _demo_like_model()
    manager = ChannelManager()
    iv = TimeInterval(T0, T0 + timedelta(minutes=30))
    run_workflow(manager, model, wf, iv)
    mem = manager.get_channel("memory")
    ticks = mem[StreamId("ticks", {"house": "1", "resident": "a"})]
    part = TimeInterval(T0 + timedelta(minutes=10), T0 + timedelta(minutes=20))
    mem.purge_interval(ticks.stream_id, part)
    load_tool(manager.get_channel("tools"), "clock", {"stride": 20.0, "first": T0}).execute(  # sparser ticks now
        [], ticks, part, history=manager.run_history)
    count_a = StreamId("count_per_resident", {"house": "1", "resident": "a"})
    plan_ = recompute_plan(manager, lineage_index(manager).lineage("memory", count_a))
    assert plan_.intervals == TimeIntervals([part]) and plan_.instances == 10
    before = dict(mem[count_a].window(iv).items())
    assert recompute(manager, plan_) == 10
    after = dict(mem[count_a].window(iv).items())
    changed = {ts for ts in after if after[ts] != before.get(ts)}
    assert changed and all(ts in part for ts in changed) and set(after.values()) == {6, 3}
    assert mem[count_a].calculated_intervals == TimeIntervals([iv])
    assert lineage_index(manager).lineage("memory", count_a).stale == []  # recomputed: no longer stale


# -- factors that split onto a plate, and factors that make plates ----------------------------------------------

HS_PLUGIN_TOOLS = {
    "broadcast": '''
from hyperstream.tool import MultiOutputTool
from hyperstream.stream import StreamInstance, StreamMetaInstance


class Broadcast(MultiOutputTool):
    """HyperStream-style: every instance of the source onto every value of the output plate."""

    def __init__(self):
        super(Broadcast, self).__init__()

    def _execute(self, source, splitting_stream, interval, meta_data_id, output_plate_values):
        for doc in source.window(interval, force_calculation=True):
            for vv in output_plate_values:
                yield StreamMetaInstance(StreamInstance(doc.timestamp, doc.value), vv)
''',
    "rooms_from_asset": '''
from hyperstream.tool import PlateCreationTool
from hyperstream.stream import StreamInstance, StreamMetaInstance


class RoomsFromAsset(PlateCreationTool):
    """HyperStream-style (as its asset_plate_generator): the keys of the last value become plate values."""

    def __init__(self):
        super(RoomsFromAsset, self).__init__()

    def _execute(self, source, interval):
        last = source.window(interval, force_calculation=True).last()
        if last:
            for key in last.value:
                yield StreamMetaInstance(StreamInstance(last.timestamp, None), key)
''',
}


def _plugin_manager(tmp_path, store=None):
    from channels.config import Config
    root = tmp_path / "hs_tools"
    for name, code in HS_PLUGIN_TOOLS.items():
        (root / name).mkdir(parents=True)
        (root / name / "2017-01-01_v0.1.0.py").write_text(code)
    return ChannelManager(store, config=Config(tool_paths=[str(root)]))


def _rooms_model(extra_rooms=True):
    from channels.workflows.model import WorkflowModel
    items = [MetaDataItem("house", "1"), MetaDataItem("house", "2")]
    if extra_rooms:
        items += [MetaDataItem("room", r, "house_1") for r in ("kitchen", "lounge")]
        items += [MetaDataItem("room", "kitchen", "house_2")]
    tree = MetaDataTree(items)
    defs = [PlateDefinition("H", "house", complement=True)]
    if extra_rooms:
        defs.append(PlateDefinition("H.Rm", "room", complement=True, parent_plate="H"))
    return WorkflowModel(tree, defs, resolve_plates(defs, tree), {})


def _events(manager):
    from channels.tools import load_tool  # noqa: F401
    mem = manager.get_channel("memory")
    for h in ("1", "2"):
        s = mem.get_or_create_stream(StreamId("events", {"house": h}))
        mem.write_chunk(s, [StreamInstance(T0 + timedelta(minutes=m), {"room": room, "v": m})
                            for m, room in enumerate(["kitchen", "lounge", "kitchen", "attic"], 1)],
                        TimeIntervals([TimeInterval(T0, T0 + timedelta(hours=1))]))


def test_multi_output_factor_splits_each_house_onto_its_rooms_with_our_splitter():
    model = _rooms_model()
    nodes = {n.stream_name: n for n in [NodeDefinition("events", ["H"], "memory"),
                                        NodeDefinition("by_room", ["H.Rm"], "memory")]}
    wf = WorkflowDefinition("split", "split", "", nodes, [FactorDefinition(
        ToolSpec("splitter", None, {"element": "room"}), "MultiOutputFactor", ["events"], ["by_room"])])
    manager = ChannelManager()
    _events(manager)
    iv = TimeInterval(T0, T0 + timedelta(hours=1))
    result = run_workflow(manager, model, wf, iv)
    assert result.outcome == "ok" and len(result.records) == 2   # one run per house
    mem = manager.get_channel("memory")
    kitchen1 = mem[StreamId("by_room", {"house": "1", "room": "kitchen"})]
    assert kitchen1.window(iv).values() == [{"v": 1}, {"v": 3}]
    assert mem[StreamId("by_room", {"house": "1", "room": "lounge"})].window(iv).values() == [{"v": 2}]
    assert kitchen1.calculated_intervals == TimeIntervals([iv])
    assert StreamId("by_room", {"house": "1"}) not in mem.streams  # the stream they split from is not left over
    again = run_workflow(manager, model, wf, iv)
    assert again.instances_written == 0


def test_multi_output_factor_runs_hyperstream_plate_style_tools_with_the_output_plate_values(tmp_path):
    model = _rooms_model()
    nodes = {n.stream_name: n for n in [NodeDefinition("events", ["H"], "memory"),
                                        NodeDefinition("copies", ["H.Rm"], "memory")]}
    wf = WorkflowDefinition("bc", "bc", "", nodes, [FactorDefinition(
        ToolSpec("broadcast", "0.1.0", {}), "MultiOutputFactor", ["events"], ["copies"])])
    manager = _plugin_manager(tmp_path)
    _events(manager)
    iv = TimeInterval(T0, T0 + timedelta(hours=1))
    run_workflow(manager, model, wf, iv)
    mem = manager.get_channel("memory")
    made = sorted(str(sid) for sid in mem.streams if sid.name == "copies")
    assert made == ["copies: [house=1, room=kitchen]", "copies: [house=1, room=lounge]",
                    "copies: [house=2, room=kitchen]"]  # exactly the output plate's values under each house
    assert len(mem[StreamId("copies", {"house": "2", "room": "kitchen"})].window(iv).items()) == 4


def test_node_creation_factor_adds_plate_values_then_later_factors_use_them(tmp_path):
    from channels.stores.sqlite_store import SQLiteStore
    store = SQLiteStore(tmp_path / "s.sqlite")
    add_meta_data(store, [MetaDataItem("house", "1")])
    add_plates(store, [PlateDefinition("H", "house", complement=True)])
    manager = _plugin_manager(tmp_path, store)
    assets = manager.get_channel("assets")
    assets.write_to_stream(StreamId("layout", {"house": "1"}), StreamInstance(T0, {"kitchen": 1, "hall": 2}))
    db = manager.get_channel("mongo")
    events = db.get_or_create_stream(StreamId("events", {"house": "1"}))
    db.write_chunk(events, [StreamInstance(T0 + timedelta(minutes=1), 5.0)],
                   TimeIntervals([TimeInterval(T0, T0 + timedelta(hours=1))]))
    nodes = {n.stream_name: n for n in [NodeDefinition("layout", ["H"], "assets"),
                                        NodeDefinition("events", ["H"], "mongo"),
                                        NodeDefinition("per_room", ["H.Rm"], "mongo")]}
    wf = WorkflowDefinition("mk", "mk", "", nodes, [
        FactorDefinition(ToolSpec("rooms_from_asset", None, {}), "NodeCreationFactor", ["layout"], [],
                         output_plate={"plate_id": "H.Rm", "meta_data_id": "room", "description": "rooms",
                                       "use_provided_values": False}),
        FactorDefinition(ToolSpec("broadcast", None, {}), "MultiOutputFactor", ["events"], ["per_room"])])
    add_workflow(store, wf)
    model = load_model(store)
    iv = TimeInterval(T0 - timedelta(seconds=1), T0 + timedelta(hours=1))
    result = run_workflow(manager, model, model.workflows["mk"], iv)
    assert sorted(v for _p, v in result.created_plate_values) == [(("house", "1"), ("room", "hall")),
                                                                 (("house", "1"), ("room", "kitchen"))]
    reread = load_model(store)  # written to the store as HyperStream's collections
    assert "house_1.room_kitchen" in reread.tree and reread.plates["H.Rm"].parent is reread.plates["H"]
    assert len(reread.plates["H.Rm"].values) == 2
    assert db[StreamId("per_room", {"house": "1", "room": "hall"})].window(iv).values() == [5.0]
    manager.close()
