"""One step graph, several engines: inline, local worker processes, Dask distributed. The results are the same
instance for instance whichever engine and however many workers ran them; a step waits only for the steps
that write its inputs; a cancel or a kill leaves every stream consistent with its calculated intervals."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timedelta

import pytest

from channels import ChannelManager, TimeInterval, UTC
from channels.errors import CancelledError
from channels.stores.sqlite_store import SQLiteStore
from channels.workflows import (FactorDefinition, MetaDataItem, NodeDefinition, PlateDefinition, ToolSpec,
                                WorkflowDefinition, add_meta_data, add_plates, add_workflow, load_model, plan,
                                run_workflow)
from channels.workflows.engines import check_store_for_cluster, step_dependencies
from channels.workflows.execution import WorkflowExecutionError, choose_engine

T0 = datetime(2024, 3, 1, tzinfo=UTC)
HOUSES = ("1", "2", "3")


def _workflow(channel="mongo"):
    nodes = [NodeDefinition("ticks", ["H.R"], channel), NodeDefinition("windows", [], channel),
             NodeDefinition("noise", ["H.R"], channel), NodeDefinition("count_per_resident", ["H.R"], channel),
             NodeDefinition("merged_per_house", ["H"], channel)]
    factors = [
        FactorDefinition(ToolSpec("clock", None, {"stride": 5.0, "first": T0}), "Factor", [], ["ticks"]),
        FactorDefinition(ToolSpec("sliding_window", None, {"first": T0, "lower": -60.0, "upper": 0.0,
                                                           "increment": 60.0}), "Factor", [], ["windows"]),
        FactorDefinition(ToolSpec("gauss", None, {"stride": 5.0, "seed": 7}), "Factor", [], ["noise"]),
        FactorDefinition(ToolSpec("aggregate", None, {"func": "count"}), "Factor", ["ticks"], ["count_per_resident"],
                         alignment_node="windows"),
        FactorDefinition(ToolSpec("aligned_merge", None, {}), "Factor", ["count_per_resident"], ["merged_per_house"]),
    ]
    return WorkflowDefinition("wf", "W", "engines", {n.stream_name: n for n in nodes}, factors)


def _store(path, channel="mongo"):
    store = SQLiteStore(str(path))
    items = []
    for h in HOUSES:
        items.append(MetaDataItem("house", h))
        items += [MetaDataItem("resident", r, f"house_{h}") for r in ("a", "b")]
    add_meta_data(store, items)
    add_plates(store, [PlateDefinition("H", "house", complement=True),
                       PlateDefinition("H.R", "resident", complement=True, parent_plate="H")])
    add_workflow(store, _workflow(channel))
    store.close()
    return str(path)


def _contents(manager, iv):
    manager.refresh()
    out = {}
    for sid, stream in manager.get_channel("mongo").streams.items():
        out[str(sid)] = (list(stream.window(iv).items()), stream.calculated_intervals)
    return out


def _run(path, iv, **kwargs):
    manager = ChannelManager.open(path)
    try:
        model = load_model(manager.store)
        result = run_workflow(manager, model, model.workflows["wf"], iv, **kwargs)
        return result, _contents(manager, iv)
    finally:
        manager.close()


def test_a_step_waits_only_for_the_steps_that_write_its_inputs(tmp_path):
    path = _store(tmp_path / "s.sqlite")
    manager = ChannelManager.open(path)
    model = load_model(manager.store)
    steps = plan(model, model.workflows["wf"])
    deps = step_dependencies(steps)
    by = {(s.factor.tool.name, s.plate_value): i for i, s in enumerate(steps)}
    resident = (("house", "2"), ("resident", "b"))
    count = by[("aggregate", resident)]
    # the count of house 2's resident b waits for b's ticks and the windows: not for other residents, not noise
    assert sorted(steps[j].factor.tool.name + str(steps[j].plate_value) for j in deps[count]) == sorted(
        ["clock" + str(resident), "sliding_window()"])
    merge = by[("aligned_merge", (("house", "2"),))]
    assert {steps[j].plate_value for j in deps[merge]} == {(("house", "2"), ("resident", "a")), resident}
    assert deps[by[("gauss", resident)]] == []
    manager.close()


def test_cluster_tasks_batch_the_steps_of_a_house_and_wait_only_for_the_groups_they_read(tmp_path):
    from channels.workflows.engines import step_groups
    manager = ChannelManager.open(_store(tmp_path / "s.sqlite"))
    model = load_model(manager.store)
    steps = plan(model, model.workflows["wf"])
    groups, gdeps = step_groups(steps, step_dependencies(steps))
    names = [{s.plate_value[0] if s.plate_value else None for s in (steps[i] for i in g)} for g in groups]
    assert names == [{None}, {("house", "1")}, {("house", "2")}, {("house", "3")}]   # the windows first
    assert gdeps == [[], [0], [0], [0]]       # each house waits for the windows only, not for other houses
    assert sorted(i for g in groups for i in g) == list(range(len(steps)))
    manager.close()


def test_every_engine_gives_the_same_streams_instance_for_instance(tmp_path):
    iv = TimeInterval(T0, T0 + timedelta(minutes=20))
    results = {}
    for name, kwargs in {"inline": dict(engine="inline"), "local-1": dict(engine="local", workers=1),
                         "local-2": dict(engine="local", workers=2), "auto": {}}.items():
        path = _store(tmp_path / f"{name}.sqlite")
        result, contents = _run(path, iv, **kwargs)
        assert result.outcome == "ok" and len(result.records) == 6 + 1 + 6 + 6 + 3, name
        reopened = ChannelManager.open(path)   # every step's run record is in the store, whichever engine ran it
        contents["(run records in the store)"] = sorted((r.tool, r.output_stream) for r in reopened.run_history.list())
        reopened.close()
        results[name] = contents
    assert results["auto"] and all(v == results["inline"] for v in results.values())
    assert len(results["inline"]["(run records in the store)"]) == 6 + 1 + 6 + 6 + 3
    counts = results["inline"]["count_per_resident: [house=1, resident=a]"][0]
    assert [v for _t, v in counts] == [12] * 20     # 12 ticks of 5 s in each 60 s window


def test_the_dask_engine_on_a_local_cluster_gives_the_same_streams(tmp_path):
    distributed = pytest.importorskip("distributed")
    iv = TimeInterval(T0, T0 + timedelta(minutes=10))
    _path, expected = _run(_store(tmp_path / "inline.sqlite"), iv, engine="inline")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        result, got = _run(_store(tmp_path / "dask.sqlite"), iv, engine="dask", scheduler=cluster.scheduler_address)
    assert result.engine == "dask" and result.outcome == "ok"
    assert got == expected


def test_an_embedded_store_cannot_go_to_remote_dask_workers(tmp_path):
    class FakeClient:
        def scheduler_info(self):
            return {"workers": {"tcp://10.1.2.3:40000": {}, "tcp://127.0.0.1:40001": {}}}
    manager = ChannelManager.open(_store(tmp_path / "s.sqlite"))
    with pytest.raises(WorkflowExecutionError, match=r"cannot be shared with remote Dask workers \(10\.1\.2\.3\)"):
        check_store_for_cluster(manager, FakeClient())
    manager.close()


def test_a_workflow_without_factors_is_refused_not_reported_ok():
    empty = WorkflowDefinition("empty", "E", "", {}, [])
    with pytest.raises(WorkflowExecutionError, match="'empty' has no factors: nothing to run"):
        run_workflow(ChannelManager(), None, empty, TimeInterval(T0, T0 + timedelta(minutes=1)))


def test_engines_that_cannot_work_are_refused_saying_why(tmp_path):
    manager = ChannelManager()          # a memory-only manager: no store another process could open
    wf = _workflow(channel="memory")
    assert choose_engine(manager, wf) == "inline"
    with pytest.raises(WorkflowExecutionError, match="memory channel"):
        choose_engine(manager, wf, "local")
    with pytest.raises(WorkflowExecutionError, match="unknown engine 'threads'"):
        choose_engine(manager, wf, "threads")
    with pytest.raises(WorkflowExecutionError, match="workers must be a whole number"):
        choose_engine(manager, wf, workers=0)
    on_store = ChannelManager.open(_store(tmp_path / "s.sqlite"))
    assert choose_engine(on_store, _workflow()) == "local" and choose_engine(on_store, _workflow(), workers=1) == "inline"
    on_store.close()


def _consistent(path, iv):
    """Every stream's data lies inside its calculated intervals (data outside them would be a half-written run)."""
    manager = ChannelManager.open(path)
    try:
        for sid, stream in manager.get_channel("mongo").streams.items():
            calc = stream.calculated_intervals
            for ts, _v in stream.window(TimeInterval(T0 - timedelta(days=1), iv.end)).items():
                assert any(ts in c for c in calc), f"{sid}: {ts} outside {calc}"
    finally:
        manager.close()


def test_a_cancel_stops_the_workers_and_leaves_streams_consistent_then_a_rerun_completes(tmp_path):
    iv = TimeInterval(T0, T0 + timedelta(hours=6))
    path = _store(tmp_path / "s.sqlite")
    cancel = threading.Event()
    seen = []

    def progress(fraction, _text):
        seen.append(fraction)
        if fraction > 0.2:
            cancel.set()
    with pytest.raises(CancelledError):
        _run(path, iv, engine="local", workers=2, cancel=cancel, progress=progress, chunk=timedelta(minutes=10))
    _consistent(path, iv)
    result, contents = _run(path, iv, engine="local", workers=2)
    assert result.outcome == "ok"
    _path, expected = _run(_store(tmp_path / "ref.sqlite"), iv, engine="inline")
    assert contents == expected


KILL_SCRIPT = textwrap.dedent("""
    import sys
    from datetime import datetime, timedelta
    from channels import ChannelManager, TimeInterval, UTC
    from channels.workflows import load_model, run_workflow
    T0 = datetime(2024, 3, 1, tzinfo=UTC)
    manager = ChannelManager.open(sys.argv[1])
    model = load_model(manager.store)
    print("started", flush=True)
    run_workflow(manager, model, model.workflows["wf"], TimeInterval(T0, T0 + timedelta(hours=24)),
                 engine="local", workers=2, chunk=timedelta(minutes=5))
""")


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.8, 2.5])
def test_a_run_killed_at_any_moment_leaves_every_stream_consistent(tmp_path, delay):
    iv = TimeInterval(T0, T0 + timedelta(hours=24))
    path = _store(tmp_path / "s.sqlite")
    script = tmp_path / "run.py"
    script.write_text(KILL_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), path], stdout=subprocess.PIPE, start_new_session=True,
                            cwd=os.getcwd(), env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert proc.stdout.readline().strip() == b"started"
    time.sleep(delay)
    assert proc.poll() is None, "the run ended before the kill: make it longer"
    os.killpg(proc.pid, signal.SIGKILL)      # the run and its worker processes, mid-chunk
    proc.wait(timeout=30)
    _consistent(path, iv)
    result, contents = _run(path, iv, engine="local", workers=2)
    _path, expected = _run(_store(tmp_path / "ref.sqlite"), iv, engine="inline")
    assert result.outcome == "ok" and contents == expected


# -- the warm worker pool of the local engine -------------------------------------------------------------------
@pytest.fixture
def pool():
    from channels.workflows.process_run import WorkerPool
    p = WorkerPool()
    yield p
    p.close()


def _gone(pid) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_pool_keeps_its_workers_between_runs_and_they_read_what_changed_since(tmp_path, pool):
    iv = TimeInterval(T0, T0 + timedelta(minutes=20))
    path = _store(tmp_path / "s.sqlite")
    first, _ = _run(path, iv, engine="local", workers=2, pool=pool)
    assert first.workers_started == 2 and len(set(first.worker_pids)) == 2
    assert os.getpid() not in first.worker_pids
    # between the runs this process purges what the first run computed for one resident: the kept workers must
    # see that (a worker that trusted what it read during the first run would compute nothing)
    manager = ChannelManager.open(path)
    from channels.stream import StreamId
    for name in ("ticks", "count_per_resident"):
        manager.get_channel("mongo").purge_stream(StreamId(name, [("house", "2"), ("resident", "b")]))
    manager.close()
    second, contents = _run(path, iv, engine="local", workers=2, pool=pool)
    assert second.workers_started == 0 and sorted(second.worker_pids) == sorted(first.worker_pids)
    assert {(r.tool, r.output_stream) for r in second.records if r.instances_written} >= {
        ("clock", "ticks: [house=2, resident=b]"), ("aggregate", "count_per_resident: [house=2, resident=b]")}
    # and the same workers on another store file: they open it
    third, other = _run(_store(tmp_path / "other.sqlite"), iv, engine="local", workers=2, pool=pool)
    assert sorted(third.worker_pids) == sorted(first.worker_pids)
    _path, expected = _run(_store(tmp_path / "ref.sqlite"), iv, engine="inline")
    assert contents == expected and other == expected


def kill_a_worker(pool, after=0.1):
    """``(progress, killed)``: ``progress`` SIGKILLs one of ``pool``'s workers once the run is past ``after``;
    ``killed`` then holds its process id."""
    killed = []

    def progress(fraction, _text):
        if fraction > after and not killed:
            killed.append(pool.pids[0])
            os.kill(killed[0], signal.SIGKILL)
    return progress, killed


def test_a_killed_worker_is_replaced_and_the_steps_it_ran_are_reported_failed(tmp_path, pool):
    iv = TimeInterval(T0, T0 + timedelta(hours=6))
    path = _store(tmp_path / "s.sqlite")
    progress, killed = kill_a_worker(pool)
    with pytest.raises(WorkflowExecutionError, match=rf"the worker process {{}} was ended by signal SIGKILL".format(
            r"\d+")) as err:
        _run(path, iv, engine="local", workers=2, pool=pool, progress=progress, chunk=timedelta(minutes=10))
    assert str(killed[0]) in str(err.value)
    live = pool.pids
    assert len(live) == 2 and killed[0] not in live      # replaced
    _consistent(path, iv)
    result, contents = _run(path, iv, engine="local", workers=2, pool=pool)
    _path, expected = _run(_store(tmp_path / "ref.sqlite"), iv, engine="inline")
    assert result.outcome == "ok" and contents == expected
    assert killed[0] not in result.worker_pids


def test_a_cancel_stops_a_warm_pool_within_a_chunk_and_keeps_its_workers(tmp_path, pool):
    iv = TimeInterval(T0, T0 + timedelta(hours=6))
    warm, _ = _run(_store(tmp_path / "warm.sqlite"), TimeInterval(T0, T0 + timedelta(minutes=5)), engine="local",
                   workers=2, pool=pool)
    path = _store(tmp_path / "s.sqlite")
    cancel = threading.Event()

    def progress(fraction, _text):
        if fraction > 0.2:
            cancel.set()
    with pytest.raises(CancelledError):
        _run(path, iv, engine="local", workers=2, pool=pool, cancel=cancel, progress=progress,
             chunk=timedelta(minutes=10))
    assert pool.pids == sorted(warm.worker_pids)          # stopped by the cancel, not ended
    _consistent(path, iv)
    result, contents = _run(path, iv, engine="local", workers=2, pool=pool)
    assert result.outcome == "ok" and result.workers_started == 0
    _path, expected = _run(_store(tmp_path / "ref.sqlite"), iv, engine="inline")
    assert contents == expected


def test_workers_started_ahead_make_the_first_run_warm(tmp_path, pool):
    assert pool.start(2) == 2 and pool.start(2) == 0 and len(pool.pids) == 2
    result, _ = _run(_store(tmp_path / "s.sqlite"), TimeInterval(T0, T0 + timedelta(minutes=5)), engine="local",
                     workers=2, pool=pool)
    assert result.workers_started == 0 and sorted(result.worker_pids) == pool.pids


def test_idle_workers_exit_by_themselves_and_when_the_pool_closes(tmp_path):
    from channels.workflows.process_run import WorkerPool
    iv = TimeInterval(T0, T0 + timedelta(minutes=5))
    brief = WorkerPool(idle_timeout=0.5)
    first, _ = _run(_store(tmp_path / "a.sqlite"), iv, engine="local", workers=2, pool=brief)
    deadline = time.monotonic() + 60
    while not all(_gone(pid) or pid not in brief.pids for pid in first.worker_pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert brief.pids == []
    again, _ = _run(_store(tmp_path / "b.sqlite"), iv, engine="local", workers=2, pool=brief)
    assert again.workers_started == 2 and not set(again.worker_pids) & set(first.worker_pids)
    brief.close()
    kept = WorkerPool()
    run, _ = _run(_store(tmp_path / "c.sqlite"), iv, engine="local", workers=2, pool=kept)
    kept.close()
    assert kept.pids == [] and all(_gone(pid) for pid in run.worker_pids)


EDITED_TOOL = '''
from channels.tools import Tool
from channels.stream import StreamInstance


class Constant(Tool):
    def __init__(self, value: float = 0.0, stride: float = 60.0):
        super().__init__(value=value, stride=stride)

    def _execute(self, sources, alignment_stream, interval):
        from datetime import timedelta
        t = interval.start + timedelta(seconds=self.stride)
        while t <= interval.end:
            yield StreamInstance(t, {FACTOR} * self.value)
            t += timedelta(seconds=self.stride)
'''


def test_a_tool_edited_between_runs_is_loaded_again_by_the_kept_workers(tmp_path, pool):
    from channels import Config
    from channels.stream import StreamId
    folder = tmp_path / "tools" / "constant"
    folder.mkdir(parents=True)
    tool_file = folder / "2026-01-01_v0.1.0.py"
    tool_file.write_text(EDITED_TOOL.replace("{FACTOR}", "1"))
    store = SQLiteStore(str(tmp_path / "s.sqlite"))
    add_meta_data(store, [MetaDataItem("house", h) for h in HOUSES])
    add_plates(store, [PlateDefinition("H", "house", complement=True)])
    add_workflow(store, WorkflowDefinition("c", "C", "", {"level": NodeDefinition("level", ["H"], "mongo")}, [
        FactorDefinition(ToolSpec("constant", None, {"value": 2.0}), "Factor", [], ["level"])]))
    store.close()
    config = Config(tool_paths=[str(tmp_path / "tools")])

    def run(iv):
        manager = ChannelManager.open(str(tmp_path / "s.sqlite"), config)
        try:
            model = load_model(manager.store)
            run_workflow(manager, model, model.workflows["c"], iv, engine="local", workers=2, pool=pool)
            stream = manager.get_channel("mongo")[StreamId("level", [("house", "1")])]
            return {v for _t, v in stream.window(iv).items()}
        finally:
            manager.close()
    assert run(TimeInterval(T0, T0 + timedelta(minutes=5))) == {2.0}
    tool_file.write_text(EDITED_TOOL.replace("{FACTOR}", "10"))
    os.utime(tool_file, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert run(TimeInterval(T0 + timedelta(minutes=5), T0 + timedelta(minutes=10))) == {20.0}
