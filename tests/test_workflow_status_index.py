"""The workflow colouring keeps the stream definitions it read and re-reads only what changed since: a write
from another process shows at the next refresh, and so does a stream that was removed."""
from __future__ import annotations

from datetime import timedelta

from channels import ChannelManager, StreamId, StreamInstance, TimeInterval, TimeIntervals
from channels.workflows import load_model
from hsgui.workflows.status import WorkflowStatusIndex

from test_workflow_engines import T0, _store


def test_a_refresh_reads_what_changed_and_sees_removals(tmp_path):
    path = _store(tmp_path / "s.sqlite")
    ours, other = ChannelManager.open(path), ChannelManager.open(path)   # the other stands for another process
    model = load_model(ours.store)
    index = WorkflowStatusIndex(ours, model, model.workflows["wf"])
    assert index.calculated({"mongo"}) == {}
    sid = StreamId("ticks", {"house": "1", "resident": "a"})
    mongo = other.get_channel("mongo")
    stream = mongo.get_or_create_stream(sid)
    piece = TimeInterval(T0, T0 + timedelta(minutes=1))
    mongo.write_chunk(stream, [StreamInstance(T0 + timedelta(seconds=30), None)], add_intervals=piece)
    seen = index.calculated({"mongo"})
    assert seen[("mongo", sid)] == TimeIntervals([piece])
    more = TimeInterval(T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))
    mongo.write_chunk(stream, [], add_intervals=more)
    assert index.calculated({"mongo"})[("mongo", sid)] == TimeIntervals([TimeInterval(T0, more.end)])
    mongo.purge_stream(sid, remove_definition=True)
    assert ("mongo", sid) not in index.calculated({"mongo"})
    ours.close()
    other.close()
