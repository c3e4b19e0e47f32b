"""A store channel's first listing (every definition read: seconds on a 136,000-stream store) runs in a job while
the window goes on: a lookup by id, a new stream or a purge meanwhile does not wait for it, and what changed
meanwhile wins over what it read. ``ChannelManager.open`` lists only the small channels."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from channels import ChannelManager, DatabaseChannel
from channels import channel_manager
from channels.stores.base import StreamDefinition
from channels.stores.sqlite_store import SQLiteStore
from channels.time_interval import TimeIntervals
from channels.utils import UTC
from channels.stream import StreamId


class _HeldStore:
    """The store, its ``list_definitions`` waiting for ``release`` once it has read."""

    def __init__(self, store):
        self._store = store
        self.reading, self.release = threading.Event(), threading.Event()

    def list_definitions(self, *a, **k):
        out = self._store.list_definitions(*a, **k)
        self.reading.set()
        assert self.release.wait(10)
        return out

    def __getattr__(self, name):
        return getattr(self._store, name)


def test_lookups_and_changes_during_a_first_listing_do_not_wait_and_win(tmp_path):
    path = str(tmp_path / "s.sqlite")
    first = DatabaseChannel("mongo", SQLiteStore(path))
    for i in range(20):
        first.create_stream(StreamId("s", {"i": str(i)}))
    held = _HeldStore(SQLiteStore(path))
    ch = DatabaseChannel("mongo", held)
    assert not ch.listed and ch.count_streams() == 20
    lister = threading.Thread(target=lambda: ch.streams)
    lister.start()
    try:
        assert held.reading.wait(10)
        t0 = time.monotonic()
        assert ch[StreamId("s", {"i": "3"})].stream_id == StreamId("s", {"i": "3"})   # one read, no wait
        made = ch.create_stream(StreamId("new"))
        ch.purge_stream(StreamId("s", {"i": "4"}), remove_definition=True)
        assert time.monotonic() - t0 < 5 and not ch.listed
    finally:
        held.release.set()
        lister.join(10)
    assert ch.listed and len(ch.streams) == 20
    assert ch.streams[StreamId("new")] is made                       # made meanwhile: kept
    assert StreamId("s", {"i": "4"}) not in ch.streams                # removed meanwhile: not brought back
    assert ch.streams[StreamId("s", {"i": "3"})] is ch[StreamId("s", {"i": "3"})]


def test_opening_lists_small_channels_only(tmp_path, monkeypatch):
    path = str(tmp_path / "s.sqlite")
    m = ChannelManager.open(path)
    m.channels["mongo"].create_streams([StreamId("s", {"i": str(i)}) for i in range(30)])
    m.channels["assets"].create_stream(StreamId("houses"))
    m.close()
    monkeypatch.setattr(channel_manager, "LIST_WITH_OPEN", 10)
    m = ChannelManager.open(path)
    try:
        assert m.channels["assets"].listed and not m.channels["mongo"].listed
        assert m.channels["mongo"].count_streams() == 30 and not m.channels["mongo"].listed
        assert len(m.channels["mongo"].streams) == 30 and m.channels["mongo"].listed
    finally:
        m.close()


class _CountingStore:
    def __init__(self, store):
        self._store, self.listed = store, 0

    def list_definitions(self, *a, **k):
        out = self._store.list_definitions(*a, **k)
        self.listed += len(out)
        return out

    def __getattr__(self, name):
        return getattr(self._store, name)


def test_a_periodic_refresh_reads_what_was_stamped_since_and_all_only_when_streams_went(tmp_path):
    path = str(tmp_path / "s.sqlite")
    hour_ago = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    SQLiteStore(path).create_definitions([StreamDefinition(StreamId("s", {"i": str(i)}), "mongo", TimeIntervals(),
                                                           last_updated=hour_ago + timedelta(minutes=i),
                                                           last_accessed=hour_ago) for i in range(50)])
    writer = DatabaseChannel("mongo", SQLiteStore(path))
    counting = _CountingStore(SQLiteStore(path))
    ch = DatabaseChannel("mongo", counting)
    ch.refresh_recent()
    assert counting.listed == 0 and not ch.listed          # not listed yet: left alone
    assert len(ch.streams) == 50 and counting.listed == 50
    counting.listed = 0
    ch.refresh_recent()
    assert counting.listed == 1 and len(ch.streams) == 50  # nothing new: only the newest stamp's read again
    added = writer.create_stream(StreamId("added"))          # another connection writes
    counting.listed = 0
    ch.refresh_recent()
    assert added.stream_id in ch.streams and counting.listed == 2     # the newest held and the new one
    writer.purge_stream(StreamId("s", {"i": "7"}), remove_definition=True)
    ch.refresh_recent()                                      # the count differs: the whole channel again
    assert StreamId("s", {"i": "7"}) not in ch.streams and len(ch.streams) == 50
