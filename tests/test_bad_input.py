"""Bad input anywhere in the library gets an error that names what was wrong; nothing is written."""
import math
import os
import sqlite3
import threading
from datetime import datetime, timedelta

import pytest

from channels import (MemoryChannel, StreamId, StreamInstance, TimeInterval, TimeIntervals, ToolChannel, UTC,
                      get_timedelta)
from resources import TOOLS_PATH
from channels.errors import StoreError, TimeError, ToolNotFoundError
from channels.file_channel import FileDateTimeVersion
from channels.stores.base import StreamDefinition
from channels.stores.sqlite_store import SQLiteStore
from channels.utils import utcnow

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def test_naive_datetime_membership_names_the_value():
    iv = TimeInterval(T0, T0 + timedelta(hours=1))
    naive = datetime(2024, 1, 1, 0, 30)
    for container in (iv, TimeIntervals([iv])):
        with pytest.raises(TimeError, match="2024-01-01T00:30:00 is naive"):
            naive in container  # noqa: B015


def test_interval_equality_with_other_types_is_symmetric():
    iv = TimeInterval(T0, T0 + timedelta(hours=1))
    assert (iv == TimeIntervals([iv])) and (TimeIntervals([iv]) == iv)
    assert iv != "x"
    with pytest.raises(TypeError):
        iv < 3  # noqa: B015


def test_channel_entry_points_accept_a_start_end_pair():
    ch = MemoryChannel("m")
    s = ch.create_stream("x")
    s.writer([StreamInstance(T0 + timedelta(seconds=i), i) for i in range(1, 6)])
    pair = (T0 + timedelta(seconds=1), T0 + timedelta(seconds=3))
    assert [i.value for i in ch.get_results(s, pair)] == [2, 3]
    assert ch.count_instances(s, pair) == 2
    assert ch.purge_interval("x", pair) == 2
    assert [i.value for i in s.window()] == [1, 4, 5]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -math.inf])
def test_non_finite_durations_are_refused(bad):
    with pytest.raises(TimeError, match=repr(bad).replace("(", r"\(").replace(")", r"\)")):
        get_timedelta(bad)


def test_a_version_that_is_not_a_version_is_tool_not_found():
    tc = ToolChannel("tools", TOOLS_PATH, up_to_timestamp=utcnow())
    with pytest.raises(ToolNotFoundError, match="garbage"):
        tc.get_tool_class("clock", version="garbage")


def test_hyperstream_file_names_with_milliseconds_parse():
    info = FileDateTimeVersion("2016-07-11T12:09:11.807Z_v1.py")
    assert info.timestamp == datetime(2016, 7, 11, 12, 9, 11, 807000, tzinfo=UTC)
    assert str(info.version) == "1.0.0"


def test_the_store_refuses_future_instances_and_writes_nothing(tmp_path):
    store = SQLiteStore(str(tmp_path / "s.sqlite"))
    sid = StreamId("x")
    store.create_definition(StreamDefinition(sid, "mongo"))
    future = utcnow() + timedelta(days=1)
    batch = [StreamInstance(T0, 1.0), tuple.__new__(StreamInstance, (future, 2.0))]  # bypasses the instance check
    with pytest.raises(TimeError, match=future.isoformat()[:19]):
        store.insert(sid, batch)
    assert store.count(sid, None, None) == 0
    store.close()


def test_rejected_wal_file_leaves_no_side_files(tmp_path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="another application"):
        SQLiteStore(str(path))
    assert sorted(os.listdir(tmp_path)) == ["other.db"]
    assert path.read_bytes() == before


def test_memory_reads_are_consistent_while_another_thread_writes_and_purges():
    ch = MemoryChannel("m")
    s = ch.create_stream("x")
    window = TimeInterval(T0 + timedelta(seconds=1000), T0 + timedelta(seconds=1100))
    stop = threading.Event()
    errors = []

    def churn():
        k = 0
        while not stop.is_set():
            s.writer([StreamInstance(T0 + timedelta(seconds=k * 50 + i), i) for i in range(1, 51)])
            if k > 10:
                ch.purge_interval("x", TimeInterval(T0, T0 + timedelta(seconds=k * 50 - 500)))
            k = (k + 1) % 60
            if k == 0:
                ch.purge_stream("x")

    t = threading.Thread(target=churn)
    t.start()
    try:
        for _ in range(3000):
            for inst in (s.window(window).first(), s.window(window).last()):
                if inst is not None and inst.timestamp not in window:
                    errors.append(inst.timestamp)
    finally:
        stop.set()
        t.join()
    assert errors == []
