"""channels.hyperstream: HyperStream 0.3.8 scripts run unchanged (issue 22).

The scenario tests re-do what HyperStream 0.3.8's own tests do (tests/test_workflows.py, test_meta_data.py,
test_time_interval.py, test_tools.py; see docs/hyperstream-test-scenarios.md) through ``import hyperstream``
on an embedded store in tmp_path. The reference documents in tests/data/hs_script_reference.json were written
by the original for tests/data/hs_script_reference.py.
"""
from __future__ import annotations

import base64
import json
import logging
import marshal
import os
import pickle
import subprocess
import sys
import textwrap
import warnings
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from channels.hyperstream import HyperStream, NotSupportedError, run_script
from channels.hyperstream.compat import hyperstream_names
from channels.hyperstream.serialization import dumps, func_dump, func_load, stored_function
from channels.stores.sqlite_store import SQLiteStore
from channels.time_interval import TimeInterval as _TI
from channels.workflows import load_model

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A HyperStream project folder: hyperstream_config.json on an embedded store, as the current directory."""
    (tmp_path / "hyperstream_config.json").write_text(json.dumps({"store": {"sqlite": "store.sqlite"},
                                                                  "plugins": []}))
    monkeypatch.chdir(tmp_path)
    HyperStream.reset()
    yield tmp_path
    HyperStream.reset()


@pytest.fixture
def hyperstream(project):
    """``import hyperstream`` resolving to channels.hyperstream, as a script run by run_script sees it."""
    with hyperstream_names(force=True):
        import hyperstream
        yield hyperstream
    assert "hyperstream" not in sys.modules or not getattr(sys.modules["hyperstream"],
                                                           "__hyperstream_studio_fake__", False)


# -- serialization: HyperStream's stored functions without pickle --------------------------------------------
SHARED = "shared"
VALUES = [None, True, False, 0, 255, 256, 65536, -1, -129, 2 ** 31, -2 ** 31 - 1, 10 ** 40, -10 ** 40, 1.5,
          float("inf"), -0.0, "", "é\u2603", "x" * 300, b"", b"\x00\xff" * 200, (), (1,), (1, 2), (1, 2, 3),
          (1, 2, 3, 4), [], [1], [1, [2, 3]], {}, {"a": 1, "b": (2, None)}, (SHARED, SHARED, [SHARED]),
          list(range(2500)), {str(i): i for i in range(1200)}, b"z" * 70000, ["y" * 30000, b"q" * 40000, 2.5]]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__ + str(len(repr(v))))
def test_dumps_equals_pickle(value):
    assert dumps(value) == pickle.dumps(value)


def test_stored_function_is_hyperstreams_pickle_of_func_dump():
    offset = 3.0

    def f(data, k=2):
        return len(list(data)) * k + offset

    expected = pickle.dumps((marshal.dumps(f.__code__), (2,), (3.0,)))
    assert func_dump(f) == (marshal.dumps(f.__code__), (2,), (3.0,))
    assert stored_function(f) == expected
    g = lambda x: x  # noqa: E731
    assert stored_function(g) == pickle.dumps((marshal.dumps(g.__code__), None, None))


def test_dumps_refuses_other_types_and_func_load_refuses():
    with pytest.raises(TypeError, match="set"):
        dumps((1, {2}))
    with pytest.raises(NotSupportedError, match="run"):
        func_load(b"")


# -- the reference script: documents byte for byte, run in a subprocess, read back by the app --------------
def _decode_ref(x):
    if isinstance(x, list):
        return {k: _decode_ref(v) for k, v in x}
    if isinstance(x, dict) and "$list" in x:
        return [_decode_ref(v) for v in x["$list"]]
    if isinstance(x, dict) and "$bytes" in x:
        return base64.b64decode(x["$bytes"])
    if isinstance(x, dict) and "$date" in x:
        return datetime.fromisoformat(x["$date"]).replace(tzinfo=_TI.all_time().start.tzinfo)
    return x


def _shape(x):
    """Value with dict field order made visible (dicts compare as ordered pair lists)."""
    if isinstance(x, dict):
        return [(k, _shape(v)) for k, v in x.items()]
    if isinstance(x, list):
        return [_shape(v) for v in x]
    return x


def test_script_in_subprocess_writes_hyperstreams_documents_and_data(project):
    script = project / "script.py"
    script.write_text((DATA / "hs_script_reference.py").read_text())
    proc = subprocess.run([sys.executable, "-m", "channels.hyperstream", "script.py", "10"], cwd=project,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert "(('house', '1'), ('resident', 'alice'))" in proc.stdout
    store = SQLiteStore(str(project / "store.sqlite"))
    try:
        ref = json.loads((DATA / "hs_script_reference.json").read_text())
        for collection in ("meta_data", "plate_definitions", "workflow_definitions"):
            assert _shape(store.list_documents(collection)) == _shape(_decode_ref(ref[collection])), collection
        (status,) = store.list_documents("workflow_status")
        assert list(status) == ["workflow_id", "last_updated", "last_accessed", "requested_intervals"]
        model = load_model(store)
        assert model.errors == []
        wf = model.workflows["script_wf"]
        assert [f.tool.name for f in wf.factors] == ["clock", "sliding_window", "sliding_apply"]
        assert wf.factors[2].tool.code_parameters == ["func"]
        assert sorted(model.plates) == ["H", "H.R"] and len(model.plates["H.R"].values) == 4
        counted = model.node_streams(wf.nodes["counted"])
        assert len(counted) == 4
        from channels.channel_manager import ChannelManager
        manager = ChannelManager(store, builtin_tools=False)
        for sid in counted.values():
            values = manager.get_channel("mongo").streams[sid].window(_TI.all_time()).values()
            # 10 minutes of 60 s windows over 10 s ticks: the first window has 6 ticks, the others 7 (closed
            # windows, as HyperStream's sliding_apply defines them): len * 2 + 3
            assert values == [15.0] + [17.0] * 9
    finally:
        store.close()


def test_run_script_restores_modules_argv_and_singleton(project):
    (project / "s.py").write_text("import sys, hyperstream\nRESULT = (list(sys.argv), hyperstream.HyperStream)\n")
    before = sys.argv[:]
    out = run_script(str(project / "s.py"), ["a", 1])
    assert out["RESULT"][0] == [str(project / "s.py"), "a", "1"]
    assert out["RESULT"][1] is HyperStream
    assert sys.argv == before and "hyperstream" not in sys.modules and HyperStream._instance is None


def test_run_script_missing_file_is_a_clear_error(project):
    with pytest.raises(FileNotFoundError, match="nope.py.*does not exist"):
        run_script("nope.py")
    proc = subprocess.run([sys.executable, "-m", "channels.hyperstream", "nope.py"], cwd=project,
                          capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2 and "nope.py" in proc.stderr and "does not exist" in proc.stderr


def test_config_without_store_is_a_clear_error(project):
    (project / "hyperstream_config.json").write_text(json.dumps({"plugins": []}))
    with pytest.raises(Exception, match="mongo.*sqlite"):
        HyperStream()


def test_channels_tool_is_a_deprecated_alias():
    sys.modules.pop("channels.tool", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import channels.tool
        from channels.tool import Tool
    import channels.tools
    assert Tool is channels.tools.Tool and channels.tool.Tool is channels.tools.Tool
    assert any(issubclass(w.category, DeprecationWarning) and "channels.tools" in str(w.message) for w in caught)


# -- HyperStream's test_meta_data.py --------------------------------------------------------------------------
def _insert(hs, tag, values, parent="root"):
    for data in values:
        ident = f"{tag}_{data}" if parent == "root" else f"{parent}.{tag}_{data}"
        hs.plate_manager.meta_data_manager.insert(tag=tag, identifier=ident, parent=parent, data=data)


def _tagged(hs, tag):
    return sorted(n.identifier for n in hs.plate_manager.meta_data_manager.global_plate_definitions.all_nodes()
                  if "_".join(n.identifier.split("_")[:-1]) == tag)


def test_scenario_meta_data_insert_and_delete(hyperstream):
    with hyperstream.HyperStream(file_logger=False, console_logger=False, mqtt_logger=None) as hs:
        values = [str(i) for i in range(4)]
        _insert(hs, "md", values)
        assert _tagged(hs, "md") == [f"md_{v}" for v in values]
        for v in values:
            hs.plate_manager.meta_data_manager.delete(f"md_{v}")
        assert _tagged(hs, "md") == []
        with pytest.raises(KeyError):
            hs.plate_manager.meta_data_manager.delete("md_0")


def test_scenario_plate_creation(hyperstream):
    hs = hyperstream.HyperStream(file_logger=False, console_logger=False, mqtt_logger=None)
    values = [str(i) for i in range(4)]
    _insert(hs, "pc", values)
    hs.plate_manager.create_plate(plate_id="T1", description="pc", meta_data_id="pc", values=[], complement=True,
                                  parent_plate=None)
    assert sorted(hs.plate_manager.plates["T1"].values) == [(("pc", v),) for v in values]
    hs.plate_manager.delete_plate("T1", delete_meta_data=True)
    assert "T1" not in hs.plate_manager.plates and _tagged(hs, "pc") == []
    assert load_model(hs.channel_manager.store).plate_definitions == []


# -- HyperStream's test_time_interval.py ----------------------------------------------------------------------
def test_scenario_time_intervals_union_difference_split(hyperstream):
    from hyperstream import RelativeTimeInterval, TimeInterval, TimeIntervals
    from hyperstream.utils import UTC
    now, hour, minute = datetime(2016, 1, 1), timedelta(hours=1), timedelta(minutes=1)
    i1 = TimeIntervals([TimeInterval(now, now + hour), TimeInterval(now + 2 * hour, now + 3 * hour)])
    i2 = TimeIntervals([TimeInterval(now + 30 * minute, now + 30 * minute + 2 * hour)])
    assert i1 == TimeIntervals([TimeInterval(datetime(2016, 1, 1, 0), datetime(2016, 1, 1, 1)),
                                TimeInterval(datetime(2016, 1, 1, 2), datetime(2016, 1, 1, 3))])
    assert i1 + i2 == TimeIntervals([TimeInterval(datetime(2016, 1, 1, 0), datetime(2016, 1, 1, 3))])
    assert i1 - i2 == TimeIntervals([TimeInterval(datetime(2016, 1, 1, 0), datetime(2016, 1, 1, 0, 30)),
                                     TimeInterval(datetime(2016, 1, 1, 2, 30), datetime(2016, 1, 1, 3))])
    r = RelativeTimeInterval(-30 * timedelta(seconds=1), timedelta(0))
    assert (r.start, r.end) == (-30.0, 0.0)
    t = TimeIntervals([TimeInterval(datetime(2016, 1, 1), datetime(2016, 2, 1)),
                       TimeInterval(datetime(2017, 1, 1), datetime(2017, 2, 1))])
    t.split([datetime(2016, 1, 15, tzinfo=UTC), datetime(2017, 1, 18, tzinfo=UTC)])
    expected = [TimeInterval(datetime(2016, 1, 1), datetime(2016, 1, 15)),
                TimeInterval(datetime(2016, 1, 15), datetime(2016, 2, 1)),
                TimeInterval(datetime(2017, 1, 1), datetime(2017, 1, 18)),
                TimeInterval(datetime(2017, 1, 18), datetime(2017, 2, 1))]
    assert len(t) == len(expected) and all(e == t[i] for i, e in enumerate(expected))


# -- HyperStream's test_workflows.py --------------------------------------------------------------------------
def test_scenario_save_workflow_and_load_it_back(hyperstream):
    from hyperstream import TimeInterval
    from hyperstream.utils import UTC
    hs = hyperstream.HyperStream(loglevel=logging.CRITICAL, file_logger=False, console_logger=False)
    wid = "test_save_workflow"
    hs.workflow_manager.delete_workflow(wid)
    with hs.create_workflow(workflow_id=wid, name="Test", owner="Tests", description="Nose test generated workflow") as w:
        ticker = w.create_node("ticker", hs.channel_manager.memory, None)
        w.create_factor(hs.tools.clock(), sources=[], sink=ticker)
    t1, t2 = datetime(2016, 4, 28, 20, tzinfo=UTC), datetime(2016, 4, 29, 13, tzinfo=UTC)
    w.execute(TimeInterval(t1, t2))
    assert ticker.streams[None].window(TimeInterval(t1, t1 + timedelta(seconds=3))).values() == [
        t1 + timedelta(seconds=i) for i in (1, 2, 3)]
    hs.workflow_manager.commit_workflow(wid)
    del hs.workflow_manager.workflows[wid]
    w2 = hs.workflow_manager.load_workflow(wid)
    assert list(w2.nodes) == ["ticker"] and w2.factors[0].tool.name == "clock"
    assert load_model(hs.channel_manager.store).workflows[wid].document["owner"] == "Tests"
    with pytest.raises(KeyError):
        with hs.create_workflow(workflow_id=wid, name="again", owner="Tests", description="d"):
            pass
    hs.workflow_manager.delete_workflow(wid)
    assert wid not in load_model(hs.channel_manager.store).workflows


def test_scenario_plate_loop_and_nested_plates(hyperstream):
    """test_new_api / test_new_api_nested_plates, written with create_factor (hs.factors is not offered)."""
    from hyperstream import TimeInterval
    hs = hyperstream.HyperStream(loglevel=logging.CRITICAL)
    items = {"0": ["A", "B", "C"], "1": ["C", "D"]}
    _insert(hs, "test", items)
    for k, v in items.items():
        _insert(hs, "nested_test", v, "test_" + k)
    T = hs.plate_manager.create_plate("T", "test", "test", [], True, None)
    U = hs.plate_manager.create_plate("T.U", "nested test", "nested_test", [], True, "T")
    M = hs.channel_manager.memory
    with hs.create_workflow("nested", "Test nested", "Tests", "nested plates") as w:
        ticks = w.create_node("ticker_repeated", M, [T])
        nested = w.create_node("nested_repeated", M, [U])
        w.create_factor(hs.tools.clock(stride=30.0), sources=None, sink=ticks)
        with pytest.raises(hyperstream.IncompatiblePlatesError):
            w.create_factor(hs.tools.apply(func=lambda x: x), sources=[ticks], sink=nested)
        w.create_factor(hs.tools.apply(func=lambda x: x), sources=[ticks], sink=w.create_node("copy", M, [T]))
        with pytest.raises(NotSupportedError, match="factors"):
            hs.factors.clock(sources=[])
    t1 = datetime(2016, 4, 28, 20)
    w.execute(TimeInterval(t1, t1 + timedelta(minutes=1)))
    assert sorted(ticks.streams) == [(("test", "0"),), (("test", "1"),)]
    assert len(U[(("test", "0"),)]) == 3 and len(nested.streams) == 5
    for pv in T:
        assert w.nodes["copy"].streams[pv].window(TimeInterval(t1, t1 + timedelta(minutes=1))).values() == [
            datetime(2016, 4, 28, 20, 0, 30, tzinfo=hyperstream.UTC), datetime(2016, 4, 28, 20, 1, tzinfo=hyperstream.UTC)]


# -- HyperStream's test_tools.py (scenario: data generators through a workflow) ------------------------------
def test_scenario_tool_by_name_with_naive_datetime_parameter(hyperstream):
    from hyperstream import StreamId, TimeInterval
    hs = hyperstream.HyperStream()
    start = datetime(2016, 4, 28, 20)
    clock = hs.tools.clock(first=start, stride=60.0)
    sink = hs.channel_manager.memory.get_or_create_stream(StreamId("ticker"))
    clock.execute(sources=[], sink=sink, interval=TimeInterval(start, start + timedelta(minutes=3)), alignment_stream=None)
    assert len(sink.window(TimeInterval(start, start + timedelta(minutes=3))).values()) == 3
    with pytest.raises(AttributeError, match="no tool 'no_such_tool'"):
        hs.tools.no_such_tool
