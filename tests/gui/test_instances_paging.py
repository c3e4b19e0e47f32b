"""The instances table on a large SQLite stream: every row it shows is the row a plain read gives.

The SQLite store's summaries are approximate per bucket (only their total is
exact), so the row index must not use them to place rows; these tests page a
1,200,000-instance 1 Hz stream and a stream with irregular gaps and bursts and
compare each requested row with ``list(stream.window(interval))``.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import numpy as np
import pytest

from channels.channel_manager import ChannelManager
from channels.stream import StreamId, StreamInstance
from channels.time_interval import TimeInterval
from channels.utils import UTC
from hsgui.browse.instances_table import LEAF, PAGE, InstancesTable, RowIndex, format_timestamp
from hsgui.common.background import JobRunner

T0 = datetime(2024, 1, 1, tzinfo=UTC)
N_REGULAR = 1_200_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _gappy_ms() -> np.ndarray:
    """~300,000 timestamps (ms): 1 s spacing, bursts at 7 ms, and gaps of minutes to days."""
    rng = np.random.default_rng(5)
    steps = np.full(300_000, 1000, dtype=np.int64)
    for start in rng.integers(0, len(steps) - 5000, 40):              # bursts
        steps[start:start + int(rng.integers(200, 5000))] = 7
    for at in rng.integers(0, len(steps), 60):                        # gaps
        steps[at] = int(rng.integers(60_000, 3 * 86_400_000))
    return int((T0 - EPOCH) / timedelta(milliseconds=1)) + np.cumsum(steps)


@pytest.fixture(scope="module")
def sqlite_streams(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("paging") / "big.sqlite")
    m = ChannelManager.open(path)
    store = m.store
    ch = m.channels["mongo"]
    step = timedelta(seconds=1)
    regular = ch.create_stream(StreamId("accelerometer"))
    for a in range(0, N_REGULAR, 200_000):
        store.insert(regular.stream_id, [StreamInstance._make((T0 + step * (i + 1), float(i % 1000)))
                                         for i in range(a, a + 200_000)])
    gappy = ch.create_stream(StreamId("gappy"))
    ms = _gappy_ms()
    insts = [StreamInstance._make((EPOCH + timedelta(milliseconds=int(t)), float(i))) for i, t in enumerate(ms)]
    for a in range(0, len(insts), 100_000):
        store.insert(gappy.stream_id, insts[a:a + 100_000])
    yield m, {"regular": regular, "gappy": gappy}
    m.close()


@pytest.fixture
def runner():
    r = JobRunner()
    yield r
    r.shutdown()


def _intervals(stream):
    first, last = stream.window().first().timestamp, stream.window().last().timestamp
    span = last - first
    return [TimeInterval(first - timedelta(seconds=1), last),                        # everything
            TimeInterval(first + span * 0.1 + timedelta(microseconds=500),         # a sub-range, sub-ms edges
                         first + span * 0.85 + timedelta(microseconds=250))]


@pytest.mark.parametrize("name", ["regular", "gappy"])
def test_row_index_on_sqlite_matches_a_plain_read_row_by_row(sqlite_streams, name):
    _m, streams = sqlite_streams
    s = streams[name]
    rng = random.Random(11)
    for iv in _intervals(s):
        plain = list(s.window(iv))
        n = len(plain)
        idx = RowIndex(s, iv)
        assert idx.prepare() == n
        starts = [0, 1, 999, n // 2 - 1000, n - 1, n - 300] + [rng.randrange(n) for _ in range(60)]
        for a in starts:
            got = idx.rows(a, a + 300)
            assert got == plain[a:a + 300], (name, iv, a)
        if n > 501_000:   # the reviewer's window: 2,000 rows, all exact
            assert idx.rows(499_000, 501_000) == plain[499_000:501_000]
        assert idx.rows(n - 5, n + 50) == plain[-5:]
        # single rows, out of order, on a fresh index (no leaf cached yet)
        fresh = RowIndex(s, iv)
        fresh.prepare()
        for r in sorted({rng.randrange(n) for _ in range(40)} | {n - 1, 0}, key=lambda _: rng.random()):
            assert fresh.rows(r, r + 1) == [plain[r]], (name, r)
        # rows are read leaf by leaf, never from the start
        assert fresh.rows_read <= 45 * LEAF


def test_row_index_jumps_to_a_far_row_reading_only_a_few_leaves(sqlite_streams):
    # how long the first page and the jump take: bench/bench_gui_responsiveness.py, step 2
    _m, streams = sqlite_streams
    s = streams["regular"]
    iv = TimeInterval(T0, T0 + timedelta(seconds=N_REGULAR))
    idx = RowIndex(s, iv)
    assert idx.prepare() == N_REGULAR
    first = idx.rows(0, PAGE)
    row = 900_000
    got = idx.rows(row, row + PAGE)
    assert first[0].timestamp == T0 + timedelta(seconds=1)
    assert [i.timestamp for i in got] == [T0 + timedelta(seconds=r + 1) for r in range(row, row + PAGE)]
    assert idx.rows_read <= 4 * LEAF


def test_instances_table_on_a_big_sqlite_stream_shows_exact_rows(qtbot, runner, sqlite_streams):
    _m, streams = sqlite_streams
    s = streams["regular"]
    table = InstancesTable(runner)
    qtbot.addWidget(table)
    table.resize(760, 480)
    table.show()
    model = table.model
    iv = TimeInterval(T0, T0 + timedelta(seconds=N_REGULAR))

    def ts_text(row):
        return format_timestamp(T0 + timedelta(seconds=row + 1))

    table.set_stream(s, iv)
    qtbot.waitUntil(lambda: model.rowCount() == N_REGULAR, timeout=20000)
    model.index(0, 0).data()
    qtbot.waitUntil(lambda: model.index(0, 0).data() != "…", timeout=20000)
    assert model.index(0, 0).data() == ts_text(0)
    # jump (like dragging the scroll bar) to row 900,000
    row = 900_000
    table.view.scrollTo(model.index(row, 0), table.view.ScrollHint.PositionAtCenter)
    model.index(row, 0).data()
    qtbot.waitUntil(lambda: model.index(row, 0).data() != "…", timeout=20000)
    for r in (row - 3, row, row + 3):
        assert model.index(r, 0).data() == ts_text(r)
        assert model.index(r, 1).data() == repr(float(r % 1000))
    # the reviewer's block: all 2,000 rows around row 500,000 load, none stays "…"
    a, b = 499_000, 501_000
    table.view.scrollTo(model.index(a + 10, 0), table.view.ScrollHint.PositionAtTop)

    def all_loaded():
        missing = [r for r in range(a, b) if not model.is_loaded(r)]
        for r in missing[:PAGE * 4]:
            model.instance(r)
        return not missing

    qtbot.waitUntil(all_loaded, timeout=30000)
    texts = [model.index(r, 0).data() for r in range(a, b)]
    assert texts == [ts_text(r) for r in range(a, b)]
    assert model.index(N_REGULAR - 1, 0).data() in ("…", ts_text(N_REGULAR - 1))
    qtbot.waitUntil(lambda: model.index(N_REGULAR - 1, 0).data() == ts_text(N_REGULAR - 1), timeout=20000)
