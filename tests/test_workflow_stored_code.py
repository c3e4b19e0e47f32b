"""A workflow that HyperStream 0.3.8 itself wrote, whose apply / aggregate / sliding_apply factors carry their
``func`` as stored Python code (bench/hs_stored_code_workflow_fixture.py): planned without decoding, refused
naming every factor, run with bindings to named functions or — with consent — as stored, giving HyperStream's
own results; and HyperStream's tool signatures chosen over built-ins of the same name."""
from __future__ import annotations

import copy
import json
import sys
from datetime import datetime
from pathlib import Path

import pytest

from channels import ChannelManager, Config, TimeInterval
from channels.stores.mongo_store import MongoStore
from channels.workflows import load_model, plan, run_workflow
from channels.workflows.code_params import (BINDINGS_COLLECTION, CodeBindings, CodeParameterError, check_factor,
                                            resolve_tool)
from channels.workflows.execution import WorkflowExecutionError
from hs_fixtures import bson_values, load_into

FIXTURE = Path(__file__).parent / "data" / "hyperstream_stored_code_db.json"

# HyperStream-style tools (its signatures: a function *object* as ``func``), written for these tests from
# HyperStream's documented behaviour; a HyperStream user's tools folder looks like this.
HS_TOOLS = {
    "apply": '''
from hyperstream.stream import StreamInstance
from hyperstream.tool import Tool, check_input_stream_count


class Apply(Tool):
    def __init__(self, func, include_timestamps=False):
        super(Apply, self).__init__(func=func, include_timestamps=include_timestamps)

    @check_input_stream_count(1)
    def _execute(self, sources, alignment_stream, interval):
        for t, d in sources[0].window(interval):
            yield StreamInstance(t, self.func(t, d) if self.include_timestamps else self.func(d))
''',
    "aggregate": '''
from hyperstream.stream import StreamInstance
from hyperstream.tool import AggregateTool


class Aggregate(AggregateTool):
    def __init__(self, func, aggregation_meta_data):
        super(Aggregate, self).__init__(func=func, aggregation_meta_data=aggregation_meta_data)

    def _execute(self, sources, alignment_stream, interval):
        by_time = {}
        for source in sources:
            for t, v in source.window(interval):
                by_time.setdefault(t, []).append(v)
        for t in sorted(by_time):
            yield StreamInstance(t, self.func(by_time[t]))
''',
    "sliding_apply": '''
from hyperstream.stream import StreamInstance
from hyperstream.tool import Tool, check_input_stream_count


class SlidingApply(Tool):
    def __init__(self, func):
        super(SlidingApply, self).__init__(func=func)

    @check_input_stream_count(2)
    def _execute(self, sources, alignment_stream, interval):
        data = list(sources[1].window(interval))
        for t, window in sources[0].window(interval):
            inside = [(tt, v) for tt, v in data if window.start < tt <= window.end]
            yield StreamInstance(t, self.func(iter(inside)))
''',
}


@pytest.fixture
def hs_tools(tmp_path):
    folder = tmp_path / "hyperstream_tools"
    for name, text in HS_TOOLS.items():
        (folder / name).mkdir(parents=True)
        (folder / name / "2016-10-26_v0.1.0.py").write_text(text)
    return str(folder)


@pytest.fixture
def hs_db(hs_tools):
    """mongomock holding what HyperStream wrote; a manager with the built-in tools and HyperStream's tools."""
    mongomock = pytest.importorskip("mongomock")
    data = json.loads(FIXTURE.read_text())
    client = mongomock.MongoClient(tz_aware=True)
    load_into(client, data["documents"])
    store = MongoStore(client, db_name="hyperstream")
    manager = ChannelManager(store, Config(tool_paths=[hs_tools]))
    yield manager, load_model(store), data, client["hyperstream"]
    manager.close()


def _interval(data):
    return TimeInterval(datetime.fromisoformat(data["interval"][0]), datetime.fromisoformat(data["interval"][1]))


def _results(manager, interval):
    out = {}
    for sid, stream in manager.get_channel("memory").streams.items():
        key = sid.name + "|" + ",".join(f"{k}={v}" for k, v in sorted(dict(sid.meta_data).items()))
        rows = []
        for ts, v in stream.window(interval).items():
            if isinstance(v, TimeInterval):
                v = [v.start.isoformat(), v.end.isoformat()]
            elif isinstance(v, datetime):
                v = {"$date": v.isoformat()}
            rows.append([ts.isoformat(), v])
        out[key] = rows
    return out


def _hyperstream_documents(db):
    return {c: copy.deepcopy(list(db[c].find({}))) for c in ("meta_data", "plate_definitions",
                                                              "workflow_definitions", "workflow_status")}


def test_plan_marks_the_steps_with_stored_code_and_decodes_nothing(hs_db):
    manager, model, data, db = hs_db
    wf = model.workflows["stored_code_wf"]
    assert [f.tool.name for f in wf.factors] == ["clock", "apply", "aggregate", "sliding_window", "sliding_apply"]
    assert [f.tool.code_parameters for f in wf.factors] == [[], ["func"], ["func"], [], ["func"]]
    steps = plan(model, wf)
    # 4 residents' clocks and applies, 2 houses' aggregates, one window stream, 2 houses' sliding applies
    assert len(steps) == 4 + 4 + 2 + 1 + 2
    marked = {(s.factor.tool.name, tuple(s.stored_code)) for s in steps}
    assert marked == {("clock", ()), ("apply", ("func",)), ("aggregate", ("func",)), ("sliding_window", ()),
                      ("sliding_apply", ("func",))}
    # the stored values stay bytes as read (never unmarshalled)
    assert all(isinstance(v, bytes) for f in wf.factors for v in f.tool.code_values.values())


def test_a_run_without_bindings_or_consent_is_refused_naming_every_factor_and_writes_nothing(hs_db):
    manager, model, data, db = hs_db
    before = _hyperstream_documents(db)
    with pytest.raises(WorkflowExecutionError) as e:
        run_workflow(manager, model, model.workflows["stored_code_wf"], _interval(data))
    text = str(e.value)
    assert "3 factors cannot run" in text and "nothing was run" in text
    for factor in ("factor 1 (apply)", "factor 2 (aggregate)", "factor 4 (sliding_apply)"):
        assert factor in text and text.count(factor) == 1
    assert "'func' holds Python code stored in the database" in text
    assert manager.get_channel("memory").streams == {} and manager.run_history.list() == []
    assert _hyperstream_documents(db) == before


def test_only_runnable_runs_the_others_and_skips_what_reads_a_factor_that_cannot_run(hs_db):
    manager, model, data, db = hs_db
    iv = _interval(data)
    wf = model.workflows["stored_code_wf"]
    CodeBindings(manager.store).bind(wf, 2, "func", "sum")   # aggregate could run, but reads apply's output
    result = run_workflow(manager, model, wf, iv, only_runnable=True)
    assert result.outcome == "ok"
    assert sorted({r.tool for r in result.records}) == ["clock", "sliding_window"]
    assert [label for label, _why in result.skipped] == ["factor 1 (apply)", "factor 2 (aggregate)",
                                                         "factor 4 (sliding_apply)"]
    assert "holds Python code" in result.skipped[0][1] and "holds Python code" in result.skipped[2][1]
    assert "reads the output of a factor that cannot run" in result.skipped[1][1]
    ours = _results(manager, iv)
    assert set(ours) == {k for k in data["results"] if k.startswith(("ticks|", "windows_10min|"))}


def _plugin_functions(tmp_path):
    path = tmp_path / "my_functions.py"
    path.write_text("def minute(t):\n    return t.minute\n\n\n"
                    "def tenth_of_sum(instances):\n    return sum(v for _t, v in instances) / 10.0\n")
    return str(path)


def test_bindings_to_named_functions_run_the_workflow_as_hyperstream_did(hs_db, tmp_path):
    manager, model, data, db = hs_db
    wf = model.workflows["stored_code_wf"]
    before = _hyperstream_documents(db)
    functions = _plugin_functions(tmp_path)
    bindings = CodeBindings(manager.store)
    bindings.bind(wf, 1, "func", f"{functions}:minute")
    bindings.bind(wf, 2, "func", "sum")                         # the registry's sum over the residents' values
    bindings.bind(wf, 4, "func", f"{functions}:tenth_of_sum")
    # kept in the app's own records, never in HyperStream's documents
    assert _hyperstream_documents(db) == before
    assert sorted(d["factor"] for d in db[BINDINGS_COLLECTION].find({})) == [1, 2, 4]
    # a later run reads the bindings from the store by itself
    iv = _interval(data)
    result = run_workflow(manager, load_model(manager.store), wf, iv)
    assert result.outcome == "ok" and result.skipped == []
    assert _results(manager, iv) == data["results"]
    # binding again replaces, never duplicates
    bindings.bind(wf, 2, "func", "sum")
    assert sorted(d["factor"] for d in db[BINDINGS_COLLECTION].find({})) == [1, 2, 4]
    # the tool that ran is HyperStream's aggregate (it takes aggregation_meta_data), from the user's folder
    agg = [r for r in result.records if r.tool == "aggregate"]
    assert agg and all("hyperstream_tools" in r.tool_source for r in agg)


def test_bindings_are_checked_and_follow_the_stored_code(hs_db, tmp_path):
    manager, model, data, db = hs_db
    wf = model.workflows["stored_code_wf"]
    bindings = CodeBindings(manager.store)
    with pytest.raises(CodeParameterError, match="unknown function 'meen'"):
        bindings.bind(wf, 2, "func", "meen")
    with pytest.raises(CodeParameterError, match="no file"):
        bindings.bind(wf, 2, "func", str(tmp_path / "missing.py") + ":f")
    with pytest.raises(CodeParameterError, match="'aggregation_meta_data' is not a parameter holding stored code"):
        bindings.bind(wf, 2, "aggregation_meta_data", "sum")
    assert list(db[BINDINGS_COLLECTION].find({})) == []
    bindings.bind(wf, 2, "func", "sum")
    check = check_factor(manager, wf, 2, CodeBindings(manager.store))
    assert check.runnable and check.supply["func"][0] == "bound"
    # the stored code changes (someone edits the workflow): the binding no longer applies and says why
    changed = copy.deepcopy(wf)
    changed.factors[2].tool.code_values["func"] = b"other code"
    check = check_factor(manager, changed, 2, CodeBindings(manager.store))
    assert not check.runnable and "bind it again" in check.problems[0]


def test_stored_code_runs_only_with_consent_for_its_hash_and_gives_hyperstreams_results(hs_db):
    pytest.importorskip("xdis")
    manager, model, data, db = hs_db
    wf = model.workflows["stored_code_wf"]
    if tuple(data["python"]) != sys.version_info[:2]:
        pytest.skip("the fixture's code was marshalled by another Python")
    from channels.workflows.code_params import stored_value_hash
    hashes = {stored_value_hash(f.tool.code_values["func"]) for f in wf.factors if f.tool.code_parameters}
    assert len(hashes) == 3
    iv = _interval(data)
    # consent for two of the three hashes is not enough: refused before anything runs
    with pytest.raises(WorkflowExecutionError, match="1 factor cannot run"):
        run_workflow(manager, model, wf, iv, allow_stored_code=set(sorted(hashes)[:2]))
    assert manager.run_history.list() == []
    result = run_workflow(manager, model, wf, iv, allow_stored_code=hashes)
    assert result.outcome == "ok"
    assert _results(manager, iv) == data["results"]


def test_a_workflow_with_nothing_left_to_compute_is_not_refused(hs_db, tmp_path):
    manager, model, data, db = hs_db
    wf = model.workflows["stored_code_wf"]
    bindings = CodeBindings(manager.store)
    functions = _plugin_functions(tmp_path)
    bindings.bind(wf, 1, "func", f"{functions}:minute")
    bindings.bind(wf, 2, "func", "sum")
    bindings.bind(wf, 4, "func", f"{functions}:tenth_of_sum")
    iv = _interval(data)
    run_workflow(manager, model, wf, iv)
    for i in (1, 2, 4):
        bindings.unbind(wf.workflow_id, i, "func")
    again = run_workflow(manager, model, wf, iv)   # every sink is calculated over iv: nothing to run, no refusal
    assert again.outcome == "ok" and again.records == []


def test_a_factor_runs_the_tool_whose_signature_takes_its_parameters(hs_db):
    manager, model, data, db = hs_db
    wf = model.workflows["stored_code_wf"]
    agg = wf.factors[2]
    # the built-in aggregate (func, include_empty) is found first by name, but does not take aggregation_meta_data
    assert manager.find_tool("aggregate")[0].channel_id == "tools"
    choice = resolve_tool(manager, agg, callables={"func"})
    assert choice.channel.channel_id.startswith("tools_") and "hyperstream_tools" in choice.path
    # without HyperStream's folder, the error names every candidate and why it does not fit
    bare = ChannelManager(manager.store)
    with pytest.raises(Exception, match="does not take aggregation_meta_data"):
        resolve_tool(bare, agg, callables={"func"})
    # a built-in that takes function *names* is chosen for a registry binding, not for code
    sliding = wf.factors[4]
    assert resolve_tool(bare, sliding).channel.channel_id == "tools"
    with pytest.raises(Exception, match="as a function name only"):
        resolve_tool(bare, sliding, callables={"func"})


def _on_sqlite(data, path):
    """HyperStream's documents in an embedded store, the nodes moved from the memory channel into the store's."""
    from channels.stores.sqlite_store import SQLiteStore
    store = SQLiteStore(str(path))
    docs = bson_values(data["documents"])
    for wf in docs["workflow_definitions"]:
        for n in wf["nodes"]:
            n["channel_id"] = "mongo"
    for name in ("meta_data", "plate_definitions", "workflow_definitions", "workflow_status"):
        store.insert_documents(name, [{k: v for k, v in d.items() if k != "_id"} for d in docs[name]])
    store.close()
    return str(path)


def test_consented_code_runs_in_a_worker_process_on_the_same_store(tmp_path, hs_tools):
    pytest.importorskip("xdis")
    from channels.workflows.execution import run_workflow_in_process
    data = json.loads(FIXTURE.read_text())
    if tuple(data["python"]) != sys.version_info[:2]:
        pytest.skip("the fixture's code was marshalled by another Python")
    target = _on_sqlite(data, tmp_path / "store.sqlite")
    manager = ChannelManager.open(target, Config(tool_paths=[hs_tools]))
    wf = load_model(manager.store).workflows["stored_code_wf"]
    iv = _interval(data)
    fractions = []
    result = run_workflow_in_process(manager, wf, iv, allow_stored_code=True,
                                     progress=lambda f, _text: fractions.append(f))
    assert result.outcome == "ok" and result.engine == "local" and len(result.records) == 13
    assert fractions and fractions[-1] == 1.0
    manager.refresh()
    mongo = manager.get_channel("mongo")
    got = {}
    for sid, stream in mongo.streams.items():
        key = sid.name + "|" + ",".join(f"{k}={v}" for k, v in sorted(dict(sid.meta_data).items()))
        got[key] = [[ts.isoformat(), [v.start.isoformat(), v.end.isoformat()] if isinstance(v, TimeInterval) else
                     {"$date": v.isoformat()} if isinstance(v, datetime) else v] for ts, v in stream.window(iv).items()]
    assert got == data["results"]
    # a workflow whose nodes are in the memory channel cannot hand its results back: refused, named
    mem_wf = copy.deepcopy(wf)
    for n in mem_wf.nodes.values():
        n.channel_id = "memory"
    with pytest.raises(WorkflowExecutionError, match="memory channel"):
        run_workflow_in_process(manager, mem_wf, iv, allow_stored_code=True)
    manager.close()
