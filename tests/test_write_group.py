"""Write groups of the embedded store: a thread's writes inside ``with store.write_group():`` are committed together
(one transaction) when the group ends, past a size bound, or before the thread reads a stream it wrote; a write
that fails there does not undo the others and is told to its owner. A local worker runs each batch of workflow
steps in one group: the results are those of every other engine, a step whose data cannot be stored is reported
as an error naming the stream, and a worker killed mid-batch leaves no data without its run record."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from channels import ChannelManager, TimeInterval
from channels.errors import DuplicateInstanceError, StreamAlreadyExistsError
from channels.stores.base import StreamDefinition
from channels.stores.sqlite_store import SQLiteStore
from channels.stream import StreamId, StreamInstance
from channels.time_interval import TimeIntervals
from channels.workflows import (FactorDefinition, MetaDataItem, NodeDefinition, PlateDefinition, ToolSpec,
                                WorkflowDefinition, add_meta_data, add_plates, add_workflow, load_model, plan)
from channels.workflows.execution import WorkflowExecutionError
from test_workflow_engines import T0, _consistent, _run, _store, kill_a_worker

S1, S2, S3 = StreamId("s1"), StreamId("s2"), StreamId("s3")


def _insts(n, start_s=0, value=1.0):
    return [StreamInstance(T0 + timedelta(seconds=start_s + i + 1), value) for i in range(n)]


def _span(n, start_s=0):
    return TimeIntervals([TimeInterval(T0 + timedelta(seconds=start_s), T0 + timedelta(seconds=start_s + n))])


@pytest.fixture
def two(tmp_path):
    """The same store file through two connections: the writer, and another reader (as another process)."""
    writer, other = SQLiteStore(tmp_path / "g.sqlite"), SQLiteStore(tmp_path / "g.sqlite")
    writer.create_definitions([StreamDefinition(s, "db") for s in (S1, S2, S3)])
    yield writer, other
    writer.close()
    other.close()


def test_writes_in_a_group_are_seen_by_others_only_when_it_ends_in_one_transaction(two):
    writer, other = two
    with writer.write_group() as group:
        n = writer.insert(S1, _insts(10), add_intervals=_span(10))
        writer.insert_arrays(S2, [1000 * (i + 1) + 1_709_251_200_000 for i in range(2000)], [0.5] * 2000,
                             add_intervals=_span(2000))
        writer.record_runs([{"tool": "t", "outcome": "ok"}])
        assert n == 10
        assert other.count(S1, None, None) == 0 and other.count(S2, None, None) == 0
        assert other.get_definition(S1).calculated_intervals == TimeIntervals() and other.list_runs() == []
    assert group.commits == 1
    assert other.count(S1, None, None) == 10 and other.count(S2, None, None) == 2000
    assert other.get_definition(S1).calculated_intervals == _span(10)
    assert other.get_definition(S2).calculated_intervals == _span(2000)
    assert [r["tool"] for r in other.list_runs()] == ["t"]


def test_streams_created_in_a_group_come_with_their_data_in_its_one_transaction(two):
    """A workflow batch's outputs are created in the group that writes their data: another process (or a crash)
    sees both or neither, never definitions without their data; the writing thread sees them at once."""
    writer, other = two
    made = [StreamId("out", {"i": str(i)}) for i in range(3)]
    with writer.write_group() as group:
        writer.create_definitions([StreamDefinition(sid, "db") for sid in made])
        writer.insert(made[0], _insts(4), add_intervals=_span(4))
        assert other.get_definitions(made) == {} and other.count_definitions("db") == 3
        assert writer.count_definitions("db") == 6                   # the writer reads what it made ...
        assert {d.stream_id for d in writer.definitions_named("db", "out")} == set(made)
        assert other.count_definitions("db") == 6                    # ... committed first, as any read of it
        writer.create_definitions([StreamDefinition(StreamId("late"), "db")])
        writer.insert(StreamId("late"), _insts(2), add_intervals=_span(2))
        assert other.get_definition(StreamId("late")) is None
        assert writer.get_definition(StreamId("late")).calculated_intervals == _span(2)
    assert group.commits == 2
    assert other.get_definition(made[0]).calculated_intervals == _span(4) and other.count(made[0], None, None) == 4


def test_a_stream_created_twice_in_a_group_is_told_to_its_owner_and_the_rest_is_stored(two):
    writer, other = two
    told = []
    with writer.write_group() as group:
        group.on_failure = lambda owner, e: told.append(owner)
        group.owner = "first"
        writer.create_definitions([StreamDefinition(StreamId("new"), "db")])
        writer.insert(StreamId("new"), _insts(3), add_intervals=_span(3))
        group.owner = "second"
        writer.create_definitions([StreamDefinition(S1, "db")])      # S1 exists: not known until the commit
        writer.insert(S1, _insts(3), add_intervals=_span(3))
    assert told == ["second"] and isinstance(group.failures["second"], StreamAlreadyExistsError)
    assert other.get_definition(StreamId("new")).calculated_intervals == _span(3)
    assert other.count(S1, None, None) == 0 and other.get_definition(S1).calculated_intervals == TimeIntervals()


def test_the_writing_thread_reads_what_it_wrote_inside_a_group(two):
    writer, other = two
    with writer.write_group():
        writer.insert(S1, _insts(10), add_intervals=_span(10))
        writer.insert(S1, _insts(5, start_s=10), add_intervals=_span(5, start_s=10))
        assert writer.count(S1, None, None) == 15                    # committed before the read ...
        assert other.count(S1, None, None) == 15                     # ... so others see it from then on
        assert writer.get_definition(S1).calculated_intervals == _span(15)
        writer.insert(S3, _insts(3), add_intervals=_span(3))
        assert other.count(S3, None, None) == 0                      # a read of another stream commits nothing
        assert writer.count(S2, None, None) == 0 and other.count(S3, None, None) == 0
    assert other.count(S3, None, None) == 3


def test_a_group_commits_by_itself_past_its_size_bound(two):
    writer, other = two
    with writer.write_group(max_instances=100) as group:
        writer.insert(S1, _insts(60), add_intervals=_span(60))
        assert other.count(S1, None, None) == 0
        writer.insert(S1, _insts(60, start_s=60), add_intervals=_span(60, start_s=60))
        assert other.count(S1, None, None) == 120 and group.commits == 1   # before the group ends
        writer.insert(S2, _insts(10), add_intervals=_span(10))
        assert other.count(S2, None, None) == 0
    assert other.count(S2, None, None) == 10 and group.commits == 2


def test_a_write_that_fails_in_a_group_keeps_the_others_and_is_told_to_its_owner(two):
    writer, other = two
    writer.insert(S2, [StreamInstance(T0 + timedelta(seconds=3), 99.0)], add_intervals=_span(1, start_s=2))
    told = []
    with writer.write_group() as group:
        group.on_failure = lambda owner, e: told.append((owner, e))
        group.owner = "first"
        writer.insert(S1, _insts(10), add_intervals=_span(10))
        group.owner = "second"
        writer.insert(S2, _insts(10), add_intervals=_span(10))       # 1.0 at T0+3s: stored 99.0 there
        group.owner = "third"
        writer.insert(S3, _insts(10), add_intervals=_span(10))
    assert list(group.failures) == ["second"] and told == [("second", group.failures["second"])]
    error = group.failures["second"]
    assert isinstance(error, DuplicateInstanceError) and "stream s2" in str(error)
    assert other.count(S1, None, None) == 10 and other.count(S3, None, None) == 10
    assert other.get_definition(S1).calculated_intervals == _span(10)
    assert other.count(S2, None, None) == 1                          # unchanged, intervals too
    assert other.get_definition(S2).calculated_intervals == _span(1, start_s=2)


def test_an_owner_whose_write_failed_writes_nothing_more(two):
    writer, other = two
    writer.insert(S2, [StreamInstance(T0 + timedelta(seconds=3), 99.0)])
    with writer.write_group(max_instances=15) as group:
        group.owner = "step"
        writer.insert(S1, _insts(10), add_intervals=_span(10))
        with pytest.raises(DuplicateInstanceError, match="stream s2"):   # committed at the bound: it fails now
            writer.insert(S2, _insts(10))
        with pytest.raises(DuplicateInstanceError, match="stream s2"):   # and so does its next write
            writer.insert(S3, _insts(10), add_intervals=_span(10))
        group.owner = "another"
        writer.insert(S3, _insts(5), add_intervals=_span(5))
    assert other.count(S1, None, None) == 10 and other.count(S3, None, None) == 5


def test_a_channels_copies_follow_what_the_group_stored(tmp_path):
    manager = ChannelManager.open(str(tmp_path / "c.sqlite"))
    channel = manager.get_channel("mongo")
    a, b = channel.create_stream(S1), channel.create_stream(S2)
    manager.store.insert(S2, [StreamInstance(T0 + timedelta(seconds=3), 99.0)])
    other = SQLiteStore(tmp_path / "c.sqlite")
    try:
        with manager.store.write_group() as group:
            group.owner = 1
            channel.write_chunk(a, _insts(10), add_intervals=_span(10))
            assert a.calculated_intervals == _span(10)                 # at once, as the store will store it
            assert other.get_definition(S1).calculated_intervals == TimeIntervals()
            group.owner = 2
            channel.write_chunk(b, _insts(10), add_intervals=_span(10))
            assert b.calculated_intervals == _span(10)
        assert a.calculated_intervals == other.get_definition(S1).calculated_intervals == _span(10)
        assert b.calculated_intervals == other.get_definition(S2).calculated_intervals == TimeIntervals()
        assert list(group.failures) == [2]
    finally:
        other.close()
        manager.close()


# -- workflows on local workers: one group per batch ------------------------------------------------------------
def _noise_store(path):
    """A workflow of 6 independent steps (gauss noise per resident)."""
    store = SQLiteStore(str(path))
    items = []
    for h in ("1", "2", "3"):
        items.append(MetaDataItem("house", h))
        items += [MetaDataItem("resident", r, f"house_{h}") for r in ("a", "b")]
    add_meta_data(store, items)
    add_plates(store, [PlateDefinition("H", "house", complement=True),
                       PlateDefinition("H.R", "resident", complement=True, parent_plate="H")])
    factors = [FactorDefinition(ToolSpec("gauss", None, {"stride": 5.0, "seed": 7}), "Factor", [], ["noise"])]
    add_workflow(store, WorkflowDefinition("wf", "W", "noise", {"noise": NodeDefinition("noise", ["H.R"], "mongo")},
                                           factors))
    store.close()
    return str(path)


def test_a_step_whose_data_cannot_be_stored_is_an_error_and_its_batch_mates_are_stored(tmp_path, pool):
    iv = TimeInterval(T0, T0 + timedelta(minutes=20))
    _r, expected = _run(_noise_store(tmp_path / "ref.sqlite"), iv, engine="inline")
    path = _noise_store(tmp_path / "s.sqlite")
    manager = ChannelManager.open(path)
    steps = plan(load_model(manager.store), load_model(manager.store).workflows["wf"])
    bad = steps[0].sink[1]      # the first step the worker runs: the others of its batch run after it
    ts, value = expected[str(bad)][0][4]
    manager.store.insert(bad, [StreamInstance(ts, value + 1.0)])   # stored data its run cannot agree with
    manager.close()
    with pytest.raises(WorkflowExecutionError, match=re.escape(f"stream {bad} already has a different value")):
        _run(path, iv, engine="local", workers=1, pool=pool)
    manager = ChannelManager.open(path)
    try:
        records = {r.output_stream: r for r in manager.run_history.list()}
        assert records[str(bad)].outcome == "error" and f"stream {bad}" in records[str(bad)].error
        ok = [sid for sid, r in records.items() if r.outcome == "ok"]
        assert {str(steps[1].sink[1]), str(steps[2].sink[1])} <= set(ok)   # ran after it in its batch: stored
        channel = manager.get_channel("mongo")
        for sid in ok:   # a step reported ok has its data stored, as any engine computes it
            stream = channel[_sid(channel, sid)]
            assert (list(stream.window(iv).items()), stream.calculated_intervals) == expected[sid]
        bad_stream = channel[bad]
        assert list(bad_stream.window(iv).items()) == [(ts, value + 1.0)]
        assert bad_stream.calculated_intervals == TimeIntervals()
    finally:
        manager.close()


def _sid(channel, text):
    return next(s for s in channel.streams if str(s) == text)


@pytest.fixture
def pool():
    from channels.workflows.process_run import WorkerPool
    p = WorkerPool()
    yield p
    p.close()


def test_a_worker_killed_mid_batch_leaves_no_data_without_its_run_record(tmp_path, pool):
    iv = TimeInterval(T0, T0 + timedelta(hours=6))
    path = _store(tmp_path / "s.sqlite")
    progress, _killed = kill_a_worker(pool)
    with pytest.raises(WorkflowExecutionError, match="SIGKILL"):
        _run(path, iv, engine="local", workers=2, pool=pool, progress=progress, chunk=timedelta(minutes=10))
    _consistent(path, iv)
    manager = ChannelManager.open(path)
    try:
        computed: dict = {}
        for r in manager.run_history.list():
            computed[r.output_stream] = computed.get(r.output_stream, TimeIntervals()) + r.computed
        for sid, stream in manager.get_channel("mongo").streams.items():
            calc = stream.calculated_intervals
            assert calc - computed.get(str(sid), TimeIntervals()) == TimeIntervals(), (
                f"{sid}: calculated over {calc} with run records for {computed.get(str(sid))}")
    finally:
        manager.close()
    result, contents = _run(path, iv, engine="local", workers=2, pool=pool)
    _path, expected = _run(_store(tmp_path / "ref.sqlite"), iv, engine="inline")
    assert result.outcome == "ok" and contents == expected


def test_in_a_dask_group_a_step_reading_an_input_that_could_not_be_stored_stores_nothing(tmp_path):
    """A Dask group (a house's steps, in order) commits its writes when a step reads what earlier steps wrote. If
    one of those writes cannot be stored, the step that was reading computed from an incomplete input: it is an
    error and stores nothing, the group stops, and every step reported ok has its data stored as inline."""
    distributed = pytest.importorskip("distributed")
    iv = TimeInterval(T0, T0 + timedelta(minutes=10))
    _r, expected = _run(_store(tmp_path / "ref.sqlite"), iv, engine="inline")
    path = _store(tmp_path / "s.sqlite")
    manager = ChannelManager.open(path)
    model = load_model(manager.store)
    steps = plan(model, model.workflows["wf"])
    reader = next(s for s in steps if s.factor.tool.name == "aggregate" and s.plate_value)
    bad = next(sid for _cid, sid in reader.sources if str(sid) in expected)   # the resident's ticks
    ts, _value = expected[str(bad)][0][4]
    manager.store.insert(bad, [StreamInstance(ts, 12345.0)])   # stored data its run cannot agree with (a tick)
    manager.close()
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        with pytest.raises(WorkflowExecutionError, match=re.escape(f"stream {bad} already has a different value")):
            _run(path, iv, engine="dask", scheduler=c.scheduler_address)
    manager = ChannelManager.open(path)
    try:
        records = {r.output_stream: r for r in manager.run_history.list()}
        assert records[str(bad)].outcome == "error"
        read = reader.sink[1]
        assert str(read) not in records or records[str(read)].outcome != "ok"
        channel = manager.get_channel("mongo")
        assert read not in channel.streams or (list(channel[read].window(iv).items()) == []
                                               and channel[read].calculated_intervals == TimeIntervals())
        ok = [sid for sid, r in records.items() if r.outcome == "ok"]
        assert ok   # the other houses' groups ran
        for sid in ok:   # a step reported ok has its data stored, as inline computes it
            stream = channel[_sid(channel, sid)]
            assert (list(stream.window(iv).items()), stream.calculated_intervals) == expected[sid]
    finally:
        manager.close()


def test_a_batch_whose_run_records_cannot_be_stored_fails_naming_why_and_its_worker_stays(tmp_path, pool):
    """The run records of a batch belong to no one step: when they cannot be stored the batch's steps are errors
    saying why (not a worker that died), its data stays consistent, and the worker serves the next run."""
    import sqlite3
    iv = TimeInterval(T0, T0 + timedelta(hours=1))
    path = _store(tmp_path / "s.sqlite")
    con = sqlite3.connect(path)
    con.execute("CREATE TRIGGER no_runs BEFORE INSERT ON runs BEGIN SELECT RAISE(ABORT, 'no runs here'); END")
    con.commit()
    with pytest.raises(WorkflowExecutionError, match="could not be stored.*no runs here"):
        _run(path, iv, engine="local", workers=1, pool=pool)
    _consistent(path, iv)
    started = pool.started
    con.execute("DROP TRIGGER no_runs")
    con.commit()
    con.close()
    result, contents = _run(path, iv, engine="local", workers=1, pool=pool)
    _path, expected = _run(_store(tmp_path / "ref.sqlite"), iv, engine="inline")
    assert result.outcome == "ok" and contents == expected and pool.started == started
