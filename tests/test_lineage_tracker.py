"""LineageTracker: the lineage index built once and kept up to date from new runs and the change log — a write
after a run makes its readers (and theirs) stale without rebuilding, a recompute clears exactly that, and its
stale answers agree with a freshly built index."""
from __future__ import annotations

from datetime import datetime, timedelta

from channels import ChannelManager, StreamId, StreamInstance, TimeInterval, TimeIntervals, UTC
from channels.tools import load_tool
from channels.workflows import LineageTracker, lineage_index

T0 = datetime(2024, 3, 1, tzinfo=UTC)
IV = TimeInterval(T0, T0 + timedelta(hours=1))
RAW, MEAN, COUNT = StreamId("raw"), StreamId("mean_10min"), StreamId("count_of_means")


def _pipeline(tmp_path):
    manager = ChannelManager.open(str(tmp_path / "t.sqlite"))
    ch, tools = manager.get_channel("mongo"), manager.get_channel("tools")
    raw = ch.get_or_create_stream(RAW)
    ch.write_chunk(raw, [StreamInstance(T0 + timedelta(seconds=30 * k), float(k)) for k in range(1, 121)],
                   TimeIntervals([IV]))
    windows = ch.get_or_create_stream(StreamId("windows"))
    load_tool(tools, "sliding_window", {"first": T0, "lower": -600.0, "upper": 0.0, "increment": 600.0}).execute(
        [], windows, IV, history=manager.run_history)
    mean = ch.get_or_create_stream(MEAN)
    load_tool(tools, "aggregate", {"func": "mean"}).execute([raw], mean, IV, alignment_stream=windows,
                                                            history=manager.run_history)
    count = ch.get_or_create_stream(COUNT)
    load_tool(tools, "aggregate", {"func": "count"}).execute([mean], count, IV, alignment_stream=windows,
                                                             history=manager.run_history)
    return manager


def test_a_write_after_the_run_marks_readers_stale_without_a_rebuild_and_a_recompute_clears_it(tmp_path):
    manager = _pipeline(tmp_path)
    tracker = LineageTracker(manager)
    index = tracker.index
    assert tracker.stale_streams() == {}
    ch = manager.get_channel("mongo")
    part = TimeInterval(T0 + timedelta(minutes=10), T0 + timedelta(minutes=20))
    ch.purge_interval(RAW, part)
    tracker.update()
    assert tracker.index is index   # updated, not rebuilt
    stale = tracker.stale_streams()
    assert set(stale) == {("mongo", MEAN), ("mongo", COUNT)}
    assert stale == {k: v for k, v in ((k, lineage_index(manager).lineage(*k).stale_intervals) for k in stale)}
    # a new run over the part is a new computation: the tracker takes the run in and clears exactly that
    tools = manager.get_channel("tools")
    ch.purge_interval(MEAN, part)
    load_tool(tools, "aggregate", {"func": "mean"}).execute([ch[RAW]], ch[MEAN], part,
                                                            alignment_stream=ch[StreamId("windows")],
                                                            history=manager.run_history)
    ch.purge_interval(COUNT, part)
    load_tool(tools, "aggregate", {"func": "count"}).execute([ch[MEAN]], ch[COUNT], part,
                                                             alignment_stream=ch[StreamId("windows")],
                                                             history=manager.run_history)
    tracker.update()
    assert tracker.stale_streams() == {}
    assert lineage_index(manager).lineage("mongo", COUNT).stale == []
    manager.close()


def test_changes_made_by_another_manager_on_the_same_file_are_seen(tmp_path):
    manager = _pipeline(tmp_path)
    tracker = LineageTracker(manager)
    other = ChannelManager.open(str(tmp_path / "t.sqlite"))
    oc = other.get_channel("mongo")
    at = T0 + timedelta(minutes=45)
    oc.purge_interval(RAW, TimeInterval(at - timedelta(seconds=30), at))
    oc.write_chunk(oc[RAW], [StreamInstance(at, 99.0)], oc[RAW].calculated_intervals)
    tracker.update()
    stale = tracker.stale_streams()
    assert ("mongo", MEAN) in stale and ("mongo", COUNT) in stale
    assert stale[("mongo", MEAN)] == lineage_index(manager).lineage("mongo", MEAN).stale_intervals
    other.close()
    manager.close()
