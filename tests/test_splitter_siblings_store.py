"""A splitter (a tool yielding meta-data) on a store-backed channel: its existing sibling streams follow the sink, and
finding them reads only the streams of the sink's name, never every definition of the channel (a workflow step's
cost must not grow with the store: at 100 homes each of the 200 splitter steps listed 136,000 streams)."""
from datetime import datetime, timedelta

import pytest

from channels import ChannelManager, StreamId, StreamInstance, TimeInterval, TimeIntervals, UTC
from channels.tools import load_tool

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def sec(n):
    return T0 + timedelta(seconds=n)


def splitter_run(manager, src_id, sink_id, interval):
    ch = manager.get_channel("mongo")
    tool = load_tool(manager.get_channel("tools"), "splitter", {"element": "room"})
    return tool.execute([ch[src_id]], ch.get_or_create_stream(sink_id), interval, chunk=10,
                        history=manager.run_history)


@pytest.fixture
def store(tmp_path):
    """A store whose channel holds readings of house 1, an earlier split of them (the cellar, seen then only) and
    many other streams."""
    path = str(tmp_path / "s.sqlite")
    m = ChannelManager.open(path)
    ch = m.get_channel("mongo")
    src = ch.create_stream(StreamId("src", {"house": "1"}))
    ch.write_chunk(src, [StreamInstance(sec(1), {"room": "cellar", "t": 12}),
                         StreamInstance(sec(31), {"room": "kitchen", "t": 20}),
                         StreamInstance(sec(32), {"room": "hall", "t": 19})],
                   TimeIntervals([TimeInterval(sec(0), sec(60))]))
    splitter_run(m, src.stream_id, StreamId("temp", {"house": "1"}), TimeInterval(sec(0), sec(20)))
    for i in range(50):
        ch.create_stream(StreamId("other", {"house": str(i)}))
    ch.create_stream(StreamId("temp", {"house": "2", "room": "cellar"}))   # another house's: not a sibling
    m.close()
    return path


@pytest.mark.parametrize("listed", [True, False])
def test_earlier_siblings_follow_the_sink_in_a_fresh_process(store, monkeypatch, listed):
    from channels import channel_manager
    if not listed:   # as in a worker process on a large store: its channel has read no definition yet
        monkeypatch.setattr(channel_manager, "LIST_WITH_OPEN", 10)
    m = ChannelManager.open(store)
    try:
        splitter_run(m, StreamId("src", {"house": "1"}), StreamId("temp", {"house": "1"}),
                     TimeInterval(sec(20), sec(40)))
        ch = m.get_channel("mongo")
        whole = TimeIntervals([TimeInterval(sec(0), sec(40))])
        assert ch[StreamId("temp", {"house": "1"})].calculated_intervals == whole
        # the cellar got nothing in this run, but is as computed as its sink; the new rooms from this run on
        assert ch[StreamId("temp", {"house": "1", "room": "cellar"})].calculated_intervals == whole
        assert ch[StreamId("temp", {"house": "1", "room": "kitchen"})].window(
            TimeInterval(sec(0), sec(40))).values() == [{"t": 20}]
        other_house = ch[StreamId("temp", {"house": "2", "room": "cellar"})]
        assert other_house.calculated_intervals == TimeIntervals()
    finally:
        m.close()


def test_finding_siblings_does_not_list_every_stream(store, monkeypatch):
    from channels import channel_manager
    monkeypatch.setattr(channel_manager, "LIST_WITH_OPEN", 10)   # the channel is "large": not listed at open
    m = ChannelManager.open(store)
    try:
        splitter_run(m, StreamId("src", {"house": "1"}), StreamId("temp", {"house": "1"}),
                     TimeInterval(sec(20), sec(40)))
        assert not m.get_channel("mongo").listed   # only the streams called "temp" were read
    finally:
        m.close()


def test_store_lists_the_definitions_of_one_name(store):
    m = ChannelManager.open(store)
    try:
        named = m.store.definitions_named("mongo", "temp")
        assert {d.stream_id for d in named} == set(
            [StreamId("temp", {"house": "1"}), StreamId("temp", {"house": "1", "room": "cellar"}),
             StreamId("temp", {"house": "2", "room": "cellar"})])
        assert m.store.definitions_named("mongo", "tem") == []
        assert {d.stream_id for d in m.store.definitions_named("mongo", "temp", [("house", "1")])} == {
            StreamId("temp", {"house": "1"}), StreamId("temp", {"house": "1", "room": "cellar"})}
        assert m.store.definitions_named("other channel", "temp") == []
    finally:
        m.close()
