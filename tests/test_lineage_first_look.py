"""Issue 23: the first colouring of a workflow graph after a fresh open reads a summary of the run history and
the newest change per stream, not every run record and every change -- and colours exactly as the app that
ran the workflow and kept its lineage up to date: the same node states, the same stale streams and reasons.
Runs an earlier version recorded (without the summary) count too."""
from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from channels import ChannelManager, StreamId, StreamInstance, TimeInterval
from channels.changes import newest_of
from channels.errors import ToolExecutionError
from channels.stores.sqlite_store import SQLiteStore
from channels.tools import Tool, load_tool
from channels.tools.history import summarise_run_dicts
from channels.utils import to_ms
from channels.workflows import LineageTracker, lineage_index, load_model, run_workflow, workflow_steps
from hsgui.workflows.status import STALE, WorkflowStatusIndex, node_detail, workflow_status

from stores_fixtures import store  # noqa: F401 - the parametrised store fixture
from test_lineage_tracker import COUNT, IV, MEAN, RAW, T0 as P0, _pipeline
from test_workflow_engines import T0, _store

RUN = TimeInterval(T0, T0 + timedelta(minutes=10))
TICKS = StreamId("ticks", {"house": "1", "resident": "a"})


def _colours(manager, interval=RUN):
    """What the Workflows dock shows: each node's state and tooltip lines, and the stale streams."""
    model = load_model(manager.store)
    wf = model.workflows["wf"]
    index = WorkflowStatusIndex(manager, model, wf)
    status = workflow_status(None, manager, model, wf, interval, index=index)
    return index, {name: (s.state, s.counts, s.lines) for name, s in status.items()}


def test_a_fresh_open_after_a_run_colours_the_graph_as_the_app_that_ran_it(tmp_path):
    path = _store(tmp_path / "s.sqlite")
    app = ChannelManager.open(path)
    shown, _ = _colours(app)                       # the app shows the graph before it runs the workflow
    model = load_model(app.store)
    run_workflow(app, model, model.workflows["wf"], RUN)
    ran = workflow_status(None, app, shown.model, shown.workflow, RUN, index=shown)
    fresh = ChannelManager.open(path)
    index, colours = _colours(fresh)
    assert colours == {name: (s.state, s.counts, s.lines) for name, s in ran.items()}
    assert not index.tracker().index.loaded       # nothing can be stale: not one run record was read

    # a correction of one resident's input after the run: the app and a fresh open mark the same streams
    app.get_channel("mongo").purge_interval(TICKS, TimeInterval(T0 + timedelta(minutes=2), T0 + timedelta(minutes=3)))
    ran = workflow_status(None, app, shown.model, shown.workflow, RUN, index=shown)
    assert ran["count_per_resident"].state == STALE and ran["merged_per_house"].state == STALE
    again = ChannelManager.open(path)
    index, colours = _colours(again)
    assert colours == {name: (s.state, s.counts, s.lines) for name, s in ran.items()}
    assert index.tracker().stale_streams() == shown.tracker().stale_streams()
    assert set(index.tracker().stale_streams()) == {
        ("mongo", StreamId("count_per_resident", {"house": "1", "resident": "a"})),
        ("mongo", StreamId("merged_per_house", {"house": "1"}))}
    opened = node_detail(None, index, "count_per_resident", RUN)
    assert opened.lines == node_detail(None, shown, "count_per_resident", RUN).lines
    # the lineage of a stream the user opens: the same runs and reasons, read for that stream alone
    key = ("mongo", StreamId("merged_per_house", {"house": "1"}))
    lineage, known = index.tracker().lineage(*key), shown.tracker().lineage(*key)
    assert [r.id for r in lineage.writers] == [r.id for r in known.writers] != []
    assert [s.reason for s in lineage.stale] == [s.reason for s in known.stale] != []
    assert lineage.upstream == known.upstream
    assert not index.tracker().index.loaded
    for m in (app, fresh, again):
        m.close()


def _forget_summary(path):
    """The file as an earlier version leaves it: run records without the run summary."""
    con = sqlite3.connect(path)
    with con:
        for table in ("run_reads", "run_tools", "run_streams"):
            con.execute(f"DROP TABLE {table}")
        con.execute("DELETE FROM hsgui_meta WHERE key='run_index_upto'")
    con.close()


def _tables(path):
    con = sqlite3.connect(path)
    try:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        con.close()


def test_runs_an_earlier_version_recorded_count_and_are_summarised_by_the_next_run(tmp_path):
    manager = _pipeline(tmp_path)
    path = str(tmp_path / "t.sqlite")
    manager.close()
    _forget_summary(path)
    manager = ChannelManager.open(path)
    part = TimeInterval(P0 + timedelta(minutes=10), P0 + timedelta(minutes=20))
    manager.get_channel("mongo").purge_interval(RAW, part)
    stale = LineageTracker(manager).stale_streams()
    assert set(stale) == {("mongo", MEAN), ("mongo", COUNT)}
    assert stale[("mongo", MEAN)] == lineage_index(manager).lineage("mongo", MEAN).stale_intervals
    assert "run_reads" not in _tables(path)       # reading wrote nothing
    # the next run recorded stores the summary of every run, the earlier version's too
    ch, tools = manager.get_channel("mongo"), manager.get_channel("tools")
    load_tool(tools, "aggregate", {"func": "mean"}).execute([ch[RAW]], ch[MEAN], part,
                                                            alignment_stream=ch[StreamId("windows")],
                                                            history=manager.run_history)
    assert "run_reads" in _tables(path)
    assert manager.store.run_summary() == summarise_run_dicts(manager.store.list_runs())
    manager.close()


def test_runs_an_earlier_version_records_while_the_app_reads_count_at_its_next_read(tmp_path):
    """The records without a summary are decoded once per session; what such a program records later is read
    at the next question, and a lineage asks the file for one stream's runs only."""
    from channels.stores.codec import encode_json
    manager = _pipeline(tmp_path)
    path = str(tmp_path / "t.sqlite")
    manager.close()
    _forget_summary(path)
    store = SQLiteStore(path)
    before = store.run_summary()
    assert before == summarise_run_dicts(store.list_runs())
    count_runs = store.runs_of([("mongo", COUNT)], "wrote")
    assert [r["tool"] for r in count_runs] == ["aggregate"]
    earlier = dict(count_runs[0], id="an-earlier-program", started_at=(P0 - timedelta(days=1)).isoformat())
    con = sqlite3.connect(path)
    with con:
        con.execute("INSERT INTO runs (recorded_ms, record) VALUES (?, ?)", (0, encode_json(earlier)))
    con.close()
    after = store.run_summary()
    assert after == summarise_run_dicts(store.list_runs()) != before
    assert after["reads"][("mongo", MEAN.key)] == P0 - timedelta(days=1)
    assert [r["id"] for r in store.runs_of([("mongo", COUNT)], "wrote")] == ["an-earlier-program", count_runs[0]["id"]]
    assert [r["id"] for r in store.runs_of([("mongo", MEAN)], "read")] == ["an-earlier-program", count_runs[0]["id"]]
    assert "run_reads" not in _tables(path)       # reading wrote nothing
    store.close()


def test_newest_changes_the_run_summary_and_one_streams_runs_agree_with_the_records(store):  # noqa: F811
    class Double(Tool):
        name = "double"

        def _execute(self, sources, alignment_stream, interval):
            for ts, v in sources[0].window(interval).items():
                yield StreamInstance(ts, 2 * v)

    class Broken(Tool):
        name = "broken"

        def _execute(self, sources, alignment_stream, interval):
            raise ValueError("broken")
            yield

    manager = ChannelManager(store)
    ch = manager.get_channel("mongo")
    raw = ch.get_or_create_stream(RAW)
    ch.write_chunk(raw, [StreamInstance(P0 + timedelta(minutes=k), float(k)) for k in range(1, 31)],
                   add_intervals=TimeInterval(P0, P0 + timedelta(minutes=30)))
    out = ch.get_or_create_stream(MEAN)
    run = Double().execute([raw], out, TimeInterval(P0, P0 + timedelta(minutes=30)), history=manager.run_history)
    with pytest.raises(ToolExecutionError):                  # a failed run: not in the summary
        Broken().execute([out], ch.get_or_create_stream(COUNT), IV, history=manager.run_history)
    ch.purge_interval(RAW, TimeInterval(P0, P0 + timedelta(minutes=5)))
    newest = store.newest_changes(channel_id="mongo")
    assert newest == newest_of(store.list_changes(channel_id="mongo")) and set(newest) == {RAW, MEAN}
    assert store.newest_changes(channel_id="elsewhere") == {}
    # the same as numbers by key, and the definitions as the colouring reads them (the intervals and last_updated)
    assert store.newest_change_ms(channel_id="mongo") == {sid.key: to_ms(at) for sid, at in newest.items()}
    assert store.calculated_by_key("mongo") == {
        d.stream_id.key: (d.calculated_intervals, to_ms(d.last_updated)) for d in store.list_definitions("mongo")}
    assert store.calculated_by_key("elsewhere") == {} and store.newest_change_ms(channel_id="elsewhere") == {}
    summary = store.run_summary()
    assert summary == summarise_run_dicts(store.list_runs())
    assert summary["reads"] == {("mongo", RAW.key): run.started_at}
    assert summary["tools"] == {("double", run.tool_version)}
    # one stream's runs: the run that read RAW and wrote MEAN, newest first; not the failed one
    assert [r["id"] for r in store.runs_of([("mongo", RAW)])] == [run.id]
    assert [r["id"] for r in store.runs_of([("mongo", MEAN), ("mongo", RAW)])] == [run.id]
    assert store.runs_of([("mongo", COUNT)]) == [] and store.runs_of([("elsewhere", RAW)]) == []
    assert [r["id"] for r in store.runs_of([("mongo", RAW)], "read")] == [run.id]
    assert store.runs_of([("mongo", RAW)], "wrote") == [] and store.runs_of([("mongo", MEAN)], "read") == []
    with pytest.raises(ValueError, match="'wrote' or 'read'"):
        store.runs_of([("mongo", RAW)], "writer")
    assert [r.id for r in manager.run_history.runs_of([("mongo", MEAN)])] == [run.id]
    # the same answers when an earlier version recorded the runs (no summary, no index by stream)
    answers = (store.run_summary(), store.runs_of([("mongo", RAW)]), store.runs_of([("mongo", MEAN)], "wrote"))
    _as_an_earlier_version_recorded(store)
    assert (store.run_summary(), store.runs_of([("mongo", RAW)]), store.runs_of([("mongo", MEAN)], "wrote")) == answers


def _as_an_earlier_version_recorded(store):
    if isinstance(store, SQLiteStore):
        _forget_summary(store.path)
    else:
        store.db["hsgui_tool_runs"].update_many({}, {"$unset": {"lineage": ""}})


def test_the_newest_change_of_more_streams_than_one_read_holds_is_found_for_each(tmp_path, monkeypatch):
    # the embedded store reads the newest changes a few rows at a time (so that building the answer hands the GIL
    # over): every stream is in the answer, once, with its newest change, whatever the chunk size
    from channels.stores.sqlite_changes import SQLiteChangeLog
    db = SQLiteStore(str(tmp_path / "c.sqlite"))
    ch = ChannelManager(db).get_channel("mongo")
    for n in range(7):
        sid = StreamId("s", {"house": str(n)})
        stream = ch.get_or_create_stream(sid)
        for k in range(n % 3 + 1):
            ch.write_chunk(stream, [StreamInstance(P0 + timedelta(minutes=k + 1), float(k))])
    expected = newest_of(db.list_changes(channel_id="mongo"))
    assert len(expected) == 7
    for chunk in (2, 3, 7, 4096):
        monkeypatch.setattr(SQLiteChangeLog, "CHUNK", chunk)
        assert db.newest_changes(channel_id="mongo") == expected
        assert db.newest_change_ms(channel_id="mongo") == {sid.key: to_ms(at) for sid, at in expected.items()}
        assert db.newest_change_ms() == db.newest_change_ms(channel_id="mongo")
    db.close()


def test_a_session_without_a_store_marks_the_same_from_a_fresh_tracker():
    from test_lineage_changes import DOUBLED, TRIPLED, _at, _pipeline as memory_pipeline
    manager = ChannelManager()
    _ch, raw, _, _ = memory_pipeline(manager, "memory")
    raw.writer([StreamInstance(_at(20), 99.0)])
    stale = LineageTracker(manager).stale_streams()
    assert set(stale) == {("memory", DOUBLED), ("memory", TRIPLED)}
    assert stale[("memory", DOUBLED)] == lineage_index(manager).lineage("memory", DOUBLED).stale_intervals


def test_runs_taken_in_twice_show_once_in_a_lineage(tmp_path):
    manager = _pipeline(tmp_path)
    index = lineage_index(manager)
    before = index.lineage("mongo", MEAN)
    index.add_runs(manager.run_history.list())          # a refresh that reads runs the index has
    after = index.lineage("mongo", MEAN)
    assert [r.id for r in after.writers] == [r.id for r in before.writers] and len(after.writers) == 1
    assert [r.id for r in after.readers] == [r.id for r in before.readers] and len(after.readers) == 1
    assert len(index.runs) == len(manager.run_history.list())
    manager.close()


def _forget_runs(path):
    """The file as HyperStream leaves it: streams computed by a workflow, their definitions, no run record."""
    _forget_summary(path)
    con = sqlite3.connect(path)
    with con:
        con.execute("DELETE FROM runs")
    con.close()


def test_streams_no_run_recorded_are_marked_where_an_input_changed_after_their_step(tmp_path):
    """Without run records a stream's lineage is its workflow step: a fresh open marks exactly the steps whose
    input changed after they computed (one resident of one house here, and that house's merge), as planning every
    step of the workflow does -- without planning the factors nothing changed under."""
    path = _store(tmp_path / "s.sqlite")
    app = ChannelManager.open(path)
    model = load_model(app.store)
    run_workflow(app, model, model.workflows["wf"], RUN)
    app.close()
    _forget_runs(path)
    manager = ChannelManager.open(path)
    index, before = _colours(manager)
    assert index.tracker().stale_streams() == {} and {s[0] for s in before.values()} == {"all"}
    manager.get_channel("mongo").purge_interval(TICKS, TimeInterval(T0 + timedelta(minutes=2),
                                                                    T0 + timedelta(minutes=3)))
    fresh = ChannelManager.open(path)
    index, colours = _colours(fresh)
    stale = index.tracker().stale_streams()
    assert set(stale) == {("mongo", StreamId("count_per_resident", {"house": "1", "resident": "a"})),
                          ("mongo", StreamId("merged_per_house", {"house": "1"}))}
    assert colours["count_per_resident"][0] == STALE and colours["merged_per_house"][0] == STALE
    assert colours["count_per_resident"][1][STALE] == 1 and colours["merged_per_house"][1][STALE] == 1
    # every step planned up front marks the same streams, with the same intervals and reasons
    every = LineageTracker(fresh, model=index.model, steps=workflow_steps(model=index.model))
    assert every.stale_streams() == stale
    for key in stale:
        assert [r.reason for r in every.lineage(*key).stale] == [r.reason for r in index.tracker().lineage(*key).stale]
    lineage = index.tracker().lineage("mongo", StreamId("merged_per_house", {"house": "1"}))
    assert [st.factor.tool.name for st in lineage.steps] == ["aligned_merge"] and lineage.writers == []
    assert set(lineage.upstream) == {("mongo", StreamId("count_per_resident", {"house": "1", "resident": r}))
                                     for r in ("a", "b")}
    for m in (manager, fresh):
        m.close()
